//! aws_elasticache_replication_group.

use super::*;
use crate::error::Result;

const RG_CREATE: Duration = Duration::from_secs(3600);
const RG_UPDATE: Duration = Duration::from_secs(2400);
const RG_DELETE: Duration = Duration::from_secs(2400);

async fn describe_rg(cx: &Clients, id: &str) -> Result<Option<t::ReplicationGroup>> {
    found!(
        cx.elasticache
            .describe_replication_groups()
            .replication_group_id(id),
        "DescribeReplicationGroups",
        replication_groups[0]
    )
}

async fn wait_available(cx: &Clients, id: &str, deadline: Duration) -> Result<t::ReplicationGroup> {
    wait_until(
        &format!("replication group {id} to become available"),
        "DescribeReplicationGroups",
        deadline,
        || async {
            let g = describe_rg(cx, id).await?;
            match g.as_ref().and_then(|g| g.status()) {
                Some("create-failed") => Err(AwsError::new(
                    "DescribeReplicationGroups",
                    "CreateFailed",
                    format!("replication group {id} failed to create"),
                )),
                Some("available") => Ok(g),
                _ => Ok(None),
            }
        },
    )
    .await
}

/// State from DescribeReplicationGroups. Settings that the call does not report (engine
/// version, port when no endpoint is listed, subnet group, security groups, parameter group)
/// keep the values Terrane last wrote.
async fn rg_state(cx: &Clients, g: &t::ReplicationGroup, prior: &Value) -> Result<Value> {
    let arn = g.arn().unwrap_or_default();
    let tags = read_tags(cx, arn).await?;
    let ng = g.node_groups().first();
    let primary = ng.and_then(|n| n.primary_endpoint());
    let keep = |k: &str| prior.get(k).cloned().unwrap_or(Value::Null);
    let members = g.member_clusters();
    Ok(tags::tagged(
        Value::map([
            ("id", opt_s(g.replication_group_id())),
            ("arn", Value::from(arn)),
            ("replication_group_id", opt_s(g.replication_group_id())),
            ("description", opt_s(g.description())),
            ("node_type", opt_s(g.cache_node_type())),
            (
                "engine",
                g.engine()
                    .map(Value::from)
                    .unwrap_or_else(|| keep("engine")),
            ),
            ("engine_version", keep("engine_version")),
            (
                "port",
                primary
                    .and_then(|p| p.port())
                    .map(num)
                    .unwrap_or_else(|| keep("port")),
            ),
            ("subnet_group_name", keep("subnet_group_name")),
            ("security_group_ids", keep("security_group_ids")),
            ("parameter_group_name", keep("parameter_group_name")),
            (
                "num_cache_clusters",
                if members.is_empty() {
                    keep("num_cache_clusters")
                } else {
                    num(members.len() as f64)
                },
            ),
            ("member_clusters", str_set(members)),
            (
                "automatic_failover_enabled",
                Value::Bool(matches!(
                    g.automatic_failover().map(|a| a.as_str()),
                    Some("enabled" | "enabling")
                )),
            ),
            (
                "multi_az_enabled",
                Value::Bool(g.multi_az().map(|a| a.as_str()) == Some("enabled")),
            ),
            (
                "transit_encryption_enabled",
                Value::Bool(g.transit_encryption_enabled().unwrap_or(false)),
            ),
            (
                "at_rest_encryption_enabled",
                Value::Bool(g.at_rest_encryption_enabled().unwrap_or(false)),
            ),
            (
                "snapshot_retention_limit",
                num(g.snapshot_retention_limit().unwrap_or(0)),
            ),
            ("auth_token", keep("auth_token")),
            ("apply_immediately", keep("apply_immediately")),
            (
                "primary_endpoint_address",
                opt_s(primary.and_then(|p| p.address())),
            ),
            (
                "reader_endpoint_address",
                opt_s(
                    ng.and_then(|n| n.reader_endpoint())
                        .and_then(|p| p.address()),
                ),
            ),
            (
                "configuration_endpoint_address",
                opt_s(g.configuration_endpoint().and_then(|p| p.address())),
            ),
        ]),
        tags,
        prior,
    ))
}

