//! aws_route_table, with inline `route` blocks.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, ResourceType};
use futures::future::BoxFuture;
use terrane_core::schema::dedup_set;
use terrane_core::Value;

use super::kind::{describe_id, ec2_describe, must_exist, Ec2Type};
use crate::config::Clients;
use crate::error::{sdk, Result};
use crate::resources::kind::Planning;
use crate::resources::value::{str_of, string_of, text_of};
use crate::tags;

pub struct RouteTable;

const DELETE_TIMEOUT: Duration = Duration::from_secs(600);

/// Routes as configured blocks (the implicit `local` route is not one of them).
fn routes(rt: &aws_sdk_ec2::types::RouteTable) -> Value {
    let mut out: Vec<Value> = rt
        .routes()
        .iter()
        .filter(|r| {
            r.gateway_id() != Some("local")
                && r.origin().map(|o| o.as_str()) != Some("CreateRouteTable")
        })
        .map(|r| {
            Value::map([
                (
                    "cidr_block",
                    r.destination_cidr_block()
                        .map(Value::from)
                        .unwrap_or(Value::Null),
                ),
                (
                    "gateway_id",
                    r.gateway_id().map(Value::from).unwrap_or(Value::Null),
                ),
                (
                    "nat_gateway_id",
                    r.nat_gateway_id().map(Value::from).unwrap_or(Value::Null),
                ),
                (
                    "network_interface_id",
                    r.network_interface_id()
                        .map(Value::from)
                        .unwrap_or(Value::Null),
                ),
                (
                    "vpc_peering_connection_id",
                    r.vpc_peering_connection_id()
                        .map(Value::from)
                        .unwrap_or(Value::Null),
                ),
                (
                    "transit_gateway_id",
                    r.transit_gateway_id()
                        .map(Value::from)
                        .unwrap_or(Value::Null),
                ),
            ])
        })
        .collect();
    dedup_set(&mut out);
    Value::List(out)
}

fn to_state(cx: &Clients, rt: aws_sdk_ec2::types::RouteTable, prior: &Value) -> Value {
    let id = rt.route_table_id().unwrap_or_default().to_string();
    let owner = rt.owner_id().unwrap_or_default().to_string();
    let tags = tags::from_sdk(rt.tags());
    tags::tagged(
        Value::map([
            ("arn", super::arn(cx, &owner, "route-table", &id)),
            ("id", Value::from(id)),
            ("vpc_id", Value::from(rt.vpc_id().unwrap_or_default())),
            ("owner_id", Value::from(owner)),
            ("route", routes(&rt)),
        ]),
        tags,
        prior,
    )
}

async fn add_route(cx: &Clients, id: &str, r: &Value) -> Result<()> {
    let mut req = cx
        .ec2
        .create_route()
        .route_table_id(id)
        .destination_cidr_block(text_of(r, "cidr_block"));
    if let Some(g) = str_of(r, "gateway_id") {
        req = req.gateway_id(g);
    }
    if let Some(n) = str_of(r, "nat_gateway_id") {
        req = req.nat_gateway_id(n);
    }
    if let Some(n) = str_of(r, "network_interface_id") {
        req = req.network_interface_id(n);
    }
    if let Some(n) = str_of(r, "vpc_peering_connection_id") {
        req = req.vpc_peering_connection_id(n);
    }
    if let Some(n) = str_of(r, "transit_gateway_id") {
        req = req.transit_gateway_id(n);
    }
    match call!(req, "CreateRoute") {
        // A retry after a lost answer finds the route it made: the same route is no error.
        Err(e) if e.is("RouteAlreadyExists") => {
            let same = describe_id::<RouteTable>(cx, id).await?.is_some_and(|rt| {
                let want = normalize_route(r);
                routes(&rt).as_list().is_some_and(|l| l.contains(&want))
            });
            if same {
                Ok(())
            } else {
                Err(e)
            }
        }
        other => other.map(|_| ()),
    }
}

/// A configured route in the shape `routes` reads back.
fn normalize_route(r: &Value) -> Value {
    let k = |name: &str| r.get(name).cloned().unwrap_or(Value::Null);
    Value::map([
        ("cidr_block", k("cidr_block")),
        ("gateway_id", k("gateway_id")),
        ("nat_gateway_id", k("nat_gateway_id")),
        ("network_interface_id", k("network_interface_id")),
        ("vpc_peering_connection_id", k("vpc_peering_connection_id")),
        ("transit_gateway_id", k("transit_gateway_id")),
    ])
}

async fn remove_route(cx: &Clients, id: &str, r: &Value) -> Result<()> {
    match cx
        .ec2
        .delete_route()
        .route_table_id(id)
        .destination_cidr_block(text_of(r, "cidr_block"))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = sdk("DeleteRoute", e);
            if e.is_not_found() {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

fn route_list(v: &Value) -> Vec<Value> {
    v.get("route")
        .and_then(Value::as_list)
        .map(<[Value]>::to_vec)
        .unwrap_or_default()
}

#[async_trait]
impl Ec2Type for RouteTable {
    ec2_describe!(
        RouteTable,
        "DescribeRouteTables",
        "route-table-id",
        "route table",
        route_table_id
    );

    fn describe_where(
        cx: &Clients,
        filters: Vec<Filter>,
    ) -> BoxFuture<'_, Result<Vec<Self::Desc>>> {
        Box::pin(super::route_tables(cx, filters))
    }

    async fn state(cx: &Clients, d: Self::Desc, prior: &Value) -> Result<Value> {
        Ok(to_state(cx, d, prior))
    }

    fn made_by_aws_alone(rt: &Self::Desc) -> bool {
        rt.associations().iter().any(|a| a.main() == Some(true))
    }

    fn adjust_plan(&self, p: Planning<'_>) {
        let (prior, config, planned) = (p.prior, p.config, p.planned);
        // No inline `route` blocks: the table's routes are not managed here (they may come
        // from aws_route resources), so whatever it has is no change.
        let configured = config
            .get("route")
            .and_then(Value::as_list)
            .is_some_and(|l| !l.is_empty());
        if !configured {
            let keep = prior
                .and_then(|p| p.get("route"))
                .cloned()
                .unwrap_or(Value::List(Vec::new()));
            crate::resources::value::put(planned, "route", keep);
        }
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let req = cx
            .ec2
            .create_route_table()
            .vpc_id(text_of(planned, "vpc_id"))
            .tag_specifications(super::tag_spec(ResourceType::RouteTable, planned, token));
        let id = super::create_once!(
            cx,
            req,
            "CreateRouteTable",
            "route-table",
            token,
            route_table.route_table_id
        )?;
        for r in route_list(planned) {
            add_route(cx, &id, &r).await?;
        }
        let rt = must_exist::<RouteTable>(cx, &id).await?;
        Ok(to_state(cx, rt, planned))
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let id = string_of(prior, "id");
        let (old, new) = (route_list(prior), route_list(planned));
        for r in old.iter().filter(|r| !new.contains(r)) {
            remove_route(cx, &id, r).await?;
        }
        for r in new.iter().filter(|r| !old.contains(r)) {
            add_route(cx, &id, r).await?;
        }
        Ok(())
    }

    delete_by! { retrying DELETE_TIMEOUT; ec2.delete_route_table(route_table_id = "id") => "DeleteRouteTable" }
}
