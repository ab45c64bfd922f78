//! Which state backend a directory uses: `terraform { backend "KIND" { ... } }` in its
//! configuration (read alone, without the rest), with what `terrane init -backend-config`
//! recorded in `.terrane/backend.json`; `--state FILE` / `TERRANE_STATE` (a local file, whatever
//! the configuration says); or the local file `terrane.state.db` by default.
//!
//! - `local { path = "FILE" }`: the SQLite file (relative to the directory).
//! - `pg { conn_str = "postgres://..." schema_name = "..." }`: PostgreSQL, shared by every
//!   runner. As Terraform's pg backend: `PG_CONN_STR` and `PG_SCHEMA_NAME` give what the block
//!   and `-backend-config` leave out (so the password stays out of the configuration); the
//!   schema defaults to `terrane`.
//!
//! A backend Terrane does not have (s3, gcs, remote, ...) is a warning, and the state stays in
//! the local file, as before backends were read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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

/// Where the state lives, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Local {
        path: PathBuf,
    },
    Pg {
        conn_str: String,
        schema_name: String,
    },
}

impl Spec {
    /// For messages: the file, or the database without its password.
    pub fn describe(&self) -> String {
        match self {
            Spec::Local { path } => path.display().to_string(),
            Spec::Pg {
                conn_str,
                schema_name,
            } => format!(
                "{} (schema {schema_name})",
                terrane_state_pg::redact(conn_str)
            ),
        }
    }

    pub fn open(&self, workspace: &str) -> Result<Workspace, Diagnostics> {
        match self {
            Spec::Local { path } => Workspace::open(path, workspace),
            Spec::Pg {
                conn_str,
                schema_name,
            } => {
                let store =
                    terrane_state_pg::PgStore::connect(conn_str, schema_name).map_err(|e| {
                        Diagnostics::from(Diagnostic::error("Failed to open state", e.to_string()))
                    })?;
                Ok(Workspace::with_store(Box::new(store), workspace))
            }
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            Spec::Local { path } => serde_json::json!({"kind": "local", "path": path}),
            Spec::Pg {
                conn_str,
                schema_name,
            } => {
                serde_json::json!({"kind": "pg", "conn_str": conn_str, "schema_name": schema_name})
            }
        }
    }

    fn from_json(v: &serde_json::Value) -> Option<Spec> {
        let s = |k: &str| v[k].as_str().map(String::from);
        match v["kind"].as_str()? {
            "local" => Some(Spec::Local {
                path: PathBuf::from(s("path")?),
            }),
            "pg" => Some(Spec::Pg {
                conn_str: s("conn_str")?,
                schema_name: s("schema_name")?,
            }),
            _ => None,
        }
    }
}

/// What the last `terrane init` recorded: the backend it set up and its `-backend-config`
/// values.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub spec: Spec,
    pub overrides: BTreeMap<String, String>,
}

fn record_path(dir: &Path) -> PathBuf {
    dir.join(".terrane").join("backend.json")
}

pub fn recorded(ctx: &Ctx) -> Option<Recorded> {
    let text = std::fs::read_to_string(record_path(&ctx.dir)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let overrides = v["backend_config"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Some(Recorded {
        spec: Spec::from_json(&v["backend"])?,
        overrides,
    })
}

/// Records what init set up. The file may hold a connection string with its password, as
/// Terraform's `.terraform/terraform.tfstate` does: it is written 0600.
pub fn record(
    ctx: &Ctx,
    spec: &Spec,
    overrides: &BTreeMap<String, String>,
) -> Result<(), Diagnostics> {
    let p = record_path(&ctx.dir);
    let fail = |e: std::io::Error| {
        Diagnostics::from(Diagnostic::error(
            "Failed to record the backend",
            format!("{}: {e}", p.display()),
        ))
    };
    std::fs::create_dir_all(p.parent().unwrap_or(Path::new("."))).map_err(fail)?;
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "backend": spec.to_json(),
        "backend_config": overrides,
    }))
    .unwrap_or_default();
    write_private(&p, &text).map_err(fail)
}