#[async_trait]
impl AwsResource for ReplicationGroup {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let groups: Vec<t::ReplicationGroup> = items!(
            cx.elasticache.describe_replication_groups(),
            "DescribeReplicationGroups"
        );
        let mut out = Vec::new();
        for g in groups {
            if g.status() == Some("deleting") {
                continue;
            }
            out.push(Listed::new(rg_state(cx, &g, &Value::Null).await?));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let id = string_of(planned, "replication_group_id");
        let res = call!(
            cx.elasticache
                .create_replication_group()
                .replication_group_id(&id)
                .replication_group_description(text_of(planned, "description"))
                .set_cache_node_type(str_of(planned, "node_type").map(String::from))
                .set_engine(str_of(planned, "engine").map(String::from))
                .set_engine_version(str_of(planned, "engine_version").map(String::from))
                .set_port(int_of(planned, "port"))
                .set_num_cache_clusters(int_of(planned, "num_cache_clusters"))
                .set_cache_subnet_group_name(str_of(planned, "subnet_group_name").map(String::from))
                .set_security_group_ids(
                    Some(strs_of(planned, "security_group_ids")).filter(|v| !v.is_empty()),
                )
                .set_cache_parameter_group_name(
                    str_of(planned, "parameter_group_name").map(String::from),
                )
                .set_automatic_failover_enabled(bool_of(planned, "automatic_failover_enabled"))
                .set_multi_az_enabled(bool_of(planned, "multi_az_enabled"))
                .set_transit_encryption_enabled(bool_of(planned, "transit_encryption_enabled"))
                .set_at_rest_encryption_enabled(bool_of(planned, "at_rest_encryption_enabled"))
                .set_snapshot_retention_limit(int_of(planned, "snapshot_retention_limit"))
                .set_auth_token(str_of(planned, "auth_token").map(String::from))
                .set_tags(Some(tags::for_create(planned, token))),
            "CreateReplicationGroup"
        );
        if let Err(e) = res {
            let ours = already_exists(&e)
                && match describe_rg(cx, &id).await? {
                    Some(g) => {
                        tags::has_token(&read_tags(cx, g.arn().unwrap_or_default()).await?, token)
                    }
                    None => false,
                };
            if !ours {
                return Err(e);
            }
        }
        let g = wait_available(cx, &id, timeout(planned, "create", RG_CREATE)).await?;
        let mut v = rg_state(cx, &g, planned).await?;
        for k in [
            "engine_version",
            "subnet_group_name",
            "security_group_ids",
            "parameter_group_name",
        ] {
            if v.get(k).is_none_or(|x| x.is_null() || x.is_unknown()) {
                crate::resources::value::put(&mut v, k, Value::Null);
            }
        }
        Ok(v)
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        match describe_rg(cx, id).await? {
            Some(g) if g.status() != Some("deleting") => Ok(Some(rg_state(cx, &g, prior).await?)),
            _ => Ok(None),
        }
    }

    fn read_batch(&self) -> Option<usize> {
        Some(super::LIST_BATCH)
    }

    /// DescribeReplicationGroups takes one id or none: a batch reads the listing instead.
    async fn read_many(&self, cx: &Clients, priors: &[&Value]) -> Result<Vec<Option<Value>>> {
        let all: Vec<t::ReplicationGroup> = items!(
            cx.elasticache.describe_replication_groups(),
            "DescribeReplicationGroups"
        );
        let live = all.into_iter().filter(|g| g.status() != Some("deleting"));
        let found = in_order_by(priors, "id", live, |g| g.replication_group_id());
        states_of(
            found,
            priors,
            |g, p| async move { rg_state(cx, &g, p).await },
        )
        .await
    }

