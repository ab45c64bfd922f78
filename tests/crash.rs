//! Crash safety under repetition: an apply of 2,000 resources (half in chains of 100) is
//! killed with SIGKILL at 20 moments in a row, each run picking up what the one before left in
//! flight; a last run finishes. Every object exists once, state records each once, nothing is
//! left in flight, and a re-plan is clean.

mod common;
#[path = "common/postgres.rs"]
mod postgres;

use std::ffi::OsStr;
use std::time::Duration;

use common::Fixture;
use terrane_state::StateStore;

const CHAINS: usize = 10;
const CHAIN_LEN: usize = 100;
const FREE: usize = 1000;
const KILLS: usize = 20;

fn config() -> String {
    let mut s = String::from(
        "provider \"test\" {\n  store = \"@DIR@/cloud\"\n  latency_ms = 50\n}\n\
         resource \"test_instance\" \"free\" {\n  count = 1000\n  name  = \"free-${count.index}\"\n}\n",
    );
    for c in 0..CHAINS {
        for i in 0..CHAIN_LEN {
            let value = if i == 0 {
                "\"start\"".to_string()
            } else {
                format!("test_instance.c{c}_{}.id", i - 1)
            };
            s.push_str(&format!(
                "resource \"test_instance\" \"c{c}_{i}\" {{\n  name  = \"c{c}-{i}\"\n  value = {value}\n}}\n"
            ));
        }
    }
    s
}

#[test]
fn an_apply_killed_twenty_times_in_a_row_finishes_with_every_resource_recorded_once() {
    let f = Fixture::new(&config());
    let db = f.path().join("terrane.state.db");
    killed_twenty_times(&f, &[], &|| {
        Box::new(terrane_state::Store::open(&db).unwrap())
    });
}

/// The same with the state on PostgreSQL (`backend "pg"`): each killed run's session ends with
/// it, and the next run takes its lock over.
#[test]
fn an_apply_killed_twenty_times_in_a_row_on_postgresql_finishes_with_every_resource_recorded_once()
{
    let schema = postgres::fresh_schema("crash");
    let f = Fixture::new(&format!(
        "terraform {{\n  backend \"pg\" {{\n    schema_name = \"{schema}\"\n  }}\n}}\n{}",
        config()
    ));
    let conn = postgres::server().conn_str();
    killed_twenty_times(&f, &[("PG_CONN_STR", OsStr::new(&conn))], &|| {
        Box::new(terrane_state_pg::PgStore::connect(&conn, &schema).unwrap())
    });
    assert!(!f.path().join("terrane.state.db").exists());
}

