//! The nuke against an in-memory cloud that refuses, as AWS does, to delete an object something
//! else still points at, and counts each refusal.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use terrane_core::{
    DeletionRule, DiscoverFilter, FoundBy, ProviderError, ProviderSchema, ResourceSchema, Usage,
};

use super::*;

struct Cloud {
    schema: ProviderSchema,
    objects: Mutex<Vec<DiscoveredObject>>,
    calls: AtomicU64,
    conflicts: AtomicU64,
}

fn tagged(t: &str, id: &str, env: &str) -> DiscoveredObject {
    DiscoveredObject::new(t, id, FoundBy::Tags)
        .with_name(format!("{env}-{id}"))
        .with_tags(BTreeMap::from([(
            "terrane:env".to_string(),
            env.to_string(),
        )]))
}

impl Cloud {
    fn new(objects: Vec<DiscoveredObject>) -> Arc<Cloud> {
        let mut schema = ProviderSchema::default();
        for o in &objects {
            schema
                .resources
                .insert(o.type_name.clone(), ResourceSchema::new());
        }
        let objects = objects
            .into_iter()
            .map(|mut o| {
                o.state = Value::map([("id", Value::from(o.id.clone()))]);
                o
            })
            .collect();
        Arc::new(Cloud {
            schema,
            objects: Mutex::new(objects),
            calls: AtomicU64::new(0),
            conflicts: AtomicU64::new(0),
        })
    }

    fn ids(&self) -> Vec<String> {
        self.objects
            .lock()
            .unwrap()
            .iter()
            .map(|o| o.id.clone())
            .collect()
    }

    fn remove(&self, id: &str) {
        self.objects.lock().unwrap().retain(|o| o.id != id);
    }
}

#[async_trait]
impl Provider for Cloud {
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        // Let other deletions run meanwhile, as a real call would.
        tokio::task::yield_now().await;
        let id = req
            .prior
            .unwrap()
            .get("id")
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        let mut objects = self.objects.lock().unwrap();
        let Some(me) = objects.iter().find(|o| o.id == id).cloned() else {
            return Ok(None);
        };
        if objects
            .iter()
            .any(|o| o.references.iter().any(|r| r.id == me.id))
        {
            self.conflicts.fetch_add(1, Ordering::SeqCst);
            return Err(ProviderError::new(format!(
                "DependencyViolation: {id} is in use"
            )));
        }
        objects.retain(|o| o.id != id);
        Ok(None)
    }

    async fn read(&self, _t: &str, _s: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(None)
    }

    fn discovers(&self) -> bool {
        true
    }

    async fn discover(&self, f: &DiscoverFilter) -> Result<Vec<DiscoveredObject>, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let objects = self.objects.lock().unwrap();
        let matched: Vec<DiscoveredObject> =
            objects.iter().filter(|o| f.matches(o)).cloned().collect();
        // Untagged objects that point at a matched one, as the AWS provider returns them.
        let mut out = matched.clone();
        for o in objects.iter() {
            if o.tags.is_empty()
                && o.name.is_none()
                && f.wants_type(&o.type_name)
                && o.references
                    .iter()
                    .any(|r| matched.iter().any(|m| m.id == r.id))
            {
                out.push(o.clone());
            }
        }
        Ok(out)
    }

    fn deletion_rules(&self) -> Vec<DeletionRule> {
        vec![DeletionRule {
            first: "aws_lb_target_group",
            then: "aws_lb",
            why: "a target group is deleted before the load balancer",
        }]
    }

    async fn account(&self) -> Result<Option<String>, ProviderError> {
        Ok(Some("123456789012".into()))
    }

    fn usage(&self) -> Option<Usage> {
        Some(Usage {
            api_calls: self.calls.load(Ordering::SeqCst),
            dependency_conflicts: self.conflicts.load(Ordering::SeqCst),
        })
    }
}

