//! The interface between the host and each kernel entry point: its uniform structs, mirrored
//! field by field from the WGSL, and one bindings struct per entry point naming every buffer it
//! binds, by the WGSL variable's name, number and access. `tests/shaders_naga.rs` checks both
//! against the shaders, so a binding or field that moves on one side only fails a test.

use std::mem::{offset_of, size_of};

use crate::gpu::window::Window;

/// How a kernel uses one binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Uniform,
    Read,
    ReadWrite,
}

/// One binding of an entry point's bind group (group 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub binding: u32,
    /// The WGSL variable's name.
    pub name: &'static str,
    pub access: Access,
}

/// Binding 0 of every kernel: its uniform, named `g` in the WGSL.
pub const UNIFORM_SLOT: Slot = Slot {
    binding: 0,
    name: "g",
    access: Access::Uniform,
};

/// One bound buffer: the buffer and the window of it that the kernel sees.
pub(crate) type Bound<'a> = (&'a wgpu::Buffer, Window);

/// The buffers of one entry point's bind group after binding 0.
pub(crate) trait KernelBindings<'a> {
    /// Bindings 1 and up, in the order of [`KernelBindings::buffers`].
    const SLOTS: &'static [Slot];
    fn buffers(&self) -> Vec<Bound<'a>>;
}

macro_rules! kernel_bindings {
    ($($(#[$doc:meta])* $name:ident { $($binding:literal $field:ident: $access:ident),* $(,)? })*) => {
        $(
            $(#[$doc])*
            pub(crate) struct $name<'a> {
                $(pub $field: Bound<'a>,)*
            }

            impl<'a> KernelBindings<'a> for $name<'a> {
                const SLOTS: &'static [Slot] = &[$(Slot {
                    binding: $binding,
                    name: stringify!($field),
                    access: Access::$access,
                }),*];

                fn buffers(&self) -> Vec<Bound<'a>> {
                    vec![$(self.$field),*]
                }
            }
        )*
    };
}

kernel_bindings! {
    /// `reduce.wgsl`: input, then scales (or (min, max) pairs), zero points, NVFP4's global
    /// scale and the status words.
    ReduceBindings {
        1 src: Read, 2 out: ReadWrite, 3 zeros: ReadWrite, 4 global_scale: ReadWrite,
        5 status: ReadWrite,
    }
    /// `range_vec4.wgsl`: input, (min, max) pairs and the status words.
    RangeBindings { 1 src: Read, 2 out: ReadWrite, 5 status: ReadWrite }
    /// `calibrate.wgsl`: as `reduce.wgsl`, less the global scale (NVFP4 is not calibrated).
    CalibrateBindings { 1 src: Read, 2 out: ReadWrite, 3 zeros: ReadWrite, 5 status: ReadWrite }
    /// `quantize.wgsl`.
    QuantizeBindings {
        1 src: Read, 2 scales: Read, 3 zeros: Read, 4 global_scale: Read, 5 codes: ReadWrite,
        6 clipped: ReadWrite,
    }
    /// `quantize_blocks.wgsl`.
    QuantizeBlocksBindings {
        1 src: Read, 2 out: ReadWrite, 3 zeros: ReadWrite, 4 codes: ReadWrite,
        5 status: ReadWrite, 6 global: Read,
    }
    /// `dequantize.wgsl`: the codes in `src`, their scales, and the f32 output.
    DequantizeBindings {
        1 src: Read, 2 w_scales: Read, 3 w_zeros: Read, 4 w_global: Read, 5 y: ReadWrite,
    }
    /// `fake_quantize.wgsl`.
    FakeQuantizeBindings {
        1 src: Read, 2 scales: Read, 3 zeros: Read, 4 global_scale: Read, 5 y: ReadWrite,
        6 mask: ReadWrite,
    }
    /// `histogram.wgsl`.
    HistogramBindings { 1 src: Read, 2 bins: ReadWrite }
    /// `gguf.wgsl`, entry point `quantize`: the blocks go to `out` as words.
    GgufQuantizeBindings {
        1 src: Read, 2 status: ReadWrite, 3 out: ReadWrite, 4 log2_round_up: Read,
    }
    /// `kquants.wgsl`: the K-quant super-blocks go to `out` as words.
    KQuantizeBindings { 1 src: Read, 2 status: ReadWrite, 3 out: ReadWrite }
    /// `gguf_dequantize.wgsl`: the blocks in `src`, f32 values to `y`.
    GgufDequantizeBindings { 1 src: Read, 3 y: ReadWrite }
    /// `matmul.wgsl` and `gemv.wgsl` with a coded weight (`weights.wgsl`).
    MatmulBindings {
        1 src: Read, 2 w_scales: Read, 3 w_zeros: Read, 4 w_global: Read, 5 xs: Read,
        6 ys: ReadWrite, 7 d: Uniform,
    }
    /// `matmul.wgsl` and `gemv.wgsl` with a weight held in `src` alone: f32 values
    /// (`weights_f32.wgsl`) or GGUF blocks (`weights_gguf.wgsl`).
    MatmulSrcBindings { 1 src: Read, 5 xs: Read, 6 ys: ReadWrite, 7 d: Uniform }
    /// `gemv_vec4.wgsl` with a coded weight (`gemv_codes.wgsl`): as `MatmulBindings`, and x and
    /// the scales bound a second time to be read as vec4.
    GemvBindings {
        1 src: Read, 2 w_scales: Read, 3 w_zeros: Read, 4 w_global: Read, 5 xs: Read,
        6 ys: ReadWrite, 7 d: Uniform, 8 xs4: Read, 9 w_scales4: Read,
    }
    /// `gemv_vec4.wgsl` with an f32 weight (`gemv_f32.wgsl`).
    GemvSrcBindings { 1 src: Read, 5 xs: Read, 6 ys: ReadWrite, 7 d: Uniform, 8 xs4: Read }
    /// `int_matmul.wgsl`: a Symmetric integer W, so no zero points or global scale.
    IntMatmulBindings {
        1 src: Read, 2 w_scales: Read, 5 x_codes: Read, 6 x_scales: Read, 7 ys: ReadWrite,
        8 d: Uniform,
    }
    /// `copy.wgsl`, the benchmarks' roofline.
    CopyBindings { 1 copy_src: Read, 2 copy_dst: ReadWrite }
}

