//! Whole-tensor statistics on the GPU that calibration builds on: the range, the |x|
//! histogram, and the stored scale (and zero point) of a given range. The only host arithmetic
//! here is counting: the percentile's bin in the histogram.

use crate::calibration::{Calibration, HISTOGRAM_BINS};
use crate::error::Result;
use crate::gpu::bindings::HistogramBindings;
use crate::gpu::buffers::GpuTensor;
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::{plan_chunks, workgroups, Geom};
use crate::gpu::shaders::{histogram_constants, Kernel, ReduceOut};
use crate::layout::Layout;
use crate::scheme::{QuantLevel, QuantMode, QuantScheme};

use super::run::{check_status, QuantizeRun};

impl GpuContext {
    /// The clipping amax of tensor-level Percentile calibration: range and histogram passes on
    /// the GPU, the percentile's bin edge on the host.
    pub(crate) fn tensor_percentile_amax(&self, x: &GpuTensor, p: f32) -> Result<f32> {
        let (lo, hi) = self.value_range(x)?;
        let amax = (-lo).max(hi).max(0.0);
        Ok(percentile_bin_edge(&self.histogram(x, amax)?, amax, p))
    }

    /// The stored scale, and in Affine mode the zero point, of a tensor whose range is
    /// [lo, hi] (lo <= 0 <= hi), as `Scales::Range` computes them for a quantization: the
    /// MinMax scale kernel on the two values (subnormal bounds flush like any input).
    pub(crate) fn scale_of_range(
        &self,
        scheme: &QuantScheme,
        lo: f32,
        hi: f32,
    ) -> Result<(f32, Option<u8>)> {
        let scheme = scheme.with_level(QuantLevel::Tensor);
        let x = self.upload(&[lo, hi], &[2])?;
        let (q, _) = self.quantize_stages(&x, &scheme, super::Scales::Range { lo, hi }, None)?;
        let scale: f32 = bytemuck::pod_read_unaligned(&self.read_bytes(&q.scales, 4)?);
        let zero = if scheme.mode == QuantMode::Affine {
            Some(self.read_bytes(&q.zeros, 4)?[0])
        } else {
            None
        };
        Ok((scale, zero))
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
        scope.finish("range")?;
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
            self.dispatch(
                &mut encoder,
                &pipeline,
                &geom,
                &HistogramBindings {
                    src: (&x.buffer, xw),
                    bins: (&bins, bw),
                },
                workgroups(count as u32),
            );
        }
        self.queue.submit([encoder.finish()]);
        scope.finish("histogram")?;
        let counts: Vec<u32> =
            bytemuck::pod_collect_to_vec(&self.read_bytes(&bins, (HISTOGRAM_BINS * 4) as u64)?);
        for (h, c) in hist.iter_mut().zip(counts) {
            *h = c as u64;
        }
        Ok(hist)
    }
}

/// The upper edge of the first bin at which the cumulative count reaches the nearest rank of
/// the p-th percentile, ceil(p n / 100) (at least 1), of the n counted values.
pub(crate) fn percentile_bin_edge(hist: &[u64], top: f32, p: f32) -> f32 {
    let n: u64 = hist.iter().sum();
    let millionths = Calibration::percentile_millionths(p) as u128;
    let rank = ((millionths * n as u128).div_ceil(1_000_000) as u64).max(1);
    let bin = hist
        .iter()
        .scan(0u64, |seen, &c| {
            *seen += c;
            Some(*seen)
        })
        .position(|seen| seen >= rank);
    match bin {
        Some(b) => top * ((b + 1) as f32 / hist.len() as f32),
        None => top,
    }
}
