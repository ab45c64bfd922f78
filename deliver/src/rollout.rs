//! `deliver deploy`, `promote` and `rollback`: the release's way from the idle colour to live
//! traffic and back. Each change to a listener or tag is recorded as soon as AWS accepted it;
//! a promote or rollback is recorded as in flight (`Current::op`) before its first change and
//! settled after its last, so one cut short (Ctrl-C, SIGKILL, a lost connection) is found by
//! the next command and never left split without a record.

use std::time::{Duration, Instant};

use terrane_core::delivery::Weighted;
use terrane_core::Value;
use terrane_provider_builtin::health;

use crate::record::{Colour, Current, Op, Release, Status};
use crate::{now, DeliverError, Deliverer, Watch};

#[derive(Debug, Clone, Copy, Default)]
pub struct PromoteOptions {
    /// Stop before the swap, whatever `deliver.hcl` says, until `--approve`.
    pub require_approval: bool,
    pub approve: bool,
    /// Finish a promote that was cut short.
    pub resume: bool,
}

/// Why a watch ended early.
enum Seen {
    Failure(String),
    Stop,
}

fn stamp(r: &mut Release, what: impl Into<String>) {
    r.updated = now();
    r.log.push(format!(
        "{} {}",
        terrane_engine::environments::rfc3339(r.updated),
        what.into()
    ));
}

/// What a cut-short operation needs from the user.
pub fn interrupted(op: &Op, cur: &Current) -> String {
    let at = format!(
        "live traffic: blue {}%, green {}%",
        cur.weights.blue, cur.weights.green
    );
    if op.kind == "rollback" {
        format!(
            "A rollback from {} to {} (started by {}) was interrupted ({at}). Run `terrane deliver rollback` to finish it.",
            op.from, op.to, op.who
        )
    } else {
        format!(
            "A promote of release {} from {} to {} (started by {}) was interrupted ({at}). Run `terrane deliver promote --resume` to finish it, or `terrane deliver rollback` to revert it.",
            op.release, op.from, op.to, op.who
        )
    }
}

