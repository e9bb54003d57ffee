//! The `wgquant` binary: the demo runs and agrees with the reference; a missing adapter is a
//! clear error with a non-zero exit code.

use std::process::Command;

fn wgquant() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wgquant"))
}

#[test]
fn demo_runs_and_agrees_with_the_reference() {
    let out = wgquant().args(["demo", "--hidden", "64"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("adapter: "));
    // The table: the lines after the header, up to the blank line.
    let rows: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("scheme"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    let formats = wgquant::cli::demo_formats(64);
    assert_eq!(rows.len(), formats.len(), "{stdout}");
    for (row, format) in rows.iter().zip(&formats) {
        let name = match format {
            wgquant::Format::Scheme(s) => s.to_string(),
            wgquant::Format::Gguf(t) => format!("{t} (gguf)"),
        };
        assert!(row.starts_with(&name), "row for {name}: {row}");
    }
    // NUMERICS section 8: no mismatch anywhere, and on lavapipe no allowance either.
    assert!(!rows.iter().any(|r| r.contains("MISMATCH")), "{stdout}");
    if stdout.contains("llvmpipe") {
        assert!(rows.iter().all(|r| r.contains("bit-exact")), "{stdout}");
    }
}

#[test]
fn demo_rejects_bad_hidden_size() {
    let out = wgquant().args(["demo", "--hidden", "30"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("multiple of 32"));
}

#[test]
fn missing_adapter_names_the_fix() {
    let out = wgquant()
        .arg("info")
        .env("WGPU_ADAPTER_NAME", "no-such-gpu-anywhere")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no GPU adapter found") && stderr.contains("mesa-vulkan-drivers"),
        "{stderr}"
    );
}

#[test]
fn bench_filters_measure_only_what_is_asked() {
    let json = std::env::temp_dir().join("wgquant-test-bench-filters.json");
    let out = wgquant()
        .args([
            "bench",
            "--only",
            "quantize",
            "--schemes",
            "q8s:block32:f32,q4s:block32:f16",
            "--size",
            "8192",
            "--reps",
            "1",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let records = report["records"].as_array().unwrap();
    // The roofline copy always runs; then device and end-to-end quantize per scheme.
    let kinds: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r["kernel"].as_str().unwrap(), r["scheme"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("copy", "-"),
            ("quantize", "q8s:block32:f32"),
            ("quantize", "q8s:block32:f32"),
            ("quantize", "q4s:block32:f16"),
            ("quantize", "q4s:block32:f16"),
        ]
    );
    assert!(records
        .iter()
        .all(|r| r["median_s"].as_f64().unwrap() >= r["min_s"].as_f64().unwrap()));
    assert!(records
        .iter()
        .all(|r| r["shape"] == serde_json::json!([2, 4096]) || r["kernel"] == "copy"));
    let _ = std::fs::remove_file(&json);
    for bad in [["--only", "gemm"], ["--size", "1000"]] {
        let out = wgquant().arg("bench").args(bad).output().unwrap();
        assert!(!out.status.success(), "{bad:?} was accepted");
    }
}
