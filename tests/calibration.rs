//! Calibration methods, static activation calibration, dynamic activation quantization and fake
//! quantization: GPU against the CPU reference, and the SQNR gains of Mse.

mod common;

use common::ctx;
use wgquant::agreement::compare_calibrated;
use wgquant::reference::calibrate::{fake_quantize, quantize_calibrated};
use wgquant::reference::matmul::integer_linear;
use wgquant::{reference, synth, Calibration, Calibrator, Error, QuantScheme, QuantizedTensor};

/// GPU result equals the reference: scales bit for bit, and codes equal the reference's encoding
/// with the GPU's scales.
fn assert_agrees(data: &[f32], gpu: &QuantizedTensor, want: &QuantizedTensor, what: &str) {
    common::assert_agreement(compare_calibrated(data, gpu, want), what);
}

#[test]
fn calibrated_gpu_matches_reference() {
    let shapes: [&[usize]; 3] = [&[37, 64], &[8, 96], &[5, 3, 40]];
    let schemes = [
        "q4s:block32:f32",
        "q8f:block16:f16",
        "q4f:block32:bf16:affine",
        "q2f:block8:f32:affine",
        "e2m1:block32:f32",
        "e4m3:block16:bf16",
        "q8s:block2x16:f32",
        "nf4:block64:f16",
        "e2m1:block32:e8m0",
        "q4s:tensor:f32",
        "e4m3:tensor:f16",
    ];
    let (mut cases, mut supported) = (0, 0);
    for (i, shape) in shapes.iter().enumerate() {
        let n: usize = shape.iter().product();
        let data = if i == 1 {
            synth::student_t(n, 3, 7)
        } else {
            synth::normal(n, 0.5, i as u64)
        };
        for text in schemes {
            let scheme: QuantScheme = text.parse().unwrap();
            for c in [
                Calibration::Percentile(99.0),
                Calibration::Percentile(90.0),
                Calibration::Mse,
            ] {
                // What the library says it takes: the method for the scheme, the scheme for the
                // shape.
                let layout = wgquant::Layout::new(&scheme, shape);
                supported += (c.check(&scheme).is_ok() && layout.is_ok()) as usize;
                let want = quantize_calibrated(&data, shape, &scheme, c);
                let gpu = ctx().quantize_calibrated(&data, shape, &scheme, c);
                match want {
                    Err(e) => assert_eq!(gpu.unwrap_err(), e, "{text} {c:?}"),
                    Ok(want) => {
                        assert_agrees(
                            &data,
                            &gpu.unwrap(),
                            &want,
                            &format!("{text} {c:?} {shape:?}"),
                        );
                        cases += 1;
                    }
                }
            }
        }
    }
    eprintln!("{cases} calibrated cases agree");
    assert_eq!(cases, supported, "every supported case ran");
}

#[test]
fn mse_beats_minmax() {
    // The README's numbers: cargo test --release --test calibration mse_beats -- --nocapture
    let scheme: QuantScheme = "q4s:block32:f32".parse().unwrap();
    let mut gains = Vec::new();
    for (name, data) in [
        ("N(0, 1)", synth::normal(1 << 20, 1.0, 1)),
        ("Student-t(3)", synth::student_t(1 << 20, 3, 1)),
    ] {
        let db = |c| {
            let q = ctx()
                .quantize_calibrated(&data, &[1024, 1024], &scheme, c)
                .unwrap();
            wgquant::metrics::sqnr_db(&data, &ctx().dequantize(&q).unwrap())
        };
        let (minmax, mse) = (db(Calibration::MinMax), db(Calibration::Mse));
        eprintln!(
            "Q4S block 32 on {name}: MinMax {minmax:.2} dB, Mse {mse:.2} dB (+{:.2})",
            mse - minmax
        );
        gains.push(mse - minmax);
    }
    assert!(
        gains[0] >= 0.5,
        "Mse gains only {:.2} dB on N(0, 1)",
        gains[0]
    );
    assert!(
        gains[1] > 0.2,
        "Mse gains only {:.2} dB on Student-t(3)",
        gains[1]
    );
}

#[test]
fn percentile_clips_outliers_at_tensor_level() {
    let mut data = synth::normal(64 * 64, 1.0, 3);
    data[100] = 80.0; // one outlier
    let scheme: QuantScheme = "q8s:tensor:f32".parse().unwrap();
    let minmax = ctx().quantize(&data, &[64, 64], &scheme).unwrap();
    let pct = ctx()
        .quantize_calibrated(&data, &[64, 64], &scheme, Calibration::Percentile(99.9))
        .unwrap();
    assert!(pct.scales[0] < minmax.scales[0] / 10.0);
    assert_agrees(
        &data,
        &pct,
        &quantize_calibrated(&data, &[64, 64], &scheme, Calibration::Percentile(99.9)).unwrap(),
        "tensor percentile",
    );
}

