//! plan, apply, destroy.

use std::io::Write;
use std::sync::Arc;

use terrane_core::{Diagnostics, InstanceAddr};
use terrane_engine::config::Config;
use terrane_engine::render::{apply_summary, render_plan, Style};
use terrane_engine::{load_config, Applied, Locked, Plan, PlanOptions, Run, RunOptions, Workspace};

use super::args::{LockArgs, PlanArgs};
use super::{err, machine, ui, vars, CmdResult, Ctx};

/// Takes the workspace lock for `command` (printing the warning when a stale one is taken over).
pub fn lock<'w>(
    ctx: &Ctx,
    ws: &'w Workspace,
    command: &str,
    args: &LockArgs,
) -> Result<Locked<'w>, Diagnostics> {
    let timeout = super::args::parse_duration(&args.lock_timeout).ok_or_else(|| {
        err(
            "Invalid -lock-timeout",
            format!("{:?} is not a duration like 30s or 2m.", args.lock_timeout),
        )
    })?;
    let locked = ws.lock(command, timeout)?;
    if !locked.warnings().is_empty() {
        ui::print_diags(locked.warnings(), ctx.color);
    }
    Ok(locked)
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
    for (flag, addrs) in [("-target", &args.targets), ("-exclude", &args.excludes)] {
        for t in addrs {
            if InstanceAddr::parse(t).is_err() && !t.starts_with("module.") {
                return Err(err(
                    &format!("Invalid {flag} address"),
                    format!("{t:?} is not a resource, instance or module address."),
                ));
            }
        }
    }
    if !args.targets.is_empty() && !args.excludes.is_empty() {
        return Err(err(
            "Incompatible command-line options",
            "The -target and -exclude options are mutually-exclusive.",
        ));
    }
    if args.refresh_only && (destroy || !args.refresh) {
        return Err(err(
            "Incompatible command-line options",
            if destroy {
                "The -refresh-only and -destroy options are mutually-exclusive."
            } else {
                "The -refresh-only and -refresh=false options are mutually-exclusive."
            },
        ));
    }
    Ok(PlanOptions {
        destroy,
        refresh_only: args.refresh_only,
        refresh: args.refresh,
        targets: args.targets.clone(),
        excludes: args.excludes.clone(),
        replace,
    })
}

pub fn run<'l, 'w>(
    ctx: &Ctx,
    locked: &'l Locked<'w>,
    config: Config,
    inputs: std::collections::BTreeMap<String, terrane_core::Value>,
    parallelism: usize,
) -> Result<Run<'l, 'w>, Diagnostics> {
    let registry = super::plugins::registry(ctx, &config)?;
    locked.run(
        config,
        registry,
        RunOptions {
            inputs,
            parallelism,
        },
    )
}

fn print_plan(ctx: &Ctx, plan: &Plan, json: bool) {
    if json {
        println!("{}", machine::version());
        for r in &plan.refreshed {
            for l in machine::refresh(r) {
                println!("{l}");
            }
        }
    }
    if !plan.warnings.is_empty() {
        if json {
            for w in &plan.warnings {
                println!("{}", machine::diagnostic(w));
            }
        } else {
            ui::print_diags(&Diagnostics(plan.warnings.clone()), ctx.color);
        }
    }
    if json {
        for d in &plan.drift {
            println!(
                "{}",
                machine::drift(
                    &d.addr,
                    d.after.is_none(),
                    serde_json::json!({"address": d.addr.to_string(), "deleted": d.after.is_none()})
                )
            );
        }
        for c in plan
            .changes
            .iter()
            .filter(|c| !matches!(c.action, terrane_engine::Action::NoOp))
        {
            println!(
                "{}",
                machine::planned_change(
                    &c.addr,
                    c.action,
                    serde_json::json!({"address": c.addr.to_string(), "action": c.action.as_str(), "reason": c.reason, "requires_replace": c.requires_replace})
                )
            );
        }
        let n = plan.counts();
        // The operation is "plan" for the plan of a destroy too, as in Terraform.
        println!(
            "{}",
            machine::change_summary(
                "plan",
                n.add,
                n.change,
                n.destroy,
                plan.imports.len(),
                serde_json::json!({})
            )
        );
        let outputs: serde_json::Map<String, serde_json::Value> = plan
            .outputs
            .iter()
            .map(|o| {
                let action = match (&o.before, &o.after) {
                    (None, Some(_)) => "create",
                    (Some(_), None) => "delete",
                    (Some(b), Some(a)) if b == a => "noop",
                    (Some(_), Some(_)) => "update",
                    (None, None) => "noop",
                };
                (
                    o.name.clone(),
                    serde_json::json!({"sensitive": o.sensitive, "action": action}),
                )
            })
            .collect();
        if !outputs.is_empty() {
            println!("{}", machine::outputs(outputs));
        }
    } else {
        print!(
            "{}",
            terrane_core::redact::mask(&render_plan(plan, &Style { color: ctx.color }))
        );
    }
}

