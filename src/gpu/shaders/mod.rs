//! WGSL sources and their specializations. Each kernel file is compiled with the shared preludes
//! `common.wgsl` and `codec.wgsl` in front of it (the one templating step); variants differ only
//! in override constants, so no kernel is copied.
//! `constants` holds the named values and workgroup sizes, `specialize` each kernel's override
//! constants, `enumerate` every specialization for the tests.

mod constants;
mod enumerate;
mod specialize;

pub use constants::*;
pub use enumerate::all_specializations;
pub use specialize::*;

use crate::gpu::bindings::{
    CalibrateBindings, CopyBindings, DequantizeBindings, FakeQuantizeBindings, GemvBindings,
    GemvSrcBindings, GgufDequantizeBindings, GgufQuantizeBindings, HistogramBindings,
    IntMatmulBindings, KQuantizeBindings, KernelBindings, MatmulBindings, MatmulSrcBindings,
    QuantizeBindings, QuantizeBlocksBindings, RangeBindings, ReduceBindings, Slot, UNIFORM_SLOT,
};

/// The kernel families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Per-block (min, max) and scale (`shaders/reduce.wgsl`).
    Reduce,
    /// Pass 1 of the whole-tensor reduction with vec4 loads, where rows are whole 16-byte loads
    /// (`shaders/range_vec4.wgsl`).
    RangeVec4,
    /// Quantize and pack (`shaders/quantize.wgsl`).
    Quantize,
    /// Range, scale, quantize and pack in one pass, one invocation per 1-D block of whole words
    /// (`shaders/quantize_blocks.wgsl`).
    QuantizeBlocks,
    /// `QuantizeBlocks` for input in whole blocks of up to 16 vec4, each loaded once as vec4
    /// into a register array of `held` vec4 (`shaders/quantize_vec4.wgsl`, its `HELD`): the
    /// block's vec4 count rounded up to a power of two. WGSL sizes arrays by constants, not
    /// overrides, and an array as long as its loops is one that lavapipe keeps in registers.
    QuantizeVec4 { held: u32 },
    /// Unpack and scale (`shaders/dequantize.wgsl`).
    Dequantize,
    /// `Dequantize` with vec4 loads and stores where rows are whole words of a multiple of 4
    /// codes, one or four words per invocation (`shaders/dequantize_vec4.wgsl`).
    DequantizeVec4,
    /// GGUF blocks from f32 (`shaders/gguf.wgsl`, entry point `quantize`).
    GgufQuantize,
    /// f32 from GGUF blocks (`shaders/gguf.wgsl`, entry point `dequantize`).
    GgufDequantize,
    /// K-quant super-blocks from f32 (`shaders/kquants.wgsl`).
    KQuantize,
    /// Tiled `x . W^T`, W read by its weight prelude in the tile load (`shaders/matmul.wgsl`).
    Matmul { weight: WeightKind },
    /// `x . W^T` for M <= 8, with a subgroup or workgroup-memory reduction (`shaders/gemv.wgsl`).
    Gemv { subgroup: bool, weight: WeightKind },
    /// `x . W^T` for M <= 8 where W's rows are whole vec4 units of one block: f32 or coded
    /// (`coded`) W, x held in registers across many columns, partial sums added per subgroup
    /// or per lane (`shaders/gemv_vec4.wgsl`).
    GemvVec4 { subgroup: bool, coded: bool },
    /// int8 x int8 dot products, with the dot4I8Packed builtin or a manual fallback: 64 x 64
    /// tiles (`shaders/int_matmul.wgsl`), or one output per invocation for M <= 8
    /// (`shaders/int_gemv.wgsl`).
    IntMatmul { builtin_dot: bool, tiled: bool },
    /// Percentile or Mse block scales (`shaders/calibrate.wgsl`).
    Calibrate,
    /// Histogram of |x| for tensor-level Percentile (`shaders/histogram.wgsl`).
    Histogram,
    /// dequantize(quantize(x)) and the straight-through mask (`shaders/fake_quantize.wgsl`).
    FakeQuantize,
    /// vec4 copy, the benchmarks' roofline (`shaders/copy.wgsl`).
    Copy,
}

