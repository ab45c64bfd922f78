//! Apply of 1,000 `terraform_data` with the state on PostgreSQL beside the same apply with the
//! state in SQLite, in one run, through the library API. Wall time per apply (criterion, and a
//! first one-run table with the ratio), and bytes written per step: for SQLite, the bytes the
//! process passes to write(2) (`/proc/self/io` wchar: its WAL and file); for PostgreSQL, the WAL
//! the server generates for them (`pg_current_wal_lsn()` before and after; the client's socket
//! writes are send(2) calls, which wchar does not count).
//!
//! Run with `cargo bench -p terrane-benches --bench state_backends` (it starts its own
//! PostgreSQL server from Debian's postgresql package, as the tests do; `fsync` is off on that
//! server, and SQLite runs with `synchronous=NORMAL`, so neither waits for the disk).

#[path = "../../tests/common/postgres.rs"]
mod pg_server;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use terrane_benches::*;
use terrane_state::StateStore;
use terrane_state_pg::PgStore;

const RESOURCES: usize = 1_000;

fn config() -> String {
    let mut cfg = String::new();
    for i in 0..RESOURCES {
        let _ = writeln!(
            cfg,
            "resource \"terraform_data\" \"r{i}\" {{\n  input = \"value-{i}\"\n}}\n"
        );
    }
    cfg
}

/// The server's WAL position.
fn wal(c: &mut ::postgres::Client) -> String {
    c.query_one("SELECT pg_current_wal_lsn()::text", &[])
        .unwrap()
        .get(0)
}

fn wal_since(c: &mut ::postgres::Client, lsn: &str) -> i64 {
    c.query_one(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)::bigint",
        &[&lsn],
    )
    .unwrap()
    .get(0)
}

struct Measured {
    wall: Duration,
    /// Bytes the process passed to write(2), per applied resource.
    written: f64,
}

fn apply_once(
    rt: &tokio::runtime::Runtime,
    reg: &terrane_core::ProviderRegistry,
    store: &dyn StateStore,
    dir: &std::path::Path,
) -> Measured {
    let before = bytes_written();
    let start = Instant::now();
    let out = rt.block_on(apply(dir, store, reg, 10));
    let wall = start.elapsed();
    assert_eq!(out.added, RESOURCES);
    Measured {
        wall,
        written: (bytes_written() - before) as f64 / RESOURCES as f64,
    }
}

fn sqlite(rt: &tokio::runtime::Runtime, reg: &terrane_core::ProviderRegistry) -> Measured {
    let (dir, store) = workdir(&config());
    apply_once(rt, reg, &store, dir.path())
}

fn pg(
    rt: &tokio::runtime::Runtime,
    reg: &terrane_core::ProviderRegistry,
    admin: &mut ::postgres::Client,
) -> (Measured, f64) {
    let (dir, _) = workdir(&config());
    let store = PgStore::connect(
        &pg_server::server().conn_str(),
        &pg_server::fresh_schema("bench"),
    )
    .unwrap();
    store.workspace("default").unwrap();
    let lsn = wal(admin);
    let m = apply_once(rt, reg, &store, dir.path());
    let wal_per = wal_since(admin, &lsn) as f64 / RESOURCES as f64;
    (m, wal_per)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let reg = registry();
    let mut admin =
        ::postgres::Client::connect(&pg_server::server().conn_str(), ::postgres::NoTls).unwrap();
    // Warm-up (the server's caches, the schema's first migration).
    sqlite(&rt, &reg);
    pg(&rt, &reg, &mut admin);

    let s = sqlite(&rt, &reg);
    let (p, wal_per) = pg(&rt, &reg, &mut admin);
    println!(
        "\n== apply of {RESOURCES} terraform_data, state on SQLite and on PostgreSQL (one run)"
    );
    println!(
        "{:<12} {:>9} {:>22}",
        "backend", "wall ms", "bytes written / step"
    );
    println!(
        "{:<12} {:>9.1} {:>22.0}   (process writes: WAL and file)",
        "sqlite",
        s.wall.as_secs_f64() * 1e3,
        s.written
    );
    println!(
        "{:<12} {:>9.1} {:>22.0}   (server WAL)",
        "postgresql",
        p.wall.as_secs_f64() * 1e3,
        wal_per
    );
    println!(
        "postgresql / sqlite: wall {:.2}",
        p.wall.as_secs_f64() / s.wall.as_secs_f64()
    );

    let mut g = c.benchmark_group("state_backends");
    g.sample_size(10);
    g.bench_function("apply_1000_sqlite", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| sqlite(&rt, &reg).wall).sum())
    });
    g.bench_function("apply_1000_postgresql", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| pg(&rt, &reg, &mut admin).0.wall).sum())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