/// `terrane console`: each line of standard input evaluated and printed as Terraform's console
/// prints it; the first error ends it with exit code 1 when the input is not a terminal.
pub async fn console(ctx: &Ctx, args: &PlanArgs) -> CmdResult {
    use std::io::{BufRead, IsTerminal};
    let config = load(ctx)?;
    let (inputs, warnings) = vars::collect(&config, &args.vars, args.input)?;
    if !warnings.is_empty() {
        ui::print_diags(&Diagnostics(warnings), ctx.color);
    }
    let ws = ctx.open_workspace()?;
    let locked = lock(ctx, &ws, "terrane console", &args.lock)?;
    let mut r = run(ctx, &locked, config, inputs, args.parallelism)?;
    let mut opts = options(args, false)?;
    opts.refresh = false;
    let eval = r.console(&opts).await?;
    let interactive = std::io::stdin().is_terminal();
    let mut failed = false;
    let stdin = std::io::stdin();
    loop {
        if interactive {
            print!("> ");
            let _ = std::io::stdout().flush();
        }
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if text == "exit" {
            break;
        }
        match eval(text, &[]) {
            Ok((v, sensitive)) => {
                let shown = if sensitive {
                    "(sensitive value)".to_string()
                } else {
                    terrane_engine::render::console_value(&v)
                };
                println!("{}", terrane_core::redact::mask(&shown));
            }
            Err(d) => {
                ui::print_diags(&d, ctx.color);
                failed = true;
                if !interactive {
                    break;
                }
            }
        }
    }
    Ok(i32::from(failed))
}

