//! `terrane nuke`: plan (the default: a dry run), `nuke apply FILE`, and `nuke --no-dry-run`.
//! The selection, the plan and the deletion are `terrane-nuke`'s; this file builds the AWS
//! targets (one provider per region, configured as the SDK is), asks for the typed
//! confirmation, and renders.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use terrane_core::{Mode, Value};
use terrane_nuke::{
    ApplyOptions, Event, FilterFile, NukePlan, Report, Safety, Selection, StateObject, Target,
};

use super::args::{NukeAction, NukeArgs, NukeDelete, NukeSelect};
use super::{err, CmdResult, Ctx};

pub async fn nuke(ctx: &Ctx, a: NukeArgs) -> CmdResult {
    match a.action {
        Some(NukeAction::Plan {
            select,
            out,
            json,
            explain,
        }) => plan_and_maybe_delete(ctx, &select, out.as_deref(), json, explain, None).await,
        Some(NukeAction::Apply {
            plan_file,
            delete,
            filter,
            json,
        }) => apply_file(ctx, &plan_file, &delete, filter.as_deref(), json).await,
        None => {
            let delete = a.no_dry_run.then_some(&a.delete);
            plan_and_maybe_delete(ctx, &a.select, None, a.json, a.explain, delete).await
        }
    }
}

/// The environments whose objects carry the environment tag with a value starting with
/// `prefix-`, with how many objects each (for `env gc`, to find environments whose state is
/// gone). Searches the regions given, or AWS_REGION; none: nothing is searched.
pub(super) async fn tagged_environments(
    ctx: &Ctx,
    prefix: &str,
    regions: &[String],
) -> Result<std::collections::BTreeMap<String, usize>, terrane_core::Diagnostics> {
    let env_tag = terrane_engine::environments::ENV_TAG;
    let s = NukeSelect {
        tag_regex: vec![format!("{env_tag}=^{prefix}-")],
        regions: regions.to_vec(),
        ..Default::default()
    };
    let (sel, regions) = selection(&s, &FilterFile::default())?;
    let mut out = std::collections::BTreeMap::new();
    if regions.is_empty() {
        return Ok(out);
    }
    let compiled = sel.compile().map_err(nuke_err)?;
    let targets = targets(ctx, &regions).await?;
    let plan = terrane_nuke::plan(&targets, &compiled, None, &[], SystemTime::now())
        .await
        .map_err(nuke_err)?;
    for o in &plan.objects {
        if let Some(env) = o.tags.get(env_tag) {
            *out.entry(env.clone()).or_insert(0) += 1;
        }
    }
    Ok(out)
}

fn nuke_err(e: terrane_nuke::NukeError) -> terrane_core::Diagnostics {
    match e {
        terrane_nuke::NukeError::Refused(m) => {
            err("Nuke refused", format!("{m}. Nothing was deleted."))
        }
        other => err("Nuke failed", other.to_string()),
    }
}

fn filter_file(path: Option<&str>) -> Result<FilterFile, terrane_core::Diagnostics> {
    match path {
        Some(p) => FilterFile::read(Path::new(p)).map_err(nuke_err),
        None => Ok(FilterFile::default()),
    }
}

fn key_value(flag: &str, s: &str) -> Result<(String, String), terrane_core::Diagnostics> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(err(
            "Invalid argument",
            format!("--{flag} takes KEY=VALUE, not {s:?}"),
        )),
    }
}

/// The selection of the filter file, with the flags on top; and the regions (none when
/// neither the flags, the file nor AWS_REGION name one).
fn selection(
    s: &NukeSelect,
    file: &FilterFile,
) -> Result<(Selection, Vec<String>), terrane_core::Diagnostics> {
    let mut sel = file.select.clone();
    if s.env.is_some() {
        sel.env = s.env.clone();
    }
    if s.env_tag.is_some() {
        sel.env_tag = s.env_tag.clone();
    }
    for t in &s.tags {
        let (k, v) = key_value("tag", t)?;
        sel.tags.insert(k, v);
    }
    for t in &s.tag_regex {
        let (k, v) = key_value("tag-regex", t)?;
        sel.tag_regex.insert(k, v);
    }
    if s.name_prefix.is_some() {
        sel.name_prefix = s.name_prefix.clone();
    }
    if s.name_regex.is_some() {
        sel.name_regex = s.name_regex.clone();
    }
    sel.include_types.extend(s.types.iter().cloned());
    sel.exclude_types.extend(s.exclude_types.iter().cloned());
    if s.older_than.is_some() {
        sel.older_than = s.older_than.clone();
    }
    if s.newer_than.is_some() {
        sel.newer_than = s.newer_than.clone();
    }
    if s.keep_tag.is_some() {
        sel.keep_tag = s.keep_tag.clone();
    }
    let mut regions = if s.regions.is_empty() {
        file.regions.clone()
    } else {
        s.regions.clone()
    };
    if regions.is_empty() {
        let env = ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
        regions.extend(env);
    }
    regions.sort();
    regions.dedup();
    Ok((sel, regions))
}

