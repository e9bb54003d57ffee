//! The data section of a file whose header lists every tensor first: each tensor's bytes in
//! header order, checked against the size the header gave it and padded to the format's
//! alignment.

use std::io::Write;

/// One tensor the header lists: its name, its bytes, and the bytes it takes with padding.
pub(crate) struct Listed {
    pub name: String,
    pub bytes: u64,
    pub padded: u64,
}

pub(crate) struct OrderedTensors<W: Write> {
    out: W,
    listed: Vec<Listed>,
    next: usize,
}

impl<W: Write> OrderedTensors<W> {
    /// `out` has the header written already.
    pub fn new(out: W, listed: Vec<Listed>) -> Self {
        OrderedTensors {
            out,
            listed,
            next: 0,
        }
    }

    /// Writes the next tensor's bytes and its padding.
    pub fn write_next(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let t = self
            .listed
            .get(self.next)
            .ok_or_else(|| std::io::Error::other("more tensors than the header lists"))?;
        if bytes.len() as u64 != t.bytes {
            return Err(std::io::Error::other(format!(
                "tensor `{}`: {} bytes given, the header says {}",
                t.name,
                bytes.len(),
                t.bytes
            )));
        }
        self.out.write_all(bytes)?;
        self.out
            .write_all(&vec![0u8; (t.padded - t.bytes) as usize])?;
        self.next += 1;
        Ok(())
    }

    /// Checks that every tensor was written and returns the sink, flushed.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.next != self.listed.len() {
            return Err(std::io::Error::other(
                "fewer tensors written than the header lists",
            ));
        }
        self.out.flush()?;
        Ok(self.out)
    }
}
