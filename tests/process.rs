//! Multi-process behaviour: lock contention between two runs, and a run killed with SIGKILL in
//! the middle of an apply followed by a run that reconciles what it left in flight.

mod common;

use std::time::{Duration, Instant};

use common::Fixture;
use terrane_state::StateStore;

fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn second_run_waits_for_the_lock_then_fails_naming_the_holder() {
    let f = Fixture::new(
        r#"
provider "test" {
  store = "@DIR@/cloud"
}
resource "test_instance" "slow" {
  latency_ms = 1500
}
"#,
    );
    f.ok(&["init"], 0);
    let mut holder = f
        .cmd(&["apply", "-auto-approve"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The holder takes the lock before it plans; wait until the call is in flight.
    let db = f.path().join("terrane.state.db");
    wait_for(
        "the first run to take the lock",
        Duration::from_secs(20),
        || {
            let s = terrane_state::Store::open(&db).unwrap();
            s.lock_holder("default").unwrap().is_some()
        },
    );
    let r = f.run(&["plan", "-lock-timeout=200ms"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Error acquiring the state lock"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("pid {}", holder.id())),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("`terrane apply`"), "{}", r.stderr);
    // With a long enough timeout the second run waits and then proceeds.
    let r = f.run(&["plan", "-lock-timeout=60s", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(holder.wait().unwrap().success());
}

#[test]
fn sigkill_mid_apply_is_reconciled_by_the_next_run() {
    let f = Fixture::new(
        r#"
provider "test" {
  store = "@DIR@/cloud"
}
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
    let mut child = f
        .cmd(&["apply", "-auto-approve"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Two objects exist once "inflight" was created and is settling: kill the run then.
    wait_for(
        "the in-flight object to be created",
        Duration::from_secs(30),
        || f.cloud_objects().len() == 2,
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // The finished step is in state; the in-flight one is not, but its intent is.
    let s = terrane_state::Store::open(&f.path().join("terrane.state.db")).unwrap();
    let addrs: Vec<String> = s
        .resources("default")
        .unwrap()
        .into_iter()
        .map(|r| r.address)
        .collect();
    assert_eq!(addrs, vec!["test_instance.done"]);
    let intents = s.intents("default").unwrap();
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0].address, "test_instance.inflight");
    drop(s);

    // The next run takes over the dead run's lock, finds the object by its token, records it,
    // and plans only what is left: no duplicate of "inflight".
    let r = f.ok(&["plan", "-detailed-exitcode"], 2);
    assert!(
        r.stderr.contains("Took over a stale state lock"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("interrupted while it was creating test_instance.inflight"),
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
    assert!(
        r.stdout.contains("# test_instance.later will be created"),
        "{}",
        r.stdout
    );
    let r = f.ok(&["apply", "-auto-approve"], 0);
    assert!(r.stdout.contains("1 added"), "{}", r.stdout);
    assert_eq!(f.cloud_objects().len(), 3);
    f.ok(&["plan", "-detailed-exitcode"], 0);
    f.ok(&["destroy", "-auto-approve"], 0);
    assert!(f.cloud_objects().is_empty());
}

#[test]
fn ctrl_c_lets_in_flight_calls_finish_and_records_them() {
    let f = Fixture::new(
        r#"
provider "test" {
  store = "@DIR@/cloud"
}
resource "test_instance" "first" {
  latency_ms = 1500
}
resource "test_instance" "second" {
  value = test_instance.first.id
}
"#,
    );
    let child = f
        .cmd(&["apply", "-auto-approve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let db = f.path().join("terrane.state.db");
    wait_for(
        "the apply to record its intent",
        Duration::from_secs(20),
        || {
            terrane_state::Store::open(&db)
                .map(|s| !s.intents("default").unwrap_or_default().is_empty())
                .unwrap_or(false)
        },
    );
    // SIGINT, as Ctrl-C sends.
    let pid = child.id() as i32;
    std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Interrupt received"), "{stdout}");
    assert!(
        stdout.contains("test_instance.first: Creation complete"),
        "{stdout}"
    );
    assert!(stdout.contains("Apply interrupted!"), "{stdout}");
    let s = terrane_state::Store::open(&db).unwrap();
    let addrs: Vec<String> = s
        .resources("default")
        .unwrap()
        .into_iter()
        .map(|r| r.address)
        .collect();
    assert_eq!(addrs, vec!["test_instance.first"]);
    assert!(s.intents("default").unwrap().is_empty());
    assert!(s.lock_holder("default").unwrap().is_none(), "lock released");
    drop(s);
    let r = f.ok(&["apply", "-auto-approve"], 0);
    assert!(r.stdout.contains("1 added"), "{}", r.stdout);
}
