//! aws_nat_gateway.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{ConnectivityType, Filter, ResourceType};
use futures::future::BoxFuture;
use terrane_core::Value;

use super::kind::{describe_id, ec2_describe, Ec2Type};
use crate::config::Clients;
use crate::error::{sdk, wait_until, AwsError, Result};
use crate::resources::value::{str_of, string_of, text_of};
use crate::tags;

pub struct NatGateway;

const NAT_TIMEOUT: Duration = Duration::from_secs(600);

fn nat_state(n: aws_sdk_ec2::types::NatGateway, prior: &Value) -> Value {
    let addr = n.nat_gateway_addresses().first();
    let tags = tags::from_sdk(n.tags());
    tags::tagged(
        Value::map([
            ("id", Value::from(n.nat_gateway_id().unwrap_or_default())),
            ("subnet_id", Value::from(n.subnet_id().unwrap_or_default())),
            (
                "allocation_id",
                addr.and_then(|a| a.allocation_id())
                    .map(Value::from)
                    .unwrap_or_else(|| prior.get("allocation_id").cloned().unwrap_or(Value::Null)),
            ),
            (
                "connectivity_type",
                Value::from(
                    n.connectivity_type()
                        .map(|c| c.as_str())
                        .unwrap_or("public"),
                ),
            ),
            (
                "public_ip",
                addr.and_then(|a| a.public_ip())
                    .map(Value::from)
                    .unwrap_or(Value::Null),
            ),
            (
                "private_ip",
                addr.and_then(|a| a.private_ip())
                    .map(Value::from)
                    .unwrap_or(Value::Null),
            ),
            (
                "network_interface_id",
                addr.and_then(|a| a.network_interface_id())
                    .map(Value::from)
                    .unwrap_or(Value::Null),
            ),
        ]),
        tags,
        prior,
    )
}

#[async_trait]
impl Ec2Type for NatGateway {
    ec2_describe!(
        NatGateway,
        "DescribeNatGateways",
        "nat-gateway-id",
        "NAT gateway",
        nat_gateway_id
    );

    fn describe_where(
        cx: &Clients,
        filters: Vec<Filter>,
    ) -> BoxFuture<'_, Result<Vec<Self::Desc>>> {
        Box::pin(async move {
            // A deleted NAT gateway stays visible for an hour: it is gone.
            Ok(pages!(
                cx.ec2.describe_nat_gateways().set_filter(Some(filters)),
                "DescribeNatGateways",
                nat_gateways
            )
            .filter(|n| n.state().map(|s| s.as_str()) != Some("deleted"))
            .collect())
        })
    }

    fn listed(d: &Self::Desc) -> bool {
        d.state().map(|s| s.as_str()) != Some("deleting")
    }

    async fn state(cx: &Clients, d: Self::Desc, prior: &Value) -> Result<Value> {
        let _ = cx;
        Ok(nat_state(d, prior))
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let mut req = cx
            .ec2
            .create_nat_gateway()
            .subnet_id(text_of(planned, "subnet_id"))
            .connectivity_type(ConnectivityType::from(
                str_of(planned, "connectivity_type").unwrap_or("public"),
            ))
            // The API's idempotency token: a retried create never makes a second gateway.
            .client_token(token)
            .tag_specifications(super::tag_spec(ResourceType::Natgateway, planned, token));
        if let Some(a) = str_of(planned, "allocation_id") {
            req = req.allocation_id(a);
        }
        let out = call!(req, "CreateNatGateway")?;
        let id = out
            .nat_gateway
            .and_then(|n| n.nat_gateway_id)
            .ok_or_else(|| {
                AwsError::new("CreateNatGateway", "InvalidResponse", "no NAT gateway id")
            })?;
        let n = wait_until(
            "the NAT gateway to become available",
            "DescribeNatGateways",
            crate::resources::lifecycle::timeout(planned, "create", NAT_TIMEOUT),
            || async {
                let n = describe_id::<NatGateway>(cx, &id).await?;
                match n.as_ref().and_then(|n| n.state()).map(|s| s.as_str()) {
                    Some("failed") => Err(AwsError::new(
                        "CreateNatGateway",
                        "NatGatewayFailed",
                        n.and_then(|n| n.failure_message).unwrap_or_default(),
                    )),
                    Some("available") => Ok(n),
                    _ => Ok(None),
                }
            },
        )
        .await?;
        Ok(nat_state(n, planned))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let id = string_of(state, "id");
        if let Err(e) = cx.ec2.delete_nat_gateway().nat_gateway_id(&id).send().await {
            let e = sdk("DeleteNatGateway", e);
            if !e.is_not_found() {
                return Err(e);
            }
        }
        wait_until(
            "the NAT gateway to be deleted",
            "DescribeNatGateways",
            crate::resources::lifecycle::timeout(state, "delete", NAT_TIMEOUT),
            || async {
                Ok(describe_id::<NatGateway>(cx, &id)
                    .await?
                    .is_none()
                    .then_some(()))
            },
        )
        .await
    }
}
