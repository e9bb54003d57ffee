//! Device-resident tensors, upload, readback through `map_async`, and buffer windows that keep
//! each binding under the adapter's storage-binding limit.

use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
use crate::gpu::context::GpuContext;
use crate::gpu::shaders::DType;
use crate::scheme::QuantScheme;

/// Host element types the kernels read directly: f32, f16 and bf16.
pub trait HostElement: bytemuck::Pod {
    const DTYPE: DType;
    /// The value as f32 (exact for all three types).
    fn to_f32(self) -> f32;
}

impl HostElement for f32 {
    const DTYPE: DType = DType::F32;
    fn to_f32(self) -> f32 {
        self
    }
}

impl HostElement for half::f16 {
    const DTYPE: DType = DType::F16;
    fn to_f32(self) -> f32 {
        half::f16::to_f32(self)
    }
}

impl HostElement for half::bf16 {
    const DTYPE: DType = DType::BF16;
    fn to_f32(self) -> f32 {
        half::bf16::to_f32(self)
    }
}

/// A dense tensor in a GPU buffer (row-major; 16-bit types two per word, low half first).
#[derive(Debug)]
pub struct GpuTensor {
    pub buffer: wgpu::Buffer,
    pub shape: Vec<usize>,
    pub dtype: DType,
}

impl GpuTensor {
    /// An f32 tensor of `shape` in `buffer` (the outputs of dequantize and matmul).
    pub(crate) fn f32(buffer: wgpu::Buffer, shape: Vec<usize>) -> Self {
        GpuTensor {
            buffer,
            shape,
            dtype: DType::F32,
        }
    }

