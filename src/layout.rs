//! Block grid, scale grid and packed-row math (NUMERICS section 6), shared by the CPU reference and
//! the GPU host code so that both index the same way.
//!
//! Any tensor is viewed as `[outer, rows, cols]`: `cols` is the last dim, `rows` the one before
//! it (1 for a 1-D tensor) and `outer` the product of the rest. A block covers `block_rows` rows
//! by `block_cols` columns of one `[rows, cols]` matrix. `Tensor` level is the block that covers
//! every row of every matrix, so one formula serves both levels.

use crate::error::{Error, Result};
use crate::scheme::{QuantLevel, QuantScheme, QuantStore};

/// Where every element, block and code word of one tensor lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub shape: Vec<usize>,
    /// Rows per matrix (the geometry's `R`; all rows at `Tensor` level).
    pub rows: usize,
    /// Length of the last dim.
    pub cols: usize,
    pub block_rows: usize,
    pub block_cols: usize,
    /// Blocks per matrix along rows and columns.
    pub grid_rows: usize,
    pub grid_cols: usize,
    pub codes_per_word: usize,
    pub store: QuantStore,
    /// Shape of the scale grid as NUMERICS section 6 writes it.
    pub scale_shape: Vec<usize>,
}

impl Layout {
    /// Checks the scheme against the shape and derives the geometry.
    pub fn new(scheme: &QuantScheme, shape: &[usize]) -> Result<Self> {
        scheme.validate_for_shape(shape)?;
        let rank = shape.len();
        match shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) {
            Some(n) if n <= 1 << 40 => {}
            _ => {
                return Err(Error::Shape(format!(
                    "shape {shape:?} has too many elements"
                )))
            }
        }
        let cols = shape.last().copied().unwrap_or(1);
        let rows_per_matrix = if rank >= 2 { shape[rank - 2] } else { 1 };
        let total_rows = shape[..rank.saturating_sub(1)].iter().product::<usize>();
        let (rows, block_rows, block_cols, scale_shape) = match scheme.level {
            QuantLevel::Tensor => (
                total_rows,
                total_rows.max(1),
                cols.max(1),
                vec![1; rank.max(1)],
            ),
            QuantLevel::Block(b) => {
                let (br, bc) = b.rows_cols();
                let mut grid = shape.to_vec();
                for (g, blk) in grid.iter_mut().rev().zip(b.dims().iter().rev()) {
                    *g = g.div_ceil(*blk);
                }
                (rows_per_matrix, br, bc, grid)
            }
        };
        Ok(Layout {
            shape: shape.to_vec(),
            rows,
            cols,
            block_rows,
            block_cols,
            grid_rows: rows.div_ceil(block_rows),
            grid_cols: cols.div_ceil(block_cols),
            codes_per_word: scheme.codes_per_word(),
            store: scheme.store,
            scale_shape,
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of rows of the last dim over the whole tensor.
    pub fn total_rows(&self) -> usize {
        self.len().checked_div(self.cols).unwrap_or(0)
    }

    /// Number of scales (blocks); 0 for an empty tensor, which has nothing to scale.
    pub fn num_blocks(&self) -> usize {
        if self.is_empty() {
            0
        } else {
            self.scale_shape.iter().product()
        }
    }

    /// Index of the block holding element `(row, col)`, `row` counted over the whole tensor.
    pub fn block_of(&self, row: usize, col: usize) -> usize {
        let (matrix, r) = (row / self.rows.max(1), row % self.rows.max(1));
        (matrix * self.grid_rows + r / self.block_rows) * self.grid_cols + col / self.block_cols
    }

    /// u32 words per row in the `U32` store.
    pub fn words_per_row(&self) -> usize {
        self.cols.div_ceil(self.codes_per_word)
    }

    /// u32 words holding all codes (Native: bytes packed little-endian, last word zero-padded).
    pub fn code_words(&self) -> usize {
        match self.store {
            QuantStore::U32 => self.total_rows() * self.words_per_row(),
            QuantStore::Native => self.len().div_ceil(4),
        }
    }

    /// Bytes of the codes as stored in files: whole words for `U32`, one per code for `Native`.
    pub fn code_bytes(&self) -> usize {
        match self.store {
            QuantStore::U32 => self.code_words() * 4,
            QuantStore::Native => self.len(),
        }
    }

    /// `(word, bit shift)` of element `(row, col)`; `bits` is the code width.
    pub fn code_position(&self, row: usize, col: usize, bits: usize) -> (usize, usize) {
        match self.store {
            QuantStore::U32 => {
                let j = col % self.codes_per_word;
                (
                    row * self.words_per_row() + col / self.codes_per_word,
                    j * bits,
                )
            }
            QuantStore::Native => {
                let flat = row * self.cols + col;
                (flat / 4, (flat % 4) * 8)
            }
        }
    }
}
