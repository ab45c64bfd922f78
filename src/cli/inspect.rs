//! init, validate, output, show, state, graph, force-unlock, workspace.

use terrane_core::{Diagnostic, Diagnostics, InstanceAddr, Value};
use terrane_engine::render::{render_plan, Style};
use terrane_engine::{Plan, PlanOptions, Session, SessionOptions};

use super::args::{InitArgs, StateCommand, WorkspaceCommand};
use super::ops::{load, lock};
use super::{backend, err, ui, CmdResult, Ctx};

pub async fn init(ctx: &Ctx, a: &InitArgs) -> CmdResult {
    let config = load(ctx)?;
    let ws = init_backend(ctx, a)?;
    ws.create()?;
    let lines = super::plugins::init(ctx, &config)?;
    if !lines.is_empty() {
        println!(
            "Plugins (hashes recorded in {}):",
            terrane_plugin_host::lock::LOCK_FILE
        );
        for l in &lines {
            println!("{l}");
        }
        println!();
    }
    // Every provider the configuration needs must be available.
    schema_session(ctx, config)?;
    println!(
        "Initialized state database {} (workspace {:?}).",
        ws.location(),
        ctx.workspace
    );
    println!("\nTerrane has been successfully initialized!");
    Ok(0)
}

/// The backend init sets up: the configured one with this init's `-backend-config` values (or,
/// without any, those the last init recorded). When it differs from the backend used before (the
/// one the last init recorded, or the local state file), the state is copied with
/// `-migrate-state`, left behind with `-reconfigure`, and otherwise init stops: a runner must
/// not start from an empty state while the objects are recorded elsewhere.
fn init_backend(ctx: &Ctx, a: &InitArgs) -> Result<terrane_engine::Workspace, Diagnostics> {
    let before = backend::recorded(ctx);
    let overrides = if a.backend_config.is_empty() && !a.reconfigure {
        before
            .as_ref()
            .map(|r| r.overrides.clone())
            .unwrap_or_default()
    } else {
        backend::backend_config(&a.backend_config)?
    };
    let spec = backend::resolve(ctx, &overrides)?;
    let previous = match &before {
        Some(r) => Some(r.spec.clone()),
        // Before any init recorded a backend, the state was the local file, if there is one.
        None => {
            let local = backend::Spec::Local {
                path: ctx.state_path.clone(),
            };
            ctx.state_path.exists().then_some(local)
        }
    };
    let ws = spec.open(&ctx.workspace)?;
    if let Some(prev) = previous.filter(|p| *p != spec && !a.reconfigure) {
        let old = prev.open(&ctx.workspace)?;
        if a.migrate_state {
            let copied = old.migrate_to(&ws)?;
            let n: usize = copied.iter().map(|m| m.resources).sum();
            println!(
                "Copied {} workspace(s), {n} resource instance(s), from {} to {}.",
                copied.len(),
                prev.describe(),
                spec.describe()
            );
        } else if old.has_objects()? {
            return Err(err(
                "Backend configuration changed",
                format!(
                    "The state was in {}, and the configuration now names {}.\n\nRun terrane init -migrate-state to copy every workspace into the new backend, or terrane init -reconfigure to use the new backend as it is (the old state stays where it is).",
                    prev.describe(),
                    spec.describe()
                ),
            ));
        }
    }
    backend::record(ctx, &spec, &overrides)?;
    Ok(ws)
}

pub async fn validate(ctx: &Ctx, json: bool) -> CmdResult {
    let result = async {
        let mut s = schema_session(ctx, load(ctx)?)?;
        s.plan(None, &PlanOptions::default()).await
    }
    .await;
    match (result, json) {
        (Ok(p), false) => {
            if !p.warnings.is_empty() {
                ui::print_diags(&Diagnostics(p.warnings), ctx.color);
            }
            println!("Success! The configuration is valid.");
            Ok(0)
        }
        (Ok(p), true) => {
            println!(
                "{}",
                serde_json::json!({"valid": true, "error_count": 0, "warning_count": p.warnings.len(), "diagnostics": p.warnings.iter().map(|d| ui::diag_json(d)["diagnostic"].clone()).collect::<Vec<_>>()})
            );
            Ok(0)
        }
        (Err(d), false) => Err(d),
        (Err(d), true) => {
            let errors = d.iter().filter(|x| x.is_error()).count();
            println!(
                "{}",
                serde_json::json!({"valid": false, "error_count": errors, "warning_count": d.0.len() - errors, "diagnostics": d.iter().map(|x| ui::diag_json(x)["diagnostic"].clone()).collect::<Vec<_>>()})
            );
            Ok(1)
        }
    }
}