impl Kernel {
    pub const ALL: [Kernel; 35] = [
        Kernel::Reduce,
        Kernel::RangeVec4,
        Kernel::Quantize,
        Kernel::QuantizeBlocks,
        Kernel::QuantizeVec4 { held: 1 },
        Kernel::QuantizeVec4 { held: 2 },
        Kernel::QuantizeVec4 { held: 4 },
        Kernel::QuantizeVec4 { held: 8 },
        Kernel::QuantizeVec4 { held: 16 },
        Kernel::Dequantize,
        Kernel::DequantizeVec4,
        Kernel::GgufQuantize,
        Kernel::GgufDequantize,
        Kernel::KQuantize,
        Kernel::Matmul {
            weight: WeightKind::F32,
        },
        Kernel::Matmul {
            weight: WeightKind::Coded,
        },
        Kernel::Matmul {
            weight: WeightKind::Gguf,
        },
        Kernel::Gemv {
            subgroup: false,
            weight: WeightKind::F32,
        },
        Kernel::Gemv {
            subgroup: false,
            weight: WeightKind::Coded,
        },
        Kernel::Gemv {
            subgroup: false,
            weight: WeightKind::Gguf,
        },
        Kernel::Gemv {
            subgroup: true,
            weight: WeightKind::F32,
        },
        Kernel::Gemv {
            subgroup: true,
            weight: WeightKind::Coded,
        },
        Kernel::Gemv {
            subgroup: true,
            weight: WeightKind::Gguf,
        },
        Kernel::GemvVec4 {
            subgroup: false,
            coded: false,
        },
        Kernel::GemvVec4 {
            subgroup: false,
            coded: true,
        },
        Kernel::GemvVec4 {
            subgroup: true,
            coded: false,
        },
        Kernel::GemvVec4 {
            subgroup: true,
            coded: true,
        },
        Kernel::IntMatmul {
            builtin_dot: false,
            tiled: false,
        },
        Kernel::IntMatmul {
            builtin_dot: true,
            tiled: false,
        },
        Kernel::IntMatmul {
            builtin_dot: false,
            tiled: true,
        },
        Kernel::IntMatmul {
            builtin_dot: true,
            tiled: true,
        },
        Kernel::Calibrate,
        Kernel::Histogram,
        Kernel::FakeQuantize,
        Kernel::Copy,
    ];

