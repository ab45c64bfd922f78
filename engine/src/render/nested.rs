//! Attribute values in a plan as Terraform shows them: a nested value over several lines, one
//! per key or element with its own marker; in an update only what changed, with a count of
//! what did not; a string that holds JSON (a policy, a container definition) compared and
//! shown as JSON inside `jsonencode(...)`.

use terrane_core::Value;

use super::Style;

/// How a line's value came about.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Mark {
    Add,
    Remove,
    Change,
    Same,
}

impl Mark {
    fn sym(self, st: &Style) -> String {
        match self {
            Mark::Add => st.green("+"),
            Mark::Remove => st.red("-"),
            Mark::Change => st.yellow("~"),
            Mark::Same => " ".into(),
        }
    }
}

/// Writes one attribute `name` (padded to `width`) at `indent` spaces: its value being added
/// or removed (`before`/`after` the same then), or changed from `before` to `after`. `tail`
/// ends its first line (` # forces replacement`).
#[allow(clippy::too_many_arguments)]
pub(super) fn attribute(
    out: &mut Vec<String>,
    st: &Style,
    indent: usize,
    mark: Mark,
    name: &str,
    width: usize,
    before: &Value,
    after: &Value,
    tail: &str,
) {
    let lead = format!("{}{} {name:<width$} = ", " ".repeat(indent), mark.sym(st));
    // Only the attribute itself goes to null, not every element inside it.
    let end = if mark == Mark::Remove { " -> null" } else { "" };
    value(out, st, indent, mark, &lead, before, after, tail, end);
}

/// `lead` is the start of the first line (marker, name, `= `); `sep` ends the value (`,` for
/// a list element, ` -> null` for a removed attribute).
#[allow(clippy::too_many_arguments)]
fn value(
    out: &mut Vec<String>,
    st: &Style,
    indent: usize,
    mark: Mark,
    lead: &str,
    before: &Value,
    after: &Value,
    tail: &str,
    sep: &str,
) {
    let shown = match mark {
        Mark::Remove => before,
        _ => after,
    };
    // A JSON document in a string: compared and shown as JSON.
    if let Some((b, a)) = json_pair(mark, before, after) {
        out.push(format!("{lead}jsonencode({tail}"));
        let inner = indent + 4;
        let lead = format!("{}{} ", " ".repeat(inner), inner_mark(mark).sym(st));
        value(out, st, inner, inner_mark(mark), &lead, &b, &a, "", "");
        out.push(format!("{}){sep}", " ".repeat(indent + 2)));
        return;
    }
    match (mark, before, after) {
        (Mark::Change, Value::Map(b), Value::Map(a)) if !b.is_empty() && !a.is_empty() => {
            out.push(format!("{lead}{{{tail}"));
            let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            let width = keys.iter().map(|k| key(k).len()).max().unwrap_or(0);
            let mut hidden = 0;
            for k in keys {
                let (bv, av) = (b.get(k), a.get(k));
                let m = match (bv, av) {
                    (Some(x), Some(y)) if x == y => {
                        hidden += 1;
                        continue;
                    }
                    (Some(_), Some(_)) => Mark::Change,
                    (None, _) => Mark::Add,
                    (_, None) => Mark::Remove,
                };
                let null = Value::Null;
                let (bv, av) = (bv.unwrap_or(&null), av.unwrap_or(&null));
                let (bv, av) = match m {
                    Mark::Add => (av, av),
                    Mark::Remove => (bv, bv),
                    _ => (bv, av),
                };
                let lead = format!(
                    "{}{} {:<width$} = ",
                    " ".repeat(indent + 4),
                    m.sym(st),
                    key(k)
                );
                value(out, st, indent + 4, m, &lead, bv, av, "", "");
            }
            hidden_line(out, indent + 6, hidden);
            out.push(format!("{}}}{sep}", " ".repeat(indent + 2)));
        }
        (Mark::Change, Value::List(b), Value::List(a)) if !b.is_empty() && !a.is_empty() => {
            out.push(format!("{lead}[{tail}"));
            let mut hidden = 0;
            for step in list_diff(b, a) {
                let (m, bv, av) = match step {
                    Step::Same => {
                        hidden += 1;
                        continue;
                    }
                    Step::Remove(x) => (Mark::Remove, x, x),
                    Step::Add(y) => (Mark::Add, y, y),
                    Step::Change(x, y) => (Mark::Change, x, y),
                };
                let lead = format!("{}{} ", " ".repeat(indent + 4), m.sym(st));
                value(out, st, indent + 4, m, &lead, bv, av, "", ",");
            }
            hidden_line(out, indent + 6, hidden);
            out.push(format!("{}]{sep}", " ".repeat(indent + 2)));
        }
        (Mark::Change, b, a) => {
            let b = inline(b, Mark::Remove);
            let a = inline(a, Mark::Add);
            out.push(format!("{lead}{b} -> {a}{tail}{sep}"));
        }
        (_, _, _) => match shown {
            Value::Map(m) if !m.is_empty() => {
                out.push(format!("{lead}{{{tail}"));
                let width = m.keys().map(|k| key(k).len()).max().unwrap_or(0);
                for (k, v) in m.iter() {
                    let lead = format!(
                        "{}{} {:<width$} = ",
                        " ".repeat(indent + 4),
                        mark.sym(st),
                        key(k)
                    );
                    value(out, st, indent + 4, mark, &lead, v, v, "", "");
                }
                out.push(format!("{}}}{sep}", " ".repeat(indent + 2)));
            }
            Value::List(l) if !l.is_empty() => {
                out.push(format!("{lead}[{tail}"));
                for v in l {
                    let lead = format!("{}{} ", " ".repeat(indent + 4), mark.sym(st));
                    value(out, st, indent + 4, mark, &lead, v, v, "", ",");
                }
                out.push(format!("{}]{sep}", " ".repeat(indent + 2)));
            }
            v => {
                // A removed attribute's `sep` is ` -> null`, written before the tail.
                if sep == " -> null" {
                    out.push(format!("{lead}{}{sep}{tail}", inline(v, mark)));
                } else {
                    out.push(format!("{lead}{}{tail}{sep}", inline(v, mark)));
                }
            }
        },
    }
}

