//! The benchmark suite behind `cargo bench` and `wgquant bench`: quantize and dequantize per
//! scheme and GGUF type (device-resident and end to end), the matmul paths, the CPU reference for context, and
//! the device roofline (a vec4 copy) that every figure is divided by. GPU work is timed with
//! timestamps around its compute passes where the adapter has TIMESTAMP_QUERY (wall clock
//! otherwise); end-to-end and CPU figures by wall clock. A warm-up, then the median (and
//! min/max) of `reps` runs over two rotating inputs (`timing`); `render` draws the table and
//! the chart.

mod render;
mod timing;

use half::{bf16, f16};
use serde::Serialize;

use crate::error::Result;
use crate::format::GgufType;
use crate::gpu::buffers::GpuTensor;
use crate::gpu::context::GpuContext;
use crate::gpu::matmul::MatmulPath;
use crate::gpu::shaders::DType;
use crate::layout::Layout;
use crate::scheme::Format;
use crate::{reference, synth};
pub use render::{svg_chart, table};
use timing::{time, time_wall, Timing};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Elements of the quantize/dequantize tensors (rows of 4096).
    pub sizes: Vec<usize>,
    /// Scheme texts and GGUF type names (see [`Format`]).
    pub schemes: Vec<String>,
    /// M of the matmul runs; N = K = `nk`.
    pub matmul_m: Vec<usize>,
    pub nk: usize,
    /// Weight schemes and GGUF types of the matmul runs.
    pub matmul_schemes: Vec<String>,
    pub reps: usize,
    /// The parts measured; the roofline copy always runs, since every fraction needs it.
    pub parts: Parts,
    /// Element type of the quantize inputs (device-resident figures; end-to-end ones are f32).
    pub input: DType,
}

/// Which parts of the suite run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub quantize: bool,
    pub dequantize: bool,
    pub matmul: bool,
    /// The CPU reference's quantize, at the smallest size.
    pub cpu: bool,
}

impl Parts {
    pub const ALL: Parts = Parts {
        quantize: true,
        dequantize: true,
        matmul: true,
        cpu: true,
    };

    /// Parts from names: `copy` (always measured), `quantize`, `dequantize`, `matmul`, `cpu`.
    pub fn from_names(names: &[String]) -> Result<Self> {
        let mut p = Parts {
            quantize: false,
            dequantize: false,
            matmul: false,
            cpu: false,
        };
        for name in names {
            match name.trim() {
                "copy" => {}
                "quantize" => p.quantize = true,
                "dequantize" => p.dequantize = true,
                "matmul" => p.matmul = true,
                "cpu" => p.cpu = true,
                other => {
                    return Err(crate::Error::Usage(format!(
                        "--only takes copy, quantize, dequantize, matmul and cpu, not `{other}`"
                    )))
                }
            }
        }
        Ok(p)
    }
}

impl BenchConfig {
    /// The full suite of the benchmarks issue: every scheme at 16 Mi and 64 Mi elements, M in
    /// {1, 8, 64, 512} at N = K = 4096, 10 runs. On a CPU-emulated adapter this takes hours.
    pub fn full() -> Self {
        BenchConfig {
            sizes: vec![16 << 20, 64 << 20],
            schemes: all_schemes(),
            matmul_m: vec![1, 8, 64, 512],
            nk: 4096,
            matmul_schemes: vec!["q4s:block32:f16".into(), "q8s:block32:f16".into()],
            reps: 10,
            parts: Parts::ALL,
            input: DType::F32,
        }
    }

    /// A run that fits minutes on lavapipe: 4 Mi elements, the main schemes, N = K = 1024.
    pub fn quick() -> Self {
        BenchConfig {
            sizes: vec![4 << 20],
            schemes: [
                "q8s:block32:f16",
                "q4s:block32:f16",
                "q8s:tensor:f32",
                "q4f:block32:f16:affine",
                "nf4:block64:f16",
                "e4m3:block32:e8m0",
                "e2m1:block32:e8m0",
                "e2m1:block16:e4m3",
            ]
            .map(String::from)
            .to_vec(),
            matmul_m: vec![1, 8, 64],
            nk: 1024,
            matmul_schemes: vec!["q4s:block32:f16".into()],
            reps: 10,
            parts: Parts::ALL,
            input: DType::F32,
        }
    }
}

