//! The GPU side: context, buffers, pipeline cache and one host module per kernel family.

pub mod bindings;
pub mod buffers;
pub mod calibrate;
pub mod context;
mod dequantize;
pub(crate) mod dispatch;
pub mod gguf;
pub mod matmul;
mod pipelines;
mod profiler;
mod quantize;
pub mod shaders;
pub(crate) mod window;
