//! What a conversion did, per tensor and in total, as data (JSON with `--report`) and as a table.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct TensorReport {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: String,
    /// The scheme, or `passthrough`.
    pub scheme: String,
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub sqnr_db: Option<f64>,
    pub gpu_ms: Option<f64>,
    pub note: Option<String>,
}

/// What a conversion did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub input: String,
    pub output: String,
    pub adapter: String,
    pub tensors: Vec<TensorReport>,
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub seconds: f64,
}

impl Report {
    /// The report of a finished conversion begun at `start`, with its totals.
    pub fn new(
        input: &Path,
        output: &Path,
        adapter: String,
        tensors: Vec<TensorReport>,
        start: Instant,
    ) -> Self {
        Report {
            input: input.display().to_string(),
            output: output.display().to_string(),
            adapter,
            bytes_before: tensors.iter().map(|r| r.bytes_before).sum(),
            bytes_after: tensors.iter().map(|r| r.bytes_after).sum(),
            tensors,
            seconds: start.elapsed().as_secs_f64(),
        }
    }
}

/// The report as a table with totals.
pub fn report_table(r: &Report) -> String {
    let mut s = format!(
        "{:<52} {:>14} {:<18} {:>11} {:>11} {:>8} {:>8}\n",
        "tensor", "shape", "scheme", "bytes in", "bytes out", "SQNR dB", "GPU ms"
    );
    for t in &r.tensors {
        let shape = format!("{:?}", t.shape).replace(' ', "");
        s += &format!(
            "{:<52} {:>14} {:<18} {:>11} {:>11} {:>8} {:>8}{}\n",
            t.name,
            shape,
            t.scheme,
            t.bytes_before,
            t.bytes_after,
            t.sqnr_db.map_or("-".into(), |d| if d.is_finite() {
                format!("{d:.2}")
            } else {
                "inf".into()
            }),
            t.gpu_ms.map_or("-".into(), |m| format!("{m:.1}")),
            t.note
                .as_ref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default()
        );
    }
    let quantized = r.tensors.iter().filter(|t| t.sqnr_db.is_some()).count();
    s += &format!(
        "total: {} tensors ({} quantized), {} -> {} bytes ({:.2}x smaller), {:.1} s on {}\n",
        r.tensors.len(),
        quantized,
        r.bytes_before,
        r.bytes_after,
        r.bytes_before as f64 / r.bytes_after.max(1) as f64,
        r.seconds,
        r.adapter
    );
    s
}
