//! Terraform's state format, version 4 (Terraform 0.12 and later): the state Terrane holds
//! written as a `terraform.tfstate` file ([`to_v4`], for `state pull`) and a Terraform state read
//! into Terrane's records ([`from_v4`], for `state import-tfstate`), so that a team moves from
//! one tool to the other without recreating anything.
//!
//! The two differ in how they address things and in one encoding: Terraform groups instances
//! under their resource (`index_key`), names providers by source
//! (`provider["registry.terraform.io/hashicorp/aws"]`, Terrane's `provider.aws`), and writes an
//! attribute of dynamic type (`terraform_data`'s `input`) as `{"value": ..., "type": ...}`, which
//! is why both directions ask the provider's schema which attributes are dynamic.

use serde_json::{json, Map, Value as J};
use terrane_core::{InstanceAddr, InstanceKey, Mode, ModulePath, ResourceAddr, Value};
use terrane_state::{OutputRecord, ResourceRecord};

/// The Terraform version a written state claims ([`TERRAFORM_LANGUAGE_VERSION`]): Terraform
/// refuses a state written by a newer version than itself, so this is an old one that reads
/// format 4 as Terrane writes it.
///
/// [`TERRAFORM_LANGUAGE_VERSION`]: crate::config::version::TERRAFORM_LANGUAGE_VERSION
pub const CLAIMED_TERRAFORM_VERSION: &str = crate::config::version::TERRAFORM_LANGUAGE_VERSION;

/// A state in Terrane's records, with the identity Terraform gives it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TfState {
    pub lineage: String,
    pub serial: i64,
    pub resources: Vec<ResourceRecord>,
    pub outputs: Vec<OutputRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum TfStateError {
    #[error("the file is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("state format version {0}: only version 4 (Terraform 0.12 and later) can be read; run `terraform apply` once with a newer Terraform to upgrade it")]
    Version(i64),
    #[error("{0}")]
    Invalid(String),
}

/// Whether the attribute `attr` of the resource type `ty` (of the provider configuration
/// `provider`, in `mode`) has dynamic type in the provider's schema.
pub type IsDynamic<'a> = dyn Fn(&str, Mode, &str, &str) -> bool + 'a;

/// A resource, its provider, and its instances (key, instance JSON), in state order.
type Grouped = (ResourceAddr, String, Vec<(InstanceKey, J)>);

/// `state` as Terraform writes `terraform.tfstate`.
pub fn to_v4(state: &TfState, dynamic: &IsDynamic) -> J {
    // Resources in order of address; instances of one resource together, as Terraform has them.
    let mut resources: Vec<Grouped> = Vec::new();
    for r in &state.resources {
        let Ok(addr) = InstanceAddr::parse(&r.address) else {
            continue;
        };
        let mut attrs = r.attrs.clone();
        if let J::Object(m) = &mut attrs {
            for (k, v) in m.iter_mut() {
                // A null stays `null`, as Terraform writes it.
                if !v.is_null() && dynamic(&r.provider, addr.resource.mode, &addr.resource.ty, k) {
                    *v = json!({"value": v.clone(), "type": Value::from_json(v).type_json()});
                }
            }
        }
        let mut inst = Map::new();
        match &addr.key {
            InstanceKey::None => {}
            InstanceKey::Int(i) => {
                inst.insert("index_key".into(), json!(i));
            }
            InstanceKey::Str(s) => {
                inst.insert("index_key".into(), json!(s));
            }
        }
        if r.tainted {
            inst.insert("status".into(), json!("tainted"));
        }
        inst.insert("schema_version".into(), json!(r.schema_version));
        inst.insert("attributes".into(), attrs);
        let paths: Vec<J> = r
            .sensitive
            .iter()
            .map(|a| json!([{"type": "get_attr", "value": a}]))
            .collect();
        inst.insert("sensitive_attributes".into(), J::Array(paths));
        if !r.deps.is_empty() {
            inst.insert("dependencies".into(), json!(r.deps));
        }
        match resources.last_mut() {
            Some((last, _, insts)) if *last == addr.resource => insts.push((addr.key, inst.into())),
            _ => resources.push((
                addr.resource,
                r.provider.clone(),
                vec![(addr.key, inst.into())],
            )),
        }
    }
    let resources: Vec<J> = resources
        .into_iter()
        .map(|(addr, provider, insts)| {
            let mut m = Map::new();
            if !addr.module.is_root() {
                m.insert("module".into(), json!(addr.module.to_string()));
            }
            let mode = if addr.mode == Mode::Data {
                "data"
            } else {
                "managed"
            };
            m.insert("mode".into(), json!(mode));
            m.insert("type".into(), json!(&*addr.ty));
            m.insert("name".into(), json!(&*addr.name));
            match insts.first().map(|(k, _)| k) {
                Some(InstanceKey::Int(_)) => {
                    m.insert("each".into(), json!("list"));
                }
                Some(InstanceKey::Str(_)) => {
                    m.insert("each".into(), json!("map"));
                }
                _ => {}
            }
            m.insert("provider".into(), json!(tf_provider(&provider)));
            let insts: Vec<J> = insts.into_iter().map(|(_, i)| i).collect();
            m.insert("instances".into(), J::Array(insts));
            J::Object(m)
        })
        .collect();
    let outputs: Map<String, J> = state
        .outputs
        .iter()
        .map(|o| {
            let mut m = Map::new();
            m.insert("value".into(), o.value.clone());
            m.insert("type".into(), Value::from_json(&o.value).type_json());
            if o.sensitive {
                m.insert("sensitive".into(), json!(true));
            }
            (o.name.clone(), J::Object(m))
        })
        .collect();
    json!({
        "version": 4,
        "terraform_version": CLAIMED_TERRAFORM_VERSION,
        "serial": state.serial,
        "lineage": state.lineage,
        "outputs": outputs,
        "resources": resources,
        "check_results": null,
    })
}

