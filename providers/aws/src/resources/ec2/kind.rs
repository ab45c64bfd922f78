//! The EC2 kind. An EC2 resource type is written as an [`Ec2Type`]: its describe call (by
//! filters, every page), its state, and its create, update and delete. [`Ec2Kind`] makes it an
//! [`AwsResource`] with the reads every EC2 type shares, written once here: read by an id
//! filter (a gone object is `None`, not an error), batched reads (one describe for up to
//! [`READ_BATCH`] ids), find-by-token after a lost create, and the listing with what AWS made
//! itself marked as such.

use async_trait::async_trait;
use aws_sdk_ec2::types::Filter;
use futures::future::BoxFuture;
use terrane_core::{Diagnostic, Value};

use super::{id_filter, ids_of, in_order_of, token_filter, READ_BATCH};
use crate::config::Clients;
use crate::error::{wait_until, Result};
use crate::resources::kind::{AwsResource, Found, Listed, Planning};
use crate::resources::lifecycle::{states_of, vanished};
use crate::resources::value::text_of;
use std::time::Duration;

/// The describe half of an [`Ec2Type`], which every type writes alike: the SDK's type, the
/// describe call and its filter on ids, what the object is called in messages, the id's
/// accessor and, for a call that pages, the SDK method and its list:
/// `ec2_describe!(Subnet, "DescribeSubnets", "subnet-id", "subnet", subnet_id, describe_subnets.subnets);`
/// Without the last part the type writes its own `describe_where`.
macro_rules! ec2_describe {
    ($desc:ident, $op:literal, $filter:literal, $what:literal, $id:ident) => {
        type Desc = aws_sdk_ec2::types::$desc;
        const OPERATION: &'static str = $op;
        const ID_FILTER: &'static str = $filter;
        const WHAT: &'static str = $what;
        fn id_of(d: &Self::Desc) -> Option<&str> {
            d.$id()
        }
    };
    ($desc:ident, $op:literal, $filter:literal, $what:literal, $id:ident, $call:ident . $list:ident) => {
        ec2_describe!($desc, $op, $filter, $what, $id);
        fn describe_where(
            cx: &Clients,
            filters: Vec<aws_sdk_ec2::types::Filter>,
        ) -> futures::future::BoxFuture<'_, Result<Vec<Self::Desc>>> {
            Box::pin(async move {
                Ok(pages!(cx.ec2.$call().set_filters(Some(filters)), $op, $list).collect())
            })
        }
    };
}
pub(crate) use ec2_describe;

