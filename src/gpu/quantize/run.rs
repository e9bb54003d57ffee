//! Recording one quantization's dispatches: block scales, the two-pass whole-tensor reduction,
//! the one-pass block kernel and the pack pass; and reading the status words they leave.

use crate::calibration::Calibration;
use crate::error::{Error, Result};
use crate::gpu::bindings::{
    CalibrateBindings, QuantizeBindings, QuantizeBlocksBindings, RangeBindings, ReduceBindings,
};
use crate::gpu::buffers::{GpuQuantizedTensor, GpuTensor};
use crate::gpu::context::GpuContext;
use crate::gpu::dispatch::{workgroups, Chunk, Geom};
use crate::gpu::shaders::{
    calibrate_constants, flat_block, quantize_blocks_constants, quantize_constants,
    quantize_vec4_applies, quantize_vec4_constants, quantize_vec4_held, range_vec4_applies,
    range_vec4_constants, reduce_constants, DType, Kernel, ReduceOut, PER_THREAD_MAX,
};
use crate::gpu::window::Window;
use crate::layout::Layout;
use crate::scheme::QuantScheme;

/// Elements per partial (min, max) in pass 1 of a whole-tensor reduction: one workgroup each.
const PARTIAL: usize = 4096;
/// The same for the vec4 pass on CPU adapters, whose workgroup-memory reduction at the end of a
/// workgroup cost as much as its 4096 elements' loads there.
const PARTIAL_CPU_VEC4: usize = 65536;
/// Status word meaning "nothing found".
pub(super) const CLEAR: u32 = u32::MAX;

