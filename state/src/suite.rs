//! One test suite for every state backend: the SQLite store runs it in this crate's tests, the
//! PostgreSQL store in its own, against a real server. A backend passes when it keeps the
//! model and the guarantees of [`StateStore`]: workspaces apart, every step in its own
//! transaction, intents cleared with their step, a lock that names its holder, is refused to a
//! second holder, and is taken over when its holder is gone.
//!
//! `store_suite!(make)` expands to one `#[test]` per case; `make()` returns a fresh
//! [`Backend`] for each.

use std::time::Duration;

use crate::{Intent, OutputRecord, ResourceRecord, RunCounts, StateError, StateStore, StepWrite};

/// A state backend under test: stores opened on the same state.
pub trait Backend {
    /// A new connection to (or handle on) the same state.
    fn open(&self) -> Box<dyn StateStore>;

    /// Ends `store` as a killed process would end it: whatever it holds stays written, and its
    /// lock's holder is gone.
    fn abandon(&self, store: Box<dyn StateStore>);
}

pub fn rec(addr: &str, n: i64) -> ResourceRecord {
    ResourceRecord {
        address: addr.into(),
        provider: "provider.test".into(),
        attrs: serde_json::json!({"id": format!("id-{n}"), "n": n}),
        sensitive: vec!["secret".into()],
        deps: vec!["a.b".into()],
        tainted: n % 2 == 1,
        schema_version: 1,
    }
}

fn intent(addr: &str) -> Intent {
    Intent {
        address: addr.into(),
        op: "create".into(),
        token: format!("tok-{addr}"),
        run_id: 1,
        started_at: crate::now(),
        planned: serde_json::json!({"id": null, "name": addr}),
    }
}

pub fn resources_roundtrip_and_serial_grows(b: &dyn Backend) {
    let s = b.open();
    let ws = s.workspace("default").unwrap();
    assert_eq!(ws.serial, 0);
    assert_eq!(ws.lineage.len(), 32);
    s.put_resource("default", &rec("x.a", 1)).unwrap();
    s.put_resource("default", &rec("x.b", 2)).unwrap();
    s.put_resource("default", &rec("x.a", 3)).unwrap();
    let all = s.resources("default").unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], rec("x.a", 3));
    assert_eq!(all[1], rec("x.b", 2));
    assert_eq!(s.resource("default", "x.b").unwrap(), Some(rec("x.b", 2)));
    assert_eq!(s.resource("default", "x.c").unwrap(), None);
    assert_eq!(s.workspace("default").unwrap().serial, 3);
    assert!(s.delete_resource("default", "x.b").unwrap());
    assert!(!s.delete_resource("default", "x.b").unwrap());
    assert_eq!(s.resources("default").unwrap().len(), 1);
    // Other workspaces are separate; another handle sees what this one wrote.
    s.workspace("other").unwrap();
    assert!(s.resources("other").unwrap().is_empty());
    let t = b.open();
    assert_eq!(t.resources("default").unwrap(), vec![rec("x.a", 3)]);
    assert_eq!(
        t.workspace("default").unwrap().lineage,
        s.workspace("default").unwrap().lineage
    );
}

pub fn many_resources_stream_in_address_order(b: &dyn Backend) {
    let s = b.open();
    s.workspace("w").unwrap();
    let steps: Vec<StepWrite> = (0..2500)
        .map(|i| StepWrite::Put(rec(&format!("r.x[{i}]"), i)))
        .collect();
    s.apply_steps("w", &steps).unwrap();
    let mut seen = Vec::new();
    s.for_each_resource("w", &mut |r| seen.push(r.address))
        .unwrap();
    let mut want: Vec<String> = (0..2500).map(|i| format!("r.x[{i}]")).collect();
    want.sort();
    assert_eq!(seen, want);
}

pub fn intent_is_cleared_by_its_step(b: &dyn Backend) {
    let s = b.open();
    s.workspace("w").unwrap();
    let i = intent("x.a");
    s.record_intent("w", &i).unwrap();
    s.record_intents("w", &[intent("x.b"), intent("x.c")])
        .unwrap();
    assert_eq!(s.intents("w").unwrap()[0], i);
    s.complete_step("w", "x.a", Some(&rec("x.a", 1))).unwrap();
    s.apply_steps(
        "w",
        &[
            StepWrite::Delete("x.b".into()),
            StepWrite::ClearIntent("x.c".into()),
        ],
    )
    .unwrap();
    assert!(s.intents("w").unwrap().is_empty());
    assert_eq!(s.resources("w").unwrap(), vec![rec("x.a", 1)]);
    // An intent outlives the store that wrote it (a killed run leaves it for the next).
    let left = intent("x.d");
    s.record_intent("w", &left).unwrap();
    b.abandon(s);
    assert_eq!(b.open().intents("w").unwrap(), vec![left]);
}

