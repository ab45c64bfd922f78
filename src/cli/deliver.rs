//! `terrane deliver ...`: the workflow is `terrane-deliver`'s; this file loads `deliver.hcl`,
//! opens and locks the workspace, configures the AWS provider for the region the module's
//! objects are in, turns Ctrl-C into a stop, and renders events (text, or JSON lines).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use terrane_core::Value;
use terrane_deliver::rollout::PromoteOptions;
use terrane_deliver::{Config, DeliverError, Deliverer, Event, Objects, Records, Sink};

use super::args::{DeliverAction, DeliverArgs};
use super::{err, CmdResult, Ctx};

/// Exit code of `promote --require-approval` (and of a promote that `approval = true` stops):
/// not a failure, a stop for a person.
pub const EXIT_APPROVAL: i32 = 3;

struct Printer {
    json: bool,
}

impl Sink for Printer {
    fn event(&self, e: Event) {
        if self.json {
            println!(
                "{}",
                serde_json::json!({"type": e.kind, "message": terrane_core::redact::mask(&e.message)})
            );
        } else {
            let prefix = match e.kind {
                "output" => "  | ",
                "wait" | "check" => "  ",
                "warning" => "Warning: ",
                _ => "",
            };
            println!("{prefix}{}", terrane_core::redact::mask(&e.message));
        }
    }
}

fn failure(summary: &str, e: &DeliverError) -> terrane_core::Diagnostics {
    err(summary, e.to_string())
}

fn print_result(json: bool, kind: &str, v: serde_json::Value) {
    if json {
        println!(
            "{}",
            serde_json::json!({"type": "result", "command": kind, "result": v})
        );
    }
}

pub async fn deliver(ctx: &Ctx, a: DeliverArgs) -> CmdResult {
    let config = Config::load(&ctx.dir, a.config.as_deref().map(std::path::Path::new))
        .map_err(|e| failure("Invalid delivery settings", &e))?;
    let ws = ctx.open_workspace()?;
    if let DeliverAction::History = a.action {
        return history(&ws, &config, a.json);
    }
    let objects = Objects::from_state(&ws, &config.module)
        .map_err(|e| failure("The app's objects are not in state", &e))?;
    let command = match &a.action {
        DeliverAction::Build { .. } => "deliver build",
        DeliverAction::Deploy { .. } => "deliver deploy",
        DeliverAction::Promote { .. } => "deliver promote",
        DeliverAction::Rollback => "deliver rollback",
        DeliverAction::Status | DeliverAction::History => "deliver status",
    };
    // Status only reads; everything else holds the workspace lock, so no apply or other
    // delivery interleaves with it.
    let _lock = match a.action {
        DeliverAction::Status => None,
        _ => {
            let l = ws.lock(command, a.lock_timeout)?;
            for w in l.warnings().iter() {
                eprintln!("Warning: {}: {}", w.summary, w.detail);
            }
            Some(l)
        }
    };
    let provider = aws(ctx, &objects).await?;
    let cloud = provider.delivery().ok_or_else(|| {
        err(
            "No delivery support",
            "the aws provider has no delivery operations",
        )
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    let (mut rx, signals) = super::ops::cancel_on_signals();
    let flag = stop.clone();
    let watcher = tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            flag.store(true, Ordering::SeqCst);
        }
    });
    let sink = Printer { json: a.json };
    let d = Deliverer {
        ws: &ws,
        cloud,
        config: &config,
        objects,
        sink: &sink,
        stop,
        who: terrane_deliver::who(),
        dir: ctx.dir.clone(),
    };
    let out = run(&d, a.action, a.json).await;
    signals.abort();
    watcher.abort();
    out
}

