//! safetensors files: a reader that checks every header field and names the file and tensor in
//! each error, reads one tensor at a time (peak memory is one tensor, not the model), and a
//! writer that streams tensors in header order.
//!
//! Own code rather than the `safetensors` crate (0.8), which `tests/safetensors_crate.rs` uses as
//! this reader's oracle, for two measured reasons. Streaming: `SafeTensors::read_metadata` refuses
//! any slice but the whole file (header and data), so it needs an mmap (unsafe) or the file in
//! memory: 90.9 MB for all-MiniLM-L6-v2, where this reader holds one tensor at a time (46.9 MB
//! at most, the word embeddings). Errors: of the five hostile headers in that test, the crate's
//! message names the tensor in one (an overlap); this reader names it in all five.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::io::ordered::{Listed, OrderedTensors};

/// Headers above this are refused (the format's own limit is 100 MB).
const MAX_HEADER: u64 = 100_000_000;

/// Element types of safetensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dtype {
    Bool,
    U8,
    I8,
    F8E4M3,
    F8E5M2,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    I64,
    U64,
    F64,
}

const DTYPES: [(Dtype, &str, usize); 15] = [
    (Dtype::Bool, "BOOL", 1),
    (Dtype::U8, "U8", 1),
    (Dtype::I8, "I8", 1),
    (Dtype::F8E4M3, "F8_E4M3", 1),
    (Dtype::F8E5M2, "F8_E5M2", 1),
    (Dtype::I16, "I16", 2),
    (Dtype::U16, "U16", 2),
    (Dtype::F16, "F16", 2),
    (Dtype::BF16, "BF16", 2),
    (Dtype::I32, "I32", 4),
    (Dtype::U32, "U32", 4),
    (Dtype::F32, "F32", 4),
    (Dtype::I64, "I64", 8),
    (Dtype::U64, "U64", 8),
    (Dtype::F64, "F64", 8),
];

impl Dtype {
    /// The name used in headers, e.g. `BF16`.
    pub fn name(self) -> &'static str {
        DTYPES.iter().find(|d| d.0 == self).map_or("?", |d| d.1)
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        DTYPES.iter().find(|d| d.0 == self).map_or(1, |d| d.2)
    }

    /// The dtype of a header name.
    pub fn from_name(name: &str) -> Option<Self> {
        DTYPES.iter().find(|d| d.1 == name).map(|d| d.0)
    }
}

/// One tensor of a file: where its bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorEntry {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Absolute byte offset in the file.
    pub offset: u64,
    pub len: u64,
}

impl TensorEntry {
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

/// An open safetensors file with a validated header.
#[derive(Debug)]
pub struct SafetensorsFile {
    pub path: PathBuf,
    /// Tensors in the order of their data.
    pub tensors: Vec<TensorEntry>,
    pub metadata: BTreeMap<String, String>,
    file: File,
}

fn format_error(path: &Path, tensor: Option<&str>, message: impl Into<String>) -> Error {
    Error::Format {
        file: path.display().to_string(),
        tensor: tensor.map(str::to_string),
        message: message.into(),
    }
}

pub(crate) fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

impl SafetensorsFile {
    /// Opens `path` and checks its header: length, JSON, dtypes, shapes against sizes, offsets
    /// inside the data and not overlapping.
    pub fn open(path: &Path) -> Result<Self> {
        let mut file = File::open(path).map_err(|e| io_error(path, e))?;
        let file_len = file.metadata().map_err(|e| io_error(path, e))?.len();
        let mut len_bytes = [0u8; 8];
        if file_len < 8 {
            return Err(format_error(
                path,
                None,
                format!("{file_len} bytes is too short for a safetensors file"),
            ));
        }
        file.read_exact(&mut len_bytes)
            .map_err(|e| io_error(path, e))?;
        let header_len = u64::from_le_bytes(len_bytes);
        if header_len > file_len - 8 {
            return Err(format_error(
                path,
                None,
                format!("header length {header_len} is larger than the file ({file_len} bytes): truncated or not safetensors"),
            ));
        }
        if header_len > MAX_HEADER {
            return Err(format_error(
                path,
                None,
                format!("header length {header_len} exceeds 100 MB"),
            ));
        }
        let mut header = vec![0u8; header_len as usize];
        file.read_exact(&mut header)
            .map_err(|e| io_error(path, e))?;
        let (tensors, metadata) = parse_header(path, &header, file_len - 8 - header_len)?;
        Ok(SafetensorsFile {
            path: path.to_path_buf(),
            tensors,
            metadata,
            file,
        })
    }

