//! The AWS resource types and data sources, one file per type under its service's folder
//! (`ec2/`, `iam/`, `ecs/`, ...), each with what its service's types share in the folder's
//! `mod.rs` (tagging, lookups by token). Around them:
//! - [`kind`]: the contract a type implements ([`AwsResource`], [`AwsData`]);
//! - [`table`]: the table of types, one row each;
//! - [`value`]: reading planned values and building state values;
//! - [`tagging`]: each service's tagging adapter, one line of its `mod.rs`;
//! - [`lifecycle`]: `timeouts`, create-once and what else every lifecycle shares;
//! - [`discover`]: discovery by tags (the Resource Groups Tagging API) and by listing;
//! - [`order`]: deletion order as data (references and type-level rules);
//! - [`policy`]: JSON policy documents (IAM and ECR).

#[macro_use]
mod tagging;

/// Every page of a paginated call (`pages!(cx.ec2.describe_vpcs(), "DescribeVpcs")`), or with
/// a field name every item of the pages' lists, as an iterator; an error as `sdk(operation, e)`.
macro_rules! pages {
    ($req:expr, $op:literal) => {
        $req.into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| crate::error::sdk($op, e))?
    };
    ($req:expr, $op:literal, $field:ident) => {
        pages!($req, $op)
            .into_iter()
            .flat_map(|p| p.$field.unwrap_or_default())
    };
}

/// [`pages!`] with a field name, for a listing under something that may be gone (a role's
/// policies): no items when it is.
macro_rules! pages_if_there {
    ($req:expr, $op:literal, $field:ident) => {
        crate::error::absent_ok(crate::error::OrSdk::or_sdk(
            $req.into_paginator().send().try_collect().await,
            $op,
        ))?
        .unwrap_or_default()
        .into_iter()
        .flat_map(|p| p.$field.unwrap_or_default())
    };
}

/// A `read` from a lookup that may find nothing: `read_found!(describe(cx, id), |d| state(cx,
/// &d, prior))` is the state (an async call) of what the lookup (an async call) found, or
/// `None`.
macro_rules! read_found {
    ($found:expr, |$d:ident| $state:expr) => {
        match $found.await? {
            Some($d) => Ok(Some($state.await?)),
            None => Ok(None),
        }
    };
}

/// Every item of a paginated call whose pages hold one list (the SDK's `items()`).
macro_rules! items {
    ($req:expr, $op:literal) => {
        $req.into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| crate::error::sdk($op, e))?
    };
}

mod cloudwatch;
mod data;
pub mod discover;
mod ec2;
mod ecr;
mod ecs;
mod eks;
mod elasticache;
mod elb;
mod iam;
pub mod kind;
pub mod lifecycle;
mod logs;
pub mod order;
mod policy;
mod s3;
mod schemas;
mod ssm;
pub mod table;
pub mod value;

pub use kind::Kind;
pub use table::{all, all_data};