/// Two environments' worth of a small network in one account.
fn cloud() -> Arc<Cloud> {
    let mut v = Vec::new();
    for env in ["dev", "qa"] {
        let e = |id: &str| format!("{id}-{env}");
        v.push(tagged("aws_vpc", &e("vpc"), env));
        for s in ["a", "b"] {
            v.push(
                tagged("aws_subnet", &e(&format!("subnet-{s}")), env)
                    .refers_to("aws_vpc", e("vpc")),
            );
        }
        v.push(tagged("aws_lb", &e("lb"), env).refers_to("aws_subnet", e("subnet-a")));
        v.push(tagged("aws_lb_target_group", &e("tg"), env).refers_to("aws_vpc", e("vpc")));
        v.push(
            tagged("aws_lb_listener", &e("listener"), env)
                .refers_to("aws_lb", e("lb"))
                .refers_to("aws_lb_target_group", e("tg")),
        );
        v.push(tagged("aws_route_table", &e("rtb"), env).refers_to("aws_vpc", e("vpc")));
        v.push(
            DiscoveredObject::new("aws_route_table_association", e("assoc"), FoundBy::Listing)
                .refers_to("aws_route_table", e("rtb"))
                .refers_to("aws_subnet", e("subnet-b")),
        );
    }
    let mut default = DiscoveredObject::new("aws_vpc", "vpc-default", FoundBy::Listing).with_tags(
        BTreeMap::from([("terrane:env".to_string(), "dev".to_string())]),
    );
    default.is_default = true;
    v.push(default);
    v.push(
        tagged("aws_subnet", "subnet-keep", "dev")
            .refers_to("aws_vpc", "vpc-other")
            .with_tags(BTreeMap::from([
                ("terrane:env".to_string(), "dev".to_string()),
                ("terrane:keep".to_string(), "true".to_string()),
            ])),
    );
    Cloud::new(v)
}

fn targets(c: &Arc<Cloud>) -> Vec<Target> {
    vec![Target {
        region: "us-east-1".into(),
        provider: c.clone(),
    }]
}

/// Options, and the cancellation sender that must live as long as the walk.
fn options() -> (ApplyOptions, watch::Sender<u8>) {
    let (tx, rx) = watch::channel(0);
    let o = ApplyOptions {
        parallelism: 4,
        deadline: Duration::from_secs(5),
        cancel: rx,
        events: Arc::new(|_| {}),
    };
    (o, tx)
}

fn dev() -> Compiled {
    Selection {
        env: Some("dev".into()),
        ..Default::default()
    }
    .compile()
    .unwrap()
}

#[tokio::test]
async fn one_pass_deletes_the_environment_in_order_and_nothing_else() {
    let c = cloud();
    let t = targets(&c);
    let state = [
        StateObject {
            type_name: "aws_vpc".into(),
            id: "vpc-dev".into(),
            address: "aws_vpc.main".into(),
        },
        StateObject {
            type_name: "aws_vpc".into(),
            id: "vpc-gone".into(),
            address: "aws_vpc.old".into(),
        },
    ];
    let p = plan(
        &t,
        &dev(),
        Some("123456789012".into()),
        &state,
        SystemTime::now(),
    )
    .await
    .unwrap();
    let ids: BTreeSet<&str> = p.objects.iter().map(|o| o.id.as_str()).collect();
    let want: BTreeSet<&str> = [
        "vpc-dev",
        "subnet-a-dev",
        "subnet-b-dev",
        "lb-dev",
        "tg-dev",
        "listener-dev",
        "rtb-dev",
        "assoc-dev",
    ]
    .into();
    assert_eq!(ids, want);
    // The default VPC and the kept subnet are reported with their reasons.
    let kept: BTreeMap<&str, &str> = p
        .kept
        .iter()
        .map(|k| (k.id.as_str(), k.reason.as_str()))
        .collect();
    assert_eq!(
        kept["vpc-default"],
        "a default object of the account (never deleted)"
    );
    assert_eq!(kept["subnet-keep"], "tagged terrane:keep = \"true\"");
    let vpc = p.objects.iter().find(|o| o.id == "vpc-dev").unwrap();
    assert_eq!(vpc.found_by, "state");
    assert_eq!(vpc.address.as_deref(), Some("aws_vpc.main"));
    assert_eq!(p.state_only, ["aws_vpc.old"]);
    // Each object comes after everything it waits on.
    let pos = |id: &str| p.objects.iter().position(|o| o.id == id).unwrap();
    for (first, then) in [
        ("listener-dev", "lb-dev"),
        ("listener-dev", "tg-dev"),
        ("tg-dev", "lb-dev"),
        ("lb-dev", "subnet-a-dev"),
        ("assoc-dev", "rtb-dev"),
        ("subnet-a-dev", "vpc-dev"),
        ("rtb-dev", "vpc-dev"),
    ] {
        assert!(pos(first) < pos(then), "{first} before {then}");
        assert!(
            p.objects[pos(then)].after.contains(&pos(first)),
            "{then} after {first}"
        );
    }
    let p = NukePlan::parse(&p.to_json()).unwrap();

    let (o, _cancel) = options();
    let r = apply(&p, &t, o).await.unwrap();
    assert_eq!(r.deleted.len(), 8, "{r:#?}");
    assert!(r.complete() && r.failed.is_empty() && r.already_gone.is_empty());
    assert_eq!((r.dependency_conflicts, r.passes), (0, 1));
    let left = c.ids();
    assert!(left.iter().all(|id| !id.ends_with("-dev")), "{left:?}");
    assert_eq!(left.iter().filter(|id| id.ends_with("-qa")).count(), 8);
    assert!(left.contains(&"vpc-default".to_string()) && left.contains(&"subnet-keep".to_string()));
    // Running again finds nothing to delete.
    let again = plan(&t, &dev(), None, &[], SystemTime::now())
        .await
        .unwrap();
    assert!(again.objects.is_empty(), "{:#?}", again.objects);
}

