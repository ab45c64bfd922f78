//! aws_ecs_cluster, aws_ecs_task_definition, aws_ecs_service.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ecs::types as t;
use terrane_core::{AttrPath, Attribute, Diagnostic, Nesting, ResourceSchema, Type, Value};

use super::util::{
    add_timeouts, block, blocks, changed, create_then_find, empty_sets_for_null, int_of, missing,
    no_retry_config, num, opt_n, opt_s, str_set, strs_of, timeout, vanished,
};
use super::{bool_of, str_of, AwsResource};
use crate::config::Clients;
use crate::error::{retry_dependency, sdk, wait_until, AwsError};
use crate::tags;

pub struct EcsCluster;
pub struct EcsTaskDefinition;
pub struct EcsService;

fn ecs_tags(m: &BTreeMap<String, String>) -> Vec<t::Tag> {
    m.iter()
        .map(|(k, v)| t::Tag::builder().key(k).value(v).build())
        .collect()
}

fn read_tags(ts: &[t::Tag]) -> BTreeMap<String, String> {
    ts.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// Makes the tags of an ECS object equal to the planned `tags_all`.
async fn sync_tags(
    cx: &Clients,
    arn: &str,
    prior: &Value,
    planned: &Value,
) -> Result<(), AwsError> {
    tags::apply_diff(
        prior,
        planned,
        |keys| async move {
            cx.ecs
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("UntagResource", e))
        },
        |t| async move {
            cx.ecs
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(ecs_tags(&t)))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("TagResource", e))
        },
    )
    .await
}

/// ECS reports a missing cluster or service in `failures`, not as an error.
fn tags_value(read: BTreeMap<String, String>, prior: &Value) -> (Value, Value) {
    tags::split(read, prior)
}

// ---------------------------------------------------------------- aws_ecs_cluster

async fn describe_cluster(cx: &Clients, id: &str) -> Result<Option<t::Cluster>, AwsError> {
    let out = cx
        .ecs
        .describe_clusters()
        .clusters(id)
        .include(t::ClusterField::Tags)
        .include(t::ClusterField::Settings)
        .send()
        .await
        .map_err(|e| sdk("DescribeClusters", e))?;
    Ok(out
        .clusters
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.status() != Some("INACTIVE")))
}

fn cluster_state(c: &t::Cluster, prior: &Value) -> Value {
    let (tags, tags_all) = tags_value(read_tags(c.tags()), prior);
    let settings: Vec<Value> = c
        .settings()
        .iter()
        .map(|s| {
            Value::map([
                ("name", opt_s(s.name().map(|n| n.as_str()))),
                ("value", opt_s(s.value())),
            ])
        })
        .collect();
    // An unconfigured `setting` is not managed: AWS's default containerInsights=disabled
    // is not drift.
    let settings = if blocks(prior, "setting").is_empty()
        && settings
            .iter()
            .all(|s| s.get("value").and_then(Value::as_str) == Some("disabled"))
    {
        Vec::new()
    } else {
        settings
    };
    Value::map([
        ("id", opt_s(c.cluster_arn())),
        ("arn", opt_s(c.cluster_arn())),
        ("name", opt_s(c.cluster_name())),
        ("setting", Value::List(settings)),
        ("tags", tags),
        ("tags_all", tags_all),
    ])
}

fn cluster_settings(planned: &Value) -> Vec<t::ClusterSetting> {
    blocks(planned, "setting")
        .into_iter()
        .map(|s| {
            t::ClusterSetting::builder()
                .name(t::ClusterSettingName::from(
                    str_of(s, "name").unwrap_or_default(),
                ))
                .value(str_of(s, "value").unwrap_or_default())
                .build()
        })
        .collect()
}

