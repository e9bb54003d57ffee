//! GPU-vs-reference agreement as NUMERICS section 8 defines it: bit-exact, with two counted
//! allowances for WGSL's inexact division. Used by the tests and by `wgquant demo`.

use crate::quantized::QuantizedTensor;
use crate::reference;
use crate::scheme::QuantScheme;

/// Differences NUMERICS section 8 allows, counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Allowances {
    /// Scales within 2 ulp (before conversion to the param type) of the reference's.
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
    // Codes are checked against the reference recomputed with the GPU's scales.
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
