//! Block scales (NUMERICS sections 2-5): the exact scale of a block, its conversion to the stored
//! param type, and the param's bytes.

use half::{bf16, f16};

use crate::error::{Error, Result};
use crate::format::minifloat::E4M3;
use crate::scheme::{QuantMode, QuantParam, QuantScheme, QuantValue};

/// Rounds a scale `s >= 0` toward +infinity to F32, F16 or BF16 (so `|x / sp|` never exceeds
/// qmax), returned as the f32 holding that value exactly; `None` when it overflows the type.
pub fn to_param(s: f32, param: QuantParam) -> Option<f32> {
    let sp = match param {
        QuantParam::F16 => round_up(
            s,
            |x| f16::from_f32(x).to_bits(),
            |b| f16::from_bits(b).to_f32(),
        ),
        QuantParam::BF16 => round_up(
            s,
            |x| bf16::from_f32(x).to_bits(),
            |b| bf16::from_bits(b).to_f32(),
        ),
        _ => s,
    };
    sp.is_finite().then_some(sp)
}

/// The 16-bit value nearest `s`, or the next one up when the nearest lies below `s` (`s >= 0`,
/// so the next value is the next bit pattern).
fn round_up(s: f32, nearest: impl Fn(f32) -> u16, value: impl Fn(u16) -> f32) -> f32 {
    let bits = nearest(s);
    if value(bits) < s {
        value(bits + 1)
    } else {
        value(bits)
    }
}

/// Number of unsigned code steps of an Affine value, `2^bits - 1`.
pub fn affine_levels(value: QuantValue) -> f32 {
    ((1u32 << value.bits()) - 1) as f32
}

/// The scale of a block with minimum `lo` and maximum `hi` before conversion to the param type:
/// `amax / qmax`, `(hi - lo) / (2^bits - 1)`, `amax` (NF4, E8M0), `(amax / 6) / global` (NVFP4).
pub fn raw_scale(scheme: &QuantScheme, lo: f32, hi: f32, global: f32) -> f32 {
    let amax = (-lo).max(hi).max(0.0);
    match (scheme.mode, scheme.param) {
        (QuantMode::Affine, _) => (hi.max(0.0) - lo.min(0.0)) / affine_levels(scheme.value),
        (QuantMode::Lookup(_), _) | (_, QuantParam::E8M0) => amax,
        (_, QuantParam::E4M3) => (amax / 6.0) / global,
        _ => match scheme.value.minifloat() {
            Some(f) => amax / f.max_finite(),
            None => {
                let (a, b) = scheme.value.int_range().unwrap_or((-1, 1));
                amax / ((b - a) as f32 / 2.0)
            }
        },
    }
}

/// Converts a raw scale to the stored one, as an exact f32; `None` on overflow.
/// E8M0: `2^clamp(floor(log2(amax)) - emax, -127, 127)`, byte 0 (2^-127) when amax is 0.
/// E4M3 (NVFP4): the E4M3 value nearest `s`, clamped to [2^-9, 448]; 0 when the global scale is 0.
pub fn convert(scheme: &QuantScheme, s: f32, global: f32) -> Option<f32> {
    match scheme.param {
        QuantParam::E8M0 => {
            let emax = scheme.value.minifloat()?.emax();
            let k = if s == 0.0 {
                -127
            } else {
                (((s.to_bits() >> 23) & 0xff) as i32 - 127 - emax).clamp(-127, 127)
            };
            Some(2f32.powi(k))
        }
        QuantParam::E4M3 if global == 0.0 => Some(0.0),
        QuantParam::E4M3 => Some(E4M3.decode(E4M3.encode(s).clamp(1, E4M3.max_code))),
        p => to_param(s, p),
    }
}

/// The stored scale of `block` from its raw scale ([`convert`]); overflow is the error.
pub fn stored_scale(scheme: &QuantScheme, raw: f32, global: f32, block: usize) -> Result<f32> {
    convert(scheme, raw, global).ok_or_else(|| Error::ScaleOverflow {
        block: block as u64,
        param: format!("{:?}", scheme.param),
    })
}

/// NVFP4's per-tensor scale: `amax / (448 * 6)`.
pub fn nvfp4_global(amax: f32) -> f32 {
    amax / (448.0 * 6.0)
}
