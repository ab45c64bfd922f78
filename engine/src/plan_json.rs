//! A saved plan in Terraform's JSON output format (`terraform show -json PLANFILE`, format
//! 1.2), for what reads Terraform's: policy checks (conftest, OPA), cost tools, CI renderers.
//! `format_version`, `terraform_version`, `variables`, `planned_values`, `resource_changes`
//! (`change.{actions, before, after, after_unknown, before_sensitive, after_sensitive}`),
//! `output_changes`, `prior_state`, `timestamp`, `applyable`, `complete`, `errored`.
//! Not written: `relevant_attributes`. The `configuration` is `crate::config_json`'s.
//!
//! Sensitive values are never written: where Terraform writes the value and marks it in
//! `*_sensitive`, Terrane writes `"(sensitive value)"` and marks it the same way.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value as J};
use terrane_core::{InstanceAddr, InstanceKey, Mode, ModulePath, Value};

use crate::config::version::TERRAFORM_LANGUAGE_VERSION;
use crate::plan::{Action, Plan};
use crate::session::StateInstance;

const MASK: &str = "(sensitive value)";

/// `plan` in Terraform's format; `prior` is the state it was made against (every instance:
/// the ones the plan leaves alone are `no-op` changes), `prior_outputs` its root outputs,
/// `timestamp` when it is shown (RFC 3339).
pub fn plan_to_terraform_json(
    plan: &Plan,
    prior: &[StateInstance],
    prior_outputs: &[(String, Value, bool)],
    timestamp: &str,
) -> J {
    let mut changes: BTreeMap<InstanceAddr, J> = BTreeMap::new();
    // After the plan, for planned_values: (address, provider, value, sensitive attributes).
    let mut planned: BTreeMap<InstanceAddr, (String, Value, BTreeSet<String>)> = BTreeMap::new();
    // The state the plan was made against, as the plan sees it: moved objects at their new
    // addresses (the plan's `previous_address`), imported ones added.
    let mut previous: BTreeMap<InstanceAddr, InstanceAddr> = BTreeMap::new();
    let mut seen: Vec<StateInstance> = Vec::new();
    for si in prior {
        let mut addr = si.addr.clone();
        for m in &plan.moves {
            if m.from == addr {
                addr = m.to.clone();
            }
        }
        if addr != si.addr {
            previous.insert(addr.clone(), si.addr.clone());
        }
        seen.push(StateInstance { addr, ..si.clone() });
    }
    seen.extend(plan.imports.iter().map(|i| i.instance.clone()));
    for si in &seen {
        if plan.change(&si.addr).is_some() {
            continue;
        }
        let forget = plan.forgets.contains(&si.addr);
        let (actions, after): (&[&str], _) = if forget {
            (&["forget"], None)
        } else {
            (&["no-op"], Some(&si.value))
        };
        changes.insert(
            si.addr.clone(),
            resource_change(
                &si.addr,
                &si.provider,
                actions,
                Some(&si.value),
                after,
                &si.sensitive,
                None,
            ),
        );
        if !forget {
            planned.insert(
                si.addr.clone(),
                (si.provider.clone(), si.value.clone(), si.sensitive.clone()),
            );
        }
    }
    for c in &plan.changes {
        let actions: &[&str] = match c.action {
            Action::Create => &["create"],
            Action::Update => &["update"],
            Action::Delete => &["delete"],
            Action::Replace if c.create_before_destroy => &["create", "delete"],
            Action::Replace => &["delete", "create"],
            Action::NoOp => &["no-op"],
            Action::Read => &["read"],
        };
        let reason = match c.action {
            Action::Replace if c.reason.as_deref().is_some_and(|r| r.contains("tainted")) => {
                Some("replace_because_tainted")
            }
            Action::Replace if c.reason.is_some() => Some("replace_by_request"),
            Action::Replace => Some("replace_because_cannot_update"),
            Action::Delete if c.reason.is_some() => Some("delete_because_no_resource_config"),
            _ => None,
        };
        changes.insert(
            c.addr.clone(),
            resource_change(
                &c.addr,
                &c.provider,
                actions,
                c.prior.as_ref(),
                c.planned.as_ref(),
                &c.sensitive,
                reason,
            ),
        );
        if let (Some(v), false) = (&c.planned, c.action == Action::Delete) {
            planned.insert(
                c.addr.clone(),
                (c.provider.clone(), v.clone(), c.sensitive.clone()),
            );
        }
    }
    for (addr, from) in &previous {
        if let Some(J::Object(c)) = changes.get_mut(addr) {
            c.insert("previous_address".into(), json!(from.to_string()));
        }
    }
    for i in &plan.imports {
        if let Some(J::Object(c)) = changes.get_mut(&i.instance.addr) {
            if let Some(J::Object(ch)) = c.get_mut("change") {
                ch.insert("importing".into(), json!({"id": i.id}));
            }
        }
    }
    let mut outputs = Map::new();
    let mut output_changes = Map::new();
    for o in &plan.outputs {
        let actions = match (&o.before, &o.after) {
            (None, Some(_)) => "create",
            (Some(_), None) => "delete",
            (Some(b), Some(a)) if b == a => "no-op",
            (Some(_), Some(_)) => "update",
            (None, None) => continue,
        };
        let side = |v: &Option<Value>| match v {
            Some(_) if o.sensitive => json!(MASK),
            Some(v) => known(v),
            None => J::Null,
        };
        let mut ch = Map::new();
        ch.insert("actions".into(), json!([actions]));
        ch.insert("before".into(), side(&o.before));
        if o.after.as_ref().is_some_and(Value::is_known) || o.after.is_none() {
            ch.insert("after".into(), side(&o.after));
        }
        ch.insert(
            "after_unknown".into(),
            json!(o.after.as_ref().is_some_and(|a| !a.is_known())),
        );
        ch.insert(
            "before_sensitive".into(),
            json!(o.sensitive && o.before.is_some()),
        );
        ch.insert(
            "after_sensitive".into(),
            json!(o.sensitive && o.after.is_some()),
        );
        output_changes.insert(o.name.clone(), J::Object(ch));
        if let Some(a) = &o.after {
            let mut po = Map::new();
            po.insert("sensitive".into(), json!(o.sensitive));
            if a.is_known() {
                po.insert("value".into(), side(&o.after));
            }
            outputs.insert(o.name.clone(), J::Object(po));
        }
    }
    let mut j = json!({
        "format_version": "1.2",
        "terraform_version": TERRAFORM_LANGUAGE_VERSION,
        "planned_values": {
            "outputs": outputs,
            "root_module": module_values(
                planned.iter().map(|(a, (p, v, s))| (a, p.as_str(), v, s)),
            ),
        },
        "resource_changes": changes.into_values().collect::<Vec<_>>(),
        "output_changes": output_changes,
        "timestamp": timestamp,
        "applyable": plan.has_changes(),
        "complete": true,
        "errored": false,
    });
    if !plan.variables.is_empty() {
        j["variables"] = plan
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), json!({"value": masked(v)})))
            .collect::<Map<_, _>>()
            .into();
    }
    if !prior.is_empty() || !prior_outputs.is_empty() {
        j["prior_state"] = state_to_terraform_json(prior, prior_outputs);
    }
    j
}