#[test]
fn static_calibration_matches_its_reference() {
    for (text, method) in [
        ("q8s:tensor:f32", Calibration::MinMax),
        ("q8s:tensor:f32", Calibration::Percentile(99.5)),
        ("q4f:tensor:f16:affine", Calibration::MinMax),
        ("e4m3:tensor:f32", Calibration::Percentile(99.0)),
    ] {
        let scheme: QuantScheme = text.parse().unwrap();
        let mut gpu = Calibrator::new(scheme, method).unwrap();
        // Growing ranges exercise the histogram's range doubling.
        let batches: Vec<Vec<f32>> = [0.5f64, 1.0, 3.0, 2.0]
            .into_iter()
            .enumerate()
            .map(|(i, scale)| synth::normal(16 * 128, scale, i as u64))
            .collect();
        for batch in &batches {
            gpu.observe(ctx(), &ctx().upload(batch, &[16, 128]).unwrap())
                .unwrap();
        }
        assert_eq!(
            gpu.params(ctx()).unwrap(),
            reference::calibrate::static_calibration(&batches, &scheme, method).unwrap(),
            "{text} {method:?}"
        );
        // New activations: fixed parameters, clipped values counted.
        let new = synth::normal(16 * 128, 4.0, 9);
        let (q, clipped) = gpu
            .quantize(ctx(), &ctx().upload(&new, &[16, 128]).unwrap())
            .unwrap();
        let q = ctx().download_quantized(&q).unwrap();
        let layout = q.layout().unwrap();
        let (sp, zero) = gpu.params(ctx()).unwrap();
        let zeros: Vec<u8> = zero.into_iter().collect();
        let want =
            reference::encode_with_params(&new, &layout, &scheme, vec![sp], zeros.clone(), None)
                .unwrap();
        assert_eq!(q.codes, want.codes, "{text} {method:?}");
        let expect_clipped = new
            .iter()
            .filter(|&&x| {
                reference::calibrate::clipped(
                    &scheme,
                    reference::flush_subnormal(x),
                    sp,
                    zeros.first().copied().unwrap_or(0),
                    0.0,
                )
            })
            .count() as u64;
        assert_eq!(clipped, expect_clipped, "{text} {method:?}");
        if method != Calibration::MinMax {
            assert!(
                clipped > 0,
                "{text}: a 4-sigma batch should clip against a 99th-percentile scale"
            );
        }
    }
    // The first batch's amax is a power of two and the percentile falls on it: after the range
    // doubles, those values must sit in the bin the final range gives them.
    let mut outlier = vec![0.1f32; 2048];
    outlier[7] = 3.0;
    let batches = [vec![1.0f32; 2048], outlier];
    let (scheme, method) = (
        "q8s:tensor:f32".parse().unwrap(),
        Calibration::Percentile(99.0),
    );
    let mut gpu = Calibrator::new(scheme, method).unwrap();
    for batch in &batches {
        gpu.observe(ctx(), &ctx().upload(batch, &[2048]).unwrap())
            .unwrap();
    }
    assert_eq!(
        gpu.params(ctx()).unwrap(),
        reference::calibrate::static_calibration(&batches, &scheme, method).unwrap()
    );
    assert!(matches!(
        Calibrator::new("q8s:block32:f32".parse().unwrap(), Calibration::MinMax),
        Err(Error::Unsupported { .. })
    ));
    let empty = Calibrator::new("q8s:tensor:f32".parse().unwrap(), Calibration::MinMax).unwrap();
    assert!(matches!(empty.params(ctx()), Err(Error::Usage(_))));
}

#[test]
fn fake_quantization_equals_quantize_dequantize_and_mask_reference() {
    let data = synth::student_t(24 * 64, 3, 5);
    for text in [
        "q4s:block32:f32",
        "q8f:block16:bf16:affine",
        "e2m1:block32:e8m0",
        "nf4:block64:f16",
        "e2m1:block16:e4m3",
        "q8s:tensor:f32",
    ] {
        let scheme: QuantScheme = text.parse().unwrap();
        for c in [
            Calibration::MinMax,
            Calibration::Mse,
            Calibration::Percentile(95.0),
        ] {
            if c.check(&scheme).is_err() {
                continue;
            }
            let x = ctx().upload(&data, &[24, 64]).unwrap();
            let (y, mask) = ctx().fake_quantize(&x, &scheme, c).unwrap();
            let (y, mask) = (ctx().download(&y).unwrap(), ctx().download(&mask).unwrap());
            // The reference fake-quantizes with the GPU's own scales, which must agree with
            // the reference's (on lavapipe they are the same).
            let what = format!("{text} {c:?}");
            let q = quantize_calibrated(&data, &[24, 64], &scheme, c).unwrap();
            let gpu_q = ctx()
                .quantize_calibrated(&data, &[24, 64], &scheme, c)
                .unwrap();
            assert_agrees(&data, &gpu_q, &q, &what);
            let (want_y, want_mask) = fake_quantize(&data, &gpu_q).unwrap();
            common::assert_same_arithmetic(&y, &want_y, common::Moved::Ulp(1), &what);
            assert_eq!(mask, want_mask, "{what}: mask");
            if c != Calibration::MinMax && text.starts_with("q4s") {
                assert!(
                    mask.contains(&0.0),
                    "{text} {c:?}: clipping calibration clips something"
                );
            }
        }
    }
}