    /// Wraps a buffer the caller filled, e.g. the output of their own kernel. It needs
    /// `STORAGE` usage (and `COPY_SRC` to be read back) and at least `len * dtype.bytes()` bytes
    /// rounded up to a multiple of 16 (kernels read whole 16-byte words).
    pub fn from_buffer(buffer: wgpu::Buffer, shape: &[usize], dtype: DType) -> Result<Self> {
        let need = shape
            .iter()
            .try_fold(dtype.bytes() as u64, |a, &d| a.checked_mul(d as u64))
            .ok_or_else(|| Error::Shape(format!("shape {shape:?} has too many elements")))?;
        if buffer.size() < need.max(4).next_multiple_of(16) {
            return Err(Error::Shape(format!(
                "buffer of {} bytes is too small for shape {shape:?} of {dtype:?} ({need} bytes, \
                 padded to a multiple of 16)",
                buffer.size()
            )));
        }
        if !buffer.usage().contains(wgpu::BufferUsages::STORAGE) {
            return Err(Error::Usage(
                "buffer lacks STORAGE usage; create it with BufferUsages::STORAGE".into(),
            ));
        }
        Ok(GpuTensor {
            buffer,
            shape: shape.to_vec(),
            dtype,
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A quantized tensor kept on the GPU: codes as u32 words (NUMERICS section 6), one f32 scale per
/// block holding the param type's value exactly, one u32 zero point per block (Affine mode,
/// else a placeholder) and one f32 global scale (NVFP4, else unused).
#[derive(Debug)]
pub struct GpuQuantizedTensor {
    pub scheme: QuantScheme,
    pub shape: Vec<usize>,
    pub codes: wgpu::Buffer,
    pub scales: wgpu::Buffer,
    pub zeros: wgpu::Buffer,
    pub global: wgpu::Buffer,
}

impl GpuQuantizedTensor {
    /// Checks that the (public) buffers are large enough for the scheme and shape (the codes
    /// padded to a multiple of 16 bytes, which kernels read as vec4), and returns the geometry;
    /// every function that reads the tensor calls this first.
    pub fn check(&self) -> Result<crate::layout::Layout> {
        let layout = crate::layout::Layout::new(&self.scheme, &self.shape)?;
        let blocks = layout.num_blocks() as u64;
        let zeros = if self.scheme.mode == crate::scheme::QuantMode::Affine {
            blocks
        } else {
            0
        };
        let codes = (layout.code_words() as u64 * 4).max(4).next_multiple_of(16);
        let short = self.codes.size() < codes
            || self.scales.size() < blocks * 4
            || self.zeros.size() < zeros * 4
            || self.global.size() < 4;
        if short {
            return Err(Error::Shape(format!(
                "buffers too small for `{}` on shape {:?}",
                self.scheme, self.shape
            )));
        }
        Ok(layout)
    }
}

pub(crate) const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

impl GpuContext {
    fn check_buffer_size(&self, bytes: u64, what: &str) -> Result<()> {
        if bytes > self.limits.max_buffer_size {
            return Err(Error::TooLarge(format!(
                "{what} needs a buffer of {bytes} bytes; this adapter allows {}",
                self.limits.max_buffer_size
            )));
        }
        Ok(())
    }

    /// A zeroed storage buffer of at least `bytes` (rounded up to 16, never empty).
    pub(crate) fn storage_buffer(&self, bytes: u64, label: &str) -> Result<wgpu::Buffer> {
        // Whole 16-byte words, so that kernels may bind any buffer as vec4.
        let size = bytes.max(4).next_multiple_of(16);
        self.check_buffer_size(size, label)?;
        // Its own scope, so that running out of memory is reported here as OutOfMemory.
        let scope = self.scope();
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage: STORAGE,
            mapped_at_creation: false,
        });
        scope.finish(label)?;
        Ok(buffer)
    }

    /// A storage buffer holding `bytes`, padded to a multiple of 16 (as `storage_buffer`).
    pub(crate) fn buffer_from_bytes(&self, bytes: &[u8], label: &str) -> Result<wgpu::Buffer> {
        self.check_buffer_size(bytes.len() as u64, label)?;
        let scope = self.scope();
        let buffer = if bytes.len().is_multiple_of(16) && !bytes.is_empty() {
            self.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(label),
                    contents: bytes,
                    usage: STORAGE,
                })
        } else {
            let mut padded = bytes.to_vec();
            padded.resize(bytes.len().max(4).next_multiple_of(16), 0);
            self.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(label),
                    contents: &padded,
                    usage: STORAGE,
                })
        };
        scope.finish(label)?;
        Ok(buffer)
    }

    /// Copies host data into a new device tensor.
    pub fn upload<T: HostElement>(&self, data: &[T], shape: &[usize]) -> Result<GpuTensor> {
        check_len(data.len(), shape)?;
        let buffer = self.buffer_from_bytes(bytemuck::cast_slice(data), "wgquant input")?;
        Ok(GpuTensor {
            buffer,
            shape: shape.to_vec(),
            dtype: T::DTYPE,
        })
    }

    /// Reads `bytes` bytes from the start of `buffer` back to the host (waiting for all
    /// submitted work).
    pub fn read_bytes(&self, buffer: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        let size = bytes.next_multiple_of(4);
        if size == 0 {
            return Ok(Vec::new());
        }
        let scope = self.scope();
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wgquant readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
        self.queue.submit([encoder.finish()]);
        let (sender, receiver) = std::sync::mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = sender.send(r);
        });
        scope.finish("reading a buffer back")?;
        self.wait()?;
        // After the wait the mapping is done; its callback runs on whichever thread polled
        // the device last, so it may still be on its way from another thread.
        match receiver.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(Error::Device(format!(
                    "mapping a readback buffer failed: {e}"
                )))
            }
            Err(_) => return Err(Error::Device("the readback callback was dropped".into())),
        }
        let view = staging
            .slice(..)
            .get_mapped_range()
            .map_err(|e| Error::Device(format!("reading a mapped buffer failed: {e}")))?;
        let mut out = view.to_vec();
        drop(view);
        staging.unmap();
        out.truncate(bytes as usize);
        Ok(out)
    }

    /// Reads a device tensor of f32 back to the host.
    pub fn download(&self, t: &GpuTensor) -> Result<Vec<f32>> {
        if t.dtype != DType::F32 {
            return Err(Error::Unsupported {
                what: format!(
                    "downloading a {:?} tensor (dequantized tensors are f32)",
                    t.dtype
                ),
            });
        }
        let bytes = self.read_bytes(&t.buffer, (t.len() * 4) as u64)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }
}

pub(crate) fn check_len(len: usize, shape: &[usize]) -> Result<()> {
    let want = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if want != Some(len) {
        return Err(Error::Shape(format!(
            "data has {len} elements but shape {shape:?} holds {}",
            want.map_or("more than usize::MAX".to_string(), |w| w.to_string())
        )));
    }
    Ok(())
}
