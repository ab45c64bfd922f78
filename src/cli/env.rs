//! `terrane env up | down | list | show`: per-branch environments (names, rules and expiry in
//! `terrane_engine::environments`), each a workspace of the configured backend, so every CI
//! runner sharing a PostgreSQL backend sees every environment.

use std::collections::BTreeMap;

use terrane_core::Diagnostics;
use terrane_engine::environments::{self, EnvMeta, Rules};

use super::args::{EnvCommand, PlanArgs};
use super::{err, ops, CmdResult, Ctx};

pub async fn env(ctx: &Ctx, cmd: EnvCommand) -> CmdResult {
    let mut rules = Rules::load(&ctx.dir)?;
    match cmd {
        EnvCommand::Up {
            branch,
            prefix,
            ttl,
            args,
            auto_approve,
        } => {
            if let Some(p) = prefix {
                rules.prefix = p;
            }
            if let Some(t) = ttl {
                rules.ttl = Some(
                    terrane_core::units::parse_duration(&t)
                        .map_err(|e| err("Invalid --ttl", format!("{t:?}: {e}")))?,
                );
            }
            up(ctx, &rules, &branch, args, auto_approve).await
        }
        EnvCommand::Down {
            branch,
            name,
            prefix,
            args,
            auto_approve,
        } => {
            if let Some(p) = prefix {
                rules.prefix = p;
            }
            let name = match (name, branch) {
                (Some(n), _) => n,
                (None, Some(b)) => rules
                    .name(&b)
                    .map_err(|e| err("No environment for this branch", e))?,
                (None, None) => {
                    return Err(err(
                        "Which environment?",
                        "Pass --branch NAME (or --name ENVIRONMENT).",
                    ))
                }
            };
            down(ctx, &rules, &name, args, auto_approve).await
        }
        EnvCommand::List { json } => list(ctx, &rules, json),
        EnvCommand::Show { name, json } => show(ctx, &rules, &name, json),
    }
}

fn in_workspace(ctx: &Ctx, name: &str) -> Ctx {
    let mut c = ctx.clone();
    c.workspace = name.to_string();
    c
}

fn secs(d: std::time::Duration) -> i64 {
    d.as_secs() as i64
}

async fn up(
    ctx: &Ctx,
    rules: &Rules,
    branch: &str,
    mut args: PlanArgs,
    auto_approve: bool,
) -> CmdResult {
    let name = rules
        .name(branch)
        .map_err(|e| err("No environment for this branch", e))?;
    let now = environments::now();
    let env_ctx = in_workspace(ctx, &name);
    // What the environment is, written before anything is applied: a run killed mid-apply
    // leaves an environment that list, down and gc know.
    let ws = env_ctx.open_workspace()?;
    let before = EnvMeta::from_metadata(&ws.metadata_of(&name)?);
    let meta = EnvMeta {
        branch: branch.to_string(),
        created: before.as_ref().map_or(now, |b| b.created),
        last_up: now,
        ttl: rules.ttl.map(secs),
        max_age: rules.max_age.map(secs),
    };
    ws.set_metadata(&meta.to_metadata())?;
    drop(ws);
    let mut tags = BTreeMap::from([
        (environments::ENV_TAG.to_string(), name.clone()),
        (environments::BRANCH_TAG.to_string(), branch.to_string()),
        (environments::MANAGED_TAG.to_string(), "terrane".to_string()),
    ]);
    if let Some(t) = meta.tag_expiry() {
        tags.insert(
            environments::EXPIRES_TAG.to_string(),
            environments::rfc3339(t),
        );
    }
    let mut env_ctx = env_ctx;
    env_ctx.default_tags = tags;
    // The variables the module declares, before the user's own -var (which win).
    let config = ops::load(ctx)?;
    let id = name
        .strip_prefix(&format!("{}-", rules.prefix))
        .unwrap_or(&name)
        .to_string();
    let mut vars: Vec<String> = [
        ("env_name", name.as_str()),
        ("branch", branch),
        ("env_id", id.as_str()),
    ]
    .into_iter()
    .filter(|(k, _)| config.root.variables.contains_key(*k))
    .map(|(k, v)| format!("{k}={v}"))
    .collect();
    vars.append(&mut args.vars.vars);
    args.vars.vars = vars;
    drop(config);
    let expiry = meta
        .expires_at()
        .map(|t| format!(", expires {}", environments::rfc3339(t)))
        .unwrap_or_default();
    if !args.json {
        println!("Environment {name} (branch {branch:?}{expiry})\n");
    }
    ops::apply(&env_ctx, &args, auto_approve, false, None).await
}

