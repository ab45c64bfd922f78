//! Which state backend a directory uses: `terraform { backend "KIND" { ... } }` in its
//! configuration (read alone, without the rest), `--state FILE` / `TERRANE_STATE` (a local file,
//! whatever the configuration says), or the local file `terrane.state.db` by default.
//!
//! - `local { path = "FILE" }`: the SQLite file (relative to the directory).
//! - `pg { conn_str = "postgres://..." schema_name = "..." }`: PostgreSQL, shared by every
//!   runner. As Terraform's pg backend: `PG_CONN_STR` and `PG_SCHEMA_NAME` give what the block
//!   leaves out (so the password stays out of the configuration); the schema defaults to
//!   `terrane`.
//!
//! A backend Terrane does not have (s3, gcs, remote, ...) is a warning, and the state stays in
//! the local file, as before backends were read.

use std::sync::atomic::{AtomicBool, Ordering};

use terrane_core::{Diagnostic, Diagnostics, Value};
use terrane_engine::config::BackendConfig;
use terrane_engine::Workspace;

use super::Ctx;

/// The arguments each backend takes (Terraform's names).
const LOCAL: &[&str] = &["path"];
const PG: &[&str] = &[
    "conn_str",
    "schema_name",
    "skip_schema_creation",
    "skip_table_creation",
    "skip_index_creation",
];

pub fn open(ctx: &Ctx) -> Result<Workspace, Diagnostics> {
    if ctx.state_explicit {
        return Workspace::open(&ctx.state_path, &ctx.workspace);
    }
    let Some(b) = terrane_engine::config::load_backend(&ctx.dir)? else {
        return Workspace::open(&ctx.state_path, &ctx.workspace);
    };
    let text = |k: &str| -> Result<Option<String>, Diagnostics> {
        match b.settings.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(at(
                &b,
                "Invalid backend argument",
                format!("{k} must be a string, not {}.", other.type_name()),
            )),
        }
    };
    match b.kind.as_str() {
        "local" => {
            only(&b, LOCAL)?;
            let path = match text("path")? {
                Some(p) => ctx.dir.join(p),
                None => ctx.state_path.clone(),
            };
            Workspace::open(&path, &ctx.workspace)
        }
        "pg" => {
            only(&b, PG)?;
            let conn = match text("conn_str")? {
                Some(c) => c,
                None => std::env::var("PG_CONN_STR")
                    .ok()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| {
                        at(
                        &b,
                        "Missing backend argument",
                        "backend \"pg\" needs conn_str, or the PG_CONN_STR environment variable \
                         (postgres://user@host:5432/database)."
                            .to_string(),
                    )
                    })?,
            };
            let schema = text("schema_name")?
                .or_else(|| {
                    std::env::var("PG_SCHEMA_NAME")
                        .ok()
                        .filter(|s| !s.is_empty())
                })
                .unwrap_or_else(|| terrane_state_pg::DEFAULT_SCHEMA.to_string());
            let store = terrane_state_pg::PgStore::connect(&conn, &schema)
                .map_err(|e| at(&b, "Failed to open state", e.to_string()))?;
            Ok(Workspace::with_store(Box::new(store), &ctx.workspace))
        }
        other => {
            static WARNED: AtomicBool = AtomicBool::new(false);
            if !WARNED.swap(true, Ordering::SeqCst) {
                let d = Diagnostic::warning(
                    "Backend not supported",
                    format!(
                        "Terrane has no backend {other:?} (it has \"local\" and \"pg\"); the state is kept in {}.",
                        ctx.state_path.display()
                    ),
                )
                .with_range(Some(b.range.clone()));
                super::ui::print_diags(&d.into(), ctx.color);
            }
            Workspace::open(&ctx.state_path, &ctx.workspace)
        }
    }
}

fn at(b: &BackendConfig, summary: &str, detail: String) -> Diagnostics {
    Diagnostic::error(summary, detail)
        .with_range(Some(b.range.clone()))
        .into()
}

/// An argument the backend does not take is an error naming those it takes.
fn only(b: &BackendConfig, known: &[&str]) -> Result<(), Diagnostics> {
    match b.settings.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(at(
            b,
            "Unsupported backend argument",
            format!(
                "backend {:?} takes {}; not {k:?}.",
                b.kind,
                known.join(", ")
            ),
        )),
        None => Ok(()),
    }
}
