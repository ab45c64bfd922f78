//! Health gates that read AWS, against moto (which reports MOTO_ECS_SERVICE_RUNNING = 2 tasks
//! running for every service), with small real HTTP servers on loopback as the services'
//! /health and /version endpoints:
//!
//! - `examples/tiered-services` (seed 002's tiering): NATS, then capability services gated on
//!   its checks, then the use-case service gated on theirs; the ordering is asserted from the
//!   run's recorded events, and a capability that never turns healthy holds back the use case
//!   while the rest is applied.
//! - `aws_ecs_service` that is not steady and `aws_lb_target_health` with and without
//!   registered targets.

mod common;
#[path = "common/http.rs"]
mod http;
#[path = "common/moto.rs"]
mod moto;

use common::Fixture;
use http::HttpServer;
use moto::Moto;

/// /health: 503 for the first `starting` requests, then `{"Status": "Success"}` (or never,
/// when `starting` is `usize::MAX`); /version: `{"version": "1.0.0"}`.
fn service(starting: usize) -> HttpServer {
    HttpServer::start(move |path, n| match path {
        "/health" if n < starting => (503, r#"{"Status": "Starting"}"#.into()),
        "/health" => (200, r#"{"Status": "Success"}"#.into()),
        "/version" => (200, r#"{"version": "1.0.0"}"#.into()),
        _ => (404, "{}".into()),
    })
}

const SERVICES: [&str; 4] = [
    "nats",
    "bruin-bridge",
    "notifier",
    "service-affecting-monitor",
];

fn tfvars(servers: &[HttpServer], deadline: &str) -> String {
    let urls: Vec<String> = SERVICES
        .iter()
        .zip(servers)
        .map(|(name, s)| format!("  \"{name}\" = \"{}\"", s.url("")))
        .collect();
    format!(
        "service_urls = {{\n{}\n}}\ncheck_interval = \"100ms\"\ncheck_deadline = \"{deadline}\"\n",
        urls.join("\n")
    )
}

fn events(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn at(ev: &[serde_json::Value], ty: &str, addr: &str) -> usize {
    ev.iter()
        .position(|e| e["type"] == ty && e["address"] == addr)
        .unwrap_or_else(|| panic!("no {ty} for {addr}"))
}

#[test]
fn tiered_services_start_only_after_the_tier_before_is_healthy() {
    let moto = Moto::start();
    // NATS turns healthy on its third request; the others at once.
    let servers = [service(2), service(0), service(0), service(0)];
    let f = Fixture::from_example("tiered-services");
    std::fs::write(f.work.join("terraform.tfvars"), tfvars(&servers, "30s")).unwrap();
    moto.run(&f, &["plan"], 0);
    assert_eq!(servers[0].hits("/health"), 0, "plan ran a check");

    let r = moto.run(&f, &["apply", "-auto-approve", "-json"], 0);
    let ev = events(&r.stdout);
    let nats_gate = at(&ev, "apply_complete", "null_resource.nats-healthcheck");
    // NATS's gate waited for its /health; both checks' attempts are in its state.
    assert!(
        ev.iter().any(|e| e["type"] == "waiting"
            && e["address"] == "null_resource.nats-healthcheck"
            && e["last_status"]
                .as_str()
                .unwrap_or_default()
                .contains("HTTP 503")),
        "{}",
        r.stdout
    );
    let mut capability_gates = Vec::new();
    for cap in ["bruin-bridge", "notifier"] {
        let start = at(
            &ev,
            "apply_start",
            &format!("aws_ecs_service.capability[\"{cap}\"]"),
        );
        assert!(start > nats_gate, "{cap} started before NATS was healthy");
        capability_gates.push(at(
            &ev,
            "apply_complete",
            &format!("null_resource.capability-healthcheck[\"{cap}\"]"),
        ));
    }
    let use_case = at(
        &ev,
        "apply_start",
        "aws_ecs_service.service-affecting-monitor",
    );
    assert!(
        capability_gates.iter().all(|g| use_case > *g),
        "the use case started before every capability was healthy"
    );
    // The gate's provisioner ran after its checks and its output was streamed.
    assert!(
        ev.iter().any(|e| e["type"] == "provisioner_output"
            && e["line"] == "service-affecting-monitor 1.0.0 is healthy after 1 attempt(s)"),
        "{}",
        r.stdout
    );
    let gates: serde_json::Value =
        serde_json::from_str(&moto.run(&f, &["output", "-json", "gates"], 0).stdout).unwrap();
    assert_eq!(
        gates["nats"][0]["last_status"],
        "running 2 of 2 desired, newest deployment COMPLETED"
    );
    assert_eq!(gates["nats"][1]["attempts"], 3);
    assert_eq!(
        gates["capabilities"]["notifier"][1]["attempts"], 2,
        "healthy_threshold = 2"
    );

    // The services exist in the emulator.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let names = rt.block_on(async {
        let ecs = aws_sdk_ecs::Client::new(&moto.sdk_config().await);
        let l = ecs.list_services().cluster("tiered").send().await.unwrap();
        let mut n: Vec<String> = l
            .service_arns()
            .iter()
            .map(|a| a.rsplit('/').next().unwrap().to_string())
            .collect();
        n.sort();
        n
    });
    assert_eq!(
        names,
        [
            "bruin-bridge",
            "nats",
            "notifier",
            "service-affecting-monitor"
        ]
    );
    moto.run(&f, &["destroy", "-auto-approve"], 0);
}

#[test]
fn an_unhealthy_capability_holds_back_the_use_case_and_nothing_else() {
    let moto = Moto::start();
    // The notifier never answers healthy.
    let servers = [service(0), service(0), service(usize::MAX), service(0)];
    let f = Fixture::from_example("tiered-services");
    std::fs::write(f.work.join("terraform.tfvars"), tfvars(&servers, "1s")).unwrap();
    let r = moto.run(&f, &["apply", "-auto-approve"], 1);
    let all = r.all();
    assert!(
        all.contains(&format!(
            "health check 2 (http GET {}/health) did not pass within 1s",
            servers[2].url("")
        )),
        "{all}"
    );
    assert!(
        all.contains(
            r#"last observed: status 503, expected 2xx; HTTP 503, body: {"Status": "Starting"}"#
        ),
        "{all}"
    );
    let state = moto.run(&f, &["state", "list"], 0).stdout;
    assert!(
        state.contains("null_resource.capability-healthcheck[\"bruin-bridge\"]"),
        "{state}"
    );
    assert!(
        !state.contains("aws_ecs_service.service-affecting-monitor"),
        "{state}"
    );
    assert!(
        !state.contains("service-affecting-monitor-healthcheck"),
        "{state}"
    );
}

#[test]
fn ecs_steadiness_and_target_health_are_read_from_aws() {
    let moto = Moto::start();
    let f = Fixture::new(
        r#"
resource "aws_vpc" "main" {
  cidr_block = "10.40.0.0/16"
}
resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.40.1.0/24"
}
resource "aws_security_group" "s" {
  name   = "s"
  vpc_id = aws_vpc.main.id
}
resource "aws_ecs_cluster" "c" {
  name = "c"
}
resource "aws_ecs_task_definition" "t" {
  family                   = "t"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  container_definitions    = jsonencode([{ name = "t", image = "t:1", essential = true }])
}
# Three desired, two running (the emulator's setting): never steady.
resource "aws_ecs_service" "big" {
  name            = "big"
  cluster         = aws_ecs_cluster.c.id
  task_definition = aws_ecs_task_definition.t.arn
  desired_count   = 3
  launch_type     = "FARGATE"
  network_configuration {
    subnets         = [aws_subnet.a.id]
    security_groups = [aws_security_group.s.id]
  }
}
resource "null_resource" "big-steady" {
  health_check {
    aws_ecs_service {
      cluster = aws_ecs_cluster.c.name
      service = aws_ecs_service.big.name
    }
    interval = "100ms"
    deadline = "1s"
  }
}
resource "aws_lb_target_group" "registered" {
  name        = "registered"
  port        = 8080
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = aws_vpc.main.id
}
resource "aws_lb_target_group_attachment" "one" {
  target_group_arn = aws_lb_target_group.registered.arn
  target_id        = "10.40.1.10"
  port             = 8080
}
resource "null_resource" "targets-healthy" {
  health_check {
    aws_lb_target_health {
      target_group_arn = aws_lb_target_group_attachment.one.target_group_arn
    }
    interval = "100ms"
    deadline = "10s"
  }
}
resource "aws_lb_target_group" "empty" {
  name        = "empty"
  port        = 8080
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = aws_vpc.main.id
}
resource "null_resource" "no-targets" {
  health_check {
    aws_lb_target_health {
      target_group_arn = aws_lb_target_group.empty.arn
    }
    interval = "100ms"
    deadline = "1s"
  }
}
output "targets" {
  value = null_resource.targets-healthy.health[0].last_status
}
"#,
    );
    let r = moto.run(&f, &["apply", "-auto-approve"], 1);
    let all = r.all();
    assert!(
        all.contains("health check 1 (aws_ecs_service big in c) did not pass within 1s"),
        "{all}"
    );
    assert!(
        all.contains("last observed: running 2 of 3 desired, newest deployment IN_PROGRESS"),
        "{all}"
    );
    assert!(
        all.contains(
            "health check 1 (aws_lb_target_health of target group empty) did not pass within 1s"
        ),
        "{all}"
    );
    assert!(
        all.contains("last observed: no registered targets"),
        "{all}"
    );
    assert_eq!(
        moto.run(&f, &["output", "-raw", "targets"], 0).stdout,
        "1 of 1 targets healthy"
    );
}
