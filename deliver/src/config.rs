//! `deliver.hcl`, beside the root module: one app per file, in the syntax of a `.tfvars` file
//! (every setting optional but `app`).
//!
//! ```hcl
//! app        = "web"                 # the app-delivery module's `name`
//! module     = "web"                 # its call's name: module.web's objects are driven
//! build      = "./build.sh"          # any command; see `build.rs` for its environment
//! push       = "docker push ..."     # optional: push yourself; default: the registry API
//! container  = "web"                 # the container whose image a release sets (default: the first)
//! strategy   = { type = "canary", percent = 10, interval = "1m" }  # or "all_at_once", "linear"
//! approval   = true                  # promote stops before the swap until --approve
//! bake_time  = "5m"                  # the live colour is watched this long after the swap
//! check_interval = "10s"             # how often checks and the alarm are read meanwhile
//! steady_timeout = "10m"             # how long a deploy waits for its service to be steady
//! scale_down_delay = "10m"           # after the bake time, the old colour goes to 0 tasks
//!                                    # (default: it keeps running, for an instant rollback)
//! alarm      = true                  # watch the module's alarm (default: when it has one)
//! test_checks = [{ http = { url = "http://my-lb:8080/health" }, deadline = "2m" }]
//! live_checks = [{ http = { url = "http://my-lb/health" } }]
//! ```
//!
//! A check is a `health_check` block of `null_resource`, written as an object. With no
//! `test_checks`, a deploy checks `http://<load balancer>:<test port>/health`; with no
//! `live_checks`, the bake time checks `http://<load balancer>:<live port>/health`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use terrane_core::units::parse_duration;
use terrane_core::Value;

use crate::DeliverError;

pub const FILE: &str = "deliver.hcl";

/// How traffic moves to the new colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// One swap of both listeners.
    AllAtOnce,
    /// `percent` of the live listener's traffic, for `interval`, then all of it.
    Canary { percent: i64, interval: Duration },
    /// `percent` more every `interval` until all of it.
    Linear { percent: i64, interval: Duration },
}

