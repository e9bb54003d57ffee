//! What every kernel launch shares: the `Geom` of a chunk, splitting a tensor into chunks that
//! fit one storage binding, and recording one dispatch with its bind group.

use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
pub(crate) use crate::gpu::bindings::Geom;
use crate::gpu::bindings::{Bound, KernelBindings, Uniform, UNIFORM_SLOT};
use crate::gpu::buffers::GpuQuantizedTensor;
use crate::gpu::context::GpuContext;
use crate::gpu::pipelines::Pipeline;
use crate::gpu::shaders::WORKGROUP;
use crate::gpu::window::Window;
use crate::layout::Layout;
use crate::scheme::{QuantLevel, QuantMode, QuantStore};

impl Geom {
    /// The block geometry of `layout` for rows `chunk`; offsets and count are set by the caller.
    pub fn for_chunk(layout: &Layout, chunk: &Chunk) -> Self {
        Geom {
            rows: chunk.rows as u32,
            cols: layout.cols as u32,
            mat_rows: layout.rows as u32,
            block_rows: layout.block_rows as u32,
            block_cols: layout.block_cols as u32,
            grid_rows: layout.grid_rows as u32,
            grid_cols: layout.grid_cols as u32,
            row_base: chunk.row_start as u32,
            ..Default::default()
        }
    }

    /// As [`Geom::for_chunk`], with the chunk's first block and where its scale sits in the
    /// bound window `scales`.
    pub fn for_chunk_scales(layout: &Layout, chunk: &Chunk, scales: &Window) -> Self {
        Geom {
            scale_base: chunk.blocks(layout).0 as u32,
            scale_offset: scales.elem_offset,
            ..Geom::for_chunk(layout, chunk)
        }
    }
}

/// Rows `[row_start, row_start + rows)` of a tensor, processed by one dispatch per kernel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chunk {
    pub row_start: usize,
    pub rows: usize,
}

impl Chunk {
    pub fn elements(&self, layout: &Layout) -> usize {
        self.rows * layout.cols
    }

    /// The chunk's blocks, `[first, last]` in scale-grid order.
    pub fn blocks(&self, layout: &Layout) -> (usize, usize) {
        let end = self.row_start + self.rows - 1;
        (
            layout.block_of(self.row_start, 0),
            layout.block_of(end, layout.cols - 1),
        )
    }

    /// The chunk's code words, `[first, end)`.
    pub fn words(&self, layout: &Layout) -> (usize, usize) {
        let end = self.row_start + self.rows;
        match layout.store {
            QuantStore::U32 => (
                self.row_start * layout.words_per_row(),
                end * layout.words_per_row(),
            ),
            QuantStore::Native => (
                self.row_start * layout.cols / 4,
                (end * layout.cols).div_ceil(4),
            ),
        }
    }
}

/// Splits a non-empty tensor into row ranges whose windows fit `chunk_bytes`. Chunks start on a
/// block-row boundary (so no block straddles two chunks) and, for the Native store, on a whole
/// code word (so no word is written by two chunks).
pub(crate) fn plan_chunks(
    layout: &Layout,
    level: &QuantLevel,
    chunk_bytes: u64,
) -> Result<Vec<Chunk>> {
    let total = layout.total_rows();
    if total > u32::MAX as usize || layout.len() > u32::MAX as usize {
        return Err(Error::TooLarge(format!(
            "shape {:?}: wgquant handles up to 2^32 - 1 elements per tensor",
            layout.shape
        )));
    }
    let mut unit = match level {
        QuantLevel::Tensor => 1,
        QuantLevel::Block(_)
            if layout.rows.is_multiple_of(layout.block_rows) || layout.rows == total =>
        {
            layout.block_rows
        }
        QuantLevel::Block(_) => layout.rows,
    };
    if layout.store == QuantStore::Native {
        while !(unit * layout.cols).is_multiple_of(4) {
            unit *= 2;
        }
    }
    // Worst case per row: f32 input or output, or one f32 scale per element.
    let row_bytes = layout.cols as u64 * 4;
    let max_rows = (chunk_bytes.saturating_sub(256) / row_bytes) as usize;
    let rows_per_chunk = max_rows / unit * unit;
    if rows_per_chunk == 0 {
        return Err(Error::TooLarge(format!(
            "shape {:?}: {unit} row(s) of {} elements must be processed together but exceed the {} byte storage binding limit",
            layout.shape, layout.cols, chunk_bytes
        )));
    }
    Ok((0..total)
        .step_by(rows_per_chunk)
        .map(|row_start| Chunk {
            row_start,
            rows: rows_per_chunk.min(total - row_start),
        })
        .collect())
}

