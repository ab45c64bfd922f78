//! plan, apply, destroy.

use std::io::Write;
use std::sync::Arc;

use terrane_core::{Diagnostic, Diagnostics, InstanceAddr};
use terrane_engine::config::Config;
use terrane_engine::render::{apply_summary, render_plan, Style};
use terrane_engine::{check_saved_plan, load_config, Plan, PlanOptions, Session, SessionOptions};
use terrane_state::{RunCounts, Store};

use super::args::{LockArgs, PlanArgs};
use super::{err, ui, vars, CmdResult, Ctx};

/// Releases the workspace lock when dropped, whatever happened.
pub struct LockGuard<'a> {
    store: &'a Store,
    ws: String,
    id: String,
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        let _ = self.store.release_lock(&self.ws, &self.id);
    }
}

pub fn lock<'a>(
    ctx: &Ctx,
    store: &'a Store,
    command: &str,
    args: &LockArgs,
) -> Result<LockGuard<'a>, Diagnostics> {
    let timeout = super::args::parse_duration(&args.lock_timeout).ok_or_else(|| {
        err(
            "Invalid -lock-timeout",
            format!("{:?} is not a duration like 30s or 2m.", args.lock_timeout),
        )
    })?;
    store
        .workspace(&ctx.workspace)
        .map_err(|e| err("Failed to open state", e.to_string()))?;
    match store.acquire_lock(&ctx.workspace, command, timeout) {
        Ok(o) => {
            if let Some(stale) = o.took_over {
                ui::print_diags(
                    &Diagnostic::warning("Took over a stale state lock", format!("The lock was held by {stale}, but that process no longer exists on this host. Its run was interrupted; anything it left in flight is reconciled now.")).into(),
                    ctx.color,
                );
            }
            Ok(LockGuard { store, ws: ctx.workspace.clone(), id: o.held.id })
        }
        Err(terrane_state::StateError::Locked(holder)) => Err(err(
            "Error acquiring the state lock",
            format!("The state of workspace {:?} is locked by {holder}.\n\nTerrane waited {} for it. Wait for that run to finish, or pass a longer -lock-timeout. If that process is gone on another host, remove the lock with: terrane force-unlock {}", ctx.workspace, args.lock_timeout, holder.id),
        )),
        Err(e) => Err(err("Failed to lock state", e.to_string())),
    }
}

pub fn load(ctx: &Ctx) -> Result<Config, Diagnostics> {
    let (config, warnings) = load_config(&ctx.dir)?;
    if !warnings.is_empty() {
        ui::print_diags(&warnings, ctx.color);
    }
    Ok(config)
}

fn options(args: &PlanArgs, destroy: bool) -> Result<PlanOptions, Diagnostics> {
    let mut replace = Vec::new();
    for r in &args.replace {
        replace.push(
            InstanceAddr::parse(r).map_err(|e| err("Invalid -replace address", e.to_string()))?,
        );
    }
    for t in &args.targets {
        if InstanceAddr::parse(t).is_err() && !t.starts_with("module.") {
            return Err(err(
                "Invalid -target address",
                format!("{t:?} is not a resource, instance or module address."),
            ));
        }
    }
    Ok(PlanOptions {
        destroy,
        refresh: args.refresh,
        targets: args.targets.clone(),
        replace,
    })
}

fn session(
    ctx: &Ctx,
    config: Config,
    inputs: std::collections::BTreeMap<String, terrane_core::Value>,
    parallelism: usize,
) -> Result<Session, Diagnostics> {
    let registry = super::plugins::registry(ctx, &config)?;
    Session::new(
        config,
        registry,
        SessionOptions {
            workspace: ctx.workspace.clone(),
            inputs,
            validate_only: false,
            parallelism: parallelism.max(1),
        },
    )
}

fn print_plan(ctx: &Ctx, plan: &Plan, json: bool) {
    if !plan.warnings.is_empty() {
        if json {
            for w in &plan.warnings {
                println!("{}", ui::diag_json(w));
            }
        } else {
            ui::print_diags(&Diagnostics(plan.warnings.clone()), ctx.color);
        }
    }
    if json {
        for d in &plan.drift {
            println!(
                "{}",
                serde_json::json!({"type": "resource_drift", "address": d.addr.to_string(), "deleted": d.after.is_none()})
            );
        }
        for c in plan
            .changes
            .iter()
            .filter(|c| !matches!(c.action, terrane_engine::Action::NoOp))
        {
            println!(
                "{}",
                serde_json::json!({"type": "planned_change", "address": c.addr.to_string(), "action": c.action.as_str(), "reason": c.reason, "requires_replace": c.requires_replace})
            );
        }
        let n = plan.counts();
        println!(
            "{}",
            serde_json::json!({"type": "change_summary", "changes": {"add": n.add, "change": n.change, "remove": n.destroy, "operation": if plan.destroy { "destroy" } else { "plan" }}})
        );
    } else {
        print!("{}", render_plan(plan, &Style { color: ctx.color }));
    }
}

