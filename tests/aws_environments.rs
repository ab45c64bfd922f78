//! `terrane env` against moto and a real PostgreSQL server: two branches brought up at the same
//! time from two working directories with no local state (two runners) sharing one state;
//! distinct names, tags (read through the SDK) and states; `env list` from a third directory
//! shows both; one brought down: its objects are gone, the other's remain; a protected
//! environment is refused.

mod common;
#[path = "common/moto.rs"]
#[allow(dead_code)]
mod moto;
#[path = "common/postgres.rs"]
mod postgres;

use common::Fixture;
use moto::Moto;

fn config(schema: &str) -> String {
    format!(
        r#"
terraform {{
  backend "pg" {{
    schema_name = "{schema}"
  }}
}}

provider "aws" {{
  region = "us-east-1"
}}

variable "env_name" {{
  type = string
}}

variable "cidr" {{
  default = "10.0.0.0/16"
}}

resource "aws_vpc" "main" {{
  cidr_block = var.cidr
  tags = {{
    Name = "${{var.env_name}}-vpc"
  }}
}}

output "vpc_id" {{
  value = aws_vpc.main.id
}}
"#
    )
}

const RULES: &str = r#"
prefix            = "automation"
production_branch = "master"
branches          = ["dev/feature*", "dev/fix*"]
ttl               = "72h"
protected         = ["automation-master"]
"#;

