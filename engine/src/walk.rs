//! One parallel walker over a dependency graph (petgraph), for every walk the engine makes:
//! apply and destroy today, and any other graph a caller builds (a deletion graph of discovered
//! objects, the ordered steps of a delivery).
//!
//! An edge `a -> b` means that `b` waits for `a`. [`Order::Forward`] starts a node when all its
//! predecessors are done; [`Order::Reverse`] when all its successors are (dependents first, as a
//! destroy goes). The walker owns scheduling only: what a node does is the [`Visitor`]'s.
//!
//! - Bounded parallelism: at most `Limits::parallelism` tasks run at once, and at most
//!   `Limits::per_key[k]` of those started with key `k` (a provider's own limit). Tasks wait
//!   in the walker, not in the runtime: the one on the longest remaining path goes first. A
//!   ready node is started only when a slot is free for its tasks, so what a walk holds at
//!   once is bounded by its parallelism, not by the width of the graph.
//! - A failed node's dependents (transitively) are skipped and reported, each once; independent
//!   branches go on.
//! - Cancellation in two levels through a `watch` channel: [`CANCEL_GRACEFUL`] starts nothing
//!   new and lets tasks in flight finish; [`CANCEL_HARD`] abandons them.
//! - Everything started in one scheduling round is handed to [`Visitor::launch`] together
//!   before any of it runs, and every batch of tasks that finished together to
//!   [`Visitor::settle`] before their dependents may start: the apply makes its intents and its
//!   results durable at exactly these two points.
//! - Tasks that finish without waiting and leave nothing outside the process
//!   ([`Visitor::is_inline`]: `terraform_data`) are made at once as their nodes start and
//!   settled in batches, so a walk of 100,000 of them writes a few dozen transactions.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::future::Future;
use std::pin::Pin;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::events::{CANCEL_HARD, CANCEL_NONE};

#[cfg(doc)]
use crate::events::CANCEL_GRACEFUL;

/// A task's work, run on the async runtime.
pub type TaskFuture<O> = Pin<Box<dyn Future<Output = O> + Send + 'static>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// A node starts when every node it depends on is done.
    Forward,
    /// A node starts when every node that depends on it is done.
    Reverse,
}

/// Where a node stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not started: its turn never came (a cycle, an interruption or a failure elsewhere).
    Waiting,
    Running,
    Done,
    Failed,
    /// Not started because something it waits for failed.
    Skipped,
}

/// What starting a node did.
pub enum Start<T> {
    /// Nothing to run: the node is complete (see [`Visitor::complete`]).
    Done,
    /// The node failed before anything ran: its dependents are skipped.
    Failed,
    /// Tasks to run, each with an optional limit key; the node is complete when all finished.
    /// `failed` says that part of the node failed already (the rest still runs, and the node
    /// fails when it ends).
    Tasks {
        tasks: Vec<(Option<String>, T)>,
        failed: bool,
    },
}

/// What a walk does at each node.
pub trait Visitor {
    /// One unit of work a node starts.
    type Task;
    /// What a finished task hands back.
    type Output: Send + 'static;

    /// Starts a node whose turn came.
    fn start(&mut self, node: NodeIndex) -> Start<Self::Task>;

    /// Everything started in one round, before any of it runs. Returns, in the same order, the
    /// work of each task, or `None` for a task that must not run (its node fails).
    fn launch(
        &mut self,
        round: Vec<(NodeIndex, Self::Task)>,
    ) -> Vec<Option<TaskFuture<Self::Output>>>;

    /// A task that finishes without waiting and leaves nothing outside the process (an
    /// in-process provider's call). The walker makes such a task as soon as its node starts,
    /// outside the slots, and its node's dependents may start before [`Visitor::settle`]: the
    /// walker settles after [`INLINE_BATCH`] of them (after each with parallelism 1), before
    /// it launches any other task, and before it waits. One that does wait after all goes on
    /// as an ordinary task.
    fn is_inline(&self, _task: &Self::Task) -> bool {
        false
    }

    /// One task finished; false: its node failed.
    fn finished(&mut self, node: NodeIndex, output: Self::Output) -> bool;

    /// A task panicked or was lost; its node fails.
    fn lost(&mut self, node: NodeIndex, message: String);

