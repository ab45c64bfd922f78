//! Provider configuration: `provider "aws" { region, profile, default_tags { tags }, endpoints
//! { ec2 = ... }, endpoint_url, max_retries, assume_role { role_arn } }`, and the SDK clients.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use terrane_core::{Attribute, Nesting, ProviderError, ResourceSchema, Type, Value};

/// Services whose endpoint can be overridden in `endpoints { ... }`.
const SERVICES: &[&str] = &[
    "ec2",
    "iam",
    "sts",
    "ecs",
    "eks",
    "elbv2",
    "elasticache",
    "ecr",
    "logs",
    "ssm",
    "route53",
    "resourcegroupstaggingapi",
    "cloudwatch",
    "s3",
];

/// Other names hashicorp/aws accepts for a service's endpoint (`cloudwatchlogs = ...` sets
/// `logs`); the service's own name wins when both are set.
const ALIASES: &[(&str, &[&str])] = &[
    ("logs", &["cloudwatchlog", "cloudwatchlogs"]),
    ("elbv2", &["elasticloadbalancingv2"]),
    ("resourcegroupstaggingapi", &["resourcegroupstagging"]),
];

/// The names under which `endpoints { ... }` may set `service`'s endpoint, its own first.
fn endpoint_names(service: &str) -> impl Iterator<Item = &str> {
    std::iter::once(service).chain(
        ALIASES
            .iter()
            .filter(move |(s, _)| *s == service)
            .flat_map(|(_, a)| a.iter().copied()),
    )
}

pub fn provider_schema() -> ResourceSchema {
    let mut endpoints = ResourceSchema::new();
    // Every name hashicorp/aws takes: a configuration written for it is not refused for
    // pointing a service this provider has no client for somewhere.
    for s in SERVICES.iter().chain(crate::endpoint_names::NAMES) {
        endpoints = endpoints.attr(s, Attribute::optional(Type::String));
    }
    ResourceSchema::new()
        .attr("region", Attribute::optional(Type::String))
        .attr("profile", Attribute::optional(Type::String))
        .attr("access_key", Attribute::optional(Type::String))
        .attr("secret_key", Attribute::optional(Type::String).sensitive())
        .attr("token", Attribute::optional(Type::String).sensitive())
        .attr("max_retries", Attribute::optional(Type::Number))
        .attr("endpoint_url", Attribute::optional(Type::String))
        // Accepted for compatibility with hashicorp/aws configurations; nothing to do here.
        .attr(
            "skip_credentials_validation",
            Attribute::optional(Type::Bool),
        )
        .attr(
            "skip_requesting_account_id",
            Attribute::optional(Type::Bool),
        )
        .attr("skip_metadata_api_check", Attribute::optional(Type::Any))
        .attr("skip_region_validation", Attribute::optional(Type::Bool))
        .attr("s3_use_path_style", Attribute::optional(Type::Bool))
        .block(
            "default_tags",
            Nesting::Single,
            ResourceSchema::new().attr("tags", Attribute::optional(Type::map(Type::String))),
        )
        .block("endpoints", Nesting::List, endpoints)
        .block(
            "assume_role",
            Nesting::Single,
            ResourceSchema::new()
                .attr("role_arn", Attribute::required(Type::String))
                .attr("session_name", Attribute::optional(Type::String))
                .attr("external_id", Attribute::optional(Type::String)),
        )
}

/// The SDK clients a configured provider uses.
#[derive(Clone, Debug)]
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub eks: aws_sdk_eks::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub s3: aws_sdk_s3::Client,
    /// The Resource Groups Tagging API, for discovery by tags.
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    pub region: String,
    pub default_tags: BTreeMap<String, String>,
    /// What these clients sent, and the deletes AWS refused for a dependency.
    pub counters: Arc<Counters>,
}

/// Counts every request attempt these clients send, and every delete that AWS refused because
/// something still depended on the object (counted by [`crate::error::retry_dependency`]).
#[derive(Debug, Default)]
pub struct Counters {
    pub calls: AtomicU64,
    pub conflicts: AtomicU64,
}

impl Counters {
    pub fn usage(&self) -> terrane_core::Usage {
        terrane_core::Usage {
            api_calls: self.calls.load(Ordering::Relaxed),
            dependency_conflicts: self.conflicts.load(Ordering::Relaxed),
        }
    }
}

/// The SDK interceptor that counts attempts (a retried call counts once per attempt).
#[derive(Debug)]
struct CountAttempts(Arc<Counters>);

impl aws_sdk_ec2::config::Intercept for CountAttempts {
    fn name(&self) -> &'static str {
        "TerraneCountAttempts"
    }

    fn read_before_attempt(
        &self,
        _context: &aws_sdk_ec2::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_ec2::config::RuntimeComponents,
        _cfg: &mut aws_sdk_ec2::config::ConfigBag,
    ) -> Result<(), aws_sdk_ec2::error::BoxError> {
        self.0.calls.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(String::from)
}

