//! `null_resource` health checks through the binary: a gate that turns healthy is waited for,
//! one that never does fails at its deadline and leaves its dependents uncreated while the rest
//! of the graph is applied, a trigger change runs the checks again, and `plan` never runs them.

mod common;
#[path = "common/http.rs"]
mod http;

use common::Fixture;
use http::HttpServer;

#[test]
fn a_gate_waits_for_a_port_and_then_opens_for_its_dependents() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let f = Fixture::new(&format!(
        r#"
resource "null_resource" "gate" {{
  health_check {{
    tcp {{
      host = "127.0.0.1"
      port = {port}
    }}
    interval = "100ms"
    deadline = "20s"
  }}
}}

resource "terraform_data" "after" {{
  input      = "tier 2"
  depends_on = [null_resource.gate]
}}

output "attempts" {{
  value = null_resource.gate.health[0].attempts
}}
"#
    ));
    // The service starts listening a second after the apply begins.
    let opener = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1000));
        let l = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        for c in l.incoming().take(5) {
            drop(c);
        }
    });
    let r = f.ok(&["apply", "-auto-approve"], 0);
    assert!(r.stdout.contains("2 added"), "{}", r.stdout);
    let attempts: u32 = f
        .ok(&["output", "-raw", "attempts"], 0)
        .stdout
        .parse()
        .unwrap();
    assert!(
        attempts > 1,
        "the port was closed at first: {attempts} attempt(s)"
    );
    drop(opener);
}

const GATED: &str = r#"
variable "release" {
  default = "1"
}

resource "null_resource" "gate" {
  triggers = {
    release = var.release
  }
  health_check {
    command {
      command     = "echo checked >> \"$MARKS\"; test -e \"$READY\" || { echo 'not ready yet' >&2; exit 1; }"
      environment = {
        MARKS = "@DIR@/marks"
        READY = "@DIR@/ready"
      }
    }
    interval = "50ms"
    deadline = "1s"
  }
}

resource "terraform_data" "gated" {
  input      = "needs the gate"
  depends_on = [null_resource.gate]
}

resource "terraform_data" "independent" {
  input = "does not"
}
"#;

