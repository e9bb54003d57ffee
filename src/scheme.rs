//! Quantization schemes (NUMERICS section 1): the five parts, Burn-like builders, the compact text
//! form used by the CLI and logs, and validation of combinations. Pure data, no GPU.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::format::minifloat::{self, Minifloat};
use crate::format::GgufType;

/// How codes map back to real values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QuantMode {
    /// `x' = q * scale`, codes centred on zero.
    #[default]
    Symmetric,
    /// `x' = (u - zero) * scale`, unsigned codes with a per-block zero point.
    Affine,
    /// `x' = codebook[code] * scale`.
    Lookup(Codebook),
}

/// Codebooks for [`QuantMode::Lookup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codebook {
    /// bitsandbytes' 4-bit NormalFloat.
    Nf4,
}

/// Which elements share one scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QuantLevel {
    /// One scale for the whole tensor.
    #[default]
    Tensor,
    /// One scale per block tiling the trailing dims.
    Block(BlockSize),
}

impl QuantLevel {
    /// A block level from 1 or 2 dims over the trailing dims, e.g. `[32]` or `[2, 16]`.
    pub fn block<const N: usize>(dims: [usize; N]) -> Self {
        QuantLevel::Block(BlockSize::new(&dims))
    }
}

/// A block shape of 1 or 2 dims. Stored as given; validation rejects 0 and more than 2 dims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockSize {
    dims: [usize; 3],
    len: usize,
}

impl BlockSize {
    /// Keeps up to three dims so that validation can report a block with too many.
    pub fn new(dims: &[usize]) -> Self {
        let mut d = [0; 3];
        let len = dims.len().min(3);
        d[..len].copy_from_slice(&dims[..len]);
        BlockSize {
            dims: d,
            len: if dims.len() > 3 { 4 } else { len },
        }
    }

    /// The block's dims, innermost last.
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.len.min(3)]
    }

    /// Rows and columns covered by one block (a 1-D block covers one row).
    pub fn rows_cols(&self) -> (usize, usize) {
        match self.dims() {
            [c] => (1, *c),
            [r, c] => (*r, *c),
            _ => (0, 0),
        }
    }
}

/// The code type of each element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QuantValue {
    /// 8-bit, codes [-128, 127].
    Q8F,
    /// 4-bit, codes [-8, 7].
    Q4F,
    /// 2-bit, codes [-2, 1].
    Q2F,
    /// 8-bit symmetric, codes [-127, 127].
    #[default]
    Q8S,
    /// 4-bit symmetric, codes [-7, 7].
    Q4S,
    /// 2-bit symmetric, codes [-1, 1].
    Q2S,
    /// FP8 `float8_e4m3fn`.
    E4M3,
    /// FP8 `float8_e5m2`.
    E5M2,
    /// FP4 `float4_e2m1fn`.
    E2M1,
}

/// What an element of a [`QuantValue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// A signed integer code in `[a, b]` (NUMERICS section 2); `full_range` values (the `F`
    /// ones) also take Affine mode.
    Int { range: (i32, i32), full_range: bool },
    /// An OCP minifloat (NUMERICS section 3).
    Minifloat(Minifloat),
}

/// What one [`QuantValue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueTraits {
    /// The text form's name.
    pub name: &'static str,
    /// Bits per code.
    pub bits: u32,
    pub element: Element,
}

impl QuantValue {
    /// Every value.
    pub const ALL: [QuantValue; 9] = [
        QuantValue::Q8F,
        QuantValue::Q4F,
        QuantValue::Q2F,
        QuantValue::Q8S,
        QuantValue::Q4S,
        QuantValue::Q2S,
        QuantValue::E4M3,
        QuantValue::E5M2,
        QuantValue::E2M1,
    ];

