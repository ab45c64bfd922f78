//! precondition / postcondition blocks, check blocks, refresh-only runs, validate's check of provider blocks
//! and the argument of module calls that is not supported yet, through the binary.

mod common;

use common::{scrub, sort_progress, Fixture};

const PROVIDER: &str = r#"
provider "test" {
  store = "@DIR@/cloud"
}
"#;

#[test]
fn a_failing_precondition_stops_the_plan_at_its_line() {
    let f = Fixture::new(&format!(
        "{PROVIDER}{}",
        r#"
variable "size" {
  type    = number
  default = 3
}

resource "test_instance" "db" {
  name = "db"
  size = var.size
  lifecycle {
    precondition {
      condition     = var.size % 2 == 0
      error_message = "The database size must be even, got ${var.size}."
    }
  }
}
"#
    ));
    let r = f.ok(&["plan"], 1);
    insta::assert_snapshot!("precondition_at_plan", scrub(&r.stderr, f.path()));
    // Nothing was created, and a passing value plans.
    assert!(f.cloud_objects().is_empty());
    f.ok(&["plan", "-var", "size=4"], 0);
}

#[test]
fn a_postcondition_unknown_at_plan_is_checked_after_apply_and_holds_back_dependents() {
    let f = Fixture::new(&format!(
        "{PROVIDER}{}",
        r#"
resource "test_instance" "web" {
  name = "web"
  lifecycle {
    postcondition {
      condition     = startswith(self.arn, "arn:aws:")
      error_message = "web must get an AWS ARN, got ${self.arn}."
    }
  }
}

resource "test_instance" "dns" {
  name = "dns-${test_instance.web.id}"
}

resource "test_instance" "other" {
  name = "other"
}
"#
    ));
    // The ARN is known only after apply: the plan passes.
    f.ok(&["plan"], 0);
    let r = f.ok(&["apply", "-auto-approve"], 1);
    insta::assert_snapshot!(
        "postcondition_at_apply",
        scrub(&sort_progress(&r.all()), f.path())
    );
    // The object exists and is recorded; its dependent never started; the independent one ran.
    let list = f.ok(&["state", "list"], 0).stdout;
    assert!(list.contains("test_instance.web"), "{list}");
    assert!(list.contains("test_instance.other"), "{list}");
    assert!(!list.contains("test_instance.dns"), "{list}");
    // Now that the ARN is known, the next plan checks the postcondition at plan time.
    let p = f.ok(&["plan"], 1);
    assert!(
        p.stderr.contains("Resource postcondition failed"),
        "{}",
        p.stderr
    );
}

#[test]
fn output_preconditions_are_checked() {
    let f = Fixture::new(
        r#"
variable "port" {
  default = 80
}
output "url" {
  value = "http://localhost:${var.port}"
  precondition {
    condition     = var.port > 1024
    error_message = "Use an unprivileged port."
  }
}
"#,
    );
    let r = f.ok(&["plan"], 1);
    assert!(
        r.stderr.contains("Module output value precondition failed")
            && r.stderr.contains("Use an unprivileged port.")
            && r.stderr.contains("main.tf:8"),
        "{}",
        r.stderr
    );
    f.ok(&["plan", "-var", "port=8080"], 0);
}

#[test]
fn condition_blocks_are_checked_when_loaded() {
    let f = Fixture::new(
        r#"
resource "terraform_data" "x" {
  lifecycle {
    precondition {
      condition = true
    }
    postcondtion {
      condition     = true
      error_message = "typo"
    }
  }
}
"#,
    );
    let r = f.ok(&["validate"], 1);
    assert!(
        r.stderr
            .contains("The argument \"error_message\" is required in a precondition block")
            && r.stderr
                .contains("Blocks of type \"postcondtion\" are not expected in a lifecycle block")
            && r.stderr.contains("main.tf:4")
            && r.stderr.contains("main.tf:7"),
        "{}",
        r.stderr
    );
}

#[test]
fn module_calls_refuse_version_until_supported() {
    // `providers` is supported now (tests/modules.rs); `version` needs registry sources.
    let f = Fixture::new(
        r#"
module "m" {
  source    = "./m"
  version   = "1.0"
  providers = { test = test }
}
"#,
    );
    f.write("m/main.tf", "output \"x\" {\n  value = 1\n}\n");
    let r = f.ok(&["validate"], 1);
    assert!(
        r.stderr
            .contains("version on a module call is not supported yet")
            && !r.stderr.contains("providers on a module call")
            && r.stderr.contains("main.tf:4"),
        "{}",
        r.stderr
    );
}

#[test]
fn validate_checks_provider_blocks_against_their_schema_offline() {
    let f = Fixture::new(
        r#"
provider "test" {
  stor = "/tmp/nowhere"
}
resource "test_instance" "x" {
  name = "x"
}
"#,
    );
    let r = f.ok(&["validate"], 1);
    assert!(
        r.stderr.contains("stor") && r.stderr.contains("main.tf:3"),
        "{}",
        r.stderr
    );
}

