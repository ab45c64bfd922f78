//! Plans: what an apply will do, resource instance by resource instance, and its saved form.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use terrane_core::{AttrPath, Diagnostic, InstanceAddr, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    Replace,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::NoOp => "no-op",
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
        }
    }
    fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "no-op" => Action::NoOp,
            "create" => Action::Create,
            "read" => Action::Read,
            "update" => Action::Update,
            "replace" => Action::Replace,
            "delete" => Action::Delete,
            _ => return None,
        })
    }
}

/// The planned change of one resource instance.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    pub addr: InstanceAddr,
    /// `provider.aws`, `provider.aws.west`.
    pub provider: String,
    pub action: Action,
    /// State before the change (after refresh). A no-op carries it only when refresh changed
    /// it; otherwise the value is the one in state.
    pub prior: Option<Value>,
    /// State after the change, unknown where only apply can tell.
    pub planned: Option<Value>,
    /// Attributes whose change forces replacement.
    pub requires_replace: Vec<AttrPath>,
    /// Why this action, when it is not obvious from the diff.
    pub reason: Option<String>,
    /// Top-level attributes whose values must never be printed.
    pub sensitive: BTreeSet<String>,
    pub create_before_destroy: bool,
    /// Resource addresses this instance depends on (recorded in state after apply).
    pub deps: Vec<String>,
}

/// A change made outside Terrane, found by refresh.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub addr: InstanceAddr,
    pub before: Value,
    /// `None`: the object was deleted outside Terrane.
    pub after: Option<Value>,
    pub sensitive: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputChange {
    pub name: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub sensitive: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub destroy: bool,
    /// A refresh-only plan: applying it records `drift` in state and changes nothing else.
    pub refresh_only: bool,
    pub changes: Vec<ResourceChange>,
    pub drift: Vec<Drift>,
    pub outputs: Vec<OutputChange>,
    /// Root variable values the plan was made with (applied with the same values).
    pub variables: BTreeMap<String, Value>,
    pub workspace: String,
    pub lineage: String,
    pub serial: i64,
    pub config_fingerprint: String,
    pub targets: Vec<String>,
    pub warnings: Vec<Diagnostic>,
    /// State renames from `moved` blocks, in the order they are made (applying the plan
    /// records them first). A change's `addr` is the instance's new address.
    pub moves: Vec<Move>,
    /// Objects that `removed` blocks with `destroy = false` take out of the state (applying
    /// the plan forgets them; nothing is destroyed).
    pub forgets: Vec<InstanceAddr>,
    /// Existing objects that `import` blocks bring in, as read by their providers (applying
    /// the plan records them before any step; a change planned for one acts on it).
    pub imports: Vec<Import>,
    /// The instances refresh read, in address order, each with its id before and after
    /// (`None` after: it is gone). What the run saw, for `-json`'s refresh lines; not saved
    /// with the plan.
    pub refreshed: Vec<Refreshed>,
}

/// One instance refresh read.
#[derive(Debug, Clone, PartialEq)]
pub struct Refreshed {
    pub addr: InstanceAddr,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One object an `import` block brings in.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub id: String,
    pub instance: crate::session::StateInstance,
}

