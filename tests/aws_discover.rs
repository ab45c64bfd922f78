//! Discovery against moto: two copies of the example environment side by side, found by tag and
//! by name without their state; every type of the table listed; and the deletion graph of the
//! discovered objects walked against the emulator, leaving nothing.

mod common;
#[path = "common/faults.rs"]
mod faults;
#[path = "common/moto.rs"]
mod moto;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::{managed_type, Fixture};
use moto::Moto;
use terrane_core::{
    ApplyRequest, DeletionGraph, DiscoverFilter, DiscoveredObject, NameMatch, Provider, Value,
};
use terrane_provider_aws::AwsProvider;

async fn provider(m: &Moto) -> Arc<AwsProvider> {
    provider_at(&m.url()).await
}

/// The native AWS provider, configured as a provider block would, against `url`.
async fn provider_at(url: &str) -> Arc<AwsProvider> {
    let p = Arc::new(AwsProvider::new());
    let config = Value::map([
        ("region", Value::from("us-east-1")),
        ("access_key", Value::from("testing")),
        ("secret_key", Value::from("testing")),
        ("endpoint_url", Value::from(url)),
    ]);
    p.configure(&config).await.unwrap();
    p
}

fn keys(objects: &[DiscoveredObject]) -> BTreeSet<(String, String)> {
    objects
        .iter()
        .map(|o| (o.type_name.clone(), o.id.clone()))
        .collect()
}

/// (type, id) of objects, or (group, other group) of rules.
type Keys = BTreeSet<(String, String)>;

/// The keys of what discovery found, but for the rules between groups, and those rules as
/// (group, other group).
fn without_rules(objects: &[DiscoveredObject]) -> (Keys, Keys) {
    let (rules, rest): (Vec<_>, Vec<_>) = objects
        .iter()
        .cloned()
        .partition(|o| o.type_name == "aws_security_group_rule");
    let s =
        |o: &DiscoveredObject, k: &str| o.state.get(k).and_then(Value::as_str).unwrap().to_string();
    let pairs = rules
        .iter()
        .map(|o| (s(o, "security_group_id"), s(o, "source_security_group_id")))
        .collect();
    (keys(&rest), pairs)
}

