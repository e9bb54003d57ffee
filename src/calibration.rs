//! Calibration: how a block's (or tensor's) range is chosen before its scale. MinMax uses the
//! extremes (NUMERICS sections 2-4); Percentile clips at a percentile of |x|; Mse searches clipping
//! ratios for the lowest squared error and refits the scale by least squares.

use crate::error::{Error, Result};
use crate::scheme::{QuantLevel, QuantMode, QuantParam, QuantScheme};

/// Largest block the per-block Percentile and Mse kernels take (one invocation per block keeps
/// the block in private memory).
pub const MAX_CALIBRATED_BLOCK: usize = 256;

/// Bins of the tensor-level Percentile histogram.
pub const HISTOGRAM_BINS: usize = 2048;

/// A calibration method.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Calibration {
    /// Scale from the block's extremes.
    #[default]
    MinMax,
    /// amax is the p-th percentile of |x| (nearest rank, p in (0, 100], resolution 1e-4): exact
    /// within each block, from a 2048-bin histogram per tensor.
    Percentile(f32),
    /// Per block: the clipping ratio with the lowest squared error among llama.cpp's grid
    /// `(nmax + 0.1 i) / amax`, i in -9..=9, with the scale refit by least squares (Symmetric,
    /// minifloats); ranges shrunk by 5% steps for Affine.
    Mse,
}

impl Calibration {
    /// p as an integer number of millionths (so that CPU and GPU rank identically).
    pub(crate) fn percentile_millionths(p: f32) -> u32 {
        (p as f64 * 10_000.0).round() as u32
    }

    /// Rejects methods the scheme cannot use, before any GPU work.
    pub fn check(&self, scheme: &QuantScheme) -> Result<()> {
        let unsupported = |why: &str| {
            Err(Error::Unsupported {
                what: format!("{self:?} calibration {why} (`{scheme}`)"),
            })
        };
        let block_elems = match scheme.level {
            QuantLevel::Block(b) => Some(b.rows_cols().0 * b.rows_cols().1),
            QuantLevel::Tensor => None,
        };
        match self {
            Calibration::MinMax => Ok(()),
            Calibration::Percentile(p) => {
                if !(*p > 0.0 && *p <= 100.0) {
                    return Err(Error::Usage(format!("percentile {p} is outside (0, 100]")));
                }
                if scheme.mode == QuantMode::Affine || scheme.param == QuantParam::E4M3 {
                    return unsupported("Percentile calibration of Affine or NVFP4 scales");
                }
                if block_elems.is_some_and(|n| n > MAX_CALIBRATED_BLOCK) {
                    return unsupported("Percentile calibration of blocks above 256 elements");
                }
                Ok(())
            }
            Calibration::Mse => {
                if !matches!(
                    scheme.param,
                    QuantParam::F32 | QuantParam::F16 | QuantParam::BF16
                ) || matches!(scheme.mode, QuantMode::Lookup(_))
                {
                    return unsupported(
                        "takes integer or minifloat values with F32/F16/BF16 scales",
                    );
                }
                match block_elems {
                    None => unsupported("is per block"),
                    Some(n) if n > MAX_CALIBRATED_BLOCK => {
                        unsupported("takes blocks of at most 256 elements")
                    }
                    _ => Ok(()),
                }
            }
        }
    }
}
