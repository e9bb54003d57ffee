//! GGUF files (versions 2 and 3; ggml's `gguf.cpp` is the model): the reader takes every
//! metadata value type and the tensor table with its data offsets, checked against the file's
//! size before anything is allocated; the writer lays a file out as llama.cpp's `gguf_write`
//! does, so that a file read and written again keeps its bytes.

mod read;
mod write;

pub use read::{parse_header, GgufFile, GgufHeader, StoredTensor};
pub use write::GgufWriter;

use crate::format::GgufType;

pub(crate) const MAGIC: &[u8; 4] = b"GGUF";
/// The version the writer writes (llama.cpp's `GGUF_VERSION`).
pub(crate) const VERSION: u32 = 3;
/// Data alignment when a file has no `general.alignment` (GGUF's default).
pub const ALIGNMENT: u64 = 32;
/// The key that sets a file's data alignment.
pub const ALIGNMENT_KEY: &str = "general.alignment";
/// Most dims a tensor has (`GGML_MAX_DIMS`).
pub const MAX_DIMS: usize = 4;

/// GGML tensor types wgquant writes or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    F32,
    F16,
    BF16,
    F64,
    I8,
    I16,
    I32,
    I64,
    Block(GgufType),
}

/// The ggml ids and names of the plain types; the block types' come from `GgufType`'s table.
const PLAIN_TYPES: [(GgmlType, u32, &str); 8] = [
    (GgmlType::F32, 0, "F32"),
    (GgmlType::F16, 1, "F16"),
    (GgmlType::I8, 24, "I8"),
    (GgmlType::I16, 25, "I16"),
    (GgmlType::I32, 26, "I32"),
    (GgmlType::I64, 27, "I64"),
    (GgmlType::F64, 28, "F64"),
    (GgmlType::BF16, 30, "BF16"),
];

impl GgmlType {
    pub fn id(self) -> u32 {
        match self {
            GgmlType::Block(t) => t.traits().ggml_id,
            _ => PLAIN_TYPES.iter().find(|t| t.0 == self).map_or(0, |t| t.1),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            GgmlType::Block(t) => t.name(),
            _ => PLAIN_TYPES
                .iter()
                .find(|t| t.0 == self)
                .map_or("?", |t| t.2),
        }
    }

    pub fn from_id(id: u32) -> Option<Self> {
        GgufType::from_ggml_id(id)
            .map(GgmlType::Block)
            .or_else(|| PLAIN_TYPES.iter().find(|t| t.1 == id).map(|t| t.0))
    }

    /// Elements per block: a row's length must be a multiple of it.
    pub fn block_elements(self) -> usize {
        match self {
            GgmlType::Block(t) => t.block_elements(),
            _ => 1,
        }
    }

    /// Bytes of `n` elements (a multiple of `block_elements`).
    /// Saturating, so that a hostile file's dims cannot overflow.
    pub fn bytes(self, n: usize) -> usize {
        match self {
            GgmlType::F32 | GgmlType::I32 => n.saturating_mul(4),
            GgmlType::F16 | GgmlType::BF16 | GgmlType::I16 => n.saturating_mul(2),
            GgmlType::F64 | GgmlType::I64 => n.saturating_mul(8),
            GgmlType::I8 => n,
            GgmlType::Block(t) => (n / t.block_elements()).saturating_mul(t.block_bytes()),
        }
    }
}

/// A metadata value of any GGUF value type.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(MetaArray),
    U64(u64),
    I64(i64),
    F64(f64),
}

/// An array value, kept as its encoded items: a tokenizer's 50,000 strings cost their bytes and
/// nothing more, and are written back exactly as read.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaArray {
    /// The items' value type id.
    pub item: u32,
    pub len: u64,
    /// The items as the file encodes them.
    pub(crate) raw: Vec<u8>,
}

/// GGUF value type ids.
pub(crate) mod value_type {
    pub const U8: u32 = 0;
    pub const I8: u32 = 1;
    pub const U16: u32 = 2;
    pub const I16: u32 = 3;
    pub const U32: u32 = 4;
    pub const I32: u32 = 5;
    pub const F32: u32 = 6;
    pub const BOOL: u32 = 7;
    pub const STRING: u32 = 8;
    pub const ARRAY: u32 = 9;
    pub const U64: u32 = 10;
    pub const I64: u32 = 11;
    pub const F64: u32 = 12;