    /// Full WGSL source: preludes + kernel.
    pub fn source(self) -> String {
        let geometry = include_str!("../../../shaders/common.wgsl");
        // Binding 1 as words; or as vec4 (src_vec4) for the kernels that load it so.
        let src_vec4 = include_str!("../../../shaders/src_vec4.wgsl");
        let range_meet = include_str!("../../../shaders/range_meet.wgsl");
        let common = concat!(
            include_str!("../../../shaders/common.wgsl"),
            "\n",
            include_str!("../../../shaders/src_words.wgsl")
        );
        let codec = include_str!("../../../shaders/codec.wgsl");
        let weight_params = include_str!("../../../shaders/weight_params.wgsl");
        let weights = concat!(
            include_str!("../../../shaders/weight_params.wgsl"),
            "\n",
            include_str!("../../../shaders/weights.wgsl")
        );
        let linear = include_str!("../../../shaders/linear.wgsl");
        let one_pass = include_str!("../../../shaders/one_pass.wgsl");
        let gguf_blocks = include_str!("../../../shaders/gguf_blocks.wgsl");
        let gguf_decode = include_str!("../../../shaders/gguf_decode.wgsl");
        let weights_of = |weight: WeightKind| -> Vec<&str> {
            match weight {
                WeightKind::F32 => vec![include_str!("../../../shaders/weights_f32.wgsl")],
                WeightKind::Coded => vec![codec, weights],
                WeightKind::Gguf => {
                    vec![
                        gguf_blocks,
                        gguf_decode,
                        include_str!("../../../shaders/weights_gguf.wgsl"),
                    ]
                }
            }
        };
        let parts: Vec<&str> = match self {
            Kernel::Reduce => vec![
                common,
                codec,
                range_meet,
                include_str!("../../../shaders/reduce.wgsl"),
            ],
            Kernel::Quantize => vec![
                common,
                codec,
                include_str!("../../../shaders/quantize.wgsl"),
            ],
            Kernel::QuantizeBlocks => vec![
                common,
                codec,
                one_pass,
                include_str!("../../../shaders/quantize_blocks.wgsl"),
            ],
            Kernel::QuantizeVec4 { .. } => vec![
                geometry,
                src_vec4,
                codec,
                one_pass,
                include_str!("../../../shaders/quantize_vec4.wgsl"),
            ],
            Kernel::RangeVec4 => vec![
                geometry,
                src_vec4,
                range_meet,
                include_str!("../../../shaders/range_vec4.wgsl"),
            ],
            Kernel::Dequantize => vec![
                common,
                codec,
                weights,
                include_str!("../../../shaders/dequantize.wgsl"),
            ],
            Kernel::DequantizeVec4 => vec![
                geometry,
                codec,
                weight_params,
                include_str!("../../../shaders/dequantize_vec4.wgsl"),
            ],
            Kernel::GgufQuantize => vec![
                geometry,
                src_vec4,
                gguf_blocks,
                include_str!("../../../shaders/gguf.wgsl"),
            ],
            Kernel::GgufDequantize => vec![
                common,
                gguf_blocks,
                gguf_decode,
                include_str!("../../../shaders/gguf_dequantize.wgsl"),
            ],
            Kernel::KQuantize => vec![
                geometry,
                src_vec4,
                gguf_blocks,
                include_str!("../../../shaders/kquants.wgsl"),
            ],
            Kernel::Matmul { weight } => [
                vec![common],
                weights_of(weight),
                vec![linear, include_str!("../../../shaders/matmul.wgsl")],
            ]
            .concat(),
            Kernel::Gemv { subgroup, weight } => {
                let reduce = if subgroup {
                    include_str!("../../../shaders/reduce_sum_subgroup.wgsl")
                } else {
                    include_str!("../../../shaders/reduce_sum_workgroup.wgsl")
                };
                [
                    vec![common],
                    weights_of(weight),
                    vec![linear, reduce, include_str!("../../../shaders/gemv.wgsl")],
                ]
                .concat()
            }
            Kernel::GemvVec4 { subgroup, coded } => [
                vec![geometry],
                match coded {
                    true => vec![
                        codec,
                        weight_params,
                        include_str!("../../../shaders/gemv_codes.wgsl"),
                    ],
                    false => vec![include_str!("../../../shaders/gemv_f32.wgsl")],
                },
                vec![
                    linear,
                    include_str!("../../../shaders/gemv_vec4.wgsl"),
                    if subgroup {
                        include_str!("../../../shaders/gemv_add_subgroup.wgsl")
                    } else {
                        include_str!("../../../shaders/gemv_add_lane.wgsl")
                    },
                ],
            ]
            .concat(),
            Kernel::Calibrate => vec![
                common,
                codec,
                include_str!("../../../shaders/calibrate.wgsl"),
            ],
            Kernel::Histogram => vec![common, include_str!("../../../shaders/histogram.wgsl")],
            Kernel::Copy => vec![include_str!("../../../shaders/copy.wgsl")],
            Kernel::FakeQuantize => vec![
                common,
                codec,
                include_str!("../../../shaders/fake_quantize.wgsl"),
            ],
            Kernel::IntMatmul { builtin_dot, tiled } => vec![
                common,
                codec,
                weights,
                if builtin_dot {
                    include_str!("../../../shaders/dot4_builtin.wgsl")
                } else {
                    include_str!("../../../shaders/dot4_manual.wgsl")
                },
                include_str!("../../../shaders/int_linear.wgsl"),
                if tiled {
                    include_str!("../../../shaders/int_matmul.wgsl")
                } else {
                    include_str!("../../../shaders/int_gemv.wgsl")
                },
            ],
        };
        let mut source = named_constants();
        if let Kernel::QuantizeVec4 { held } = self {
            source.push_str(&format!("const HELD: u32 = {held}u;\n"));
        }
        source.push_str(&parts.join("\n"));
        source
    }

