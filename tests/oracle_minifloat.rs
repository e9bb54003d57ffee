//! The CPU reference's minifloat encodings equal ml_dtypes' (clamped to +-max first) on every
//! finite bf16 bit pattern and on a large random f32 set with ties, subnormals and overflow.

mod common;

use wgquant::reference::minifloat::{Minifloat, E2M1, E4M3, E5M2};
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
