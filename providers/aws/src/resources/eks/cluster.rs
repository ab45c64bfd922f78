//! aws_eks_cluster.

use super::*;

async fn describe_cluster(cx: &Clients, name: &str) -> Result<Option<t::Cluster>> {
    found!(
        cx.eks.describe_cluster().name(name),
        "DescribeCluster",
        cluster
    )
}

fn cluster_state(c: &t::Cluster, prior: &Value) -> Value {
    let tags = read_tags(c.tags());
    let vpc = c.resources_vpc_config();
    let pv = block(prior, "vpc_config");
    tags::tagged(
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
        ]),
        tags,
        prior,
    )
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

async fn wait_cluster(cx: &Clients, name: &str, deadline: Duration) -> Result<t::Cluster> {
    let what = format!("EKS cluster {name}");
    wait_active(&what, "DescribeCluster", deadline, || {
        describe_cluster(cx, name)
    })
    .await
}

#[async_trait]
impl AwsResource for EksCluster {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        for name in super::cluster_names(cx).await? {
            if let Some(c) = describe_cluster(cx, &name).await? {
                out.push(Listed::new(cluster_state(&c, &Value::Null)));
            }
        }
        Ok(out)
    }

    fn adjust_plan(&self, p: Planning<'_>) {
        let (prior, planned, requires_replace) = (p.prior, p.planned, p.requires_replace);
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
                    put(item, k, v);
                }
            }
            put(planned, "vpc_config", Value::List(items));
        }
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let name = string_of(planned, "name");
        retry_iam_propagation(|| async {
            cx.eks
                .create_cluster()
                .name(&name)
                .role_arn(text_of(planned, "role_arn"))
                .set_version(str_of(planned, "version").map(String::from))
                .resources_vpc_config(vpc_config_request(planned))
                // EKS's idempotency token: a retried create makes no second cluster.
                .client_request_token(token)
                .set_tags(Some(create_tags(planned, token)))
                .send()
                .await
                .or_sdk("CreateCluster")
        })
        .await?;
        let c = wait_cluster(cx, &name, timeout(planned, "create", CLUSTER_CREATE)).await?;
        Ok(cluster_state(&c, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        live_state(describe_cluster(cx, id).await?, |c| cluster_state(c, prior))
    }

    async fn update(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<Value> {
        let name = string_of(prior, "name");
        let arn = string_of(prior, "arn");
        let deadline = timeout(planned, "update", CLUSTER_UPDATE);
        if changed(prior, planned, &["version"]) {
            if let Some(v) = str_of(planned, "version") {
                call!(
                    cx.eks.update_cluster_version().name(&name).version(v),
                    "UpdateClusterVersion"
                )?;
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
            call!(
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
                    ),
                "UpdateClusterConfig"
            )?;
        }
        sync_tags(cx, &arn, prior, planned).await?;
        let c = wait_cluster(cx, &name, deadline).await?;
        Ok(cluster_state(&c, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let name = string_of(state, "name");
        let deadline = timeout(state, "delete", CLUSTER_DELETE);
        // ResourceInUseException while node groups or Fargate profiles remain.
        delete_and_wait(
            &format!("EKS cluster {name}"),
            "DescribeCluster",
            deadline,
            || async { done!(cx.eks.delete_cluster().name(&name), "DeleteCluster") },
            || async { Ok(describe_cluster(cx, &name).await?.is_some()) },
        )
        .await
    }

    async fn find_by_token(&self, cx: &Clients, token: &str, planned: &Value) -> Found {
        let name = text_of(planned, "name");
        Ok(describe_cluster(cx, name)
            .await?
            .filter(|c| tags::has_token(&read_tags(c.tags()), token))
            .map(|c| cluster_state(&c, planned)))
    }
}
