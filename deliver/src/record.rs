//! What delivery keeps in the workspace's state (its metadata, so every backend has it): the
//! builds, the releases, and the app's current delivery state, each as JSON under
//! `deliver/<app>/...`. The current state is what `data "terrane_release"` reads, so the module
//! plans what delivery did; an operation in flight (`op`) is recorded before its first change,
//! so a killed promote is found by the next command.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use terrane_core::Value;
use terrane_engine::workspace::Workspace;

use crate::DeliverError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Blue,
    Green,
}

impl Colour {
    pub fn other(self) -> Colour {
        match self {
            Colour::Blue => Colour::Green,
            Colour::Green => Colour::Blue,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Blue => "blue",
            Colour::Green => "green",
        }
    }
    pub const BOTH: [Colour; 2] = [Colour::Blue, Colour::Green];
}

impl std::fmt::Display for Colour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value per colour.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerColour<T> {
    pub blue: T,
    pub green: T,
}

impl<T> PerColour<T> {
    pub fn get(&self, c: Colour) -> &T {
        match c {
            Colour::Blue => &self.blue,
            Colour::Green => &self.green,
        }
    }
    pub fn set(&mut self, c: Colour, v: T) {
        match c {
            Colour::Blue => self.blue = v,
            Colour::Green => self.green = v,
        }
    }
}

/// A promote or rollback in progress: written before its first change, cleared after its last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    /// `promote` or `rollback`.
    pub kind: String,
    pub release: u64,
    pub from: Colour,
    pub to: Colour,
    pub started: i64,
    pub who: String,
}

/// The app's delivery state as the last command left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Current {
    pub live: Colour,
    /// Where the test listener forwards.
    pub test: Colour,
    /// The colour whose services carry `IsProduction = true`.
    pub production: Colour,
    /// The live listener's weights.
    pub weights: PerColour<i64>,
    /// The task definition each colour's service runs, once a release set it (`""`: the
    /// module's own).
    pub task_definitions: PerColour<String>,
    /// Each colour's task count where delivery set it (-1: the module's `desired_count`).
    #[serde(default = "module_counts")]
    pub desired: PerColour<i64>,
    /// The release serving live traffic (0: the module's first deploy).
    pub live_release: u64,
    /// The release live before it, which a rollback returns to.
    pub previous_release: u64,
    /// When `live` became live (seconds since the epoch).
    pub since: i64,
    pub op: Option<Op>,
}

impl Default for Current {
    fn default() -> Self {
        Current {
            live: Colour::Blue,
            test: Colour::Green,
            production: Colour::Blue,
            weights: PerColour {
                blue: 100,
                green: 0,
            },
            task_definitions: PerColour::default(),
            desired: module_counts(),
            live_release: 0,
            previous_release: 0,
            since: 0,
            op: None,
        }
    }
}

fn module_counts() -> PerColour<i64> {
    PerColour {
        blue: -1,
        green: -1,
    }
}

