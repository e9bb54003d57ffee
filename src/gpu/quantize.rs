//! Quantization on the GPU: per-block (or two-pass whole-tensor) reduction to scales, then
//! quantize + pack, chunk by chunk; one submit and one small status readback per tensor.

use crate::calibration::{Calibration, HISTOGRAM_BINS};
use crate::error::{Error, Result};
use crate::gpu::buffers::{check_len, GpuQuantizedTensor, GpuTensor, HostElement, Window};
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::{plan_chunks, Chunk, Geom};
use crate::gpu::shaders::{
    calibrate_constants, histogram_constants, quantize_constants, reduce_constants, DType, Kernel,
    ReduceOut, PER_THREAD_MAX,
};
use crate::gpu::shaders::{quantize_blocks_applies, quantize_blocks_constants, WORKGROUP};
use crate::layout::Layout;
use crate::quantized::QuantizedTensor;
use crate::reference::calibrate::{histogram_percentile, scale_for_amax};
use crate::scheme::{QuantLevel, QuantMode, QuantParam, QuantScheme};

/// Elements per partial (min, max) in pass 1 of a whole-tensor reduction.
const PARTIAL: usize = 4096;
/// Status word meaning "nothing found".
const CLEAR: u32 = u32::MAX;

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
        pollster::block_on(self.quantize_async(data, shape, scheme))
    }

    /// Async form of [`GpuContext::quantize`].
    pub async fn quantize_async<T: HostElement>(
        &self,
        data: &[T],
        shape: &[usize],
        scheme: &QuantScheme,
    ) -> Result<QuantizedTensor> {
        Layout::new(scheme, shape)?;
        check_len(data.len(), shape)?;
        let x = self.upload(data, shape)?;
        let q = self.quantize_tensor_async(&x, scheme).await?;
        self.download_quantized_async(&q).await
    }

    /// Quantizes a device tensor, keeping the result on the device.
    pub fn quantize_tensor(
        &self,
        x: &GpuTensor,
        scheme: &QuantScheme,
    ) -> Result<GpuQuantizedTensor> {
        pollster::block_on(self.quantize_tensor_async(x, scheme))
    }

    /// Async form of [`GpuContext::quantize_tensor`].
    pub async fn quantize_tensor_async(
        &self,
        x: &GpuTensor,
        scheme: &QuantScheme,
    ) -> Result<GpuQuantizedTensor> {
        Ok(self
            .quantize_inner(x, scheme, Scales::MinMax, false)
            .await?
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
                let sp = self.tensor_percentile_scale(x, scheme, p)?;
                Ok(self.quantize_with_scales(x, scheme, &[sp], &[], false)?.0)
            }
            _ => Ok(pollster::block_on(self.quantize_inner(
                x,
                scheme,
                Scales::Calibrated(calibration),
                false,
            ))?
            .0),
        }
    }

    /// Quantizes with given per-block scales (and zero points): static calibration's fixed
    /// parameters. With `count_clipped`, also returns how many elements fell outside the range.
    pub(crate) fn quantize_with_scales(
        &self,
        x: &GpuTensor,
        scheme: &QuantScheme,
        scales: &[f32],
        zeros: &[u8],
        count_clipped: bool,
    ) -> Result<(GpuQuantizedTensor, u64)> {
        pollster::block_on(self.quantize_inner(
            x,
            scheme,
            Scales::Given { scales, zeros },
            count_clipped,
        ))
    }

    /// The stored scale of tensor-level Percentile calibration: range and histogram passes on
    /// the GPU, the percentile's bin edge on the host.
    pub(crate) fn tensor_percentile_scale(
        &self,
        x: &GpuTensor,
        scheme: &QuantScheme,
        p: f32,
    ) -> Result<f32> {
        let (lo, hi) = self.value_range(x)?;
        let amax = (-lo).max(hi).max(0.0);
        let clip = histogram_percentile(&self.histogram(x, amax)?, amax, p);
        scale_for_amax(scheme, clip).ok_or_else(|| Error::ScaleOverflow {
            block: 0,
            param: format!("{:?}", scheme.param),
        })
    }

    /// (min, max) of a device tensor, subnormals flushed; non-finite values are an error.
    pub(crate) fn value_range(&self, x: &GpuTensor) -> Result<(f32, f32)> {
        let scheme = QuantScheme::default();
        let layout = Layout::new(&scheme, &x.shape)?;
        if layout.is_empty() {
            return Ok((0.0, 0.0));
        }
        let chunks = plan_chunks(&layout, &scheme.level, self.chunk_bytes)?;
        let status = self.status_buffer(chunks.len())?;
        let range = self.storage_buffer(8, "wgquant range")?;
        let out = self.empty_output(&layout, &scheme)?;
        let scope = self.scope();
        let mut encoder = self.device.create_command_encoder(&Default::default());
        let run = QuantizeRun {
            ctx: self,
            layout: &layout,
            scheme: &scheme,
            x,
            out: &out,
            status: &status,
        };
        run.whole_tensor(&mut encoder, &chunks, ReduceOut::Range, Some(&range))?;
        self.queue.submit([encoder.finish()]);
        pollster::block_on(scope.finish("range"))?;
        let words: Vec<u32> =
            bytemuck::pod_collect_to_vec(&self.read_bytes(&status, status.size())?);
        check_status(&layout, &chunks, &words, &scheme)?;
        let r: Vec<f32> = bytemuck::pod_collect_to_vec(&self.read_bytes(&range, 8)?);
        Ok((r[0], r[1]))
    }

    /// Counts of |x| in 2048 bins over [0, top] (the last bin also takes everything above).
    pub(crate) fn histogram(&self, x: &GpuTensor, top: f32) -> Result<Vec<u64>> {
        let n = x.len();
        let mut hist = vec![0u64; HISTOGRAM_BINS];
        if top == 0.0 || n == 0 {
            hist[0] = n as u64;
            return Ok(hist);
        }
        let scheme = QuantScheme::default();
        let layout = Layout::new(&scheme, &x.shape)?;
        let bins = self.storage_buffer((HISTOGRAM_BINS * 4) as u64, "wgquant histogram")?;
        let pipeline = self.pipelines.get(
            &self.device,
            Kernel::Histogram,
            &histogram_constants(x.dtype),
        )?;
        let inv = HISTOGRAM_BINS as f32 / top;
        let scope = self.scope();
        let mut encoder = self.device.create_command_encoder(&Default::default());
        for chunk in plan_chunks(&layout, &scheme.level, self.chunk_bytes)? {
            let count = chunk.elements(&layout);
            let xw = self.window(
                &x.buffer,
                chunk.row_start * layout.cols,
                count,
                x.dtype.bytes(),
            );
            let geom = Geom {
                x_offset: xw.elem_offset,
                count: count as u32,
                aux: inv.to_bits(),
                ..Default::default()
            };
            let bw = self.window(&bins, 0, HISTOGRAM_BINS, 4);
            self.dispatch_threads(
                &mut encoder,
                &pipeline,
                &geom,
                &[(&x.buffer, xw), (&bins, bw)],
                count as u32,
            );
        }
        self.queue.submit([encoder.finish()]);
        pollster::block_on(scope.finish("histogram"))?;
        let counts: Vec<u32> =
            bytemuck::pod_collect_to_vec(&self.read_bytes(&bins, (HISTOGRAM_BINS * 4) as u64)?);
        for (h, c) in hist.iter_mut().zip(counts) {
            *h = c as u64;
        }
        Ok(hist)
    }

    fn status_buffer(&self, chunks: usize) -> Result<wgpu::Buffer> {
        self.buffer_from_bytes(
            bytemuck::cast_slice(&vec![CLEAR; 2 * (chunks + 1)]),
            "wgquant status",
        )
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

    /// The quantization pipeline: scales (by `scales`), then pack; one submit and one status
    /// readback. Returns the number of clipped elements when `count_clipped`.
    async fn quantize_inner(
        &self,
        x: &GpuTensor,
        scheme: &QuantScheme,
        scales: Scales<'_>,
        count_clipped: bool,
    ) -> Result<(GpuQuantizedTensor, u64)> {
        self.quantize_stages(x, scheme, scales, Some(count_clipped))
            .await
    }

    /// Scales, then (with `pack = Some(count_clipped)`) quantize + pack.
    pub(crate) async fn quantize_stages(
        &self,
        x: &GpuTensor,
        scheme: &QuantScheme,
        scales: Scales<'_>,
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
        if let Scales::Given { scales, zeros } = scales {
            if scales.len() != layout.num_blocks()
                || (scheme.mode == QuantMode::Affine && zeros.len() != scales.len())
            {
                return Err(Error::Shape(format!(
                    "{} given scales and {} zero points for {} blocks",
                    scales.len(),
                    zeros.len(),
                    layout.num_blocks()
                )));
            }
            self.queue
                .write_buffer(&out.scales, 0, bytemuck::cast_slice(scales));
            let z: Vec<u32> = zeros.iter().map(|&z| z as u32).collect();
            if !z.is_empty() {
                self.queue
                    .write_buffer(&out.zeros, 0, bytemuck::cast_slice(&z));
            }
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
        match scales {
            Scales::Given { .. } => {}
            Scales::Calibrated(c) => {
                for (slot, chunk) in chunks.iter().enumerate() {
                    run.block_scales(&mut encoder, chunk, slot, Some(c))?;
                }
            }
            Scales::MinMax if quantize_blocks_applies(scheme) => {
                for (slot, chunk) in chunks.iter().enumerate() {
                    run.quantize_blocks(&mut encoder, chunk, slot)?;
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
        let packed = matches!(scales, Scales::MinMax) && quantize_blocks_applies(scheme);
        if pack.is_some() && !packed {
            for chunk in &chunks {
                run.pack(&mut encoder, chunk, &clipped, count_clipped)?;
            }
        }
        self.queue.submit([encoder.finish()]);
        let scope = scope.finish("quantize");
        let words: Vec<u32> =
            bytemuck::pod_collect_to_vec(&self.read_bytes_async(&status, status.size()).await?);
        scope.await?;
        check_status(&layout, &chunks, &words, scheme)?;
        let clipped = if count_clipped {
            u32::from_le_bytes(
                self.read_bytes_async(&clipped, 4)
                    .await?
                    .try_into()
                    .unwrap_or_default(),
            ) as u64
        } else {
            0
        };
        Ok((out, clipped))
    }

    /// Reads a device-resident quantized tensor back to the host.
    pub fn download_quantized(&self, q: &GpuQuantizedTensor) -> Result<QuantizedTensor> {
        pollster::block_on(self.download_quantized_async(q))
    }

    /// Async form of [`GpuContext::download_quantized`].
    pub async fn download_quantized_async(
        &self,
        q: &GpuQuantizedTensor,
    ) -> Result<QuantizedTensor> {
        let layout = q.check()?;
        let blocks = layout.num_blocks() as u64;
        let codes = self
            .read_bytes_async(&q.codes, layout.code_words() as u64 * 4)
            .await?;
        let scales = self.read_bytes_async(&q.scales, blocks * 4).await?;
        let zeros: Vec<u8> = if q.scheme.mode == QuantMode::Affine {
            let words: Vec<u32> =
                bytemuck::pod_collect_to_vec(&self.read_bytes_async(&q.zeros, blocks * 4).await?);
            words.iter().map(|&z| z as u8).collect()
        } else {
            Vec::new()
        };
        let global = if q.scheme.param == QuantParam::E4M3 && blocks > 0 {
            Some(bytemuck::pod_read_unaligned(
                &self.read_bytes_async(&q.global, 4).await?,
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
}

/// Where the scales come from.
#[derive(Clone, Copy)]
pub(crate) enum Scales<'a> {
    /// Block extremes (NUMERICS sections 2-4), including the two-pass whole-tensor reduction.
    MinMax,
    /// Percentile or Mse per block.
    Calibrated(Calibration),
    /// Fixed in advance (static calibration).
    Given { scales: &'a [f32], zeros: &'a [u8] },
}

/// The buffers and geometry of one quantization, recording its dispatches.
struct QuantizeRun<'a> {
    ctx: &'a GpuContext,
    layout: &'a Layout,
    scheme: &'a QuantScheme,
    x: &'a GpuTensor,
    out: &'a GpuQuantizedTensor,
    status: &'a wgpu::Buffer,
}

impl QuantizeRun<'_> {
    fn x_window(&self, chunk: &Chunk) -> Window {
        let first = chunk.row_start * self.layout.cols;
        self.ctx.window(
            &self.x.buffer,
            first,
            chunk.elements(self.layout),
            self.x.dtype.bytes(),
        )
    }

    fn whole(&self, buffer: &wgpu::Buffer) -> Window {
        self.ctx.window(buffer, 0, (buffer.size() / 4) as usize, 4)
    }

    /// The chunk's scales, with zero points and global scale beside them.
    fn scale_bindings(&self, first: usize, count: usize) -> (Window, Window) {
        let sw = self.ctx.window(&self.out.scales, first, count, 4);
        let zw = if self.scheme.mode == QuantMode::Affine {
            sw
        } else {
            self.whole(&self.out.zeros)
        };
        (sw, zw)
    }

    /// The scale of every block of the chunk: one invocation per block for small blocks, one
    /// workgroup per block for large ones.
    fn block_scales(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        chunk: &Chunk,
        slot: usize,
        calibration: Option<Calibration>,
    ) -> Result<()> {
        let per_thread = calibration.is_some()
            || self.layout.block_rows * self.layout.block_cols <= PER_THREAD_MAX;
        let (kernel, constants) = match calibration {
            Some(c) => (
                Kernel::Calibrate,
                calibrate_constants(self.scheme, self.x.dtype, c),
            ),
            None => (
                Kernel::Reduce,
                reduce_constants(self.scheme, self.x.dtype, ReduceOut::Scale, per_thread),
            ),
        };
        let pipeline = self
            .ctx
            .pipelines
            .get(&self.ctx.device, kernel, &constants)?;
        let (first, last) = chunk.blocks(self.layout);
        let xw = self.x_window(chunk);
        let (sw, zw) = self.scale_bindings(first, last - first + 1);
        let geom = Geom {
            x_offset: xw.elem_offset,
            scale_base: first as u32,
            scale_offset: sw.elem_offset,
            count: (last - first + 1) as u32,
            status_slot: slot as u32,
            ..Geom::for_chunk(self.layout, chunk)
        };
        let bindings = [
            (&self.x.buffer, xw),
            (&self.out.scales, sw),
            (&self.out.zeros, zw),
            (&self.out.global, self.whole(&self.out.global)),
            (self.status, self.whole(self.status)),
        ];
        let groups = if per_thread {
            geom.count.div_ceil(WORKGROUP)
        } else {
            geom.count
        };
        self.ctx
            .dispatch(encoder, &pipeline, &geom, &bindings, groups);
        Ok(())
    }

    /// Pass 1: (min, max) of every run of `PARTIAL` elements of every chunk; pass 2: one
    /// workgroup reduces them to the tensor's scale, NVFP4's global scale, or (`Range`) the
    /// tensor's (min, max) into `range`.
    fn whole_tensor(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        chunks: &[Chunk],
        out: ReduceOut,
        range: Option<&wgpu::Buffer>,
    ) -> Result<()> {
        let counts: Vec<usize> = chunks
            .iter()
            .map(|c| c.elements(self.layout).div_ceil(PARTIAL))
            .collect();
        let total: usize = counts.iter().sum();
        let partials = self
            .ctx
            .storage_buffer(total as u64 * 8, "wgquant partial ranges")?;
        let pass1 = self.ctx.pipelines.get(
            &self.ctx.device,
            Kernel::Reduce,
            &reduce_constants(self.scheme, self.x.dtype, ReduceOut::Range, false),
        )?;
        let (status, global, zeros) = (
            self.whole(self.status),
            self.whole(&self.out.global),
            self.whole(&self.out.zeros),
        );
        let all = self.whole(&partials);
        let mut offset = 0;
        for (slot, (chunk, &count)) in chunks.iter().zip(&counts).enumerate() {
            let xw = self.x_window(chunk);
            let geom = flat_geom(
                chunk.elements(self.layout),
                PARTIAL,
                xw.elem_offset,
                offset,
                count,
                slot,
            );
            let bindings = [
                (&self.x.buffer, xw),
                (&partials, all),
                (&self.out.zeros, zeros),
                (&self.out.global, global),
                (self.status, status),
            ];
            self.ctx
                .dispatch(encoder, &pass1, &geom, &bindings, count as u32);
            offset += count;
        }
        let pass2 = self.ctx.pipelines.get(
            &self.ctx.device,
            Kernel::Reduce,
            &reduce_constants(self.scheme, DType::F32, out, false),
        )?;
        let geom = flat_geom(2 * total, 2 * total, 0, 0, 1, chunks.len());
        let (sw, zw) = self.scale_bindings(0, 1);
        let (target, tw) = match range {
            Some(r) => (r, self.whole(r)),
            None => (&self.out.scales, sw),
        };
        let bindings = [
            (&partials, all),
            (target, tw),
            (&self.out.zeros, zw),
            (&self.out.global, global),
            (self.status, status),
        ];
        self.ctx.dispatch(encoder, &pass2, &geom, &bindings, 1);
        Ok(())
    }

    /// The windows of the chunk's input, scales, zero points and code words, and its geometry
    /// with their offsets (the count is the caller's).
    fn code_windows(&self, chunk: &Chunk) -> (Window, Window, Window, Window, Geom) {
        let (first, last) = chunk.blocks(self.layout);
        let (w0, w1) = chunk.words(self.layout);
        let xw = self.x_window(chunk);
        let (sw, zw) = self.scale_bindings(first, last - first + 1);
        let cw = self.ctx.window(&self.out.codes, w0, w1 - w0, 4);
        let geom = Geom {
            x_offset: xw.elem_offset,
            code_offset: cw.elem_offset,
            scale_base: first as u32,
            scale_offset: sw.elem_offset,
            ..Geom::for_chunk(self.layout, chunk)
        };
        (xw, sw, zw, cw, geom)
    }

    /// Range, scale and codes of every block of the chunk in one pass (`QuantizeBlocks`).
    fn quantize_blocks(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        chunk: &Chunk,
        slot: usize,
    ) -> Result<()> {
        let pipeline = self.ctx.pipelines.get(
            &self.ctx.device,
            Kernel::QuantizeBlocks,
            &quantize_blocks_constants(self.scheme, self.x.dtype),
        )?;
        let (xw, sw, zw, cw, geom) = self.code_windows(chunk);
        let geom = Geom {
            count: (chunk.blocks(self.layout).1 - geom.scale_base as usize + 1) as u32,
            status_slot: slot as u32,
            ..geom
        };
        let bindings = [
            (&self.x.buffer, xw),
            (&self.out.scales, sw),
            (&self.out.zeros, zw),
            (&self.out.codes, cw),
            (self.status, self.whole(self.status)),
        ];
        self.ctx
            .dispatch_threads(encoder, &pipeline, &geom, &bindings, geom.count);
        Ok(())
    }

    /// One invocation per code word of the chunk.
    fn pack(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        chunk: &Chunk,
        clipped: &wgpu::Buffer,
        count_clipped: bool,
    ) -> Result<()> {
        let pipeline = self.ctx.pipelines.get(
            &self.ctx.device,
            Kernel::Quantize,
            &quantize_constants(self.scheme, self.x.dtype, count_clipped),
        )?;
        let (xw, sw, zw, cw, geom) = self.code_windows(chunk);
        let (w0, w1) = chunk.words(self.layout);
        let geom = Geom {
            count: (w1 - w0) as u32,
            ..geom
        };
        let bindings = [
            (&self.x.buffer, xw),
            (&self.out.scales, sw),
            (&self.out.zeros, zw),
            (&self.out.global, self.whole(&self.out.global)),
            (&self.out.codes, cw),
            (clipped, self.whole(clipped)),
        ];
        self.ctx
            .dispatch_threads(encoder, &pipeline, &geom, &bindings, geom.count);
        Ok(())
    }
}

/// Geometry viewing `n` elements as one row cut into blocks of `block` (for whole-tensor
/// reductions), writing `count` results from `out_offset`.
fn flat_geom(
    n: usize,
    block: usize,
    x_offset: u32,
    out_offset: usize,
    count: usize,
    slot: usize,
) -> Geom {
    Geom {
        rows: 1,
        cols: n as u32,
        mat_rows: 1,
        block_rows: 1,
        block_cols: block as u32,
        grid_rows: 1,
        grid_cols: n.div_ceil(block) as u32,
        x_offset,
        scale_offset: out_offset as u32,
        count: count as u32,
        status_slot: slot as u32,
        ..Default::default()
    }
}

/// Turns the status words into the first error, in tensor order.
fn check_status(
    layout: &Layout,
    chunks: &[Chunk],
    status: &[u32],
    scheme: &QuantScheme,
) -> Result<()> {
    for (slot, chunk) in chunks.iter().enumerate() {
        if status[2 * slot] != CLEAR {
            let index = (chunk.row_start * layout.cols) as u64 + status[2 * slot] as u64;
            return Err(Error::NonFinite { index });
        }
    }
    let overflow = |block: u64| Error::ScaleOverflow {
        block,
        param: format!("{:?}", scheme.param),
    };
    for (slot, chunk) in chunks.iter().enumerate() {
        if status[2 * slot + 1] != CLEAR {
            return Err(overflow(
                chunk.blocks(layout).0 as u64 + status[2 * slot + 1] as u64,
            ));
        }
    }
    if status[2 * chunks.len() + 1] != CLEAR {
        return Err(overflow(0));
    }
    Ok(())
}
