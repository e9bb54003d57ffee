//! GGUF files in: the reader on hand-encoded files (every value type, nested and string arrays,
//! read and written back to the same bytes) and on hostile ones (each a clean error naming the
//! file and tensor), and llama-quantize's rules on a small model through `wgquant quantize`.

mod common;

use std::path::Path;
use std::process::Command;

use wgquant::convert::convert_gguf;
use wgquant::convert::llama::{parse_type, FileType, LlamaOptions};
use wgquant::io::gguf::{parse_header, GgmlType, GgufFile, GgufWriter, MetaValue};
use wgquant::GgufType;

/// A GGUF file encoded by hand, field by field.
#[derive(Default)]
struct Enc {
    kv: Vec<u8>,
    n_kv: u64,
    infos: Vec<u8>,
    n_tensors: u64,
    data: Vec<u8>,
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

impl Enc {
    fn key(&mut self, key: &str, ty: u32, value: &[u8]) -> &mut Self {
        string(&mut self.kv, key);
        self.kv.extend(ty.to_le_bytes());
        self.kv.extend(value);
        self.n_kv += 1;
        self
    }

    /// A tensor with ggml dims `ne` (innermost first), type id and data offset.
    fn tensor(&mut self, name: &str, ne: &[u64], ty: u32, offset: u64) -> &mut Self {
        string(&mut self.infos, name);
        self.infos.extend((ne.len() as u32).to_le_bytes());
        for d in ne {
            self.infos.extend(d.to_le_bytes());
        }
        self.infos.extend(ty.to_le_bytes());
        self.infos.extend(offset.to_le_bytes());
        self.n_tensors += 1;
        self
    }

