//! Applying the example environment (examples/environment, 59 resources) against moto, through
//! a recording loopback proxy. Criterion measures the apply's wall time; one extra run reports
//! the number of API calls, calls per resource by kind of call, and the sum of the calls'
//! upstream latencies, so that wall time can be compared with the time the API itself took.
//!
//! Run with `benches/aws/run` (installs moto, sets TERRANE_MOTO_PYTHON). With
//! `TERRANE_BEFORE=<terrane binary built from an earlier commit>` it also times apply, the
//! no-change plan and destroy with both binaries, alternated in the same run, and prints
//! ratios; both run the example written with one module block per service and per cache
//! (tests/fixtures/environment-one-block-per-service.tf), which older binaries understand.

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/common/faults.rs"]
#[allow(dead_code)]
mod faults;
#[path = "../../tests/common/moto.rs"]
#[allow(dead_code)]
mod moto;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::Fixture;
use criterion::{criterion_group, criterion_main, Criterion};

const RESOURCES: usize = 59;

fn terrane(f: &Fixture, m: &moto::Moto, proxy: &faults::FaultProxy, args: &[&str]) -> Duration {
    terrane_bin(Path::new(env!("CARGO_BIN_EXE_terrane")), f, m, proxy, args)
}

fn terrane_bin(
    bin: &Path,
    f: &Fixture,
    m: &moto::Moto,
    proxy: &faults::FaultProxy,
    args: &[&str],
) -> Duration {
    let mut c = f.cmd_with(bin, args);
    for (k, v) in m.env() {
        c.env(k, v);
    }
    c.env("AWS_ENDPOINT_URL", proxy.url());
    let start = Instant::now();
    let out = c.output().unwrap();
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "terrane {args:?}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn kind(op: &str) -> &'static str {
    if op.starts_with("Describe")
        || op.starts_with("Get")
        || op.starts_with("List")
        || op.starts_with("GET ")
    {
        "read"
    } else if op.starts_with("Create")
        || op.starts_with("Register")
        || op.starts_with("Allocate")
        || op.starts_with("Put")
        || op.starts_with("POST ")
    {
        "create"
    } else {
        "other write"
    }
}

fn report(label: &str, wall: Duration, calls: &[(String, Duration)]) {
    let sum: Duration = calls.iter().map(|(_, d)| *d).sum();
    let mut by_op: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for (op, _) in calls {
        *by_op.entry(op.as_str()).or_default() += 1;
        *by_kind.entry(kind(op)).or_default() += 1;
    }
    println!("\n== {label}: {RESOURCES} resources");
    println!("wall time                  {:>8.3} s", wall.as_secs_f64());
    println!("API calls                  {:>8}", calls.len());
    println!(
        "API calls per resource     {:>8.2}",
        calls.len() as f64 / RESOURCES as f64
    );
    for (k, n) in &by_kind {
        println!(
            "  {k:<24} {:>8.2} per resource ({n})",
            *n as f64 / RESOURCES as f64
        );
    }
    println!("sum of call latencies      {:>8.3} s", sum.as_secs_f64());
    println!(
        "sum / wall                 {:>8.2}  (above 1: calls overlap, the apply runs in parallel)",
        sum.as_secs_f64() / wall.as_secs_f64()
    );
    let mut top: Vec<_> = by_op.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    println!("most frequent operations:");
    for (op, n) in top.iter().take(12) {
        println!("  {op:<40} {n:>5}");
    }
}

fn bench(c: &mut Criterion) {
    if std::env::var_os("TERRANE_MOTO_PYTHON").is_none() {
        eprintln!("aws_environment: TERRANE_MOTO_PYTHON is not set; run benches/aws/run");
        return;
    }
    let m = moto::Moto::start();
    let proxy = faults::FaultProxy::start_with(m.port, usize::MAX, usize::MAX, usize::MAX);
    let f = Fixture::from_example("environment");
    // Warm-up: moto loads each service on its first call (0.3-1.8 s each).
    terrane(&f, &m, &proxy, &["apply", "-auto-approve"]);
    terrane(&f, &m, &proxy, &["destroy", "-auto-approve"]);

    proxy.calls.lock().unwrap().clear();
    let wall = terrane(&f, &m, &proxy, &["apply", "-auto-approve"]);
    let applied = std::mem::take(&mut *proxy.calls.lock().unwrap());
    report("apply", wall, &applied);
    let wall = terrane(&f, &m, &proxy, &["plan"]);
    let planned = std::mem::take(&mut *proxy.calls.lock().unwrap());
    report("no-change plan (refresh)", wall, &planned);
    let wall = terrane(&f, &m, &proxy, &["destroy", "-auto-approve"]);
    let destroyed = std::mem::take(&mut *proxy.calls.lock().unwrap());
    report("destroy", wall, &destroyed);

    if let Some(before) = std::env::var_os("TERRANE_BEFORE") {
        compare(Path::new(&before), &m, &proxy);
    }

    let mut g = c.benchmark_group("aws_environment");
    g.sample_size(10);
    g.bench_function("apply_59_resources", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += terrane(&f, &m, &proxy, &["apply", "-auto-approve"]);
                terrane(&f, &m, &proxy, &["destroy", "-auto-approve"]);
            }
            total
        })
    });
    g.finish();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The example with one module block per service and per cache (no `moved` blocks), which
