//! `data "terraform_remote_state"`: the root outputs of another workspace, from any state
//! backend, with Terraform's arguments (`backend`, `config`, `workspace`, `defaults`) and its
//! `outputs` attribute. So a branch environment reads what a shared workspace made (ECR
//! repositories, IAM roles).
//!
//! This crate does not know the backends: the binary hands the `terraform` provider a
//! [`Reader`] (as it hands the null provider more health-check kinds).

use std::sync::Arc;

use terrane_core::{Attribute, ResourceSchema, Type, Value, ValueMap};

/// One output of a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteOutput {
    pub name: String,
    pub value: Value,
    pub sensitive: bool,
}

/// Reads a workspace's outputs from a backend (`backend` and `config` as a `backend` block
/// gives them). `Ok(None)`: the backend has no such workspace.
pub trait Reader: Send + Sync {
    fn outputs(
        &self,
        backend: &str,
        config: &Value,
        workspace: &str,
    ) -> Result<Option<Vec<RemoteOutput>>, String>;
}

pub fn schema() -> ResourceSchema {
    ResourceSchema::new()
        .attr("backend", Attribute::required(Type::String))
        .attr("config", Attribute::optional(Type::Any))
        .attr("workspace", Attribute::optional(Type::String))
        .attr("defaults", Attribute::optional(Type::Any))
        .attr("outputs", Attribute::computed(Type::Any))
}

/// The data source's value: `outputs` is the workspace's outputs over `defaults`. A workspace
/// with no state gives the defaults when there are some, and is an error otherwise (a typo in
/// a workspace name must not read as "no outputs").
pub fn read(reader: Option<&Arc<dyn Reader>>, config: &Value) -> Result<Value, String> {
    let Some(reader) = reader else {
        return Err("terraform_remote_state is not available in this build".into());
    };
    let backend = config
        .get("backend")
        .and_then(Value::as_str)
        .ok_or("backend is required")?;
    let workspace = config
        .get("workspace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let backend_config = config.get("config").cloned().unwrap_or(Value::Null);
    let mut outputs: ValueMap = match config.get("defaults") {
        Some(Value::Map(m)) => m.clone(),
        None | Some(Value::Null) => ValueMap::default(),
        Some(other) => {
            return Err(format!(
                "defaults must be an object, not {}",
                other.type_name()
            ))
        }
    };
    match reader.outputs(backend, &backend_config, workspace)? {
        Some(found) => {
            for o in found {
                if o.sensitive {
                    terrane_core::redact::register(&o.value);
                }
                outputs.insert(o.name, o.value);
            }
        }
        None if !outputs.is_empty() => {}
        None => {
            return Err(format!(
                "no state was found for workspace {workspace:?} in the {backend:?} backend; \
                 give defaults to read it before it is applied"
            ))
        }
    }
    let mut v = config.clone();
    if let Value::Map(m) = &mut v {
        m.insert("outputs".into(), Value::Map(outputs));
        m.entry("workspace".into())
            .or_insert_with(|| Value::from("default"));
    }
    Ok(v)
}
