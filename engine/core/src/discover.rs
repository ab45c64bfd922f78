//! Discovery: finding the objects a provider manages without a state file (by tags, by name, by
//! type), and the order in which they can be deleted.
//!
//! A provider that can list its objects answers [`crate::Provider::discover`] with
//! [`DiscoveredObject`]s. Each carries the ids it points at ([`Reference`]), so that a caller
//! (nuke, environment garbage collection) can build a [`DeletionGraph`] of objects from those
//! references and from the provider's type-level [`DeletionRule`]s, and walk it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// What to look for. Every part that is set must match: all the tags, the name, one of the types.
#[derive(Debug, Clone, Default)]
pub struct DiscoverFilter {
    /// Tags that must all be present with these values.
    pub tags: BTreeMap<String, String>,
    /// The object's name must match.
    pub name: Option<NameMatch>,
    /// Only these resource types (all the provider's types when empty).
    pub types: BTreeSet<String>,
}

/// How a name is matched.
#[derive(Debug, Clone)]
pub enum NameMatch {
    Prefix(String),
    Regex(regex_lite::Regex),
}

impl NameMatch {
    /// A regular expression, checked now so that a bad one is refused before any call is made.
    pub fn regex(pattern: &str) -> Result<Self, String> {
        regex_lite::Regex::new(pattern)
            .map(NameMatch::Regex)
            .map_err(|e| format!("invalid name pattern {pattern:?}: {e}"))
    }

    pub fn matches(&self, name: &str) -> bool {
        match self {
            NameMatch::Prefix(p) => name.starts_with(p.as_str()),
            NameMatch::Regex(r) => r.is_match(name),
        }
    }
}

impl DiscoverFilter {
    /// Whether `type_name` is one the filter asks for.
    pub fn wants_type(&self, type_name: &str) -> bool {
        self.types.is_empty() || self.types.contains(type_name)
    }

    /// Whether an object passes every part of the filter that is set.
    pub fn matches(&self, o: &DiscoveredObject) -> bool {
        self.wants_type(&o.type_name)
            && self.tags.iter().all(|(k, v)| o.tags.get(k) == Some(v))
            && match &self.name {
                None => true,
                Some(m) => o.name.as_deref().is_some_and(|n| m.matches(n)),
            }
    }

    /// No tags and no name: every object of the types would match.
    pub fn is_unbounded(&self) -> bool {
        self.tags.is_empty() && self.name.is_none()
    }
}

/// How an object was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FoundBy {
    /// A tag query (for AWS, the Resource Groups Tagging API).
    Tags,
    /// The service's own listing, filtered by name or tags here.
    Listing,
}

impl fmt::Display for FoundBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FoundBy::Tags => "tags",
            FoundBy::Listing => "listing",
        })
    }
}

/// An id an object points at: a subnet at its VPC, a listener at its load balancer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    pub type_name: String,
    pub id: String,
}

impl Reference {
    pub fn new(type_name: impl Into<String>, id: impl Into<String>) -> Self {
        Reference {
            type_name: type_name.into(),
            id: id.into(),
        }
    }
}

/// One object found by [`crate::Provider::discover`].
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveredObject {
    /// The resource type, as configurations name it (`aws_vpc`).
    pub type_name: String,
    /// The id its resource's state would hold (`vpc-0a1b...`, an ARN, a name).
    pub id: String,
    /// Other identifiers that references may use for it (an ARN, a name).
    pub aliases: Vec<String>,
    pub name: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// When the object was created (RFC 3339), where the service reports it.
    pub created: Option<String>,
    pub found_by: FoundBy,
    /// What it points at; it must be deleted before any of these.
    pub references: Vec<Reference>,
    /// The provider's view of the object, as its resource's state would hold it (null when the
    /// provider has none): what a delete of it takes as its prior state.
    pub state: crate::Value,
    /// Made by the cloud itself (a default VPC and its default subnets, route table, network
    /// ACL, security group, internet gateway): reported, never deleted.
    pub is_default: bool,
}

impl DiscoveredObject {
    pub fn new(type_name: impl Into<String>, id: impl Into<String>, found_by: FoundBy) -> Self {
        DiscoveredObject {
            type_name: type_name.into(),
            id: id.into(),
            aliases: Vec::new(),
            name: None,
            tags: BTreeMap::new(),
            created: None,
            found_by,
            references: Vec::new(),
            state: crate::Value::Null,
            is_default: false,
        }
    }

    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Another identifier references may use for it (empty ones are ignored).
    pub fn also_known_as(mut self, alias: impl Into<String>) -> Self {
        let alias = alias.into();
        if !alias.is_empty() && alias != self.id && !self.aliases.contains(&alias) {
            self.aliases.push(alias);
        }
        self
    }

    pub fn with_tags(mut self, tags: BTreeMap<String, String>) -> Self {
        self.tags = tags;
        self
    }

    pub fn refers_to(mut self, type_name: &str, id: impl Into<String>) -> Self {
        let id = id.into();
        if !id.is_empty() {
            self.references.push(Reference::new(type_name, id));
        }
        self
    }

