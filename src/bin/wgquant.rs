//! The `wgquant` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wgquant::cli::{BenchArgs, QuantizeArgs};

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

#[derive(Subcommand)]
enum Command {
    /// Quantize a .safetensors file (or a directory of shards) on the GPU.
    Quantize(QuantizeArgs),
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
    Bench(BenchArgs),
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
        Command::Quantize(args) => wgquant::cli::quantize(args),
        Command::Dequantize {
            input,
            output,
            force,
        } => wgquant::cli::dequantize(&input, &output, force),
        Command::Inspect { file } => wgquant::cli::inspect(&file),
        Command::Demo { hidden } => wgquant::cli::demo(hidden),
        Command::Bench(args) => wgquant::cli::bench(args),
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
