//! GPU-vs-reference agreement as NUMERICS section 8 defines it: bit-exact, with two counted
//! allowances for WGSL's inexact division (and, for calibrated F32 scales, GPUs' fused
//! sums). Used by the tests and by `wgquant demo`.

use crate::quantized::QuantizedTensor;
use crate::reference;
use half::{bf16, f16};

use crate::scheme::{QuantParam, QuantScheme};

/// Differences NUMERICS section 8 allows, counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Allowances {
    /// Scales within 2 ulp (before conversion to the param type) of the reference's, or
    /// calibrated F32 scales within `CALIBRATED_F32_ULP`.
    pub scale_ulp: usize,
    /// Codes one step off where the scaled value is within 4 ulp of a rounding boundary.
    pub code_step: usize,
}

fn ulp_neighbours(s: f32, k: i32) -> impl Iterator<Item = f32> {
    (-k..=k).filter_map(move |d| {
        let bits = s.to_bits() as i64 + d as i64;
        (bits >= 0).then(|| f32::from_bits(bits as u32))
    })
}

/// Compares a GPU result with the reference as NUMERICS section 8 says; returns the counts of
/// allowed differences or a description of the first forbidden one.
pub fn compare(data: &[f32], gpu: &QuantizedTensor) -> Result<Allowances, String> {
    let scheme: &QuantScheme = &gpu.scheme;
    let layout = gpu.layout().map_err(|e| e.to_string())?;
    let reference = reference::quantize(data, &gpu.shape, scheme).map_err(|e| e.to_string())?;
    let mut counts = Allowances::default();
    let ranges = reference::block_ranges(data, &layout);
    // NVFP4's global scale, amax / 2688, is itself a division.
    if gpu.global_scale != reference.global_scale {
        let (g, r) = (
            gpu.global_scale.unwrap_or(0.0),
            reference.global_scale.unwrap_or(0.0),
        );
        if !ulp_neighbours(r, 2).any(|n| n == g) {
            return Err(format!("global scale: GPU {g:e} vs reference {r:e}"));
        }
        counts.scale_ulp += 1;
    }
    let global = gpu.global_scale.unwrap_or(0.0);
    for (i, (&g, &r)) in gpu.scales.iter().zip(&reference.scales).enumerate() {
        if g.to_bits() == r.to_bits() {
            continue;
        }
        let (lo, hi) = ranges[i];
        let raw = reference::raw_scale(scheme, lo, hi, global);
        if ulp_neighbours(raw, 2).any(|n| reference::convert(scheme, n, global) == Some(g)) {
            counts.scale_ulp += 1;
        } else {
            return Err(format!(
                "block {i}: GPU scale {g:e} vs reference {r:e} (min {lo:e}, max {hi:e})"
            ));
        }
    }
    for (i, &z) in gpu.zeros.iter().enumerate() {
        let want = reference::zero_point(scheme, ranges[i].0, gpu.scales[i]);
        let near = ulp_neighbours(ranges[i].0, 4)
            .any(|lo| reference::zero_point(scheme, lo, gpu.scales[i]) == z);
        if z != want && !near {
            return Err(format!("block {i}: GPU zero point {z} vs expected {want}"));
        }
        counts.code_step += (z != want) as usize;
    }
    codes_match(data, gpu, counts)
}

/// Compares a calibrated GPU result (Percentile or Mse, NUMERICS section 8) with the
/// reference's: each scale equal, or where the GPU's division or fused sums moved the raw
/// scale, the neighbouring value of the param type (counted); zero points equal, or one step off
/// beside such a scale (counted); then the codes as [`compare`] checks them.
pub fn compare_calibrated(
    data: &[f32],
    gpu: &QuantizedTensor,
    reference: &QuantizedTensor,
) -> Result<Allowances, String> {
    if gpu.scales.len() != reference.scales.len() || gpu.zeros.len() != reference.zeros.len() {
        return Err("GPU and reference have different numbers of blocks".into());
    }
    let mut counts = Allowances::default();
    for (i, (&g, &r)) in gpu.scales.iter().zip(&reference.scales).enumerate() {
        if g.to_bits() == r.to_bits() {
            continue;
        }
        if !param_neighbours(r, gpu.scheme.param).contains(&g) {
            return Err(format!("block {i}: GPU scale {g:e} vs reference {r:e}"));
        }
        counts.scale_ulp += 1;
    }
    for (i, (&g, &r)) in gpu.zeros.iter().zip(&reference.zeros).enumerate() {
        let scale_moved = gpu.scales[i].to_bits() != reference.scales[i].to_bits();
        if g != r && !(scale_moved && g.abs_diff(r) == 1) {
            return Err(format!("block {i}: GPU zero point {g} vs reference {r}"));
        }
        counts.code_step += (g != r) as usize;
    }
    codes_match(data, gpu, counts)
}