impl Current {
    /// As `data "terrane_release"` gives it to the module.
    pub fn to_value(&self, app: &str) -> Value {
        Value::map([
            ("app", Value::from(app)),
            ("live", Value::from(self.live.as_str())),
            ("test", Value::from(self.test.as_str())),
            ("production", Value::from(self.production.as_str())),
            (
                "weights",
                Value::map([
                    ("blue", Value::from(self.weights.blue)),
                    ("green", Value::from(self.weights.green)),
                ]),
            ),
            (
                "task_definitions",
                Value::map([
                    ("blue", Value::from(self.task_definitions.blue.as_str())),
                    ("green", Value::from(self.task_definitions.green.as_str())),
                ]),
            ),
            (
                "desired_counts",
                Value::map([
                    ("blue", Value::from(self.desired.blue)),
                    ("green", Value::from(self.desired.green)),
                ]),
            ),
            ("release", Value::from(self.live_release as i64)),
        ])
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Build {
    pub number: u64,
    pub git_sha: Option<String>,
    pub tags: Vec<String>,
    pub digest: String,
    pub repository: String,
    pub repository_uri: String,
    /// `uri@digest`: what a release pins.
    pub image: String,
    pub who: String,
    pub created: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Deploying,
    Tested,
    Failed,
    AwaitingApproval,
    Promoting,
    Baking,
    Live,
    RolledBack,
    Superseded,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Deploying => "deploying",
            Status::Tested => "tested",
            Status::Failed => "failed",
            Status::AwaitingApproval => "awaiting approval",
            Status::Promoting => "promoting",
            Status::Baking => "baking",
            Status::Live => "live",
            Status::RolledBack => "rolled back",
            Status::Superseded => "superseded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub number: u64,
    pub build: u64,
    pub image: String,
    pub digest: String,
    pub colour: Colour,
    /// The revision registered for this release (`""` until it is).
    pub task_definition: String,
    pub status: Status,
    /// Why it failed or was rolled back.
    pub reason: Option<String>,
    pub who: String,
    pub created: i64,
    pub updated: i64,
    /// What happened, in order (`<time> <what>`).
    pub log: Vec<String>,
}

fn key(app: &str, what: &str) -> String {
    format!("deliver/{app}/{what}")
}

/// The records of one app in one workspace.
pub struct Records<'a> {
    ws: &'a Workspace,
    app: String,
}

impl<'a> Records<'a> {
    pub fn new(ws: &'a Workspace, app: &str) -> Self {
        Records {
            ws,
            app: app.to_string(),
        }
    }

    fn all(&self) -> Result<BTreeMap<String, String>, DeliverError> {
        self.ws
            .metadata_of(self.ws.name())
            .map_err(|d| DeliverError::State(d.to_string()))
    }

    fn put<T: Serialize>(&self, what: &str, v: &T) -> Result<(), DeliverError> {
        let json = serde_json::to_string(v).expect("records serialize");
        self.ws
            .set_metadata(&[(key(&self.app, what), json)])
            .map_err(|d| DeliverError::State(d.to_string()))
    }

    fn list<T: for<'de> Deserialize<'de>>(&self, kind: &str) -> Result<Vec<T>, DeliverError> {
        let prefix = key(&self.app, &format!("{kind}/"));
        self.all()?
            .into_iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| {
                serde_json::from_str(&v)
                    .map_err(|e| DeliverError::State(format!("record {k} is unreadable: {e}")))
            })
            .collect()
    }

    /// `None`: nothing was delivered yet.
    pub fn current(&self) -> Result<Option<Current>, DeliverError> {
        match self.all()?.get(&key(&self.app, "current")) {
            Some(v) => serde_json::from_str(v).map(Some).map_err(|e| {
                DeliverError::State(format!("the current delivery state is unreadable: {e}"))
            }),
            None => Ok(None),
        }
    }

    pub fn set_current(&self, c: &Current) -> Result<(), DeliverError> {
        self.put("current", c)
    }

    /// Builds, oldest first.
    pub fn builds(&self) -> Result<Vec<Build>, DeliverError> {
        self.list("build")
    }

    pub fn put_build(&self, b: &Build) -> Result<(), DeliverError> {
        self.put(&format!("build/{:08}", b.number), b)
    }

    /// Releases, oldest first.
    pub fn releases(&self) -> Result<Vec<Release>, DeliverError> {
        self.list("release")
    }

    pub fn put_release(&self, r: &Release) -> Result<(), DeliverError> {
        self.put(&format!("release/{:08}", r.number), r)
    }
}

/// The current delivery state of `app` as the data source reads it (`None`: not delivered).
pub fn current_value(ws: &Workspace, app: &str) -> Result<Option<Value>, DeliverError> {
    Ok(Records::new(ws, app).current()?.map(|c| c.to_value(app)))
}