pub fn output(ctx: &Ctx, name: Option<&str>, json: bool, raw: bool) -> CmdResult {
    let outs = ctx.open_workspace()?.outputs()?;
    match name {
        Some(n) => {
            let o = outs.iter().find(|o| o.name == n).ok_or_else(|| err("Output not found", format!("The output variable requested could not be found in the state. Outputs: {}", outs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>().join(", "))))?;
            let v = Value::from_json(&o.value);
            if json {
                println!("{}", o.value);
            } else if raw {
                match v.to_template_string() {
                    Some(s) => print!("{s}"),
                    None => {
                        return Err(err(
                            "Unsupported value for raw output",
                            "The -raw option only supports strings, numbers, and bools.",
                        ))
                    }
                }
            } else {
                println!("{v}");
            }
        }
        None if json => {
            let m: serde_json::Map<String, serde_json::Value> = outs
                .iter()
                .map(|o| {
                    (
                        o.name.clone(),
                        serde_json::json!({
                            "sensitive": o.sensitive,
                            "type": Value::from_json(&o.value).type_json(),
                            "value": o.value,
                        }),
                    )
                })
                .collect();
            println!("{}", serde_json::Value::Object(m));
        }
        None => {
            for o in outs {
                let v = if o.sensitive {
                    "<sensitive>".to_string()
                } else {
                    Value::from_json(&o.value).to_string()
                };
                println!("{} = {}", o.name, terrane_core::redact::mask(&v));
            }
        }
    }
    Ok(0)
}

fn show_instance(si: &terrane_engine::session::StateInstance) -> String {
    let mut out = format!(
        "# {}:{}\nresource \"{}\" \"{}\" {{\n",
        si.addr,
        if si.tainted { " (tainted)" } else { "" },
        si.addr.resource.ty,
        si.addr.resource.name
    );
    if let Some(m) = si.value.as_map() {
        let w = m.keys().map(String::len).max().unwrap_or(0);
        for (k, v) in m {
            if v.is_null() {
                continue;
            }
            let shown = if si.sensitive.contains(k) {
                "(sensitive value)".to_string()
            } else {
                v.to_string()
            };
            out.push_str(&format!("    {k:<w$} = {shown}\n"));
        }
    }
    out.push_str("}\n");
    terrane_core::redact::mask(&out).into_owned()
}

fn state_instances(ctx: &Ctx) -> Result<Vec<terrane_engine::session::StateInstance>, Diagnostics> {
    ctx.open_workspace()?.instances()
}

/// The workspace's root outputs as (name, value, sensitive), as the JSON formats take them.
fn root_outputs(
    ws: &terrane_engine::Workspace,
) -> Result<Vec<(String, terrane_core::Value, bool)>, Diagnostics> {
    Ok(ws
        .outputs()?
        .into_iter()
        .map(|o| {
            (
                o.name,
                terrane_core::Value::from_json(&o.value),
                o.sensitive,
            )
        })
        .collect())
}

