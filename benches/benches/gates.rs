//! What health gates and provisioners cost. 1,000 tiers of (gate -> dependent), measured three
//! ways in one run: plain `null_resource`s; gates with a `tcp` check against a loopback port that
//! is listening (each check passes on its first attempt); and `null_resource`s with a
//! `local-exec` provisioner running `true`. Ratios are against the plain apply: the check is one
//! loopback connection per gate, the provisioner one process per resource, both run in parallel
//! (parallelism 100).

use std::fmt::Write;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use terrane_benches::*;

const N: usize = 1_000;

fn config(kind: &str, port: u16) -> String {
    let mut s = String::new();
    for i in 0..N {
        let body = match kind {
            "tcp" => format!(
                "  health_check {{\n    tcp {{\n      host = \"127.0.0.1\"\n      port = {port}\n    }}\n  }}\n"
            ),
            "local-exec" => "  provisioner \"local-exec\" {\n    command = \"true\"\n  }\n".to_string(),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "resource \"null_resource\" \"gate{i}\" {{\n{body}}}\n\nresource \"terraform_data\" \"after{i}\" {{\n  input      = \"tier 2\"\n  depends_on = [null_resource.gate{i}]\n}}\n"
        );
    }
    s
}

fn gates(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // A service that accepts every connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in listener.incoming() {
            drop(c);
        }
    });
    let mut group = c.benchmark_group("gates_1000");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    let mut means = Vec::new();
    for kind in ["plain", "tcp", "local-exec"] {
        let main_tf = config(kind, port);
        let mut samples = Vec::new();
        group.bench_function(kind, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let reg = registry();
                    let (dir, store) = workdir(&main_tf);
                    let (mut s, p) = rt.block_on(plan(dir.path(), &store, &reg, 100));
                    let (_tx, rx) = tokio::sync::watch::channel(0u8);
                    let start = Instant::now();
                    let out = rt.block_on(s.apply(
                        &p,
                        &store,
                        1,
                        std::sync::Arc::new(terrane_engine::events::NullSink),
                        rx,
                    ));
                    let el = start.elapsed();
                    assert_eq!(out.added, 2 * N);
                    assert!(out.ok());
                    samples.push(el);
                    total += el;
                }
                total
            })
        });
        let mean = samples.iter().sum::<Duration>().as_secs_f64() / samples.len() as f64;
        means.push((kind, mean));
    }
    group.finish();
    let plain = means[0].1;
    for (kind, mean) in &means {
        println!(
            "  {N} gates + {N} dependents, {kind}: apply {:.3} s mean ({:.2}x plain)",
            mean,
            mean / plain
        );
    }
}

criterion_group!(benches, gates);
criterion_main!(benches);
