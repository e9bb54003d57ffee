//! GPU kernels against the CPU reference (NUMERICS section 8) for every integer value, level, store
//! and scale type, on awkward shapes and values.

mod common;

use common::ctx;
use half::{bf16, f16};
use wgquant::agreement::{compare, Allowances};
use wgquant::synth::Rng;
use wgquant::{
    reference, Codebook, Error, QuantLevel, QuantMode, QuantParam, QuantScheme, QuantStore,
    QuantValue,
};

const PARAMS: [QuantParam; 3] = [QuantParam::F32, QuantParam::F16, QuantParam::BF16];
const MODES: [QuantMode; 3] = [
    QuantMode::Symmetric,
    QuantMode::Affine,
    QuantMode::Lookup(Codebook::Nf4),
];

/// Every valid scheme at `level`.
fn schemes(level: QuantLevel) -> Vec<QuantScheme> {
    let mut out = Vec::new();
    for mode in MODES {
        for value in QuantValue::ALL {
            for store in [QuantStore::U32, QuantStore::Native] {
                for param in QuantParam::ALL {
                    let s = QuantScheme {
                        mode,
                        level,
                        value,
                        store,
                        param,
                    };
                    if s.validate().is_ok() {
                        out.push(s);
                    }
                }
            }
        }
    }
    out
}

/// Shapes with primes, single rows and columns, partial blocks and a leading batch dim.
const SHAPES: [&[usize]; 7] = [
    &[37, 53],
    &[1, 97],
    &[97, 1],
    &[3, 17, 29],
    &[64],
    &[31, 64],
    &[2, 5, 3, 7],
];

fn levels(shape: &[usize]) -> Vec<QuantLevel> {
    vec![
        QuantLevel::Tensor,
        QuantLevel::block([32]),
        QuantLevel::block([7]),
        QuantLevel::block([2, 16]),
        QuantLevel::block([3, 5]),
        QuantLevel::block([1, *shape.last().unwrap()]),
        QuantLevel::block([16]),
    ]
}

fn random_data(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let scale = 10f64.powi(rng.below(7) as i32 - 3);
    (0..n).map(|_| (rng.normal() * scale) as f32).collect()
}

/// Quantizes on the GPU and compares with the reference; when the reference rejects the input
/// the GPU must reject it with the same error.
fn check(data: &[f32], shape: &[usize], scheme: &QuantScheme) -> Allowances {
    let gpu = ctx().quantize(data, shape, scheme);
    match reference::quantize(data, shape, scheme) {
        Err(e) => {
            assert_eq!(gpu.err(), Some(e), "{scheme} on {shape:?}");
            Allowances::default()
        }
        Ok(_) => {
            let gpu = gpu.unwrap_or_else(|e| panic!("{scheme} on {shape:?}: {e}"));
            let counts =
                common::assert_agreement(compare(data, &gpu), &format!("{scheme} on {shape:?}"));
            // The GPU dequantizer must restore code * scale exactly, as the reference does, but
            // for the two-level NVFP4 product e * sp * global that a GPU compiler may reorder
            // (NUMERICS section 8).
            let back = ctx().dequantize(&gpu).unwrap();
            let want = reference::dequantize(&gpu).unwrap();
            let moved = common::Moved::Ulp((scheme.param == QuantParam::E4M3) as u32);
            let what = format!("{scheme} on {shape:?}: dequantized");
            common::assert_same_arithmetic(&back, &want, moved, &what);
            counts
        }
    }
}

#[test]
fn every_combination_matches_reference() {
    let mut total = Allowances::default();
    let mut cases = 0;
    // Every scheme tried must run on at least one shape.
    let (mut never_ran, mut ran) = (
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
    );
    for (si, shape) in SHAPES.iter().enumerate() {
        let n: usize = shape.iter().product();
        let data = random_data(n, si as u64 + 1);
        for level in levels(shape) {
            for scheme in schemes(level) {
                if scheme.validate_for_shape(shape).is_err() {
                    never_ran.insert(scheme.to_string());
                    continue;
                }
                let c = check(&data, shape, &scheme);
                ran.insert(scheme.to_string());
                total.scale_ulp += c.scale_ulp;
                total.code_step += c.code_step;
                cases += 1;
            }
        }
    }
    eprintln!("{cases} cases; allowed differences: {total:?}");
    let skipped: Vec<_> = never_ran.difference(&ran).collect();
    assert!(skipped.is_empty(), "schemes no shape took: {skipped:?}");
}

