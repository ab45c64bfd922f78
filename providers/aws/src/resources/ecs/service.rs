//! aws_ecs_service.

use super::*;
use crate::error::Result;

const SERVICE_STABLE: Duration = Duration::from_secs(1200);

async fn describe_service(cx: &Clients, cluster: &str, name: &str) -> Result<Option<t::Service>> {
    let out = match call!(
        cx.ecs
            .describe_services()
            .cluster(cluster)
            .services(name)
            .include(t::ServiceField::Tags),
        "DescribeServices"
    ) {
        Ok(o) => o,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(out
        .services
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.status() != Some("INACTIVE")))
}

/// DescribeServices answers for at most this many services of one cluster.
const DESCRIBE_BATCH: usize = 10;

/// The services of `priors` (each with its `cluster` and `name`), ten per DescribeServices of
/// their cluster, in the order of `priors`; a missing cluster means its services are gone.
async fn describe_many(cx: &Clients, priors: &[&Value]) -> Result<Vec<Option<t::Service>>> {
    let mut out: Vec<Option<t::Service>> = priors.iter().map(|_| None).collect();
    let groups = grouped_by(priors, |p| string_of(p, "cluster"));
    for (cluster, at) in groups {
        for chunk in at.chunks(DESCRIBE_BATCH) {
            let names: Vec<String> = chunk
                .iter()
                .filter_map(|&i| str_of(priors[i], "name").map(String::from))
                .collect();
            let found = match call!(
                cx.ecs
                    .describe_services()
                    .cluster(&cluster)
                    .set_services(Some(names))
                    .include(t::ServiceField::Tags),
                "DescribeServices"
            ) {
                Ok(o) => o.services.unwrap_or_default(),
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e),
            };
            let mine: Vec<&Value> = chunk.iter().map(|&i| priors[i]).collect();
            let live = found.into_iter().filter(|s| s.status() != Some("INACTIVE"));
            for (&i, s) in chunk
                .iter()
                .zip(in_order_by(&mine, "name", live, |s| s.service_name()))
            {
                out[i] = s;
            }
        }
    }
    Ok(out)
}

fn service_state(s: &t::Service, prior: &Value) -> Value {
    let tags = tags::from_sdk(s.tags());
    // moto (and ECS for a non-awsvpc service) returns an empty networkConfiguration: that is
    // no configuration, not drift.
    let net = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .filter(|a| !a.subnets().is_empty())
        .map(|a| {
            vec![Value::map([
                ("subnets", str_set(a.subnets())),
                ("security_groups", str_set(a.security_groups())),
                (
                    "assign_public_ip",
                    Value::Bool(a.assign_public_ip().map(|x| x.as_str()) == Some("ENABLED")),
                ),
            ])]
        })
        .unwrap_or_default();
    let mut lbs: Vec<Value> = s
        .load_balancers()
        .iter()
        .map(|l| {
            Value::map([
                ("target_group_arn", opt_s(l.target_group_arn())),
                ("container_name", opt_s(l.container_name())),
                ("container_port", opt_n(l.container_port())),
            ])
        })
        .collect();
    terrane_core::schema::dedup_set(&mut lbs);
    let dc = s.deployment_configuration();
    let cluster = s.cluster_arn().unwrap_or_default();
    tags::tagged(
        Value::map([
            ("id", opt_s(s.service_arn())),
            ("arn", opt_s(s.service_arn())),
            ("name", opt_s(s.service_name())),
            (
                "cluster",
                // Keep the spelling the user wrote (name or ARN) when it is the same cluster.
                match str_of(prior, "cluster") {
                    Some(p) if cluster.ends_with(&format!("/{p}")) || p == cluster => {
                        Value::from(p)
                    }
                    _ => Value::from(cluster),
                },
            ),
            ("task_definition", {
                let td = s.task_definition().unwrap_or_default();
                match str_of(prior, "task_definition") {
                    Some(p) if td == p || td.ends_with(&format!("/{p}")) => Value::from(p),
                    _ => Value::from(td),
                }
            }),
            ("desired_count", num(s.desired_count())),
            ("launch_type", opt_s(s.launch_type().map(|l| l.as_str()))),
            // Left out of some answers (moto's among them): not reported is not drift.
            (
                "deployment_minimum_healthy_percent",
                dc.and_then(|d| d.minimum_healthy_percent())
                    .map(num)
                    .unwrap_or_else(|| keep(prior, "deployment_minimum_healthy_percent")),
            ),
            (
                "deployment_maximum_percent",
                dc.and_then(|d| d.maximum_percent())
                    .map(num)
                    .unwrap_or_else(|| keep(prior, "deployment_maximum_percent")),
            ),
            (
                "health_check_grace_period_seconds",
                opt_n(s.health_check_grace_period_seconds())
                    .or_prior(prior, "health_check_grace_period_seconds"),
            ),
            (
                "wait_for_steady_state",
                prior
                    .get("wait_for_steady_state")
                    .cloned()
                    .unwrap_or(Value::Bool(false)),
            ),
            (
                "deployment_controller",
                match s.deployment_controller().map(|d| d.r#type().as_str()) {
                    // ECS's default, where no block was written: not drift.
                    Some("ECS") if block(prior, "deployment_controller").is_none() => {
                        Value::List(Vec::new())
                    }
                    Some(t) => Value::List(vec![Value::map([("type", Value::from(t))])]),
                    // Not reported (moto): what was written.
                    None => prior
                        .get("deployment_controller")
                        .cloned()
                        .unwrap_or(Value::List(Vec::new())),
                },
            ),
            ("network_configuration", Value::List(net)),
            ("load_balancer", Value::List(lbs)),
        ]),
        tags,
        prior,
    )
}

