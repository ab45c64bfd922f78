//! `terrane deliver` against moto, with `examples/delivery`: the module applied (the first
//! deploy), builds pushed through ECR's layer API, releases to the idle colour checked through
//! the test listener, promotions (at once, canary, with approval), rollbacks (by hand, and by
//! an alarm in the bake time), a failing release, and a promote killed mid-shift. What AWS
//! holds is read back through the SDK, and `terrane plan` is clean after every command.
//!
//! The load balancer routes no traffic in the emulator: `examples/delivery/standin.py` plays
//! its listeners on loopback, forwarding each request by the weights the ELBv2 API reports.

mod common;
#[path = "common/moto.rs"]
mod moto;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Fixture;
use moto::Moto;

struct StandIn {
    child: Child,
    live: u16,
    test: u16,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(port: u16, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out[9..12].parse().unwrap();
    (
        code,
        out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string(),
    )
}

struct Story {
    moto: Moto,
    f: Fixture,
    standin: StandIn,
}

const SETTINGS: &str = r#"
app    = "web"
module = "web"
build  = "sh ./build.sh app"
bake_time      = "BAKE"
check_interval = "500ms"
steady_timeout = "1m"
strategy       = STRATEGY
test_checks = [{
  http     = { url = "http://127.0.0.1:TEST_PORT/health" }
  interval = "300ms"
  deadline = "3s"
}]
live_checks = [{
  http    = { url = "http://127.0.0.1:LIVE_PORT/health" }
  timeout = "2s"
}]
"#;

impl Story {
    /// moto, the example copied, the stand-in started, and the module applied.
    fn start() -> Story {
        let moto = Moto::start();
        let f = Fixture::from_example("delivery");
        std::fs::create_dir_all(f.work.join("control")).unwrap();
        let (live, test) = (free_port(), free_port());
        let python = std::env::var("TERRANE_MOTO_PYTHON").unwrap();
        let mut child = Command::new(python)
            .arg(f.work.join("standin.py"))
            .args(["--endpoint", &moto.url(), "--app", "web", "--control"])
            .arg(f.work.join("control"))
            .args(["--listener", &format!("{live}:80")])
            .args(["--listener", &format!("{test}:8080")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the stand-in");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "ready", "the stand-in did not start");
        let s = Story {
            moto,
            f,
            standin: StandIn { child, live, test },
        };
        s.settings("all_at_once", "2s");
        s.ok(&["init", "-input=false"], 0);
        s.ok(&["apply", "-auto-approve"], 0);
        s
    }

    fn settings(&self, strategy: &str, bake: &str) {
        let strategy = if strategy == "all_at_once" {
            "\"all_at_once\"".to_string()
        } else {
            strategy.to_string()
        };
        let text = SETTINGS
            .replace("STRATEGY", &strategy)
            .replace("BAKE", bake)
            .replace("LIVE_PORT", &self.standin.live.to_string())
            .replace("TEST_PORT", &self.standin.test.to_string());
        std::fs::write(self.f.work.join("deliver.hcl"), text).unwrap();
    }

    fn ok(&self, args: &[&str], code: i32) -> common::Run {
        self.moto.run(&self.f, args, code)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.f.cmd(args);
        for (k, v) in self.moto.env() {
            c.env(k, v);
        }
        c
    }

    fn plan_is_clean(&self) {
        let r = self.ok(&["plan", "-detailed-exitcode"], 0);
        assert!(r.stdout.contains("No changes."), "{}", r.stdout);
    }

    /// `{"colour": ..., "image": ...}` of what answers on a port.
    fn answer(&self, port: u16) -> serde_json::Value {
        let (code, body) = http_get(port, "/version");
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn elb(&self) -> aws_sdk_elasticloadbalancingv2::Client {
        aws_sdk_elasticloadbalancingv2::Client::new(&self.moto.sdk_config().await)
    }

    /// Target group name -> weight, of the listener on `port`, as the ELBv2 API reports it.
    async fn weights(&self, port: i32) -> BTreeMap<String, i32> {
        let elb = self.elb().await;
        let lb = elb
            .describe_load_balancers()
            .names("web")
            .send()
            .await
            .unwrap()
            .load_balancers()[0]
            .load_balancer_arn()
            .unwrap()
            .to_string();
        let names: BTreeMap<String, String> = elb
            .describe_target_groups()
            .load_balancer_arn(&lb)
            .send()
            .await
            .unwrap()
            .target_groups()
            .iter()
            .map(|t| {
                (
                    t.target_group_arn().unwrap().to_string(),
                    t.target_group_name().unwrap().to_string(),
                )
            })
            .collect();
        let listeners = elb
            .describe_listeners()
            .load_balancer_arn(&lb)
            .send()
            .await
            .unwrap();
        let l = listeners
            .listeners()
            .iter()
            .find(|l| l.port() == Some(port))
            .unwrap();
        let f = l.default_actions()[0].forward_config().unwrap();
        f.target_groups()
            .iter()
            .map(|t| {
                (
                    names[t.target_group_arn().unwrap()].clone(),
                    t.weight().unwrap_or(1),
                )
            })
            .collect()
    }

    /// Colour `c`'s ECS service, with its tags, through the ECS API.
    async fn service(&self, c: &str) -> aws_sdk_ecs::types::Service {
        let ecs = aws_sdk_ecs::Client::new(&self.moto.sdk_config().await);
        let out = ecs
            .describe_services()
            .cluster("web")
            .services(format!("web-{c}"))
            .include(aws_sdk_ecs::types::ServiceField::Tags)
            .send()
            .await
            .unwrap();
        out.services()[0].clone()
    }

    /// The IsProduction tag of each colour's service and target group.
    async fn production_tags(&self) -> BTreeMap<String, String> {
        let elb = self.elb().await;
        let production = |tags: Vec<(Option<&str>, Option<&str>)>| {
            tags.into_iter()
                .find(|(k, _)| *k == Some("IsProduction"))
                .and_then(|(_, v)| v)
                .unwrap_or("none")
                .to_string()
        };
        let mut out = BTreeMap::new();
        for c in ["blue", "green"] {
            let s = self.service(c).await;
            let tags = s.tags().iter().map(|t| (t.key(), t.value())).collect();
            out.insert(format!("service {c}"), production(tags));
            let tg = elb
                .describe_target_groups()
                .names(format!("web-{c}"))
                .send()
                .await
                .unwrap();
            let arn = tg.target_groups()[0].target_group_arn().unwrap();
            let described = elb.describe_tags().resource_arns(arn).send().await.unwrap();
            let tags = described.tag_descriptions()[0]
                .tags()
                .iter()
                .map(|t| (t.key(), t.value()))
                .collect();
            out.insert(format!("target group {c}"), production(tags));
        }
        out
    }

    /// Each colour's desired task count, through the ECS API.
    async fn desired_counts(&self) -> Vec<(&'static str, i32)> {
        let mut out = Vec::new();
        for c in ["blue", "green"] {
            out.push((c, self.service(c).await.desired_count()));
        }
        out
    }

    fn history(&self) -> serde_json::Value {
        let r = self.ok(&["deliver", "history", "-json"], 0);
        let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
        v["result"].clone()
    }
}

fn live(green: i32) -> BTreeMap<String, i32> {
    BTreeMap::from([
        ("web-blue".into(), 100 - green),
        ("web-green".into(), green),
    ])
}

fn production(colour: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for c in ["blue", "green"] {
        let v = (c == colour).to_string();
        m.insert(format!("service {c}"), v.clone());
        m.insert(format!("target group {c}"), v);
    }
    m
}

#[tokio::test(flavor = "multi_thread")]
async fn a_build_is_released_to_green_promoted_and_rolled_back_with_no_drift() {
    let s = Story::start();
    // The first deploy: both colours run the module's image; blue is live.
    assert_eq!(s.answer(s.standin.live)["colour"], "blue");
    assert_eq!(s.answer(s.standin.test)["colour"], "green");
    assert_eq!(s.weights(80).await, live(0));
    assert_eq!(s.production_tags().await, production("blue"));
    s.plan_is_clean();

    // Build: three tags, one digest, through ECR's API.
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let r = s.ok(
        &[
            "deliver",
            "build",
            "--build-number",
            "7",
            "--git-sha",
            sha,
            "-json",
        ],
        0,
    );
    let result: serde_json::Value = serde_json::from_str(r.stdout.lines().last().unwrap()).unwrap();
    let digest = result["result"]["digest"].as_str().unwrap().to_string();
    let ecr = aws_sdk_ecr::Client::new(&s.moto.sdk_config().await);
    let images = ecr
        .describe_images()
        .repository_name("web")
        .send()
        .await
        .unwrap();
    assert_eq!(images.image_details().len(), 1, "{images:?}");
    let mut tags: Vec<&str> = images.image_details()[0]
        .image_tags()
        .iter()
        .map(String::as_str)
        .collect();
    tags.sort();
    assert_eq!(tags, ["0123456", "7", "latest"]);
    assert_eq!(
        images.image_details()[0].image_digest(),
        Some(digest.as_str())
    );
    // The digest is the manifest's: what the builder wrote in the layout.
    let index: serde_json::Value = serde_json::from_slice(
        &std::fs::read(s.f.work.join(".terrane/deliver/web/oci/index.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(index["manifests"][0]["digest"], digest.as_str());
    // Built again with the same number: the same image, nothing uploaded, no error.
    let again = s.ok(
        &["deliver", "build", "--build-number", "7", "--git-sha", sha],
        0,
    );
    assert!(
        again.stdout.contains("0 of 2 blobs uploaded"),
        "{}",
        again.stdout
    );

    // Deploy: green runs a new revision pinned to the digest, checked through the test listener.
    let r = s.ok(&["deliver", "deploy"], 0);
    assert!(r.stdout.contains("test check"), "{}", r.stdout);
    let green = s.answer(s.standin.test);
    assert_eq!(green["colour"], "green");
    assert!(
        green["image"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/web@{digest}")),
        "{green}"
    );
    assert_eq!(s.answer(s.standin.live)["colour"], "blue");
    s.plan_is_clean();

    // Promote: listener 80 forwards to green; the IsProduction tags moved.
    s.ok(&["deliver", "promote"], 0);
    assert_eq!(s.weights(80).await, live(100));
    assert_eq!(s.weights(8080).await, live(0));
    assert_eq!(s.production_tags().await, production("green"));
    assert_eq!(s.answer(s.standin.live)["image"], green["image"]);
    s.plan_is_clean();
    let status = s.ok(&["deliver", "status"], 0);
    assert!(
        status.stdout.contains("App web: live green, test blue"),
        "{}",
        status.stdout
    );
    assert!(!status.stdout.contains("Half-done"), "{}", status.stdout);

    // Rollback: blue again (it kept running the first deploy), tags back, no drift.
    s.ok(&["deliver", "rollback"], 0);
    assert_eq!(s.weights(80).await, live(0));
    assert_eq!(s.weights(8080).await, live(100));
    assert_eq!(s.production_tags().await, production("blue"));
    assert_eq!(s.answer(s.standin.live)["colour"], "blue");
    s.plan_is_clean();

    // With approval: the promote stops before the swap (exit 3), --approve finishes it.
    // Another commit: tags never move in this repository, so a second image under 0123456
    // is refused, and the build says so.
    let r = s.ok(
        &["deliver", "build", "--build-number", "8", "--git-sha", sha],
        1,
    );
    assert!(
        r.stderr.contains("web:0123456 names sha256:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Nothing was pushed"), "{}", r.stderr);
    let sha2 = "fedcba9876543210fedcba9876543210fedcba98";
    s.ok(
        &["deliver", "build", "--build-number", "8", "--git-sha", sha2],
        0,
    );
    s.ok(&["deliver", "deploy"], 0);
    // This time blue goes to 0 tasks a second after the bake time.
    let settings = s.f.work.join("deliver.hcl");
    let text = std::fs::read_to_string(&settings).unwrap();
    std::fs::write(&settings, format!("{text}\nscale_down_delay = \"1s\"\n")).unwrap();
    let r = s.ok(&["deliver", "promote", "--require-approval"], 3);
    assert!(r.stdout.contains("waits for approval"), "{}", r.stdout);
    assert!(
        r.stdout.contains("terrane deliver promote --approve"),
        "{}",
        r.stdout
    );
    assert_eq!(
        s.weights(80).await,
        live(0),
        "nothing moved before the approval"
    );
    s.ok(&["deliver", "promote", "--approve"], 0);
    assert_eq!(s.weights(80).await, live(100));
    s.plan_is_clean();

    let h = s.history();
    let releases = h["releases"].as_array().unwrap();
    let statuses: Vec<(&str, &str)> = releases
        .iter()
        .map(|r| (r["colour"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [("green", "rolled_back"), ("green", "live")]);
    assert!(releases[1]["task_definition"]
        .as_str()
        .unwrap()
        .contains(":task-definition/web-green:"));

    // The scale-down delay: blue runs no tasks, and the plan agrees; a rollback gives blue
    // its tasks back before it takes traffic, and the plan agrees again.
    assert_eq!(s.desired_counts().await, [("blue", 0), ("green", 2)]);
    s.plan_is_clean();
    let r = s.ok(&["deliver", "rollback"], 0);
    assert!(
        r.stdout.contains("Scaling blue (web-blue) back to 2 tasks"),
        "{}",
        r.stdout
    );
    assert_eq!(s.desired_counts().await, [("blue", 2), ("green", 2)]);
    assert_eq!(s.weights(80).await, live(0));
    s.plan_is_clean();

    // data "aws_ecr_image": what a configuration pins, by tag.
    std::fs::write(
        s.f.work.join("image.tf"),
        r#"
data "aws_ecr_image" "latest" {
  repository_name = "web"
  image_tag       = "latest"
}

output "latest" {
  value = [data.aws_ecr_image.latest.image_digest, data.aws_ecr_image.latest.image_uri]
}
"#,
    )
    .unwrap();
    s.ok(&["apply", "-auto-approve"], 0);
    let out = s.ok(&["output", "-json", "latest"], 0);
    let latest: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let build8 = s.history()["builds"][1]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(latest[0], build8.as_str());
    assert!(latest[1]
        .as_str()
        .unwrap()
        .ends_with(&format!("/web@{build8}")));
    s.ok(&["destroy", "-auto-approve"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_release_is_never_promoted_a_canary_steps_and_an_alarm_rolls_back() {
    let s = Story::start();
    s.ok(&["deliver", "build", "--build-number", "1"], 0);
    let digest = s.history()["builds"][0]["digest"].as_str().unwrap()[7..].to_string();
    // The release answers 500 on /health through the test listener.
    std::fs::write(
        s.f.work.join("control").join(format!("unhealthy-{digest}")),
        "",
    )
    .unwrap();
    let r = s.ok(&["deliver", "deploy"], 1);
    assert!(
        r.stderr.contains("Release 1 is not promoted"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("status 500"), "{}", r.stderr);
    let r = s.ok(&["deliver", "promote"], 1);
    assert!(r.stderr.contains("release 1 is failed"), "{}", r.stderr);
    assert_eq!(s.weights(80).await, live(0));
    s.plan_is_clean();
    std::fs::remove_file(s.f.work.join("control").join(format!("unhealthy-{digest}"))).unwrap();

    // A canary of 25% for 3 s: the weights step 0 -> 25 -> 100, read through the API.
    s.ok(&["deliver", "deploy"], 0);
    s.settings(
        r#"{ type = "canary", percent = 25, interval = "3s" }"#,
        "1s",
    );
    let mut seen = vec![s.weights(80).await["web-green"]];
    let mut child = s
        .cmd(&["deliver", "promote", "-json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "promote did not end"
        );
        let w = s.weights(80).await["web-green"];
        if seen.last() != Some(&w) {
            seen.push(w);
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(seen, [0, 25, 100]);
    let events = String::from_utf8_lossy(&out.stdout);
    assert!(
        events.contains(r#""message":"Live listener (port 80): blue 75%, green 25%""#),
        "{events}"
    );
    s.plan_is_clean();

    // An alarm in the bake time rolls back within a check interval (0.5 s), long before
    // the bake time (60 s) would have ended.
    s.ok(&["deliver", "build", "--build-number", "2"], 0);
    s.ok(&["deliver", "deploy"], 0);
    s.settings("all_at_once", "60s");
    let child = s
        .cmd(&["deliver", "promote"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while s.weights(80).await["web-blue"] != 100 || s.production_tags().await != production("blue")
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "promote did not swap"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cw = aws_sdk_cloudwatch::Client::new(&s.moto.sdk_config().await);
    cw.set_alarm_state()
        .alarm_name("web-blue-5xx")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("five hundreds")
        .send()
        .await
        .unwrap();
    let alarmed = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        alarmed.elapsed() < Duration::from_secs(20),
        "rolled back only after {:?}",
        alarmed.elapsed()
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "Release 2 was rolled back to green: during the bake time, alarm web-blue-5xx is in ALARM"
        ),
        "{err}"
    );
    assert_eq!(s.weights(80).await, live(100));
    assert_eq!(s.production_tags().await, production("green"));
    s.plan_is_clean();
    let releases = s.history()["releases"].clone();
    assert_eq!(releases[1]["status"], "rolled_back");
    assert!(releases[1]["reason"].as_str().unwrap().contains("ALARM"));
}

/// Starts `deliver promote` with a canary and kills it (SIGKILL) once the API shows the first
/// step: between its listener changes.
async fn kill_mid_shift(s: &Story) {
    let mut child = s
        .cmd(&["deliver", "promote"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the canary step never showed"
        );
        let w = s.weights(80).await;
        let moved = w["web-green"] == 40 || w["web-blue"] == 40;
        if moved {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_promote_killed_between_listener_changes_is_repaired_by_the_next_command() {
    let s = Story::start();
    s.ok(&["deliver", "build", "--build-number", "1"], 0);
    s.ok(&["deliver", "deploy"], 0);
    s.settings(
        r#"{ type = "canary", percent = 40, interval = "30s" }"#,
        "1s",
    );
    kill_mid_shift(&s).await;
    assert_eq!(s.weights(80).await, live(40));

    // Noticed by status and by the next command, which says how to finish or revert it.
    let r = s.ok(&["deliver", "status"], 0);
    assert!(
        r.stdout
            .contains("Half-done: A promote of release 1 from blue to green"),
        "{}",
        r.stdout
    );
    let r = s.ok(&["deliver", "deploy"], 1);
    assert!(r.stderr.contains("promote --resume"), "{}", r.stderr);
    assert!(
        r.stderr.contains("terrane deliver rollback"),
        "{}",
        r.stderr
    );
    // The plan shows the split as recorded: no drift either.
    s.plan_is_clean();

    // Reverted by rollback: all traffic back to blue, tags unchanged, plan clean.
    s.ok(&["deliver", "rollback"], 0);
    assert_eq!(s.weights(80).await, live(0));
    assert_eq!(s.production_tags().await, production("blue"));
    s.plan_is_clean();

    // Again, and finished by promote --resume this time.
    s.ok(&["deliver", "deploy"], 0);
    kill_mid_shift(&s).await;
    s.settings(
        r#"{ type = "canary", percent = 40, interval = "1s" }"#,
        "1s",
    );
    let r = s.ok(&["deliver", "promote", "--resume"], 0);
    assert!(
        r.stdout.contains("Release 2 is live on green"),
        "{}",
        r.stdout
    );
    assert_eq!(s.weights(80).await, live(100));
    assert_eq!(s.production_tags().await, production("green"));
    s.plan_is_clean();
    let r = s.ok(&["deliver", "status"], 0);
    assert!(!r.stdout.contains("Half-done"), "{}", r.stdout);
}
