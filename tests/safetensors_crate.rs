//! The `safetensors` crate (0.8) as the oracle of wgquant's own safetensors reader and writer:
//! files either one writes, the other reads the same; hostile headers both refuse, and wgquant's
//! errors name the tensor where the crate's do not (why wgquant keeps its own reader; the crate
//! also needs the whole file in one slice, see `src/io/safetensors.rs`).

mod common;

use std::collections::{BTreeMap, HashMap};

use safetensors::tensor::TensorView;
use safetensors::SafeTensors;
use wgquant::io::safetensors::{parse_bytes, Dtype, OutEntry, SafetensorsWriter};

/// wgquant's reading of `bytes` equals the crate's: names, dtypes, shapes, where each tensor's
/// bytes are, and the metadata.
fn assert_same_reading(bytes: &[u8], what: &str) {
    let (ours, meta) = parse_bytes(bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
    let theirs = SafeTensors::deserialize(bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(ours.len(), theirs.len(), "{what}: tensor count");
    for e in &ours {
        let view = theirs
            .tensor(&e.name)
            .unwrap_or_else(|err| panic!("{what}: {}: {err}", e.name));
        assert_eq!(
            e.dtype.name(),
            format!("{:?}", view.dtype()),
            "{what}: {}",
            e.name
        );
        assert_eq!(e.shape, view.shape(), "{what}: {}", e.name);
        let at = view.data().as_ptr() as usize - bytes.as_ptr() as usize;
        assert_eq!(
            (e.offset, e.len),
            (at as u64, view.data().len() as u64),
            "{what}: {}",
            e.name
        );
    }
    let (_, header) = SafeTensors::read_metadata(bytes).unwrap();
    let theirs_meta: BTreeMap<String, String> = header
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    assert_eq!(meta, theirs_meta, "{what}: metadata");
}

#[test]
fn files_of_either_writer_read_the_same_in_both_readers() {
    let floats: Vec<u8> = (0..64 * 4).map(|i| i as u8).collect();
    let halfs: Vec<u8> = (0..24 * 2).map(|i| (i * 7) as u8).collect();
    let ints: Vec<u8> = (0..16 * 8).map(|i| (i * 3) as u8).collect();
    // The crate writes, wgquant reads.
    let views = [
        (
            "a.weight",
            TensorView::new(safetensors::Dtype::F32, vec![8, 8], &floats).unwrap(),
        ),
        (
            "b.bias",
            TensorView::new(safetensors::Dtype::BF16, vec![24], &halfs).unwrap(),
        ),
        (
            "ids",
            TensorView::new(safetensors::Dtype::I64, vec![2, 8], &ints).unwrap(),
        ),
    ];
    let info = HashMap::from([("format".to_string(), "pt".to_string())]);
    let bytes = safetensors::serialize(views, Some(info)).unwrap();
    assert_same_reading(&bytes, "written by the crate");
    // wgquant writes, the crate reads (and gets the same bytes back).
    let entries = vec![
        OutEntry::new("x.qweight", Dtype::U32, vec![4, 16]),
        OutEntry::new("x.scales", Dtype::F16, vec![24]),
        OutEntry::new("y", Dtype::I64, vec![16]),
    ];
    let meta = BTreeMap::from([("wgquant.format".to_string(), "1".to_string())]);
    let mut w = SafetensorsWriter::new(Vec::new(), entries, &meta).unwrap();
    for part in [&floats, &halfs, &ints] {
        w.write_next(part).unwrap();
    }
    let bytes = w.finish().unwrap();
    assert_same_reading(&bytes, "written by wgquant");
    let theirs = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(theirs.tensor("x.scales").unwrap().data(), &halfs[..]);
}

#[test]
fn the_real_model_reads_the_same_in_both_readers() {
    let Some(path) = std::env::var_os("WGQUANT_MINILM") else {
        let required = std::env::var("WGQUANT_REQUIRE_ORACLES").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "WGQUANT_MINILM is not set but the real-model test is required"
        );
        eprintln!("SKIPPED: set WGQUANT_MINILM to all-MiniLM-L6-v2's model.safetensors");
        return;
    };
    // The crate takes the whole file as one slice.
    let bytes = std::fs::read(&path).unwrap();
    assert_same_reading(&bytes, "all-MiniLM-L6-v2");
}

#[test]
fn hostile_headers_are_refused_by_both_and_named_by_wgquant() {
    let cases = [
        (
            "outside",
            common::raw_file(
                r#"{"w":{"dtype":"F32","shape":[2,32],"data_offsets":[0,256]}}"#,
                128,
            ),
        ),
        (
            "overlap",
            common::raw_file(
                r#"{"v":{"dtype":"F32","shape":[32],"data_offsets":[0,128]},"w":{"dtype":"F32","shape":[32],"data_offsets":[64,192]}}"#,
                192,
            ),
        ),
        (
            "unknown_dtype",
            common::raw_file(
                r#"{"w":{"dtype":"F7","shape":[4],"data_offsets":[0,4]}}"#,
                4,
            ),
        ),
        (
            "size_mismatch",
            common::raw_file(
                r#"{"w":{"dtype":"F32","shape":[3,32],"data_offsets":[0,256]}}"#,
                256,
            ),
        ),
        (
            "huge_shape",
            common::raw_file(
                r#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#,
                4,
            ),
        ),
    ];
    let mut crate_named = 0;
    for (name, bytes) in &cases {
        let ours = parse_bytes(bytes).unwrap_err().to_string();
        let theirs = SafeTensors::deserialize(bytes)
            .err()
            .unwrap_or_else(|| panic!("{name}: the crate accepted it"))
            .to_string();
        eprintln!("{name}: wgquant: {ours}\n{name}: safetensors: {theirs}");
        assert!(ours.contains("tensor `w`"), "{name}: {ours}");
        crate_named += theirs.contains("`w`") as usize;
    }
    eprintln!(
        "{} hostile headers: wgquant names the tensor in all, the crate in {crate_named}",
        cases.len()
    );
}