    fn bytes(&self, version: u32) -> Vec<u8> {
        let mut b = b"GGUF".to_vec();
        b.extend(version.to_le_bytes());
        b.extend(self.n_tensors.to_le_bytes());
        b.extend(self.n_kv.to_le_bytes());
        b.extend(&self.kv);
        b.extend(&self.infos);
        b.resize(b.len().next_multiple_of(32), 0);
        b.extend(&self.data);
        b
    }
}

/// Every value type, a string array, a nested array, and two tensors (Q4_0 and F32).
fn full() -> Enc {
    let mut e = Enc::default();
    let mut strings = 8u32.to_le_bytes().to_vec();
    strings.extend(2u64.to_le_bytes());
    string(&mut strings, "hello");
    string(&mut strings, "");
    let mut nested = 9u32.to_le_bytes().to_vec();
    nested.extend(2u64.to_le_bytes());
    for items in [&[1i16, -2][..], &[3][..]] {
        nested.extend(3u32.to_le_bytes());
        nested.extend((items.len() as u64).to_le_bytes());
        for v in items {
            nested.extend(v.to_le_bytes());
        }
    }
    let mut text = Vec::new();
    string(&mut text, "llama");
    e.key("general.architecture", 8, &text)
        .key("u8", 0, &[7])
        .key("i8", 1, &[0xff])
        .key("u16", 2, &513u16.to_le_bytes())
        .key("i16", 3, &(-5i16).to_le_bytes())
        .key("u32", 4, &70000u32.to_le_bytes())
        .key("i32", 5, &(-70000i32).to_le_bytes())
        .key("f32", 6, &f32::from_bits(0x7fc0_1234).to_le_bytes())
        .key("bool", 7, &[1])
        .key("u64", 10, &u64::MAX.to_le_bytes())
        .key("i64", 11, &i64::MIN.to_le_bytes())
        .key("f64", 12, &0.25f64.to_le_bytes())
        .key("strings", 9, &strings)
        .key("nested", 9, &nested)
        .tensor("blk.0.attn_q.weight", &[32, 2], 2, 0)
        .tensor("norm", &[3], 0, 64);
    e.data = (0..36u8)
        .chain([0; 28])
        .chain(64..76)
        .chain([0; 20])
        .collect();
    e
}

fn header_of(bytes: &[u8]) -> wgquant::Result<wgquant::io::gguf::GgufHeader> {
    parse_header(&mut &bytes[..], bytes.len() as u64, "test.gguf")
}

#[test]
fn every_value_type_reads_and_writes_back_to_the_same_bytes() {
    for version in [2, 3] {
        let bytes = full().bytes(version);
        let h = header_of(&bytes).unwrap();
        assert_eq!(h.version, version);
        assert_eq!(h.metadata.len(), 14);
        assert_eq!(h.get("i16"), Some(&MetaValue::I16(-5)));
        assert_eq!(h.get("u64"), Some(&MetaValue::U64(u64::MAX)));
        let Some(MetaValue::F32(nan)) = h.get("f32") else {
            panic!()
        };
        assert_eq!(nan.to_bits(), 0x7fc0_1234);
        let summary = h.get("strings").unwrap().summary();
        assert_eq!(summary, r#"[2 x string: "hello", ""]"#);
        assert_eq!(
            h.get("nested").unwrap().summary(),
            "[2 x array: [2 x i16: 1, -2], [1 x i16: 3]]"
        );
        assert_eq!(h.tensors[0].info.shape, vec![2, 32]);
        assert_eq!(h.tensors[0].info.ty, GgmlType::Block(GgufType::Q4_0));
        assert_eq!(h.tensors[1].offset as usize, bytes.len() - 32);
        // Written again: the same bytes (as version 3).
        let mut out = Vec::new();
        let infos = h.tensors.iter().map(|t| t.info.clone()).collect();
        let mut w = GgufWriter::new(&mut out, &h.metadata, infos).unwrap();
        let data = &bytes[h.tensors[0].offset as usize..];
        w.write_next(&data[..36]).unwrap();
        w.write_next(&data[64..76]).unwrap();
        w.finish().unwrap();
        assert_eq!(out, full().bytes(3));
    }
}

/// What is wrong, the tensor's ggml dims, type id, offset, data bytes, and the error's words.
type TensorCase<'a> = (&'a str, &'a [u64], u32, u64, usize, &'a str);

#[test]
fn hostile_files_are_clean_errors() {
    let good = full();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "bad magic",
            b"GGUX".iter().chain(&good.bytes(3)[4..]).copied().collect(),
            "bad magic",
        ),
        (
            "version 1",
            {
                let mut b = good.bytes(3);
                b[4] = 1;
                b
            },
            "version 1",
        ),
        ("truncated", good.bytes(3)[..100].to_vec(), "cannot fit"),
        (
            "truncated string",
            {
                let mut e = Enc::default();
                e.key("k", 8, &[9, 0, 0, 0, 0, 0, 0, 0, b'a', b'b', b'c', b'd']);
                e.bytes(3)[..49].to_vec()
            },
            "truncated",
        ),
        (
            "count",
            {
                let mut b = good.bytes(3);
                b[16..24].copy_from_slice(&(1u64 << 40).to_le_bytes());
                b
            },
            "cannot fit",
        ),
        (
            "string length",
            {
                let mut b = good.bytes(3);
                b[24..32].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
                b
            },
            "truncated",
        ),
        (
            "value type",
            {
                let mut e = Enc::default();
                e.key("k", 13, &[]);
                e.bytes(3)
            },
            "unknown value type 13",
        ),
        (
            "duplicate key",
            {
                let mut e = Enc::default();
                e.key("k", 0, &[1]).key("k", 0, &[2]);
                e.bytes(3)
            },
            "appears twice",
        ),
        (
            "alignment",
            {
                let mut e = Enc::default();
                e.key("general.alignment", 4, &48u32.to_le_bytes());
                e.bytes(3)
            },
            "power of two",
        ),
    ];
    for (what, bytes, expect) in cases {
        let err = header_of(&bytes).unwrap_err().to_string();
        assert!(
            err.contains(expect) && err.contains("test.gguf"),
            "{what}: {err}"
        );
    }
    // Tensor-table errors name the tensor.
    let tensor_cases: [TensorCase; 7] = [
        (
            "misaligned",
            &[32],
            0,
            4,
            128,
            "not a multiple of the alignment",
        ),
        ("outside", &[32], 0, 1 << 20, 128, "runs past the end"),
        ("unknown type", &[32], 99, 0, 128, "ggml type 99"),
        ("many dims", &[1, 1, 1, 1, 1], 0, 0, 128, "5 dims"),
        (
            "huge dims",
            &[1 << 40, 1 << 40],
            0,
            0,
            128,
            "larger than the file",
        ),
        ("negative dim", &[u64::MAX], 0, 0, 128, "negative"),
        ("partial block", &[33, 2], 2, 0, 128, "multiple of 32"),
    ];
    for (what, ne, ty, offset, data, expect) in tensor_cases {
        let mut e = Enc::default();
        e.tensor("t.weight", ne, ty, offset);
        e.data = vec![0; data];
        let err = header_of(&e.bytes(3)).unwrap_err().to_string();
        assert!(
            err.contains(expect) && err.contains("t.weight"),
            "{what}: {err}"
        );
    }
    let mut e = Enc::default();
    e.tensor("a", &[32], 0, 0).tensor("b", &[32], 0, 128);
    e.data = vec![0; 256];
    assert!(header_of(&e.bytes(3)).is_ok());
    // Block types hold more elements than bytes: a file of one large Q4_0 matrix is fine.
    let mut e = Enc::default();
    e.tensor("big.weight", &[4096, 64], 2, 0);
    e.data = vec![0; 4096 * 64 / 32 * 18];
    assert!(header_of(&e.bytes(3)).is_ok());
    let mut e = Enc::default();
    e.tensor("a", &[32], 0, 0).tensor("b", &[32], 0, 96);
    e.data = vec![0; 224];
    let err = header_of(&e.bytes(3)).unwrap_err().to_string();
    assert!(err.contains("overlaps"), "{err}");
    let mut e = Enc::default();
    e.tensor("a", &[8], 0, 0).tensor("a", &[8], 0, 32);
    e.data = vec![0; 64];
    let err = header_of(&e.bytes(3)).unwrap_err().to_string();
    assert!(err.contains("appears twice"), "{err}");
}