    /// The adapter features the kernel needs beyond core WebGPU.
    pub fn needs_subgroups(self) -> bool {
        matches!(
            self,
            Kernel::Gemv { subgroup: true, .. } | Kernel::GemvVec4 { subgroup: true, .. }
        )
    }

    /// The entry point in [`Kernel::source`].
    pub fn entry_point(self) -> &'static str {
        match self {
            Kernel::GgufQuantize => "quantize",
            Kernel::KQuantize => "quantize_k",
            _ => "main",
        }
    }

    /// Its bind group (group 0): binding 0 is the uniform `g`, then its entry point's
    /// bindings struct in `gpu::bindings`.
    pub fn slots(self) -> Vec<Slot> {
        let rest = match self {
            Kernel::Reduce => ReduceBindings::SLOTS,
            Kernel::RangeVec4 => RangeBindings::SLOTS,
            Kernel::Calibrate => CalibrateBindings::SLOTS,
            Kernel::Quantize => QuantizeBindings::SLOTS,
            Kernel::QuantizeBlocks | Kernel::QuantizeVec4 { .. } => QuantizeBlocksBindings::SLOTS,
            Kernel::Dequantize | Kernel::DequantizeVec4 => DequantizeBindings::SLOTS,
            Kernel::FakeQuantize => FakeQuantizeBindings::SLOTS,
            Kernel::Histogram => HistogramBindings::SLOTS,
            Kernel::GgufQuantize => GgufQuantizeBindings::SLOTS,
            Kernel::GgufDequantize => GgufDequantizeBindings::SLOTS,
            Kernel::KQuantize => KQuantizeBindings::SLOTS,
            Kernel::Matmul { weight } | Kernel::Gemv { weight, .. } => match weight {
                WeightKind::Coded => MatmulBindings::SLOTS,
                WeightKind::F32 | WeightKind::Gguf => MatmulSrcBindings::SLOTS,
            },
            Kernel::GemvVec4 { coded: true, .. } => GemvBindings::SLOTS,
            Kernel::GemvVec4 { coded: false, .. } => GemvSrcBindings::SLOTS,
            Kernel::IntMatmul { .. } => IntMatmulBindings::SLOTS,
            Kernel::Copy => CopyBindings::SLOTS,
        };
        std::iter::once(UNIFORM_SLOT)
            .chain(rest.iter().copied())
            .collect()
    }

    /// The WGSL struct of its uniform `g`.
    pub fn uniform_struct(self) -> &'static str {
        match self {
            Kernel::Copy => "CopyDims",
            _ => "Geom",
        }
    }
}

/// How the matmul kernels read W: each is its own prelude defining `w_value` and `w_group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeightKind {
    /// f32 values in `src` (`shaders/weights_f32.wgsl`): a plain weight, or the scratch of
    /// dequantize-then-matmul.
    F32,
    /// Codes in `src` with their scales (`shaders/weights.wgsl`).
    Coded,
    /// GGUF blocks in `src` (`shaders/weights_gguf.wgsl`).
    Gguf,
}

/// Element type of a tensor the kernels read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F16,
    BF16,
}

impl DType {
    /// Bytes per element.
    pub fn bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F16 | DType::BF16 => 2,
        }
    }
}
