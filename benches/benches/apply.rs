//! Apply of 10,000 independent resources whose provider calls each take 20 ms. Target: within
//! 1.5x of 10,000 x 20 ms / parallelism. Each iteration starts from an empty state; criterion
//! times the apply (the plan before it is benchmarked by `plan`), and each run also prints the
//! time including that plan.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use terrane_benches::*;

fn apply_with_latency(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("apply_10k_20ms");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    let n = 10_000;
    for parallelism in [100usize, 250] {
        let ideal = Duration::from_millis(20 * n as u64 / parallelism as u64);
        group.bench_function(format!("parallelism_{parallelism}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let reg = registry();
                    let (dir, store) = workdir(&latency_config(n, 20));
                    let start = std::time::Instant::now();
                    let (mut s, p) = rt.block_on(plan(dir.path(), &store, &reg, parallelism));
                    let planned = start.elapsed();
                    let (_tx, rx) = tokio::sync::watch::channel(0u8);
                    let out = rt.block_on(s.apply(&p, &store, 1, std::sync::Arc::new(terrane_engine::events::NullSink), rx));
                    let el = start.elapsed() - planned;
                    assert_eq!(out.added, n);
                    assert!(out.ok());
                    total += el;
                    println!(
                        "  {n} x 20 ms at parallelism {parallelism}: apply {:.2} s (ideal {:.2} s, ratio {:.3}); with the plan before it {:.2} s (ratio {:.3})",
                        el.as_secs_f64(),
                        ideal.as_secs_f64(),
                        el.as_secs_f64() / ideal.as_secs_f64(),
                        (el + planned).as_secs_f64(),
                        (el + planned).as_secs_f64() / ideal.as_secs_f64()
                    );
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, apply_with_latency);
criterion_main!(benches);
