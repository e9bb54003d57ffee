//! CPU reference of the calibration methods (see `crate::calibration`), the histogram of static
//! activation calibration, and fake quantization with its straight-through mask.

use super::{flush_subnormal, raw_scale, stored_scale, zero_point};
use crate::calibration::{Calibration, HISTOGRAM_BINS};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::quantized::QuantizedTensor;
use crate::scheme::{QuantMode, QuantScheme};

/// Quantizes with `calibration` (MinMax is [`super::quantize`]).
pub fn quantize_calibrated(
    data: &[f32],
    shape: &[usize],
    scheme: &QuantScheme,
    calibration: Calibration,
) -> Result<QuantizedTensor> {
    calibration.check(scheme)?;
    if calibration == Calibration::MinMax {
        return super::quantize(data, shape, scheme);
    }
    let layout = super::checked_input(data, shape, scheme)?;
    let blocks = block_elements(data, &layout);
    let mut scales = Vec::with_capacity(blocks.len());
    let mut zeros = Vec::new();
    let tensor_amax = match (calibration, scheme.level) {
        (Calibration::Percentile(p), crate::scheme::QuantLevel::Tensor) => {
            let flat: Vec<f32> = data.iter().map(|&x| flush_subnormal(x)).collect();
            let amax = flat.iter().fold(0.0f32, |a, x| a.max(x.abs()));
            // The clip is a range bound like any other, so it flushes as inputs do.
            Some(flush_subnormal(histogram_percentile(
                &histogram(&flat, amax, HISTOGRAM_BINS),
                amax,
                p,
            )))
        }
        _ => None,
    };
    for (b, xs) in blocks.iter().enumerate() {
        let (raw, lo_for_zero) = match calibration {
            Calibration::Percentile(p) => {
                let amax = tensor_amax.unwrap_or_else(|| block_percentile(xs, p));
                (raw_scale(scheme, -amax, amax, 0.0), 0.0)
            }
            _ => mse_scale(scheme, xs),
        };
        let sp = stored_scale(scheme, raw, 0.0, b)?;
        if scheme.mode == QuantMode::Affine {
            zeros.push(zero_point(scheme, lo_for_zero, sp));
        }
        scales.push(sp);
    }
    super::encode_with_params(data, &layout, scheme, scales, zeros, None)
}

/// Each block's elements, subnormals flushed.
fn block_elements(data: &[f32], layout: &Layout) -> Vec<Vec<f32>> {
    let mut blocks = vec![Vec::new(); layout.num_blocks()];
    for row in 0..layout.total_rows() {
        for col in 0..layout.cols {
            blocks[layout.block_of(row, col)].push(flush_subnormal(data[row * layout.cols + col]));
        }
    }
    blocks
}

/// Nearest-rank percentile of |x|: the ceil(p n / 100)-th smallest (p to 1e-4).
pub fn block_percentile(xs: &[f32], p: f32) -> f32 {
    let mut a: Vec<f32> = xs.iter().map(|x| x.abs()).collect();
    a.sort_by(f32::total_cmp);
    let rank = rank_of(p, a.len() as u64);
    a.get(rank.saturating_sub(1) as usize)
        .copied()
        .unwrap_or(0.0)
}

/// ceil(p n / 100) in integers, at least 1.
pub fn rank_of(p: f32, n: u64) -> u64 {
    let pm = Calibration::percentile_millionths(p) as u64;
    (pm * n).div_ceil(1_000_000).max(1)
}

/// Counts of |x| in `bins` equal bins over [0, amax]: bin = min(floor(|x| * (bins / amax)), bins - 1).
pub fn histogram(xs: &[f32], amax: f32, bins: usize) -> Vec<u64> {
    let mut h = vec![0u64; bins];
    if amax == 0.0 {
        h[0] = xs.len() as u64;
        return h;
    }
    let inv = bins as f32 / amax;
    for x in xs {
        h[((x.abs() * inv) as usize).min(bins - 1)] += 1;
    }
    h
}

/// The upper edge of the bin where the cumulative count reaches the p-th percentile's rank.
pub fn histogram_percentile(h: &[u64], amax: f32, p: f32) -> f32 {
    let rank = rank_of(p, h.iter().sum());
    let mut seen = 0;
    for (b, &c) in h.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return amax * ((b + 1) as f32 / h.len() as f32);
        }
    }
    amax
}