/// A small llama-like F32 model: a tied token embedding, norms, one layer with a row length
/// (48) that Q4_0's blocks do not divide.
fn small_model(path: &Path, with_output: bool) {
    let mut tensors: Vec<(String, Vec<usize>)> = [
        ("token_embd.weight", vec![64, 32]),
        ("output_norm.weight", vec![32]),
        ("blk.0.attn_norm.weight", vec![32]),
        ("blk.0.attn_q.weight", vec![32, 32]),
        ("blk.0.ffn_down.weight", vec![32, 48]),
    ]
    .map(|(n, s)| (n.to_string(), s))
    .to_vec();
    if with_output {
        tensors.push(("output.weight".into(), vec![64, 256]));
    }
    let meta = [
        (
            "general.architecture".to_string(),
            MetaValue::String("llama".into()),
        ),
        ("general.file_type".to_string(), MetaValue::U32(0)),
        ("llama.block_count".to_string(), MetaValue::U32(1)),
    ];
    common::write_f32_gguf(path, &meta, &tensors, |i, n| {
        (0..n)
            .map(|j| ((j * 7 + i) % 23) as f32 * 0.1 - 1.0)
            .collect()
    });
}

#[test]
fn llama_quantize_rules_on_a_small_model() {
    let dir = common::temp_dir("gguf-rules");
    let input = dir.join("small-f32.gguf");
    small_model(&input, false);
    let out = dir.join("q4_0.gguf");
    let opts = LlamaOptions::new(FileType::parse("q4_0").unwrap());
    let report = convert_gguf(common::ctx(), &input, &out, &opts, false, &mut |_| {}).unwrap();
    let types: Vec<(String, String)> = report
        .tensors
        .iter()
        .map(|t| (t.name.clone(), t.scheme.clone()))
        .collect();
    // llama-quantize's order, the tied embedding's Q6_K falling back to Q8_0 (32 % 256), the
    // 48-wide rows to F16, the norms as they are.
    let want = [
        ("output_norm.weight", "passthrough"),
        ("token_embd.weight", "q8_0"),
        ("blk.0.attn_norm.weight", "passthrough"),
        ("blk.0.attn_q.weight", "q4_0"),
        ("blk.0.ffn_down.weight", "f16"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(types, want);
    let h = GgufFile::open(&out).unwrap().header;
    let keys: Vec<&str> = h.metadata.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "general.architecture",
            "llama.block_count",
            "general.quantization_version",
            "general.file_type"
        ]
    );
    assert_eq!(h.get("general.file_type"), Some(&MetaValue::U32(2)));
    // --pure: the embedding takes the file's type too.
    let mut pure = opts.clone();
    pure.pure = true;
    let r = convert_gguf(common::ctx(), &input, &out, &pure, true, &mut |_| {}).unwrap();
    assert_eq!(r.tensors[1].scheme, "q4_0");
    // --tensor-type overrides by regex, --token-embedding-type wins for the embedding.
    let mut manual = opts.clone();
    manual.add_tensor_type("ATTN_Q=q8_0").unwrap();
    manual.token_embedding_type = Some(parse_type("f16").unwrap());
    let r = convert_gguf(common::ctx(), &input, &out, &manual, true, &mut |_| {}).unwrap();
    assert_eq!(
        (r.tensors[1].scheme.as_str(), r.tensors[3].scheme.as_str()),
        ("f16", "q8_0")
    );
    // A 256-wide output.weight gets Q6_K (unless chosen), or the file type under --pure.
    let with_output = dir.join("with-output.gguf");
    small_model(&with_output, true);
    let o = dir.join("with-output-q4_0.gguf");
    let r = convert_gguf(common::ctx(), &with_output, &o, &opts, false, &mut |_| {});
    assert_eq!(r.unwrap().tensors[0].scheme, "q6_k");
    let mut chosen = opts.clone();
    chosen.output_tensor_type = Some(parse_type("Q8_0").unwrap());
    let r = convert_gguf(common::ctx(), &with_output, &o, &chosen, true, &mut |_| {});
    assert_eq!(r.unwrap().tensors[0].scheme, "q8_0");
    // A chosen type has no fallback: rows it does not divide are an error before any writing.
    let mut wide = opts.clone();
    wide.token_embedding_type = Some(parse_type("q4_k").unwrap());
    let bad_out = dir.join("not-written.gguf");
    let err = convert_gguf(common::ctx(), &input, &bad_out, &wide, false, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("token_embd.weight") && err.contains("256"),
        "{err}"
    );
    assert!(!bad_out.exists());
    let mut q2 = LlamaOptions::new(FileType::parse("q2_k").unwrap());
    q2.pure = true;
    let r = convert_gguf(common::ctx(), &with_output, &o, &q2, true, &mut |_| {});
    assert_eq!(r.unwrap().tensors[0].scheme, "q2_k");
    // A quantized input is refused without --allow-requantize, and requantized with it.
    let requant = dir.join("requant.gguf");
    let err = convert_gguf(
        common::ctx(),
        &out,
        &requant,
        &LlamaOptions::new(FileType::parse("q4_1").unwrap()),
        false,
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("--allow-requantize"), "{err}");
    assert!(!requant.exists());
    let mut allow = LlamaOptions::new(FileType::parse("q4_1").unwrap());
    allow.allow_requantize = true;
    convert_gguf(common::ctx(), &out, &requant, &allow, false, &mut |_| {}).unwrap();
}

#[test]
fn cli_takes_gguf_input() {
    let dir = common::temp_dir("gguf-cli");
    let input = dir.join("small-f32.gguf");
    small_model(&input, false);
    let bin = env!("CARGO_BIN_EXE_wgquant");
    let out = dir.join("out.gguf");
    let run = |args: &[&str]| {
        Command::new(bin)
            .args([
                "quantize",
                input.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ])
            .args(args)
            .output()
            .unwrap()
    };
    let ok = run(&["--scheme", "q5_1"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let again = run(&["--scheme", "q5_1"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    for (args, expect) in [
        (
            &["--scheme", "iq2_xs", "--force"][..],
            "llama-quantize type",
        ),
        (
            &["--format", "wgquant", "--force"][..],
            "does not apply to a GGUF input",
        ),
        (
            &["--tensor-type", "attn=q9", "--force"][..],
            "not a tensor type",
        ),
    ] {
        let r = run(args);
        assert!(!r.status.success());
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    let listing = wgquant::cli::describe(&out).unwrap();
    assert!(listing.contains("general.file_type = 9"), "{listing}");
    assert!(listing.contains("Q5_1"), "{listing}");
}
