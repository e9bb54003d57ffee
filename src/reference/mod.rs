//! The CPU reference: docs/NUMERICS.md in plain code. Every GPU kernel is tested against it, so
//! it favours being obviously right over being fast.

pub mod calibrate;
pub mod gguf;
pub mod kquants;
pub mod matmul;
mod param;
mod values;

pub use param::{convert, nvfp4_global, raw_scale, stored_scale, to_param};
pub use values::{decode, encode, nf4_index};

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::quantized::QuantizedTensor;
use crate::scheme::{QuantMode, QuantParam, QuantScheme};

/// NUMERICS section 8: inputs below 2^-126 in magnitude (f32 subnormals) count as a zero of the
/// same sign, so that -0.0 and negative subnormals keep a minifloat code's sign bit.
pub fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0f32.copysign(x)
    } else {
        x
    }
}

/// Quantizes `data` (row-major, `shape`) with `scheme` using MinMax calibration.
pub fn quantize(data: &[f32], shape: &[usize], scheme: &QuantScheme) -> Result<QuantizedTensor> {
    let layout = checked_input(data, shape, scheme)?;
    let ranges = block_ranges(data, &layout);
    let global = global_scale(scheme, &ranges);
    let mut scales = Vec::with_capacity(ranges.len());
    let mut zeros = Vec::new();
    for (block, &(lo, hi)) in ranges.iter().enumerate() {
        let raw = raw_scale(scheme, lo, hi, global.unwrap_or(0.0));
        let sp = stored_scale(scheme, raw, global.unwrap_or(0.0), block)?;
        if scheme.mode == QuantMode::Affine {
            zeros.push(zero_point(scheme, lo, sp));
        }
        scales.push(sp);
    }
    encode_with_params(data, &layout, scheme, scales, zeros, global)
}

/// The layout of a valid input: the scheme fits the shape, the data its length, and every
/// element is finite (else `NonFinite` with the first bad index).
pub fn checked_input(data: &[f32], shape: &[usize], scheme: &QuantScheme) -> Result<Layout> {
    let layout = Layout::new(scheme, shape)?;
    if data.len() != layout.len() {
        return Err(Error::Shape(format!(
            "data has {} elements but shape {shape:?} needs {}",
            data.len(),
            layout.len()
        )));
    }
    if let Some(index) = data.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFinite {
            index: index as u64,
        });
    }
    Ok(layout)
}

/// Per block, `(min, max)` of the elements with subnormals flushed (0 for an empty tensor).
pub fn block_ranges(data: &[f32], layout: &Layout) -> Vec<(f32, f32)> {
    if data.len() != layout.len() {
        return Vec::new();
    }
    let mut r = vec![(f32::INFINITY, f32::NEG_INFINITY); layout.num_blocks()];
    for_each_element(layout, |row, col, flat| {
        let b = &mut r[layout.block_of(row, col)];
        let x = flush_subnormal(data[flat]);
        *b = (b.0.min(x), b.1.max(x));
    });
    r
}

/// NVFP4's per-tensor scale from the block ranges; `None` for other schemes.
pub fn global_scale(scheme: &QuantScheme, ranges: &[(f32, f32)]) -> Option<f32> {
    (scheme.param == QuantParam::E4M3).then(|| {
        let amax = ranges
            .iter()
            .fold(0.0f32, |a, &(lo, hi)| a.max(-lo).max(hi));
        nvfp4_global(amax)
    })
}

/// Affine zero point `clamp(round_half_even(-min(lo, 0) / sp), 0, 2^bits - 1)`, 0 when sp is 0.
pub fn zero_point(scheme: &QuantScheme, lo: f32, sp: f32) -> u8 {
    if sp == 0.0 {
        return 0;
    }
    (-lo.min(0.0) / sp)
        .round_ties_even()
        .clamp(0.0, param::affine_levels(scheme.value)) as u8
}

/// The codes for `data` given each block's stored scale (and zero point, and NVFP4's global
/// scale). Used by `quantize` and by tests that recompute codes from a GPU's scales.
pub fn encode_with_params(
    data: &[f32],
    layout: &Layout,
    scheme: &QuantScheme,
    scales: Vec<f32>,
    zeros: Vec<u8>,
    global: Option<f32>,
) -> Result<QuantizedTensor> {
    let blocks = layout.num_blocks();
    let want_zeros = if scheme.mode == QuantMode::Affine {
        blocks
    } else {
        0
    };
    if data.len() != layout.len() || scales.len() != blocks || zeros.len() != want_zeros {
        return Err(Error::Shape(format!(
            "{} elements, {} scales and {} zero points do not fit {} elements in {blocks} blocks",
            data.len(),
            scales.len(),
            zeros.len(),
            layout.len()
        )));
    }
    let bits = scheme.value.bits() as usize;
    let mut codes = vec![0u32; layout.code_words()];
    for_each_element(layout, |row, col, flat| {
        let b = layout.block_of(row, col);
        let zero = zeros.get(b).copied().unwrap_or(0);
        let q = encode(scheme, data[flat], scales[b], zero, global.unwrap_or(0.0));
        let (word, shift) = layout.code_position(row, col, bits);
        codes[word] |= q << shift;
    });
    QuantizedTensor::new(*scheme, layout.shape.clone(), codes, scales, zeros, global)
}

/// The code of every element, row-major (masked to the value's bits).
pub fn codes(q: &QuantizedTensor) -> Result<Vec<u32>> {
    let layout = q.check()?;
    let bits = q.scheme.value.bits() as usize;
    let mut out = vec![0u32; layout.len()];
    for_each_element(&layout, |row, col, flat| {
        let (word, shift) = layout.code_position(row, col, bits);
        out[flat] = (q.codes[word] >> shift) & ((1u32 << bits) - 1);
    });
    Ok(out)
}

/// Restores every element, row-major.
pub fn dequantize(q: &QuantizedTensor) -> Result<Vec<f32>> {
    let layout = q.check()?;
    let codes = codes(q)?;
    let mut out = vec![0.0f32; layout.len()];
    for_each_element(&layout, |row, col, flat| {
        let b = layout.block_of(row, col);
        let zero = q.zeros.get(b).copied().unwrap_or(0);
        out[flat] = decode(
            &q.scheme,
            codes[flat],
            q.scales[b],
            zero,
            q.global_scale.unwrap_or(0.0),
        );
    });
    Ok(out)
}

fn for_each_element(layout: &Layout, mut f: impl FnMut(usize, usize, usize)) {
    for row in 0..layout.total_rows() {
        for col in 0..layout.cols {
            f(row, col, row * layout.cols + col);
        }
    }
}
