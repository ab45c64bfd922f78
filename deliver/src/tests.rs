//! The rollout against an in-memory cloud that can fail any call: the order of changes and
//! records (an operation is recorded before its first change, every change as soon as it is
//! made), and what the next command does after a failure between two listener changes (the
//! moment a kill, a lost connection or an API error can stop a promote at).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use terrane_core::delivery::{Delivery, Image, Pushed, Service, Weighted};
use terrane_core::{ProviderError, Value};
use terrane_engine::workspace::Workspace;

use crate::record::{Build, Colour, PerColour, Status};
use crate::rollout::PromoteOptions;
use crate::{Config, DeliverError, Deliverer, Event, Objects, Sink, Strategy};

#[derive(Default)]
struct Cloud {
    services: Mutex<BTreeMap<String, String>>,
    desired: Mutex<BTreeMap<String, i64>>,
    forwards: Mutex<BTreeMap<String, Vec<Weighted>>>,
    tags: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
    alarm: Mutex<String>,
    revisions: AtomicUsize,
    /// Every call that changes something, in order.
    log: Mutex<Vec<String>>,
    /// The changing call with this number (1-based) fails; 0: none.
    fail_at: AtomicUsize,
    changes: AtomicUsize,
}

impl Cloud {
    fn change(&self, what: String) -> Result<(), ProviderError> {
        let n = self.changes.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_at.load(Ordering::SeqCst) {
            return Err(ProviderError::new(format!("connection lost during {what}")));
        }
        self.log.lock().unwrap().push(what);
        Ok(())
    }

    fn live(&self) -> Vec<i64> {
        self.forwards.lock().unwrap()["live"]
            .iter()
            .map(|w| w.weight)
            .collect()
    }
}

#[async_trait]
impl Delivery for Cloud {
    async fn push_image(&self, _: &str, _: &Image, _: &[String]) -> Result<Pushed, ProviderError> {
        unreachable!("not pushed in these tests")
    }
    async fn image_digest(&self, _: &str, _: &str) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }
    async fn register_revision(
        &self,
        from: &str,
        _: Option<&str>,
        image: &str,
    ) -> Result<String, ProviderError> {
        let n = self.revisions.fetch_add(1, Ordering::SeqCst) + 2;
        let family = from.split(':').next().unwrap_or(from);
        self.change(format!("register {family}:{n} {image}"))?;
        Ok(format!("{family}:{n}"))
    }
    async fn service(&self, _: &str, service: &str) -> Result<Service, ProviderError> {
        let td = self.services.lock().unwrap()[service].clone();
        let tags = self
            .tags
            .lock()
            .unwrap()
            .get(service)
            .cloned()
            .unwrap_or_default();
        let desired = *self.desired.lock().unwrap().get(service).unwrap_or(&2);
        Ok(Service {
            arn: service.into(),
            task_definition: td,
            desired,
            running: desired,
            steady: true,
            tags: tags.into_iter().collect(),
        })
    }
    async fn update_service(&self, _: &str, service: &str, td: &str) -> Result<(), ProviderError> {
        self.change(format!("service {service} {td}"))?;
        self.services
            .lock()
            .unwrap()
            .insert(service.into(), td.into());
        Ok(())
    }
    async fn scale_service(&self, _: &str, service: &str, n: i64) -> Result<(), ProviderError> {
        self.change(format!("scale {service} {n}"))?;
        self.desired.lock().unwrap().insert(service.into(), n);
        Ok(())
    }
    async fn forward(&self, listener: &str) -> Result<Vec<Weighted>, ProviderError> {
        Ok(self.forwards.lock().unwrap()[listener].clone())
    }
    async fn set_forward(&self, listener: &str, to: &[Weighted]) -> Result<(), ProviderError> {
        let w: Vec<i64> = to.iter().map(|w| w.weight).collect();
        self.change(format!("{listener} {w:?}"))?;
        self.forwards
            .lock()
            .unwrap()
            .insert(listener.into(), to.to_vec());
        Ok(())
    }
    async fn tag(&self, arn: &str, tags: &[(String, String)]) -> Result<(), ProviderError> {
        self.change(format!("tag {arn} {tags:?}"))?;
        let mut all = self.tags.lock().unwrap();
        let t = all.entry(arn.into()).or_default();
        for (k, v) in tags {
            t.insert(k.clone(), v.clone());
        }
        Ok(())
    }
    async fn target_health(&self, _: &str) -> Result<Vec<(String, String)>, ProviderError> {
        Ok(Vec::new())
    }
    /// Only green's alarm goes off (the new colour in these tests).
    async fn alarm_state(&self, name: &str) -> Result<Option<String>, ProviderError> {
        Ok(Some(if name == "web-green-5xx" {
            self.alarm.lock().unwrap().clone()
        } else {
            "OK".into()
        }))
    }
}

struct Events(Mutex<Vec<String>>);

impl Sink for Events {
    fn event(&self, e: Event) {
        self.0.lock().unwrap().push(e.message);
    }
}

