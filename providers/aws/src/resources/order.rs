//! Deletion order as data: what each type's objects point at ([`Kind::references`]) and
//! which types go before which where no reference says so ([`Kind::delete_after`]).
//! From a state value, [`discovered`] makes the object discovery reports; the engine's
//! [`terrane_core::DeletionGraph`] orders them.

use terrane_core::{DeletionRule, DiscoveredObject, FoundBy, Reference, Value};

use super::kind::Kind;
use super::value::str_map;

/// The references a state value of `kind` holds, following each path of
/// [`Kind::references`] through nested blocks and lists.
pub fn references_of(kind: &Kind, state: &Value) -> Vec<Reference> {
    let mut out = Vec::new();
    for (path, ty) in kind.references() {
        let mut ids = Vec::new();
        collect(state, &path.split('.').collect::<Vec<_>>(), &mut ids);
        for id in ids {
            let r = Reference::new(*ty, id);
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

fn collect(v: &Value, path: &[&str], out: &mut Vec<String>) {
    match (v, path.split_first()) {
        (Value::List(items), _) => items.iter().for_each(|i| collect(i, path, out)),
        (Value::String(s), None) if !s.is_empty() => out.push(s.clone()),
        (Value::Map(_), Some((k, rest))) => {
            if let Some(x) = v.get(k) {
                collect(x, rest, out)
            }
        }
        _ => {}
    }
}

/// The object discovery reports for a state value of `kind`: its id, its ARN and name as
/// aliases, its tags, and its references.
pub fn discovered(kind: &Kind, state: &Value, found_by: FoundBy) -> DiscoveredObject {
    let s = |k: &str| state.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut tags = str_map(state, "tags_all");
    if tags.is_empty() {
        tags = str_map(state, "tags");
    }
    let name = match s("name") {
        "" => tags.get("Name").cloned(),
        n => Some(n.to_string()),
    };
    let mut o = DiscoveredObject::new(kind.name(), s("id"), found_by)
        .also_known_as(s("arn"))
        .with_tags(tags);
    if let Some(n) = name {
        o = o.also_known_as(n.clone()).with_name(n);
    }
    o.references = references_of(kind, state);
    o.state = state.clone();
    o
}

/// The type-level rules of every type in `kinds`.
pub fn deletion_rules<'a>(
    kinds: impl IntoIterator<Item = &'a std::sync::Arc<Kind>>,
) -> Vec<DeletionRule> {
    kinds
        .into_iter()
        .flat_map(|k| {
            k.delete_after().iter().map(|(first, why)| DeletionRule {
                first,
                then: k.name(),
                why,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use terrane_core::{DeletionGraph, Nesting};

    use super::*;

    fn kinds() -> BTreeMap<&'static str, Arc<Kind>> {
        super::super::all()
            .into_iter()
            .map(|k| (k.name(), k))
            .collect()
    }

    #[test]
    fn every_reference_names_an_attribute_of_its_type_and_a_type_of_the_table() {
        let kinds = kinds();
        for k in kinds.values() {
            for (path, ty) in k.references() {
                assert!(
                    kinds.contains_key(ty),
                    "{}: {path} points at unknown type {ty}",
                    k.name()
                );
                let mut schema = k.schema();
                let parts: Vec<&str> = path.split('.').collect();
                for (i, part) in parts.iter().enumerate() {
                    if i + 1 == parts.len() {
                        assert!(
                            schema.attributes.contains_key(*part),
                            "{}: no attribute {path}",
                            k.name()
                        );
                    } else {
                        let b = schema
                            .blocks
                            .get(*part)
                            .unwrap_or_else(|| panic!("{}: no block {part} in {path}", k.name()));
                        assert_ne!(b.nesting, Nesting::Single, "{path}");
                        schema = b.schema.clone();
                    }
                }
            }
            for (ty, why) in k.delete_after() {
                assert!(
                    kinds.contains_key(ty),
                    "{}: after unknown type {ty}",
                    k.name()
                );
                assert!(!why.is_empty());
            }
        }
    }

    /// A state value from attribute pairs; a value with commas is a list.
    fn st(pairs: &[(&str, &str)]) -> Value {
        Value::map(pairs.iter().map(|(k, v)| {
            let v = if v.contains(',') {
                Value::List(v.split(',').map(Value::from).collect())
            } else {
                Value::from(*v)
            };
            (*k, v)
        }))
    }

    fn block(items: &[&[(&str, &str)]]) -> Value {
        Value::List(items.iter().map(|i| st(i)).collect())
    }

    /// The example environment's shape, as discovery would report it from the objects' states.
    fn environment() -> Vec<DiscoveredObject> {
        let kinds = kinds();
        let with = |ty: &str, mut v: Value, extra: &[(&str, Value)]| {
            for (k, x) in extra {
                super::super::value::put(&mut v, k, x.clone());
            }
            discovered(kinds[ty].as_ref(), &v, FoundBy::Tags)
        };
        let role_arn = "arn:aws:iam::123456789012:role/demo-exec";
        let tg_arn = "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/demo/1";
        let lb_arn = "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/demo/1";
        let listener_arn = "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/demo/1/2";
        let cluster_arn = "arn:aws:ecs:eu-west-1:1:cluster/demo";
        vec![
            with("aws_vpc", st(&[("id", "vpc-1")]), &[]),
            with(
                "aws_subnet",
                st(&[("id", "subnet-a"), ("vpc_id", "vpc-1")]),
                &[],
            ),
            with(
                "aws_subnet",
                st(&[("id", "subnet-b"), ("vpc_id", "vpc-1")]),
                &[],
            ),
            with(
                "aws_internet_gateway",
                st(&[("id", "igw-1"), ("vpc_id", "vpc-1")]),
                &[],
            ),
            with("aws_eip", st(&[("id", "eipalloc-1")]), &[]),
            with(
                "aws_nat_gateway",
                st(&[
                    ("id", "nat-1"),
                    ("subnet_id", "subnet-a"),
                    ("allocation_id", "eipalloc-1"),
                ]),
                &[],
            ),
            with(
                "aws_route_table",
                st(&[("id", "rtb-1"), ("vpc_id", "vpc-1")]),
                &[("route", block(&[&[("nat_gateway_id", "nat-1")]]))],
            ),
            with(
                "aws_route_table_association",
                st(&[
                    ("id", "rtbassoc-1"),
                    ("route_table_id", "rtb-1"),
                    ("subnet_id", "subnet-b"),
                ]),
                &[],
            ),
            with(
                "aws_security_group",
                st(&[("id", "sg-lb"), ("vpc_id", "vpc-1")]),
                &[],
            ),
            with(
                "aws_security_group",
                st(&[("id", "sg-app"), ("vpc_id", "vpc-1")]),
                &[],
            ),
            // The app group lets the load balancer's group in: a rule that names both groups.
            with(
                "aws_security_group_rule",
                st(&[
                    ("id", "sgrule-1"),
                    ("security_group_id", "sg-app"),
                    ("source_security_group_id", "sg-lb"),
                ]),
                &[],
            ),
            with(
                "aws_lb",
                st(&[
                    ("id", lb_arn),
                    ("arn", lb_arn),
                    ("subnets", "subnet-a,subnet-b"),
                    ("security_groups", "sg-lb,"),
                ]),
                &[],
            ),
            with(
                "aws_lb_target_group",
                st(&[("id", tg_arn), ("arn", tg_arn), ("vpc_id", "vpc-1")]),
                &[],
            ),
            with(
                "aws_lb_listener",
                st(&[
                    ("id", listener_arn),
                    ("arn", listener_arn),
                    ("load_balancer_arn", lb_arn),
                ]),
                &[("default_action", block(&[&[("target_group_arn", tg_arn)]]))],
            ),
            with(
                "aws_lb_listener_rule",
                st(&[("id", "rule-1"), ("listener_arn", listener_arn)]),
                &[("action", block(&[&[("target_group_arn", tg_arn)]]))],
            ),
            with(
                "aws_iam_role",
                st(&[("id", "demo-exec"), ("arn", role_arn)]),
                &[],
            ),
            with(
                "aws_iam_policy",
                st(&[
                    ("id", "arn:aws:iam::1:policy/demo"),
                    ("arn", "arn:aws:iam::1:policy/demo"),
                ]),
                &[],
            ),
            with(
                "aws_iam_role_policy_attachment",
                st(&[
                    ("id", "demo-exec/arn:aws:iam::1:policy/demo"),
                    ("role", "demo-exec"),
                    ("policy_arn", "arn:aws:iam::1:policy/demo"),
                ]),
                &[],
            ),
            with(
                "aws_iam_instance_profile",
                st(&[("id", "demo-profile"), ("role", "demo-exec")]),
                &[],
            ),
            with(
                "aws_ecs_cluster",
                st(&[("id", cluster_arn), ("arn", cluster_arn), ("name", "demo")]),
                &[],
            ),
            with(
                "aws_ecs_service",
                st(&[
                    ("id", "arn:aws:ecs:eu-west-1:1:service/demo/web"),
                    ("cluster", cluster_arn),
                ]),
                &[
                    ("load_balancer", block(&[&[("target_group_arn", tg_arn)]])),
                    (
                        "network_configuration",
                        block(&[&[
                            ("subnets", "subnet-a,subnet-b"),
                            ("security_groups", "sg-app,"),
                        ]]),
                    ),
                ],
            ),
            with(
                "aws_eks_cluster",
                st(&[
                    ("id", "demo-eks"),
                    ("name", "demo-eks"),
                    ("role_arn", role_arn),
                ]),
                &[(
                    "vpc_config",
                    block(&[&[("subnet_ids", "subnet-a,subnet-b")]]),
                )],
            ),
            with(
                "aws_eks_node_group",
                st(&[
                    ("id", "demo-eks:ng"),
                    ("cluster_name", "demo-eks"),
                    ("node_role_arn", role_arn),
                    ("subnet_ids", "subnet-a,subnet-b"),
                ]),
                &[],
            ),
            with(
                "aws_eks_fargate_profile",
                st(&[
                    ("id", "demo-eks:fp"),
                    ("cluster_name", "demo-eks"),
                    ("pod_execution_role_arn", role_arn),
                    ("subnet_ids", "subnet-a,"),
                ]),
                &[],
            ),
        ]
    }

    /// The rules AWS enforces and the emulator does not (the notes on moto): each is an order
    /// the graph must give.
    #[test]
    fn the_deletion_graph_orders_what_aws_refuses_otherwise() {
        let objects = environment();
        let rules = deletion_rules(&super::super::all());
        let order = DeletionGraph::build(&objects, &rules)
            .order(&objects)
            .unwrap();
        assert_eq!(order.len(), objects.len());
        let at = |id: &str| {
            order
                .iter()
                .position(|&i| objects[i].id == id || objects[i].id.ends_with(&format!(":{id}")))
                .unwrap_or_else(|| panic!("{id} is not in the order"))
        };
        let before = |a: &str, b: &str, why: &str| {
            assert!(at(a) < at(b), "{a} must be deleted before {b}: {why}");
        };
        before(
            "service/demo/web",
            "cluster/demo",
            "ECS services before their cluster",
        );
        before(
            "listener/app/demo/1/2",
            "targetgroup/demo/1",
            "listeners before target groups",
        );
        before(
            "rule-1",
            "listener/app/demo/1/2",
            "listener rules before their listener",
        );
        before(
            "rule-1",
            "targetgroup/demo/1",
            "listener rules before target groups",
        );
        before(
            "targetgroup/demo/1",
            "loadbalancer/app/demo/1",
            "target groups before load balancers",
        );
        before(
            "service/demo/web",
            "targetgroup/demo/1",
            "services before their target groups",
        );
        before(
            "demo-eks:ng",
            "demo-eks",
            "node groups before their EKS cluster",
        );
        before(
            "demo-eks:fp",
            "demo-eks",
            "Fargate profiles before their EKS cluster",
        );
        before(
            "nat-1",
            "eipalloc-1",
            "NAT gateways before their EIP is released",
        );
        before(
            "nat-1",
            "igw-1",
            "NAT gateways before the internet gateway's detach",
        );
        before(
            "eipalloc-1",
            "igw-1",
            "EIPs released before the internet gateway's detach",
        );
        before(
            "loadbalancer/app/demo/1",
            "igw-1",
            "load balancers before the internet gateway",
        );
        before(
            "igw-1",
            "vpc-1",
            "the internet gateway (detached, then deleted) before its VPC",
        );
        before(
            "sgrule-1",
            "sg-app",
            "a rule naming another group before its own group",
        );
        before(
            "sgrule-1",
            "sg-lb",
            "a rule naming another group before the group it names",
        );
        for sub in ["subnet-a", "subnet-b", "rtb-1", "sg-app", "sg-lb"] {
            before(
                sub,
                "vpc-1",
                "subnets, route tables and security groups before the VPC",
            );
        }
        before(
            "rtbassoc-1",
            "rtb-1",
            "associations before their route table",
        );
        before("rtbassoc-1", "subnet-b", "associations before their subnet");
        before(
            "rtb-1",
            "nat-1",
            "a route table before the NAT gateway its routes use",
        );
        before(
            "service/demo/web",
            "subnet-a",
            "services (their ENIs) before subnets",
        );
        before(
            "loadbalancer/app/demo/1",
            "sg-lb",
            "load balancers before their security groups",
        );
        before(
            "demo-exec/arn:aws:iam::1:policy/demo",
            "demo-exec",
            "policies detached before roles",
        );
        before(
            "demo-exec/arn:aws:iam::1:policy/demo",
            "arn:aws:iam::1:policy/demo",
            "detached before the policy goes",
        );
        before(
            "demo-profile",
            "demo-exec",
            "instance profiles emptied before roles",
        );
        before("demo-eks", "demo-exec", "the EKS cluster before its role");
    }

    #[test]
    fn discovered_objects_carry_name_aliases_tags_and_references() {
        let kinds = kinds();
        let state = Value::map([
            ("id", Value::from("subnet-a")),
            ("vpc_id", Value::from("vpc-1")),
            (
                "tags_all",
                Value::map([
                    ("Name", Value::from("demo-a")),
                    ("env", Value::from("demo")),
                ]),
            ),
        ]);
        let o = discovered(kinds["aws_subnet"].as_ref(), &state, FoundBy::Tags);
        assert_eq!(o.id, "subnet-a");
        assert_eq!(o.name.as_deref(), Some("demo-a"));
        assert_eq!(o.tags["env"], "demo");
        assert_eq!(o.references, vec![Reference::new("aws_vpc", "vpc-1")]);
    }
}
