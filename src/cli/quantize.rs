//! `wgquant quantize` and `wgquant dequantize`: model files through the GPU, with progress and
//! a report.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use crate::calibration::Calibration;
use crate::convert::{
    convert, report_table, restore, ConvertOptions, OutputFormat, Progress, Target,
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
    /// Input .safetensors file, or a directory with shards and their index JSON.
    pub input: PathBuf,
    /// Output file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Scheme for quantized tensors (default q4s:block32:f16; with --format gguf: a GGUF
    /// type by its llama.cpp name, such as q8_0 or q4_0, or f16 or f32, default q8_0).
    #[arg(long)]
    pub scheme: Option<String>,
    #[arg(long, value_enum, default_value = "wgquant")]
    pub format: FileFormat,
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
    #[arg(long, default_value = "minmax")]
    pub calibration: String,
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
    let format = match args.format {
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
    opts.calibration = parse_calibration(&args.calibration)?;
    Ok(opts)
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
    let opts = options(&args)?;
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
    let report = convert(&ctx, &args.input, &args.output, &opts, &mut on_progress);
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
