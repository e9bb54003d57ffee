//! The CPU reference's minifloat encodings equal ml_dtypes' (clamped to +-max first) on every
//! finite bf16 bit pattern and on a large random f32 set with ties, subnormals and overflow.

mod common;

use wgquant::format::minifloat::{Minifloat, E2M1, E4M3, E5M2};
use wgquant::synth::Rng;

/// Exact midpoints between neighbouring magnitudes, and values one f32 ulp either side.
fn ties(f: &Minifloat) -> Vec<f32> {
    let mut out = Vec::new();
    for code in 0..f.max_code {
        let (a, b) = (f.decode(code), f.decode(code + 1));
        let mid = (a as f64 + b as f64) / 2.0;
        let m = mid as f32;
        for v in [
            m,
            f32::from_bits(m.to_bits() + 1),
            f32::from_bits(m.to_bits().saturating_sub(1)),
        ] {
            out.extend([v, -v]);
        }
    }
    out
}

fn inputs() -> Vec<f32> {
    let mut x: Vec<f32> = (0..=u16::MAX)
        .map(|b| f32::from_bits((b as u32) << 16))
        .filter(|v| v.is_finite())
        .collect();
    for f in [E4M3, E5M2, E2M1] {
        x.extend(ties(&f));
    }
    let mut rng = Rng::new(77);
    for _ in 0..200_000 {
        let kind = rng.below(5);
        let mag = match kind {
            0 => rng.uniform() * 8.0,              // E2M1's range
            1 => rng.uniform() * 600.0,            // E4M3's, with overflow
            2 => rng.uniform() * 70000.0,          // E5M2's, with overflow
            3 => 2f64.powf(-rng.uniform() * 30.0), // subnormals of every format
            _ => (rng.normal() * 3.0).exp(),       // log-normal spread
        };
        let v = mag as f32;
        x.push(if rng.below(2) == 0 { v } else { -v });
    }
    x.extend([
        0.0,
        -0.0,
        f32::MIN_POSITIVE,
        -1e-45,
        1e-45,
        f32::MAX,
        f32::MIN,
    ]);
    x
}

#[test]
fn minifloat_encodings_match_ml_dtypes() {
    let dir = common::temp_dir("minifloat");
    let (input, codes, decoded) = (
        dir.join("in.f32"),
        dir.join("codes.u8"),
        dir.join("decoded.f32"),
    );
    let x = inputs();
    std::fs::write(&input, bytemuck::cast_slice(&x)).unwrap();
    if common::run_oracle(
        "minifloat.py",
        &[input.as_os_str(), codes.as_os_str(), decoded.as_os_str()],
    )
    .is_none()
    {
        return;
    }
    let codes = std::fs::read(&codes).unwrap();
    let decoded: Vec<f32> = bytemuck::pod_collect_to_vec(&std::fs::read(&decoded).unwrap());
    assert_eq!(codes.len(), 3 * x.len());
    let mut table_at = 0;
    for (i, (name, f)) in [("e4m3", E4M3), ("e5m2", E5M2), ("e2m1", E2M1)]
        .into_iter()
        .enumerate()
    {
        let n = 1usize << f.bits();
        for (code, &want) in decoded[table_at..table_at + n].iter().enumerate() {
            if want.is_finite() {
                assert_eq!(
                    f.decode(code as u32).to_bits(),
                    want.to_bits(),
                    "{name} decode {code:#x}"
                );
            }
        }
        table_at += n;
        let theirs = &codes[i * x.len()..(i + 1) * x.len()];
        let mut checked = 0;
        for (v, &want) in x.iter().zip(theirs) {
            assert_eq!(
                f.encode(*v),
                want as u32,
                "{name}: encode({v:e}) (bits {:#010x})",
                v.to_bits()
            );
            checked += 1;
        }
        eprintln!("{name}: {checked} encodings equal ml_dtypes'");
    }
}

/// Rows of 64 (two blocks of 32, four of 16) mixing N(0, 1) values with -0.0, +0.0 and
/// subnormals of both signs, plus blocks that hold nothing but (signed) zeros and subnormals.
fn signed_zero_rows() -> (Vec<f32>, usize) {
    const COLS: usize = 64;
    let specials = [-0.0f32, 0.0, -1e-40, 1e-40, -f32::from_bits(1), -1.1e-38];
    let mut rng = Rng::new(5);
    let mut x = Vec::new();
    for row in 0..48 {
        for col in 0..COLS {
            let v = match (row % 4, rng.below(4)) {
                // an all-special row: every block has amax 0
                (3, _) => specials[rng.below(specials.len())],
                (_, 0) => specials[rng.below(specials.len())],
                _ => (rng.normal() * [1.0, 1e-3, 300.0][row % 3]) as f32,
            };
            x.push(if row == 0 && col < 6 {
                specials[col]
            } else {
                v
            });
        }
    }
    (x, COLS)
}