#[test]
fn zero_and_constant_blocks() {
    let shape = [4, 64];
    let mut data = vec![0.0f32; 256];
    data[64..128].fill(3.25); // a constant block row
    data[128..192].fill(-1e-3);
    data[200] = 7.0; // one outlier in an otherwise zero block
    for value in QuantValue::ALL {
        for level in [
            QuantLevel::Tensor,
            QuantLevel::block([32]),
            QuantLevel::block([2, 16]),
        ] {
            for param in PARAMS {
                let scheme = QuantScheme::default()
                    .with_value(value)
                    .with_level(level)
                    .with_param(param);
                check(&data, &shape, &scheme);
            }
        }
    }
    // An all-zero tensor has zero scales and codes and restores to zeros.
    let zeros = vec![0.0f32; 96];
    let q = ctx()
        .quantize(&zeros, &[3, 32], &"q4s:block32:f16".parse().unwrap())
        .unwrap();
    assert!(q.scales.iter().all(|&s| s == 0.0) && q.codes.iter().all(|&w| w == 0));
    assert!(ctx().dequantize(&q).unwrap().iter().all(|&x| x == 0.0));
}

#[test]
fn magnitudes_from_1e_minus_30_to_1e30() {
    let shape = [8, 48];
    for exp in (-30..=30).step_by(5) {
        let data = random_data(384, (exp + 100) as u64)
            .iter()
            .map(|x| x * 10f32.powi(exp))
            .collect::<Vec<_>>();
        for value in QuantValue::ALL {
            for param in PARAMS {
                for level in [QuantLevel::Tensor, QuantLevel::block([16])] {
                    let scheme = QuantScheme::default()
                        .with_value(value)
                        .with_param(param)
                        .with_level(level);
                    // F16 scales overflow for large inputs: both sides must say ScaleOverflow.
                    check(&data, &shape, &scheme);
                }
            }
        }
    }
}

#[test]
fn f16_scale_overflow_is_reported() {
    let data = vec![1e30f32; 64];
    let scheme: QuantScheme = "q8s:block32:f16".parse().unwrap();
    let err = ctx().quantize(&data, &[2, 32], &scheme).unwrap_err();
    assert!(
        matches!(err, Error::ScaleOverflow { block: 0, .. }),
        "{err}"
    );
}

#[test]
fn exact_ties_round_half_to_even() {
    // amax 127 with Q8S gives scale exactly 1, so x / scale is exactly the half-integers below.
    let mut data: Vec<f32> = (0..63).map(|i| i as f32 - 31.5).collect();
    data.push(127.0);
    let scheme: QuantScheme = "q8s:block64:f32".parse().unwrap();
    let q = ctx().quantize(&data, &[1, 64], &scheme).unwrap();
    assert_eq!(q.scales, vec![1.0]);
    let back = reference::dequantize(&q).unwrap();
    for (x, y) in data.iter().zip(&back) {
        assert_eq!(*y, x.round_ties_even(), "x = {x}");
    }
    common::assert_agreement(compare(&data, &q), "exact ties");
}

#[test]
fn minifloat_ties_and_range_edges() {
    // With the block maximum at the format's largest magnitude an MX (E8M0) scale is exactly 1,
    // so each value below reaches the encoder unchanged: every code's magnitude, every midpoint
    // between neighbouring codes (a tie, which goes to the even code), the f32 values either side
    // of it, values below half the smallest subnormal and values past the largest magnitude.
    use wgquant::format::minifloat::{E2M1, E4M3, E5M2};
    for (name, fmt) in [("e4m3", E4M3), ("e5m2", E5M2), ("e2m1", E2M1)] {
        let max = fmt.max_finite();
        let tiny = fmt.decode(1);
        let mut values = vec![
            tiny / 2.0,
            tiny / 4.0,
            tiny * 0.49,
            max * 1.0625,
            max * 1.5,
            max * 4.0,
        ];
        for c in 0..fmt.max_code {
            let mid = (fmt.decode(c) + fmt.decode(c + 1)) / 2.0;
            values.extend([
                fmt.decode(c),
                mid,
                f32::from_bits(mid.to_bits() - 1),
                f32::from_bits(mid.to_bits() + 1),
            ]);
        }
        let signed: Vec<f32> = values.iter().flat_map(|&v| [v, -v]).collect();
        let mut data = Vec::new();
        for chunk in signed.chunks(31) {
            data.push(max);
            data.extend_from_slice(chunk);
            data.resize(data.len().next_multiple_of(32), 0.0);
        }
        let scheme: QuantScheme = format!("{name}:block32:e8m0").parse().unwrap();
        check(&data, &[data.len() / 32, 32], &scheme);
    }
}

