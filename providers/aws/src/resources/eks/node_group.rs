//! aws_eks_node_group.

use super::*;

async fn describe_ng(cx: &Clients, cluster: &str, name: &str) -> Result<Option<t::Nodegroup>> {
    found!(
        cx.eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name),
        "DescribeNodegroup",
        nodegroup
    )
}

fn ng_state(n: &t::Nodegroup, prior: &Value) -> Value {
    let tags = read_tags(n.tags());
    let sc = n.scaling_config();
    let cluster = n.cluster_name().unwrap_or_default();
    let name = n.nodegroup_name().unwrap_or_default();
    let labels: BTreeMap<String, String> = read_tags(n.labels());
    tags::tagged(
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
        ]),
        tags,
        prior,
    )
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
) -> Result<t::Nodegroup> {
    let what = format!("node group {cluster}:{name}");
    wait_active(&what, "DescribeNodegroup", deadline, || {
        describe_ng(cx, cluster, name)
    })
    .await
}

/// The node group once it has settled after a create or update (`op`'s timeout), as state.
async fn settled(
    cx: &Clients,
    cluster: &str,
    name: &str,
    planned: &Value,
    op: &str,
) -> Result<Value> {
    let deadline = timeout(planned, op, NODEGROUP_TIMEOUT);
    Ok(ng_state(
        &wait_ng(cx, cluster, name, deadline).await?,
        planned,
    ))
}

#[async_trait]
impl AwsResource for NodeGroup {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let ids = in_clusters!(cx, list_nodegroups, "ListNodegroups", nodegroups);
        read_each(self, cx, ids).await
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let cluster = string_of(planned, "cluster_name");
        let name = string_of(planned, "node_group_name");
        retry_iam_propagation(|| async {
            let mut req = cx
                .eks
                .create_nodegroup()
                .cluster_name(&cluster)
                .nodegroup_name(&name)
                .node_role(text_of(planned, "node_role_arn"))
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
            call!(req, "CreateNodegroup")
        })
        .await?;
        settled(cx, &cluster, &name, planned, "create").await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        let Some((cluster, name)) = id.split_once(':') else {
            return Ok(None);
        };
        live_state(describe_ng(cx, cluster, name).await?, |n| {
            ng_state(n, prior)
        })
    }

    async fn update(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<Value> {
        let cluster = string_of(prior, "cluster_name");
        let name = string_of(prior, "node_group_name");
        let arn = string_of(prior, "arn");
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
            call!(req, "UpdateNodegroupConfig")?;
        }
        if changed(prior, planned, &["version"]) {
            if let Some(v) = str_of(planned, "version") {
                call!(
                    cx.eks
                        .update_nodegroup_version()
                        .cluster_name(&cluster)
                        .nodegroup_name(&name)
                        .version(v),
                    "UpdateNodegroupVersion"
                )?;
            }
        }
        sync_tags(cx, &arn, prior, planned).await?;
        settled(cx, &cluster, &name, planned, "update").await
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let cluster = string_of(state, "cluster_name");
        let name = string_of(state, "node_group_name");
        let deadline = timeout(state, "delete", NODEGROUP_TIMEOUT);
        delete_and_wait(
            &format!("node group {cluster}:{name}"),
            "DescribeNodegroup",
            deadline,
            || async {
                done!(
                    cx.eks
                        .delete_nodegroup()
                        .cluster_name(&cluster)
                        .nodegroup_name(&name),
                    "DeleteNodegroup"
                )
            },
            || async { Ok(describe_ng(cx, &cluster, &name).await?.is_some()) },
        )
        .await
    }
}
