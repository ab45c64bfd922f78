//! `null_resource` health checks through the binary: a gate that turns healthy is waited for,
//! one that never does fails at its deadline and leaves its dependents uncreated while the rest
//! of the graph is applied, a trigger change runs the checks again, and `plan` never runs them.

mod common;

use common::Fixture;

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