/// A state in Terraform's JSON output format (`terraform show -json` without a plan file,
/// and a plan's `prior_state`): `format_version`, `terraform_version`, `values.outputs`,
/// `values.root_module` with `resources` and nested `child_modules`.
pub fn state_to_terraform_json(
    instances: &[StateInstance],
    outputs: &[(String, Value, bool)],
) -> J {
    let mut values = json!({
        "root_module": module_values(
            instances.iter().map(|si| (&si.addr, si.provider.as_str(), &si.value, &si.sensitive)),
        ),
    });
    if !outputs.is_empty() {
        values["outputs"] = outputs
            .iter()
            .map(|(n, v, s)| {
                let value = if *s { json!(MASK) } else { known(v) };
                (
                    n.clone(),
                    json!({"sensitive": s, "value": value, "type": v.type_json()}),
                )
            })
            .collect::<Map<_, _>>()
            .into();
    }
    json!({
        "format_version": "1.0",
        "terraform_version": TERRAFORM_LANGUAGE_VERSION,
        "values": values,
    })
}

/// One entry of `resource_changes`.
fn resource_change(
    addr: &InstanceAddr,
    provider: &str,
    actions: &[&str],
    before: Option<&Value>,
    after: Option<&Value>,
    sensitive: &BTreeSet<String>,
    reason: Option<&str>,
) -> J {
    let mut j = identity(addr, provider);
    let values = |v: Option<&Value>| v.map(|v| masked_attrs(v, sensitive)).unwrap_or(J::Null);
    let mut change = Map::new();
    change.insert("actions".into(), json!(actions));
    change.insert("before".into(), values(before));
    change.insert("after".into(), values(after));
    change.insert(
        "after_unknown".into(),
        after.map(unknown_shape).unwrap_or(json!({})),
    );
    let marks = |v: Option<&Value>| match v {
        Some(v) => sensitive_shape(v, sensitive),
        None => json!(false),
    };
    change.insert("before_sensitive".into(), marks(before));
    change.insert("after_sensitive".into(), marks(after));
    j.insert("change".into(), J::Object(change));
    if let Some(r) = reason {
        j.insert("action_reason".into(), json!(r));
    }
    J::Object(j)
}

/// address, module_address, mode, type, name, index and provider_name of an instance.
fn identity(addr: &InstanceAddr, provider: &str) -> Map<String, J> {
    let r = &addr.resource;
    let mut j = Map::new();
    j.insert("address".into(), json!(addr.to_string()));
    if !r.module.is_root() {
        j.insert("module_address".into(), json!(r.module.to_string()));
    }
    j.insert(
        "mode".into(),
        json!(if r.mode == Mode::Data {
            "data"
        } else {
            "managed"
        }),
    );
    j.insert("type".into(), json!(&*r.ty));
    j.insert("name".into(), json!(&*r.name));
    match &addr.key {
        InstanceKey::None => {}
        InstanceKey::Int(i) => {
            j.insert("index".into(), json!(i));
        }
        InstanceKey::Str(s) => {
            j.insert("index".into(), json!(s));
        }
    }
    j.insert("provider_name".into(), json!(provider_source(provider)));
    j
}

