//! The GPU pieces of the three ways to quantize a model: static activation calibration
//! (`Calibrator`), dynamic activation quantization (`quantize_activations`), and fake
//! quantization with its straight-through mask for quantization-aware training.

use crate::calibration::{Calibration, HISTOGRAM_BINS};
use crate::error::{Error, Result};
use crate::gpu::bindings::FakeQuantizeBindings;
use crate::gpu::buffers::{GpuQuantizedTensor, GpuTensor};
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::{plan_chunks, workgroups, Geom};
use crate::gpu::quantize::percentile_bin_edge;
use crate::gpu::quantize::Scales;
use crate::gpu::shaders::{fake_quantize_constants, Kernel};
use crate::layout::Layout;
use crate::scheme::{QuantLevel, QuantScheme};

impl GpuContext {
    /// Fake quantization: `y = dequantize(quantize(x))` in one fused dispatch after the scales,
    /// and the straight-through mask (1 where x was representable, 0 where it was clipped).
    ///
    /// ```
    /// # use wgquant::{Calibration, GpuContext};
    /// let ctx = GpuContext::new()?;
    /// let x = ctx.upload(&wgquant::synth::normal(4 * 64, 1.0, 1), &[4, 64])?;
    /// let (y, mask) = ctx.fake_quantize(&x, &"q4s:block32:f32".parse()?, Calibration::Mse)?;
    /// let (y, mask) = (ctx.download(&y)?, ctx.download(&mask)?);
    /// assert!(mask.iter().all(|&m| m == 0.0 || m == 1.0));
    /// # Ok::<(), wgquant::Error>(())
    /// ```
    pub fn fake_quantize(
        &self,
        x: &GpuTensor,
        scheme: &QuantScheme,
        calibration: Calibration,
    ) -> Result<(GpuTensor, GpuTensor)> {
        calibration.check(scheme)?;
        let layout = Layout::new(scheme, &x.shape)?;
        let q = match (calibration, scheme.level) {
            // Only the scales: the fused kernel below encodes and decodes itself.
            (Calibration::Percentile(p), QuantLevel::Tensor) if !layout.is_empty() => {
                let amax = self.tensor_percentile_amax(x, p)?;
                let range = Scales::Range {
                    lo: -amax,
                    hi: amax,
                };
                self.quantize_stages(x, scheme, range, None)?.0
            }
            (Calibration::MinMax, _) => self.quantize_stages(x, scheme, Scales::MinMax, None)?.0,
            _ => {
                self.quantize_stages(x, scheme, Scales::Calibrated(calibration), None)?
                    .0
            }
        };
        let n = layout.len();
        let y = self.storage_buffer(n as u64 * 4, "wgquant fake-quantized")?;
        let mask = self.storage_buffer(n as u64 * 4, "wgquant ste mask")?;
        if n > 0 {
            let pipeline = self.pipelines.get(
                &self.device,
                Kernel::FakeQuantize,
                &fake_quantize_constants(scheme, x.dtype),
            )?;
            let scope = self.scope();
            let mut encoder = self.device.create_command_encoder(&Default::default());
            for chunk in plan_chunks(&layout, &scheme.level, self.chunk_bytes)? {
                let count = chunk.elements(&layout);
                let start = chunk.row_start * layout.cols;
                let xw = self.window(&x.buffer, start, count, x.dtype.bytes());
                let [scales, zeros, global_scale] = self.param_windows(&q, chunk.blocks(&layout));
                let (yw, mw) = (
                    self.window(&y, start, count, 4),
                    self.window(&mask, start, count, 4),
                );
                let geom = Geom {
                    x_offset: xw.elem_offset,
                    code_offset: yw.elem_offset,
                    count: count as u32,
                    ..Geom::for_chunk_scales(&layout, &chunk, &scales.1)
                };
                let bindings = FakeQuantizeBindings {
                    src: (&x.buffer, xw),
                    scales,
                    zeros,
                    global_scale,
                    y: (&y, yw),
                    mask: (&mask, mw),
                };
                self.dispatch(
                    &mut encoder,
                    &pipeline,
                    &geom,
                    &bindings,
                    workgroups(count as u32),
                );
            }
            self.queue.submit([encoder.finish()]);
            scope.finish("fake quantize")?;
        }
        let tensor = |buffer| GpuTensor::f32(buffer, x.shape.clone());
        Ok((tensor(y), tensor(mask)))
    }

    /// Dynamic activation quantization: x [M, K] to int8 per row (`block = None`) or per block
    /// of K, at run time on the GPU, ready for [`GpuContext::linear_quantized`].
    ///
    /// ```
    /// # use wgquant::GpuContext;
    /// let ctx = GpuContext::new()?;
    /// let w = ctx.upload_quantized(&ctx.quantize(&vec![0.1f32; 16 * 64], &[16, 64], &"q8s:block32:f32".parse()?)?)?;
    /// let x = ctx.upload(&vec![0.5f32; 2 * 64], &[2, 64])?;
    /// let xq = ctx.quantize_activations(&x, Some(32))?;
    /// let y = ctx.download(&ctx.linear_quantized(&xq, &w)?)?;
    /// assert_eq!(y.len(), 2 * 16);
    /// # Ok::<(), wgquant::Error>(())
    /// ```
    pub fn quantize_activations(
        &self,
        x: &GpuTensor,
        block: Option<usize>,
    ) -> Result<GpuQuantizedTensor> {
        let k = match x.shape.as_slice() {
            [_, k] => *k,
            other => {
                return Err(Error::Shape(format!(
                    "activations are [M, K], got {other:?}"
                )))
            }
        };
        let scheme =
            QuantScheme::default().with_level(QuantLevel::block([1, block.unwrap_or(k).max(1)]));
        self.quantize_tensor(x, &scheme)
    }
}

