//! aws_iam_role and aws_iam_role_policy_attachment through the binary against moto, checked
//! through the IAM API. The trust policy is written with jsonencode; AWS returns it URL-encoded
//! and reformatted, which must not show as a change.

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

variable "name" {
  default = "app-task"
}
variable "description" {
  default = "task role"
}

resource "aws_iam_role" "task" {
  name        = var.name
  description = var.description
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "read" {
  role       = aws_iam_role.task.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}
"#;

fn run(f: &Fixture, m: &Moto, args: &[&str], code: i32) -> common::Run {
    m.run(f, args, code)
}

async fn attached(iam: &aws_sdk_iam::Client, role: &str) -> Vec<String> {
    iam.list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .map(|o| {
            o.attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn role_lifecycle_against_the_emulator() {
    let m = Moto::start();
    let iam = m.iam().await;
    let f = Fixture::new(CONFIG);

    run(&f, &m, &["apply", "-auto-approve"], 0);
    let role = iam
        .get_role()
        .role_name("app-task")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(role.description(), Some("task role"));
    assert!(role
        .tags()
        .iter()
        .any(|t| t.key() == "environment" && t.value() == "test"));
    assert_eq!(
        attached(&iam, "app-task").await,
        vec!["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    );

    // The URL-encoded, reformatted document AWS returns is the same policy: no change.
    run(&f, &m, &["plan", "-detailed-exitcode"], 0);

    // In place: description and the trust policy.
    run(
        &f,
        &m,
        &["apply", "-auto-approve", "-var=description=renamed"],
        0,
    );
    assert_eq!(
        iam.get_role()
            .role_name("app-task")
            .send()
            .await
            .unwrap()
            .role
            .unwrap()
            .description(),
        Some("renamed")
    );
    run(
        &f,
        &m,
        &["plan", "-detailed-exitcode", "-var=description=renamed"],
        0,
    );

    // Replace: a new name is a new role, and the attachment follows it.
    let r = run(
        &f,
        &m,
        &[
            "apply",
            "-auto-approve",
            "-var=description=renamed",
            "-var=name=app-task-2",
        ],
        0,
    );
    assert!(
        r.stdout.contains("2 added, 0 changed, 2 destroyed"),
        "{}",
        r.stdout
    );
    assert!(
        iam.get_role().role_name("app-task").send().await.is_err(),
        "the old role is gone"
    );
    assert_eq!(
        attached(&iam, "app-task-2").await,
        vec!["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    );

    // Destroy: the attachment goes first, then the role.
    run(
        &f,
        &m,
        &["destroy", "-auto-approve", "-var=name=app-task-2"],
        0,
    );
    assert!(iam.get_role().role_name("app-task-2").send().await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_trust_policy_is_a_validation_error() {
    let m = Moto::start();
    let f = Fixture::new(
        r#"
provider "aws" {
  region = "us-east-1"
}
resource "aws_iam_role" "bad" {
  name               = "bad"
  assume_role_policy = "{not json"
}
"#,
    );
    let r = run(&f, &m, &["plan"], 1);
    assert!(
        r.stderr.contains("Invalid assume_role_policy"),
        "{}",
        r.stderr
    );
    // At the argument, not the block.
    assert!(r.stderr.contains("main.tf:7:"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn existing_role_is_imported_and_plans_clean() {
    let m = Moto::start();
    let iam = m.iam().await;
    // Made out of band, with a trust policy spelled differently from the configuration's.
    iam.create_role()
        .role_name("legacy")
        .description("made by hand")
        .assume_role_policy_document(
            r#"{"Version": "2012-10-17", "Statement": {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}}}"#,
        )
        .send()
        .await
        .unwrap();
    let f = Fixture::new(
        r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_iam_role" "legacy" {
  name        = "legacy"
  description = "made by hand"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}
"#,
    );
    run(&f, &m, &["import", "aws_iam_role.legacy", "legacy"], 0);
    run(&f, &m, &["plan", "-detailed-exitcode"], 0);
    let r = run(&f, &m, &["import", "aws_iam_role.missing", "nobody"], 1);
    assert!(r.stderr.contains("aws_iam_role.missing"), "{}", r.stderr);
}
