//! Every matmul path against an f64 CPU reference on the dequantized weights (relative
//! Frobenius error <= 1e-5), and the integer path against the same integer arithmetic on the
//! CPU (identical results) and against the float result within the quantization error.

mod common;

use common::ctx;
use wgquant::reference::matmul::{integer_linear, linear_f64, relative_error};
use wgquant::{reference, synth, Error, MatmulPath, QuantScheme};

const FLOAT_PATHS: [MatmulPath; 3] = [
    MatmulPath::DequantizeThenMatmul,
    MatmulPath::Fused,
    MatmulPath::Gemv,
];

/// Shapes (M, N, K): not multiples of the 64 x 64 tiles, M = 1, K = 32, a large K, a K that is
/// not a multiple of the kernels' steps of 32 (nor of 4).
const SHAPES: [(usize, usize, usize); 7] = [
    (5, 67, 96),
    (6, 70, 50),
    (1, 33, 32),
    (8, 16, 4096),
    (70, 65, 160),
    (3, 1, 64),
    (130, 9, 32),
];

fn check_float(text: &str, (m, n, k): (usize, usize, usize), seed: u64) {
    let scheme: QuantScheme = text.parse().unwrap();
    let x = synth::normal(m * k, 1.0, seed);
    let w = ctx()
        .quantize(&synth::normal(n * k, 0.05, seed + 1), &[n, k], &scheme)
        .unwrap();
    let want = linear_f64(&x, &reference::dequantize(&w).unwrap(), m, n, k);
    for path in FLOAT_PATHS {
        if path == MatmulPath::Gemv && m > 8 {
            continue;
        }
        let (y, used) = ctx().linear_host(&x, m, &w, Some(path)).unwrap();
        assert_eq!(used, path);
        let err = relative_error(&y, &want);
        assert!(
            err <= 1e-5,
            "{text} {path:?} ({m}, {n}, {k}): relative error {err:e}"
        );
    }
}

#[test]
fn float_paths_match_f64_reference() {
    for (i, &shape) in SHAPES.iter().enumerate() {
        for text in [
            "q4s:block32:f16",
            "q8f:tensor:f32",
            "q2f:block16:bf16:affine",
            "e4m3:block32:e8m0",
            "nf4:block32:f32",
            "e2m1:block16:e4m3",
            "q8s:block32:f32:native",
            "e5m2:block1x32:f16",
        ] {
            if shape.2 % 32 != 0 && text.contains("32") {
                continue;
            }
            check_float(text, shape, i as u64 * 10);
        }
    }
}

#[test]
fn plain_f32_matmul() {
    let (m, n, k) = (37, 70, 45);
    let x = synth::normal(m * k, 1.0, 1);
    let w = synth::normal(n * k, 1.0, 2);
    let xt = ctx().upload(&x, &[m, k]).unwrap();
    let wt = ctx().upload(&w, &[n, k]).unwrap();
    let y = ctx()
        .download(&ctx().matmul_f32(&xt, &wt).unwrap())
        .unwrap();
    assert!(relative_error(&y, &linear_f64(&x, &w, m, n, k)) <= 1e-5);
}

#[test]
fn integer_path_matches_integer_reference_and_float_result() {
    eprintln!("dot4I8Packed builtin: {}", ctx().packed_dot_builtin());
    for text in [
        "q8s:block32:f32",
        "q4s:block32:f16",
        "q8f:tensor:f32",
        "q4f:block64:bf16",
    ] {
        for &(m, n, k) in &[(5, 67, 128), (1, 33, 64), (70, 65, 256)] {
            let scheme: QuantScheme = text.parse().unwrap();
            let x = synth::normal(m * k, 1.0, 3);
            let w = ctx()
                .quantize(&synth::normal(n * k, 0.05, 4), &[n, k], &scheme)
                .unwrap();
            let (y, _) = ctx()
                .linear_host(&x, m, &w, Some(MatmulPath::Integer))
                .unwrap();
            // Same integer arithmetic on the CPU, with x quantized as the GPU does.
            let xq = reference::quantize(
                &x,
                &[m, k],
                &wgquant::gpu::matmul::activation_scheme(&scheme, k),
            )
            .unwrap();
            let want = integer_linear(&xq, &w).unwrap();
            let what = format!("{text} ({m}, {n}, {k}) against the integer reference");
            common::assert_same_arithmetic(&y, &want, common::Moved::Relative(1e-6), &what);
            // Against the float result: only the int8 rounding of x separates them.
            let float = linear_f64(&x, &reference::dequantize(&w).unwrap(), m, n, k);
            let err = relative_error(&y, &float);
            assert!(err < 0.02, "{text}: relative error {err} against float");
        }
    }
}