/// One state instance renamed by a `moved` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub from: InstanceAddr,
    pub to: InstanceAddr,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for ch in &self.changes {
            match ch.action {
                Action::Create => c.add += 1,
                Action::Update => c.change += 1,
                Action::Replace => {
                    c.add += 1;
                    c.destroy += 1
                }
                Action::Delete => c.destroy += 1,
                Action::NoOp | Action::Read => {}
            }
        }
        c
    }

    /// Whether applying would change anything (resources or outputs).
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| !matches!(c.action, Action::NoOp | Action::Read))
            || self.outputs.iter().any(|o| o.before != o.after)
            || (self.refresh_only && !self.drift.is_empty())
            || !self.moves.is_empty()
            || !self.forgets.is_empty()
            || !self.imports.is_empty()
    }

    /// Where the object now at `addr` was before a `moved` block renamed it.
    pub fn moved_from(&self, addr: &InstanceAddr) -> Option<&InstanceAddr> {
        self.moves.iter().rev().find(|m| &m.to == addr).map(|m| {
            // A chain a -> b -> c was at a.
            let mut from = &m.from;
            while let Some(earlier) = self.moves.iter().find(|e| &e.to == from) {
                from = &earlier.from;
            }
            from
        })
    }

    /// Registers the values of every sensitive attribute and output of this plan for masking
    /// (a saved plan read back from its file).
    pub fn register_sensitive(&self) {
        use terrane_core::redact::register;
        for c in &self.changes {
            for a in &c.sensitive {
                for v in [&c.prior, &c.planned].into_iter().flatten() {
                    if let Some(x) = v.get(a) {
                        register(x);
                    }
                }
            }
        }
        for o in self.outputs.iter().filter(|o| o.sensitive) {
            for v in [&o.before, &o.after].into_iter().flatten() {
                register(v);
            }
        }
    }

    pub fn change(&self, addr: &InstanceAddr) -> Option<&ResourceChange> {
        self.changes.iter().find(|c| &c.addr == addr)
    }

    /// The saved-plan file format (JSON, versioned).
    pub fn to_json(&self) -> serde_json::Value {
        let opt = |v: &Option<Value>| {
            v.as_ref()
                .map(Value::to_json_with_unknown)
                .unwrap_or(serde_json::Value::Null)
        };
        let mut j = json!({
            "format_version": 1,
            "terrane_version": env!("CARGO_PKG_VERSION"),
            "destroy": self.destroy,
            "workspace": self.workspace,
            "lineage": self.lineage,
            "serial": self.serial,
            "config_fingerprint": self.config_fingerprint,
            "targets": self.targets,
            "variables": self.variables.iter().map(|(k, v)| (k.clone(), v.to_json())).collect::<serde_json::Map<_, _>>(),
            "changes": self.changes.iter().map(|c| json!({
                "address": c.addr.to_string(),
                "provider": c.provider,
                "action": c.action.as_str(),
                "prior": opt(&c.prior),
                "has_prior": c.prior.is_some(),
                "planned": opt(&c.planned),
                "has_planned": c.planned.is_some(),
                "requires_replace": c.requires_replace,
                "reason": c.reason,
                "sensitive": c.sensitive,
                "create_before_destroy": c.create_before_destroy,
                "deps": c.deps,
            })).collect::<Vec<_>>(),
            "outputs": self.outputs.iter().map(|o| json!({
                "name": o.name,
                "before": opt(&o.before),
                "has_before": o.before.is_some(),
                "after": opt(&o.after),
                "has_after": o.after.is_some(),
                "sensitive": o.sensitive,
            })).collect::<Vec<_>>(),
        });
        if !self.moves.is_empty() {
            j["moves"] = self
                .moves
                .iter()
                .map(|m| json!({"from": m.from.to_string(), "to": m.to.to_string()}))
                .collect();
        }
        if !self.imports.is_empty() {
            j["imports"] = self
                .imports
                .iter()
                .map(|i| {
                    let si = &i.instance;
                    json!({
                        "id": i.id,
                        "address": si.addr.to_string(),
                        "provider": si.provider,
                        "value": si.value.to_json(),
                        "sensitive": si.sensitive,
                        "deps": si.deps,
                    })
                })
                .collect();
        }
        if !self.forgets.is_empty() {
            j["forgets"] = self.forgets.iter().map(|a| json!(a.to_string())).collect();
        }
        // What a refresh-only plan records is its drift (other plans leave it out).
        if self.refresh_only {
            j["refresh_only"] = json!(true);
            j["drift"] = self
                .drift
                .iter()
                .map(|d| {
                    json!({
                        "address": d.addr.to_string(),
                        "before": d.before.to_json(),
                        "after": opt(&d.after),
                        "deleted": d.after.is_none(),
                        "sensitive": d.sensitive,
                    })
                })
                .collect();
        }
        j
    }

    pub fn from_json(j: &serde_json::Value) -> Result<Plan, String> {
        if j["format_version"] != 1 {
            return Err("unsupported plan file format version".into());
        }
        let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        let opt = |v: &serde_json::Value, has: &serde_json::Value| {
            if has.as_bool() == Some(true) {
                Some(Value::from_json(v))
            } else {
                None
            }
        };
        let strings = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| x.as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut changes = Vec::new();
        for c in j["changes"].as_array().ok_or("plan has no changes list")? {
            changes.push(ResourceChange {
                addr: InstanceAddr::parse(c["address"].as_str().unwrap_or_default())
                    .map_err(|e| e.to_string())?,
                provider: s(&c["provider"]),
                action: Action::parse(c["action"].as_str().unwrap_or_default())
                    .ok_or("unknown action in plan")?,
                prior: opt(&c["prior"], &c["has_prior"]),
                planned: opt(&c["planned"], &c["has_planned"]),
                requires_replace: c["requires_replace"]
                    .as_array()
                    .map(|a| a.iter().map(strings).collect())
                    .unwrap_or_default(),
                reason: c["reason"].as_str().map(String::from),
                sensitive: strings(&c["sensitive"]).into_iter().collect(),
                create_before_destroy: c["create_before_destroy"].as_bool().unwrap_or(false),
                deps: strings(&c["deps"]),
            });
        }
        let outputs = j["outputs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| OutputChange {
                        name: s(&o["name"]),
                        before: opt(&o["before"], &o["has_before"]),
                        after: opt(&o["after"], &o["has_after"]),
                        sensitive: o["sensitive"].as_bool().unwrap_or(false),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let addr = |v: &serde_json::Value| {
            InstanceAddr::parse(v.as_str().unwrap_or_default()).map_err(|e| e.to_string())
        };
        let moves = j["moves"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| {
                        Ok(Move {
                            from: addr(&m["from"])?,
                            to: addr(&m["to"])?,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
            .transpose()?
            .unwrap_or_default();
        let forgets = j["forgets"]
            .as_array()
            .map(|a| a.iter().map(addr).collect::<Result<Vec<_>, String>>())
            .transpose()?
            .unwrap_or_default();
        let imports = j["imports"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|i| {
                        Ok(Import {
                            id: s(&i["id"]),
                            instance: crate::session::StateInstance {
                                addr: addr(&i["address"])?,
                                provider: s(&i["provider"]),
                                value: Value::from_json(&i["value"]),
                                sensitive: strings(&i["sensitive"]).into_iter().collect(),
                                deps: strings(&i["deps"]),
                                tainted: false,
                            },
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Plan {
            moves,
            forgets,
            imports,
            refreshed: Vec::new(),
            destroy: j["destroy"].as_bool().unwrap_or(false),
            changes,
            refresh_only: j["refresh_only"].as_bool().unwrap_or(false),
            drift: j["drift"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|d| -> Result<Drift, String> {
                            Ok(Drift {
                                addr: InstanceAddr::parse(
                                    d["address"].as_str().unwrap_or_default(),
                                )
                                .map_err(|e| e.to_string())?,
                                before: Value::from_json(&d["before"]),
                                after: (d["deleted"].as_bool() != Some(true))
                                    .then(|| Value::from_json(&d["after"])),
                                sensitive: strings(&d["sensitive"]).into_iter().collect(),
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?
                .unwrap_or_default(),
            outputs,
            variables: j["variables"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), Value::from_json(v)))
                        .collect()
                })
                .unwrap_or_default(),
            workspace: s(&j["workspace"]),
            lineage: s(&j["lineage"]),
            serial: j["serial"].as_i64().unwrap_or(-1),
            config_fingerprint: s(&j["config_fingerprint"]),
            targets: strings(&j["targets"]),
            warnings: Vec::new(),
        })
    }
}
