//! Health-check kinds that read AWS, for `health_check` blocks of `null_resource`:
//!
//! - `aws_ecs_service { cluster, service }`: the service is steady: as many tasks running as
//!   desired, and its newest deployment's rollout COMPLETED.
//! - `aws_lb_target_health { target_group_arn }`: the target group has registered targets and
//!   every one of them is `healthy`.
//!
//! Both take `region` and `endpoint_url` like the provider block; credentials, region and
//! endpoint otherwise come from the environment as for the SDK (`AWS_REGION`,
//! `AWS_ENDPOINT_URL`, profiles).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use terrane_core::probe::{CheckKind, Outcome, Probe};
use terrane_core::{Attribute, ResourceSchema, Type, Value};
use tokio::sync::OnceCell;

use crate::config::Clients;
use crate::error::sdk;

/// The kinds this provider adds to the null provider's `health_check`.
pub fn check_kinds() -> Vec<Arc<dyn CheckKind>> {
    vec![Arc::new(EcsServiceKind), Arc::new(TargetHealthKind)]
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(String::from)
}

fn required(v: &Value, kind: &str, k: &str) -> Result<String, String> {
    match s(v, k) {
        Some(x) if !x.is_empty() => Ok(x),
        _ => Err(format!("health_check {kind}: {k} must not be empty")),
    }
}

/// The SDK clients of one check, made on its first attempt.
struct Connection {
    settings: Value,
    clients: OnceCell<Result<Clients, String>>,
}

impl Connection {
    fn new(block: &Value) -> Connection {
        let mut m = terrane_core::ValueMap::new();
        for k in ["region", "endpoint_url"] {
            if let Some(x) = s(block, k) {
                m.insert(k.to_string(), Value::from(x));
            }
        }
        Connection {
            settings: Value::Map(m),
            clients: OnceCell::new(),
        }
    }

    async fn clients(&self) -> Result<&Clients, String> {
        self.clients
            .get_or_init(|| async {
                Clients::from_config(&self.settings)
                    .await
                    .map_err(|e| e.message)
            })
            .await
            .as_ref()
            .map_err(Clone::clone)
    }
}

fn common_schema() -> ResourceSchema {
    ResourceSchema::new()
        .attr("region", Attribute::optional(Type::String))
        .attr("endpoint_url", Attribute::optional(Type::String))
}

/// What one AWS check reads, given the SDK clients.
#[async_trait]
trait AwsCheck: Send + Sync {
    fn describe(&self) -> String;
    async fn check(&self, c: &Clients) -> Outcome;
}

/// A check with its connection: clients made on the first attempt, every attempt bounded by
/// its timeout (a late answer is a failed attempt).
struct AwsProbe<C> {
    check: C,
    conn: Connection,
}

impl<C: AwsCheck + 'static> AwsProbe<C> {
    fn shared(check: C, block: &Value) -> Arc<dyn Probe> {
        Arc::new(AwsProbe {
            check,
            conn: Connection::new(block),
        })
    }
}

#[async_trait]
impl<C: AwsCheck> Probe for AwsProbe<C> {
    fn describe(&self) -> String {
        self.check.describe()
    }

    async fn attempt(&self, timeout: Duration) -> Outcome {
        let call = async {
            match self.conn.clients().await {
                Ok(c) => self.check.check(c).await,
                Err(e) => Outcome::fail(e),
            }
        };
        tokio::time::timeout(timeout, call)
            .await
            .unwrap_or_else(|_| Outcome::fail(format!("no answer from AWS within {timeout:?}")))
    }
}

pub struct EcsServiceKind;

impl CheckKind for EcsServiceKind {
    fn name(&self) -> &'static str {
        "aws_ecs_service"
    }
    fn schema(&self) -> ResourceSchema {
        common_schema()
            .attr("cluster", Attribute::required(Type::String))
            .attr("service", Attribute::required(Type::String))
    }
    fn prepare(&self, block: &Value) -> Result<Arc<dyn Probe>, String> {
        let check = EcsServiceCheck {
            cluster: required(block, self.name(), "cluster")?,
            service: required(block, self.name(), "service")?,
        };
        Ok(AwsProbe::shared(check, block))
    }
}