async fn down(
    ctx: &Ctx,
    rules: &Rules,
    name: &str,
    args: PlanArgs,
    auto_approve: bool,
) -> CmdResult {
    if rules.is_protected(name) {
        return Err(err(
            "Environment is protected",
            format!(
                "{name} is protected ({}): env down refuses it. Nothing was destroyed.",
                environments::RULES_FILE
            ),
        ));
    }
    let env_ctx = in_workspace(ctx, name);
    if !env_ctx.open_workspace()?.exists(name)? {
        return Err(err(
            "No such environment",
            format!("There is no environment {name:?} in this backend (see terrane env list)."),
        ));
    }
    let code = ops::apply(&env_ctx, &args, auto_approve, true, None).await?;
    if code != 0 {
        return Ok(code);
    }
    // The workspace goes too, from another workspace's handle.
    let other = in_workspace(ctx, if name == "default" { "-" } else { "default" });
    other.open_workspace()?.delete_other(name, false)?;
    println!("\nEnvironment {name} destroyed; its workspace is deleted.");
    Ok(0)
}

/// One environment as listed.
struct Row {
    name: String,
    meta: EnvMeta,
    objects: usize,
    last_apply: Option<String>,
    expires: Option<i64>,
    status: &'static str,
}

fn rows(ctx: &Ctx, rules: &Rules) -> Result<Vec<Row>, Diagnostics> {
    let ws = ctx.open_workspace()?;
    let now = environments::now();
    let mut out = Vec::new();
    for name in ws.list()? {
        let Some(meta) = EnvMeta::from_metadata(&ws.metadata_of(&name)?) else {
            continue;
        };
        let (objects, runs) = ws.summary_of(&name)?;
        let last = runs.iter().rev().find(|r| r.command.contains("apply"));
        let expires = meta.expires_at();
        let status = if rules.is_protected(&name) {
            "protected"
        } else if expires.is_some_and(|t| t <= now) {
            "expired"
        } else if last.is_some_and(|r| r.result.as_deref() != Some("ok")) {
            "failed"
        } else {
            "ok"
        };
        out.push(Row {
            last_apply: last.map(|r| r.started_at.clone()),
            name,
            meta,
            objects,
            expires,
            status,
        });
    }
    Ok(out)
}

fn row_json(r: &Row) -> serde_json::Value {
    serde_json::json!({
        "name": r.name,
        "branch": r.meta.branch,
        "created": environments::rfc3339(r.meta.created),
        "last_up": environments::rfc3339(r.meta.last_up),
        "last_apply": r.last_apply,
        "expires": r.expires.map(environments::rfc3339),
        "objects": r.objects,
        "status": r.status,
    })
}

fn list(ctx: &Ctx, rules: &Rules, json: bool) -> CmdResult {
    let rows = rows(ctx, rules)?;
    if json {
        let v: Vec<serde_json::Value> = rows.iter().map(row_json).collect();
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(0);
    }
    if rows.is_empty() {
        println!("No environments.");
        return Ok(0);
    }
    println!(
        "{:<24} {:<28} {:<21} {:<21} {:<21} {:>7}  STATUS",
        "NAME", "BRANCH", "CREATED", "LAST APPLY", "EXPIRES", "OBJECTS"
    );
    for r in &rows {
        println!(
            "{:<24} {:<28} {:<21} {:<21} {:<21} {:>7}  {}",
            r.name,
            r.meta.branch,
            environments::rfc3339(r.meta.created),
            r.last_apply.as_deref().unwrap_or("-"),
            r.expires
                .map(environments::rfc3339)
                .unwrap_or_else(|| "-".into()),
            r.objects,
            r.status
        );
    }
    Ok(0)
}

fn show(ctx: &Ctx, rules: &Rules, name: &str, json: bool) -> CmdResult {
    let Some(row) = rows(ctx, rules)?.into_iter().find(|r| r.name == name) else {
        return Err(err(
            "No such environment",
            format!("There is no environment {name:?} in this backend (see terrane env list)."),
        ));
    };
    let outputs = in_workspace(ctx, name).open_workspace()?.outputs()?;
    let shown: Vec<(String, String)> = outputs
        .iter()
        .map(|o| {
            let v = if o.sensitive {
                "(sensitive value)".to_string()
            } else {
                o.value.to_string()
            };
            (o.name.clone(), v)
        })
        .collect();
    if json {
        let mut v = row_json(&row);
        v["outputs"] = serde_json::Value::Object(
            shown
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        );
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(0);
    }
    let j = row_json(&row);
    for k in [
        "name",
        "branch",
        "created",
        "last_up",
        "last_apply",
        "expires",
        "objects",
        "status",
    ] {
        let v = match &j[k] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "-".into(),
            other => other.to_string(),
        };
        println!("{k:<11} {v}");
    }
    for (k, v) in shown {
        println!("output      {k} = {}", terrane_core::redact::mask(&v));
    }
    Ok(0)
}
