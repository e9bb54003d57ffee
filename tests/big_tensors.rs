//! Tensors past one storage binding (128 MiB on lavapipe) or 65,535 workgroups are processed in
//! chunks with output identical to the one-shot path and to the reference.

mod common;

use common::ctx;
use wgquant::agreement::compare;
use wgquant::{reference, synth, GpuContext, QuantScheme};

#[test]
fn chunked_equals_one_shot_on_small_tensors() {
    // A tiny binding window forces many chunks, exercising every chunk boundary rule.
    let mut small = GpuContext::new().unwrap();
    small.set_chunk_bytes(4096);
    let cases: [(&[usize], &str); 9] = [
        (&[97, 53], "q8s:tensor:f32"),
        (&[60, 64], "q4f:tensor:f16:affine"),
        (&[97, 53], "q4s:block32:f16"),
        (&[5, 37, 20], "q8f:block3x5:bf16"),
        (&[5, 37, 20], "q2s:block2x16:f32"),
        (&[61, 7], "q8s:block7:f32:native"),
        (&[3, 13, 9], "q8f:block2x4:f16:native"),
        (&[200, 3], "q8f:tensor:f32:native"),
        (&[40, 64], "q4f:block1x64:f32"),
    ];
    for (shape, text) in cases {
        let scheme: QuantScheme = text.parse().unwrap();
        let n: usize = shape.iter().product();
        let data = synth::normal(n, 1.0, n as u64);
        let chunked = small.quantize(&data, shape, &scheme).unwrap();
        let one_shot = ctx().quantize(&data, shape, &scheme).unwrap();
        assert_eq!(chunked, one_shot, "{text} on {shape:?}");
        common::assert_agreement(compare(&data, &chunked), &format!("{text} on {shape:?}"));
        assert_eq!(
            small.dequantize(&chunked).unwrap(),
            reference::dequantize(&chunked).unwrap()
        );
    }
    // Non-finite values are still found with the right index across chunks, by the scalar and
    // the vec4 first pass of the whole-tensor reduction (rows of 53 and of 48 elements).
    for shape in [[97, 53], [107, 48]] {
        let mut data = synth::normal(shape[0] * shape[1], 1.0, 1);
        data[4000] = f32::NAN;
        data[4001] = f32::INFINITY;
        let err = small
            .quantize(&data, &shape, &"q8s:tensor:f32".parse().unwrap())
            .unwrap_err();
        assert_eq!(err, wgquant::Error::NonFinite { index: 4000 }, "{shape:?}");
    }
}

#[test]
fn tensor_above_128_mib_matches_reference() {
    // 4111 x 8200 f32 = 134.8 MB, above lavapipe's 128 MiB binding limit; Q4S block 32 needs
    // 1.05 M reduce workgroups and 65,841 quantize workgroups, past 65,535 in one dimension.
    let shape = [4111, 8200];
    let data = synth::normal(shape[0] * shape[1], 1.0, 42);
    eprintln!(
        "input {} bytes, binding limit {}",
        data.len() * 4,
        ctx().device().limits().max_storage_buffer_binding_size
    );
    for text in ["q4s:block32:f16", "q8s:tensor:f32"] {
        let scheme: QuantScheme = text.parse().unwrap();
        let q = ctx().quantize(&data, &shape, &scheme).unwrap();
        common::assert_agreement(compare(&data, &q), text);
        let back = ctx().dequantize(&q).unwrap();
        assert!(
            back == reference::dequantize(&q).unwrap(),
            "{text}: dequantized values differ"
        );
    }
}
