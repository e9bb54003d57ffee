//! `wgquant bench` (and `cargo bench`, which calls the same function): the suite of
//! `crate::bench`, printed as one table, optionally written as JSON and as an SVG chart.

use std::path::PathBuf;

use crate::bench::{all_schemes, run, svg_chart, table, BenchConfig, Parts};
use crate::error::{Error, Result};
use crate::gpu::context::GpuContext;
use crate::gpu::shaders::DType;
use crate::io::safetensors::io_error;

/// Options of a benchmark run (`wgquant bench` and `cargo bench`).
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// The full suite (16/64 Mi elements, N = K = 4096); the default on real GPUs.
    #[arg(long)]
    pub full: bool,
    /// The quick suite (4 Mi elements, N = K = 1024); the default on CPU adapters such as
    /// lavapipe.
    #[arg(long)]
    pub quick: bool,
    /// Timed runs per figure (default 10).
    #[arg(long)]
    pub reps: Option<usize>,
    /// Write every number as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write a chart of each kernel's fraction of the roofline (SVG).
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Only these parts: copy, quantize, dequantize, matmul, cpu (comma-separated; the
    /// roofline copy always runs).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Quantize/dequantize schemes or GGUF types such as q4_k (comma-separated), or `all`.
    #[arg(long, value_delimiter = ',')]
    pub schemes: Vec<String>,
    /// Elements of the quantize/dequantize tensors (a multiple of 4096).
    #[arg(long)]
    pub size: Option<usize>,
    /// Weight schemes or GGUF types of the matmul runs (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub weights: Vec<String>,
    /// M of the matmul runs (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub m: Vec<usize>,
    /// N = K of the matmul runs.
    #[arg(long)]
    pub nk: Option<usize>,
    /// Element type of the device-resident quantize inputs: f32, f16 or bf16.
    #[arg(long, default_value = "f32")]
    pub input: String,
}

/// `cargo bench` passes `--bench` to the harness, which takes it and ignores it.
#[derive(clap::Parser)]
#[command(name = "cargo bench --")]
struct CargoBench {
    #[command(flatten)]
    args: BenchArgs,
    #[arg(long, hide = true)]
    bench: bool,
}

impl BenchArgs {
    /// Parses the options of [`BenchArgs`] (for `cargo bench`, which passes them after `--`).
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self> {
        use clap::Parser;
        let argv = std::iter::once("cargo-bench".to_string()).chain(args);
        CargoBench::try_parse_from(argv)
            .map(|c| c.args)
            .map_err(|e| Error::Usage(e.to_string()))
    }
}

/// Runs the suite and prints its table; writes JSON and SVG when asked.
pub fn bench(args: BenchArgs) -> Result<()> {
    let ctx = GpuContext::new()?;
    let cpu_adapter = ctx.adapter_info().device_type == wgpu::DeviceType::Cpu;
    let mut cfg = if args.full || (!args.quick && !cpu_adapter) {
        BenchConfig::full()
    } else {
        BenchConfig::quick()
    };
    if let Some(r) = args.reps {
        cfg.reps = r;
    }
    if !args.only.is_empty() {
        cfg.parts = Parts::from_names(&args.only)?;
    }
    match args.schemes.as_slice() {
        [] => {}
        [all] if all == "all" => cfg.schemes = all_schemes(),
        list => {
            for text in list {
                crate::bench::parse_format(text)?;
            }
            cfg.schemes = list.to_vec();
        }
    }
    if !args.weights.is_empty() {
        for text in &args.weights {
            crate::bench::parse_format(text)?;
        }
        cfg.matmul_schemes = args.weights.clone();
    }
    if let Some(n) = args.size {
        cfg.sizes = vec![n];
    }
    if !args.m.is_empty() {
        cfg.matmul_m = args.m.clone();
    }
    if let Some(nk) = args.nk {
        cfg.nk = nk;
    }
    cfg.input = match args.input.as_str() {
        "f32" => DType::F32,
        "f16" => DType::F16,
        "bf16" => DType::BF16,
        other => {
            return Err(Error::Usage(format!(
                "--input takes f32, f16 or bf16, not `{other}`"
            )))
        }
    };
    eprintln!("adapter: {}", ctx.describe());
    let report = run(&ctx, &cfg, &mut |r| {
        eprintln!(
            "  {} {} {} {:?}: {:.2} ms",
            r.kernel,
            r.scheme,
            r.path,
            r.shape,
            r.median_s * 1e3
        )
    })?;
    super::emit(&table(&report));
    if let Some(path) = &args.json {
        let json =
            serde_json::to_string_pretty(&report).map_err(|e| Error::Usage(e.to_string()))?;
        std::fs::write(path, json).map_err(|e| io_error(path, e))?;
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, svg_chart(&report)).map_err(|e| io_error(path, e))?;
    }
    Ok(())
}
