//! `tcp { host, port }`: a connection is accepted. `command { command, interpreter, environment }`:
//! the command exits 0.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use terrane_core::probe::{CheckKind, Outcome, Probe};
use terrane_core::{Attribute, ResourceSchema, Type, Value};

pub struct Tcp;

impl CheckKind for Tcp {
    fn name(&self) -> &'static str {
        "tcp"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("host", Attribute::required(Type::String))
            .attr("port", Attribute::required(Type::Number))
    }
    fn prepare(&self, t: &Value) -> Result<Arc<dyn Probe>, String> {
        let port = t.get("port").and_then(Value::as_f64).unwrap_or(-1.0);
        if !(1.0..=65535.0).contains(&port) || port.fract() != 0.0 {
            return Err(format!(
                "health_check tcp: port must be 1-65535, got {port}"
            ));
        }
        Ok(Arc::new(TcpProbe {
            host: t
                .get("host")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            port: port as u16,
        }))
    }
}

pub struct TcpProbe {
    pub host: String,
    pub port: u16,
}

#[async_trait]
impl Probe for TcpProbe {
    fn describe(&self) -> String {
        format!("tcp {}:{}", self.host, self.port)
    }
    async fn attempt(&self, timeout: Duration) -> Outcome {
        let (host, port) = (&self.host, self.port);
        match tokio::time::timeout(
            timeout,
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await
        {
            Ok(Ok(_)) => Outcome::pass(format!("connected to {host}:{port}")),
            Ok(Err(e)) => Outcome::fail(format!("{host}:{port}: {e}")),
            Err(_) => Outcome::fail(format!("{host}:{port}: no connection within {timeout:?}")),
        }
    }
}

pub struct Command;

impl CheckKind for Command {
    fn name(&self) -> &'static str {
        "command"
    }
    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("command", Attribute::required(Type::String))
            .attr("interpreter", Attribute::optional(Type::list(Type::String)))
            .attr("environment", Attribute::optional(Type::map(Type::String)))
    }
    fn prepare(&self, c: &Value) -> Result<Arc<dyn Probe>, String> {
        Ok(Arc::new(CommandProbe {
            command: c
                .get("command")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            interpreter: c.strings_at("interpreter"),
            environment: string_map(c, "environment"),
        }))
    }
}

/// A map of strings at `k` (empty when absent).
pub(crate) fn string_map(v: &Value, k: &str) -> BTreeMap<String, String> {
    v.get(k)
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, x)| x.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

pub struct CommandProbe {
    pub command: String,
    pub interpreter: Vec<String>,
    pub environment: BTreeMap<String, String>,
}

#[async_trait]
impl Probe for CommandProbe {
    fn describe(&self) -> String {
        format!("command {:?}", self.command)
    }
    async fn attempt(&self, timeout: Duration) -> Outcome {
        let (prog, args) = match self.interpreter.split_first() {
            Some((p, rest)) => (p.clone(), rest.to_vec()),
            None => ("/bin/sh".to_string(), vec!["-c".to_string()]),
        };
        let mut cmd = tokio::process::Command::new(&prog);
        cmd.args(&args)
            .arg(&self.command)
            .envs(&self.environment)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        match tokio::time::timeout(timeout, cmd.output()).await {
            Err(_) => Outcome::fail(format!("still running after {timeout:?} (killed)")),
            Ok(Err(e)) => Outcome::fail(format!("cannot run {prog}: {e}")),
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
                Outcome {
                    passed: out.status.success(),
                    status,
                }
            }
        }
    }
}

/// The last `max` bytes of `s` (at a character boundary), trimmed.
pub(crate) fn tail(s: &str, max: usize) -> String {
    let s = s.trim();
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    s[start..].to_string()
}
