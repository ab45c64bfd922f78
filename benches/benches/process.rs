//! Whole `terrane` processes at 100,000 terraform_data resources (half in chains of 100): the
//! first apply, then a no-change plan, each timed from spawn to exit with its peak resident
//! memory (the kernel's accounting of the finished child, `wait4`). Targets: no-change plan
//! at most 1.5 s and 250 MB, apply at most 5 s and 400 MB.
//!
//! Needs the release binary: `cargo build --release`, then
//! `cargo bench -p terrane-benches --bench process` (or `TERRANE_BIN=path`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use terrane_benches::terraform_data_config;

const N: usize = 100_000;

fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("TERRANE_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("release/terrane")
}

/// Runs `terrane args` in `dir`; returns its wall time and peak RSS in bytes.
fn run(bin: &Path, dir: &Path, args: &[&str], codes: &[i32]) -> (Duration, u64) {
    let start = Instant::now();
    let child = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start terrane");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 on our own child with valid pointers; the Child is not waited elsewhere.
    #[allow(unsafe_code)]
    let usage = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        let r = libc::wait4(pid, &mut status, 0, &mut ru);
        assert_eq!(r, pid, "wait4 failed");
        ru
    };
    let el = start.elapsed();
    std::mem::forget(child);
    let code = libc::WEXITSTATUS(status);
    assert!(codes.contains(&code), "terrane {args:?} exited {code}");
    (el, usage.ru_maxrss as u64 * 1024)
}

fn processes(c: &mut Criterion) {
    let bin = binary();
    if !bin.exists() {
        eprintln!(
            "process: {} not found; build it with `cargo build --release` (or set TERRANE_BIN)",
            bin.display()
        );
        return;
    }
    let config = terraform_data_config(N);
    let mut group = c.benchmark_group("process_100k");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(60));
    let mut peak_apply = 0;
    group.bench_function("first_apply", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().unwrap();
                std::fs::write(dir.path().join("main.tf"), &config).unwrap();
                let (el, rss) = run(&bin, dir.path(), &["apply", "-auto-approve"], &[0]);
                peak_apply = peak_apply.max(rss);
                println!(
                    "  apply: {:.2} s, peak {:.0} MB",
                    el.as_secs_f64(),
                    rss as f64 / 1e6
                );
                total += el;
            }
            total
        })
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), &config).unwrap();
    run(&bin, dir.path(), &["apply", "-auto-approve"], &[0]);
    let mut peak_plan = 0;
    group.bench_function("no_change_plan", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (el, rss) = run(&bin, dir.path(), &["plan", "-detailed-exitcode"], &[0]);
                peak_plan = peak_plan.max(rss);
                println!(
                    "  plan: {:.2} s, peak {:.0} MB",
                    el.as_secs_f64(),
                    rss as f64 / 1e6
                );
                total += el;
            }
            total
        })
    });
    group.finish();
    println!(
        "process_100k: peak RSS apply {:.0} MB, no-change plan {:.0} MB",
        peak_apply as f64 / 1e6,
        peak_plan as f64 / 1e6
    );
}

criterion_group!(benches, processes);
criterion_main!(benches);
