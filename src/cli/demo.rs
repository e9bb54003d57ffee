//! `wgquant demo`: the main job on a built-in default. Deterministic transformer-shaped weights
//! are quantized on the GPU in every supported scheme; each result is checked against the CPU
//! reference (NUMERICS section 8) and measured.

use std::time::Instant;

use crate::agreement::compare;
use crate::error::{Error, Result};
use crate::format::GgufType;
use crate::gpu::buffers::GpuTensor;
use crate::gpu::context::GpuContext;
use crate::metrics::sqnr_db;
use crate::reference;
use crate::scheme::{representative_schemes, Format, QuantScheme};
use crate::synth::Rng;

/// One synthetic weight matrix.
struct Weight {
    name: &'static str,
    shape: [usize; 2],
    data: Vec<f32>,
}

/// The four matrices of one transformer block (fused QKV, attention output, MLP up and down),
/// N(0, 0.02^2) with a few outlier input channels, as real checkpoints have.
fn transformer_layer(hidden: usize) -> Vec<Weight> {
    let ffn = ffn_width(hidden);
    let mut rng = Rng::new(0x5eed);
    let specs = [
        ("attn.qkv", [3 * hidden, hidden]),
        ("attn.out", [hidden, hidden]),
        ("mlp.up", [ffn, hidden]),
        ("mlp.down", [hidden, ffn]),
    ];
    specs
        .into_iter()
        .map(|(name, shape)| {
            let outliers: Vec<usize> = (0..4).map(|_| rng.below(shape[1])).collect();
            let data = (0..shape[0] * shape[1])
                .map(|i| {
                    let boost = if outliers.contains(&(i % shape[1])) {
                        8.0
                    } else {
                        1.0
                    };
                    (rng.normal() * 0.02 * boost) as f32
                })
                .collect();
            Weight { name, shape, data }
        })
        .collect()
}

/// The MLP width of the demo's block: 11/4 of `hidden`, rounded up to whole K-quant blocks.
fn ffn_width(hidden: usize) -> usize {
    (hidden * 11 / 4).next_multiple_of(256)
}

/// Every value, mode and scale type, at Tensor level and in blocks, and the GGUF types whose
/// blocks divide the rows of a block of width `hidden` (the K-quants need multiples of 256):
/// the demo's rows.
pub fn demo_formats(hidden: usize) -> Vec<Format> {
    let mut out: Vec<Format> = representative_schemes()
        .into_iter()
        .map(Format::Scheme)
        .collect();
    let fits = |t: &GgufType| {
        hidden.is_multiple_of(t.block_elements())
            && ffn_width(hidden).is_multiple_of(t.block_elements())
    };
    out.extend(GgufType::ALL.into_iter().filter(fits).map(Format::Gguf));
    out
}

/// What one format measured over all weights.
#[derive(Default)]
struct Row {
    stored: usize,
    exact: bool,
    allowed: usize,
    mismatch: Option<String>,
    restored: Vec<f32>,
    /// Device-resident quantize time.
    gpu_secs: Option<f64>,
    e2e_secs: f64,
}

