//! `provisioner "local-exec"`: commands run after a resource's object is created (not after
//! updates) or before it is destroyed, as in Terraform. Output is streamed line by line to the
//! progress view under the resource's address; a non-zero exit fails the resource (a created
//! object is recorded tainted, a destroy stops) unless `on_failure = continue`.
//!
//! The arguments are evaluated when the command runs, because they may read `self` (the new
//! object). Everything else they read is resolved when the job starts, into a snapshot, so the
//! job owns what it needs and runs in parallel with the rest of the apply.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use terrane_core::{InstanceKey, Progress, ProgressReport, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::config::{OnFailure, Provisioner, ResourceConfig, When};
use crate::eval::{describe_target, EvalCtx, Resolved, Scope};
use crate::refs::{RefCollector, RefTarget};
use crate::session::instance_bindings;
use crate::values::Expansion;

/// The provisioners of one resource instance for one phase, with what they read.
pub(crate) struct Provisioning {
    pub rc: Arc<ResourceConfig>,
    /// The provisioners of this phase, each with whether its block reads `self`.
    pub items: Vec<(Provisioner, bool)>,
    /// Values of everything the blocks refer to except `self`.
    pub snapshot: Vec<(RefTarget, Resolved)>,
    /// `count` / `each` of this instance.
    pub bindings: Vec<(&'static str, Value)>,
    /// The object has sensitive attributes: output of a command that reads `self` is hidden.
    pub self_sensitive: bool,
    pub module_dir: PathBuf,
}

impl Provisioning {
    /// The provisioners of `rc` that run at `when` for the instance `key` (`expansion`: its
    /// count/for_each, `None` for an object being destroyed); `None` when there are none
    /// (checked first: resources without provisioners pay nothing). `scope` resolves what the
    /// blocks read, now.
    pub fn prepare(
        rc: &Arc<ResourceConfig>,
        when: When,
        key: &InstanceKey,
        expansion: Option<&Expansion>,
        self_sensitive: bool,
        scope: &dyn Scope,
    ) -> Option<Provisioning> {
        if !rc.provisioners.iter().any(|p| p.when == when) {
            return None;
        }
        let pb = rc.parse();
        let blocks: Vec<_> = pb.body().get_blocks("provisioner").collect();
        let mut items = Vec::new();
        let mut snapshot: Vec<(RefTarget, Resolved)> = Vec::new();
        for p in rc.provisioners.iter().filter(|p| p.when == when) {
            let mut c = RefCollector::new();
            if let Some(b) = blocks.get(p.index) {
                c.body(&b.body, &["when", "on_failure"]);
            }
            items.push((
                p.clone(),
                c.refs.iter().any(|r| r.target == RefTarget::SelfRef),
            ));
            for r in c.refs {
                if matches!(
                    r.target,
                    RefTarget::SelfRef | RefTarget::Count | RefTarget::Each
                ) || snapshot.iter().any(|(t, _)| *t == r.target)
                {
                    continue;
                }
                // A reference that does not resolve is reported when the block is evaluated.
                if let Ok(v) = scope.resolve(&r.target) {
                    snapshot.push((r.target, v));
                }
            }
        }
        Some(Provisioning {
            rc: rc.clone(),
            items,
            snapshot,
            bindings: instance_bindings(key, expansion),
            self_sensitive,
            module_dir: scope.module_dir(),
        })
    }

    /// The commands, evaluated with `self` = `this`.
    pub fn commands(&self, this: &Value) -> Result<Vec<Command>, String> {
        let pb = self.rc.parse();
        let blocks: Vec<_> = pb.body().get_blocks("provisioner").collect();
        let scope = Snapshot(self);
        let mut out = Vec::new();
        for (p, reads_self) in &self.items {
            let Some(b) = blocks.get(p.index) else {
                continue;
            };
            let mut ctx = EvalCtx::new(&scope, &self.rc.file);
            ctx.offset = pb.offset;
            for (n, v) in &self.bindings {
                ctx.bind(n, v.clone());
            }
            ctx.bind("self", this.clone());
            let mut get = |name: &str| -> Result<Option<Value>, String> {
                match b.body.get_attribute(name) {
                    None => Ok(None),
                    Some(a) => ctx.eval(&a.value).map(Some).map_err(|d| d.to_string()),
                }
            };
            let command = match get("command")? {
                Some(v) => text(&v).ok_or("local-exec: command must be a string")?,
                None => return Err("local-exec: command is required".into()),
            };
            let interpreter = match get("interpreter")? {
                Some(Value::List(l)) => l
                    .iter()
                    .map(|x| text(x).ok_or("local-exec: interpreter must be a list of strings"))
                    .collect::<Result<Vec<_>, _>>()?,
                Some(Value::Null) | None => vec!["/bin/sh".into(), "-c".into()],
                Some(_) => return Err("local-exec: interpreter must be a list of strings".into()),
            };
            let environment = match get("environment")? {
                Some(Value::Map(m)) => m
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| {
                        text(v)
                            .map(|s| (k.clone(), s))
                            .ok_or_else(|| format!("local-exec: environment.{k} must be a string"))
                    })
                    .collect::<Result<BTreeMap<_, _>, _>>()?,
                Some(Value::Null) | None => BTreeMap::new(),
                Some(_) => return Err("local-exec: environment must be a map of strings".into()),
            };
            let working_dir = match get("working_dir")? {
                Some(Value::Null) | None => None,
                Some(v) => Some(text(&v).ok_or("local-exec: working_dir must be a string")?),
            };
            let quiet = matches!(get("quiet")?, Some(Value::Bool(true)));
            let sensitive = ctx.sensitive || (*reads_self && self.self_sensitive);
            let mut argv = interpreter;
            argv.push(command);
            out.push(Command {
                argv,
                environment,
                // As in Terraform: relative to the directory terrane runs in.
                working_dir: working_dir.map(PathBuf::from),
                quiet,
                sensitive,
                on_failure: p.on_failure,
            });
        }
        Ok(out)
    }
}

