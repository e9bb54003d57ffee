//! GGUF block types (NUMERICS section 7): the 32-element types and the K-quants' super-blocks
//! of 256. Every fact about a type stands in one table, [`GgufType::traits`], as in ggml's
//! `type_traits`; the kernels' `GGUF_*` constants, the file type ids, the text names and the
//! block sizes all come from it.

use std::fmt;

/// Elements per K-quant super-block (ggml's `QK_K`).
pub const QK_K: usize = 256;

/// The E2M1 values doubled, as llama.cpp's `kvalues_mxfp4`.
pub const KVALUES_MXFP4: [i8; 16] = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

/// `floorf(log2f(a))` for a correctly rounded `log2f`, as llama.cpp and gguf-py compute MXFP4's
/// exponent: just below a power of two, log2 rounds up to the integer.
pub fn floor_log2f(a: f32) -> i32 {
    ((a as f64).log2() as f32).floor() as i32
}

/// `2^(e - 127) / 2`, as llama.cpp's `ggml_e8m0_to_fp32_half`.
pub fn e8m0_to_f32_half(e: u8) -> f32 {
    let bits = if e < 2 {
        0x0020_0000u32 << e
    } else {
        (e as u32 - 1) << 23
    };
    f32::from_bits(bits)
}

/// For each biased f32 exponent, the largest `n` such that `floor_log2f` of
/// `2^e * (2 - n * 2^-23)` is `e + 1` (0 when there is none): the GPU's MXFP4 exponent is the
/// f32 exponent plus one where `2^23 - mantissa <= table[exponent]`.
pub fn mxfp4_round_up_table() -> Vec<u32> {
    (0..256u32)
        .map(|biased| {
            if biased == 0 || biased == 255 {
                return 0;
            }
            let e = biased as i32 - 127;
            (1..(1u32 << 23))
                .take_while(|&n| {
                    let a = f32::from_bits((biased << 23) | ((1 << 23) - n));
                    floor_log2f(a) == e + 1
                })
                .last()
                .unwrap_or(0)
        })
        .collect()
}

/// A GGUF block type, byte-exact with llama.cpp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GgufType {
    Q8_0,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Mxfp4,
    Q2K,
    Q3K,
    Q4K,
    Q5K,
    Q6K,
}

/// What one GGUF block type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GgufTraits {
    /// llama.cpp's name (`ggml_type_name`), e.g. `Q4_0`; text forms take it in any case.
    pub name: &'static str,
    /// The `ggml_type` id in GGUF files.
    pub ggml_id: u32,
    /// Elements of one block: 32, or [`QK_K`] for the K-quants.
    pub block: usize,
    /// Bytes of one block (the block struct of ggml-common.h).
    pub block_bytes: usize,
    /// Sub-blocks with their own scale in one block: 1, or 8 or 16 for the K-quants.
    pub sub_blocks: usize,
}

impl GgufType {
    /// Every GGUF type; a type's position here is its kernels' `GGUF_TYPE` value.
    pub const ALL: [GgufType; 11] = [
        GgufType::Q8_0,
        GgufType::Q4_0,
        GgufType::Q4_1,
        GgufType::Q5_0,
        GgufType::Q5_1,
        GgufType::Mxfp4,
        GgufType::Q2K,
        GgufType::Q3K,
        GgufType::Q4K,
        GgufType::Q5K,
        GgufType::Q6K,
    ];

    /// The table.
    pub const fn traits(self) -> GgufTraits {
        let (name, ggml_id, block, block_bytes, sub_blocks) = match self {
            GgufType::Q8_0 => ("Q8_0", 8, 32, 34, 1),
            GgufType::Q4_0 => ("Q4_0", 2, 32, 18, 1),
            GgufType::Q4_1 => ("Q4_1", 3, 32, 20, 1),
            GgufType::Q5_0 => ("Q5_0", 6, 32, 22, 1),
            GgufType::Q5_1 => ("Q5_1", 7, 32, 24, 1),
            GgufType::Mxfp4 => ("MXFP4", 39, 32, 17, 1),
            // 16 bytes of 4-bit scales and mins, 64 of 2-bit codes, d, dmin (f16).
            GgufType::Q2K => ("Q2_K", 10, QK_K, 84, 16),
            // 32 bytes of third bits, 64 of 2-bit codes, 12 of 6-bit scales, d (f16).
            GgufType::Q3K => ("Q3_K", 11, QK_K, 110, 16),
            // d, dmin (f16), 12 bytes of 6-bit scales and mins of 8 sub-blocks, 128 of nibbles.
            GgufType::Q4K => ("Q4_K", 12, QK_K, 144, 8),
            // as Q4_K, with 32 bytes of fifth bits before the nibbles.
            GgufType::Q5K => ("Q5_K", 13, QK_K, 176, 8),
            // 128 bytes of low nibbles, 64 of high 2 bits, 16 i8 scales, d (f16).
            GgufType::Q6K => ("Q6_K", 14, QK_K, 210, 16),
        };
        GgufTraits {
            name,
            ggml_id,
            block,
            block_bytes,
            sub_blocks,
        }
    }

    /// llama.cpp's name, e.g. `Q4_0`.
    pub fn name(self) -> &'static str {
        self.traits().name
    }

    /// Bytes of one block.
    pub fn block_bytes(self) -> usize {
        self.traits().block_bytes
    }

    /// Elements of one block: a row's length must be a multiple of it.
    pub fn block_elements(self) -> usize {
        self.traits().block
    }

    /// Sub-blocks with their own scale in one block.
    pub fn sub_blocks(self) -> usize {
        self.traits().sub_blocks
    }

    /// Whether this is a K-quant (super-blocks of [`QK_K`]).
    pub fn is_k_quant(self) -> bool {
        self.block_elements() == QK_K
    }

    /// Blocks per GPU invocation so that each writes whole u32 words: 2, 2, 1, 2, 1, 4, 1, 2, 1,
    /// 1, 2.
    pub fn blocks_per_group(self) -> usize {
        (1..=4)
            .find(|g| (g * self.block_bytes()).is_multiple_of(4))
            .unwrap_or(4)
    }

    /// The type named `text` (any case), e.g. `q4_0` or `MXFP4`.
    pub fn from_name(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(text.trim()))
    }

    /// The type of a `ggml_type` id.
    pub fn from_ggml_id(id: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.traits().ggml_id == id)
    }
}

impl fmt::Display for GgufType {
    /// The lower-case name, as wgquant's scheme texts write it (`q4_0`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name().to_ascii_lowercase())
    }
}
