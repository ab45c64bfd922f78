//! `precondition` and `postcondition` blocks (resources, data sources and outputs), with
//! Terraform's semantics: a condition that is known is checked at plan time; one that depends on
//! values known only after apply is checked during apply (preconditions before the call,
//! postconditions after it, with `self`). A failure is an error carrying `error_message`, at the
//! condition's line.

use terrane_core::{Diagnostic, Value};

use crate::config::Condition;
use crate::eval::EvalCtx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ResourcePrecondition,
    ResourcePostcondition,
    OutputPrecondition,
    /// A `check` block's `assert`: a failure is a warning.
    CheckAssertion,
}

impl Kind {
    fn summary(self) -> &'static str {
        match self {
            Kind::ResourcePrecondition => "Resource precondition failed",
            Kind::ResourcePostcondition => "Resource postcondition failed",
            Kind::OutputPrecondition => "Module output value precondition failed",
            Kind::CheckAssertion => "Check block assertion failed",
        }
    }
}

/// What checking one condition found.
#[derive(Debug)]
pub enum Checked {
    Passed,
    /// The condition depends on values not known yet: checked again during apply.
    Unknown,
    Failed(Diagnostic),
}

/// Checks `c` in `ctx` (which holds the scope, `count`/`each` and, for postconditions, `self`).
pub fn check(ctx: &mut EvalCtx<'_>, c: &Condition, kind: Kind) -> Checked {
    ctx.offset = c.condition.offset;
    let v = match ctx.eval(&c.condition.expr) {
        Ok(v) => v,
        Err(d) => return Checked::Failed(d),
    };
    match v {
        Value::Bool(true) => Checked::Passed,
        Value::Unknown => Checked::Unknown,
        Value::Bool(false) => {
            ctx.offset = c.error_message.offset;
            let msg = match ctx.eval(&c.error_message.expr) {
                Ok(Value::String(s)) => s,
                Ok(Value::Unknown) => "(the error message is not known until apply)".into(),
                Ok(other) => other.to_string(),
                Err(d) => format!("(the error message could not be evaluated: {})", d.summary),
            };
            Checked::Failed(Diagnostic::error(kind.summary(), msg).with_range(c.condition.range()))
        }
        Value::Null => Checked::Failed(
            Diagnostic::error(
                "Invalid condition result",
                "The condition value is null. Conditions must either be true or false.",
            )
            .with_range(c.condition.range()),
        ),
        other => Checked::Failed(
            Diagnostic::error(
                "Invalid condition result",
                format!(
                    "The condition must be a boolean (true or false), got {}.",
                    other.type_name()
                ),
            )
            .with_range(c.condition.range()),
        ),
    }
}

/// Checks every condition of `conds`; returns the failures and whether any was unknown.
pub fn check_all(
    ctx: &mut EvalCtx<'_>,
    conds: &[Condition],
    kind: Kind,
) -> (Vec<Diagnostic>, bool) {
    let mut failed = Vec::new();
    let mut unknown = false;
    for c in conds {
        match check(ctx, c, kind) {
            Checked::Passed => {}
            Checked::Unknown => unknown = true,
            Checked::Failed(d) => failed.push(d),
        }
    }
    (failed, unknown)
}
