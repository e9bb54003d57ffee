//! Reading GGUF: the header (every value type, arrays nested up to a limit), the tensor table,
//! and each tensor's bytes. Every count and length is checked against the bytes left in the file
//! before it is used, so a hostile header fails fast without a large allocation.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{padded, value_type as vt, GgmlType, GgufTensorInfo, MetaArray, MetaValue};
use super::{ALIGNMENT, ALIGNMENT_KEY, MAGIC, MAX_DIMS};
use crate::error::{Error, Result};
use crate::io::safetensors::io_error;

/// How deep arrays may nest in a value.
const MAX_ARRAY_DEPTH: u32 = 8;
/// Longest tensor name ggml takes (`GGML_MAX_NAME` less its terminator).
const MAX_NAME: usize = 63;

/// A tensor in the table with the file offset of its data.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTensor {
    pub info: GgufTensorInfo,
    /// From the start of the file.
    pub offset: u64,
}

/// A GGUF file's header: version, metadata in file order, the data alignment and the tensor
/// table in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufHeader {
    pub version: u32,
    pub metadata: Vec<(String, MetaValue)>,
    pub alignment: u64,
    pub tensors: Vec<StoredTensor>,
}

impl GgufHeader {
    /// The value of `key`, if the file has it.
    pub fn get(&self, key: &str) -> Option<&MetaValue> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// An open GGUF file: its header, and its tensors' bytes on demand.
pub struct GgufFile {
    pub path: PathBuf,
    pub header: GgufHeader,
    file: File,
}

impl GgufFile {
    /// Opens `path` and reads and checks its header.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| io_error(path, e))?;
        let len = file.metadata().map_err(|e| io_error(path, e))?.len();
        let mut buffered = BufReader::with_capacity(1 << 16, file);
        let header = parse_header(&mut buffered, len, &path.display().to_string())?;
        Ok(GgufFile {
            path: path.to_path_buf(),
            header,
            file: buffered.into_inner(),
        })
    }

    /// The bytes of tensor `t` of this file's table.
    pub fn read(&mut self, t: &StoredTensor) -> Result<Vec<u8>> {
        let mut bytes = vec![0u8; t.info.bytes()];
        self.file
            .seek(SeekFrom::Start(t.offset))
            .and_then(|_| self.file.read_exact(&mut bytes))
            .map_err(|e| Error::Format {
                file: self.path.display().to_string(),
                tensor: Some(t.info.name.clone()),
                message: format!("reading its data: {e}"),
            })?;
        Ok(bytes)
    }
}

/// Reads and checks the header of a GGUF file of `len` bytes from its start.
pub fn parse_header(r: &mut impl Read, len: u64, file: &str) -> Result<GgufHeader> {
    let mut rd = Reader {
        r,
        pos: 0,
        len,
        file,
    };
    if rd.take(4)? != MAGIC {
        return Err(rd.err(None, "not a GGUF file (bad magic)".into()));
    }
    let version = rd.u32()?;
    if version != 2 && version != 3 {
        return Err(rd.err(
            None,
            format!("GGUF version {version} is not supported (2 and 3 are)"),
        ));
    }
    let (n_tensors, n_kv) = (rd.u64()?, rd.u64()?);
    // Each metadata entry takes at least 12 bytes, each tensor entry at least 24.
    rd.room_for(n_kv, 12, "metadata entries")?;
    let mut metadata: Vec<(String, MetaValue)> = Vec::new();
    let mut keys = HashSet::new();
    for _ in 0..n_kv {
        let key = rd.string()?;
        if !keys.insert(key.clone()) {
            return Err(rd.err(None, format!("metadata key `{key}` appears twice")));
        }
        let ty = rd.u32()?;
        let value = rd
            .value(ty, 0)
            .map_err(|e| rd.err(None, format!("metadata `{key}`: {}", message(e))))?;
        metadata.push((key, value));
    }
    let alignment = match metadata.iter().find(|(k, _)| k == ALIGNMENT_KEY) {
        None => ALIGNMENT,
        Some((_, MetaValue::U32(a))) if a.is_power_of_two() => *a as u64,
        Some((_, v)) => {
            return Err(rd.err(
                None,
                format!("{ALIGNMENT_KEY} must be a u32 power of two, not {v:?}"),
            ))
        }
    };
    rd.room_for(n_tensors, 24, "tensors")?;
    let mut tensors = Vec::new();
    let mut names = HashSet::new();
    for _ in 0..n_tensors {
        let name = rd.string()?;
        let bad = |rd: &Reader<_>, m: String| rd.err(Some(&name), m);
        if name.len() > MAX_NAME {
            return Err(bad(&rd, format!("name longer than {MAX_NAME} bytes")));
        }
        if !names.insert(name.clone()) {
            return Err(bad(&rd, "appears twice in the tensor table".into()));
        }
        let dims = rd.u32()? as usize;
        if dims == 0 || dims > MAX_DIMS {
            return Err(bad(
                &rd,
                format!("has {dims} dims (1 to {MAX_DIMS} allowed)"),
            ));
        }
        let mut shape = Vec::with_capacity(dims);
        for _ in 0..dims {
            let d = rd.u64()?;
            if d > i64::MAX as u64 {
                return Err(bad(&rd, format!("dim {d} is negative as ggml's int64")));
            }
            shape.push(d as usize);
        }
        shape.reverse();
        let id = rd.u32()?;
        let ty = GgmlType::from_id(id).ok_or_else(|| {
            bad(
                &rd,
                format!("has ggml type {id}, which wgquant cannot read"),
            )
        })?;
        let offset = rd.u64()?;
        if shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .is_none_or(|n| ty.bytes(n) as u64 > len)
        {
            return Err(bad(&rd, format!("shape {shape:?} is larger than the file")));
        }
        if shape.last().is_some_and(|&n| n % ty.block_elements() != 0) {
            return Err(bad(
                &rd,
                format!(
                    "{} rows must be a multiple of {} elements; shape {shape:?}",
                    ty.name(),
                    ty.block_elements()
                ),
            ));
        }
        if offset % alignment != 0 {
            return Err(bad(
                &rd,
                format!("data offset {offset} is not a multiple of the alignment {alignment}"),
            ));
        }
        tensors.push((GgufTensorInfo { name, shape, ty }, offset));
    }
    let data_start = padded(rd.pos, alignment);
    let mut stored: Vec<StoredTensor> = tensors
        .into_iter()
        .map(|(info, offset)| StoredTensor {
            info,
            offset: data_start.saturating_add(offset),
        })
        .collect();
    let mut by_offset: Vec<&StoredTensor> = stored.iter().collect();
    by_offset.sort_by_key(|t| t.offset);
    let mut end = data_start;
    for t in by_offset {
        let stop = t.offset.saturating_add(t.info.bytes() as u64);
        if stop > len {
            return Err(rd.err(
                Some(&t.info.name),
                format!(
                    "data {}..{stop} runs past the end of the file ({len} bytes)",
                    t.offset
                ),
            ));
        }
        if t.offset < end {
            return Err(rd.err(Some(&t.info.name), "data overlaps another tensor's".into()));
        }
        end = stop;
    }
    stored.shrink_to_fit();
    Ok(GgufHeader {
        version,
        metadata,
        alignment,
        tensors: stored,
    })
}

