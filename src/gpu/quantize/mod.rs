//! Quantization on the GPU: per-block (or two-pass whole-tensor) reduction to scales, then
//! quantize + pack, chunk by chunk; one submit and one small status readback per tensor.
//! `run` records the dispatches; `statistics` holds the whole-tensor passes that calibration
//! builds on (range, histogram, the scale of a given range).

mod run;
mod statistics;

use crate::calibration::Calibration;
use crate::error::{Error, Result};
use crate::gpu::buffers::{check_len, GpuQuantizedTensor, GpuTensor, HostElement};
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::plan_chunks;
use crate::gpu::shaders::{quantize_blocks_applies, quantize_flat_applies, ReduceOut};
use crate::layout::Layout;
use crate::quantized::QuantizedTensor;
use crate::scheme::{QuantLevel, QuantMode, QuantParam, QuantScheme};
use run::{check_status, QuantizeRun, CLEAR};
pub(crate) use statistics::percentile_bin_edge;

impl GpuContext {
    /// Quantizes host data (f32, f16 or bf16, row-major `shape`) and returns it on the host.
    ///
    /// ```no_run
    /// # use wgquant::{GpuContext, QuantScheme};
    /// let ctx = GpuContext::new()?;
    /// let scheme: QuantScheme = "q4s:block32:f16".parse()?;
    /// let q = ctx.quantize(&[0.5f32; 64], &[2, 32], &scheme)?;
    /// let back = ctx.dequantize(&q)?;
    /// # Ok::<(), wgquant::Error>(())
    /// ```
    pub fn quantize<T: HostElement>(
        &self,
        data: &[T],
        shape: &[usize],
        scheme: &QuantScheme,
    ) -> Result<QuantizedTensor> {
        Layout::new(scheme, shape)?;
        check_len(data.len(), shape)?;
        let x = self.upload(data, shape)?;
        let q = self.quantize_tensor(&x, scheme)?;
        self.download_quantized(&q)
    }

    /// Quantizes a device tensor, keeping the result on the device.
    pub fn quantize_tensor(
        &self,
        x: &GpuTensor,
        scheme: &QuantScheme,
    ) -> Result<GpuQuantizedTensor> {
        Ok(self
            .quantize_stages(x, scheme, Scales::MinMax, Some(false))?
            .0)
    }

    /// Quantizes host data with a calibration method other than MinMax.
    ///
    /// ```no_run
    /// # use wgquant::{Calibration, GpuContext};
    /// let ctx = GpuContext::new()?;
    /// let w = wgquant::synth::normal(64 * 64, 1.0, 1);
    /// let q = ctx.quantize_calibrated(&w, &[64, 64], &"q4s:block32:f16".parse()?, Calibration::Mse)?;
    /// # Ok::<(), wgquant::Error>(())
    /// ```
    pub fn quantize_calibrated<T: HostElement>(
        &self,
        data: &[T],
        shape: &[usize],
        scheme: &QuantScheme,
        calibration: Calibration,
    ) -> Result<QuantizedTensor> {
        Layout::new(scheme, shape)?;
        calibration.check(scheme)?;
        check_len(data.len(), shape)?;
        let x = self.upload(data, shape)?;
        let q = self.quantize_tensor_calibrated(&x, scheme, calibration)?;
        self.download_quantized(&q)
    }

    /// Quantizes a device tensor with `calibration`, keeping the result on the device.
    pub fn quantize_tensor_calibrated(
        &self,
        x: &GpuTensor,
        scheme: &QuantScheme,
        calibration: Calibration,
    ) -> Result<GpuQuantizedTensor> {
        calibration.check(scheme)?;
        let layout = Layout::new(scheme, &x.shape)?;
        match (calibration, scheme.level) {
            (Calibration::MinMax, _) => self.quantize_tensor(x, scheme),
            (Calibration::Percentile(p), QuantLevel::Tensor) if !layout.is_empty() => {
                let amax = self.tensor_percentile_amax(x, p)?;
                let range = Scales::Range {
                    lo: -amax,
                    hi: amax,
                };
                Ok(self.quantize_stages(x, scheme, range, Some(false))?.0)
            }
            _ => Ok(self
                .quantize_stages(x, scheme, Scales::Calibrated(calibration), Some(false))?
                .0),
        }
    }

