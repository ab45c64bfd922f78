//! `terrane test`: a module's `.tftest.hcl` files run against a state of their own; runs that
//! plan and runs that apply, file and run variables, assertions that pass and one that fails
//! with its message at its line, and everything the file made destroyed at its end.

mod common;

use common::Fixture;

const MAIN: &str = r#"
provider "test" {
  store = "@DIR@/cloud"
}
variable "name" {
  type = string
}
resource "test_instance" "web" {
  name = var.name
}
output "name" {
  value = test_instance.web.name
}
"#;

const TESTS: &str = r#"variables {
  name = "first"
}

run "plans_with_the_file_variables" {
  command = plan
  assert {
    condition     = test_instance.web.name == "first"
    error_message = "the name comes from the file's variables"
  }
}

run "applies_with_its_own" {
  variables {
    name = "second"
  }
  assert {
    condition     = output.name == "second"
    error_message = "the output is the applied name"
  }
  assert {
    condition     = length(test_instance.web.id) > 0
    error_message = "the object exists"
  }
}

run "fails_an_assertion" {
  variables {
    name = "second"
  }
  assert {
    condition     = test_instance.web.name == "third"
    error_message = "the name is ${test_instance.web.name}, not third"
  }
}
"#;

#[test]
fn test_runs_plan_and_apply_runs_checks_assertions_and_tears_down() {
    let f = Fixture::new(MAIN);
    f.write("tests/web.tftest.hcl", TESTS);
    let r = f.run(&["test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let out = r.all();
    for line in [
        "tests/web.tftest.hcl... in progress",
        "  run \"plans_with_the_file_variables\"... pass",
        "  run \"applies_with_its_own\"... pass",
        "  run \"fails_an_assertion\"... fail",
        "Error: Test assertion failed",
        "tests/web.tftest.hcl:32",
        "the name is second, not third",
        "tests/web.tftest.hcl... tearing down",
        "tests/web.tftest.hcl... fail",
        "Failure! 2 passed, 1 failed.",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    // Torn down: no object is left, and the module's own state was never touched.
    assert!(f.cloud_objects().is_empty(), "{:?}", f.cloud_objects());
    assert_eq!(f.ok(&["state", "list"], 0).stdout, "");

    // Without the failing run, it passes.
    let passing = &TESTS[..TESTS.find("run \"fails_an_assertion\"").unwrap()];
    f.write("tests/web.tftest.hcl", passing);
    let r = f.run(&["test"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("Success! 2 passed, 0 failed."),
        "{}",
        r.stdout
    );

    // A mistake in a test file is an error at its line.
    f.write(
        "tests/web.tftest.hcl",
        "run \"x\" {\n  command = plan\n  expect_failures = [var.name]\n}\n",
    );
    let r = f.run(&["test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.all().contains("not supported yet") && r.all().contains("tests/web.tftest.hcl:3"),
        "{}",
        r.all()
    );
}