/// The message of an error this reader made (which names the file already).
fn message(e: Error) -> String {
    match e {
        Error::Format { message, .. } => message,
        other => other.to_string(),
    }
}

struct Reader<'a, R: Read> {
    r: &'a mut R,
    pos: u64,
    len: u64,
    file: &'a str,
}

impl<R: Read> Reader<'_, R> {
    fn err(&self, tensor: Option<&str>, message: String) -> Error {
        Error::Format {
            file: self.file.to_string(),
            tensor: tensor.map(str::to_string),
            message,
        }
    }

    /// Fails unless `count` items of at least `each` bytes fit in what is left of the file.
    fn room_for(&self, count: u64, each: u64, what: &str) -> Result<()> {
        let left = self.len.saturating_sub(self.pos);
        if count.saturating_mul(each) > left {
            return Err(self.err(
                None,
                format!("{count} {what} cannot fit in the {left} bytes left in the file"),
            ));
        }
        Ok(())
    }

    /// Fails unless `n` more bytes are in the file.
    fn have(&self, n: u64) -> Result<()> {
        if n > self.len.saturating_sub(self.pos) {
            return Err(self.err(
                None,
                format!(
                    "truncated: {n} bytes needed at offset {}, the file has {}",
                    self.pos, self.len
                ),
            ));
        }
        Ok(())
    }

    /// Appends the next `n` bytes to `out`, growing it no further than the file could fill.
    fn take_into(&mut self, n: u64, out: &mut Vec<u8>) -> Result<()> {
        self.have(n)?;
        let (start, n) = (out.len(), n as usize);
        if out.capacity() - start < n {
            let left = (self.len - self.pos) as usize;
            let grown = (start + n).max(out.capacity() * 2).min(start + left);
            out.reserve_exact(grown - start);
        }
        out.resize(start + n, 0);
        self.r
            .read_exact(&mut out[start..])
            .map_err(|e| self.err(None, format!("truncated at offset {}: {e}", self.pos)))?;
        self.pos += n as u64;
        Ok(())
    }

    fn take(&mut self, n: u64) -> Result<Vec<u8>> {
        let mut b = Vec::new();
        self.take_into(n, &mut b)?;
        Ok(b)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.have(N as u64)?;
        let mut b = [0u8; N];
        self.r
            .read_exact(&mut b)
            .map_err(|e| self.err(None, format!("truncated at offset {}: {e}", self.pos)))?;
        self.pos += N as u64;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn string(&mut self) -> Result<String> {
        let n = self.u64()?;
        String::from_utf8(self.take(n)?).map_err(|_| self.err(None, "a string is not UTF-8".into()))
    }

    /// Reads a value of type `ty` inside `depth` arrays.
    fn value(&mut self, ty: u32, depth: u32) -> Result<MetaValue> {
        match ty {
            vt::STRING => Ok(MetaValue::String(self.string()?)),
            vt::ARRAY => {
                let mut raw = Vec::new();
                let (item, len) = self.array_items(depth, &mut raw)?;
                // Growth may have left spare room; the next value may need the memory.
                raw.shrink_to_fit();
                Ok(MetaValue::Array(MetaArray { item, len, raw }))
            }
            _ => {
                let size = vt::fixed_size(ty)
                    .ok_or_else(|| self.err(None, format!("unknown value type {ty}")))?;
                let b = self.take(size as u64)?;
                decode_value(&mut &b[..], ty).map_err(|m| self.err(None, m))
            }
        }
    }

    /// Reads an array's item type and count, and copies its encoded items into `raw`.
    fn array_items(&mut self, depth: u32, raw: &mut Vec<u8>) -> Result<(u32, u64)> {
        if depth >= MAX_ARRAY_DEPTH {
            return Err(self.err(
                None,
                format!("arrays nested more than {MAX_ARRAY_DEPTH} deep"),
            ));
        }
        let (item, len) = (self.u32()?, self.u64()?);
        match item {
            vt::STRING => {
                self.room_for(len, 8, "strings")?;
                for _ in 0..len {
                    self.take_into(8, raw)?;
                    let n = u64::from_le_bytes(raw[raw.len() - 8..].try_into().unwrap_or([0; 8]));
                    self.take_into(n, raw)?;
                }
            }
            vt::ARRAY => {
                self.room_for(len, 12, "arrays")?;
                for _ in 0..len {
                    let mut inner = Vec::new();
                    let (t, n) = self.array_items(depth + 1, &mut inner)?;
                    raw.extend(t.to_le_bytes());
                    raw.extend(n.to_le_bytes());
                    raw.extend(inner);
                }
            }
            _ => {
                let size = vt::fixed_size(item)
                    .ok_or_else(|| self.err(None, format!("array of unknown value type {item}")))?;
                self.room_for(len, size as u64, "array items")?;
                let start = raw.len();
                self.take_into(len * size as u64, raw)?;
                if item == vt::BOOL {
                    // llama.cpp reads any non-zero byte as true and writes it as 1.
                    raw[start..].iter_mut().for_each(|b| *b = u8::from(*b != 0));
                }
            }
        }
        Ok((item, len))
    }
}