/// Static activation calibration (static post-training quantization): observe batches of
/// activations on the GPU, fix the quantization parameters, then quantize new activations with
/// them, counting the values that clip. Tensor level; MinMax or Percentile.
///
/// ```
/// # use wgquant::{Calibration, Calibrator, GpuContext};
/// let ctx = GpuContext::new()?;
/// let mut cal = Calibrator::new("q8s:tensor:f32".parse()?, Calibration::Percentile(99.9))?;
/// for seed in 0..4 {
///     let batch = ctx.upload(&wgquant::synth::normal(8 * 256, 1.0, seed), &[8, 256])?;
///     cal.observe(&ctx, &batch)?;
/// }
/// let new = ctx.upload(&wgquant::synth::normal(8 * 256, 1.0, 99), &[8, 256])?;
/// let (q, clipped) = cal.quantize(&ctx, &new)?;
/// println!("scale {:?}, {clipped} values clipped", cal.params(&ctx)?);
/// # Ok::<(), wgquant::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Calibrator {
    scheme: QuantScheme,
    method: Calibration,
    lo: f32,
    hi: f32,
    /// Histogram range: a power of two above the running amax (Percentile).
    top: f32,
    hist: Vec<u64>,
    batches: usize,
}

impl Calibrator {
    /// A calibrator for Tensor-level `scheme`, with MinMax or Percentile.
    pub fn new(scheme: QuantScheme, method: Calibration) -> Result<Self> {
        scheme.validate()?;
        method.check(&scheme)?;
        if scheme.level != QuantLevel::Tensor
            || matches!(method, Calibration::Mse)
            || scheme.param == crate::scheme::QuantParam::E4M3
        {
            return Err(Error::Unsupported {
                what: format!("static calibration of `{scheme}` with {method:?} (Tensor level, MinMax or Percentile)"),
            });
        }
        Ok(Calibrator {
            scheme,
            method,
            lo: 0.0,
            hi: 0.0,
            top: 0.0,
            hist: vec![0; HISTOGRAM_BINS],
            batches: 0,
        })
    }

    /// Observes a batch on the GPU: its range, and for Percentile its histogram.
    pub fn observe(&mut self, ctx: &GpuContext, x: &GpuTensor) -> Result<()> {
        let (lo, hi) = ctx.value_range(x)?;
        self.observe_with(lo, hi, |top| ctx.histogram(x, top))
    }

    fn observe_with(
        &mut self,
        lo: f32,
        hi: f32,
        histogram_of: impl FnOnce(f32) -> Result<Vec<u64>>,
    ) -> Result<()> {
        (self.lo, self.hi) = (self.lo.min(lo), self.hi.max(hi));
        self.batches += 1;
        if let Calibration::Percentile(_) = self.method {
            let amax = (-lo).max(hi);
            if self.top == 0.0 && amax > 0.0 {
                self.top = 2f32.powi(amax.log2().floor() as i32 + 1);
            }
            // Doubling the range merges bin pairs exactly: every |x| lies below the top, so no
            // bin was clamped and floor(|x| 2048 / 2 top) = floor(floor(|x| 2048 / top) / 2).
            while amax >= self.top && self.top > 0.0 {
                self.top *= 2.0;
                let old = std::mem::replace(&mut self.hist, vec![0; HISTOGRAM_BINS]);
                for (i, c) in old.into_iter().enumerate() {
                    self.hist[i / 2] += c;
                }
            }
            for (h, c) in self.hist.iter_mut().zip(histogram_of(self.top)?) {
                *h += c;
            }
        }
        Ok(())
    }

    /// The clipping range fixed so far: the observed (min, max) for MinMax, and +-amax at the
    /// percentile for Percentile.
    pub fn range(&self) -> Result<(f32, f32)> {
        if self.batches == 0 {
            return Err(Error::Usage(
                "observe at least one batch before asking for parameters".into(),
            ));
        }
        Ok(match self.method {
            Calibration::Percentile(p) if self.top > 0.0 => {
                let amax = percentile_bin_edge(&self.hist, self.top, p);
                (-amax, amax)
            }
            Calibration::Percentile(_) => (0.0, 0.0),
            _ => (self.lo, self.hi),
        })
    }

    /// The fixed parameters: the stored scale and, in Affine mode, the zero point, computed on
    /// the GPU from [`Calibrator::range`] by the kernel that computes MinMax scales.
    pub fn params(&self, ctx: &GpuContext) -> Result<(f32, Option<u8>)> {
        let (lo, hi) = self.range()?;
        ctx.scale_of_range(&self.scheme, lo, hi)
    }

    /// Quantizes new activations with the fixed parameters; values outside the range clamp,
    /// and their number is returned.
    pub fn quantize(&self, ctx: &GpuContext, x: &GpuTensor) -> Result<(GpuQuantizedTensor, u64)> {
        let (lo, hi) = self.range()?;
        // A fixed range skips the reduction that finds non-finite inputs; look for them first.
        ctx.value_range(x)?;
        ctx.quantize_stages(x, &self.scheme, Scales::Range { lo, hi }, Some(true))
    }
}
