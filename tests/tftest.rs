//! `terrane test`: a module's `.tftest.hcl` files run against a state of their own; runs that
//! plan and runs that apply, file and run variables, assertions that pass and one that fails
//! with its message at its line, runs of another module (`module { source }`) with a state of
//! their own, and everything the file made destroyed at its end; mock providers (no endpoint,
//! no credentials) with defaults and made-up values, aliased mocks, and overrides of single
//! resources, data sources and module instances' resources.

mod common;

use common::Fixture;

/// Every one of `lines` is in `out`.
fn has_lines(out: &str, lines: &[&str]) {
    for line in lines {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
}

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
    has_lines(
        &r.all(),
        &[
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
        ],
    );
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
        "run \"x\" {\n  command = plan\n  module {\n    source = \"hashicorp/x/aws\"\n  }\n}\n",
    );
    let r = f.run(&["test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.all().contains("not supported yet") && r.all().contains("tests/web.tftest.hcl:4"),
        "{}",
        r.all()
    );
}

#[test]
fn runs_read_earlier_runs_outputs_and_the_files_variables() {
    let f = Fixture::new(MAIN);
    f.write(
        "tests/chain.tftest.hcl",
        r#"variables {
  name = "base"
}

run "setup" {
  command = plan
}

run "derived" {
  variables {
    name = "${run.setup.name}-${var.name}-2"
  }
  assert {
    condition     = output.name == "base-base-2"
    error_message = "the name is ${output.name}"
  }
  assert {
    condition     = run.setup.name == "base"
    error_message = "run.setup.name is ${run.setup.name}"
  }
}

run "unknown_run" {
  variables {
    name = run.nothing.name
  }
}
"#,
    );
    let r = f.run(&["test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has_lines(
        &r.all(),
        &[
            "  run \"setup\"... pass",
            "  run \"derived\"... pass",
            "  run \"unknown_run\"... fail",
            "tests/chain.tftest.hcl:25",
            "does not have an attribute named \"nothing\"",
            "Failure! 2 passed, 1 failed.",
        ],
    );
    assert!(f.cloud_objects().is_empty(), "{:?}", f.cloud_objects());
}

const CHECKED: &str = r#"
provider "test" {
  store = "@DIR@/cloud"
}
variable "name" {
  type = string
  validation {
    condition     = length(var.name) > 0
    error_message = "name must not be empty"
  }
}
resource "test_instance" "web" {
  name = var.name
}
check "not_default" {
  assert {
    condition     = var.name != "default"
    error_message = "the default name is used"
  }
}
"#;

#[test]
fn expect_failures_passes_only_on_the_named_objects_failures() {
    let f = Fixture::new(CHECKED);
    f.write(
        "tests/expect.tftest.hcl",
        r#"run "empty_name_is_refused" {
  command = plan
  variables {
    name = ""
  }
  expect_failures = [var.name]
}

run "the_check_warns" {
  command = plan
  variables {
    name = "default"
  }
  expect_failures = [check.not_default]
  assert {
    condition     = test_instance.web.name == "default"
    error_message = "the plan still goes on"
  }
}

run "nothing_fails" {
  variables {
    name = "fine"
  }
  expect_failures = [
    var.name,
  ]
}

run "another_object_fails" {
  variables {
    name = ""
  }
  expect_failures = [check.not_default]
}
"#,
    );
    let r = f.run(&["test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has_lines(
        &r.all(),
        &[
            "  run \"empty_name_is_refused\"... pass",
            "  run \"the_check_warns\"... pass",
            "  run \"nothing_fails\"... fail",
            "Error: Missing expected failure",
            "The checkable object, var.name, was expected to report an error but did not.",
            "tests/expect.tftest.hcl:26",
            "  run \"another_object_fails\"... fail",
            "name must not be empty",
            "Failure! 2 passed, 2 failed.",
        ],
    );
    assert!(f.cloud_objects().is_empty(), "{:?}", f.cloud_objects());
}

