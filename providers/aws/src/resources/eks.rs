//! aws_eks_cluster, aws_eks_node_group, aws_eks_fargate_profile.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_eks::types as t;
use terrane_core::{Attribute, Nesting, ResourceSchema, Type, Value};

use super::ecs::retry_iam_propagation;
use super::util::{
    add_timeouts, block, blocks, changed, empty_sets_for_null, int_of, map_value, opt_n, opt_s,
    str_map, str_set, strs_of, timeout, vanished,
};
use super::{bool_of, str_of, AwsResource};
use crate::config::Clients;
use crate::error::{absent_ok, delete_and_wait, sdk, wait_until, AwsError};
use crate::tags;

pub struct EksCluster;
pub struct NodeGroup;
pub struct FargateProfile;

const CLUSTER_CREATE: Duration = Duration::from_secs(1800);
const CLUSTER_UPDATE: Duration = Duration::from_secs(3600);
const CLUSTER_DELETE: Duration = Duration::from_secs(900);
const NODEGROUP_TIMEOUT: Duration = Duration::from_secs(3600);
const FARGATE_TIMEOUT: Duration = Duration::from_secs(600);

fn create_tags(planned: &Value, token: &str) -> HashMap<String, String> {
    tags::with_token(&tags::wanted(planned), Some(token))
        .into_iter()
        .collect()
}

fn read_tags(m: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

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
            cx.eks
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("UntagResource", e))
        },
        |t| async move {
            cx.eks
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(t.into_iter().collect()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("TagResource", e))
        },
    )
    .await
}

