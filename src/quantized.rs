//! `QuantizedTensor`: the host-side result of quantization, in SPEC section 6's layout.

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::reference::param_bytes;
use crate::scheme::QuantScheme;

/// Codes and scales of one quantized tensor, on the host.
///
/// `codes` are the u32 words of SPEC section 6 (for the `Native` store, the bytes packed
/// little-endian four to a word, the last word zero-padded). `scales` hold one value per block,
/// each exactly representable in the scheme's param type; [`QuantizedTensor::scale_bytes`]
/// gives them in that type's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedTensor {
    pub scheme: QuantScheme,
    pub shape: Vec<usize>,
    pub codes: Vec<u32>,
    pub scales: Vec<f32>,
}

impl QuantizedTensor {
    /// Assembles a tensor from its parts, checking that their sizes fit the scheme and shape.
    pub fn from_parts(
        scheme: QuantScheme,
        shape: Vec<usize>,
        codes: Vec<u32>,
        scales: Vec<f32>,
    ) -> Result<Self> {
        let layout = Layout::new(&scheme, &shape)?;
        let want_scales = layout.num_blocks();
        if codes.len() != layout.code_words() || scales.len() != want_scales {
            return Err(Error::Shape(format!(
                "`{scheme}` on shape {shape:?} needs {} code words and {} scales, got {} and {}",
                layout.code_words(),
                want_scales,
                codes.len(),
                scales.len()
            )));
        }
        Ok(QuantizedTensor {
            scheme,
            shape,
            codes,
            scales,
        })
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
            param_bytes(s, self.scheme.param, &mut out);
        }
        out
    }

    /// Size of codes plus scales in bytes.
    pub fn stored_bytes(&self) -> usize {
        self.code_bytes().len() + self.scales.len() * self.scheme.param.bytes()
    }
}