impl Deliverer<'_> {
    fn settled(&self) -> Result<Current, DeliverError> {
        let cur = self.current()?;
        if let Some(op) = &cur.op {
            return Err(DeliverError::Interrupted(interrupted(op, &cur)));
        }
        Ok(cur)
    }

    fn checks(&self, list: &[Value], port: i64) -> Result<Vec<health::Check>, DeliverError> {
        let kinds = health::Kinds::builtin();
        let default = [Value::map([(
            "http",
            Value::map([(
                "url",
                Value::from(format!("http://{}:{port}/health", self.objects.dns_name)),
            )]),
        )])];
        let list = if list.is_empty() { &default[..] } else { list };
        list.iter()
            .map(|v| health::parse(v, &kinds).map_err(DeliverError::Config))
            .collect()
    }

    /// Both target groups, blue first (as the module writes them), weighted.
    fn weighted(&self, to: Colour, weight: i64) -> Vec<Weighted> {
        Colour::BOTH
            .into_iter()
            .map(|c| Weighted {
                target_group: self.objects.target_groups.get(c).clone(),
                weight: if c == to { weight } else { 100 - weight },
            })
            .collect()
    }

    /// The live listener sends `weight`% to `to`, the rest to the other colour.
    async fn set_live(
        &self,
        cur: &mut Current,
        to: Colour,
        weight: i64,
    ) -> Result<(), DeliverError> {
        self.cloud
            .set_forward(&self.objects.live_listener, &self.weighted(to, weight))
            .await?;
        cur.weights.set(to, weight);
        cur.weights.set(to.other(), 100 - weight);
        self.records().set_current(cur)?;
        self.say(
            "step",
            format!(
                "Live listener (port {}): blue {}%, green {}%",
                self.objects.live_port, cur.weights.blue, cur.weights.green
            ),
        );
        Ok(())
    }

    async fn set_test(&self, cur: &mut Current, to: Colour) -> Result<(), DeliverError> {
        self.cloud
            .set_forward(&self.objects.test_listener, &self.weighted(to, 100))
            .await?;
        cur.test = to;
        self.records().set_current(cur)?;
        self.say(
            "step",
            format!("Test listener (port {}): {to}", self.objects.test_port),
        );
        Ok(())
    }

    async fn set_production(&self, cur: &mut Current, to: Colour) -> Result<(), DeliverError> {
        for c in Colour::BOTH {
            let tags = [("IsProduction".to_string(), (c == to).to_string())];
            self.cloud
                .tag(self.objects.service_arns.get(c), &tags)
                .await?;
            self.cloud
                .tag(self.objects.target_groups.get(c), &tags)
                .await?;
        }
        cur.production = to;
        self.records().set_current(cur)?;
        self.say("step", format!("IsProduction: {to}"));
        Ok(())
    }

    /// Watches the new colour `c` for `d`: the live checks (one attempt each) and `c`'s alarm,
    /// every check interval.
    async fn watch(&self, d: Duration, checks: &[health::Check], c: Colour) -> Result<(), Seen> {
        let until = Instant::now() + d;
        let alarm = match self.config.alarm {
            Some(false) => None,
            _ => self.objects.alarms.get(c).as_deref(),
        };
        loop {
            if self.stopped() {
                return Err(Seen::Stop);
            }
            if let Some(a) = alarm {
                match self.cloud.alarm_state(a).await {
                    Ok(Some(s)) if s == "ALARM" => {
                        return Err(Seen::Failure(format!("alarm {a} is in ALARM")))
                    }
                    Ok(_) => {}
                    Err(e) => self.say(
                        "warning",
                        format!("alarm {a} could not be read: {}", e.message),
                    ),
                }
            }
            for c in checks {
                let out = c.probe.attempt(c.timeout).await;
                if !out.passed {
                    return Err(Seen::Failure(format!(
                        "{} failed: {}",
                        c.probe.describe(),
                        out.status
                    )));
                }
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            if !self.pause(left.min(self.config.check_interval)).await {
                return Err(Seen::Stop);
            }
        }
    }

    /// Gives colour `c` its tasks back if delivery scaled it to 0 (the scale-down delay), as
    /// many as the other colour runs, and waits until it is steady.
    async fn ensure_running(&self, cur: &mut Current, c: Colour) -> Result<(), DeliverError> {
        if *cur.desired.get(c) != 0 {
            return Ok(());
        }
        let o = &self.objects;
        let count = self
            .cloud
            .service(&o.cluster, o.services.get(c.other()))
            .await?
            .desired
            .max(1);
        self.say(
            "step",
            format!("Scaling {c} ({}) back to {count} tasks", o.services.get(c)),
        );
        self.cloud
            .scale_service(&o.cluster, o.services.get(c), count)
            .await?;
        cur.desired.set(c, -1);
        self.records().set_current(cur)?;
        let started = Instant::now();
        loop {
            let s = self.cloud.service(&o.cluster, o.services.get(c)).await?;
            if s.steady && s.running == count {
                return Ok(());
            }
            if started.elapsed() >= self.config.steady_timeout {
                return Err(DeliverError::Cloud(format!(
                    "{} did not reach {count} tasks within {} ({} running)",
                    o.services.get(c),
                    crate::config::show(self.config.steady_timeout),
                    s.running
                )));
            }
            if !self.pause(Duration::from_secs(2)).await {
                return Err(DeliverError::Stopped(format!(
                    "stopped while {} was scaling up; run the command again",
                    o.services.get(c)
                )));
            }
        }
    }

    /// `deliver deploy`: the build (the latest, or `build`) on the idle colour, tested.
    pub async fn deploy(&self, build: Option<u64>) -> Result<Release, DeliverError> {
        let mut cur = self.settled()?;
        let builds = self.records().builds()?;
        let b = match build {
            Some(n) => builds.iter().find(|b| b.number == n).ok_or_else(|| {
                DeliverError::Refused(format!(
                    "there is no build {n}; run `terrane deliver build`"
                ))
            })?,
            None => builds.last().ok_or_else(|| {
                DeliverError::Refused(
                    "nothing was built yet; run `terrane deliver build` first".into(),
                )
            })?,
        };
        let idle = cur.live.other();
        let releases = self.records().releases()?;
        let mut r = match releases.last() {
            // The same build to the same colour again: a re-run goes on from where it was.
            Some(r)
                if r.build == b.number
                    && r.colour == idle
                    && matches!(
                        r.status,
                        Status::Deploying | Status::Failed | Status::Tested
                    ) =>
            {
                let mut r = r.clone();
                r.status = Status::Deploying;
                r.reason = None;
                stamp(&mut r, format!("deploy run again by {}", self.who));
                r
            }
            last => {
                let mut r = Release {
                    number: last.map_or(1, |r| r.number + 1),
                    build: b.number,
                    image: b.image.clone(),
                    digest: b.digest.clone(),
                    colour: idle,
                    task_definition: String::new(),
                    status: Status::Deploying,
                    reason: None,
                    who: self.who.clone(),
                    created: now(),
                    updated: now(),
                    log: Vec::new(),
                };
                stamp(
                    &mut r,
                    format!("deploy of build {} to {idle} by {}", b.number, self.who),
                );
                r
            }
        };
        self.records().put_release(&r)?;
        self.say(
            "step",
            format!(
                "Release {}: build {} ({}) to {idle}",
                r.number, b.number, b.digest
            ),
        );
        let cluster = &self.objects.cluster;
        let service = self.objects.services.get(idle);
        if r.task_definition.is_empty() {
            let base = self.cloud.service(cluster, service).await?.task_definition;
            let td = self
                .cloud
                .register_revision(&base, self.config.container.as_deref(), &b.image)
                .await?;
            r.task_definition = td.clone();
            stamp(&mut r, format!("registered {td}"));
            self.records().put_release(&r)?;
            self.say("step", format!("Registered {td} (image {})", b.image));
        }
        let td = r.task_definition.clone();
        if self.cloud.service(cluster, service).await?.task_definition != td {
            self.cloud.update_service(cluster, service, &td).await?;
        }
        cur.task_definitions.set(idle, td.clone());
        self.records().set_current(&cur)?;
        self.say("step", format!("Service {service} runs {td}"));
        self.ensure_running(&mut cur, idle).await?;
        let test_now = self.cloud.forward(&self.objects.test_listener).await?;
        if cur.test != idle || test_now != self.weighted(idle, 100) {
            self.set_test(&mut cur, idle).await?;
        }
        let started = Instant::now();
        loop {
            let s = self.cloud.service(cluster, service).await?;
            if s.steady && s.task_definition == td {
                self.say(
                    "step",
                    format!(
                        "Service {service} is steady ({} of {} tasks)",
                        s.running, s.desired
                    ),
                );
                break;
            }
            if started.elapsed() >= self.config.steady_timeout {
                let why = format!(
                    "service {service} was not steady within {}: {} of {} tasks running, on {}",
                    crate::config::show(self.config.steady_timeout),
                    s.running,
                    s.desired,
                    s.task_definition
                );
                return self.fail(&mut r, why);
            }
            self.say(
                "wait",
                format!(
                    "Service {service}: {} of {} tasks running",
                    s.running, s.desired
                ),
            );
            if !self.pause(Duration::from_secs(2)).await {
                return Err(DeliverError::Stopped(format!(
                    "stopped while waiting for {service}; run `terrane deliver deploy` again to go on"
                )));
            }
        }
        for c in self.checks(&self.config.test_checks, self.objects.test_port)? {
            let label = format!("test check ({})", c.probe.describe());
            let report = health::run(&c, &label, &Watch::of(self)).await;
            if report.interrupted {
                return Err(DeliverError::Stopped(format!(
                    "stopped during the {label}; run `terrane deliver deploy` again"
                )));
            }
            if !report.healthy {
                let why = format!(
                    "{label} did not pass: {} attempt(s) in {:.1} s; last observed: {}",
                    report.attempts,
                    report.elapsed.as_secs_f64(),
                    report.last_status
                );
                return self.fail(&mut r, why);
            }
            self.say("check", format!("{label} passed: {}", report.last_status));
        }
        r.status = Status::Tested;
        stamp(&mut r, "checks passed through the test listener");
        self.records().put_release(&r)?;
        self.say(
            "step",
            format!(
                "Release {} is tested on {idle}; `terrane deliver promote` moves live traffic to it",
                r.number
            ),
        );
        Ok(r)
    }

    fn fail(&self, r: &mut Release, why: String) -> Result<Release, DeliverError> {
        r.status = Status::Failed;
        r.reason = Some(why.clone());
        stamp(r, format!("failed: {why}"));
        self.records().put_release(r)?;
        Err(DeliverError::CheckFailed(format!(
            "Release {} is not promoted: {why}",
            r.number
        )))
    }

    /// `deliver promote`.
    pub async fn promote(&self, opts: PromoteOptions) -> Result<Release, DeliverError> {
        let mut cur = self.current()?;
        if let Some(op) = cur.op.clone() {
            if !opts.resume {
                return Err(DeliverError::Interrupted(interrupted(&op, &cur)));
            }
            if op.kind != "promote" {
                return Err(DeliverError::Interrupted(interrupted(&op, &cur)));
            }
        } else if opts.resume {
            return Err(DeliverError::Refused(
                "no promote was interrupted; there is nothing to resume".into(),
            ));
        }
        let releases = self.records().releases()?;
        let mut r = match &cur.op {
            Some(op) => releases
                .iter()
                .find(|r| r.number == op.release)
                .cloned()
                .ok_or_else(|| {
                    DeliverError::State(format!("release {} is not recorded", op.release))
                })?,
            None => {
                let r = releases.last().cloned().ok_or_else(|| {
                    DeliverError::Refused(
                        "nothing was deployed yet; run `terrane deliver deploy`".into(),
                    )
                })?;
                match r.status {
                    Status::Tested | Status::AwaitingApproval => {}
                    // A re-run after it finished: nothing to do.
                    Status::Live if r.colour == cur.live => {
                        self.say(
                            "step",
                            format!(
                                "Release {} is live on {} already; nothing to do",
                                r.number, r.colour
                            ),
                        );
                        return Ok(r);
                    }
                    // Its bake time was cut short: watch it to the end.
                    Status::Baking if r.colour == cur.live => {
                        let mut r = r;
                        stamp(&mut r, format!("bake time resumed by {}", self.who));
                        self.records().put_release(&r)?;
                        let checks = self.checks(&self.config.live_checks, self.objects.live_port)?;
                        return self.bake(&mut cur, r, &checks).await;
                    }
                    other => {
                        return Err(DeliverError::Refused(format!(
                            "release {} is {}; only a release that passed its checks (`terrane deliver deploy`) is promoted",
                            r.number,
                            other.as_str()
                        )))
                    }
                }
                if r.colour == cur.live {
                    return Err(DeliverError::Refused(format!(
                        "release {} is on {}, which is live already",
                        r.number, r.colour
                    )));
                }
                r
            }
        };
        let (from, to) = (r.colour.other(), r.colour);
        if cur.op.is_none() {
            if (self.config.approval || opts.require_approval) && !opts.approve {
                r.status = Status::AwaitingApproval;
                stamp(&mut r, "waiting for approval");
                self.records().put_release(&r)?;
                return Err(DeliverError::ApprovalRequired(format!(
                    "Release {} (build {}) passed its checks on {to} and waits for approval. Nothing was changed: {from} still takes all live traffic. Run `terrane deliver promote --approve` to promote it.",
                    r.number, r.build
                )));
            }
            cur.op = Some(Op {
                kind: "promote".into(),
                release: r.number,
                from,
                to,
                started: now(),
                who: self.who.clone(),
            });
            self.records().set_current(&cur)?;
            r.status = Status::Promoting;
            stamp(
                &mut r,
                format!(
                    "promote by {} ({})",
                    self.who,
                    self.config.strategy.describe()
                ),
            );
            self.records().put_release(&r)?;
        } else {
            stamp(&mut r, format!("promote resumed by {}", self.who));
            self.records().put_release(&r)?;
        }
        self.say(
            "step",
            format!(
                "Promoting release {} from {from} to {to} ({})",
                r.number,
                self.config.strategy.describe()
            ),
        );
        let live_checks = self.checks(&self.config.live_checks, self.objects.live_port)?;
        let already = *cur.weights.get(to);
        for (w, wait) in self.config.strategy.steps() {
            if w < already {
                continue;
            }
            if *cur.weights.get(to) != w {
                self.set_live(&mut cur, to, w).await?;
            }
            if wait.is_zero() {
                continue;
            }
            self.say(
                "wait",
                format!("{to} takes {w}% for {}", crate::config::show(wait)),
            );
            match self.watch(wait, &live_checks, to).await {
                Ok(()) => {}
                Err(Seen::Failure(why)) => {
                    return self.roll_back_shift(&mut cur, &mut r, why).await
                }
                Err(Seen::Stop) => {
                    return Err(DeliverError::Stopped(format!(
                        "Stopped with {to} at {w}%. {}",
                        interrupted(cur.op.as_ref().expect("in flight"), &cur)
                    )))
                }
            }
        }
        self.set_test(&mut cur, from).await?;
        self.set_production(&mut cur, to).await?;
        cur.previous_release = cur.live_release;
        cur.live_release = r.number;
        cur.live = to;
        cur.since = now();
        cur.op = None;
        self.records().set_current(&cur)?;
        r.status = Status::Baking;
        stamp(&mut r, format!("live on {to}; baking"));
        self.records().put_release(&r)?;
        self.bake(&mut cur, r, &live_checks).await
    }

    /// The bake time of the live release `r`: its checks and the alarm watched; a failure
    /// moves everything back to the other colour. Cut short by Ctrl-C (or a kill), the
    /// release stays `baking`, and `promote` run again watches it to the end.
    async fn bake(
        &self,
        cur: &mut Current,
        mut r: Release,
        live_checks: &[health::Check],
    ) -> Result<Release, DeliverError> {
        let (from, to) = (r.colour.other(), r.colour);
        self.say(
            "step",
            format!(
                "Release {} is live on {to}; watching it for {}",
                r.number,
                crate::config::show(self.config.bake_time)
            ),
        );
        match self.watch(self.config.bake_time, live_checks, to).await {
            Ok(()) => {}
            Err(Seen::Failure(why)) => {
                let reason = format!("during the bake time, {why}");
                self.switch(cur, from, "rollback", r.number).await?;
                r.status = Status::RolledBack;
                r.reason = Some(reason.clone());
                stamp(&mut r, format!("rolled back: {reason}"));
                self.records().put_release(&r)?;
                return Err(DeliverError::RolledBack(format!(
                    "Release {} was rolled back to {from}: {reason}",
                    r.number
                )));
            }
            Err(Seen::Stop) => {
                stamp(&mut r, "bake time cut short (interrupted)");
                self.records().put_release(&r)?;
                return Err(DeliverError::Stopped(format!(
                    "Release {} is live on {to}, but its bake time was cut short: run `terrane deliver promote` again to watch it to the end, or `terrane deliver rollback`",
                    r.number
                )));
            }
        }
        r.status = Status::Live;
        stamp(&mut r, "bake time passed");
        self.records().put_release(&r)?;
        for mut old in self.records().releases()? {
            if old.number != r.number && old.status == Status::Live {
                old.status = Status::Superseded;
                stamp(&mut old, format!("superseded by release {}", r.number));
                self.records().put_release(&old)?;
            }
        }
        if let Some(delay) = self.config.scale_down_delay {
            let service = self.objects.services.get(from);
            self.say(
                "wait",
                format!(
                    "Keeping {from} ({service}) running for {} (scale-down delay), then 0 tasks",
                    crate::config::show(delay)
                ),
            );
            if !self.pause(delay).await {
                return Err(DeliverError::Stopped(format!(
                    "Release {} is live on {to}; stopped in the scale-down delay, so {from} keeps running",
                    r.number
                )));
            }
            self.cloud
                .scale_service(&self.objects.cluster, service, 0)
                .await?;
            cur.desired.set(from, 0);
            self.records().set_current(cur)?;
            self.say(
                "step",
                format!(
                    "{from} ({service}) scaled to 0 tasks; a rollback or deploy scales it up again"
                ),
            );
        }
        self.say("step", format!("Release {} is live on {to}", r.number));
        Ok(r)
    }

    /// A failure while traffic was shifting: all of it back to the old colour.
    async fn roll_back_shift(
        &self,
        cur: &mut Current,
        r: &mut Release,
        why: String,
    ) -> Result<Release, DeliverError> {
        let from = r.colour.other();
        self.set_live(cur, from, 100).await?;
        cur.op = None;
        self.records().set_current(cur)?;
        r.status = Status::RolledBack;
        r.reason = Some(why.clone());
        stamp(r, format!("rolled back while shifting: {why}"));
        self.records().put_release(r)?;
        Err(DeliverError::RolledBack(format!(
            "Release {} was rolled back to {from}: {why}",
            r.number
        )))
    }

    /// Moves everything to `to` at once (a rollback): the op is recorded first, then the live
    /// listener, the test listener and the tags, then the live colour.
    async fn switch(
        &self,
        cur: &mut Current,
        to: Colour,
        kind: &str,
        release: u64,
    ) -> Result<(), DeliverError> {
        if cur.op.is_none() {
            cur.op = Some(Op {
                kind: kind.into(),
                release,
                from: to.other(),
                to,
                started: now(),
                who: self.who.clone(),
            });
            self.records().set_current(cur)?;
        }
        self.set_live(cur, to, 100).await?;
        self.set_test(cur, to.other()).await?;
        self.set_production(cur, to).await?;
        if cur.live != to {
            std::mem::swap(&mut cur.live_release, &mut cur.previous_release);
            cur.live = to;
            cur.since = now();
        }
        cur.op = None;
        self.records().set_current(cur)?;
        Ok(())
    }

    /// `deliver rollback`: back to the previous release (which kept running on the other
    /// colour); or, after an interrupted promote, back to where it started; or the end of an
    /// interrupted rollback.
    pub async fn rollback(&self) -> Result<Current, DeliverError> {
        let mut cur = self.current()?;
        let mut releases = self.records().releases()?;
        // Run again after a rollback (or after an automatic one): the other colour runs the
        // release that was rolled back; going there would undo the rollback.
        let rolled_back_already = cur.op.is_none()
            && releases
                .iter()
                .any(|r| r.number == cur.previous_release && r.status == Status::RolledBack);
        if rolled_back_already {
            self.say(
                "step",
                format!(
                    "Release {} was rolled back already; {} is live{}. Nothing to do",
                    cur.previous_release,
                    cur.live,
                    if cur.live_release == 0 {
                        " (the module's first deploy)".to_string()
                    } else {
                        format!(" (release {})", cur.live_release)
                    }
                ),
            );
            return Ok(cur);
        }
        let mut mark = |n: u64, status: Status, why: String| -> Result<(), DeliverError> {
            if let Some(r) = releases.iter_mut().find(|r| r.number == n) {
                r.status = status;
                if status == Status::RolledBack {
                    r.reason = Some(why.clone());
                }
                stamp(r, why);
                self.records().put_release(r)?;
            }
            Ok(())
        };
        match cur.op.clone() {
            Some(op) if op.kind == "promote" => {
                self.say(
                    "step",
                    format!(
                        "Reverting the interrupted promote of release {}: back to {}",
                        op.release, op.from
                    ),
                );
                self.set_live(&mut cur, op.from, 100).await?;
                self.set_test(&mut cur, op.to).await?;
                self.set_production(&mut cur, op.from).await?;
                cur.op = None;
                self.records().set_current(&cur)?;
                mark(
                    op.release,
                    Status::RolledBack,
                    format!("interrupted promote reverted by {}", self.who),
                )?;
                return Ok(cur);
            }
            Some(op) => {
                self.say(
                    "step",
                    format!("Finishing the interrupted rollback to {}", op.to),
                );
                self.switch(&mut cur, op.to, "rollback", op.release).await?;
                return Ok(cur);
            }
            None => {}
        }
        if cur.live_release == 0 {
            return Err(DeliverError::Refused(
                "nothing was promoted yet: there is no previous release to return to".into(),
            ));
        }
        let back = cur.live.other();
        self.ensure_running(&mut cur, back).await?;
        let s = self
            .cloud
            .service(&self.objects.cluster, self.objects.services.get(back))
            .await?;
        if s.running == 0 && s.desired > 0 {
            return Err(DeliverError::Refused(format!(
                "{back} ({}) runs no tasks; a rollback would send live traffic nowhere",
                self.objects.services.get(back)
            )));
        }
        let (rolled, returned) = (cur.live_release, cur.previous_release);
        self.say(
            "step",
            format!(
                "Rolling back release {rolled} on {}: live traffic to {back}",
                cur.live
            ),
        );
        self.switch(&mut cur, back, "rollback", rolled).await?;
        mark(
            rolled,
            Status::RolledBack,
            format!("rolled back by {}", self.who),
        )?;
        mark(
            returned,
            Status::Live,
            format!("live again after the rollback of release {rolled}"),
        )?;
        Ok(cur)
    }
}