/// The Mse search for one block: the raw (pre-conversion) scale, and for Affine the clipped
/// minimum that gives its zero point.
pub fn mse_scale(scheme: &QuantScheme, xs: &[f32]) -> (f32, f32) {
    let amax = xs.iter().fold(0.0f32, |a, x| a.max(x.abs()));
    if scheme.mode == QuantMode::Affine {
        let levels = ((1u32 << scheme.value.bits()) - 1) as f32;
        let lo = xs.iter().fold(0.0f32, |a, &x| a.min(x));
        let hi = xs.iter().fold(0.0f32, |a, &x| a.max(x));
        let mut best = (f32::INFINITY, 0.0f32, 0.0f32);
        for i in 0..10 {
            let r = 1.0 - 0.05 * i as f32;
            let (lo_r, hi_r) = (lo * r, hi * r);
            let s = (hi_r - lo_r) / levels;
            if s == 0.0 {
                continue;
            }
            let z = (-lo_r / s).round_ties_even().clamp(0.0, levels);
            let mut err = 0.0f32;
            for &x in xs {
                let u = ((x / s).round_ties_even() + z).clamp(0.0, levels);
                let d = x - (u - z) * s;
                err += d * d;
            }
            if err < best.0 {
                best = (err, s, lo_r);
            }
        }
        return (best.1, best.2);
    }
    if amax == 0.0 {
        return (0.0, 0.0);
    }
    // q(v): the unscaled code value of v (an integer, or a minifloat's value).
    let (nmax, q): (f32, Box<dyn Fn(f32) -> f32>) = match scheme.value.minifloat() {
        Some(f) => (f.max_finite(), Box::new(move |v| f.decode(f.encode(v)))),
        None => {
            let (a, b) = scheme.value.int_range().unwrap_or((0, 0));
            (
                b as f32,
                Box::new(move |v: f32| v.round_ties_even().clamp(a as f32, b as f32)),
            )
        }
    };
    // Squared error and least-squares refit of the codes chosen at `iscale`.
    let fit = |iscale: f32| -> Option<(f32, f32)> {
        let (mut sxq, mut sqq) = (0.0f32, 0.0f32);
        for &x in xs {
            let v = q(x * iscale);
            sxq += x * v;
            sqq += v * v;
        }
        if sqq == 0.0 || sxq <= 0.0 {
            return None;
        }
        let s = sxq / sqq;
        let mut err = 0.0f32;
        for &x in xs {
            let d = x - s * q(x * iscale);
            err += d * d;
        }
        Some((err, s))
    };
    let mut best = (f32::INFINITY, 0.0f32);
    for i in -9..=9 {
        if let Some(c) = fit((nmax + 0.1 * i as f32) / amax) {
            if c.0 < best.0 {
                best = c;
            }
        }
    }
    // A negative refit (possible only for degenerate blocks) falls back to MinMax's scale.
    (if best.1 > 0.0 { best.1 } else { amax / nmax }, 0.0)
}

/// Fake quantization: dequantize(quantize(x)) for every element, and the straight-through mask,
/// 1 where x lay inside the representable range (nothing was clipped) and 0 where it was clipped.
pub fn fake_quantize(data: &[f32], q: &QuantizedTensor) -> Result<(Vec<f32>, Vec<f32>)> {
    let y = super::dequantize(q)?;
    let layout = q.layout()?;
    if data.len() != layout.len() {
        return Err(Error::Shape(format!(
            "{} elements for a tensor of {}",
            data.len(),
            layout.len()
        )));
    }
    let mut mask = vec![1.0f32; data.len()];
    for row in 0..layout.total_rows() {
        for col in 0..layout.cols {
            let flat = row * layout.cols + col;
            let b = layout.block_of(row, col);
            let zero = q.zeros.get(b).copied().unwrap_or(0);
            if clipped(
                &q.scheme,
                flush_subnormal(data[flat]),
                q.scales[b],
                zero,
                q.global_scale.unwrap_or(0.0),
            ) {
                mask[flat] = 0.0;
            }
        }
    }
    Ok((y, mask))
}

/// Whether x falls outside the representable range of its block (so its code was clamped or
/// saturated).
pub fn clipped(scheme: &QuantScheme, x: f32, sp: f32, zero: u8, global: f32) -> bool {
    if let Some(f) = scheme.value.minifloat() {
        let v = match scheme.param {
            crate::scheme::QuantParam::E8M0 => x / sp,
            crate::scheme::QuantParam::E4M3 if global == 0.0 => 0.0,
            crate::scheme::QuantParam::E4M3 => x / (sp * global),
            _ if sp == 0.0 => 0.0,
            _ => x / sp,
        };
        return v.abs() > f.max_finite();
    }
    if sp == 0.0 {
        return false;
    }
    let v = (x / sp).round_ties_even();
    match scheme.mode {
        QuantMode::Lookup(_) => (x / sp).abs() > 1.0,
        QuantMode::Affine => {
            let u = v + zero as f32;
            u < 0.0 || u > ((1u32 << scheme.value.bits()) - 1) as f32
        }
        QuantMode::Symmetric => {
            let (a, b) = scheme.value.int_range().unwrap_or((0, 0));
            v < a as f32 || v > b as f32
        }
    }
}

/// Static activation calibration of all `batches` at once (the `Calibrator` merges them one by
/// one): the stored scale and, for Affine, the zero point. Percentile uses the histogram of
/// every |x| over [0, top), top the smallest power of two above the overall amax.
pub fn static_calibration(
    batches: &[Vec<f32>],
    scheme: &QuantScheme,
    method: Calibration,
) -> Result<(f32, Option<u8>)> {
    let flat: Vec<f32> = batches
        .iter()
        .flatten()
        .map(|&x| flush_subnormal(x))
        .collect();
    let lo = flat.iter().fold(0.0f32, |a, &x| a.min(x));
    let hi = flat.iter().fold(0.0f32, |a, &x| a.max(x));
    let (lo, hi) = match method {
        Calibration::Percentile(p) => {
            let amax = (-lo).max(hi);
            let clip = if amax == 0.0 {
                0.0
            } else {
                let exponent = ((amax.to_bits() >> 23) & 0xff) as i32 - 127;
                let top = 2f32.powi(exponent + 1);
                flush_subnormal(histogram_percentile(
                    &histogram(&flat, top, HISTOGRAM_BINS),
                    top,
                    p,
                ))
            };
            (-clip, clip)
        }
        _ => (lo, hi),
    };
    let sp = stored_scale(scheme, raw_scale(scheme, lo, hi, 0.0), 0.0, 0)?;
    let zero = (scheme.mode == QuantMode::Affine).then(|| zero_point(scheme, lo, sp));
    Ok((sp, zero))
}
