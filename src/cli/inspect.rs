//! `wgquant inspect`: what a safetensors, wgquant or GGUF file holds.

use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

use crate::error::Result;
use crate::io::gguf::GgufFile;
use crate::io::model::quantized_index;
use crate::io::safetensors::{io_error, SafetensorsFile};

/// Prints the tensors of `path` with dtypes (or schemes), shapes and sizes.
pub fn inspect(path: &Path) -> Result<()> {
    let text = describe(path)?;
    super::emit(&text);
    Ok(())
}

/// The listing `inspect` prints.
pub fn describe(path: &Path) -> Result<String> {
    let mut out = String::new();
    let mut magic = [0u8; 4];
    let mut f = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let n = f.read(&mut magic).map_err(|e| io_error(path, e))?;
    if n == 4 && &magic == b"GGUF" {
        let header = GgufFile::open(path)?.header;
        let _ = writeln!(
            out,
            "{}: GGUF v{}, {} tensors, {} metadata keys, alignment {}",
            path.display(),
            header.version,
            header.tensors.len(),
            header.metadata.len(),
            header.alignment
        );
        for (k, v) in &header.metadata {
            let _ = writeln!(out, "  {k} = {}", v.summary());
        }
        let mut total = 0;
        for t in &header.tensors {
            let bytes = t.info.bytes();
            total += bytes;
            tensor_line(
                &mut out,
                &t.info.name,
                t.info.ty.name(),
                &t.info.shape,
                bytes as u64,
                "",
            );
        }
        let _ = writeln!(out, "total {total} bytes of tensor data");
        return Ok(out);
    }
    let file = SafetensorsFile::open(path)?;
    let index = quantized_index(&file)?;
    let kind = if index.is_empty() {
        "safetensors"
    } else {
        "wgquant (safetensors)"
    };
    let _ = writeln!(
        out,
        "{}: {kind}, {} stored tensors",
        path.display(),
        file.tensors.len()
    );
    for (k, v) in file
        .metadata
        .iter()
        .filter(|(k, _)| !k.starts_with("wgquant."))
    {
        let _ = writeln!(out, "  {k} = {v}");
    }
    let mut total = 0;
    for t in &file.tensors {
        total += t.len;
        let base = t.name.rsplit_once('.').map_or(t.name.as_str(), |(b, _)| b);
        let scheme = index
            .get(base)
            .map(|i| format!("  <- {} of {} {:?}", i.scheme, i.dtype.name(), i.shape));
        let note = scheme.unwrap_or_default();
        tensor_line(&mut out, &t.name, t.dtype.name(), &t.shape, t.len, &note);
    }
    let _ = writeln!(out, "total {total} bytes of tensor data");
    Ok(out)
}

/// One tensor's line of the listing: name, type, shape, bytes, then `note`.
fn tensor_line(out: &mut String, name: &str, ty: &str, shape: &[usize], bytes: u64, note: &str) {
    let shape = format!("{shape:?}");
    let _ = writeln!(out, "{name:<56} {ty:>8} {shape:>18} {bytes:>12}{note}");
}
