//! Integer values in Symmetric mode (SPEC section 2), any level and store (SPEC section 6).

use super::{flush_subnormal, to_param};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::quantized::QuantizedTensor;
use crate::scheme::QuantScheme;

/// Quantizes `data` (row-major, `shape`) with `scheme` using MinMax calibration.
pub fn quantize(data: &[f32], shape: &[usize], scheme: &QuantScheme) -> Result<QuantizedTensor> {
    let layout = checked_layout(data, shape, scheme)?;
    if let Some(index) = data.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFinite {
            index: index as u64,
        });
    }
    let qmax = qmax_of(scheme);
    let mut amax = vec![0.0f32; layout.num_blocks()];
    for_each_element(&layout, |row, col, flat| {
        let b = layout.block_of(row, col);
        amax[b] = amax[b].max(flush_subnormal(data[flat]).abs());
    });
    let mut scales = Vec::with_capacity(amax.len());
    for (block, a) in amax.iter().enumerate() {
        let s = a / qmax;
        let sp = to_param(s, scheme.param).ok_or_else(|| Error::ScaleOverflow {
            block: block as u64,
            param: format!("{:?}", scheme.param),
        })?;
        scales.push(sp);
    }
    quantize_with_scales(data, &layout, scheme, scales)
}

/// The codes for `data` given stored scales `scales` (one per block). Used by `quantize` and by
/// tests that recompute codes from a GPU's scales (SPEC section 8).
pub fn quantize_with_scales(
    data: &[f32],
    layout: &Layout,
    scheme: &QuantScheme,
    scales: Vec<f32>,
) -> Result<QuantizedTensor> {
    let bits = scheme.value.bits() as usize;
    let mask = (1u32 << bits) - 1;
    let range = range(scheme);
    let mut codes = vec![0u32; layout.code_words()];
    for_each_element(layout, |row, col, flat| {
        let q = code_of(data[flat], scales[layout.block_of(row, col)], range);
        let (word, shift) = layout.code_position(row, col, bits);
        codes[word] |= (q as u32 & mask) << shift;
    });
    QuantizedTensor::from_parts(*scheme, layout.shape.clone(), codes, scales)
}

/// `clamp(round_half_even(x / sp), a, b)`, 0 when `sp == 0`.
pub fn code_of(x: f32, sp: f32, (a, b): (i32, i32)) -> i32 {
    if sp == 0.0 {
        return 0;
    }
    ((flush_subnormal(x) / sp).round_ties_even() as i32).clamp(a, b)
}

/// Restores `code * scale` for every element, row-major.
pub fn dequantize(q: &QuantizedTensor) -> Result<Vec<f32>> {
    q.scheme.ensure_implemented()?;
    let layout = q.layout()?;
    let bits = q.scheme.value.bits() as usize;
    let mut out = vec![0.0f32; layout.len()];
    for_each_element(&layout, |row, col, flat| {
        let (word, shift) = layout.code_position(row, col, bits);
        let raw = (q.codes[word] >> shift) << (32 - bits);
        let code = (raw as i32) >> (32 - bits);
        out[flat] = code as f32 * q.scales[layout.block_of(row, col)];
    });
    Ok(out)
}

fn checked_layout(data: &[f32], shape: &[usize], scheme: &QuantScheme) -> Result<Layout> {
    let layout = Layout::new(scheme, shape)?;
    scheme.ensure_implemented()?;
    if data.len() != layout.len() {
        return Err(Error::Shape(format!(
            "data has {} elements but shape {:?} needs {}",
            data.len(),
            shape,
            layout.len()
        )));
    }
    Ok(layout)
}

fn range(scheme: &QuantScheme) -> (i32, i32) {
    scheme.value.int_range().unwrap_or((0, 0))
}

/// `qmax = (b - a) / 2`.
fn qmax_of(scheme: &QuantScheme) -> f32 {
    let (a, b) = range(scheme);
    (b - a) as f32 / 2.0
}

fn for_each_element(layout: &Layout, mut f: impl FnMut(usize, usize, usize)) {
    for row in 0..layout.total_rows() {
        for col in 0..layout.cols {
            f(row, col, row * layout.cols + col);
        }
    }
}