    async fn update(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<Value> {
        let id = string_of(prior, "id");
        let deadline = timeout(planned, "update", RG_UPDATE);
        if changed(
            prior,
            planned,
            &[
                "description",
                "node_type",
                "engine_version",
                "security_group_ids",
                "parameter_group_name",
                "automatic_failover_enabled",
                "multi_az_enabled",
                "snapshot_retention_limit",
            ],
        ) {
            let differs = |k: &str| prior.get(k) != planned.get(k);
            let s = |k: &str| {
                if differs(k) {
                    str_of(planned, k).map(String::from)
                } else {
                    None
                }
            };
            call!(
                cx.elasticache
                    .modify_replication_group()
                    .replication_group_id(&id)
                    .set_replication_group_description(s("description"))
                    .set_cache_node_type(s("node_type"))
                    .set_engine_version(s("engine_version"))
                    .set_cache_parameter_group_name(s("parameter_group_name"))
                    .set_security_group_ids(
                        differs("security_group_ids")
                            .then(|| strs_of(planned, "security_group_ids")),
                    )
                    .set_automatic_failover_enabled(
                        differs("automatic_failover_enabled").then(|| bool_of(
                            planned,
                            "automatic_failover_enabled"
                        )
                        .unwrap_or(false)),
                    )
                    .set_multi_az_enabled(
                        differs("multi_az_enabled")
                            .then(|| bool_of(planned, "multi_az_enabled").unwrap_or(false)),
                    )
                    .set_snapshot_retention_limit(
                        differs("snapshot_retention_limit").then(|| int_of(
                            planned,
                            "snapshot_retention_limit"
                        )
                        .unwrap_or(0)),
                    )
                    .apply_immediately(bool_of(planned, "apply_immediately").unwrap_or(false)),
                "ModifyReplicationGroup"
            )?;
            wait_available(cx, &id, deadline).await?;
        }
        if changed(prior, planned, &["num_cache_clusters"]) {
            let old = int_of(prior, "num_cache_clusters").unwrap_or(1);
            let new = int_of(planned, "num_cache_clusters").unwrap_or(1);
            if new > old {
                call!(
                    cx.elasticache
                        .increase_replica_count()
                        .replication_group_id(&id)
                        .new_replica_count(new - 1)
                        .apply_immediately(true),
                    "IncreaseReplicaCount"
                )?;
            } else {
                call!(
                    cx.elasticache
                        .decrease_replica_count()
                        .replication_group_id(&id)
                        .new_replica_count(new - 1)
                        .apply_immediately(true),
                    "DecreaseReplicaCount"
                )?;
            }
            wait_available(cx, &id, deadline).await?;
        }
        sync_tags(cx, text_of(prior, "arn"), prior, planned).await?;
        let g = describe_rg(cx, &id)
            .await?
            .ok_or_else(|| vanished("DescribeReplicationGroups", "replication group", &id))?;
        let mut v = rg_state(cx, &g, planned).await?;
        if members_unreported(&g) {
            crate::resources::value::put(
                &mut v,
                "num_cache_clusters",
                planned
                    .get("num_cache_clusters")
                    .cloned()
                    .unwrap_or(Value::Null),
            );
        }
        Ok(v)
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let id = string_of(state, "id");
        let deadline = timeout(state, "delete", RG_DELETE);
        // InvalidReplicationGroupState while a modification is still being applied.
        let start = tokio::time::Instant::now();
        loop {
            match call!(
                cx.elasticache
                    .delete_replication_group()
                    .replication_group_id(&id),
                "DeleteReplicationGroup"
            ) {
                Ok(_) => break,
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e)
                    if e.code.contains("InvalidReplicationGroupState")
                        && start.elapsed() < deadline =>
                {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                Err(e) => return Err(e),
            }
        }
        wait_until(
            &format!("replication group {id} to be deleted"),
            "DescribeReplicationGroups",
            deadline,
            || async { Ok(describe_rg(cx, &id).await?.is_none().then_some(())) },
        )
        .await
    }
}

fn members_unreported(g: &t::ReplicationGroup) -> bool {
    g.member_clusters().is_empty()
}
