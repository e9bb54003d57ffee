//! `wgquant demo`: the main job on a built-in default. Deterministic transformer-shaped weights
//! are quantized on the GPU in every supported scheme; each result is checked against the CPU
//! reference (SPEC section 8) and measured.

use std::time::Instant;

use crate::agreement::compare;
use crate::error::{Error, Result};
use crate::gpu::context::GpuContext;
use crate::reference;
use crate::scheme::{QuantLevel, QuantParam, QuantScheme, QuantStore, QuantValue};
use crate::synth::{sqnr_db, Rng};

/// One synthetic weight matrix.
struct Weight {
    name: &'static str,
    shape: [usize; 2],
    data: Vec<f32>,
}

/// The four matrices of one transformer block (fused QKV, attention output, MLP up and down),
/// N(0, 0.02^2) with a few outlier input channels, as real checkpoints have.
fn transformer_layer(hidden: usize) -> Vec<Weight> {
    let ffn = hidden * 11 / 4;
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

/// Every value x store x param, at Tensor level, blocks of 32 and 2 x 16 blocks.
pub fn demo_schemes() -> Vec<QuantScheme> {
    let values = [
        QuantValue::Q8F,
        QuantValue::Q8S,
        QuantValue::Q4F,
        QuantValue::Q4S,
        QuantValue::Q2F,
        QuantValue::Q2S,
    ];
    let combos = [
        (QuantLevel::Tensor, QuantParam::F32),
        (QuantLevel::block([32]), QuantParam::F32),
        (QuantLevel::block([32]), QuantParam::F16),
        (QuantLevel::block([32]), QuantParam::BF16),
        (QuantLevel::block([2, 16]), QuantParam::F16),
    ];
    let mut out = Vec::new();
    for value in values {
        for store in [QuantStore::U32, QuantStore::Native] {
            for (level, param) in combos {
                let s = QuantScheme::default()
                    .with_value(value)
                    .with_store(store)
                    .with_level(level)
                    .with_param(param);
                if s.validate().is_ok() && (store == QuantStore::U32 || param == QuantParam::F16) {
                    out.push(s);
                }
            }
        }
    }
    out
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
    println!("adapter: {}", ctx.describe());
    println!(
        "weights: {} matrices of a transformer block, hidden {hidden}, {:.1} M f32 elements ({:.1} MB)\n",
        weights.len(),
        elements as f64 / 1e6,
        elements as f64 * 4e-6
    );
    println!(
        "{:<24} {:>6} {:>22} {:>9} {:>12} {:>12}",
        "scheme", "bits/w", "GPU vs reference", "SQNR dB", "GPU GB/s", "e2e GB/s"
    );
    let uploads = weights
        .iter()
        .map(|w| ctx.upload(&w.data, &w.shape))
        .collect::<Result<Vec<_>>>()?;
    let mut failures = 0;
    for scheme in demo_schemes() {
        let (mut exact, mut allowed, mut bad) = (true, 0, None);
        let (mut signal, mut stored) = (Vec::new(), 0usize);
        let mut restored = Vec::new();
        let (mut gpu_secs, mut e2e_secs) = (0.0, 0.0);
        for (w, x) in weights.iter().zip(&uploads) {
            // Device-resident throughput: best of three after a warm-up compile.
            ctx.quantize_tensor(x, &scheme)?;
            let mut best = f64::INFINITY;
            for _ in 0..3 {
                let t = Instant::now();
                ctx.quantize_tensor(x, &scheme)?;
                best = best.min(t.elapsed().as_secs_f64());
            }
            gpu_secs += best;
            let t = Instant::now();
            let q = ctx.quantize(&w.data, &w.shape, &scheme)?;
            e2e_secs += t.elapsed().as_secs_f64();
            match compare(&w.data, &q) {
                Ok(c) => {
                    allowed += c.scale_ulp + c.code_step;
                    exact &= q == reference::quantize(&w.data, &w.shape, &scheme)?;
                }
                Err(e) => bad = Some(format!("{}: {e}", w.name)),
            }
            stored += q.stored_bytes();
            restored.extend(ctx.dequantize(&q)?);
            signal.extend_from_slice(&w.data);
        }
        let verdict = match (&bad, exact) {
            (Some(_), _) => "MISMATCH".to_string(),
            (None, true) => "bit-exact".to_string(),
            (None, false) => format!("ok ({allowed} allowed)"),
        };
        println!(
            "{:<24} {:>6.2} {:>22} {:>9.2} {:>12.2} {:>12.2}",
            scheme.to_string(),
            stored as f64 * 8.0 / elements as f64,
            verdict,
            sqnr_db(&signal, &restored),
            elements as f64 * 4e-9 / gpu_secs,
            elements as f64 * 4e-9 / e2e_secs,
        );
        if let Some(b) = bad {
            eprintln!("  {b}");
            failures += 1;
        }
    }
    println!("\nGPU GB/s: f32 bytes in / time of a device-resident quantize (reduce + pack + status check).");
    println!("e2e GB/s: f32 bytes in / time from host slice to host codes and scales (upload, quantize, readback).");
    if failures > 0 {
        return Err(Error::Validation {
            context: "demo".into(),
            message: format!("{failures} scheme(s) disagree with the CPU reference"),
        });
    }
    Ok(())
}
