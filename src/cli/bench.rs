//! `wgquant bench`: a quick device-resident quantize and dequantize throughput run.

use std::time::Instant;

use crate::error::{Error, Result};
use crate::gpu::context::GpuContext;
use crate::scheme::QuantScheme;
use crate::synth;

const SCHEMES: [&str; 6] = [
    "q8s:block32:f16",
    "q4s:block32:f16",
    "q4f:block32:f16:affine",
    "nf4:block64:f16",
    "e2m1:block32:e8m0",
    "e2m1:block16:e4m3",
];

/// Median seconds of `runs` calls after one warm-up.
fn median_secs(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let mut t = Vec::with_capacity(runs);
    for _ in 0..runs {
        let s = Instant::now();
        f()?;
        t.push(s.elapsed().as_secs_f64());
    }
    t.sort_by(f64::total_cmp);
    Ok(t[runs / 2])
}

/// Prints GB/s of f32 input for quantize and of f32 output for dequantize, median of 5.
pub fn bench(elements: usize) -> Result<()> {
    if elements == 0 || !elements.is_multiple_of(4096) {
        return Err(Error::Usage(format!(
            "--elements {elements}: use a positive multiple of 4096"
        )));
    }
    let ctx = GpuContext::new()?;
    println!("adapter: {}", ctx.describe());
    let shape = [elements / 4096, 4096];
    let x = ctx.upload(&synth::normal(elements, 1.0, 9), &shape)?;
    println!("{elements} f32 elements, device-resident, median of 5 (wall clock around submit + readback)");
    println!(
        "{:<24} {:>14} {:>16}",
        "scheme", "quantize GB/s", "dequantize GB/s"
    );
    for text in SCHEMES {
        let scheme: QuantScheme = text.parse()?;
        let q = ctx.quantize_tensor(&x, &scheme)?;
        let tq = median_secs(5, || ctx.quantize_tensor(&x, &scheme).map(|_| ()))?;
        let td = median_secs(5, || {
            let y = ctx.dequantize_tensor(&q)?;
            ctx.read_bytes(&y.buffer, 4).map(|_| ())
        })?;
        let gb = elements as f64 * 4e-9;
        println!("{text:<24} {:>14.2} {:>16.2}", gb / tq, gb / td);
    }
    Ok(())
}
