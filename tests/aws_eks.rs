//! aws_eks_cluster, aws_eks_node_group and aws_eks_fargate_profile through the binary against
//! moto, checked through the EKS API: create (waiting for ACTIVE), no-change plan, in-place
//! updates (node group scaling and labels, cluster tags), replace (node group instance types),
//! destroy (waiting for deletion, node groups and profiles before the cluster).

mod common;
#[path = "common/moto.rs"]
mod moto;

use common::Fixture;
use moto::Moto;

const CONFIG: &str = r#"
provider "aws" {
  region = "us-east-1"
}

variable "desired" {
  type    = number
  default = 2
}
variable "instance_type" {
  default = "t3.medium"
}
variable "team" {
  default = "platform"
}
variable "cluster" {
  default = "main"
}

resource "aws_vpc" "main" {
  cidr_block = "10.50.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.50.1.0/24"
}

resource "aws_subnet" "b" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.50.2.0/24"
}

resource "aws_iam_role" "cluster" {
  name = "eks-cluster"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "eks.amazonaws.com" } }]
  })
}

resource "aws_iam_role" "node" {
  name = "eks-node"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_eks_cluster" "main" {
  name     = var.cluster
  role_arn = aws_iam_role.cluster.arn
  version  = "1.30"
  tags     = { team = var.team }

  vpc_config {
    subnet_ids = [aws_subnet.a.id, aws_subnet.b.id]
  }
}

resource "aws_eks_node_group" "default" {
  cluster_name    = aws_eks_cluster.main.name
  node_group_name = "default"
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = [aws_subnet.a.id, aws_subnet.b.id]
  instance_types  = [var.instance_type]
  labels          = { tier = "general" }

  scaling_config {
    desired_size = var.desired
    min_size     = 1
    max_size     = 4
  }
}

resource "aws_eks_fargate_profile" "system" {
  cluster_name           = aws_eks_cluster.main.name
  fargate_profile_name   = "system"
  pod_execution_role_arn = aws_iam_role.node.arn
  subnet_ids             = [aws_subnet.a.id]
  tags                   = { team = var.team }

  selector {
    namespace = "kube-system"
  }
}

output "endpoint" {
  value = aws_eks_cluster.main.endpoint
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn eks_lifecycle_against_the_emulator() {
    let m = Moto::start();
    let eks = aws_sdk_eks::Client::new(&m.sdk_config().await);
    let f = Fixture::new(CONFIG);
    let ng = || {
        let eks = eks.clone();
        async move {
            eks.describe_nodegroup()
                .cluster_name("main")
                .nodegroup_name("default")
                .send()
                .await
                .ok()
                .and_then(|o| o.nodegroup)
        }
    };

    m.run(&f, &["apply", "-auto-approve"], 0);
    let c = eks
        .describe_cluster()
        .name("main")
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(c.status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(c.version(), Some("1.30"));
    let n = ng().await.expect("node group exists");
    assert_eq!(n.scaling_config().unwrap().desired_size(), Some(2));
    assert_eq!(n.instance_types(), ["t3.medium"]);
    let fp = eks
        .describe_fargate_profile()
        .cluster_name("main")
        .fargate_profile_name("system")
        .send()
        .await
        .unwrap();
    assert_eq!(
        fp.fargate_profile.unwrap().selectors()[0].namespace(),
        Some("kube-system")
    );
    m.run(&f, &["plan", "-detailed-exitcode"], 0);

    // In place: scaling, cluster and profile tags.
    let r = m.run(
        &f,
        &["apply", "-auto-approve", "-var=desired=3", "-var=team=apps"],
        0,
    );
    assert!(
        r.stdout.contains("0 added, 3 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    let fp = eks
        .describe_fargate_profile()
        .cluster_name("main")
        .fargate_profile_name("system")
        .send()
        .await
        .unwrap()
        .fargate_profile
        .unwrap();
    assert_eq!(
        fp.tags().and_then(|t| t.get("team")).map(String::as_str),
        Some("apps")
    );
    assert_eq!(
        ng().await.unwrap().scaling_config().unwrap().desired_size(),
        Some(3)
    );
    let c = eks
        .describe_cluster()
        .name("main")
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(
        c.tags().and_then(|t| t.get("team")).map(String::as_str),
        Some("apps")
    );
    m.run(
        &f,
        &[
            "plan",
            "-detailed-exitcode",
            "-var=desired=3",
            "-var=team=apps",
        ],
        0,
    );

    // Replace: instance types cannot change in place.
    let vars = [
        "-var=desired=3",
        "-var=team=apps",
        "-var=instance_type=m5.large",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        r.stdout
    );
    assert_eq!(ng().await.unwrap().instance_types(), ["m5.large"]);

    // Replace: a new cluster name is a new cluster, and its node group and profile follow.
    let vars = [
        "-var=desired=3",
        "-var=team=apps",
        "-var=instance_type=m5.large",
        "-var=cluster=main2",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("3 added, 0 changed, 3 destroyed"),
        "{}",
        r.stdout
    );
    assert_eq!(
        eks.list_clusters().send().await.unwrap().clusters(),
        ["main2"]
    );
    let ngs = eks
        .list_nodegroups()
        .cluster_name("main2")
        .send()
        .await
        .unwrap();
    assert_eq!(ngs.nodegroups(), ["default"]);
    let mut args = vec!["plan", "-detailed-exitcode"];
    args.extend(vars);
    m.run(&f, &args, 0);

    let mut args = vec!["destroy", "-auto-approve"];
    args.extend(vars);
    m.run(&f, &args, 0);
    assert!(eks
        .list_clusters()
        .send()
        .await
        .unwrap()
        .clusters()
        .is_empty());
}
