//! `health_check` blocks of `null_resource`: checks that run when the resource is created (or
//! replaced) until they pass or their deadline ends, so that everything depending on the
//! resource waits for a healthy service.
//!
//! ```hcl
//! resource "null_resource" "nats_healthcheck" {
//!   triggers = { task_definition = aws_ecs_task_definition.nats.arn }
//!   health_check {
//!     http {
//!       url  = "http://127.0.0.1:8222/health"
//!       json = { "$.Status" = "Success" }
//!     }
//!     interval          = "2s"   # between attempts (default 5s)
//!     timeout           = "3s"   # per attempt (default 5s)
//!     deadline          = "5m"   # overall (default 5m)
//!     healthy_threshold = 2      # consecutive successes (default 1)
//!     backoff           = 1.5    # interval multiplier after each attempt (default 1)
//!   }
//! }
//! ```
//!
//! Kinds here: `tcp`, `command` and (with the `http` feature) `http`; other crates add theirs
//! through [`CheckKind`] (the AWS provider: `aws_ecs_service`, `aws_lb_target_health`).

mod basic;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "http")]
pub mod jsonpath;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use terrane_core::probe::{CheckKind, Probe};
use terrane_core::units::parse_duration;
use terrane_core::{Attribute, Nesting, Progress, ProgressReport, ResourceSchema, Type, Value};

/// The kinds of check a `health_check` block can hold, by block name.
#[derive(Clone)]
pub struct Kinds(BTreeMap<&'static str, Arc<dyn CheckKind>>);

impl Kinds {
    /// The kinds this crate has: `tcp`, `command` and, with the `http` feature, `http`.
    pub fn builtin() -> Kinds {
        let mut k = Kinds(BTreeMap::new());
        k.add(Arc::new(basic::Tcp));
        k.add(Arc::new(basic::Command));
        #[cfg(feature = "http")]
        k.add(Arc::new(http::Http));
        k
    }

    pub fn add(&mut self, kind: Arc<dyn CheckKind>) {
        self.0.insert(kind.name(), kind);
    }

    fn names(&self) -> String {
        self.0.keys().copied().collect::<Vec<_>>().join(", ")
    }
}

/// The schema of one `health_check` block.
pub fn block_schema(kinds: &Kinds) -> ResourceSchema {
    let mut s = ResourceSchema::new()
        .attr(
            "interval",
            Attribute::optional(Type::String).with_default("5s"),
        )
        .attr(
            "timeout",
            Attribute::optional(Type::String).with_default("5s"),
        )
        .attr(
            "deadline",
            Attribute::optional(Type::String).with_default("5m"),
        )
        .attr(
            "healthy_threshold",
            Attribute::optional(Type::Number).with_default(1i64),
        )
        .attr(
            "backoff",
            Attribute::optional(Type::Number).with_default(1i64),
        );
    for (name, k) in &kinds.0 {
        s = s.block(name, Nesting::Single, k.schema());
    }
    s
}

/// The type of the `health` attribute: one result per check, in order.
pub fn result_type() -> Type {
    Type::list(Type::Object(BTreeMap::from([
        ("attempts".to_string(), Type::Number),
        ("elapsed".to_string(), Type::Number),
        ("last_status".to_string(), Type::String),
    ])))
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("probe", &self.probe.describe())
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("healthy_threshold", &self.healthy_threshold)
            .field("backoff", &self.backoff)
            .finish()
    }
}

#[derive(Clone)]
pub struct Check {
    pub probe: Arc<dyn Probe>,
    pub interval: Duration,
    pub timeout: Duration,
    pub deadline: Duration,
    pub healthy_threshold: u32,
    pub backoff: f64,
}

/// What a check saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub healthy: bool,
    pub attempts: u32,
    pub elapsed: Duration,
    /// The last attempt's outcome: the connection, or the exit code and output tail.
    pub last_status: String,
    /// It stopped waiting because the run was interrupted (Ctrl-C), before its deadline.
    pub interrupted: bool,
}

impl Report {
    pub fn to_value(&self) -> Value {
        Value::map([
            ("attempts", Value::from(i64::from(self.attempts))),
            (
                "elapsed",
                Value::Number((self.elapsed.as_secs_f64() * 10.0).round() / 10.0),
            ),
            ("last_status", Value::from(self.last_status.as_str())),
        ])
    }
}

fn duration(v: &Value, k: &str, default: &str) -> Result<Duration, String> {
    let s = v.get(k).and_then(Value::as_str).unwrap_or(default);
    parse_duration(s).map_err(|e| format!("health_check {k}: {e}"))
}

