//! aws_subnet and aws_internet_gateway (with aws_vpc and the aws_availability_zones and
//! aws_caller_identity data sources) through the binary against moto, checked through the SDK.

mod common;
#[path = "common/moto.rs"]
mod moto;

use common::Fixture;
use moto::Moto;

const CONFIG: &str = r#"
provider "aws" {
  region = "us-east-1"
}

variable "public" {
  type    = bool
  default = false
}
variable "second_cidr" {
  default = "10.0.2.0/24"
}

data "aws_availability_zones" "available" {
  state = "available"
}
data "aws_caller_identity" "current" {}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "public" {
  count                   = 2
  vpc_id                  = aws_vpc.main.id
  cidr_block              = count.index == 0 ? "10.0.1.0/24" : var.second_cidr
  availability_zone       = data.aws_availability_zones.available.names[count.index]
  map_public_ip_on_launch = var.public
  tags = {
    Name = "public-${count.index}"
  }
}

resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }
}

resource "aws_route_table_association" "public" {
  count          = 2
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

output "route_table_id" {
  value = aws_route_table.public.id
}

output "subnet_ids" {
  value = aws_subnet.public[*].id
}
output "account" {
  value = data.aws_caller_identity.current.account_id
}
"#;

fn run(f: &Fixture, m: &Moto, args: &[&str], code: i32) -> common::Run {
    m.run(f, args, code)
}

#[tokio::test(flavor = "multi_thread")]
async fn subnets_and_gateway_against_the_emulator() {
    let m = Moto::start();
    let ec2 = m.ec2().await;
    let f = Fixture::new(CONFIG);

    let r = run(&f, &m, &["apply", "-auto-approve"], 0);
    assert!(r.stdout.contains("7 added"), "{}", r.stdout);
    assert_eq!(
        run(&f, &m, &["output", "-raw", "account"], 0).stdout,
        "123456789012"
    );
    let ids: Vec<String> =
        serde_json::from_str(&run(&f, &m, &["output", "-json", "subnet_ids"], 0).stdout).unwrap();
    let subnets = ec2
        .describe_subnets()
        .set_subnet_ids(Some(ids.clone()))
        .send()
        .await
        .unwrap()
        .subnets
        .unwrap();
    assert_eq!(subnets.len(), 2);
    let azs: std::collections::BTreeSet<_> = subnets
        .iter()
        .map(|s| s.availability_zone().unwrap().to_string())
        .collect();
    assert_eq!(azs.len(), 2, "one subnet per AZ");
    let vpc_id = subnets[0].vpc_id().unwrap().to_string();
    let igws = ec2
        .describe_internet_gateways()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("attachment.vpc-id")
                .values(&vpc_id)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .internet_gateways
        .unwrap();
    assert_eq!(igws.len(), 1, "the gateway is attached to the VPC");
    let igw_id = igws[0].internet_gateway_id().unwrap().to_string();
    let rt_id = run(&f, &m, &["output", "-raw", "route_table_id"], 0).stdout;
    let rt = ec2
        .describe_route_tables()
        .route_table_ids(&rt_id)
        .send()
        .await
        .unwrap()
        .route_tables
        .unwrap()
        .remove(0);
    assert!(
        rt.routes()
            .iter()
            .any(|r| r.destination_cidr_block() == Some("0.0.0.0/0")
                && r.gateway_id() == Some(igw_id.as_str())),
        "default route to the gateway"
    );
    let mut assoc: Vec<String> = rt
        .associations()
        .iter()
        .filter_map(|a| a.subnet_id().map(String::from))
        .collect();
    assoc.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(assoc, want, "both subnets use the public route table");

    run(&f, &m, &["plan", "-detailed-exitcode"], 0);

    // In place: map_public_ip_on_launch on both subnets.
    let r = run(&f, &m, &["apply", "-auto-approve", "-var=public=true"], 0);
    assert!(
        r.stdout.contains("0 added, 2 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    let subnets = ec2
        .describe_subnets()
        .set_subnet_ids(Some(ids.clone()))
        .send()
        .await
        .unwrap()
        .subnets
        .unwrap();
    assert!(subnets
        .iter()
        .all(|s| s.map_public_ip_on_launch() == Some(true)));

    // Replace one subnet: cidr_block forces it.
    let r = run(
        &f,
        &m,
        &[
            "apply",
            "-auto-approve",
            "-var=public=true",
            "-var=second_cidr=10.0.3.0/24",
        ],
        0,
    );
    assert!(
        // The subnet and its route table association (subnet_id forces it) are replaced.
        r.stdout.contains("2 added, 0 changed, 2 destroyed"),
        "{}",
        r.stdout
    );
    let gone = ec2.describe_subnets().subnet_ids(&ids[1]).send().await;
    assert!(
        gone.is_err() || gone.unwrap().subnets.unwrap_or_default().is_empty(),
        "the replaced subnet is gone"
    );
    run(
        &f,
        &m,
        &[
            "plan",
            "-detailed-exitcode",
            "-var=public=true",
            "-var=second_cidr=10.0.3.0/24",
        ],
        0,
    );

    // Destroy: no subnet, gateway or non-default VPC left.
    run(
        &f,
        &m,
        &["destroy", "-auto-approve", "-var=second_cidr=10.0.3.0/24"],
        0,
    );
    let left = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc_id)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .subnets
        .unwrap_or_default();
    assert!(left.is_empty());
    let igws = ec2
        .describe_internet_gateways()
        .send()
        .await
        .unwrap()
        .internet_gateways
        .unwrap_or_default();
    assert!(igws.is_empty(), "{igws:?}");
    let vpcs: Vec<_> = ec2
        .describe_vpcs()
        .send()
        .await
        .unwrap()
        .vpcs
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v.is_default() != Some(true))
        .collect();
    assert!(vpcs.is_empty());
}
