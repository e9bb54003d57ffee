//! `wgquant bench` (and `cargo bench`, which calls the same function): the suite of
//! `crate::bench`, printed as one table, optionally written as JSON and as an SVG chart.

use std::path::PathBuf;

use crate::bench::{run, svg_chart, table, BenchConfig};
use crate::error::{Error, Result};
use crate::gpu::context::GpuContext;
use crate::io::safetensors::io_error;

/// Options of a benchmark run.
#[derive(Debug, Default, Clone)]
pub struct BenchArgs {
    /// Force the full suite (16/64 Mi elements, N = K = 4096); the default on real GPUs.
    pub full: bool,
    /// Force the quick suite (4 Mi elements, N = K = 1024); the default on CPU adapters.
    pub quick: bool,
    pub reps: Option<usize>,
    pub json: Option<PathBuf>,
    pub svg: Option<PathBuf>,
}

impl BenchArgs {
    /// Parses `--full`, `--quick`, `--reps N`, `--json FILE`, `--svg FILE` (for `cargo bench`).
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self> {
        let mut a = BenchArgs::default();
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .ok_or_else(|| Error::Usage(format!("{name} needs a value")))
            };
            match arg.as_str() {
                "--full" => a.full = true,
                "--quick" => a.quick = true,
                "--reps" => {
                    a.reps = Some(
                        value("--reps")?
                            .parse()
                            .map_err(|_| Error::Usage("--reps takes a number".into()))?,
                    )
                }
                "--json" => a.json = Some(value("--json")?.into()),
                "--svg" => a.svg = Some(value("--svg")?.into()),
                "--bench" => {}
                other => return Err(Error::Usage(format!("unknown benchmark option `{other}`"))),
            }
        }
        Ok(a)
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
