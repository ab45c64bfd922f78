//! aws_elasticache_subnet_group, aws_elasticache_replication_group, aws_ecr_repository and
//! aws_ecr_lifecycle_policy through the binary against moto (with tests/moto/launch.py's
//! ElastiCache additions), checked through the ElastiCache and ECR APIs.

mod common;
#[path = "common/moto.rs"]
mod moto;

use common::Fixture;
use moto::Moto;

const REDIS: &str = r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { environment = "redis-test" }
  }
}

variable "description" {
  default = "sessions"
}
variable "node_type" {
  default = "cache.t4g.micro"
}
variable "port" {
  default = 6379
}
variable "subnet_group" {
  default = "redis"
}
variable "subnet_group_description" {
  default = "redis subnets"
}
variable "auth_token" {
  default   = "a-very-long-secret-token-123"
  sensitive = true
}

resource "aws_vpc" "main" {
  cidr_block = "10.40.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.40.1.0/24"
}

resource "aws_elasticache_subnet_group" "redis" {
  name        = var.subnet_group
  description = var.subnet_group_description
  subnet_ids  = [aws_subnet.a.id]
}

resource "aws_elasticache_replication_group" "sessions" {
  replication_group_id       = "sessions"
  description                = var.description
  node_type                  = var.node_type
  port                       = var.port
  num_cache_clusters         = 1
  subnet_group_name          = aws_elasticache_subnet_group.redis.name
  transit_encryption_enabled = true
  auth_token                 = var.auth_token
  apply_immediately          = true

  timeouts {
    delete = "2m"
  }
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn redis_lifecycle_against_the_emulator() {
    let m = Moto::start();
    let ec = aws_sdk_elasticache::Client::new(&m.sdk_config().await);
    let f = Fixture::new(REDIS);
    let group = |id: &'static str| {
        let ec = ec.clone();
        async move {
            ec.describe_replication_groups()
                .replication_group_id(id)
                .send()
                .await
                .ok()
                .and_then(|o| o.replication_groups.unwrap_or_default().into_iter().next())
        }
    };

    let r = m.run(&f, &["apply", "-auto-approve"], 0);
    assert!(
        !r.all().contains("a-very-long-secret"),
        "the auth token leaked:\n{}",
        r.all()
    );
    let g = group("sessions").await.expect("replication group exists");
    assert_eq!(g.description(), Some("sessions"));
    assert_eq!(g.cache_node_type(), Some("cache.t4g.micro"));
    assert_eq!(g.transit_encryption_enabled(), Some(true));
    let sg = ec
        .describe_cache_subnet_groups()
        .cache_subnet_group_name("redis")
        .send()
        .await
        .unwrap();
    assert_eq!(sg.cache_subnet_groups()[0].subnets().len(), 1);
    let plan = m.run(&f, &["plan", "-detailed-exitcode"], 0);
    assert!(!plan.all().contains("a-very-long-secret"));

    // In place: description and node type (ModifyReplicationGroup, then wait until available).
    m.run(
        &f,
        &[
            "apply",
            "-auto-approve",
            "-var=description=user sessions",
            "-var=node_type=cache.t4g.small",
        ],
        0,
    );
    let g = group("sessions").await.unwrap();
    assert_eq!(g.description(), Some("user sessions"));
    assert_eq!(g.cache_node_type(), Some("cache.t4g.small"));
    m.run(
        &f,
        &[
            "plan",
            "-detailed-exitcode",
            "-var=description=user sessions",
            "-var=node_type=cache.t4g.small",
        ],
        0,
    );

    // Replace: the port cannot change in place.
    let vars = [
        "-var=description=user sessions",
        "-var=node_type=cache.t4g.small",
        "-var=port=6380",
    ];
    let mut args = vec!["plan"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("port") && r.stdout.contains("# forces replacement"),
        "{}",
        r.stdout
    );
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    m.run(&f, &args, 0);
    let g = group("sessions").await.unwrap();
    assert_eq!(
        g.node_groups()[0].primary_endpoint().and_then(|e| e.port()),
        Some(6380)
    );

    // In place: the subnet group's description (ModifyCacheSubnetGroup).
    let vars = [
        "-var=description=user sessions",
        "-var=node_type=cache.t4g.small",
        "-var=port=6380",
        "-var=subnet_group_description=cache subnets",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    let sg = ec
        .describe_cache_subnet_groups()
        .cache_subnet_group_name("redis")
        .send()
        .await
        .unwrap();
    assert_eq!(
        sg.cache_subnet_groups()[0].cache_subnet_group_description(),
        Some("cache subnets")
    );

    // Replace: a new subnet group name is a new subnet group, and the replication group
    // (whose subnet group cannot change in place) follows it.
    let vars = [
        "-var=description=user sessions",
        "-var=node_type=cache.t4g.small",
        "-var=port=6380",
        "-var=subnet_group_description=cache subnets",
        "-var=subnet_group=redis2",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("2 added, 0 changed, 2 destroyed"),
        "{}",
        r.stdout
    );
    let groups = ec.describe_cache_subnet_groups().send().await.unwrap();
    let names: Vec<&str> = groups
        .cache_subnet_groups()
        .iter()
        .filter_map(|g| g.cache_subnet_group_name())
        .collect();
    assert_eq!(names, vec!["redis2"]);
    let mut args = vec!["plan", "-detailed-exitcode"];
    args.extend(vars);
    m.run(&f, &args, 0);

    // Destroy waits for the group to be gone, then deletes the subnet group.
    let mut args = vec!["destroy", "-auto-approve"];
    args.extend(vars);
    m.run(&f, &args, 0);
    assert!(group("sessions").await.is_none());
    assert!(ec
        .describe_cache_subnet_groups()
        .send()
        .await
        .unwrap()
        .cache_subnet_groups()
        .is_empty());
}

const ECR: &str = r#"
provider "aws" {
  region = "us-east-1"
}

variable "name" {
  default = "app"
}
variable "mutability" {
  default = "MUTABLE"
}
variable "keep" {
  type    = number
  default = 10
}

resource "aws_ecr_repository" "app" {
  name                 = var.name
  image_tag_mutability = var.mutability
  force_delete         = true
  image_scanning_configuration {
    scan_on_push = var.mutability == "IMMUTABLE"
  }
}

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the last images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = var.keep
      }
      action = { type = "expire" }
    }]
  })
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn ecr_lifecycle_against_the_emulator() {
    let m = Moto::start();
    let ecr = aws_sdk_ecr::Client::new(&m.sdk_config().await);
    let f = Fixture::new(ECR);
    let repo = |name: &'static str| {
        let ecr = ecr.clone();
        async move {
            ecr.describe_repositories()
                .repository_names(name)
                .send()
                .await
                .ok()
                .and_then(|o| o.repositories.unwrap_or_default().into_iter().next())
        }
    };
    let keep = |name: &'static str| {
        let ecr = ecr.clone();
        async move {
            let text = ecr
                .get_lifecycle_policy()
                .repository_name(name)
                .send()
                .await
                .unwrap()
                .lifecycle_policy_text
                .unwrap();
            let j: serde_json::Value = serde_json::from_str(&text).unwrap();
            j["rules"][0]["selection"]["countNumber"].as_i64().unwrap()
        }
    };

    m.run(&f, &["apply", "-auto-approve"], 0);
    let r = repo("app").await.expect("repository exists");
    assert_eq!(
        r.image_tag_mutability().map(|m| m.as_str()),
        Some("MUTABLE")
    );
    assert_eq!(keep("app").await, 10);
    m.run(&f, &["plan", "-detailed-exitcode"], 0);

    // In place: tag mutability, scanning and the lifecycle policy.
    m.run(
        &f,
        &[
            "apply",
            "-auto-approve",
            "-var=mutability=IMMUTABLE",
            "-var=keep=3",
        ],
        0,
    );
    let r = repo("app").await.unwrap();
    assert_eq!(
        r.image_tag_mutability().map(|m| m.as_str()),
        Some("IMMUTABLE")
    );
    assert!(r.image_scanning_configuration().unwrap().scan_on_push());
    assert_eq!(keep("app").await, 3);
    m.run(
        &f,
        &[
            "plan",
            "-detailed-exitcode",
            "-var=mutability=IMMUTABLE",
            "-var=keep=3",
        ],
        0,
    );

    // Replace: a new name is a new repository; the policy follows it.
    m.run(
        &f,
        &[
            "apply",
            "-auto-approve",
            "-var=mutability=IMMUTABLE",
            "-var=keep=3",
            "-var=name=app2",
        ],
        0,
    );
    assert!(repo("app").await.is_none());
    assert!(repo("app2").await.is_some());
    assert_eq!(keep("app2").await, 3);

    m.run(
        &f,
        &[
            "destroy",
            "-auto-approve",
            "-var=mutability=IMMUTABLE",
            "-var=keep=3",
            "-var=name=app2",
        ],
        0,
    );
    assert!(ecr
        .describe_repositories()
        .send()
        .await
        .unwrap()
        .repositories()
        .is_empty());
}
