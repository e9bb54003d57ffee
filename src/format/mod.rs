//! What the data types themselves define, independent of how wgquant computes with them: the
//! minifloat formats, the NF4 codebook, the GGUF block types' table and MXFP4's values, the
//! bytes of each scale type. The CPU reference, the GPU host code and the file readers and
//! writers all take these facts from here; this module imports nothing else from the crate.

pub mod gguf;
pub mod minifloat;

pub use gguf::{GgufType, KVALUES_MXFP4, QK_K};
pub use minifloat::Minifloat;

/// bitsandbytes' NF4 codebook (NUMERICS section 5), from its f64 values rounded to nearest f32.
pub const NF4: [f32; 16] = [
    -1.0f64 as f32,
    -0.6961928009986877f64 as f32,
    -0.5250730514526367f64 as f32,
    -0.39491748809814453f64 as f32,
    -0.28444138169288635f64 as f32,
    -0.18477343022823334f64 as f32,
    -0.09105003625154495f64 as f32,
    0.0f64 as f32,
    0.07958029955625534f64 as f32,
    0.16093020141124725f64 as f32,
    0.24611230194568634f64 as f32,
    0.33791524171829224f64 as f32,
    0.44070982933044434f64 as f32,
    0.5626170039176941f64 as f32,
    0.7229568362236023f64 as f32,
    1.0f64 as f32,
];
