//! GGUF block types on the GPU (NUMERICS section 7): quantize to llama.cpp's block bytes and back.

use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::format::gguf::mxfp4_round_up_table;
use crate::format::GgufType;
use crate::gguf::GgufTensor;
use crate::gpu::bindings::{GgufDequantizeBindings, GgufQuantizeBindings, KQuantizeBindings};
use crate::gpu::buffers::{check_len, GpuTensor, HostElement};
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::{workgroups, Geom};
use crate::gpu::shaders::{gguf_constants, DType, Kernel};

/// Status words per chunk: a 256-byte stride keeps every chunk's window aligned.
const STATUS_STRIDE: usize = 64;
const CLEAR: u32 = u32::MAX;

/// The MXFP4 log2 table, computed once per process.
fn log2_table() -> &'static [u32] {
    static TABLE: OnceLock<Vec<u32>> = OnceLock::new();
    TABLE.get_or_init(mxfp4_round_up_table)
}

/// Ranges of whole groups of blocks, `(first block, blocks)`, that fit one binding window.
fn plan(ctx: &GpuContext, blocks: usize, ty: GgufType) -> Result<Vec<(usize, usize)>> {
    let group = ty.blocks_per_group();
    let per_chunk =
        (ctx.chunk_bytes.saturating_sub(256) as usize / (ty.block_elements() * 4)) / group * group;
    if per_chunk == 0 {
        return Err(Error::TooLarge(format!(
            "a group of {group} {ty:?} blocks exceeds the {} byte binding window",
            ctx.chunk_bytes
        )));
    }
    Ok((0..blocks)
        .step_by(per_chunk)
        .map(|b| (b, per_chunk.min(blocks - b)))
        .collect())
}

impl GpuContext {
    /// Quantizes host data to a GGUF block type on the GPU; the row length must be a multiple
    /// of the type's block (32, or 256 for the K-quants).
    ///
    /// ```no_run
    /// # use wgquant::{GpuContext, GgufType};
    /// let ctx = GpuContext::new()?;
    /// let t = ctx.quantize_gguf(&[0.5f32; 64], &[2, 32], GgufType::Q4_0)?;
    /// assert_eq!(t.data.len(), 2 * 18);
    /// # Ok::<(), wgquant::Error>(())
    /// ```
    pub fn quantize_gguf<T: HostElement>(
        &self,
        data: &[T],
        shape: &[usize],
        ty: GgufType,
    ) -> Result<GgufTensor> {
        GgufTensor::check_shape(shape, ty)?;
        check_len(data.len(), shape)?;
        let x = self.upload(data, shape)?;
        let t = self.quantize_gguf_tensor(&x, ty)?;
        self.download_gguf(&t)
    }

    /// Quantizes a device tensor to GGUF blocks, keeping them on the device.
    pub fn quantize_gguf_tensor(&self, x: &GpuTensor, ty: GgufType) -> Result<GpuGgufTensor> {
        GgufTensor::check_shape(&x.shape, ty)?;
        let per = ty.block_elements();
        let blocks = x.len() / per;
        let group_bytes = ty.blocks_per_group() * ty.block_bytes();
        let groups = blocks.div_ceil(ty.blocks_per_group());
        let out = GpuGgufTensor {
            ty,
            shape: x.shape.clone(),
            blocks: self.storage_buffer((groups * group_bytes) as u64, "wgquant gguf blocks")?,
        };
        if blocks == 0 {
            return Ok(out);
        }
        let chunks = plan(self, blocks, ty)?;
        let status_init = vec![CLEAR; chunks.len() * STATUS_STRIDE];
        let status =
            self.buffer_from_bytes(bytemuck::cast_slice(&status_init), "wgquant status")?;
        // The K-quants have their own kernel; MXFP4's table is bound by the other one only.
        let (kernel, table) = if ty.is_k_quant() {
            (Kernel::KQuantize, None)
        } else {
            let t =
                self.buffer_from_bytes(bytemuck::cast_slice(log2_table()), "wgquant mxfp4 table")?;
            (Kernel::GgufQuantize, Some(t))
        };
        let pipeline = self
            .pipelines
            .get(&self.device, kernel, &gguf_constants(ty, x.dtype))?;
        let scope = self.scope();
        let mut encoder = self.device.create_command_encoder(&Default::default());
        for (i, &(first, count)) in chunks.iter().enumerate() {
            let chunk_groups = count.div_ceil(ty.blocks_per_group());
            let xw = self.window(&x.buffer, first * per, count * per, x.dtype.bytes());
            let ow = self.window(
                &out.blocks,
                first * ty.block_bytes() / 4,
                chunk_groups * group_bytes / 4,
                4,
            );
            let sw = self.window(&status, i * STATUS_STRIDE, 1, 4);
            let geom = Geom {
                rows: count as u32,
                x_offset: xw.elem_offset,
                code_offset: ow.elem_offset,
                count: chunk_groups as u32,
                ..Default::default()
            };
            // The K-quant kernel runs one invocation per sub-block, the other one per group.
            let groups = match ty.is_k_quant() {
                true => workgroups((count * ty.sub_blocks()) as u32),
                false => workgroups(chunk_groups as u32),
            };
            match &table {
                Some(table) => {
                    let bindings = GgufQuantizeBindings {
                        src: (&x.buffer, xw),
                        status: (&status, sw),
                        out: (&out.blocks, ow),
                        log2_round_up: (table, self.window(table, 0, 256, 4)),
                    };
                    self.dispatch(&mut encoder, &pipeline, &geom, &bindings, groups);
                }
                None => {
                    let bindings = KQuantizeBindings {
                        src: (&x.buffer, xw),
                        status: (&status, sw),
                        out: (&out.blocks, ow),
                    };
                    self.dispatch(&mut encoder, &pipeline, &geom, &bindings, groups);
                }
            }
        }
        self.queue.submit([encoder.finish()]);
        scope.finish("gguf quantize")?;
        let words: Vec<u32> =
            bytemuck::pod_collect_to_vec(&self.read_bytes(&status, status.size())?);
        for (i, &(first, _)) in chunks.iter().enumerate() {
            if words[i * STATUS_STRIDE] != CLEAR {
                let index = (first * per) as u64 + words[i * STATUS_STRIDE] as u64;
                return Err(Error::NonFinite { index });
            }
        }
        Ok(out)
    }