    /// A batch of tasks that finished together has been handed to [`Visitor::finished`]; called
    /// before any of their nodes completes and releases what waits for it.
    fn settle(&mut self) {}

    /// A node whose tasks all succeeded (or that had none). False fails it after all.
    fn complete(&mut self, _node: NodeIndex) -> bool {
        true
    }

    /// A node that will not start because `node`s it waits for failed.
    fn skipped(&mut self, _node: NodeIndex) {}

    /// The first request to stop, with the number of tasks still in flight.
    fn interrupted(&mut self, _in_flight: usize) {}
}

/// At most this many inline tasks (see [`Visitor::is_inline`]) between two settlements: an
/// apply of in-process resources writes a few transactions of this size, not one per resource.
pub const INLINE_BATCH: usize = 4096;

/// How many tasks may run at once.
#[derive(Debug, Clone)]
pub struct Limits {
    /// In all (at least 1).
    pub parallelism: usize,
    /// Of those started with a key.
    pub per_key: HashMap<String, usize>,
}

impl Limits {
    pub fn new(parallelism: usize) -> Limits {
        Limits {
            parallelism: parallelism.max(1),
            per_key: HashMap::new(),
        }
    }
}

/// What a walk left.
#[derive(Debug)]
pub struct Walked<T> {
    pub status: Vec<Status>,
    /// A stop was requested (the walk may still have finished everything).
    pub interrupted: bool,
    /// Tasks of started nodes that never got a slot (the walk was stopped first).
    pub unstarted: Vec<(NodeIndex, T)>,
}

impl<T> Walked<T> {
    pub fn count(&self, s: Status) -> usize {
        self.status.iter().filter(|x| **x == s).count()
    }
}

struct State {
    status: Vec<Status>,
    pending: Vec<usize>,
    running: Vec<usize>,
    failed: Vec<bool>,
    /// Nodes whose turn came, not started yet: the longest remaining path first, then in the
    /// order they became ready. A node starts only when a slot is free for its tasks, so a
    /// walk of 100,000 independent nodes holds the work of a few, not of all of them.
    ready: BinaryHeap<(usize, Reverse<usize>, NodeIndex)>,
    height: Vec<usize>,
    seq: usize,
}

impl State {
    fn make_ready(&mut self, i: NodeIndex) {
        self.seq += 1;
        self.ready
            .push((self.height[i.index()], Reverse(self.seq), i));
    }
}

/// Tasks waiting for a slot, the longest remaining path first (so that a long chain is not
/// held up behind many independent nodes), then in the order they were started. A task whose
/// key is at its limit is parked until a task of that key finishes.
struct Queue<T> {
    heap: BinaryHeap<(usize, Reverse<usize>)>,
    parked: HashMap<String, Vec<(usize, Reverse<usize>)>>,
    slots: Vec<Option<(NodeIndex, Option<String>, T)>>,
}

impl<T> Queue<T> {
    fn push(&mut self, height: usize, item: (NodeIndex, Option<String>, T)) {
        self.heap.push((height, Reverse(self.slots.len())));
        self.slots.push(Some(item));
    }

    /// Takes, in priority order, every task that fits the free slots; counts them in
    /// `in_flight`.
    fn take(
        &mut self,
        free: &mut usize,
        in_flight: &mut HashMap<String, usize>,
        per_key: &HashMap<String, usize>,
        out: &mut Vec<(NodeIndex, Option<String>, T)>,
    ) {
        while *free > 0 {
            let Some((h, seq)) = self.heap.pop() else {
                break;
            };
            let key = self.slots[seq.0].as_ref().and_then(|(_, k, _)| k.clone());
            if let Some(k) = key {
                let now = in_flight.entry(k.clone()).or_default();
                if per_key.get(&k).is_some_and(|limit| *now >= *limit) {
                    self.parked.entry(k).or_default().push((h, seq));
                    continue;
                }
                *now += 1;
            }
            *free -= 1;
            out.push(self.slots[seq.0].take().expect("queued task"));
        }
        if self.is_empty() {
            self.slots.clear();
        }
    }

    /// A task of `key` finished: what waited for its slot may go.
    fn unpark(&mut self, key: &str) {
        if let Some(p) = self.parked.remove(key) {
            self.heap.extend(p);
        }
    }

    fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.parked.is_empty()
    }

    fn drain(&mut self) -> Vec<(NodeIndex, T)> {
        self.heap.clear();
        self.parked.clear();
        self.slots
            .drain(..)
            .flatten()
            .map(|(i, _, t)| (i, t))
            .collect()
    }
}

/// For each node, the number of nodes on the longest path that starts there in walk order.
fn heights<N, E>(graph: &DiGraph<N, E>, release_to: Direction) -> Vec<usize> {
    let mut h = vec![1; graph.node_count()];
    let Ok(mut order) = petgraph::algo::toposort(graph, None) else {
        return h;
    };
    // Sinks of the walk first.
    if release_to == Direction::Outgoing {
        order.reverse();
    }
    for i in order {
        let best = graph
            .neighbors_directed(i, release_to)
            .map(|j| h[j.index()])
            .max()
            .unwrap_or(0);
        h[i.index()] = best + 1;
    }
    h
}

/// Walks `graph` in `order`, `limits` tasks at a time, until nothing more can start. A task is
/// handed to [`Visitor::launch`] only when a slot is free for it, so nothing waits on record
/// (an apply's intents) longer than it must.
pub async fn walk<N, E, V: Visitor>(
    graph: &DiGraph<N, E>,
    order: Order,
    limits: &Limits,
    visitor: &mut V,
    mut cancel: watch::Receiver<u8>,
) -> Walked<V::Task> {
    let (wait_on, release_to) = match order {
        Order::Forward => (Direction::Incoming, Direction::Outgoing),
        Order::Reverse => (Direction::Outgoing, Direction::Incoming),
    };
    let n = graph.node_count();
    let mut st = State {
        status: vec![Status::Waiting; n],
        pending: vec![0; n],
        running: vec![0; n],
        failed: vec![false; n],
        ready: BinaryHeap::new(),
        height: heights(graph, release_to),
        seq: 0,
    };
    for i in graph.node_indices() {
        // Parallel edges count once: a node is released once per distinct neighbour.
        let mut ns: Vec<NodeIndex> = graph.neighbors_directed(i, wait_on).collect();
        ns.sort_unstable();
        ns.dedup();
        st.pending[i.index()] = ns.len();
        if ns.is_empty() {
            st.make_ready(i);
        }
    }
    let parallelism = limits.parallelism.max(1);
    let mut queue: Queue<V::Task> = Queue {
        heap: BinaryHeap::new(),
        parked: HashMap::new(),
        slots: Vec::new(),
    };
    let mut in_flight_key: HashMap<String, usize> = HashMap::new();
    let mut tasks: JoinSet<(NodeIndex, V::Output)> = JoinSet::new();
    let mut task_meta: HashMap<tokio::task::Id, (NodeIndex, Option<String>)> = HashMap::new();
    let mut interrupted = false;
    let inline_cap = if parallelism == 1 { 1 } else { INLINE_BATCH };
    // Inline tasks finished since the last settlement.
    let mut unsettled = 0;
    loop {
        let cancelled = *cancel.borrow() != CANCEL_NONE;
        // Fill the free slots: queued tasks first, then start ready nodes (their tasks join
        // the queue, or are made at once if inline) until every slot has a task or nothing
        // more is ready.
        let mut free = parallelism.saturating_sub(tasks.len());
        let mut round = Vec::new();
        if !cancelled {
            loop {
                if unsettled >= inline_cap {
                    visitor.settle();
                    unsettled = 0;
                    if *cancel.borrow() != CANCEL_NONE {
                        break;
                    }
                }
                queue.take(&mut free, &mut in_flight_key, &limits.per_key, &mut round);
                if free == 0 {
                    break;
                }
                let Some((_, _, i)) = st.ready.pop() else {
                    break;
                };
                if st.status[i.index()] != Status::Waiting {
                    continue;
                }
                st.status[i.index()] = Status::Running;
                match visitor.start(i) {
                    Start::Done => settle_node(graph, release_to, &mut st, visitor, i),
                    Start::Failed => fail(graph, release_to, &mut st, visitor, i),
                    Start::Tasks { tasks: ts, failed } if ts.is_empty() => {
                        st.failed[i.index()] = failed;
                        settle_node(graph, release_to, &mut st, visitor, i);
                    }
                    Start::Tasks { tasks: ts, failed } => {
                        st.failed[i.index()] = failed;
                        st.running[i.index()] = ts.len();
                        let h = st.height[i.index()];
                        let mut now = Vec::new();
                        for (k, t) in ts {
                            if visitor.is_inline(&t) {
                                now.push((i, t));
                            } else {
                                queue.push(h, (i, k, t));
                            }
                        }
                        if !now.is_empty() {
                            unsettled += now.len();
                            run_inline(
                                graph,
                                release_to,
                                &mut st,
                                visitor,
                                now,
                                &mut tasks,
                                &mut task_meta,
                            );
                        }
                    }
                }
            }
        }
        // What finished inline is settled before anything else is launched or waited for.
        if unsettled > 0 {
            visitor.settle();
            unsettled = 0;
        }
        if !round.is_empty() {
            let keys: Vec<(NodeIndex, Option<String>)> =
                round.iter().map(|(i, k, _)| (*i, k.clone())).collect();
            let futs = visitor.launch(round.into_iter().map(|(i, _, t)| (i, t)).collect());
            for ((node, key), fut) in keys.into_iter().zip(futs) {
                match fut {
                    Some(fut) => {
                        let h = tasks.spawn(async move { (node, fut.await) });
                        task_meta.insert(h.id(), (node, key));
                    }
                    None => {
                        if let Some(k) = &key {
                            if let Some(c) = in_flight_key.get_mut(k) {
                                *c -= 1;
                            }
                            queue.unpark(k);
                        }
                        st.failed[node.index()] = true;
                        st.running[node.index()] -= 1;
                        if st.running[node.index()] == 0 {
                            settle_node(graph, release_to, &mut st, visitor, node);
                        }
                    }
                }
            }
        }
        if tasks.is_empty() {
            if cancelled || (st.ready.is_empty() && queue.is_empty()) {
                break;
            }
            continue;
        }
        let joined = tokio::select! {
            j = tasks.join_next_with_id() => j,
            _ = cancel.changed() => {
                if *cancel.borrow() == CANCEL_HARD {
                    tasks.abort_all();
                    interrupted = true;
                    break;
                }
                visitor.interrupted(tasks.len());
                continue;
            }
        };
        let Some(joined) = joined else { break };
        // Everything else that finished meanwhile is settled with it.
        let mut batch = vec![joined];
        while let Some(j) = tasks.try_join_next_with_id() {
            batch.push(j);
        }
        let finished_nodes = finish_batch(
            batch,
            &mut st,
            visitor,
            &mut task_meta,
            &mut in_flight_key,
            &mut queue,
        );
        visitor.settle();
        for node in finished_nodes {
            settle_node(graph, release_to, &mut st, visitor, node);
        }
    }
    if *cancel.borrow() != CANCEL_NONE {
        interrupted = true;
    }
    Walked {
        status: st.status,
        interrupted,
        unstarted: queue.drain(),
    }
}

