//! One file per resource type. Each implements [`AwsResource`]; data sources implement
//! [`AwsData`].

mod data;
mod data_more;
mod ec2_common;
mod ec2_rules;
mod ecr;
mod ecs;
mod eks;
mod elasticache;
mod elb;
mod iam;
mod iam_role;
mod internet_gateway;
mod logs;
mod nat;
mod policy;
mod route_table;
mod security_group;
mod subnet;
pub mod util;
mod vpc;

use std::sync::Arc;

use async_trait::async_trait;
use terrane_core::{AttrPath, Diagnostic, ResourceSchema, Value};

use crate::config::Clients;
use crate::error::AwsError;

#[async_trait]
pub trait AwsResource: Send + Sync {
    fn name(&self) -> &'static str;
    fn schema(&self) -> ResourceSchema;
    /// Has `tags` / `tags_all` (default_tags apply); the provider adds both to the schema.
    fn taggable(&self) -> bool {
        true
    }
    fn validate(&self, _config: &Value) -> Vec<Diagnostic> {
        Vec::new()
    }
    /// Resource-specific touches to the schema's default plan.
    fn adjust_plan(
        &self,
        _prior: Option<&Value>,
        _config: &Value,
        _planned: &mut Value,
        _requires_replace: &mut Vec<AttrPath>,
    ) {
    }
    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value, AwsError>;
    /// `None` when the object no longer exists.
    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, AwsError>;
    async fn update(&self, cx: &Clients, prior: &Value, planned: &Value)
        -> Result<Value, AwsError>;
    async fn delete(&self, cx: &Clients, state: &Value) -> Result<(), AwsError>;
    /// Finds an object whose create was interrupted, by the token tag put on it at creation.
    async fn find_by_token(
        &self,
        _cx: &Clients,
        _token: &str,
        _planned: &Value,
    ) -> Result<Option<Value>, AwsError> {
        Ok(None)
    }
}

#[async_trait]
pub trait AwsData: Send + Sync {
    fn name(&self) -> &'static str;
    fn schema(&self) -> ResourceSchema;
    async fn read(&self, cx: &Clients, config: &Value) -> Result<Value, AwsError>;
}

pub fn all() -> Vec<Arc<dyn AwsResource>> {
    vec![
        Arc::new(vpc::Vpc),
        Arc::new(subnet::Subnet),
        Arc::new(internet_gateway::InternetGateway),
        Arc::new(route_table::RouteTable),
        Arc::new(route_table::RouteTableAssociation),
        Arc::new(iam_role::IamRole),
        Arc::new(iam_role::IamRolePolicyAttachment),
        Arc::new(iam::IamPolicy),
        Arc::new(iam::IamRolePolicy),
        Arc::new(iam::InstanceProfile),
        Arc::new(iam::OidcProvider),
        Arc::new(security_group::SecurityGroup),
        Arc::new(nat::Eip),
        Arc::new(nat::NatGateway),
        Arc::new(logs::LogGroup),
        Arc::new(ecs::EcsCluster),
        Arc::new(ecs::EcsTaskDefinition),
        Arc::new(ecs::EcsService),
        Arc::new(elb::Lb),
        Arc::new(elb::TargetGroup),
        Arc::new(elb::Listener),
        Arc::new(elb::ListenerRule),
        Arc::new(elb::TargetGroupAttachment),
        Arc::new(elasticache::SubnetGroup),
        Arc::new(elasticache::ReplicationGroup),
        Arc::new(ecr::Repository),
        Arc::new(ecr::LifecyclePolicy),
        Arc::new(eks::EksCluster),
        Arc::new(eks::NodeGroup),
        Arc::new(eks::FargateProfile),
        Arc::new(ec2_rules::Route),
        Arc::new(ec2_rules::SecurityGroupRule),
    ]
}

pub fn all_data() -> Vec<Arc<dyn AwsData>> {
    let mut v = data::all();
    v.push(Arc::new(data_more::PolicyDocument));
    v.push(Arc::new(data_more::Vpc));
    v
}

/// Small helpers for reading planned values.
pub fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

pub fn bool_of(v: &Value, k: &str) -> Option<bool> {
    v.get(k).and_then(Value::as_bool)
}

pub fn put(v: &mut Value, k: &str, x: Value) {
    if let Value::Map(m) = v {
        m.insert(k.to_string(), x);
    }
}
