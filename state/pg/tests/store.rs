//! The PostgreSQL store against a real server (Debian's postgresql, on loopback): the state
//! suite every backend passes, and what only a shared database meets (a lost connection,
//! two runners creating the schema at once).

#[path = "../../../tests/common/postgres.rs"]
mod postgres;

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

#[test]
fn a_lost_connection_is_an_error_naming_the_database_not_a_panic() {
    let schema = postgres::fresh_schema("lost");
    let conn = postgres::server().conn_str();
    let s = PgStore::connect(&conn, &schema).unwrap();
    s.workspace("w").unwrap();
    // Another session ends this store's (as a server restart or a network failure would).
    let pid = s.session_pid().unwrap();
    let mut c = ::postgres::Client::connect(&conn, ::postgres::NoTls).unwrap();
    c.execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    match s.resources("w") {
        Err(StateError::Backend { location, message }) => {
            assert!(location.contains("127.0.0.1"), "{location}");
            assert!(!message.is_empty());
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
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