pub async fn plan(
    ctx: &Ctx,
    args: &PlanArgs,
    out: Option<&str>,
    detailed: bool,
    destroy: bool,
) -> CmdResult {
    let config = load(ctx)?;
    let (inputs, warnings) = vars::collect(&config, &args.vars, args.input)?;
    if !warnings.is_empty() {
        ui::print_diags(&Diagnostics(warnings), ctx.color);
    }
    let store = ctx.open_store()?;
    let _lock = lock(ctx, &store, "terrane plan", &args.lock)?;
    let mut s = session(ctx, config, inputs, args.parallelism)?;
    s.load_state(&store)?;
    let plan = s.plan(Some(&store), &options(args, destroy)?).await?;
    print_plan(ctx, &plan, args.json);
    if let Some(path) = out {
        write_private(path, plan.to_json().to_string().as_bytes())
            .map_err(|e| err("Failed to write plan file", format!("{path}: {e}")))?;
        if !args.json {
            println!("\nSaved the plan to: {path}\n\nTo perform exactly these actions, run the following command to apply:\n    terrane apply {path}");
        }
    }
    Ok(if detailed && plan.has_changes() { 2 } else { 0 })
}

pub async fn import(
    ctx: &Ctx,
    address: &str,
    id: &str,
    var_args: &super::args::VarArgs,
    lock_args: &LockArgs,
    input: bool,
) -> CmdResult {
    let addr = InstanceAddr::parse(address).map_err(|e| err("Invalid address", e.to_string()))?;
    let config = load(ctx)?;
    let (inputs, _) = vars::collect(&config, var_args, input)?;
    let store = ctx.open_store()?;
    let _lock = lock(ctx, &store, "terrane import", lock_args)?;
    let mut s = session(ctx, config, inputs, 10)?;
    s.load_state(&store)?;
    let si = s.import(&store, &addr, id).await?;
    let run = store
        .begin_run(&ctx.workspace, "terrane import")
        .map_err(|e| err("Failed to write state", e.to_string()))?;
    let _ = store.finish_run(run, "ok", RunCounts::default());
    println!("{addr}: Importing from ID {id:?}...\n{addr}: Import prepared!\n\nImport successful!\n\nThe resource is now managed by Terrane ({} attributes recorded). Run plan to see whether the configuration matches it.", si.value.as_map().map(|m| m.len()).unwrap_or(0));
    Ok(0)
}

fn write_private(path: &str, data: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)
}

pub async fn apply(
    ctx: &Ctx,
    args: &PlanArgs,
    auto_approve: bool,
    destroy: bool,
    plan_file: Option<&str>,
) -> CmdResult {
    let config = load(ctx)?;
    let store = ctx.open_store()?;
    let command = if destroy {
        "terrane destroy"
    } else {
        "terrane apply"
    };
    let (mut s, plan, guard) = match plan_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| err("Failed to read plan file", format!("{path}: {e}")))?;
            let j: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| err("Invalid plan file", format!("{path}: {e}")))?;
            let plan = Plan::from_json(&j)
                .map_err(|e| err("Invalid plan file", format!("{path}: {e}")))?;
            if plan.workspace != ctx.workspace {
                return Err(err(
                    "Saved plan is for another workspace",
                    format!(
                        "The plan was made for workspace {:?}; the current workspace is {:?}.",
                        plan.workspace, ctx.workspace
                    ),
                ));
            }
            let lock_guard = lock(ctx, &store, command, &args.lock)?;
            let meta = store
                .workspace(&ctx.workspace)
                .map_err(|e| err("Failed to read state", e.to_string()))?;
            check_saved_plan(&plan, &config.fingerprint(), &meta.lineage, meta.serial)
                .map_err(Diagnostics::from)?;
            let mut s = session(ctx, config, plan.variables.clone(), args.parallelism)?;
            s.load_state(&store)?;
            return run_apply(ctx, &store, &mut s, &plan, args.json, command, lock_guard).await;
        }
        None => {
            let (inputs, warnings) = vars::collect(&config, &args.vars, args.input)?;
            if !warnings.is_empty() {
                ui::print_diags(&Diagnostics(warnings), ctx.color);
            }
            let lock_guard = lock(ctx, &store, command, &args.lock)?;
            let mut s = session(ctx, config, inputs, args.parallelism)?;
            s.load_state(&store)?;
            let plan = s.plan(Some(&store), &options(args, destroy)?).await?;
            print_plan(ctx, &plan, args.json);
            if !plan.has_changes() {
                if !args.json {
                    println!("\n{}", apply_summary(destroy, 0, 0, 0));
                }
                // Refreshed values and outputs are still recorded.
                let (_tx, rx) = tokio::sync::watch::channel(0u8);
                let run = store
                    .begin_run(&ctx.workspace, command)
                    .map_err(|e| err("Failed to write state", e.to_string()))?;
                let o = s
                    .apply(
                        &plan,
                        &store,
                        run,
                        Arc::new(terrane_engine::events::NullSink),
                        rx,
                    )
                    .await;
                let _ = store.finish_run(run, "ok", RunCounts::default());
                if o.diags.has_errors() {
                    return Err(o.diags);
                }
                drop(lock_guard);
                return Ok(0);
            }
            if !auto_approve {
                let (q, d) = if destroy {
                    ("Do you really want to destroy all resources?", "Terrane will destroy all your managed infrastructure, as shown above.\n  There is no undo.")
                } else {
                    (
                        "Do you want to perform these actions?",
                        "Terrane will perform the actions described above.",
                    )
                };
                if !ui::confirm(q, d, args.input)? {
                    println!("\nApply cancelled.");
                    return Ok(1);
                }
            }
            (s, plan, lock_guard)
        }
    };
    run_apply(ctx, &store, &mut s, &plan, args.json, command, guard).await
}

