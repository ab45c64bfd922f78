//! aws_ecs_task_definition, and container definitions between JSON and the SDK.

use super::*;
use crate::error::Result;

/// Container definitions travel as JSON in configurations (as in Terraform) and as typed
/// structures in the SDK; the SDK's schema-driven document codec converts between the two.
pub mod container_defs {
    use aws_sdk_ecs::types::ContainerDefinition;
    use aws_smithy_schema::document::DiscriminatedDocumentExt;
    use aws_smithy_types::{DiscriminatedDocument, Document, Number};
    use serde_json::Value as J;

    fn to_doc(j: &J) -> Document {
        match j {
            J::Null => Document::Null,
            J::Bool(b) => Document::Bool(*b),
            J::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Document::Number(Number::PosInt(u)),
                (None, Some(i)) => Document::Number(Number::NegInt(i)),
                _ => Document::Number(Number::Float(n.as_f64().unwrap_or(0.0))),
            },
            J::String(s) => Document::String(s.clone()),
            J::Array(a) => Document::Array(a.iter().map(to_doc).collect()),
            J::Object(o) => {
                Document::Object(o.iter().map(|(k, v)| (k.clone(), to_doc(v))).collect())
            }
        }
    }

    fn from_doc(d: &Document) -> J {
        match d {
            Document::Null => J::Null,
            Document::Bool(b) => J::Bool(*b),
            Document::Number(Number::PosInt(u)) => J::from(*u),
            Document::Number(Number::NegInt(i)) => J::from(*i),
            Document::Number(Number::Float(f)) => J::from(*f),
            Document::String(s) => J::String(s.clone()),
            Document::Array(a) => J::Array(a.iter().map(from_doc).collect()),
            Document::Object(o) => {
                J::Object(o.iter().map(|(k, v)| (k.clone(), from_doc(v))).collect())
            }
            #[allow(unreachable_patterns)]
            _ => J::Null,
        }
    }

    /// Parses the `container_definitions` JSON into SDK structures.
    pub fn parse(s: &str) -> Result<Vec<ContainerDefinition>, String> {
        let j: J = serde_json::from_str(s).map_err(|e| format!("not valid JSON: {e}"))?;
        let J::Array(items) = j else {
            return Err("must be a JSON array of container definitions".into());
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                if !item.is_object() {
                    return Err(format!("item {i} is not an object"));
                }
                if item.get("name").and_then(J::as_str).is_none() {
                    return Err(format!("item {i} has no \"name\""));
                }
                DiscriminatedDocument::new(to_doc(item))
                    .as_shape(|d| ContainerDefinition::deserialize(d))
                    .map_err(|e| format!("item {i}: {e}"))
            })
            .collect()
    }

    /// The definitions AWS returned, as JSON.
    pub fn to_json(defs: &[ContainerDefinition]) -> J {
        J::Array(
            defs.iter()
                .map(|d| {
                    DiscriminatedDocument::from_struct(ContainerDefinition::SCHEMA, d)
                        .map(|doc| from_doc(doc.document()))
                        .unwrap_or(J::Null)
                })
                .collect(),
        )
    }

    /// A canonical form for comparison: AWS fills in defaults (`essential: true`, empty
    /// lists, `protocol: tcp`) and may reorder environment variables.
    pub fn normalize(j: &J) -> J {
        fn strip(j: &J, key: Option<&str>) -> Option<J> {
            match j {
                J::Null => None,
                J::Array(a) => {
                    let mut items: Vec<J> = a.iter().filter_map(|x| strip(x, None)).collect();
                    if items.is_empty() {
                        return None;
                    }
                    if matches!(key, Some("environment" | "secrets")) {
                        items.sort_by_key(|x| x.get("name").map(|n| n.to_string()));
                    }
                    Some(J::Array(items))
                }
                J::Object(o) => {
                    let m: serde_json::Map<String, J> = o
                        .iter()
                        .filter(|(k, v)| {
                            !matches!(
                                (k.as_str(), v),
                                ("essential", J::Bool(true)) | ("protocol", J::String(_))
                            ) || (k.as_str() == "protocol" && v.as_str() != Some("tcp"))
                        })
                        .filter(|(k, v)| !(k.as_str() == "cpu" && v.as_u64() == Some(0)))
                        .filter_map(|(k, v)| strip(v, Some(k)).map(|v| (k.clone(), v)))
                        .collect();
                    (!m.is_empty()).then_some(J::Object(m))
                }
                other => Some(other.clone()),
            }
        }
        strip(j, None).unwrap_or(J::Array(Vec::new()))
    }

    /// The value to store: `prior`'s spelling when it means the same as what AWS returned.
    pub fn state_string(read: &[ContainerDefinition], prior: Option<&str>) -> String {
        let read = normalize(&to_json(read));
        if let Some(p) = prior {
            if let Ok(pj) = serde_json::from_str::<J>(p) {
                if normalize(&pj) == read {
                    return p.to_string();
                }
            }
        }
        read.to_string()
    }
}

