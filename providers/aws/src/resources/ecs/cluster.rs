//! aws_ecs_cluster.

use super::*;
use crate::error::Result;

async fn describe_cluster(cx: &Clients, id: &str) -> Result<Option<t::Cluster>> {
    let out = call!(
        cx.ecs
            .describe_clusters()
            .clusters(id)
            .include(t::ClusterField::Tags)
            .include(t::ClusterField::Settings),
        "DescribeClusters"
    )?;
    Ok(out
        .clusters
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.status() != Some("INACTIVE")))
}

fn cluster_state(c: &t::Cluster, prior: &Value) -> Value {
    let tags = tags::from_sdk(c.tags());
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
    tags::tagged(
        Value::map([
            ("id", opt_s(c.cluster_arn())),
            ("arn", opt_s(c.cluster_arn())),
            ("name", opt_s(c.cluster_name())),
            ("setting", Value::List(settings)),
        ]),
        tags,
        prior,
    )
}

fn cluster_settings(planned: &Value) -> Vec<t::ClusterSetting> {
    blocks(planned, "setting")
        .into_iter()
        .map(|s| {
            t::ClusterSetting::builder()
                .name(t::ClusterSettingName::from(text_of(s, "name")))
                .value(text_of(s, "value"))
                .build()
        })
        .collect()
}

#[async_trait]
impl AwsResource for EcsCluster {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let arns: Vec<String> =
            pages!(cx.ecs.list_clusters(), "ListClusters", cluster_arns).collect();
        let mut out = Vec::new();
        for arn in arns {
            if let Some(c) = describe_cluster(cx, &arn).await? {
                out.push(Listed::new(cluster_state(&c, &Value::Null)));
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        // CreateCluster is idempotent by name: a retry returns the same cluster.
        let out = call!(
            cx.ecs
                .create_cluster()
                .cluster_name(text_of(planned, "name"))
                .set_settings(Some(cluster_settings(planned)))
                .set_tags(Some(tags::for_create(planned, token))),
            "CreateCluster"
        )?;
        let arn = out
            .cluster
            .and_then(|c| c.cluster_arn)
            .ok_or_else(|| missing("CreateCluster", "cluster ARN"))?;
        read_back(self, cx, &arn, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        Ok(describe_cluster(cx, id)
            .await?
            .map(|c| cluster_state(&c, prior)))
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let arn = string_of(prior, "arn");
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
                .or_sdk("UpdateCluster")?;
        }
        Ok(())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let arn = string_of(state, "arn");
        // ClusterContainsServicesException while services are still draining.
        delete_retrying!(
            Duration::from_secs(600),
            cx.ecs.delete_cluster().cluster(&arn),
            "DeleteCluster"
        )
    }
}