    /// Reads one tensor's bytes.
    pub fn read(&mut self, entry: &TensorEntry) -> Result<Vec<u8>> {
        let mut bytes = vec![0u8; entry.len as usize];
        self.file
            .seek(SeekFrom::Start(entry.offset))
            .and_then(|_| self.file.read_exact(&mut bytes))
            .map_err(|e| {
                format_error(
                    &self.path,
                    Some(&entry.name),
                    format!("cannot read its data: {e}"),
                )
            })?;
        Ok(bytes)
    }
}

/// Checks a whole in-memory file (the fuzz target's entry point): its header and that every
/// tensor lies inside it.
pub fn parse_bytes(bytes: &[u8]) -> Result<(Vec<TensorEntry>, BTreeMap<String, String>)> {
    parse_prefix(bytes, bytes.len() as u64)
}

/// Checks the header at the start of `prefix`, the first bytes of a file of `file_len` bytes
/// (at least its header).
pub fn parse_prefix(
    prefix: &[u8],
    file_len: u64,
) -> Result<(Vec<TensorEntry>, BTreeMap<String, String>)> {
    let path = Path::new("<memory>");
    let len = prefix
        .get(..8)
        .filter(|_| file_len >= 8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
        .ok_or_else(|| format_error(path, None, "too short for a safetensors file"))?;
    if len > file_len - 8 || len > MAX_HEADER {
        return Err(format_error(
            path,
            None,
            format!("header length {len} is larger than the file"),
        ));
    }
    let header = prefix
        .get(8..8 + len as usize)
        .ok_or_else(|| format_error(path, None, "the header is cut short"))?;
    parse_header(path, header, file_len - 8 - len)
}

/// Parses and checks a header whose data section holds `data_len` bytes; tensors come back in
/// data order with absolute offsets.
fn parse_header(
    path: &Path,
    header: &[u8],
    data_len: u64,
) -> Result<(Vec<TensorEntry>, BTreeMap<String, String>)> {
    let json: Map<String, Value> = serde_json::from_slice(header)
        .map_err(|e| format_error(path, None, format!("header is not a JSON object: {e}")))?;
    let data_start = 8 + header.len() as u64;
    let mut metadata = BTreeMap::new();
    let mut tensors = Vec::new();
    for (name, value) in &json {
        if name == "__metadata__" {
            let obj = value
                .as_object()
                .ok_or_else(|| format_error(path, None, "__metadata__ is not an object"))?;
            for (k, v) in obj {
                let v = v.as_str().ok_or_else(|| {
                    format_error(
                        path,
                        None,
                        format!("__metadata__ value of `{k}` is not a string"),
                    )
                })?;
                metadata.insert(k.clone(), v.to_string());
            }
            continue;
        }
        tensors.push(parse_entry(path, name, value, data_start, data_len)?);
    }
    tensors.sort_by_key(|t| t.offset);
    for pair in tensors.windows(2) {
        if pair[0].offset + pair[0].len > pair[1].offset {
            return Err(format_error(
                path,
                Some(&pair[1].name),
                format!("data overlaps that of `{}`", pair[0].name),
            ));
        }
    }
    Ok((tensors, metadata))
}

fn parse_entry(
    path: &Path,
    name: &str,
    value: &Value,
    data_start: u64,
    data_len: u64,
) -> Result<TensorEntry> {
    let err = |m: String| format_error(path, Some(name), m);
    let dtype_name = value["dtype"]
        .as_str()
        .ok_or_else(|| err("no dtype".into()))?;
    let dtype =
        Dtype::from_name(dtype_name).ok_or_else(|| err(format!("unknown dtype `{dtype_name}`")))?;
    let shape = value["shape"]
        .as_array()
        .ok_or_else(|| err("no shape".into()))?
        .iter()
        .map(|d| {
            d.as_u64()
                .map(|d| d as usize)
                .ok_or_else(|| err(format!("bad shape entry {d}")))
        })
        .collect::<Result<Vec<usize>>>()?;
    let offsets = value["data_offsets"]
        .as_array()
        .filter(|o| o.len() == 2)
        .and_then(|o| Some((o[0].as_u64()?, o[1].as_u64()?)))
        .ok_or_else(|| err("data_offsets is not [start, end]".into()))?;
    let (start, end) = offsets;
    if start > end || end > data_len {
        return Err(err(format!(
            "data_offsets [{start}, {end}] lie outside the {data_len} bytes of data (truncated file?)"
        )));
    }
    let elements = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d as u64));
    let want = elements.and_then(|n| n.checked_mul(dtype.size() as u64));
    if want != Some(end - start) {
        return Err(err(format!(
            "shape {shape:?} of {dtype_name} needs {} bytes but data_offsets hold {}",
            want.map_or("too many".to_string(), |w| w.to_string()),
            end - start
        )));
    }
    Ok(TensorEntry {
        name: name.to_string(),
        dtype,
        shape,
        offset: data_start + start,
        len: end - start,
    })
}

