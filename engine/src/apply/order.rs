//! The apply graph: which step waits for which. Config nodes keep their dependencies; every
//! deletion (orphan, destroy, the old half of a replacement) gets a destroy node. The ordering
//! rules are listed in ARCHITECTURE.md ("Apply: ordering and durability rules").

use std::collections::HashMap;

use crate::graph::NodeKey;
use crate::plan::{Action, Plan};
use crate::session::Session;

pub(super) struct ApplyGraph {
    /// Dependencies of every node: config nodes `0..n`, then destroy node `n + k`.
    pub deps: Vec<Vec<usize>>,
    /// Destroy node `n + k` deletes `plan.changes[destroy_nodes[k]]`.
    pub destroy_nodes: Vec<usize>,
    /// Resource node -> the plan changes it carries out (all but deletions).
    pub changes_of: HashMap<usize, Vec<usize>>,
}

impl Session {
    pub(super) fn apply_graph(&self, plan: &Plan) -> ApplyGraph {
        let n = self.graph.nodes.len();
        let mut deps: Vec<Vec<usize>> = self.graph.nodes.iter().map(|x| x.deps.clone()).collect();
        let mut destroy_nodes: Vec<usize> = Vec::new(); // node index -> change index (offset by n)
        let mut changes_of: HashMap<usize, Vec<usize>> = HashMap::new(); // resource node -> changes
        for (ci, c) in plan.changes.iter().enumerate() {
            let needs_destroy = c.action == Action::Delete || c.action == Action::Replace;
            if needs_destroy {
                deps.push(Vec::new());
                destroy_nodes.push(ci);
            }
            if c.action != Action::Delete {
                if let Some(id) = self.graph.id(&NodeKey::Resource(c.addr.resource.clone())) {
                    changes_of.entry(id).or_default().push(ci);
                }
            }
        }
        let dnode = |k: usize| n + k;
        let mut destroy_by_res: HashMap<String, Vec<usize>> = HashMap::new();
        for (k, &ci) in destroy_nodes.iter().enumerate() {
            destroy_by_res
                .entry(plan.changes[ci].addr.resource.to_string())
                .or_default()
                .push(dnode(k));
        }
        // Resource nodes (in config) whose stored state depends on a resource.
        let mut stored_dependents: HashMap<String, Vec<usize>> = HashMap::new();
        for si in self.state.values() {
            if let Some(id) = self.graph.id(&NodeKey::Resource(si.addr.resource.clone())) {
                for d in &si.deps {
                    stored_dependents.entry(d.clone()).or_default().push(id);
                }
            }
        }
        // Config dependents of each resource node.
        let mut config_dependents: HashMap<usize, Vec<usize>> = HashMap::new();
        for (id, set) in self.graph.resource_deps.iter() {
            for d in set {
                config_dependents.entry(*d).or_default().push(id);
            }
        }
        let mut soft_edges: Vec<(usize, usize)> = Vec::new();
        for (k, &ci) in destroy_nodes.iter().enumerate() {
            let c = &plan.changes[ci];
            let me = dnode(k);
            let res_id = self.graph.id(&NodeKey::Resource(c.addr.resource.clone()));
            // Dependents are destroyed first.
            let dep_list: Vec<String> = self
                .state
                .get(&c.addr)
                .map(|s| s.deps.clone())
                .unwrap_or_default()
                .into_iter()
                .chain(c.deps.iter().cloned())
                .collect();
            for d in dep_list {
                if let Some(targets) = destroy_by_res.get(&d) {
                    for &t in targets {
                        if t != me {
                            deps[t].push(me);
                        }
                    }
                }
            }
            if c.action == Action::Delete && !plan.destroy && res_id.is_none() {
                // The resource block is gone: configuration that used it is updated first.
                for &y in stored_dependents
                    .get(&c.addr.resource.to_string())
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    soft_edges.push((me, y));
                }
            }
            if c.action == Action::Replace {
                if let Some(rid) = res_id {
                    if c.create_before_destroy {
                        deps[me].push(rid);
                        for &y in config_dependents
                            .get(&rid)
                            .map(Vec::as_slice)
                            .unwrap_or(&[])
                        {
                            deps[me].push(y);
                        }
                    } else {
                        deps[rid].push(me);
                    }
                }
            }
        }
        // Ordering preferences that must not create a cycle: added only when the dependent
        // cannot already reach the deletion.
        for (me, y) in soft_edges {
            if !reaches(&deps, y, me) {
                deps[me].push(y);
            }
        }
        ApplyGraph {
            deps,
            destroy_nodes,
            changes_of,
        }
    }
}

/// Whether `from` depends, directly or not, on `to`.
fn reaches(deps: &[Vec<usize>], from: usize, to: usize) -> bool {
    let mut seen = vec![false; deps.len()];
    let mut stack = vec![from];
    while let Some(i) = stack.pop() {
        if i == to {
            return true;
        }
        if !std::mem::replace(&mut seen[i], true) {
            stack.extend(deps[i].iter().copied());
        }
    }
    false
}