    /// The table: every property of a value is read from here.
    pub const fn traits(self) -> ValueTraits {
        const fn int(name: &'static str, bits: u32, a: i32, b: i32, full: bool) -> ValueTraits {
            ValueTraits {
                name,
                bits,
                element: Element::Int {
                    range: (a, b),
                    full_range: full,
                },
            }
        }
        const fn float(name: &'static str, f: Minifloat) -> ValueTraits {
            ValueTraits {
                name,
                bits: f.bits(),
                element: Element::Minifloat(f),
            }
        }
        match self {
            QuantValue::Q8F => int("q8f", 8, -128, 127, true),
            QuantValue::Q4F => int("q4f", 4, -8, 7, true),
            QuantValue::Q2F => int("q2f", 2, -2, 1, true),
            QuantValue::Q8S => int("q8s", 8, -127, 127, false),
            QuantValue::Q4S => int("q4s", 4, -7, 7, false),
            QuantValue::Q2S => int("q2s", 2, -1, 1, false),
            QuantValue::E4M3 => float("e4m3", minifloat::E4M3),
            QuantValue::E5M2 => float("e5m2", minifloat::E5M2),
            QuantValue::E2M1 => float("e2m1", minifloat::E2M1),
        }
    }

    /// Bits per code.
    pub fn bits(self) -> u32 {
        self.traits().bits
    }

    /// Signed code range `[a, b]` of the integer values (NUMERICS section 2).
    pub fn int_range(self) -> Option<(i32, i32)> {
        match self.traits().element {
            Element::Int { range, .. } => Some(range),
            Element::Minifloat(_) => None,
        }
    }

    /// True for Q8F, Q4F, Q2F (the values that allow Affine mode).
    pub fn is_full_range(self) -> bool {
        matches!(
            self.traits().element,
            Element::Int {
                full_range: true,
                ..
            }
        )
    }

    /// The minifloat format of a float value.
    pub fn minifloat(self) -> Option<Minifloat> {
        match self.traits().element {
            Element::Minifloat(f) => Some(f),
            Element::Int { .. } => None,
        }
    }

    /// True for the minifloat values.
    pub fn is_float(self) -> bool {
        self.minifloat().is_some()
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.traits().name == name)
    }
}

/// How codes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QuantStore {
    /// Packed LSB-first into u32 words, each row starting on a word.
    #[default]
    U32,
    /// One code per byte, row-major (8-bit values only).
    Native,
}

/// Precision of the stored scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QuantParam {
    #[default]
    F32,
    F16,
    BF16,
    /// Power-of-two shared scale (MX).
    E8M0,
    /// FP8 block scales under an f32 tensor scale (NVFP4).
    E4M3,
}

impl QuantParam {
    /// Every param type; a type's position here is its kernels' `PARAM` value.
    pub const ALL: [QuantParam; 5] = [
        QuantParam::F32,
        QuantParam::F16,
        QuantParam::BF16,
        QuantParam::E8M0,
        QuantParam::E4M3,
    ];

    /// The table: the text form's name and the bytes per stored scale.
    pub const fn traits(self) -> (&'static str, usize) {
        match self {
            QuantParam::F32 => ("f32", 4),
            QuantParam::F16 => ("f16", 2),
            QuantParam::BF16 => ("bf16", 2),
            QuantParam::E8M0 => ("e8m0", 1),
            QuantParam::E4M3 => ("e4m3", 1),
        }
    }

    /// The text form's name.
    pub fn name(self) -> &'static str {
        self.traits().0
    }

    /// Bytes per stored scale.
    pub fn bytes(self) -> usize {
        self.traits().1
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Appends the stored bytes of one scale `sp` (exactly representable in this type),
    /// little-endian; E8M0 stores `k + 127` for `2^k`, with 2^-127 (an f32 subnormal) as 0.
    pub fn push_bytes(self, sp: f32, out: &mut Vec<u8>) {
        match self {
            QuantParam::F32 => out.extend_from_slice(&sp.to_le_bytes()),
            QuantParam::F16 => out.extend_from_slice(&half::f16::from_f32(sp).to_le_bytes()),
            QuantParam::BF16 => out.extend_from_slice(&half::bf16::from_f32(sp).to_le_bytes()),
            QuantParam::E8M0 => out.push((sp.to_bits() >> 23) as u8),
            QuantParam::E4M3 => out.push(minifloat::E4M3.encode(sp) as u8),
        }
    }
}

/// A complete quantization scheme. Defaults follow Burn: Symmetric, Tensor, Q8S, U32, F32.
///
/// ```
/// use wgquant::{QuantLevel, QuantParam, QuantScheme, QuantValue};
/// let s = QuantScheme::default()
///     .with_level(QuantLevel::block([32]))
///     .with_value(QuantValue::Q4S)
///     .with_param(QuantParam::F16);
/// assert_eq!(s.to_string(), "q4s:block32:f16");
/// assert_eq!("q4s:block32:f16".parse::<QuantScheme>().unwrap(), s);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct QuantScheme {
    pub mode: QuantMode,
    pub level: QuantLevel,
    pub value: QuantValue,
    pub store: QuantStore,
    pub param: QuantParam,
}

