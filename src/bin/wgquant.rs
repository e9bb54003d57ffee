//! The `wgquant` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "wgquant",
    version,
    about = "GPU tensor quantization with WGSL compute shaders"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// safetensors with packed codes and scales (NUMERICS section 6)
    Wgquant,
    /// GGUF v3, readable by llama.cpp and gguf-py
    Gguf,
}

#[derive(Subcommand)]
enum Command {
    /// Quantize a .safetensors file (or a directory of shards) on the GPU.
    Quantize {
        /// Input .safetensors file, or a directory with shards and their index JSON.
        input: PathBuf,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
        /// Scheme for quantized tensors (default q4s:block32:f16; with --format gguf: a GGUF
        /// type by its llama.cpp name, such as q8_0 or q4_0, or f16 or f32, default q8_0).
        #[arg(long)]
        scheme: Option<String>,
        #[arg(long, value_enum, default_value = "wgquant")]
        format: Format,
        /// Quantize only tensors matching this glob (repeatable).
        #[arg(long)]
        include: Vec<String>,
        /// Pass tensors matching this glob through unchanged (repeatable).
        #[arg(long)]
        exclude: Vec<String>,
        /// PATTERN=SCHEME: a scheme for tensors matching a glob (repeatable; first match wins).
        #[arg(long = "scheme-for")]
        scheme_for: Vec<String>,
        /// Calibration: minmax, mse (per block) or percentile:P (e.g. percentile:99.9).
        #[arg(long, default_value = "minmax")]
        calibration: String,
        /// Also write the report as JSON to this file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Replace the output if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Restore a wgquant file to plain safetensors (dequantized on the GPU).
    Dequantize {
        input: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// List the tensors of a safetensors, wgquant or GGUF file.
    Inspect { file: PathBuf },
    /// Quantize deterministic transformer-shaped weights in every supported scheme and print,
    /// per scheme, agreement with the CPU reference, SQNR and throughput.
    Demo {
        /// Hidden size of the synthetic layer (weights are hidden x hidden and hidden x 2.75 hidden).
        #[arg(long, default_value_t = 512)]
        hidden: usize,
    },
    /// The benchmark suite (the same as `cargo bench`): quantize/dequantize per scheme, the
    /// matmul paths and the device roofline, as one table.
    Bench {
        /// The full suite (default on real GPUs).
        #[arg(long)]
        full: bool,
        /// The quick suite (default on CPU adapters such as lavapipe).
        #[arg(long)]
        quick: bool,
        /// Timed runs per figure (default 10).
        #[arg(long)]
        reps: Option<usize>,
        /// Write every number as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write a chart of each kernel's fraction of the roofline (SVG).
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// List adapters and show the selected one's backend, features and limits.
    Info,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = ctrlc::set_handler(|| {
        wgquant::convert::remove_partial_outputs();
        eprintln!("interrupted; partial output removed");
        std::process::exit(130);
    });
    let result = match cli.command {
        Command::Quantize {
            input,
            output,
            scheme,
            format,
            include,
            exclude,
            scheme_for,
            calibration,
            report,
            force,
        } => wgquant::cli::quantize(wgquant::cli::QuantizeArgs {
            input,
            output,
            scheme,
            gguf: matches!(format, Format::Gguf),
            include,
            exclude,
            scheme_for,
            calibration,
            report,
            force,
        }),
        Command::Dequantize {
            input,
            output,
            force,
        } => wgquant::cli::dequantize(&input, &output, force),
        Command::Inspect { file } => wgquant::cli::inspect(&file),
        Command::Demo { hidden } => wgquant::cli::demo(hidden),
        Command::Bench {
            full,
            quick,
            reps,
            json,
            svg,
        } => wgquant::cli::bench(wgquant::cli::BenchArgs {
            full,
            quick,
            reps,
            json,
            svg,
        }),
        Command::Info => wgquant::cli::info(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