const SETUP: &str = r#"
provider "test" {
  store = "@DIR@/cloud"
}
variable "prefix" {
  type = string
}
resource "test_instance" "base" {
  name = "${var.prefix}-base"
}
output "base_name" {
  value = test_instance.base.name
}
output "base_id" {
  value = test_instance.base.id
}
"#;

#[test]
fn a_run_of_another_module_keeps_a_state_of_its_own_and_is_torn_down_last() {
    let f = Fixture::new(MAIN);
    f.write("testing/setup/main.tf", SETUP);
    f.write(
        "tests/setup.tftest.hcl",
        r#"variables {
  name = "unused-by-setup"
}

run "setup" {
  module {
    source = "./testing/setup"
  }
  variables {
    prefix = "shared"
  }
  assert {
    condition     = output.base_name == "shared-base"
    error_message = "the setup module's output is ${output.base_name}"
  }
}

run "main" {
  variables {
    name = "${run.setup.base_name}-web"
  }
  assert {
    condition     = output.name == "shared-base-web"
    error_message = "the name is ${output.name}"
  }
}

run "setup_again" {
  command = plan
  module {
    source = "./testing/setup"
  }
  variables {
    prefix = "shared"
  }
  assert {
    condition     = test_instance.base.id == run.setup.base_id
    error_message = "the setup module's state was not kept between its runs"
  }
}
"#,
    );
    let r = f.run(&["test"]);
    assert_eq!(r.code, 0, "{}", r.all());
    has_lines(
        &r.all(),
        &[
            "  run \"setup\"... pass",
            "  run \"main\"... pass",
            "  run \"setup_again\"... pass",
            "tests/setup.tftest.hcl... tearing down",
            "Success! 3 passed, 0 failed.",
        ],
    );
    // Both states torn down, and neither module's own state touched.
    assert!(f.cloud_objects().is_empty(), "{:?}", f.cloud_objects());
    assert_eq!(f.ok(&["state", "list"], 0).stdout, "");

    // A -var the setup module does not declare is the module under test's alone.
    let r = f.run(&["test", "-var", "name=from-the-command-line"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(f.cloud_objects().is_empty(), "{:?}", f.cloud_objects());

    // A module block without a source, and a source that is not a local path, are errors at
    // their lines.
    f.write(
        "tests/setup.tftest.hcl",
        "run \"a\" {\n  module {\n  }\n}\n\nrun \"b\" {\n  module {\n    source  = \"./testing/setup\"\n    version = \"1.0.0\"\n  }\n}\n",
    );
    let r = f.run(&["test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has_lines(
        &r.all(),
        &[
            "A run's module block needs source",
            "tests/setup.tftest.hcl:2",
            "\"version\" in a run's module block is not supported yet",
            "tests/setup.tftest.hcl:9",
        ],
    );
}

/// A module of AWS objects, tested with the AWS provider mocked: no endpoint, no credentials.
const AWS_MAIN: &str = r#"
provider "aws" {
  region = "eu-west-1"
}
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}
resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.0.1.0/24"
}
data "aws_caller_identity" "me" {}
output "subnet_vpc" {
  value = aws_subnet.a.vpc_id
}
output "account" {
  value = data.aws_caller_identity.me.account_id
}
"#;

