use super::*;
use std::time::Duration;

fn rec(addr: &str, n: i64) -> ResourceRecord {
    ResourceRecord {
        address: addr.into(),
        provider: "provider.test".into(),
        attrs: serde_json::json!({"id": format!("id-{n}"), "n": n}),
        sensitive: vec![],
        deps: vec!["a.b".into()],
        tainted: false,
        schema_version: 0,
    }
}

#[test]
fn resources_roundtrip_and_serial_grows() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("s.db")).unwrap();
    let ws = s.workspace("default").unwrap();
    assert_eq!(ws.serial, 0);
    s.put_resource("default", &rec("x.a", 1)).unwrap();
    s.put_resource("default", &rec("x.b", 2)).unwrap();
    s.put_resource("default", &rec("x.a", 3)).unwrap();
    let all = s.resources("default").unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].attrs["n"], 3);
    assert_eq!(s.workspace("default").unwrap().serial, 3);
    assert!(s.delete_resource("default", "x.b").unwrap());
    assert_eq!(s.resources("default").unwrap().len(), 1);
    // other workspaces are separate
    s.workspace("other").unwrap();
    assert!(s.resources("other").unwrap().is_empty());
}

#[cfg(unix)]
#[test]
fn file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.db");
    Store::open(&p).unwrap();
    let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn intent_is_cleared_by_complete_step() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("s.db")).unwrap();
    s.workspace("w").unwrap();
    let i = Intent {
        address: "x.a".into(),
        op: "create".into(),
        token: "tok".into(),
        run_id: 1,
        started_at: now(),
        planned: serde_json::json!({}),
    };
    s.record_intent("w", &i).unwrap();
    assert_eq!(s.intents("w").unwrap(), vec![i]);
    s.complete_step("w", "x.a", Some(&rec("x.a", 1))).unwrap();
    assert!(s.intents("w").unwrap().is_empty());
    assert_eq!(s.resources("w").unwrap().len(), 1);
}

#[test]
fn lock_contention_names_holder_and_stale_lock_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.db");
    let a = Store::open(&p).unwrap();
    let b = Store::open(&p).unwrap();
    a.workspace("w").unwrap();
    let held = a
        .acquire_lock("w", "terrane apply", Duration::ZERO)
        .unwrap();
    match b.acquire_lock("w", "terrane plan", Duration::from_millis(250)) {
        Err(StateError::Locked(h)) => assert_eq!(h.id, held.held.id),
        other => panic!("expected Locked, got {other:?}"),
    }
    a.release_lock("w", &held.held.id).unwrap();
    let got = b.acquire_lock("w", "terrane plan", Duration::ZERO).unwrap();
    assert!(got.took_over.is_none());
    // Pretend the holder was a process that no longer exists on this host.
    b.conn
        .execute("UPDATE locks SET pid = 999999999", [])
        .unwrap();
    let taken = a
        .acquire_lock("w", "terrane apply", Duration::ZERO)
        .unwrap();
    assert_eq!(taken.took_over.unwrap().id, got.held.id);
}

#[test]
fn rfc3339_formatting() {
    assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
}

#[test]
fn runs_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("s.db")).unwrap();
    let id = s.begin_run("w", "apply").unwrap();
    s.finish_run(
        id,
        "ok",
        RunCounts {
            added: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let runs = s.runs("w").unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].added, 2);
    assert_eq!(runs[0].result.as_deref(), Some("ok"));
}
