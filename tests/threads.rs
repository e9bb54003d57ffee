//! One `GpuContext` shared by several threads: each quantizes and times its own work at once,
//! and every result and every timing is its own.

mod common;

use std::time::Instant;

use wgquant::agreement::compare;
use wgquant::{synth, GpuContext, QuantScheme};

#[test]
fn gpu_context_is_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<GpuContext>();
}

#[test]
fn four_threads_quantize_and_time_on_one_context() {
    let ctx = common::ctx();
    let schemes = [
        "q4s:block32:f16",
        "q8s:tensor:f32",
        "e4m3:block32:e8m0",
        "nf4:block64:f16",
    ];
    std::thread::scope(|scope| {
        let workers: Vec<_> = schemes
            .iter()
            .enumerate()
            .map(|(i, text)| {
                scope.spawn(move || {
                    let scheme: QuantScheme = text.parse().unwrap();
                    let shape = [64 + 16 * i, 512];
                    let data = synth::normal(shape[0] * shape[1], 1.0, i as u64);
                    for round in 0..3 {
                        let start = Instant::now();
                        let (q, gpu_secs) = ctx
                            .gpu_time(|| ctx.quantize(&data, &shape, &scheme))
                            .unwrap();
                        let wall = start.elapsed().as_secs_f64();
                        let allowed = compare(&data, &q)
                            .unwrap_or_else(|e| panic!("{text} round {round}: {e}"));
                        assert_eq!((q.scheme, q.shape.as_slice()), (scheme, &shape[..]));
                        match (ctx.features().timestamp_query, gpu_secs) {
                            // Its own passes only: some, and all within its own call.
                            (true, Some(t)) => {
                                assert!(t > 0.0 && t <= wall, "{text}: GPU {t} s, wall {wall} s")
                            }
                            (false, None) => {}
                            other => panic!("{text}: timestamps and GPU time {other:?}"),
                        }
                        eprintln!("{text} round {round}: {allowed:?}, GPU time {gpu_secs:?}");
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("a worker panicked");
        }
    });
}