#[test]
fn mock_providers_make_nothing_and_fill_in_defaults_or_made_up_values() {
    let f = Fixture::new(AWS_MAIN);
    f.write(
        "tests/mocked.tftest.hcl",
        r#"mock_provider "aws" {
  mock_resource "aws_vpc" {
    defaults = {
      id = "vpc-0mocked"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
}

run "plans" {
  command = plan
  assert {
    condition     = aws_vpc.main.cidr_block == "10.0.0.0/16"
    error_message = "the plan has the configuration's values"
  }
}

run "applies" {
  assert {
    condition     = output.subnet_vpc == "vpc-0mocked"
    error_message = "the subnet points at the VPC's mocked id, not ${output.subnet_vpc}"
  }
  assert {
    condition     = length(aws_subnet.a.id) == 8
    error_message = "a computed attribute without a default is made up: ${aws_subnet.a.id}"
  }
  assert {
    condition     = output.account == "123456789012"
    error_message = "the data source reads its mocked default"
  }
}
"#,
    );
    // No AWS endpoint is set and no credentials exist: only a mock can pass.
    let r = f.run(&["test"]);
    assert_eq!(r.code, 0, "{}", r.all());
    has_lines(
        &r.all(),
        &[
            "  run \"plans\"... pass",
            "  run \"applies\"... pass",
            "tests/mocked.tftest.hcl... tearing down",
            "Success! 2 passed, 0 failed.",
        ],
    );

    // The same defaults from a directory of .tfmock.hcl files (`source`); the test file's own
    // block for a type wins over the files'.
    f.write(
        "testing/aws/network.tfmock.hcl",
        "mock_resource \"aws_vpc\" {\n  defaults = {\n    id = \"vpc-0fromfile\"\n  }\n}\n\nmock_data \"aws_caller_identity\" {\n  defaults = {\n    account_id = \"210987654321\"\n  }\n}\n",
    );
    f.write(
        "tests/mocked.tftest.hcl",
        r#"mock_provider "aws" {
  source = "./testing/aws"
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
}

run "applies" {
  assert {
    condition     = output.subnet_vpc == "vpc-0fromfile"
    error_message = "the VPC's id comes from the mock file, not ${output.subnet_vpc}"
  }
  assert {
    condition     = output.account == "123456789012"
    error_message = "the test file's own mock_data wins over the file's"
  }
}
"#,
    );
    let r = f.run(&["test"]);
    assert_eq!(r.code, 0, "{}", r.all());
    has_lines(
        &r.all(),
        &["  run \"applies\"... pass", "Success! 1 passed, 0 failed."],
    );
    // A mistake in a mock file is an error at its line there; a source with no mock file too.
    f.write(
        "testing/aws/network.tfmock.hcl",
        "mock_resource \"aws_vpc\" {\n  values = {}\n}\n",
    );
    let r = f.run(&["test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has_lines(
        &r.all(),
        &["testing/aws/network.tfmock.hcl:2", "it takes defaults"],
    );
    std::fs::remove_file(f.path().join("testing/aws/network.tfmock.hcl")).unwrap();
    let r = f.run(&["test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has_lines(
        &r.all(),
        &[
            "./testing/aws holds no .tfmock.hcl file",
            "tests/mocked.tftest.hcl:2",
        ],
    );

    // What is not supported yet, and a provider that is not there, are errors at their line.
    f.write(
        "tests/mocked.tftest.hcl",
        "mock_provider \"aws\" {\n  override_during = plan\n}\n\nrun \"x\" {\n  command = plan\n}\n",
    );
    let r = f.run(&["test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has_lines(
        &r.all(),
        &["not supported yet", "tests/mocked.tftest.hcl:2"],
    );
    f.write(
        "tests/mocked.tftest.hcl",
        "mock_provider \"aws\" {\n  override_resource {\n  }\n}\n",
    );
    let r = f.run(&["test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has_lines(
        &r.all(),
        &[
            "An override_resource block needs a target.",
            "tests/mocked.tftest.hcl:2",
        ],
    );
    f.write(
        "tests/mocked.tftest.hcl",
        "mock_provider \"gcp\" {}\n\nrun \"x\" {\n  command = plan\n}\n",
    );
    let r = f.run(&["test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has_lines(&r.all(), &["there is no provider \"gcp\" to mock"]);
}

const OVERRIDDEN: &str = r#"
provider "test" {
  store = "@DIR@/cloud"
}
provider "test" {
  alias = "fake"
  store = "@DIR@/cloud"
}
resource "test_instance" "web" {
  name = "web"
}
# Only an override or a mock lets these through: the real provider fails to create them.
resource "test_instance" "db" {
  name    = "db"
  fail_on = "create"
}
resource "test_instance" "elsewhere" {
  provider = test.fake
  name     = "elsewhere"
  fail_on  = "create"
}
data "test_data" "d" {
  input = "real"
}
module "m" {
  for_each = toset(["a", "b"])
  source   = "./modules/m"
  name     = each.key
}
output "read" {
  value = data.test_data.d.output
}
output "module_ids" {
  value = [for k, m in module.m : m.id]
}
"#;

#[test]
fn overrides_and_aliased_mocks_stand_in_for_the_real_provider_at_their_targets() {
    let f = Fixture::new(OVERRIDDEN);
    f.write(
        "modules/m/main.tf",
        "variable \"name\" {\n  type = string\n}\nresource \"test_instance\" \"x\" {\n  name    = var.name\n  fail_on = \"create\"\n}\noutput \"id\" {\n  value = test_instance.x.id\n}\n",
    );
    f.write(
        "tests/overrides.tftest.hcl",
        r#"override_data {
  target = data.test_data.d
  values = {
    output = "overridden"
  }
}

mock_provider "test" {
  alias = "fake"
  mock_resource "test_instance" {
    defaults = {
      arn = "arn:mocked"
    }
  }
}

run "applies" {
  override_resource {
    target = test_instance.db
    values = {
      id  = "db-0override"
      arn = "arn:fake"
    }
  }
  override_resource {
    target = module.m.test_instance.x
    values = {
      id = "x-0override"
    }
  }
  assert {
    condition     = test_instance.db.id == "db-0override" && test_instance.db.arn == "arn:fake"
    error_message = "the overridden resource has the override's values"
  }
  assert {
    condition     = startswith(test_instance.web.arn, "arn:test:::instance/")
    error_message = "a resource no override names is the real provider's: ${test_instance.web.arn}"
  }
  assert {
    condition     = test_instance.elsewhere.arn == "arn:mocked"
    error_message = "the aliased configuration is the mock's"
  }
  assert {
    condition     = output.read == "overridden"
    error_message = "the data source is overridden, not ${output.read}"
  }
  assert {
    condition     = output.module_ids == ["x-0override", "x-0override"]
    error_message = "module.m (every instance) is overridden"
  }
}
"#,
    );
    let r = f.run(&["test"]);
    assert_eq!(r.code, 0, "{}", r.all());
    has_lines(
        &r.all(),
        &[
            "  run \"applies\"... pass",
            "tests/overrides.tftest.hcl... tearing down",
            "Success! 1 passed, 0 failed.",
        ],
    );
    // Only web was made for real, and the teardown destroyed it.
    assert_eq!(f.cloud_objects(), Vec::<std::path::PathBuf>::new());

    // Without the run's override the real provider is called, and fails.
    f.write(
        "tests/overrides.tftest.hcl",
        "mock_provider \"test\" {\n  alias = \"fake\"\n}\n\nrun \"applies\" {\n  override_resource {\n    target = module.m.test_instance.x\n  }\n}\n",
    );
    let r = f.run(&["test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has_lines(&r.all(), &["InjectedFailure", "  run \"applies\"... fail"]);

    // A target that is not in the configuration, of the wrong kind, or one instance, is an
    // error at its line.
    for (target, says) in [
        (
            "test_instance.nope",
            "test_instance.nope is not a resource of this configuration.",
        ),
        (
            "data.test_data.d",
            "The target of override_resource is a resource",
        ),
        (
            "test_instance.db[0]",
            "one instance as the target is not supported yet",
        ),
    ] {
        f.write(
            "tests/overrides.tftest.hcl",
            &format!("run \"x\" {{\n  command = plan\n  override_resource {{\n    target = {target}\n  }}\n}}\n"),
        );
        let r = f.run(&["test"]);
        assert_eq!(r.code, 1, "{}", r.all());
        has_lines(&r.all(), &[says, "tests/overrides.tftest.hcl:4"]);
    }
}