fn marks(f: &Fixture) -> usize {
    std::fs::read_to_string(f.path().join("marks"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn a_gate_that_never_passes_fails_at_its_deadline_and_holds_back_only_its_dependents() {
    let f = Fixture::new(GATED);
    // plan never runs a check.
    f.ok(&["plan"], 0);
    assert_eq!(marks(&f), 0, "a check ran during plan");

    let r = f.ok(&["apply", "-auto-approve"], 1);
    let all = r.all();
    assert!(all.contains("health check 1 (command"), "{all}");
    assert!(all.contains("did not pass within 1s"), "{all}");
    assert!(
        all.contains("last observed: exit code 1, output: not ready yet"),
        "{all}"
    );
    assert!(marks(&f) >= 2, "it was tried more than once");
    let state = f.ok(&["state", "list"], 0).stdout;
    assert!(state.contains("terraform_data.independent"), "{state}");
    assert!(!state.contains("terraform_data.gated"), "{state}");
    assert!(
        state.contains("null_resource.gate"),
        "recorded, tainted: {state}"
    );

    // Once the service is ready, the next apply replaces the tainted gate and goes on.
    std::fs::write(f.path().join("ready"), "").unwrap();
    let before = marks(&f);
    let r = f.ok(&["apply", "-auto-approve"], 0);
    assert!(
        r.stdout.contains("2 added, 0 changed, 1 destroyed"),
        "{}",
        r.stdout
    );
    assert_eq!(marks(&f), before + 1, "one passing attempt");

    // No change: no check runs. A trigger change replaces the gate and checks again.
    f.ok(&["apply", "-auto-approve"], 0);
    assert_eq!(marks(&f), before + 1);
    let r = f.ok(&["apply", "-auto-approve", "-var", "release=2"], 0);
    assert!(
        r.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        r.stdout
    );
    assert_eq!(marks(&f), before + 2, "the checks ran again");
}

#[test]
fn a_health_check_without_a_kind_is_a_validation_error() {
    let f = Fixture::new(
        r#"
resource "null_resource" "gate" {
  health_check {
    interval = "1s"
  }
}
"#,
    );
    let r = f.ok(&["validate"], 1);
    assert!(r.stderr.contains("Invalid health_check"), "{}", r.stderr);
    assert!(r.stderr.contains("needs one check"), "{}", r.stderr);
    assert!(r.stderr.contains("main.tf:2"), "{}", r.stderr);
}

/// The /health and /version endpoints of a service (seed 003): /health answers 503 for its
/// first `starting` requests, then `{"Status": "Success"}`; /version gives `version`.
fn service(starting: usize, version: &'static str) -> HttpServer {
    HttpServer::start(move |path, n| match path {
        "/health" if n < starting => (503, r#"{"Status": "Starting"}"#.into()),
        "/health" => (200, r#"{"Status": "Success"}"#.into()),
        "/version" => (200, format!(r#"{{"version": "{version}"}}"#)),
        _ => (404, "{}".into()),
    })
}

fn http_gated(health: &str, version: &str) -> String {
    format!(
        r#"
variable "app_version" {{
  default = "1.4.2"
}}

resource "null_resource" "app_healthcheck" {{
  health_check {{
    http {{
      url  = "{health}"
      json = {{ "$.Status" = "Success" }}
    }}
    interval = "100ms"
    deadline = "20s"
  }}
  health_check {{
    http {{
      url           = "{version}"
      status_codes  = [200]
      body_contains = "version"
      json          = {{ "$.version" = var.app_version }}
    }}
    interval = "100ms"
    deadline = "1s"
  }}
}}

resource "terraform_data" "use_case" {{
  count      = 2
  input      = "use case ${{count.index}}"
  depends_on = [null_resource.app_healthcheck]
}}

resource "terraform_data" "elsewhere" {{
  input = "independent"
}}

output "health_attempts" {{
  value = null_resource.app_healthcheck.health[0].attempts
}}
"#,
        health = health,
        version = version
    )
}

/// The JSON lines of a `-json` run.
fn events(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn position(ev: &[serde_json::Value], ty: &str, addr: &str) -> Option<usize> {
    ev.iter()
        .position(|e| e["type"] == ty && e["address"] == addr)
}

#[test]
fn http_gates_assert_json_bodies_and_nothing_gated_starts_before_its_gate_passed() {
    let svc = service(3, "1.4.2");
    let f = Fixture::new(&http_gated(&svc.url("/health"), &svc.url("/version")));
    f.ok(&["plan"], 0);
    assert_eq!(svc.hits("/health"), 0, "a check ran during plan");

    let r = f.ok(&["apply", "-auto-approve", "-json"], 0);
    let ev = events(&r.stdout);
    let gate = "null_resource.app_healthcheck";
    // The gate waited (three 503s), reporting each attempt with what it saw.
    let waits: Vec<&serde_json::Value> = ev
        .iter()
        .filter(|e| e["type"] == "waiting" && e["address"] == gate)
        .collect();
    assert_eq!(waits.len(), 3, "{}", r.stdout);
    assert_eq!(waits[2]["attempt"], 3);
    assert!(
        waits[0]["last_status"]
            .as_str()
            .unwrap()
            .starts_with("status 503, expected 2xx; HTTP 503"),
        "{}",
        waits[0]
    );
    // The timeline: every gated resource starts after the gate completed; the independent
    // one did not wait for it.
    let passed = position(&ev, "apply_complete", gate).expect("gate completed");
    for i in 0..2 {
        let start = position(&ev, "apply_start", &format!("terraform_data.use_case[{i}]"))
            .expect("gated resource started");
        assert!(
            start > passed,
            "use_case[{i}] started before its gate passed"
        );
    }
    let independent = position(&ev, "apply_start", "terraform_data.elsewhere").unwrap();
    assert!(
        independent < passed,
        "the independent branch waited for the gate"
    );
    assert_eq!(f.ok(&["output", "-raw", "health_attempts"], 0).stdout, "4");
    assert_eq!(svc.hits("/version"), 1);
}

#[test]
fn a_version_mismatch_fails_at_the_deadline_with_the_last_response() {
    let svc = service(0, "1.4.2");
    let f = Fixture::new(&http_gated(&svc.url("/health"), &svc.url("/version")));
    let r = f.ok(&["apply", "-auto-approve", "-var", "app_version=2.0.0"], 1);
    let all = r.all();
    assert!(
        all.contains(&format!(
            "health check 2 (http GET {}) did not pass within 1s",
            svc.url("/version")
        )),
        "{all}"
    );
    assert!(
        all.contains(r#"last observed: $.version is "1.4.2", expected "2.0.0"; HTTP 200, body: {"version": "1.4.2"}"#),
        "{all}"
    );
    // The live view showed the gate waiting.
    assert!(
        r.stdout
            .contains("waiting: null_resource.app_healthcheck (attempt 1, 0 s)"),
        "{}",
        r.stdout
    );
    let state = f.ok(&["state", "list"], 0).stdout;
    assert!(state.contains("terraform_data.elsewhere"), "{state}");
    assert!(!state.contains("use_case"), "{state}");
    assert!(svc.hits("/version") >= 2, "retried until the deadline");
}

#[test]
fn ctrl_c_stops_a_waiting_gate_and_records_it_tainted() {
    let f = Fixture::new(
        r#"
resource "null_resource" "gate" {
  health_check {
    command {
      command = "echo attempt >> \"@DIR@/marks\"; exit 1"
    }
    interval = "200ms"
    deadline = "5m"
  }
}

resource "terraform_data" "gated" {
  input      = "tier 2"
  depends_on = [null_resource.gate]
}
"#,
    );
    let started = std::time::Instant::now();
    let child = f
        .cmd(&["apply", "-auto-approve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the gate has tried twice, then press Ctrl-C once.
    while marks(&f) < 2 {
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "it waited for the 5 minute deadline"
    );
    assert!(
        all.contains("stopped waiting: the run was interrupted after"),
        "{all}"
    );
    assert!(all.contains("last observed: exit code 1"), "{all}");
    let state = f.ok(&["state", "list"], 0).stdout;
    assert_eq!(
        state.trim(),
        "null_resource.gate",
        "recorded tainted, nothing gated"
    );
}
