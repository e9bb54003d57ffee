//! GGUF block-quantized tensors (NUMERICS section 7): the bytes of llama.cpp's block structs, in
//! order, for a tensor whose last dim is a multiple of the block (32, or 256 for the K-quants).

use crate::error::{Error, Result};
use crate::format::GgufType;

/// One tensor in a GGUF block type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GgufTensor {
    pub ty: GgufType,
    pub shape: Vec<usize>,
    /// The blocks' bytes, row after row.
    pub data: Vec<u8>,
}

impl GgufTensor {
    /// Checks that `data` holds exactly the blocks of `shape`.
    pub fn new(ty: GgufType, shape: Vec<usize>, data: Vec<u8>) -> Result<Self> {
        Self::check_shape(&shape, ty)?;
        let want = shape.iter().product::<usize>() / ty.block_elements() * ty.block_bytes();
        if data.len() != want {
            return Err(Error::Shape(format!(
                "{ty:?} tensor of shape {shape:?} has {want} bytes of blocks, got {}",
                data.len()
            )));
        }
        Ok(GgufTensor { ty, shape, data })
    }

    /// A GGUF tensor needs a last dim that is a multiple of its block (and a size that fits usize).
    pub fn check_shape(shape: &[usize], ty: GgufType) -> Result<()> {
        if shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .is_none()
        {
            return Err(Error::Shape(format!(
                "shape {shape:?} has too many elements"
            )));
        }
        match shape.last() {
            Some(&n) if n.is_multiple_of(ty.block_elements()) => Ok(()),
            _ => Err(Error::Shape(format!(
                "{ty:?} needs a row length (last dim) that is a multiple of {}; shape {shape:?} has not",
                ty.block_elements()
            ))),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
