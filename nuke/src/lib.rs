//! Nuke: find everything an environment left behind and delete it in dependency order, in one
//! pass, with or without its state.
//!
//! - [`plan`] asks every target (one provider instance per region) to discover the objects the
//!   [`select::Selection`] names, in parallel, keeps what every criterion selects, and orders it
//!   with the providers' deletion graph ([`terrane_core::DeletionGraph`]): a [`NukePlan`] that
//!   can be saved, reviewed and applied later.
//! - [`apply`] deletes exactly what a plan lists: each object is discovered again (still there,
//!   still selected; nothing new is added), then the deletion graph of what is left is walked by
//!   the engine's walker ([`terrane_engine::walk`]), independent deletions in parallel, each
//!   retried within a deadline. One pass: nothing is retried in rounds.
//! - [`check_destructive`] is the safety policy a deleting command runs first: the account
//!   pinned, not blocklisted, the plan's own; no protected environment.
//!
//! This crate knows no concrete provider: the binary builds the targets.

pub mod file;
pub mod select;
use terrane_core::time;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use petgraph::graph::{DiGraph, NodeIndex};
use serde::{Deserialize, Serialize};
use terrane_core::{
    ApplyRequest, DeletionGraph, DeletionNode, DiscoveredObject, NoProgress, Provider, Value,
};
use terrane_engine::events::CANCEL_NONE;
use terrane_engine::walk::{self, Limits, Order, Start, TaskFuture, Visitor};
use tokio::sync::watch;

pub use file::{KeptObject, NukePlan, PlannedObject, FORMAT_VERSION};
pub use select::{Compiled, Selection, Verdict, DEFAULT_ENV_TAG, DEFAULT_KEEP_TAG, PROTECTED_TAG};
pub use time::{format_rfc3339, parse_rfc3339};

#[derive(Debug, thiserror::Error)]
pub enum NukeError {
    #[error("invalid selection: {0}")]
    Selection(String),
    #[error("plan file {path}: {message}")]
    PlanFile { path: String, message: String },
    #[error("{region}: {message}")]
    Provider { region: String, message: String },
    #[error("{0}")]
    Refused(String),
}

/// Where to look: one configured provider instance for one region.
#[derive(Clone)]
pub struct Target {
    pub region: String,
    pub provider: Arc<dyn Provider>,
}

/// An object of the environment's state (type, id, address), so that the plan says which
/// objects it knows and the caller can remove the deleted ones from the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateObject {
    pub type_name: String,
    pub id: String,
    pub address: String,
}

/// The objects of every target that the selection takes, ordered for deletion.
pub async fn plan(
    targets: &[Target],
    selection: &Compiled,
    account: Option<String>,
    state: &[StateObject],
    now: SystemTime,
) -> Result<NukePlan, NukeError> {
    let found = discover_all(targets, selection).await?;
    let in_state: HashMap<(&str, &str), &StateObject> = state
        .iter()
        .map(|s| ((s.type_name.as_str(), s.id.as_str()), s))
        .collect();
    let mut objects = Vec::new();
    let mut kept = Vec::new();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for (t, found) in targets.iter().zip(found) {
        let mut chosen: Vec<(DiscoveredObject, Vec<String>)> = Vec::new();
        for o in found {
            seen.insert((o.type_name.clone(), o.id.clone()));
            match selection.verdict(&o, now) {
                Verdict::Selected(why) => chosen.push((o, why)),
                Verdict::Kept(reason) => kept.push(KeptObject {
                    region: t.region.clone(),
                    type_name: o.type_name.clone(),
                    id: o.id.clone(),
                    name: o.name.clone(),
                    reason,
                }),
            }
        }
        let discovered: Vec<DiscoveredObject> = chosen.iter().map(|(o, _)| o.clone()).collect();
        let (order, before) = ordered(&discovered, &t.provider.deletion_rules(), &t.region)?;
        let base = objects.len();
        let position: HashMap<usize, usize> = order
            .iter()
            .enumerate()
            .map(|(p, &i)| (i, base + p))
            .collect();
        for &i in &order {
            let (o, why) = &chosen[i];
            let address = in_state
                .get(&(o.type_name.as_str(), o.id.as_str()))
                .map(|s| s.address.clone());
            let mut after: Vec<usize> = before[i].iter().map(|j| position[j]).collect();
            after.sort_unstable();
            objects.push(PlannedObject {
                region: t.region.clone(),
                type_name: o.type_name.clone(),
                id: o.id.clone(),
                name: o.name.clone(),
                tags: o.tags.clone(),
                created: o.created.clone(),
                found_by: if address.is_some() {
                    "state".into()
                } else {
                    o.found_by.to_string()
                },
                address,
                why: why.clone(),
                after,
            });
        }
    }
    let state_only = state
        .iter()
        .filter(|s| !seen.contains(&(s.type_name.clone(), s.id.clone())))
        .map(|s| s.address.clone())
        .collect();
    let mut p = NukePlan {
        format_version: FORMAT_VERSION,
        terrane_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: format_rfc3339(now),
        account,
        regions: targets.iter().map(|t| t.region.clone()).collect(),
        selection: selection.selection.clone(),
        objects,
        kept,
        state_only,
        checksum: String::new(),
    };
    p.seal();
    Ok(p)
}

