//! The types delivery needs, added through the resource table: aws_ssm_parameter,
//! aws_cloudwatch_metric_alarm and aws_s3_bucket (force_destroy), applied, changed, discovered
//! and destroyed against moto.

mod common;
#[path = "common/moto.rs"]
mod moto;

use std::collections::{BTreeMap, BTreeSet};

use common::Fixture;
use moto::Moto;
use terrane_core::{DiscoverFilter, Provider, Value};
use terrane_provider_aws::AwsProvider;

const CONFIG: &str = r#"
provider "aws" {
  default_tags {
    tags = { environment = "delivery" }
  }
}

variable "image" {
  type    = string
  default = "web:1"
}

variable "password" {
  type      = string
  sensitive = true
  default   = "hunter2-not-for-logs"
}

resource "aws_ssm_parameter" "image" {
  name  = "/delivery/web/image"
  type  = "String"
  value = var.image
}

resource "aws_ssm_parameter" "password" {
  name        = "/delivery/web/password"
  type        = "SecureString"
  value       = var.password
  description = "the web tier's database password"
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "delivery-web-5xx"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 2
  metric_name         = "HTTPCode_Target_5XX_Count"
  namespace           = "AWS/ApplicationELB"
  period              = 60
  statistic           = "Sum"
  threshold           = 5
  dimensions = {
    LoadBalancer = "app/delivery/0123456789abcdef"
  }
}

resource "aws_s3_bucket" "artefacts" {
  bucket        = "delivery-artefacts"
  force_destroy = true
}
"#;

async fn provider(m: &Moto) -> AwsProvider {
    let p = AwsProvider::new();
    p.configure(&Value::map([
        ("region", Value::from("us-east-1")),
        ("access_key", Value::from("testing")),
        ("secret_key", Value::from("testing")),
        ("endpoint_url", Value::from(m.url().as_str())),
    ]))
    .await
    .unwrap();
    p
}

async fn delivery_objects(p: &AwsProvider) -> BTreeSet<(String, String)> {
    let filter = DiscoverFilter {
        tags: BTreeMap::from([("environment".to_string(), "delivery".to_string())]),
        ..Default::default()
    };
    p.discover(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.type_name, o.id))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn parameters_alarms_and_buckets_apply_change_and_destroy() {
    let m = Moto::start();
    let f = Fixture::new(CONFIG);
    let r = m.run(&f, &["apply", "-auto-approve"], 0);
    assert!(
        r.stdout.contains("4 added, 0 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    assert!(
        !r.all().contains("hunter2"),
        "a sensitive value was shown: {}",
        r.all()
    );
    m.run(&f, &["plan", "-detailed-exitcode"], 0);

    // An object in the bucket: force_destroy deletes it with the bucket.
    let conf = m.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    s3.put_object()
        .bucket("delivery-artefacts")
        .key("builds/web-1.tar")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"artefact"))
        .send()
        .await
        .unwrap();

    let p = provider(&m).await;
    let found = delivery_objects(&p).await;
    let want: BTreeSet<(String, String)> = [
        ("aws_ssm_parameter", "/delivery/web/image"),
        ("aws_ssm_parameter", "/delivery/web/password"),
        ("aws_cloudwatch_metric_alarm", "delivery-web-5xx"),
        ("aws_s3_bucket", "delivery-artefacts"),
    ]
    .into_iter()
    .map(|(t, i)| (t.to_string(), i.to_string()))
    .collect();
    assert_eq!(found, want);
    let secret = p
        .read(
            "aws_ssm_parameter",
            &Value::map([("id", Value::from("/delivery/web/password"))]),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        secret.get("type").and_then(Value::as_str),
        Some("SecureString")
    );

    let r = m.run(&f, &["apply", "-auto-approve", "-var=image=web:2"], 0);
    assert!(
        r.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    let image = p
        .read(
            "aws_ssm_parameter",
            &Value::map([("id", Value::from("/delivery/web/image"))]),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(image.get("value").and_then(Value::as_str), Some("web:2"));

    let r = m.run(&f, &["destroy", "-auto-approve", "-var=image=web:2"], 0);
    assert!(r.stdout.contains("4 destroyed"), "{}", r.stdout);
    assert!(delivery_objects(&p).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_with_objects_and_no_force_destroy_says_how_to_delete_it() {
    let m = Moto::start();
    let f = Fixture::new("resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"kept-logs\"\n}\n");
    m.run(&f, &["apply", "-auto-approve"], 0);
    let conf = m.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    s3.put_object()
        .bucket("kept-logs")
        .key("a.log")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"log"))
        .send()
        .await
        .unwrap();
    let r = m.run(&f, &["destroy", "-auto-approve"], 1);
    assert!(r.all().contains("force_destroy"), "{}", r.all());
}