#[cfg(unix)]
fn write_private(p: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(p)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(p: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(p, text)
}

/// `-backend-config` values: `KEY=VALUE`, or a file of `key = value` lines (HCL), in order.
pub fn backend_config(args: &[String]) -> Result<BTreeMap<String, String>, Diagnostics> {
    let mut out = BTreeMap::new();
    for a in args {
        match a.split_once('=') {
            Some((k, v)) if !k.is_empty() && !k.contains('/') && !Path::new(a).exists() => {
                out.insert(k.trim().to_string(), v.to_string());
            }
            _ => {
                let values = terrane_engine::config::load_var_file_values(Path::new(a))?;
                for (k, v) in values {
                    let text = match v {
                        Value::String(s) => s,
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        other => {
                            return Err(super::err(
                                "Invalid backend setting",
                                format!("{a}: {k} must be a string, not {}.", other.type_name()),
                            ))
                        }
                    };
                    out.insert(k, text);
                }
            }
        }
    }
    Ok(out)
}

/// Whether this directory has a state to read: a configured database, or the local file.
pub fn state_here(ctx: &Ctx) -> Result<bool, Diagnostics> {
    let overrides = recorded(ctx).map(|r| r.overrides).unwrap_or_default();
    Ok(match resolve(ctx, &overrides)? {
        Spec::Local { path } => path.exists(),
        Spec::Pg { .. } => true,
    })
}

/// The workspace in the backend this directory uses.
pub fn open(ctx: &Ctx) -> Result<Workspace, Diagnostics> {
    let overrides = recorded(ctx).map(|r| r.overrides).unwrap_or_default();
    resolve(ctx, &overrides)?.open(&ctx.workspace)
}

/// The backend the configuration names, with `overrides` (`-backend-config` values) over the
/// block's arguments, and the environment under both.
pub fn resolve(ctx: &Ctx, overrides: &BTreeMap<String, String>) -> Result<Spec, Diagnostics> {
    let local = Spec::Local {
        path: ctx.state_path.clone(),
    };
    if ctx.state_explicit {
        return Ok(local);
    }
    let Some(b) = terrane_engine::config::load_backend(&ctx.dir)? else {
        return Ok(local);
    };
    let text = |k: &str| -> Result<Option<String>, Diagnostics> {
        if let Some(v) = overrides.get(k) {
            return Ok(Some(v.clone()));
        }
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
            only(&b, LOCAL, overrides)?;
            Ok(match text("path")? {
                Some(p) => Spec::Local {
                    path: ctx.dir.join(p),
                },
                None => local,
            })
        }
        "pg" => {
            only(&b, PG, overrides)?;
            let env = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
            let conn_str = text("conn_str")?
                .or_else(|| env("PG_CONN_STR"))
                .ok_or_else(|| {
                    at(
                    &b,
                    "Missing backend argument",
                    "backend \"pg\" needs conn_str, from the block, -backend-config=conn_str=... \
                     at init, or the PG_CONN_STR environment variable \
                     (postgres://user@host:5432/database)."
                        .to_string(),
                )
                })?;
            let schema_name = text("schema_name")?
                .or_else(|| env("PG_SCHEMA_NAME"))
                .unwrap_or_else(|| terrane_state_pg::DEFAULT_SCHEMA.to_string());
            Ok(Spec::Pg {
                conn_str,
                schema_name,
            })
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
            Ok(local)
        }
    }
}

fn at(b: &BackendConfig, summary: &str, detail: String) -> Diagnostics {
    Diagnostic::error(summary, detail)
        .with_range(Some(b.range.clone()))
        .into()
}

/// An argument the backend does not take is an error naming those it takes.
fn only(
    b: &BackendConfig,
    known: &[&str],
    overrides: &BTreeMap<String, String>,
) -> Result<(), Diagnostics> {
    let unknown = b
        .settings
        .keys()
        .chain(overrides.keys())
        .find(|k| !known.contains(&k.as_str()));
    match unknown {
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

/// Reads other workspaces' outputs for `data "terraform_remote_state"`, from the backends this
/// binary has: `local` (`config.path`, relative to the working directory; default
/// `terrane.state.db`) and `pg` (`config.conn_str` / `schema_name`, or `PG_CONN_STR` /
/// `PG_SCHEMA_NAME`, as the backend block takes them).
pub struct RemoteStates {
    pub dir: PathBuf,
}

impl terrane_provider_builtin::remote::Reader for RemoteStates {
    fn outputs(
        &self,
        backend: &str,
        config: &Value,
        workspace: &str,
    ) -> Result<Option<Vec<terrane_provider_builtin::remote::RemoteOutput>>, String> {
        let setting = |k: &str, env: &str| {
            config
                .get(k)
                .and_then(Value::as_str)
                .map(String::from)
                .or_else(|| std::env::var(env).ok().filter(|s| !s.is_empty()))
        };
        let spec = match backend {
            "local" => {
                let path = config
                    .get("path")
                    .and_then(Value::as_str)
                    .unwrap_or(terrane_engine::workspace::DEFAULT_FILE);
                let path = self.dir.join(path);
                if !path.exists() {
                    return Ok(None);
                }
                Spec::Local { path }
            }
            "pg" => Spec::Pg {
                conn_str: setting("conn_str", "PG_CONN_STR")
                    .ok_or("config.conn_str (or PG_CONN_STR) is required for the pg backend")?,
                schema_name: setting("schema_name", "PG_SCHEMA_NAME")
                    .unwrap_or_else(|| terrane_state_pg::DEFAULT_SCHEMA.to_string()),
            },
            other => {
                return Err(format!(
                    "backend {other:?} is not supported here (local and pg are)"
                ))
            }
        };
        let ws = spec.open(workspace).map_err(|d| d.to_string())?;
        if !ws.exists(workspace).map_err(|d| d.to_string())? {
            return Ok(None);
        }
        let outputs = ws.outputs().map_err(|d| d.to_string())?;
        Ok(Some(
            outputs
                .into_iter()
                .map(|o| terrane_provider_builtin::remote::RemoteOutput {
                    name: o.name,
                    value: Value::from_json(&o.value),
                    sensitive: o.sensitive,
                })
                .collect(),
        ))
    }
}