/// every binary since the example exists understands: the same 59 objects as today's layout.
fn one_block_per_service() -> Fixture {
    let f = Fixture::from_example("environment");
    let dir = f.path().join("examples/environment");
    std::fs::remove_file(dir.join("moved.tf")).unwrap();
    std::fs::write(
        dir.join("main.tf"),
        include_str!("../../tests/fixtures/environment-one-block-per-service.tf"),
    )
    .unwrap();
    f
}

/// `TERRANE_BEFORE=<binary of an earlier commit>`: apply, the no-change plan and destroy, with
/// that binary and with this one, alternated round by round in this one run (so that both see
/// the same machine and the same emulator); medians, ratios and API calls. Both run the layout
/// of [`one_block_per_service`], each in a directory (and state) of its own, so that a binary
/// older than `moved` blocks or than today's state format can be compared.
fn compare(before: &Path, m: &moto::Moto, proxy: &faults::FaultProxy) {
    const ROUNDS: usize = 7;
    let this = Path::new(env!("CARGO_BIN_EXE_terrane"));
    let bins = [("before", before), ("after", this)];
    let dirs = [one_block_per_service(), one_block_per_service()];
    let mut plan: [Vec<Duration>; 2] = Default::default();
    let mut calls = [0usize; 2];
    let mut apply: [Vec<Duration>; 2] = Default::default();
    let mut destroy: [Vec<Duration>; 2] = Default::default();
    let mut applied: [BTreeMap<String, (usize, Duration)>; 2] = Default::default();
    let apply_args = ["apply", "-auto-approve"];
    let destroy_args = ["destroy", "-auto-approve"];
    for round in 0..ROUNDS {
        for k in [round % 2, 1 - round % 2] {
            let (bin, f) = (bins[k].1, &dirs[k]);
            proxy.calls.lock().unwrap().clear();
            apply[k].push(terrane_bin(bin, f, m, proxy, &apply_args));
            applied[k].clear();
            for (op, d) in proxy.calls.lock().unwrap().iter() {
                let e = applied[k].entry(op.clone()).or_default();
                e.0 += 1;
                e.1 += *d;
            }
            proxy.calls.lock().unwrap().clear();
            plan[k].push(terrane_bin(bin, f, m, proxy, &["plan"]));
            calls[k] = proxy.calls.lock().unwrap().len();
            destroy[k].push(terrane_bin(bin, f, m, proxy, &destroy_args));
        }
    }
    println!(
        "\n== before ({}) and after, {ROUNDS} rounds alternated",
        before.display()
    );
    println!(
        "{:<16} {:>10} {:>10} {:>12}",
        "step", "before", "after", "after/before"
    );
    for (label, v) in [
        ("no-change plan", plan),
        ("apply", apply),
        ("destroy", destroy),
    ] {
        let [b, a] = v.map(median);
        println!(
            "{label:<16} {:>9.3}s {:>9.3}s {:>12.2}",
            b.as_secs_f64(),
            a.as_secs_f64(),
            a.as_secs_f64() / b.as_secs_f64()
        );
    }
    println!(
        "no-change plan API calls: before {}, after {} ({RESOURCES} resources)",
        calls[0], calls[1]
    );
    println!("apply calls that differ (count, sum of latencies), last round:");
    let ops: std::collections::BTreeSet<&String> = applied.iter().flat_map(|m| m.keys()).collect();
    for op in ops {
        let [b, a] = [0, 1].map(|k| applied[k].get(op).copied().unwrap_or_default());
        if b.0 != a.0 {
            println!(
                "  {op:<36} before {:>3} ({:>6.3}s)  after {:>3} ({:>6.3}s)",
                b.0,
                b.1.as_secs_f64(),
                a.0,
                a.1.as_secs_f64()
            );
        }
    }
    let sum = |k: usize| {
        applied[k]
            .values()
            .map(|v| v.1)
            .sum::<Duration>()
            .as_secs_f64()
    };
    println!(
        "apply, sum of call latencies: before {:.3}s, after {:.3}s",
        sum(0),
        sum(1)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
