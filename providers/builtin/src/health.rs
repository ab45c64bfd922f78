//! `health_check` blocks of `null_resource`: checks that run when the resource is created (or
//! replaced) until they pass or their deadline ends, so that everything depending on the
//! resource waits for a healthy service.
//!
//! ```hcl
//! resource "null_resource" "nats_healthcheck" {
//!   triggers = { task_definition = aws_ecs_task_definition.nats.arn }
//!   health_check {
//!     tcp {
//!       host = "127.0.0.1"
//!       port = 4222
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
//! Kinds available now: `tcp { host, port }` and `command { command, interpreter, environment }`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use terrane_core::units::parse_duration;
use terrane_core::{Attribute, Nesting, ResourceSchema, Type, Value};

/// The schema of one `health_check` block.
pub fn block_schema() -> ResourceSchema {
    ResourceSchema::new()
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
        )
        .block(
            "tcp",
            Nesting::Single,
            ResourceSchema::new()
                .attr("host", Attribute::required(Type::String))
                .attr("port", Attribute::required(Type::Number)),
        )
        .block(
            "command",
            Nesting::Single,
            ResourceSchema::new()
                .attr("command", Attribute::required(Type::String))
                .attr("interpreter", Attribute::optional(Type::list(Type::String)))
                .attr("environment", Attribute::optional(Type::map(Type::String))),
        )
}

/// The type of the `health` attribute: one result per check, in order.
pub fn result_type() -> Type {
    Type::list(Type::Object(BTreeMap::from([
        ("attempts".to_string(), Type::Number),
        ("elapsed".to_string(), Type::Number),
        ("last_status".to_string(), Type::String),
    ])))
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Tcp {
        host: String,
        port: u16,
    },
    Command {
        command: String,
        interpreter: Vec<String>,
        environment: BTreeMap<String, String>,
    },
}

