//! The output file of a conversion: written beside the target under a temporary name, renamed
//! into place when complete, deleted when not (an error, a drop, or Ctrl-C).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::io::safetensors::io_error;

/// Temporary outputs to delete if the process is interrupted.
static PARTIAL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Deletes every output still being written; call from a Ctrl-C handler.
pub fn remove_partial_outputs() {
    if let Ok(mut list) = PARTIAL.lock() {
        for p in list.drain(..) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A temporary file beside the target, renamed into place by `commit` and deleted otherwise.
pub struct TempOutput {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl TempOutput {
    /// Checks the target (its directory exists; it does not, unless `force`) and creates the
    /// temporary file.
    pub fn create(target: &Path, force: bool) -> Result<(Self, File)> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(Error::Io {
                path: target.display().to_string(),
                message: format!("directory {} does not exist", dir.display()),
            });
        }
        if target.exists() && !force {
            return Err(Error::Usage(format!(
                "{} exists; pass --force to replace it",
                target.display()
            )));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let temp = dir.join(format!(".{name}.wgquant-partial-{}", std::process::id()));
        let file = File::create(&temp).map_err(|e| io_error(&temp, e))?;
        if let Ok(mut list) = PARTIAL.lock() {
            list.push(temp.clone());
        }
        Ok((
            TempOutput {
                temp,
                target: target.to_path_buf(),
                committed: false,
            },
            file,
        ))
    }

    /// Flushes `file` to disk and renames the temporary file onto the target.
    pub fn commit(mut self, file: File) -> Result<()> {
        file.sync_all().map_err(|e| io_error(&self.temp, e))?;
        drop(file);
        std::fs::rename(&self.temp, &self.target).map_err(|e| io_error(&self.target, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
        if let Ok(mut list) = PARTIAL.lock() {
            list.retain(|p| p != &self.temp);
        }
    }
}