/// A check from one `health_check` block (exactly one kind inside).
pub fn parse(v: &Value, kinds: &Kinds) -> Result<Check, String> {
    let present: Vec<(&str, &Value)> = kinds
        .0
        .keys()
        .filter_map(|k| v.get(k).filter(|b| !b.is_null()).map(|b| (*k, b)))
        .collect();
    let probe = match present.as_slice() {
        [(name, block)] => kinds.0[name].prepare(block)?,
        [] => {
            return Err(format!(
                "a health_check needs one check block, one of: {}",
                kinds.names()
            ))
        }
        many => {
            return Err(format!(
            "a health_check has one check, this one has {}; write one health_check block per check",
            many.iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(" and ")
        ))
        }
    };
    let threshold = v
        .get("healthy_threshold")
        .and_then(Value::as_f64)
        .unwrap_or(1.0);
    if threshold < 1.0 {
        return Err("health_check healthy_threshold must be at least 1".into());
    }
    let backoff = v.get("backoff").and_then(Value::as_f64).unwrap_or(1.0);
    if backoff < 1.0 {
        return Err(
            "health_check backoff must be at least 1 (1 keeps the interval constant)".into(),
        );
    }
    Ok(Check {
        probe,
        interval: duration(v, "interval", "5s")?,
        timeout: duration(v, "timeout", "5s")?,
        deadline: duration(v, "deadline", "5m")?,
        healthy_threshold: threshold as u32,
        backoff,
    })
}

/// Longest stretch between attempts, whatever the backoff.
const MAX_INTERVAL: Duration = Duration::from_secs(60);

/// Runs a check until it has passed `healthy_threshold` times in a row or its deadline ends.
/// After each failed attempt that will be retried, `progress` hears what it saw.
pub async fn run(check: &Check, label: &str, progress: &dyn Progress) -> Report {
    let started = Instant::now();
    let mut attempts = 0;
    let mut streak = 0;
    let mut wait = check.interval;
    loop {
        attempts += 1;
        // Every attempt gets its whole timeout (the deadline decides whether one starts), so the
        // last observation is an answer, not an attempt cut to the few ms left.
        let out = check.probe.attempt(check.timeout).await;
        let (ok, status) = (out.passed, out.status);
        streak = if ok { streak + 1 } else { 0 };
        if streak >= check.healthy_threshold {
            return Report {
                healthy: true,
                attempts,
                elapsed: started.elapsed(),
                last_status: status,
                interrupted: false,
            };
        }
        let elapsed = started.elapsed();
        if elapsed + wait >= check.deadline {
            return Report {
                healthy: false,
                attempts,
                elapsed,
                last_status: status,
                interrupted: false,
            };
        }
        progress.report(ProgressReport::Waiting {
            check: label.to_string(),
            attempt: attempts,
            elapsed,
            last_status: if ok {
                // Passed, but a streak of passes is needed.
                format!(
                    "passed {streak} of {} in a row; {status}",
                    check.healthy_threshold
                )
            } else {
                status.clone()
            },
        });
        if !pause(wait, progress).await {
            return Report {
                healthy: false,
                attempts,
                elapsed: started.elapsed(),
                last_status: status,
                interrupted: true,
            };
        }
        wait = wait.mul_f64(check.backoff).min(MAX_INTERVAL);
    }
}

