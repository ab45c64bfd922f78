//! `deliver status` and `deliver history`: what AWS says now (listener weights, services,
//! target health, the alarm) beside what the records say, and any half-done swap or shift.

use serde::Serialize;

use crate::record::{Colour, PerColour, Release};
use crate::{DeliverError, Deliverer};

#[derive(Debug, Clone, Serialize)]
pub struct ServiceStatus {
    pub colour: Colour,
    pub name: String,
    pub task_definition: String,
    pub running: i64,
    pub desired: i64,
    pub steady: bool,
    pub is_production: bool,
    /// `target id: state` for each registered target.
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub app: String,
    pub live: Colour,
    pub test: Colour,
    /// The live listener's weights as AWS reports them.
    pub weights: PerColour<i64>,
    pub live_release: Option<Release>,
    pub previous_release: u64,
    /// When the live colour became live (RFC 3339), if a release made it so.
    pub since: Option<String>,
    pub services: Vec<ServiceStatus>,
    /// Each colour's alarm and its state.
    pub alarms: Vec<(Colour, String, String)>,
    /// A half-done swap or shift, or listeners and tags that differ from the records.
    pub problems: Vec<String>,
}

impl Deliverer<'_> {
    pub async fn status(&self) -> Result<StatusReport, DeliverError> {
        let cur = self.current()?;
        let o = &self.objects;
        let mut problems = Vec::new();
        if let Some(op) = &cur.op {
            problems.push(crate::rollout::interrupted(op, &cur));
        }
        let mut weights = PerColour::default();
        for w in self.cloud.forward(&o.live_listener).await? {
            if let Some(c) = o.colour_of_target_group(&w.target_group) {
                weights.set(c, w.weight);
            }
        }
        let total = weights.blue + weights.green;
        if total > 0 && total != 100 {
            weights.blue = weights.blue * 100 / total;
            weights.green = 100 - weights.blue;
        }
        if cur.op.is_none() && weights.blue != 0 && weights.green != 0 {
            problems.push(format!(
                "live traffic is split (blue {}%, green {}%) with no promote in progress",
                weights.blue, weights.green
            ));
        }
        if weights != cur.weights {
            problems.push(format!(
                "the live listener sends blue {}%, green {}%, where the records say blue {}%, green {}%: it was changed outside terrane deliver",
                weights.blue, weights.green, cur.weights.blue, cur.weights.green
            ));
        }
        let test: Vec<Colour> = self
            .cloud
            .forward(&o.test_listener)
            .await?
            .into_iter()
            .filter(|w| w.weight > 0)
            .filter_map(|w| o.colour_of_target_group(&w.target_group))
            .collect();
        if test != [cur.test] {
            problems.push(format!(
                "the test listener forwards to {}, where the records say {}",
                if test.is_empty() {
                    "nothing".to_string()
                } else {
                    test.iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(" and ")
                },
                cur.test
            ));
        }
        let mut services = Vec::new();
        for c in Colour::BOTH {
            let s = self.cloud.service(&o.cluster, o.services.get(c)).await?;
            let is_production = s
                .tags
                .iter()
                .any(|(k, v)| k == "IsProduction" && v == "true");
            if is_production != (cur.production == c) && cur.op.is_none() {
                problems.push(format!(
                    "service {} has IsProduction = {is_production}, where the records say {} is production",
                    o.services.get(c),
                    cur.production
                ));
            }
            let targets = self
                .cloud
                .target_health(o.target_groups.get(c))
                .await?
                .into_iter()
                .map(|(id, state)| format!("{id}: {state}"))
                .collect();
            services.push(ServiceStatus {
                colour: c,
                name: o.services.get(c).clone(),
                task_definition: s.task_definition,
                running: s.running,
                desired: s.desired,
                steady: s.steady,
                is_production,
                targets,
            });
        }
        let mut alarms = Vec::new();
        for c in Colour::BOTH {
            if let Some(a) = o.alarms.get(c) {
                let state = self.cloud.alarm_state(a).await?;
                alarms.push((c, a.clone(), state.unwrap_or_else(|| "missing".into())));
            }
        }
        let live_release = self
            .records()
            .releases()?
            .into_iter()
            .find(|r| r.number == cur.live_release);
        Ok(StatusReport {
            app: self.config.app.clone(),
            live: cur.live,
            test: cur.test,
            weights,
            live_release,
            previous_release: cur.previous_release,
            since: (cur.since > 0).then(|| terrane_engine::environments::rfc3339(cur.since)),
            services,
            alarms,
            problems,
        })
    }
}