async fn describe_task_def(
    cx: &Clients,
    id: &str,
) -> Result<Option<(t::TaskDefinition, Vec<t::Tag>)>> {
    let out = match call!(
        cx.ecs
            .describe_task_definition()
            .task_definition(id)
            .include(t::TaskDefinitionField::Tags),
        "DescribeTaskDefinition"
    ) {
        Ok(o) => o,
        // ECS says ClientException "Unable to describe task definition" for a missing one.
        Err(e) if e.is_not_found() || e.is("ClientException") => return Ok(None),
        Err(e) => return Err(e),
    };
    let tags = out.tags.clone().unwrap_or_default();
    Ok(out
        .task_definition
        .filter(|td| td.status().map(|s| s.as_str()) != Some("INACTIVE"))
        .map(|td| (td, tags)))
}

/// The newest revisions of `family` that carry `token` (a registration whose answer was lost).
async fn task_def_by_token(cx: &Clients, family: &str, token: &str) -> Result<Option<String>> {
    let out = call!(
        cx.ecs
            .list_task_definitions()
            .family_prefix(family)
            .sort(t::SortOrder::Desc)
            .max_results(5),
        "ListTaskDefinitions"
    )?;
    for arn in out.task_definition_arns() {
        if let Some((_, ts)) = describe_task_def(cx, arn).await? {
            if tags::has_token(&tags::from_sdk(&ts), token) {
                return Ok(Some(arn.clone()));
            }
        }
    }
    Ok(None)
}

fn task_def_state(td: &t::TaskDefinition, ts: &[t::Tag], prior: &Value) -> Value {
    let tags = tags::from_sdk(ts);
    let arn = td.task_definition_arn().unwrap_or_default();
    let without_rev = arn.rsplit_once(':').map(|(a, _)| a).unwrap_or(arn);
    tags::tagged(
        Value::map([
            ("id", opt_s(td.family())),
            ("arn", Value::from(arn)),
            ("arn_without_revision", Value::from(without_rev)),
            ("family", opt_s(td.family())),
            ("revision", num(td.revision())),
            (
                "container_definitions",
                Value::from(container_defs::state_string(
                    td.container_definitions(),
                    str_of(prior, "container_definitions"),
                )),
            ),
            ("cpu", opt_s(td.cpu())),
            ("memory", opt_s(td.memory())),
            ("network_mode", opt_s(td.network_mode().map(|m| m.as_str()))),
            (
                "requires_compatibilities",
                str_set(td.requires_compatibilities().iter().map(|c| c.as_str())),
            ),
            ("execution_role_arn", opt_s(td.execution_role_arn())),
            ("task_role_arn", opt_s(td.task_role_arn())),
        ]),
        tags,
        prior,
    )
}