/// A matmul kernel's bindings, which `gemv_vec4.wgsl` takes with some buffers bound a second
/// time to be read as vec4.
pub(crate) trait LinearBindings<'a>: KernelBindings<'a> {
    type Vec4: KernelBindings<'a>;
    fn for_gemv_vec4(&self) -> Self::Vec4;
}

impl<'a> LinearBindings<'a> for MatmulBindings<'a> {
    type Vec4 = GemvBindings<'a>;

    /// x and the scales again.
    fn for_gemv_vec4(&self) -> GemvBindings<'a> {
        GemvBindings {
            src: self.src,
            w_scales: self.w_scales,
            w_zeros: self.w_zeros,
            w_global: self.w_global,
            xs: self.xs,
            ys: self.ys,
            d: self.d,
            xs4: self.xs,
            w_scales4: self.w_scales,
        }
    }
}

impl<'a> LinearBindings<'a> for MatmulSrcBindings<'a> {
    type Vec4 = GemvSrcBindings<'a>;

    /// x again.
    fn for_gemv_vec4(&self) -> GemvSrcBindings<'a> {
        GemvSrcBindings {
            src: self.src,
            xs: self.xs,
            ys: self.ys,
            d: self.d,
            xs4: self.xs,
        }
    }
}

/// Mirror of `struct Geom` in `shaders/common.wgsl`: one dispatch over one chunk of a tensor.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct Geom {
    pub rows: u32,
    pub cols: u32,
    pub mat_rows: u32,
    pub block_rows: u32,
    pub block_cols: u32,
    pub grid_rows: u32,
    pub grid_cols: u32,
    pub row_base: u32,
    pub x_offset: u32,
    pub code_offset: u32,
    pub scale_base: u32,
    pub scale_offset: u32,
    pub count: u32,
    pub status_slot: u32,
    /// A kernel's own parameter (`aux` in WGSL).
    pub aux: u32,
    /// Always 0: a value the shader compiler cannot know, which kquants.wgsl ORs into a
    /// result's bits so that it is rounded there, as C rounds it.
    pub zero: u32,
    /// [`divisor`] of the field named after `div_`, set by [`Uniform::finish`] at dispatch.
    pub div_cols: [u32; 2],
    pub div_mat_rows: [u32; 2],
    pub div_block_rows: [u32; 2],
    pub div_block_cols: [u32; 2],
    pub div_grid_rows: [u32; 2],
    pub div_grid_cols: [u32; 2],
}

/// A kernel's binding-0 uniform as it is uploaded: `finish` fills what the host derives from
/// the other fields, so that no caller can forget it.
pub(crate) trait Uniform: bytemuck::Pod {
    fn finish(&self) -> Self {
        *self
    }
}

impl Uniform for Geom {
    fn finish(&self) -> Self {
        Geom {
            div_cols: divisor(self.cols),
            div_mat_rows: divisor(self.mat_rows),
            div_block_rows: divisor(self.block_rows),
            div_block_cols: divisor(self.block_cols),
            div_grid_rows: divisor(self.grid_rows),
            div_grid_cols: divisor(self.grid_cols),
            ..*self
        }
    }
}