/// The whole quantize path (scales, then codes), in the reference and on the GPU, equals an
/// independent numpy + ml_dtypes quantizer on inputs with -0.0 and negative subnormals, whose
/// minifloat codes keep their sign bit (NUMERICS sections 3 and 8).
#[test]
fn minifloat_quantize_path_matches_ml_dtypes() {
    let dir = common::temp_dir("minifloat-quantize");
    let (input, out) = (dir.join("in.f32"), dir.join("out.bin"));
    let (x, cols) = signed_zero_rows();
    let shape = [x.len() / cols, cols];
    std::fs::write(&input, bytemuck::cast_slice(&x)).unwrap();
    let schemes = [
        "e4m3:block32:f32",
        "e5m2:block32:f16",
        "e2m1:block32:bf16",
        "e4m3:block32:e8m0",
        "e5m2:block32:e8m0",
        "e2m1:block32:e8m0",
        "e2m1:block16:e4m3",
    ];
    let mut args = vec![input.as_os_str(), out.as_os_str()];
    args.extend(schemes.iter().map(std::ffi::OsStr::new));
    if common::run_oracle("minifloat_quantize.py", &args).is_none() {
        return;
    }
    let bytes = std::fs::read(&out).unwrap();
    let mut at = 0;
    let mut take = |n: usize| {
        let s = &bytes[at..at + n];
        at += n;
        s.to_vec()
    };
    let mut signed_zeros = 0;
    for text in schemes {
        let scheme: wgquant::QuantScheme = text.parse().unwrap();
        let want_codes = take(x.len());
        let blocks = x.len() / scheme_block(&scheme);
        let want_scales: Vec<f32> = bytemuck::pod_collect_to_vec(&take(4 * blocks));
        let want_global: Option<f32> = (scheme.param == wgquant::QuantParam::E4M3)
            .then(|| f32::from_le_bytes(take(4).try_into().unwrap()));
        let reference = wgquant::reference::quantize(&x, &shape, &scheme).unwrap();
        let gpu = common::ctx().quantize(&x, &shape, &scheme).unwrap();
        for (who, q) in [("reference", &reference), ("GPU", &gpu)] {
            assert_eq!(q.global_scale, want_global, "{text} {who}: global scale");
            for (b, (s, w)) in q.scales.iter().zip(&want_scales).enumerate() {
                assert_eq!(s.to_bits(), w.to_bits(), "{text} {who}: scale of block {b}");
            }
            let codes = wgquant::reference::codes(q).unwrap();
            for (i, (&c, &w)) in codes.iter().zip(&want_codes).enumerate() {
                assert_eq!(
                    c,
                    w as u32,
                    "{text} {who}: element {i} = {:e} (bits {:#010x})",
                    x[i],
                    x[i].to_bits()
                );
            }
        }
        let sign = 1u32 << (scheme.value.bits() - 1);
        let got = wgquant::reference::codes(&gpu)
            .unwrap()
            .iter()
            .filter(|&&c| c == sign)
            .count();
        // Every -0.0 and negative subnormal in a block with a normal value has a scale, so its
        // x / sp is -0 and its code must be -0 (other tiny negatives may round there too).
        let block = scheme_block(&scheme);
        let must: usize = x
            .chunks(block)
            .filter(|b| b.iter().any(|v| v.abs() >= f32::MIN_POSITIVE))
            .map(|b| {
                b.iter()
                    .filter(|v| v.is_sign_negative() && v.abs() < f32::MIN_POSITIVE)
                    .count()
            })
            .sum();
        assert!(
            must > 0 && got >= must,
            "{text}: {got} codes of -0, {must} inputs need one"
        );
        signed_zeros += got;
    }
    assert_eq!(
        at,
        bytes.len(),
        "the oracle wrote more than the schemes asked for"
    );
    eprintln!(
        "{} schemes x {} elements equal numpy + ml_dtypes ({signed_zeros} codes of -0)",
        schemes.len(),
        x.len()
    );
}

fn scheme_block(scheme: &wgquant::QuantScheme) -> usize {
    match scheme.level {
        wgquant::QuantLevel::Block(b) => b.dims().iter().product(),
        wgquant::QuantLevel::Tensor => unreachable!("the oracle's schemes are 1-D blocks"),
    }
}
