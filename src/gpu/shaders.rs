//! WGSL sources and their specializations. Each kernel file is compiled with the shared preludes
//! `common.wgsl` and `codec.wgsl` in front of it (the one templating step); variants differ only
//! in override constants, so no kernel is copied.

use crate::calibration::Calibration;
use crate::reference::minifloat_of;
use crate::scheme::{
    GgufType, QuantLevel, QuantMode, QuantParam, QuantScheme, QuantStore, QuantValue,
};

/// The kernel families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Per-block (min, max) and scale (`shaders/reduce.wgsl`).
    Reduce,
    /// Quantize and pack (`shaders/quantize.wgsl`).
    Quantize,
    /// Range, scale, quantize and pack in one pass, one invocation per 1-D block of whole words
    /// (`shaders/quantize_blocks.wgsl`).
    QuantizeBlocks,
    /// Unpack and scale (`shaders/dequantize.wgsl`).
    Dequantize,
    /// GGUF blocks from f32 (`shaders/gguf.wgsl`, entry point `quantize`).
    GgufQuantize,
    /// f32 from GGUF blocks (`shaders/gguf.wgsl`, entry point `dequantize`).
    GgufDequantize,
    /// Tiled `x . W^T` with W f32 or decoded in the tile load (`shaders/matmul.wgsl`); `gguf`:
    /// W holds GGUF blocks.
    Matmul { gguf: bool },
    /// `x . W^T` for M <= 8, with a subgroup or workgroup-memory reduction (`shaders/gemv.wgsl`).
    Gemv { subgroup: bool, gguf: bool },
    /// int8 x int8 dot products (`shaders/int_matmul.wgsl`), with the dot4I8Packed builtin or a
    /// manual fallback.
    IntMatmul { builtin_dot: bool },
    /// Percentile or Mse block scales (`shaders/calibrate.wgsl`).
    Calibrate,
    /// Histogram of |x| for tensor-level Percentile (`shaders/histogram.wgsl`).
    Histogram,
    /// dequantize(quantize(x)) and the straight-through mask (`shaders/fake_quantize.wgsl`).
    FakeQuantize,
    /// vec4 copy, the benchmarks' roofline (`shaders/copy.wgsl`).
    Copy,
}

/// How a kernel uses one binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Uniform,
    Read,
    ReadWrite,
}

impl Kernel {
    pub const ALL: [Kernel; 18] = [
        Kernel::Reduce,
        Kernel::Quantize,
        Kernel::QuantizeBlocks,
        Kernel::Dequantize,
        Kernel::GgufQuantize,
        Kernel::GgufDequantize,
        Kernel::Matmul { gguf: false },
        Kernel::Matmul { gguf: true },
        Kernel::Gemv {
            subgroup: false,
            gguf: false,
        },
        Kernel::Gemv {
            subgroup: true,
            gguf: false,
        },
        Kernel::Gemv {
            subgroup: false,
            gguf: true,
        },
        Kernel::Gemv {
            subgroup: true,
            gguf: true,
        },
        Kernel::IntMatmul { builtin_dot: false },
        Kernel::IntMatmul { builtin_dot: true },
        Kernel::Calibrate,
        Kernel::Histogram,
        Kernel::FakeQuantize,
        Kernel::Copy,
    ];

    /// Full WGSL source: preludes + kernel.
    pub fn source(self) -> String {
        let common = include_str!("../../shaders/common.wgsl");
        let codec = include_str!("../../shaders/codec.wgsl");
        let weights = include_str!("../../shaders/weights.wgsl");
        let linear = include_str!("../../shaders/linear.wgsl");
        let gguf_blocks = include_str!("../../shaders/gguf_blocks.wgsl");
        let weights_of = |gguf: bool| -> [&str; 2] {
            if gguf {
                [gguf_blocks, include_str!("../../shaders/weights_gguf.wgsl")]
            } else {
                [codec, weights]
            }
        };
        let parts: Vec<&str> = match self {
            Kernel::Reduce => vec![common, codec, include_str!("../../shaders/reduce.wgsl")],
            Kernel::Quantize => vec![common, codec, include_str!("../../shaders/quantize.wgsl")],
            Kernel::QuantizeBlocks => vec![
                common,
                codec,
                include_str!("../../shaders/quantize_blocks.wgsl"),
            ],
            Kernel::Dequantize => vec![
                common,
                codec,
                weights,
                include_str!("../../shaders/dequantize.wgsl"),
            ],
            Kernel::GgufQuantize | Kernel::GgufDequantize => {
                vec![common, gguf_blocks, include_str!("../../shaders/gguf.wgsl")]
            }
            Kernel::Matmul { gguf } => {
                let [a, b] = weights_of(gguf);
                vec![
                    common,
                    a,
                    b,
                    linear,
                    include_str!("../../shaders/matmul.wgsl"),
                ]
            }
            Kernel::Gemv { subgroup, gguf } => {
                let [a, b] = weights_of(gguf);
                let reduce = if subgroup {
                    include_str!("../../shaders/reduce_sum_subgroup.wgsl")
                } else {
                    include_str!("../../shaders/reduce_sum_workgroup.wgsl")
                };
                vec![
                    common,
                    a,
                    b,
                    linear,
                    reduce,
                    include_str!("../../shaders/gemv.wgsl"),
                ]
            }
            Kernel::Calibrate => vec![common, codec, include_str!("../../shaders/calibrate.wgsl")],
            Kernel::Histogram => vec![common, include_str!("../../shaders/histogram.wgsl")],
            Kernel::Copy => vec![include_str!("../../shaders/copy.wgsl")],
            Kernel::FakeQuantize => vec![
                common,
                codec,
                include_str!("../../shaders/fake_quantize.wgsl"),
            ],
            Kernel::IntMatmul { builtin_dot } => vec![
                common,
                codec,
                weights,
                if builtin_dot {
                    include_str!("../../shaders/dot4_builtin.wgsl")
                } else {
                    include_str!("../../shaders/dot4_manual.wgsl")
                },
                include_str!("../../shaders/int_matmul.wgsl"),
            ],
        };
        parts.join("\n")
    }