    /// Reads device-resident GGUF blocks back to the host.
    pub fn download_gguf(&self, t: &GpuGgufTensor) -> Result<GgufTensor> {
        t.check()?;
        let n: usize = t.shape.iter().product();
        let bytes = self.read_bytes(
            &t.blocks,
            (n / t.ty.block_elements() * t.ty.block_bytes()) as u64,
        )?;
        GgufTensor::new(t.ty, t.shape.clone(), bytes)
    }

    /// Dequantizes GGUF blocks on the GPU to f32, row-major.
    pub fn dequantize_gguf(&self, t: &GgufTensor) -> Result<Vec<f32>> {
        let y = self.dequantize_gguf_tensor(&self.upload_gguf(t)?)?;
        self.download(&y)
    }

    /// Copies GGUF blocks to the device (for `linear_gguf` and `dequantize_gguf_tensor`).
    pub fn upload_gguf(&self, t: &GgufTensor) -> Result<GpuGgufTensor> {
        let t = GgufTensor::new(t.ty, t.shape.clone(), t.data.clone())?;
        Ok(GpuGgufTensor {
            ty: t.ty,
            blocks: self.buffer_from_bytes(&t.data, "wgquant gguf blocks")?,
            shape: t.shape,
        })
    }

    /// Dequantizes device-resident GGUF blocks into a new f32 device tensor.
    pub fn dequantize_gguf_tensor(&self, t: &GpuGgufTensor) -> Result<GpuTensor> {
        t.check()?;
        let (ty, n) = (t.ty, t.shape.iter().product::<usize>());
        let y = self.storage_buffer(n as u64 * 4, "wgquant dequantized")?;
        if n > 0 {
            let pipeline = self.pipelines.get(
                &self.device,
                Kernel::GgufDequantize,
                &gguf_constants(ty, DType::F32),
            )?;
            let scope = self.scope();
            let mut encoder = self.device.create_command_encoder(&Default::default());
            let per = ty.block_elements();
            for (first, count) in plan(self, n / per, ty)? {
                let words = (count * ty.block_bytes()).div_ceil(4);
                let bw = self.window(&t.blocks, first * ty.block_bytes() / 4, words, 4);
                let yw = self.window(&y, first * per, count * per, 4);
                // One invocation per 32 elements; the window starts on a block, so on a vec4.
                let geom = Geom {
                    x_offset: yw.elem_offset,
                    code_offset: bw.elem_offset,
                    count: (count * per / 32) as u32,
                    ..Default::default()
                };
                let bindings = GgufDequantizeBindings {
                    src: (&t.blocks, bw),
                    y: (&y, yw),
                };
                self.dispatch(
                    &mut encoder,
                    &pipeline,
                    &geom,
                    &bindings,
                    workgroups(geom.count),
                );
            }
            self.queue.submit([encoder.finish()]);
            scope.finish("gguf dequantize")?;
        }
        Ok(GpuTensor::f32(y, t.shape.clone()))
    }
}

/// GGUF blocks kept on the GPU.
#[derive(Debug)]
pub struct GpuGgufTensor {
    pub ty: GgufType,
    pub shape: Vec<usize>,
    pub blocks: wgpu::Buffer,
}

impl GpuGgufTensor {
    /// Checks the (public) shape and that the buffer holds its blocks.
    pub fn check(&self) -> Result<()> {
        GgufTensor::check_shape(&self.shape, self.ty)?;
        let n: usize = self.shape.iter().product();
        if self.blocks.size() < (n / self.ty.block_elements() * self.ty.block_bytes()) as u64 {
            return Err(Error::Shape(format!(
                "buffer too small for {:?} blocks of shape {:?}",
                self.ty, self.shape
            )));
        }
        Ok(())
    }
}
