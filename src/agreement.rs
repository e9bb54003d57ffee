//! GPU-vs-reference agreement as SPEC section 8 defines it: bit-exact, with two counted
//! allowances for WGSL's inexact division. Used by the tests and by `wgquant demo`.

use crate::layout::Layout;
use crate::quantized::QuantizedTensor;
use crate::reference;
use crate::scheme::QuantScheme;

/// Differences SPEC section 8 allows, counted.
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

/// Absmax of every block, by the reference's rules (flushing subnormals).
pub fn block_amax(data: &[f32], layout: &Layout) -> Vec<f32> {
    let mut amax = vec![0.0f32; layout.num_blocks()];
    for row in 0..layout.total_rows() {
        for col in 0..layout.cols {
            let b = layout.block_of(row, col);
            amax[b] = amax[b].max(reference::flush_subnormal(data[row * layout.cols + col]).abs());
        }
    }
    amax
}

/// Decodes the signed code of every element, row-major.
pub fn codes_of(q: &QuantizedTensor) -> Vec<i32> {
    let Ok(layout) = q.layout() else {
        return Vec::new();
    };
    let bits = q.scheme.value.bits() as usize;
    let mut out = Vec::with_capacity(layout.len());
    for row in 0..layout.total_rows() {
        for col in 0..layout.cols {
            let (w, shift) = layout.code_position(row, col, bits);
            out.push((((q.codes[w] >> shift) << (32 - bits)) as i32) >> (32 - bits));
        }
    }
    out
}

/// Compares a GPU result with the reference as SPEC section 8 says; returns the counts of
/// allowed differences or a description of the first forbidden one.
pub fn compare(data: &[f32], gpu: &QuantizedTensor) -> Result<Allowances, String> {
    let scheme: &QuantScheme = &gpu.scheme;
    let layout = gpu.layout().map_err(|e| e.to_string())?;
    let reference = reference::quantize(data, &gpu.shape, scheme).map_err(|e| e.to_string())?;
    let mut counts = Allowances::default();
    let (a, b) = scheme.value.int_range().ok_or("not an integer value")?;
    let qmax = (b - a) as f32 / 2.0;
    let amax = block_amax(data, &layout);
    for (i, (&g, &r)) in gpu.scales.iter().zip(&reference.scales).enumerate() {
        if g.to_bits() == r.to_bits() {
            continue;
        }
        let s = amax[i] / qmax;
        if ulp_neighbours(s, 2).any(|s2| reference::to_param(s2, scheme.param) == Some(g)) {
            counts.scale_ulp += 1;
        } else {
            return Err(format!(
                "block {i}: GPU scale {g:e} vs reference {r:e} (amax {:e})",
                amax[i]
            ));
        }
    }
    // Codes are checked against the reference recomputed with the GPU's scales.
    let expected = reference::quantize_with_scales(data, &layout, scheme, gpu.scales.clone())
        .map_err(|e| e.to_string())?;
    let (gc, ec) = (codes_of(gpu), codes_of(&expected));
    for row in 0..layout.total_rows() {
        for col in 0..layout.cols {
            let flat = row * layout.cols + col;
            if gc[flat] == ec[flat] {
                continue;
            }
            let sp = gpu.scales[layout.block_of(row, col)];
            let v = reference::flush_subnormal(data[flat]) / sp;
            let boundary = v.floor() + 0.5;
            let near = ulp_neighbours(v, 4).any(|u| (u >= boundary) != (v >= boundary));
            if (gc[flat] - ec[flat]).abs() == 1 && near {
                counts.code_step += 1;
            } else {
                return Err(format!(
                    "element {flat} (row {row}, col {col}): GPU code {} vs expected {} (x = {:e}, scale {sp:e})",
                    gc[flat], ec[flat], data[flat]
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
