//! GGUF block types (NUMERICS section 7), byte-exact with llama.cpp's `quantize_row_*_ref` and
//! gguf-py (the K-quants are in `kquants.rs`): blocks of 32 along the last dim, fp16 `d`/`m` rounded to nearest even, C semantics
//! (`roundf` rounds halves away from zero, `(int)(x + 8.5f)` truncates, `id = 1/d`).

use half::f16;

use crate::error::{Error, Result};
use crate::format::gguf::{e8m0_to_f32_half, floor_log2f};
use crate::format::{GgufType, KVALUES_MXFP4};
use crate::gguf::GgufTensor;

/// Quantizes `data` (row-major, `shape`) to GGUF blocks.
pub fn quantize(data: &[f32], shape: &[usize], ty: GgufType) -> Result<GgufTensor> {
    GgufTensor::check_shape(shape, ty)?;
    if data.len() != shape.iter().product::<usize>() {
        return Err(Error::Shape(format!(
            "data has {} elements but shape {shape:?} needs {}",
            data.len(),
            shape.iter().product::<usize>()
        )));
    }
    if let Some(index) = data.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFinite {
            index: index as u64,
        });
    }
    if ty.is_k_quant() {
        return GgufTensor::new(ty, shape.to_vec(), super::kquants::quantize_row(data, ty)?);
    }
    let mut bytes = Vec::with_capacity(data.len() / 32 * ty.block_bytes());
    for block in data.chunks_exact(32) {
        quantize_block(block.try_into().unwrap_or(&[0.0; 32]), ty, &mut bytes);
    }
    GgufTensor::new(ty, shape.to_vec(), bytes)
}

fn fp16(x: f32) -> [u8; 2] {
    f16::from_f32(x).to_le_bytes()
}

/// `1/d`, or 0 when `d` is 0.
fn inverse(d: f32) -> f32 {
    if d == 0.0 {
        0.0
    } else {
        1.0 / d
    }
}

/// The signed element of largest magnitude, the first one on ties (as ggml's loops find it,
/// also for the K-quants' sub-blocks and scales).
pub(super) fn signed_absmax(x: &[f32]) -> f32 {
    let mut max = 0.0f32;
    for &v in x {
        if v.abs() > max.abs() {
            max = v;
        }
    }
    max
}

/// ggml's loop: a zero minimum or maximum keeps the sign of the first zero (`f32::min` does
/// not say which zero it returns).
fn min_max(x: &[f32; 32]) -> (f32, f32) {
    x.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &v| {
        (if v < lo { v } else { lo }, if v > hi { v } else { hi })
    })
}

/// Low nibbles are elements 0..16, high nibbles elements 16..32.
fn nibbles(q: &[u8; 32], out: &mut Vec<u8>) {
    out.extend((0..16).map(|j| (q[j] & 0x0f) | ((q[j + 16] & 0x0f) << 4)));
}

/// Bit j of `qh` is bit 4 of element j.
fn high_bits(q: &[u8; 32]) -> [u8; 4] {
    let qh = (0..32).fold(0u32, |acc, j| acc | (((q[j] >> 4) as u32 & 1) << j));
    qh.to_le_bytes()
}