/// Workgroups of [`WORKGROUP`] invocations (WGSL `WG`) that cover `threads` invocations.
pub(crate) fn workgroups(threads: u32) -> u32 {
    threads.div_ceil(WORKGROUP)
}

/// A grid of at least `groups` workgroups within `max` per dimension, split evenly: as few rows
/// as fit, each no longer than needed (65,536 groups are 2 x 32,768, not 2 x 65,535).
pub(crate) fn split_grid(groups: u32, max: u32) -> [u32; 2] {
    let groups = groups.max(1);
    let y = groups.div_ceil(max.max(1));
    [groups.div_ceil(y), y]
}

impl GpuContext {
    /// Records one dispatch of `groups` workgroups, folding past 65,535 into the y dimension.
    pub(crate) fn dispatch<'a>(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        pipeline: &Pipeline,
        uniform: &impl Uniform,
        bindings: &impl KernelBindings<'a>,
        groups: u32,
    ) {
        let grid = split_grid(groups, self.limits.max_compute_workgroups_per_dimension);
        self.dispatch_grid(encoder, pipeline, uniform, bindings, grid);
    }

    /// Records one dispatch of exactly `grid` workgroups; binding 0 is `uniform`, then
    /// `bindings`, which must be the pipeline's kernel's.
    pub(crate) fn dispatch_grid<'a, B: KernelBindings<'a>>(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        pipeline: &Pipeline,
        uniform: &impl Uniform,
        bindings: &B,
        grid: [u32; 2],
    ) {
        debug_assert_eq!(
            pipeline.kernel.slots()[1..],
            *B::SLOTS,
            "bindings of {:?}",
            pipeline.kernel
        );
        let uniform = self.uniform(bytemuck::bytes_of(&uniform.finish()));
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: UNIFORM_SLOT.binding,
            resource: uniform.as_entire_binding(),
        }];
        for (slot, (buffer, window)) in B::SLOTS.iter().zip(bindings.buffers()) {
            entries.push(wgpu::BindGroupEntry {
                binding: slot.binding,
                resource: window.binding(buffer),
            });
        }
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.layout,
            entries: &entries,
        });
        let timestamps = self.profiler.pass_timestamps();
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: None,
            timestamp_writes: timestamps.as_ref().map(|(query_set, i)| {
                wgpu::ComputePassTimestampWrites {
                    query_set,
                    beginning_of_pass_write_index: Some(*i),
                    end_of_pass_write_index: Some(i + 1),
                }
            }),
        });
        pass.set_pipeline(&pipeline.pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(grid[0].max(1), grid[1].max(1), 1);
    }

    /// A small uniform buffer holding `bytes`.
    pub(crate) fn uniform(&self, bytes: &[u8]) -> wgpu::Buffer {
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("wgquant uniform"),
                contents: bytes,
                usage: wgpu::BufferUsages::UNIFORM,
            })
    }

    /// The windows of a quantized tensor's parameters that blocks `[first, last]` of one chunk
    /// read: their scales, their zero points (Affine mode; else the placeholder word) and the
    /// global scale.
    pub(crate) fn param_windows<'a>(
        &self,
        q: &'a GpuQuantizedTensor,
        (first, last): (usize, usize),
    ) -> [Bound<'a>; 3] {
        let scales = self.window(&q.scales, first, last - first + 1, 4);
        let zeros = if q.scheme.mode == QuantMode::Affine {
            scales
        } else {
            self.window(&q.zeros, 0, 1, 4)
        };
        [
            (&q.scales, scales),
            (&q.zeros, zeros),
            (&q.global, self.window(&q.global, 0, 1, 4)),
        ]
    }

    /// A window of `count` elements of `elem_bytes` from element `first` of `buffer`.
    pub(crate) fn window(
        &self,
        buffer: &wgpu::Buffer,
        first: usize,
        count: usize,
        elem_bytes: usize,
    ) -> Window {
        let align = self.limits.min_storage_buffer_offset_alignment.max(4) as u64;
        Window::new(buffer, first as u64, count as u64, elem_bytes as u64, align)
    }
}

#[cfg(test)]
mod tests {
    use super::split_grid;

    #[test]
    fn grids_cover_their_groups_with_less_than_a_row_to_spare() {
        assert_eq!(split_grid(65_536, 65_535), [32_768, 2]);
        assert_eq!(split_grid(0, 65_535), [1, 1]);
        for groups in [1, 7, 65_535, 65_536, 131_071, 262_144, 4_000_000] {
            let [x, y] = split_grid(groups, 65_535);
            assert!(x <= 65_535 && y <= 65_535, "{groups}: {x} x {y}");
            assert!(x * y >= groups && x * y - groups < y, "{groups}: {x} x {y}");
        }
    }
}