pub fn show(ctx: &Ctx, plan_file: Option<&str>, json: bool) -> CmdResult {
    if let Some(path) = plan_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err("Failed to read plan file", format!("{path}: {e}")))?;
        let j: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| err("Invalid plan file", e.to_string()))?;
        let plan = Plan::from_json(&j).map_err(|e| err("Invalid plan file", e))?;
        if json {
            // Terraform's JSON plan format, against the state the plan was made for.
            plan.register_sensitive();
            let ws = ctx.open_workspace()?;
            let prior = ws.instances()?;
            let outputs = root_outputs(&ws)?;
            let now = terrane_core::time::format_rfc3339(std::time::SystemTime::now());
            let mut j =
                terrane_engine::plan_json::plan_to_terraform_json(&plan, &prior, &outputs, &now);
            // The configuration beside the plan file, when it loads.
            if let Ok((config, _)) = terrane_engine::load_config(&ctx.dir) {
                j["configuration"] = terrane_engine::config_json::configuration_json(&config);
            }
            println!("{j}");
        } else {
            plan.register_sensitive();
            print!(
                "{}",
                terrane_core::redact::mask(&render_plan(&plan, &Style { color: ctx.color }))
            );
        }
        return Ok(0);
    }
    let insts = state_instances(ctx)?;
    if json {
        let v: Vec<serde_json::Value> = insts
            .iter()
            .map(|s| {
                let mut attrs = s.value.to_json();
                if let Some(m) = attrs.as_object_mut() {
                    for k in &s.sensitive {
                        if m.contains_key(k) {
                            m.insert(k.clone(), serde_json::json!("(sensitive value)"));
                        }
                    }
                }
                serde_json::json!({"address": s.addr.to_string(), "provider": s.provider, "tainted": s.tainted, "values": attrs, "depends_on": s.deps})
            })
            .collect();
        // Terraform's state format (`values`), with Terrane's flat list of instances beside it.
        let ws = ctx.open_workspace()?;
        let outputs = root_outputs(&ws)?;
        let mut j = terrane_engine::plan_json::state_to_terraform_json(&insts, &outputs);
        j["workspace"] = ctx.workspace.clone().into();
        j["resources"] = v.into();
        println!("{}", terrane_core::redact::mask(&j.to_string()));
        return Ok(0);
    }
    if insts.is_empty() {
        println!("The state is empty.");
    }
    for s in &insts {
        println!("{}", show_instance(s));
    }
    Ok(0)
}

/// A Terraform state file (format 4), read with the configuration's schemas.
fn read_tfstate(
    ctx: &Ctx,
    file: &std::path::Path,
) -> Result<terrane_engine::tfstate::TfState, Diagnostics> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        err(
            "Failed to read the state file",
            format!("{}: {e}", file.display()),
        )
    })?;
    let session = schema_session(ctx, load(ctx)?)?;
    let dynamic =
        |p: &str, m: terrane_core::Mode, t: &str, a: &str| session.attr_is_dynamic(p, m, t, a);
    terrane_engine::tfstate::from_v4(&text, &dynamic).map_err(|e| {
        err(
            "Invalid Terraform state",
            format!("{}: {e}", file.display()),
        )
    })
}

/// A session over the configuration for validation: providers instantiated, nothing
/// configured, nothing called (their schemas, and validate's plan).
fn schema_session(
    ctx: &Ctx,
    config: terrane_engine::config::Config,
) -> Result<Session, Diagnostics> {
    let registry = super::plugins::registry(ctx, &config)?;
    Session::new(
        config,
        registry,
        SessionOptions {
            workspace: ctx.workspace.clone(),
            validate_only: true,
            ..Default::default()
        },
    )
}

