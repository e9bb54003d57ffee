//! The work behind the `wgquant` subcommands, kept in the library so it is tested and documented
//! like the rest; `src/bin/wgquant.rs` only parses arguments.

mod demo;
mod info;

pub use demo::demo;
pub use info::info;
