//! EC2's resource types, one file each, and what they share here: tag synchronisation and
//! lookup by token tag.

use aws_sdk_ec2::types::Tag;
use terrane_core::Value;

use crate::config::Clients;
use crate::error::Result;
use crate::resources::lifecycle;
use crate::tags;

/// Makes the tags of `resource_id` equal to the planned `tags_all`.
pub async fn sync_tags(
    cx: &Clients,
    resource_id: &str,
    prior: &Value,
    planned: &Value,
) -> Result<()> {
    let (removed, changed) = tags::diff(prior, planned);
    if !removed.is_empty() {
        // DeleteTags takes tags with a key and no value: every value of the key goes.
        let keys = removed.iter().map(|k| Tag::builder().key(k).build());
        let req = cx.ec2.delete_tags().resources(resource_id);
        let req = req.set_tags(Some(keys.collect()));
        call!(req, "DeleteTags")?;
    }
    if !changed.is_empty() {
        let req = cx.ec2.create_tags().resources(resource_id);
        let req = req.set_tags(Some(tags::to_sdk(&changed)));
        call!(req, "CreateTags")?;
    }
    Ok(())
}

/// The ids of the account's default VPCs (discovery reports them and what AWS made in them
/// as defaults).
pub async fn default_vpcs(cx: &Clients) -> Result<std::collections::BTreeSet<String>> {
    let req = cx.ec2.describe_vpcs().filters(filter("is-default", "true"));
    let out = call!(req, "DescribeVpcs")?;
    Ok(out
        .vpcs()
        .iter()
        .filter_map(|v| v.vpc_id().map(String::from))
        .collect())
}

/// Every route table, all pages.
pub async fn route_tables(
    cx: &Clients,
    filters: Vec<aws_sdk_ec2::types::Filter>,
) -> Result<Vec<aws_sdk_ec2::types::RouteTable>> {
    let items = pages!(
        cx.ec2.describe_route_tables().set_filters(Some(filters)),
        "DescribeRouteTables",
        route_tables
    );
    Ok(items.collect())
}

/// How many EC2 objects one batched read describes (a filter's values; AWS takes 1,000 per
/// call and pages the answer).
pub const READ_BATCH: usize = 200;

/// The `id` of each prior.
/// The ARN of an EC2 object: EC2's describe calls return the owner, not the ARN.
pub fn arn(cx: &Clients, owner: &str, kind: &str, id: &str) -> Value {
    Value::from(format!("arn:aws:ec2:{}:{owner}:{kind}/{id}", cx.region))
}

pub fn ids_of(priors: &[&Value]) -> Vec<String> {
    lifecycle::keys_of(priors, "id")
}

/// A filter on `name` (`subnet-id`, ...) with these values: unlike a list of ids, it answers
/// without an error when some are gone.
pub fn id_filter(name: &str, ids: &[String]) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name(name)
        .set_values(Some(ids.to_vec()))
        .build()
}

/// Each prior's object among `found` (by its id), in the order of `priors`.
pub fn in_order_of<T>(
    priors: &[&Value],
    found: impl IntoIterator<Item = T>,
    id: impl Fn(&T) -> Option<&str>,
) -> Vec<Option<T>> {
    lifecycle::in_order_by(priors, "id", found, id)
}

/// A filter on `name` with one value.
pub fn filter(name: &str, value: &str) -> aws_sdk_ec2::types::Filter {
    id_filter(name, &[value.to_string()])
}

/// A `tag:terrane:token` filter.
pub fn token_filter(token: &str) -> aws_sdk_ec2::types::Filter {
    filter(&format!("tag:{}", tags::TOKEN_TAG), token)
}

/// The id of the EC2 object of `resource_type` ("vpc", "subnet", ...) carrying our token tag.
pub async fn id_by_token(cx: &Clients, resource_type: &str, token: &str) -> Result<Option<String>> {
    let out = call!(
        cx.ec2
            .describe_tags()
            .filters(filter("resource-type", resource_type))
            .filters(filter("key", tags::TOKEN_TAG))
            .filters(filter("value", token)),
        "DescribeTags"
    )?;
    Ok(out
        .tags()
        .iter()
        .find_map(|t| t.resource_id().map(String::from)))
}

/// The SDK's own retries switched off, for one call.
pub fn no_retry() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default()
        .retry_config(aws_sdk_ec2::config::retry::RetryConfig::disabled())
}

/// The tags of a create: the planned ones and the token tag that finds the object after a
/// lost answer.
pub fn tag_spec(
    resource_type: aws_sdk_ec2::types::ResourceType,
    planned: &Value,
    token: &str,
) -> aws_sdk_ec2::types::TagSpecification {
    aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(tags::for_create(planned, token)))
        .build()
}

/// Sends a create request once per attempt of [`create_once`], with the SDK's own retries
/// off: a retry of a create whose answer was lost would make a second object.
macro_rules! send_once {
    ($req:expr) => {
        $req.clone()
            .customize()
            .config_override(crate::resources::ec2::no_retry())
            .send()
    };
}
pub(crate) use send_once;

/// Sends the EC2 create `$req` once per attempt ([`send_once!`]) through
/// [`crate::resources::lifecycle::create_then_find`], the new id read from the answer's
/// `$obj.$id` (or `$id`); after a lost answer the object is the one of DescribeTags' resource
/// type `$type` carrying the token tag:
/// `create_once!(cx, req, "CreateSubnet", "subnet", token, subnet.subnet_id)?`.
macro_rules! create_once {
    ($cx:expr, $req:expr, $op:literal, $type:literal, $token:expr, $obj:ident . $id:ident) => {
        crate::resources::ec2::create_once!($cx, $req, $op, $type, $token, |o| o.$obj?.$id)
    };
    ($cx:expr, $req:expr, $op:literal, $type:literal, $token:expr, $id:ident) => {
        crate::resources::ec2::create_once!($cx, $req, $op, $type, $token, |o| o.$id)
    };
    ($cx:expr, $req:expr, $op:literal, $type:literal, $token:expr, $id_of:expr) => {
        crate::resources::lifecycle::create_then_find(
            $op,
            || crate::resources::ec2::send_once!($req),
            $id_of,
            || crate::resources::ec2::id_by_token($cx, $type, $token),
        )
        .await
    };
}
pub(crate) use create_once;

mod eip;
mod internet_gateway;
mod kind;
mod nat_gateway;
mod route;
mod route_table;
mod route_table_association;
mod security_group;
mod security_group_rule;
mod subnet;
mod vpc;

pub use eip::Eip;
pub use internet_gateway::InternetGateway;
pub use kind::Ec2Kind;
pub use nat_gateway::NatGateway;
pub use route::Route;
pub use route_table::RouteTable;
pub use route_table_association::RouteTableAssociation;
pub use security_group::SecurityGroup;
pub(crate) use security_group_rule::group_rules;
pub use security_group_rule::SecurityGroupRule;
pub use subnet::Subnet;
pub use vpc::Vpc;
