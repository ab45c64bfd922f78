//! Health-check kinds: what a `health_check` block of `null_resource` can test. The null provider
//! has `tcp`, `command` and `http`; providers that can read a service's health add their own
//! (the AWS provider adds `aws_ecs_service` and `aws_lb_target_health`), so the null provider
//! needs no cloud SDK.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::schema::ResourceSchema;
use crate::value::Value;

/// A kind of check: the block written inside `health_check` (`http { ... }`).
pub trait CheckKind: Send + Sync {
    /// The block name (`http`, `aws_ecs_service`).
    fn name(&self) -> &'static str;
    fn schema(&self) -> ResourceSchema;
    /// Checks a block's values and prepares the probe that attempts it.
    fn prepare(&self, block: &Value) -> Result<Arc<dyn Probe>, String>;
}

/// One prepared check.
#[async_trait]
pub trait Probe: Send + Sync {
    /// For messages: `http GET http://127.0.0.1:8080/health`.
    fn describe(&self) -> String;
    /// One attempt, bounded by `timeout`: whether it passed, and what it observed (a status
    /// and body excerpt, an exit code and output tail, running/desired counts).
    async fn attempt(&self, timeout: Duration) -> Outcome;
}

/// What one attempt observed.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub passed: bool,
    pub status: String,
}

impl Outcome {
    pub fn pass(status: impl Into<String>) -> Self {
        Outcome {
            passed: true,
            status: status.into(),
        }
    }
    pub fn fail(status: impl Into<String>) -> Self {
        Outcome {
            passed: false,
            status: status.into(),
        }
    }
}
