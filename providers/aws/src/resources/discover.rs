//! Discovery: the objects of the table's types that match a filter, in one region.
//!
//! With tags in the filter, the Resource Groups Tagging API is asked first (one paginated call
//! for every service it covers); a type it covers is then listed only when that answer holds
//! one of its objects, and only those objects are kept. Types it does not cover (IAM, ECR, EKS,
//! EIPs, listeners and the types without tags of their own) are listed by their service, and
//! filtered here. Services are listed in parallel, each through the SDK's retry policy.
//!
//! An object that cannot carry what the filter asks for (a type without tags when filtering by
//! tags, an object without a name when filtering by name: a route table association, a policy
//! attachment, an ECR lifecycle policy) is kept when something it points at is kept.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use terrane_core::{DiscoverFilter, DiscoveredObject, FoundBy};

use super::kind::Kind;
use super::order::discovered;
use crate::config::Clients;
use crate::error::{OrSdk, Result};

/// The objects that match `filter` among the types of `kinds`.
pub async fn discover(
    cx: &Clients,
    kinds: &BTreeMap<&'static str, Arc<Kind>>,
    filter: &DiscoverFilter,
) -> Result<Vec<DiscoveredObject>> {
    let wanted: Vec<&Arc<Kind>> = kinds
        .values()
        .filter(|k| {
            filter.wants_type(k.name())
                && (!k.listed_on_request_only() || filter.types.contains(k.name()))
        })
        .collect();
    let by_tags = !filter.tags.is_empty();
    // ARNs the tagging API returned, per (service, resource type) of the ARN.
    let tagged = if by_tags {
        let services: BTreeSet<&str> = wanted
            .iter()
            .filter_map(|k| k.tagging_type().map(|(s, _)| s))
            .collect();
        tagged_arns(cx, filter, &services).await?
    } else {
        BTreeMap::new()
    };
    let tagged = &tagged;
    let listed = futures::future::join_all(wanted.iter().map(|k| async move {
        let covered = by_tags.then(|| k.tagging_type()).flatten();
        let arns = covered.map(|t| tagged.get(&t).cloned().unwrap_or_default());
        if arns.as_ref().is_some_and(BTreeSet::is_empty) {
            // The tagging API covers this type and found none of it: nothing to list.
            return Ok((k, arns, Vec::new()));
        }
        tracing::debug!(type_name = k.name(), "listing for discovery");
        k.list(cx).await.map(|l| (k, arns, l))
    }))
    .await;

    let mut kept: Vec<DiscoveredObject> = Vec::new();
    // Objects that cannot carry the filter's criteria, kept if they point at a kept object.
    let mut pending: Vec<DiscoveredObject> = Vec::new();
    for r in listed {
        let (k, arns, objects) = r?;
        for l in objects {
            let found_by = if arns.is_some() {
                FoundBy::Tags
            } else {
                FoundBy::Listing
            };
            let mut o = discovered(k.as_ref(), &l.state, found_by);
            o.is_default = l.is_default;
            if let Some(arns) = &arns {
                if !arns.iter().any(|a| names_object(a, &o)) {
                    continue;
                }
            }
            let cannot_match =
                (by_tags && !k.taggable()) || (filter.name.is_some() && o.name.is_none());
            if cannot_match && filter.wants_type(&o.type_name) {
                pending.push(o);
            } else if filter.matches(&o) {
                kept.push(o);
            }
        }
    }
    // Children of kept objects, to a fixed point (a rule of a listener of a load balancer).
    loop {
        let ids: BTreeSet<(String, String)> = kept
            .iter()
            .flat_map(|o| {
                std::iter::once(&o.id)
                    .chain(&o.aliases)
                    .map(|id| (o.type_name.clone(), id.clone()))
            })
            .collect();
        let (now, later): (Vec<_>, Vec<_>) = pending.into_iter().partition(|o| {
            o.references
                .iter()
                .any(|r| ids.contains(&(r.type_name.clone(), r.id.clone())))
        });
        pending = later;
        if now.is_empty() {
            break;
        }
        kept.extend(now);
    }
    let rules = kinds
        .get("aws_security_group_rule")
        .filter(|k| filter.wants_type(k.name()));
    let mut detached = Vec::new();
    for o in &mut kept {
        detached.extend(detach_group_rules(o, rules.map(|k| k.as_ref())));
    }
    kept.extend(detached);
    kept.sort_by(|a, b| (&a.type_name, &a.id).cmp(&(&b.type_name, &b.id)));
    Ok(kept)
}

/// A discovered security group's rules that let another group in or out become objects of
/// their own (`aws_security_group_rule`, found by listing), each pointing at both groups: AWS
/// refuses to delete a group another group's rule names, so those rules are revoked first,
/// and the groups are no order among themselves (two groups that name each other are no
/// cycle, and no deletion waits on a retry). When the rule type is excluded from the filter,
/// the group revokes its own rules as it is deleted, as aws-nuke and Terraform's sweepers do,
/// and a group still named by another waits for that one in a dependency retry.
fn detach_group_rules(o: &mut DiscoveredObject, rules: Option<&Kind>) -> Vec<DiscoveredObject> {
    if o.type_name != "aws_security_group" {
        return Vec::new();
    }
    o.references.retain(|r| r.type_name != "aws_security_group");
    let Some(kind) = rules else {
        if let terrane_core::Value::Map(m) = &mut o.state {
            m.insert(
                "revoke_rules_on_delete".into(),
                terrane_core::Value::Bool(true),
            );
        }
        return Vec::new();
    };
    let blocks = |k: &str| {
        o.state
            .get(k)
            .and_then(terrane_core::Value::as_list)
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    };
    super::ec2::group_rules(&o.id, &blocks("ingress"), &blocks("egress"))
        .iter()
        .map(|state| {
            let mut rule = discovered(kind, state, FoundBy::Listing);
            // As old as its group, for the age filters.
            rule.created = o.created.clone();
            rule
        })
        .collect()
}

