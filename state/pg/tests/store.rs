//! The PostgreSQL store against a real server (Debian's postgresql, on loopback): the state
//! suite every backend passes, and what only a shared database meets (a dropped connection,
//! opened again with the lock kept, or the store stopped when another run took the lock; two
//! runners creating the schema at once).

#[path = "../../../tests/common/postgres.rs"]
mod postgres;

use std::time::Duration;

use terrane_state::suite::Backend;
use terrane_state::{StateError, StateStore};
use terrane_state_pg::PgStore;

/// Handles on one schema of the test server.
struct Pg {
    schema: String,
}

fn pg() -> Pg {
    Pg {
        schema: postgres::fresh_schema("suite"),
    }
}

impl Backend for Pg {
    fn open(&self) -> Box<dyn StateStore> {
        Box::new(PgStore::connect(&postgres::server().conn_str(), &self.schema).unwrap())
    }

    fn abandon(&self, store: Box<dyn StateStore>) {
        // Its connection closes, as a killed process's does: the server ends its session.
        drop(store);
    }
}

terrane_state::store_suite!(pg());

#[test]
fn a_url_works_as_well_as_a_connection_string() {
    let schema = postgres::fresh_schema("url");
    let s = PgStore::connect(&postgres::server().url(), &schema).unwrap();
    s.workspace("w").unwrap();
    assert!(s.location().contains(&format!("schema {schema}")));
}

#[test]
fn runners_creating_the_schema_at_once_both_succeed() {
    let schema = postgres::fresh_schema("race");
    let conn = postgres::server().conn_str();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (c, s) = (conn.clone(), schema.clone());
            std::thread::spawn(move || PgStore::connect(&c, &s).map(|_| ()))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
}

/// Ends the server session serving `s` (as a server restart or a network failure would).
fn drop_connection(s: &PgStore) {
    let pid = s.session_pid().unwrap();
    let mut c =
        ::postgres::Client::connect(&postgres::server().conn_str(), ::postgres::NoTls).unwrap();
    c.execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    // Until the server has ended it (bounded).
    let start = std::time::Instant::now();
    while c
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
            &[&pid],
        )
        .unwrap()
        .get::<_, i64>(0)
        > 0
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "session {pid} never ended"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_dropped_connection_is_opened_again_and_the_lock_kept() {
    let schema = postgres::fresh_schema("dropped");
    let conn = postgres::server().conn_str();
    let s = PgStore::connect(&conn, &schema).unwrap();
    s.workspace("w").unwrap();
    let held = s
        .acquire_lock("w", "terrane apply", Duration::ZERO)
        .unwrap();
    let before = s.session_pid().unwrap();
    drop_connection(&s);
    // The next write goes through on a new session, which holds the lock again.
    s.put_resource("w", &terrane_state::suite::rec("x.a", 1))
        .unwrap();
    assert_ne!(s.session_pid().unwrap(), before);
    let other = PgStore::connect(&conn, &schema).unwrap();
    match other.acquire_lock("w", "terrane plan", Duration::from_millis(300)) {
        Err(StateError::Locked(h)) => assert_eq!(h.id, held.held.id),
        r => panic!("the lock must still be held: {r:?}"),
    }
    assert_eq!(other.resources("w").unwrap().len(), 1);
    s.release_lock("w", &held.held.id).unwrap();
    other
        .acquire_lock("w", "terrane plan", Duration::ZERO)
        .unwrap();
}

#[test]
fn a_lock_taken_by_another_run_while_the_connection_was_down_stops_the_store() {
    let schema = postgres::fresh_schema("lost");
    let conn = postgres::server().conn_str();
    let s = PgStore::connect(&conn, &schema).unwrap();
    s.workspace("w").unwrap();
    let held = s
        .acquire_lock("w", "terrane apply", Duration::ZERO)
        .unwrap();
    drop_connection(&s);
    // Another run sees the holder's session gone and takes the lock over.
    let other = PgStore::connect(&conn, &schema).unwrap();
    let taken = other
        .acquire_lock("w", "terrane apply", Duration::from_secs(10))
        .unwrap();
    assert_eq!(taken.took_over.unwrap().id, held.held.id);
    // The first store writes nothing more, and says why.
    match s.put_resource("w", &terrane_state::suite::rec("x.a", 1)) {
        Err(StateError::Backend { location, message }) => {
            assert!(location.contains("127.0.0.1"), "{location}");
            assert!(
                message.contains("took this run's workspace lock"),
                "{message}"
            );
        }
        r => panic!("expected the lock to be lost, got {r:?}"),
    }
    assert!(other.resources("w").unwrap().is_empty());
}

#[test]
fn a_bad_schema_name_or_server_is_a_clear_error() {
    let e = PgStore::connect(&postgres::server().conn_str(), "a-b").unwrap_err();
    assert!(e.to_string().contains("schema_name \"a-b\""), "{e}");
    let e = PgStore::connect(
        "postgres://terrane:s3cret@127.0.0.1:1/postgres?connect_timeout=5",
        "terrane",
    )
    .unwrap_err();
    let m = e.to_string();
    assert!(m.contains("cannot connect"), "{m}");
    assert!(!m.contains("s3cret"), "{m}");
}