#[tokio::test]
async fn an_object_deleted_by_hand_is_already_gone_and_nothing_new_is_added() {
    let c = cloud();
    let t = targets(&c);
    let p = plan(&t, &dev(), None, &[], SystemTime::now())
        .await
        .unwrap();
    c.remove("listener-dev");
    // Made after the plan: not in it, so not deleted.
    c.objects
        .lock()
        .unwrap()
        .push(tagged("aws_lb_target_group", "tg2-dev", "dev"));
    let (o, _cancel) = options();
    let r = apply(&p, &t, o).await.unwrap();
    let gone: Vec<&str> = r.already_gone.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(gone, ["listener-dev"]);
    assert_eq!(r.deleted.len(), 7);
    assert!(c.ids().contains(&"tg2-dev".to_string()));
    assert!(r.complete());
}

#[tokio::test]
async fn an_object_no_longer_selected_is_kept() {
    let c = cloud();
    let t = targets(&c);
    let p = plan(&t, &dev(), None, &[], SystemTime::now())
        .await
        .unwrap();
    for o in c.objects.lock().unwrap().iter_mut() {
        if o.id == "rtb-dev" {
            o.tags.insert("terrane:keep".into(), "true".into());
        }
    }
    let (o, _cancel) = options();
    let r = apply(&p, &t, o).await.unwrap();
    let kept: Vec<(&str, &str)> = r
        .kept
        .iter()
        .map(|o| (o.id.as_str(), o.detail.as_str()))
        .collect();
    assert_eq!(
        kept,
        [(
            "rtb-dev",
            "no longer selected: tagged terrane:keep = \"true\""
        )]
    );
    // Its association still goes (it points at the route table, not the other way round); the
    // VPC the route table is in cannot, and fails within the deadline with the cloud's reason.
    assert!(c.ids().contains(&"rtb-dev".to_string()));
    assert!(!c.ids().contains(&"assoc-dev".to_string()));
    assert_eq!(r.failed.len(), 1, "{r:#?}");
    assert_eq!(r.failed[0].id, "vpc-dev");
    assert!(r.failed[0].detail.contains("DependencyViolation"), "{r:#?}");
    assert!(!r.complete());
}

