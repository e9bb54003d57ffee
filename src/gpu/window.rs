//! The window of a buffer that one dispatch binds: bindings start on the adapter's offset
//! alignment, so a chunk's first element sits `elem_offset` elements into its window.

/// A range of one buffer bound to a kernel: the binding starts at a 256-byte aligned offset and
/// the kernel adds `elem_offset` to its indices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub offset: u64,
    pub size: u64,
    pub elem_offset: u32,
}

impl Window {
    /// The window holding elements `[first, first + count)` of `elem_bytes` each.
    pub fn new(buffer: &wgpu::Buffer, first: u64, count: u64, elem_bytes: u64, align: u64) -> Self {
        let start = first * elem_bytes;
        let offset = start / align * align;
        // Whole 16-byte words (buffers are padded to them), so that a kernel may bind the
        // window as vec4.
        let end = ((first + count) * elem_bytes)
            .next_multiple_of(16)
            .max(offset + 16);
        Window {
            offset,
            size: end.min(buffer.size()) - offset,
            elem_offset: ((start - offset) / elem_bytes) as u32,
        }
    }

    pub fn binding<'a>(&self, buffer: &'a wgpu::Buffer) -> wgpu::BindingResource<'a> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer,
            offset: self.offset,
            size: std::num::NonZeroU64::new(self.size),
        })
    }
}