impl QuantScheme {
    pub fn with_mode(mut self, mode: QuantMode) -> Self {
        self.mode = mode;
        self
    }
    pub fn with_level(mut self, level: QuantLevel) -> Self {
        self.level = level;
        self
    }
    pub fn with_value(mut self, value: QuantValue) -> Self {
        self.value = value;
        self
    }
    pub fn with_store(mut self, store: QuantStore) -> Self {
        self.store = store;
        self
    }
    pub fn with_param(mut self, param: QuantParam) -> Self {
        self.param = param;
        self
    }

    /// Codes per u32 word in the `U32` store.
    pub fn codes_per_word(&self) -> usize {
        (32 / self.value.bits()) as usize
    }

    fn invalid(&self, reason: impl Into<String>) -> Error {
        Error::InvalidScheme {
            scheme: self.to_string(),
            reason: reason.into(),
        }
    }

    /// Rejects combinations NUMERICS section 1 forbids, independent of any tensor.
    pub fn validate(&self) -> Result<()> {
        if let QuantLevel::Block(b) = self.level {
            if b.len == 0 || b.len > 2 {
                return Err(self.invalid("a block has 1 or 2 dims"));
            }
            if b.dims().contains(&0) {
                return Err(self.invalid("a block dim of size 0"));
            }
            if b.dims().iter().any(|&d| d > u32::MAX as usize) {
                return Err(self.invalid("a block dim above 2^32 - 1"));
            }
        }
        let v = self.value;
        if self.store == QuantStore::Native && v.bits() != 8 {
            return Err(self.invalid(format!(
                "Native store holds one code per byte and needs an 8-bit value, not {}-bit",
                v.bits()
            )));
        }
        match self.mode {
            QuantMode::Affine if !v.is_full_range() => {
                return Err(
                    self.invalid("Affine mode needs a full-range integer value (Q8F, Q4F, Q2F)")
                )
            }
            QuantMode::Lookup(Codebook::Nf4) if v != QuantValue::Q4F => {
                return Err(self.invalid("NF4 lookup uses 4-bit codes (value Q4F)"))
            }
            QuantMode::Lookup(_)
                if !matches!(
                    self.param,
                    QuantParam::F32 | QuantParam::F16 | QuantParam::BF16
                ) =>
            {
                return Err(self.invalid("NF4 lookup takes F32, F16 or BF16 absmax scales"))
            }
            _ => {}
        }
        match self.param {
            QuantParam::E8M0 if !v.is_float() => {
                return Err(
                    self.invalid("E8M0 (MX) scales go with a float value (E4M3, E5M2, E2M1)")
                )
            }
            QuantParam::E4M3 => {
                let nvfp4_block = self.level == QuantLevel::block([16]);
                if v != QuantValue::E2M1 || !nvfp4_block || self.mode != QuantMode::Symmetric {
                    return Err(self.invalid(
                        "E4M3 scales are NVFP4: value E2M1, Symmetric mode, level block16",
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Validates the scheme against a tensor shape.
    pub fn validate_for_shape(&self, shape: &[usize]) -> Result<()> {
        self.validate()?;
        if let QuantLevel::Block(b) = self.level {
            if b.dims().len() > shape.len() {
                return Err(self.invalid(format!(
                    "block {:?} has more dims than the tensor's shape {:?}",
                    b.dims(),
                    shape
                )));
            }
        }
        Ok(())
    }
}

impl fmt::Display for QuantScheme {
    /// `value:level:param[:native][:affine]`; NF4 prints as `nf4:level:param`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mode {
            QuantMode::Lookup(Codebook::Nf4) => write!(f, "nf4")?,
            _ => write!(f, "{}", self.value.traits().name)?,
        }
        match self.level {
            QuantLevel::Tensor => write!(f, ":tensor")?,
            QuantLevel::Block(b) => {
                let dims: Vec<String> = b.dims().iter().map(|d| d.to_string()).collect();
                write!(f, ":block{}", dims.join("x"))?
            }
        }
        write!(f, ":{}", self.param.name())?;
        if self.store == QuantStore::Native {
            write!(f, ":native")?;
        }
        if self.mode == QuantMode::Affine {
            write!(f, ":affine")?;
        }
        Ok(())
    }
}

impl FromStr for QuantScheme {
    type Err = Error;

    /// Parses the text form written by `Display`. The value comes first; level, param, store
    /// and mode follow in any order and default as in [`QuantScheme::default`].
    fn from_str(text: &str) -> Result<Self> {
        let err = |reason: String| Error::ParseScheme {
            text: text.to_string(),
            reason,
        };
        let lower = text.trim().to_ascii_lowercase();
        let mut parts = lower.split(':');
        let first = parts.next().unwrap_or_default();
        let mut scheme = QuantScheme::default();
        if let Some(t) = GgufType::from_name(first) {
            return Err(err(format!(
                "`{t}` is a GGUF block type, not a scheme (a `Format` parses either)"
            )));
        }
        if first == "nf4" {
            scheme.value = QuantValue::Q4F;
            scheme.mode = QuantMode::Lookup(Codebook::Nf4);
        } else if let Some(v) = QuantValue::from_name(first) {
            scheme.value = v;
        } else {
            return Err(err(format!("unknown value `{first}`")));
        }
        for part in parts {
            if part == "tensor" {
                scheme.level = QuantLevel::Tensor;
            } else if let Some(dims) = part.strip_prefix("block") {
                let dims: std::result::Result<Vec<usize>, _> =
                    dims.split('x').map(str::parse::<usize>).collect();
                let dims =
                    dims.map_err(|_| err(format!("bad block `{part}` (e.g. block32, block2x16)")))?;
                scheme.level = QuantLevel::Block(BlockSize::new(&dims));
            } else if let Some(p) = QuantParam::from_name(part) {
                scheme.param = p;
            } else if part == "native" {
                scheme.store = QuantStore::Native;
            } else if part == "u32" {
                scheme.store = QuantStore::U32;
            } else if part == "affine" || part == "symmetric" {
                if first == "nf4" {
                    return Err(err(format!(
                        "NF4 is a lookup mode; `{part}` does not combine with it"
                    )));
                }
                scheme.mode = if part == "affine" {
                    QuantMode::Affine
                } else {
                    QuantMode::Symmetric
                };
            } else {
                return Err(err(format!("unknown part `{part}`")));
            }
        }
        Ok(scheme)
    }
}

/// What a tensor is quantized to: a scheme of the generic path or a GGUF block type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Scheme(QuantScheme),
    Gguf(GgufType),
}

impl fmt::Display for Format {
    /// The scheme's text, or the GGUF type's lower-case name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Format::Scheme(s) => write!(f, "{s}"),
            Format::Gguf(t) => write!(f, "{t}"),
        }
    }
}

impl FromStr for Format {
    type Err = Error;