    /// The adapter features the kernel needs beyond core WebGPU.
    pub fn needs_subgroups(self) -> bool {
        matches!(self, Kernel::Gemv { subgroup: true, .. })
    }

    /// The entry point in [`Kernel::source`].
    pub fn entry_point(self) -> &'static str {
        match self {
            Kernel::GgufQuantize => "quantize",
            Kernel::GgufDequantize => "dequantize",
            _ => "main",
        }
    }

    /// Its bindings 0, 1, ... in group 0: binding 0 is the `Geom` uniform, 1 the input.
    pub fn bindings(self) -> &'static [Access] {
        use Access::*;
        match self {
            // scales, zero points, global scale, status
            // (QuantizeBlocks: scales, zero points, codes, status)
            Kernel::Reduce | Kernel::Calibrate | Kernel::QuantizeBlocks => {
                &[Uniform, Read, ReadWrite, ReadWrite, ReadWrite, ReadWrite]
            }
            // scales, zero points, global scale, codes, clipped-element counter
            Kernel::Quantize => &[Uniform, Read, Read, Read, Read, ReadWrite, ReadWrite],
            // scales, zero points, global scale, output
            Kernel::Dequantize => &[Uniform, Read, Read, Read, Read, ReadWrite],
            // bins (Histogram), copy destination (Copy)
            Kernel::Histogram | Kernel::Copy => &[Uniform, Read, ReadWrite],
            // scales, zero points, global scale, y, mask
            Kernel::FakeQuantize => &[Uniform, Read, Read, Read, Read, ReadWrite, ReadWrite],
            // status, output, MXFP4 log2 table
            Kernel::GgufQuantize | Kernel::GgufDequantize => {
                &[Uniform, Read, ReadWrite, ReadWrite, Read]
            }
            // W scales, zero points, global scale, x, y, dims
            Kernel::Matmul { .. } | Kernel::Gemv { .. } => {
                &[Uniform, Read, Read, Read, Read, Read, ReadWrite, Uniform]
            }
            // W scales, zero points, global scale, x codes, x scales, y, dims
            Kernel::IntMatmul { .. } => &[
                Uniform, Read, Read, Read, Read, Read, Read, ReadWrite, Uniform,
            ],
        }
    }
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

    /// The value of the kernels' `INPUT` / `X_DTYPE` override for this type.
    pub(crate) fn code(self) -> f64 {
        match self {
            DType::F32 => 0.0,
            DType::F16 => 1.0,
            DType::BF16 => 2.0,
        }
    }
}

/// Override constants of one pipeline, as (name, value) pairs.
pub type Constants = Vec<(&'static str, f64)>;

/// What a reduction dispatch writes (`OUT` in `shaders/reduce.wgsl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceOut {
    /// (min, max) pairs: pass 1 of a whole-tensor reduction.
    Range,
    /// Stored scales (and zero points).
    Scale,
    /// NVFP4's global scale.
    Global,
}