/// `plan -generate-config-out=FILE`: configuration for the objects of the `import` blocks
/// whose resources are not declared, read from their providers and written to `path` (a new
/// file) before the plan; the plan then uses it.
pub async fn generate_config(ctx: &Ctx, args: &PlanArgs, path: &str) -> Result<(), Diagnostics> {
    let target = ctx.dir.join(path);
    if target.exists() {
        return Err(err(
            "Target generated file already exists",
            format!("{path} exists: -generate-config-out writes a new file and never overwrites one. Choose another name or remove it."),
        ));
    }
    let config = load(ctx)?;
    let (inputs, _) = vars::collect(&config, &args.vars, args.input)?;
    let ws = ctx.open_workspace()?;
    let missing = {
        let locked = lock(ctx, &ws, "terrane plan", &args.lock)?;
        let r = run(ctx, &locked, config, inputs.clone(), args.parallelism)?;
        let m = r.session().missing_import_targets();
        drop(r);
        m
    };
    if missing.is_empty() {
        return Ok(());
    }
    if let Some(t) = missing
        .iter()
        .find(|t| t.key != terrane_core::InstanceKey::None)
    {
        return Err(err(
            "Configuration generation not supported",
            format!("{t} is an instance of a resource with count or for_each: -generate-config-out writes configuration for import blocks without for_each; declare the resource yourself."),
        ));
    }
    // Placeholders first, so that the resources exist to import into.
    let mut placeholders = String::new();
    let mut seen = std::collections::BTreeSet::new();
    for t in &missing {
        if seen.insert(t.resource.clone()) {
            placeholders.push_str(&format!(
                "resource {:?} {:?} {{}}\n",
                t.resource.ty.as_ref(),
                t.resource.name.as_ref()
            ));
        }
    }
    std::fs::write(&target, &placeholders).map_err(|e| {
        err(
            "Failed to write generated configuration",
            format!("{path}: {e}"),
        )
    })?;
    let generated = async {
        let config = load(ctx)?;
        let locked = lock(ctx, &ws, "terrane plan", &args.lock)?;
        let mut r = run(ctx, &locked, config, inputs, args.parallelism)?;
        r.generate_import_config(&missing).await
    }
    .await;
    match generated {
        Ok(text) => {
            std::fs::write(&target, text).map_err(|e| {
                err(
                    "Failed to write generated configuration",
                    format!("{path}: {e}"),
                )
            })?;
            if !args.json {
                println!("Terrane has generated configuration for {} imported object(s) and written it to {path}. Review it and edit it as needed before adding it to version control.\n", missing.len());
            }
            Ok(())
        }
        Err(d) => {
            let _ = std::fs::remove_file(&target);
            Err(d)
        }
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
    let ws = ctx.open_workspace()?;
    let locked = lock(ctx, &ws, "terrane plan", &args.lock)?;
    let mut r = run(ctx, &locked, config, inputs, args.parallelism)?;
    let plan = r.plan(&options(args, destroy)?).await?;
    print_plan(ctx, &plan, args.json);
    if let Some(path) = out {
        write_private(path, plan.to_json().to_string().as_bytes())
            .map_err(|e| err("Failed to write plan file", format!("{path}: {e}")))?;
        if !args.json {
            println!("\nSaved the plan to: {path}\n\nTo perform exactly these actions, run the following command to apply:\n    terrane apply {path}");
        }
    }
    let code = if detailed && plan.has_changes() { 2 } else { 0 };
    leave(r, plan);
    Ok(code)
}

/// The process exits after this command, and at 100,000 resources freeing the session and the
/// plan one allocation at a time takes most of a second that the OS does at once. The lock is
/// not in them: `Locked` is dropped as usual and releases it.
fn leave(r: Run<'_, '_>, plan: Plan) {
    std::mem::forget(r);
    std::mem::forget(plan);
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
    let ws = ctx.open_workspace()?;
    let locked = lock(ctx, &ws, "terrane import", lock_args)?;
    let si = run(ctx, &locked, config, inputs, 10)?
        .import(&addr, id)
        .await?;
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
    let ws = ctx.open_workspace()?;
    let command = if destroy {
        "terrane destroy"
    } else {
        "terrane apply"
    };
    if let Some(path) = plan_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err("Failed to read plan file", format!("{path}: {e}")))?;
        let j: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| err("Invalid plan file", format!("{path}: {e}")))?;
        let plan =
            Plan::from_json(&j).map_err(|e| err("Invalid plan file", format!("{path}: {e}")))?;
        // Said before taking the lock: nothing of this workspace is touched.
        ws.accepts(&plan)?;
        let locked = lock(ctx, &ws, command, &args.lock)?;
        let registry = super::plugins::registry(ctx, &config)?;
        let mut r = locked.saved(&plan, config, registry, args.parallelism)?;
        if args.json {
            println!("{}", machine::version());
        }
        let code = run_apply(ctx, &mut r, &plan, args.json).await;
        leave(r, plan);
        return code;
    }
    let (inputs, warnings) = vars::collect(&config, &args.vars, args.input)?;
    if !warnings.is_empty() {
        ui::print_diags(&Diagnostics(warnings), ctx.color);
    }
    let locked = lock(ctx, &ws, command, &args.lock)?;
    let mut r = run(ctx, &locked, config, inputs, args.parallelism)?;
    let plan = r.plan(&options(args, destroy)?).await?;
    print_plan(ctx, &plan, args.json);
    if !plan.has_changes() {
        if !args.json {
            println!("\n{}", apply_summary(destroy, 0, 0, 0));
        }
        // Refreshed values and outputs are still recorded.
        let (_tx, rx) = tokio::sync::watch::channel(terrane_engine::events::CANCEL_NONE);
        let applied = r
            .apply(&plan, Arc::new(terrane_engine::events::NullSink), rx)
            .await?;
        if applied.outcome.diags.has_errors() {
            return Err(applied.outcome.diags);
        }
        if args.json {
            let op = if destroy { "destroy" } else { "apply" };
            println!(
                "{}",
                machine::change_summary(op, 0, 0, 0, 0, serde_json::json!({}))
            );
        }
        leave(r, plan);
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
    let code = run_apply(ctx, &mut r, &plan, args.json).await;
    leave(r, plan);
    code
}