/// One tensor of a file being written: its header entry.
#[derive(Debug, Clone)]
pub struct OutEntry {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
}

impl OutEntry {
    pub fn new(name: impl Into<String>, dtype: Dtype, shape: Vec<usize>) -> Self {
        OutEntry {
            name: name.into(),
            dtype,
            shape,
        }
    }

    fn bytes(&self) -> u64 {
        self.shape.iter().product::<usize>() as u64 * self.dtype.size() as u64
    }
}

/// Writes a safetensors file tensor by tensor: the header (all sizes are known up front), then
/// each tensor's bytes in header order, each checked against its entry.
pub struct SafetensorsWriter<W: Write> {
    data: OrderedTensors<W>,
}

impl<W: Write> SafetensorsWriter<W> {
    pub fn new(
        mut out: W,
        entries: Vec<OutEntry>,
        metadata: &BTreeMap<String, String>,
    ) -> std::io::Result<Self> {
        let mut header = Map::new();
        if !metadata.is_empty() {
            header.insert("__metadata__".into(), serde_json::to_value(metadata)?);
        }
        let mut at = 0u64;
        for e in &entries {
            let end = at + e.bytes();
            header.insert(
                e.name.clone(),
                serde_json::json!({"dtype": e.dtype.name(), "shape": e.shape, "data_offsets": [at, end]}),
            );
            at = end;
        }
        let mut json = serde_json::to_vec(&Value::Object(header))?;
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while (json.len() + 8) % 8 != 0 {
            json.push(b' ');
        }
        out.write_all(&(json.len() as u64).to_le_bytes())?;
        out.write_all(&json)?;
        let listed = entries
            .into_iter()
            .map(|e| Listed {
                bytes: e.bytes(),
                padded: e.bytes(),
                name: e.name,
            })
            .collect();
        Ok(SafetensorsWriter {
            data: OrderedTensors::new(out, listed),
        })
    }

    /// Writes the next tensor's bytes.
    pub fn write_next(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.data.write_next(bytes)
    }

    /// Checks that every tensor was written and returns the sink.
    pub fn finish(self) -> std::io::Result<W> {
        self.data.finish()
    }
}
