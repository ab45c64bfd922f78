//! The objects a delivery drives, read from the workspace's state at the addresses
//! `modules/app-delivery` gives them (`module.<module>.aws_ecs_service.this["blue"]`, ...). Reading
//! them from state, not from names in `deliver.hcl`, keeps one source of truth: the module.

use std::collections::BTreeMap;

use terrane_core::Value;
use terrane_engine::workspace::Workspace;

use crate::record::{Colour, PerColour};
use crate::DeliverError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objects {
    pub cluster: String,
    /// Service names.
    pub services: PerColour<String>,
    pub service_arns: PerColour<String>,
    pub target_groups: PerColour<String>,
    pub live_listener: String,
    pub test_listener: String,
    pub live_port: i64,
    pub test_port: i64,
    pub repository: String,
    pub repository_uri: String,
    /// Each colour's alarm (the module's `aws_cloudwatch_metric_alarm.colour`), if any.
    pub alarms: PerColour<Option<String>>,
    /// The load balancer's DNS name (the default checks' host).
    pub dns_name: String,
}

impl Objects {
    /// `module`: the module call's name (`""`: the root module).
    pub fn from_state(ws: &Workspace, module: &str) -> Result<Objects, DeliverError> {
        let prefix = if module.is_empty() {
            String::new()
        } else {
            format!("module.{module}.")
        };
        let mut by_addr: BTreeMap<String, Value> = BTreeMap::new();
        for i in ws
            .instances()
            .map_err(|d| DeliverError::State(d.to_string()))?
        {
            let a = i.addr.to_string();
            if let Some(rest) = a.strip_prefix(&prefix) {
                by_addr.insert(rest.to_string(), i.value);
            }
        }
        let missing = |addr: &str| {
            DeliverError::Refused(format!(
                "{prefix}{addr} is not in workspace {:?}'s state: apply the app-delivery module first (terrane apply)",
                ws.name()
            ))
        };
        let get = |addr: &str, attr: &str| -> Result<String, DeliverError> {
            by_addr
                .get(addr)
                .ok_or_else(|| missing(addr))?
                .get(attr)
                .and_then(Value::as_str)
                .map(String::from)
                .ok_or_else(|| {
                    DeliverError::State(format!("{prefix}{addr} has no {attr} in state"))
                })
        };
        let port = |addr: &str| -> Result<i64, DeliverError> {
            by_addr
                .get(addr)
                .ok_or_else(|| missing(addr))?
                .get("port")
                .and_then(Value::as_f64)
                .map(|p| p as i64)
                .ok_or_else(|| DeliverError::State(format!("{prefix}{addr} has no port in state")))
        };
        let alarm = |c: &str| {
            by_addr
                .get(&format!("aws_cloudwatch_metric_alarm.colour[\"{c}\"]"))
                .and_then(|v| v.get("alarm_name").and_then(Value::as_str))
                .map(String::from)
        };
        Ok(Objects {
            cluster: get("aws_ecs_cluster.this", "name")?,
            services: PerColour {
                blue: get("aws_ecs_service.this[\"blue\"]", "name")?,
                green: get("aws_ecs_service.this[\"green\"]", "name")?,
            },
            service_arns: PerColour {
                blue: get("aws_ecs_service.this[\"blue\"]", "arn")?,
                green: get("aws_ecs_service.this[\"green\"]", "arn")?,
            },
            target_groups: PerColour {
                blue: get("aws_lb_target_group.this[\"blue\"]", "arn")?,
                green: get("aws_lb_target_group.this[\"green\"]", "arn")?,
            },
            live_listener: get("aws_lb_listener.live", "arn")?,
            test_listener: get("aws_lb_listener.test", "arn")?,
            live_port: port("aws_lb_listener.live")?,
            test_port: port("aws_lb_listener.test")?,
            repository: get("aws_ecr_repository.this", "name")?,
            repository_uri: get("aws_ecr_repository.this", "repository_url")?,
            alarms: PerColour {
                blue: alarm("blue"),
                green: alarm("green"),
            },
            dns_name: get("aws_lb.this", "dns_name")?,
        })
    }

    pub fn colour_of_target_group(&self, arn: &str) -> Option<Colour> {
        Colour::BOTH
            .into_iter()
            .find(|c| self.target_groups.get(*c) == arn)
    }
}
