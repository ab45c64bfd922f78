//! Rendering plans for people, in Terraform's layout and words (scripts grep the summary lines).
//! Sensitive values are never rendered.

use std::collections::BTreeSet;
use std::fmt::Write;

use terrane_core::{Value, ValueMap};

use crate::plan::{Action, OutputChange, Plan, ResourceChange};

mod console;
mod nested;

pub use console::console_value;
use nested::Mark;

#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
    pub fn cyan(&self, s: &str) -> String {
        self.paint("36", s)
    }
}

const SENSITIVE: &str = "(sensitive value)";

fn symbol(c: &ResourceChange, st: &Style) -> String {
    match c.action {
        Action::Create => format!("  {}", st.green("+")),
        Action::Update => format!("  {}", st.yellow("~")),
        Action::Delete => format!("  {}", st.red("-")),
        Action::Replace if c.create_before_destroy => st.green("+") + &st.red("/-"),
        Action::Replace => st.red("-/") + &st.green("+"),
        Action::Read => format!(" {}", st.cyan("<=")),
        Action::NoOp => "   ".into(),
    }
}

fn headline(c: &ResourceChange) -> String {
    let a = &c.addr;
    let base = match c.action {
        Action::Create => "will be created".to_string(),
        Action::Update => "will be updated in-place".to_string(),
        Action::Delete => "will be destroyed".to_string(),
        Action::Replace => match &c.reason {
            Some(r) => r.clone(),
            None => "must be replaced".to_string(),
        },
        Action::Read => "will be read during apply".to_string(),
        Action::NoOp => "has no changes".to_string(),
    };
    let mut line = format!("# {a} {base}");
    if let (Action::Delete, Some(r)) = (c.action, &c.reason) {
        line.push_str(&format!("\n  # ({a} {r})"));
    }
    line
}