pub fn state(ctx: &Ctx, cmd: StateCommand) -> CmdResult {
    match cmd {
        StateCommand::List { addresses } => {
            for s in state_instances(ctx)? {
                if addresses.is_empty()
                    || addresses
                        .iter()
                        .any(|a| terrane_engine::planner::target_matches(a, &s.addr))
                {
                    println!("{}", s.addr);
                }
            }
            Ok(0)
        }
        StateCommand::Show { address } => {
            let a =
                InstanceAddr::parse(&address).map_err(|e| err("Invalid address", e.to_string()))?;
            let s = state_instances(ctx)?
                .into_iter()
                .find(|s| s.addr == a)
                .ok_or_else(|| {
                    err(
                        "No instance found for the given address",
                        format!(
                            "{address} is not in the state of workspace {:?}.",
                            ctx.workspace
                        ),
                    )
                })?;
            print!("{}", show_instance(&s));
            Ok(0)
        }
        StateCommand::Rm {
            addresses,
            lock: la,
        } => {
            let ws = ctx.open_workspace()?;
            let locked = lock(ctx, &ws, "terrane state rm", &la)?;
            let removed = locked.state_rm(&addresses)?;
            for a in &removed {
                println!("Removed {a}");
            }
            let n = removed.len();
            println!("Successfully removed {n} resource instance(s).");
            Ok(0)
        }
        StateCommand::Mv {
            source,
            destination,
            lock: la,
        } => {
            let ws = ctx.open_workspace()?;
            let locked = lock(ctx, &ws, "terrane state mv", &la)?;
            let (src, dst) = (
                InstanceAddr::parse(&source)
                    .map_err(|e| err("Invalid source address", e.to_string()))?,
                InstanceAddr::parse(&destination)
                    .map_err(|e| err("Invalid destination address", e.to_string()))?,
            );
            locked.state_mv(&src, &dst)?;
            println!("Move \"{src}\" to \"{dst}\"\nSuccessfully moved 1 object(s).");
            Ok(0)
        }
        StateCommand::Pull => {
            let state = ctx.open_workspace()?.tfstate()?;
            let session = schema_session(ctx, load(ctx)?)?;
            let dynamic = |p: &str, m: terrane_core::Mode, t: &str, a: &str| {
                session.attr_is_dynamic(p, m, t, a)
            };
            let j = terrane_engine::tfstate::to_v4(&state, &dynamic);
            println!("{}", serde_json::to_string_pretty(&j).unwrap_or_default());
            Ok(0)
        }
        StateCommand::Push {
            file,
            force,
            lock: la,
        } => {
            let state = read_tfstate(ctx, &file)?;
            let ws = ctx.open_workspace()?;
            let locked = lock(ctx, &ws, "terrane state push", &la)?;
            let n = locked.push_tfstate(&state, force)?;
            println!(
                "Wrote {n} resource instance(s) and {} output(s) from {} to workspace {:?}.",
                state.outputs.len(),
                file.display(),
                ctx.workspace
            );
            Ok(0)
        }
        StateCommand::ImportTfstate {
            file,
            replace,
            lock: la,
        } => {
            let state = read_tfstate(ctx, &file)?;
            let ws = ctx.open_workspace()?;
            let locked = lock(ctx, &ws, "terrane state import-tfstate", &la)?;
            let n = locked.import_tfstate(&state, replace)?;
            println!(
                "Imported {n} resource instance(s) and {} output(s) from {} (Terraform lineage {}, serial {}).",
                state.outputs.len(),
                file.display(),
                state.lineage,
                state.serial
            );
            Ok(0)
        }
    }
}

/// A provider's fully qualified source as Terraform prints it: `aws` alone is
/// `registry.terraform.io/hashicorp/aws` (`terraform` is built in), `ns/name` is on the public
/// registry, and a longer
/// source or a plugin path stays as written.
fn provider_source(name: &str, m: &terrane_engine::config::ModuleConfig) -> String {
    match m
        .required_providers
        .get(name)
        .and_then(|r| r.source.as_deref())
    {
        Some(s) if s.starts_with('.') || s.starts_with('/') => s.to_string(),
        Some(s) if s.split('/').count() == 2 => format!("registry.terraform.io/{s}"),
        Some(s) => s.to_string(),
        None if name == "terraform" => "terraform.io/builtin/terraform".to_string(),
        None => format!("registry.terraform.io/hashicorp/{name}"),
    }
}

/// One module's providers (required, configured or used by a resource) as tree lines, then
/// its module calls.
fn provider_tree(m: &terrane_engine::config::ModuleConfig, indent: &str, out: &mut String) {
    let mut names: std::collections::BTreeSet<&str> =
        m.required_providers.keys().map(String::as_str).collect();
    names.extend(m.providers.iter().map(|p| p.name.as_str()));
    names.extend(m.resources.values().map(|r| r.provider_name()));
    let mut items: Vec<(String, Option<&terrane_engine::config::ModuleConfig>)> = names
        .into_iter()
        .map(|n| {
            let version = m
                .required_providers
                .get(n)
                .and_then(|r| r.version.as_deref())
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            (
                format!("provider[{}]{version}", provider_source(n, m)),
                None,
            )
        })
        .collect();
    items.extend(
        m.module_calls
            .iter()
            .map(|(name, c)| (format!("module.{name}"), Some(&*c.child))),
    );
    let n = items.len();
    for (i, (label, child)) in items.into_iter().enumerate() {
        let last = i + 1 == n;
        out.push_str(&format!(
            "{indent}{}{label}\n",
            if last { "└── " } else { "├── " }
        ));
        if let Some(c) = child {
            provider_tree(
                c,
                &format!("{indent}{}", if last { "    " } else { "│   " }),
                out,
            );
        }
    }
}

