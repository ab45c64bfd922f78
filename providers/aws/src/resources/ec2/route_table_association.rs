//! aws_route_table_association.

use std::time::Duration;

use crate::config::Clients;
use crate::error::{AwsError, Result};
use crate::resources::kind::{AwsResource, Listed};
use crate::resources::value::{opt_s, str_of, string_of, text_of};
use async_trait::async_trait;
use terrane_core::Value;
pub struct RouteTableAssociation;

const DELETE_TIMEOUT: Duration = Duration::from_secs(600);

/// The DescribeRouteTables filter on association ids.
const BY_ID: &str = "association.route-table-association-id";

/// The explicit (not main) associations of the route tables `filters` select, every page.
async fn associations_where(
    cx: &Clients,
    filters: Vec<aws_sdk_ec2::types::Filter>,
) -> Result<Vec<RouteTableAssociationDesc>> {
    Ok(super::route_tables(cx, filters)
        .await?
        .into_iter()
        .flat_map(|rt| rt.associations.unwrap_or_default())
        .filter(|a| a.main() != Some(true))
        .collect())
}

type RouteTableAssociationDesc = aws_sdk_ec2::types::RouteTableAssociation;

fn state(a: &RouteTableAssociationDesc) -> Value {
    Value::map([
        ("id", opt_s(a.route_table_association_id())),
        ("subnet_id", opt_s(a.subnet_id())),
        ("gateway_id", opt_s(a.gateway_id())),
        (
            "route_table_id",
            Value::from(a.route_table_id().unwrap_or_default()),
        ),
    ])
}

#[async_trait]
impl AwsResource for RouteTableAssociation {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        Ok(associations_where(cx, Vec::new())
            .await?
            .iter()
            .map(|a| Listed::new(state(a)))
            .collect())
    }

    async fn create(&self, cx: &Clients, planned: &Value, _token: &str) -> Result<Value> {
        let mut req = cx
            .ec2
            .associate_route_table()
            .route_table_id(text_of(planned, "route_table_id"));
        if let Some(s) = str_of(planned, "subnet_id") {
            req = req.subnet_id(s);
        }
        if let Some(g) = str_of(planned, "gateway_id") {
            req = req.gateway_id(g);
        }
        let out = call!(req, "AssociateRouteTable")?;
        let id = out.association_id.ok_or_else(|| {
            AwsError::new(
                "AssociateRouteTable",
                "InvalidResponse",
                "no association id",
            )
        })?;
        let mut v = planned.clone();
        crate::resources::value::put(&mut v, "id", Value::from(id));
        Ok(v)
    }

    async fn read(&self, cx: &Clients, id: &str, _prior: &Value) -> Result<Option<Value>> {
        let filter = super::id_filter(BY_ID, &[id.to_string()]);
        Ok(associations_where(cx, vec![filter])
            .await?
            .iter()
            .find(|a| a.route_table_association_id() == Some(id))
            .map(state))
    }

    fn read_batch(&self) -> Option<usize> {
        Some(super::READ_BATCH)
    }

    async fn read_many(&self, cx: &Clients, priors: &[&Value]) -> Result<Vec<Option<Value>>> {
        let filter = super::id_filter(BY_ID, &super::ids_of(priors));
        let found = associations_where(cx, vec![filter]).await?;
        Ok(
            super::in_order_of(priors, found, |a| a.route_table_association_id())
                .into_iter()
                .map(|a| a.as_ref().map(state))
                .collect(),
        )
    }

    async fn update(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<Value> {
        // Only route_table_id can change in place: ReplaceRouteTableAssociation.
        let out = call!(
            cx.ec2
                .replace_route_table_association()
                .association_id(text_of(prior, "id"))
                .route_table_id(text_of(planned, "route_table_id")),
            "ReplaceRouteTableAssociation"
        )?;
        let mut v = planned.clone();
        crate::resources::value::put(
            &mut v,
            "id",
            Value::from(out.new_association_id.unwrap_or_default()),
        );
        Ok(v)
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let id = string_of(state, "id");
        delete_retrying!(
            DELETE_TIMEOUT,
            cx.ec2.disassociate_route_table().association_id(&id),
            "DisassociateRouteTable"
        )
    }
}
