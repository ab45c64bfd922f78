//! aws_route: one route in a route table, the stand-alone form of the inline `route` blocks.

use async_trait::async_trait;
use terrane_core::{Diagnostic, Value};

use crate::config::Clients;
use crate::error::Result;
use crate::resources::kind::{AwsResource, Listed};
use crate::resources::lifecycle::vanished;
use crate::resources::value::{opt_s, str_of, text_of};

pub struct Route;

const TARGETS: &[&str] = &[
    "gateway_id",
    "nat_gateway_id",
    "network_interface_id",
    "vpc_peering_connection_id",
    "transit_gateway_id",
];

async fn find_route(
    cx: &Clients,
    table: &str,
    cidr: &str,
) -> Result<Option<aws_sdk_ec2::types::Route>> {
    let out = match call!(
        cx.ec2.describe_route_tables().route_table_ids(table),
        "DescribeRouteTables"
    ) {
        Ok(o) => o,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(out
        .route_tables()
        .first()
        .and_then(|t| {
            t.routes()
                .iter()
                .find(|r| r.destination_cidr_block() == Some(cidr))
        })
        .cloned())
}

fn route_state(table: &str, r: &aws_sdk_ec2::types::Route) -> Value {
    let cidr = r.destination_cidr_block().unwrap_or_default();
    Value::map([
        ("id", Value::from(format!("{table}_{cidr}"))),
        ("route_table_id", Value::from(table)),
        ("destination_cidr_block", Value::from(cidr)),
        ("gateway_id", opt_s(r.gateway_id())),
        ("nat_gateway_id", opt_s(r.nat_gateway_id())),
        ("network_interface_id", opt_s(r.network_interface_id())),
        (
            "vpc_peering_connection_id",
            opt_s(r.vpc_peering_connection_id()),
        ),
        ("transit_gateway_id", opt_s(r.transit_gateway_id())),
        ("origin", opt_s(r.origin().map(|o| o.as_str()))),
        ("state", opt_s(r.state().map(|s| s.as_str()))),
    ])
}

/// A CreateRoute or ReplaceRoute (two builder types with the same setters) with the target the
/// plan gives, one of [`TARGETS`].
macro_rules! with_target {
    ($req:expr, $planned:expr) => {{
        let target = |k| str_of($planned, k).map(String::from);
        $req.set_gateway_id(target("gateway_id"))
            .set_nat_gateway_id(target("nat_gateway_id"))
            .set_network_interface_id(target("network_interface_id"))
            .set_vpc_peering_connection_id(target("vpc_peering_connection_id"))
            .set_transit_gateway_id(target("transit_gateway_id"))
    }};
}

#[async_trait]
impl AwsResource for Route {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        for rt in super::route_tables(cx, Vec::new()).await? {
            let table = rt.route_table_id().unwrap_or_default();
            for r in rt.routes() {
                let local = r.gateway_id() == Some("local");
                let by_user = r.origin().map(|o| o.as_str()) == Some("CreateRoute");
                if !local && by_user && r.destination_cidr_block().is_some() {
                    out.push(Listed::new(route_state(table, r)));
                }
            }
        }
        Ok(out)
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let set = TARGETS
            .iter()
            .filter(|t| config.get(t).is_some_and(|v| !v.is_null()))
            .count();
        if set == 1 || config.get("gateway_id").is_some_and(Value::is_unknown) {
            return Vec::new();
        }
        vec![Diagnostic::error(
            "Invalid route target",
            format!(
                "exactly one of {} must be set (found {set})",
                TARGETS.join(", ")
            ),
        )]
    }

    async fn create(&self, cx: &Clients, planned: &Value, _token: &str) -> Result<Value> {
        let table = text_of(planned, "route_table_id");
        let cidr = text_of(planned, "destination_cidr_block");
        let req = cx.ec2.create_route().route_table_id(table);
        let req = with_target!(req.destination_cidr_block(cidr), planned);
        if let Err(e) = call!(req, "CreateRoute") {
            // A retry after a lost response finds the same route: not a duplicate.
            let same = e.is("RouteAlreadyExists")
                && find_route(cx, table, cidr).await?.is_some_and(|r| {
                    let s = route_state(table, &r);
                    TARGETS.iter().all(|t| s.get(t) == planned.get(t))
                });
            if !same {
                return Err(e);
            }
        }
        let r = find_route(cx, table, cidr)
            .await?
            .ok_or_else(|| vanished("DescribeRouteTables", "route", cidr))?;
        Ok(route_state(table, &r))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        // Id and import id: `rtb-..._10.0.0.0/16`.
        let (table, cidr) = match (
            str_of(prior, "route_table_id"),
            str_of(prior, "destination_cidr_block"),
        ) {
            (Some(t), Some(c)) => (t.to_string(), c.to_string()),
            _ => match id.split_once('_') {
                Some((t, c)) => (t.to_string(), c.to_string()),
                None => return Ok(None),
            },
        };
        Ok(find_route(cx, &table, &cidr)
            .await?
            .map(|r| route_state(&table, &r)))
    }

    async fn update(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<Value> {
        let table = text_of(prior, "route_table_id");
        let cidr = text_of(prior, "destination_cidr_block");
        let req = cx.ec2.replace_route().route_table_id(table);
        let req = with_target!(req.destination_cidr_block(cidr), planned);
        call!(req, "ReplaceRoute")?;
        let r = find_route(cx, table, cidr)
            .await?
            .ok_or_else(|| vanished("DescribeRouteTables", "route", cidr))?;
        Ok(route_state(table, &r))
    }

    delete_by! {
        ec2.delete_route(
            route_table_id = "route_table_id",
            destination_cidr_block = "destination_cidr_block"
        ) => "DeleteRoute"
    }
}