type Joined<O> = Result<(tokio::task::Id, (NodeIndex, O)), tokio::task::JoinError>;
type TaskMeta = HashMap<tokio::task::Id, (NodeIndex, Option<String>)>;

/// Hands tasks that finished together to the visitor; returns the nodes whose last task it was.
fn finish_batch<V: Visitor>(
    batch: Vec<Joined<V::Output>>,
    st: &mut State,
    visitor: &mut V,
    task_meta: &mut TaskMeta,
    in_flight_key: &mut HashMap<String, usize>,
    queue: &mut Queue<V::Task>,
) -> Vec<NodeIndex> {
    let mut finished_nodes = Vec::new();
    for j in batch {
        let id = match &j {
            Ok((id, _)) => *id,
            Err(e) => e.id(),
        };
        let (node, key) = task_meta.remove(&id).expect("every task has a node");
        if let Some(k) = key {
            if let Some(c) = in_flight_key.get_mut(&k) {
                *c -= 1;
            }
            queue.unpark(&k);
        }
        let ok = match j {
            Ok((_, (_, out))) => visitor.finished(node, out),
            Err(e) => {
                visitor.lost(node, e.to_string());
                false
            }
        };
        task_done(st, node, ok, &mut finished_nodes);
    }
    finished_nodes
}