fn keep(prior: &Value, k: &str) -> Value {
    prior.get(k).cloned().unwrap_or(Value::Null)
}

trait OrPrior {
    fn or_prior(self, prior: &Value, k: &str) -> Value;
}

impl OrPrior for Value {
    /// Null from AWS where the prior state has a value keeps the prior (an unset optional).
    fn or_prior(self, prior: &Value, k: &str) -> Value {
        if self.is_null() || self == Value::Number(0.0) {
            match prior.get(k) {
                Some(p) if p.is_null() => Value::Null,
                _ => self,
            }
        } else {
            self
        }
    }
}

fn network_configuration(planned: &Value) -> Option<t::NetworkConfiguration> {
    let n = block(planned, "network_configuration")?;
    let a = t::AwsVpcConfiguration::builder()
        .set_subnets(Some(strs_of(n, "subnets")))
        .set_security_groups(Some(strs_of(n, "security_groups")))
        .assign_public_ip(if bool_of(n, "assign_public_ip") == Some(true) {
            t::AssignPublicIp::Enabled
        } else {
            t::AssignPublicIp::Disabled
        })
        .build()
        .ok()?;
    Some(
        t::NetworkConfiguration::builder()
            .awsvpc_configuration(a)
            .build(),
    )
}

fn load_balancers(planned: &Value) -> Vec<t::LoadBalancer> {
    blocks(planned, "load_balancer")
        .into_iter()
        .map(|l| {
            t::LoadBalancer::builder()
                .set_target_group_arn(str_of(l, "target_group_arn").map(String::from))
                .set_container_name(str_of(l, "container_name").map(String::from))
                .set_container_port(int_of(l, "container_port"))
                .build()
        })
        .collect()
}

fn deployment_configuration(planned: &Value) -> t::DeploymentConfiguration {
    t::DeploymentConfiguration::builder()
        .set_minimum_healthy_percent(int_of(planned, "deployment_minimum_healthy_percent"))
        .set_maximum_percent(int_of(planned, "deployment_maximum_percent"))
        .build()
}

/// Polls until the service has one deployment and runs the desired number of tasks.
async fn wait_stable(
    cx: &Clients,
    cluster: &str,
    name: &str,
    deadline: Duration,
) -> Result<t::Service> {
    wait_until(
        &format!("service {name} to become stable"),
        "DescribeServices",
        deadline,
        || async {
            Ok(describe_service(cx, cluster, name)
                .await?
                .filter(|s| s.deployments().len() == 1 && s.running_count() == s.desired_count()))
        },
    )
    .await
}

/// The settings CreateService and UpdateService share, from `planned`, on either's request.
macro_rules! service_settings {
    ($req:expr, $planned:expr) => {
        $req.task_definition(text_of($planned, "task_definition"))
            .desired_count(int_of($planned, "desired_count").unwrap_or(0))
            .set_network_configuration(network_configuration($planned))
            .deployment_configuration(deployment_configuration($planned))
            .set_health_check_grace_period_seconds(int_of(
                $planned,
                "health_check_grace_period_seconds",
            ))
    };
}

