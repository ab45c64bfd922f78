//! The shipped modules, applied through the binary against moto and checked through the SDK.

mod common;
#[path = "common/moto.rs"]
mod moto;

use std::path::Path;

use common::Fixture;
use moto::Moto;

fn run(f: &Fixture, m: &Moto, args: &[&str], code: i32) -> common::Run {
    m.run(f, args, code)
}

/// Copies `modules/<name>` into the fixture, so the config can use `source = "./modules/<name>"`.
fn with_module(f: &Fixture, name: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("modules")
        .join(name);
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "tf") {
            f.write(
                &format!(
                    "modules/{name}/{}",
                    p.file_name().unwrap().to_string_lossy()
                ),
                &std::fs::read_to_string(&p).unwrap(),
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn network_module_builds_a_two_tier_vpc() {
    let m = Moto::start();
    let ec2 = m.ec2().await;
    let f = Fixture::new(
        r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = {
      environment = "automation-1a2b3c4d"
    }
  }
}

module "network" {
  source = "./modules/network"
  name   = "automation-1a2b3c4d"
  cidr   = "10.20.0.0/16"
}

output "vpc_id" {
  value = module.network.vpc_id
}
output "private_subnet_ids" {
  value = module.network.private_subnet_ids
}
"#,
    );
    with_module(&f, "network");
    run(&f, &m, &["validate"], 0);
    let r = run(&f, &m, &["apply", "-auto-approve"], 0);
    // VPC, gateway, 2 public + 2 private subnets, EIP, NAT, 2 route tables, 4 associations.
    assert!(r.stdout.contains("14 added"), "{}", r.stdout);
    let vpc_id = run(&f, &m, &["output", "-raw", "vpc_id"], 0).stdout;
    let by_vpc = || {
        aws_sdk_ec2::types::Filter::builder()
            .name("vpc-id")
            .values(&vpc_id)
            .build()
    };
    let subnets = ec2
        .describe_subnets()
        .filters(by_vpc())
        .send()
        .await
        .unwrap()
        .subnets
        .unwrap();
    assert_eq!(subnets.len(), 4);
    assert!(
        subnets
            .iter()
            .all(|s| s.tags().iter().any(|t| t.key() == Some("environment"))),
        "default_tags on every subnet"
    );
    let nats = ec2
        .describe_nat_gateways()
        .filter(by_vpc())
        .send()
        .await
        .unwrap()
        .nat_gateways
        .unwrap();
    assert_eq!(
        nats.iter()
            .filter(|n| n.state().map(|s| s.as_str()) == Some("available"))
            .count(),
        1
    );
    let nat_id = nats[0].nat_gateway_id().unwrap().to_string();
    // Private subnets route to the NAT gateway.
    let private: Vec<String> =
        serde_json::from_str(&run(&f, &m, &["output", "-json", "private_subnet_ids"], 0).stdout)
            .unwrap();
    let rts = ec2
        .describe_route_tables()
        .filters(by_vpc())
        .send()
        .await
        .unwrap()
        .route_tables
        .unwrap();
    let private_rt = rts
        .iter()
        .find(|rt| {
            rt.associations()
                .iter()
                .any(|a| a.subnet_id() == Some(private[0].as_str()))
        })
        .expect("private subnet has a route table");
    assert!(
        private_rt
            .routes()
            .iter()
            .any(|r| r.nat_gateway_id() == Some(nat_id.as_str())),
        "{:?}",
        private_rt.routes()
    );

    run(&f, &m, &["plan", "-detailed-exitcode"], 0);
    run(&f, &m, &["destroy", "-auto-approve"], 0);
    let left = ec2
        .describe_subnets()
        .filters(by_vpc())
        .send()
        .await
        .unwrap()
        .subnets
        .unwrap_or_default();
    assert!(left.is_empty());
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
    let addrs = ec2
        .describe_addresses()
        .send()
        .await
        .unwrap()
        .addresses
        .unwrap_or_default();
    assert!(addrs.is_empty(), "the EIP is released");
}

#[path = "common/faults.rs"]
mod faults;

#[tokio::test(flavor = "multi_thread")]
async fn apply_through_throttling_and_server_errors_completes_without_duplicates() {
    let m = Moto::start();
    let ec2 = m.ec2().await;
    // Every 4th call throttled, every 7th a 500: well over a fifth of all calls fail once.
    let proxy = faults::FaultProxy::start(m.port, 4, 7);
    let f = Fixture::new(&format!(
        r#"
provider "aws" {{
  region       = "us-east-1"
  endpoint_url = "{}"
}}

module "network" {{
  source = "./modules/network"
  name   = "faulty"
}}

output "vpc_id" {{
  value = module.network.vpc_id
}}
"#,
        proxy.url()
    ));
    with_module(&f, "network");
    let r = run(&f, &m, &["apply", "-auto-approve"], 0);
    assert!(r.stdout.contains("14 added"), "{}", r.stdout);
    let injected = proxy.injected.load(std::sync::atomic::Ordering::SeqCst);
    let total = proxy.requests.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        injected * 5 >= total,
        "faults injected: {injected} of {total}"
    );
    // Checked against the emulator directly: exactly one of everything.
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
    assert_eq!(vpcs.len(), 1);
    let vpc_id = vpcs[0].vpc_id().unwrap().to_string();
    let by_vpc = || {
        aws_sdk_ec2::types::Filter::builder()
            .name("vpc-id")
            .values(&vpc_id)
            .build()
    };
    assert_eq!(
        ec2.describe_subnets()
            .filters(by_vpc())
            .send()
            .await
            .unwrap()
            .subnets
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        ec2.describe_nat_gateways()
            .filter(by_vpc())
            .send()
            .await
            .unwrap()
            .nat_gateways
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        ec2.describe_addresses()
            .send()
            .await
            .unwrap()
            .addresses
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        ec2.describe_internet_gateways()
            .send()
            .await
            .unwrap()
            .internet_gateways
            .unwrap()
            .len(),
        1
    );
    run(&f, &m, &["plan", "-detailed-exitcode"], 0);
    run(&f, &m, &["destroy", "-auto-approve"], 0);
    println!("fault proxy: {injected} of {total} calls failed on purpose");
}