/// How far a calibrated F32 scale may move (NUMERICS section 8): Mse's least-squares refit
/// divides two sums of products, which a GPU compiler may form with fused multiply-adds, so
/// its scale can move further than one division's 2 ulp.
const CALIBRATED_F32_ULP: i32 = 64;

/// The stored scales a raw scale moved as NUMERICS section 8 allows from the one that gave `s`
/// can convert to: `s`'s neighbours within [`CALIBRATED_F32_ULP`] (F32), its neighbours in the
/// 16-bit type (F16, BF16), or `s` doubled and halved (E8M0).
fn param_neighbours(s: f32, param: QuantParam) -> Vec<f32> {
    let step16 = |to: fn(f32) -> u16, from: fn(u16) -> f32| {
        let b = to(s);
        vec![from(b.wrapping_sub(1)), from(b.wrapping_add(1))]
    };
    match param {
        QuantParam::F16 => step16(
            |x| f16::from_f32(x).to_bits(),
            |b| f16::from_bits(b).to_f32(),
        ),
        QuantParam::BF16 => step16(
            |x| bf16::from_f32(x).to_bits(),
            |b| bf16::from_bits(b).to_f32(),
        ),
        QuantParam::E8M0 => vec![s * 2.0, s / 2.0],
        _ => ulp_neighbours(s, CALIBRATED_F32_ULP).collect(),
    }
}

/// The codes (and packed words) of `gpu` against the reference's encoding with the GPU's own
/// scales and zero points, allowing one step where an element lies within 4 ulp of a rounding
/// boundary; `counts` carries the differences found so far.
fn codes_match(
    data: &[f32],
    gpu: &QuantizedTensor,
    mut counts: Allowances,
) -> Result<Allowances, String> {
    let scheme: &QuantScheme = &gpu.scheme;
    let layout = gpu.layout().map_err(|e| e.to_string())?;
    let global = gpu.global_scale.unwrap_or(0.0);
    let expected = reference::encode_with_params(
        data,
        &layout,
        scheme,
        gpu.scales.clone(),
        gpu.zeros.clone(),
        gpu.global_scale,
    )
    .map_err(|e| e.to_string())?;
    let gc = reference::codes(gpu).map_err(|e| e.to_string())?;
    let ec = reference::codes(&expected).map_err(|e| e.to_string())?;
    for row in 0..layout.total_rows() {
        for col in 0..layout.cols {
            let flat = row * layout.cols + col;
            if gc[flat] == ec[flat] {
                continue;
            }
            // Allowed where the element sits within 4 ulp of a rounding boundary: some value
            // that close encodes to the GPU's code.
            let b = layout.block_of(row, col);
            let zero = gpu.zeros.get(b).copied().unwrap_or(0);
            let near = ulp_neighbours(data[flat], 4)
                .any(|x| reference::encode(scheme, x, gpu.scales[b], zero, global) == gc[flat]);
            if near {
                counts.code_step += 1;
            } else {
                return Err(format!(
                    "element {flat} (row {row}, col {col}): GPU code {:#x} vs expected {:#x} (x = {:e}, scale {:e})",
                    gc[flat], ec[flat], data[flat], gpu.scales[b]
                ));
            }
        }
    }
    // Words must also match bit for bit where the codes do (padding bits are zero).
    if counts == Allowances::default() && gpu.codes != expected.codes {
        return Err("codes agree but packed words differ (padding bits?)".into());
    }
    Ok(counts)
}
