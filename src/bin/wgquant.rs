//! The `wgquant` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Quantize deterministic transformer-shaped weights in every supported scheme and print,
    /// per scheme, agreement with the CPU reference, SQNR and throughput.
    Demo {
        /// Hidden size of the synthetic layer (weights are hidden x hidden and hidden x 2.75 hidden).
        #[arg(long, default_value_t = 512)]
        hidden: usize,
    },
    /// List adapters and show the selected one's backend, features and limits.
    Info,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { hidden } => wgquant::cli::demo(hidden),
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