fn attrs(v: Option<&Value>) -> ValueMap {
    v.and_then(Value::as_map).cloned().unwrap_or_default()
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// One change; `notes` are lines under its headline (where a `moved` or `import` block
/// brought it from).
pub fn render_change(c: &ResourceChange, st: &Style, out: &mut String, notes: &[String]) {
    let _ = writeln!(out, "  {}", st.bold(&headline(c)));
    for n in notes {
        let _ = writeln!(out, "  # ({n})");
    }
    let mode_kw = if c.addr.resource.mode == terrane_core::Mode::Data {
        "data"
    } else {
        "resource"
    };
    let _ = writeln!(
        out,
        "{} {mode_kw} \"{}\" \"{}\" {{",
        symbol(c, st),
        c.addr.resource.ty,
        c.addr.resource.name
    );
    let before = attrs(c.prior.as_ref());
    let after = attrs(c.planned.as_ref());
    let forces: BTreeSet<&str> = c
        .requires_replace
        .iter()
        .filter_map(|p| p.first().map(String::as_str))
        .collect();
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    // (marker, name, before, after, end of the first line, sensitive)
    let mut shown: Vec<(Mark, &String, &Value, &Value, String, bool)> = Vec::new();
    let mut hidden = 0;
    let null = Value::Null;
    for k in keys {
        let sens = c.sensitive.contains(k.as_str());
        let b = before.get(k).unwrap_or(&null);
        let a = after.get(k).unwrap_or(&null);
        match c.action {
            Action::Create | Action::Read => {
                if !is_empty(a) || a.is_unknown() {
                    shown.push((Mark::Add, k, a, a, String::new(), sens));
                }
            }
            Action::Delete => {
                if !is_empty(b) {
                    shown.push((Mark::Remove, k, b, b, String::new(), sens));
                }
            }
            Action::Update | Action::Replace | Action::NoOp => {
                let force = if forces.contains(k.as_str()) {
                    st.red(" # forces replacement")
                } else {
                    String::new()
                };
                if b == a {
                    if k == "id" || k == "name" {
                        shown.push((Mark::Same, k, b, b, String::new(), sens));
                    } else if !is_empty(b) {
                        hidden += 1;
                    }
                } else if is_empty(b) && !a.is_unknown() {
                    shown.push((Mark::Add, k, a, a, force, sens));
                } else if is_empty(a) && !a.is_unknown() {
                    shown.push((Mark::Remove, k, b, b, force, sens));
                } else {
                    shown.push((Mark::Change, k, b, a, force, sens));
                }
            }
        }
    }
    let width = shown.iter().map(|l| l.1.len()).max().unwrap_or(0);
    let mut lines = Vec::new();
    for (mark, name, b, a, tail, sens) in shown {
        if sens {
            let end = if mark == Mark::Remove { " -> null" } else { "" };
            lines.push(format!(
                "      {} {name:<width$} = {SENSITIVE}{end}{tail}",
                match mark {
                    Mark::Add => st.green("+"),
                    Mark::Remove => st.red("-"),
                    Mark::Change => st.yellow("~"),
                    Mark::Same => " ".into(),
                }
            ));
        } else {
            nested::attribute(&mut lines, st, 6, mark, name, width, b, a, &tail);
        }
    }
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    if hidden > 0 {
        let s = if hidden == 1 { "" } else { "s" };
        let _ = writeln!(out, "        # ({hidden} unchanged attribute{s} hidden)");
    }
    let _ = writeln!(out, "    }}");
}

/// Renders a whole plan, Terraform style.
pub fn render_plan(plan: &Plan, st: &Style) -> String {
    let mut out = String::new();
    // As Terraform does, report only the outside changes that matter to this plan: objects
    // that were deleted, or that this plan changes. Others (a computed attribute that moved
    // because of another object, say) are only counted, and not mentioned when nothing changes.
    let changing: BTreeSet<&terrane_core::InstanceAddr> = plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
        .map(|c| &c.addr)
        .collect();
    // A refresh-only plan is about outside changes: all of them are shown.
    let (relevant, quiet): (Vec<_>, Vec<_>) = plan
        .drift
        .iter()
        .partition(|d| plan.refresh_only || d.after.is_none() || changing.contains(&d.addr));
    let outputs_changed: Vec<_> = plan
        .outputs
        .iter()
        .filter(|o| o.before != o.after)
        .collect();
    if plan.refresh_only && relevant.is_empty() && outputs_changed.is_empty() {
        let _ = writeln!(
            out,
            "\n{}\n",
            st.bold(&st.green("No changes. Your infrastructure still matches the configuration."))
        );
        let _ = writeln!(out, "Terrane has checked that the real remote objects still match the result of your most recent changes, and found no differences.");
        return out;
    }
    if !relevant.is_empty() {
        let _ = writeln!(
            out,
            "\n{}\n",
            st.bold("Note: Objects have changed outside of Terrane")
        );
        let _ = writeln!(out, "Terrane detected the following changes made outside of Terrane since the last apply:\n");
        for d in &relevant {
            match &d.after {
                None => {
                    let _ = writeln!(
                        out,
                        "  {}",
                        st.bold(&format!("# {} has been deleted", d.addr))
                    );
                }
                Some(after) => {
                    let _ = writeln!(out, "  {}", st.bold(&format!("# {} has changed", d.addr)));
                    let (b, a) = (attrs(Some(&d.before)), attrs(Some(after)));
                    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
                    for k in keys {
                        let (bv, av) = (
                            b.get(k).unwrap_or(&Value::Null),
                            a.get(k).unwrap_or(&Value::Null),
                        );
                        if bv != av {
                            let sens = d.sensitive.contains(k.as_str());
                            let shown = if sens {
                                SENSITIVE.to_string()
                            } else {
                                format!("{bv} -> {av}")
                            };
                            let _ = writeln!(out, "      {} {k} = {shown}", st.yellow("~"));
                        }
                    }
                }
            }
        }
        let _ = writeln!(out);
    }
    if plan.refresh_only {
        if !relevant.is_empty() {
            let _ = writeln!(out, "This is a refresh-only plan, so Terrane will not take any actions to undo these. If you were expecting these changes then you can apply this plan to record the updated values in the Terrane state without changing any remote objects.");
        }
        output_changes(&mut out, &outputs_changed, st);
        return out;
    }
    if !quiet.is_empty() && !changing.is_empty() {
        let n = quiet.len();
        let _ = writeln!(
            out,
            "\n({n} other object{} changed outside of Terrane in ways this plan does not act on.)",
            if n == 1 { "" } else { "s" }
        );
    }
    let visible: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| match c.action {
            Action::NoOp => false,
            Action::Read => c.reason.is_some(),
            _ => true,
        })
        .collect();
    // Objects renamed by `moved` blocks and otherwise unchanged.
    let moved_only: Vec<&crate::plan::Move> = plan
        .moves
        .iter()
        .filter(|m| !visible.iter().any(|c| c.addr == m.to))
        .filter(|m| !plan.moves.iter().any(|later| later.from == m.to))
        .collect();
    if visible.is_empty()
        && outputs_changed.is_empty()
        && moved_only.is_empty()
        && plan.forgets.is_empty()
        && plan.imports.is_empty()
    {
        let _ = writeln!(
            out,
            "\n{}\n",
            st.bold(&st.green("No changes. Your infrastructure matches the configuration."))
        );
        let _ = writeln!(out, "Terrane has compared your real infrastructure against your configuration and found no differences, so no changes are needed.");
        return out;
    }
    if !visible.is_empty() {
        let actions: BTreeSet<Action> = visible.iter().map(|c| c.action).collect();
        let _ = writeln!(out, "\nTerrane used the selected providers to generate the following execution plan. Resource actions are indicated with the following symbols:");
        for a in &actions {
            let line = match a {
                Action::Create => format!("  {} create", st.green("+")),
                Action::Update => format!("  {} update in-place", st.yellow("~")),
                Action::Delete => format!("  {} destroy", st.red("-")),
                Action::Replace => {
                    if visible
                        .iter()
                        .any(|c| c.action == Action::Replace && !c.create_before_destroy)
                    {
                        format!(
                            "{} destroy and then create replacement",
                            st.red("-/") + &st.green("+")
                        )
                    } else {
                        format!(
                            "{} create replacement and then destroy",
                            st.green("+") + &st.red("/-")
                        )
                    }
                }
                Action::Read => format!(" {} read (data resources)", st.cyan("<=")),
                Action::NoOp => continue,
            };
            let _ = writeln!(out, "{line}");
        }
    }
    let imported_only: Vec<&crate::plan::Import> = plan
        .imports
        .iter()
        .filter(|i| !visible.iter().any(|c| c.addr == i.instance.addr))
        .collect();
    if !visible.is_empty()
        || !moved_only.is_empty()
        || !plan.forgets.is_empty()
        || !imported_only.is_empty()
    {
        let _ = writeln!(out, "\nTerrane will perform the following actions:\n");
        for i in &imported_only {
            let _ = writeln!(
                out,
                "  {}\n",
                st.bold(&format!(
                    "# {} will be imported (id {:?})",
                    i.instance.addr, i.id
                ))
            );
        }
        for a in &plan.forgets {
            let _ = writeln!(
                out,
                "  {}\n  (a removed block with destroy = false: the object is left as it is)\n",
                st.bold(&format!(
                    "# {a} will be removed from the Terrane state but will not be destroyed"
                ))
            );
        }
        for m in &moved_only {
            let from = plan.moved_from(&m.to).unwrap_or(&m.from);
            let _ = writeln!(
                out,
                "  {}\n",
                st.bold(&format!("# {from} has moved to {}", m.to))
            );
        }
        for c in &visible {
            let mut notes = Vec::new();
            if let Some(from) = plan.moved_from(&c.addr) {
                notes.push(format!("moved from {from}"));
            }
            if let Some(i) = plan.imports.iter().find(|i| i.instance.addr == c.addr) {
                notes.push(format!("imported from {:?}", i.id));
            }
            render_change(c, st, &mut out, &notes);
            let _ = writeln!(out);
        }
    }
    let n = plan.counts();
    let _ = writeln!(
        out,
        "{}",
        st.bold(&format!(
            "Plan: {}{} to add, {} to change, {} to destroy{}.",
            match plan.imports.len() {
                0 => String::new(),
                i => format!("{i} to import, "),
            },
            n.add,
            n.change,
            n.destroy,
            match plan.forgets.len() {
                0 => String::new(),
                f => format!(", {f} to forget"),
            }
        ))
    );
    output_changes(&mut out, &outputs_changed, st);
    out
}