struct World {
    _dir: tempfile::TempDir,
    ws: Workspace,
    cloud: Cloud,
    config: Config,
    events: Events,
}

fn weighted(blue: i64) -> Vec<Weighted> {
    vec![
        Weighted {
            target_group: "tg-blue".into(),
            weight: blue,
        },
        Weighted {
            target_group: "tg-green".into(),
            weight: 100 - blue,
        },
    ]
}

fn world(strategy: Strategy) -> World {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open(&dir.path().join("state.db"), "default").unwrap();
    ws.create().unwrap();
    let cloud = Cloud::default();
    *cloud.alarm.lock().unwrap() = "OK".into();
    for c in ["blue", "green"] {
        cloud
            .services
            .lock()
            .unwrap()
            .insert(format!("web-{c}"), format!("web-{c}:1"));
    }
    cloud
        .forwards
        .lock()
        .unwrap()
        .insert("live".into(), weighted(100));
    cloud
        .forwards
        .lock()
        .unwrap()
        .insert("test".into(), weighted(0));
    let pass = Value::map([("command", Value::map([("command", Value::from("true"))]))]);
    let config = Config {
        path: dir.path().join("deliver.hcl"),
        app: "web".into(),
        module: "web".into(),
        build: None,
        push: None,
        container: None,
        strategy,
        approval: false,
        bake_time: Duration::from_millis(200),
        check_interval: Duration::from_millis(50),
        steady_timeout: Duration::from_secs(5),
        scale_down_delay: None,
        alarm: None,
        test_checks: vec![pass.clone()],
        live_checks: vec![pass],
    };
    let b = Build {
        number: 1,
        git_sha: None,
        tags: vec!["1".into(), "latest".into()],
        digest: "sha256:aa".into(),
        repository: "web".into(),
        repository_uri: "registry/web".into(),
        image: "registry/web@sha256:aa".into(),
        who: "test".into(),
        created: 0,
    };
    crate::Records::new(&ws, "web").put_build(&b).unwrap();
    World {
        _dir: dir,
        ws,
        cloud,
        config,
        events: Events(Mutex::new(Vec::new())),
    }
}

impl World {
    fn deliverer(&self) -> Deliverer<'_> {
        Deliverer {
            ws: &self.ws,
            cloud: &self.cloud,
            config: &self.config,
            objects: Objects {
                cluster: "web".into(),
                services: PerColour {
                    blue: "web-blue".into(),
                    green: "web-green".into(),
                },
                service_arns: PerColour {
                    blue: "web-blue".into(),
                    green: "web-green".into(),
                },
                target_groups: PerColour {
                    blue: "tg-blue".into(),
                    green: "tg-green".into(),
                },
                live_listener: "live".into(),
                test_listener: "test".into(),
                live_port: 80,
                test_port: 8080,
                repository: "web".into(),
                repository_uri: "registry/web".into(),
                alarms: PerColour {
                    blue: Some("web-blue-5xx".into()),
                    green: Some("web-green-5xx".into()),
                },
                dns_name: "lb".into(),
            },
            sink: &self.events,
            stop: Arc::new(AtomicBool::new(false)),
            who: "test".into(),
            dir: self._dir.path().to_path_buf(),
        }
    }
}

#[tokio::test]
async fn a_promote_records_itself_before_its_first_change_and_each_change_after_it() {
    let w = world(Strategy::AllAtOnce);
    let d = w.deliverer();
    let r = d.deploy(None).await.unwrap();
    assert_eq!((r.colour, r.status), (Colour::Green, Status::Tested));
    assert_eq!(r.task_definition, "web-green:2");
    d.promote(PromoteOptions::default()).await.unwrap();
    let log = w.cloud.log.lock().unwrap().clone();
    assert_eq!(
        log,
        [
            "register web-green:2 registry/web@sha256:aa",
            "service web-green web-green:2",
            "live [0, 100]",
            "test [100, 0]",
            "tag web-blue [(\"IsProduction\", \"false\")]",
            "tag tg-blue [(\"IsProduction\", \"false\")]",
            "tag web-green [(\"IsProduction\", \"true\")]",
            "tag tg-green [(\"IsProduction\", \"true\")]",
        ]
    );
    let cur = d.current().unwrap();
    assert_eq!(
        (cur.live, cur.test, cur.production),
        (Colour::Green, Colour::Blue, Colour::Green)
    );
    assert_eq!(cur.task_definitions.green, "web-green:2");
    assert_eq!(cur.op, None);
    // Run again: nothing to do, nothing changed.
    let before = w.cloud.log.lock().unwrap().len();
    d.promote(PromoteOptions::default()).await.unwrap();
    assert_eq!(w.cloud.log.lock().unwrap().len(), before);
}

