//! Terraform's machine-readable UI (`-json` on plan, apply and destroy): one JSON object per
//! line with `@level`, `@message`, `@module`, `@timestamp` and `type`, and the `change` and
//! `hook` objects that name a resource as Terraform does (format 1.2, as documented in
//! Terraform's "Machine-Readable UI" page). Terrane's own keys (`address`, `action`, ...) stay
//! beside them, so that readers of either shape work.

use serde_json::{json, Map, Value as J};
use terrane_core::addr::{InstanceAddr, InstanceKey, Mode};
use terrane_core::Diagnostic;
use terrane_engine::Action;

/// The UI format version Terraform's readers check.
const UI_VERSION: &str = "1.2";

/// One line: the common keys merged into `fields`.
pub fn line(level: &str, message: &str, ty: &str, fields: J) -> String {
    let mut m = match fields {
        J::Object(m) => m,
        _ => Map::new(),
    };
    m.insert("@level".into(), level.into());
    m.insert(
        "@message".into(),
        terrane_core::redact::mask(message).into(),
    );
    m.insert("@module".into(), "terraform.ui".into());
    m.insert("@timestamp".into(), timestamp().into());
    m.insert("type".into(), ty.into());
    J::Object(m).to_string()
}

/// The first line of every run.
pub fn version() -> String {
    let v = env!("CARGO_PKG_VERSION");
    line(
        "info",
        &format!("Terrane {v}"),
        "version",
        json!({"terraform": v, "terrane": v, "ui": UI_VERSION}),
    )
}

/// `2026-12-03T13:46:18.263592Z`, as Terraform stamps its lines.
fn timestamp() -> String {
    let now = std::time::SystemTime::now();
    let micros = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_micros();
    let secs = terrane_core::time::format_rfc3339(now);
    format!("{}.{micros:06}Z", secs.trim_end_matches('Z'))
}

/// A resource instance as Terraform's hooks name it.
pub fn resource(addr: &str) -> J {
    let Ok(a) = InstanceAddr::parse(addr) else {
        return json!({"addr": addr, "module": "", "resource": addr});
    };
    resource_of(&a)
}

pub fn resource_of(a: &InstanceAddr) -> J {
    let r = &a.resource;
    let module = if r.module.is_root() {
        String::new()
    } else {
        r.module.to_string()
    };
    let prefix = if r.mode == Mode::Data { "data." } else { "" };
    let key = match &a.key {
        InstanceKey::None => J::Null,
        InstanceKey::Int(i) => json!(i),
        InstanceKey::Str(s) => json!(s),
    };
    json!({
        "addr": a.to_string(),
        "module": module,
        "resource": format!("{prefix}{}.{}{}", r.ty, r.name, a.key),
        "implied_provider": terrane_engine::config::implied_provider(&r.ty),
        "resource_type": r.ty.as_ref(),
        "resource_name": r.name.as_ref(),
        "resource_key": key,
    })
}

/// Terraform's word for an action in `change` and `hook` objects.
pub fn action(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
        Action::Replace => "replace",
        Action::Read => "read",
        Action::NoOp => "noop",
    }
}

/// What a hook does: a replacement's apply is its create (Terrane reports one step for it).
fn hook_action(a: Action) -> &'static str {
    match a {
        Action::Replace => "create",
        other => action(other),
    }
}

pub fn planned_change(addr: &InstanceAddr, a: Action, extra: J) -> String {
    let mut fields = json!({"change": {"resource": resource_of(addr), "action": action(a)}});
    merge(&mut fields, extra);
    line(
        "info",
        &format!("{addr}: Plan to {}", action(a)),
        "planned_change",
        fields,
    )
}

pub fn drift(addr: &InstanceAddr, deleted: bool, extra: J) -> String {
    let a = if deleted { "delete" } else { "update" };
    let mut fields = json!({"change": {"resource": resource_of(addr), "action": a}});
    merge(&mut fields, extra);
    line(
        "info",
        &format!("{addr}: Drift detected ({a})"),
        "resource_drift",
        fields,
    )
}

/// The `refresh_start` and `refresh_complete` lines of one instance refresh read.
pub fn refresh(r: &terrane_engine::plan::Refreshed) -> [String; 2] {
    let at = |id: Option<&str>| {
        let mut hook = json!({"resource": resource_of(&r.addr)});
        let mut suffix = String::new();
        if let Some(id) = id {
            hook["id_key"] = "id".into();
            hook["id_value"] = id.into();
            suffix = format!(" [id={id}]");
        }
        (json!({"hook": hook}), suffix)
    };
    let (start, s) = at(r.before.as_deref());
    let (done, d) = at(r.after.as_deref().or(r.before.as_deref()));
    let addr = &r.addr;
    [
        line(
            "info",
            &format!("{addr}: Refreshing state...{s}"),
            "refresh_start",
            start,
        ),
        line(
            "info",
            &format!("{addr}: Refresh complete{d}"),
            "refresh_complete",
            done,
        ),
    ]
}

