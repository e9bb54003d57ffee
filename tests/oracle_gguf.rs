//! GGUF block bytes of the CPU reference (and of the GPU) equal gguf-py's `quantize` on random and
//! adversarial rows, and dequantize to the same values as gguf-py's `dequantize`. gguf-py does
//! not quantize the K-quants: their reference is checked against ggml's own code in
//! `oracle_kquants.rs`, and here the GPU against the reference, as for every type.

mod common;

use wgquant::reference::gguf as reference;
use wgquant::synth::Rng;
use wgquant::GgufType;

/// A multiple of every type's block, K-quants included.
const COLS: usize = 256;

/// Rows of two blocks each: random at many scales, then adversarial ones.
pub fn rows() -> Vec<f32> {
    let mut rng = Rng::new(5);
    let mut out = Vec::new();
    for i in 0..300 {
        let scale = 10f64.powi(i % 7 - 3);
        out.extend((0..COLS).map(|_| (rng.normal() * scale) as f32));
    }
    let mut push = |block: Vec<f32>| {
        assert_eq!(block.len(), 32);
        out.extend(block);
    };
    // Ties: with amax 127 Q8_0's d is 1, so x * id lands on .5 (roundf rounds away from zero).
    push(
        (0..32)
            .map(|j| if j == 0 { 127.0 } else { j as f32 - 15.5 })
            .collect(),
    );
    // Q4_0/Q5_0 ties: +-8 and +-16 steps, and the largest magnitude twice with both signs.
    push((0..32).map(|j| (j as f32 - 16.0) * 0.5 + 0.25).collect());
    push((0..32).map(|j| [5.0, -5.0, 2.5, -1.25][j % 4]).collect());
    push((0..32).map(|j| [-5.0, 5.0, 2.5, -1.25][j % 4]).collect());
    // All equal, all zero, one outlier, all negative.
    push(vec![0.375; 32]);
    push(vec![-2.0; 32]);
    push(vec![0.0; 32]);
    push(
        (0..32)
            .map(|j| if j == 7 { 1000.0 } else { 0.001 * j as f32 })
            .collect(),
    );
    push((0..32).map(|j| -1.0 - j as f32).collect());
    // No signed-zero blocks: gguf-py takes an all -0 block's largest magnitude as -0 where
    // ggml keeps +0 (a sign bit of Q4_0's d); oracle_kquants.rs checks them against ggml.
    // MXFP4 exponents just below powers of two, where log2 rounds up.
    for k in [-3, 0, 3, 7, 8, 12, 20] {
        for ulps in [1u32, 2, 40] {
            let top = f32::from_bits((2f32.powi(k)).to_bits() - ulps);
            push(
                (0..32)
                    .map(|j| if j == 3 { top } else { top * (j as f32 / 40.0) })
                    .collect(),
            );
        }
    }
    // Pad to whole rows.
    while out.len() % COLS != 0 {
        out.push(0.0);
    }
    out
}