/// Waits until `get` reports ACTIVE (failing fast on a FAILED status).
async fn wait_active<T, F, Fut>(
    what: &str,
    op: &'static str,
    deadline: Duration,
    mut get: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<(T, String)>, AwsError>>,
{
    wait_until(&format!("{what} to become ACTIVE"), op, deadline, || {
        let f = get();
        async move {
            match f.await? {
                Some((_, s)) if s.contains("FAILED") => Err(AwsError::new(
                    op,
                    "ResourceFailed",
                    format!("{what} is {s}"),
                )),
                Some((v, s)) if s == "ACTIVE" => Ok(Some(v)),
                _ => Ok(None),
            }
        }
    })
    .await
}

// ---------------------------------------------------------------- aws_eks_cluster

async fn describe_cluster(cx: &Clients, name: &str) -> Result<Option<t::Cluster>, AwsError> {
    Ok(absent_ok(
        cx.eks
            .describe_cluster()
            .name(name)
            .send()
            .await
            .map_err(|e| sdk("DescribeCluster", e)),
    )?
    .and_then(|o| o.cluster))
}

fn cluster_state(c: &t::Cluster, prior: &Value) -> Value {
    let (tags, tags_all) = tags::split(read_tags(c.tags()), prior);
    let vpc = c.resources_vpc_config();
    let pv = block(prior, "vpc_config");
    Value::map([
        ("id", opt_s(c.name())),
        ("name", opt_s(c.name())),
        ("arn", opt_s(c.arn())),
        ("role_arn", opt_s(c.role_arn())),
        ("version", opt_s(c.version())),
        ("platform_version", opt_s(c.platform_version())),
        ("endpoint", opt_s(c.endpoint())),
        ("status", opt_s(c.status().map(|s| s.as_str()))),
        (
            "certificate_authority",
            Value::List(vec![Value::map([(
                "data",
                opt_s(c.certificate_authority().and_then(|a| a.data())),
            )])]),
        ),
        (
            "identity",
            Value::List(vec![Value::map([(
                "oidc",
                Value::List(vec![Value::map([(
                    "issuer",
                    opt_s(c.identity().and_then(|i| i.oidc()).and_then(|o| o.issuer())),
                )])]),
            )])]),
        ),
        (
            "vpc_config",
            Value::List(vec![Value::map([
                (
                    "subnet_ids",
                    str_set(vpc.map(|v| v.subnet_ids()).unwrap_or_default()),
                ),
                (
                    "security_group_ids",
                    str_set(vpc.map(|v| v.security_group_ids()).unwrap_or_default()),
                ),
                (
                    "endpoint_public_access",
                    Value::Bool(vpc.map(|v| v.endpoint_public_access()).unwrap_or(true)),
                ),
                (
                    "endpoint_private_access",
                    Value::Bool(vpc.map(|v| v.endpoint_private_access()).unwrap_or(false)),
                ),
                (
                    "cluster_security_group_id",
                    opt_s(vpc.and_then(|v| v.cluster_security_group_id())),
                ),
                ("vpc_id", opt_s(vpc.and_then(|v| v.vpc_id()))),
            ])
            .with_prior_computed(pv, &["cluster_security_group_id", "vpc_id"])]),
        ),
        ("tags", tags),
        ("tags_all", tags_all),
    ])
}

trait WithPrior {
    fn with_prior_computed(self, prior: Option<&Value>, keys: &[&str]) -> Value;
}

impl WithPrior for Value {
    /// Computed attributes inside a block: keep what the prior state had when AWS reports
    /// nothing (moto leaves some out).
    fn with_prior_computed(mut self, prior: Option<&Value>, keys: &[&str]) -> Value {
        if let (Value::Map(m), Some(p)) = (&mut self, prior) {
            for k in keys {
                if m.get(*k).is_none_or(Value::is_null) {
                    if let Some(v) = p.get(k).filter(|v| v.is_known()) {
                        m.insert(k.to_string(), v.clone());
                    }
                }
            }
        }
        self
    }
}

fn vpc_config_request(planned: &Value) -> t::VpcConfigRequest {
    let v = block(planned, "vpc_config");
    t::VpcConfigRequest::builder()
        .set_subnet_ids(v.map(|v| strs_of(v, "subnet_ids")))
        .set_security_group_ids(v.map(|v| strs_of(v, "security_group_ids")))
        .set_endpoint_public_access(v.and_then(|v| bool_of(v, "endpoint_public_access")))
        .set_endpoint_private_access(v.and_then(|v| bool_of(v, "endpoint_private_access")))
        .build()
}

#[async_trait]
impl AwsResource for EksCluster {
    fn name(&self) -> &'static str {
        "aws_eks_cluster"
    }

    fn schema(&self) -> ResourceSchema {
        add_timeouts(
            ResourceSchema::new()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("endpoint", Attribute::computed(Type::String))
                .attr("status", Attribute::computed(Type::String))
                .attr("platform_version", Attribute::computed(Type::String))
                .attr("certificate_authority", Attribute::computed(Type::Any))
                .attr("identity", Attribute::computed(Type::Any))
                .attr("name", Attribute::required(Type::String).force_new())
                .attr("role_arn", Attribute::required(Type::String).force_new())
                .attr("version", Attribute::optional_computed(Type::String))
                .block(
                    "vpc_config",
                    Nesting::List,
                    ResourceSchema::new()
                        .attr("subnet_ids", Attribute::required(Type::set(Type::String)))
                        .attr(
                            "security_group_ids",
                            Attribute::optional(Type::set(Type::String)),
                        )
                        .attr(
                            "endpoint_public_access",
                            Attribute::optional(Type::Bool).with_default(true),
                        )
                        .attr(
                            "endpoint_private_access",
                            Attribute::optional(Type::Bool).with_default(false),
                        )
                        .attr(
                            "cluster_security_group_id",
                            Attribute::computed(Type::String),
                        )
                        .attr("vpc_id", Attribute::computed(Type::String)),
                ),
        )
    }

    fn adjust_plan(
        &self,
        prior: Option<&Value>,
        _config: &Value,
        planned: &mut Value,
        requires_replace: &mut Vec<terrane_core::AttrPath>,
    ) {
        empty_sets_for_null(planned, "vpc_config", &["security_group_ids"]);
        // Subnets cannot change in place.
        if let Some(prior) = prior {
            let subnets =
                |v: &Value| block(v, "vpc_config").and_then(|b| b.get("subnet_ids").cloned());
            if subnets(prior) != subnets(planned) {
                requires_replace.push(vec!["vpc_config".into(), "subnet_ids".into()]);
            }
        }
        // Computed attributes inside vpc_config: the prior state's when the cluster stays,
        // unknown when it is created or replaced.
        let keep = requires_replace.is_empty();
        if let Some(Value::List(mut items)) = planned.get("vpc_config").cloned() {
            let pv = prior.and_then(|p| block(p, "vpc_config")).filter(|_| keep);
            for item in &mut items {
                for k in ["cluster_security_group_id", "vpc_id"] {
                    let v = pv.and_then(|p| p.get(k)).cloned().unwrap_or(Value::Unknown);
                    super::put(item, k, v);
                }
            }
            super::put(planned, "vpc_config", Value::List(items));
        }
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        let name = str_of(planned, "name").unwrap_or_default().to_string();
        retry_iam_propagation(|| async {
            cx.eks
                .create_cluster()
                .name(&name)
                .role_arn(str_of(planned, "role_arn").unwrap_or_default())
                .set_version(str_of(planned, "version").map(String::from))
                .resources_vpc_config(vpc_config_request(planned))
                // EKS's idempotency token: a retried create makes no second cluster.
                .client_request_token(token)
                .set_tags(Some(create_tags(planned, token)))
                .send()
                .await
                .map_err(|e| sdk("CreateCluster", e))
        })
        .await?;
        let c = wait_active(
            &format!("EKS cluster {name}"),
            "DescribeCluster",
            timeout(planned, "create", CLUSTER_CREATE),
            || async {
                Ok(describe_cluster(cx, &name).await?.map(|c| {
                    let s = c
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default();
                    (c, s)
                }))
            },
        )
        .await?;
        Ok(cluster_state(&c, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        Ok(describe_cluster(cx, id)
            .await?
            .filter(|c| c.status().map(|s| s.as_str()) != Some("DELETING"))
            .map(|c| cluster_state(&c, prior)))
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let name = str_of(prior, "name").unwrap_or_default().to_string();
        let arn = str_of(prior, "arn").unwrap_or_default().to_string();
        let deadline = timeout(planned, "update", CLUSTER_UPDATE);
        if changed(prior, planned, &["version"]) {
            if let Some(v) = str_of(planned, "version") {
                cx.eks
                    .update_cluster_version()
                    .name(&name)
                    .version(v)
                    .send()
                    .await
                    .map_err(|e| sdk("UpdateClusterVersion", e))?;
            }
        }
        let access = |v: &Value| {
            block(v, "vpc_config").map(|b| {
                (
                    b.get("security_group_ids").cloned(),
                    b.get("endpoint_public_access").cloned(),
                    b.get("endpoint_private_access").cloned(),
                )
            })
        };
        if access(prior) != access(planned) {
            let v = block(planned, "vpc_config");
            cx.eks
                .update_cluster_config()
                .name(&name)
                .resources_vpc_config(
                    t::VpcConfigRequest::builder()
                        .set_endpoint_public_access(
                            v.and_then(|v| bool_of(v, "endpoint_public_access")),
                        )
                        .set_endpoint_private_access(
                            v.and_then(|v| bool_of(v, "endpoint_private_access")),
                        )
                        .build(),
                )
                .send()
                .await
                .map_err(|e| sdk("UpdateClusterConfig", e))?;
        }
        sync_tags(cx, &arn, prior, planned).await?;
        let c = wait_active(
            &format!("EKS cluster {name}"),
            "DescribeCluster",
            deadline,
            || async {
                Ok(describe_cluster(cx, &name).await?.map(|c| {
                    let s = c
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default();
                    (c, s)
                }))
            },
        )
        .await?;
        Ok(cluster_state(&c, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let name = str_of(state, "name").unwrap_or_default().to_string();
        let deadline = timeout(state, "delete", CLUSTER_DELETE);
        // ResourceInUseException while node groups or Fargate profiles remain.
        delete_and_wait(
            &format!("EKS cluster {name}"),
            "DescribeCluster",
            deadline,
            || async {
                cx.eks
                    .delete_cluster()
                    .name(&name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk("DeleteCluster", e))
            },
            || async { Ok(describe_cluster(cx, &name).await?.is_some()) },
        )
        .await
    }

    async fn find_by_token(
        &self,
        cx: &Clients,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>, AwsError> {
        let name = str_of(planned, "name").unwrap_or_default();
        Ok(describe_cluster(cx, name)
            .await?
            .filter(|c| tags::has_token(&read_tags(c.tags()), token))
            .map(|c| cluster_state(&c, planned)))
    }
}

// ---------------------------------------------------------------- aws_eks_node_group

async fn describe_ng(
    cx: &Clients,
    cluster: &str,
    name: &str,
) -> Result<Option<t::Nodegroup>, AwsError> {
    Ok(absent_ok(
        cx.eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .send()
            .await
            .map_err(|e| sdk("DescribeNodegroup", e)),
    )?
    .and_then(|o| o.nodegroup))
}

fn ng_state(n: &t::Nodegroup, prior: &Value) -> Value {
    let (tags, tags_all) = tags::split(read_tags(n.tags()), prior);
    let sc = n.scaling_config();
    let cluster = n.cluster_name().unwrap_or_default();
    let name = n.nodegroup_name().unwrap_or_default();
    let labels: BTreeMap<String, String> = read_tags(n.labels());
    Value::map([
        ("id", Value::from(format!("{cluster}:{name}"))),
        ("arn", opt_s(n.nodegroup_arn())),
        ("cluster_name", Value::from(cluster)),
        ("node_group_name", Value::from(name)),
        ("node_role_arn", opt_s(n.node_role())),
        ("subnet_ids", str_set(n.subnets())),
        (
            "instance_types",
            Value::List(
                n.instance_types()
                    .iter()
                    .map(|s| Value::from(s.as_str()))
                    .collect(),
            ),
        ),
        (
            "capacity_type",
            opt_s(n.capacity_type().map(|c| c.as_str())),
        ),
        ("ami_type", opt_s(n.ami_type().map(|c| c.as_str()))),
        ("disk_size", opt_n(n.disk_size())),
        ("version", opt_s(n.version())),
        ("release_version", opt_s(n.release_version())),
        ("status", opt_s(n.status().map(|s| s.as_str()))),
        (
            "labels",
            if labels.is_empty() && prior.get("labels").is_none_or(Value::is_null) {
                Value::Null
            } else {
                map_value(&labels)
            },
        ),
        (
            "scaling_config",
            Value::List(vec![Value::map([
                ("desired_size", opt_n(sc.and_then(|s| s.desired_size()))),
                ("min_size", opt_n(sc.and_then(|s| s.min_size()))),
                ("max_size", opt_n(sc.and_then(|s| s.max_size()))),
            ])]),
        ),
        ("tags", tags),
        ("tags_all", tags_all),
    ])
}

fn scaling(planned: &Value) -> t::NodegroupScalingConfig {
    let s = block(planned, "scaling_config");
    t::NodegroupScalingConfig::builder()
        .set_desired_size(s.and_then(|s| int_of(s, "desired_size")))
        .set_min_size(s.and_then(|s| int_of(s, "min_size")))
        .set_max_size(s.and_then(|s| int_of(s, "max_size")))
        .build()
}

async fn wait_ng(
    cx: &Clients,
    cluster: &str,
    name: &str,
    deadline: Duration,
) -> Result<t::Nodegroup, AwsError> {
    wait_active(
        &format!("node group {cluster}:{name}"),
        "DescribeNodegroup",
        deadline,
        || async {
            Ok(describe_ng(cx, cluster, name).await?.map(|n| {
                let s = n
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                (n, s)
            }))
        },
    )
    .await
}

#[async_trait]
impl AwsResource for NodeGroup {
    fn name(&self) -> &'static str {
        "aws_eks_node_group"
    }

    fn schema(&self) -> ResourceSchema {
        add_timeouts(
            ResourceSchema::new()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("status", Attribute::computed(Type::String))
                .attr("release_version", Attribute::computed(Type::String))
                .attr(
                    "cluster_name",
                    Attribute::required(Type::String).force_new(),
                )
                .attr(
                    "node_group_name",
                    Attribute::required(Type::String).force_new(),
                )
                .attr(
                    "node_role_arn",
                    Attribute::required(Type::String).force_new(),
                )
                .attr(
                    "subnet_ids",
                    Attribute::required(Type::set(Type::String)).force_new(),
                )
                .attr(
                    "instance_types",
                    Attribute::optional_computed(Type::list(Type::String)).force_new(),
                )
                .attr(
                    "capacity_type",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "ami_type",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "disk_size",
                    Attribute::optional_computed(Type::Number).force_new(),
                )
                .attr("version", Attribute::optional_computed(Type::String))
                .attr("labels", Attribute::optional(Type::map(Type::String)))
                .block(
                    "scaling_config",
                    Nesting::List,
                    ResourceSchema::new()
                        .attr("desired_size", Attribute::required(Type::Number))
                        .attr("min_size", Attribute::required(Type::Number))
                        .attr("max_size", Attribute::required(Type::Number)),
                ),
        )
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        let cluster = str_of(planned, "cluster_name")
            .unwrap_or_default()
            .to_string();
        let name = str_of(planned, "node_group_name")
            .unwrap_or_default()
            .to_string();
        retry_iam_propagation(|| async {
            let mut req = cx
                .eks
                .create_nodegroup()
                .cluster_name(&cluster)
                .nodegroup_name(&name)
                .node_role(str_of(planned, "node_role_arn").unwrap_or_default())
                .set_subnets(Some(strs_of(planned, "subnet_ids")))
                .scaling_config(scaling(planned))
                .set_instance_types(
                    Some(strs_of(planned, "instance_types")).filter(|v| !v.is_empty()),
                )
                .set_disk_size(int_of(planned, "disk_size"))
                .set_version(str_of(planned, "version").map(String::from))
                .set_labels(
                    Some(
                        str_map(planned, "labels")
                            .into_iter()
                            .collect::<HashMap<_, _>>(),
                    )
                    .filter(|m| !m.is_empty()),
                )
                .client_request_token(token)
                .set_tags(Some(create_tags(planned, token)));
            if let Some(c) = str_of(planned, "capacity_type") {
                req = req.capacity_type(t::CapacityTypes::from(c));
            }
            if let Some(a) = str_of(planned, "ami_type") {
                req = req.ami_type(t::AmiTypes::from(a));
            }
            req.send().await.map_err(|e| sdk("CreateNodegroup", e))
        })
        .await?;
        let n = wait_ng(
            cx,
            &cluster,
            &name,
            timeout(planned, "create", NODEGROUP_TIMEOUT),
        )
        .await?;
        Ok(ng_state(&n, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        let Some((cluster, name)) = id.split_once(':') else {
            return Ok(None);
        };
        Ok(describe_ng(cx, cluster, name)
            .await?
            .filter(|n| n.status().map(|s| s.as_str()) != Some("DELETING"))
            .map(|n| ng_state(&n, prior)))
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let cluster = str_of(prior, "cluster_name")
            .unwrap_or_default()
            .to_string();
        let name = str_of(prior, "node_group_name")
            .unwrap_or_default()
            .to_string();
        let arn = str_of(prior, "arn").unwrap_or_default().to_string();
        if changed(prior, planned, &["scaling_config", "labels"]) {
            let old = str_map(prior, "labels");
            let new = str_map(planned, "labels");
            let add: HashMap<String, String> = new
                .iter()
                .filter(|(k, v)| old.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let remove: Vec<String> = old
                .keys()
                .filter(|k| !new.contains_key(*k))
                .cloned()
                .collect();
            let mut req = cx
                .eks
                .update_nodegroup_config()
                .cluster_name(&cluster)
                .nodegroup_name(&name);
            if changed(prior, planned, &["scaling_config"]) {
                req = req.scaling_config(scaling(planned));
            }
            if !add.is_empty() || !remove.is_empty() {
                req = req.labels(
                    t::UpdateLabelsPayload::builder()
                        .set_add_or_update_labels(Some(add).filter(|m| !m.is_empty()))
                        .set_remove_labels(Some(remove).filter(|v| !v.is_empty()))
                        .build(),
                );
            }
            req.send()
                .await
                .map_err(|e| sdk("UpdateNodegroupConfig", e))?;
        }
        if changed(prior, planned, &["version"]) {
            if let Some(v) = str_of(planned, "version") {
                cx.eks
                    .update_nodegroup_version()
                    .cluster_name(&cluster)
                    .nodegroup_name(&name)
                    .version(v)
                    .send()
                    .await
                    .map_err(|e| sdk("UpdateNodegroupVersion", e))?;
            }
        }
        sync_tags(cx, &arn, prior, planned).await?;
        let n = wait_ng(
            cx,
            &cluster,
            &name,
            timeout(planned, "update", NODEGROUP_TIMEOUT),
        )
        .await?;
        Ok(ng_state(&n, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let cluster = str_of(state, "cluster_name")
            .unwrap_or_default()
            .to_string();
        let name = str_of(state, "node_group_name")
            .unwrap_or_default()
            .to_string();
        let deadline = timeout(state, "delete", NODEGROUP_TIMEOUT);
        delete_and_wait(
            &format!("node group {cluster}:{name}"),
            "DescribeNodegroup",
            deadline,
            || async {
                cx.eks
                    .delete_nodegroup()
                    .cluster_name(&cluster)
                    .nodegroup_name(&name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk("DeleteNodegroup", e))
            },
            || async { Ok(describe_ng(cx, &cluster, &name).await?.is_some()) },
        )
        .await
    }
}

// ---------------------------------------------------------------- aws_eks_fargate_profile

async fn describe_fp(
    cx: &Clients,
    cluster: &str,
    name: &str,
) -> Result<Option<t::FargateProfile>, AwsError> {
    Ok(absent_ok(
        cx.eks
            .describe_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(name)
            .send()
            .await
            .map_err(|e| sdk("DescribeFargateProfile", e)),
    )?
    .and_then(|o| o.fargate_profile))
}

fn fp_state(f: &t::FargateProfile, prior: &Value) -> Value {
    let (tags, tags_all) = tags::split(read_tags(f.tags()), prior);
    let cluster = f.cluster_name().unwrap_or_default();
    let name = f.fargate_profile_name().unwrap_or_default();
    let prior_sel = blocks(prior, "selector");
    let mut selectors: Vec<Value> = f
        .selectors()
        .iter()
        .map(|s| {
            let labels = read_tags(s.labels());
            let unset = prior_sel.iter().any(|p| {
                str_of(p, "namespace") == s.namespace()
                    && p.get("labels").is_none_or(Value::is_null)
            });
            Value::map([
                ("namespace", opt_s(s.namespace())),
                (
                    "labels",
                    if labels.is_empty() && unset {
                        Value::Null
                    } else {
                        map_value(&labels)
                    },
                ),
            ])
        })
        .collect();
    terrane_core::schema::dedup_set(&mut selectors);
    Value::map([
        ("id", Value::from(format!("{cluster}:{name}"))),
        ("arn", opt_s(f.fargate_profile_arn())),
        ("cluster_name", Value::from(cluster)),
        ("fargate_profile_name", Value::from(name)),
        ("pod_execution_role_arn", opt_s(f.pod_execution_role_arn())),
        ("subnet_ids", str_set(f.subnets())),
        ("status", opt_s(f.status().map(|s| s.as_str()))),
        ("selector", Value::List(selectors)),
        ("tags", tags),
        ("tags_all", tags_all),
    ])
}

#[async_trait]
impl AwsResource for FargateProfile {
    fn name(&self) -> &'static str {
        "aws_eks_fargate_profile"
    }

    fn schema(&self) -> ResourceSchema {
        add_timeouts(
            ResourceSchema::new()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("status", Attribute::computed(Type::String))
                .attr(
                    "cluster_name",
                    Attribute::required(Type::String).force_new(),
                )
                .attr(
                    "fargate_profile_name",
                    Attribute::required(Type::String).force_new(),
                )
                .attr(
                    "pod_execution_role_arn",
                    Attribute::required(Type::String).force_new(),
                )
                .attr(
                    "subnet_ids",
                    Attribute::optional(Type::set(Type::String)).force_new(),
                )
                .block_force_new(
                    "selector",
                    Nesting::Set,
                    ResourceSchema::new()
                        .attr("namespace", Attribute::required(Type::String))
                        .attr("labels", Attribute::optional(Type::map(Type::String))),
                ),
        )
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        let cluster = str_of(planned, "cluster_name")
            .unwrap_or_default()
            .to_string();
        let name = str_of(planned, "fargate_profile_name")
            .unwrap_or_default()
            .to_string();
        let selectors: Vec<t::FargateProfileSelector> = blocks(planned, "selector")
            .into_iter()
            .map(|s| {
                t::FargateProfileSelector::builder()
                    .set_namespace(str_of(s, "namespace").map(String::from))
                    .set_labels(
                        Some(str_map(s, "labels").into_iter().collect::<HashMap<_, _>>())
                            .filter(|m| !m.is_empty()),
                    )
                    .build()
            })
            .collect();
        retry_iam_propagation(|| async {
            cx.eks
                .create_fargate_profile()
                .cluster_name(&cluster)
                .fargate_profile_name(&name)
                .pod_execution_role_arn(
                    str_of(planned, "pod_execution_role_arn").unwrap_or_default(),
                )
                .set_subnets(Some(strs_of(planned, "subnet_ids")).filter(|v| !v.is_empty()))
                .set_selectors(Some(selectors.clone()))
                .client_request_token(token)
                .set_tags(Some(create_tags(planned, token)))
                .send()
                .await
                .map_err(|e| sdk("CreateFargateProfile", e))
        })
        .await?;
        let f = wait_active(
            &format!("Fargate profile {cluster}:{name}"),
            "DescribeFargateProfile",
            timeout(planned, "create", FARGATE_TIMEOUT),
            || async {
                Ok(describe_fp(cx, &cluster, &name).await?.map(|f| {
                    let s = f
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default();
                    (f, s)
                }))
            },
        )
        .await?;
        Ok(fp_state(&f, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        let Some((cluster, name)) = id.split_once(':') else {
            return Ok(None);
        };
        Ok(describe_fp(cx, cluster, name)
            .await?
            .filter(|f| f.status().map(|s| s.as_str()) != Some("DELETING"))
            .map(|f| fp_state(&f, prior)))
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let cluster = str_of(prior, "cluster_name")
            .unwrap_or_default()
            .to_string();
        let name = str_of(prior, "fargate_profile_name")
            .unwrap_or_default()
            .to_string();
        sync_tags(cx, str_of(prior, "arn").unwrap_or_default(), prior, planned).await?;
        let f = describe_fp(cx, &cluster, &name)
            .await?
            .ok_or_else(|| vanished("DescribeFargateProfile", "Fargate profile", &name))?;
        Ok(fp_state(&f, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let cluster = str_of(state, "cluster_name")
            .unwrap_or_default()
            .to_string();
        let name = str_of(state, "fargate_profile_name")
            .unwrap_or_default()
            .to_string();
        let deadline = timeout(state, "delete", FARGATE_TIMEOUT);
        delete_and_wait(
            &format!("Fargate profile {cluster}:{name}"),
            "DescribeFargateProfile",
            deadline,
            || async {
                cx.eks
                    .delete_fargate_profile()
                    .cluster_name(&cluster)
                    .fargate_profile_name(&name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk("DeleteFargateProfile", e))
            },
            || async { Ok(describe_fp(cx, &cluster, &name).await?.is_some()) },
        )
        .await
    }
}
