//! Scheme text round trips, builders and validation of combinations (NUMERICS section 1).

use wgquant::{
    Error, Format, GgufType, QuantLevel, QuantMode, QuantParam, QuantScheme, QuantStore, QuantValue,
};

#[test]
fn builder_matches_text() {
    let s = QuantScheme::default()
        .with_level(QuantLevel::block([32]))
        .with_value(QuantValue::Q4S)
        .with_param(QuantParam::F16);
    assert_eq!(s.to_string(), "q4s:block32:f16");
    assert_eq!("q4s:block32:f16".parse::<QuantScheme>().unwrap(), s);
    let d = QuantScheme::default();
    assert_eq!(
        (d.mode, d.level, d.value, d.store, d.param),
        (
            QuantMode::Symmetric,
            QuantLevel::Tensor,
            QuantValue::Q8S,
            QuantStore::U32,
            QuantParam::F32
        )
    );
}

#[test]
fn text_round_trips() {
    for text in [
        "q8f:tensor:f32",
        "q4s:block32:f16",
        "q8s:block2x16:bf16:native",
        "q2f:block1x4096:f32",
        "q4f:block64:f32:affine",
        "nf4:block64:f32",
        "e4m3:tensor:f32",
        "e2m1:block32:e8m0",
        "e2m1:block16:e4m3",
        "q8_0",
        "q4_1",
        "mxfp4",
    ] {
        let s: Format = text.parse().unwrap();
        assert_eq!(s.to_string(), text);
        assert_eq!(s.to_string().parse::<Format>().unwrap(), s);
    }
    // Options in any order, upper case, explicit defaults.
    let s: QuantScheme = "Q8S:F16:NATIVE:BLOCK32:symmetric:u32".parse().unwrap();
    assert_eq!(s.to_string(), "q8s:block32:f16");
}

#[test]
fn bad_text_is_a_parse_error() {
    for text in [
        "",
        "q9s",
        "q4s:block",
        "q4s:blockx",
        "q4s:block3x",
        "q4s:f64",
        "q8_0:block32",
        "q4s:tensor:wat",
    ] {
        assert!(
            matches!(text.parse::<QuantScheme>(), Err(Error::ParseScheme { .. })),
            "{text}"
        );
    }
}

fn invalid(text: &str) -> bool {
    matches!(
        text.parse::<QuantScheme>().unwrap().validate(),
        Err(Error::InvalidScheme { .. })
    )
}

#[test]
fn every_invalid_combination_is_rejected() {
    // Native needs an 8-bit value.
    for v in ["q4s", "q4f", "q2s", "q2f", "e2m1"] {
        assert!(invalid(&format!("{v}:block32:f32:native")), "{v} native");
    }
    // Affine needs a full-range integer value.
    for v in ["q8s", "q4s", "q2s", "e4m3", "e5m2", "e2m1"] {
        assert!(invalid(&format!("{v}:block32:f32:affine")), "{v} affine");
    }
    // E8M0 goes with float values only.
    for v in ["q8s", "q4s", "q2s", "q8f", "q4f", "q2f"] {
        assert!(invalid(&format!("{v}:block32:e8m0")), "{v} e8m0");
    }
    // E4M3 scales are NVFP4 only.
    assert!(invalid("e2m1:block32:e4m3"));
    assert!(invalid("e4m3:block16:e4m3"));
    assert!(invalid("q4s:block16:e4m3"));
    assert!(invalid("e2m1:tensor:e4m3"));
    // Blocks of size 0 or with more than 2 dims.
    assert!(invalid("q8s:block0:f32"));
    assert!(invalid("q8s:block2x0:f32"));
    assert!(invalid("q8s:block2x2x2:f32"));
    // NF4 takes float absmax scales.
    assert!(invalid("nf4:block64:e8m0"));
    // Valid ones pass.
    for ok in [
        "q8s:block2x16:bf16:native",
        "q4f:block32:f16:affine",
        "e2m1:block16:e4m3",
        "e4m3:block32:e8m0",
    ] {
        assert_eq!(
            ok.parse::<QuantScheme>().unwrap().validate(),
            Ok(()),
            "{ok}"
        );
    }
}

#[test]
fn block_with_more_dims_than_tensor() {
    let s: QuantScheme = "q8s:block2x16:f32".parse().unwrap();
    assert!(matches!(
        s.validate_for_shape(&[64]),
        Err(Error::InvalidScheme { .. })
    ));
    assert!(s.validate_for_shape(&[2, 64]).is_ok());
}

#[test]
fn gguf_types_are_formats_not_schemes() {
    for ty in GgufType::ALL {
        let name = ty.name();
        assert_eq!(name.parse::<Format>().unwrap(), Format::Gguf(ty));
        assert_eq!(
            name.to_ascii_lowercase().parse::<Format>().unwrap(),
            Format::Gguf(ty)
        );
        assert_eq!(Format::Gguf(ty).to_string(), name.to_ascii_lowercase());
        let r = name.parse::<QuantScheme>();
        assert!(matches!(r, Err(Error::ParseScheme { .. })), "{r:?}");
    }
    let s: Format = "q4s:block32:f16".parse().unwrap();
    assert_eq!(s, Format::Scheme("q4s:block32:f16".parse().unwrap()));
    assert_eq!(s.to_string(), "q4s:block32:f16");
}