/// Every target's discovery, in parallel (each provider lists its services in parallel too).
async fn discover_all(
    targets: &[Target],
    selection: &Compiled,
) -> Result<Vec<Vec<DiscoveredObject>>, NukeError> {
    let calls = targets.iter().map(|t| async move {
        if !t.provider.discovers() {
            return Err(NukeError::Provider {
                region: t.region.clone(),
                message: "this provider cannot discover its objects".into(),
            });
        }
        let filter = selection.discover_filter(t.provider.schema().resources.keys());
        t.provider
            .discover(&filter)
            .await
            .map_err(|e| NukeError::Provider {
                region: t.region.clone(),
                message: e.message,
            })
    });
    futures::future::join_all(calls).await.into_iter().collect()
}

/// The deletion order of `objects` and, per object, the objects that must be deleted before it
/// (through references and type rules).
fn ordered(
    objects: &[DiscoveredObject],
    rules: &[terrane_core::DeletionRule],
    region: &str,
) -> Result<(Vec<usize>, Vec<BTreeSet<usize>>), NukeError> {
    let g = DeletionGraph::build(objects, rules);
    let order = g.order(objects).map_err(|e| NukeError::Provider {
        region: region.to_string(),
        message: e.to_string(),
    })?;
    let mut before: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); objects.len()];
    let mut into: Vec<Vec<usize>> = vec![Vec::new(); g.nodes.len()];
    for &(a, b) in &g.edges {
        into[b].push(a);
    }
    for (n, node) in g.nodes.iter().enumerate() {
        let DeletionNode::Object(o) = node else {
            continue;
        };
        for &p in &into[n] {
            match &g.nodes[p] {
                DeletionNode::Object(q) => {
                    before[*o].insert(*q);
                }
                DeletionNode::TypeDone(_) => {
                    for &pp in &into[p] {
                        if let DeletionNode::Object(q) = g.nodes[pp] {
                            before[*o].insert(q);
                        }
                    }
                }
            }
        }
    }
    Ok((order, before))
}

/// The account every target acts in (they must agree); `None` when a provider cannot tell.
pub async fn account(targets: &[Target]) -> Result<Option<String>, NukeError> {
    let mut found: Option<String> = None;
    for t in targets {
        let a = t
            .provider
            .account()
            .await
            .map_err(|e| NukeError::Provider {
                region: t.region.clone(),
                message: e.message,
            })?;
        let Some(a) = a else {
            return Ok(None);
        };
        if let Some(f) = found.as_deref().filter(|f| *f != a) {
            return Err(NukeError::Refused(format!(
                "the regions' credentials act in different accounts ({f} and {a})"
            )));
        }
        found = Some(a);
    }
    Ok(found)
}

