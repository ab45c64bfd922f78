//! The graph walker against its bound: 1,000 resources, half in chains of 100, each provider
//! call taking 20 ms, parallelism 10. No schedule can beat the larger of the critical path
//! (100 x 20 ms) and the work divided by the parallelism (1,000 x 20 ms / 10): both are 2 s
//! here, so every idle slot shows. Target: within 1.3x of that bound. Each iteration starts from
//! an empty state; criterion times the apply (the plan before it is `plan`'s business).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use terrane_benches::*;

fn walk_against_its_bound(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("walk_1000_chains_20ms");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(25));
    let (n, ms, parallelism) = (1_000usize, 20u64, 10usize);
    let bound = Duration::from_millis((100 * ms).max(n as u64 * ms / parallelism as u64));
    group.bench_function("parallelism_10", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let reg = registry();
                let (dir, store) = workdir(&latency_chains_config(n, ms));
                let (mut s, p) = rt.block_on(plan(dir.path(), &store, &reg, parallelism));
                let (_tx, rx) = tokio::sync::watch::channel(0u8);
                let start = std::time::Instant::now();
                let out = rt.block_on(s.apply(
                    &p,
                    &store,
                    1,
                    std::sync::Arc::new(terrane_engine::events::NullSink),
                    rx,
                ));
                let el = start.elapsed();
                assert_eq!(out.added, n);
                assert!(out.ok());
                total += el;
                println!(
                    "  apply {:.2} s against the bound {:.2} s: ratio {:.3}",
                    el.as_secs_f64(),
                    bound.as_secs_f64(),
                    el.as_secs_f64() / bound.as_secs_f64()
                );
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, walk_against_its_bound);
criterion_main!(benches);