/// The formats of the full suite: [`crate::scheme::representative_schemes`] and every GGUF
/// type.
pub fn all_schemes() -> Vec<String> {
    crate::scheme::representative_schemes()
        .iter()
        .map(|s| s.to_string())
        .chain(GgufType::ALL.iter().map(|t| t.to_string()))
        .collect()
}

/// A format text of the suite: a GGUF type name (any case) or a scheme text, checked.
pub fn parse_format(text: &str) -> Result<Format> {
    let format: Format = text.parse()?;
    if let Format::Scheme(s) = &format {
        s.validate()?;
    }
    Ok(format)
}

/// Bytes of `format`'s quantized form of `shape` (codes and parameters).
fn format_bytes(format: &Format, shape: &[usize]) -> Result<u64> {
    Ok(match format {
        Format::Scheme(s) => {
            let layout = Layout::new(s, shape)?;
            (layout.code_bytes() + layout.num_blocks() * s.param.bytes()) as u64
        }
        Format::Gguf(t) => {
            crate::io::gguf::GgmlType::Block(*t).bytes(shape.iter().product()) as u64
        }
    })
}

/// A quantized device tensor of either kind.
enum Quantized {
    Scheme(crate::gpu::buffers::GpuQuantizedTensor),
    Gguf(crate::gpu::gguf::GpuGgufTensor),
}

impl Quantized {
    fn new(ctx: &GpuContext, format: &Format, x: &GpuTensor) -> Result<Quantized> {
        Ok(match format {
            Format::Scheme(s) => Quantized::Scheme(ctx.quantize_tensor(x, s)?),
            Format::Gguf(t) => Quantized::Gguf(ctx.quantize_gguf_tensor(x, *t)?),
        })
    }

    fn dequantize_tensor(&self, ctx: &GpuContext) -> Result<GpuTensor> {
        match self {
            Quantized::Scheme(q) => ctx.dequantize_tensor(q),
            Quantized::Gguf(q) => ctx.dequantize_gguf_tensor(q),
        }
    }

    /// Whether this weight takes `path` (GGUF weights have no integer path).
    fn takes(&self, path: MatmulPath) -> bool {
        match self {
            Quantized::Scheme(w) => {
                path != MatmulPath::Integer
                    || crate::gpu::matmul::integer_path_refusal(&w.scheme, w.shape[1]).is_none()
            }
            Quantized::Gguf(_) => path != MatmulPath::Integer,
        }
    }

    /// `x . W^T` on `path`.
    fn linear(&self, ctx: &GpuContext, x: &GpuTensor, path: MatmulPath) -> Result<GpuTensor> {
        Ok(match self {
            Quantized::Scheme(w) => ctx.linear(x, w, Some(path))?.0,
            Quantized::Gguf(w) => ctx.linear_gguf(x, w, Some(path))?.0,
        })
    }
}

/// One measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// `copy`, `quantize`, `dequantize`, `matmul` or `cpu quantize`.
    pub kernel: String,
    pub scheme: String,
    /// `device`, `e2e`, or the matmul path.
    pub path: String,
    pub shape: Vec<usize>,
    pub median_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    /// Bytes the kernel must move (read + write).
    pub bytes: u64,
    /// f32 input (quantize), f32 output (dequantize) or weight bytes (matmul) per second.
    pub gb_per_s: f64,
    pub gflop_per_s: Option<f64>,
    /// (bytes / roofline bytes per second) / time.
    pub roofline_fraction: f64,
    /// `timestamp` (GPU time of the work's compute passes) or `wall` (around submit and the
    /// blocking readback, or host work).
    pub clock: String,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub adapter: String,
    pub backend: String,
    pub driver: String,
    /// Copy bandwidth (read + write) in bytes per second.
    pub roofline_bytes_per_s: f64,
    pub records: Vec<Record>,
}

