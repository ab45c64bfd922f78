//! aws_vpc through the `terrane` binary against a real moto server: create, no-change plan,
//! in-place update, replace, drift, import and destroy, each checked by reading the emulator
//! through the AWS SDK (not through Terrane's state).

mod common;
#[path = "common/moto.rs"]
mod moto;

use common::Fixture;
use moto::Moto;

const CONFIG: &str = r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = {
      environment = "test"
    }
  }
}

variable "cidr" {
  default = "10.0.0.0/16"
}
variable "name" {
  default = "main"
}
variable "hostnames" {
  type    = bool
  default = false
}

resource "aws_vpc" "main" {
  cidr_block           = var.cidr
  enable_dns_hostnames = var.hostnames
  tags = {
    Name = var.name
  }
}

output "vpc_id" {
  value = aws_vpc.main.id
}
"#;

fn run(f: &Fixture, m: &Moto, args: &[&str], code: i32) -> common::Run {
    m.run(f, args, code)
}

async fn vpc(ec2: &aws_sdk_ec2::Client, id: &str) -> Option<aws_sdk_ec2::types::Vpc> {
    match ec2.describe_vpcs().vpc_ids(id).send().await {
        Ok(o) => o.vpcs.unwrap_or_default().into_iter().next(),
        Err(_) => None,
    }
}

fn tag(v: &aws_sdk_ec2::types::Vpc, k: &str) -> Option<String> {
    v.tags()
        .iter()
        .find(|t| t.key() == Some(k))
        .and_then(|t| t.value().map(String::from))
}

async fn dns_hostnames(ec2: &aws_sdk_ec2::Client, id: &str) -> bool {
    ec2.describe_vpc_attribute()
        .vpc_id(id)
        .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .unwrap()
        .enable_dns_hostnames
        .and_then(|b| b.value)
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread")]
async fn vpc_lifecycle_against_the_emulator() {
    let m = Moto::start();
    let ec2 = m.ec2().await;
    let f = Fixture::new(CONFIG);

    // Create.
    let r = run(&f, &m, &["apply", "-auto-approve"], 0);
    assert!(r.stdout.contains("1 added"), "{}", r.stdout);
    let id = run(&f, &m, &["output", "-raw", "vpc_id"], 0).stdout;
    let v = vpc(&ec2, &id).await.expect("the VPC exists in AWS");
    assert_eq!(v.cidr_block(), Some("10.0.0.0/16"));
    assert_eq!(tag(&v, "Name").as_deref(), Some("main"));
    assert_eq!(
        tag(&v, "environment").as_deref(),
        Some("test"),
        "default_tags land on the VPC"
    );
    assert!(
        tag(&v, "terrane:token").is_some(),
        "the create token is on the VPC"
    );

    // No changes.
    run(&f, &m, &["plan", "-detailed-exitcode"], 0);

    // In-place update: tags and an attribute, same VPC.
    let r = run(
        &f,
        &m,
        &[
            "apply",
            "-auto-approve",
            "-var=name=renamed",
            "-var=hostnames=true",
        ],
        0,
    );
    assert!(
        r.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    let v = vpc(&ec2, &id).await.expect("same VPC");
    assert_eq!(tag(&v, "Name").as_deref(), Some("renamed"));
    assert!(dns_hostnames(&ec2, &id).await);
    run(
        &f,
        &m,
        &[
            "plan",
            "-detailed-exitcode",
            "-var=name=renamed",
            "-var=hostnames=true",
        ],
        0,
    );

    // Drift: a tag changed outside Terrane shows in the plan and apply puts it back.
    ec2.create_tags()
        .resources(&id)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("Name")
                .value("hacked")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let p = run(
        &f,
        &m,
        &[
            "plan",
            "-detailed-exitcode",
            "-var=name=renamed",
            "-var=hostnames=true",
        ],
        2,
    );
    assert!(p.stdout.contains("has changed"), "{}", p.stdout);
    assert!(p.stdout.contains("\"hacked\""), "{}", p.stdout);
    run(
        &f,
        &m,
        &[
            "apply",
            "-auto-approve",
            "-var=name=renamed",
            "-var=hostnames=true",
        ],
        0,
    );
    assert_eq!(
        tag(&vpc(&ec2, &id).await.unwrap(), "Name").as_deref(),
        Some("renamed")
    );

    // Replace: cidr_block forces a new VPC.
    let p = run(
        &f,
        &m,
        &[
            "plan",
            "-var=name=renamed",
            "-var=hostnames=true",
            "-var=cidr=10.1.0.0/16",
        ],
        0,
    );
    assert!(
        p.stdout.contains("cidr_block") && p.stdout.contains("# forces replacement"),
        "{}",
        p.stdout
    );
    run(
        &f,
        &m,
        &[
            "apply",
            "-auto-approve",
            "-var=name=renamed",
            "-var=hostnames=true",
            "-var=cidr=10.1.0.0/16",
        ],
        0,
    );
    let new_id = run(&f, &m, &["output", "-raw", "vpc_id"], 0).stdout;
    assert_ne!(new_id, id);
    assert!(vpc(&ec2, &id).await.is_none(), "the old VPC is gone");
    assert_eq!(
        vpc(&ec2, &new_id).await.unwrap().cidr_block(),
        Some("10.1.0.0/16")
    );

    // Destroy: nothing but the default VPC is left.
    run(
        &f,
        &m,
        &["destroy", "-auto-approve", "-var=cidr=10.1.0.0/16"],
        0,
    );
    let left: Vec<_> = ec2
        .describe_vpcs()
        .send()
        .await
        .unwrap()
        .vpcs
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v.is_default() != Some(true))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn existing_vpc_is_imported_and_plans_clean() {
    let m = Moto::start();
    let ec2 = m.ec2().await;
    let made = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Vpc)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key("Name")
                        .value("legacy")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = made.vpc.unwrap().vpc_id.unwrap();
    let f = Fixture::new(
        r#"
provider "aws" {
  region = "us-east-1"
}
resource "aws_vpc" "legacy" {
  cidr_block = "10.9.0.0/16"
  tags = {
    Name = "legacy"
  }
}
"#,
    );
    run(&f, &m, &["import", "aws_vpc.legacy", &id], 0);
    run(&f, &m, &["plan", "-detailed-exitcode"], 0);
    let r = run(&f, &m, &["import", "aws_vpc.legacy", "vpc-00000000"], 1);
    assert!(r.stderr.contains("already"), "{}", r.stderr);
}
