//! The work behind the `wgquant` subcommands, kept in the library so it is tested and documented
//! like the rest; `src/bin/wgquant.rs` only parses arguments.

mod bench;
mod demo;
mod info;
mod inspect;
mod quantize;

pub use bench::{bench, BenchArgs};
pub use demo::{demo, demo_formats};
pub use info::info;
pub use inspect::{describe, inspect};
pub use quantize::{dequantize, quantize, FileFormat, QuantizeArgs};

/// Writes to stdout; a closed pipe (`wgquant inspect f | head`) ends the output quietly instead
/// of panicking as `print!` does.
pub(crate) fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