/// One AWS provider per region, configured as the SDK is (environment, profile, credentials
/// chain, `AWS_ENDPOINT_URL`), with only the region set here.
async fn targets(ctx: &Ctx, regions: &[String]) -> Result<Vec<Target>, terrane_core::Diagnostics> {
    let mut out = Vec::new();
    for r in regions {
        out.push(Target {
            region: r.clone(),
            provider: aws_in(ctx, r).await?,
        });
    }
    Ok(out)
}

/// The AWS provider for `region`, configured as the SDK is (nuke, env gc, deliver).
pub(super) async fn aws_in(
    ctx: &Ctx,
    region: &str,
) -> Result<Arc<dyn terrane_core::Provider>, terrane_core::Diagnostics> {
    let factory = ctx
        .registry
        .get("aws")
        .ok_or_else(|| err("No AWS provider", "this build has no aws provider"))?;
    let p = factory();
    p.configure(&Value::map([("region", Value::from(region))]))
        .await
        .map_err(|e| {
            err(
                "Failed to configure the aws provider",
                format!("{region}: {}", e.message),
            )
        })?;
    Ok(p)
}

/// The managed objects of the current workspace's state, when this directory has a state.
fn state_objects(ctx: &Ctx) -> Result<Vec<StateObject>, terrane_core::Diagnostics> {
    if !super::backend::state_here(ctx)? {
        return Ok(Vec::new());
    }
    let ws = ctx.open_workspace()?;
    Ok(ws
        .instances()?
        .into_iter()
        .filter(|i| i.addr.resource.mode == Mode::Managed)
        .filter_map(|i| {
            let id = i.value.get("id")?.as_str()?.to_string();
            Some(StateObject {
                type_name: i.addr.resource.ty.to_string(),
                id,
                address: i.addr.to_string(),
            })
        })
        .collect())
}

async fn plan_and_maybe_delete(
    ctx: &Ctx,
    s: &NukeSelect,
    out: Option<&str>,
    json: bool,
    explain: bool,
    delete: Option<&NukeDelete>,
) -> CmdResult {
    let file = filter_file(s.filter.as_deref())?;
    let (sel, regions) = selection(s, &file)?;
    let compiled = sel.compile().map_err(nuke_err)?;
    if regions.is_empty() {
        return Err(err(
            "No region",
            "Name the regions to search with --region (repeatable), or set AWS_REGION. A nuke touches nothing outside them.",
        ));
    }
    let targets = targets(ctx, &regions).await?;
    // The account is recorded in the plan where the credentials tell it; a dry run goes on
    // without it.
    let account = match terrane_nuke::account(&targets).await {
        Ok(a) => a,
        Err(e) if delete.is_none() => {
            tracing::warn!(error = %e, "cannot tell the account");
            None
        }
        Err(e) => return Err(nuke_err(e)),
    };
    let state = state_objects(ctx)?;
    let plan = terrane_nuke::plan(&targets, &compiled, account, &state, SystemTime::now())
        .await
        .map_err(nuke_err)?;
    if let Some(path) = out {
        plan.write(Path::new(path)).map_err(nuke_err)?;
    }
    if json && delete.is_none() {
        println!("{}", plan.to_json());
        return Ok(0);
    }
    if !json {
        print_plan(&plan, explain);
    }
    let Some(d) = delete else {
        if !json {
            match out {
                Some(p) => println!(
                    "\nThis was a dry run: nothing was deleted. The plan is saved in {p}; to delete exactly this, run:\n  terrane nuke apply {p} --account {}",
                    plan.account.as_deref().unwrap_or("ACCOUNT_ID")
                ),
                None => println!(
                    "\nThis was a dry run: nothing was deleted. Save the plan with `terrane nuke plan -out FILE` and apply it with `terrane nuke apply FILE`, or run again with --no-dry-run."
                ),
            }
        }
        return Ok(0);
    };
    delete_plan(ctx, &plan, &targets, d, &file, json).await
}

async fn apply_file(
    ctx: &Ctx,
    path: &str,
    d: &NukeDelete,
    filter: Option<&str>,
    json: bool,
) -> CmdResult {
    let plan = NukePlan::read(Path::new(path)).map_err(nuke_err)?;
    let file = filter_file(filter)?;
    let targets = targets(ctx, &plan.regions).await?;
    if !json {
        print_plan(&plan, false);
    }
    delete_plan(ctx, &plan, &targets, d, &file, json).await
}