struct EcsServiceCheck {
    cluster: String,
    service: String,
}

#[async_trait]
impl AwsCheck for EcsServiceCheck {
    fn describe(&self) -> String {
        format!("aws_ecs_service {} in {}", self.service, self.cluster)
    }

    async fn check(&self, c: &Clients) -> Outcome {
        let out = match c
            .ecs
            .describe_services()
            .cluster(&self.cluster)
            .services(&self.service)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => return Outcome::fail(sdk("DescribeServices", e).to_string()),
        };
        let Some(svc) = out
            .services()
            .iter()
            .find(|s| s.status() != Some("INACTIVE"))
        else {
            return Outcome::fail(format!(
                "no service {} in cluster {}",
                self.service, self.cluster
            ));
        };
        let (running, desired) = (svc.running_count(), svc.desired_count());
        // The newest deployment is the PRIMARY one (ECS keeps one PRIMARY per service).
        let newest = svc
            .deployments()
            .iter()
            .find(|d| d.status() == Some("PRIMARY"))
            .or_else(|| svc.deployments().iter().max_by_key(|d| d.created_at()));
        let rollout = newest
            .and_then(|d| d.rollout_state())
            .map(|r| r.as_str().to_string())
            .unwrap_or_else(|| "unknown".into());
        let status = format!("running {running} of {desired} desired, newest deployment {rollout}");
        if running == desired && rollout == "COMPLETED" {
            Outcome::pass(status)
        } else {
            Outcome::fail(status)
        }
    }
}

pub struct TargetHealthKind;

impl CheckKind for TargetHealthKind {
    fn name(&self) -> &'static str {
        "aws_lb_target_health"
    }
    fn schema(&self) -> ResourceSchema {
        common_schema().attr("target_group_arn", Attribute::required(Type::String))
    }
    fn prepare(&self, block: &Value) -> Result<Arc<dyn Probe>, String> {
        let check = TargetHealthCheck {
            arn: required(block, self.name(), "target_group_arn")?,
        };
        Ok(AwsProbe::shared(check, block))
    }
}

struct TargetHealthCheck {
    arn: String,
}

#[async_trait]
impl AwsCheck for TargetHealthCheck {
    fn describe(&self) -> String {
        // arn:aws:elasticloadbalancing:region:account:targetgroup/NAME/ID
        let name = self.arn.split('/').nth(1).unwrap_or(&self.arn);
        format!("aws_lb_target_health of target group {name}")
    }

    async fn check(&self, c: &Clients) -> Outcome {
        let out = match c
            .elbv2
            .describe_target_health()
            .target_group_arn(&self.arn)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => return Outcome::fail(sdk("DescribeTargetHealth", e).to_string()),
        };
        let targets = out.target_health_descriptions();
        if targets.is_empty() {
            return Outcome::fail("no registered targets");
        }
        let mut unhealthy = Vec::new();
        for t in targets {
            let id = t
                .target()
                .map(|x| match x.port() {
                    Some(p) => format!("{}:{p}", x.id().unwrap_or("?")),
                    None => x.id().unwrap_or("?").to_string(),
                })
                .unwrap_or_else(|| "?".into());
            let h = t.target_health();
            let state = h
                .and_then(|h| h.state())
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "unknown".into());
            if state != "healthy" {
                let why = h
                    .and_then(|h| h.description())
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                unhealthy.push(format!("{id} {state}{why}"));
            }
        }
        let n = targets.len();
        if unhealthy.is_empty() {
            Outcome::pass(format!("{n} of {n} targets healthy"))
        } else {
            Outcome::fail(format!(
                "{} of {n} targets healthy; {}",
                n - unhealthy.len(),
                unhealthy.join(", ")
            ))
        }
    }
}
