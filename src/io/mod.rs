//! Model files: safetensors in and out (plain and the wgquant layout of NUMERICS section 6),
//! sharded checkpoints, and GGUF v3 out.

pub mod gguf;
pub mod model;
mod ordered;
pub mod safetensors;