/// Decodes one value of type `ty` from the front of `at` (array items as `MetaArray` keeps
/// them), advancing it.
pub(super) fn decode_value(at: &mut &[u8], ty: u32) -> std::result::Result<MetaValue, String> {
    fn take<'a>(at: &mut &'a [u8], n: u64) -> std::result::Result<&'a [u8], String> {
        if n > at.len() as u64 {
            return Err("truncated value".into());
        }
        let (head, rest) = at.split_at(n as usize);
        *at = rest;
        Ok(head)
    }
    fn fixed<const N: usize>(at: &mut &[u8]) -> std::result::Result<[u8; N], String> {
        take(at, N as u64).map(|b| b.try_into().unwrap_or([0; N]))
    }
    Ok(match ty {
        vt::U8 => MetaValue::U8(u8::from_le_bytes(fixed(at)?)),
        vt::I8 => MetaValue::I8(i8::from_le_bytes(fixed(at)?)),
        vt::U16 => MetaValue::U16(u16::from_le_bytes(fixed(at)?)),
        vt::I16 => MetaValue::I16(i16::from_le_bytes(fixed(at)?)),
        vt::U32 => MetaValue::U32(u32::from_le_bytes(fixed(at)?)),
        vt::I32 => MetaValue::I32(i32::from_le_bytes(fixed(at)?)),
        vt::F32 => MetaValue::F32(f32::from_le_bytes(fixed(at)?)),
        vt::U64 => MetaValue::U64(u64::from_le_bytes(fixed(at)?)),
        vt::I64 => MetaValue::I64(i64::from_le_bytes(fixed(at)?)),
        vt::F64 => MetaValue::F64(f64::from_le_bytes(fixed(at)?)),
        vt::BOOL => MetaValue::Bool(fixed::<1>(at)?[0] != 0),
        vt::STRING => {
            let n = u64::from_le_bytes(fixed(at)?);
            MetaValue::String(String::from_utf8_lossy(take(at, n)?).into_owned())
        }
        vt::ARRAY => {
            let item = u32::from_le_bytes(fixed(at)?);
            let len = u64::from_le_bytes(fixed(at)?);
            let start = *at;
            for _ in 0..len {
                decode_value(at, item)?;
            }
            let raw = start[..start.len() - at.len()].to_vec();
            MetaValue::Array(MetaArray { item, len, raw })
        }
        _ => return Err(format!("unknown value type {ty}")),
    })
}
