//! `wgquant quantize` and `wgquant dequantize`: model files through the GPU, with progress and
//! a report.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use crate::calibration::Calibration;
use crate::convert::llama::{parse_type, FileType, LlamaOptions};
use crate::convert::{
    convert, convert_gguf, report_table, restore, ConvertOptions, OutputFormat, Progress, Target,
};
use crate::error::{Error, Result};
use crate::gpu::context::GpuContext;

/// The file format `wgquant quantize` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    /// safetensors with packed codes and scales (NUMERICS section 6)
    Wgquant,
    /// GGUF v3, readable by llama.cpp and gguf-py
    Gguf,
}

/// Arguments of `wgquant quantize`.
#[derive(Debug, Clone, clap::Args)]
pub struct QuantizeArgs {
    /// Input .safetensors file, a directory with shards and their index JSON, or a GGUF file
    /// (quantized as llama-quantize does, into GGUF).
    pub input: PathBuf,
    /// Output file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Scheme for quantized tensors (default q4s:block32:f16; with --format gguf: a GGUF
    /// type by its llama.cpp name, such as q8_0, q4_0 or q4_k, or f16 or f32, default q8_0;
    /// for a GGUF input: a llama-quantize type, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, MXFP4_MOE,
    /// Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, F16, BF16 or F32,
    /// default Q8_0).
    #[arg(long)]
    pub scheme: Option<String>,
    /// Output format (default wgquant; gguf for a GGUF input).
    #[arg(long, value_enum)]
    pub format: Option<FileFormat>,
    /// Quantize only tensors matching this glob (repeatable).
    #[arg(long)]
    pub include: Vec<String>,
    /// Pass tensors matching this glob through unchanged (repeatable).
    #[arg(long)]
    pub exclude: Vec<String>,
    /// PATTERN=SCHEME: a scheme for tensors matching a glob (repeatable; first match wins).
    #[arg(long = "scheme-for")]
    pub scheme_for: Vec<String>,
    /// Calibration: minmax, mse (per block) or percentile:P (e.g. percentile:99.9).
    #[arg(long)]
    pub calibration: Option<String>,
    /// GGUF input: one type for every quantized tensor, as llama-quantize --pure.
    #[arg(long)]
    pub pure: bool,
    /// GGUF input: quantize tensors that are quantized already.
    #[arg(long)]
    pub allow_requantize: bool,
    /// GGUF input: the type of output.weight (a ggml type name such as q8_0 or f16).
    #[arg(long)]
    pub output_tensor_type: Option<String>,
    /// GGUF input: the type of token_embd.weight.
    #[arg(long)]
    pub token_embedding_type: Option<String>,
    /// GGUF input: PATTERN=TYPE, a type for tensors whose name the regex matches anywhere
    /// (repeatable; first match wins), as llama-quantize --tensor-type.
    #[arg(long)]
    pub tensor_type: Vec<String>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Replace the output if it exists.
    #[arg(long)]
    pub force: bool,
}

fn pattern(text: &str) -> Result<glob::Pattern> {
    glob::Pattern::new(text).map_err(|e| Error::Usage(format!("bad glob `{text}`: {e}")))
}

/// Turns the arguments into conversion options, checking all of them before any work.
pub fn options(args: &QuantizeArgs) -> Result<ConvertOptions> {
    let llama_only = [
        (args.pure, "--pure"),
        (args.allow_requantize, "--allow-requantize"),
        (args.output_tensor_type.is_some(), "--output-tensor-type"),
        (
            args.token_embedding_type.is_some(),
            "--token-embedding-type",
        ),
        (!args.tensor_type.is_empty(), "--tensor-type"),
    ];
    if let Some((_, flag)) = llama_only.iter().find(|(given, _)| *given) {
        return Err(Error::Usage(format!("{flag} is for GGUF inputs")));
    }
    let format = match args.format.unwrap_or(FileFormat::Wgquant) {
        FileFormat::Gguf => OutputFormat::Gguf,
        FileFormat::Wgquant => OutputFormat::Wgquant,
    };
    let default = match format {
        OutputFormat::Gguf => "q8_0",
        OutputFormat::Wgquant => "q4s:block32:f16",
    };
    let mut opts = ConvertOptions::new(
        format,
        Target::parse(args.scheme.as_deref().unwrap_or(default), format)?,
    );
    opts.include = args
        .include
        .iter()
        .map(|p| pattern(p))
        .collect::<Result<_>>()?;
    opts.exclude = args
        .exclude
        .iter()
        .map(|p| pattern(p))
        .collect::<Result<_>>()?;
    for rule in &args.scheme_for {
        let (p, s) = rule.split_once('=').ok_or_else(|| {
            Error::Usage(format!("--scheme-for `{rule}`: expected PATTERN=SCHEME"))
        })?;
        opts.rules.push((pattern(p)?, Target::parse(s, format)?));
    }
    opts.force = args.force;
    opts.calibration = parse_calibration(args.calibration.as_deref().unwrap_or("minmax"))?;
    Ok(opts)
}