fn by_tag(k: &str, v: &str) -> DiscoverFilter {
    DiscoverFilter {
        tags: BTreeMap::from([(k.to_string(), v.to_string())]),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_environments_are_told_apart_by_tag_and_found_by_name_without_their_state() {
    let m = Moto::start();
    let first = Fixture::from_example("environment");
    m.run(&first, &["apply", "-auto-approve"], 0);
    // A second environment in the same account.
    let second = Fixture::second_environment();
    m.run(
        &second,
        &["apply", "-auto-approve", "-var=environment=automation-qa"],
        0,
    );
    let p = provider(&m).await;

    let in_state = first.state_objects();
    let found = p
        .discover(&by_tag("environment", "automation-dev"))
        .await
        .unwrap();
    let (found_keys, rules) = without_rules(&found);
    // The services group lets the load balancer's in: that rule is an object of its own.
    assert_eq!(rules, common::group_rule_pairs(&first.state_json()));
    assert!(!rules.is_empty());
    let missing: Vec<_> = in_state.difference(&found_keys).collect();
    let extra: Vec<_> = found_keys.difference(&in_state).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "discovery by the environment tag differs from the state:\nmissing {missing:#?}\nextra {extra:#?}"
    );
    assert!(found.iter().all(|o| !o.is_default));
    let second_state = second.state_objects();
    assert!(found_keys.is_disjoint(&second_state));
    // The tagging API answered for the types it covers.
    assert!(found
        .iter()
        .any(|o| o.type_name == "aws_vpc" && o.found_by == terrane_core::FoundBy::Tags));

    // By name: the types the tagging API does not cover are found by their services' listings.
    let by_name = p
        .discover(&DiscoverFilter {
            name: Some(NameMatch::Prefix("automation-qa".into())),
            ..Default::default()
        })
        .await
        .unwrap();
    let types: BTreeSet<String> = by_name.iter().map(|o| o.type_name.clone()).collect();
    for t in [
        "aws_iam_role",
        "aws_ecr_repository",
        "aws_ecs_cluster",
        "aws_lb",
        "aws_security_group",
    ] {
        assert!(types.contains(t), "{t} not found by name: {types:?}");
    }
    // What AWS made in the second environment's VPC carries its names too: a default.
    let (defaults, deletable): (Vec<_>, Vec<_>) = by_name.into_iter().partition(|o| o.is_default);
    let (deletable, rules) = without_rules(&deletable);
    assert!(
        deletable.is_subset(&second_state),
        "{:#?}",
        deletable.difference(&second_state).collect::<Vec<_>>()
    );
    assert_eq!(rules, common::group_rule_pairs(&second.state_json()));
    assert!(defaults
        .iter()
        .all(|o| !second_state.contains(&(o.type_name.clone(), o.id.clone()))));
    let regex = p
        .discover(&DiscoverFilter {
            name: Some(NameMatch::regex("^automation-(dev|qa)-services$").unwrap()),
            types: BTreeSet::from(["aws_security_group".to_string()]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(regex.len(), 2, "{regex:#?}");

    // Unfiltered: the default VPC and what AWS made in it are reported as defaults.
    let all = p
        .discover(&DiscoverFilter {
            types: [
                "aws_vpc",
                "aws_subnet",
                "aws_security_group",
                "aws_route_table",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            ..Default::default()
        })
        .await
        .unwrap();
    let default_vpc: Vec<_> = all
        .iter()
        .filter(|o| o.type_name == "aws_vpc" && o.is_default)
        .collect();
    assert_eq!(default_vpc.len(), 1, "{all:#?}");
    assert!(all
        .iter()
        .any(|o| o.type_name == "aws_subnet" && o.is_default));
    for o in &all {
        if in_state.contains(&(o.type_name.clone(), o.id.clone())) {
            assert!(!o.is_default, "{o:?}");
        }
    }
}

/// A configuration with every type of the table that the example environment lacks.
const REST: &str = r#"
provider "aws" {
  default_tags {
    tags = { environment = "listing" }
  }
}

resource "aws_vpc" "v" {
  cidr_block = "10.20.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.v.id
  cidr_block        = "10.20.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_subnet" "b" {
  vpc_id            = aws_vpc.v.id
  cidr_block        = "10.20.2.0/24"
  availability_zone = "us-east-1b"
}

resource "aws_internet_gateway" "g" {
  vpc_id = aws_vpc.v.id
}

resource "aws_route_table" "r" {
  vpc_id = aws_vpc.v.id
}

resource "aws_route" "out" {
  route_table_id         = aws_route_table.r.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.g.id
}

resource "aws_security_group" "x" {
  name   = "listing-x"
  vpc_id = aws_vpc.v.id
}

resource "aws_security_group" "y" {
  name   = "listing-y"
  vpc_id = aws_vpc.v.id
}

resource "aws_security_group_rule" "y_from_x" {
  type                     = "ingress"
  security_group_id        = aws_security_group.y.id
  source_security_group_id = aws_security_group.x.id
  from_port                = 443
  to_port                  = 443
  protocol                 = "tcp"
}

resource "aws_lb_target_group" "t" {
  name        = "listing-t"
  port        = 80
  protocol    = "HTTP"
  vpc_id      = aws_vpc.v.id
  target_type = "ip"
}

resource "aws_lb_target_group_attachment" "t" {
  target_group_arn = aws_lb_target_group.t.arn
  target_id        = "10.20.1.10"
  port             = 80
}

resource "aws_iam_role" "eks" {
  name = "listing-eks"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "eks.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "inline" {
  name = "listing-inline"
  role = aws_iam_role.eks.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }]
  })
}

resource "aws_iam_policy" "p" {
  name = "listing-policy"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }]
  })
}

resource "aws_iam_instance_profile" "p" {
  name = "listing-profile"
  role = aws_iam_role.eks.name
}

resource "aws_eks_cluster" "c" {
  name     = "listing-eks"
  role_arn = aws_iam_role.eks.arn
  vpc_config {
    subnet_ids = [aws_subnet.a.id, aws_subnet.b.id]
  }
}

resource "aws_eks_node_group" "n" {
  cluster_name    = aws_eks_cluster.c.name
  node_group_name = "listing-nodes"
  node_role_arn   = aws_iam_role.eks.arn
  subnet_ids      = [aws_subnet.a.id]
  scaling_config {
    desired_size = 1
    max_size     = 1
    min_size     = 1
  }
}

resource "aws_ssm_parameter" "p" {
  name  = "/listing/p"
  type  = "String"
  value = "v"
}

resource "aws_cloudwatch_metric_alarm" "a" {
  alarm_name          = "listing-a"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  metric_name         = "CPUUtilization"
  namespace           = "AWS/EC2"
  period              = 60
  statistic           = "Average"
  threshold           = 90
}

resource "aws_s3_bucket" "b" {
  bucket = "listing-b"
}

resource "aws_eks_fargate_profile" "f" {
  cluster_name           = aws_eks_cluster.c.name
  fargate_profile_name   = "listing-fargate"
  pod_execution_role_arn = aws_iam_role.eks.arn
  subnet_ids             = [aws_subnet.a.id]
  selector {
    namespace = "default"
  }
}
"#;