impl Kind {
    fn describe(&self) -> String {
        match self {
            Kind::Tcp { host, port } => format!("tcp {host}:{port}"),
            Kind::Command { command, .. } => format!("command {command:?}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub kind: Kind,
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
pub fn parse(v: &Value) -> Result<Check, String> {
    let present = |k: &str| v.get(k).filter(|b| !b.is_null());
    let kind =
        match (present("tcp"), present("command")) {
            (Some(t), None) => {
                let port = t.get("port").and_then(Value::as_f64).unwrap_or(-1.0);
                if !(1.0..=65535.0).contains(&port) || port.fract() != 0.0 {
                    return Err(format!(
                        "health_check tcp: port must be 1-65535, got {port}"
                    ));
                }
                Kind::Tcp {
                    host: t
                        .get("host")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    port: port as u16,
                }
            }
            (None, Some(c)) => Kind::Command {
                command: c
                    .get("command")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                interpreter: c.strings_at("interpreter"),
                environment: c
                    .get("environment")
                    .and_then(Value::as_map)
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, x)| x.as_str().map(|s| (k.clone(), s.to_string())))
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            (None, None) => {
                return Err("a health_check needs one check: tcp { ... } or command { ... }".into())
            }
            (Some(_), Some(_)) => return Err(
                "a health_check has one check; write two health_check blocks for tcp and command"
                    .into(),
            ),
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
        kind,
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
pub async fn run(check: &Check) -> Report {
    let started = Instant::now();
    let mut attempts = 0;
    let mut streak = 0;
    let mut wait = check.interval;
    loop {
        attempts += 1;
        let left = check.deadline.saturating_sub(started.elapsed());
        let (ok, status) = attempt(
            &check.kind,
            check.timeout.min(left.max(Duration::from_millis(1))),
        )
        .await;
        streak = if ok { streak + 1 } else { 0 };
        if streak >= check.healthy_threshold {
            return Report {
                healthy: true,
                attempts,
                elapsed: started.elapsed(),
                last_status: status,
            };
        }
        let elapsed = started.elapsed();
        if elapsed + wait >= check.deadline {
            return Report {
                healthy: false,
                attempts,
                elapsed,
                last_status: status,
            };
        }
        tokio::time::sleep(wait).await;
        wait = wait.mul_f64(check.backoff).min(MAX_INTERVAL);
    }
}

/// One attempt: (passed, what was observed).
async fn attempt(kind: &Kind, timeout: Duration) -> (bool, String) {
    match kind {
        Kind::Tcp { host, port } => {
            match tokio::time::timeout(
                timeout,
                tokio::net::TcpStream::connect((host.as_str(), *port)),
            )
            .await
            {
                Ok(Ok(_)) => (true, format!("connected to {host}:{port}")),
                Ok(Err(e)) => (false, format!("{host}:{port}: {e}")),
                Err(_) => (
                    false,
                    format!("{host}:{port}: no connection within {timeout:?}"),
                ),
            }
        }
        Kind::Command {
            command,
            interpreter,
            environment,
        } => {
            let (prog, args) = match interpreter.split_first() {
                Some((p, rest)) => (p.clone(), rest.to_vec()),
                None => ("/bin/sh".to_string(), vec!["-c".to_string()]),
            };
            let mut cmd = tokio::process::Command::new(&prog);
            cmd.args(&args)
                .arg(command)
                .envs(environment)
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true);
            match tokio::time::timeout(timeout, cmd.output()).await {
                Err(_) => (false, format!("still running after {timeout:?} (killed)")),
                Ok(Err(e)) => (false, format!("cannot run {prog}: {e}")),
                Ok(Ok(out)) => {
                    let code = out
                        .status
                        .code()
                        .map(|c| format!("exit code {c}"))
                        .unwrap_or_else(|| "killed by a signal".into());
                    let text = if out.stderr.is_empty() {
                        &out.stdout
                    } else {
                        &out.stderr
                    };
                    let tail = tail(&String::from_utf8_lossy(text), 400);
                    let status = if tail.is_empty() {
                        code
                    } else {
                        format!("{code}, output: {tail}")
                    };
                    (out.status.success(), status)
                }
            }
        }
    }
}

/// The last `max` bytes of `s` (at a character boundary), trimmed.
fn tail(s: &str, max: usize) -> String {
    let s = s.trim();
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    s[start..].to_string()
}

/// Runs every check of a resource in order; the error names the failing check and what it saw.
pub async fn run_all(checks: &[Check]) -> Result<Vec<Report>, (Vec<Report>, String)> {
    let mut reports = Vec::new();
    for (i, c) in checks.iter().enumerate() {
        let r = run(c).await;
        let healthy = r.healthy;
        let msg = format!(
            "health check {} ({}) did not pass within {:?}: {} attempt(s); last observed: {}",
            i + 1,
            c.kind.describe(),
            c.deadline,
            r.attempts,
            r.last_status
        );
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

    fn tcp(port: u16, deadline_ms: u64) -> Check {
        Check {
            kind: Kind::Tcp {
                host: "127.0.0.1".into(),
                port,
            },
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
        let r = run(&tcp(port, 5000)).await;
        opener.abort();
        assert!(r.healthy, "{r:?}");
        assert!(r.attempts > 1, "it was closed at first: {r:?}");
        assert!(r.last_status.contains("connected"), "{r:?}");
    }

    #[tokio::test]
    async fn a_port_that_never_opens_fails_at_the_deadline_with_what_it_saw() {
        let port = free_port();
        let started = Instant::now();
        let err = run_all(&[tcp(port, 400)]).await.unwrap_err();
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
            kind: Kind::Command {
                // Fails twice, then passes; reads its counter from the environment.
                command: r#"n=$(cat "$COUNTER"); echo $((n+1)) > "$COUNTER"; if [ "$n" -lt 2 ]; then echo "not yet ($n)" >&2; exit 3; fi"#.into(),
                interpreter: vec![],
                environment: BTreeMap::from([("COUNTER".to_string(), counter.display().to_string())]),
            },
            interval: Duration::from_millis(20),
            timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(10),
            healthy_threshold: 2,
            backoff: 1.5,
        };
        let r = run(&check).await;
        assert!(r.healthy, "{r:?}");
        assert_eq!(
            r.attempts, 4,
            "two failures, then two successes in a row: {r:?}"
        );
        let failing = Check {
            kind: Kind::Command {
                command: "echo boom >&2; exit 7".into(),
                interpreter: vec![],
                environment: BTreeMap::new(),
            },
            deadline: Duration::from_millis(200),
            ..check
        };
        let err = run_all(&[failing]).await.unwrap_err();
        assert!(err.1.contains("exit code 7, output: boom"), "{}", err.1);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn blocks_are_checked() {
        let block = |inner: Vec<(&str, Value)>| Value::map(inner);
        assert!(parse(&block(vec![]))
            .unwrap_err()
            .contains("needs one check"));
        let t = Value::map([("host", Value::from("h")), ("port", Value::from(0i64))]);
        assert!(parse(&block(vec![("tcp", t)]))
            .unwrap_err()
            .contains("1-65535"));
        let t = Value::map([("host", Value::from("h")), ("port", Value::from(80i64))]);
        let c = parse(&block(vec![("tcp", t), ("interval", Value::from("250ms"))])).unwrap();
        assert_eq!(c.interval, Duration::from_millis(250));
        assert_eq!(c.deadline, Duration::from_secs(300));
    }
}