/// One of `node`'s tasks is over (`ok`: it succeeded); `node` joins `finished_nodes` when it
/// was its last.
fn task_done(st: &mut State, node: NodeIndex, ok: bool, finished_nodes: &mut Vec<NodeIndex>) {
    if !ok {
        st.failed[node.index()] = true;
    }
    st.running[node.index()] -= 1;
    if st.running[node.index()] == 0 {
        finished_nodes.push(node);
    }
}

/// Launches a node's inline tasks and makes each at once; completes the node if they were its
/// last (before [`Visitor::settle`]: see [`Visitor::is_inline`]); goes on with any that waits
/// as an ordinary task.
fn run_inline<N, E, V: Visitor>(
    graph: &DiGraph<N, E>,
    release_to: Direction,
    st: &mut State,
    visitor: &mut V,
    inline: Vec<(NodeIndex, V::Task)>,
    tasks: &mut JoinSet<(NodeIndex, V::Output)>,
    task_meta: &mut TaskMeta,
) {
    use futures::FutureExt;
    let nodes: Vec<NodeIndex> = inline.iter().map(|(i, _)| *i).collect();
    let futs = visitor.launch(inline);
    let mut finished_nodes = Vec::new();
    for (node, fut) in nodes.into_iter().zip(futs) {
        let ok = match fut {
            None => false,
            Some(mut fut) => match fut.as_mut().now_or_never() {
                Some(out) => visitor.finished(node, out),
                None => {
                    let h = tasks.spawn(async move { (node, fut.await) });
                    task_meta.insert(h.id(), (node, None));
                    continue;
                }
            },
        };
        task_done(st, node, ok, &mut finished_nodes);
    }
    for node in finished_nodes {
        settle_node(graph, release_to, st, visitor, node);
    }
}

/// A node whose work is over: done (releasing what waits for it) or failed.
fn settle_node<N, E, V: Visitor>(
    graph: &DiGraph<N, E>,
    release_to: Direction,
    st: &mut State,
    visitor: &mut V,
    i: NodeIndex,
) {
    if st.failed[i.index()] || !visitor.complete(i) {
        fail(graph, release_to, st, visitor, i);
        return;
    }
    st.status[i.index()] = Status::Done;
    let mut ns: Vec<NodeIndex> = graph.neighbors_directed(i, release_to).collect();
    ns.sort_unstable();
    ns.dedup();
    for r in ns {
        st.pending[r.index()] -= 1;
        if st.pending[r.index()] == 0 {
            st.make_ready(r);
        }
    }
}

