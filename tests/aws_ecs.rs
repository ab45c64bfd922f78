//! aws_cloudwatch_log_group, aws_ecs_cluster, aws_ecs_task_definition and aws_ecs_service
//! through the binary against moto, checked through the ECS and CloudWatch Logs APIs: create,
//! no-change plan, in-place updates (retention, cluster setting, service), replace (a new image
//! is a new task-definition revision, and the service moves to it in place), destroy.

mod common;
#[path = "common/moto.rs"]
mod moto;

use common::Fixture;
use moto::Moto;

const CONFIG: &str = r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { environment = "ecs-test" }
  }
}

variable "image" {
  default = "registry.local/app:1"
}
variable "retention" {
  default = 7
}
variable "insights" {
  default = "disabled"
}
variable "suffix" {
  default = ""
}
variable "release" {
  default = "r1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.20.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.20.1.0/24"
}

resource "aws_security_group" "svc" {
  name   = "svc"
  vpc_id = aws_vpc.main.id
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/ecs/app${var.suffix}"
  retention_in_days = var.retention
}

resource "aws_ecs_cluster" "main" {
  name = "main${var.suffix}"
  setting {
    name  = "containerInsights"
    value = var.insights
  }
}

resource "aws_ecs_task_definition" "app" {
  family                   = "app"
  tags                     = { release = var.release }
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([{
    name      = "app"
    image     = var.image
    essential = true
    portMappings = [{ containerPort = 8080, protocol = "tcp" }]
    environment  = [{ name = "B", value = "2" }, { name = "A", value = "1" }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"  = aws_cloudwatch_log_group.app.name
        "awslogs-region" = "us-east-1"
      }
    }
  }])
}

resource "aws_ecs_service" "app" {
  name                  = "app${var.suffix}"
  cluster               = aws_ecs_cluster.main.id
  task_definition       = aws_ecs_task_definition.app.arn
  desired_count         = 2
  launch_type           = "FARGATE"
  wait_for_steady_state = true

  network_configuration {
    subnets         = [aws_subnet.a.id]
    security_groups = [aws_security_group.svc.id]
  }

  timeouts {
    create = "2m"
  }
}

output "task_definition" {
  value = aws_ecs_task_definition.app.arn
}
"#;

async fn service(ecs: &aws_sdk_ecs::Client) -> Option<aws_sdk_ecs::types::Service> {
    service_in(ecs, "main", "app").await
}

async fn service_in(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    name: &str,
) -> Option<aws_sdk_ecs::types::Service> {
    ecs.describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await
        .unwrap()
        .services
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.status() == Some("ACTIVE"))
}

async fn retention(logs: &aws_sdk_cloudwatchlogs::Client) -> Option<Option<i32>> {
    retention_of(logs, "/ecs/app").await
}

async fn retention_of(logs: &aws_sdk_cloudwatchlogs::Client, name: &str) -> Option<Option<i32>> {
    logs.describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .unwrap()
        .log_groups
        .unwrap_or_default()
        .into_iter()
        .find(|g| g.log_group_name() == Some(name))
        .map(|g| g.retention_in_days())
}

