//! aws_elasticache_subnet_group and aws_elasticache_replication_group (Redis).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticache::types as t;
use terrane_core::{Attribute, ResourceSchema, Type, Value};

use super::util::{
    add_timeouts, already_exists, changed, int_of, missing, num, opt_s, str_set, strs_of, timeout,
    vanished,
};
use super::{bool_of, str_of, AwsResource};
use crate::config::Clients;
use crate::error::{absent_ok, retry_dependency, sdk, wait_until, AwsError};
use crate::tags;

pub struct SubnetGroup;
pub struct ReplicationGroup;

fn ec_tags(m: &BTreeMap<String, String>) -> Vec<t::Tag> {
    m.iter()
        .map(|(k, v)| t::Tag::builder().key(k).value(v).build())
        .collect()
}

async fn read_tags(cx: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = cx
        .elasticache
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(|e| sdk("ListTagsForResource", e))?;
    Ok(out
        .tag_list()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect())
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
            cx.elasticache
                .remove_tags_from_resource()
                .resource_name(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("RemoveTagsFromResource", e))
        },
        |t| async move {
            cx.elasticache
                .add_tags_to_resource()
                .resource_name(arn)
                .set_tags(Some(ec_tags(&t)))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("AddTagsToResource", e))
        },
    )
    .await
}

// ---------------------------------------------------------------- aws_elasticache_subnet_group

async fn describe_sg(cx: &Clients, name: &str) -> Result<Option<t::CacheSubnetGroup>, AwsError> {
    Ok(absent_ok(
        cx.elasticache
            .describe_cache_subnet_groups()
            .cache_subnet_group_name(name)
            .send()
            .await
            .map_err(|e| sdk("DescribeCacheSubnetGroups", e)),
    )?
    .and_then(|o| o.cache_subnet_groups.unwrap_or_default().into_iter().next()))
}

async fn sg_state(cx: &Clients, g: &t::CacheSubnetGroup, prior: &Value) -> Result<Value, AwsError> {
    let arn = g.arn().unwrap_or_default();
    let (tags, tags_all) = tags::split(read_tags(cx, arn).await?, prior);
    Ok(Value::map([
        ("id", opt_s(g.cache_subnet_group_name())),
        ("name", opt_s(g.cache_subnet_group_name())),
        ("arn", Value::from(arn)),
        ("description", opt_s(g.cache_subnet_group_description())),
        (
            "subnet_ids",
            str_set(g.subnets().iter().filter_map(|s| s.subnet_identifier())),
        ),
        ("vpc_id", opt_s(g.vpc_id())),
        ("tags", tags),
        ("tags_all", tags_all),
    ]))
}

#[async_trait]
impl AwsResource for SubnetGroup {
    fn name(&self) -> &'static str {
        "aws_elasticache_subnet_group"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("vpc_id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr(
                "description",
                Attribute::optional(Type::String).with_default("Managed by Terraform"),
            )
            .attr("subnet_ids", Attribute::required(Type::set(Type::String)))
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        let name = str_of(planned, "name").unwrap_or_default().to_string();
        let res = cx
            .elasticache
            .create_cache_subnet_group()
            .cache_subnet_group_name(&name)
            .cache_subnet_group_description(str_of(planned, "description").unwrap_or_default())
            .set_subnet_ids(Some(strs_of(planned, "subnet_ids")))
            .set_tags(Some(ec_tags(&tags::with_token(
                &tags::wanted(planned),
                Some(token),
            ))))
            .send()
            .await
            .map_err(|e| sdk("CreateCacheSubnetGroup", e));
        let g = match res {
            Ok(o) => o
                .cache_subnet_group
                .ok_or_else(|| missing("CreateCacheSubnetGroup", "cache subnet group"))?,
            // A retry after a lost response: ours only if it carries our token.
            Err(e) if already_exists(&e) => {
                let g = describe_sg(cx, &name).await?.ok_or(e.clone())?;
                if !tags::has_token(&read_tags(cx, g.arn().unwrap_or_default()).await?, token) {
                    return Err(e);
                }
                g
            }
            Err(e) => return Err(e),
        };
        sg_state(cx, &g, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        match describe_sg(cx, id).await? {
            Some(g) => Ok(Some(sg_state(cx, &g, prior).await?)),
            None => Ok(None),
        }
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let name = str_of(prior, "name").unwrap_or_default().to_string();
        if changed(prior, planned, &["description", "subnet_ids"]) {
            cx.elasticache
                .modify_cache_subnet_group()
                .cache_subnet_group_name(&name)
                .set_cache_subnet_group_description(
                    str_of(planned, "description").map(String::from),
                )
                .set_subnet_ids(Some(strs_of(planned, "subnet_ids")))
                .send()
                .await
                .map_err(|e| sdk("ModifyCacheSubnetGroup", e))?;
        }
        sync_tags(cx, str_of(prior, "arn").unwrap_or_default(), prior, planned).await?;
        let g = describe_sg(cx, &name)
            .await?
            .ok_or_else(|| vanished("DescribeCacheSubnetGroups", "cache subnet group", &name))?;
        sg_state(cx, &g, planned).await
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let name = str_of(state, "name").unwrap_or_default().to_string();
        // CacheSubnetGroupInUse until the replication groups using it are gone.
        retry_dependency(Duration::from_secs(900), || async {
            cx.elasticache
                .delete_cache_subnet_group()
                .cache_subnet_group_name(&name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk("DeleteCacheSubnetGroup", e))
        })
        .await
    }
}

