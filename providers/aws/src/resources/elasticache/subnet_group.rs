//! aws_elasticache_subnet_group.

use super::*;
use crate::error::Result;

async fn describe_sg(cx: &Clients, name: &str) -> Result<Option<t::CacheSubnetGroup>> {
    found!(
        cx.elasticache
            .describe_cache_subnet_groups()
            .cache_subnet_group_name(name),
        "DescribeCacheSubnetGroups",
        cache_subnet_groups[0]
    )
}

async fn sg_state(cx: &Clients, g: &t::CacheSubnetGroup, prior: &Value) -> Result<Value> {
    let arn = g.arn().unwrap_or_default();
    let tags = read_tags(cx, arn).await?;
    Ok(tags::tagged(
        Value::map([
            ("id", opt_s(g.cache_subnet_group_name())),
            ("name", opt_s(g.cache_subnet_group_name())),
            ("arn", Value::from(arn)),
            ("description", opt_s(g.cache_subnet_group_description())),
            (
                "subnet_ids",
                str_set(g.subnets().iter().filter_map(|s| s.subnet_identifier())),
            ),
            ("vpc_id", opt_s(g.vpc_id())),
        ]),
        tags,
        prior,
    ))
}

#[async_trait]
impl AwsResource for SubnetGroup {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let groups: Vec<t::CacheSubnetGroup> = items!(
            cx.elasticache.describe_cache_subnet_groups(),
            "DescribeCacheSubnetGroups"
        );
        let mut out = Vec::new();
        for g in groups {
            let default = g.cache_subnet_group_name() == Some("default");
            out.push(Listed::made_by_aws(
                sg_state(cx, &g, &Value::Null).await?,
                default,
            ));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let name = string_of(planned, "name");
        let res = call!(
            cx.elasticache
                .create_cache_subnet_group()
                .cache_subnet_group_name(&name)
                .cache_subnet_group_description(text_of(planned, "description"))
                .set_subnet_ids(Some(strs_of(planned, "subnet_ids")))
                .set_tags(Some(tags::for_create(planned, token))),
            "CreateCacheSubnetGroup"
        );
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

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        read_found!(describe_sg(cx, id), |g| sg_state(cx, &g, prior))
    }

    fn read_batch(&self) -> Option<usize> {
        Some(super::LIST_BATCH)
    }

    /// DescribeCacheSubnetGroups takes one name or none: a batch reads the listing instead.
    async fn read_many(&self, cx: &Clients, priors: &[&Value]) -> Result<Vec<Option<Value>>> {
        let all: Vec<t::CacheSubnetGroup> = items!(
            cx.elasticache.describe_cache_subnet_groups(),
            "DescribeCacheSubnetGroups"
        );
        let found = in_order_by(priors, "id", all, |g| g.cache_subnet_group_name());
        states_of(
            found,
            priors,
            |g, p| async move { sg_state(cx, &g, p).await },
        )
        .await
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let name = string_of(prior, "name");
        if changed(prior, planned, &["description", "subnet_ids"]) {
            call!(
                cx.elasticache
                    .modify_cache_subnet_group()
                    .cache_subnet_group_name(&name)
                    .set_cache_subnet_group_description(
                        str_of(planned, "description").map(String::from),
                    )
                    .set_subnet_ids(Some(strs_of(planned, "subnet_ids"))),
                "ModifyCacheSubnetGroup"
            )?;
        }
        Ok(())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let name = string_of(state, "name");
        // CacheSubnetGroupInUse until the replication groups using it are gone.
        delete_retrying!(
            Duration::from_secs(900),
            cx.elasticache
                .delete_cache_subnet_group()
                .cache_subnet_group_name(&name),
            "DeleteCacheSubnetGroup"
        )
    }
}

// ---------------------------------------------------------------- aws_elasticache_replication_group