async fn run(d: &Deliverer<'_>, action: DeliverAction, json: bool) -> CmdResult {
    let result = match action {
        DeliverAction::Build {
            build_number,
            git_sha,
        } => d
            .build(&terrane_deliver::build::BuildOptions {
                build_number,
                git_sha,
            })
            .await
            .map(|b| ("build", serde_json::to_value(b).expect("serializes"))),
        DeliverAction::Deploy { build } => d
            .deploy(build)
            .await
            .map(|r| ("deploy", serde_json::to_value(r).expect("serializes"))),
        DeliverAction::Promote {
            require_approval,
            approve,
            resume,
        } => d
            .promote(PromoteOptions {
                require_approval,
                approve,
                resume,
            })
            .await
            .map(|r| ("promote", serde_json::to_value(r).expect("serializes"))),
        DeliverAction::Rollback => d
            .rollback()
            .await
            .map(|c| ("rollback", serde_json::to_value(c).expect("serializes"))),
        DeliverAction::Status => match d.status().await {
            Ok(s) => {
                if json {
                    print_result(
                        json,
                        "status",
                        serde_json::to_value(&s).expect("serializes"),
                    );
                } else {
                    print_status(&s);
                }
                return Ok(0);
            }
            Err(e) => Err(e),
        },
        DeliverAction::History => unreachable!("handled before the provider is configured"),
    };
    match result {
        Ok((kind, v)) => {
            print_result(json, kind, v);
            Ok(0)
        }
        Err(e @ DeliverError::ApprovalRequired(_)) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"type": "approval_required", "message": e.to_string()})
                );
            } else {
                println!("\nApproval required: {e}");
            }
            Ok(EXIT_APPROVAL)
        }
        Err(e) => {
            let summary = match &e {
                DeliverError::CheckFailed(_) => "Release failed its checks",
                DeliverError::RolledBack(_) => "Release rolled back",
                DeliverError::Interrupted(_) => "An earlier delivery was interrupted",
                DeliverError::Stopped(_) => "Stopped",
                DeliverError::Refused(_) => "Nothing to do",
                DeliverError::Build(_) | DeliverError::Image(_) => "Build failed",
                _ => "Delivery failed",
            };
            Err(failure(summary, &e))
        }
    }
}

fn print_status(s: &terrane_deliver::status::StatusReport) {
    println!("App {}: live {}, test {}", s.app, s.live, s.test);
    println!(
        "Live traffic: blue {}%, green {}%",
        s.weights.blue, s.weights.green
    );
    match &s.live_release {
        Some(r) => println!(
            "Live release: {} (build {}, {}), {} since {}",
            r.number,
            r.build,
            r.image,
            r.task_definition,
            s.since.as_deref().unwrap_or("?")
        ),
        None => println!("Live release: none yet (the module's first deploy)"),
    }
    for svc in &s.services {
        println!(
            "  {:<5} {}: {} of {} running{}, {}{}",
            svc.colour.as_str(),
            svc.name,
            svc.running,
            svc.desired,
            if svc.steady { ", steady" } else { "" },
            svc.task_definition,
            if svc.is_production {
                ", IsProduction"
            } else {
                ""
            }
        );
        for t in &svc.targets {
            println!("        target {t}");
        }
    }
    for (colour, name, state) in &s.alarms {
        println!("Alarm of {colour}, {name}: {state}");
    }
    for p in &s.problems {
        println!("\nHalf-done: {p}");
    }
}

fn history(ws: &terrane_engine::Workspace, config: &Config, json: bool) -> CmdResult {
    let r = Records::new(ws, &config.app);
    let builds = r
        .builds()
        .map_err(|e| failure("Failed to read the records", &e))?;
    let releases = r
        .releases()
        .map_err(|e| failure("Failed to read the records", &e))?;
    if json {
        print_result(
            json,
            "history",
            serde_json::json!({"builds": builds, "releases": releases}),
        );
        return Ok(0);
    }
    if builds.is_empty() && releases.is_empty() {
        println!("Nothing was built or released for {} yet.", config.app);
        return Ok(0);
    }
    for b in &builds {
        println!(
            "build {:>4}  {}  {}  tags {}  by {}",
            b.number,
            terrane_engine::environments::rfc3339(b.created),
            b.digest,
            b.tags.join(","),
            b.who
        );
    }
    for rel in &releases {
        println!(
            "release {:>4}  {}  build {} on {}  {}  {}  by {}{}",
            rel.number,
            terrane_engine::environments::rfc3339(rel.created),
            rel.build,
            rel.colour,
            rel.status.as_str(),
            rel.task_definition,
            rel.who,
            rel.reason
                .as_deref()
                .map(|r| format!("\n              {r}"))
                .unwrap_or_default()
        );
    }
    Ok(0)
}

/// The AWS provider, configured for the region of the module's listener.
async fn aws(
    ctx: &Ctx,
    objects: &Objects,
) -> Result<Arc<dyn terrane_core::Provider>, terrane_core::Diagnostics> {
    let region = objects
        .live_listener
        .split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .map(String::from)
        .or_else(|| std::env::var("AWS_REGION").ok())
        .unwrap_or_else(|| "us-east-1".into());
    super::nuke::aws_in(ctx, &region).await
}

/// `data "terrane_release"`: the app's recorded delivery state in this command's workspace.
pub struct Releases {
    pub ctx: Ctx,
}

impl terrane_provider_builtin::release::Reader for Releases {
    fn release(&self, app: &str) -> Result<Option<Value>, String> {
        if !super::backend::state_here(&self.ctx).map_err(|d| d.to_string())? {
            return Ok(None);
        }
        let ws = self.ctx.open_workspace().map_err(|d| d.to_string())?;
        terrane_deliver::record::current_value(&ws, app).map_err(|e| e.to_string())
    }
}