/// `provider.aws.west` as Terraform names the provider: `registry.terraform.io/hashicorp/aws`.
fn provider_source(key: &str) -> String {
    let rest = key.strip_prefix("provider.").unwrap_or(key);
    let name = rest.split('.').next().unwrap_or(rest);
    if name == "terraform" {
        "terraform.io/builtin/terraform".into()
    } else {
        format!("registry.terraform.io/hashicorp/{name}")
    }
}

/// A module's resources (`root_module`, with `child_modules` nested by module path).
fn module_values<'a>(
    items: impl Iterator<Item = (&'a InstanceAddr, &'a str, &'a Value, &'a BTreeSet<String>)>,
) -> J {
    let mut by_module: BTreeMap<ModulePath, Vec<J>> = BTreeMap::new();
    for (addr, provider, value, sensitive) in items {
        let mut r = identity(addr, provider);
        // Only a change names its module apart: here the nesting does.
        r.remove("module_address");
        r.insert("schema_version".into(), json!(0));
        r.insert("values".into(), masked_attrs(value, sensitive));
        r.insert("sensitive_values".into(), sensitive_shape(value, sensitive));
        by_module
            .entry(addr.resource.module.clone())
            .or_default()
            .push(J::Object(r));
    }
    fn build(path: &ModulePath, by_module: &BTreeMap<ModulePath, Vec<J>>) -> J {
        let mut m = Map::new();
        if let Some(rs) = by_module.get(path) {
            m.insert("resources".into(), json!(rs));
        }
        // The module instances directly below `path` that hold something.
        let children: BTreeSet<ModulePath> = by_module
            .keys()
            .filter(|p| p.0.len() > path.0.len() && p.starts_with(path))
            .map(|p| ModulePath(p.0[..path.0.len() + 1].to_vec()))
            .collect();
        if !children.is_empty() {
            m.insert(
                "child_modules".into(),
                J::Array(
                    children
                        .iter()
                        .map(|c| {
                            let mut cm = build(c, by_module);
                            cm["address"] = json!(c.to_string());
                            cm
                        })
                        .collect(),
                ),
            );
        }
        J::Object(m)
    }
    build(&ModulePath::root(), &by_module)
}

/// An object's attributes as JSON with unknown values left out and sensitive ones masked.
fn masked_attrs(v: &Value, sensitive: &BTreeSet<String>) -> J {
    match v {
        Value::Map(m) => J::Object(
            m.iter()
                .filter(|(_, x)| !x.is_unknown())
                .map(|(k, x)| {
                    let x = if sensitive.contains(k) && !x.is_null() {
                        json!(MASK)
                    } else {
                        known(x)
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        other => known(other),
    }
}

/// A value as JSON, an unknown part as null (its place is marked in `after_unknown`).
fn known(v: &Value) -> J {
    match v {
        Value::Unknown => J::Null,
        Value::Map(m) => J::Object(
            m.iter()
                .filter(|(_, x)| !x.is_unknown())
                .map(|(k, x)| (k.clone(), known(x)))
                .collect(),
        ),
        Value::List(l) => J::Array(l.iter().map(known).collect()),
        other => other.to_json(),
    }
}

/// A root variable's value, masked when it is known to be sensitive.
fn masked(v: &Value) -> J {
    let j = known(v);
    let text = j.to_string();
    if terrane_core::redact::mask(&text) != text {
        json!(MASK)
    } else {
        j
    }
}

/// Where a value is unknown, as Terraform writes it: `true` for an unknown value; an object
/// keeps only its parts that are not `false`; a list has an entry per element.
fn unknown_shape(v: &Value) -> J {
    match v {
        Value::Unknown => json!(true),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), unknown_shape(x)))
                .filter(|(_, x)| *x != json!(false))
                .collect(),
        ),
        Value::List(l) => J::Array(l.iter().map(unknown_shape).collect()),
        _ => json!(false),
    }
}

/// Where an object is sensitive, as Terraform writes it: `true` for a sensitive attribute,
/// and for the others the shape of their value (an object keeps only its parts that are not
/// `false`, a list has an entry per element).
fn sensitive_shape(v: &Value, sensitive: &BTreeSet<String>) -> J {
    fn shape(v: &Value) -> J {
        match v {
            Value::Map(m) => J::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), shape(x)))
                    .filter(|(_, x)| *x != json!(false))
                    .collect(),
            ),
            Value::List(l) => J::Array(l.iter().map(shape).collect()),
            _ => json!(false),
        }
    }
    match v {
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, x)| {
                    let s = if sensitive.contains(k) {
                        json!(true)
                    } else {
                        shape(x)
                    };
                    (k.clone(), s)
                })
                .filter(|(_, x)| *x != json!(false))
                .collect(),
        ),
        other => shape(other),
    }
}