#[test]
fn all_zero_blocks() {
    let (m, n, k) = (4, 10, 64);
    let mut wf = synth::normal(n * k, 1.0, 5);
    wf[..3 * k].fill(0.0); // three zero rows
    wf[5 * k..5 * k + 32].fill(0.0); // one zero block
    let x = synth::normal(m * k, 1.0, 6);
    for text in ["q4s:block32:f16", "e2m1:block32:e8m0", "q8s:block32:f32"] {
        let w = ctx()
            .quantize(&wf, &[n, k], &text.parse().unwrap())
            .unwrap();
        let want = linear_f64(&x, &reference::dequantize(&w).unwrap(), m, n, k);
        for path in FLOAT_PATHS {
            let (y, _) = ctx().linear_host(&x, m, &w, Some(path)).unwrap();
            assert!(relative_error(&y, &want) <= 1e-5, "{text} {path:?}");
            assert!(y[..3].iter().all(|&v| v == 0.0));
        }
    }
}

#[test]
fn dispatch_picks_gemv_for_small_m() {
    let w = common::quantized(
        &synth::normal(16 * 64, 1.0, 7),
        &[16, 64],
        "q4s:block32:f16",
    );
    assert_eq!(
        ctx().linear_host(&vec![1.0; 64], 1, &w, None).unwrap().1,
        MatmulPath::Gemv
    );
    assert_eq!(
        ctx()
            .linear_host(&vec![1.0; 9 * 64], 9, &w, None)
            .unwrap()
            .1,
        MatmulPath::Fused
    );
}

#[test]
fn bad_operands_are_typed_errors() {
    let w = common::quantized(&vec![1.0f32; 16 * 64], &[16, 64], "q4s:block32:f16");
    // K mismatch.
    let xt = ctx().upload(&vec![1.0f32; 2 * 32], &[2, 32]).unwrap();
    let wq = ctx().upload_quantized(&w).unwrap();
    assert!(matches!(ctx().linear(&xt, &wq, None), Err(Error::Shape(ref m)) if m.contains("K")));
    // Blocks that span rows of N.
    let w2 = common::quantized(&vec![1.0f32; 16 * 64], &[16, 64], "q4s:block2x16:f16");
    let err = ctx().linear_host(&vec![1.0; 64], 1, &w2, None).unwrap_err();
    assert!(
        matches!(err, Error::Shape(ref m) if m.contains("along K")),
        "{err}"
    );
    // GEMV with M > 8, and the integer path with a float weight.
    let err = ctx()
        .linear_host(&vec![1.0; 9 * 64], 9, &w, Some(MatmulPath::Gemv))
        .unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    let wf = common::quantized(&vec![1.0f32; 16 * 64], &[16, 64], "e4m3:block32:f16");
    let err = ctx()
        .linear_host(&vec![1.0; 64], 1, &wf, Some(MatmulPath::Integer))
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    // x that is not 2-D.
    let x3 = ctx().upload(&vec![1.0f32; 64], &[1, 1, 64]).unwrap();
    assert!(matches!(ctx().linear(&x3, &wq, None), Err(Error::Shape(_))));
}

#[test]
fn integer_fallback_without_dot4_builtin() {
    let mut manual = wgquant::GpuContext::new().unwrap();
    manual.disable_packed_dot_builtin();
    // M = 6 takes the one-output-per-invocation kernel, M = 70 the tiled one.
    for (text, m) in [
        ("q8s:block32:f32", 6),
        ("q4s:block32:f16", 6),
        ("q4s:block32:f16", 70),
    ] {
        let (n, k) = (40, 96);
        let x = synth::normal(m * k, 1.0, 8);
        let w = ctx()
            .quantize(
                &synth::normal(n * k, 0.05, 9),
                &[n, k],
                &text.parse().unwrap(),
            )
            .unwrap();
        let (a, _) = manual
            .linear_host(&x, m, &w, Some(MatmulPath::Integer))
            .unwrap();
        let (b, _) = ctx()
            .linear_host(&x, m, &w, Some(MatmulPath::Integer))
            .unwrap();
        assert_eq!(a, b, "{text}: manual dot4 differs from the builtin");
    }
}

#[test]
fn gguf_weights_fused_gemv_and_dequantized() {
    use wgquant::GgufType;
    for ty in GgufType::ALL {
        // K-quant rows are whole super-blocks of 256.
        let shapes = match ty.is_k_quant() {
            true => [(5, 67, 512), (1, 33, 256), (70, 20, 256)],
            false => [(5, 67, 96), (1, 33, 32), (70, 20, 128)],
        };
        for &(m, n, k) in &shapes {
            let x = synth::normal(m * k, 1.0, 11);
            let t = ctx()
                .quantize_gguf(&synth::normal(n * k, 0.05, 12), &[n, k], ty)
                .unwrap();
            let want = linear_f64(&x, &reference::gguf::dequantize(&t).unwrap(), m, n, k);
            let xt = ctx().upload(&x, &[m, k]).unwrap();
            let wt = ctx().upload_gguf(&t).unwrap();
            for path in FLOAT_PATHS {
                if path == MatmulPath::Gemv && m > 8 {
                    continue;
                }
                let (y, used) = ctx().linear_gguf(&xt, &wt, Some(path)).unwrap();
                assert_eq!(used, path);
                let err = relative_error(&ctx().download(&y).unwrap(), &want);
                assert!(err <= 1e-5, "{ty:?} {path:?} ({m}, {n}, {k}): {err:e}");
            }
        }
    }
}

