//! aws_security_group through the binary against moto, checked through the SDK: exactly the
//! configured rules (AWS's default egress removed), in-place rule changes, a rule added out of
//! band shows as drift and is removed by apply, replace and destroy.

mod common;
#[path = "common/moto.rs"]
mod moto;

use common::Fixture;
use moto::Moto;

const CONFIG: &str = r#"
provider "aws" {
  region = "us-east-1"
}

variable "ssh" {
  type    = bool
  default = false
}
variable "description" {
  default = "web servers"
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_security_group" "web" {
  name        = "web"
  description = var.description
  vpc_id      = aws_vpc.main.id

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
    description = "https"
  }

  dynamic "ingress" {
    for_each = var.ssh ? [22] : []
    content {
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["10.0.0.0/8"]
    }
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

output "sg_id" {
  value = aws_security_group.web.id
}
"#;

fn run(f: &Fixture, m: &Moto, args: &[&str], code: i32) -> common::Run {
    m.run(f, args, code)
}

async fn ingress_ports(ec2: &aws_sdk_ec2::Client, id: &str) -> Vec<i32> {
    let g = ec2
        .describe_security_groups()
        .group_ids(id)
        .send()
        .await
        .unwrap()
        .security_groups
        .unwrap()
        .remove(0);
    let mut p: Vec<i32> = g
        .ip_permissions()
        .iter()
        .filter_map(|p| p.from_port())
        .collect();
    p.sort();
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn security_group_rules_against_the_emulator() {
    let m = Moto::start();
    let ec2 = m.ec2().await;
    let f = Fixture::new(CONFIG);

    run(&f, &m, &["apply", "-auto-approve"], 0);
    let id = run(&f, &m, &["output", "-raw", "sg_id"], 0).stdout;
    let g = ec2
        .describe_security_groups()
        .group_ids(&id)
        .send()
        .await
        .unwrap()
        .security_groups
        .unwrap()
        .remove(0);
    assert_eq!(g.group_name(), Some("web"));
    assert_eq!(ingress_ports(&ec2, &id).await, vec![443]);
    assert_eq!(
        g.ip_permissions_egress().len(),
        1,
        "{:?}",
        g.ip_permissions_egress()
    );
    run(&f, &m, &["plan", "-detailed-exitcode"], 0);

    // In place: a dynamic rule appears.
    let r = run(&f, &m, &["apply", "-auto-approve", "-var=ssh=true"], 0);
    assert!(
        r.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    assert_eq!(ingress_ports(&ec2, &id).await, vec![22, 443]);
    run(&f, &m, &["plan", "-detailed-exitcode", "-var=ssh=true"], 0);

    // Drift: a rule added outside Terrane is shown and removed.
    ec2.authorize_security_group_ingress()
        .group_id(&id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(3389)
                .to_port(3389)
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
    let p = run(&f, &m, &["plan", "-detailed-exitcode", "-var=ssh=true"], 2);
    assert!(
        p.stdout.contains("has changed") && p.stdout.contains("3389"),
        "{}",
        p.stdout
    );
    run(&f, &m, &["apply", "-auto-approve", "-var=ssh=true"], 0);
    assert_eq!(ingress_ports(&ec2, &id).await, vec![22, 443]);

    // Replace: the description cannot change in place.
    let r = run(
        &f,
        &m,
        &[
            "apply",
            "-auto-approve",
            "-var=ssh=true",
            "-var=description=web tier",
        ],
        0,
    );
    assert!(
        r.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        r.stdout
    );
    let new_id = run(&f, &m, &["output", "-raw", "sg_id"], 0).stdout;
    assert_ne!(new_id, id);

    run(
        &f,
        &m,
        &["destroy", "-auto-approve", "-var=description=web tier"],
        0,
    );
    let left: Vec<_> = ec2
        .describe_security_groups()
        .send()
        .await
        .unwrap()
        .security_groups
        .unwrap_or_default()
        .into_iter()
        .filter(|g| g.group_name() != Some("default"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