async fn run_apply(
    ctx: &Ctx,
    store: &Store,
    s: &mut Session,
    plan: &Plan,
    json: bool,
    command: &str,
    _lock: LockGuard<'_>,
) -> CmdResult {
    let run = store
        .begin_run(&ctx.workspace, command)
        .map_err(|e| err("Failed to write state", e.to_string()))?;
    let (tx, rx) = tokio::sync::watch::channel(terrane_engine::events::CANCEL_NONE);
    let signals = tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            tokio::select! {
                r = tokio::signal::ctrl_c() => { if r.is_err() { return; } }
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
            let next = (*tx.borrow() + 1).min(terrane_engine::events::CANCEL_HARD);
            let _ = tx.send(next);
            if next == terrane_engine::events::CANCEL_HARD {
                return;
            }
        }
    });
    let progress = ui::Progress::new(json, ctx.color);
    let ticker = progress.spawn_ticker();
    if !json {
        println!();
    }
    let out = s.apply(plan, store, run, progress.clone(), rx).await;
    ticker.abort();
    signals.abort();
    let result = if out.interrupted {
        "interrupted"
    } else if out.ok() {
        "ok"
    } else {
        "failed"
    };
    let counts = RunCounts {
        added: out.added as i64,
        changed: out.changed as i64,
        destroyed: out.destroyed as i64,
        failed: out.failed.len() as i64,
    };
    let _ = store.finish_run(run, result, counts);
    if json {
        for d in out.diags.iter() {
            println!("{}", ui::diag_json(d));
        }
        println!(
            "{}",
            serde_json::json!({"type": "change_summary", "changes": {"add": out.added, "change": out.changed, "remove": out.destroyed, "failed": out.failed.len(), "skipped": out.skipped.len(), "operation": if plan.destroy { "destroy" } else { "apply" }}, "result": result})
        );
    } else {
        ui::print_diags(&out.diags, ctx.color);
    }
    if out.ok() {
        if !json {
            println!(
                "\n{}",
                apply_summary(plan.destroy, out.added, out.changed, out.destroyed)
            );
            if !plan.destroy {
                print_outputs(store, &ctx.workspace);
            }
        }
        return Ok(0);
    }
    if !json {
        let what = if out.interrupted {
            "Apply interrupted"
        } else {
            "Apply failed"
        };
        println!(
            "\n{what}! Resources: {} added, {} changed, {} destroyed; {} failed, {} not started.",
            out.added,
            out.changed,
            out.destroyed,
            out.failed.len(),
            out.skipped.len()
        );
        for (a, _) in &out.failed {
            println!("  failed:      {a}");
        }
        for a in &out.skipped {
            println!("  not started: {a}");
        }
        println!(
            "State records every finished step; run apply again to finish, or destroy to clean up."
        );
    }
    Ok(1)
}

fn print_outputs(store: &Store, ws: &str) {
    let Ok(outs) = store.outputs(ws) else { return };
    if outs.is_empty() {
        return;
    }
    println!("\nOutputs:\n");
    for o in outs {
        let v = if o.sensitive {
            "<sensitive>".to_string()
        } else {
            terrane_core::Value::from_json(&o.value).to_string()
        };
        println!("{} = {v}", o.name);
    }
}
