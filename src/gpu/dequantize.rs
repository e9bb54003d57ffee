//! Dequantization on the GPU: one invocation per code word (or per 4 elements in the Native
//! store), chunk by chunk.

use crate::error::Result;
use crate::gpu::bindings::DequantizeBindings;
use crate::gpu::buffers::{GpuQuantizedTensor, GpuTensor};
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::{plan_chunks, workgroups, Geom};
use crate::gpu::shaders::{
    dequantize_constants, dequantize_vec4_applies, dequantize_vec4_constants,
    dequantize_vec4_shape, Kernel,
};
use crate::quantized::QuantizedTensor;
use crate::scheme::QuantStore;

impl GpuContext {
    /// Dequantizes a host tensor on the GPU and returns f32 values, row-major.
    pub fn dequantize(&self, q: &QuantizedTensor) -> Result<Vec<f32>> {
        let y = self.dequantize_tensor(&self.upload_quantized(q)?)?;
        self.download(&y)
    }

    /// Copies a host quantized tensor to the device.
    pub fn upload_quantized(&self, q: &QuantizedTensor) -> Result<GpuQuantizedTensor> {
        // Re-check the parts: the fields are public and may have been edited.
        let q = QuantizedTensor::new(
            q.scheme,
            q.shape.clone(),
            q.codes.clone(),
            q.scales.clone(),
            q.zeros.clone(),
            q.global_scale,
        )?;
        let zeros: Vec<u32> = q.zeros.iter().map(|&z| z as u32).collect();
        let global = q.global_scale.unwrap_or(0.0).to_le_bytes();
        Ok(GpuQuantizedTensor {
            scheme: q.scheme,
            shape: q.shape.clone(),
            codes: self.buffer_from_bytes(bytemuck::cast_slice(&q.codes), "wgquant codes")?,
            scales: self.buffer_from_bytes(bytemuck::cast_slice(&q.scales), "wgquant scales")?,
            zeros: self.buffer_from_bytes(bytemuck::cast_slice(&zeros), "wgquant zero points")?,
            global: self.buffer_from_bytes(&global, "wgquant global scale")?,
        })
    }

    /// Dequantizes a device-resident tensor into a new f32 device tensor.
    pub fn dequantize_tensor(&self, q: &GpuQuantizedTensor) -> Result<GpuTensor> {
        let layout = q.check()?;
        let y = self.storage_buffer(layout.len() as u64 * 4, "wgquant dequantized")?;
        if !layout.is_empty() {
            let (words, one_scale) = dequantize_vec4_shape(&layout);
            let (kernel, constants, group) = match dequantize_vec4_applies(&layout) {
                true => (
                    Kernel::DequantizeVec4,
                    dequantize_vec4_constants(&q.scheme, words, one_scale),
                    words * layout.codes_per_word,
                ),
                false => (
                    Kernel::Dequantize,
                    dequantize_constants(&q.scheme),
                    match q.scheme.store {
                        QuantStore::U32 => layout.codes_per_word,
                        QuantStore::Native => 4,
                    },
                ),
            };
            let pipeline = self.pipelines.get(&self.device, kernel, &constants)?;
            let scope = self.scope();
            let mut encoder = self.device.create_command_encoder(&Default::default());
            for chunk in plan_chunks(&layout, &q.scheme.level, self.chunk_bytes)? {
                let (w0, w1) = chunk.words(&layout);
                let n = chunk.elements(&layout);
                let cw = self.window(&q.codes, w0, w1 - w0, 4);
                let [w_scales, w_zeros, w_global] = self.param_windows(q, chunk.blocks(&layout));
                let yw = self.window(&y, chunk.row_start * layout.cols, n, 4);
                let geom = Geom {
                    x_offset: yw.elem_offset,
                    code_offset: cw.elem_offset,
                    count: n as u32,
                    ..Geom::for_chunk_scales(&layout, &chunk, &w_scales.1)
                };
                let bindings = DequantizeBindings {
                    src: (&q.codes, cw),
                    w_scales,
                    w_zeros,
                    w_global,
                    y: (&y, yw),
                };
                // One invocation per `group` elements: 1 or 4 code words (U32 store), or 4
                // elements (Native).
                let threads = (chunk.rows * layout.cols.div_ceil(group)) as u32;
                self.dispatch(
                    &mut encoder,
                    &pipeline,
                    &geom,
                    &bindings,
                    workgroups(threads),
                );
            }
            self.queue.submit([encoder.finish()]);
            scope.finish("dequantize")?;
        }
        Ok(GpuTensor::f32(y, q.shape.clone()))
    }
}