#[test]
fn gguf_bytes_match_gguf_py() {
    let dir = common::temp_dir("gguf");
    let x = rows();
    let n_rows = x.len() / COLS;
    let input = dir.join("in.f32");
    std::fs::write(&input, bytemuck::cast_slice(&x)).unwrap();
    let (r, c) = (n_rows.to_string(), COLS.to_string());
    let mut args = vec![input.as_os_str(), r.as_ref(), c.as_ref(), dir.as_os_str()];
    let types: Vec<GgufType> = GgufType::ALL
        .into_iter()
        .filter(|t| !t.is_k_quant())
        .collect();
    args.extend(types.iter().map(|t| std::ffi::OsStr::new(t.name())));
    if common::run_oracle("gguf_quants.py", &args).is_none() {
        return;
    }
    for ty in types {
        let name = ty.name();
        let theirs = std::fs::read(dir.join(format!("{name}.bin"))).unwrap();
        let ours = reference::quantize(&x, &[n_rows, COLS], ty).unwrap();
        assert_eq!(ours.data.len(), theirs.len(), "{name}");
        let block = ty.block_bytes();
        for (i, (a, b)) in ours
            .data
            .chunks(block)
            .zip(theirs.chunks(block))
            .enumerate()
        {
            assert_eq!(
                a,
                b,
                "{name} block {i}: input {:?}",
                &x[i * 32..i * 32 + 32]
            );
        }
        let deq: Vec<f32> =
            bytemuck::pod_collect_to_vec(&std::fs::read(dir.join(format!("{name}.f32"))).unwrap());
        let ours = reference::dequantize(&ours).unwrap();
        assert_eq!(ours.len(), deq.len());
        for (i, (a, b)) in ours.iter().zip(&deq).enumerate() {
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "{name} dequantized element {i}: {a} vs {b}"
            );
        }
        eprintln!(
            "{name}: {} blocks byte-identical with gguf-py, dequantized identically",
            x.len() / 32
        );
    }
}

#[test]
fn gpu_gguf_equals_reference() {
    let x = rows();
    let shape = [x.len() / COLS, COLS];
    for ty in GgufType::ALL {
        let name = ty.name();
        let cpu = reference::quantize(&x, &shape, ty).unwrap();
        let gpu = common::ctx().quantize_gguf(&x, &shape, ty).unwrap();
        let block = ty.block_bytes();
        if ty.is_k_quant() && !common::exact_adapter() {
            // NUMERICS section 7: contraction or inexact division may move a scale search.
            let differ = gpu
                .data
                .chunks(block)
                .zip(cpu.data.chunks(block))
                .filter(|(a, b)| a != b)
                .count();
            let blocks = cpu.data.len() / block;
            eprintln!("{name}: {differ} of {blocks} super-blocks differ from the reference");
            assert!(
                differ * 100 <= blocks,
                "{name}: {differ} of {blocks} differ"
            );
            continue;
        }
        for (i, (a, b)) in gpu
            .data
            .chunks(block)
            .zip(cpu.data.chunks(block))
            .enumerate()
        {
            assert_eq!(
                a,
                b,
                "{name} block {i}: input {:?}",
                &x[i * ty.block_elements()..(i + 1) * ty.block_elements()]
            );
        }
        assert_eq!(gpu, cpu, "{name}");
        let back = common::ctx().dequantize_gguf(&cpu).unwrap();
        let want = reference::dequantize(&cpu).unwrap();
        assert!(
            back.iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{name} dequantize"
        );
    }
}

#[test]
fn gpu_gguf_chunked_and_f16_input() {
    let mut ctx = wgquant::GpuContext::new().unwrap();
    ctx.set_chunk_bytes(4096);
    // Elsewhere the K-quants may differ in a few blocks; gpu_gguf_equals_reference counts them.
    for ty in GgufType::ALL
        .into_iter()
        .filter(|t| common::exact_adapter() || !t.is_k_quant())
    {
        let name = ty.name();
        let cols = if ty.is_k_quant() { 512 } else { 96 };
        let shape = [37, cols];
        let x = wgquant::synth::normal(37 * cols, 1.0, 3);
        let cpu = reference::quantize(&x, &shape, ty).unwrap();
        assert_eq!(
            ctx.quantize_gguf(&x, &shape, ty).unwrap(),
            cpu,
            "{name} chunked"
        );
        assert_eq!(
            ctx.dequantize_gguf(&cpu).unwrap(),
            reference::dequantize(&cpu).unwrap(),
            "{name}"
        );
        let halves: Vec<half::f16> = x.iter().map(|&v| half::f16::from_f32(v)).collect();
        let as_f32: Vec<f32> = halves.iter().map(|h| h.to_f32()).collect();
        let want = reference::quantize(&as_f32, &shape, ty).unwrap();
        assert_eq!(
            ctx.quantize_gguf(&halves, &shape, ty).unwrap(),
            want,
            "{name} f16 input"
        );
    }
}