fn killed_twenty_times(
    f: &Fixture,
    env: &[(&str, &OsStr)],
    open_state: &dyn Fn() -> Box<dyn StateStore>,
) {
    let total = FREE + CHAINS * CHAIN_LEN;
    // Deterministic "random" moments between 200 ms and 1.5 s after the start (the whole apply
    // takes about 10 s: 2,000 calls of 50 ms, 10 at a time). The killed runs skip the refresh,
    // which would read back every object made so far before going on; the final re-plan
    // refreshes everything.
    let mut seed: u64 = 0x5eed_1234;
    let mut progress = Vec::new();
    for _ in 0..KILLS {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let after = Duration::from_millis(200 + (seed >> 33) % 1300);
        let mut child = f.cmd(&[
            "apply",
            "-auto-approve",
            "-parallelism=10",
            "-refresh=false",
        ]);
        for (k, v) in env {
            child.env(k, v);
        }
        let mut child = child
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(after);
        let _ = child.kill(); // SIGKILL (a run that already finished is not an error)
        child.wait().unwrap();
        progress.push(f.cloud_objects().len());
    }
    // The kills interrupted real work: most came before the end, and objects appeared between
    // them.
    assert!(
        progress.iter().filter(|&&p| p < total).count() >= KILLS / 2
            && progress.windows(2).filter(|w| w[1] > w[0]).count() >= KILLS / 4,
        "too few kills came during the apply: {progress:?}"
    );
    let r = f.ok_with_env(
        &[
            "apply",
            "-auto-approve",
            "-parallelism=10",
            "-refresh=false",
        ],
        env,
        0,
    );
    assert!(r.stdout.contains("Apply complete!"), "{}", r.stdout);

    // Every object exists once (a create whose answer was lost was found, not made again).
    assert_eq!(
        f.cloud_objects().len(),
        total,
        "after kills at {progress:?}"
    );
    let s = open_state();
    let mut addrs: Vec<String> = s
        .resources("default")
        .unwrap()
        .into_iter()
        .map(|r| r.address)
        .collect();
    assert_eq!(addrs.len(), total);
    addrs.dedup();
    assert_eq!(addrs.len(), total);
    assert!(s.intents("default").unwrap().is_empty());
    // Each run was recorded; the killed ones as not finished.
    let runs = s.runs("default").unwrap();
    assert_eq!(runs.last().unwrap().result.as_deref(), Some("ok"));
    drop(s);
    f.ok_with_env(&["plan", "-detailed-exitcode", "-parallelism=50"], env, 0);
    // Every object in the cloud is one that state knows.
    let shown = f.ok_with_env(&["show", "-json"], env, 0);
    let shown: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    let ids: std::collections::BTreeSet<String> = shown["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["values"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), total);
    for o in f.cloud_objects() {
        let id = o.file_stem().unwrap().to_string_lossy().to_string();
        assert!(ids.contains(&id), "{id} is not in state");
    }
}

/// In-process resources (`terraform_data`) are made inline and recorded in batches with no
/// journal: a kill loses at most the batch in progress, which the next run simply makes again.
#[test]
fn an_inline_apply_killed_mid_run_finishes_with_every_resource_recorded_once() {
    let n = 12_000;
    let mut s = String::new();
    for i in 0..n {
        if i >= n / 2 && i % 100 != 0 {
            s.push_str(&format!(
                "resource \"terraform_data\" \"r{i}\" {{\n  input = terraform_data.r{}.id\n}}\n",
                i - 1
            ));
        } else {
            s.push_str(&format!(
                "resource \"terraform_data\" \"r{i}\" {{\n  input = \"v{i}\"\n}}\n"
            ));
        }
    }
    let f = Fixture::new(&s);
    let recorded = || {
        terrane_state::Store::open(&f.path().join("terrane.state.db"))
            .and_then(|s| s.resources("default"))
            .map(|r| r.len())
            .unwrap_or(0)
    };
    // Each run is killed as soon as state shows it recorded something new (a batch settled),
    // so every kill lands mid-apply whatever the machine's speed; a run that finishes first
    // simply ends the loop.
    let mut progress = Vec::new();
    let mut before = 0;
    for _ in 0..3 {
        let mut child = f
            .cmd(&["apply", "-auto-approve"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while child.try_wait().unwrap().is_none()
            && recorded() <= before
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill();
        child.wait().unwrap();
        before = recorded();
        progress.push(before);
        if before == n {
            break;
        }
    }
    assert!(
        progress.iter().any(|&p| p > 0 && p < n),
        "no kill came during the apply: {progress:?}"
    );
    let r = f.ok(&["apply", "-auto-approve"], 0);
    assert!(r.stdout.contains("Apply complete!"), "{}", r.stdout);
    let st = terrane_state::Store::open(&f.path().join("terrane.state.db")).unwrap();
    let mut addrs: Vec<String> = st
        .resources("default")
        .unwrap()
        .into_iter()
        .map(|r| r.address)
        .collect();
    assert_eq!(addrs.len(), n, "after kills with {progress:?} recorded");
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), n);
    assert!(st.intents("default").unwrap().is_empty());
    drop(st);
    f.ok(&["plan", "-detailed-exitcode"], 0);
}
