//! Writing GGUF v3 as llama.cpp's `gguf_write` lays it out: header, metadata, tensor table,
//! zeros to the alignment, then each tensor's bytes padded with zeros to the alignment.

use std::io::Write;

use super::{padded, GgufTensorInfo, MetaValue, ALIGNMENT, ALIGNMENT_KEY, MAGIC, VERSION};
use crate::io::ordered::{Listed, OrderedTensors};

fn put_string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

/// Appends the encoding of `v` (without its type id).
fn put_value(out: &mut Vec<u8>, v: &MetaValue) {
    match v {
        MetaValue::U8(x) => out.extend(x.to_le_bytes()),
        MetaValue::I8(x) => out.extend(x.to_le_bytes()),
        MetaValue::U16(x) => out.extend(x.to_le_bytes()),
        MetaValue::I16(x) => out.extend(x.to_le_bytes()),
        MetaValue::U32(x) => out.extend(x.to_le_bytes()),
        MetaValue::I32(x) => out.extend(x.to_le_bytes()),
        MetaValue::F32(x) => out.extend(x.to_le_bytes()),
        MetaValue::Bool(x) => out.push(u8::from(*x)),
        MetaValue::String(s) => put_string(out, s),
        MetaValue::U64(x) => out.extend(x.to_le_bytes()),
        MetaValue::I64(x) => out.extend(x.to_le_bytes()),
        MetaValue::F64(x) => out.extend(x.to_le_bytes()),
        MetaValue::Array(a) => {
            out.extend(a.item.to_le_bytes());
            out.extend(a.len.to_le_bytes());
            out.extend(&a.raw);
        }
    }
}

/// Writes a GGUF v3 file: `new` writes the header, metadata and tensor table (all sizes are known
/// up front); `write_next` then takes each tensor's bytes in table order.
pub struct GgufWriter<W: Write> {
    data: OrderedTensors<W>,
}

impl<W: Write> GgufWriter<W> {
    /// The alignment is `general.alignment` when `metadata` has it as a u32, else 32.
    pub fn new(
        mut out: W,
        metadata: &[(String, MetaValue)],
        tensors: Vec<GgufTensorInfo>,
    ) -> std::io::Result<Self> {
        let alignment = metadata
            .iter()
            .find_map(|(k, v)| match v {
                MetaValue::U32(a) if k == ALIGNMENT_KEY && a.is_power_of_two() => Some(*a as u64),
                _ => None,
            })
            .unwrap_or(ALIGNMENT);
        let mut head = Vec::new();
        head.extend(MAGIC);
        head.extend(VERSION.to_le_bytes());
        head.extend((tensors.len() as u64).to_le_bytes());
        head.extend((metadata.len() as u64).to_le_bytes());
        for (key, value) in metadata {
            put_string(&mut head, key);
            head.extend(value.type_id().to_le_bytes());
            put_value(&mut head, value);
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
            offset += padded(t.bytes() as u64, alignment);
        }
        head.resize(padded(head.len() as u64, alignment) as usize, 0);
        out.write_all(&head)?;
        let listed = tensors
            .into_iter()
            .map(|t| {
                let bytes = t.bytes() as u64;
                Listed {
                    name: t.name,
                    bytes,
                    padded: padded(bytes, alignment),
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