/// Best of three device-resident quantizes after a warm-up that compiles.
fn device_seconds(ctx: &GpuContext, x: &GpuTensor, scheme: &QuantScheme) -> Result<f64> {
    ctx.quantize_tensor(x, scheme)?;
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        ctx.quantize_tensor(x, scheme)?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn run_format(
    ctx: &GpuContext,
    weights: &[Weight],
    uploads: &[GpuTensor],
    format: &Format,
) -> Result<Row> {
    let mut row = Row {
        exact: true,
        ..Default::default()
    };
    for (w, x) in weights.iter().zip(uploads) {
        match format {
            Format::Scheme(scheme) => {
                row.gpu_secs = Some(row.gpu_secs.unwrap_or(0.0) + device_seconds(ctx, x, scheme)?);
                let t = Instant::now();
                let q = ctx.quantize(&w.data, &w.shape, scheme)?;
                row.e2e_secs += t.elapsed().as_secs_f64();
                match compare(&w.data, &q) {
                    Ok(c) => {
                        row.allowed += c.scale_ulp + c.code_step;
                        row.exact &= q == reference::quantize(&w.data, &w.shape, scheme)?;
                    }
                    Err(e) => row.mismatch = Some(format!("{}: {e}", w.name)),
                }
                row.stored += q.stored_bytes();
                row.restored.extend(ctx.dequantize(&q)?);
            }
            Format::Gguf(ty) => {
                ctx.quantize_gguf_tensor(x, *ty)?;
                let mut best = f64::INFINITY;
                for _ in 0..3 {
                    let t = Instant::now();
                    ctx.quantize_gguf_tensor(x, *ty)?;
                    best = best.min(t.elapsed().as_secs_f64());
                }
                row.gpu_secs = Some(row.gpu_secs.unwrap_or(0.0) + best);
                let t = Instant::now();
                let q = ctx.quantize_gguf(&w.data, &w.shape, *ty)?;
                row.e2e_secs += t.elapsed().as_secs_f64();
                if q != reference::gguf::quantize(&w.data, &w.shape, *ty)? {
                    row.mismatch =
                        Some(format!("{}: GGUF bytes differ from the reference", w.name));
                }
                row.stored += q.data.len();
                row.restored.extend(ctx.dequantize_gguf(&q)?);
            }
        }
    }
    Ok(row)
}

/// Runs the demo and prints its table.
pub fn demo(hidden: usize) -> Result<()> {
    if hidden == 0 || !hidden.is_multiple_of(32) {
        return Err(Error::Shape(format!(
            "--hidden {hidden}: use a positive multiple of 32"
        )));
    }
    let ctx = GpuContext::new()?;
    let weights = transformer_layer(hidden);
    let elements: usize = weights.iter().map(|w| w.data.len()).sum();
    let signal: Vec<f32> = weights
        .iter()
        .flat_map(|w| w.data.iter().copied())
        .collect();
    println!("adapter: {}", ctx.describe());
    println!(
        "weights: {} matrices of a transformer block, hidden {hidden}, {:.1} M f32 elements ({:.1} MB)\n",
        weights.len(),
        elements as f64 / 1e6,
        elements as f64 * 4e-6
    );
    println!(
        "{:<26} {:>6} {:>18} {:>8} {:>9} {:>9}",
        "scheme", "bits/w", "GPU vs reference", "SQNR dB", "GPU GB/s", "e2e GB/s"
    );
    let uploads = weights
        .iter()
        .map(|w| ctx.upload(&w.data, &w.shape))
        .collect::<Result<Vec<_>>>()?;
    let mut failures = 0;
    for format in demo_formats(hidden) {
        let row = run_format(&ctx, &weights, &uploads, &format)?;
        let verdict = match (&row.mismatch, row.exact) {
            (Some(_), _) => "MISMATCH".to_string(),
            (None, true) => "bit-exact".to_string(),
            (None, false) => format!("ok ({} allowed)", row.allowed),
        };
        let gb = |secs: f64| format!("{:.2}", elements as f64 * 4e-9 / secs);
        println!(
            "{:<26} {:>6.2} {:>18} {:>8.2} {:>9} {:>9}",
            match format {
                Format::Scheme(s) => s.to_string(),
                Format::Gguf(t) => format!("{t} (gguf)"),
            },
            row.stored as f64 * 8.0 / elements as f64,
            verdict,
            sqnr_db(&signal, &row.restored),
            row.gpu_secs.map_or("-".to_string(), gb),
            gb(row.e2e_secs),
        );
        if let Some(m) = row.mismatch {
            eprintln!("  {m}");
            failures += 1;
        }
    }
    println!("\nGPU GB/s: f32 bytes in / time of a device-resident quantize (scales + codes + status check).");
    println!("e2e GB/s: f32 bytes in / time from host slice to host codes and scales (upload, quantize, readback).");
    if failures > 0 {
        return Err(Error::ReferenceMismatch(format!(
            "{failures} format(s) in the demo"
        )));
    }
    Ok(())
}
