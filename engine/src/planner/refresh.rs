//! Refresh: every managed instance in state read back from its provider, as a walk of a graph
//! without edges (reads do not wait for each other), under `-parallelism` and each provider's
//! own limit like every other walk.

use futures::FutureExt;
use petgraph::graph::{DiGraph, NodeIndex};
use terrane_core::{Diagnostic, Diagnostics, InstanceAddr, Mode, ProviderError, Value};
use tokio::sync::watch;

use crate::events::CANCEL_NONE;
use crate::plan::Drift;
use crate::session::Session;
use crate::walk::{self, Order, Start, TaskFuture, Visitor};

/// What a read found, when it is not what state has.
type Changed = Option<Result<Option<Value>, ProviderError>>;

struct RefreshWalk<'a> {
    session: &'a Session,
    /// Node `i` reads `instances[i]`.
    instances: Vec<&'a InstanceAddr>,
    changed: Vec<(InstanceAddr, Result<Option<Value>, ProviderError>)>,
}

impl Visitor for RefreshWalk<'_> {
    type Task = TaskFuture<Changed>;
    type Output = Changed;

    fn start(&mut self, node: NodeIndex) -> Start<Self::Task> {
        let si = &self.session.state[self.instances[node.index()]];
        let Some(p) = self.session.providers.get(&si.provider) else {
            return Start::Done;
        };
        if p.answers_in_process() {
            if let Some(r) = p.read(&si.addr.resource.ty, &si.value).now_or_never() {
                match r {
                    Ok(Some(v)) if v == si.value => {}
                    other => self.changed.push((si.addr.clone(), other)),
                }
                return Start::Done;
            }
        }
        let p = p.clone();
        let (ty, value) = (si.addr.resource.ty.clone(), si.value.clone());
        let task: TaskFuture<Changed> = Box::pin(async move {
            match p.read(&ty, &value).await {
                Ok(Some(v)) if v == value => None,
                other => Some(other),
            }
        });
        Start::Tasks {
            tasks: vec![(Some(si.provider.clone()), task)],
            failed: false,
        }
    }

    fn launch(&mut self, round: Vec<(NodeIndex, Self::Task)>) -> Vec<Option<Self::Task>> {
        round.into_iter().map(|(_, t)| Some(t)).collect()
    }

    fn finished(&mut self, node: NodeIndex, output: Changed) -> bool {
        if let Some(r) = output {
            self.changed.push((self.instances[node.index()].clone(), r));
        }
        true
    }

    fn lost(&mut self, node: NodeIndex, message: String) {
        self.changed.push((
            self.instances[node.index()].clone(),
            Err(ProviderError::new(message)),
        ));
    }
}

impl Session {
    /// Reads every managed instance in state back from its provider, in parallel; state takes
    /// what was found, and what differs is returned as drift.
    pub async fn refresh(&mut self) -> Result<Vec<Drift>, Diagnostics> {
        self.configure_providers().await?;
        let limits = self.limits();
        let instances: Vec<&InstanceAddr> = self
            .state
            .values()
            .filter(|s| s.addr.resource.mode == Mode::Managed)
            .map(|s| &s.addr)
            .collect();
        let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(instances.len(), 0);
        for _ in 0..instances.len() {
            graph.add_node(());
        }
        let (_stop, cancel) = watch::channel(CANCEL_NONE);
        let mut w = RefreshWalk {
            session: self,
            instances,
            changed: Vec::new(),
        };
        walk::walk(&graph, Order::Forward, &limits, &mut w, cancel).await;
        let mut changed = w.changed;
        changed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut drift = Vec::new();
        let mut diags = Diagnostics::new();
        for (addr, r) in changed {
            let cur = self
                .state
                .get_mut(&addr)
                .expect("refreshed instance is in state");
            match r {
                Ok(Some(v)) if v != cur.value => {
                    drift.push(Drift {
                        addr: addr.clone(),
                        before: cur.value.clone(),
                        after: Some(v.clone()),
                        sensitive: cur.sensitive.clone(),
                    });
                    cur.value = v;
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    drift.push(Drift {
                        addr: addr.clone(),
                        before: cur.value.clone(),
                        after: None,
                        sensitive: cur.sensitive.clone(),
                    });
                    self.state.remove(&addr);
                }
                Err(e) => diags.push(
                    Diagnostic::error(format!("Failed to refresh {addr}"), e.message)
                        .with_address(&addr),
                ),
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(drift)
    }
}