#[async_trait]
impl AwsResource for EcsCluster {
    fn name(&self) -> &'static str {
        "aws_ecs_cluster"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .block(
                "setting",
                Nesting::Set,
                ResourceSchema::new()
                    .attr("name", Attribute::required(Type::String))
                    .attr("value", Attribute::required(Type::String)),
            )
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        // CreateCluster is idempotent by name: a retry returns the same cluster.
        let out = cx
            .ecs
            .create_cluster()
            .cluster_name(str_of(planned, "name").unwrap_or_default())
            .set_settings(Some(cluster_settings(planned)))
            .set_tags(Some(ecs_tags(&tags::with_token(
                &tags::wanted(planned),
                Some(token),
            ))))
            .send()
            .await
            .map_err(|e| sdk("CreateCluster", e))?;
        let arn = out
            .cluster
            .and_then(|c| c.cluster_arn)
            .ok_or_else(|| missing("CreateCluster", "cluster ARN"))?;
        let c = describe_cluster(cx, &arn)
            .await?
            .ok_or_else(|| vanished("DescribeClusters", "cluster", &arn))?;
        Ok(cluster_state(&c, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        Ok(describe_cluster(cx, id)
            .await?
            .map(|c| cluster_state(&c, prior)))
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let arn = str_of(prior, "arn").unwrap_or_default().to_string();
        if changed(prior, planned, &["setting"]) {
            let mut settings = cluster_settings(planned);
            if settings.is_empty() {
                settings.push(
                    t::ClusterSetting::builder()
                        .name(t::ClusterSettingName::ContainerInsights)
                        .value("disabled")
                        .build(),
                );
            }
            // UpdateCluster takes the settings too (and moto implements only it).
            cx.ecs
                .update_cluster()
                .cluster(&arn)
                .set_settings(Some(settings))
                .send()
                .await
                .map_err(|e| sdk("UpdateCluster", e))?;
        }
        sync_tags(cx, &arn, prior, planned).await?;
        let c = describe_cluster(cx, &arn)
            .await?
            .ok_or_else(|| vanished("DescribeClusters", "cluster", &arn))?;
        Ok(cluster_state(&c, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let arn = str_of(state, "arn").unwrap_or_default().to_string();
        // ClusterContainsServicesException while services are still draining.
        retry_dependency(Duration::from_secs(600), || async {
            cx.ecs
                .delete_cluster()
                .cluster(&arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("DeleteCluster", e))
        })
        .await
    }
}

// ---------------------------------------------------------------- container definitions

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

// ---------------------------------------------------------------- aws_ecs_task_definition

async fn describe_task_def(
    cx: &Clients,
    id: &str,
) -> Result<Option<(t::TaskDefinition, Vec<t::Tag>)>, AwsError> {
    let out = match cx
        .ecs
        .describe_task_definition()
        .task_definition(id)
        .include(t::TaskDefinitionField::Tags)
        .send()
        .await
        .map_err(|e| sdk("DescribeTaskDefinition", e))
    {
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
async fn task_def_by_token(
    cx: &Clients,
    family: &str,
    token: &str,
) -> Result<Option<String>, AwsError> {
    let out = cx
        .ecs
        .list_task_definitions()
        .family_prefix(family)
        .sort(t::SortOrder::Desc)
        .max_results(5)
        .send()
        .await
        .map_err(|e| sdk("ListTaskDefinitions", e))?;
    for arn in out.task_definition_arns() {
        if let Some((_, ts)) = describe_task_def(cx, arn).await? {
            if tags::has_token(&read_tags(&ts), token) {
                return Ok(Some(arn.clone()));
            }
        }
    }
    Ok(None)
}

fn task_def_state(td: &t::TaskDefinition, ts: &[t::Tag], prior: &Value) -> Value {
    let (tags, tags_all) = tags_value(read_tags(ts), prior);
    let arn = td.task_definition_arn().unwrap_or_default();
    let without_rev = arn.rsplit_once(':').map(|(a, _)| a).unwrap_or(arn);
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
        ("tags", tags),
        ("tags_all", tags_all),
    ])
}

#[async_trait]
impl AwsResource for EcsTaskDefinition {
    fn name(&self) -> &'static str {
        "aws_ecs_task_definition"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("arn_without_revision", Attribute::computed(Type::String))
            .attr("revision", Attribute::computed(Type::Number))
            .attr("family", Attribute::required(Type::String).force_new())
            .attr(
                "container_definitions",
                Attribute::required(Type::String).force_new(),
            )
            .attr("cpu", Attribute::optional(Type::String).force_new())
            .attr("memory", Attribute::optional(Type::String).force_new())
            .attr(
                "network_mode",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "requires_compatibilities",
                Attribute::optional(Type::set(Type::String)).force_new(),
            )
            .attr(
                "execution_role_arn",
                Attribute::optional(Type::String).force_new(),
            )
            .attr(
                "task_role_arn",
                Attribute::optional(Type::String).force_new(),
            )
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

    fn adjust_plan(
        &self,
        prior: Option<&Value>,
        config: &Value,
        planned: &mut Value,
        requires_replace: &mut Vec<AttrPath>,
    ) {
        // The same containers written differently (key order, defaults spelled out) are no
        // change.
        let (Some(prior), Some(c)) = (prior, str_of(config, "container_definitions")) else {
            return;
        };
        let p = str_of(prior, "container_definitions").unwrap_or_default();
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
            super::put(planned, "container_definitions", Value::from(p));
            if requires_replace.is_empty() {
                for k in ["id", "arn", "arn_without_revision", "revision"] {
                    if let Some(v) = prior.get(k) {
                        super::put(planned, k, v.clone());
                    }
                }
            }
        }
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
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
            .family(str_of(planned, "family").unwrap_or_default())
            .set_container_definitions(Some(defs))
            .set_cpu(str_of(planned, "cpu").map(String::from))
            .set_memory(str_of(planned, "memory").map(String::from))
            .set_execution_role_arn(str_of(planned, "execution_role_arn").map(String::from))
            .set_task_role_arn(str_of(planned, "task_role_arn").map(String::from))
            .set_tags(Some(ecs_tags(&tags::with_token(
                &tags::wanted(planned),
                Some(token),
            ))));
        if let Some(m) = str_of(planned, "network_mode") {
            req = req.network_mode(t::NetworkMode::from(m));
        }
        for c in strs_of(planned, "requires_compatibilities") {
            req = req.requires_compatibilities(t::Compatibility::from(c.as_str()));
        }
        // Every registration is a new revision: a retry after a lost answer first looks for
        // the revision carrying our token.
        let family = str_of(planned, "family").unwrap_or_default().to_string();
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
        let (td, ts) = describe_task_def(cx, &arn)
            .await?
            .ok_or_else(|| vanished("DescribeTaskDefinition", "task definition", &arn))?;
        Ok(task_def_state(&td, &ts, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        // The state names one revision; an import names a family (its latest revision) or ARN.
        let target = str_of(prior, "arn").unwrap_or(id);
        Ok(describe_task_def(cx, target)
            .await?
            .map(|(td, ts)| task_def_state(&td, &ts, prior)))
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let arn = str_of(prior, "arn").unwrap_or_default().to_string();
        sync_tags(cx, &arn, prior, planned).await?;
        let (td, ts) = describe_task_def(cx, &arn)
            .await?
            .ok_or_else(|| vanished("DescribeTaskDefinition", "task definition", &arn))?;
        Ok(task_def_state(&td, &ts, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let arn = str_of(state, "arn").unwrap_or_default();
        match cx
            .ecs
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(|e| sdk("DeregisterTaskDefinition", e))
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() || e.is("ClientException") => Ok(()),
            Err(e) => Err(e),
        }
    }
}

// ---------------------------------------------------------------- aws_ecs_service

const SERVICE_STABLE: Duration = Duration::from_secs(1200);
const IAM_PROPAGATION: Duration = Duration::from_secs(120);

async fn describe_service(
    cx: &Clients,
    cluster: &str,
    name: &str,
) -> Result<Option<t::Service>, AwsError> {
    let out = match cx
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .include(t::ServiceField::Tags)
        .send()
        .await
        .map_err(|e| sdk("DescribeServices", e))
    {
        Ok(o) => o,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(out
        .services
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.status() != Some("INACTIVE")))
}

fn service_state(s: &t::Service, prior: &Value) -> Value {
    let (tags, tags_all) = tags_value(read_tags(s.tags()), prior);
    // moto (and ECS for a non-awsvpc service) returns an empty networkConfiguration: that is
    // no configuration, not drift.
    let net = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .filter(|a| !a.subnets().is_empty())
        .map(|a| {
            vec![Value::map([
                ("subnets", str_set(a.subnets())),
                ("security_groups", str_set(a.security_groups())),
                (
                    "assign_public_ip",
                    Value::Bool(a.assign_public_ip().map(|x| x.as_str()) == Some("ENABLED")),
                ),
            ])]
        })
        .unwrap_or_default();
    let mut lbs: Vec<Value> = s
        .load_balancers()
        .iter()
        .map(|l| {
            Value::map([
                ("target_group_arn", opt_s(l.target_group_arn())),
                ("container_name", opt_s(l.container_name())),
                ("container_port", opt_n(l.container_port())),
            ])
        })
        .collect();
    terrane_core::schema::dedup_set(&mut lbs);
    let dc = s.deployment_configuration();
    let cluster = s.cluster_arn().unwrap_or_default();
    Value::map([
        ("id", opt_s(s.service_arn())),
        ("arn", opt_s(s.service_arn())),
        ("name", opt_s(s.service_name())),
        (
            "cluster",
            // Keep the spelling the user wrote (name or ARN) when it is the same cluster.
            match str_of(prior, "cluster") {
                Some(p) if cluster.ends_with(&format!("/{p}")) || p == cluster => Value::from(p),
                _ => Value::from(cluster),
            },
        ),
        ("task_definition", {
            let td = s.task_definition().unwrap_or_default();
            match str_of(prior, "task_definition") {
                Some(p) if td == p || td.ends_with(&format!("/{p}")) => Value::from(p),
                _ => Value::from(td),
            }
        }),
        ("desired_count", num(s.desired_count())),
        ("launch_type", opt_s(s.launch_type().map(|l| l.as_str()))),
        // Left out of some answers (moto's among them): not reported is not drift.
        (
            "deployment_minimum_healthy_percent",
            dc.and_then(|d| d.minimum_healthy_percent())
                .map(num)
                .unwrap_or_else(|| keep(prior, "deployment_minimum_healthy_percent")),
        ),
        (
            "deployment_maximum_percent",
            dc.and_then(|d| d.maximum_percent())
                .map(num)
                .unwrap_or_else(|| keep(prior, "deployment_maximum_percent")),
        ),
        (
            "health_check_grace_period_seconds",
            opt_n(s.health_check_grace_period_seconds())
                .or_prior(prior, "health_check_grace_period_seconds"),
        ),
        (
            "wait_for_steady_state",
            prior
                .get("wait_for_steady_state")
                .cloned()
                .unwrap_or(Value::Bool(false)),
        ),
        ("network_configuration", Value::List(net)),
        ("load_balancer", Value::List(lbs)),
        ("tags", tags),
        ("tags_all", tags_all),
    ])
}

fn keep(prior: &Value, k: &str) -> Value {
    prior.get(k).cloned().unwrap_or(Value::Null)
}

trait OrPrior {
    fn or_prior(self, prior: &Value, k: &str) -> Value;
}

impl OrPrior for Value {
    /// Null from AWS where the prior state has a value keeps the prior (an unset optional).
    fn or_prior(self, prior: &Value, k: &str) -> Value {
        if self.is_null() || self == Value::Number(0.0) {
            match prior.get(k) {
                Some(p) if p.is_null() => Value::Null,
                _ => self,
            }
        } else {
            self
        }
    }
}

fn network_configuration(planned: &Value) -> Option<t::NetworkConfiguration> {
    let n = block(planned, "network_configuration")?;
    let a = t::AwsVpcConfiguration::builder()
        .set_subnets(Some(strs_of(n, "subnets")))
        .set_security_groups(Some(strs_of(n, "security_groups")))
        .assign_public_ip(if bool_of(n, "assign_public_ip") == Some(true) {
            t::AssignPublicIp::Enabled
        } else {
            t::AssignPublicIp::Disabled
        })
        .build()
        .ok()?;
    Some(
        t::NetworkConfiguration::builder()
            .awsvpc_configuration(a)
            .build(),
    )
}

fn load_balancers(planned: &Value) -> Vec<t::LoadBalancer> {
    blocks(planned, "load_balancer")
        .into_iter()
        .map(|l| {
            t::LoadBalancer::builder()
                .set_target_group_arn(str_of(l, "target_group_arn").map(String::from))
                .set_container_name(str_of(l, "container_name").map(String::from))
                .set_container_port(int_of(l, "container_port"))
                .build()
        })
        .collect()
}

fn deployment_configuration(planned: &Value) -> t::DeploymentConfiguration {
    t::DeploymentConfiguration::builder()
        .set_minimum_healthy_percent(int_of(planned, "deployment_minimum_healthy_percent"))
        .set_maximum_percent(int_of(planned, "deployment_maximum_percent"))
        .build()
}

/// Polls until the service has one deployment and runs the desired number of tasks.
async fn wait_stable(
    cx: &Clients,
    cluster: &str,
    name: &str,
    deadline: Duration,
) -> Result<t::Service, AwsError> {
    wait_until(
        &format!("service {name} to become stable"),
        "DescribeServices",
        deadline,
        || async {
            Ok(describe_service(cx, cluster, name)
                .await?
                .filter(|s| s.deployments().len() == 1 && s.running_count() == s.desired_count()))
        },
    )
    .await
}

/// A new IAM role takes a few seconds to become usable by ECS and EKS ("Unable to assume
/// role", "role ... is not authorized"): retry those until the role has propagated.
pub async fn retry_iam_propagation<T, F, Fut>(mut f: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AwsError>>,
{
    let start = tokio::time::Instant::now();
    let mut delay = Duration::from_secs(2);
    loop {
        match f().await {
            Err(e)
                if (e.code.contains("InvalidParameter") || e.code.contains("AccessDenied"))
                    && (e.message.contains("assume role")
                        || e.message.contains("assume the role")
                        || e.message.contains("not authorized"))
                    && start.elapsed() < IAM_PROPAGATION =>
            {
                tracing::debug!(error = %e, "IAM role not yet usable; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(15));
            }
            other => return other,
        }
    }
}

#[async_trait]
impl AwsResource for EcsService {
    fn name(&self) -> &'static str {
        "aws_ecs_service"
    }

    fn schema(&self) -> ResourceSchema {
        add_timeouts(
            ResourceSchema::new()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("name", Attribute::required(Type::String).force_new())
                .attr("cluster", Attribute::required(Type::String).force_new())
                .attr("task_definition", Attribute::required(Type::String))
                .attr(
                    "desired_count",
                    Attribute::optional(Type::Number).with_default(0i64),
                )
                .attr(
                    "launch_type",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "deployment_minimum_healthy_percent",
                    Attribute::optional(Type::Number).with_default(100i64),
                )
                .attr(
                    "deployment_maximum_percent",
                    Attribute::optional(Type::Number).with_default(200i64),
                )
                .attr(
                    "health_check_grace_period_seconds",
                    Attribute::optional(Type::Number),
                )
                .attr(
                    "wait_for_steady_state",
                    Attribute::optional(Type::Bool).with_default(false),
                )
                .block(
                    "network_configuration",
                    Nesting::List,
                    ResourceSchema::new()
                        .attr("subnets", Attribute::required(Type::set(Type::String)))
                        .attr(
                            "security_groups",
                            Attribute::optional(Type::set(Type::String)),
                        )
                        .attr(
                            "assign_public_ip",
                            Attribute::optional(Type::Bool).with_default(false),
                        ),
                )
                .block(
                    "load_balancer",
                    Nesting::Set,
                    ResourceSchema::new()
                        .attr("target_group_arn", Attribute::optional(Type::String))
                        .attr("container_name", Attribute::required(Type::String))
                        .attr("container_port", Attribute::required(Type::Number)),
                ),
        )
    }

    fn adjust_plan(
        &self,
        _prior: Option<&Value>,
        _config: &Value,
        planned: &mut Value,
        _rr: &mut Vec<AttrPath>,
    ) {
        empty_sets_for_null(planned, "network_configuration", &["security_groups"]);
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        let cluster = str_of(planned, "cluster").unwrap_or_default().to_string();
        let name = str_of(planned, "name").unwrap_or_default().to_string();
        retry_iam_propagation(|| async {
            let mut req = cx
                .ecs
                .create_service()
                .cluster(&cluster)
                .service_name(&name)
                .task_definition(str_of(planned, "task_definition").unwrap_or_default())
                .desired_count(int_of(planned, "desired_count").unwrap_or(0))
                .set_network_configuration(network_configuration(planned))
                .set_load_balancers(Some(load_balancers(planned)))
                .deployment_configuration(deployment_configuration(planned))
                .set_health_check_grace_period_seconds(int_of(
                    planned,
                    "health_check_grace_period_seconds",
                ))
                // CreateService's idempotency token: a retried create makes no second service.
                .client_token(token)
                .set_tags(Some(ecs_tags(&tags::with_token(
                    &tags::wanted(planned),
                    Some(token),
                ))));
            if let Some(l) = str_of(planned, "launch_type") {
                req = req.launch_type(t::LaunchType::from(l));
            }
            req.send().await.map_err(|e| sdk("CreateService", e))
        })
        .await?;
        let s = if bool_of(planned, "wait_for_steady_state") == Some(true) {
            wait_stable(
                cx,
                &cluster,
                &name,
                timeout(planned, "create", SERVICE_STABLE),
            )
            .await?
        } else {
            wait_until(
                &format!("service {name} to become active"),
                "DescribeServices",
                timeout(planned, "create", SERVICE_STABLE),
                || async {
                    Ok(describe_service(cx, &cluster, &name)
                        .await?
                        .filter(|s| s.status() == Some("ACTIVE")))
                },
            )
            .await?
        };
        Ok(service_state(&s, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        // Import ids are `cluster/service`; the state has both.
        let (cluster, name) = match (str_of(prior, "cluster"), str_of(prior, "name")) {
            (Some(c), Some(n)) => (c.to_string(), n.to_string()),
            _ => match id.split_once('/') {
                Some((c, n)) if !id.starts_with("arn:") => (c.to_string(), n.to_string()),
                _ => {
                    // arn:aws:ecs:region:acct:service/cluster/name
                    let parts: Vec<&str> = id.rsplitn(3, '/').collect();
                    if parts.len() < 3 {
                        return Ok(None);
                    }
                    (parts[1].to_string(), parts[0].to_string())
                }
            },
        };
        Ok(describe_service(cx, &cluster, &name)
            .await?
            .map(|s| service_state(&s, prior)))
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let cluster = str_of(prior, "cluster").unwrap_or_default().to_string();
        let name = str_of(prior, "name").unwrap_or_default().to_string();
        let arn = str_of(prior, "arn").unwrap_or_default().to_string();
        if changed(
            prior,
            planned,
            &[
                "task_definition",
                "desired_count",
                "network_configuration",
                "load_balancer",
                "deployment_minimum_healthy_percent",
                "deployment_maximum_percent",
                "health_check_grace_period_seconds",
            ],
        ) {
            let mut req = cx
                .ecs
                .update_service()
                .cluster(&cluster)
                .service(&name)
                .task_definition(str_of(planned, "task_definition").unwrap_or_default())
                .desired_count(int_of(planned, "desired_count").unwrap_or(0))
                .set_network_configuration(network_configuration(planned))
                .deployment_configuration(deployment_configuration(planned))
                .set_health_check_grace_period_seconds(int_of(
                    planned,
                    "health_check_grace_period_seconds",
                ));
            if changed(prior, planned, &["load_balancer"]) {
                req = req.set_load_balancers(Some(load_balancers(planned)));
            }
            req.send().await.map_err(|e| sdk("UpdateService", e))?;
        }
        sync_tags(cx, &arn, prior, planned).await?;
        let s = if bool_of(planned, "wait_for_steady_state") == Some(true) {
            wait_stable(
                cx,
                &cluster,
                &name,
                timeout(planned, "update", SERVICE_STABLE),
            )
            .await?
        } else {
            describe_service(cx, &cluster, &name)
                .await?
                .ok_or_else(|| vanished("DescribeServices", "service", &name))?
        };
        Ok(service_state(&s, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let cluster = str_of(state, "cluster").unwrap_or_default().to_string();
        let name = str_of(state, "name").unwrap_or_default().to_string();
        match cx
            .ecs
            .delete_service()
            .cluster(&cluster)
            .service(&name)
            .force(true)
            .send()
            .await
            .map_err(|e| sdk("DeleteService", e))
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        }
        wait_until(
            &format!("service {name} to be deleted"),
            "DescribeServices",
            timeout(state, "delete", SERVICE_STABLE),
            || async {
                Ok(describe_service(cx, &cluster, &name)
                    .await?
                    .filter(|s| s.status() == Some("ACTIVE"))
                    .is_none()
                    .then_some(()))
            },
        )
        .await
    }

    async fn find_by_token(
        &self,
        cx: &Clients,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>, AwsError> {
        let cluster = str_of(planned, "cluster").unwrap_or_default();
        let name = str_of(planned, "name").unwrap_or_default();
        Ok(describe_service(cx, cluster, name)
            .await?
            .filter(|s| tags::has_token(&read_tags(s.tags()), token))
            .map(|s| service_state(&s, planned)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_new_role_not_yet_usable_is_retried_other_errors_are_not() {
        let calls = AtomicUsize::new(0);
        let r = retry_iam_propagation(|| async {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(AwsError::new(
                    "CreateService",
                    "InvalidParameterException",
                    "Unable to assume role and validate the specified targetGroupArn",
                ))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let calls = AtomicUsize::new(0);
        let r: Result<(), AwsError> = retry_iam_propagation(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(AwsError::new(
                "CreateService",
                "InvalidParameterException",
                "subnets can not be empty",
            ))
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

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