/// A failed node: everything that waits for it, directly or not, is skipped.
fn fail<N, E, V: Visitor>(
    graph: &DiGraph<N, E>,
    release_to: Direction,
    st: &mut State,
    visitor: &mut V,
    i: NodeIndex,
) {
    st.status[i.index()] = Status::Failed;
    let mut stack: Vec<NodeIndex> = graph.neighbors_directed(i, release_to).collect();
    while let Some(j) = stack.pop() {
        if st.status[j.index()] != Status::Waiting {
            continue;
        }
        st.status[j.index()] = Status::Skipped;
        visitor.skipped(j);
        stack.extend(graph.neighbors_directed(j, release_to));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// Each node sleeps `ms` and logs when it starts and ends; `bad` fails.
    struct Sleepy {
        log: Arc<Mutex<Vec<(usize, &'static str)>>>,
        bad: Vec<usize>,
        ms: u64,
        skipped: Vec<usize>,
    }

    impl Visitor for Sleepy {
        type Task = usize;
        type Output = bool;
        fn start(&mut self, node: NodeIndex) -> Start<usize> {
            Start::Tasks {
                tasks: vec![(Some(format!("k{}", node.index() % 2)), node.index())],
                failed: false,
            }
        }
        fn launch(&mut self, round: Vec<(NodeIndex, usize)>) -> Vec<Option<TaskFuture<bool>>> {
            round
                .into_iter()
                .map(|(_, i)| {
                    let log = self.log.clone();
                    let ms = self.ms;
                    let ok = !self.bad.contains(&i);
                    Some(Box::pin(async move {
                        log.lock().unwrap().push((i, "start"));
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        log.lock().unwrap().push((i, "end"));
                        ok
                    }) as TaskFuture<bool>)
                })
                .collect()
        }
        fn finished(&mut self, _node: NodeIndex, ok: bool) -> bool {
            ok
        }
        fn lost(&mut self, _node: NodeIndex, _message: String) {}
        fn skipped(&mut self, node: NodeIndex) {
            self.skipped.push(node.index());
        }
    }

    /// 0 -> 1 -> 2, 0 -> 3, and 4 alone.
    fn graph() -> DiGraph<(), ()> {
        let mut g = DiGraph::new();
        let n: Vec<_> = (0..5).map(|_| g.add_node(())).collect();
        g.extend_with_edges([(n[0], n[1]), (n[1], n[2]), (n[0], n[3])]);
        g
    }

    fn pos(log: &[(usize, &str)], i: usize, what: &str) -> usize {
        log.iter().position(|e| *e == (i, what)).unwrap()
    }

    #[tokio::test]
    async fn forward_and_reverse_orders_and_failures_skip_dependents_only() {
        let (_tx, rx) = watch::channel(CANCEL_NONE);
        let g = graph();
        let mut v = Sleepy {
            log: Default::default(),
            bad: vec![],
            ms: 5,
            skipped: vec![],
        };
        let w = walk(&g, Order::Forward, &Limits::new(10), &mut v, rx.clone()).await;
        assert_eq!(w.count(Status::Done), 5);
        let log = v.log.lock().unwrap().clone();
        assert!(pos(&log, 0, "end") < pos(&log, 1, "start"));
        assert!(pos(&log, 1, "end") < pos(&log, 2, "start"));
        assert!(pos(&log, 0, "end") < pos(&log, 3, "start"));

        let mut v = Sleepy {
            log: Default::default(),
            bad: vec![],
            ms: 5,
            skipped: vec![],
        };
        walk(&g, Order::Reverse, &Limits::new(10), &mut v, rx.clone()).await;
        let log = v.log.lock().unwrap().clone();
        assert!(pos(&log, 2, "end") < pos(&log, 1, "start"));
        assert!(pos(&log, 1, "end") < pos(&log, 0, "start"));
        assert!(pos(&log, 3, "end") < pos(&log, 0, "start"));

        let mut v = Sleepy {
            log: Default::default(),
            bad: vec![1],
            ms: 5,
            skipped: vec![],
        };
        let w = walk(&g, Order::Forward, &Limits::new(10), &mut v, rx).await;
        assert_eq!(w.status[1], Status::Failed);
        assert_eq!(w.status[2], Status::Skipped);
        assert_eq!(v.skipped, vec![2]);
        for i in [0, 3, 4] {
            assert_eq!(w.status[i], Status::Done);
        }
    }

    #[tokio::test]
    async fn parallelism_and_per_key_limits_hold() {
        let (_tx, rx) = watch::channel(CANCEL_NONE);
        let mut g: DiGraph<(), ()> = DiGraph::new();
        for _ in 0..12 {
            g.add_node(());
        }
        for (limits, most) in [
            (Limits::new(3), 3),
            (
                Limits {
                    parallelism: 10,
                    per_key: [("k0".to_string(), 1), ("k1".to_string(), 1)].into(),
                },
                2,
            ),
        ] {
            let mut v = Sleepy {
                log: Default::default(),
                bad: vec![],
                ms: 10,
                skipped: vec![],
            };
            walk(&g, Order::Forward, &limits, &mut v, rx.clone()).await;
            let log = v.log.lock().unwrap().clone();
            let (mut now, mut max) = (0i32, 0i32);
            for (_, what) in &log {
                now += if *what == "start" { 1 } else { -1 };
                max = max.max(now);
            }
            assert_eq!(max, most);
        }
    }

    /// Tasks `Now(i)` finish at once; `Waits(i)` claims to but sleeps; `Slow(i)` is ordinary.
    #[derive(Debug)]
    enum T {
        Now(usize),
        Waits(usize),
        Slow(usize),
    }

    /// Logs launches, finishes and settlements.
    struct Inline {
        log: Vec<String>,
        slow: Vec<usize>,
        waits: Vec<usize>,
    }

    impl Visitor for Inline {
        type Task = T;
        type Output = usize;
        fn start(&mut self, node: NodeIndex) -> Start<T> {
            let i = node.index();
            let t = if self.slow.contains(&i) {
                T::Slow(i)
            } else if self.waits.contains(&i) {
                T::Waits(i)
            } else {
                T::Now(i)
            };
            Start::Tasks {
                tasks: vec![(None, t)],
                failed: false,
            }
        }
        fn is_inline(&self, t: &T) -> bool {
            !matches!(t, T::Slow(_))
        }
        fn launch(&mut self, round: Vec<(NodeIndex, T)>) -> Vec<Option<TaskFuture<usize>>> {
            round
                .into_iter()
                .map(|(_, t)| {
                    self.log.push(format!("launch {t:?}"));
                    Some(match t {
                        T::Now(i) => Box::pin(async move { i }) as TaskFuture<usize>,
                        T::Waits(i) | T::Slow(i) => Box::pin(async move {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                            i
                        }),
                    })
                })
                .collect()
        }
        fn finished(&mut self, _node: NodeIndex, i: usize) -> bool {
            self.log.push(format!("finished {i}"));
            true
        }
        fn lost(&mut self, _node: NodeIndex, _message: String) {}
        fn settle(&mut self) {
            self.log.push("settle".into());
        }
    }

    fn at(log: &[String], what: &str) -> usize {
        log.iter().position(|e| e == what).unwrap()
    }

    #[tokio::test]
    async fn inline_tasks_run_at_once_and_settle_in_batches_before_anything_else_launches() {
        let (_tx, rx) = watch::channel(CANCEL_NONE);
        // 0 -> 1 -> 2 -> 3 (3 is an ordinary task), 4 waits after all, 5.. independent.
        let mut g: DiGraph<(), ()> = DiGraph::new();
        let n: Vec<_> = (0..INLINE_BATCH + 100).map(|_| g.add_node(())).collect();
        g.extend_with_edges([(n[0], n[1]), (n[1], n[2]), (n[2], n[3])]);
        let mut v = Inline {
            log: vec![],
            slow: vec![3],
            waits: vec![4],
        };
        let w = walk(&g, Order::Forward, &Limits::new(10), &mut v, rx.clone()).await;
        assert_eq!(w.count(Status::Done), g.node_count());
        let log = &v.log;
        // An inline node's dependents start before it is settled...
        assert!(at(log, "launch Now(1)") < at(log, "settle"));
        assert!(at(log, "launch Now(2)") < at(log, "settle"));
        // ...but an ordinary task launches only after what it depends on is settled.
        let settle_after_2 = log[at(log, "finished 2")..]
            .iter()
            .position(|e| e == "settle")
            .unwrap()
            + at(log, "finished 2");
        assert!(settle_after_2 < at(log, "launch Slow(3)"));
        // No more than a batch between two settlements, and every finish is settled.
        let mut since = 0;
        for e in log {
            if e == "settle" {
                since = 0;
            } else if e.starts_with("finished") {
                since += 1;
                assert!(since <= INLINE_BATCH);
            }
        }
        assert_eq!(since, 0, "the last finishes were settled");
        // The one that waited went on as a task and finished.
        assert!(log.contains(&"finished 4".to_string()));

        // Parallelism 1: one settlement after each inline task.
        let mut g: DiGraph<(), ()> = DiGraph::new();
        for _ in 0..5 {
            g.add_node(());
        }
        let mut v = Inline {
            log: vec![],
            slow: vec![],
            waits: vec![],
        };
        walk(&g, Order::Forward, &Limits::new(1), &mut v, rx).await;
        let finished: Vec<usize> = (0..v.log.len())
            .filter(|&k| v.log[k].starts_with("finished"))
            .collect();
        assert_eq!(finished.len(), 5);
        for k in finished {
            assert_eq!(v.log[k + 1], "settle");
        }
    }

    #[tokio::test]
    async fn a_graceful_stop_starts_nothing_new_and_lets_running_tasks_finish() {
        let (tx, rx) = watch::channel(CANCEL_NONE);
        let g = graph();
        let mut v = Sleepy {
            log: Default::default(),
            bad: vec![],
            ms: 50,
            skipped: vec![],
        };
        let stop = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = tx.send(crate::events::CANCEL_GRACEFUL);
            tx
        });
        let w = walk(&g, Order::Forward, &Limits::new(10), &mut v, rx).await;
        let _tx = stop.await.unwrap();
        assert!(w.interrupted);
        // 0 and 4 were running and finished; nothing after them started.
        assert_eq!(w.status[0], Status::Done);
        assert_eq!(w.status[4], Status::Done);
        assert_eq!(w.count(Status::Waiting), 3);
    }
}
