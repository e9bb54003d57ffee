//! CPU references of the matmul paths: f64 `x . W^T` for the float paths, and the integer path's
//! exact arithmetic (i32 sums of int8 products, then the same f32 operations as the kernel).

use crate::error::{Error, Result};
use crate::quantized::QuantizedTensor;

/// `y = x . W^T` in f64: x [M, K], W [N, K], both row-major.
pub fn linear_f64(x: &[f32], w: &[f32], m: usize, n: usize, k: usize) -> Vec<f64> {
    let mut y = vec![0.0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            y[i * n + j] = (0..k)
                .map(|t| x[i * k + t] as f64 * w[j * k + t] as f64)
                .sum();
        }
    }
    y
}

/// Relative Frobenius error `||y - r|| / ||r||` (0 when both are zero).
pub fn relative_error(y: &[f32], r: &[f64]) -> f64 {
    let num: f64 = y.iter().zip(r).map(|(&a, &b)| (a as f64 - b).powi(2)).sum();
    let den: f64 = r.iter().map(|b| b * b).sum();
    if den == 0.0 {
        num.sqrt()
    } else {
        (num / den).sqrt()
    }
}

fn signed_codes(q: &QuantizedTensor) -> Result<Vec<i32>> {
    let bits = q.scheme.value.bits();
    Ok(super::codes(q)?
        .into_iter()
        .map(|c| ((c << (32 - bits)) as i32) >> (32 - bits))
        .collect())
}

/// The integer path: `xq` is x [M, K] quantized by `gpu::matmul::activation_scheme`, `w` the
/// weight [N, K]; for each W block an exact i32 sum, then `acc += f32(sum) * (sw * sx)`.
pub fn integer_linear(xq: &QuantizedTensor, w: &QuantizedTensor) -> Result<Vec<f32>> {
    let (&[m, k], &[n, kw]) = (xq.shape.as_slice(), w.shape.as_slice()) else {
        return Err(Error::Shape(
            "integer_linear takes x [M, K] and W [N, K]".into(),
        ));
    };
    if k != kw {
        return Err(Error::Shape(format!("K differs: {k} vs {kw}")));
    }
    let (xl, wl) = (xq.check()?, w.check()?);
    let block = match w.scheme.level {
        crate::scheme::QuantLevel::Tensor => k,
        crate::scheme::QuantLevel::Block(b) => b.rows_cols().1,
    };
    let (xc, wc) = (signed_codes(xq)?, signed_codes(w)?);
    let mut y = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0.0f32;
            for k0 in (0..k).step_by(block.max(1)) {
                let sum: i32 = (k0..(k0 + block).min(k))
                    .map(|t| xc[i * k + t] * wc[j * k + t])
                    .sum();
                let sw = w.scales[wl.block_of(j, k0)];
                let sx = xq.scales[xl.block_of(i, k0)];
                acc += sum as f32 * (sw * sx);
            }
            y[i * n + j] = acc;
        }
    }
    Ok(y)
}
