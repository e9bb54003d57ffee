//! GGUF v3 files: a writer for quantized models (readable by gguf-py's `GGUFReader`) and a
//! reader of the header and tensor table for `wgquant inspect`.

use std::io::{Read, Write};

use crate::error::{Error, Result};
use crate::format::{GgufType, GGUF_BLOCK};
use crate::io::ordered::{Listed, OrderedTensors};

const MAGIC: &[u8; 4] = b"GGUF";
const VERSION: u32 = 3;
/// Data alignment (GGUF's default `general.alignment`).
pub const ALIGNMENT: u64 = 32;

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

    fn from_id(id: u32) -> Option<Self> {
        GgufType::from_ggml_id(id)
            .map(GgmlType::Block)
            .or_else(|| PLAIN_TYPES.iter().find(|t| t.1 == id).map(|t| t.0))
    }

    /// Bytes of `n` elements (a multiple of 32 for block types).
    /// Saturating, so that a hostile file's dims cannot overflow.
    pub fn bytes(self, n: usize) -> usize {
        match self {
            GgmlType::F32 | GgmlType::I32 => n.saturating_mul(4),
            GgmlType::F16 | GgmlType::BF16 | GgmlType::I16 => n.saturating_mul(2),
            GgmlType::F64 | GgmlType::I64 => n.saturating_mul(8),
            GgmlType::I8 => n,
            GgmlType::Block(t) => (n / GGUF_BLOCK).saturating_mul(t.block_bytes()),
        }
    }
}

/// A metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    U32(u32),
    String(String),
}

/// One tensor's entry in the tensor table.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufTensorInfo {
    pub name: String,
    /// Row-major shape (GGUF stores it innermost first; this is reversed back).
    pub shape: Vec<usize>,
    pub ty: GgmlType,
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

/// Writes a GGUF v3 file: `new` writes the header, metadata and tensor table (all sizes are known
/// up front); `write_next` then takes each tensor's bytes in table order.
pub struct GgufWriter<W: Write> {
    data: OrderedTensors<W>,
}

impl<W: Write> GgufWriter<W> {
    pub fn new(
        mut out: W,
        metadata: &[(String, MetaValue)],
        tensors: Vec<GgufTensorInfo>,
    ) -> std::io::Result<Self> {
        let mut head = Vec::new();
        head.extend(MAGIC);
        head.extend(VERSION.to_le_bytes());
        head.extend((tensors.len() as u64).to_le_bytes());
        head.extend((metadata.len() as u64).to_le_bytes());
        for (key, value) in metadata {
            put_string(&mut head, key);
            match value {
                MetaValue::U32(v) => {
                    head.extend(4u32.to_le_bytes());
                    head.extend(v.to_le_bytes());
                }
                MetaValue::String(s) => {
                    head.extend(8u32.to_le_bytes());
                    put_string(&mut head, s);
                }
            }
        }
        let mut offset = 0u64;
        for t in &tensors {
            put_string(&mut head, &t.name);
            head.extend((t.shape.len() as u32).to_le_bytes());
            for &d in t.shape.iter().rev() {
                head.extend((d as u64).to_le_bytes());
            }
            head.extend(t.ty.id().to_le_bytes());
            head.extend(offset.to_le_bytes());
            offset += padded(t.ty.bytes(t.shape.iter().product()) as u64);
        }
        head.resize(padded(head.len() as u64) as usize, 0);
        out.write_all(&head)?;
        let listed = tensors
            .into_iter()
            .map(|t| {
                let bytes = t.ty.bytes(t.shape.iter().product()) as u64;
                Listed {
                    name: t.name,
                    bytes,
                    padded: padded(bytes),
                }
            })
            .collect();
        Ok(GgufWriter {
            data: OrderedTensors::new(out, listed),
        })
    }

    /// Writes the next tensor's bytes, padded to the alignment.
    pub fn write_next(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.data.write_next(bytes)
    }

    /// Checks that every tensor was written and returns the sink.
    pub fn finish(self) -> std::io::Result<W> {
        self.data.finish()
    }
}