/// What a deleting nuke must satisfy before it deletes anything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Safety {
    /// The account pinned with `--account`.
    pub account: Option<String>,
    /// Accounts a nuke may delete in (pins the account too).
    pub allow_accounts: Vec<String>,
    /// Accounts a nuke never deletes in.
    pub block_accounts: Vec<String>,
    /// Environments a nuke refuses.
    pub protected_environments: Vec<String>,
}

/// Refuses, with the reason, a deletion that the safety rules do not allow: the account
/// blocklisted, not pinned (by `--account` or an allow-list), or other than the plan's; a
/// protected environment (named in the rules, or an object tagged `terrane:protected`).
pub fn check_destructive(
    plan: &NukePlan,
    live_account: Option<&str>,
    safety: &Safety,
) -> Result<(), NukeError> {
    let refuse = |m: String| -> Result<(), NukeError> { Err(NukeError::Refused(m)) };
    let Some(live) = live_account else {
        return refuse(
            "cannot tell which account the credentials act in, so it cannot be checked against the pinned one".into(),
        );
    };
    if safety.block_accounts.iter().any(|a| a == live) {
        return refuse(format!("account {live} is on the blocklist"));
    }
    match (&safety.account, safety.allow_accounts.is_empty()) {
        (Some(pinned), _) if pinned != live => {
            return refuse(format!(
                "the credentials act in account {live}, not in {pinned} (--account)"
            ))
        }
        (None, true) => {
            return refuse(format!(
                "deleting needs the account pinned: add --account {live} (or an allow_accounts list in the filter file)"
            ))
        }
        _ => {}
    }
    if !safety.allow_accounts.is_empty() && !safety.allow_accounts.iter().any(|a| a == live) {
        return refuse(format!(
            "account {live} is not in the filter's allow_accounts"
        ));
    }
    if let Some(a) = &plan.account {
        if a != live {
            return refuse(format!(
                "the plan was made in account {a}; the credentials act in {live}"
            ));
        }
    }
    if let Some(env) = &plan.selection.env {
        if safety.protected_environments.iter().any(|p| p == env) {
            return refuse(format!("environment {env} is protected"));
        }
    }
    if let Some(o) = plan
        .objects
        .iter()
        .find(|o| o.tags.get(PROTECTED_TAG).is_some_and(|v| v == "true"))
    {
        return refuse(format!(
            "{} is tagged {PROTECTED_TAG} = \"true\": its environment is protected",
            o.label()
        ));
    }
    Ok(())
}

/// How [`apply`] runs.
pub struct ApplyOptions {
    /// Deletions at once.
    pub parallelism: usize,
    /// When every deletion (with its retries) must be done.
    pub deadline: Duration,
    /// The walker's cancellation levels (Ctrl-C); its sender must outlive the walk.
    pub cancel: watch::Receiver<u8>,
    /// Progress, as it happens.
    pub events: Arc<dyn Fn(&Event) + Send + Sync>,
}

/// Progress of [`apply`].
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Deleting {
        label: String,
    },
    Retrying {
        label: String,
        attempt: u32,
        error: String,
    },
    Deleted {
        label: String,
        elapsed: Duration,
    },
    Failed {
        label: String,
        error: String,
    },
}

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub deleted: Vec<Outcome>,
    /// Deletions that failed, with the provider's reason.
    pub failed: Vec<Outcome>,
    /// Listed in the plan, gone before the nuke reached it.
    pub already_gone: Vec<Outcome>,
    /// Listed in the plan, not selected any more.
    pub kept: Vec<Outcome>,
    /// Not attempted: it waits on a deletion that failed, or the nuke was interrupted.
    pub skipped: Vec<Outcome>,
    /// Still found after the walk.
    pub still_present: Vec<Outcome>,
    pub api_calls: u64,
    pub dependency_conflicts: u64,
    /// Walks of the deletion graph: always one.
    pub passes: u32,
    pub seconds: f64,
    /// Addresses removed from the environment's state (set by the caller).
    pub removed_from_state: Vec<String>,
}

impl Report {
    /// Everything the plan listed is gone.
    pub fn complete(&self) -> bool {
        self.failed.is_empty() && self.still_present.is_empty() && self.skipped.is_empty()
    }
}