#[test]
fn nf4_codes_at_the_codebook_midpoints() {
    // amax 1 with F32 scales gives scale 1, so x / scale is x: each midpoint between neighbouring
    // NF4 values and the f32 values either side of it, where the nearest code changes (the GPU
    // searches by halves; the reference scans all 16 codes).
    let mut data = vec![1.0f32];
    for pair in wgquant::format::NF4.windows(2) {
        let mid = 0.5 * (pair[0] + pair[1]);
        let bits = mid.to_bits();
        data.extend([mid, f32::from_bits(bits - 1), f32::from_bits(bits + 1)]);
    }
    data.resize(64, 0.0);
    let scheme: QuantScheme = "nf4:block64:f32".parse().unwrap();
    let q = ctx().quantize(&data, &[1, 64], &scheme).unwrap();
    assert_eq!(q.scales, vec![1.0]);
    let want = reference::quantize(&data, &[1, 64], &scheme).unwrap();
    assert_eq!(q.codes, want.codes);
    check(&data, &[1, 64], &scheme);
}

#[test]
fn packing_example_0x7ffd0280() {
    // Burn's example: Q8F codes [-128, 2, -3, 127] pack to 0x7FFD0280. amax 127.5 gives scale 1,
    // and -127.5 rounds half to even, to -128.
    let data = [-127.5f32, 2.0, -3.0, 127.0];
    let scheme: QuantScheme = "q8f:tensor:f32".parse().unwrap();
    let cpu = reference::quantize(&data, &[4], &scheme).unwrap();
    let gpu = ctx().quantize(&data, &[4], &scheme).unwrap();
    assert_eq!(cpu.codes, vec![0x7FFD_0280]);
    assert_eq!(gpu.codes, vec![0x7FFD_0280]);
}

#[test]
fn subnormal_inputs_count_as_zero() {
    let mut data = vec![1e-39f32; 32];
    data.extend(vec![-2e-40f32; 31]);
    data.push(1.0);
    let scheme: QuantScheme = "q8s:block32:f32".parse().unwrap();
    let q = ctx().quantize(&data, &[2, 32], &scheme).unwrap();
    assert_eq!(q.scales[0], 0.0, "a block of subnormals has amax 0");
    common::assert_agreement(compare(&data, &q), "subnormal inputs");
}

#[test]
fn f16_and_bf16_inputs() {
    let shape = [13, 40];
    let data = random_data(520, 9);
    let halfs: Vec<f16> = data.iter().map(|&x| f16::from_f32(x)).collect();
    let brains: Vec<bf16> = data.iter().map(|&x| bf16::from_f32(x)).collect();
    for text in [
        "q8s:block32:f32",
        "q4f:tensor:bf16",
        "q2s:block2x16:f16",
        "q8f:block5:f32:native",
    ] {
        let scheme: QuantScheme = text.parse().unwrap();
        check_input(&halfs, &shape, &scheme, &format!("{text} f16"));
        check_input(&brains, &shape, &scheme, &format!("{text} bf16"));
    }
}

#[test]
fn device_resident_round_trip() {
    let shape = [16, 96];
    let data = random_data(16 * 96, 3);
    let scheme: QuantScheme = "q4f:block32:bf16".parse().unwrap();
    let x = ctx().upload(&data, &shape).unwrap();
    let gq = ctx().quantize_tensor(&x, &scheme).unwrap();
    let y = ctx().dequantize_tensor(&gq).unwrap();
    let host = ctx().download_quantized(&gq).unwrap();
    assert_eq!(host, reference::quantize(&data, &shape, &scheme).unwrap());
    assert_eq!(
        ctx().download(&y).unwrap(),
        reference::dequantize(&host).unwrap()
    );
}

