//! Shared test helpers: one GPU context per test binary.
#![allow(dead_code)]

use std::sync::OnceLock;

use wgquant::GpuContext;

/// The context shared by the tests of one binary; prints the adapter once.
pub fn ctx() -> &'static GpuContext {
    static CTX: OnceLock<GpuContext> = OnceLock::new();
    CTX.get_or_init(|| {
        let ctx = GpuContext::new()
            .expect("tests need a GPU adapter (lavapipe: apt-get install mesa-vulkan-drivers)");
        eprintln!("adapter: {}", ctx.describe());
        ctx
    })
}

/// Whether the adapter is lavapipe (llvmpipe, Vulkan or GL), whose arithmetic gives NUMERICS
/// section 8's allowances a count of zero.
pub fn exact_adapter() -> bool {
    ctx().adapter_info().name.contains("llvmpipe")
}

/// Checks a GPU result's agreement with the reference (`wgquant::agreement`): any difference
/// NUMERICS section 8 does not allow fails on every adapter; the allowed ones are reported, and
/// on lavapipe there must be none.
pub fn assert_agreement(
    result: Result<wgquant::agreement::Allowances, String>,
    what: &str,
) -> wgquant::agreement::Allowances {
    let counts = result.unwrap_or_else(|e| panic!("{what}: {e}"));
    if counts != Default::default() {
        eprintln!("{what}: allowed differences {counts:?}");
    }
    if exact_adapter() {
        assert_eq!(
            counts,
            Default::default(),
            "{what}: lavapipe agrees bit for bit"
        );
    }
    counts
}

/// Whether `a` and `b` are within `k` ulp of each other (neighbours of one sign).
pub fn within_ulp(a: f32, b: f32, k: u32) -> bool {
    a.is_sign_negative() == b.is_sign_negative() && a.to_bits().abs_diff(b.to_bits()) <= k
}

/// How far a value may move on adapters whose arithmetic fuses or reorders (NUMERICS section 8).
#[derive(Debug, Clone, Copy)]
pub enum Moved {
    /// Each value within this many ulp.
    Ulp(u32),
    /// The whole within this relative (Frobenius) error.
    Relative(f64),
}

/// Checks values that NUMERICS section 8 defines by the reference's own arithmetic (the
/// integer path's scaled block sums, a two-level NVFP4 product): bit for bit on lavapipe, and
/// within `moved` on adapters that fuse or reorder those multiplies and adds.
pub fn assert_same_arithmetic(got: &[f32], want: &[f32], moved: Moved, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let differ = got
        .iter()
        .zip(want)
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    if exact_adapter() {
        assert_eq!(differ, 0, "{what}: {differ} values differ on lavapipe");
        return;
    }
    if differ > 0 {
        eprintln!("{what}: {differ} values moved by the adapter's fused or reordered arithmetic");
    }
    match moved {
        Moved::Ulp(k) => {
            let far = got
                .iter()
                .zip(want)
                .position(|(&a, &b)| !within_ulp(a, b, k));
            assert!(
                far.is_none(),
                "{what}: value {far:?} moved more than {k} ulp"
            );
        }
        Moved::Relative(tol) => {
            let want: Vec<f64> = want.iter().map(|&v| v as f64).collect();
            let err = wgquant::reference::matmul::relative_error(got, &want);
            assert!(err <= tol, "{what}: relative error {err:e} above {tol:e}");
        }
    }
}

/// `data` of `shape` quantized on the GPU with the scheme named `scheme`.
pub fn quantized(data: &[f32], shape: &[usize], scheme: &str) -> wgquant::QuantizedTensor {
    let scheme: wgquant::QuantScheme = scheme.parse().unwrap();
    ctx().quantize(data, shape, &scheme).unwrap()
}

/// Runs `tests/oracle/<script>` with `args` under the Python that has the oracle packages:
/// `$WGQUANT_PYTHON`, else `.venv/bin/python`, else `python3`. Returns `None` (after printing
/// why) when the packages are missing; with `WGQUANT_REQUIRE_ORACLES=1` (set by `.ci/run`) that
/// is a failure instead.
pub fn run_oracle(script: &str, args: &[&std::ffi::OsStr]) -> Option<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let python = std::env::var("WGQUANT_PYTHON").unwrap_or_else(|_| {
        let venv = format!("{root}/.venv/bin/python");
        if std::path::Path::new(&venv).exists() {
            venv
        } else {
            "python3".into()
        }
    });
    let out = std::process::Command::new(&python)
        .arg(format!("{root}/tests/oracle/{script}"))
        .args(args)
        .output();
    let required = std::env::var("WGQUANT_REQUIRE_ORACLES").is_ok_and(|v| v == "1");
    let out = match out {
        Ok(o) => o,
        Err(e) if !required => {
            eprintln!("SKIPPED oracle {script}: cannot run {python}: {e}");
            return None;
        }
        Err(e) => panic!("oracle {script}: cannot run {python}: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    if out.status.code() == Some(3) {
        assert!(!required, "oracle {script} required but skipped: {stdout}");
        eprintln!("SKIPPED oracle {script}: {stdout}");
        return None;
    }
    assert!(
        out.status.success(),
        "oracle {script} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("oracle {script}: {}", stdout.trim());
    Some(stdout)
}

/// The path in environment variable `var` (a real file or tool that `.ci/run` provides), or
/// `None` after printing how to get it; with `WGQUANT_REQUIRE_ORACLES=1` a missing one fails.
pub fn required_path(var: &str, what: &str) -> Option<std::path::PathBuf> {
    let required = std::env::var("WGQUANT_REQUIRE_ORACLES").is_ok_and(|v| v == "1");
    match std::env::var_os(var).map(std::path::PathBuf::from) {
        Some(p) if p.exists() => Some(p),
        other => {
            assert!(
                !required,
                "{var} ({what}) is {other:?}, but this test is required"
            );
            eprintln!("SKIPPED: set {var} to {what} (see README)");
            None
        }
    }
}

/// A safetensors file's bytes with a header of our choosing and `data_len` zero bytes of data.
pub fn raw_file(header: &str, data_len: usize) -> Vec<u8> {
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend(header.as_bytes());
    v.extend(vec![0u8; data_len]);
    v
}

/// A fresh, empty temporary directory for one test's files. Its name is fixed per test, so a
/// run replaces the previous run's files (up to 50 MB per test) instead of adding more.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wgquant-test-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Writes an F32 GGUF file with `meta` and `tensors` (name, row-major shape); tensor i holds
/// `values(i, elements)`.
pub fn write_f32_gguf(
    path: &std::path::Path,
    meta: &[(String, wgquant::io::gguf::MetaValue)],
    tensors: &[(String, Vec<usize>)],
    mut values: impl FnMut(usize, usize) -> Vec<f32>,
) {
    use wgquant::io::gguf::{GgmlType, GgufTensorInfo, GgufWriter};
    let infos = tensors
        .iter()
        .map(|(name, shape)| GgufTensorInfo {
            name: name.clone(),
            shape: shape.clone(),
            ty: GgmlType::F32,
        })
        .collect();
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = GgufWriter::new(file, meta, infos).unwrap();
    for (i, (_, shape)) in tensors.iter().enumerate() {
        let v = values(i, shape.iter().product());
        w.write_next(bytemuck::cast_slice(&v)).unwrap();
    }
    w.finish().unwrap();
}