/// The last line of an apply, in Terraform's words.
pub fn apply_summary(destroy: bool, added: usize, changed: usize, destroyed: usize) -> String {
    if destroy {
        format!("Destroy complete! Resources: {destroyed} destroyed.")
    } else {
        format!(
            "Apply complete! Resources: {added} added, {changed} changed, {destroyed} destroyed."
        )
    }
}

/// "Changes to Outputs:" and one line per changed output.
fn output_changes(out: &mut String, outputs_changed: &[&OutputChange], st: &Style) {
    if !outputs_changed.is_empty() {
        let _ = writeln!(out, "\nChanges to Outputs:");
        for o in outputs_changed {
            let (mark, b, a) = match (&o.before, &o.after) {
                (None, Some(a)) => (Mark::Add, a, a),
                (Some(b), None) => (Mark::Remove, b, b),
                (Some(b), Some(a)) => (Mark::Change, b, a),
                (None, None) => continue,
            };
            let mut lines = Vec::new();
            if o.sensitive {
                let (sym, end) = match mark {
                    Mark::Add => (st.green("+"), ""),
                    Mark::Remove => (st.red("-"), " -> null"),
                    _ => (st.yellow("~"), ""),
                };
                lines.push(format!("  {sym} {} = {SENSITIVE}{end}", o.name));
            } else {
                nested::attribute(&mut lines, st, 2, mark, &o.name, 0, b, a, "");
            }
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
    }
}
