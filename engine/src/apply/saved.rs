//! Whether a saved plan may still be applied.

use terrane_core::Diagnostic;

use crate::plan::Plan;

/// Checks that a saved plan still fits the configuration and the state.
pub fn check_saved_plan(
    plan: &Plan,
    config_fingerprint: &str,
    lineage: &str,
    serial: i64,
) -> Result<(), Diagnostic> {
    if plan.config_fingerprint != config_fingerprint {
        return Err(Diagnostic::error(
            "Saved plan does not match the configuration",
            "The configuration files changed since this plan was made. Run plan again.",
        ));
    }
    if plan.lineage != lineage || plan.serial != serial {
        return Err(Diagnostic::error(
            "Saved plan is stale",
            format!("The given plan file can no longer be applied because the state was changed by another operation after the plan was created (plan made at state serial {}, state is now at serial {serial}). Run plan again.", plan.serial),
        ));
    }
    Ok(())
}