/// A string, or a number or bool written as one (as HCL converts them).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(v.to_json().to_string()),
        _ => None,
    }
}

struct Snapshot<'a>(&'a Provisioning);

impl Scope for Snapshot<'_> {
    fn resolve(&self, target: &RefTarget) -> Result<Resolved, String> {
        self.0
            .snapshot
            .iter()
            .find(|(t, _)| t == target)
            .map(|(_, r)| r.clone())
            .ok_or_else(|| format!("{} has no value here.", describe_target(target)))
    }
    fn module_dir(&self) -> PathBuf {
        self.0.module_dir.clone()
    }
}

/// One evaluated local-exec.
#[derive(Debug, Clone)]
pub(crate) struct Command {
    pub argv: Vec<String>,
    pub environment: BTreeMap<String, String>,
    pub working_dir: Option<PathBuf>,
    /// `quiet = true`: the command line is not echoed.
    pub quiet: bool,
    /// It read a sensitive value: neither the command nor its output is shown.
    pub sensitive: bool,
    pub on_failure: OnFailure,
}

/// Runs the commands in order; the first failure that is not `on_failure = continue` stops.
pub(crate) async fn run(cmds: &[Command], progress: &dyn Progress) -> Result<(), String> {
    let say = |line: String| {
        progress.report(ProgressReport::Output {
            stream: "info",
            line,
        })
    };
    for c in cmds {
        if c.sensitive {
            say("Executing: (command and output suppressed: they use a sensitive value)".into());
        } else if c.quiet {
            say("Executing: (command hidden: quiet = true)".into());
        } else {
            say(format!("Executing: {:?}", c.argv));
        }
        match run_one(c, progress).await {
            Ok(()) => {}
            Err(e) if c.on_failure == OnFailure::Continue => {
                say(format!("{e} (on_failure = continue: going on)"));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Lines kept for the error message of a failed command.
const TAIL_LINES: usize = 10;

async fn run_one(c: &Command, progress: &dyn Progress) -> Result<(), String> {
    let mut cmd = tokio::process::Command::new(&c.argv[0]);
    cmd.args(&c.argv[1..])
        .envs(&c.environment)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(d) = &c.working_dir {
        cmd.current_dir(d);
    }
    let mut child = cmd.spawn().map_err(|e| {
        format!(
            "local-exec provisioner error: cannot run {:?}: {e}",
            c.argv[0]
        )
    })?;
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let tail = std::sync::Mutex::new(std::collections::VecDeque::new());
    let pump = |stream: &'static str, r: Box<dyn tokio::io::AsyncRead + Unpin + Send>| {
        let tail = &tail;
        async move {
            let mut lines = BufReader::new(r).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if c.sensitive {
                    continue;
                }
                {
                    let mut t = tail.lock().expect("tail lock");
                    if t.len() == TAIL_LINES {
                        t.pop_front();
                    }
                    t.push_back(line.clone());
                }
                progress.report(ProgressReport::Output { stream, line });
            }
        }
    };
    let (_, _, status) = tokio::join!(
        pump("stdout", Box::new(stdout)),
        pump("stderr", Box::new(stderr)),
        child.wait()
    );
    let status = status.map_err(|e| format!("local-exec provisioner error: {e}"))?;
    if status.success() {
        return Ok(());
    }
    let code = status
        .code()
        .map(|n| format!("exit status {n}"))
        .unwrap_or_else(|| "a signal".into());
    let what = if c.sensitive || c.quiet {
        "the command".to_string()
    } else {
        format!("{:?}", c.argv.last().map(String::as_str).unwrap_or(""))
    };
    let tail: Vec<String> = tail.into_inner().expect("tail lock").into();
    let output = if tail.is_empty() {
        String::new()
    } else {
        format!("; output:\n{}", tail.join("\n"))
    };
    Err(format!(
        "local-exec provisioner error: {what} ended with {code}{output}"
    ))
}
