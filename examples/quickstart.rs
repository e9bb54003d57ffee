//! Quantize a weight matrix on the GPU, check it against the CPU reference, and dequantize it.
//! Run: cargo run --release --example quickstart
use wgquant::{synth, GpuContext, QuantLevel, QuantParam, QuantScheme, QuantValue};

fn main() -> Result<(), wgquant::Error> {
    let ctx = GpuContext::new()?;
    println!("adapter: {}", ctx.describe());

    // Q4 symmetric, one f16 scale per block of 32 along each row.
    let scheme = QuantScheme::default()
        .with_value(QuantValue::Q4S)
        .with_level(QuantLevel::block([32]))
        .with_param(QuantParam::F16);
    let shape = [256, 512];
    let weights = synth::normal(shape[0] * shape[1], 0.02, 7);

    let q = ctx.quantize(&weights, &shape, &scheme)?;
    // NUMERICS section 8: bit for bit, apart from counted allowances for inexact GPU division.
    let agreement = wgquant::agreement::compare(&weights, &q);
    println!("scheme {scheme}: agreement with the CPU reference: {agreement:?}");
    println!(
        "{} bytes of f32 -> {} bytes quantized",
        weights.len() * 4,
        q.stored_bytes()
    );

    let restored = ctx.dequantize(&q)?;
    println!(
        "SQNR {:.2} dB",
        wgquant::metrics::sqnr_db(&weights, &restored)
    );
    Ok(())
}