fn quantize_block(x: &[f32; 32], ty: GgufType, out: &mut Vec<u8>) {
    let mut q = [0u8; 32];
    match ty {
        GgufType::Q8_0 => {
            let amax = x.iter().fold(0.0f32, |a, v| a.max(v.abs()));
            let d = amax / 127.0;
            let id = inverse(d);
            out.extend(fp16(d));
            out.extend(x.iter().map(|v| (v * id).round() as i8 as u8));
        }
        GgufType::Q4_0 | GgufType::Q5_0 => {
            let (levels, offset) = if ty == GgufType::Q4_0 {
                (-8.0, 8.5)
            } else {
                (-16.0, 16.5)
            };
            let d = signed_absmax(x) / levels;
            let id = inverse(d);
            let top = if ty == GgufType::Q4_0 { 15 } else { 31 };
            for (qj, v) in q.iter_mut().zip(x) {
                *qj = ((v * id + offset).trunc() as i32).clamp(0, top) as u8;
            }
            out.extend(fp16(d));
            if ty == GgufType::Q5_0 {
                out.extend(high_bits(&q));
            }
            nibbles(&q, out);
        }
        GgufType::Q4_1 | GgufType::Q5_1 => {
            let (lo, hi) = min_max(x);
            let top = if ty == GgufType::Q4_1 { 15 } else { 31 };
            let d = (hi - lo) / top as f32;
            let id = inverse(d);
            for (qj, v) in q.iter_mut().zip(x) {
                *qj = (((v - lo) * id + 0.5).trunc() as i32).clamp(0, top) as u8;
            }
            out.extend(fp16(d));
            out.extend(fp16(lo));
            if ty == GgufType::Q5_1 {
                out.extend(high_bits(&q));
            }
            nibbles(&q, out);
        }
        GgufType::Mxfp4 => {
            let amax = x.iter().fold(0.0f32, |a, v| a.max(v.abs()));
            let e = if amax > 0.0 {
                (floor_log2f(amax) - 2 + 127) as u8
            } else {
                0
            };
            let d = e8m0_to_f32_half(e);
            for (qj, &v) in q.iter_mut().zip(x) {
                *qj = best_index_mxfp4(v, d);
            }
            out.push(e);
            nibbles(&q, out);
        }
        // Whole super-blocks at a time, in kquants.rs.
        GgufType::Q2K | GgufType::Q3K | GgufType::Q4K | GgufType::Q5K | GgufType::Q6K => {}
    }
}

/// Index of the `kvalues_mxfp4` entry times `d` nearest `x`, the first one on ties.
fn best_index_mxfp4(x: f32, d: f32) -> u8 {
    let err = |i: usize| (KVALUES_MXFP4[i] as f32 * d - x).abs();
    (1..16).fold(0, |best, i| if err(i) < err(best) { i } else { best }) as u8
}

/// Restores every element, row-major.
pub fn dequantize(t: &GgufTensor) -> Result<Vec<f32>> {
    let ty = t.ty;
    if ty.is_k_quant() {
        return super::kquants::dequantize_row(&t.data, ty);
    }
    let mut out = Vec::with_capacity(t.len());
    for b in t.data.chunks_exact(ty.block_bytes()) {
        let half = |i: usize| f16::from_le_bytes([b[i], b[i + 1]]).to_f32();
        let nibble = |qs: &[u8], j: usize| {
            if j < 16 {
                qs[j] & 0x0f
            } else {
                qs[j - 16] >> 4
            }
        };
        let high = |qh: &[u8], j: usize| {
            ((u32::from_le_bytes([qh[0], qh[1], qh[2], qh[3]]) >> j) & 1) as u8
        };
        for j in 0..32 {
            out.push(match ty {
                GgufType::Q8_0 => b[2 + j] as i8 as f32 * half(0),
                GgufType::Q4_0 => half(0) * (nibble(&b[2..], j) as i32 - 8) as f32,
                GgufType::Q4_1 => half(0) * nibble(&b[4..], j) as f32 + half(2),
                GgufType::Q5_0 => {
                    half(0) * ((nibble(&b[6..], j) | high(&b[2..], j) << 4) as i32 - 16) as f32
                }
                GgufType::Q5_1 => {
                    half(0) * (nibble(&b[8..], j) | high(&b[4..], j) << 4) as f32 + half(2)
                }
                GgufType::Mxfp4 => {
                    e8m0_to_f32_half(b[0]) * KVALUES_MXFP4[nibble(&b[1..], j) as usize] as f32
                }
                // Decoded by kquants.rs before this loop.
                GgufType::Q2K | GgufType::Q3K | GgufType::Q4K | GgufType::Q5K | GgufType::Q6K => {
                    0.0
                }
            });
        }
    }
    Ok(out)
}
