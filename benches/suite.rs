//! `cargo bench [-- --full|--quick] [--reps N] [--json FILE] [--svg FILE]`: the same suite as
//! `wgquant bench` (see `wgquant::bench`).

fn main() {
    let args = wgquant::cli::BenchArgs::from_args(std::env::args().skip(1));
    if let Err(e) = args.and_then(wgquant::cli::bench) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