/// What an EC2 resource type says of itself; see the module documentation.
#[async_trait]
pub trait Ec2Type: Send + Sync + 'static {
    /// The SDK's description of one object (`aws_sdk_ec2::types::Subnet`).
    type Desc: Send + Sync + 'static;
    /// The describe call (`DescribeSubnets`) and its filter on ids (`subnet-id`).
    const OPERATION: &'static str;
    const ID_FILTER: &'static str;
    /// What the object is called in messages (`subnet`).
    const WHAT: &'static str;

    fn id_of(d: &Self::Desc) -> Option<&str>;
    /// Every object that matches all of `filters` (every one with none), all pages. A plain
    /// function returning its future, so that [`ec2_describe!`] can write it.
    fn describe_where(cx: &Clients, filters: Vec<Filter>)
        -> BoxFuture<'_, Result<Vec<Self::Desc>>>;
    /// The state of a described object; `prior` keeps what AWS does not report.
    async fn state(cx: &Clients, d: Self::Desc, prior: &Value) -> Result<Value>;
    /// Its `state` (`pending`, `available`), for the types that have one.
    fn state_of(_d: &Self::Desc) -> Option<&str> {
        None
    }
    /// Whether the listing reports it (a NAT gateway being deleted is left out).
    fn listed(_d: &Self::Desc) -> bool {
        true
    }
    /// Whether AWS made this object itself (a default VPC, its main route table).
    fn made_by_aws_alone(_d: &Self::Desc) -> bool {
        false
    }
    /// For each of `all`: made by AWS itself (listed, never deleted). By default
    /// [`Ec2Type::made_by_aws_alone`]; a type that must ask AWS more overrides this.
    async fn made_by_aws(_cx: &Clients, all: &[Self::Desc]) -> Result<Vec<bool>> {
        Ok(all.iter().map(Self::made_by_aws_alone).collect())
    }

    fn validate(&self, _config: &Value) -> Vec<Diagnostic> {
        Vec::new()
    }
    fn adjust_plan(&self, _p: Planning<'_>) {}
    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value>;
    /// The calls that change in place what an update changes beside the tags (attributes,
    /// rules, routes, an attachment); none by default: every other argument replaces the object.
    async fn modify(&self, _cx: &Clients, _prior: &Value, _planned: &Value) -> Result<()> {
        Ok(())
    }
    /// [`Ec2Type::modify`], then the tags made the planned `tags_all` and the object described
    /// again by its id, as every tagged EC2 type updates. The types without tags, which are not
    /// described by an id of their own (a route, a rule, an association), write their own.
    async fn update(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<Value>
    where
        Self: Sized,
    {
        self.modify(cx, prior, planned).await?;
        let id = text_of(prior, "id");
        super::sync_tags(cx, id, prior, planned).await?;
        Self::state(cx, must_exist::<Self>(cx, id).await?, planned).await
    }
    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()>;
}

/// The object with this id; `None` when it is gone.
pub async fn describe_id<K: Ec2Type>(cx: &Clients, id: &str) -> Result<Option<K::Desc>> {
    Ok(
        K::describe_where(cx, vec![id_filter(K::ID_FILTER, &[id.to_string()])])
            .await?
            .into_iter()
            .find(|d| K::id_of(d) == Some(id)),
    )
}

/// The object with this id, which a write has just made or changed: gone is an error.
pub async fn must_exist<K: Ec2Type>(cx: &Clients, id: &str) -> Result<K::Desc> {
    describe_id::<K>(cx, id)
        .await?
        .ok_or_else(|| vanished(K::OPERATION, K::WHAT, id))
}

/// Waits until the object with this id is `available`, and describes it.
pub async fn wait_available<K: Ec2Type>(
    cx: &Clients,
    id: &str,
    deadline: Duration,
) -> Result<K::Desc> {
    let what = format!("the {} to become available", K::WHAT);
    wait_until(&what, K::OPERATION, deadline, || async {
        Ok(describe_id::<K>(cx, id)
            .await?
            .filter(|d| K::state_of(d) == Some("available")))
    })
    .await
}

/// An [`Ec2Type`] as an [`AwsResource`] (one row of the table each).
pub struct Ec2Kind<K>(pub K);

#[async_trait]
impl<K: Ec2Type> AwsResource for Ec2Kind<K> {
    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        self.0.validate(config)
    }
    fn adjust_plan(&self, p: Planning<'_>) {
        self.0.adjust_plan(p)
    }

    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let all: Vec<K::Desc> = K::describe_where(cx, Vec::new())
            .await?
            .into_iter()
            .filter(K::listed)
            .collect();
        let defaults = K::made_by_aws(cx, &all).await?;
        let mut out = Vec::with_capacity(all.len());
        for (d, default) in all.into_iter().zip(defaults) {
            out.push(Listed::made_by_aws(
                K::state(cx, d, &Value::Null).await?,
                default,
            ));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        self.0.create(cx, planned, token).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        read_found!(describe_id::<K>(cx, id), |d| K::state(cx, d, prior))
    }

    fn read_batch(&self) -> Option<usize> {
        Some(READ_BATCH)
    }

    async fn read_many(&self, cx: &Clients, priors: &[&Value]) -> Result<Vec<Option<Value>>> {
        let filter = id_filter(K::ID_FILTER, &ids_of(priors));
        let found = K::describe_where(cx, vec![filter]).await?;
        let found = in_order_of(priors, found, |d| K::id_of(d));
        states_of(found, priors, |d, p| K::state(cx, d, p)).await
    }

    async fn update(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<Value> {
        self.0.update(cx, prior, planned).await
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        self.0.delete(cx, state).await
    }

    async fn find_by_token(&self, cx: &Clients, token: &str, _planned: &Value) -> Found {
        match K::describe_where(cx, vec![token_filter(token)])
            .await?
            .into_iter()
            .next()
        {
            Some(d) => Ok(Some(K::state(cx, d, &Value::Null).await?)),
            None => Ok(None),
        }
    }
}
