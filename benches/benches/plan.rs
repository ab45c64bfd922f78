//! No-change plan of 10,000 and 100,000 resources (load config, read state, refresh every
//! resource, evaluate, plan). Targets: 10k < 1 s, 100k < 10 s, peak memory < 500 MB at 100k.

use criterion::{criterion_group, Criterion};
use terrane_benches::*;

fn no_change_plan(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let reg = registry();
    let mut group = c.benchmark_group("no_change_plan");
    group.sample_size(10);
    for n in [10_000usize, 100_000] {
        let (dir, store) = workdir(&terraform_data_config(n));
        rt.block_on(apply(dir.path(), &store, &reg, 10));
        group.bench_function(format!("{n}_resources"), |b| {
            b.iter(|| {
                let (_, p) = rt.block_on(plan(dir.path(), &store, &reg, 10));
                assert!(!p.has_changes());
                p.changes.len()
            })
        });
        // Peak memory of one plan, measured in a fresh process (this one holds the setup).
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .env(CHILD_ENV, dir.path())
            .output()
            .expect("run the measuring child");
        println!(
            "no_change_plan/{n}_resources: {}",
            String::from_utf8_lossy(&child.stdout).trim()
        );
    }
    group.finish();
}

const CHILD_ENV: &str = "TERRANE_BENCH_PLAN_DIR";

/// Child mode: one no-change plan of the directory in `TERRANE_BENCH_PLAN_DIR`, then its peak RSS.
fn measure_child(dir: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let store =
        terrane_state::Store::open(&std::path::Path::new(dir).join("terrane.state.db")).unwrap();
    let start = std::time::Instant::now();
    let (_, p) = rt.block_on(plan(std::path::Path::new(dir), &store, &registry(), 10));
    assert!(!p.has_changes());
    println!(
        "one plan in a fresh process: {:.2} s, peak RSS {:.0} MB",
        start.elapsed().as_secs_f64(),
        peak_rss() as f64 / 1e6
    );
}

criterion_group!(benches, no_change_plan);

fn main() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        measure_child(&dir);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
