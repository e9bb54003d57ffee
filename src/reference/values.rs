//! Element codes (NUMERICS sections 2-5): one element to its code and back, given its block's
//! stored scale, zero point and (NVFP4) the tensor's global scale.

use super::flush_subnormal;
use super::param::affine_levels;
use crate::format::NF4;
use crate::scheme::{Codebook, QuantMode, QuantParam, QuantScheme};

/// Index of the NF4 entry nearest `v`, the lower index on ties.
pub fn nf4_index(v: f32) -> u32 {
    // NUMERICS section 5: v is clamped to the codebook's range first, where the distances
    // cannot tie by rounding (a Percentile scale can leave |v| far above 1).
    let v = v.clamp(-1.0, 1.0);
    let mut best = 0;
    for (i, c) in NF4.iter().enumerate() {
        if (v - c).abs() < (v - NF4[best]).abs() {
            best = i;
        }
    }
    best as u32
}

/// The code of element `x`, masked to the value's bits.
pub fn encode(scheme: &QuantScheme, x: f32, scale: f32, zero: u8, global: f32) -> u32 {
    let x = flush_subnormal(x);
    let mask = (1u32 << scheme.value.bits()) - 1;
    if let Some(f) = scheme.value.minifloat() {
        let v = match scheme.param {
            QuantParam::E8M0 => x / scale,
            QuantParam::E4M3 if global == 0.0 => 0.0,
            QuantParam::E4M3 => x / (scale * global),
            _ if scale == 0.0 => 0.0,
            _ => x / scale,
        };
        return f.encode(v);
    }
    match scheme.mode {
        QuantMode::Lookup(Codebook::Nf4) => nf4_index(if scale == 0.0 { 0.0 } else { x / scale }),
        QuantMode::Affine => {
            if scale == 0.0 {
                return 0;
            }
            let levels = affine_levels(scheme.value);
            ((x / scale).round_ties_even() + zero as f32).clamp(0.0, levels) as u32
        }
        QuantMode::Symmetric => {
            let (a, b) = scheme.value.int_range().unwrap_or((0, 0));
            let q = if scale == 0.0 {
                0
            } else {
                ((x / scale).round_ties_even() as i32).clamp(a, b)
            };
            q as u32 & mask
        }
    }
}

/// The value of a code (masked to the value's bits): code x scale, exactly as NUMERICS writes it.
pub fn decode(scheme: &QuantScheme, code: u32, scale: f32, zero: u8, global: f32) -> f32 {
    let bits = scheme.value.bits();
    if let Some(f) = scheme.value.minifloat() {
        let e = f.decode(code);
        return match scheme.param {
            QuantParam::E4M3 => e * scale * global,
            _ => e * scale,
        };
    }
    match scheme.mode {
        QuantMode::Lookup(Codebook::Nf4) => NF4[code as usize & 15] * scale,
        QuantMode::Affine => (code as i32 - zero as i32) as f32 * scale,
        QuantMode::Symmetric => (((code << (32 - bits)) as i32) >> (32 - bits)) as f32 * scale,
    }
}