/// Every type of the table is listed: each object in the two workspaces' state is found by
/// discovery asked for its type alone.
#[tokio::test(flavor = "multi_thread")]
async fn every_type_of_the_table_is_listed() {
    let m = Moto::start();
    let env = Fixture::from_example("environment");
    m.run(&env, &["apply", "-auto-approve"], 0);
    let rest = Fixture::new(REST);
    m.run(&rest, &["apply", "-auto-approve"], 0);
    let p = provider(&m).await;
    let mut in_state = env.state_objects();
    in_state.extend(rest.state_objects());
    let table: BTreeSet<String> = p.schema().resources.keys().cloned().collect();
    let state_types: BTreeSet<String> = in_state.iter().map(|(t, _)| t.clone()).collect();
    let untested: Vec<_> = table.difference(&state_types).collect();
    assert!(
        untested.is_empty(),
        "types with no listing test: {untested:?}"
    );
    for ty in &table {
        let listed = p
            .discover(&DiscoverFilter {
                types: BTreeSet::from([ty.clone()]),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{ty}: {e}"));
        let listed = keys(&listed);
        for want in in_state.iter().filter(|(t, _)| t == ty) {
            assert!(listed.contains(want), "{want:?} not listed: {listed:#?}");
        }
    }
}

/// The example environment's state is lost; its objects, found by tag, are deleted in the
/// deletion graph's order: nothing is left, and AWS never answered with a dependency conflict
/// (counted by a recording proxy in front of the emulator).
#[tokio::test(flavor = "multi_thread")]
async fn deleting_discovered_objects_in_graph_order_leaves_nothing() {
    let m = Moto::start();
    let f = Fixture::from_example("environment");
    m.run(&f, &["apply", "-auto-approve"], 0);
    let proxy = faults::FaultProxy::start(m.port, usize::MAX, usize::MAX);
    // AWS's refusals that the emulator does not make (a group another group's rule names).
    proxy
        .aws_rules
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let p = provider_at(&proxy.url()).await;
    let filter = by_tag("environment", "automation-dev");
    let objects = p.discover(&filter).await.unwrap();
    let (found, rules) = without_rules(&objects);
    assert_eq!(found, f.state_objects());
    assert_eq!(rules, common::group_rule_pairs(&f.state_json()));
    let order = DeletionGraph::build(&objects, &p.deletion_rules())
        .order(&objects)
        .unwrap();
    for i in order {
        let o = &objects[i];
        let req = ApplyRequest {
            type_name: &o.type_name,
            prior: Some(&o.state),
            planned: None,
            config: &Value::Null,
            token: "discovered",
            progress: &terrane_core::NoProgress,
        };
        p.apply(req)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", o.label()));
    }
    let conflicts = proxy.conflicts.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(conflicts, 0, "dependency conflicts on the way");
    let left = p.discover(&filter).await.unwrap();
    assert!(left.is_empty(), "left behind: {left:#?}");
}

/// For every type that reads in batches: a batch of the example environment's objects plus
/// one that does not exist reads exactly what one read per object does, and the missing one as
/// gone (a missing id must not fail the batch).
#[tokio::test(flavor = "multi_thread")]
async fn a_batched_read_equals_one_read_per_object_and_reports_the_gone() {
    let m = Moto::start();
    let f = Fixture::from_example("environment");
    m.run(&f, &["apply", "-auto-approve"], 0);
    let p = provider(&m).await;
    let mut by_type: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in f.state_json()["resources"].as_array().unwrap() {
        let Some(ty) = managed_type(r["address"].as_str().unwrap()) else {
            continue;
        };
        by_type
            .entry(ty.to_string())
            .or_default()
            .push(Value::from_json(&r["values"]));
    }
    let mut batched = Vec::new();
    for (ty, states) in &by_type {
        if p.read_batch(ty).is_none() {
            continue;
        }
        batched.push(ty.clone());
        // The first object under other names: gone.
        let mut gone = states[0].clone();
        for k in ["id", "arn", "name"] {
            if let Some(v) = gone.get(k).and_then(Value::as_str) {
                let v = format!("{v}-gone");
                if let Value::Map(m) = &mut gone {
                    m.insert(k.to_string(), Value::from(v));
                }
            }
        }
        let mut priors: Vec<&Value> = states.iter().collect();
        priors.insert(priors.len() / 2, &gone);
        let many = p
            .read_many(ty, &priors)
            .await
            .unwrap_or_else(|e| panic!("{ty}: {e}"));
        assert_eq!(many.len(), priors.len(), "{ty}");
        for (prior, got) in priors.iter().zip(&many) {
            let one = p.read(ty, prior).await.unwrap();
            assert_eq!(got, &one, "{ty}: batched and single reads differ");
            if std::ptr::eq(*prior, &gone) {
                assert_eq!(got, &None, "{ty}: a missing object was read");
            } else {
                assert!(got.is_some(), "{ty}: an existing object was reported gone");
            }
        }
    }
    for ty in [
        "aws_vpc",
        "aws_subnet",
        "aws_security_group",
        "aws_route_table",
        "aws_route_table_association",
        "aws_internet_gateway",
        "aws_nat_gateway",
        "aws_eip",
        "aws_ecs_service",
        "aws_lb_target_group",
        "aws_ecr_repository",
        "aws_elasticache_replication_group",
        "aws_elasticache_subnet_group",
        "aws_cloudwatch_log_group",
        "aws_iam_role",
        "aws_iam_role_policy_attachment",
    ] {
        assert!(
            batched.iter().any(|b| b == ty),
            "{ty} is not read in batches: {batched:?}"
        );
    }
}

/// A no-change plan of the example environment through a recording proxy makes fewer API
/// calls than there are objects: objects of a type are refreshed in batches (one describe per
/// type where the API takes many ids, a listing where it takes one or all).
#[tokio::test(flavor = "multi_thread")]
async fn a_no_change_plan_refreshes_ec2_objects_in_batches() {
    let m = Moto::start();
    let f = Fixture::from_example("environment");
    m.run(&f, &["apply", "-auto-approve"], 0);
    let objects = f.state_objects().len();
    let proxy = faults::FaultProxy::start(m.port, usize::MAX, usize::MAX);
    let mut c = f.cmd(&["plan", "-detailed-exitcode"]);
    for (k, v) in m.env() {
        c.env(k, v);
    }
    c.env("AWS_ENDPOINT_URL", proxy.url());
    let out = c.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let calls = proxy.calls.lock().unwrap().clone();
    let mut by_op: BTreeMap<String, usize> = BTreeMap::new();
    for (op, _) in &calls {
        *by_op.entry(op.clone()).or_default() += 1;
    }
    eprintln!("{objects} objects, {} calls: {by_op:#?}", calls.len());
    assert!(
        calls.len() < objects,
        "{} calls for {objects} objects: {by_op:#?}",
        calls.len()
    );
    // 4 subnets and 5 security groups are each read in fewer calls than objects; the NAT
    // gateway and the internet gateway in one; 3 ECS services, the target groups, 3
    // repositories, replication groups, cache subnet groups and log groups, 4 route table
    // associations and 7 roles each in one; 4 policy attachments (3 of one policy) in 2.
    for (op, most) in [
        ("DescribeSubnets", 1),
        ("DescribeSecurityGroups", 2),
        ("DescribeNatGateways", 1),
        ("DescribeInternetGateways", 1),
        ("DescribeServices", 1),
        ("DescribeTargetGroups", 1),
        ("DescribeRepositories", 1),
        ("DescribeReplicationGroups", 1),
        ("DescribeCacheSubnetGroups", 1),
        ("DescribeLogGroups", 1),
        ("GetRole", 0),
        ("ListEntitiesForPolicy", 2),
        ("ListAttachedRolePolicies", 0),
    ] {
        assert!(
            by_op.get(op).copied().unwrap_or(0) <= most,
            "{op}: {by_op:#?}"
        );
    }
}

/// Credentials that may read each role and attachment but not list the account's roles or a
/// policy's users (GetAccountAuthorizationDetails is often denied): the batched reads that use
/// those calls fall back to one read per object, and the no-change plan still succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn a_batched_read_that_is_denied_falls_back_to_one_read_per_object() {
    let m = Moto::start();
    let f = Fixture::from_example("environment");
    m.run(&f, &["apply", "-auto-approve"], 0);
    let proxy = faults::FaultProxy::start(m.port, usize::MAX, usize::MAX);
    proxy.denied.lock().unwrap().extend(
        [
            "ListRoles",
            "GetAccountAuthorizationDetails",
            "ListEntitiesForPolicy",
        ]
        .map(String::from),
    );
    let mut c = f.cmd(&["plan", "-detailed-exitcode"]);
    for (k, v) in m.env() {
        c.env(k, v);
    }
    c.env("AWS_ENDPOINT_URL", proxy.url());
    let out = c.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = proxy.calls.lock().unwrap().clone();
    let count = |op: &str| calls.iter().filter(|(o, _)| o == op).count();
    assert!(proxy.injected.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    assert_eq!(count("GetRole"), 7, "one GetRole per role");
    assert_eq!(
        count("ListAttachedRolePolicies"),
        4,
        "one per attachment's role"
    );
}
