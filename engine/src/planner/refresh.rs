//! Refresh: every managed instance in state read back from its provider, as a walk of a graph
//! without edges (reads do not wait for each other), under `-parallelism` and each provider's
//! own limit like every other walk. Where a provider reads many objects of a type in one call
//! ([`terrane_core::Provider::read_batch`]), a node reads a batch of them.

use futures::FutureExt;
use petgraph::graph::{DiGraph, NodeIndex};
use terrane_core::{Diagnostic, Diagnostics, InstanceAddr, Mode, ProviderError, Value};
use tokio::sync::watch;

use crate::events::CANCEL_NONE;
use crate::plan::{Drift, Refreshed};
use crate::session::Session;
use crate::walk::{self, Order, Start, TaskFuture, Visitor};

/// What a read found, when it is not what state has.
type Changed = Result<Option<Value>, ProviderError>;

/// The reads of one node that found something other than state: (position in the node's
/// batch, what was found).
type Found = Vec<(usize, Changed)>;

struct RefreshWalk<'a> {
    session: &'a Session,
    /// Node `i` reads `batches[i]`: one instance, or several of one type and provider.
    batches: Vec<Vec<&'a InstanceAddr>>,
    changed: Vec<(InstanceAddr, Changed)>,
}

impl Visitor for RefreshWalk<'_> {
    type Task = TaskFuture<Found>;
    type Output = Found;

    fn start(&mut self, node: NodeIndex) -> Start<Self::Task> {
        let batch = &self.batches[node.index()];
        let first = &self.session.state[batch[0]];
        let Some(p) = self
            .session
            .provider_at(&first.provider, &first.addr.resource)
        else {
            return Start::Done;
        };
        if batch.len() == 1 && p.answers_in_process() {
            if let Some(r) = p.read(&first.addr.resource.ty, &first.value).now_or_never() {
                match r {
                    Ok(Some(v)) if v == first.value => {}
                    other => self.changed.push((first.addr.clone(), other)),
                }
                return Start::Done;
            }
        }
        let p = p.clone();
        let ty = first.addr.resource.ty.clone();
        let values: Vec<Value> = batch
            .iter()
            .map(|a| self.session.state[*a].value.clone())
            .collect();
        let task: TaskFuture<Found> = Box::pin(async move {
            let read = if values.len() == 1 {
                p.read(&ty, &values[0]).await.map(|v| vec![v])
            } else {
                let refs: Vec<&Value> = values.iter().collect();
                p.read_many(&ty, &refs).await
            };
            match read {
                Ok(found) if found.len() == values.len() => found
                    .into_iter()
                    .zip(&values)
                    .enumerate()
                    .filter(|(_, (f, v))| f.as_ref() != Some(*v))
                    .map(|(i, (f, _))| (i, Ok(f)))
                    .collect(),
                Ok(found) => {
                    let e = ProviderError::new(format!(
                        "the provider read {} objects of {ty} for {} asked",
                        found.len(),
                        values.len()
                    ));
                    (0..values.len()).map(|i| (i, Err(e.clone()))).collect()
                }
                Err(e) => (0..values.len()).map(|i| (i, Err(e.clone()))).collect(),
            }
        });
        Start::Tasks {
            tasks: vec![(Some(first.provider.clone()), task)],
            failed: false,
        }
    }

    fn launch(&mut self, round: Vec<(NodeIndex, Self::Task)>) -> Vec<Option<Self::Task>> {
        round.into_iter().map(|(_, t)| Some(t)).collect()
    }

    fn finished(&mut self, node: NodeIndex, output: Found) -> bool {
        for (i, r) in output {
            self.changed
                .push((self.batches[node.index()][i].clone(), r));
        }
        true
    }

    fn lost(&mut self, node: NodeIndex, message: String) {
        for a in &self.batches[node.index()] {
            self.changed
                .push(((*a).clone(), Err(ProviderError::new(message.clone()))));
        }
    }
}

impl Session {
    /// Reads every managed instance in state back from its provider, in parallel; state takes
    /// what was found, and what differs is returned as drift.
    pub async fn refresh(&mut self) -> Result<(Vec<Drift>, Vec<Refreshed>), Diagnostics> {
        self.configure_providers().await?;
        let limits = self.limits();
        let batches = self.refresh_batches();
        let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(batches.len(), 0);
        for _ in 0..batches.len() {
            graph.add_node(());
        }
        let (_stop, cancel) = watch::channel(CANCEL_NONE);
        let mut w = RefreshWalk {
            session: self,
            batches,
            changed: Vec::new(),
        };
        walk::walk(&graph, Order::Forward, &limits, &mut w, cancel).await;
        let asked: Vec<InstanceAddr> = w.batches.iter().flatten().map(|a| (*a).clone()).collect();
        let mut changed = w.changed;
        changed.sort_by(|a, b| a.0.cmp(&b.0));
        // Every instance read (those whose provider answered), with its id before and after.
        let id = |v: &Value| v.get("id").and_then(Value::as_str).map(String::from);
        let mut read: Vec<Refreshed> = asked
            .into_iter()
            .filter(|a| self.providers.contains_key(&self.state[a].provider))
            .filter_map(|addr| {
                let before = id(&self.state[&addr].value);
                let after = match changed.binary_search_by(|c| c.0.cmp(&addr)) {
                    Ok(i) => changed[i].1.as_ref().ok()?.as_ref().and_then(id),
                    Err(_) => before.clone(),
                };
                Some(Refreshed {
                    addr,
                    before,
                    after,
                })
            })
            .collect();
        read.sort_by(|a, b| a.addr.cmp(&b.addr));
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
        Ok((drift, read))
    }

    /// The managed instances in state, one per batch, except where their provider reads many
    /// of their type at once: those in batches of at most its size, per provider and type.
    fn refresh_batches(&self) -> Vec<Vec<&InstanceAddr>> {
        let mut out: Vec<Vec<&InstanceAddr>> = Vec::new();
        let mut grouped: std::collections::BTreeMap<(&str, &str), Vec<&InstanceAddr>> =
            std::collections::BTreeMap::new();
        for s in self.state.values() {
            if s.addr.resource.mode != Mode::Managed {
                continue;
            }
            let size = self
                .provider_at(&s.provider, &s.addr.resource)
                .and_then(|p| p.read_batch(&s.addr.resource.ty));
            match size {
                Some(n) if n > 1 => grouped
                    .entry((s.provider.as_str(), &*s.addr.resource.ty))
                    .or_default()
                    .push(&s.addr),
                _ => out.push(vec![&s.addr]),
            }
        }
        for ((provider, ty), addrs) in grouped {
            let n = self.providers[provider].read_batch(ty).unwrap_or(1).max(1);
            out.extend(addrs.chunks(n).map(<[_]>::to_vec));
        }
        out
    }
}
