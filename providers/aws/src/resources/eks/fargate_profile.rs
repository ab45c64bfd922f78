//! aws_eks_fargate_profile.

use super::*;

async fn describe_fp(cx: &Clients, cluster: &str, name: &str) -> Result<Option<t::FargateProfile>> {
    found!(
        cx.eks
            .describe_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(name),
        "DescribeFargateProfile",
        fargate_profile
    )
}

fn fp_state(f: &t::FargateProfile, prior: &Value) -> Value {
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
    let state = Value::map([
        ("id", Value::from(format!("{cluster}:{name}"))),
        ("arn", opt_s(f.fargate_profile_arn())),
        ("cluster_name", Value::from(cluster)),
        ("fargate_profile_name", Value::from(name)),
        ("pod_execution_role_arn", opt_s(f.pod_execution_role_arn())),
        ("subnet_ids", str_set(f.subnets())),
        ("status", opt_s(f.status().map(|s| s.as_str()))),
        ("selector", Value::List(selectors)),
    ]);
    tags::tagged(state, read_tags(f.tags()), prior)
}

#[async_trait]
impl AwsResource for FargateProfile {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let ids = in_clusters!(
            cx,
            list_fargate_profiles,
            "ListFargateProfiles",
            fargate_profile_names
        );
        read_each(self, cx, ids).await
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let cluster = string_of(planned, "cluster_name");
        let name = string_of(planned, "fargate_profile_name");
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
            call!(
                cx.eks
                    .create_fargate_profile()
                    .cluster_name(&cluster)
                    .fargate_profile_name(&name)
                    .pod_execution_role_arn(text_of(planned, "pod_execution_role_arn"))
                    .set_subnets(Some(strs_of(planned, "subnet_ids")).filter(|v| !v.is_empty()))
                    .set_selectors(Some(selectors.clone()))
                    .client_request_token(token)
                    .set_tags(Some(create_tags(planned, token))),
                "CreateFargateProfile"
            )
        })
        .await?;
        let f = wait_active(
            &format!("Fargate profile {cluster}:{name}"),
            "DescribeFargateProfile",
            timeout(planned, "create", FARGATE_TIMEOUT),
            || describe_fp(cx, &cluster, &name),
        )
        .await?;
        Ok(fp_state(&f, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        let Some((cluster, name)) = id.split_once(':') else {
            return Ok(None);
        };
        live_state(describe_fp(cx, cluster, name).await?, |f| {
            fp_state(f, prior)
        })
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let cluster = string_of(state, "cluster_name");
        let name = string_of(state, "fargate_profile_name");
        let deadline = timeout(state, "delete", FARGATE_TIMEOUT);
        delete_and_wait(
            &format!("Fargate profile {cluster}:{name}"),
            "DescribeFargateProfile",
            deadline,
            || async {
                done!(
                    cx.eks
                        .delete_fargate_profile()
                        .cluster_name(&cluster)
                        .fargate_profile_name(&name),
                    "DeleteFargateProfile"
                )
            },
            || async { Ok(describe_fp(cx, &cluster, &name).await?.is_some()) },
        )
        .await
    }
}
