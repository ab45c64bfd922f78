//! The table of resource types and data sources: one row per type. Adding a type is one file
//! under its service's folder and one row here (ARCHITECTURE.md, "Adding an AWS resource type").

use std::sync::Arc;

use super::kind::{AwsData, AwsResource};
use super::{cloudwatch, data, ec2, ecr, ecs, eks, elasticache, elb, iam, logs, s3, ssm};

/// Every resource type, in the order of this table.
pub fn all() -> Vec<Arc<dyn AwsResource>> {
    vec![
        Arc::new(ec2::Ec2Kind(ec2::Vpc)),
        Arc::new(ec2::Ec2Kind(ec2::Subnet)),
        Arc::new(ec2::Ec2Kind(ec2::InternetGateway)),
        Arc::new(ec2::Ec2Kind(ec2::RouteTable)),
        Arc::new(ec2::RouteTableAssociation),
        Arc::new(iam::IamRole),
        Arc::new(iam::IamRolePolicyAttachment),
        Arc::new(iam::IamPolicy),
        Arc::new(iam::IamRolePolicy),
        Arc::new(iam::InstanceProfile),
        Arc::new(iam::OidcProvider),
        Arc::new(ec2::Ec2Kind(ec2::SecurityGroup)),
        Arc::new(ec2::Ec2Kind(ec2::Eip)),
        Arc::new(ec2::Ec2Kind(ec2::NatGateway)),
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
        Arc::new(ec2::Route),
        Arc::new(ec2::SecurityGroupRule),
        Arc::new(cloudwatch::MetricAlarm),
        Arc::new(ssm::Parameter),
        Arc::new(s3::Bucket),
    ]
}

/// Every data source.
pub fn all_data() -> Vec<Arc<dyn AwsData>> {
    vec![
        Arc::new(data::CallerIdentity),
        Arc::new(data::Region),
        Arc::new(data::AvailabilityZones),
        Arc::new(data::PolicyDocument),
        Arc::new(data::Vpc),
        Arc::new(ecr::Image),
    ]
}
