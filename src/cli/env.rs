//! `terrane env up | down | list | show`: per-branch environments (names, rules and expiry in
//! `terrane_engine::environments`), each a workspace of the configured backend, so every CI
//! runner sharing a PostgreSQL backend sees every environment.

use std::collections::BTreeMap;

use terrane_core::Diagnostics;
use terrane_engine::environments::{self, EnvMeta, Rules};

use super::args::{EnvCommand, NukeArgs, NukeDelete, NukeSelect, PlanArgs};
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
        EnvCommand::Gc {
            dry_run,
            prefix,
            account,
            regions,
            args,
            auto_approve,
        } => {
            if let Some(p) = prefix {
                rules.prefix = p;
            }
            let gc = Gc {
                dry_run,
                account,
                regions,
                args,
                auto_approve,
            };
            gc.run(ctx, &rules).await
        }
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

/// `env gc`.
struct Gc {
    dry_run: bool,
    account: Option<String>,
    regions: Vec<String>,
    args: PlanArgs,
    auto_approve: bool,
}

impl Gc {
    async fn run(&self, ctx: &Ctx, rules: &Rules) -> CmdResult {
        let rows = rows(ctx, rules)?;
        let known: std::collections::BTreeSet<String> =
            ctx.open_workspace()?.list()?.into_iter().collect();
        let now = environments::now();
        let mut expired = Vec::new();
        for r in &rows {
            let past = r.expires.is_some_and(|t| t <= now);
            if past && rules.is_protected(&r.name) {
                println!(
                    "Kept {}: expired, but protected ({}).",
                    r.name,
                    environments::RULES_FILE
                );
            } else if past {
                expired.push(r);
            }
        }
        // Environments whose state is gone: their objects still carry their tag.
        let tagged = super::nuke::tagged_environments(ctx, &rules.prefix, &self.regions).await?;
        let orphans: Vec<(&String, &usize)> = tagged
            .iter()
            .filter(|(name, _)| !known.contains(*name) && !rules.is_protected(name))
            .collect();
        if expired.is_empty() && orphans.is_empty() {
            println!("No expired or orphaned environments.");
            return Ok(0);
        }
        println!("Environments to remove:");
        for r in &expired {
            println!(
                "  {}  branch {:?}, expired {}: destroy {} object(s), then delete its workspace",
                r.name,
                r.meta.branch,
                r.expires.map(environments::rfc3339).unwrap_or_default(),
                r.objects
            );
        }
        for (name, n) in &orphans {
            println!(
                "  {name}  no state; {n} object(s) tagged {}={name}: nuke them",
                environments::ENV_TAG
            );
        }
        if self.dry_run {
            println!("\nThis was a dry run: nothing was removed.");
            return Ok(0);
        }
        if !self.auto_approve
            && !super::ui::confirm(
                "Remove these environments?",
                "Terrane will destroy everything listed above. There is no undo.",
                self.args.input,
            )?
        {
            println!("\nGarbage collection cancelled.");
            return Ok(1);
        }
        let mut left = Vec::new();
        for r in expired {
            let env_ctx = in_workspace(ctx, &r.name);
            let destroyed = ops::apply(&env_ctx, &self.args, true, true, None).await;
            let ok = matches!(destroyed, Ok(0)) || {
                if let Err(d) = &destroyed {
                    super::ui::print_diags(d, ctx.color);
                }
                println!("\nThe destroy of {} failed; deleting by its tag.", r.name);
                self.nuke(&env_ctx, &r.name).await
            };
            if ok {
                let other = in_workspace(ctx, if r.name == "default" { "-" } else { "default" });
                // After a nuke the state may still name objects it could not read: forget them.
                other.open_workspace()?.delete_other(&r.name, true)?;
                println!("Removed environment {}.", r.name);
            } else {
                left.push(r.name.clone());
            }
        }
        for (name, _) in orphans {
            if self.nuke(ctx, name).await {
                println!("Removed orphaned environment {name}.");
            } else {
                left.push(name.clone());
            }
        }
        if left.is_empty() {
            Ok(0)
        } else {
            println!("\nLeft: {} (see the messages above).", left.join(", "));
            Ok(1)
        }
    }

    /// Deletes what carries the environment's tag; true when nothing selected is left.
    async fn nuke(&self, ctx: &Ctx, name: &str) -> bool {
        if self.account.is_none() {
            println!("  {name}: pass --account ID to let env gc delete its objects by tag.");
            return false;
        }
        let a = NukeArgs {
            action: None,
            select: NukeSelect {
                env: Some(name.to_string()),
                regions: self.regions.clone(),
                ..Default::default()
            },
            delete: NukeDelete {
                account: self.account.clone(),
                confirm: Some(name.to_string()),
                input: false,
                parallelism: self.args.parallelism,
                timeout: "30m".into(),
            },
            no_dry_run: true,
            json: false,
            explain: false,
        };
        match super::nuke::nuke(ctx, a).await {
            Ok(0) => true,
            Ok(_) => false,
            Err(d) => {
                super::ui::print_diags(&d, ctx.color);
                false
            }
        }
    }
}
