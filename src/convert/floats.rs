//! A float tensor read from a file: on the GPU in its own dtype, so the kernels read it as
//! stored, and on the host as f32 for the SQNR and the plain F16/F32 outputs.

use half::{bf16, f16};

use crate::error::Result;
use crate::gpu::buffers::GpuTensor;
use crate::gpu::context::GpuContext;
use crate::gpu::shaders::DType;
use crate::io::safetensors::Dtype;

/// The kernels' element type of a float file dtype (F32, F16 or BF16; the plan passes others
/// through).
fn kernel_dtype(dtype: Dtype) -> DType {
    match dtype {
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        _ => DType::F32,
    }
}

/// The tensor's bytes, as stored, in a new device tensor of `shape`.
pub(super) fn upload(
    ctx: &GpuContext,
    dtype: Dtype,
    shape: &[usize],
    bytes: &[u8],
) -> Result<GpuTensor> {
    let buffer = ctx.buffer_from_bytes(bytes, "wgquant input")?;
    GpuTensor::from_buffer(buffer, shape, kernel_dtype(dtype))
}

/// The tensor's values as f32 (f16 and bf16 widen exactly).
pub(super) fn to_f32(dtype: Dtype, bytes: &[u8]) -> Vec<f32> {
    match dtype {
        Dtype::F16 => bytemuck::pod_collect_to_vec::<u8, f16>(bytes)
            .iter()
            .map(|x| x.to_f32())
            .collect(),
        Dtype::BF16 => bytemuck::pod_collect_to_vec::<u8, bf16>(bytes)
            .iter()
            .map(|x| x.to_f32())
            .collect(),
        _ => bytemuck::pod_collect_to_vec(bytes),
    }
}

/// The index of the first NaN or infinity in a float tensor's bytes, read in place: all
/// exponent bits set, in each dtype's layout.
pub(super) fn first_non_finite(dtype: Dtype, bytes: &[u8]) -> Option<usize> {
    match dtype {
        Dtype::F16 | Dtype::BF16 => {
            let exponent: u16 = if dtype == Dtype::F16 { 0x7c00 } else { 0x7f80 };
            bytes
                .chunks_exact(2)
                .position(|b| u16::from_le_bytes([b[0], b[1]]) & exponent == exponent)
        }
        _ => bytes.chunks_exact(4).position(|b| {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & 0x7f80_0000 == 0x7f80_0000
        }),
    }
}