/// Sleeps for `d`; false if the run was interrupted meanwhile (checked every 100 ms).
async fn pause(d: Duration, progress: &dyn Progress) -> bool {
    let until = Instant::now() + d;
    loop {
        if progress.stop_requested() {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        tokio::time::sleep(left.min(Duration::from_millis(100))).await;
    }
}

/// Runs every check of a resource in order; the error names the failing check and what it saw.
pub async fn run_all(
    checks: &[Check],
    progress: &dyn Progress,
) -> Result<Vec<Report>, (Vec<Report>, String)> {
    let mut reports = Vec::new();
    for (i, c) in checks.iter().enumerate() {
        let label = format!("health check {} ({})", i + 1, c.probe.describe());
        let r = run(c, &label, progress).await;
        let healthy = r.healthy;
        let msg = if r.interrupted {
            format!(
                "{label} stopped waiting: the run was interrupted after {} attempt(s) in {:.1} s; last observed: {}",
                r.attempts,
                r.elapsed.as_secs_f64(),
                r.last_status
            )
        } else {
            format!(
                "{label} did not pass within {:?}: {} attempt(s); last observed: {}",
                c.deadline, r.attempts, r.last_status
            )
        };
        reports.push(r);
        if !healthy {
            return Err((reports, msg));
        }
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use basic::{CommandProbe, TcpProbe};
    use std::sync::Mutex;
    use terrane_core::NoProgress;

    /// Keeps what a check reported while it waited.
    #[derive(Default)]
    struct Heard(Mutex<Vec<ProgressReport>>);

    impl Progress for Heard {
        fn report(&self, r: ProgressReport) {
            self.0.lock().unwrap().push(r);
        }
    }

    fn tcp(port: u16, deadline_ms: u64) -> Check {
        Check {
            probe: Arc::new(TcpProbe {
                host: "127.0.0.1".into(),
                port,
            }),
            interval: Duration::from_millis(50),
            timeout: Duration::from_millis(200),
            deadline: Duration::from_millis(deadline_ms),
            healthy_threshold: 1,
            backoff: 1.0,
        }
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[tokio::test]
    async fn a_port_that_opens_later_is_waited_for() {
        let port = free_port();
        let opener = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let l = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .unwrap();
            loop {
                let _ = l.accept().await;
            }
        });
        let heard = Heard::default();
        let r = run(&tcp(port, 5000), "gate", &heard).await;
        opener.abort();
        assert!(r.healthy, "{r:?}");
        assert!(r.attempts > 1, "it was closed at first: {r:?}");
        assert!(r.last_status.contains("connected"), "{r:?}");
        // Every failed attempt was reported as waiting, numbered, with what it saw.
        let heard = heard.0.lock().unwrap();
        assert_eq!(heard.len() as u32, r.attempts - 1, "{heard:?}");
        match &heard[0] {
            ProgressReport::Waiting {
                check,
                attempt,
                last_status,
                ..
            } => {
                assert_eq!((check.as_str(), *attempt), ("gate", 1));
                assert!(last_status.contains("refused"), "{last_status}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_port_that_never_opens_fails_at_the_deadline_with_what_it_saw() {
        let port = free_port();
        let started = Instant::now();
        let err = run_all(&[tcp(port, 400)], &NoProgress).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(err.1.contains("did not pass within 400ms"), "{}", err.1);
        assert!(err.1.contains("refused"), "{}", err.1);
        assert!(err.0[0].attempts >= 2, "{:?}", err.0);
    }

    #[tokio::test]
    async fn a_command_passes_after_n_attempts_and_a_threshold_needs_a_streak() {
        let dir = std::env::temp_dir().join(format!("terrane-health-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let counter = dir.join("n");
        std::fs::write(&counter, "0").unwrap();
        let check = Check {
            probe: Arc::new(CommandProbe {
                // Fails twice, then passes; reads its counter from the environment.
                command: r#"n=$(cat "$COUNTER"); echo $((n+1)) > "$COUNTER"; if [ "$n" -lt 2 ]; then echo "not yet ($n)" >&2; exit 3; fi"#.into(),
                interpreter: vec![],
                environment: BTreeMap::from([("COUNTER".to_string(), counter.display().to_string())]),
            }),
            interval: Duration::from_millis(20),
            timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(10),
            healthy_threshold: 2,
            backoff: 1.5,
        };
        let heard = Heard::default();
        let r = run(&check, "gate", &heard).await;
        assert!(r.healthy, "{r:?}");
        assert_eq!(
            r.attempts, 4,
            "two failures, then two successes in a row: {r:?}"
        );
        let last = heard.0.lock().unwrap().last().cloned();
        match last {
            Some(ProgressReport::Waiting { last_status, .. }) => {
                assert_eq!(last_status, "passed 1 of 2 in a row; exit code 0")
            }
            other => panic!("{other:?}"),
        }
        let failing = Check {
            probe: Arc::new(CommandProbe {
                command: "echo boom >&2; exit 7".into(),
                interpreter: vec![],
                environment: BTreeMap::new(),
            }),
            deadline: Duration::from_millis(200),
            ..check
        };
        let err = run_all(&[failing], &NoProgress).await.unwrap_err();
        assert!(err.1.contains("exit code 7, output: boom"), "{}", err.1);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn blocks_are_checked() {
        let kinds = Kinds::builtin();
        let block = |inner: Vec<(&str, Value)>| Value::map(inner);
        let parse = |v: &Value| parse(v, &kinds);
        assert!(parse(&block(vec![]))
            .unwrap_err()
            .contains("needs one check block, one of: command,"));
        let t = Value::map([("host", Value::from("h")), ("port", Value::from(0i64))]);
        assert!(parse(&block(vec![("tcp", t)]))
            .unwrap_err()
            .contains("1-65535"));
        let t = Value::map([("host", Value::from("h")), ("port", Value::from(80i64))]);
        let c = parse(&block(vec![("tcp", t), ("interval", Value::from("250ms"))])).unwrap();
        assert_eq!(c.interval, Duration::from_millis(250));
        assert_eq!(c.deadline, Duration::from_secs(300));
        assert_eq!(c.probe.describe(), "tcp h:80");
        let cmd = Value::map([("command", Value::from("true"))]);
        let t = Value::map([("host", Value::from("h")), ("port", Value::from(80i64))]);
        assert!(parse(&block(vec![("tcp", t), ("command", cmd)]))
            .unwrap_err()
            .contains("this one has command and tcp"));
    }
}