#[test]
fn dynamic_activation_quantization_feeds_the_integer_path() {
    let (m, n, k) = (6, 24, 96);
    let x = synth::normal(m * k, 1.0, 1);
    let w = common::quantized(&synth::normal(n * k, 0.1, 2), &[n, k], "q4s:block32:f16");
    let wq = ctx().upload_quantized(&w).unwrap();
    let xt = ctx().upload(&x, &[m, k]).unwrap();
    for block in [None, Some(32)] {
        let xq = ctx().quantize_activations(&xt, block).unwrap();
        let host = ctx().download_quantized(&xq).unwrap();
        let scheme =
            QuantScheme::default().with_level(wgquant::QuantLevel::block([1, block.unwrap_or(k)]));
        assert_eq!((host.scheme, host.shape.as_slice()), (scheme, &[m, k][..]));
        let what = format!("block {block:?}");
        common::assert_agreement(wgquant::agreement::compare(&x, &host), &what);
        let y = ctx()
            .download(&ctx().linear_quantized(&xq, &wq).unwrap())
            .unwrap();
        let want = integer_linear(&host, &w).unwrap();
        common::assert_same_arithmetic(&y, &want, common::Moved::Relative(1e-6), &what);
    }
    let bad = ctx().quantize_activations(&xt, Some(16)).unwrap();
    assert!(matches!(
        ctx().linear_quantized(&bad, &wq),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn unsupported_calibrations_are_typed() {
    let data = vec![1.0f32; 2 * 512];
    let cases = [
        ("q4s:tensor:f32", Calibration::Mse),
        ("q4s:block512:f32", Calibration::Mse),
        ("e2m1:block32:e8m0", Calibration::Mse),
        ("nf4:block64:f32", Calibration::Mse),
        ("q4f:block32:f32:affine", Calibration::Percentile(99.0)),
        ("e2m1:block16:e4m3", Calibration::Percentile(99.0)),
    ];
    for (text, c) in cases {
        let err = ctx()
            .quantize_calibrated(&data, &[2, 512], &text.parse().unwrap(), c)
            .unwrap_err();
        assert!(
            matches!(err, Error::Unsupported { .. }),
            "{text} {c:?}: {err}"
        );
    }
    for p in [0.0, 100.5, f32::NAN] {
        let err = ctx()
            .quantize_calibrated(
                &data,
                &[2, 512],
                &"q8s:block32:f32".parse().unwrap(),
                Calibration::Percentile(p),
            )
            .unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{p}: {err}");
    }
}

#[test]
fn calibrated_comparison_allows_one_step_and_nothing_more() {
    let data = synth::normal(8 * 64, 1.0, 3);
    let scheme: QuantScheme = "q4s:block32:f16".parse().unwrap();
    let want = quantize_calibrated(&data, &[8, 64], &scheme, Calibration::Mse).unwrap();
    let layout = want.layout().unwrap();
    let with_scale = |s: f32| {
        let mut scales = want.scales.clone();
        scales[3] = s;
        reference::encode_with_params(&data, &layout, &scheme, scales, Vec::new(), None).unwrap()
    };
    // The next F16 value up: what a raw scale 2 ulp away can convert to.
    let next = half::f16::from_bits(half::f16::from_f32(want.scales[3]).to_bits() + 1).to_f32();
    let counts = compare_calibrated(&data, &with_scale(next), &want).unwrap();
    assert_eq!(counts.scale_ulp, 1);
    assert!(compare_calibrated(&data, &with_scale(want.scales[3] * 1.1), &want).is_err());
    let mut wrong_code = want.clone();
    wrong_code.codes[5] ^= 0x40; // code 1 of the word, four steps off
    assert!(compare_calibrated(&data, &wrong_code, &want).is_err());
}

#[test]
fn nf4_codes_of_values_far_beyond_a_percentile_scale() {
    // A Percentile scale below amax leaves outliers at |x / sp| far above 1, where f32 rounding
    // ties their distances to the top codes; NUMERICS section 5 clamps x / sp to [-1, 1].
    let mut data = synth::normal(4 * 64, 1.0, 9);
    data[5] = 3e7;
    data[70] = -3e7;
    data[140] = 1e9;
    let scheme: QuantScheme = "nf4:block64:f32".parse().unwrap();
    let c = Calibration::Percentile(50.0);
    let want = quantize_calibrated(&data, &[4, 64], &scheme, c).unwrap();
    let gpu = ctx()
        .quantize_calibrated(&data, &[4, 64], &scheme, c)
        .unwrap();
    assert_agrees(&data, &gpu, &want, "NF4 outliers");
    let codes = reference::codes(&want).unwrap();
    assert_eq!((codes[5], codes[70], codes[140]), (15, 0, 15));
}