impl Uniform for CopyDims {}

/// `[m, l]` such that common.wgsl's `div_by(n, [m, l])` is `n / d` for every u32 `n`: one
/// multiply-high and two shifts instead of an integer division, which GPUs emulate in tens of
/// instructions and lavapipe runs one lane at a time (Granlund and Montgomery, "Division by
/// invariant integers using multiplication", 1994, figure 4.1): `l = ceil(log2 d)`,
/// `m = floor(2^32 (2^l - d) / d) + 1`. `d = 0` gets `[1, 0]`, so `n / 0 = n` as in WGSL.
pub(crate) fn divisor(d: u32) -> [u32; 2] {
    if d == 0 {
        return [1, 0];
    }
    let l = 32 - (d - 1).leading_zeros();
    let m = ((1u64 << 32) * ((1u64 << l) - d as u64)) / d as u64 + 1;
    [m as u32, l]
}

/// Mirror of `struct Dims` in `shaders/linear.wgsl` (matmul and GEMV).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct Dims {
    pub m: u32,
    pub n: u32,
    pub k: u32,
    pub x_offset: u32,
    pub y_offset: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

/// Mirror of `struct IntDims` in `shaders/int_matmul.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct IntDims {
    pub m: u32,
    pub n: u32,
    pub k: u32,
    pub x_words: u32,
    pub w_words: u32,
    pub block: u32,
    pub x_block: u32,
    pub y_offset: u32,
}

/// Mirror of `struct CopyDims` in `shaders/copy.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct CopyDims {
    pub count: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

/// A uniform struct as the host lays it out: its WGSL name, each field's name and byte offset,
/// and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniformLayout {
    pub name: &'static str,
    pub fields: Vec<(&'static str, usize)>,
    pub size: usize,
}

macro_rules! uniform_layout {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        UniformLayout {
            name: stringify!($ty),
            fields: vec![$((stringify!($field), offset_of!($ty, $field))),*],
            size: size_of::<$ty>(),
        }
    };
}

/// Every uniform struct the host writes, for the test that compares them with the shaders.
pub fn uniform_layouts() -> Vec<UniformLayout> {
    vec![
        uniform_layout!(Geom {
            rows,
            cols,
            mat_rows,
            block_rows,
            block_cols,
            grid_rows,
            grid_cols,
            row_base,
            x_offset,
            code_offset,
            scale_base,
            scale_offset,
            count,
            status_slot,
            aux,
            zero,
            div_cols,
            div_mat_rows,
            div_block_rows,
            div_block_cols,
            div_grid_rows,
            div_grid_cols,
        }),
        uniform_layout!(Dims {
            m,
            n,
            k,
            x_offset,
            y_offset,
            _pad0,
            _pad1,
            _pad2,
        }),
        uniform_layout!(IntDims {
            m,
            n,
            k,
            x_words,
            w_words,
            block,
            x_block,
            y_offset,
        }),
        uniform_layout!(CopyDims {
            count,
            _pad0,
            _pad1,
            _pad2,
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::divisor;

    /// common.wgsl's `div_by`, with a 64-bit product for its `mul_hi`.
    fn div_by(n: u32, [m, l]: [u32; 2]) -> u32 {
        let t = ((n as u64 * m as u64) >> 32) as u32;
        let sh1 = l.min(1);
        (t + ((n - t) >> sh1)) >> (l - sh1)
    }

    #[test]
    fn divisor_divides_exactly() {
        let mut ds: Vec<u32> = (1..=4100).collect();
        for b in 12..32 {
            ds.extend([(1u32 << b) - 1, 1 << b, (1 << b) + 1, 3 << (b - 1)]);
        }
        ds.extend([
            u32::MAX,
            u32::MAX - 1,
            0x8000_0001,
            4_294_967_291,
            1_000_000_007,
        ]);
        let mut seed = 0x9e37_79b9u32;
        for &d in &ds {
            let mut ns = vec![0, 1, d - 1, d, d.wrapping_add(1), u32::MAX, u32::MAX - 1];
            ns.push(u32::MAX / d * d);
            ns.push((u32::MAX / d * d).wrapping_sub(1));
            for _ in 0..64 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                ns.push(seed);
                ns.push(seed % (d.saturating_mul(8)).max(1));
            }
            for n in ns {
                assert_eq!(div_by(n, divisor(d)), n / d, "{n} / {d}");
            }
        }
        assert_eq!(
            div_by(12345, divisor(0)),
            12345,
            "n / 0 = n, as WGSL defines it"
        );
    }
}