    /// A GGUF type's name (any case, e.g. `Q4_0`) or a scheme's text.
    fn from_str(text: &str) -> Result<Self> {
        match GgufType::from_name(text) {
            Some(t) => Ok(Format::Gguf(t)),
            None => text.parse().map(Format::Scheme),
        }
    }
}

/// A representative scheme of every value, mode, store and scale type: the integer values per
/// tensor and in blocks of 32 with each float scale type, the Native store, Affine, NF4, the
/// minifloats, MX and NVFP4. The demo and the full benchmark run these.
pub fn representative_schemes() -> Vec<QuantScheme> {
    let mut texts: Vec<String> = Vec::new();
    for value in ["q8s", "q8f", "q4s", "q4f", "q2s", "q2f"] {
        for level_param in ["tensor:f32", "block32:f32", "block32:f16", "block32:bf16"] {
            texts.push(format!("{value}:{level_param}"));
        }
    }
    texts.extend(
        [
            "q8s:block32:f16:native",
            "q8f:block2x16:f16:native",
            "q8f:block32:f16:affine",
            "q4f:block32:f16:affine",
            "q2f:block32:f16:affine",
            "nf4:block64:f16",
            "e4m3:tensor:f32",
            "e4m3:block32:bf16",
            "e5m2:block32:bf16",
            "e2m1:block32:bf16",
            "e4m3:block32:f16:native",
            "e4m3:block32:e8m0",
            "e5m2:block32:e8m0",
            "e2m1:block32:e8m0",
            "e2m1:block16:e4m3",
        ]
        .map(String::from),
    );
    texts.iter().filter_map(|t| t.parse().ok()).collect()
}
