//! Objects made outside Terrane, through the SDK, as a script or a console user would: a VPC
//! with two subnets, a NAT gateway and its Elastic IP, two security groups that let each other
//! in, and an ALB with a target group and a listener. Each is tagged `terrane:env = ENV` and
//! `bench = nuke`; nothing else knows them.

use aws_sdk_ec2::types::{
    DomainType, IpPermission, ResourceType, Tag, TagSpecification, UserIdGroupPair,
};
use aws_sdk_elasticloadbalancingv2 as elb;

/// (type, id) of what [`make`] made, as Terraform would name the type.
pub type Made = Vec<(&'static str, String)>;

pub async fn make(sdk: &aws_config::SdkConfig, env: &str, index: u8) -> Made {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let lbc = elb::Client::new(sdk);
    let mut made: Made = Vec::new();
    let tags = |t: ResourceType| {
        TagSpecification::builder()
            .resource_type(t)
            .tags(Tag::builder().key("terrane:env").value(env).build())
            .tags(Tag::builder().key("bench").value("nuke").build())
            .build()
    };
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("10.{index}.0.0/16"))
        .tag_specifications(tags(ResourceType::Vpc))
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    made.push(("aws_vpc", vpc.clone()));
    let mut subnets = Vec::new();
    for (i, az) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.{index}.{i}.0/24"))
            .availability_zone(*az)
            .tag_specifications(tags(ResourceType::Subnet))
            .send()
            .await
            .unwrap()
            .subnet
            .unwrap()
            .subnet_id
            .unwrap();
        made.push(("aws_subnet", s.clone()));
        subnets.push(s);
    }
    let eip = ec2
        .allocate_address()
        .domain(DomainType::Vpc)
        .tag_specifications(tags(ResourceType::ElasticIp))
        .send()
        .await
        .unwrap()
        .allocation_id
        .unwrap();
    made.push(("aws_eip", eip.clone()));
    let nat = ec2
        .create_nat_gateway()
        .subnet_id(&subnets[0])
        .allocation_id(&eip)
        .tag_specifications(tags(ResourceType::Natgateway))
        .send()
        .await
        .unwrap()
        .nat_gateway
        .unwrap()
        .nat_gateway_id
        .unwrap();
    made.push(("aws_nat_gateway", nat));
    let mut groups = Vec::new();
    for name in ["a", "b"] {
        let name = format!("{env}-{name}");
        let g = ec2
            .create_security_group()
            .group_name(&name)
            .description(&name)
            .vpc_id(&vpc)
            .tag_specifications(tags(ResourceType::SecurityGroup))
            .send()
            .await
            .unwrap()
            .group_id
            .unwrap();
        made.push(("aws_security_group", g.clone()));
        groups.push(g);
    }
    for (to, from) in [(0, 1), (1, 0)] {
        ec2.authorize_security_group_ingress()
            .group_id(&groups[to])
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(80)
                    .to_port(80)
                    .user_id_group_pairs(UserIdGroupPair::builder().group_id(&groups[from]).build())
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let tag = |k: &str, v: &str| elb::types::Tag::builder().key(k).value(v).build();
    let lb = lbc
        .create_load_balancer()
        .name(format!("{env}-alb"))
        .set_subnets(Some(subnets.clone()))
        .security_groups(&groups[0])
        .tags(tag("terrane:env", env))
        .tags(tag("bench", "nuke"))
        .send()
        .await
        .unwrap()
        .load_balancers
        .unwrap()
        .remove(0)
        .load_balancer_arn
        .unwrap();
    made.push(("aws_lb", lb.clone()));
    let tg = lbc
        .create_target_group()
        .name(format!("{env}-tg"))
        .protocol(elb::types::ProtocolEnum::Http)
        .port(80)
        .vpc_id(&vpc)
        .tags(tag("terrane:env", env))
        .tags(tag("bench", "nuke"))
        .send()
        .await
        .unwrap()
        .target_groups
        .unwrap()
        .remove(0)
        .target_group_arn
        .unwrap();
    made.push(("aws_lb_target_group", tg.clone()));
    let listener = lbc
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(elb::types::ProtocolEnum::Http)
        .port(80)
        .default_actions(
            elb::types::Action::builder()
                .r#type(elb::types::ActionTypeEnum::Forward)
                .target_group_arn(&tg)
                .build(),
        )
        .tags(tag("terrane:env", env))
        .tags(tag("bench", "nuke"))
        .send()
        .await
        .unwrap()
        .listeners
        .unwrap()
        .remove(0)
        .listener_arn
        .unwrap();
    made.push(("aws_lb_listener", listener));
    made
}