/// The constants describing the scheme's value, mode, param and store.
fn scheme_constants(scheme: &QuantScheme) -> Constants {
    let bits = scheme.value.bits();
    let levels = ((1u32 << bits) - 1) as f64;
    let fmt = minifloat_of(scheme.value).unwrap_or(crate::reference::minifloat::E4M3);
    let (a, b) = scheme.value.int_range().unwrap_or((0, 0));
    let (kind, qmax, qmin, qmax_code) = match scheme.mode {
        _ if minifloat_of(scheme.value).is_some() => (3.0, fmt.max_finite() as f64, 0.0, 0.0),
        QuantMode::Lookup(_) => (2.0, 1.0, 0.0, 15.0),
        QuantMode::Affine => (1.0, levels, 0.0, levels),
        QuantMode::Symmetric => (0.0, (b - a) as f64 / 2.0, a as f64, b as f64),
    };
    let param = match scheme.param {
        QuantParam::F32 => 0.0,
        QuantParam::F16 => 1.0,
        QuantParam::BF16 => 2.0,
        QuantParam::E8M0 => 3.0,
        QuantParam::E4M3 => 4.0,
    };
    vec![
        ("BITS", bits as f64),
        ("CPW", (32 / bits) as f64),
        ("NATIVE", (scheme.store == QuantStore::Native) as u32 as f64),
        ("KIND", kind),
        ("PARAM", param),
        ("QMAX", qmax),
        ("QMIN", qmin),
        ("QMAX_CODE", qmax_code),
        ("MF_EBITS", fmt.exp_bits as f64),
        ("MF_MBITS", fmt.man_bits as f64),
        ("MF_BIAS", fmt.bias as f64),
        ("MF_MAX", fmt.max_code as f64),
        ("EMAX", fmt.emax() as f64),
    ]
}

/// Blocks of at most this many elements are reduced by one invocation each, larger ones by a
/// whole workgroup.
pub const PER_THREAD_MAX: usize = 256;

/// Constants of the reduction. Only `Scale` depends on the scheme; the others just find ranges.
pub fn reduce_constants(
    scheme: &QuantScheme,
    input: DType,
    out: ReduceOut,
    per_thread: bool,
) -> Constants {
    let mut c = match out {
        ReduceOut::Scale => scheme_constants(scheme),
        ReduceOut::Range | ReduceOut::Global => Vec::new(),
    };
    let out = match out {
        ReduceOut::Range => 0.0,
        ReduceOut::Scale => 1.0,
        ReduceOut::Global => 2.0,
    };
    c.extend([
        ("INPUT", input.code()),
        ("OUT", out),
        ("PER_THREAD", per_thread as u32 as f64),
    ]);
    c
}

/// Constants of the quantize kernel; `count_clipped` counts elements outside the range.
pub fn quantize_constants(scheme: &QuantScheme, input: DType, count_clipped: bool) -> Constants {
    let mut c = scheme_constants(scheme);
    c.extend([
        ("INPUT", input.code()),
        ("COUNT_CLIPPED", count_clipped as u32 as f64),
    ]);
    c
}

/// Constants of the one-pass `QuantizeBlocks` kernel.
pub fn quantize_blocks_constants(scheme: &QuantScheme, input: DType) -> Constants {
    let mut c = scheme_constants(scheme);
    c.push(("INPUT", input.code()));
    c
}

/// Whether the one-pass `QuantizeBlocks` kernel handles `scheme` with MinMax: 1-D blocks of
/// whole code words in the U32 store, one scale per block (not NVFP4).
pub fn quantize_blocks_applies(scheme: &QuantScheme) -> bool {
    let QuantLevel::Block(b) = scheme.level else {
        return false;
    };
    let (rows, cols) = b.rows_cols();
    rows == 1
        && cols % scheme.codes_per_word() == 0
        && scheme.store == QuantStore::U32
        && scheme.param != QuantParam::E4M3
}

/// Constants of the calibrate kernel for `calibration` (Percentile or Mse).
pub fn calibrate_constants(
    scheme: &QuantScheme,
    input: DType,
    calibration: Calibration,
) -> Constants {
    let mut c = scheme_constants(scheme);
    let (method, pct) = match calibration {
        Calibration::Percentile(p) => (1.0, Calibration::percentile_millionths(p) as f64),
        _ => (2.0, 0.0),
    };
    c.extend([
        ("INPUT", input.code()),
        ("METHOD", method),
        ("PCT_MILLIONTHS", pct),
    ]);
    c
}

/// Constants of the histogram kernel.
pub fn histogram_constants(input: DType) -> Constants {
    vec![("INPUT", input.code())]
}

/// Constants of the fake quantization kernel.
pub fn fake_quantize_constants(scheme: &QuantScheme, input: DType) -> Constants {
    let mut c = scheme_constants(scheme);
    c.push(("INPUT", input.code()));
    c
}

/// Constants of the dequantize kernel.
pub fn dequantize_constants(scheme: &QuantScheme) -> Constants {
    scheme_constants(scheme)
}

/// Constants of the matmul, GEMV and integer kernels: W's scheme, or f32 W when `None`.
pub fn weight_constants(scheme: Option<&QuantScheme>) -> Constants {
    match scheme {
        Some(s) => scheme_constants(s),
        None => vec![("W_F32", 1.0)],
    }
}

