//! The CPU reference: SPEC.md in plain code. Every GPU kernel is tested against it, so it favours
//! being obviously right over being fast.

mod int;
mod param;

pub use int::{code_of, dequantize, quantize, quantize_with_scales};
pub use param::{param_bytes, to_param};

/// SPEC section 8: inputs below 2^-126 in magnitude (f32 subnormals) count as zero.
pub fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}
