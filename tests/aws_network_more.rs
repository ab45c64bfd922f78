//! aws_internet_gateway, aws_eip, aws_nat_gateway, aws_route_table and
//! aws_route_table_association through every step (the subnet/VPC steps are in aws_network.rs
//! and aws_vpc.rs): create, no-change plan, in-place updates (tags, an association moved to
//! another table), replace (a NAT gateway moved to another subnet, an internet gateway replaced on
//! request with -replace, and the route that names it updated), destroy; checked through EC2.

mod common;
#[path = "common/moto.rs"]
mod moto;

use aws_sdk_ec2::types::Filter;
use common::Fixture;
use moto::Moto;

const CONFIG: &str = r#"
provider "aws" {
  region = "us-east-1"
}

variable "tag" {
  default = "v1"
}
variable "nat_subnet" {
  default = "a"
}
variable "table" {
  default = "one"
}

resource "aws_vpc" "main" {
  cidr_block = "10.70.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.70.1.0/24"
}

resource "aws_subnet" "b" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.70.2.0/24"
}

resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id
  tags   = { release = var.tag }
}

resource "aws_eip" "nat" {
  domain = "vpc"
  tags   = { release = var.tag }
}

resource "aws_nat_gateway" "nat" {
  subnet_id     = var.nat_subnet == "a" ? aws_subnet.a.id : aws_subnet.b.id
  allocation_id = aws_eip.nat.id
  tags          = { release = var.tag }
}

resource "aws_route_table" "one" {
  vpc_id = aws_vpc.main.id
  tags   = { release = var.tag }
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }
}

resource "aws_route_table" "two" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route_table_association" "a" {
  subnet_id      = aws_subnet.a.id
  route_table_id = var.table == "one" ? aws_route_table.one.id : aws_route_table.two.id
}
"#;

fn tag_of(tags: &[aws_sdk_ec2::types::Tag]) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == Some("release"))
        .and_then(|t| t.value().map(String::from))
}

async fn live_nats(ec2: &aws_sdk_ec2::Client) -> Vec<aws_sdk_ec2::types::NatGateway> {
    ec2.describe_nat_gateways()
        .send()
        .await
        .unwrap()
        .nat_gateways()
        .iter()
        .filter(|n| n.state().map(|s| s.as_str()) != Some("deleted"))
        .cloned()
        .collect()
}

async fn subnet_id(ec2: &aws_sdk_ec2::Client, cidr: &str) -> String {
    ec2.describe_subnets()
        .filters(Filter::builder().name("cidr-block").values(cidr).build())
        .send()
        .await
        .unwrap()
        .subnets()[0]
        .subnet_id()
        .unwrap()
        .to_string()
}

async fn igws(ec2: &aws_sdk_ec2::Client) -> Vec<aws_sdk_ec2::types::InternetGateway> {
    ec2.describe_internet_gateways()
        .send()
        .await
        .unwrap()
        .internet_gateways()
        .to_vec()
}