/// Lost answers: every third create is carried out by the emulator but its answer is replaced
/// by a 500. The provider must find what it made (token tag, or the API's client token) instead
/// of making a second one.
#[tokio::test(flavor = "multi_thread")]
async fn lost_create_answers_make_no_duplicates() {
    let m = Moto::start();
    let ec2 = m.ec2().await;
    let proxy = faults::FaultProxy::start_with(m.port, usize::MAX, usize::MAX, 3);
    let f = Fixture::new(&format!(
        r#"
provider "aws" {{
  region       = "us-east-1"
  endpoint_url = "{}"
}}

module "network" {{
  source = "./modules/network"
  name   = "lossy"
}}

resource "aws_security_group" "app" {{
  name   = "lossy-app"
  vpc_id = module.network.vpc_id
}}

resource "aws_iam_role" "app" {{
  name = "lossy-app"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "ecs-tasks.amazonaws.com" }} }}]
  }})
}}
"#,
        proxy.url()
    ));
    with_module(&f, "network");
    run(&f, &m, &["apply", "-auto-approve"], 0);
    let lost = proxy.lost.load(std::sync::atomic::Ordering::SeqCst);
    assert!(lost >= 4, "only {lost} answers were lost");
    let not_default = aws_sdk_ec2::types::Filter::builder()
        .name("is-default")
        .values("false")
        .build();
    let vpcs = ec2
        .describe_vpcs()
        .filters(not_default)
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1, "{:?}", vpcs.vpcs());
    let subnets = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(vpcs.vpcs()[0].vpc_id().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(subnets.subnets().len(), 4);
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    assert_eq!(nats.nat_gateways().len(), 1);
    assert_eq!(
        ec2.describe_addresses()
            .send()
            .await
            .unwrap()
            .addresses()
            .len(),
        1
    );
    let igws = ec2
        .describe_internet_gateways()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("attachment.vpc-id")
                .values(vpcs.vpcs()[0].vpc_id().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(igws.internet_gateways().len(), 1);
    let all_igws = ec2.describe_internet_gateways().send().await.unwrap();
    let sgs = ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values("lossy-app")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(sgs.security_groups().len(), 1);
    // No orphan gateway from a lost answer anywhere (the emulator's default VPC has none).
    assert_eq!(
        all_igws.internet_gateways().len(),
        1,
        "{:?}",
        all_igws.internet_gateways()
    );
    run(&f, &m, &["plan", "-detailed-exitcode"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn eks_cluster_module_builds_a_cluster_with_a_node_group() {
    let m = Moto::start();
    let eks = aws_sdk_eks::Client::new(&m.sdk_config().await);
    let iam = m.iam().await;
    let f = Fixture::new(
        r#"
provider "aws" {
  region = "us-east-1"
}

module "network" {
  source      = "./modules/network"
  name        = "kre-dev"
  nat_gateway = false
}

module "eks" {
  source       = "./modules/eks-cluster"
  name         = "kre-dev"
  subnet_ids   = module.network.private_subnet_ids
  desired_size = 2
}

output "endpoint" {
  value = module.eks.endpoint
}
"#,
    );
    with_module(&f, "network");
    with_module(&f, "eks-cluster");
    run(&f, &m, &["apply", "-auto-approve"], 0);
    let c = eks
        .describe_cluster()
        .name("kre-dev")
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(c.status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(c.resources_vpc_config().unwrap().subnet_ids().len(), 2);
    let ng = eks
        .describe_nodegroup()
        .cluster_name("kre-dev")
        .nodegroup_name("default")
        .send()
        .await
        .unwrap()
        .nodegroup
        .unwrap();
    assert_eq!(ng.scaling_config().unwrap().desired_size(), Some(2));
    let attached = iam
        .list_attached_role_policies()
        .role_name("kre-dev-eks-node")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 3);
    run(&f, &m, &["plan", "-detailed-exitcode"], 0);
    run(&f, &m, &["destroy", "-auto-approve"], 0);
    assert!(eks
        .list_clusters()
        .send()
        .await
        .unwrap()
        .clusters()
        .is_empty());
    assert!(iam.list_roles().send().await.unwrap().roles().is_empty());
}

#[test]
fn ci_oidc_role_module_refuses_a_role_without_subjects() {
    let f = Fixture::new(
        r#"
provider "aws" {
  region = "us-east-1"
}

module "ci" {
  source   = "./modules/ci-oidc-role"
  subjects = []
}
"#,
    );
    with_module(&f, "ci-oidc-role");
    let r = f.run(&["validate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("At least one subject"), "{}", r.stderr);
    assert!(r.stderr.contains("main.tf:8"), "{}", r.stderr);
}