#[tokio::test]
async fn ctrl_c_stops_the_retries_at_once_and_says_so() {
    let c = cloud();
    let t = targets(&c);
    let p = plan(&t, &dev(), None, &[], SystemTime::now())
        .await
        .unwrap();
    // The route table is kept, so the VPC is refused until the deadline: half an hour.
    for o in c.objects.lock().unwrap().iter_mut() {
        if o.id == "rtb-dev" {
            o.tags.insert("terrane:keep".into(), "true".into());
        }
    }
    let (tx, rx) = watch::channel(CANCEL_NONE);
    let refused = Arc::new(tokio::sync::Notify::new());
    let seen = refused.clone();
    let o = ApplyOptions {
        parallelism: 4,
        deadline: Duration::from_secs(1800),
        cancel: rx,
        events: Arc::new(move |e| {
            if matches!(e, Event::Retrying { label, .. } if label.contains("vpc-dev")) {
                seen.notify_one();
            }
        }),
    };
    // Ctrl-C once the VPC's delete has been refused and is waiting to be tried again.
    let press = tokio::spawn(async move {
        refused.notified().await;
        tx.send(terrane_engine::events::CANCEL_GRACEFUL).unwrap();
        tx
    });
    // Bounded: without the interruption this would run for the deadline's half hour.
    let r = tokio::time::timeout(Duration::from_secs(60), apply(&p, &t, o))
        .await
        .expect("the retries stop when Ctrl-C is pressed")
        .unwrap();
    let _tx = press.await.unwrap();
    assert_eq!(r.failed.len(), 1, "{r:#?}");
    assert_eq!(r.failed[0].id, "vpc-dev");
    assert!(
        r.failed[0]
            .detail
            .starts_with("interrupted after attempt 1: DependencyViolation"),
        "{r:#?}"
    );
    assert!(!r.complete());
}

fn sealed(account: Option<&str>, env: &str) -> NukePlan {
    let mut p = NukePlan {
        format_version: FORMAT_VERSION,
        terrane_version: String::new(),
        created_at: String::new(),
        account: account.map(String::from),
        regions: vec![],
        selection: Selection {
            env: Some(env.into()),
            ..Default::default()
        },
        objects: vec![],
        kept: vec![],
        state_only: vec![],
        checksum: String::new(),
    };
    p.seal();
    p
}

#[test]
fn deleting_needs_the_account_pinned_and_refuses_blocklists_and_protected_environments() {
    let p = sealed(Some("111"), "dev");
    let check = |live: Option<&str>, s: Safety| {
        check_destructive(&p, live, &s).err().map(|e| e.to_string())
    };
    let pinned = Safety {
        account: Some("111".into()),
        ..Default::default()
    };
    assert_eq!(check(Some("111"), pinned.clone()), None);
    assert!(check(Some("111"), Safety::default())
        .unwrap()
        .contains("needs the account pinned: add --account 111"));
    assert!(check(Some("222"), pinned.clone())
        .unwrap()
        .contains("act in account 222, not in 111"));
    assert!(check(None, pinned.clone()).unwrap().contains("cannot tell"));
    let blocked = Safety {
        block_accounts: vec!["111".into()],
        ..pinned.clone()
    };
    assert_eq!(
        check(Some("111"), blocked).unwrap(),
        "account 111 is on the blocklist"
    );
    let allowed = Safety {
        allow_accounts: vec!["111".into()],
        ..Default::default()
    };
    assert_eq!(check(Some("111"), allowed.clone()), None);
    let other = Safety {
        allow_accounts: vec!["333".into()],
        ..Default::default()
    };
    assert!(check(Some("111"), other)
        .unwrap()
        .contains("not in the filter's allow_accounts"));
    let protected = Safety {
        protected_environments: vec!["dev".into()],
        ..pinned.clone()
    };
    assert_eq!(
        check(Some("111"), protected).unwrap(),
        "environment dev is protected"
    );
    // The plan's account must be the live one.
    let elsewhere = sealed(Some("999"), "dev");
    assert!(check_destructive(&elsewhere, Some("111"), &pinned)
        .unwrap_err()
        .to_string()
        .contains("made in account 999"));
    // An object tagged protected protects its environment.
    let mut tagged_plan = sealed(Some("111"), "dev");
    tagged_plan.objects.push(PlannedObject {
        region: "us-east-1".into(),
        type_name: "aws_vpc".into(),
        id: "vpc-1".into(),
        name: None,
        tags: BTreeMap::from([(PROTECTED_TAG.to_string(), "true".to_string())]),
        created: None,
        found_by: "tags".into(),
        address: None,
        why: vec![],
        after: vec![],
    });
    assert!(check_destructive(&tagged_plan, Some("111"), &pinned)
        .unwrap_err()
        .to_string()
        .contains("its environment is protected"));
}
