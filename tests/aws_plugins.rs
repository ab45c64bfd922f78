//! A module mixing the native AWS provider with two WASM plugins against moto: `random`
//! (names and a password) and `aws-ssm`, which adds `aws_ssm_parameter` through the host's
//! signed-request capability. Plans, applies, plans clean, updates in place, destroys; what
//! exists is read from moto directly, not from Terrane's state.

mod common;
#[path = "common/moto.rs"]
mod moto;

use common::Fixture;
use moto::Moto;

const CONFIG: &str = r#"
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
    random = {
      source  = "./plugins/random.wasm"
      version = "~> 0.1"
    }
    awsssm = {
      source = "./plugins/aws-ssm.wasm"
      allow  = { aws = ["ssm"] }
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

provider "random" {
  seed = 11
}

variable "env" {
  default = "test"
}

resource "random_pet" "name" {
  length = 2
}

resource "random_password" "db" {
  length  = 24
  special = false
}

resource "aws_vpc" "main" {
  cidr_block = "10.42.0.0/16"
  tags = {
    Name = random_pet.name.id
  }
}

resource "aws_ssm_parameter" "vpc_id" {
  provider = awsssm
  name     = "/${random_pet.name.id}/vpc_id"
  type     = "String"
  value    = aws_vpc.main.id
  tags = {
    env = var.env
  }
}

resource "aws_ssm_parameter" "db_password" {
  provider = awsssm
  name     = "/${random_pet.name.id}/db_password"
  type     = "SecureString"
  value    = random_password.db.result
}

data "aws_ssm_parameter" "vpc_id" {
  provider = awsssm
  name     = aws_ssm_parameter.vpc_id.name
}

output "vpc_id_via_ssm" {
  value = data.aws_ssm_parameter.vpc_id.insecure_value
}

output "vpc_id" {
  value = aws_vpc.main.id
}

output "prefix" {
  value = random_pet.name.id
}
"#;

fn get_parameter(m: &Moto, name: &str) -> Option<serde_json::Value> {
    let (status, body) = m.json_call(
        "ssm",
        "AmazonSSM.GetParameter",
        &serde_json::json!({"Name": name, "WithDecryption": true}).to_string(),
    );
    match status {
        200 => Some(body["Parameter"].clone()),
        400 => {
            assert!(body.to_string().contains("ParameterNotFound"), "{body}");
            None
        }
        other => panic!("GetParameter answered {other}: {body}"),
    }
}

fn tags(m: &Moto, name: &str) -> serde_json::Value {
    let (status, body) = m.json_call(
        "ssm",
        "AmazonSSM.ListTagsForResource",
        &serde_json::json!({"ResourceType": "Parameter", "ResourceId": name}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    body["TagList"].clone()
}

#[test]
fn native_aws_and_two_plugins_plan_apply_plan_clean_and_destroy() {
    let m = Moto::start();
    let f = Fixture::new(CONFIG);
    f.add_plugin("random");
    f.add_plugin("aws-ssm");
    m.run(&f, &["init"], 0);

    let plan = m.run(&f, &["plan"], 0).stdout;
    assert!(
        plan.contains("5 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    assert!(plan.contains("aws_ssm_parameter.db_password"), "{plan}");
    assert!(plan.contains("(sensitive value)"), "{plan}");

    let r = m.run(&f, &["apply", "-auto-approve"], 0);
    assert!(
        r.stdout.contains("5 added, 0 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    let prefix = m.run(&f, &["output", "-raw", "prefix"], 0).stdout;
    let vpc_id = m.run(&f, &["output", "-raw", "vpc_id"], 0).stdout;
    assert!(vpc_id.starts_with("vpc-"), "{vpc_id}");
    assert_eq!(
        m.run(&f, &["output", "-raw", "vpc_id_via_ssm"], 0).stdout,
        vpc_id
    );

    // What moto holds: the VPC id and the password (as a SecureString), tagged.
    let p = get_parameter(&m, &format!("/{prefix}/vpc_id")).expect("vpc_id parameter exists");
    assert_eq!(p["Value"], vpc_id.as_str());
    assert_eq!(p["Version"], 1);
    let pw =
        get_parameter(&m, &format!("/{prefix}/db_password")).expect("password parameter exists");
    assert_eq!(pw["Type"], "SecureString");
    let password = pw["Value"].as_str().unwrap().to_string();
    assert_eq!(password.len(), 24);
    assert!(
        !r.all().contains(&password),
        "the password never shows in output"
    );
    assert_eq!(
        tags(&m, &format!("/{prefix}/vpc_id")),
        serde_json::json!([{"Key": "env", "Value": "test"}])
    );

    m.run(&f, &["plan", "-detailed-exitcode"], 0);

    // An in-place update through the plugin: new tags, same parameter.
    let r = m.run(&f, &["apply", "-auto-approve", "-var", "env=staging"], 0);
    assert!(
        r.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    assert_eq!(
        tags(&m, &format!("/{prefix}/vpc_id")),
        serde_json::json!([{"Key": "env", "Value": "staging"}])
    );
    m.run(
        &f,
        &["plan", "-detailed-exitcode", "-var", "env=staging"],
        0,
    );

    // Drift: the parameter changed outside Terrane is put back.
    let (status, body) = m.json_call(
        "ssm",
        "AmazonSSM.PutParameter",
        &serde_json::json!({"Name": format!("/{prefix}/vpc_id"), "Value": "tampered", "Type": "String", "Overwrite": true}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let plan = m.run(&f, &["plan", "-var", "env=staging"], 0).stdout;
    assert!(plan.contains("1 to change"), "{plan}");
    m.run(&f, &["apply", "-auto-approve", "-var", "env=staging"], 0);
    let p = get_parameter(&m, &format!("/{prefix}/vpc_id")).unwrap();
    assert_eq!(p["Value"], vpc_id.as_str());

    let r = m.run(&f, &["destroy", "-auto-approve", "-var", "env=staging"], 0);
    assert!(r.stdout.contains("5 destroyed"), "{}", r.stdout);
    assert!(get_parameter(&m, &format!("/{prefix}/vpc_id")).is_none());
    assert!(get_parameter(&m, &format!("/{prefix}/db_password")).is_none());
    let vpcs = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async { m.ec2().await.describe_vpcs().vpc_ids(&vpc_id).send().await });
    assert!(
        vpcs.is_err() || vpcs.unwrap().vpcs().is_empty(),
        "the VPC is gone"
    );
}

#[test]
fn a_plugin_not_allowed_its_aws_service_is_stopped() {
    let m = Moto::start();
    let f = Fixture::new(&CONFIG.replace("allow  = { aws = [\"ssm\"] }", "allow  = {}"));
    f.add_plugin("random");
    f.add_plugin("aws-ssm");
    m.run(&f, &["init"], 0);
    let r = m.run(&f, &["apply", "-auto-approve"], 1);
    assert!(
        r.stderr.contains("tried to call AWS service \"ssm\", which it was not granted: its manifest declares it, but the configuration does not allow it"),
        "{}",
        r.stderr
    );
    // The native and random resources were created all the same.
    let state = m.run(&f, &["state", "list"], 0).stdout;
    assert!(
        state.contains("aws_vpc.main") && state.contains("random_pet.name"),
        "{state}"
    );
    assert!(!state.contains("aws_ssm_parameter"), "{state}");
}

#[test]
fn the_plugins_example_applies_plans_clean_and_destroys() {
    let m = Moto::start();
    let f = Fixture::from_example("plugins");
    f.add_plugin("random");
    f.add_plugin("aws-ssm");
    m.run(&f, &["init"], 0);
    let r = m.run(&f, &["apply", "-auto-approve"], 0);
    assert!(
        r.stdout.contains("5 added, 0 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    let name = m.run(&f, &["output", "-raw", "vpc_id_parameter"], 0).stdout;
    assert!(get_parameter(&m, &name).is_some(), "{name} exists in moto");
    m.run(&f, &["plan", "-detailed-exitcode"], 0);
    m.run(&f, &["destroy", "-auto-approve"], 0);
    assert!(get_parameter(&m, &name).is_none(), "{name} is gone");
}

/// The aws-ssm plugin (contract 0.1.1) discovers its parameters without any state: by path
/// prefix, by tags (all must match), by a name regex and by type, each with the state a delete
/// takes and never a decrypted value; deleting what it found leaves nothing.
#[test]
fn the_aws_ssm_plugin_discovers_parameters_by_path_prefix_and_tags() {
    use std::collections::{BTreeMap, BTreeSet};
    use terrane_core::{DiscoverFilter, FoundBy, NameMatch, Value};
    use terrane_plugin_host::testing::Harness;
    use terrane_plugin_host::{Allow, HostOptions, Limits};

    let m = Moto::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let signer = terrane_provider_aws::PluginSigner::with_config(rt.block_on(m.sdk_config()));
    let h = Harness::load_with(
        common::plugins::plugin("aws_ssm"),
        Allow {
            aws: vec!["ssm".into()],
            ..Allow::default()
        },
        Limits::default(),
        HostOptions {
            cache_dir: Some(common::plugins::cache_dir()),
            aws_signer: Some(std::sync::Arc::new(signer)),
        },
    )
    .unwrap();
    h.configure(Value::Null).unwrap();
    for (name, env) in [
        ("/app/dev/a", "dev"),
        ("/app/dev/b", "dev"),
        ("/app/qa/a", "qa"),
    ] {
        h.create(
            "aws_ssm_parameter",
            Value::map([
                ("name", Value::from(name)),
                ("type", Value::from("SecureString")),
                ("value", Value::from("s3cret")),
                (
                    "tags",
                    Value::map([("env", Value::from(env)), ("team", Value::from("ops"))]),
                ),
            ]),
        )
        .unwrap();
    }
    let ids = |f: DiscoverFilter| -> BTreeSet<String> {
        h.discover(&f).unwrap().into_iter().map(|o| o.id).collect()
    };
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let tags = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(k, x)| (k.to_string(), x.to_string()))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(
        ids(DiscoverFilter {
            name: Some(NameMatch::Prefix("/app/dev/".into())),
            ..Default::default()
        }),
        set(&["/app/dev/a", "/app/dev/b"])
    );
    assert_eq!(
        ids(DiscoverFilter {
            tags: tags(&[("env", "qa")]),
            ..Default::default()
        }),
        set(&["/app/qa/a"])
    );
    assert_eq!(
        ids(DiscoverFilter {
            tags: tags(&[("env", "dev"), ("team", "ops")]),
            ..Default::default()
        }),
        set(&["/app/dev/a", "/app/dev/b"])
    );
    assert!(ids(DiscoverFilter {
        tags: tags(&[("env", "dev"), ("team", "web")]),
        ..Default::default()
    })
    .is_empty());
    assert_eq!(
        ids(DiscoverFilter {
            name: Some(NameMatch::regex("^/app/(dev|qa)/a$").unwrap()),
            ..Default::default()
        }),
        set(&["/app/dev/a", "/app/qa/a"])
    );
    assert!(ids(DiscoverFilter {
        types: BTreeSet::from(["aws_vpc".to_string()]),
        ..Default::default()
    })
    .is_empty());

    let found = h
        .discover(&DiscoverFilter {
            tags: tags(&[("team", "ops")]),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.len(), 3);
    for o in &found {
        assert_eq!(o.type_name, "aws_ssm_parameter");
        assert_eq!(o.found_by, FoundBy::Listing);
        assert_eq!(o.tags.get("team").map(String::as_str), Some("ops"));
        assert!(
            o.state.get("value").is_none(),
            "a value was read: {:?}",
            o.state
        );
        h.delete("aws_ssm_parameter", &o.state).unwrap();
    }
    assert!(ids(DiscoverFilter {
        tags: tags(&[("team", "ops")]),
        ..Default::default()
    })
    .is_empty());
}