#[tokio::test(flavor = "multi_thread")]
async fn ecs_lifecycle_against_the_emulator() {
    let m = Moto::start();
    let conf = m.sdk_config().await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    let f = Fixture::new(CONFIG);

    let r = m.run(&f, &["apply", "-auto-approve"], 0);
    let td1 = r
        .stdout
        .lines()
        .find(|l| l.contains("task_definition ="))
        .unwrap_or_default()
        .to_string();
    let svc = service(&ecs).await.expect("service exists");
    assert_eq!(svc.desired_count(), 2);
    assert_eq!(svc.running_count(), 2);
    assert!(svc
        .task_definition()
        .unwrap()
        .ends_with("task-definition/app:1"));
    assert_eq!(retention(&logs).await, Some(Some(7)));
    let td = ecs
        .describe_task_definition()
        .task_definition("app:1")
        .send()
        .await
        .unwrap()
        .task_definition
        .unwrap();
    assert_eq!(
        td.container_definitions()[0].image(),
        Some("registry.local/app:1")
    );
    let cluster = ecs
        .describe_clusters()
        .clusters("main")
        .include(aws_sdk_ecs::types::ClusterField::Tags)
        .send()
        .await
        .unwrap()
        .clusters
        .unwrap()
        .remove(0);
    assert!(cluster
        .tags()
        .iter()
        .any(|t| t.key() == Some("environment") && t.value() == Some("ecs-test")));

    // AWS's normalised container definitions (defaults filled, environment reordered) and the
    // emulator's answers are no change.
    m.run(&f, &["plan", "-detailed-exitcode"], 0);

    // In place: retention and the cluster setting.
    let r = m.run(
        &f,
        &[
            "apply",
            "-auto-approve",
            "-var=retention=14",
            "-var=insights=enabled",
        ],
        0,
    );
    assert!(
        r.stdout.contains("0 added, 2 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    assert_eq!(retention(&logs).await, Some(Some(14)));
    m.run(
        &f,
        &[
            "plan",
            "-detailed-exitcode",
            "-var=retention=14",
            "-var=insights=enabled",
        ],
        0,
    );

    // Replace: a new image is a new revision; the service moves to it in place.
    let vars = [
        "-var=retention=14",
        "-var=insights=enabled",
        "-var=image=registry.local/app:2",
    ];
    let mut args = vec!["plan"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(r.stdout.contains("must be replaced"), "{}", r.stdout);
    assert!(r.stdout.contains("# forces replacement"), "{}", r.stdout);
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    m.run(&f, &args, 0);
    let svc = service(&ecs).await.unwrap();
    assert!(
        svc.task_definition()
            .unwrap()
            .ends_with("task-definition/app:2"),
        "{:?}",
        svc.task_definition()
    );
    let old = ecs
        .describe_task_definition()
        .task_definition("app:1")
        .send()
        .await
        .unwrap()
        .task_definition
        .unwrap();
    assert_eq!(old.status().map(|s| s.as_str()), Some("INACTIVE"));
    let mut args = vec!["plan", "-detailed-exitcode"];
    args.extend(vars);
    m.run(&f, &args, 0);
    assert!(!td1.is_empty());

    // In place: the task definition's tags (TagResource; no new revision).
    let vars = [
        "-var=retention=14",
        "-var=insights=enabled",
        "-var=image=registry.local/app:2",
        "-var=release=r2",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    let td = ecs
        .describe_task_definition()
        .task_definition("app:2")
        .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
        .send()
        .await
        .unwrap();
    assert!(td
        .tags()
        .iter()
        .any(|t| t.key() == Some("release") && t.value() == Some("r2")));

    // Replace: new names are a new cluster, log group and service (and a new task definition
    // revision, whose container definitions name the log group).
    let vars = [
        "-var=retention=14",
        "-var=insights=enabled",
        "-var=image=registry.local/app:2",
        "-var=release=r2",
        "-var=suffix=-v2",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("4 added, 0 changed, 4 destroyed"),
        "{}",
        r.stdout
    );
    assert!(service_in(&ecs, "main-v2", "app-v2").await.is_some());
    assert_eq!(retention_of(&logs, "/ecs/app-v2").await, Some(Some(14)));
    assert!(service(&ecs).await.is_none());
    assert_eq!(retention(&logs).await, None);
    let mut args = vec!["plan", "-detailed-exitcode"];
    args.extend(vars);
    m.run(&f, &args, 0);

    // Destroy: nothing left.
    let mut args = vec!["destroy", "-auto-approve"];
    args.extend(vars);
    m.run(&f, &args, 0);
    assert!(service_in(&ecs, "main-v2", "app-v2").await.is_none());
    assert_eq!(retention_of(&logs, "/ecs/app-v2").await, None);
    assert!(service(&ecs).await.is_none());
    assert_eq!(retention(&logs).await, None);
    // A deleted cluster may still be described for a while, as INACTIVE.
    let clusters = ecs
        .describe_clusters()
        .clusters("main")
        .send()
        .await
        .unwrap();
    assert!(
        clusters
            .clusters()
            .iter()
            .all(|c| c.status() == Some("INACTIVE")),
        "{:?}",
        clusters.clusters()
    );
    let tds = ecs
        .list_task_definitions()
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    assert!(
        tds.task_definition_arns().is_empty(),
        "{:?}",
        tds.task_definition_arns()
    );
}
