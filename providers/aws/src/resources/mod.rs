//! The AWS resource types and data sources, one file per type under its service's folder
//! (`ec2/`, `iam/`, `ecs/`, ...), each with what its service's types share in the folder's
//! `mod.rs` (tagging, lookups by token). Around them:
//! - [`kind`]: the contract a type implements ([`AwsResource`], [`AwsData`]);
//! - [`table`]: the table of types, one row each;
//! - [`value`]: reading planned values and building state values;
//! - [`lifecycle`]: `timeouts`, create-once and what else every lifecycle shares;
//! - [`discover`]: discovery by tags (the Resource Groups Tagging API) and by listing;
//! - [`order`]: deletion order as data (references and type-level rules);
//! - [`policy`]: JSON policy documents (IAM and ECR).

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
pub mod table;
pub mod value;

pub use kind::{AwsData, AwsResource};
pub use table::{all, all_data};
