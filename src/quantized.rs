//! `QuantizedTensor`: the host-side result of quantization, in NUMERICS section 6's layout.

use crate::error::{Error, Result};
use crate::format::minifloat::E4M3;
use crate::layout::Layout;
use crate::scheme::{QuantMode, QuantParam, QuantScheme};

/// Codes and scales of one quantized tensor, on the host.
///
/// `codes` are the u32 words of NUMERICS section 6 (for the `Native` store, the bytes packed
/// little-endian four to a word, the last word zero-padded). `scales` hold one value per block,
/// each exactly representable in the scheme's param type; [`QuantizedTensor::scale_bytes`]
/// gives them in that type's bytes. `zeros` holds one zero point per block in Affine mode and
/// is empty otherwise; `global_scale` is NVFP4's per-tensor f32 scale.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedTensor {
    pub scheme: QuantScheme,
    pub shape: Vec<usize>,
    pub codes: Vec<u32>,
    pub scales: Vec<f32>,
    pub zeros: Vec<u8>,
    pub global_scale: Option<f32>,
}

impl QuantizedTensor {
    /// Assembles a tensor from its parts, checking that they fit the scheme and shape.
    pub fn new(
        scheme: QuantScheme,
        shape: Vec<usize>,
        codes: Vec<u32>,
        scales: Vec<f32>,
        zeros: Vec<u8>,
        global_scale: Option<f32>,
    ) -> Result<Self> {
        let q = QuantizedTensor {
            scheme,
            shape,
            codes,
            scales,
            zeros,
            global_scale,
        };
        q.check()?;
        Ok(q)
    }

    /// Checks that the (public) parts fit the scheme and shape, and returns the geometry. Every
    /// function that reads a tensor calls this first, so inconsistent parts are an error, not a
    /// panic.
    pub fn check(&self) -> Result<Layout> {
        let (scheme, shape) = (&self.scheme, &self.shape);
        let layout = Layout::new(scheme, shape)?;
        let blocks = layout.num_blocks();
        let want_zeros = if scheme.mode == QuantMode::Affine {
            blocks
        } else {
            0
        };
        if self.codes.len() != layout.code_words()
            || self.scales.len() != blocks
            || self.zeros.len() != want_zeros
        {
            return Err(Error::Shape(format!(
                "`{scheme}` on shape {shape:?} needs {} code words, {blocks} scales and {want_zeros} zero points, got {}, {} and {}",
                layout.code_words(),
                self.codes.len(),
                self.scales.len(),
                self.zeros.len()
            )));
        }
        if self.global_scale.is_some() != (scheme.param == QuantParam::E4M3) {
            return Err(Error::Shape(format!(
                "`{scheme}`: a global scale goes with E4M3 (NVFP4) scales, and only with them"
            )));
        }
        Ok(layout)
    }

    /// The geometry of this tensor.
    pub fn layout(&self) -> Result<Layout> {
        Layout::new(&self.scheme, &self.shape)
    }

    /// The codes as stored in files: whole words for `U32`, one byte per code for `Native`.
    pub fn code_bytes(&self) -> Vec<u8> {
        let n = self.layout().map_or(0, |l| l.code_bytes());
        let mut bytes: Vec<u8> = self.codes.iter().flat_map(|w| w.to_le_bytes()).collect();
        bytes.truncate(n);
        bytes
    }

    /// The scales in the param type's little-endian bytes, row-major over the scale grid.
    pub fn scale_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.scales.len() * self.scheme.param.bytes());
        for &s in &self.scales {
            self.scheme.param.push_bytes(s, &mut out);
        }
        out
    }

    /// Size of codes, scales, zero points and global scale in bytes.
    pub fn stored_bytes(&self) -> usize {
        self.code_bytes().len()
            + self.scales.len() * self.scheme.param.bytes()
            + self.zeros.len()
            + 4 * self.global_scale.is_some() as usize
    }

    /// Rebuilds a tensor from the bytes stored in a file: codes as [`Self::code_bytes`] gives
    /// them and scales in the param type's bytes (NUMERICS section 6).
    pub fn from_stored(
        scheme: QuantScheme,
        shape: Vec<usize>,
        code_bytes: &[u8],
        scale_bytes: &[u8],
        zeros: Vec<u8>,
        global_scale: Option<f32>,
    ) -> Result<Self> {
        let mut padded = code_bytes.to_vec();
        padded.resize(code_bytes.len().next_multiple_of(4), 0);
        let codes = bytemuck::pod_collect_to_vec(&padded);
        let size = scheme.param.bytes();
        if !scale_bytes.len().is_multiple_of(size) {
            return Err(Error::Shape(format!(
                "{} scale bytes are not whole {:?} scales",
                scale_bytes.len(),
                scheme.param
            )));
        }
        let scales = scale_bytes
            .chunks_exact(size)
            .map(|b| match scheme.param {
                QuantParam::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                QuantParam::F16 => half::f16::from_le_bytes([b[0], b[1]]).to_f32(),
                QuantParam::BF16 => half::bf16::from_le_bytes([b[0], b[1]]).to_f32(),
                QuantParam::E8M0 => 2f32.powi(b[0] as i32 - 127),
                QuantParam::E4M3 => E4M3.decode(b[0] as u32),
            })
            .collect();
        Self::new(scheme, shape, codes, scales, zeros, global_scale)
    }
}
