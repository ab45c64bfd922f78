//! Rendering for people: diagnostics, live apply progress, confirmation prompts.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use terrane_core::{Diagnostic, Diagnostics, ProgressReport, Severity};
use terrane_engine::events::{Event, EventSink};
use terrane_engine::Action;

use super::machine;

pub fn print_diags(diags: &Diagnostics, color: bool) {
    let mut err = std::io::stderr().lock();
    for d in diags.iter() {
        let text = terrane_core::redact::mask(&d.to_string()).into_owned();
        if color {
            let (label, code) = match d.severity {
                Severity::Error => ("Error:", "31"),
                Severity::Warning => ("Warning:", "33"),
            };
            let text = text.replacen(label, &format!("\x1b[1;{code}m{label}\x1b[0m\x1b[1m"), 1);
            let text = text.replacen('\n', "\x1b[0m\n", 1);
            let _ = writeln!(err, "\n{text}");
        } else {
            let _ = writeln!(err, "\n{text}");
        }
    }
}

pub fn diag_json(d: &Diagnostic) -> serde_json::Value {
    serde_json::json!({
        "type": "diagnostic",
        "diagnostic": super::machine::diagnostic_value(d),
    })
}

fn verbs(a: Action) -> (&'static str, &'static str) {
    match a {
        Action::Create | Action::Replace => ("Creating...", "Creation complete"),
        Action::Update => ("Modifying...", "Modifications complete"),
        Action::Delete => ("Destroying...", "Destruction complete"),
        Action::Read => ("Reading...", "Read complete"),
        Action::NoOp => ("", ""),
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Prints each resource's start, elapsed time and result as it happens (or JSON lines).
pub struct Progress {
    pub json: bool,
    pub color: bool,
    in_flight: Mutex<HashMap<String, (Instant, Action)>>,
    /// When each waiting gate was last shown (one line per gate every few seconds at most).
    waiting_shown: Mutex<HashMap<String, Instant>>,
    /// Lines not written yet, and when lines were last written. An apply of 100,000
    /// in-process resources reports 200,000 lines; one write each cost a tenth of its time.
    pending: Mutex<(String, Instant)>,
}

/// Lines wait at most this long (or until this much is pending) before they are written.
const WRITE_EVERY: Duration = Duration::from_millis(50);
const WRITE_AT: usize = 32 * 1024;

/// Gates retry every few seconds or faster; this keeps their lines readable.
const WAITING_EVERY: Duration = Duration::from_secs(5);

impl Progress {
    pub fn new(json: bool, color: bool) -> Arc<Progress> {
        Arc::new(Progress {
            json,
            color,
            in_flight: Mutex::new(HashMap::new()),
            waiting_shown: Mutex::new(HashMap::new()),
            pending: Mutex::new((String::new(), Instant::now())),
        })
    }

    /// Adds a line to what is written next; writes it all if it waited long enough.
    fn emit(&self, line: &str) {
        let mut p = self.pending.lock().expect("progress lock");
        p.0.push_str(line);
        p.0.push('\n');
        if p.0.len() >= WRITE_AT || p.1.elapsed() >= WRITE_EVERY {
            Self::write_out(&mut p);
        }
    }

    fn write_out(p: &mut (String, Instant)) {
        if !p.0.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(p.0.as_bytes());
            let _ = out.flush();
            p.0.clear();
        }
        p.1 = Instant::now();
    }

    /// Writes every pending line (before anything else is printed).
    pub fn flush(&self) {
        Self::write_out(&mut self.pending.lock().expect("progress lock"));
    }

    fn bold(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// Writes pending lines every [`WRITE_EVERY`], and every 10 s a "Still creating..." line
    /// for each call in flight.
    pub fn spawn_ticker(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut write = tokio::time::interval(WRITE_EVERY);
            let mut tick = tokio::time::interval(Duration::from_secs(10));
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = write.tick() => {
                        me.flush();
                        continue;
                    }
                    _ = tick.tick() => {}
                }
                if me.json {
                    continue;
                }
                let now: Vec<(String, Duration, Action)> = me
                    .in_flight
                    .lock()
                    .expect("progress lock")
                    .iter()
                    .map(|(a, (t, act))| (a.clone(), t.elapsed(), *act))
                    .collect();
                for (addr, el, act) in now {
                    let verb = match act {
                        Action::Delete => "destroying",
                        Action::Update => "modifying",
                        Action::Read => "reading",
                        _ => "creating",
                    };
                    me.emit(&me.bold(&format!("{addr}: Still {verb}... [{} elapsed]", secs(el))));
                }
            }
        })
    }
}

