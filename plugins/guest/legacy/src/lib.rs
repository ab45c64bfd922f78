//! A plugin built against contract `terrane:provider@0.1.0` (a frozen copy of the WIT, as a
//! plugin compiled before 0.1.1 carries it), with bindings of its own instead of the SDK: the
//! host must still load and use it, and report that it cannot discover.
//!
//! One resource type, `legacy_note`: `text` (required) and `id` (computed, the text itself).

wit_bindgen::generate!({ path: "wit", world: "plugin" });

use exports::terrane::provider::provider::Guest;
use terrane::provider::types::{
    ApplyRequest, Attribute, Diagnostic, Error, Manifest, PlanRequest, PlanResponse,
    ProviderSchema, Schema,
};

struct Legacy;

fn attr(name: &str, required: bool) -> Attribute {
    Attribute {
        name: name.into(),
        type_: "\"string\"".into(),
        required,
        optional: false,
        computed: !required,
        sensitive: false,
        force_new: required,
        default: None,
    }
}

fn unsupported(what: &str) -> Error {
    Error {
        message: format!("legacy_note does not support {what}"),
        retryable: false,
        partial_state: None,
    }
}

/// `{"text": "..."}` -> `{"id": "...", "text": "..."}`, by hand: this plugin has no JSON crate.
fn with_id(config: &str) -> String {
    let text = config
        .split_once("\"text\":")
        .map(|(_, rest)| rest.trim_start())
        .and_then(|rest| rest.strip_prefix('"'))
        .and_then(|rest| rest.split_once('"'))
        .map(|(t, _)| t)
        .unwrap_or_default();
    format!("{{\"id\":\"{text}\",\"text\":\"{text}\"}}")
}

impl Guest for Legacy {
    fn metadata() -> Manifest {
        Manifest {
            name: "legacy".into(),
            version: "0.1.0".into(),
            http_hosts: Vec::new(),
            aws_services: Vec::new(),
        }
    }

    fn schema() -> ProviderSchema {
        ProviderSchema {
            provider: Schema {
                type_name: String::new(),
                attributes: Vec::new(),
                blocks: Vec::new(),
            },
            resources: vec![Schema {
                type_name: "legacy_note".into(),
                attributes: vec![attr("text", true), attr("id", false)],
                blocks: Vec::new(),
            }],
            data_sources: Vec::new(),
        }
    }

    fn configure(_config: String) -> Result<(), Error> {
        Ok(())
    }

    fn validate(_type_name: String, _config: String) -> Vec<Diagnostic> {
        Vec::new()
    }

    fn plan(request: PlanRequest) -> Result<PlanResponse, Error> {
        let planned = match &request.prior {
            Some(p) if with_id(p) == with_id(&request.config) => p.clone(),
            _ if request.config.contains("__terrane_unknown__") => request.config,
            _ => with_id(&request.config),
        };
        Ok(PlanResponse {
            planned,
            requires_replace: Vec::new(),
            diagnostics: Vec::new(),
        })
    }

    fn apply(request: ApplyRequest) -> Result<Option<String>, Error> {
        Ok(request.planned.map(|p| with_id(&p)))
    }

    fn read(_type_name: String, state: String) -> Result<Option<String>, Error> {
        Ok(Some(state))
    }

    fn import(_type_name: String, _id: String) -> Result<String, Error> {
        Err(unsupported("import"))
    }

    fn read_data(_type_name: String, _config: String) -> Result<String, Error> {
        Err(unsupported("data sources"))
    }
}

export!(Legacy);