#[async_trait]
impl AwsResource for EcsTaskDefinition {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let families: Vec<String> = pages!(
            cx.ecs
                .list_task_definition_families()
                .status(t::TaskDefinitionFamilyStatus::Active),
            "ListTaskDefinitionFamilies",
            families
        )
        .collect();
        let mut out = Vec::new();
        for f in families {
            if let Some((td, tags)) = describe_task_def(cx, &f).await? {
                out.push(Listed::new(task_def_state(&td, &tags, &Value::Null)));
            }
        }
        Ok(out)
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        match str_of(config, "container_definitions").map(container_defs::parse) {
            Some(Err(e)) => vec![Diagnostic::error(
                "Invalid container_definitions",
                format!("container_definitions: {e}"),
            )
            .for_attribute("container_definitions")],
            _ => Vec::new(),
        }
    }

    fn adjust_plan(&self, p: Planning<'_>) {
        let Planning {
            prior,
            config,
            planned,
            requires_replace,
        } = p;
        // The same containers written differently (key order, defaults spelled out) are no
        // change.
        let (Some(prior), Some(c)) = (prior, str_of(config, "container_definitions")) else {
            return;
        };
        let p = text_of(prior, "container_definitions");
        let same = match (
            serde_json::from_str::<serde_json::Value>(c),
            serde_json::from_str::<serde_json::Value>(p),
        ) {
            (Ok(a), Ok(b)) => container_defs::normalize(&a) == container_defs::normalize(&b),
            _ => false,
        };
        if same {
            requires_replace
                .retain(|a| a.first().map(String::as_str) != Some("container_definitions"));
            put(planned, "container_definitions", Value::from(p));
            if requires_replace.is_empty() {
                for k in ["id", "arn", "arn_without_revision", "revision"] {
                    if let Some(v) = prior.get(k) {
                        put(planned, k, v.clone());
                    }
                }
            }
        }
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let defs = container_defs::parse(str_of(planned, "container_definitions").unwrap_or("[]"))
            .map_err(|e| {
                AwsError::new(
                    "RegisterTaskDefinition",
                    "InvalidParameter",
                    format!("container_definitions: {e}"),
                )
            })?;
        let mut req = cx
            .ecs
            .register_task_definition()
            .family(text_of(planned, "family"))
            .set_container_definitions(Some(defs))
            .set_cpu(str_of(planned, "cpu").map(String::from))
            .set_memory(str_of(planned, "memory").map(String::from))
            .set_execution_role_arn(str_of(planned, "execution_role_arn").map(String::from))
            .set_task_role_arn(str_of(planned, "task_role_arn").map(String::from))
            .set_tags(Some(tags::for_create(planned, token)));
        if let Some(m) = str_of(planned, "network_mode") {
            req = req.network_mode(t::NetworkMode::from(m));
        }
        for c in strs_of(planned, "requires_compatibilities") {
            req = req.requires_compatibilities(t::Compatibility::from(c.as_str()));
        }
        // Every registration is a new revision: a retry after a lost answer first looks for
        // the revision carrying our token.
        let family = string_of(planned, "family");
        let arn = create_then_find(
            "RegisterTaskDefinition",
            || {
                req.clone()
                    .customize()
                    .config_override(
                        aws_sdk_ecs::config::Builder::default().retry_config(no_retry_config()),
                    )
                    .send()
            },
            |out| out.task_definition.and_then(|td| td.task_definition_arn),
            || task_def_by_token(cx, &family, token),
        )
        .await?;
        read_back(self, cx, &arn, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        // The state names one revision; an import names a family (its latest revision) or ARN.
        let target = str_of(prior, "arn").unwrap_or(id);
        Ok(describe_task_def(cx, target)
            .await?
            .map(|(td, ts)| task_def_state(&td, &ts, prior)))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let arn = text_of(state, "arn");
        match call!(
            cx.ecs.deregister_task_definition().task_definition(arn),
            "DeregisterTaskDefinition"
        ) {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() || e.is("ClientException") => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_definitions_compare_without_aws_defaults() {
        let written = r#"[{"name":"app","image":"x:1","portMappings":[{"containerPort":80}],
            "environment":[{"name":"B","value":"2"},{"name":"A","value":"1"}]}]"#;
        let returned = r#"[{"name":"app","image":"x:1","cpu":0,"essential":true,
            "portMappings":[{"containerPort":80,"protocol":"tcp"}],"mountPoints":[],"volumesFrom":[],
            "environment":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]"#;
        let n = |s: &str| container_defs::normalize(&serde_json::from_str(s).unwrap());
        assert_eq!(n(written), n(returned));
        assert_ne!(n(written), n(&written.replace("x:1", "x:2")));
        let parsed = container_defs::parse(written).unwrap();
        assert_eq!(parsed[0].image(), Some("x:1"));
        assert_eq!(parsed[0].port_mappings()[0].container_port(), Some(80));
        assert!(container_defs::parse("{}").unwrap_err().contains("array"));
        assert!(container_defs::parse("[{}]").unwrap_err().contains("name"));
    }
}
