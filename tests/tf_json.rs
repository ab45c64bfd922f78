//! Terraform's JSON configuration syntax (`*.tf.json`): a module written in it plans the same
//! objects as the same module in native syntax, applies, and plans clean again; nested blocks
//! given as JSON objects and arrays, references in `depends_on` and `lifecycle`, templates in
//! strings, comments; a file that is not JSON is an error at its line.

mod common;

use common::Fixture;

const NATIVE: &str = r#"
provider "test" {
  store = "@DIR@/cloud"
}
variable "name" {
  type    = string
  default = "web"
}
locals {
  tags = { env = "dev" }
}
resource "test_instance" "a" {
  name = "${var.name}-${local.tags.env}"
  tags = local.tags
  rule {
    port = 80
  }
  rule {
    port     = 443
    protocol = "tcp"
  }
}
resource "test_instance" "b" {
  name       = "b-${test_instance.a.id}"
  depends_on = [test_instance.a]
  lifecycle {
    ignore_changes = [size]
  }
}
output "a_name" {
  value = test_instance.a.name
}
"#;

const JSON: &str = r#"{
  "//": "the same module as main.tf in native syntax",
  "provider": {"test": {"store": "@DIR@/cloud"}},
  "variable": {"name": {"type": "string", "default": "web"}},
  "locals": {"tags": {"env": "dev"}},
  "resource": {
    "test_instance": {
      "a": {
        "name": "${var.name}-${local.tags.env}",
        "tags": "${local.tags}",
        "rule": [{"port": 80}, {"port": 443, "protocol": "tcp"}]
      },
      "b": {
        "name": "b-${test_instance.a.id}",
        "depends_on": ["test_instance.a"],
        "lifecycle": {"ignore_changes": ["size"]}
      }
    }
  },
  "output": {"a_name": {"value": "${test_instance.a.name}"}}
}
"#;

#[test]
fn a_module_in_json_syntax_plans_and_applies_as_in_native_syntax() {
    let native = Fixture::new(NATIVE);
    let json = Fixture::new("");
    std::fs::remove_file(json.path().join("main.tf")).unwrap();
    json.write("main.tf.json", JSON);
    let scrub = |f: &Fixture, s: &str| s.replace(&f.path().display().to_string(), "DIR");
    let pn = native.ok(&["plan", "-no-color"], 0).stdout;
    let pj = json.ok(&["plan", "-no-color"], 0).stdout;
    assert_eq!(scrub(&json, &pj), scrub(&native, &pn), "the same plan");
    assert!(pj.contains("Plan: 2 to add"), "{pj}");
    json.ok(&["apply", "-auto-approve"], 0);
    assert_eq!(json.ok(&["output", "-raw", "a_name"], 0).stdout, "web-dev");
    json.ok(&["plan", "-detailed-exitcode"], 0);
    let state = json.state_json();
    let a = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "test_instance.a")
        .unwrap();
    assert_eq!(a["values"]["rule"][1]["port"], 443, "{a}");

    // JSON and native files side by side in one module.
    json.write(
        "extra.tf",
        "output \"b_name\" {\n  value = test_instance.b.name\n}\n",
    );
    json.ok(&["apply", "-auto-approve"], 0);
    assert!(json
        .ok(&["output", "-raw", "b_name"], 0)
        .stdout
        .starts_with("b-"));

    // Not JSON: an error at its line.
    json.write("broken.tf.json", "{\n  \"output\": {\n    \"x\": \n}\n");
    let r = json.ok(&["validate"], 1);
    assert!(
        r.stderr.contains("Invalid JSON configuration") && r.stderr.contains("broken.tf.json:4"),
        "{}",
        r.stderr
    );
}
