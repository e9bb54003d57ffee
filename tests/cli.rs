//! The `wgquant` binary: the demo runs and agrees with the reference; a missing adapter is a
//! clear error with a non-zero exit code.

use std::process::Command;

fn wgquant() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wgquant"))
}

#[test]
fn demo_runs_and_is_bit_exact() {
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
    assert_eq!(rows.len(), 45, "{stdout}");
    assert!(rows.iter().all(|r| r.contains("bit-exact")), "{stdout}");
    for format in [
        "nf4:block64:f16",
        "e2m1:block16:e4m3",
        "q4f:block32:f16:affine",
        "q4_0 (gguf)",
    ] {
        assert!(
            rows.iter().any(|r| r.starts_with(format)),
            "{format} missing:\n{stdout}"
        );
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
