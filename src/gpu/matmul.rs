//! Quantized linear layers on the GPU: `y = x . W^T` with x [M, K] f32 and W a quantized
//! [N, K] weight whose blocks run along K (PyTorch's and Burn's `Linear` layout). Four paths:
//! dequantize-then-matmul, fused (W decoded in the tile load), GEMV for M <= 8, and the
//! integer path (x quantized per row to int8, int8 dot products).

use crate::error::{Error, Result};
use crate::gpu::bindings::{
    Dims, IntDims, IntMatmulBindings, LinearBindings, MatmulBindings, MatmulSrcBindings,
};
use crate::gpu::buffers::{GpuQuantizedTensor, GpuTensor};
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::{split_grid, Chunk, Geom};
use crate::gpu::gguf::GpuGgufTensor;
use crate::gpu::pipelines::Pipeline;
use crate::gpu::shaders::{
    gguf_constants, weight_constants, DType, GemvShape, Kernel, KernelEnum, WeightKind,
    GEMV_COLUMNS, MATMUL_TILE, MATMUL_TILE_N, WORKGROUP,
};
use crate::gpu::window::Window;
use crate::layout::Layout;
use crate::quantized::QuantizedTensor;
use crate::scheme::{QuantLevel, QuantMode, QuantScheme, QuantStore};

/// How `linear` computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatmulPath {
    /// Dequantize W into an f32 scratch buffer, then the tiled f32 matmul.
    DequantizeThenMatmul,
    /// The tiled matmul decoding W's codes as it loads each tile.
    Fused,
    /// One pass over W per output column, for M <= 8.
    Gemv,
    /// x quantized per row to int8, int8 x int8 dot products, scaled once per block.
    Integer,
}