async fn delete_plan(
    ctx: &Ctx,
    plan: &NukePlan,
    targets: &[Target],
    d: &NukeDelete,
    file: &FilterFile,
    json: bool,
) -> CmdResult {
    let safety = Safety {
        account: d.account.clone(),
        allow_accounts: file.allow_accounts.clone(),
        block_accounts: file.block_accounts.clone(),
        protected_environments: file.protected_environments.clone(),
    };
    let live = terrane_nuke::account(targets).await.map_err(nuke_err)?;
    terrane_nuke::check_destructive(plan, live.as_deref(), &safety).map_err(nuke_err)?;
    if plan.objects.is_empty() {
        if json {
            println!(
                "{}",
                report_json(&Report {
                    passes: 0,
                    ..Default::default()
                })
            );
        } else {
            println!("\nNothing to delete.");
        }
        return Ok(0);
    }
    // The typed confirmation: the environment's name, or the account id.
    let (what, expected) = match &plan.selection.env {
        Some(e) => ("environment name", e.clone()),
        None => ("account id", live.clone().unwrap_or_default()),
    };
    match &d.confirm {
        Some(c) if *c == expected => {}
        Some(c) => {
            return Err(err(
                "Nuke refused",
                format!("--confirm {c:?} is not the {what} {expected:?}. Nothing was deleted."),
            ))
        }
        None if !d.input || !std::io::stdin().is_terminal() => {
            return Err(err(
                "Nuke refused",
                format!(
                    "deleting needs the {what} typed as confirmation, and input is disabled or standard input is not a terminal: pass --confirm {expected}. Nothing was deleted."
                ),
            ))
        }
        None => {
            print!(
                "\nThis deletes the {} objects above. Type the {what} ({expected}) to go on: ",
                plan.objects.len()
            );
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| err("Failed to read input", e.to_string()))?;
            if line.trim() != expected {
                println!("\nNuke cancelled. Nothing was deleted.");
                return Ok(1);
            }
        }
    }
    let timeout = super::args::parse_duration(&d.timeout).ok_or_else(|| {
        err(
            "Invalid argument",
            format!("--timeout {:?} is not a duration (30m, 1h)", d.timeout),
        )
    })?;
    let (cancel, signals) = super::ops::cancel_on_signals();
    let events: Arc<dyn Fn(&Event) + Send + Sync> = if json {
        Arc::new(|_: &Event| {})
    } else {
        println!();
        Arc::new(|e: &Event| match e {
            Event::Deleting { label } => println!("{label}: Deleting..."),
            Event::Retrying {
                label,
                attempt,
                error,
            } => {
                println!(
                    "{label}: attempt {attempt} failed, retrying: {}",
                    terrane_core::redact::mask(error)
                )
            }
            Event::Deleted { label, elapsed } => {
                println!("{label}: Deleted after {}", seconds(*elapsed))
            }
            Event::Failed { label, error } => {
                println!("{label}: Failed: {}", terrane_core::redact::mask(error))
            }
        })
    };
    let opts = ApplyOptions {
        parallelism: d.parallelism.max(1),
        deadline: timeout,
        cancel,
        events,
    };
    let result = terrane_nuke::apply(plan, targets, opts).await;
    signals.abort();
    let mut report = result.map_err(nuke_err)?;
    // What was deleted leaves the environment's state.
    let gone: Vec<String> = report
        .deleted
        .iter()
        .chain(&report.already_gone)
        .filter_map(|o| o.address.clone())
        .collect();
    if !gone.is_empty() && super::backend::state_here(ctx)? {
        let ws = ctx.open_workspace()?;
        let locked = ws.lock("nuke", Duration::ZERO)?;
        report.removed_from_state = locked
            .state_rm(&gone)?
            .into_iter()
            .map(|a| a.to_string())
            .collect();
    }
    if json {
        println!("{}", report_json(&report));
    } else {
        print_report(&report, ctx.workspace.as_str());
    }
    Ok(if report.complete() { 0 } else { 1 })
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

fn report_json(r: &Report) -> String {
    serde_json::to_string_pretty(r).expect("a report serializes")
}