pub fn moves_outputs_and_workspaces(b: &dyn Backend) {
    let s = b.open();
    s.workspace("w").unwrap();
    s.put_resource("w", &rec("x.a", 1)).unwrap();
    s.put_resource("w", &rec("x.b", 2)).unwrap();
    assert!(
        !s.move_resource("w", "x.a", "x.b").unwrap(),
        "target exists"
    );
    assert!(s.move_resource("w", "x.a", "x.c").unwrap());
    let names: Vec<String> = s
        .resources("w")
        .unwrap()
        .into_iter()
        .map(|r| r.address)
        .collect();
    assert_eq!(names, ["x.b", "x.c"]);
    let out = |n: &str, v: serde_json::Value, sensitive| OutputRecord {
        name: n.into(),
        value: v,
        sensitive,
    };
    s.set_outputs(
        "w",
        &[
            out("b", serde_json::json!({"k": [1, 2]}), false),
            out("a", serde_json::json!("s3cret"), true),
        ],
    )
    .unwrap();
    s.set_outputs("w", &[out("c", serde_json::json!(1), false)])
        .unwrap();
    assert_eq!(
        s.outputs("w").unwrap(),
        vec![out("c", serde_json::json!(1), false)]
    );
    s.workspace("a-first").unwrap();
    let names: Vec<String> = s
        .list_workspaces()
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, ["a-first", "w"]);
    s.set_metadata(
        "w",
        &[
            ("branch".into(), "dev/feature-x".into()),
            ("ttl".into(), "72h".into()),
        ],
    )
    .unwrap();
    s.set_metadata("w", &[("ttl".into(), "24h".into())])
        .unwrap();
    let meta = s.metadata("w").unwrap();
    assert_eq!(meta.len(), 2);
    assert_eq!(
        (meta["branch"].as_str(), meta["ttl"].as_str()),
        ("dev/feature-x", "24h")
    );
    assert!(s.metadata("a-first").unwrap().is_empty());
    s.delete_workspace("w").unwrap();
    assert!(s.metadata("w").unwrap().is_empty());
    assert!(s.workspace_meta("w").unwrap().is_none());
    assert!(s.resources("w").unwrap().is_empty());
    assert!(s.outputs("w").unwrap().is_empty());
}

pub fn runs_are_recorded(b: &dyn Backend) {
    let s = b.open();
    let id = s.begin_run("w", "apply").unwrap();
    let other = s.begin_run("v", "plan").unwrap();
    assert_ne!(id, other);
    s.finish_run(
        id,
        "ok",
        RunCounts {
            added: 2,
            failed: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let runs = s.runs("w").unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].added, runs[0].failed), (2, 1));
    assert_eq!(runs[0].result.as_deref(), Some("ok"));
    assert_eq!(runs[0].command, "apply");
    assert_eq!(runs[0].pid, std::process::id() as i64);
    assert!(runs[0].finished_at.is_some());
    assert_eq!(s.runs("v").unwrap()[0].finished_at, None);
}

pub fn a_held_lock_names_its_holder_and_is_refused(b: &dyn Backend) {
    let a = b.open();
    let c = b.open();
    a.workspace("w").unwrap();
    let held = a
        .acquire_lock("w", "terrane apply", Duration::ZERO)
        .unwrap();
    assert!(held.took_over.is_none());
    assert_eq!(a.lock_holder("w").unwrap().unwrap(), held.held);
    match c.acquire_lock("w", "terrane plan", Duration::from_millis(250)) {
        Err(StateError::Locked(h)) => {
            assert_eq!(h.id, held.held.id);
            assert_eq!(h.command, "terrane apply");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    // Nor can the holder take it twice.
    assert!(matches!(
        a.acquire_lock("w", "terrane apply", Duration::ZERO),
        Err(StateError::Locked(_))
    ));
    a.release_lock("w", &held.held.id).unwrap();
    assert!(a.lock_holder("w").unwrap().is_none());
    let got = c.acquire_lock("w", "terrane plan", Duration::ZERO).unwrap();
    assert!(got.took_over.is_none());
    assert!(matches!(
        c.force_unlock("w", "no-such-id"),
        Err(StateError::NoSuchLock(..))
    ));
    c.release_lock("w", &got.held.id).unwrap();
}

pub fn workspaces_lock_independently(b: &dyn Backend) {
    let a = b.open();
    let c = b.open();
    let one = a
        .acquire_lock("one", "terrane apply", Duration::ZERO)
        .unwrap();
    let two = c
        .acquire_lock("two", "terrane apply", Duration::ZERO)
        .unwrap();
    assert_ne!(one.held.id, two.held.id);
    a.release_lock("one", &one.held.id).unwrap();
    c.release_lock("two", &two.held.id).unwrap();
}

pub fn a_lock_whose_holder_is_gone_is_taken_over(b: &dyn Backend) {
    let a = b.open();
    a.workspace("w").unwrap();
    let held = a
        .acquire_lock("w", "terrane apply", Duration::ZERO)
        .unwrap();
    b.abandon(a);
    let c = b.open();
    // The holder's end may take the server a moment to notice.
    let taken = c
        .acquire_lock("w", "terrane apply", Duration::from_secs(10))
        .unwrap();
    assert_eq!(taken.took_over.unwrap().id, held.held.id);
    assert_eq!(c.lock_holder("w").unwrap().unwrap().id, taken.held.id);
}

/// One `#[test]` per case of the suite, each with a fresh backend from `$make()`.
#[macro_export]
macro_rules! store_suite {
    ($make:expr) => {
        $crate::store_suite!(@cases $make;
            resources_roundtrip_and_serial_grows,
            many_resources_stream_in_address_order,
            intent_is_cleared_by_its_step,
            moves_outputs_and_workspaces,
            runs_are_recorded,
            a_held_lock_names_its_holder_and_is_refused,
            workspaces_lock_independently,
            a_lock_whose_holder_is_gone_is_taken_over
        );
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                let backend = $make;
                $crate::suite::$case(&backend);
            }
        )*
    };
}
