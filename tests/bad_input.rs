//! Bad input never panics: each case returns a typed error (or an empty result), on the GPU
//! path and in the reference alike.

mod common;

use common::ctx;
use wgquant::{reference, Error, QuantScheme};

fn scheme(text: &str) -> QuantScheme {
    text.parse().unwrap()
}

#[test]
fn nan_and_inf_name_the_first_index() {
    for level in ["tensor", "block32", "block2x16", "block7"] {
        let s = scheme(&format!("q8s:{level}:f32"));
        for (index, bad) in [
            (0usize, f32::NAN),
            (77, f32::INFINITY),
            (191, f32::NEG_INFINITY),
        ] {
            let mut data = vec![0.5f32; 192];
            data[index] = bad;
            data[191.min(index + 50)] = f32::NAN; // a later bad value must not be reported first
            let want = Error::NonFinite {
                index: index as u64,
            };
            assert_eq!(
                ctx().quantize(&data, &[6, 32], &s).unwrap_err(),
                want,
                "{level}"
            );
            assert_eq!(reference::quantize(&data, &[6, 32], &s).unwrap_err(), want);
        }
    }
    // Two in one block (one kernel invocation): the earlier one, wherever the later one lies.
    for (first, later) in [(70, 90), (65, 66), (64, 95)] {
        let mut data = vec![0.5f32; 192];
        data[later] = f32::NAN;
        data[first] = f32::INFINITY;
        assert_eq!(
            ctx()
                .quantize(&data, &[6, 32], &scheme("q4s:block32:f16"))
                .unwrap_err(),
            Error::NonFinite {
                index: first as u64
            }
        );
    }
    // The whole-tensor range pass alone (a calibration's observe), over several workgroups'
    // runs (65536 elements each on CPU adapters), in both layouts: the earliest in the tensor,
    // not in the first run to finish.
    for cpu in [true, false] {
        let mut gpu = wgquant::GpuContext::new().unwrap();
        gpu.set_cpu_walks(cpu);
        for (first, later) in [(150_001, 200_000), (70_000, 65_537), (3, 262_143)] {
            let mut data = vec![0.5f32; 262_144];
            data[later.max(first)] = f32::NAN;
            data[first.min(later)] = f32::NEG_INFINITY;
            let mut cal =
                wgquant::Calibrator::new(scheme("q8s:tensor:f32"), wgquant::Calibration::MinMax)
                    .unwrap();
            let x = gpu.upload(&data, &[64, 4096]).unwrap();
            assert_eq!(
                cal.observe(&gpu, &x).unwrap_err(),
                Error::NonFinite {
                    index: first.min(later) as u64
                },
                "cpu walks {cpu}"
            );
        }
    }
    // f16 input with an infinity.
    let mut halfs = vec![half::f16::ONE; 64];
    halfs[40] = half::f16::INFINITY;
    let err = ctx()
        .quantize(&halfs, &[2, 32], &scheme("q4s:block32:f16"))
        .unwrap_err();
    assert_eq!(err, Error::NonFinite { index: 40 });
}

#[test]
fn shape_and_length_disagree() {
    let err = ctx()
        .quantize(&[1.0f32; 10], &[3, 4], &scheme("q8s:tensor:f32"))
        .unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    let err = reference::quantize(&[1.0f32; 10], &[3, 4], &scheme("q8s:tensor:f32")).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    let err = ctx().upload(&[1.0f32; 3], &[usize::MAX, 2]).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
}

#[test]
fn empty_tensors_give_empty_results_without_dispatch() {
    let ctx = wgquant::GpuContext::new().unwrap();
    for (shape, text) in [
        (&[0usize, 32][..], "q4s:block32:f16"),
        (&[5, 0][..], "q8s:tensor:f32"),
        (&[0][..], "q8f:tensor:f32:native"),
    ] {
        let q = ctx.quantize::<f32>(&[], shape, &scheme(text)).unwrap();
        assert!(q.codes.is_empty() && q.scales.is_empty(), "{shape:?}");
        assert_eq!(q, reference::quantize(&[], shape, &scheme(text)).unwrap());
        assert!(ctx.dequantize(&q).unwrap().is_empty());
    }
    assert_eq!(ctx.pipelines_compiled(), 0, "nothing was dispatched");
}

#[test]
fn invalid_schemes_fail_before_any_gpu_work() {
    for text in [
        "q4s:block32:f32:native",
        "q8s:block32:f32:affine",
        "q8s:block32:e8m0",        // MX with an integer value
        "q4f:block32:e8m0:affine", // MX with Affine
        "e2m1:block32:e4m3",       // NVFP4 needs blocks of 16
        "e4m3:block16:e4m3",       // NVFP4 needs E2M1 codes
        "nf4:block64:e8m0",
        "e5m2:block32:f32:affine",
        "q8s:block0:f32",
        "q8s:block2x2x2:f32",
    ] {
        let err = ctx()
            .quantize(&[1.0f32; 64], &[2, 32], &scheme(text))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidScheme { .. }), "{text}: {err}");
    }
}