#[tokio::test]
async fn a_promote_cut_between_the_listener_changes_is_refused_until_resumed_or_reverted() {
    for resume in [true, false] {
        let w = world(Strategy::AllAtOnce);
        let d = w.deliverer();
        d.deploy(None).await.unwrap();
        // Changes so far: the revision and the service; then the live listener moves, and the
        // test listener's swap after it fails.
        w.cloud
            .fail_at
            .store(w.cloud.changes.load(Ordering::SeqCst) + 2, Ordering::SeqCst);
        let e = d.promote(PromoteOptions::default()).await.unwrap_err();
        assert!(matches!(e, DeliverError::Cloud(_)), "{e}");
        assert_eq!(w.cloud.live(), [0, 100], "the live listener moved");
        let cur = d.current().unwrap();
        let op = cur
            .op
            .clone()
            .expect("the promote is recorded as in flight");
        assert_eq!((op.from, op.to), (Colour::Blue, Colour::Green));
        assert_eq!(
            cur.weights.green, 100,
            "the change AWS accepted is recorded"
        );
        // Every command but the two that settle it refuses, saying how.
        let e = d.deploy(None).await.unwrap_err().to_string();
        assert!(
            e.contains("promote --resume") && e.contains("rollback"),
            "{e}"
        );
        let s = d.status().await.unwrap();
        assert!(
            s.problems[0].contains("was interrupted"),
            "{:?}",
            s.problems
        );
        if resume {
            let r = d
                .promote(PromoteOptions {
                    resume: true,
                    ..Default::default()
                })
                .await
                .unwrap();
            assert_eq!(r.status, Status::Live);
            assert_eq!(w.cloud.live(), [0, 100]);
            let cur = d.current().unwrap();
            assert_eq!(
                (cur.live, cur.test, cur.production),
                (Colour::Green, Colour::Blue, Colour::Green)
            );
        } else {
            d.rollback().await.unwrap();
            assert_eq!(w.cloud.live(), [100, 0]);
            let cur = d.current().unwrap();
            assert_eq!(
                (cur.live, cur.test, cur.production),
                (Colour::Blue, Colour::Green, Colour::Blue)
            );
            let r = &crate::Records::new(&w.ws, "web").releases().unwrap()[0];
            assert_eq!(r.status, Status::RolledBack);
        }
        assert_eq!(d.current().unwrap().op, None);
        assert!(d.status().await.unwrap().problems.is_empty());
    }
}

#[tokio::test]
async fn an_alarm_in_the_bake_time_rolls_back_and_a_second_rollback_changes_nothing() {
    let w = world(Strategy::Linear {
        percent: 50,
        interval: Duration::from_millis(50),
    });
    let d = w.deliverer();
    d.deploy(None).await.unwrap();
    let w2 = &w;
    let raise = async {
        // Once the new colour takes all live traffic, the alarm goes off.
        while w2.cloud.live() != [0, 100] {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        *w2.cloud.alarm.lock().unwrap() = "ALARM".into();
    };
    let (promoted, ()) = tokio::join!(d.promote(PromoteOptions::default()), raise);
    let e = promoted.unwrap_err().to_string();
    assert!(e.contains("alarm web-green-5xx is in ALARM"), "{e}");
    let weights: Vec<String> = w
        .cloud
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("live"))
        .cloned()
        .collect();
    assert_eq!(weights, ["live [50, 50]", "live [0, 100]", "live [100, 0]"]);
    let cur = d.current().unwrap();
    assert_eq!(
        (cur.live, cur.live_release, cur.previous_release),
        (Colour::Blue, 0, 1)
    );
    let before = w.cloud.log.lock().unwrap().len();
    d.rollback().await.unwrap();
    assert_eq!(
        w.cloud.log.lock().unwrap().len(),
        before,
        "nothing to roll back to"
    );
}

#[tokio::test]
async fn after_the_scale_down_delay_the_old_colour_has_no_tasks_until_a_rollback_needs_it() {
    let mut w = world(Strategy::AllAtOnce);
    w.config.scale_down_delay = Some(Duration::from_millis(50));
    let d = w.deliverer();
    d.deploy(None).await.unwrap();
    d.promote(PromoteOptions::default()).await.unwrap();
    assert_eq!(w.cloud.desired.lock().unwrap()["web-blue"], 0);
    let cur = d.current().unwrap();
    assert_eq!((cur.desired.blue, cur.desired.green), (0, -1));
    assert_eq!(
        cur.to_value("web").get("desired_counts"),
        Some(&Value::map([
            ("blue", Value::from(0i64)),
            ("green", Value::from(-1i64))
        ]))
    );
    // Blue gets its tasks back before it takes traffic again.
    d.rollback().await.unwrap();
    let log = w.cloud.log.lock().unwrap().clone();
    let scale = log
        .iter()
        .position(|l| l == "scale web-blue 2")
        .expect("scaled up");
    let swap = log.iter().rposition(|l| l == "live [100, 0]").unwrap();
    assert!(scale < swap, "{log:?}");
    assert_eq!(d.current().unwrap().desired.blue, -1);
}