/// A Terraform state file (format 4) as Terrane's records.
pub fn from_v4(text: &str, dynamic: &IsDynamic) -> Result<TfState, TfStateError> {
    let j: J = serde_json::from_str(text)?;
    let version = j.get("version").and_then(J::as_i64).unwrap_or(0);
    if version != 4 {
        return Err(TfStateError::Version(version));
    }
    let invalid = |what: String| TfStateError::Invalid(what);
    let mut out = TfState {
        lineage: j["lineage"].as_str().unwrap_or_default().to_string(),
        serial: j["serial"].as_i64().unwrap_or(0),
        ..TfState::default()
    };
    for (i, r) in j["resources"].as_array().into_iter().flatten().enumerate() {
        let field = |k: &str| {
            r.get(k)
                .and_then(J::as_str)
                .ok_or_else(|| invalid(format!("resources[{i}] has no {k:?}")))
        };
        let mode = match field("mode")? {
            "managed" => Mode::Managed,
            "data" => Mode::Data,
            other => return Err(invalid(format!("resources[{i}]: unknown mode {other:?}"))),
        };
        let module = match r.get("module").and_then(J::as_str) {
            None | Some("") => ModulePath::root(),
            Some(m) => module_path(m)
                .ok_or_else(|| invalid(format!("resources[{i}]: module {m:?} is not a module path (module.NAME, module.NAME[KEY], ...)")))?,
        };
        let (ty, name) = (field("type")?, field("name")?);
        let resource = ResourceAddr::new(module.clone(), mode, ty, name);
        let provider = terrane_provider(field("provider")?).ok_or_else(|| {
            invalid(format!(
                "resources[{i}]: provider {:?} is not a provider address",
                r["provider"]
            ))
        })?;
        for inst in r["instances"].as_array().into_iter().flatten() {
            let key = match inst.get("index_key") {
                None | Some(J::Null) => InstanceKey::None,
                Some(J::Number(n)) => InstanceKey::Int(n.as_i64().unwrap_or(0)),
                Some(J::String(s)) => InstanceKey::Str(s.clone()),
                Some(other) => return Err(invalid(format!("{resource}: index_key {other}"))),
            };
            let addr = InstanceAddr {
                resource: resource.clone(),
                key,
            };
            if inst.get("deposed").is_some() {
                return Err(invalid(format!("{addr} has a deposed object (a create_before_destroy replacement Terraform did not finish): finish it with Terraform first")));
            }
            let mut attrs = inst.get("attributes").cloned().unwrap_or(J::Null);
            if let J::Object(m) = &mut attrs {
                for (k, v) in m.iter_mut() {
                    if dynamic(&provider, mode, ty, k) {
                        if let Some(inner) = v.as_object().and_then(|o| o.get("value")) {
                            *v = inner.clone();
                        }
                    }
                }
            }
            let sensitive = inst["sensitive_attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| match p {
                    // A path: its first step names the top-level attribute.
                    J::Array(steps) => steps.first()?.get("value")?.as_str().map(String::from),
                    J::Object(step) => step.get("value")?.as_str().map(String::from),
                    _ => None,
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            out.resources.push(ResourceRecord {
                address: addr.to_string(),
                provider: provider.clone(),
                attrs,
                sensitive,
                deps: inst["dependencies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d.as_str().map(String::from))
                    .collect(),
                tainted: inst.get("status").and_then(J::as_str) == Some("tainted"),
                schema_version: inst["schema_version"].as_i64().unwrap_or(0),
            });
        }
    }
    for (name, o) in j["outputs"].as_object().into_iter().flatten() {
        out.outputs.push(OutputRecord {
            name: name.clone(),
            value: o.get("value").cloned().unwrap_or(J::Null),
            sensitive: o.get("sensitive").and_then(J::as_bool) == Some(true),
        });
    }
    Ok(out)
}

/// `module.a.module.b["k"]` as a module path.
fn module_path(s: &str) -> Option<ModulePath> {
    ModulePath::parse(s).ok()
}

/// Terrane's provider configuration key (`provider.aws`, `provider.aws.west`) as Terraform
/// writes it in state: `provider["registry.terraform.io/hashicorp/aws"].west`; the `terraform`
/// provider is Terraform's built-in one.
pub fn tf_provider(key: &str) -> String {
    let rest = key.strip_prefix("provider.").unwrap_or(key);
    let (name, alias) = match rest.split_once('.') {
        Some((n, a)) => (n, Some(a)),
        None => (rest, None),
    };
    let source = if name == "terraform" {
        "terraform.io/builtin/terraform".to_string()
    } else {
        format!("registry.terraform.io/hashicorp/{name}")
    };
    match alias {
        Some(a) => format!("provider[\"{source}\"].{a}"),
        None => format!("provider[\"{source}\"]"),
    }
}

/// Inverse of [`tf_provider`]: the provider's type is the last part of its source, whatever the
/// registry and namespace; a provider configured in a module (`module.x.provider[...]`) is the
/// same configuration key, which Terrane resolves through the module's provider inheritance.
pub fn terrane_provider(tf: &str) -> Option<String> {
    let at = tf.find("provider[\"")?;
    let rest = &tf[at + "provider[\"".len()..];
    let (source, tail) = rest.split_once("\"]")?;
    let name = source.rsplit('/').next().filter(|n| !n.is_empty())?;
    match tail.strip_prefix('.') {
        Some(alias) if !alias.is_empty() => Some(format!("provider.{name}.{alias}")),
        Some(_) => None,
        None if tail.is_empty() => Some(format!("provider.{name}")),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dynamic(_: &str, _: Mode, ty: &str, attr: &str) -> bool {
        ty == "terraform_data" && matches!(attr, "input" | "output" | "triggers_replace")
    }

    #[test]
    fn providers_are_named_as_each_tool_names_them() {
        assert_eq!(
            tf_provider("provider.aws"),
            r#"provider["registry.terraform.io/hashicorp/aws"]"#
        );
        assert_eq!(
            tf_provider("provider.aws.west"),
            r#"provider["registry.terraform.io/hashicorp/aws"].west"#
        );
        assert_eq!(
            tf_provider("provider.terraform"),
            r#"provider["terraform.io/builtin/terraform"]"#
        );
        for key in ["provider.aws", "provider.aws.west", "provider.terraform"] {
            assert_eq!(terrane_provider(&tf_provider(key)).as_deref(), Some(key));
        }
        assert_eq!(
            terrane_provider(r#"module.net.provider["registry.opentofu.org/acme/cloud"]"#)
                .as_deref(),
            Some("provider.cloud")
        );
        assert_eq!(terrane_provider("aws"), None);
    }

    #[test]
    fn a_state_goes_to_terraforms_format_and_back_unchanged() {
        let rec = |address: &str, attrs: J, deps: &[&str]| ResourceRecord {
            address: address.into(),
            provider: "provider.terraform".into(),
            attrs,
            sensitive: Vec::new(),
            deps: deps.iter().map(|d| d.to_string()).collect(),
            tainted: false,
            schema_version: 0,
        };
        let mut tainted = rec(
            "module.app.terraform_data.m[\"x\"]",
            json!({"id": "m-x", "input": {"n": 1}, "output": {"n": 1}, "triggers_replace": null}),
            &[],
        );
        tainted.tainted = true;
        tainted.sensitive = vec!["input".into()];
        let state = TfState {
            lineage: "l-1".into(),
            serial: 7,
            resources: vec![
                rec(
                    "terraform_data.a",
                    json!({"id": "a", "input": "v", "output": "v", "triggers_replace": null}),
                    &[],
                ),
                rec(
                    "terraform_data.b[0]",
                    json!({"id": "b0", "input": "a", "output": "a", "triggers_replace": [0]}),
                    &["terraform_data.a"],
                ),
                rec(
                    "terraform_data.b[1]",
                    json!({"id": "b1", "input": "a", "output": "a", "triggers_replace": [1]}),
                    &["terraform_data.a"],
                ),
                tainted,
                rec(
                    "module.svc[\"a\"].terraform_data.x",
                    json!({"id": "x", "input": null, "output": null, "triggers_replace": null}),
                    &[],
                ),
            ],
            outputs: vec![OutputRecord {
                name: "a_id".into(),
                value: json!("a"),
                sensitive: true,
            }],
        };
        let j = to_v4(&state, &dynamic);
        assert_eq!(j["version"], 4);
        let b = &j["resources"][1];
        assert_eq!(b["each"], "list");
        assert_eq!(b["instances"][1]["index_key"], 1);
        assert_eq!(
            b["instances"][0]["attributes"]["input"],
            json!({"value": "a", "type": "string"})
        );
        assert_eq!(
            b["instances"][0]["attributes"]["triggers_replace"],
            json!({"value": [0], "type": ["tuple", ["number"]]})
        );
        assert_eq!(
            b["instances"][0]["dependencies"],
            json!(["terraform_data.a"])
        );
        let m = &j["resources"][2];
        assert_eq!(m["module"], "module.app");
        assert_eq!(m["instances"][0]["status"], "tainted");
        assert_eq!(j["resources"][3]["module"], "module.svc[\"a\"]");
        assert_eq!(
            m["instances"][0]["sensitive_attributes"],
            json!([[{"type": "get_attr", "value": "input"}]])
        );
        assert_eq!(
            j["outputs"]["a_id"],
            json!({"value": "a", "type": "string", "sensitive": true})
        );
        assert_eq!(from_v4(&j.to_string(), &dynamic).unwrap(), state);
    }

    #[test]
    fn what_terrane_cannot_take_is_refused_with_the_reason() {
        let e = from_v4(r#"{"version": 3}"#, &dynamic).unwrap_err();
        assert!(e.to_string().contains("only version 4"), "{e}");
        let e = from_v4("not json", &dynamic).unwrap_err();
        assert!(e.to_string().contains("not JSON"), "{e}");
        let bad_module = json!({"version": 4, "resources": [{"module": "module.svc[a]", "mode": "managed",
            "type": "terraform_data", "name": "x", "provider": "provider[\"terraform.io/builtin/terraform\"]",
            "instances": []}]});
        let e = from_v4(&bad_module.to_string(), &dynamic).unwrap_err();
        assert!(e.to_string().contains("is not a module path"), "{e}");
        let deposed = json!({"version": 4, "resources": [{"mode": "managed", "type": "terraform_data",
            "name": "x", "provider": "provider[\"terraform.io/builtin/terraform\"]",
            "instances": [{"deposed": "00000001", "attributes": {}}]}]});
        let e = from_v4(&deposed.to_string(), &dynamic).unwrap_err();
        assert!(e.to_string().contains("deposed"), "{e}");
    }
}