/// One object's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub region: String,
    pub type_name: String,
    pub id: String,
    pub address: Option<String>,
    /// Why it failed or was kept; how many attempts a deletion took.
    pub detail: String,
}

impl Outcome {
    fn of(o: &PlannedObject, detail: impl Into<String>) -> Outcome {
        Outcome {
            region: o.region.clone(),
            type_name: o.type_name.clone(),
            id: o.id.clone(),
            address: o.address.clone(),
            detail: detail.into(),
        }
    }
}

fn usage(targets: &[Target]) -> (u64, u64) {
    targets
        .iter()
        .filter_map(|t| t.provider.usage())
        .fold((0, 0), |(c, d), u| {
            (c + u.api_calls, d + u.dependency_conflicts)
        })
}

/// Deletes what `plan` lists and nothing else, in one walk of the deletion graph.
pub async fn apply(
    plan: &NukePlan,
    targets: &[Target],
    opts: ApplyOptions,
) -> Result<Report, NukeError> {
    let started = Instant::now();
    let (calls0, conflicts0) = usage(targets);
    let selection = plan.selection.compile()?;
    let mut by_region: Vec<&Target> = Vec::new();
    for r in &plan.regions {
        let t = targets.iter().find(|t| &t.region == r).ok_or_else(|| {
            NukeError::Refused(format!(
                "the plan lists region {r}, which is not configured"
            ))
        })?;
        by_region.push(t);
    }
    let owned: Vec<Target> = by_region.iter().map(|t| (*t).clone()).collect();
    let found = discover_all(&owned, &selection).await?;
    let now = SystemTime::now();
    let mut report = Report {
        passes: 1,
        ..Default::default()
    };

    // Re-check every planned object against what exists now.
    let mut graph: DiGraph<Option<usize>, ()> = DiGraph::new();
    let mut jobs: Vec<Job> = Vec::new();
    for (ri, (t, found)) in owned.iter().zip(found).enumerate() {
        let mut current: HashMap<(String, String), DiscoveredObject> = found
            .into_iter()
            .map(|o| ((o.type_name.clone(), o.id.clone()), o))
            .collect();
        let mut fresh: Vec<DiscoveredObject> = Vec::new();
        let mut planned_of: Vec<usize> = Vec::new();
        for (pi, p) in plan.objects.iter().enumerate() {
            if p.region != t.region {
                continue;
            }
            match current.remove(&(p.type_name.clone(), p.id.clone())) {
                None => report.already_gone.push(Outcome::of(p, "already gone")),
                Some(o) => match selection.verdict(&o, now) {
                    Verdict::Kept(reason) => report
                        .kept
                        .push(Outcome::of(p, format!("no longer selected: {reason}"))),
                    Verdict::Selected(_) => {
                        fresh.push(o);
                        planned_of.push(pi);
                    }
                },
            }
        }
        let g = DeletionGraph::build(&fresh, &t.provider.deletion_rules());
        g.order(&fresh).map_err(|e| NukeError::Provider {
            region: t.region.clone(),
            message: e.to_string(),
        })?;
        let mut index = Vec::with_capacity(g.nodes.len());
        for n in &g.nodes {
            index.push(match n {
                DeletionNode::Object(i) => {
                    jobs.push(Job {
                        target: ri,
                        planned: planned_of[*i],
                        object: fresh[*i].clone(),
                    });
                    graph.add_node(Some(jobs.len() - 1))
                }
                DeletionNode::TypeDone(_) => graph.add_node(None),
            });
        }
        for &(a, b) in &g.edges {
            graph.add_edge(index[a], index[b], ());
        }
    }

    let deadline = Instant::now() + opts.deadline;
    let mut v = Deleter {
        graph: &graph,
        jobs: &jobs,
        targets: &owned,
        deadline,
        events: opts.events.clone(),
        cancel: opts.cancel.clone(),
        results: vec![None; jobs.len()],
    };
    walk::walk(
        &graph,
        Order::Forward,
        &Limits::new(opts.parallelism),
        &mut v,
        opts.cancel,
    )
    .await;
    let results = v.results;
    let mut attempted: Vec<(usize, &Job)> = Vec::new();
    for (j, job) in jobs.iter().enumerate() {
        let p = &plan.objects[job.planned];
        match &results[j] {
            Some(Ok(attempts)) => {
                let detail = if *attempts == 1 {
                    "deleted".to_string()
                } else {
                    format!("deleted after {attempts} attempts")
                };
                report.deleted.push(Outcome::of(p, detail));
                attempted.push((j, job));
            }
            Some(Err(e)) => report.failed.push(Outcome::of(p, e.clone())),
            None => report.skipped.push(Outcome::of(
                p,
                "not attempted: it waits on a deletion that failed, or the nuke was interrupted",
            )),
        }
    }

    // What was deleted must be gone.
    if !attempted.is_empty() {
        let again = discover_all(&owned, &selection).await?;
        let present: BTreeSet<(usize, String, String)> = again
            .into_iter()
            .enumerate()
            .flat_map(|(ri, objs)| objs.into_iter().map(move |o| (ri, o.type_name, o.id)))
            .collect();
        for (_, job) in attempted {
            if present.contains(&(
                job.target,
                job.object.type_name.clone(),
                job.object.id.clone(),
            )) {
                let p = &plan.objects[job.planned];
                report
                    .deleted
                    .retain(|d| !(d.type_name == p.type_name && d.id == p.id));
                report
                    .still_present
                    .push(Outcome::of(p, "still found after its deletion succeeded"));
            }
        }
    }
    let (calls1, conflicts1) = usage(targets);
    report.api_calls = calls1 - calls0;
    report.dependency_conflicts = conflicts1 - conflicts0;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

struct Job {
    target: usize,
    planned: usize,
    object: DiscoveredObject,
}

/// The walker's visitor: one task per object node, a delete retried until the deadline.
struct Deleter<'a> {
    graph: &'a DiGraph<Option<usize>, ()>,
    jobs: &'a [Job],
    targets: &'a [Target],
    deadline: Instant,
    events: Arc<dyn Fn(&Event) + Send + Sync>,
    /// Ctrl-C: a delete that failed is not retried once it is set.
    cancel: watch::Receiver<u8>,
    /// Per job: attempts it took, or why it failed.
    results: Vec<Option<Result<u32, String>>>,
}

