//! A two-layer MLP (256 -> 512 -> 128, ReLU) with quantized weights on the GPU, run through each
//! matmul path, and its output error against the same MLP in f32.
//! Run: cargo run --release --example quantized_linear
use wgquant::reference::matmul::{linear_f64, relative_error};
use wgquant::{synth, GpuContext, MatmulPath, QuantScheme};

fn relu(v: &mut [f32]) {
    v.iter_mut().for_each(|x| *x = x.max(0.0));
}

fn main() -> Result<(), wgquant::Error> {
    let ctx = GpuContext::new()?;
    println!("adapter: {}", ctx.describe());
    let (m, d_in, d_hidden, d_out) = (16, 256, 512, 128);
    let x = synth::normal(m * d_in, 1.0, 1);
    let w1 = synth::normal(d_hidden * d_in, 1.0 / 16.0, 2);
    let w2 = synth::normal(d_out * d_hidden, 1.0 / 22.0, 3);

    // The f32 model, on the CPU in f64.
    let mut h: Vec<f32> = linear_f64(&x, &w1, m, d_hidden, d_in)
        .iter()
        .map(|&v| v as f32)
        .collect();
    relu(&mut h);
    let want = linear_f64(&h, &w2, m, d_out, d_hidden);

    for text in [
        "q8s:block32:f32",
        "q4s:block32:f16",
        "e2m1:block32:e8m0",
        "nf4:block64:f16",
    ] {
        let scheme: QuantScheme = text.parse()?;
        let q1 = ctx.quantize(&w1, &[d_hidden, d_in], &scheme)?;
        let q2 = ctx.quantize(&w2, &[d_out, d_hidden], &scheme)?;
        for path in [
            MatmulPath::DequantizeThenMatmul,
            MatmulPath::Fused,
            MatmulPath::Integer,
        ] {
            let Ok((mut h, _)) = ctx.linear_host(&x, m, &q1, Some(path)) else {
                println!("{text:<20} {path:?}: not available for this scheme");
                continue;
            };
            relu(&mut h);
            let (y, _) = ctx.linear_host(&h, m, &q2, Some(path))?;
            println!(
                "{text:<20} {path:?}: output relative error vs f32 {:.4}",
                relative_error(&y, &want)
            );
        }
    }
    Ok(())
}