impl Strategy {
    /// The new colour's weights, step by step (the last is 100), and the wait after each.
    pub fn steps(&self) -> Vec<(i64, Duration)> {
        match self {
            Strategy::AllAtOnce => vec![(100, Duration::ZERO)],
            Strategy::Canary { percent, interval } => {
                vec![(*percent, *interval), (100, Duration::ZERO)]
            }
            Strategy::Linear { percent, interval } => {
                let mut out = Vec::new();
                let mut w = *percent;
                while w < 100 {
                    out.push((w, *interval));
                    w += percent;
                }
                out.push((100, Duration::ZERO));
                out
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Strategy::AllAtOnce => "all at once".into(),
            Strategy::Canary { percent, interval } => {
                format!("canary {percent}% for {}", show(*interval))
            }
            Strategy::Linear { percent, interval } => {
                format!("linear {percent}% every {}", show(*interval))
            }
        }
    }
}

pub fn show(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub app: String,
    /// The module call whose objects are driven (`""`: the root module).
    pub module: String,
    pub build: Option<String>,
    pub push: Option<String>,
    pub container: Option<String>,
    pub strategy: Strategy,
    pub approval: bool,
    pub bake_time: Duration,
    pub check_interval: Duration,
    pub steady_timeout: Duration,
    /// After the bake time, the old colour keeps its tasks this long, then goes to 0. `None`:
    /// it keeps running.
    pub scale_down_delay: Option<Duration>,
    /// `None`: watch the module's alarm when it has one.
    pub alarm: Option<bool>,
    pub test_checks: Vec<Value>,
    pub live_checks: Vec<Value>,
}

impl Config {
    /// Settings of `dir/deliver.hcl` (or `file`, relative to `dir`).
    pub fn load(dir: &Path, file: Option<&Path>) -> Result<Config, DeliverError> {
        let path = match file {
            Some(f) => dir.join(f),
            None => dir.join(FILE),
        };
        if !path.exists() {
            return Err(DeliverError::Config(format!(
                "{} does not exist: write the app's delivery settings there (see modules/app-delivery/README.md)",
                path.display()
            )));
        }
        let values = terrane_engine::config::load_var_file_values(&path)
            .map_err(|d| DeliverError::Config(d.to_string()))?;
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        // `file:line` of a setting (its first line), for messages about its value.
        let at = |k: &str| {
            let top = k.split('.').next().unwrap_or(k);
            match line_of(&text, top) {
                Some(n) => format!("{}:{n}", path.display()),
                None => path.display().to_string(),
            }
        };
        let bad =
            |k: &str, what: &str| DeliverError::Config(format!("{}: {k} must be {what}", at(k)));
        let duration = |k: &str, v: &Value| -> Result<Duration, DeliverError> {
            v.as_str()
                .and_then(|s| parse_duration(s).ok())
                .ok_or_else(|| bad(k, "a duration such as \"30s\" or \"5m\""))
        };
        let mut c = Config {
            path: path.clone(),
            app: String::new(),
            module: String::new(),
            build: None,
            push: None,
            container: None,
            strategy: Strategy::AllAtOnce,
            approval: false,
            bake_time: Duration::from_secs(300),
            check_interval: Duration::from_secs(10),
            steady_timeout: Duration::from_secs(600),
            scale_down_delay: None,
            alarm: None,
            test_checks: Vec::new(),
            live_checks: Vec::new(),
        };
        let mut module = None;
        for (k, v) in values {
            let text = || {
                v.as_str()
                    .map(String::from)
                    .ok_or_else(|| bad(&k, "a string"))
            };
            match k.as_str() {
                "app" => c.app = text()?,
                "module" => module = Some(text()?),
                "build" => c.build = Some(text()?),
                "push" => c.push = Some(text()?),
                "container" => c.container = Some(text()?),
                "approval" => c.approval = v.as_bool().ok_or_else(|| bad(&k, "true or false"))?,
                "alarm" => c.alarm = Some(v.as_bool().ok_or_else(|| bad(&k, "true or false"))?),
                "bake_time" => c.bake_time = duration(&k, &v)?,
                "check_interval" => c.check_interval = duration(&k, &v)?,
                "steady_timeout" => c.steady_timeout = duration(&k, &v)?,
                "scale_down_delay" => c.scale_down_delay = Some(duration(&k, &v)?),
                "strategy" => c.strategy = strategy(&v, &bad)?,
                "test_checks" | "live_checks" => {
                    let list = v
                        .as_list()
                        .ok_or_else(|| bad(&k, "a list of health_check objects"))?
                        .to_vec();
                    let kinds = terrane_provider_builtin::health::Kinds::builtin();
                    for item in &list {
                        terrane_provider_builtin::health::parse(item, &kinds)
                            .map_err(|e| DeliverError::Config(format!("{}: {k}: {e}", at(&k))))?;
                    }
                    if k == "test_checks" {
                        c.test_checks = list;
                    } else {
                        c.live_checks = list;
                    }
                }
                other => {
                    return Err(DeliverError::Config(format!(
                        "{}: unknown setting {other:?} (app, module, build, push, container, strategy, approval, bake_time, check_interval, steady_timeout, scale_down_delay, alarm, test_checks, live_checks)",
                        at(other)
                    )))
                }
            }
        }
        if c.app.is_empty() {
            return Err(bad("app", "set (the app-delivery module's name)"));
        }
        c.module = module.unwrap_or_else(|| c.app.clone());
        Ok(c)
    }
}

/// The line (1-based) where `key = ...` is set at the top level of `text`.
fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

fn strategy(v: &Value, bad: &dyn Fn(&str, &str) -> DeliverError) -> Result<Strategy, DeliverError> {
    let kind = match v {
        Value::String(s) => s.clone(),
        _ => v
            .get("type")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| {
                bad(
                    "strategy",
                    "\"all_at_once\" or { type = ..., percent, interval }",
                )
            })?,
    };
    let percent = || -> Result<i64, DeliverError> {
        let p = v.get("percent").and_then(Value::as_f64).unwrap_or(10.0);
        if p.fract() != 0.0 || !(1.0..=99.0).contains(&p) {
            return Err(bad("strategy.percent", "a whole number from 1 to 99"));
        }
        Ok(p as i64)
    };
    let interval = || -> Result<Duration, DeliverError> {
        let s = v.get("interval").and_then(Value::as_str).unwrap_or("1m");
        parse_duration(s).map_err(|_| bad("strategy.interval", "a duration such as \"1m\""))
    };
    match kind.as_str() {
        "all_at_once" => Ok(Strategy::AllAtOnce),
        "canary" => Ok(Strategy::Canary {
            percent: percent()?,
            interval: interval()?,
        }),
        "linear" => Ok(Strategy::Linear {
            percent: percent()?,
            interval: interval()?,
        }),
        _ => Err(bad(
            "strategy.type",
            "\"all_at_once\", \"canary\" or \"linear\"",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_step_to_all_traffic() {
        let s = Duration::from_secs(1);
        assert_eq!(Strategy::AllAtOnce.steps(), vec![(100, Duration::ZERO)]);
        assert_eq!(
            Strategy::Canary {
                percent: 10,
                interval: s
            }
            .steps(),
            vec![(10, s), (100, Duration::ZERO)]
        );
        let linear: Vec<i64> = Strategy::Linear {
            percent: 30,
            interval: s,
        }
        .steps()
        .into_iter()
        .map(|(w, _)| w)
        .collect();
        assert_eq!(linear, vec![30, 60, 90, 100]);
    }

    #[test]
    fn a_bad_setting_names_the_file_and_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE),
            "app = \"web\"\nstrategy = { type = \"rainbow\" }\n",
        )
        .unwrap();
        let e = Config::load(dir.path(), None).unwrap_err().to_string();
        assert!(e.contains("deliver.hcl:2: strategy.type must be"), "{e}");
        std::fs::write(dir.path().join(FILE), "app = \"web\"\nbake = \"5m\"\n").unwrap();
        let e = Config::load(dir.path(), None).unwrap_err().to_string();
        assert!(e.contains("deliver.hcl:2: unknown setting \"bake\""), "{e}");
        std::fs::write(dir.path().join(FILE), "module = \"web\"\n").unwrap();
        let e = Config::load(dir.path(), None).unwrap_err().to_string();
        assert!(e.contains("app must be set"), "{e}");
    }
}