#[test]
fn refresh_only_records_outside_changes_and_changes_nothing() {
    let f = Fixture::new(&format!(
        "{PROVIDER}{}",
        r#"
resource "test_instance" "a" {
  name = "a"
  size = 1
}
resource "test_instance" "b" {
  name = "b"
}
output "a_size" {
  value = test_instance.a.size
}
"#
    ));
    f.ok(&["apply", "-auto-approve"], 0);
    let p = f.ok(&["plan", "-refresh-only"], 0);
    assert!(
        p.stdout
            .contains("No changes. Your infrastructure still matches the configuration."),
        "{}",
        p.stdout
    );
    // Outside Terrane: a's size changes, b is deleted.
    let objects = f.cloud_objects();
    let mut deleted = false;
    for o in &objects {
        let text = std::fs::read_to_string(o).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        if v["value"]["name"] == "a" {
            v["value"]["size"] = serde_json::json!(5);
            std::fs::write(o, v.to_string()).unwrap();
        } else {
            std::fs::remove_file(o).unwrap();
            deleted = true;
        }
    }
    assert!(deleted);
    let p = f.ok(&["plan", "-refresh-only", "-out", "refresh.plan"], 0);
    assert!(
        p.stdout.contains("# test_instance.a has changed")
            && p.stdout.contains("size = 1 -> 5")
            && p.stdout.contains("# test_instance.b has been deleted")
            && p.stdout.contains("This is a refresh-only plan")
            && p.stdout.contains("Changes to Outputs:")
            && p.stdout.contains("a_size = 1 -> 5"),
        "{}",
        p.stdout
    );
    // The saved refresh-only plan records what is real, calling nothing.
    let a = f.ok(&["apply", "refresh.plan"], 0);
    assert!(
        a.stdout.contains("0 added, 0 changed, 0 destroyed"),
        "{}",
        a.stdout
    );
    assert_eq!(f.ok(&["state", "list"], 0).stdout, "test_instance.a\n");
    let show = f.ok(&["state", "show", "test_instance.a"], 0).stdout;
    assert!(show.contains("size") && show.contains("= 5"), "{show}");
    assert_eq!(f.cloud_objects().len(), 1);
    assert_eq!(f.ok(&["output", "a_size"], 0).stdout, "5\n");
    // A normal plan now only wants to put things back as configured.
    let p = f.ok(&["plan", "-detailed-exitcode"], 2);
    assert!(
        p.stdout.contains("1 to add, 1 to change, 0 to destroy"),
        "{}",
        p.stdout
    );
    // apply -refresh-only with nothing outside: no changes, recorded in history.
    f.ok(&["apply", "-refresh-only", "-auto-approve"], 0);
    let h = f.ok(&["history", "-json"], 0).stdout;
    assert_eq!(h.lines().count(), 3, "{h}");
    // The two options that contradict it are refused.
    let r = f.ok(&["plan", "-refresh-only", "-refresh=false"], 1);
    assert!(r.stderr.contains("mutually-exclusive"), "{}", r.stderr);
}

#[test]
fn check_blocks_warn_at_plan_and_apply_and_never_stop_the_run() {
    let f = Fixture::new(
        r#"
variable "want" {
  default = 3
}
resource "terraform_data" "app" {
  input = { replicas = 2 }
}
check "replicas" {
  assert {
    condition     = terraform_data.app.output.replicas >= var.want
    error_message = "The app runs ${terraform_data.app.output.replicas} replicas, fewer than ${var.want}."
  }
}
check "id_known_after_apply" {
  assert {
    condition     = terraform_data.app.id == "never"
    error_message = "The app's id is ${terraform_data.app.id}."
  }
}
check "passes" {
  data "terraform_remote_state" "scoped" {
    backend = "local"
    config  = { path = "nowhere.tfstate" }
  }
  assert {
    condition     = var.want > 0
    error_message = "want must be positive."
  }
}
"#,
    );
    let p = f.ok(&["plan"], 0);
    assert!(
        p.stderr.contains("Warning: Check block assertion failed")
            && p.stderr.contains("The app runs 2 replicas, fewer than 3.")
            && p.stderr.contains("main.tf:10"),
        "{}",
        p.all()
    );
    // The check's own data source cannot be read: a warning, as its assertions are.
    assert!(
        p.stderr
            .contains("Warning: data.terraform_remote_state.scoped: failed to read data source"),
        "{}",
        p.stderr
    );
    // Unknown until apply: not reported by the plan.
    assert!(!p.all().contains("The app's id is"), "{}", p.all());
    assert!(!p.all().contains("want must be positive"), "{}", p.all());
    let a = f.ok(&["apply", "-auto-approve"], 0);
    assert!(a.stdout.contains("1 added"), "{}", a.stdout);
    assert!(
        a.all().contains("The app runs 2 replicas, fewer than 3.")
            && a.all().contains("The app's id is "),
        "{}",
        a.all()
    );
    // A check with nothing to check is a mistake.
    f.write("main.tf", "check \"empty\" {\n}\n");
    let r = f.ok(&["validate"], 1);
    assert!(
        r.stderr.contains("Missing assert block") && r.stderr.contains("main.tf:1"),
        "{}",
        r.stderr
    );
}