// ---------------------------------------------------------------- aws_elasticache_replication_group

const RG_CREATE: Duration = Duration::from_secs(3600);
const RG_UPDATE: Duration = Duration::from_secs(2400);
const RG_DELETE: Duration = Duration::from_secs(2400);

async fn describe_rg(cx: &Clients, id: &str) -> Result<Option<t::ReplicationGroup>, AwsError> {
    Ok(absent_ok(
        cx.elasticache
            .describe_replication_groups()
            .replication_group_id(id)
            .send()
            .await
            .map_err(|e| sdk("DescribeReplicationGroups", e)),
    )?
    .and_then(|o| o.replication_groups.unwrap_or_default().into_iter().next()))
}

async fn wait_available(
    cx: &Clients,
    id: &str,
    deadline: Duration,
) -> Result<t::ReplicationGroup, AwsError> {
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
async fn rg_state(cx: &Clients, g: &t::ReplicationGroup, prior: &Value) -> Result<Value, AwsError> {
    let arn = g.arn().unwrap_or_default();
    let (tags, tags_all) = tags::split(read_tags(cx, arn).await?, prior);
    let ng = g.node_groups().first();
    let primary = ng.and_then(|n| n.primary_endpoint());
    let keep = |k: &str| prior.get(k).cloned().unwrap_or(Value::Null);
    let members = g.member_clusters();
    Ok(Value::map([
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
        ("tags", tags),
        ("tags_all", tags_all),
    ]))
}

#[async_trait]
impl AwsResource for ReplicationGroup {
    fn name(&self) -> &'static str {
        "aws_elasticache_replication_group"
    }

    fn schema(&self) -> ResourceSchema {
        add_timeouts(
            ResourceSchema::new()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr(
                    "replication_group_id",
                    Attribute::required(Type::String).force_new(),
                )
                .attr("description", Attribute::required(Type::String))
                .attr("node_type", Attribute::optional_computed(Type::String))
                .attr(
                    "engine",
                    Attribute::optional(Type::String)
                        .with_default("redis")
                        .force_new(),
                )
                .attr("engine_version", Attribute::optional_computed(Type::String))
                .attr(
                    "port",
                    Attribute::optional(Type::Number)
                        .with_default(6379i64)
                        .force_new(),
                )
                .attr(
                    "subnet_group_name",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "security_group_ids",
                    Attribute::optional_computed(Type::set(Type::String)),
                )
                .attr(
                    "parameter_group_name",
                    Attribute::optional_computed(Type::String),
                )
                .attr(
                    "num_cache_clusters",
                    Attribute::optional(Type::Number).with_default(1i64),
                )
                .attr(
                    "member_clusters",
                    Attribute::computed(Type::set(Type::String)),
                )
                .attr(
                    "automatic_failover_enabled",
                    Attribute::optional(Type::Bool).with_default(false),
                )
                .attr(
                    "multi_az_enabled",
                    Attribute::optional(Type::Bool).with_default(false),
                )
                .attr(
                    "transit_encryption_enabled",
                    Attribute::optional(Type::Bool)
                        .with_default(false)
                        .force_new(),
                )
                .attr(
                    "at_rest_encryption_enabled",
                    Attribute::optional(Type::Bool)
                        .with_default(false)
                        .force_new(),
                )
                .attr(
                    "snapshot_retention_limit",
                    Attribute::optional(Type::Number).with_default(0i64),
                )
                .attr("auth_token", Attribute::optional(Type::String).sensitive())
                .attr("apply_immediately", Attribute::optional(Type::Bool))
                .attr(
                    "primary_endpoint_address",
                    Attribute::computed(Type::String),
                )
                .attr("reader_endpoint_address", Attribute::computed(Type::String))
                .attr(
                    "configuration_endpoint_address",
                    Attribute::computed(Type::String),
                ),
        )
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError> {
        let id = str_of(planned, "replication_group_id")
            .unwrap_or_default()
            .to_string();
        let res = cx
            .elasticache
            .create_replication_group()
            .replication_group_id(&id)
            .replication_group_description(str_of(planned, "description").unwrap_or_default())
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
            .set_tags(Some(ec_tags(&tags::with_token(
                &tags::wanted(planned),
                Some(token),
            ))))
            .send()
            .await
            .map_err(|e| sdk("CreateReplicationGroup", e));
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
                super::put(&mut v, k, Value::Null);
            }
        }
        Ok(v)
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError> {
        match describe_rg(cx, id).await? {
            Some(g) if g.status() != Some("deleting") => Ok(Some(rg_state(cx, &g, prior).await?)),
            _ => Ok(None),
        }
    }

    async fn update(
        &self,
        cx: &Clients,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, AwsError> {
        let id = str_of(prior, "id").unwrap_or_default().to_string();
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
            cx.elasticache
                .modify_replication_group()
                .replication_group_id(&id)
                .set_replication_group_description(s("description"))
                .set_cache_node_type(s("node_type"))
                .set_engine_version(s("engine_version"))
                .set_cache_parameter_group_name(s("parameter_group_name"))
                .set_security_group_ids(
                    differs("security_group_ids").then(|| strs_of(planned, "security_group_ids")),
                )
                .set_automatic_failover_enabled(
                    differs("automatic_failover_enabled")
                        .then(|| bool_of(planned, "automatic_failover_enabled").unwrap_or(false)),
                )
                .set_multi_az_enabled(
                    differs("multi_az_enabled")
                        .then(|| bool_of(planned, "multi_az_enabled").unwrap_or(false)),
                )
                .set_snapshot_retention_limit(
                    differs("snapshot_retention_limit")
                        .then(|| int_of(planned, "snapshot_retention_limit").unwrap_or(0)),
                )
                .apply_immediately(bool_of(planned, "apply_immediately").unwrap_or(false))
                .send()
                .await
                .map_err(|e| sdk("ModifyReplicationGroup", e))?;
            wait_available(cx, &id, deadline).await?;
        }
        if changed(prior, planned, &["num_cache_clusters"]) {
            let old = int_of(prior, "num_cache_clusters").unwrap_or(1);
            let new = int_of(planned, "num_cache_clusters").unwrap_or(1);
            if new > old {
                cx.elasticache
                    .increase_replica_count()
                    .replication_group_id(&id)
                    .new_replica_count(new - 1)
                    .apply_immediately(true)
                    .send()
                    .await
                    .map_err(|e| sdk("IncreaseReplicaCount", e))?;
            } else {
                cx.elasticache
                    .decrease_replica_count()
                    .replication_group_id(&id)
                    .new_replica_count(new - 1)
                    .apply_immediately(true)
                    .send()
                    .await
                    .map_err(|e| sdk("DecreaseReplicaCount", e))?;
            }
            wait_available(cx, &id, deadline).await?;
        }
        sync_tags(cx, str_of(prior, "arn").unwrap_or_default(), prior, planned).await?;
        let g = describe_rg(cx, &id)
            .await?
            .ok_or_else(|| vanished("DescribeReplicationGroups", "replication group", &id))?;
        let mut v = rg_state(cx, &g, planned).await?;
        if members_unreported(&g) {
            super::put(
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

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError> {
        let id = str_of(state, "id").unwrap_or_default().to_string();
        let deadline = timeout(state, "delete", RG_DELETE);
        // InvalidReplicationGroupState while a modification is still being applied.
        let start = tokio::time::Instant::now();
        loop {
            match cx
                .elasticache
                .delete_replication_group()
                .replication_group_id(&id)
                .send()
                .await
                .map_err(|e| sdk("DeleteReplicationGroup", e))
            {
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