impl Clients {
    pub async fn from_config(config: &Value) -> Result<Clients, ProviderError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(r) = s(config, "region") {
            loader = loader.region(Region::new(r));
        }
        if let Some(p) = s(config, "profile") {
            loader = loader.profile_name(p);
        }
        if let (Some(ak), Some(sk)) = (s(config, "access_key"), s(config, "secret_key")) {
            loader = loader.credentials_provider(aws_sdk_ec2::config::Credentials::new(
                ak,
                sk,
                s(config, "token"),
                None,
                "terrane-provider-config",
            ));
        }
        // Ten retries by default (Terraform's AWS provider defaults to 25).
        let attempts = config
            .get("max_retries")
            .and_then(Value::as_f64)
            .map(|n| n as u32 + 1)
            .unwrap_or(11);
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(attempts.max(1)));
        if let Some(url) = s(config, "endpoint_url") {
            loader = loader.endpoint_url(url);
        }
        let mut sdk = loader.load().await;
        if let Some(ar) = config.get("assume_role").filter(|v| !v.is_null()) {
            let role = s(ar, "role_arn").unwrap_or_default();
            let mut b = aws_config::sts::AssumeRoleProvider::builder(role)
                .session_name(s(ar, "session_name").unwrap_or_else(|| "terrane".into()));
            if let Some(x) = s(ar, "external_id") {
                b = b.external_id(x);
            }
            let provider = b.configure(&sdk).build().await;
            sdk = sdk
                .into_builder()
                .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(
                    provider,
                ))
                .build();
        }
        let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
            ProviderError::new("No AWS region: set region in the provider block, or AWS_REGION in the environment.")
        })?;
        let endpoint = |svc: &str| -> Option<String> {
            let blocks = config.get("endpoints").and_then(Value::as_list)?;
            endpoint_names(svc).find_map(|name| blocks.iter().find_map(|e| s(e, name)))
        };
        let counters = Arc::new(Counters::default());
        macro_rules! client {
            ($krate:ident, $svc:literal) => {{
                let mut b = $krate::config::Builder::from(&sdk)
                    .interceptor(CountAttempts(counters.clone()));
                if let Some(u) = endpoint($svc) {
                    b = b.endpoint_url(u);
                }
                $krate::Client::from_conf(b.build())
            }};
        }
        let ec2 = client!(aws_sdk_ec2, "ec2");
        let iam = client!(aws_sdk_iam, "iam");
        let sts = client!(aws_sdk_sts, "sts");
        let ecs = client!(aws_sdk_ecs, "ecs");
        let eks = client!(aws_sdk_eks, "eks");
        let elbv2 = client!(aws_sdk_elasticloadbalancingv2, "elbv2");
        let elasticache = client!(aws_sdk_elasticache, "elasticache");
        let ecr = client!(aws_sdk_ecr, "ecr");
        let logs = client!(aws_sdk_cloudwatchlogs, "logs");
        let tagging = client!(aws_sdk_resourcegroupstagging, "resourcegroupstaggingapi");
        let ssm = client!(aws_sdk_ssm, "ssm");
        let cloudwatch = client!(aws_sdk_cloudwatch, "cloudwatch");
        // An endpoint other than AWS's (an emulator, a proxy) serves buckets by path, not as
        // `<bucket>.<host>`.
        let s3 = {
            let mut b = aws_sdk_s3::config::Builder::from(&sdk)
                .interceptor(CountAttempts(counters.clone()));
            if let Some(u) = endpoint("s3") {
                b = b.endpoint_url(u);
            }
            if endpoint("s3").is_some() || sdk.endpoint_url().is_some() {
                b = b.force_path_style(true);
            }
            aws_sdk_s3::Client::from_conf(b.build())
        };
        let default_tags = config
            .get("default_tags")
            .and_then(|d| d.get("tags"))
            .and_then(Value::as_map)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Clients {
            ec2,
            iam,
            sts,
            ecs,
            eks,
            elbv2,
            elasticache,
            ecr,
            logs,
            tagging,
            ssm,
            cloudwatch,
            s3,
            region,
            default_tags,
            counters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_name_of_hashicorp_aws_is_accepted_and_aliases_reach_their_service() {
        let schema = provider_schema();
        let e = &schema.blocks["endpoints"].schema;
        for name in [
            "cloudwatchlogs",
            "cloudwatchlog",
            "elasticloadbalancingv2",
            "s3",
            "sqs",
        ] {
            assert!(e.attributes.contains_key(name), "{name} refused");
        }
        assert_eq!(e.attributes.len(), crate::endpoint_names::NAMES.len());
        assert_eq!(
            endpoint_names("logs").collect::<Vec<_>>(),
            ["logs", "cloudwatchlog", "cloudwatchlogs"]
        );
        assert_eq!(endpoint_names("ec2").collect::<Vec<_>>(), ["ec2"]);
    }
}