    /// Scales, then (with `pack = Some(count_clipped)`) quantize + pack.
    pub(crate) fn quantize_stages(
        &self,
        x: &GpuTensor,
        scheme: &QuantScheme,
        scales: Scales,
        pack: Option<bool>,
    ) -> Result<(GpuQuantizedTensor, u64)> {
        let count_clipped = pack.unwrap_or(false);
        let layout = Layout::new(scheme, &x.shape)?;
        let out = self.empty_output(&layout, scheme)?;
        if layout.is_empty() {
            return Ok((out, 0));
        }
        let chunks = plan_chunks(&layout, &scheme.level, self.chunk_bytes)?;
        let status = self.status_buffer(chunks.len())?;
        let clipped = self.storage_buffer(4, "wgquant clipped count")?;
        if matches!(scales, Scales::Range { .. }) && scheme.level != QuantLevel::Tensor {
            return Err(Error::Unsupported {
                what: format!("a fixed range for `{scheme}` (Tensor level only)"),
            });
        }
        let scope = self.scope();
        let mut encoder = self.device.create_command_encoder(&Default::default());
        let run = QuantizeRun {
            ctx: self,
            layout: &layout,
            scheme,
            x,
            out: &out,
            status: &status,
        };
        let nvfp4 = scheme.param == QuantParam::E4M3;
        let flat = quantize_flat_applies(scheme, &layout);
        let one_pass = quantize_blocks_applies(scheme) || flat;
        match scales {
            Scales::Range { lo, hi } => {
                // The range's scale comes from the MinMax scale kernel, in this submission.
                let pair =
                    self.buffer_from_bytes(bytemuck::cast_slice(&[lo, hi]), "wgquant range")?;
                run.reduce_pairs(&mut encoder, &pair, 1, ReduceOut::Scale, None, chunks.len())?;
            }
            Scales::Calibrated(c) => {
                for (slot, chunk) in chunks.iter().enumerate() {
                    run.block_scales(&mut encoder, chunk, slot, Some(c))?;
                }
            }
            Scales::MinMax if one_pass => {
                // NVFP4's global scale, or the tensor's scale, first; then every block's codes.
                if nvfp4 {
                    run.whole_tensor(&mut encoder, &chunks, ReduceOut::Global, None)?;
                } else if flat {
                    run.whole_tensor(&mut encoder, &chunks, ReduceOut::Scale, None)?;
                }
                for (slot, chunk) in chunks.iter().enumerate() {
                    run.quantize_blocks(&mut encoder, chunk, slot, flat)?;
                }
            }
            Scales::MinMax => {
                if nvfp4 {
                    run.whole_tensor(&mut encoder, &chunks, ReduceOut::Global, None)?;
                }
                match scheme.level {
                    QuantLevel::Tensor if !nvfp4 => {
                        run.whole_tensor(&mut encoder, &chunks, ReduceOut::Scale, None)?
                    }
                    _ => {
                        for (slot, chunk) in chunks.iter().enumerate() {
                            run.block_scales(&mut encoder, chunk, slot, None)?;
                        }
                    }
                }
            }
        }
        let packed = matches!(scales, Scales::MinMax) && one_pass;
        if pack.is_some() && !packed {
            for chunk in &chunks {
                run.pack(&mut encoder, chunk, &clipped, count_clipped)?;
            }
        }
        self.queue.submit([encoder.finish()]);
        scope.finish("quantize")?;
        let words: Vec<u32> =
            bytemuck::pod_collect_to_vec(&self.read_bytes(&status, status.size())?);
        check_status(&layout, &chunks, &words, scheme)?;
        let clipped = if count_clipped {
            u32::from_le_bytes(self.read_bytes(&clipped, 4)?.try_into().unwrap_or_default()) as u64
        } else {
            0
        };
        Ok((out, clipped))
    }

    fn empty_output(&self, layout: &Layout, scheme: &QuantScheme) -> Result<GpuQuantizedTensor> {
        let blocks = layout.num_blocks() as u64;
        let zeros = if scheme.mode == QuantMode::Affine {
            blocks
        } else {
            1
        };
        Ok(GpuQuantizedTensor {
            scheme: *scheme,
            shape: layout.shape.clone(),
            codes: self.storage_buffer(layout.code_words() as u64 * 4, "wgquant codes")?,
            scales: self.storage_buffer(blocks * 4, "wgquant scales")?,
            zeros: self.storage_buffer(zeros * 4, "wgquant zero points")?,
            global: self.storage_buffer(4, "wgquant global scale")?,
        })
    }

    /// Reads a device-resident quantized tensor back to the host.
    pub fn download_quantized(&self, q: &GpuQuantizedTensor) -> Result<QuantizedTensor> {
        let layout = q.check()?;
        let blocks = layout.num_blocks() as u64;
        let codes = self.read_bytes(&q.codes, layout.code_words() as u64 * 4)?;
        let scales = self.read_bytes(&q.scales, blocks * 4)?;
        let zeros: Vec<u8> = if q.scheme.mode == QuantMode::Affine {
            let words: Vec<u32> =
                bytemuck::pod_collect_to_vec(&self.read_bytes(&q.zeros, blocks * 4)?);
            words.iter().map(|&z| z as u8).collect()
        } else {
            Vec::new()
        };
        let global = if q.scheme.param == QuantParam::E4M3 && blocks > 0 {
            Some(bytemuck::pod_read_unaligned(
                &self.read_bytes(&q.global, 4)?,
            ))
        } else {
            (q.scheme.param == QuantParam::E4M3).then_some(0.0)
        };
        QuantizedTensor::new(
            q.scheme,
            q.shape.clone(),
            bytemuck::pod_collect_to_vec(&codes),
            bytemuck::pod_collect_to_vec(&scales),
            zeros,
            global,
        )
    }

    fn status_buffer(&self, chunks: usize) -> Result<wgpu::Buffer> {
        self.buffer_from_bytes(
            bytemuck::cast_slice(&vec![CLEAR; 2 * (chunks + 1)]),
            "wgquant status",
        )
    }
}

/// Where the scales come from.
#[derive(Clone, Copy)]
pub(crate) enum Scales {
    /// Block extremes (NUMERICS sections 2-4), including the two-pass whole-tensor reduction.
    MinMax,
    /// Percentile or Mse per block.
    Calibrated(Calibration),
    /// The scale (and zero point) of a fixed range [lo, hi], lo <= 0 <= hi, at Tensor level:
    /// calibrated Percentile amax, the static Calibrator's parameters.
    Range { lo: f32, hi: f32 },
}
