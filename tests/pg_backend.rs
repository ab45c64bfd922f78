//! `backend "pg"` end to end, against a real PostgreSQL server on loopback: two working
//! directories with no local state (two CI runners) share one state; two workspaces apply at
//! once without waiting for each other; a run killed with SIGKILL mid-apply is finished from
//! the other directory, which takes over its lock (its session has ended) with no duplicates.

mod common;
#[path = "common/postgres.rs"]
mod postgres;

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::Fixture;

/// A configuration on the pg backend whose test objects live in `cloud` (shared by the runners).
fn config(schema: &str, cloud: &Path, resources: &str) -> String {
    format!(
        r#"
terraform {{
  backend "pg" {{
    schema_name = "{schema}"
  }}
}}

provider "test" {{
  store = "{}"
}}
{resources}"#,
        cloud.display()
    )
}

fn objects(cloud: &Path) -> usize {
    std::fs::read_dir(cloud)
        .map(|r| {
            r.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

fn conn() -> String {
    postgres::server().conn_str()
}

#[test]
fn two_runners_share_one_state_and_workspaces_apply_at_once() {
    let schema = postgres::fresh_schema("runners");
    let cloud = tempfile::tempdir().unwrap();
    let tf = config(
        &schema,
        cloud.path(),
        r#"
resource "test_instance" "a" {
  name       = "a-${terraform.workspace}"
  latency_ms = 500
}

output "name" {
  value = test_instance.a.name
}
"#,
    );
    let (one, two) = (Fixture::new(&tf), Fixture::new(&tf));
    let c = conn();
    let env = [("PG_CONN_STR", OsStr::new(&c))];
    let r = one.ok_with_env(&["init"], &env, 0);
    assert!(
        r.stdout.contains(&format!(
            "Initialized state database {} (schema {schema})",
            c
        )),
        "{}",
        r.stdout
    );
    one.ok_with_env(&["apply", "-auto-approve"], &env, 0);
    assert!(!one.path().join("terrane.state.db").exists());

    // The other runner sees the same state: the output, and nothing to do.
    let r = two.ok_with_env(&["output", "-raw", "name"], &env, 0);
    assert_eq!(r.stdout, "a-default");
    two.ok_with_env(&["plan", "-detailed-exitcode"], &env, 0);
    assert!(!two.path().join("terrane.state.db").exists());

    // Two workspaces at once, one from each directory: neither waits for the other's lock.
    let spawn = |f: &Fixture, ws: &str| {
        f.cmd(&["apply", "-auto-approve", "-lock-timeout=0s"])
            .env("PG_CONN_STR", &c)
            .env("TF_WORKSPACE", ws)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (x, y) = (spawn(&one, "blue"), spawn(&two, "green"));
    for child in [x, y] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(objects(cloud.path()), 3);
    let r = two.ok_with_env(&["workspace", "list"], &env, 0);
    for ws in ["blue", "default", "green"] {
        assert!(r.stdout.contains(ws), "{}", r.stdout);
    }

    // One destroys what the other made.
    two.ok_with_env(&["destroy", "-auto-approve"], &env, 0);
    let r = one.ok_with_env(&["plan", "-detailed-exitcode"], &env, 2);
    assert!(r.stdout.contains("1 to add"), "{}", r.stdout);
}

#[test]
fn a_run_killed_mid_apply_is_finished_from_another_directory() {
    let schema = postgres::fresh_schema("killed");
    let cloud = tempfile::tempdir().unwrap();
    let tf = config(
        &schema,
        cloud.path(),
        r#"
resource "test_instance" "done" {
  name = "done"
}

resource "test_instance" "inflight" {
  name      = "inflight"
  value     = test_instance.done.id
  settle_ms = 60000
}

resource "test_instance" "later" {
  value = test_instance.inflight.id
}
"#,
    );
    let (first, second) = (Fixture::new(&tf), Fixture::new(&tf));
    let c = conn();
    let env = [("PG_CONN_STR", OsStr::new(&c))];
    let mut child = first
        .cmd(&["apply", "-auto-approve"])
        .env("PG_CONN_STR", &c)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once "inflight" exists and is settling (two objects made).
    let start = Instant::now();
    while objects(cloud.path()) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the in-flight object was never made"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // From the other directory: the dead run's lock is taken over, its in-flight object found
    // by its token and recorded, and only what is left is planned.
    let r = second.ok_with_env(
        &["plan", "-detailed-exitcode", "-lock-timeout=30s"],
        &env,
        2,
    );
    assert!(
        r.stderr.contains("Took over a stale state lock"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("is now recorded in state"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        r.stdout
    );
    let r = second.ok_with_env(&["apply", "-auto-approve"], &env, 0);
    assert!(r.stdout.contains("1 added"), "{}", r.stdout);
    assert_eq!(objects(cloud.path()), 3, "no duplicates");
    first.ok_with_env(&["plan", "-detailed-exitcode"], &env, 0);
    first.ok_with_env(&["destroy", "-auto-approve"], &env, 0);
    assert_eq!(objects(cloud.path()), 0);
}

#[test]
fn backend_mistakes_are_errors_at_the_block() {
    let f = Fixture::new(
        r#"
terraform {
  backend "pg" {
    conn_string = "postgres://x"
  }
}
"#,
    );
    let r = f.ok(&["plan"], 1);
    assert!(
        r.stderr.contains("Unsupported backend argument"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("main.tf:3"), "{}", r.stderr);
    let f = Fixture::new(
        r#"
terraform {
  backend "pg" {}
}
"#,
    );
    let r = f.run_with_env(&["plan"], &[("PG_CONN_STR", OsStr::new(""))]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("needs conn_str"), "{}", r.stderr);
    // A backend Terrane lacks is a warning; the state stays in the local file.
    let f = Fixture::new(
        r#"
terraform {
  backend "s3" {
    bucket = "state"
  }
}
resource "terraform_data" "x" {}
"#,
    );
    let r = f.ok(&["apply", "-auto-approve"], 0);
    assert!(r.stderr.contains("Backend not supported"), "{}", r.stderr);
    assert!(f.path().join("terrane.state.db").exists());
}