/// `providers`: as `terraform providers`.
pub fn providers(ctx: &Ctx) -> CmdResult {
    let config = load(ctx)?;
    let mut out = String::from("\nProviders required by configuration:\n.\n");
    provider_tree(&config.root, "", &mut out);
    let insts = state_instances(ctx)?;
    let in_state: std::collections::BTreeSet<String> = insts
        .iter()
        .map(|s| {
            let name = s
                .provider
                .trim_start_matches("provider.")
                .split('.')
                .next()
                .unwrap_or_default();
            provider_source(name, &config.root)
        })
        .collect();
    if !in_state.is_empty() {
        out.push_str("\nProviders required by state:\n\n");
        for p in in_state {
            out.push_str(&format!("    provider[{p}]\n\n"));
        }
    } else {
        out.push('\n');
    }
    print!("{out}");
    Ok(0)
}

/// The platform as Terraform names it (`linux_amd64`, `darwin_arm64`).
fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

/// `version`: as `terraform version`, with the built-in providers and the plugins this
/// directory's lock file records (by source, with their versions).
pub fn version(ctx: &Ctx, json: bool) -> CmdResult {
    let version = env!("CARGO_PKG_VERSION");
    let mut selections: Vec<(String, String)> = ctx
        .registry
        .names()
        .map(|n| (n.to_string(), "built-in".to_string()))
        .collect();
    selections.sort();
    if let Ok(Some(lock)) = terrane_plugin_host::lock::LockFile::read(&ctx.dir) {
        for (source, p) in &lock.plugins {
            selections.push((source.clone(), p.version.clone()));
        }
    }
    if json {
        let sel: serde_json::Map<String, serde_json::Value> = selections
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "terrane_version": version,
                // What `terraform version -json` readers look for: the Terraform version whose
                // language Terrane speaks, against which `required_version` is checked.
                "terraform_version": terrane_engine::config::version::TERRAFORM_LANGUAGE_VERSION,
                "platform": platform(),
                "provider_selections": sel,
            }))
            .expect("a JSON value serializes")
        );
    } else {
        println!("Terrane v{version}\non {}", platform());
        println!(
            "speaks Terraform v{}",
            terrane_engine::config::version::TERRAFORM_LANGUAGE_VERSION
        );
        for (k, v) in &selections {
            if v == "built-in" {
                println!("+ provider {k} (built in)");
            } else {
                println!("+ provider {k} v{v}");
            }
        }
    }
    Ok(0)
}

/// `taint` / `untaint`.
pub fn taint(
    ctx: &Ctx,
    address: &str,
    tainted: bool,
    allow_missing: bool,
    la: &super::args::LockArgs,
) -> CmdResult {
    let addr = InstanceAddr::parse(address).map_err(|e| err("Invalid address", e.to_string()))?;
    let ws = ctx.open_workspace()?;
    let command = if tainted {
        "terrane taint"
    } else {
        "terrane untaint"
    };
    let locked = lock(ctx, &ws, command, la)?;
    if !locked.set_tainted(&addr, tainted, allow_missing)? {
        println!(
            "The resource {addr} is not in the state, so there is nothing to do (-allow-missing)."
        );
    } else if tainted {
        println!("Resource instance {addr} has been marked as tainted.");
    } else {
        println!("Resource instance {addr} has been successfully untainted.");
    }
    Ok(0)
}