/// 16-bit input quantized on the GPU equals the reference on its f32 values.
fn check_input<T: wgquant::HostElement>(
    data: &[T],
    shape: &[usize],
    scheme: &QuantScheme,
    what: &str,
) {
    let as_f32: Vec<f32> = data.iter().map(|h| h.to_f32()).collect();
    let q = ctx().quantize(data, shape, scheme).unwrap();
    common::assert_agreement(compare(&as_f32, &q), what);
}

#[test]
fn repeated_call_compiles_nothing_new() {
    // Its own context, so that tests running in parallel do not compile into it.
    let ctx = wgquant::GpuContext::new().unwrap();
    let data = random_data(640, 5);
    let scheme: QuantScheme = "q2f:block3x5:bf16".parse().unwrap();
    let q = ctx.quantize(&data, &[20, 32], &scheme).unwrap();
    ctx.dequantize(&q).unwrap();
    let before = ctx.pipelines_compiled();
    assert!(before > 0, "the first call compiles its kernels");
    let q2 = ctx.quantize(&data, &[20, 32], &scheme).unwrap();
    ctx.dequantize(&q2).unwrap();
    assert_eq!(ctx.pipelines_compiled(), before);
    assert_eq!(q, q2);
}

/// The vec4 dequantize kernel with one and with four code words per invocation, one scale per
/// invocation or one per word, against the reference (through `check`).
#[test]
fn dequantize_vec4_word_counts() {
    use wgquant::gpu::shaders::{dequantize_vec4_applies, dequantize_vec4_shape};
    let mut shapes_taken = std::collections::BTreeSet::new();
    for shape in [[3usize, 24], [2, 96]] {
        let data = random_data(shape[0] * shape[1], 5);
        for level in [
            QuantLevel::Tensor,
            QuantLevel::block([8]),
            QuantLevel::block([32]),
        ] {
            for scheme in schemes(level) {
                if scheme.validate_for_shape(&shape).is_err() {
                    continue;
                }
                let layout = wgquant::Layout::new(&scheme, &shape).unwrap();
                if dequantize_vec4_applies(&layout) {
                    shapes_taken.insert(dequantize_vec4_shape(&layout));
                }
                check(&data, &shape, &scheme);
            }
        }
    }
    let want = [(1, true), (4, false), (4, true)];
    assert_eq!(shapes_taken.into_iter().collect::<Vec<_>>(), want);
}

/// The vec4 one-pass kernel (rows tiled by blocks of whole 16-byte loads) against the reference,
/// for every scheme the one-pass kernels take, on f32, f16 and bf16 data with -0.0, subnormals
/// and exact zeros, and with a NaN and an infinity reported at the reference's index.
#[test]
fn vec4_path_matches_reference() {
    use wgquant::gpu::shaders::{quantize_blocks_applies, quantize_vec4_applies};
    let shape = [6, 128];
    let mut data = random_data(6 * 128, 21);
    data[3] = -0.0;
    data[5] = -1e-40;
    data[64..96].fill(0.0);
    let mut ran = 0;
    for block in [16, 32, 64] {
        for scheme in schemes(QuantLevel::block([block])) {
            if !quantize_blocks_applies(&scheme) {
                continue;
            }
            let layout = wgquant::Layout::new(&scheme, &shape).unwrap();
            for dtype in [
                wgquant::DType::F32,
                wgquant::DType::F16,
                wgquant::DType::BF16,
            ] {
                assert!(quantize_vec4_applies(&layout, dtype), "{scheme} {dtype:?}");
            }
            check(&data, &shape, &scheme);
            let halfs: Vec<f16> = data.iter().map(|&x| f16::from_f32(x)).collect();
            let brains: Vec<bf16> = data.iter().map(|&x| bf16::from_f32(x)).collect();
            check_input(&halfs, &shape, &scheme, &format!("{scheme} f16"));
            check_input(&brains, &shape, &scheme, &format!("{scheme} bf16"));
            for (at, bad) in [(200, f32::NAN), (77, f32::INFINITY)] {
                let mut broken = data.clone();
                broken[at] = bad;
                broken[at + 9] = f32::NAN;
                assert_eq!(
                    ctx().quantize(&broken, &shape, &scheme).unwrap_err(),
                    reference::quantize(&broken, &shape, &scheme).unwrap_err(),
                    "{scheme}"
                );
            }
            ran += 1;
        }
    }
    assert!(ran > 0);
}