    /// `type_name.id`, as in messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.type_name, self.id)
    }
}

/// A type-level rule: every object of `first` is deleted before any object of `then`, whether
/// or not a reference between them was found (a target group before the load balancer whose
/// listeners used it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionRule {
    pub first: &'static str,
    pub then: &'static str,
    /// Why, in a few words (shown when the order is explained).
    pub why: &'static str,
}

/// A node of a [`DeletionGraph`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeletionNode {
    /// Delete this object (an index into the objects the graph was built from).
    Object(usize),
    /// Nothing to do: reached once every object of the type before it is gone. Type-level
    /// rules go through these, so that the graph has O(n) edges instead of one per pair.
    TypeDone(String),
}

/// Objects to delete and what must go before what: an edge `(a, b)` means `a` before `b`.
/// Default objects are not in it.
#[derive(Debug, Clone)]
pub struct DeletionGraph {
    pub nodes: Vec<DeletionNode>,
    pub edges: Vec<(usize, usize)>,
}

/// The graph has a cycle: these objects wait on each other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the objects to delete wait on each other: {}", .0.join(" -> "))]
pub struct DeletionCycle(pub Vec<String>);

impl DeletionGraph {
    /// Builds the graph of `objects` from their references (an object before what it points
    /// at, when that is among them) and from `rules`.
    pub fn build(objects: &[DiscoveredObject], rules: &[DeletionRule]) -> DeletionGraph {
        let mut nodes = Vec::new();
        let mut node_of: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            if o.is_default {
                continue;
            }
            for id in std::iter::once(&o.id).chain(&o.aliases) {
                node_of.insert((o.type_name.as_str(), id.as_str()), nodes.len());
            }
            nodes.push(DeletionNode::Object(i));
        }
        let mut edges = BTreeSet::new();
        for o in objects.iter().filter(|o| !o.is_default) {
            let a = node_of[&(o.type_name.as_str(), o.id.as_str())];
            for r in &o.references {
                if let Some(&b) = node_of.get(&(r.type_name.as_str(), r.id.as_str())) {
                    if a != b {
                        edges.insert((a, b));
                    }
                }
            }
        }
        // Type-level rules through one "all of T deleted" node per type that some rule orders.
        let present: BTreeSet<&str> = objects
            .iter()
            .filter(|o| !o.is_default)
            .map(|o| o.type_name.as_str())
            .collect();
        let mut done: BTreeMap<&str, usize> = BTreeMap::new();
        for r in rules {
            if !present.contains(r.first) || !present.contains(r.then) {
                continue;
            }
            let d = *done.entry(r.first).or_insert_with(|| {
                nodes.push(DeletionNode::TypeDone(r.first.to_string()));
                nodes.len() - 1
            });
            for o in objects.iter().filter(|o| !o.is_default) {
                let n = node_of[&(o.type_name.as_str(), o.id.as_str())];
                if o.type_name == r.first {
                    edges.insert((n, d));
                } else if o.type_name == r.then {
                    edges.insert((d, n));
                }
            }
        }
        DeletionGraph {
            nodes,
            edges: edges.into_iter().collect(),
        }
    }

    /// The objects in an order that respects every edge (indices into the objects the graph
    /// was built from), or the cycle that prevents one.
    pub fn order(&self, objects: &[DiscoveredObject]) -> Result<Vec<usize>, DeletionCycle> {
        let n = self.nodes.len();
        let mut indegree = vec![0usize; n];
        let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(a, b) in &self.edges {
            out[a].push(b);
            indegree[b] += 1;
        }
        let mut ready: std::collections::VecDeque<usize> =
            (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        let mut seen = 0;
        while let Some(i) = ready.pop_front() {
            seen += 1;
            if let DeletionNode::Object(o) = self.nodes[i] {
                order.push(o);
            }
            for &j in &out[i] {
                indegree[j] -= 1;
                if indegree[j] == 0 {
                    ready.push_back(j);
                }
            }
        }
        if seen == n {
            return Ok(order);
        }
        Err(DeletionCycle(self.cycle(&indegree, &out, objects)))
    }

    /// One cycle among the nodes left with incoming edges, as labels.
    fn cycle(
        &self,
        indegree: &[usize],
        out: &[Vec<usize>],
        objects: &[DiscoveredObject],
    ) -> Vec<String> {
        let label = |i: usize| match &self.nodes[i] {
            DeletionNode::Object(o) => objects[*o].label(),
            DeletionNode::TypeDone(t) => format!("(every {t})"),
        };
        let Some(start) = (0..indegree.len()).find(|&i| indegree[i] > 0) else {
            return Vec::new();
        };
        // Every node left over waits on another left-over node: walk those until one repeats.
        let stuck = |i: usize| indegree[i] > 0;
        let mut path = vec![start];
        let mut at = start;
        loop {
            let Some(&next) = out[at].iter().find(|&&j| stuck(j)) else {
                return path.into_iter().map(label).collect();
            };
            if let Some(pos) = path.iter().position(|&p| p == next) {
                let mut c: Vec<String> = path[pos..].iter().map(|&i| label(i)).collect();
                c.push(label(next));
                return c;
            }
            path.push(next);
            at = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(t: &str, id: &str) -> DiscoveredObject {
        DiscoveredObject::new(t, id, FoundBy::Tags)
    }

    #[test]
    fn filters_match_all_tags_the_name_and_the_types() {
        let o = obj("aws_vpc", "vpc-1")
            .with_name("demo-1a2b3c4d-vpc")
            .with_tags(BTreeMap::from([
                ("env".to_string(), "demo-1a2b3c4d".to_string()),
                ("team".to_string(), "platform".to_string()),
            ]));
        let mut f = DiscoverFilter::default();
        assert!(f.matches(&o) && f.is_unbounded());
        f.tags.insert("env".into(), "demo-1a2b3c4d".into());
        assert!(f.matches(&o));
        f.tags.insert("team".into(), "other".into());
        assert!(!f.matches(&o), "every tag must match");
        f.tags.remove("team");
        f.name = Some(NameMatch::Prefix("demo-1a2b".into()));
        assert!(f.matches(&o));
        f.name = Some(NameMatch::regex("^demo-[0-9a-f]{8}-vpc$").unwrap());
        assert!(f.matches(&o));
        f.name = Some(NameMatch::regex("^prod-").unwrap());
        assert!(!f.matches(&o));
        f.name = None;
        f.types.insert("aws_subnet".into());
        assert!(!f.matches(&o));
        f.types.insert("aws_vpc".into());
        assert!(f.matches(&o));
        assert!(NameMatch::regex("(")
            .unwrap_err()
            .contains("invalid name pattern"));
        // A name filter never matches an object that has no name.
        let f = DiscoverFilter {
            name: Some(NameMatch::Prefix(String::new())),
            ..Default::default()
        };
        assert!(!f.matches(&obj("aws_route_table_association", "rtbassoc-1")));
    }

    fn position(order: &[usize], objects: &[DiscoveredObject], id: &str) -> usize {
        order
            .iter()
            .position(|&i| objects[i].id == id)
            .unwrap_or_else(|| panic!("{id} is not in the order"))
    }

    #[test]
    fn references_and_type_rules_order_deletion_and_defaults_are_left_out() {
        let objects = vec![
            obj("aws_vpc", "vpc-1"),
            obj("aws_subnet", "subnet-1").refers_to("aws_vpc", "vpc-1"),
            obj("aws_lb", "lb-1").refers_to("aws_subnet", "subnet-1"),
            // Found by its name, pointed at by its ARN.
            obj("aws_iam_role", "app").also_known_as("arn:aws:iam::1:role/app"),
            obj("aws_eks_cluster", "c").refers_to("aws_iam_role", "arn:aws:iam::1:role/app"),
            obj("aws_lb_target_group", "tg-1").refers_to("aws_vpc", "vpc-1"),
            obj("aws_lb_target_group", "tg-2").refers_to("aws_vpc", "vpc-1"),
            // Points at something not being deleted: no edge, no error.
            obj("aws_subnet", "subnet-2").refers_to("aws_vpc", "vpc-elsewhere"),
            DiscoveredObject {
                is_default: true,
                ..obj("aws_vpc", "vpc-default")
            },
        ];
        let rules = [DeletionRule {
            first: "aws_lb_target_group",
            then: "aws_lb",
            why: "test",
        }];
        let g = DeletionGraph::build(&objects, &rules);
        let order = g.order(&objects).unwrap();
        assert_eq!(order.len(), 8, "the default VPC is not deleted");
        let at = |id| position(&order, &objects, id);
        assert!(at("subnet-1") < at("vpc-1"));
        assert!(at("lb-1") < at("subnet-1"));
        assert!(at("tg-1") < at("lb-1") && at("tg-2") < at("lb-1"));
        assert!(at("tg-1") < at("vpc-1"));
        assert!(
            at("c") < at("app"),
            "a reference by ARN reaches the role found by name"
        );
        // One TypeDone node for the rule, two edges into it and one out: not one per pair.
        let type_nodes = g
            .nodes
            .iter()
            .filter(|n| matches!(n, DeletionNode::TypeDone(_)))
            .count();
        assert_eq!(type_nodes, 1);
    }

    #[test]
    fn a_cycle_is_an_error_that_names_the_objects() {
        let objects = vec![
            obj("aws_security_group", "sg-a").refers_to("aws_security_group", "sg-b"),
            obj("aws_security_group", "sg-b").refers_to("aws_security_group", "sg-a"),
            obj("aws_vpc", "vpc-1"),
        ];
        let g = DeletionGraph::build(&objects, &[]);
        let e = g.order(&objects).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("aws_security_group sg-a") && text.contains("aws_security_group sg-b"),
            "{text}"
        );
    }
}
