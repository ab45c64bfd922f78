//! aws_iam_policy, aws_iam_role_policy, aws_iam_instance_profile and
//! aws_iam_openid_connect_provider (with the aws_iam_policy_document data source) through the
//! binary against moto, checked through the IAM API; and the GitHub trust-policy check.

mod common;
#[path = "common/moto.rs"]
mod moto;

use common::Fixture;
use moto::Moto;

const CONFIG: &str = r#"
provider "aws" {
  region = "us-east-1"
}

variable "bucket" {
  default = "artifacts"
}
variable "client" {
  default = "sts.amazonaws.com"
}
variable "profile_name" {
  default = "nodes"
}
variable "suffix" {
  default = ""
}
variable "profile_role" {
  default = "node"
}
variable "oidc_url" {
  default = "https://token.actions.githubusercontent.com"
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "read" {
  statement {
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = ["arn:aws:s3:::${var.bucket}", "arn:aws:s3:::${var.bucket}/*"]
  }
}

resource "aws_iam_role" "node" {
  name               = "node"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role" "other" {
  name               = "other"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_policy" "read" {
  name   = "read-artifacts${var.suffix}"
  policy = data.aws_iam_policy_document.read.json
}

resource "aws_iam_role_policy_attachment" "read" {
  role       = aws_iam_role.node.name
  policy_arn = aws_iam_policy.read.arn
}

resource "aws_iam_role_policy" "logs" {
  name = "logs${var.suffix}"
  role = aws_iam_role.node.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "logs:PutLogEvents", Resource = "arn:aws:logs:*:*:log-group:${var.bucket}" }]
  })
}

resource "aws_iam_instance_profile" "node" {
  name = var.profile_name
  role = var.profile_role == "node" ? aws_iam_role.node.name : aws_iam_role.other.name
}

resource "aws_iam_openid_connect_provider" "github" {
  url             = var.oidc_url
  client_id_list  = [var.client]
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1"]
}
"#;

async fn policy_doc(iam: &aws_sdk_iam::Client, arn: &str) -> String {
    let p = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    let v = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(p.default_version_id().unwrap())
        .send()
        .await
        .unwrap();
    aws_sdk_iam_decode(v.policy_version.unwrap().document.unwrap())
}

fn aws_sdk_iam_decode(s: String) -> String {
    // IAM returns documents URL-encoded.
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn iam_resources_lifecycle_against_the_emulator() {
    let m = Moto::start();
    let iam = m.iam().await;
    let f = Fixture::new(CONFIG);
    let arn = "arn:aws:iam::123456789012:policy/read-artifacts";
    let oidc = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";

    m.run(&f, &["apply", "-auto-approve"], 0);
    assert!(policy_doc(&iam, arn)
        .await
        .contains("arn:aws:s3:::artifacts/*"));
    let inline = iam
        .get_role_policy()
        .role_name("node")
        .policy_name("logs")
        .send()
        .await
        .unwrap();
    assert!(
        aws_sdk_iam_decode(inline.policy_document().to_string()).contains("log-group:artifacts")
    );
    let prof = iam
        .get_instance_profile()
        .instance_profile_name("nodes")
        .send()
        .await
        .unwrap();
    assert_eq!(
        prof.instance_profile.unwrap().roles()[0].role_name(),
        "node"
    );
    let o = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(oidc)
        .send()
        .await
        .unwrap();
    assert_eq!(o.client_id_list(), ["sts.amazonaws.com"]);
    m.run(&f, &["plan", "-detailed-exitcode"], 0);

    // In place: a new policy version (made default), the inline policy, the OIDC client list.
    let vars = ["-var=bucket=releases", "-var=client=sigstore"];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("0 added, 3 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    assert!(policy_doc(&iam, arn)
        .await
        .contains("arn:aws:s3:::releases/*"));
    let versions = iam
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 2);
    let o = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(oidc)
        .send()
        .await
        .unwrap();
    assert_eq!(o.client_id_list(), ["sigstore"]);
    let mut args = vec!["plan", "-detailed-exitcode"];
    args.extend(vars);
    m.run(&f, &args, 0);

    // Replace: a new profile name is a new instance profile.
    let vars = [
        "-var=bucket=releases",
        "-var=client=sigstore",
        "-var=profile_name=workers",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    m.run(&f, &args, 0);
    assert!(iam
        .get_instance_profile()
        .instance_profile_name("nodes")
        .send()
        .await
        .is_err());
    assert!(iam
        .get_instance_profile()
        .instance_profile_name("workers")
        .send()
        .await
        .is_ok());

    // In place: the instance profile's role.
    let vars = [
        "-var=bucket=releases",
        "-var=client=sigstore",
        "-var=profile_name=workers",
        "-var=profile_role=other",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    let prof = iam
        .get_instance_profile()
        .instance_profile_name("workers")
        .send()
        .await
        .unwrap();
    assert_eq!(
        prof.instance_profile.unwrap().roles()[0].role_name(),
        "other"
    );

    // Replace: a new policy name, inline policy name and provider URL.
    let vars = [
        "-var=bucket=releases",
        "-var=client=sigstore",
        "-var=profile_name=workers",
        "-var=profile_role=other",
        "-var=suffix=-v2",
        "-var=oidc_url=https://oidc.example.com",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("4 added, 0 changed, 4 destroyed"),
        "{}",
        r.stdout
    );
    assert!(iam.get_policy().policy_arn(arn).send().await.is_err());
    let arn2 = "arn:aws:iam::123456789012:policy/read-artifacts-v2";
    assert!(policy_doc(&iam, arn2).await.contains("releases"));
    let inline = iam
        .list_role_policies()
        .role_name("node")
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), ["logs-v2"]);
    let providers = iam.list_open_id_connect_providers().send().await.unwrap();
    let arns: Vec<&str> = providers
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .collect();
    assert_eq!(
        arns,
        vec!["arn:aws:iam::123456789012:oidc-provider/oidc.example.com"]
    );
    let mut args = vec!["plan", "-detailed-exitcode"];
    args.extend(vars);
    m.run(&f, &args, 0);

    // Destroy: the policies (with their old versions), profile, provider and roles are gone.
    let mut args = vec!["destroy", "-auto-approve"];
    args.extend(vars);
    m.run(&f, &args, 0);
    assert!(iam.get_policy().policy_arn(arn2).send().await.is_err());
    assert!(iam.get_role().role_name("node").send().await.is_err());
    assert!(iam
        .list_open_id_connect_providers()
        .send()
        .await
        .unwrap()
        .open_id_connect_provider_list()
        .is_empty());
    assert!(iam
        .list_instance_profiles()
        .send()
        .await
        .unwrap()
        .instance_profiles()
        .is_empty());
}

#[test]
fn a_github_trust_policy_without_sub_is_refused_before_anything_runs() {
    let f = Fixture::new(
        r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_iam_role" "deploy" {
  name = "deploy"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" }
      Condition = {
        StringEquals = { "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }
      }
    }]
  })
}
"#,
    );
    let r = f.run(&["validate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Unsafe assume_role_policy"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("sub"), "{}", r.stderr);
    // At the trust policy argument.
    assert!(r.stderr.contains("main.tf:8:"), "{}", r.stderr);
}