impl Visitor for Deleter<'_> {
    type Task = usize;
    type Output = (usize, Result<u32, String>);

    fn start(&mut self, node: NodeIndex) -> Start<usize> {
        match self.graph[node] {
            None => Start::Done,
            Some(j) => Start::Tasks {
                tasks: vec![(None, j)],
                failed: false,
            },
        }
    }

    fn launch(&mut self, round: Vec<(NodeIndex, usize)>) -> Vec<Option<TaskFuture<Self::Output>>> {
        round
            .into_iter()
            .map(|(_, j)| {
                let job = &self.jobs[j];
                let provider = self.targets[job.target].provider.clone();
                let type_name = job.object.type_name.clone();
                let state = job.object.state.clone();
                let label = job.object.label();
                let until = Until {
                    deadline: self.deadline,
                    cancel: self.cancel.clone(),
                };
                let events = self.events.clone();
                let f: TaskFuture<Self::Output> = Box::pin(async move {
                    (
                        j,
                        delete(provider, &type_name, &state, &label, until, &*events).await,
                    )
                });
                Some(f)
            })
            .collect()
    }

    fn finished(&mut self, _node: NodeIndex, (j, result): Self::Output) -> bool {
        let ok = result.is_ok();
        self.results[j] = Some(result);
        ok
    }

    fn lost(&mut self, node: NodeIndex, message: String) {
        if let Some(j) = self.graph[node] {
            self.results[j] = Some(Err(message));
        }
    }
}

/// When a delete stops being retried: at the deadline, or at once when the user presses Ctrl-C
/// (a call in flight finishes; a failed one is not tried again).
struct Until {
    deadline: Instant,
    cancel: watch::Receiver<u8>,
}

