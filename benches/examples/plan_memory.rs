//! Where the memory and time of a no-change plan go: RSS and elapsed time after each stage, for a state made by
//! `cargo bench --bench plan` or any directory with terrane.state.db and main.tf.
//! Usage: cargo run --release -p terrane-benches --example plan_memory -- DIR

use terrane_benches::*;
use terrane_engine::{load_config, PlanOptions, Session, SessionOptions};

fn rss() -> String {
    let kb: u64 = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0);
    format!(
        "{:.0} MB at {:.2} s",
        kb as f64 / 1024.0,
        START.with(|s| s.elapsed().as_secs_f64())
    )
}

thread_local! {
    static START: std::time::Instant = std::time::Instant::now();
}

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("DIR"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("start: {}", rss());
    let (cfg, _) = load_config(&dir).unwrap();
    println!("config loaded: {}", rss());
    let store = terrane_state::Store::open(&dir.join("terrane.state.db")).unwrap();
    let mut s = Session::new(cfg, registry(), SessionOptions::default()).unwrap();
    println!("graph built: {}", rss());
    s.load_state(&store).unwrap();
    println!("state loaded: {}", rss());
    let p = rt
        .block_on(s.plan(
            Some(&store),
            &PlanOptions {
                refresh: true,
                ..Default::default()
            },
        ))
        .unwrap();
    println!(
        "planned ({} changes): {}; peak {:.0} MB",
        p.changes.len(),
        rss(),
        peak_rss() as f64 / 1e6
    );
}