/// Constants of both GGUF kernels for `ty` reading `input`.
pub fn gguf_constants(ty: GgufType, input: DType) -> Constants {
    vec![
        ("GGUF_TYPE", ty.index() as f64),
        ("BLOCK_BYTES", ty.block_bytes() as f64),
        ("GROUP", ty.blocks_per_group() as f64),
        ("INPUT", input.code()),
    ]
}

/// Every (kernel, constants) pair the host can request for the implemented schemes, so that a
/// test can validate each with naga.
pub fn all_specializations() -> Vec<(Kernel, Constants)> {
    use QuantValue::*;
    let mut out = Vec::new();
    let modes = [
        QuantMode::Symmetric,
        QuantMode::Affine,
        QuantMode::Lookup(crate::scheme::Codebook::Nf4),
    ];
    let params = [
        QuantParam::F32,
        QuantParam::F16,
        QuantParam::BF16,
        QuantParam::E8M0,
        QuantParam::E4M3,
    ];
    for value in [Q8F, Q4F, Q2F, Q8S, Q4S, Q2S, E4M3, E5M2, E2M1] {
        for mode in modes {
            for store in [QuantStore::U32, QuantStore::Native] {
                for param in params {
                    let s = QuantScheme {
                        mode,
                        level: QuantLevel::block([16]),
                        value,
                        store,
                        param,
                    };
                    if s.validate().is_err() {
                        continue;
                    }
                    for input in [DType::F32, DType::F16, DType::BF16] {
                        for count in [false, true] {
                            out.push((Kernel::Quantize, quantize_constants(&s, input, count)));
                        }
                        if quantize_blocks_applies(&s) {
                            out.push((
                                Kernel::QuantizeBlocks,
                                quantize_blocks_constants(&s, input),
                            ));
                        }
                        out.push((Kernel::FakeQuantize, fake_quantize_constants(&s, input)));
                        out.push((Kernel::Histogram, histogram_constants(input)));
                        for c in [Calibration::Percentile(99.9), Calibration::Mse] {
                            if c.check(&s).is_ok() {
                                out.push((Kernel::Calibrate, calibrate_constants(&s, input, c)));
                            }
                        }
                        for (o, per_thread) in [
                            (ReduceOut::Range, false),
                            (ReduceOut::Global, false),
                            (ReduceOut::Scale, false),
                            (ReduceOut::Scale, true),
                        ] {
                            out.push((Kernel::Reduce, reduce_constants(&s, input, o, per_thread)));
                        }
                    }
                    out.push((Kernel::Dequantize, dequantize_constants(&s)));
                }
            }
        }
    }
    for ty in GgufType::TYPES {
        for input in [DType::F32, DType::F16, DType::BF16] {
            out.push((Kernel::GgufQuantize, gguf_constants(ty, input)));
        }
        out.push((Kernel::GgufDequantize, gguf_constants(ty, DType::F32)));
        for x in [DType::F32, DType::F16, DType::BF16] {
            let mut c = gguf_constants(ty, DType::F32);
            c.push(("X_DTYPE", x.code()));
            out.push((Kernel::Matmul { gguf: true }, c.clone()));
            for subgroup in [false, true] {
                out.push((
                    Kernel::Gemv {
                        subgroup,
                        gguf: true,
                    },
                    c.clone(),
                ));
            }
        }
    }
    // Matmul paths: f32 W, then every weight scheme the dequantize kernel takes.
    let dequantized: Vec<Constants> = out
        .iter()
        .filter(|(k, _)| *k == Kernel::Dequantize)
        .map(|(_, c)| c.clone())
        .collect();
    for c in std::iter::once(weight_constants(None)).chain(dequantized) {
        for k in [
            Kernel::Matmul { gguf: false },
            Kernel::Gemv {
                subgroup: false,
                gguf: false,
            },
            Kernel::Gemv {
                subgroup: true,
                gguf: false,
            },
        ] {
            for x in [DType::F32, DType::F16, DType::BF16] {
                let mut with_x = c.clone();
                with_x.push(("X_DTYPE", x.code()));
                out.push((k, with_x));
            }
        }
        let int_weight = c.iter().any(|(n, v)| *n == "KIND" && *v == 0.0)
            && c.iter()
                .any(|(n, v)| *n == "BITS" && (*v == 8.0 || *v == 4.0))
            && c.iter().any(|(n, v)| *n == "NATIVE" && *v == 0.0);
        if int_weight {
            for builtin_dot in [false, true] {
                out.push((Kernel::IntMatmul { builtin_dot }, c.clone()));
            }
        }
    }
    out.push((Kernel::Copy, Vec::new()));
    out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    out.dedup();
    out
}
