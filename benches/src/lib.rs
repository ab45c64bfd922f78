//! Helpers shared by the benchmarks: generated configurations (the same shapes the Terraform
//! peer measurements used) and one-call plan/apply through the engine.

use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;

use terrane_core::ProviderRegistry;
use terrane_engine::events::NullSink;
use terrane_engine::{load_config, ApplyOutcome, Plan, PlanOptions, Session, SessionOptions};
use terrane_state::{StateStore, Store};

/// `n` terraform_data resources: half independent, half in chains of 100 (as in the Terraform
/// peer measurements of shared/notes/peer-terraform.md).
pub fn terraform_data_config(n: usize) -> String {
    let mut s = String::with_capacity(n * 120);
    let independent = n / 2;
    for i in 0..independent {
        let _ = writeln!(
            s,
            "resource \"terraform_data\" \"r{i}\" {{\n  input = \"value-{i}\"\n}}\n"
        );
    }
    for i in independent..n {
        let k = i - independent;
        if k.is_multiple_of(100) {
            let _ = writeln!(
                s,
                "resource \"terraform_data\" \"r{i}\" {{\n  input = \"value-{i}\"\n}}\n"
            );
        } else {
            let _ = writeln!(
                s,
                "resource \"terraform_data\" \"r{i}\" {{\n  input = terraform_data.r{}.id\n}}\n",
                i - 1
            );
        }
    }
    s
}

/// `n` independent test_instance resources whose provider calls take `latency_ms`.
pub fn latency_config(n: usize, latency_ms: u64) -> String {
    let mut s = format!("provider \"test\" {{\n  latency_ms = {latency_ms}\n}}\n\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "resource \"test_instance\" \"r{i}\" {{\n  name = \"r{i}\"\n}}\n"
        );
    }
    s
}

/// `n` test_instance resources whose provider calls take `latency_ms`: half independent, half
/// in chains of 100 (each link reads the one before it).
pub fn latency_chains_config(n: usize, latency_ms: u64) -> String {
    let mut s = format!("provider \"test\" {{\n  latency_ms = {latency_ms}\n}}\n\n");
    let independent = n / 2;
    for i in 0..n {
        let value = if i >= independent && !(i - independent).is_multiple_of(100) {
            format!("test_instance.r{}.id", i - 1)
        } else {
            "\"root\"".to_string()
        };
        let _ = writeln!(
            s,
            "resource \"test_instance\" \"r{i}\" {{\n  name  = \"r{i}\"\n  value = {value}\n}}\n"
        );
    }
    s
}

pub fn registry() -> ProviderRegistry {
    let mut r = ProviderRegistry::new();
    terrane_provider_builtin::register(&mut r);
    r.register(
        "test",
        terrane_provider_test::TestProvider::shared_factory(),
    );
    r
}

/// Load, plan (with refresh) — what `terrane plan` does after argument parsing.
pub async fn plan(
    dir: &Path,
    store: &dyn StateStore,
    reg: &ProviderRegistry,
    parallelism: usize,
) -> (Session, Plan) {
    let (cfg, _) = load_config(dir).unwrap_or_else(|d| panic!("{d}"));
    let mut s = Session::new(
        cfg,
        reg.clone(),
        SessionOptions {
            parallelism,
            ..Default::default()
        },
    )
    .unwrap_or_else(|d| panic!("{d}"));
    s.load_state(store).unwrap_or_else(|d| panic!("{d}"));
    let p = s
        .plan(
            Some(store),
            &PlanOptions {
                refresh: true,
                ..Default::default()
            },
        )
        .await
        .unwrap_or_else(|d| panic!("{d}"));
    (s, p)
}

/// Plan and apply everything.
pub async fn apply(
    dir: &Path,
    store: &dyn StateStore,
    reg: &ProviderRegistry,
    parallelism: usize,
) -> ApplyOutcome {
    let (mut s, p) = plan(dir, store, reg, parallelism).await;
    let (_tx, rx) = tokio::sync::watch::channel(0u8);
    let out = s.apply(&p, store, 1, Arc::new(NullSink), rx).await;
    assert!(out.ok(), "apply failed: {:?}", out.failed.first());
    out
}

/// Peak resident memory of this process (VmHWM), in bytes.
pub fn peak_rss() -> u64 {
    status_kb("VmHWM:") * 1024
}

fn status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Bytes this process has passed to write(2) so far (`wchar` in /proc/self/io).
pub fn bytes_written() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("wchar:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// A temp dir with `main.tf` and an opened state store.
pub fn workdir(main_tf: &str) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.tf"), main_tf).expect("write main.tf");
    let store = Store::open(&dir.path().join("terrane.state.db")).expect("open state");
    (dir, store)
}