/// The weight a matmul kernel reads.
enum Weight<'a> {
    /// f32 [N, K]: plain matmul and the scratch of dequantize-then-matmul.
    F32(&'a wgpu::Buffer),
    Quantized(&'a GpuQuantizedTensor),
    Gguf(&'a GpuGgufTensor),
}

/// Largest M the GEMV kernel takes.
pub const GEMV_MAX_M: usize = 8;

/// W's blocks along K: `k` elements per scale, or K itself at Tensor level.
fn block_along_k(scheme: &QuantScheme, k: usize) -> Result<usize> {
    match scheme.level {
        QuantLevel::Tensor => Ok(k),
        QuantLevel::Block(b) => match b.dims() {
            [c] | [1, c] => Ok(*c),
            dims => Err(Error::Shape(format!(
                "W's blocks {dims:?} span several rows of N; a linear weight needs blocks along K ([k] or [1, k]) or Tensor level"
            ))),
        },
    }
}

/// Why the integer path cannot take `scheme`, if it cannot.
pub(crate) fn integer_path_refusal(scheme: &QuantScheme, k: usize) -> Option<String> {
    let block = block_along_k(scheme, k).ok()?;
    if scheme.mode != QuantMode::Symmetric
        || scheme.value.int_range().is_none()
        || ![8, 4].contains(&scheme.value.bits())
    {
        return Some(format!(
            "the integer path takes Q8/Q4 integer weights in Symmetric mode, not `{scheme}`"
        ));
    }
    if scheme.store != QuantStore::U32 {
        return Some("the integer path takes the U32 store".into());
    }
    if scheme.level != QuantLevel::Tensor && block % 8 != 0 {
        return Some(format!(
            "the integer path needs W blocks of a multiple of 8 along K, not {block}"
        ));
    }
    None
}

impl GpuContext {
    /// The path `linear` takes when none is forced: GEMV for M <= 8, else fused.
    pub fn choose_matmul_path(&self, m: usize) -> MatmulPath {
        if m <= GEMV_MAX_M {
            MatmulPath::Gemv
        } else {
            MatmulPath::Fused
        }
    }

    /// `y = x . W^T` on device tensors; returns y [M, N] and the path taken (`path` forces one).
    ///
    /// ```no_run
    /// # use wgquant::{GpuContext, MatmulPath};
    /// let ctx = GpuContext::new()?;
    /// let w = ctx.quantize(&vec![0.1f32; 64 * 128], &[64, 128], &"q4s:block32:f16".parse()?)?;
    /// let (y, path) = ctx.linear_host(&vec![1.0f32; 2 * 128], 2, &w, None)?;
    /// assert_eq!((y.len(), path), (2 * 64, MatmulPath::Gemv));
    /// # Ok::<(), wgquant::Error>(())
    /// ```
    pub fn linear(
        &self,
        x: &GpuTensor,
        w: &GpuQuantizedTensor,
        path: Option<MatmulPath>,
    ) -> Result<(GpuTensor, MatmulPath)> {
        let (m, n, k) = self.check_linear(x, &w.shape)?;
        let path = path.unwrap_or_else(|| self.choose_matmul_path(m));
        w.check()?;
        block_along_k(&w.scheme, k)?;
        let y = self.storage_buffer((m * n * 4) as u64, "wgquant linear output")?;
        if m * n > 0 && k > 0 {
            match path {
                MatmulPath::DequantizeThenMatmul => {
                    let wf = self.dequantize_tensor(w)?;
                    self.run_matmul(false, x, Weight::F32(&wf.buffer), &y, (m, n, k))?;
                }
                MatmulPath::Fused => {
                    self.run_matmul(false, x, Weight::Quantized(w), &y, (m, n, k))?
                }
                MatmulPath::Gemv => {
                    self.run_matmul(true, x, Weight::Quantized(w), &y, (m, n, k))?
                }
                MatmulPath::Integer => self.run_integer(x, w, &y, (m, n, k))?,
            }
        } else if m * n > 0 {
            // K == 0: an empty sum.
            self.queue.write_buffer(&y, 0, &vec![0u8; m * n * 4]);
        }
        let out = GpuTensor {
            buffer: y,
            shape: vec![m, n],
            dtype: DType::F32,
        };
        Ok((out, path))
    }

    /// Plain f32 `y = x . W^T`, W f32 [N, K] on the device (the dequantize-then-matmul kernel).
    pub fn matmul_f32(&self, x: &GpuTensor, w: &GpuTensor) -> Result<GpuTensor> {
        self.f32_weight(false, x, w)
    }

    /// The GEMV kernel on a plain f32 weight (M <= 8): the baseline of the fused GEMV.
    pub fn gemv_f32(&self, x: &GpuTensor, w: &GpuTensor) -> Result<GpuTensor> {
        self.f32_weight(true, x, w)
    }

    fn f32_weight(&self, gemv: bool, x: &GpuTensor, w: &GpuTensor) -> Result<GpuTensor> {
        if w.dtype != DType::F32 {
            return Err(Error::Unsupported {
                what: format!("an f32 matmul with a {:?} weight", w.dtype),
            });
        }
        let (m, n, k) = self.check_linear(x, &w.shape)?;
        let y = self.storage_buffer((m * n * 4) as u64, "wgquant matmul output")?;
        if m * n * k > 0 {
            self.run_matmul(gemv, x, Weight::F32(&w.buffer), &y, (m, n, k))?;
        }
        Ok(GpuTensor::f32(y, vec![m, n]))
    }

    /// Host convenience: x [M, K] row-major and a host quantized W; returns y and the path.
    pub fn linear_host(
        &self,
        x: &[f32],
        m: usize,
        w: &QuantizedTensor,
        path: Option<MatmulPath>,
    ) -> Result<(Vec<f32>, MatmulPath)> {
        let k = w.shape.get(1).copied().unwrap_or(0);
        let xt = self.upload(x, &[m, k])?;
        let wq = self.upload_quantized(w)?;
        let (y, path) = self.linear(&xt, &wq, path)?;
        Ok((self.download(&y)?, path))
    }

    fn check_linear(&self, x: &GpuTensor, w_shape: &[usize]) -> Result<(usize, usize, usize)> {
        let (&[m, kx], &[n, kw]) = (x.shape.as_slice(), w_shape) else {
            return Err(Error::Shape(format!(
                "linear takes x [M, K] and W [N, K], got {:?} and {w_shape:?}",
                x.shape
            )));
        };
        if kx != kw {
            return Err(Error::Shape(format!(
                "x has K = {kx} but W has K = {kw} (W is [N, K])"
            )));
        }
        let limit = self.limits.max_storage_buffer_binding_size;
        let bytes = |a: usize, b: usize, size: usize| {
            (a as u64)
                .checked_mul(b as u64)
                .and_then(|v| v.checked_mul(size as u64))
        };
        let fits = |v: Option<u64>| v.is_some_and(|v| v <= limit);
        if !(fits(bytes(m, kx, x.dtype.bytes())) && fits(bytes(n, kw, 4)) && fits(bytes(m, n, 4))) {
            return Err(Error::TooLarge(format!(
                "linear operands [{m}, {kx}] x [{n}, {kw}] must each fit one storage binding ({limit} bytes)"
            )));
        }
        Ok((m, n, kx))
    }

    /// Geometry of W [N, K] as the weight prelude reads it.
    fn weight_geom(&self, scheme: &QuantScheme, n: usize, k: usize) -> Result<Geom> {
        let layout = Layout::new(scheme, &[n, k])?;
        Ok(Geom::for_chunk(
            &layout,
            &Chunk {
                row_start: 0,
                rows: n,
            },
        ))
    }

    fn whole(&self, buffer: &wgpu::Buffer) -> Window {
        self.window(buffer, 0, (buffer.size() / 4) as usize, 4)
    }

    /// `y = x . W^T` for a GGUF weight: fused, GEMV, or dequantize-then-matmul.
    pub fn linear_gguf(
        &self,
        x: &GpuTensor,
        w: &GpuGgufTensor,
        path: Option<MatmulPath>,
    ) -> Result<(GpuTensor, MatmulPath)> {
        let (m, n, k) = self.check_linear(x, &w.shape)?;
        let path = path.unwrap_or_else(|| self.choose_matmul_path(m));
        let y = self.storage_buffer((m * n * 4) as u64, "wgquant linear output")?;
        if m * n * k > 0 {
            match path {
                MatmulPath::DequantizeThenMatmul => {
                    let wf = self.dequantize_gguf_tensor(w)?;
                    self.run_matmul(false, x, Weight::F32(&wf.buffer), &y, (m, n, k))?;
                }
                MatmulPath::Fused => self.run_matmul(false, x, Weight::Gguf(w), &y, (m, n, k))?,
                MatmulPath::Gemv => self.run_matmul(true, x, Weight::Gguf(w), &y, (m, n, k))?,
                MatmulPath::Integer => {
                    return Err(Error::Unsupported {
                        what: "the integer path with GGUF weights".into(),
                    })
                }
            }
        }
        Ok((
            GpuTensor {
                buffer: y,
                shape: vec![m, n],
                dtype: DType::F32,
            },
            path,
        ))
    }

    /// Runs the tiled matmul (or, with `gemv`, the GEMV kernel) on one kind of weight.
    fn run_matmul(
        &self,
        gemv: bool,
        x: &GpuTensor,
        w: Weight<'_>,
        y: &wgpu::Buffer,
        (m, n, k): (usize, usize, usize),
    ) -> Result<()> {
        if gemv && m > GEMV_MAX_M {
            return Err(Error::Shape(format!(
                "the GEMV path takes M <= {GEMV_MAX_M}, not {m}"
            )));
        }
        let weight = match w {
            Weight::F32(_) => WeightKind::F32,
            Weight::Quantized(_) => WeightKind::Coded,
            Weight::Gguf(_) => WeightKind::Gguf,
        };
        let vec4 = if gemv {
            self.gemv_vec4_shape(&w, m, k, x.dtype)
        } else {
            None
        };
        let kernel = match (gemv, vec4) {
            (true, Some(_)) => Kernel::GemvVec4 {
                // On a CPU adapter a subgroup's lanes run as one SIMD: shuffling them costs
                // more than each lane's own store.
                subgroup: self.features().subgroup && !self.cpu_walks(),
                coded: weight == WeightKind::Coded,
            },
            // The shuffle reduction needs each group of 8 lanes inside one subgroup.
            (true, None) => Kernel::Gemv {
                subgroup: self.features().subgroup && self.adapter_info().subgroup_min_size >= 8,
                weight,
            },
            (false, _) => Kernel::Matmul { weight },
        };
        let plain = Geom {
            rows: n as u32,
            cols: k as u32,
            ..Default::default()
        };
        let (geom, mut constants) = match &w {
            Weight::F32(_) => (plain, Vec::new()),
            Weight::Quantized(q) => (
                self.weight_geom(&q.scheme, n, k)?,
                weight_constants(&q.scheme),
            ),
            Weight::Gguf(t) => (plain, gguf_constants(t.ty, DType::F32)),
        };
        constants.push(("X_DTYPE", x.dtype.code()));
        let max = self.limits.max_compute_workgroups_per_dimension.max(1);
        let scope = self.scope();
        let mut encoder = self.device.create_command_encoder(&Default::default());
        // The vec4 GEMV takes as many rows of x per dispatch as its registers hold.
        let per_dispatch = vec4.map_or(m, |shape| shape.m as usize);
        for start in (0..m).step_by(per_dispatch) {
            let rows = per_dispatch.min(m - start);
            let mut constants = constants.clone();
            let shape = vec4.and_then(|_| self.gemv_vec4_shape(&w, rows, k, x.dtype));
            if let Some(shape) = shape {
                constants.extend(shape.constants());
            }
            let pipeline = self.pipelines.get(&self.device, kernel, &constants)?;
            let dims = Dims {
                m: rows as u32,
                n: n as u32,
                k: k as u32,
                x_offset: (start * k) as u32,
                y_offset: (start * n) as u32,
                ..Default::default()
            };
            let dims_buf = self.uniform(bytemuck::bytes_of(&dims));
            let (xs, ys, d) = (
                (&x.buffer, self.whole(&x.buffer)),
                (y, self.whole(y)),
                (&dims_buf, Window::new(&dims_buf, 0, 8, 4, 4)),
            );
            let grid = if let Some(shape) = shape {
                split_grid((n as u32).div_ceil(shape.columns), max)
            } else if gemv {
                split_grid((n as u32).div_ceil(GEMV_COLUMNS), max)
            } else {
                [
                    (n as u32).div_ceil(MATMUL_TILE_N),
                    (rows as u32).div_ceil(MATMUL_TILE),
                ]
            };
            if grid.iter().any(|&g| g > max) {
                return Err(Error::TooLarge(format!(
                    "a {m} x {n} output needs more than {max} tiles in one dimension"
                )));
            }
            let is_vec4 = shape.is_some();
            match w {
                Weight::F32(src) | Weight::Gguf(GpuGgufTensor { blocks: src, .. }) => {
                    let bindings = MatmulSrcBindings {
                        src: (src, self.whole(src)),
                        xs,
                        ys,
                        d,
                    };
                    self.dispatch_linear(&mut encoder, &pipeline, &geom, &bindings, is_vec4, grid);
                }
                Weight::Quantized(q) => {
                    let bindings = MatmulBindings {
                        src: (&q.codes, self.whole(&q.codes)),
                        w_scales: (&q.scales, self.whole(&q.scales)),
                        w_zeros: (&q.zeros, self.whole(&q.zeros)),
                        w_global: (&q.global, self.whole(&q.global)),
                        xs,
                        ys,
                        d,
                    };
                    self.dispatch_linear(&mut encoder, &pipeline, &geom, &bindings, is_vec4, grid);
                }
            }
        }
        self.queue.submit([encoder.finish()]);
        scope.finish("matmul")
    }

    /// One matmul dispatch; `vec4`: the vec4 GEMV, which takes some buffers twice.
    fn dispatch_linear<'a, B: LinearBindings<'a>>(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        pipeline: &Pipeline,
        geom: &Geom,
        bindings: &B,
        vec4: bool,
        grid: [u32; 2],
    ) {
        if vec4 {
            self.dispatch_grid(encoder, pipeline, geom, &bindings.for_gemv_vec4(), grid)
        } else {
            self.dispatch_grid(encoder, pipeline, geom, bindings, grid)
        }
    }

    /// The vec4 GEMV's shape where it takes W: f32 with K a multiple of 4, or U32-store codes of
    /// 1, 2, 4 or 8 bits whose rows are whole vec4 of words, each inside one block.
    fn gemv_vec4_shape(&self, w: &Weight<'_>, m: usize, k: usize, x: DType) -> Option<GemvShape> {
        let (units, x_vec4s, units_per_block) = match w {
            Weight::F32(_) => k.is_multiple_of(4).then_some((k / 4, 1, 0))?,
            Weight::Quantized(q) => {
                let s = &q.scheme;
                let cpw = s.codes_per_word();
                let words = k.div_ceil(cpw);
                let block = block_along_k(s, k).ok()?;
                let tensor = s.level == QuantLevel::Tensor;
                let whole = s.store == QuantStore::U32
                    && cpw.is_multiple_of(4)
                    && words.is_multiple_of(4)
                    && (tensor || block.is_multiple_of(4 * cpw));
                let upb = if tensor { 0 } else { block / (4 * cpw) };
                whole.then_some((words / 4, cpw, upb))?
            }
            Weight::Gguf(_) => return None,
        };
        let units = u32::try_from(units).ok()?;
        let shape = GemvShape::choose(m as u32, units, x_vec4s as u32, self.cpu_walks())?;
        Some(
            shape
                .with_scale_quads(units, u32::try_from(units_per_block).ok()?)
                .with_x_vec4(x == DType::F32 && k.is_multiple_of(4)),
        )
    }

    /// Quantizes x per row to int8 (the generic quantize kernels, scheme `q8s:block1xK:f32`,
    /// or blocks matching W's), then the integer kernel.
    fn run_integer(
        &self,
        x: &GpuTensor,
        w: &GpuQuantizedTensor,
        y: &wgpu::Buffer,
        (m, n, k): (usize, usize, usize),
    ) -> Result<()> {
        if let Some(why) = integer_path_refusal(&w.scheme, k) {
            return Err(Error::Unsupported { what: why });
        }
        let xq = self.quantize_tensor(x, &activation_scheme(&w.scheme, k))?;
        self.integer_kernel(&xq, w, y, (m, n, k))
    }

    /// The integer path on activations already quantized (by
    /// [`GpuContext::quantize_activations`]): per row, or per block of K equal to W's blocks.
    pub fn linear_quantized(
        &self,
        xq: &GpuQuantizedTensor,
        w: &GpuQuantizedTensor,
    ) -> Result<GpuTensor> {
        let (&[m, k], &[n, kw]) = (xq.shape.as_slice(), w.shape.as_slice()) else {
            return Err(Error::Shape(format!(
                "linear takes x [M, K] and W [N, K], got {:?} and {:?}",
                xq.shape, w.shape
            )));
        };
        if k != kw {
            return Err(Error::Shape(format!(
                "x has K = {k} but W has K = {kw} (W is [N, K])"
            )));
        }
        if let Some(why) = integer_path_refusal(&w.scheme, k) {
            return Err(Error::Unsupported { what: why });
        }
        xq.check()?;
        w.check()?;
        let xb = activation_block(&xq.scheme, k);
        let want = QuantScheme::default().with_level(QuantLevel::block([1, xb]));
        if xq.scheme != want || (xb != k && xb != block_along_k(&w.scheme, k)?) {
            return Err(Error::Unsupported {
                what: format!(
                    "activations `{}` for the integer path (quantize them with quantize_activations, per row or per W block)",
                    xq.scheme
                ),
            });
        }
        let y = self.storage_buffer((m * n * 4) as u64, "wgquant linear output")?;
        if m * n * k > 0 {
            self.integer_kernel(xq, w, &y, (m, n, k))?;
        }
        Ok(GpuTensor {
            buffer: y,
            shape: vec![m, n],
            dtype: DType::F32,
        })
    }

    fn integer_kernel(
        &self,
        xq: &GpuQuantizedTensor,
        w: &GpuQuantizedTensor,
        y: &wgpu::Buffer,
        (m, n, k): (usize, usize, usize),
    ) -> Result<()> {
        let block = block_along_k(&w.scheme, k)?;
        let builtin_dot = self.packed_dot_builtin();
        // Few rows of x: one output per invocation; more: 64 x 64 tiles.
        let tiled = m > GEMV_MAX_M;
        let kernel = Kernel::IntMatmul { builtin_dot, tiled };
        let pipeline = self
            .pipelines
            .get(&self.device, kernel, &weight_constants(&w.scheme))?;
        let dims = IntDims {
            m: m as u32,
            n: n as u32,
            k: k as u32,
            x_words: k.div_ceil(4) as u32,
            w_words: k.div_ceil(w.scheme.codes_per_word()) as u32,
            block: block as u32,
            x_block: activation_block(&xq.scheme, k) as u32,
            y_offset: 0,
        };
        let dims_buf = self.uniform(bytemuck::bytes_of(&dims));
        let geom = self.weight_geom(&w.scheme, n, k)?;
        let scope = self.scope();
        let mut encoder = self.device.create_command_encoder(&Default::default());
        let bindings = IntMatmulBindings {
            src: (&w.codes, self.whole(&w.codes)),
            w_scales: (&w.scales, self.whole(&w.scales)),
            x_codes: (&xq.codes, self.whole(&xq.codes)),
            x_scales: (&xq.scales, self.whole(&xq.scales)),
            ys: (y, self.whole(y)),
            d: (&dims_buf, Window::new(&dims_buf, 0, 8, 4, 4)),
        };
        let grid = match tiled {
            true => [
                (n as u32).div_ceil(MATMUL_TILE),
                (m as u32).div_ceil(MATMUL_TILE),
            ],
            false => [(n as u32).div_ceil(WORKGROUP), m as u32],
        };
        if grid
            .iter()
            .any(|&g| g > self.limits.max_compute_workgroups_per_dimension)
        {
            return Err(Error::TooLarge(format!(
                "an {m} x {n} output needs more than 65,535 workgroups in one dimension"
            )));
        }
        self.dispatch_grid(&mut encoder, &pipeline, &geom, &bindings, grid);
        self.queue.submit([encoder.finish()]);
        scope.finish("integer matmul")
    }
}

/// The dynamic activation scheme of the integer path: int8 per row, or per block of K when W
/// has blocks (so each W block meets one x scale).
pub fn activation_scheme(w: &QuantScheme, k: usize) -> QuantScheme {
    let block = match w.level {
        QuantLevel::Tensor => k,
        QuantLevel::Block(_) => block_along_k(w, k).unwrap_or(k),
    };
    QuantScheme::default().with_level(QuantLevel::block([1, block.max(1)]))
}

fn activation_block(x: &QuantScheme, k: usize) -> usize {
    match x.level {
        QuantLevel::Block(b) => b.rows_cols().1,
        QuantLevel::Tensor => k,
    }
}