/// Ctrl-C or SIGTERM: the first stops starting new steps, the second abandons calls in flight.
pub(super) fn cancel_on_signals() -> (
    tokio::sync::watch::Receiver<u8>,
    tokio::task::JoinHandle<()>,
) {
    use terrane_engine::events::{CANCEL_HARD, CANCEL_NONE};
    let (tx, rx) = tokio::sync::watch::channel(CANCEL_NONE);
    let signals = tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            tokio::select! {
                r = tokio::signal::ctrl_c() => { if r.is_err() { return; } }
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
            let next = (*tx.borrow() + 1).min(CANCEL_HARD);
            let _ = tx.send(next);
            if next == CANCEL_HARD {
                return;
            }
        }
    });
    (rx, signals)
}

async fn run_apply(ctx: &Ctx, r: &mut Run<'_, '_>, plan: &Plan, json: bool) -> CmdResult {
    let (rx, signals) = cancel_on_signals();
    let progress = ui::Progress::new(json, ctx.color);
    let ticker = progress.spawn_ticker();
    if !json {
        println!();
    }
    let applied = r.apply(plan, progress.clone(), rx).await;
    ticker.abort();
    signals.abort();
    progress.flush();
    let Applied {
        outcome: out,
        result,
        outputs,
        ..
    } = applied?;
    let result = result.as_str();
    if json {
        for d in out.diags.iter() {
            println!("{}", machine::diagnostic(d));
        }
        let operation = if plan.destroy { "destroy" } else { "apply" };
        let summary = machine::change_summary(
            operation,
            out.added,
            out.changed,
            out.destroyed,
            plan.imports.len(),
            serde_json::json!({"result": result}),
        );
        // Terrane's counts of failed and not-started steps, beside Terraform's.
        let mut summary: serde_json::Value = serde_json::from_str(&summary).expect("a JSON line");
        summary["changes"]["failed"] = out.failed.len().into();
        summary["changes"]["skipped"] = out.skipped.len().into();
        if !out.ok() {
            summary["@level"] = "error".into();
            summary["@message"] = format!(
                "{}! Resources: {} added, {} changed, {} destroyed; {} failed, {} not started.",
                if out.interrupted {
                    "Apply interrupted"
                } else {
                    "Apply failed"
                },
                out.added,
                out.changed,
                out.destroyed,
                out.failed.len(),
                out.skipped.len()
            )
            .into();
        }
        println!("{summary}");
        if out.ok() && !plan.destroy && !outputs.is_empty() {
            let outputs: serde_json::Map<String, serde_json::Value> = outputs
                .iter()
                .map(|o| {
                    let mut v = serde_json::json!({"sensitive": o.sensitive, "type": terrane_core::Value::from_json(&o.value).type_json()});
                    if !o.sensitive {
                        v["value"] = o.value.clone();
                    }
                    (o.name.clone(), v)
                })
                .collect();
            println!("{}", machine::outputs(outputs));
        }
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
                print_outputs(&outputs);
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

fn print_outputs(outs: &[terrane_engine::workspace::OutputRecord]) {
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
        println!("{} = {}", o.name, terrane_core::redact::mask(&v));
    }
}