fn print_plan(plan: &NukePlan, explain: bool) {
    let now = SystemTime::now();
    let sel = &plan.selection;
    let account = plan
        .account
        .as_deref()
        .map(|a| format!(" (account {a})"))
        .unwrap_or_default();
    println!(
        "Terrane nuke plan: {} object{} to delete in {}{account}",
        plan.objects.len(),
        if plan.objects.len() == 1 { "" } else { "s" },
        plan.regions.join(", ")
    );
    let mut by = Vec::new();
    if let Some(e) = &sel.env {
        by.push(format!(
            "environment {e:?} (tag {})",
            sel.env_tag
                .as_deref()
                .unwrap_or(terrane_nuke::DEFAULT_ENV_TAG)
        ));
    }
    by.extend(sel.tags.iter().map(|(k, v)| format!("tag {k} = {v:?}")));
    by.extend(
        sel.tag_regex
            .iter()
            .map(|(k, v)| format!("tag {k} ~ /{v}/")),
    );
    by.extend(sel.name_prefix.iter().map(|p| format!("name prefix {p:?}")));
    by.extend(sel.name_regex.iter().map(|r| format!("name ~ /{r}/")));
    by.extend(sel.include_types.iter().map(|t| format!("type {t}")));
    by.extend(sel.exclude_types.iter().map(|t| format!("not type {t}")));
    by.extend(sel.older_than.iter().map(|t| format!("older than {t}")));
    by.extend(sel.newer_than.iter().map(|t| format!("newer than {t}")));
    println!("Selected by: {}", by.join(", "));
    for (ty, objects) in terrane_nuke::by_type(plan) {
        println!("\n{ty} ({})", objects.len());
        let rows: Vec<[String; 5]> = objects
            .iter()
            .map(|o| {
                [
                    o.id.clone(),
                    o.name.clone().unwrap_or_else(|| "-".into()),
                    terrane_nuke::age(o, now).unwrap_or_else(|| "-".into()),
                    o.found_by.clone(),
                    o.tags
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
            .collect();
        let header = ["ID", "NAME", "AGE", "FOUND BY", "TAGS"];
        let mut w = header.map(str::len);
        for r in &rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |cells: [&str; 5]| {
            let mut s = String::from("  ");
            for (i, c) in cells.iter().enumerate() {
                if i == 4 {
                    s.push_str(c);
                } else {
                    s.push_str(&format!("{c:<width$}  ", width = w[i]));
                }
            }
            s.trim_end().to_string()
        };
        println!("{}", line(header));
        for (r, o) in rows.iter().zip(&objects) {
            println!(
                "{}",
                line([
                    r[0].as_str(),
                    r[1].as_str(),
                    r[2].as_str(),
                    r[3].as_str(),
                    r[4].as_str()
                ])
            );
            if explain {
                let why = if o.why.is_empty() {
                    "every criterion holds".to_string()
                } else {
                    o.why.join("; ")
                };
                println!("      selected: {why}");
                if let Some(a) = &o.address {
                    println!("      in state as {a}");
                }
            }
        }
    }
    if !plan.kept.is_empty() {
        if explain {
            println!("\nKept out ({}):", plan.kept.len());
            for k in &plan.kept {
                println!("  {} {}: {}", k.type_name, k.id, k.reason);
            }
        } else {
            println!(
                "\nKept out: {} object{} found but not selected (defaults of the account, kept, or not matching); -explain says why.",
                plan.kept.len(),
                if plan.kept.len() == 1 { "" } else { "s" }
            );
        }
    }
    if !plan.state_only.is_empty() {
        println!(
            "\nIn the state but not found ({}): {}",
            plan.state_only.len(),
            plan.state_only.join(", ")
        );
    }
    println!("\nPlan: {} to delete.", plan.objects.len());
}

fn print_report(r: &Report, workspace: &str) {
    println!(
        "\nNuke complete: {} deleted, {} failed, {} already gone, {} kept, {} skipped, {} still present.",
        r.deleted.len(),
        r.failed.len(),
        r.already_gone.len(),
        r.kept.len(),
        r.skipped.len(),
        r.still_present.len()
    );
    println!(
        "{} pass, {} API calls, {} dependency conflicts, {:.1}s.",
        r.passes, r.api_calls, r.dependency_conflicts, r.seconds
    );
    let section = |title: &str, list: &[terrane_nuke::Outcome]| {
        if !list.is_empty() {
            println!("\n{title}:");
            for o in list {
                println!(
                    "  {} {} ({}): {}",
                    o.type_name,
                    o.id,
                    o.region,
                    terrane_core::redact::mask(&o.detail)
                );
            }
        }
    };
    section("Failed", &r.failed);
    section("Still present", &r.still_present);
    section("Skipped", &r.skipped);
    section("Kept", &r.kept);
    section("Already gone", &r.already_gone);
    if !r.removed_from_state.is_empty() {
        println!(
            "\nRemoved {} object{} from the state of workspace {workspace:?}.",
            r.removed_from_state.len(),
            if r.removed_from_state.len() == 1 {
                ""
            } else {
                "s"
            }
        );
    }
}