    /// Bytes of one value of a fixed-size type; `None` for strings, arrays and unknown ids.
    pub fn fixed_size(ty: u32) -> Option<usize> {
        match ty {
            U8 | I8 | BOOL => Some(1),
            U16 | I16 => Some(2),
            U32 | I32 | F32 => Some(4),
            U64 | I64 | F64 => Some(8),
            _ => None,
        }
    }

    /// The type's name in gguf-py's spelling.
    pub fn name(ty: u32) -> &'static str {
        const NAMES: [&str; 13] = [
            "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64",
            "f64",
        ];
        NAMES.get(ty as usize).copied().unwrap_or("?")
    }
}

impl MetaValue {
    /// The GGUF value type id.
    pub fn type_id(&self) -> u32 {
        use value_type as t;
        match self {
            MetaValue::U8(_) => t::U8,
            MetaValue::I8(_) => t::I8,
            MetaValue::U16(_) => t::U16,
            MetaValue::I16(_) => t::I16,
            MetaValue::U32(_) => t::U32,
            MetaValue::I32(_) => t::I32,
            MetaValue::F32(_) => t::F32,
            MetaValue::Bool(_) => t::BOOL,
            MetaValue::String(_) => t::STRING,
            MetaValue::Array(_) => t::ARRAY,
            MetaValue::U64(_) => t::U64,
            MetaValue::I64(_) => t::I64,
            MetaValue::F64(_) => t::F64,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value of any integer type, if it fits.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            MetaValue::U8(v) => Some(v.into()),
            MetaValue::U16(v) => Some(v.into()),
            MetaValue::U32(v) => Some(v.into()),
            MetaValue::U64(v) => Some(v),
            MetaValue::I8(v) => u64::try_from(v).ok(),
            MetaValue::I16(v) => u64::try_from(v).ok(),
            MetaValue::I32(v) => u64::try_from(v).ok(),
            MetaValue::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// A short display: scalars in full, strings up to 80 characters, arrays as their type,
    /// length and first few items.
    pub fn summary(&self) -> String {
        fn short(s: &str) -> String {
            match s.char_indices().nth(80) {
                Some((i, _)) => format!("{:?}...", &s[..i]),
                None => format!("{s:?}"),
            }
        }
        match self {
            MetaValue::U8(v) => v.to_string(),
            MetaValue::I8(v) => v.to_string(),
            MetaValue::U16(v) => v.to_string(),
            MetaValue::I16(v) => v.to_string(),
            MetaValue::U32(v) => v.to_string(),
            MetaValue::I32(v) => v.to_string(),
            MetaValue::F32(v) => v.to_string(),
            MetaValue::Bool(v) => v.to_string(),
            MetaValue::String(s) => short(s),
            MetaValue::U64(v) => v.to_string(),
            MetaValue::I64(v) => v.to_string(),
            MetaValue::F64(v) => v.to_string(),
            MetaValue::Array(a) => {
                let first: Vec<String> = a.items().take(4).map(|v| v.summary()).collect();
                let more = if a.len > 4 { ", ..." } else { "" };
                format!(
                    "[{} x {}: {}{more}]",
                    a.len,
                    value_type::name(a.item),
                    first.join(", ")
                )
            }
        }
    }
}

impl MetaArray {
    /// The items, decoded one at a time (the array was checked when it was read).
    pub fn items(&self) -> impl Iterator<Item = MetaValue> + '_ {
        let mut at = &self.raw[..];
        (0..self.len).map_while(move |_| read::decode_value(&mut at, self.item).ok())
    }
}

/// One tensor's entry in the tensor table.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufTensorInfo {
    pub name: String,
    /// Row-major shape (GGUF stores it innermost first; this is reversed back).
    pub shape: Vec<usize>,
    pub ty: GgmlType,
}

impl GgufTensorInfo {
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// Bytes of the tensor's data.
    pub fn bytes(&self) -> usize {
        self.ty.bytes(self.elements())
    }
}

/// `n` rounded up to a multiple of `alignment`.
pub(crate) fn padded(n: u64, alignment: u64) -> u64 {
    n.div_ceil(alignment) * alignment
}
