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
    fn st(pairs: &[(&str, impl AsRef<str>)]) -> Value {
        Value::map(pairs.iter().map(|(k, v)| {
            let v = v.as_ref();
            let v = if v.contains(',') {
                Value::List(v.split(',').map(Value::from).collect())
            } else {
                Value::from(v)
            };
            (*k, v)
        }))
    }

    fn block(items: &[&[(&str, impl AsRef<str>)]]) -> Value {
        Value::List(items.iter().map(|i| st(i)).collect())
    }

    /// The example environment's shape, as discovery would report it from the objects' states:
    /// one object per line, its type and then `key=value` (a value with a comma is a list;
    /// `block.key=value` sets an attribute of the object's one `block` block).
    const ENVIRONMENT: &str = "
        aws_vpc id=vpc-1
        aws_subnet id=subnet-a vpc_id=vpc-1
        aws_subnet id=subnet-b vpc_id=vpc-1
        aws_internet_gateway id=igw-1 vpc_id=vpc-1
        aws_eip id=eipalloc-1
        aws_nat_gateway id=nat-1 subnet_id=subnet-a allocation_id=eipalloc-1
        aws_route_table id=rtb-1 vpc_id=vpc-1 route.nat_gateway_id=nat-1
        aws_route_table_association id=rtbassoc-1 route_table_id=rtb-1 subnet_id=subnet-b
        aws_security_group id=sg-lb vpc_id=vpc-1
        aws_security_group id=sg-app vpc_id=vpc-1
        aws_security_group_rule id=sgrule-1 security_group_id=sg-app source_security_group_id=sg-lb
        aws_lb id=LB arn=LB subnets=subnet-a,subnet-b security_groups=sg-lb,
        aws_lb_target_group id=TG arn=TG vpc_id=vpc-1
        aws_lb_listener id=LISTENER arn=LISTENER load_balancer_arn=LB default_action.target_group_arn=TG
        aws_lb_listener_rule id=rule-1 listener_arn=LISTENER action.target_group_arn=TG
        aws_iam_role id=demo-exec arn=ROLE
        aws_iam_policy id=arn:aws:iam::1:policy/demo arn=arn:aws:iam::1:policy/demo
        aws_iam_role_policy_attachment id=demo-exec/arn:aws:iam::1:policy/demo role=demo-exec policy_arn=arn:aws:iam::1:policy/demo
        aws_iam_instance_profile id=demo-profile role=demo-exec
        aws_ecs_cluster id=CLUSTER arn=CLUSTER name=demo
        aws_ecs_service id=arn:aws:ecs:eu-west-1:1:service/demo/web cluster=CLUSTER load_balancer.target_group_arn=TG network_configuration.subnets=subnet-a,subnet-b network_configuration.security_groups=sg-app,
        aws_eks_cluster id=demo-eks name=demo-eks role_arn=ROLE vpc_config.subnet_ids=subnet-a,subnet-b
        aws_eks_node_group id=demo-eks:ng cluster_name=demo-eks node_role_arn=ROLE subnet_ids=subnet-a,subnet-b
        aws_eks_fargate_profile id=demo-eks:fp cluster_name=demo-eks pod_execution_role_arn=ROLE subnet_ids=subnet-a,
    ";

    fn environment() -> Vec<DiscoveredObject> {
        let kinds = kinds();
        let arns = [
            ("ROLE", "arn:aws:iam::123456789012:role/demo-exec"),
            (
                "TG",
                "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/demo/1",
            ),
            (
                "LB",
                "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/demo/1",
            ),
            (
                "LISTENER",
                "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/demo/1/2",
            ),
            ("CLUSTER", "arn:aws:ecs:eu-west-1:1:cluster/demo"),
        ];
        let arn = |v: &str| {
            arns.iter()
                .find(|(k, _)| *k == v)
                .map_or(v, |(_, a)| a)
                .to_string()
        };
        ENVIRONMENT
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let mut words = line.split_whitespace();
                let ty = words.next().unwrap();
                let mut attrs = Vec::new();
                let mut blocks: Vec<(&str, Vec<(&str, String)>)> = Vec::new();
                for w in words {
                    let (k, v) = w.split_once('=').unwrap();
                    let v = v.split(',').map(arn).collect::<Vec<_>>().join(",");
                    match k.split_once('.') {
                        Some((b, k)) => match blocks.iter_mut().find(|(n, _)| *n == b) {
                            Some((_, item)) => item.push((k, v)),
                            None => blocks.push((b, vec![(k, v)])),
                        },
                        None => attrs.push((k, v)),
                    }
                }
                let mut v = st(&attrs);
                for (b, item) in &blocks {
                    super::super::value::put(&mut v, b, block(&[item.as_slice()]));
                }
                discovered(kinds[ty].as_ref(), &v, FoundBy::Tags)
            })
            .collect()
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