/// The buffers and geometry of one quantization, recording its dispatches.
pub(super) struct QuantizeRun<'a> {
    pub(super) ctx: &'a GpuContext,
    pub(super) layout: &'a Layout,
    pub(super) scheme: &'a QuantScheme,
    pub(super) x: &'a GpuTensor,
    pub(super) out: &'a GpuQuantizedTensor,
    pub(super) status: &'a wgpu::Buffer,
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

    /// The windows of blocks `[first, last]` of the scales and zero points.
    fn scale_bindings(&self, blocks: (usize, usize)) -> (Window, Window) {
        let [scales, zeros, _] = self.ctx.param_windows(self.out, blocks);
        (scales.1, zeros.1)
    }

    /// The scale of every block of the chunk: one invocation per block for small blocks, one
    /// workgroup per block for large ones.
    pub(super) fn block_scales(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        chunk: &Chunk,
        slot: usize,
        calibration: Option<Calibration>,
    ) -> Result<()> {
        let per_thread = calibration.is_some()
            || self.layout.block_rows * self.layout.block_cols <= PER_THREAD_MAX;
        let (first, last) = chunk.blocks(self.layout);
        let xw = self.x_window(chunk);
        let (sw, zw) = self.scale_bindings((first, last));
        let geom = Geom {
            x_offset: xw.elem_offset,
            count: (last - first + 1) as u32,
            status_slot: slot as u32,
            ..Geom::for_chunk_scales(self.layout, chunk, &sw)
        };
        let (src, out, zeros, status) = (
            (&self.x.buffer, xw),
            (&self.out.scales, sw),
            (&self.out.zeros, zw),
            (self.status, self.whole(self.status)),
        );
        let device = &self.ctx.device;
        match calibration {
            Some(c) => {
                let constants = calibrate_constants(self.scheme, self.x.dtype, c);
                let pipeline = self
                    .ctx
                    .pipelines
                    .get(device, Kernel::Calibrate, &constants)?;
                let bindings = CalibrateBindings {
                    src,
                    out,
                    zeros,
                    status,
                };
                self.ctx
                    .dispatch(encoder, &pipeline, &geom, &bindings, workgroups(geom.count));
            }
            None => {
                let constants =
                    reduce_constants(self.scheme, self.x.dtype, ReduceOut::Scale, per_thread);
                let pipeline = self.ctx.pipelines.get(device, Kernel::Reduce, &constants)?;
                let bindings = ReduceBindings {
                    src,
                    out,
                    zeros,
                    global_scale: (&self.out.global, self.whole(&self.out.global)),
                    status,
                };
                let groups = if per_thread {
                    workgroups(geom.count)
                } else {
                    geom.count
                };
                self.ctx
                    .dispatch(encoder, &pipeline, &geom, &bindings, groups);
            }
        }
        Ok(())
    }

    /// Pass 1: (min, max) of every run of `PARTIAL` (`PARTIAL_CPU_VEC4`) elements of every
    /// chunk, with vec4 loads
    /// where rows are whole ones (`RangeVec4`); pass 2: one workgroup reduces them to the
    /// tensor's scale, NVFP4's global scale, or (`Range`) the tensor's (min, max) into `range`.
    pub(super) fn whole_tensor(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        chunks: &[Chunk],
        out: ReduceOut,
        range: Option<&wgpu::Buffer>,
    ) -> Result<()> {
        let vec4 = range_vec4_applies(self.layout.cols, self.x.dtype);
        let cpu = self.ctx.cpu_walks();
        let run = if vec4 && cpu {
            PARTIAL_CPU_VEC4
        } else {
            PARTIAL
        };
        let counts: Vec<usize> = chunks
            .iter()
            .map(|c| c.elements(self.layout).div_ceil(run))
            .collect();
        let total: usize = counts.iter().sum();
        let partials = self
            .ctx
            .storage_buffer(total as u64 * 8, "wgquant partial ranges")?;
        let (kernel, constants) = match vec4 {
            true => (Kernel::RangeVec4, range_vec4_constants(self.x.dtype, !cpu)),
            false => (
                Kernel::Reduce,
                reduce_constants(self.scheme, self.x.dtype, ReduceOut::Range, false),
            ),
        };
        let pass1 = self
            .ctx
            .pipelines
            .get(&self.ctx.device, kernel, &constants)?;
        let status = self.whole(self.status);
        let all = self.whole(&partials);
        let mut offset = 0;
        for (slot, (chunk, &count)) in chunks.iter().zip(&counts).enumerate() {
            let xw = self.x_window(chunk);
            let geom = flat_geom(
                chunk.elements(self.layout),
                run,
                xw.elem_offset,
                offset,
                count,
                slot,
            );
            let (src, out, status) = (
                (&self.x.buffer, xw),
                (&partials, all),
                (self.status, status),
            );
            let groups = count as u32;
            if vec4 {
                let bindings = RangeBindings { src, out, status };
                self.ctx.dispatch(encoder, &pass1, &geom, &bindings, groups);
            } else {
                let bindings = ReduceBindings {
                    src,
                    out,
                    zeros: (&self.out.zeros, self.whole(&self.out.zeros)),
                    global_scale: (&self.out.global, self.whole(&self.out.global)),
                    status,
                };
                self.ctx.dispatch(encoder, &pass1, &geom, &bindings, groups);
            }
            offset += count;
        }
        self.reduce_pairs(encoder, &partials, total, out, range, chunks.len())
    }

    /// One workgroup reduces `pairs` (min, max) pairs in `partials` to the tensor's scale (and
    /// zero point), NVFP4's global scale, or (`Range`) one (min, max) into `range`; status slot
    /// `slot`.
    pub(super) fn reduce_pairs(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        partials: &wgpu::Buffer,
        pairs: usize,
        out: ReduceOut,
        range: Option<&wgpu::Buffer>,
        slot: usize,
    ) -> Result<()> {
        let pass2 = self.ctx.pipelines.get(
            &self.ctx.device,
            Kernel::Reduce,
            &reduce_constants(self.scheme, DType::F32, out, false),
        )?;
        let geom = flat_geom(2 * pairs, 2 * pairs, 0, 0, 1, slot);
        let (sw, zw) = self.scale_bindings((0, 0));
        let (status, global, all) = (
            self.whole(self.status),
            self.whole(&self.out.global),
            self.whole(partials),
        );
        let (target, tw) = match range {
            Some(r) => (r, self.whole(r)),
            None => (&self.out.scales, sw),
        };
        let bindings = ReduceBindings {
            src: (partials, all),
            out: (target, tw),
            zeros: (&self.out.zeros, zw),
            global_scale: (&self.out.global, global),
            status: (self.status, status),
        };
        self.ctx.dispatch(encoder, &pass2, &geom, &bindings, 1);
        Ok(())
    }

    /// The windows of the chunk's input, scales, zero points and code words, and its geometry
    /// with their offsets (the count is the caller's).
    fn code_windows(&self, chunk: &Chunk) -> (Window, Window, Window, Window, Geom) {
        let (w0, w1) = chunk.words(self.layout);
        let xw = self.x_window(chunk);
        let (sw, zw) = self.scale_bindings(chunk.blocks(self.layout));
        let cw = self.ctx.window(&self.out.codes, w0, w1 - w0, 4);
        let geom = Geom {
            x_offset: xw.elem_offset,
            code_offset: cw.elem_offset,
            ..Geom::for_chunk_scales(self.layout, chunk, &sw)
        };
        (xw, sw, zw, cw, geom)
    }

    /// Range, scale and codes of every block of the chunk in one pass (`QuantizeBlocks`); at
    /// Tensor level (`flat`), the codes of runs of the flat chunk with the tensor's scale, which
    /// the whole-tensor reduction stored before.
    pub(super) fn quantize_blocks(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        chunk: &Chunk,
        slot: usize,
        flat: bool,
    ) -> Result<()> {
        let (xw, sw, zw, cw, geom) = self.code_windows(chunk);
        let n = chunk.elements(self.layout);
        let cpw = self.scheme.codes_per_word();
        let (block, vec4, geom) = if flat {
            let (block, vec4) = flat_block(n, self.layout.cols, cpw, self.x.dtype);
            let count = n.div_ceil(block);
            let runs = flat_geom(
                n,
                block,
                geom.x_offset,
                geom.scale_offset as usize,
                count,
                slot,
            );
            let geom = Geom {
                code_offset: geom.code_offset,
                ..runs
            };
            (block, vec4, geom)
        } else {
            let count = (chunk.blocks(self.layout).1 - geom.scale_base as usize + 1) as u32;
            let geom = Geom {
                count,
                status_slot: slot as u32,
                ..geom
            };
            let vec4 = quantize_vec4_applies(self.layout, self.x.dtype);
            (self.layout.block_cols, vec4, geom)
        };
        let (kernel, constants) = if vec4 {
            let c = quantize_vec4_constants(self.scheme, self.x.dtype, block, flat);
            let held = quantize_vec4_held(block);
            (Kernel::QuantizeVec4 { held }, c)
        } else {
            let c = quantize_blocks_constants(self.scheme, self.x.dtype, flat);
            (Kernel::QuantizeBlocks, c)
        };
        let pipeline = self
            .ctx
            .pipelines
            .get(&self.ctx.device, kernel, &constants)?;
        let bindings = QuantizeBlocksBindings {
            src: (&self.x.buffer, xw),
            out: (&self.out.scales, sw),
            zeros: (&self.out.zeros, zw),
            codes: (&self.out.codes, cw),
            status: (self.status, self.whole(self.status)),
            global: (&self.out.global, self.whole(&self.out.global)),
        };
        self.ctx
            .dispatch(encoder, &pipeline, &geom, &bindings, workgroups(geom.count));
        Ok(())
    }

    /// One invocation per code word of the chunk.
    pub(super) fn pack(
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
        let bindings = QuantizeBindings {
            src: (&self.x.buffer, xw),
            scales: (&self.out.scales, sw),
            zeros: (&self.out.zeros, zw),
            global_scale: (&self.out.global, self.whole(&self.out.global)),
            codes: (&self.out.codes, cw),
            clipped: (clipped, self.whole(clipped)),
        };
        self.ctx
            .dispatch(encoder, &pipeline, &geom, &bindings, workgroups(geom.count));
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
pub(super) fn check_status(
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
