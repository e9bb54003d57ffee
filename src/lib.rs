//! wgquant quantizes tensors on the GPU with WGSL compute shaders through wgpu (Vulkan, Metal,
//! DX12, GL), checked against a CPU reference that implements `docs/NUMERICS.md` literally.
//!
//! ```no_run
//! use wgquant::{GpuContext, QuantScheme};
//! let ctx = GpuContext::new()?;
//! let scheme: QuantScheme = "q8s:block32:f32".parse()?;
//! let weights = vec![0.25f32; 4 * 64];
//! let q = ctx.quantize(&weights, &[4, 64], &scheme)?;
//! assert_eq!(q, wgquant::reference::quantize(&weights, &[4, 64], &scheme)?);
//! # Ok::<(), wgquant::Error>(())
//! ```

pub mod agreement;
#[cfg(feature = "bench")]
pub mod bench;
pub mod calibration;
#[cfg(feature = "cli")]
pub mod cli;
pub mod convert;
pub mod error;
pub mod format;
pub mod gguf;
pub mod gpu;
pub mod io;
pub mod layout;
pub mod metrics;
pub mod quantized;
pub mod reference;
pub mod scheme;
#[cfg(feature = "bench")]
pub mod synth;

/// The README, whose `rust` blocks run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use calibration::Calibration;
pub use error::{Error, Result};
pub use format::GgufType;
pub use gguf::GgufTensor;
pub use gpu::buffers::{GpuQuantizedTensor, GpuTensor, HostElement};
pub use gpu::calibrate::Calibrator;
pub use gpu::context::{GpuContext, GpuFeatures};
pub use gpu::gguf::GpuGgufTensor;
pub use gpu::matmul::MatmulPath;
pub use gpu::shaders::DType;
pub use io::model::QuantizedModel;
pub use layout::Layout;
pub use quantized::QuantizedTensor;
pub use scheme::{
    BlockSize, Codebook, Format, QuantLevel, QuantMode, QuantParam, QuantScheme, QuantStore,
    QuantValue,
};