impl EventSink for Progress {
    fn event(&self, e: &Event) {
        if self.json {
            match e {
                Event::ApplyStart { addr, action, id } => {
                    self.emit(&machine::apply_start(
                        addr,
                        *action,
                        id.as_deref(),
                        serde_json::json!({"address": addr, "action": action.as_str()}),
                    ));
                }
                Event::ApplyDone {
                    addr,
                    action,
                    elapsed,
                    id,
                } => {
                    self.emit(&machine::apply_complete(addr, *action, elapsed.as_secs_f64(), id.as_deref(), serde_json::json!({"address": addr, "action": action.as_str(), "elapsed_seconds": elapsed.as_secs_f64(), "id": id})));
                }
                Event::ApplyFailed {
                    addr,
                    action,
                    elapsed,
                    error,
                } => {
                    self.emit(&machine::apply_errored(addr, *action, elapsed.as_secs_f64(), serde_json::json!({"address": addr, "action": action.as_str(), "elapsed_seconds": elapsed.as_secs_f64(), "error": terrane_core::redact::mask(error)})));
                }
                Event::Skipped {
                    addr,
                    action,
                    reason,
                } => {
                    self.emit(&machine::line("warn", &format!("{addr}: Skipped ({reason})"), "apply_skipped", serde_json::json!({"hook": {"resource": machine::resource(addr), "action": machine::action(*action)}, "address": addr, "action": action.as_str(), "reason": reason})));
                }
                Event::Progress {
                    addr,
                    report:
                        ProgressReport::Waiting {
                            check,
                            attempt,
                            elapsed,
                            last_status,
                        },
                } => {
                    let last = terrane_core::redact::mask(last_status);
                    self.emit(&machine::line("info", &format!("{addr}: Waiting (attempt {attempt}, {}s)", elapsed.as_secs()), "waiting", serde_json::json!({"hook": {"resource": machine::resource(addr)}, "address": addr, "check": check, "attempt": attempt, "elapsed_seconds": elapsed.as_secs_f64(), "last_status": last})));
                }
                Event::Progress {
                    addr,
                    report: ProgressReport::Output { stream, line },
                } => {
                    // Terraform's provision_output hook, under Terrane's earlier name.
                    let line = terrane_core::redact::mask(line);
                    self.emit(&machine::line("info", &format!("{addr}: (local-exec): {line}"), "provisioner_output", serde_json::json!({"hook": {"resource": machine::resource(addr), "provisioner": "local-exec", "output": line}, "address": addr, "stream": stream, "line": line})));
                }
                Event::Interrupted { in_flight } => {
                    self.emit(&machine::line("warn", &format!("Interrupt received: waiting for {in_flight} in-flight operation(s) to finish"), "interrupted", serde_json::json!({"in_flight": in_flight})));
                }
            }
            return;
        }
        let line = match e {
            Event::ApplyStart { addr, action, .. } => {
                self.in_flight.lock().expect("progress lock").insert(addr.clone(), (Instant::now(), *action));
                format!("{addr}: {}", verbs(*action).0)
            }
            Event::ApplyDone { addr, action, elapsed, id } => {
                self.in_flight.lock().expect("progress lock").remove(addr);
                let id = id.as_ref().map(|i| format!(" [id={i}]")).unwrap_or_default();
                format!("{addr}: {} after {}{id}", verbs(*action).1, secs(*elapsed))
            }
            Event::ApplyFailed { addr, elapsed, .. } => {
                self.in_flight.lock().expect("progress lock").remove(addr);
                format!("{addr}: Failed after {}", secs(*elapsed))
            }
            Event::Skipped { addr, reason, .. } => format!("{addr}: Skipped ({reason})"),
            Event::Progress { addr, report: ProgressReport::Waiting { attempt, elapsed, last_status, .. } } => {
                let mut shown = self.waiting_shown.lock().expect("progress lock");
                if shown.get(addr).is_some_and(|t| t.elapsed() < WAITING_EVERY) {
                    return;
                }
                shown.insert(addr.clone(), Instant::now());
                format!("waiting: {addr} (attempt {attempt}, {} s) last: {}", elapsed.as_secs(), terrane_core::text::excerpt(last_status, 100))
            }
            Event::Progress { addr, report: ProgressReport::Output { line, .. } } => {
                // Command output is shown as written, not in bold.
                let line = terrane_core::redact::mask(line);
                self.emit(&format!("{addr} (local-exec): {line}"));
                return;
            }
            Event::Interrupted { in_flight } => format!("\nInterrupt received. Waiting for {in_flight} in-flight operation(s) to finish; press Ctrl-C again to stop now (state stays consistent)."),
        };
        let line = terrane_core::redact::mask(&line);
        self.emit(&self.bold(&line));
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Asks for "yes". Refuses when there is no terminal to ask on.
pub fn confirm(question: &str, detail: &str, input: bool) -> Result<bool, Diagnostics> {
    if !input || !std::io::stdin().is_terminal() {
        return Err(super::err(
            "No confirmation",
            "Terrane needs confirmation to apply changes but cannot ask: input is disabled or standard input is not a terminal. Use -auto-approve to apply without asking.",
        ));
    }
    println!("\n{question}\n  {detail}\n  Only 'yes' will be accepted to approve.\n");
    print!("  Enter a value: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| super::err("Failed to read input", e.to_string()))?;
    Ok(line.trim() == "yes")
}

/// Debug logs (`TERRANE_LOG`) go to stderr with sensitive values masked: each event is
/// formatted into a buffer, masked, then written whole.
pub struct MaskedStderr(Vec<u8>);

impl MaskedStderr {
    pub fn new() -> MaskedStderr {
        MaskedStderr(Vec::new())
    }
}

impl Write for MaskedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for MaskedStderr {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let _ = std::io::stderr()
            .lock()
            .write_all(terrane_core::redact::mask(&text).as_bytes());
    }
}