/// Runs the suite, calling `progress` with each record as it is measured.
pub fn run(
    ctx: &GpuContext,
    cfg: &BenchConfig,
    progress: &mut dyn FnMut(&Record),
) -> Result<BenchReport> {
    let info = ctx.adapter_info();
    let mut records = Vec::new();
    let mut push = |r: Record, records: &mut Vec<Record>| {
        progress(&r);
        records.push(r);
    };
    // Roofline: the largest size that fits one binding twice over.
    let max_bytes =
        (ctx.chunk_bytes as usize / 2).min(cfg.sizes.iter().max().copied().unwrap_or(1 << 20) * 4);
    let vec4s = max_bytes / 16;
    let (a, b) = (
        ctx.storage_buffer(max_bytes as u64, "bench a")?,
        ctx.storage_buffer(max_bytes as u64, "bench b")?,
    );
    let t = time(ctx, cfg.reps, |_| ctx.copy_vec4(&a, &b, vec4s))?;
    let (med, min, max) = (t.median, t.min, t.max);
    let moved = (vec4s * 32) as u64;
    let roofline = moved as f64 / med;
    push(
        Record {
            kernel: "copy".into(),
            scheme: "-".into(),
            path: "device".into(),
            shape: vec![vec4s * 4],
            median_s: med,
            min_s: min,
            max_s: max,
            bytes: moved,
            gb_per_s: moved as f64 / med * 1e-9,
            gflop_per_s: None,
            roofline_fraction: 1.0,
            clock: t.clock.into(),
        },
        &mut records,
    );
    let fraction = |bytes: u64, secs: f64| bytes as f64 / roofline / secs;

    let p = cfg.parts;
    let sizes = if p.quantize || p.dequantize || p.cpu {
        &cfg.sizes[..]
    } else {
        &[][..]
    };
    for &n in sizes {
        if n == 0 || !n.is_multiple_of(4096) {
            return Err(crate::Error::Usage(format!(
                "--size {n}: the tensors are rows of 4096, so use a positive multiple of 4096"
            )));
        }
        let shape = [n / 4096, 4096];
        let inputs = [synth::normal(n, 1.0, 1), synth::normal(n, 1.0, 2)];
        let upload = |x: &[f32]| match cfg.input {
            DType::F32 => ctx.upload(x, &shape),
            DType::F16 => ctx.upload(
                &x.iter().map(|&v| f16::from_f32(v)).collect::<Vec<_>>(),
                &shape,
            ),
            DType::BF16 => ctx.upload(
                &x.iter().map(|&v| bf16::from_f32(v)).collect::<Vec<_>>(),
                &shape,
            ),
        };
        let dev = [upload(&inputs[0])?, upload(&inputs[1])?];
        // Device-resident figures read `cfg.input`; end-to-end and CPU ones read f32.
        let device = match cfg.input {
            DType::F32 => "device".to_string(),
            other => format!("device {other:?}").to_lowercase(),
        };
        for text in &cfg.schemes {
            let format = parse_format(text)?;
            let q_bytes = format_bytes(&format, &shape)?;
            let rec = |kernel: &str, path: &str, input_bytes: usize, t: Timing| Record {
                kernel: kernel.into(),
                scheme: text.clone(),
                path: path.into(),
                shape: shape.to_vec(),
                median_s: t.median,
                min_s: t.min,
                max_s: t.max,
                bytes: (n * input_bytes) as u64 + q_bytes,
                gb_per_s: (n * input_bytes) as f64 * 1e-9 / t.median,
                gflop_per_s: None,
                roofline_fraction: fraction((n * input_bytes) as u64 + q_bytes, t.median),
                clock: t.clock.into(),
            };
            if cfg.parts.quantize {
                let t = time(ctx, cfg.reps, |i| {
                    Quantized::new(ctx, &format, &dev[i % 2]).map(|_| ())
                })?;
                push(rec("quantize", &device, cfg.input.bytes(), t), &mut records);
                let t = time_wall(cfg.reps, |i| {
                    let x = &inputs[i % 2];
                    match &format {
                        Format::Scheme(s) => ctx.quantize(x, &shape, s).map(|_| ()),
                        Format::Gguf(ty) => ctx.quantize_gguf(x, &shape, *ty).map(|_| ()),
                    }
                })?;
                push(rec("quantize", "e2e", 4, t), &mut records);
            }
            if cfg.parts.dequantize {
                let q = [
                    Quantized::new(ctx, &format, &dev[0])?,
                    Quantized::new(ctx, &format, &dev[1])?,
                ];
                let t = time(ctx, cfg.reps, |i| {
                    let y = q[i % 2].dequantize_tensor(ctx)?;
                    ctx.read_bytes(&y.buffer, 4).map(|_| ())
                })?;
                push(rec("dequantize", "device", 4, t), &mut records);
                let t = match &q[0] {
                    Quantized::Scheme(q) => {
                        let host = ctx.download_quantized(q)?;
                        time_wall(cfg.reps, |_| ctx.dequantize(&host).map(|_| ()))?
                    }
                    Quantized::Gguf(q) => {
                        let host = ctx.download_gguf(q)?;
                        time_wall(cfg.reps, |_| ctx.dequantize_gguf(&host).map(|_| ()))?
                    }
                };
                push(rec("dequantize", "e2e", 4, t), &mut records);
            }
            if cfg.parts.cpu && n == sizes[0] {
                let t = time_wall(1, |_| match &format {
                    Format::Scheme(s) => reference::quantize(&inputs[0], &shape, s).map(|_| ()),
                    Format::Gguf(ty) => {
                        reference::gguf::quantize(&inputs[0], &shape, *ty).map(|_| ())
                    }
                })?;
                push(rec("cpu quantize", "reference", 4, t), &mut records);
            }
        }
    }

    let nk = cfg.nk;
    let ms = if cfg.parts.matmul {
        &cfg.matmul_m[..]
    } else {
        &[][..]
    };
    for &m in ms {
        let x = [
            ctx.upload(&synth::normal(m * nk, 1.0, 3), &[m, nk])?,
            ctx.upload(&synth::normal(m * nk, 1.0, 4), &[m, nk])?,
        ];
        let wf = ctx.upload(&synth::normal(nk * nk, 0.02, 5), &[nk, nk])?;
        let flops = 2.0 * (m * nk * nk) as f64;
        let io_act = ((m * nk + m * nk) * 4) as u64;
        let mm_rec = |scheme: &str, path: &str, w_bytes: u64, t: Timing| Record {
            kernel: "matmul".into(),
            scheme: scheme.into(),
            path: path.into(),
            shape: vec![m, nk, nk],
            median_s: t.median,
            min_s: t.min,
            max_s: t.max,
            bytes: w_bytes + io_act,
            gb_per_s: w_bytes as f64 * 1e-9 / t.median,
            gflop_per_s: Some(flops * 1e-9 / t.median),
            roofline_fraction: fraction(w_bytes + io_act, t.median),
            clock: t.clock.into(),
        };
        let sync = |y: &GpuTensor| ctx.read_bytes(&y.buffer, 4).map(|_| ());
        let t = time(ctx, cfg.reps, |i| sync(&ctx.matmul_f32(&x[i % 2], &wf)?))?;
        push(
            mm_rec("f32", "f32 matmul", (nk * nk * 4) as u64, t),
            &mut records,
        );
        if m <= crate::gpu::matmul::GEMV_MAX_M {
            // The f32 GEMV baseline: the GEMV kernel reading an f32 weight.
            let t = time(ctx, cfg.reps, |i| sync(&ctx.gemv_f32(&x[i % 2], &wf)?))?;
            push(
                mm_rec("f32", "f32 gemv", (nk * nk * 4) as u64, t),
                &mut records,
            );
        }
        for text in &cfg.matmul_schemes {
            let format = parse_format(text)?;
            let w = Quantized::new(ctx, &format, &wf)?;
            let w_bytes = format_bytes(&format, &[nk, nk])?;
            for path in [
                MatmulPath::DequantizeThenMatmul,
                MatmulPath::Fused,
                MatmulPath::Gemv,
                MatmulPath::Integer,
            ] {
                if path == MatmulPath::Gemv && m > crate::gpu::matmul::GEMV_MAX_M {
                    continue;
                }
                if !w.takes(path) {
                    continue;
                }
                let t = time(ctx, cfg.reps, |i| sync(&w.linear(ctx, &x[i % 2], path)?))?;
                push(mm_rec(text, &format!("{path:?}"), w_bytes, t), &mut records);
            }
        }
    }
    Ok(BenchReport {
        adapter: info.name.clone(),
        backend: format!("{:?}", info.backend),
        driver: format!("{} {}", info.driver, info.driver_info),
        roofline_bytes_per_s: roofline,
        records,
    })
}