async fn table_of(
    ec2: &aws_sdk_ec2::Client,
    subnet: &str,
) -> Option<aws_sdk_ec2::types::RouteTable> {
    ec2.describe_route_tables()
        .filters(
            Filter::builder()
                .name("association.subnet-id")
                .values(subnet)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .route_tables()
        .first()
        .cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn gateways_tables_and_associations_against_the_emulator() {
    let m = Moto::start();
    let ec2 = m.ec2().await;
    let f = Fixture::new(CONFIG);

    m.run(&f, &["apply", "-auto-approve"], 0);
    let a = subnet_id(&ec2, "10.70.1.0/24").await;
    let b = subnet_id(&ec2, "10.70.2.0/24").await;
    let nats = live_nats(&ec2).await;
    assert_eq!(nats.len(), 1);
    assert_eq!(nats[0].subnet_id(), Some(a.as_str()));
    let gw = igws(&ec2).await;
    assert_eq!(gw.len(), 1);
    let gw1 = gw[0].internet_gateway_id().unwrap().to_string();
    let one = table_of(&ec2, &a).await.expect("subnet a is associated");
    assert!(one
        .routes()
        .iter()
        .any(|r| r.gateway_id() == Some(gw1.as_str())));
    m.run(&f, &["plan", "-detailed-exitcode"], 0);

    // In place: tags on the gateway, address, NAT gateway and table; the association moves to
    // the other table (ReplaceRouteTableAssociation).
    let r = m.run(
        &f,
        &["apply", "-auto-approve", "-var=tag=v2", "-var=table=two"],
        0,
    );
    assert!(
        r.stdout.contains("0 added, 5 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    assert_eq!(tag_of(igws(&ec2).await[0].tags()).as_deref(), Some("v2"));
    assert_eq!(
        tag_of(live_nats(&ec2).await[0].tags()).as_deref(),
        Some("v2")
    );
    let addrs = ec2.describe_addresses().send().await.unwrap();
    assert_eq!(tag_of(addrs.addresses()[0].tags()).as_deref(), Some("v2"));
    let two = table_of(&ec2, &a).await.unwrap();
    assert_ne!(two.route_table_id(), one.route_table_id());
    m.run(
        &f,
        &[
            "plan",
            "-detailed-exitcode",
            "-var=tag=v2",
            "-var=table=two",
        ],
        0,
    );

    // Replace: the NAT gateway moves to subnet b (subnet_id forces it); the internet gateway,
    // the address and table one are replaced on request (-replace).
    let vars = ["-var=tag=v2", "-var=table=two", "-var=nat_subnet=b"];
    let mut args = vec![
        "apply",
        "-auto-approve",
        "-replace=aws_internet_gateway.gw",
        "-replace=aws_eip.nat",
        "-replace=aws_route_table.one",
    ];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    // Replaced: gateway, address, NAT gateway and table one (whose route names the new
    // gateway). (Replacing a table that a subnet is associated with fails on AWS as in
    // Terraform, DependencyViolation, unless create_before_destroy: not done here.)
    assert!(
        r.stdout.contains("4 added, 0 changed, 4 destroyed"),
        "{}",
        r.stdout
    );
    let nats = live_nats(&ec2).await;
    assert_eq!(nats.len(), 1);
    assert_eq!(nats[0].subnet_id(), Some(b.as_str()));
    let gw = igws(&ec2).await;
    assert_eq!(gw.len(), 1);
    let gw2 = gw[0].internet_gateway_id().unwrap().to_string();
    assert_ne!(gw1, gw2);
    // A new table one, routing to the new gateway; the old table is gone.
    let tables = ec2.describe_route_tables().send().await.unwrap();
    let new_one = tables
        .route_tables()
        .iter()
        .find(|t| {
            t.routes()
                .iter()
                .any(|r| r.gateway_id() == Some(gw2.as_str()))
        })
        .expect("a table routes to the new gateway");
    assert_ne!(new_one.route_table_id(), one.route_table_id());
    assert!(!tables
        .route_tables()
        .iter()
        .any(|t| t.route_table_id() == one.route_table_id()));
    let mut args = vec!["plan", "-detailed-exitcode"];
    args.extend(vars);
    m.run(&f, &args, 0);

    let mut args = vec!["destroy", "-auto-approve"];
    args.extend(vars);
    m.run(&f, &args, 0);
    assert!(live_nats(&ec2).await.is_empty());
    assert!(igws(&ec2).await.is_empty());
    assert!(ec2
        .describe_addresses()
        .send()
        .await
        .unwrap()
        .addresses()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aws_error_names_the_address_the_operation_and_the_message() {
    let m = Moto::start();
    let f = Fixture::new(
        r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.80.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.80.1.0/24"
}

resource "aws_subnet" "b" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.80.1.0/24"
  depends_on = [aws_subnet.a]
}
"#,
    );
    let r = m.run(&f, &["apply", "-auto-approve"], 1);
    assert!(r.stderr.contains("aws_subnet.b"), "{}", r.stderr);
    assert!(
        r.stderr.contains("CreateSubnet: InvalidSubnet.Conflict: "),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("10.80.1.0/24"), "{}", r.stderr);
    // What finished is in state; the failed subnet is not.
    let r = m.run(&f, &["state", "list"], 0);
    assert!(r.stdout.contains("aws_subnet.a"), "{}", r.stdout);
    assert!(!r.stdout.contains("aws_subnet.b"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_blocked_by_a_dependency_gives_up_at_its_timeout() {
    let m = Moto::start();
    let f = Fixture::new(
        r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.90.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.90.1.0/24"
}

resource "aws_route_table" "rt" {
  vpc_id = aws_vpc.main.id
  timeouts {
    delete = "3s"
  }
}

resource "aws_route_table_association" "a" {
  subnet_id      = aws_subnet.a.id
  route_table_id = aws_route_table.rt.id
}
"#,
    );
    m.run(&f, &["apply", "-auto-approve"], 0);
    // Replacing a table a subnet is associated with: AWS refuses the delete
    // (DependencyViolation) for as long as the association exists; the retries stop at the
    // table's delete timeout instead of the default.
    let start = std::time::Instant::now();
    let r = m.run(
        &f,
        &["apply", "-auto-approve", "-replace=aws_route_table.rt"],
        1,
    );
    assert!(
        start.elapsed() < std::time::Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
    assert!(
        r.stderr.contains("DeleteRouteTable: DependencyViolation"),
        "{}",
        r.stderr
    );
    // Nothing was lost: the table is still in state and destroy cleans everything up.
    m.run(&f, &["destroy", "-auto-approve"], 0);
    let ec2 = m.ec2().await;
    let vpcs = ec2
        .describe_vpcs()
        .filters(
            Filter::builder()
                .name("cidr")
                .values("10.90.0.0/16")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(vpcs.vpcs().is_empty());
}
