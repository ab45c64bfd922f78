//! The nuke plan file: versioned JSON that lists exactly what `nuke apply` may delete, so a
//! removal can be reviewed and applied later. A checksum over its content refuses a file that
//! was edited after it was written; a format version this Terrane does not know is refused.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::select::Selection;
use crate::NukeError;

/// The format this Terrane writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// What a nuke will delete, and what it found but keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NukePlan {
    pub format_version: u32,
    pub terrane_version: String,
    pub created_at: String,
    /// The account the objects were found in, where the provider tells.
    pub account: Option<String>,
    pub regions: Vec<String>,
    pub selection: Selection,
    /// In an order that deletes each object before everything it waits on.
    pub objects: Vec<PlannedObject>,
    pub kept: Vec<KeptObject>,
    /// Objects of the environment's state that discovery did not find (deleted already, or of
    /// a type that cannot be listed).
    pub state_only: Vec<String>,
    /// sha256 of the file with this field empty.
    pub checksum: String,
}

/// One object to delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedObject {
    pub region: String,
    pub type_name: String,
    pub id: String,
    pub name: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub created: Option<String>,
    /// `state`, `tags` or `listing`.
    pub found_by: String,
    /// Its address in the environment's state, when it is there.
    pub address: Option<String>,
    /// Why the selection takes it.
    pub why: Vec<String>,
    /// Indices (into `objects`) of what must be deleted before it.
    pub after: Vec<usize>,
}

impl PlannedObject {
    pub fn label(&self) -> String {
        format!("{} {}", self.type_name, self.id)
    }
}

/// An object found but not selected, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptObject {
    pub region: String,
    pub type_name: String,
    pub id: String,
    pub name: Option<String>,
    pub reason: String,
}

impl NukePlan {
    fn digest(&self) -> String {
        let mut unsigned = self.clone();
        unsigned.checksum = String::new();
        let bytes = serde_json::to_vec(&unsigned).expect("a plan serializes");
        hex::encode(Sha256::digest(bytes))
    }

    /// Sets the checksum; call after the last change.
    pub fn seal(&mut self) {
        self.checksum = self.digest();
    }

    /// The plan as the file holds it (and as `-json` prints it).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan serializes")
    }

    pub fn write(&self, path: &Path) -> Result<(), NukeError> {
        std::fs::write(path, self.to_json() + "\n").map_err(|e| NukeError::PlanFile {
            path: path.display().to_string(),
            message: format!("cannot write it: {e}"),
        })
    }

    /// Reads a plan file: its version must be this Terrane's, its checksum must match.
    pub fn read(path: &Path) -> Result<NukePlan, NukeError> {
        let err = |message: String| NukeError::PlanFile {
            path: path.display().to_string(),
            message,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?;
        NukePlan::parse(&text).map_err(err)
    }

    pub fn parse(text: &str) -> Result<NukePlan, String> {
        let raw: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a nuke plan file: {e}"))?;
        match raw.get("format_version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(format!(
                    "format version {v}; this Terrane reads version {FORMAT_VERSION}: make the plan again with `terrane nuke plan -out FILE`"
                ))
            }
            None => return Err("not a nuke plan file: no format_version".into()),
        }
        let plan: NukePlan =
            serde_json::from_value(raw).map_err(|e| format!("not a nuke plan file: {e}"))?;
        if plan.checksum != plan.digest() {
            return Err(
                "it was changed after `terrane nuke plan` wrote it (its checksum does not match); make the plan again".into(),
            );
        }
        for (i, o) in plan.objects.iter().enumerate() {
            if let Some(&a) = o.after.iter().find(|&&a| a >= i) {
                return Err(format!(
                    "object {i} ({}) waits on object {a}, which does not come before it",
                    o.label()
                ));
            }
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> NukePlan {
        let mut p = NukePlan {
            format_version: FORMAT_VERSION,
            terrane_version: "0.1.0".into(),
            created_at: "2026-12-02T12:00:00Z".into(),
            account: Some("123456789012".into()),
            regions: vec!["us-east-1".into()],
            selection: Selection {
                env: Some("automation-dev".into()),
                ..Default::default()
            },
            objects: vec![
                PlannedObject {
                    region: "us-east-1".into(),
                    type_name: "aws_subnet".into(),
                    id: "subnet-1".into(),
                    name: None,
                    tags: BTreeMap::new(),
                    created: None,
                    found_by: "tags".into(),
                    address: None,
                    why: vec![],
                    after: vec![],
                },
                PlannedObject {
                    region: "us-east-1".into(),
                    type_name: "aws_vpc".into(),
                    id: "vpc-1".into(),
                    name: None,
                    tags: BTreeMap::new(),
                    created: None,
                    found_by: "state".into(),
                    address: Some("aws_vpc.main".into()),
                    why: vec![],
                    after: vec![0],
                },
            ],
            kept: vec![],
            state_only: vec![],
            checksum: String::new(),
        };
        p.seal();
        p
    }

    #[test]
    fn a_sealed_plan_reads_back_and_an_edited_one_is_refused() {
        let p = plan();
        assert_eq!(NukePlan::parse(&p.to_json()).unwrap(), p);
        // Adding an object by hand is refused.
        let edited = p.to_json().replace("\"vpc-1\"", "\"vpc-2\"");
        let e = NukePlan::parse(&edited).unwrap_err();
        assert!(
            e.contains("changed after `terrane nuke plan` wrote it"),
            "{e}"
        );
    }

    #[test]
    fn other_versions_and_other_files_are_refused() {
        let p = plan();
        let v2 = p
            .to_json()
            .replace("\"format_version\": 1", "\"format_version\": 2");
        let e = NukePlan::parse(&v2).unwrap_err();
        assert!(
            e.starts_with("format version 2; this Terrane reads version 1"),
            "{e}"
        );
        let e = NukePlan::parse("{\"format_version\": 1}").unwrap_err();
        assert!(e.starts_with("not a nuke plan file"), "{e}");
        let e = NukePlan::parse("terraform plan output").unwrap_err();
        assert!(e.starts_with("not a nuke plan file"), "{e}");
        // An order that is not one (sealed, so only the order check can refuse it).
        let mut bad = plan();
        bad.objects[0].after = vec![1];
        bad.seal();
        let e = NukePlan::parse(&bad.to_json()).unwrap_err();
        assert!(e.contains("does not come before it"), "{e}");
    }
}