#[async_trait]
impl AwsResource for EcsService {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let clusters: Vec<String> =
            pages!(cx.ecs.list_clusters(), "ListClusters", cluster_arns).collect();
        let mut out = Vec::new();
        for c in clusters {
            let arns: Vec<String> = pages!(
                cx.ecs.list_services().cluster(&c),
                "ListServices",
                service_arns
            )
            .collect();
            for arn in arns {
                if let Some(s) = describe_service(cx, &c, &arn).await? {
                    out.push(Listed::new(service_state(&s, &Value::Null)));
                }
            }
        }
        Ok(out)
    }

    fn adjust_plan(&self, Planning { planned, .. }: Planning<'_>) {
        empty_sets_for_null(planned, "network_configuration", &["security_groups"]);
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let cluster = string_of(planned, "cluster");
        let name = string_of(planned, "name");
        retry_iam_propagation(|| async {
            let mut req = cx
                .ecs
                .create_service()
                .cluster(&cluster)
                .service_name(&name)
                .set_load_balancers(Some(load_balancers(planned)))
                .set_deployment_controller(block(planned, "deployment_controller").map(|d| {
                    t::DeploymentController::builder()
                        .r#type(t::DeploymentControllerType::from(
                            str_of(d, "type").unwrap_or("ECS"),
                        ))
                        .build()
                        .expect("type is set")
                }))
                // CreateService's idempotency token: a retried create makes no second service.
                .client_token(token)
                .set_tags(Some(tags::for_create(planned, token)));
            req = service_settings!(req, planned);
            if let Some(l) = str_of(planned, "launch_type") {
                req = req.launch_type(t::LaunchType::from(l));
            }
            call!(req, "CreateService")
        })
        .await?;
        let s = if bool_of(planned, "wait_for_steady_state") == Some(true) {
            wait_stable(
                cx,
                &cluster,
                &name,
                timeout(planned, "create", SERVICE_STABLE),
            )
            .await?
        } else {
            wait_until(
                &format!("service {name} to become active"),
                "DescribeServices",
                timeout(planned, "create", SERVICE_STABLE),
                || async {
                    Ok(describe_service(cx, &cluster, &name)
                        .await?
                        .filter(|s| s.status() == Some("ACTIVE")))
                },
            )
            .await?
        };
        Ok(service_state(&s, planned))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        // Import ids are `cluster/service`; the state has both.
        let (cluster, name) = match (str_of(prior, "cluster"), str_of(prior, "name")) {
            (Some(c), Some(n)) => (c.to_string(), n.to_string()),
            _ => match id.split_once('/') {
                Some((c, n)) if !id.starts_with("arn:") => (c.to_string(), n.to_string()),
                _ => {
                    // arn:aws:ecs:region:acct:service/cluster/name
                    let parts: Vec<&str> = id.rsplitn(3, '/').collect();
                    if parts.len() < 3 {
                        return Ok(None);
                    }
                    (parts[1].to_string(), parts[0].to_string())
                }
            },
        };
        Ok(describe_service(cx, &cluster, &name)
            .await?
            .map(|s| service_state(&s, prior)))
    }

    fn read_batch(&self) -> Option<usize> {
        Some(DESCRIBE_BATCH * 10)
    }

    async fn read_many(&self, cx: &Clients, priors: &[&Value]) -> Result<Vec<Option<Value>>> {
        if priors
            .iter()
            .any(|p| str_of(p, "cluster").is_none() || str_of(p, "name").is_none())
        {
            return crate::resources::lifecycle::read_one_by_one(self, cx, priors).await;
        }
        Ok(describe_many(cx, priors)
            .await?
            .into_iter()
            .zip(priors)
            .map(|(s, p)| s.map(|s| service_state(&s, p)))
            .collect())
    }

    async fn update(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<Value> {
        let cluster = string_of(prior, "cluster");
        let name = string_of(prior, "name");
        let arn = string_of(prior, "arn");
        if changed(
            prior,
            planned,
            &[
                "task_definition",
                "desired_count",
                "network_configuration",
                "load_balancer",
                "deployment_minimum_healthy_percent",
                "deployment_maximum_percent",
                "health_check_grace_period_seconds",
            ],
        ) {
            let mut req = cx.ecs.update_service().cluster(&cluster).service(&name);
            req = service_settings!(req, planned);
            if changed(prior, planned, &["load_balancer"]) {
                req = req.set_load_balancers(Some(load_balancers(planned)));
            }
            call!(req, "UpdateService")?;
        }
        sync_tags(cx, &arn, prior, planned).await?;
        let s = if bool_of(planned, "wait_for_steady_state") == Some(true) {
            wait_stable(
                cx,
                &cluster,
                &name,
                timeout(planned, "update", SERVICE_STABLE),
            )
            .await?
        } else {
            describe_service(cx, &cluster, &name)
                .await?
                .ok_or_else(|| vanished("DescribeServices", "service", &name))?
        };
        Ok(service_state(&s, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let cluster = string_of(state, "cluster");
        let name = string_of(state, "name");
        match call!(
            cx.ecs
                .delete_service()
                .cluster(&cluster)
                .service(&name)
                .force(true),
            "DeleteService"
        ) {
            Ok(_) => {}
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        }
        wait_until(
            &format!("service {name} to be deleted"),
            "DescribeServices",
            timeout(state, "delete", SERVICE_STABLE),
            || async {
                Ok(describe_service(cx, &cluster, &name)
                    .await?
                    .filter(|s| s.status() == Some("ACTIVE"))
                    .is_none()
                    .then_some(()))
            },
        )
        .await
    }

    async fn find_by_token(&self, cx: &Clients, token: &str, planned: &Value) -> Found {
        let cluster = text_of(planned, "cluster");
        let name = text_of(planned, "name");
        Ok(describe_service(cx, cluster, name)
            .await?
            .filter(|s| tags::has_token(&tags::from_sdk(s.tags()), token))
            .map(|s| service_state(&s, planned)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_new_role_not_yet_usable_is_retried_other_errors_are_not() {
        let calls = AtomicUsize::new(0);
        let r = retry_iam_propagation(|| async {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(AwsError::new(
                    "CreateService",
                    "InvalidParameterException",
                    "Unable to assume role and validate the specified targetGroupArn",
                ))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let calls = AtomicUsize::new(0);
        let r: Result<()> = retry_iam_propagation(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(AwsError::new(
                "CreateService",
                "InvalidParameterException",
                "subnets can not be empty",
            ))
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
