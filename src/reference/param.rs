//! Conversion of an f32 scale to the stored scale type, rounding toward +infinity so that
//! `|x / sp|` never exceeds `qmax` (SPEC section 2).

use half::{bf16, f16};

use crate::scheme::QuantParam;

/// The stored scale `sp` for the exact scale `s >= 0`, as an f32 holding the param's value
/// exactly. `None` when the rounded scale is not finite in the param type.
pub fn to_param(s: f32, param: QuantParam) -> Option<f32> {
    let sp = match param {
        QuantParam::F32 => s,
        QuantParam::F16 => {
            let h = f16::from_f32(s);
            let h = if h.to_f32() < s { next_up_f16(h) } else { h };
            h.to_f32()
        }
        QuantParam::BF16 => {
            let b = bf16::from_f32(s);
            let b = if b.to_f32() < s {
                bf16::from_bits(b.to_bits() + 1)
            } else {
                b
            };
            b.to_f32()
        }
        QuantParam::E8M0 | QuantParam::E4M3 => return None,
    };
    sp.is_finite().then_some(sp)
}

/// The next f16 above a non-negative finite `h`.
fn next_up_f16(h: f16) -> f16 {
    f16::from_bits(h.to_bits() + 1)
}

/// The stored bytes of one scale value `sp` (exact in the param type), little-endian.
pub fn param_bytes(sp: f32, param: QuantParam, out: &mut Vec<u8>) {
    match param {
        QuantParam::F32 => out.extend_from_slice(&sp.to_le_bytes()),
        QuantParam::F16 => out.extend_from_slice(&f16::from_f32(sp).to_le_bytes()),
        QuantParam::BF16 => out.extend_from_slice(&bf16::from_f32(sp).to_le_bytes()),
        QuantParam::E8M0 | QuantParam::E4M3 => out.push(0),
    }
}