fn padded(n: u64) -> u64 {
    n.div_ceil(ALIGNMENT) * ALIGNMENT
}

/// What `read_header` finds: metadata (values other than u32 and strings are skipped and kept
/// as `None`) and the tensor table.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufHeader {
    pub metadata: Vec<(String, Option<MetaValue>)>,
    pub tensors: Vec<GgufTensorInfo>,
}

/// Reads the metadata and the tensor table of a GGUF file.
pub fn read_header(r: &mut impl Read, file: &str) -> Result<GgufHeader> {
    let err = |m: String| Error::Format {
        file: file.to_string(),
        tensor: None,
        message: m,
    };
    let mut rd = Reader { r, err: &err };
    if &rd.bytes(4)?[..] != MAGIC {
        return Err(err("not a GGUF file (bad magic)".into()));
    }
    let version = rd.u32()?;
    if version != 3 && version != 2 {
        return Err(err(format!("GGUF version {version} is not supported")));
    }
    let (n_tensors, n_kv) = (rd.u64()?, rd.u64()?);
    if n_tensors > 1 << 24 || n_kv > 1 << 24 {
        return Err(err("implausible tensor or metadata count".into()));
    }
    let mut meta = Vec::new();
    for _ in 0..n_kv {
        let key = rd.string()?;
        let ty = rd.u32()?;
        meta.push((key, rd.value(ty, 0)?));
    }
    let mut tensors = Vec::new();
    for _ in 0..n_tensors {
        let name = rd.string()?;
        let dims = rd.u32()?;
        if dims > 8 {
            return Err(err(format!("tensor `{name}` has {dims} dims")));
        }
        let mut shape = (0..dims)
            .map(|_| rd.u64().map(|d| d as usize))
            .collect::<Result<Vec<_>>>()?;
        shape.reverse();
        let id = rd.u32()?;
        let ty = GgmlType::from_id(id)
            .ok_or_else(|| err(format!("tensor `{name}` has GGML type {id}, unknown here")))?;
        rd.u64()?;
        tensors.push(GgufTensorInfo { name, shape, ty });
    }
    Ok(GgufHeader {
        metadata: meta,
        tensors,
    })
}

struct Reader<'a, R: Read, F: Fn(String) -> Error> {
    r: &'a mut R,
    err: &'a F,
}

impl<R: Read, F: Fn(String) -> Error> Reader<'_, R, F> {
    fn bytes(&mut self, n: usize) -> Result<Vec<u8>> {
        let mut b = vec![0u8; n];
        self.r
            .read_exact(&mut b)
            .map_err(|e| (self.err)(format!("truncated header: {e}")))?;
        Ok(b)
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.bytes(4)?.try_into().unwrap_or_default(),
        ))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.bytes(8)?.try_into().unwrap_or_default(),
        ))
    }
    fn string(&mut self) -> Result<String> {
        let n = self.u64()?;
        if n > 1 << 24 {
            return Err((self.err)(format!("string of {n} bytes")));
        }
        String::from_utf8(self.bytes(n as usize)?)
            .map_err(|_| (self.err)("a string is not UTF-8".into()))
    }
    /// Reads a value of GGUF value type `ty` inside `depth` arrays; keeps u32 and strings.
    fn value(&mut self, ty: u32, depth: u32) -> Result<Option<MetaValue>> {
        let size = match ty {
            0 | 1 | 7 => 1,
            2 | 3 => 2,
            4 => return Ok(Some(MetaValue::U32(self.u32()?))),
            5 | 6 => 4,
            8 => return Ok(Some(MetaValue::String(self.string()?))),
            9 => {
                if depth >= 4 {
                    return Err((self.err)("metadata arrays nested more than 4 deep".into()));
                }
                let (inner, n) = (self.u32()?, self.u64()?);
                if n > 1 << 26 {
                    return Err((self.err)(format!("array of {n} items")));
                }
                for _ in 0..n {
                    self.value(inner, depth + 1)?;
                }
                return Ok(None);
            }
            10..=12 => 8,
            _ => return Err((self.err)(format!("unknown metadata value type {ty}"))),
        };
        self.bytes(size)?;
        Ok(None)
    }
}