pub fn apply_start(addr: &str, a: Action, id: Option<&str>, extra: J) -> String {
    let verb = match a {
        Action::Delete => "Destroying...",
        Action::Update => "Modifying...",
        Action::Read => "Reading...",
        _ => "Creating...",
    };
    let mut hook = json!({"resource": resource(addr), "action": hook_action(a)});
    let mut message = format!("{addr}: {verb}");
    if let Some(id) = id {
        hook["id_key"] = "id".into();
        hook["id_value"] = id.into();
        message.push_str(&format!(" [id={id}]"));
    }
    let mut fields = json!({ "hook": hook });
    merge(&mut fields, extra);
    line("info", &message, "apply_start", fields)
}

pub fn apply_complete(addr: &str, a: Action, elapsed: f64, id: Option<&str>, extra: J) -> String {
    let verb = match a {
        Action::Delete => "Destruction complete",
        Action::Update => "Modifications complete",
        Action::Read => "Read complete",
        _ => "Creation complete",
    };
    let mut hook = json!({"resource": resource(addr), "action": hook_action(a), "elapsed_seconds": elapsed.floor()});
    let mut message = format!("{addr}: {verb} after {}s", elapsed.floor());
    if let (Some(id), false) = (id, a == Action::Delete) {
        hook["id_key"] = "id".into();
        hook["id_value"] = id.into();
        message.push_str(&format!(" [id={id}]"));
    }
    let mut fields = json!({ "hook": hook });
    merge(&mut fields, extra);
    line("info", &message, "apply_complete", fields)
}

pub fn apply_errored(addr: &str, a: Action, elapsed: f64, extra: J) -> String {
    let verb = match a {
        Action::Delete => "Destruction errored",
        Action::Update => "Modifications errored",
        _ => "Creation errored",
    };
    let mut fields = json!({"hook": {"resource": resource(addr), "action": hook_action(a), "elapsed_seconds": elapsed.floor()}});
    merge(&mut fields, extra);
    line(
        "error",
        &format!("{addr}: {verb} after {}s", elapsed.floor()),
        "apply_errored",
        fields,
    )
}

/// `operation`: plan, apply or destroy.
pub fn change_summary(
    operation: &str,
    add: usize,
    change: usize,
    remove: usize,
    import: usize,
    extra: J,
) -> String {
    let message = match operation {
        "apply" => {
            format!("Apply complete! Resources: {add} added, {change} changed, {remove} destroyed.")
        }
        "destroy" => format!("Destroy complete! Resources: {remove} destroyed."),
        _ => format!("Plan: {add} to add, {change} to change, {remove} to destroy."),
    };
    // Terrane has no actions (Terraform 1.14's `action` blocks): `action_invocation` is 0.
    let mut fields = json!({"changes": {"add": add, "change": change, "import": import, "remove": remove, "action_invocation": 0, "operation": operation}});
    merge(&mut fields, extra);
    line("info", &message, "change_summary", fields)
}

/// `outputs`: name to `{sensitive, action}` after a plan, `{sensitive, type, value}` after an
/// apply (no value for a sensitive one).
pub fn outputs(outputs: Map<String, J>) -> String {
    line(
        "info",
        &format!("Outputs: {}", outputs.len()),
        "outputs",
        json!({ "outputs": outputs }),
    )
}

/// A diagnostic as Terraform's JSON views write it (with Terrane's `address`).
pub fn diagnostic_value(d: &Diagnostic) -> J {
    let range = d.range.as_ref().map(|r| {
        json!({
            "filename": r.file.as_ref(),
            "start": {"line": r.line, "column": r.col},
            "end": {"line": r.line, "column": r.col + r.len},
        })
    });
    let mut diag = json!({
        "severity": if d.is_error() { "error" } else { "warning" },
        "summary": d.summary,
        "detail": d.detail,
        "address": d.address,
        "range": range,
    });
    if let Some(r) = &d.range {
        diag["snippet"] = json!({
            "code": r.line_text,
            "start_line": r.line,
            "highlight_start_offset": r.col.saturating_sub(1),
            "highlight_end_offset": r.col.saturating_sub(1) + r.len,
            "values": [],
        });
    }
    diag
}

pub fn diagnostic(d: &Diagnostic) -> String {
    let (level, title) = if d.is_error() {
        ("error", "Error")
    } else {
        ("warn", "Warning")
    };
    line(
        level,
        &format!("{title}: {}", d.summary),
        "diagnostic",
        json!({ "diagnostic": diagnostic_value(d) }),
    )
}

fn merge(into: &mut J, extra: J) {
    if let (J::Object(a), J::Object(b)) = (into, extra) {
        for (k, v) in b {
            a.entry(k).or_insert(v);
        }
    }
}