impl Until {
    fn interrupted(&self) -> bool {
        *self.cancel.borrow() != CANCEL_NONE
    }

    /// Resolves when the user presses Ctrl-C (never, once the channel is closed).
    async fn pressed(&mut self) {
        while !self.interrupted() {
            if self.cancel.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Sleeps for `delay`; false if Ctrl-C came first.
    async fn sleep(&mut self, delay: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(delay) => !self.interrupted(),
            _ = self.pressed() => false,
        }
    }
}

/// Deletes one object, retried (1 s, doubling to 15 s) until it is gone, the deadline comes or
/// the user presses Ctrl-C.
async fn delete(
    provider: Arc<dyn Provider>,
    type_name: &str,
    state: &Value,
    label: &str,
    mut until: Until,
    events: &(dyn Fn(&Event) + Send + Sync),
) -> Result<u32, String> {
    let started = Instant::now();
    events(&Event::Deleting {
        label: label.to_string(),
    });
    let mut delay = Duration::from_secs(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        // The provider's own waits and retries end at the deadline too.
        let left = until.deadline.saturating_duration_since(Instant::now());
        let mut prior = state.clone();
        if let Value::Map(m) = &mut prior {
            let delete = format!("{}s", left.as_secs().max(1));
            m.insert(
                "timeouts".into(),
                Value::map([("delete", Value::from(delete))]),
            );
        }
        let req = ApplyRequest {
            type_name,
            prior: Some(&prior),
            planned: None,
            config: &Value::Null,
            token: "nuke",
            progress: &NoProgress,
        };
        let result = tokio::select! {
            r = provider.apply(req) => r,
            // Ctrl-C: the call is abandoned (nothing is recorded until the deletions end).
            _ = until.pressed() => {
                let error = format!("interrupted during attempt {attempt}");
                events(&Event::Failed {
                    label: label.to_string(),
                    error: error.clone(),
                });
                return Err(error);
            }
        };
        let e = match result {
            Ok(_) => {
                events(&Event::Deleted {
                    label: label.to_string(),
                    elapsed: started.elapsed(),
                });
                return Ok(attempt);
            }
            Err(e) => e,
        };
        let stop = if Instant::now() + delay >= until.deadline {
            Some(e.message)
        } else {
            tracing::debug!(label, attempt, error = %e.message, "delete failed; retrying");
            events(&Event::Retrying {
                label: label.to_string(),
                attempt,
                error: e.message.clone(),
            });
            let slept = until.sleep(delay).await;
            (!slept).then(|| format!("interrupted after attempt {attempt}: {}", e.message))
        };
        if let Some(error) = stop {
            events(&Event::Failed {
                label: label.to_string(),
                error: error.clone(),
            });
            return Err(error);
        }
        delay = (delay * 2).min(Duration::from_secs(15));
    }
}

/// A filter file (`--filter FILE`, JSON): a selection, the safety rules and the regions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterFile {
    pub select: Selection,
    pub regions: Vec<String>,
    pub allow_accounts: Vec<String>,
    pub block_accounts: Vec<String>,
    pub protected_environments: Vec<String>,
}

impl FilterFile {
    pub fn read(path: &std::path::Path) -> Result<FilterFile, NukeError> {
        let bad = |m: String| NukeError::Selection(format!("filter file {}: {m}", path.display()));
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
    }
}

/// The plan's objects by type name, each type's in deletion order, for rendering.
pub fn by_type(plan: &NukePlan) -> BTreeMap<&str, Vec<&PlannedObject>> {
    let mut m: BTreeMap<&str, Vec<&PlannedObject>> = BTreeMap::new();
    for o in &plan.objects {
        m.entry(o.type_name.as_str()).or_default().push(o);
    }
    m
}

/// An object's age at `now`, from its creation time (`5m`, `3d`), where it is known.
pub fn age(o: &PlannedObject, now: SystemTime) -> Option<String> {
    let created = parse_rfc3339(o.created.as_deref()?)?;
    Some(time::human(now.duration_since(created).unwrap_or_default()))
}

#[cfg(test)]
mod tests;