#[test]
fn gguf_bad_input_is_typed() {
    use wgquant::Error;
    let ctx = common::ctx();
    let err = ctx
        .quantize_gguf(&[1.0f32; 40], &[40], GgufType::Q4_0)
        .unwrap_err();
    assert!(
        matches!(err, Error::Shape(ref m) if m.contains("multiple of 32")),
        "{err}"
    );
    assert!(matches!(
        reference::quantize(&[1.0f32; 40], &[40], GgufType::Q4_0),
        Err(Error::Shape(_))
    ));
    let mut x = vec![1.0f32; 96];
    x[70] = f32::NAN;
    assert_eq!(
        ctx.quantize_gguf(&x, &[3, 32], GgufType::Q8_0).unwrap_err(),
        Error::NonFinite { index: 70 }
    );
    assert_eq!(
        reference::quantize(&x, &[3, 32], GgufType::Q8_0).unwrap_err(),
        Error::NonFinite { index: 70 }
    );
    // Every type reports the first non-finite element, wherever it lies in a block.
    for ty in GgufType::ALL {
        let mut x = vec![1.0f32; 3 * 256];
        x[601] = f32::INFINITY;
        x[333] = f32::NAN;
        assert_eq!(
            ctx.quantize_gguf(&x, &[3, 256], ty).unwrap_err(),
            Error::NonFinite { index: 333 },
            "{ty:?}"
        );
    }
    let t = reference::quantize(&[1.0f32; 64], &[2, 32], GgufType::Q4_1).unwrap();
    let broken = wgquant::GgufTensor {
        data: t.data[..30].to_vec(),
        ..t
    };
    assert!(matches!(ctx.dequantize_gguf(&broken), Err(Error::Shape(_))));
}

#[test]
fn device_resident_gguf() {
    let ctx = common::ctx();
    for ty in GgufType::ALL
        .into_iter()
        .filter(|t| common::exact_adapter() || !t.is_k_quant())
    {
        let name = ty.name();
        let shape = [24, ty.block_elements().max(64)];
        let x = wgquant::synth::normal(shape[0] * shape[1], 1.0, 8);
        let xt = ctx.upload(&x, &shape).unwrap();
        let t = ctx.quantize_gguf_tensor(&xt, ty).unwrap();
        assert_eq!(
            ctx.download_gguf(&t).unwrap(),
            reference::quantize(&x, &shape, ty).unwrap(),
            "{name}"
        );
        let y = ctx
            .download(&ctx.dequantize_gguf_tensor(&t).unwrap())
            .unwrap();
        assert_eq!(
            y,
            reference::dequantize(&reference::quantize(&x, &shape, ty).unwrap()).unwrap(),
            "{name}"
        );
    }
}

/// Every bit pattern decodes on the GPU as the reference decodes it: random block bytes give
/// every code and f16 scales of every kind (negative, subnormal, infinite, NaN) for each type,
/// at every alignment of the blocks within words.
#[test]
fn gpu_dequantizes_arbitrary_block_bytes_as_the_reference() {
    let ctx = common::ctx();
    let mut rng = Rng::new(11);
    for ty in GgufType::ALL {
        let shape = vec![9, 512];
        let n = 9 * 512 / ty.block_elements() * ty.block_bytes();
        let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
        let t = wgquant::GgufTensor::new(ty, shape, bytes).unwrap();
        let mut got = ctx.dequantize_gguf(&t).unwrap();
        let want = reference::dequantize(&t).unwrap();
        // NaN payloads are the hardware's; that both are NaN is what counts.
        for (g, w) in got.iter_mut().zip(&want) {
            if g.is_nan() && w.is_nan() {
                *g = *w;
            }
        }
        common::assert_same_arithmetic(&got, &want, common::Moved::Ulp(1), ty.name());
    }
}
