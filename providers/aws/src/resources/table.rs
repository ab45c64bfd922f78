//! The table of resource types and data sources: one row per type. Adding a type is one file
//! under its service's folder and one row here (ARCHITECTURE.md, "Adding an AWS resource type").

use std::sync::Arc;

use super::kind::{DataKind, Kind};
use super::{cloudwatch, data, ec2, ecr, ecs, eks, elasticache, elb, iam, logs, s3, ssm};

/// Every resource type, in the order of this table.
pub fn all() -> Vec<Arc<Kind>> {
    [
        Kind::new("aws_vpc", ec2::Ec2Kind(ec2::Vpc)).tagging("ec2", "vpc"),
        Kind::new("aws_subnet", ec2::Ec2Kind(ec2::Subnet)).tagging("ec2", "subnet").refs(&[("vpc_id", "aws_vpc")]),
        Kind::new("aws_internet_gateway", ec2::Ec2Kind(ec2::InternetGateway)).tagging("ec2", "internet-gateway").refs(&[("vpc_id", "aws_vpc")]).after(&[
            (
                "aws_nat_gateway",
                "a VPC with NAT gateways has mapped public addresses, which stop its gateway's detach",
            ),
            (
                "aws_eip",
                "a VPC with mapped public addresses cannot detach its internet gateway",
            ),
            (
                "aws_lb",
                "an internet-facing load balancer holds public addresses in the VPC",
            ),
        ]),
        Kind::new("aws_route_table", ec2::Ec2Kind(ec2::RouteTable)).tagging("ec2", "route-table").refs(&[
            ("vpc_id", "aws_vpc"),
            ("route.gateway_id", "aws_internet_gateway"),
            ("route.nat_gateway_id", "aws_nat_gateway"),
        ]),
        Kind::new("aws_route_table_association", ec2::RouteTableAssociation).untagged().refs(&[
            ("route_table_id", "aws_route_table"),
            ("subnet_id", "aws_subnet"),
            ("gateway_id", "aws_internet_gateway"),
        ]),
        Kind::new("aws_iam_role", iam::IamRole),
        Kind::new("aws_iam_role_policy_attachment", iam::IamRolePolicyAttachment).untagged().refs(&[("role", "aws_iam_role"), ("policy_arn", "aws_iam_policy")]),
        Kind::new("aws_iam_policy", iam::IamPolicy).tags_by("arn", iam::sync_policy_tags),
        Kind::new("aws_iam_role_policy", iam::IamRolePolicy).untagged().refs(&[("role", "aws_iam_role")]),
        Kind::new("aws_iam_instance_profile", iam::InstanceProfile).tags_by("name", iam::sync_profile_tags).refs(&[("role", "aws_iam_role")]),
        Kind::new("aws_iam_openid_connect_provider", iam::OidcProvider).tags_by("arn", iam::sync_oidc_tags),
        Kind::new("aws_security_group", ec2::Ec2Kind(ec2::SecurityGroup)).tagging("ec2", "security-group").refs(&[
            ("vpc_id", "aws_vpc"),
            // Inline rules that let another group in: this group goes first. Two groups that
            // name each other are a cycle, which the deletion graph reports by name; revoking
            // those rules first (aws_security_group_rule, listed when asked for) breaks it.
            ("ingress.security_groups", "aws_security_group"),
            ("egress.security_groups", "aws_security_group"),
        ]),
        Kind::new("aws_eip", ec2::Ec2Kind(ec2::Eip)),
        Kind::new("aws_nat_gateway", ec2::Ec2Kind(ec2::NatGateway)).tagging("ec2", "natgateway").refs(&[("subnet_id", "aws_subnet"), ("allocation_id", "aws_eip")]),
        Kind::new("aws_cloudwatch_log_group", logs::LogGroup).tags_by("arn", logs::sync_tags).tagging("logs", "log-group"),
        Kind::new("aws_ecs_cluster", ecs::EcsCluster).tags_by("arn", ecs::sync_tags).tagging("ecs", "cluster"),
        Kind::new("aws_ecs_task_definition", ecs::EcsTaskDefinition).tags_by("arn", ecs::sync_tags).tagging("ecs", "task-definition").refs(&[
            ("execution_role_arn", "aws_iam_role"),
            ("task_role_arn", "aws_iam_role"),
        ]),
        Kind::new("aws_ecs_service", ecs::EcsService).tagging("ecs", "service").refs(&[
            ("cluster", "aws_ecs_cluster"),
            ("task_definition", "aws_ecs_task_definition"),
            ("load_balancer.target_group_arn", "aws_lb_target_group"),
            ("network_configuration.subnets", "aws_subnet"),
            (
                "network_configuration.security_groups",
                "aws_security_group",
            ),
        ]),
        Kind::new("aws_lb", elb::Lb).tags_by("arn", elb::sync_tags).tagging("elasticloadbalancing", "loadbalancer").refs(&[
            ("subnets", "aws_subnet"),
            ("security_groups", "aws_security_group"),
        ]).after(&[(
            "aws_lb_target_group",
            "target groups go before the load balancer whose listeners used them",
        )]),
        Kind::new("aws_lb_target_group", elb::TargetGroup).tags_by("arn", elb::sync_tags).tagging("elasticloadbalancing", "targetgroup").refs(&[("vpc_id", "aws_vpc")]),
        Kind::new("aws_lb_listener", elb::Listener).tags_by("arn", elb::sync_tags).refs(&[
            ("load_balancer_arn", "aws_lb"),
            ("default_action.target_group_arn", "aws_lb_target_group"),
            (
                "default_action.forward.target_group.arn",
                "aws_lb_target_group",
            ),
        ]),
        Kind::new("aws_lb_listener_rule", elb::ListenerRule).tags_by("arn", elb::sync_tags).refs(&[
            ("listener_arn", "aws_lb_listener"),
            ("action.target_group_arn", "aws_lb_target_group"),
            ("action.forward.target_group.arn", "aws_lb_target_group"),
        ]),
        Kind::new("aws_lb_target_group_attachment", elb::TargetGroupAttachment).untagged().refs(&[("target_group_arn", "aws_lb_target_group")]),
        // A replication group names its subnet group, but a describe does not always say so
        // (the emulator leaves it out): every replication group goes first.
        Kind::new("aws_elasticache_subnet_group", elasticache::SubnetGroup).tags_by("arn", elasticache::sync_tags).tagging("elasticache", "subnetgroup").refs(&[("subnet_ids", "aws_subnet")]).after(&[(
            "aws_elasticache_replication_group",
            "a subnet group is in use until its replication groups are deleted",
        )]),
        Kind::new("aws_elasticache_replication_group", elasticache::ReplicationGroup).tagging("elasticache", "replicationgroup").refs(&[
            ("subnet_group_name", "aws_elasticache_subnet_group"),
            ("security_group_ids", "aws_security_group"),
        ]),
        Kind::new("aws_ecr_repository", ecr::Repository).tags_by("arn", ecr::sync_tags),
        Kind::new("aws_ecr_lifecycle_policy", ecr::LifecyclePolicy).untagged().refs(&[("repository", "aws_ecr_repository")]),
        Kind::new("aws_eks_cluster", eks::EksCluster).refs(&[
            ("role_arn", "aws_iam_role"),
            ("vpc_config.subnet_ids", "aws_subnet"),
            ("vpc_config.security_group_ids", "aws_security_group"),
        ]),
        Kind::new("aws_eks_node_group", eks::NodeGroup).refs(&[
            ("cluster_name", "aws_eks_cluster"),
            ("node_role_arn", "aws_iam_role"),
            ("subnet_ids", "aws_subnet"),
        ]),
        Kind::new("aws_eks_fargate_profile", eks::FargateProfile).tags_by("arn", eks::sync_tags).refs(&[
            ("cluster_name", "aws_eks_cluster"),
            ("pod_execution_role_arn", "aws_iam_role"),
            ("subnet_ids", "aws_subnet"),
        ]),
        Kind::new("aws_route", ec2::Route).untagged().on_request_only().refs(&[
            ("route_table_id", "aws_route_table"),
            ("gateway_id", "aws_internet_gateway"),
            ("nat_gateway_id", "aws_nat_gateway"),
        ]),
        Kind::new("aws_security_group_rule", ec2::SecurityGroupRule).untagged().on_request_only().refs(&[
            ("security_group_id", "aws_security_group"),
            ("source_security_group_id", "aws_security_group"),
        ]),
        Kind::new("aws_cloudwatch_metric_alarm", cloudwatch::MetricAlarm).tags_by("arn", cloudwatch::sync_tags).tagging("cloudwatch", "alarm"),
        Kind::new("aws_ssm_parameter", ssm::Parameter).tags_by("name", ssm::sync_tags),
        Kind::new("aws_s3_bucket", s3::Bucket),
    ]
    .into_iter()
    .map(Arc::new)
    .collect()
}

/// Every data source.
pub fn all_data() -> Vec<Arc<DataKind>> {
    [
        DataKind::new("aws_caller_identity", data::CallerIdentity),
        DataKind::new("aws_region", data::Region),
        DataKind::new("aws_availability_zones", data::AvailabilityZones),
        DataKind::new("aws_iam_policy_document", data::PolicyDocument),
        DataKind::new("aws_vpc", data::Vpc),
        DataKind::new("aws_ecr_image", ecr::Image),
    ]
    .into_iter()
    .map(Arc::new)
    .collect()
}
