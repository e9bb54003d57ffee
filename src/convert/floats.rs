//! A float tensor read from a file, kept in its own dtype so the GPU reads it as stored.

use half::{bf16, f16};

use crate::calibration::Calibration;
use crate::error::Result;
use crate::format::GgufType;
use crate::gpu::buffers::HostElement;
use crate::gpu::context::GpuContext;
use crate::io::safetensors::Dtype;
use crate::quantized::QuantizedTensor;
use crate::scheme::QuantScheme;

/// Host copy of a float tensor in its own dtype.
pub(super) enum Floats {
    F32(Vec<f32>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
}

impl Floats {
    pub(super) fn from_bytes(dtype: Dtype, bytes: &[u8]) -> Self {
        match dtype {
            Dtype::F16 => Floats::F16(bytemuck::pod_collect_to_vec(bytes)),
            Dtype::BF16 => Floats::BF16(bytemuck::pod_collect_to_vec(bytes)),
            _ => Floats::F32(bytemuck::pod_collect_to_vec(bytes)),
        }
    }

    pub(super) fn to_f32(&self) -> Vec<f32> {
        fn conv<T: HostElement>(v: &[T]) -> Vec<f32> {
            v.iter().map(|x| x.to_f32()).collect()
        }
        match self {
            Floats::F32(v) => v.clone(),
            Floats::F16(v) => conv(v),
            Floats::BF16(v) => conv(v),
        }
    }

    pub(super) fn quantize(
        &self,
        ctx: &GpuContext,
        shape: &[usize],
        s: &QuantScheme,
        c: Calibration,
    ) -> Result<QuantizedTensor> {
        match self {
            Floats::F32(v) => ctx.quantize_calibrated(v, shape, s, c),
            Floats::F16(v) => ctx.quantize_calibrated(v, shape, s, c),
            Floats::BF16(v) => ctx.quantize_calibrated(v, shape, s, c),
        }
    }

    pub(super) fn quantize_gguf(
        &self,
        ctx: &GpuContext,
        shape: &[usize],
        ty: GgufType,
    ) -> Result<crate::gguf::GgufTensor> {
        match self {
            Floats::F32(v) => ctx.quantize_gguf(v, shape, ty),
            Floats::F16(v) => ctx.quantize_gguf(v, shape, ty),
            Floats::BF16(v) => ctx.quantize_gguf(v, shape, ty),
        }
    }
}