/// The ARNs of every object that carries all of the filter's tags, in the given services,
/// grouped by the service and resource type named in the ARN.
async fn tagged_arns(
    cx: &Clients,
    filter: &DiscoverFilter,
    services: &BTreeSet<&str>,
) -> Result<BTreeMap<(&'static str, &'static str), BTreeSet<String>>> {
    use aws_sdk_resourcegroupstagging::types::TagFilter;
    if services.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut req = cx.tagging.get_resources();
    for (k, v) in &filter.tags {
        req = req.tag_filters(TagFilter::builder().key(k).values(v).build());
    }
    // Service-wide filters ("ec2", not "ec2:vpc"): resource type names differ between the API's
    // documentation and emulators; the ARN says what each object is.
    for s in services {
        req = req.resource_type_filters(*s);
    }
    let pages = req
        .into_paginator()
        .send()
        .try_collect()
        .await
        .or_sdk("GetResources")?;
    let mut out: BTreeMap<(&'static str, &'static str), BTreeSet<String>> = BTreeMap::new();
    for m in pages
        .into_iter()
        .flat_map(|p| p.resource_tag_mapping_list.unwrap_or_default())
    {
        let Some(arn) = m.resource_arn() else {
            continue;
        };
        if let Some(key) = arn_type(arn) {
            out.entry(key).or_default().insert(arn.to_string());
        }
    }
    Ok(out)
}

/// The (service, resource type) an ARN names, for the types the table maps to the tagging API:
/// `arn:aws:ec2:r:a:vpc/vpc-1` is ("ec2", "vpc"), `arn:aws:logs:r:a:log-group:name` is
/// ("logs", "log-group").
fn arn_type(arn: &str) -> Option<(&'static str, &'static str)> {
    let mut parts = arn.splitn(6, ':');
    let (_, _, service, _, _, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let ty = resource.split(['/', ':']).next()?;
    KNOWN
        .iter()
        .find(|(s, t)| *s == service && *t == ty)
        .copied()
}

/// The ARN types the table's `tagging_type`s name.
const KNOWN: &[(&str, &str)] = &[
    ("ec2", "vpc"),
    ("ec2", "subnet"),
    ("ec2", "internet-gateway"),
    ("ec2", "natgateway"),
    ("ec2", "route-table"),
    ("ec2", "security-group"),
    ("ecs", "cluster"),
    ("ecs", "service"),
    ("ecs", "task-definition"),
    ("elasticloadbalancing", "loadbalancer"),
    ("elasticloadbalancing", "targetgroup"),
    ("elasticache", "replicationgroup"),
    ("elasticache", "subnetgroup"),
    ("logs", "log-group"),
    ("cloudwatch", "alarm"),
];

/// Whether `arn` is the ARN of `o`: its id or an alias, or an ARN that ends with its id (EC2's
/// `.../vpc-1`, ElastiCache's `...:replicationgroup:name`, a task definition's `family:rev`).
fn names_object(arn: &str, o: &DiscoveredObject) -> bool {
    let arn = arn.strip_suffix(":*").unwrap_or(arn);
    std::iter::once(&o.id).chain(&o.aliases).any(|id| {
        let id = id.strip_suffix(":*").unwrap_or(id);
        arn == id
            || arn.ends_with(&format!("/{id}"))
            || arn.ends_with(&format!(":{id}"))
            || arn
                .rsplit_once(':')
                .is_some_and(|(head, _rev)| head.ends_with(&format!("/{id}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_their_type_and_their_object() {
        assert_eq!(
            arn_type("arn:aws:ec2:eu-west-1:1:vpc/vpc-1"),
            Some(("ec2", "vpc"))
        );
        assert_eq!(
            arn_type("arn:aws:logs:eu-west-1:1:log-group:/ecs/demo"),
            Some(("logs", "log-group"))
        );
        assert_eq!(
            arn_type("arn:aws:elasticache:eu-west-1:1:replicationgroup:demo"),
            Some(("elasticache", "replicationgroup"))
        );
        assert_eq!(arn_type("arn:aws:ec2:eu-west-1:1:instance/i-1"), None);
        assert_eq!(arn_type("not an arn"), None);
        let o = |id: &str| DiscoveredObject::new("t", id, FoundBy::Tags);
        assert!(names_object("arn:aws:ec2:r:1:vpc/vpc-1", &o("vpc-1")));
        assert!(!names_object("arn:aws:ec2:r:1:vpc/vpc-12", &o("vpc-1")));
        assert!(names_object(
            "arn:aws:elasticache:r:1:replicationgroup:demo",
            &o("demo")
        ));
        assert!(names_object(
            "arn:aws:ecs:r:1:task-definition/web:3",
            &o("web")
        ));
        assert!(names_object(
            "arn:aws:logs:r:1:log-group:/ecs/web:*",
            &o("/ecs/web")
        ));
        let lb = "arn:aws:elasticloadbalancing:r:1:loadbalancer/app/demo/abc";
        assert!(names_object(lb, &o(lb)));
    }

    #[test]
    fn every_tagging_type_of_the_table_is_one_arns_are_mapped_to() {
        for k in super::super::all() {
            if let Some(t) = k.tagging_type() {
                assert!(KNOWN.contains(&t), "{}: {t:?} is not in KNOWN", k.name());
            }
        }
    }
}
