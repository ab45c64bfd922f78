//! What an intent carries besides its address, operation and token: enough for the next run to
//! record the object if it finds it by its token (see [`crate::session::Session::reconcile_intents`]).
//! Stored as JSON in the state's `intents` table.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntentBody {
    /// The provider configuration making the call (`provider.aws`). Versions before 0.1 of
    /// the state wrote it as `__provider`, which is still read.
    #[serde(default, alias = "__provider", skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The planned value (JSON), unknowns as in the saved plan format.
    #[serde(default)]
    pub planned: serde_json::Value,
    /// Attributes to record as sensitive.
    #[serde(default)]
    pub sensitive: Vec<String>,
    /// Resource-level dependencies to record.
    #[serde(default)]
    pub deps: Vec<String>,
}

impl IntentBody {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("an intent body is plain JSON")
    }

    /// Reads what a run wrote; anything unreadable reads as empty (the object is then planned
    /// again rather than recorded with wrong details).
    pub fn from_json(j: &serde_json::Value) -> IntentBody {
        serde_json::from_value(j.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_earlier_versions_wrote_and_round_trips() {
        let old = serde_json::json!({"__provider": "provider.aws", "planned": {"a": 1}, "sensitive": ["p"], "deps": ["aws_vpc.x"]});
        let b = IntentBody::from_json(&old);
        assert_eq!(b.provider.as_deref(), Some("provider.aws"));
        assert_eq!(b.deps, vec!["aws_vpc.x".to_string()]);
        assert_eq!(IntentBody::from_json(&b.to_json()), b);
        assert_eq!(
            IntentBody::from_json(&serde_json::json!({})),
            IntentBody::default()
        );
    }
}
