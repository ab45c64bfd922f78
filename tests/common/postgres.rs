//! A real PostgreSQL server for tests: Debian's `postgresql` package (`initdb`, `pg_ctl`) in a
//! temp dir, on a free loopback port, run as the package's `postgres` user when the tests run
//! as root (initdb refuses root). One server per test process, started on first use; a watcher
//! process stops it by its PID and removes its directory when the test process ends, however
//! it ends. Each test takes a schema of its own, so tests do not see each other's state.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

pub struct Server {
    pub port: u16,
    pub dir: PathBuf,
    pub pid: u32,
}

/// The directory of `initdb` and `pg_ctl`: `TERRANE_PG_BIN`, else the newest
/// `/usr/lib/postgresql/*/bin` (Debian's layout), else the PATH.
fn bindir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("TERRANE_PG_BIN") {
        return Some(PathBuf::from(d));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b).or_else(|| {
        Command::new("sh")
            .args(["-c", "command -v initdb"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| {
                PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
                    .parent()
                    .unwrap()
                    .to_path_buf()
            })
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `program` with `args`, as the `postgres` user when we are root.
fn as_postgres(program: &Path, args: &[&str]) -> Command {
    let mut c = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    // A directory the postgres user may enter.
    c.args(args).current_dir(std::env::temp_dir());
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start() -> Server {
    let bin = bindir().expect(
        "PostgreSQL's initdb was not found: install Debian's postgresql package (tests/run does), \
         or set TERRANE_PG_BIN",
    );
    let dir =
        std::env::temp_dir().join(format!("terrane-pg-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    if is_root() {
        let ok = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "chown postgres {}", dir.display());
    }
    let data = dir.join("data");
    let d = data.to_str().unwrap();
    let out = as_postgres(
        &bin.join("initdb"),
        &[
            "-D",
            d,
            "-U",
            "terrane",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
    )
    .stdout(Stdio::null())
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let opts = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
        dir.display()
    );
    let log = dir.join("server.log");
    let out = as_postgres(
        &bin.join("pg_ctl"),
        &[
            "-D",
            d,
            "-l",
            log.to_str().unwrap(),
            "-o",
            &opts,
            "-w",
            "-t",
            "60",
            "start",
        ],
    )
    .stdout(Stdio::null())
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "pg_ctl start: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let pid: u32 = std::fs::read_to_string(data.join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Stops the server (by its PID) and removes its files once this process has ended.
    let watcher = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; kill -QUIT {pid} 2>/dev/null; \
         for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 {pid} 2>/dev/null || break; sleep 0.5; done; \
         kill -KILL {pid} 2>/dev/null; rm -rf '{dir}'",
        me = std::process::id(),
        dir = dir.display()
    );
    // `setsid -f` forks the watcher off in a session of its own and returns at once.
    let forked = Command::new("setsid")
        .args(["-f", "sh", "-c", &watcher])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(forked.success(), "setsid -f: {forked}");
    Server { port, dir, pid }
}

/// The server of this test process.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(start)
}

impl Server {
    /// A libpq connection string (as `conn_str` or `PG_CONN_STR` take it).
    pub fn conn_str(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=terrane dbname=postgres",
            self.port
        )
    }

    /// The same as a URL.
    pub fn url(&self) -> String {
        format!("postgres://terrane@127.0.0.1:{}/postgres", self.port)
    }
}

/// A schema name no other test of this process uses.
pub fn fresh_schema(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}_{}", N.fetch_add(1, Ordering::SeqCst))
}
