//! A benchmark report as a text table and as an SVG chart.

use super::{BenchReport, Record};

/// The report as one table.
pub fn table(r: &BenchReport) -> String {
    let mut s = format!(
        "adapter: {} ({}, {}); roofline (vec4 copy, read + write): {:.2} GB/s\n",
        r.adapter,
        r.backend,
        r.driver,
        r.roofline_bytes_per_s * 1e-9
    );
    s += &format!(
        "{:<13} {:<24} {:<22} {:>18} {:>10} {:>10} {:>9} {:>9} {}\n",
        "kernel", "scheme", "path", "shape", "median ms", "spread ms", "GB/s", "roofline", "clock"
    );
    for x in &r.records {
        let gb = match x.gflop_per_s {
            Some(g) => format!("{:.2}/{:.1}GF", x.gb_per_s, g),
            None => format!("{:.2}", x.gb_per_s),
        };
        s += &format!(
            "{:<13} {:<24} {:<22} {:>18} {:>10.2} {:>10.2} {:>9} {:>8.1}% {}\n",
            x.kernel,
            x.scheme,
            x.path,
            format!("{:?}", x.shape).replace(' ', ""),
            x.median_s * 1e3,
            (x.max_s - x.min_s) * 1e3,
            gb,
            x.roofline_fraction * 100.0,
            x.clock
        );
    }
    s
}

/// A horizontal bar chart (SVG) of each device-resident kernel's fraction of the roofline.
pub fn svg_chart(r: &BenchReport) -> String {
    let rows: Vec<&Record> = r
        .records
        .iter()
        .filter(|x| x.path != "e2e" && x.kernel != "cpu quantize" && x.kernel != "copy")
        .collect();
    let (bar_h, left, width) = (16.0, 380.0, 420.0);
    let height = 60.0 + rows.len() as f64 * (bar_h + 4.0);
    let max = rows
        .iter()
        .map(|x| x.roofline_fraction)
        .fold(0.05, f64::max)
        .clamp(0.05, 1.0);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"monospace\" font-size=\"11\">\n",
        left + width + 70.0
    );
    s += &format!(
        "<text x=\"10\" y=\"20\" font-size=\"13\">Fraction of the device roofline ({:.2} GB/s vec4 copy) on {} ({})</text>\n",
        r.roofline_bytes_per_s * 1e-9,
        xml(&r.adapter),
        r.backend
    );
    for (i, x) in rows.iter().enumerate() {
        let y = 40.0 + i as f64 * (bar_h + 4.0);
        let w = width * (x.roofline_fraction / max).min(1.0);
        let label =
            format!("{} {} {} {:?}", x.kernel, x.scheme, x.path, x.shape).replace(' ', "\u{a0}");
        s += &format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
            left - 6.0,
            y + 12.0,
            xml(&label)
        );
        let color = match x.kernel.as_str() {
            "quantize" => "#4878a8",
            "dequantize" => "#58a058",
            _ => "#c07040",
        };
        s += &format!(
            "<rect x=\"{left}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bar_h}\" fill=\"{color}\"/>\n"
        );
        s += &format!(
            "<text x=\"{:.1}\" y=\"{}\">{:.1}%</text>\n",
            left + w + 4.0,
            y + 12.0,
            x.roofline_fraction * 100.0
        );
    }
    s + "</svg>\n"
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