#[test]
fn f16_and_bf16_activations() {
    use half::{bf16, f16};
    let (m, n, k) = (5, 40, 96);
    let w = common::quantized(&synth::normal(n * k, 0.05, 13), &[n, k], "q4s:block32:f16");
    let wd = reference::dequantize(&w).unwrap();
    let wq = ctx().upload_quantized(&w).unwrap();
    let x = synth::normal(m * k, 1.0, 14);
    let halves: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
    let brains: Vec<bf16> = x.iter().map(|&v| bf16::from_f32(v)).collect();
    let cases = [
        (
            ctx().upload(&halves, &[m, k]).unwrap(),
            halves.iter().map(|v| v.to_f32()).collect::<Vec<f32>>(),
        ),
        (
            ctx().upload(&brains, &[m, k]).unwrap(),
            brains.iter().map(|v| v.to_f32()).collect(),
        ),
    ];
    for (xt, widened) in &cases {
        let want = linear_f64(widened, &wd, m, n, k);
        for path in FLOAT_PATHS {
            let (y, _) = ctx().linear(xt, &wq, Some(path)).unwrap();
            let err = relative_error(&ctx().download(&y).unwrap(), &want);
            assert!(err <= 1e-5, "{:?} {path:?}: {err:e}", xt.dtype);
        }
        // The integer path quantizes the 16-bit activations directly.
        let (y, _) = ctx().linear(xt, &wq, Some(MatmulPath::Integer)).unwrap();
        let xq = reference::quantize(
            widened,
            &[m, k],
            &wgquant::gpu::matmul::activation_scheme(&w.scheme, k),
        )
        .unwrap();
        common::assert_same_arithmetic(
            &ctx().download(&y).unwrap(),
            &integer_linear(&xq, &w).unwrap(),
            common::Moved::Relative(1e-6),
            &format!("{:?} integer", xt.dtype),
        );
    }
}

/// The vec4 GEMV in both layouts (a CPU adapter's and a GPU's, whatever this adapter is), at
/// the sizes where it loads x and the scales as vec4 (K = 4096: one or two quads of scales per
/// lane, one or two rows of x), where rows of scales are not whole quads (K = 4000), and where
/// K takes more than one pass (K = 12288), with scales per block, affine zero points, E8M0
/// scales, one scale per tensor, and f16 x.
#[test]
fn gemv_layouts_match_f64_reference() {
    use half::f16;
    let cases = [
        ("q4s:block32:f16", 1, 4096),
        ("q4s:block32:f16", 1, 12288),
        ("q4s:block32:f16", 2, 12288),
        ("q8s:block32:f32", 1, 4096),
        ("q8s:block16:f32", 1, 4096),
        ("q8s:block16:f32", 2, 4096),
        ("q4s:block32:f16", 1, 4000),
        ("q4f:block32:f32:affine", 1, 4096),
        ("e2m1:block32:e8m0", 1, 4096),
        ("q8f:tensor:f32", 1, 4096),
    ];
    for cpu in [true, false] {
        let mut gpu = wgquant::GpuContext::new().unwrap();
        gpu.set_cpu_walks(cpu);
        for (i, &(text, m, k)) in cases.iter().enumerate() {
            let n = 9;
            let w = common::quantized(&synth::normal(n * k, 0.05, 40 + i as u64), &[n, k], text);
            let wq = gpu.upload_quantized(&w).unwrap();
            let x = synth::normal(m * k, 1.0, 50 + i as u64);
            let halves: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
            let widened: Vec<f32> = halves.iter().map(|v| v.to_f32()).collect();
            let inputs = [
                (gpu.upload(&x, &[m, k]).unwrap(), x.clone()),
                (gpu.upload(&halves, &[m, k]).unwrap(), widened),
            ];
            for (xt, xf) in &inputs {
                let want = linear_f64(xf, &reference::dequantize(&w).unwrap(), m, n, k);
                let (y, _) = gpu.linear(xt, &wq, Some(MatmulPath::Gemv)).unwrap();
                let err = relative_error(&gpu.download(&y).unwrap(), &want);
                assert!(
                    err <= 1e-5,
                    "{text} ({m}, {n}, {k}) x {:?}, cpu walks {cpu}: relative error {err:e}",
                    xt.dtype
                );
            }
        }
    }
}