async fn vpc_tags(m: &Moto, id: &str) -> Option<std::collections::BTreeMap<String, String>> {
    let out = m
        .ec2()
        .await
        .describe_vpcs()
        .vpc_ids(id)
        .send()
        .await
        .ok()?;
    let v = out.vpcs?.into_iter().next()?;
    Some(
        v.tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn two_branches_share_one_state_and_one_comes_down_alone() {
    let m = Moto::start();
    let schema = postgres::fresh_schema("envs");
    let conn = postgres::server().conn_str();
    let runner = || {
        let f = Fixture::new(&config(&schema));
        f.write("environments.hcl", RULES);
        f
    };
    let (a, b, third) = (runner(), runner(), runner());
    let env = |f: &Fixture, args: &[&str]| {
        let mut c = f.cmd(args);
        for (k, v) in m.env() {
            c.env(k, v);
        }
        c.env("PG_CONN_STR", &conn);
        c
    };
    // Two runners at once, two branches (the second with its own CIDR).
    let spawn = |mut c: std::process::Command| {
        c.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let up_a = spawn(env(
        &a,
        &[
            "env",
            "up",
            "--branch",
            "dev/feature-login",
            "-auto-approve",
            "-input=false",
        ],
    ));
    let up_b = spawn(env(
        &b,
        &[
            "env",
            "up",
            "--branch",
            "dev/fix-42",
            "-auto-approve",
            "-input=false",
            "-var=cidr=10.1.0.0/16",
        ],
    ));
    for out in [
        up_a.wait_with_output().unwrap(),
        up_b.wait_with_output().unwrap(),
    ] {
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let name_a = format!(
        "automation-{}",
        terrane_engine::environments::sha8("dev/feature-login")
    );
    let name_b = format!(
        "automation-{}",
        terrane_engine::environments::sha8("dev/fix-42")
    );
    assert_ne!(name_a, name_b);
    for f in [&a, &b] {
        assert!(!f.path().join("terrane.state.db").exists());
    }

    // From a third directory: both, with their branches and object counts.
    let out = env(&third, &["env", "list", "-json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_name = |n: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("{n} not listed: {list:#}"))
    };
    assert_eq!(by_name(&name_a)["branch"], "dev/feature-login");
    assert_eq!(by_name(&name_b)["branch"], "dev/fix-42");
    assert_eq!(by_name(&name_a)["objects"], 1);
    assert_eq!(by_name(&name_a)["status"], "ok");
    assert!(by_name(&name_a)["expires"].is_string());

    // Each VPC carries its environment's name and tags (through the SDK, not the state).
    let output = |f: &Fixture, ws: &str| {
        let out = env(f, &["output", "-raw", "vpc_id"])
            .env("TF_WORKSPACE", ws)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let (vpc_a, vpc_b) = (output(&third, &name_a), output(&third, &name_b));
    let tags_a = vpc_tags(&m, &vpc_a).await.unwrap();
    assert_eq!(tags_a["Name"], format!("{name_a}-vpc"));
    assert_eq!(tags_a["terrane:env"], name_a);
    assert_eq!(tags_a["terrane:branch"], "dev/feature-login");
    assert_eq!(tags_a["terrane:managed-by"], "terrane");
    assert!(tags_a.contains_key("terrane:expires-at"), "{tags_a:?}");
    assert_eq!(vpc_tags(&m, &vpc_b).await.unwrap()["terrane:env"], name_b);

    // A second env up of the same branch changes nothing.
    let out = env(
        &a,
        &[
            "env",
            "up",
            "--branch",
            "dev/feature-login",
            "-auto-approve",
        ],
    )
    .output()
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("0 added, 0 changed, 0 destroyed"),
        "{text}"
    );

    // A branch the rules give no environment, and the protected production environment.
    let out = env(&a, &["env", "up", "--branch", "hotfix/x", "-auto-approve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("matches none of"));
    let out = env(&a, &["env", "down", "--branch", "master", "-auto-approve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("automation-master is protected"));

    // One comes down: its VPC is gone, its workspace too; the other stays.
    let out = env(
        &b,
        &[
            "env",
            "down",
            "--branch",
            "dev/fix-42",
            "-auto-approve",
            "-input=false",
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        vpc_tags(&m, &vpc_b).await.is_none(),
        "the VPC of {name_b} is left"
    );
    assert!(vpc_tags(&m, &vpc_a).await.is_some());
    let out = env(&third, &["env", "list", "-json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [name_a.as_str()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn env_gc_removes_expired_and_orphaned_environments_and_keeps_protected_ones() {
    let m = Moto::start();
    let schema = postgres::fresh_schema("gc");
    let conn = postgres::server().conn_str();
    let f = Fixture::new(&config(&schema));
    f.write("environments.hcl", RULES);
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2 * 3600;
    let later = later.to_string();
    let run = |args: &[&str], clock: Option<&str>| {
        let mut c = f.cmd(args);
        for (k, v) in m.env() {
            c.env(k, v);
        }
        c.env("PG_CONN_STR", &conn);
        if let Some(t) = clock {
            c.env("TERRANE_NOW", t);
        }
        let out = c.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let up = |branch: &str, cidr: &str| {
        let (code, out, err) = run(
            &[
                "env",
                "up",
                "--branch",
                branch,
                "--ttl",
                "1h",
                "-auto-approve",
                &format!("-var=cidr={cidr}"),
            ],
            None,
        );
        assert_eq!(code, 0, "{out}\n{err}");
    };
    up("dev/feature-old", "10.2.0.0/16");
    up("dev/feature-lost", "10.3.0.0/16");
    up("master", "10.4.0.0/16");
    let name = |b: &str| format!("automation-{}", terrane_engine::environments::sha8(b));
    let (old, lost) = (name("dev/feature-old"), name("dev/feature-lost"));
    let vpc_of = |ws: &str| {
        let mut c = f.cmd(&["output", "-raw", "vpc_id"]);
        for (k, v) in m.env() {
            c.env(k, v);
        }
        let out = c
            .env("PG_CONN_STR", &conn)
            .env("TF_WORKSPACE", ws)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let (vpc_old, vpc_lost, vpc_master) =
        (vpc_of(&old), vpc_of(&lost), vpc_of("automation-master"));
    // The state of one is lost: its workspace is forgotten, its objects stay.
    let (code, out, err) = run(&["workspace", "delete", "-force", &lost], None);
    assert_eq!(code, 0, "{out}\n{err}");

    // Two hours later all three are past their TTL.
    let (_, out, _) = run(&["env", "list", "-json"], Some(&later));
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let status = |n: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == n)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status(&old), "expired");
    assert_eq!(status("automation-master"), "protected");

    // A dry run says what it would remove and removes nothing.
    let (code, out, err) = run(&["env", "gc", "--dry-run"], Some(&later));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!("  {old}  branch \"dev/feature-old\"")),
        "{out}"
    );
    assert!(out.contains(&format!("  {lost}  no state; ")), "{out}");
    assert!(
        out.contains(&format!("tagged terrane:env={lost}: nuke them")),
        "{out}"
    );
    assert!(
        out.contains("Kept automation-master: expired, but protected"),
        "{out}"
    );
    assert!(out.contains("This was a dry run"), "{out}");
    assert!(vpc_tags(&m, &vpc_old).await.is_some());

    // Without confirmation under -input=false it refuses.
    let (code, _, err) = run(&["env", "gc", "-input=false"], Some(&later));
    assert_eq!(code, 1);
    assert!(err.contains("No confirmation"), "{err}");

    let (code, out, err) = run(
        &["env", "gc", "-auto-approve", "--account", "123456789012"],
        Some(&later),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!("Removed environment {old}.")),
        "{out}"
    );
    assert!(
        out.contains(&format!("Removed orphaned environment {lost}.")),
        "{out}"
    );
    assert!(
        vpc_tags(&m, &vpc_old).await.is_none(),
        "the expired environment's VPC is left"
    );
    assert!(
        vpc_tags(&m, &vpc_lost).await.is_none(),
        "the orphan's VPC is left"
    );
    assert!(
        vpc_tags(&m, &vpc_master).await.is_some(),
        "the protected environment is gone"
    );
    let (_, out, _) = run(&["env", "list", "-json"], Some(&later));
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["automation-master"]);
}
