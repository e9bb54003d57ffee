//! Every specialization the host can request, for the naga test that validates each.

use super::{
    calibrate_constants, copy_constants, dequantize_constants, dequantize_vec4_constants,
    fake_quantize_constants, gguf_constants, histogram_constants, quantize_blocks_applies,
    quantize_blocks_constants, quantize_constants, quantize_vec4_constants, quantize_vec4_held,
    range_vec4_constants, reduce_constants, Constants, DType, ElementKind, GemvShape, Kernel,
    KernelEnum, ReduceOut, WeightKind, FLAT_VEC4_RUNS, VEC4_BLOCK_MAX,
};
use crate::calibration::Calibration;
use crate::format::GgufType;
use crate::scheme::{QuantLevel, QuantMode, QuantParam, QuantScheme, QuantStore, QuantValue};

/// Every (kernel, constants) pair the host can request for the implemented schemes, so that a
/// test can validate each with naga.
pub fn all_specializations() -> Vec<(Kernel, Constants)> {
    let mut out = Vec::new();
    let mut vec4_coded: Vec<Constants> = Vec::new();
    let modes = [
        QuantMode::Symmetric,
        QuantMode::Affine,
        QuantMode::Lookup(crate::scheme::Codebook::Nf4),
    ];
    for value in QuantValue::ALL {
        for mode in modes {
            for store in [QuantStore::U32, QuantStore::Native] {
                for param in QuantParam::ALL {
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
                        // Block level, and Tensor level with the tensor's scale given.
                        let flats = match quantize_blocks_applies(&s) {
                            true => vec![false, true],
                            false => vec![],
                        };
                        for flat in flats {
                            out.push((
                                Kernel::QuantizeBlocks,
                                quantize_blocks_constants(&s, input, flat),
                            ));
                            // Flat chunks take only flat_block's runs.
                            let blocks = match flat {
                                true => FLAT_VEC4_RUNS.to_vec(),
                                false => vec![4, 8, 16, 32, 48, VEC4_BLOCK_MAX],
                            };
                            for block in blocks {
                                if block % (16 / input.bytes()) == 0 {
                                    out.push((
                                        Kernel::QuantizeVec4 {
                                            held: quantize_vec4_held(block),
                                        },
                                        quantize_vec4_constants(&s, input, block, flat),
                                    ));
                                }
                            }
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
                    if s.store == QuantStore::U32 && s.codes_per_word().is_multiple_of(4) {
                        vec4_coded.push(dequantize_constants(&s));
                        for (words, one_scale) in [(1, true), (4, true), (4, false)] {
                            out.push((
                                Kernel::DequantizeVec4,
                                dequantize_vec4_constants(&s, words, one_scale),
                            ));
                        }
                    }
                }
            }
        }
    }
    for input in [DType::F32, DType::F16, DType::BF16] {
        for interleaved in [false, true] {
            out.push((Kernel::RangeVec4, range_vec4_constants(input, interleaved)));
        }
    }
    for ty in GgufType::ALL {
        let quantize = match ty.is_k_quant() {
            true => Kernel::KQuantize,
            false => Kernel::GgufQuantize,
        };
        for input in [DType::F32, DType::F16, DType::BF16] {
            out.push((quantize, gguf_constants(ty, input)));
        }
        out.push((Kernel::GgufDequantize, gguf_constants(ty, DType::F32)));
    }
    // Matmul paths: per weight kind, the constants of each weight it takes, with each x dtype.
    let coded: Vec<Constants> = out
        .iter()
        .filter(|(k, _)| *k == Kernel::Dequantize)
        .map(|(_, c)| c.clone())
        .collect();
    let gguf: Vec<Constants> = GgufType::ALL
        .iter()
        .map(|&ty| gguf_constants(ty, DType::F32))
        .collect();
    for kernel in Kernel::ALL {
        let weight = match kernel {
            Kernel::Matmul { weight } | Kernel::Gemv { weight, .. } => weight,
            _ => continue,
        };
        let weights = match weight {
            WeightKind::F32 => vec![Vec::new()],
            WeightKind::Coded => coded.clone(),
            WeightKind::Gguf => gguf.clone(),
        };
        for c in weights {
            for x in [DType::F32, DType::F16, DType::BF16] {
                let mut with_x = c.clone();
                with_x.push(("X_DTYPE", x.code()));
                out.push((kernel, with_x));
            }
        }
    }
    // The vec4 GEMV: f32 W, and coded W of whole vec4 words (vec4_coded: the DequantizeVec4
    // schemes).
    // The CPU shape loads the scales as vec4, the GPU one cannot; f32 x loads as vec4.
    let shapes = [(1, 128, true), (3, 32, false)].map(|(m, units, cpu)| {
        GemvShape::choose(m, units, 2, cpu)
            .expect("a GEMV shape for 2 vec4 of x per unit")
            .with_scale_quads(units, 1)
    });
    for subgroup in [false, true] {
        for (coded, weights) in [(false, vec![Vec::new()]), (true, vec4_coded.clone())] {
            for c in weights {
                for (x, shape) in [DType::F32, DType::F16, DType::BF16]
                    .into_iter()
                    .zip([0, 1, 0])
                {
                    let mut with = c.clone();
                    with.push(("X_DTYPE", x.code()));
                    with.extend(shapes[shape].with_x_vec4(x == DType::F32).constants());
                    out.push((Kernel::GemvVec4 { subgroup, coded }, with));
                }
            }
        }
    }
    for c in coded {
        let int_weight = c
            .iter()
            .any(|(n, v)| *n == "KIND" && *v == ElementKind::Int.code())
            && c.iter()
                .any(|(n, v)| *n == "BITS" && (*v == 8.0 || *v == 4.0))
            && c.iter().any(|(n, v)| *n == "NATIVE" && *v == 0.0);
        if int_weight {
            for builtin_dot in [false, true] {
                for tiled in [false, true] {
                    out.push((Kernel::IntMatmul { builtin_dot, tiled }, c.clone()));
                }
            }
        }
    }
    for interleaved in [false, true] {
        out.push((Kernel::Copy, copy_constants(interleaved)));
    }
    out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    out.dedup();
    out
}