#[test]
fn block_with_more_dims_than_tensor() {
    let err = ctx()
        .quantize(&[1.0f32; 64], &[64], &scheme("q8s:block2x16:f32"))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidScheme { .. }), "{err}");
}

#[test]
fn mismatched_quantized_parts() {
    let q = reference::quantize(&[1.0f32; 64], &[2, 32], &scheme("q4s:block32:f32")).unwrap();
    let mut broken = q.clone();
    broken.codes.pop();
    assert!(matches!(ctx().dequantize(&broken), Err(Error::Shape(_))));
    broken = q.clone();
    broken.scales.push(1.0);
    assert!(matches!(
        reference::dequantize(&broken)
            .and(Ok(()))
            .and(ctx().dequantize(&broken)),
        Err(Error::Shape(_))
    ));
}

/// A buffer of `size` bytes made outside wgquant, usable only as storage.
fn storage_only(size: u64) -> wgpu::Buffer {
    ctx().device().create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    })
}

#[test]
fn foreign_buffer_checks() {
    let small = storage_only(16);
    let err = wgquant::GpuTensor::from_buffer(small, &[8], wgquant::DType::F32).unwrap_err();
    assert!(matches!(err, Error::Shape(_)));
    // 5 f32 fill 20 bytes, but the kernels read whole 16-byte words.
    let err = wgquant::GpuTensor::from_buffer(storage_only(20), &[5], wgquant::DType::F32);
    assert!(
        matches!(err, Err(Error::Shape(ref m)) if m.contains("16")),
        "{err:?}"
    );
    assert!(wgquant::GpuTensor::from_buffer(storage_only(32), &[5], wgquant::DType::F32).is_ok());
}

#[test]
fn wgpu_validation_errors_become_err() {
    // A buffer without COPY_SRC cannot be read back: wgpu's validation error must come back as
    // Err(Validation), not as a panic from the default handler.
    let t = wgquant::GpuTensor::from_buffer(storage_only(64), &[16], wgquant::DType::F32).unwrap();
    let err = ctx().download(&t).unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err}");
    // The context still works afterwards.
    let q = ctx()
        .quantize(&[1.0f32; 32], &[32], &scheme("q8s:tensor:f32"))
        .unwrap();
    assert_eq!(q.scales, vec![1.0 / 127.0]);
}

#[test]
fn inconsistent_parts_and_hostile_inputs_are_errors_not_panics() {
    // A QuantizedTensor assembled by hand with parts that do not fit.
    let mut q = reference::quantize(&[1.0f32; 64], &[2, 32], &scheme("q4s:block32:f32")).unwrap();
    q.codes.truncate(3);
    assert!(matches!(reference::dequantize(&q), Err(Error::Shape(_))));
    assert!(matches!(reference::codes(&q), Err(Error::Shape(_))));
    // Shapes whose element count overflows.
    let s = scheme("q8s:tensor:f32");
    assert!(matches!(
        reference::quantize(&[], &[usize::MAX, 3], &s),
        Err(Error::Shape(_))
    ));
    assert!(matches!(
        wgquant::GgufTensor::check_shape(&[usize::MAX, 64], wgquant::GgufType::Q8_0),
        Err(Error::Shape(_))
    ));
    // NF4 does not take a mode.
    for text in ["nf4:block64:f16:affine", "nf4:block64:f16:symmetric"] {
        assert!(
            matches!(text.parse::<QuantScheme>(), Err(Error::ParseScheme { .. })),
            "{text}"
        );
    }
    // A GGUF header with deeply nested metadata arrays.
    let mut g = b"GGUF".to_vec();
    g.extend(3u32.to_le_bytes());
    g.extend(0u64.to_le_bytes());
    g.extend(1u64.to_le_bytes());
    g.extend(1u64.to_le_bytes());
    g.push(b'k');
    g.extend(9u32.to_le_bytes());
    for _ in 0..1000 {
        g.extend(9u32.to_le_bytes());
        g.extend(1u64.to_le_bytes());
    }
    let err =
        wgquant::io::gguf::parse_header(&mut &g[..], g.len() as u64, "nested.gguf").unwrap_err();
    assert!(err.to_string().contains("nested"), "{err}");
}

#[test]
fn static_calibration_rejects_non_finite_activations() {
    let mut cal =
        wgquant::Calibrator::new(scheme("q8s:tensor:f32"), wgquant::Calibration::MinMax).unwrap();
    cal.observe(ctx(), &ctx().upload(&[1.0f32; 64], &[2, 32]).unwrap())
        .unwrap();
    let mut x = vec![0.5f32; 64];
    x[9] = f32::NAN;
    let err = cal
        .quantize(ctx(), &ctx().upload(&x, &[2, 32]).unwrap())
        .unwrap_err();
    assert_eq!(err, Error::NonFinite { index: 9 });
}