/// Inside `jsonencode(` of a change, the document itself is changed.
fn inner_mark(mark: Mark) -> Mark {
    mark
}

/// Both sides (or the one side) of a change as JSON documents, when they are strings that hold
/// a JSON object or array.
fn json_pair(mark: Mark, before: &Value, after: &Value) -> Option<(Value, Value)> {
    let doc = |v: &Value| -> Option<Value> {
        let s = v.as_str()?;
        let t = s.trim_start();
        if !(t.starts_with('{') || t.starts_with('[')) {
            return None;
        }
        serde_json::from_str::<serde_json::Value>(s)
            .ok()
            .map(|j| Value::from_json(&j))
    };
    match mark {
        Mark::Change => Some((doc(before)?, doc(after)?)),
        Mark::Remove => doc(before).map(|d| (d.clone(), d)),
        _ => doc(after).map(|d| (d.clone(), d)),
    }
}

/// A key as written: a name bare, anything else quoted.
fn key(k: &str) -> String {
    let ident = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident {
        k.to_string()
    } else {
        Value::from(k).to_string()
    }
}

/// A value on one line (an empty collection, a scalar, or unknown).
fn inline(v: &Value, _mark: Mark) -> String {
    v.to_string()
}

fn hidden_line(out: &mut Vec<String>, indent: usize, hidden: usize) {
    if hidden > 0 {
        let s = if hidden == 1 { "" } else { "s" };
        out.push(format!(
            "{}# ({hidden} unchanged element{s} hidden)",
            " ".repeat(indent)
        ));
    }
}

enum Step<'a> {
    Same,
    Remove(&'a Value),
    Add(&'a Value),
    Change(&'a Value, &'a Value),
}

/// The elements of two lists as kept, removed and added (a longest common subsequence); a
/// removed object followed by an added one at the same place is one changed object.
fn list_diff<'a>(b: &'a [Value], a: &'a [Value]) -> Vec<Step<'a>> {
    let (n, m) = (b.len(), a.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if b[i] == a[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut raw = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && b[i] == a[j] {
            raw.push(Step::Same);
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            raw.push(Step::Add(&a[j]));
            j += 1;
        } else {
            raw.push(Step::Remove(&b[i]));
            i += 1;
        }
    }
    // Pair a removed object with the added object right after it.
    let mut out = Vec::with_capacity(raw.len());
    let mut it = raw.into_iter().peekable();
    while let Some(s) = it.next() {
        match (s, it.peek()) {
            (Step::Remove(x), Some(Step::Add(y)))
                if matches!((x, y), (Value::Map(_), Value::Map(_))) =>
            {
                let y = *y;
                it.next();
                out.push(Step::Change(x, y));
            }
            (Step::Add(y), Some(Step::Remove(x)))
                if matches!((x, y), (Value::Map(_), Value::Map(_))) =>
            {
                let x = *x;
                it.next();
                out.push(Step::Change(x, y));
            }
            (s, _) => out.push(s),
        }
    }
    out
}