/// Turns the arguments for a GGUF input into llama-quantize's options.
pub fn llama_options(args: &QuantizeArgs) -> Result<LlamaOptions> {
    let not_llama = [
        (args.format == Some(FileFormat::Wgquant), "--format wgquant"),
        (!args.include.is_empty(), "--include"),
        (!args.exclude.is_empty(), "--exclude"),
        (
            !args.scheme_for.is_empty(),
            "--scheme-for (use --tensor-type)",
        ),
        (args.calibration.is_some(), "--calibration"),
    ];
    if let Some((_, flag)) = not_llama.iter().find(|(given, _)| *given) {
        return Err(Error::Usage(format!(
            "{flag} does not apply to a GGUF input, which is quantized as llama-quantize does"
        )));
    }
    let mut opts = LlamaOptions::new(FileType::parse(args.scheme.as_deref().unwrap_or("Q8_0"))?);
    opts.pure = args.pure;
    opts.allow_requantize = args.allow_requantize;
    opts.output_tensor_type = args
        .output_tensor_type
        .as_deref()
        .map(parse_type)
        .transpose()?;
    opts.token_embedding_type = args
        .token_embedding_type
        .as_deref()
        .map(parse_type)
        .transpose()?;
    for rule in &args.tensor_type {
        opts.add_tensor_type(rule)?;
    }
    Ok(opts)
}

/// A safetensors checkpoint, or a GGUF file quantized as llama-quantize does.
enum Job {
    Checkpoint(ConvertOptions),
    Gguf(LlamaOptions),
}

/// Whether `path` is a GGUF file (by its magic).
fn is_gguf(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && &magic == b"GGUF"
}

/// `minmax`, `mse` or `percentile:P`.
pub fn parse_calibration(text: &str) -> Result<Calibration> {
    match text.to_ascii_lowercase().as_str() {
        "minmax" => Ok(Calibration::MinMax),
        "mse" => Ok(Calibration::Mse),
        t => t
            .strip_prefix("percentile:")
            .and_then(|p| p.parse::<f32>().ok())
            .map(Calibration::Percentile)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--calibration {text}: use minmax, mse or percentile:P (e.g. percentile:99.9)"
                ))
            }),
    }
}

/// Runs `wgquant quantize`: a progress bar on a terminal (plain lines otherwise), then the
/// report table, and the JSON report if asked.
pub fn quantize(args: QuantizeArgs) -> Result<()> {
    let job = match is_gguf(&args.input) {
        true => Job::Gguf(llama_options(&args)?),
        false => Job::Checkpoint(options(&args)?),
    };
    if let Some(dir) = args
        .report
        .as_ref()
        .and_then(|r| r.parent())
        .filter(|d| !d.as_os_str().is_empty())
    {
        if !dir.is_dir() {
            return Err(Error::Io {
                path: dir.display().to_string(),
                message: "report directory does not exist".into(),
            });
        }
    }
    let ctx = GpuContext::new()?;
    eprintln!("adapter: {}", ctx.describe());
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} tensors {binary_bytes_per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let start = std::time::Instant::now();
    let mut on_progress = |p: &Progress<'_>| match &bar {
        Some(bar) => {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
            bar.set_message(p.tensor.name.clone());
        }
        None => eprintln!(
            "[{}/{}] {} {} ({:.0} MB/s)",
            p.done,
            p.total,
            p.tensor.name,
            p.tensor.scheme,
            p.bytes_done as f64 / 1e6 / start.elapsed().as_secs_f64().max(1e-9)
        ),
    };
    let report = match &job {
        Job::Checkpoint(opts) => convert(&ctx, &args.input, &args.output, opts, &mut on_progress),
        Job::Gguf(llama) => convert_gguf(
            &ctx,
            &args.input,
            &args.output,
            llama,
            args.force,
            &mut on_progress,
        ),
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = report?;
    super::emit(&report_table(&report));
    if let Some(path) = &args.report {
        let json =
            serde_json::to_string_pretty(&report).map_err(|e| Error::Usage(e.to_string()))?;
        std::fs::write(path, json).map_err(|e| crate::io::safetensors::io_error(path, e))?;
    }
    Ok(())
}

/// Runs `wgquant dequantize`.
pub fn dequantize(input: &Path, output: &Path, force: bool) -> Result<()> {
    let ctx = GpuContext::new()?;
    restore(&ctx, input, output, force)?;
    eprintln!("wrote {}", output.display());
    Ok(())
}
