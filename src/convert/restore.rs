//! Restoring a wgquant file to plain safetensors.

use std::collections::BTreeMap;
use std::io::BufWriter;
use std::path::Path;

use half::{bf16, f16};

use super::TempOutput;
use crate::error::{Error, Result};
use crate::gpu::context::GpuContext;
use crate::io::safetensors::{io_error, Dtype, OutEntry, SafetensorsWriter};

/// Restores a wgquant file to a plain safetensors file: each quantized tensor dequantized on the
/// GPU to its original dtype and shape, everything else copied.
pub fn restore(ctx: &GpuContext, input: &Path, output: &Path, force: bool) -> Result<()> {
    use crate::io::model::{quantized_index, read_quantized, stored_parts};
    let mut file = crate::io::safetensors::SafetensorsFile::open(input)?;
    let index = quantized_index(&file)?;
    if index.is_empty() {
        return Err(Error::Format {
            file: input.display().to_string(),
            tensor: None,
            message: "not a wgquant model (no quantized tensors in __metadata__)".into(),
        });
    }
    let mut parts = BTreeMap::new();
    let mut owner = BTreeMap::new();
    for (name, info) in &index {
        let p = stored_parts(&file, name, &info.scheme)?;
        for part in p.names() {
            owner.insert(part.to_string(), name.clone());
        }
        parts.insert(name.clone(), p);
    }
    // Output order: file order, each quantized tensor where its qweight was.
    let (mut entries, mut order) = (Vec::new(), Vec::new());
    for e in &file.tensors {
        match owner.get(&e.name) {
            Some(name) if parts[name].qweight.name == e.name => {
                entries.push(OutEntry::new(
                    name,
                    index[name].dtype,
                    index[name].shape.clone(),
                ));
                order.push((name.clone(), None));
            }
            Some(_) => {}
            None => {
                entries.push(OutEntry::new(&e.name, e.dtype, e.shape.clone()));
                order.push((e.name.clone(), Some(e.clone())));
            }
        }
    }
    let metadata: BTreeMap<String, String> = file
        .metadata
        .iter()
        .filter(|(k, _)| !k.starts_with("wgquant."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (temp, out) = TempOutput::create(output, force)?;
    let buffered = BufWriter::with_capacity(1 << 20, out);
    let mut writer =
        SafetensorsWriter::new(buffered, entries, &metadata).map_err(|e| io_error(output, e))?;
    for (name, plain) in order {
        let bytes = match plain {
            Some(entry) => file.read(&entry)?,
            None => {
                let q = read_quantized(&mut file, &name, &parts[&name], &index[&name])?;
                let values = ctx.dequantize(&q)?;
                match index[&name].dtype {
                    Dtype::F16 => to_bytes(values.iter().map(|&x| f16::from_f32(x))),
                    Dtype::BF16 => to_bytes(values.iter().map(|&x| bf16::from_f32(x))),
                    _ => bytemuck::cast_slice(&values).to_vec(),
                }
            }
        };
        writer.write_next(&bytes).map_err(|e| io_error(output, e))?;
    }
    let out = writer.finish().map_err(|e| io_error(output, e))?;
    temp.commit(
        out.into_inner()
            .map_err(|e| io_error(output, e.into_error()))?,
    )
}

fn to_bytes<T: bytemuck::Pod>(values: impl Iterator<Item = T>) -> Vec<u8> {
    bytemuck::cast_slice(&values.collect::<Vec<T>>()).to_vec()
}