pub fn graph(ctx: &Ctx) -> CmdResult {
    let config = load(ctx)?;
    // No variables are read: module counts and for_each that need one expand to one
    // placeholder instance, as in `validate`.
    let inputs = Default::default();
    let instances = terrane_engine::expand::expand_modules(
        &config,
        &terrane_engine::expand::ExpandInputs {
            inputs: &inputs,
            workspace: "default",
            validate_only: true,
        },
    )?;
    let g = terrane_engine::graph::build(&config, instances)?;
    print!("{}", g.to_dot());
    Ok(0)
}

pub fn history(ctx: &Ctx, json: bool) -> CmdResult {
    let runs = ctx.open_workspace()?.history()?;
    for r in runs {
        if json {
            println!(
                "{}",
                serde_json::json!({"id": r.id, "workspace": r.workspace, "command": r.command, "user": r.user, "host": r.host, "pid": r.pid,
                    "started_at": r.started_at, "finished_at": r.finished_at, "result": r.result,
                    "added": r.added, "changed": r.changed, "destroyed": r.destroyed, "failed": r.failed})
            );
        } else {
            let result = r.result.as_deref().unwrap_or("did not finish (killed?)");
            let line = format!(
                "#{:<4} {}  {:<16} {:<12} {}@{} pid {}  +{} ~{} -{} failed {}",
                r.id,
                r.started_at,
                r.command,
                result,
                r.user,
                r.host,
                r.pid,
                r.added,
                r.changed,
                r.destroyed,
                r.failed
            );
            println!("{}", terrane_core::redact::mask(&line));
        }
    }
    Ok(0)
}

pub fn force_unlock(ctx: &Ctx, id: &str, force: bool) -> CmdResult {
    let ws = ctx.open_workspace()?;
    let holder = ws.lock_holder()?;
    let Some(h) = holder.filter(|h| h.id == id) else {
        return Err(err(
            "Failed to unlock state",
            format!(
                "No lock with id {id} is held on workspace {:?}.",
                ctx.workspace
            ),
        ));
    };
    if !force && !super::ui::confirm("Do you really want to force-unlock?", &format!("Terrane will remove the lock held by {h}.\n  Do this only if that run is no longer running."), true).unwrap_or(false) {
        println!("force-unlock cancelled.");
        return Ok(1);
    }
    ws.force_unlock(id)?;
    println!("Terrane state has been successfully unlocked!");
    Ok(0)
}

pub fn workspace(ctx: &Ctx, cmd: WorkspaceCommand) -> CmdResult {
    let ws = ctx.open_workspace()?;
    let file = super::workspace_file(&ctx.dir);
    match cmd {
        WorkspaceCommand::Show => println!("{}", ctx.workspace),
        WorkspaceCommand::List => {
            let mut names = ws.list()?;
            if !names.contains(&"default".to_string()) {
                names.insert(0, "default".into());
            }
            for n in names {
                println!("{} {n}", if n == ctx.workspace { "*" } else { " " });
            }
        }
        WorkspaceCommand::New { name } | WorkspaceCommand::Select { name } if !valid_ws(&name) => {
            return Err(err(
                "Invalid workspace name",
                format!("{name:?}: use letters, digits, '-', '_' and '.'."),
            ));
        }
        WorkspaceCommand::New { name } => {
            ws.create_other(&name)?;
            select(&file, &name)?;
            println!("Created and switched to workspace {name:?}!");
        }
        WorkspaceCommand::Select { name } => {
            if name != "default" && !ws.exists(&name)? {
                return Err(err("Workspace doesn't exist", format!("Workspace {name:?} doesn't exist. Create it with: terrane workspace new {name}")));
            }
            select(&file, &name)?;
            println!("Switched to workspace {name:?}.");
        }
        WorkspaceCommand::Delete { name, force } => {
            ws.delete_other(&name, force)?;
            println!("Deleted workspace {name:?}!");
        }
    }
    Ok(0)
}

fn valid_ws(n: &str) -> bool {
    !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn select(file: &std::path::Path, name: &str) -> Result<(), Diagnostics> {
    if let Some(d) = file.parent() {
        std::fs::create_dir_all(d).map_err(|e| err("Failed to select workspace", e.to_string()))?;
    }
    std::fs::write(file, name).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Failed to select workspace",
            e.to_string(),
        ))
    })
}
