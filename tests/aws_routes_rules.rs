//! aws_route and aws_security_group_rule (the stand-alone forms) and the aws_vpc data source
//! through the binary against moto, checked through the EC2 API: create, no-change plan,
//! in-place updates (a route's target, a rule's description), replace (a rule's port), drift (a
//! rule revoked out of band is restored), destroy.

mod common;
#[path = "common/moto.rs"]
mod moto;

use common::Fixture;
use moto::Moto;

const CONFIG: &str = r#"
provider "aws" {
  region = "us-east-1"
}

variable "via_nat" {
  type    = bool
  default = false
}
variable "port" {
  type    = number
  default = 443
}
variable "description" {
  default = "https"
}
variable "destination" {
  default = "0.0.0.0/0"
}

resource "aws_vpc" "main" {
  cidr_block = "10.60.0.0/16"
  tags       = { Name = "routes" }
}

data "aws_vpc" "main" {
  tags = { Name = "routes" }
  depends_on = [aws_vpc.main]
}

resource "aws_subnet" "public" {
  vpc_id     = data.aws_vpc.main.id
  cidr_block = "10.60.1.0/24"
}

resource "aws_internet_gateway" "igw" {
  vpc_id = aws_vpc.main.id
}

resource "aws_eip" "nat" {
  domain = "vpc"
}

resource "aws_nat_gateway" "nat" {
  subnet_id     = aws_subnet.public.id
  allocation_id = aws_eip.nat.id
}

resource "aws_route_table" "rt" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route" "default" {
  route_table_id         = aws_route_table.rt.id
  destination_cidr_block = var.destination
  gateway_id             = var.via_nat ? null : aws_internet_gateway.igw.id
  nat_gateway_id         = var.via_nat ? aws_nat_gateway.nat.id : null
}

resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = aws_vpc.main.id
}

resource "aws_security_group_rule" "https" {
  type              = "ingress"
  security_group_id = aws_security_group.web.id
  from_port         = var.port
  to_port           = var.port
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  description       = var.description
}

output "vpc_cidr" {
  value = data.aws_vpc.main.cidr_block
}
"#;

async fn default_route(ec2: &aws_sdk_ec2::Client) -> Option<aws_sdk_ec2::types::Route> {
    let rts = ec2.describe_route_tables().send().await.unwrap();
    rts.route_tables()
        .iter()
        .flat_map(|t| t.routes())
        .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
        .cloned()
}

async fn web_ingress(ec2: &aws_sdk_ec2::Client) -> Vec<(i32, Option<String>)> {
    let g = ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values("web")
                .build(),
        )
        .send()
        .await
        .unwrap();
    g.security_groups()
        .first()
        .map(|g| {
            g.ip_permissions()
                .iter()
                .map(|p| {
                    (
                        p.from_port().unwrap_or(0),
                        p.ip_ranges()
                            .first()
                            .and_then(|r| r.description())
                            .map(String::from),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_and_rules_against_the_emulator() {
    let m = Moto::start();
    let ec2 = m.ec2().await;
    let f = Fixture::new(CONFIG);

    let r = m.run(&f, &["apply", "-auto-approve"], 0);
    assert!(
        r.stdout.contains("vpc_cidr = \"10.60.0.0/16\""),
        "{}",
        r.stdout
    );
    let route = default_route(&ec2).await.expect("route exists");
    assert!(route.gateway_id().unwrap().starts_with("igw-"));
    assert_eq!(web_ingress(&ec2).await, vec![(443, Some("https".into()))]);
    m.run(&f, &["plan", "-detailed-exitcode"], 0);

    // In place: the route's target (ReplaceRoute) and the rule's description.
    m.run(
        &f,
        &[
            "apply",
            "-auto-approve",
            "-var=via_nat=true",
            "-var=description=tls",
        ],
        0,
    );
    let route = default_route(&ec2).await.unwrap();
    assert!(
        route.nat_gateway_id().unwrap().starts_with("nat-"),
        "{route:?}"
    );
    assert_eq!(web_ingress(&ec2).await, vec![(443, Some("tls".into()))]);
    m.run(
        &f,
        &[
            "plan",
            "-detailed-exitcode",
            "-var=via_nat=true",
            "-var=description=tls",
        ],
        0,
    );

    // Drift: the rule revoked out of band shows in the plan and apply puts it back.
    let sg = ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values("web")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .group_id()
        .unwrap()
        .to_string();
    ec2.revoke_security_group_ingress()
        .group_id(&sg)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let r = m.run(
        &f,
        &[
            "plan",
            "-detailed-exitcode",
            "-var=via_nat=true",
            "-var=description=tls",
        ],
        2,
    );
    assert!(
        r.stdout.contains("aws_security_group_rule.https"),
        "{}",
        r.stdout
    );
    m.run(
        &f,
        &[
            "apply",
            "-auto-approve",
            "-var=via_nat=true",
            "-var=description=tls",
        ],
        0,
    );
    assert_eq!(web_ingress(&ec2).await, vec![(443, Some("tls".into()))]);

    // Replace: a rule's port.
    let vars = [
        "-var=via_nat=true",
        "-var=description=tls",
        "-var=port=8443",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        r.stdout
    );
    assert_eq!(web_ingress(&ec2).await, vec![(8443, Some("tls".into()))]);

    // Replace: a route's destination.
    let vars = [
        "-var=via_nat=true",
        "-var=description=tls",
        "-var=port=8443",
        "-var=destination=192.168.0.0/16",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        r.stdout
    );
    assert!(default_route(&ec2).await.is_none());
    let rts = ec2.describe_route_tables().send().await.unwrap();
    assert!(rts
        .route_tables()
        .iter()
        .flat_map(|t| t.routes())
        .any(|r| r.destination_cidr_block() == Some("192.168.0.0/16")
            && r.nat_gateway_id().is_some()));

    let mut args = vec!["destroy", "-auto-approve"];
    args.extend(vars);
    m.run(&f, &args, 0);
    assert!(default_route(&ec2).await.is_none());
    let vpcs = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:Name")
                .values("routes")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(vpcs.vpcs().is_empty());
}
