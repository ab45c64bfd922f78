use super::*;

/// The SQLite store under the shared suite: handles on one file in a temp dir.
struct Sqlite {
    dir: tempfile::TempDir,
}

fn sqlite() -> Sqlite {
    Sqlite {
        dir: tempfile::tempdir().unwrap(),
    }
}

impl suite::Backend for Sqlite {
    fn open(&self) -> Box<dyn StateStore> {
        Box::new(Store::open(&self.dir.path().join("s.db")).unwrap())
    }

    fn abandon(&self, store: Box<dyn StateStore>) {
        // As if its process had been killed: its lock rows name a pid that no longer exists.
        drop(store);
        Connection::open(self.dir.path().join("s.db"))
            .unwrap()
            .execute("UPDATE locks SET pid = 999999999", [])
            .unwrap();
    }
}

crate::store_suite!(sqlite());

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
fn rfc3339_formatting() {
    assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
}
