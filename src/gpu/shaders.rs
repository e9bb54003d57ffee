//! WGSL sources and their specializations. Each kernel file is compiled with the shared prelude
//! `common.wgsl` in front of it (the one templating step); variants differ only in override
//! constants, so no kernel is copied.

use crate::scheme::{QuantParam, QuantScheme, QuantStore};

/// The kernel families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Per-block absmax and scale (`shaders/reduce.wgsl`).
    Reduce,
    /// Quantize and pack (`shaders/quantize.wgsl`).
    Quantize,
    /// Unpack and scale (`shaders/dequantize.wgsl`).
    Dequantize,
}

impl Kernel {
    pub const ALL: [Kernel; 3] = [Kernel::Reduce, Kernel::Quantize, Kernel::Dequantize];

    /// Full WGSL source: prelude + kernel.
    pub fn source(self) -> String {
        let body = match self {
            Kernel::Reduce => include_str!("../../shaders/reduce.wgsl"),
            Kernel::Quantize => include_str!("../../shaders/quantize.wgsl"),
            Kernel::Dequantize => include_str!("../../shaders/dequantize.wgsl"),
        };
        format!("{}\n{}", include_str!("../../shaders/common.wgsl"), body)
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

    fn code(self) -> f64 {
        match self {
            DType::F32 => 0.0,
            DType::F16 => 1.0,
            DType::BF16 => 2.0,
        }
    }
}

/// Override constants of one pipeline, as (name, value) pairs.
pub type Constants = Vec<(&'static str, f64)>;

fn param_code(param: QuantParam) -> f64 {
    match param {
        QuantParam::F16 => 1.0,
        QuantParam::BF16 => 2.0,
        _ => 0.0,
    }
}

fn code_constants(scheme: &QuantScheme) -> Constants {
    let bits = scheme.value.bits();
    vec![
        ("BITS", bits as f64),
        ("CPW", (32 / bits) as f64),
        ("NATIVE", (scheme.store == QuantStore::Native) as u32 as f64),
    ]
}

/// Blocks of at most this many elements are reduced by one invocation each, larger ones by a
/// whole workgroup.
pub const PER_THREAD_MAX: usize = 256;

/// Constants of the reduction. `out_scale` false: raw absmax (Tensor-level pass 1);
/// `per_thread`: one invocation per block.
pub fn reduce_constants(
    scheme: &QuantScheme,
    input: DType,
    out_scale: bool,
    per_thread: bool,
) -> Constants {
    let (a, b) = scheme.value.int_range().unwrap_or((-1, 1));
    vec![
        ("INPUT", input.code()),
        ("PARAM", param_code(scheme.param)),
        ("OUT_SCALE", out_scale as u32 as f64),
        ("PER_THREAD", per_thread as u32 as f64),
        ("QMAX", (b - a) as f64 / 2.0),
    ]
}

/// Constants of the quantize kernel.
pub fn quantize_constants(scheme: &QuantScheme, input: DType) -> Constants {
    let (a, b) = scheme.value.int_range().unwrap_or((-1, 1));
    let mut c = code_constants(scheme);
    c.extend([
        ("INPUT", input.code()),
        ("QMIN", a as f64),
        ("QMAX_CODE", b as f64),
    ]);
    c
}

/// Constants of the dequantize kernel.
pub fn dequantize_constants(scheme: &QuantScheme) -> Constants {
    code_constants(scheme)
}

/// Every (kernel, constants) pair the host can request for the implemented schemes, so that a
/// test can validate each with naga.
pub fn all_specializations() -> Vec<(Kernel, Constants)> {
    use crate::scheme::QuantValue::*;
    let mut out = Vec::new();
    for value in [Q8F, Q4F, Q2F, Q8S, Q4S, Q2S] {
        for store in [QuantStore::U32, QuantStore::Native] {
            for param in [QuantParam::F32, QuantParam::F16, QuantParam::BF16] {
                let s = QuantScheme::default()
                    .with_value(value)
                    .with_store(store)
                    .with_param(param);
                if s.validate().is_err() {
                    continue;
                }
                for input in [DType::F32, DType::F16, DType::BF16] {
                    out.push((Kernel::Quantize, quantize_constants(&s, input)));
                    for (out_scale, per_thread) in [(false, false), (true, false), (true, true)] {
                        out.push((
                            Kernel::Reduce,
                            reduce_constants(&s, input, out_scale, per_thread),
                        ));
                    }
                }
                out.push((Kernel::Dequantize, dequantize_constants(&s)));
            }
        }
    }
    out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    out.dedup();
    out
}
