//! Root variable values from files, through the binary: terraform.tfvars(.json),
//! *.auto.tfvars(.json) and -var-file, in Terraform's order of precedence; object types' required
//! and optional attributes.

mod common;
use common::{scrub, Fixture};

const ROOT: &str = r#"
variable "region" {
  type = string
}
variable "sizes" {
  type = map(number)
}
variable "name" {
  type    = string
  default = "default"
}
variable "template" {
  type    = string
  default = ""
}
output "all" {
  value = {
    region   = var.region
    sizes    = var.sizes
    name     = var.name
    template = var.template
  }
}
"#;

#[test]
fn tfvars_json_files_are_read_in_terraforms_order() {
    let f = Fixture::new(ROOT);
    f.write(
        "terraform.tfvars",
        "region = \"eu-west-1\"\nname = \"from-hcl\"\n",
    );
    // After terraform.tfvars: its values win.
    f.write(
        "terraform.tfvars.json",
        r#"{"name": "from-json", "sizes": {"api": 2, "worker": 1}, "template": "${not.a.reference}"}"#,
    );
    // Auto files in name order, after both.
    f.write("b.auto.tfvars.json", r#"{"region": "us-east-1"}"#);
    f.write("a.auto.tfvars", "region = \"ap-south-1\"\n");
    f.ok(&["apply", "-auto-approve", "-input=false"], 0);
    let out: serde_json::Value =
        serde_json::from_str(&f.ok(&["output", "-json"], 0).stdout).unwrap();
    assert_eq!(
        out["all"]["value"],
        serde_json::json!({
            "region": "us-east-1",
            "sizes": {"api": 2, "worker": 1},
            "name": "from-json",
            // A JSON string is a value, not a template.
            "template": "${not.a.reference}",
        })
    );
    // -var-file takes JSON too, over every automatic file.
    f.write("prod.json", r#"{"region": "sa-east-1"}"#);
    f.ok(&["apply", "-auto-approve", "-var-file=prod.json"], 0);
    let out: serde_json::Value =
        serde_json::from_str(&f.ok(&["output", "-json"], 0).stdout).unwrap();
    assert_eq!(out["all"]["value"]["region"], "sa-east-1");
}

#[test]
fn a_broken_tfvars_json_file_is_an_error_at_its_line() {
    let f = Fixture::new(ROOT);
    f.write(
        "terraform.tfvars.json",
        "{\n  \"region\": \"eu-west-1\",\n  \"sizes\": {\"api\": 2,}\n}\n",
    );
    let r = f.ok(&["plan", "-input=false"], 1);
    insta::assert_snapshot!("diag_tfvars_json", scrub(&r.stderr, f.path()));
    f.write("terraform.tfvars.json", "[\"region\"]\n");
    let r = f.ok(&["plan", "-input=false"], 1);
    assert!(
        r.stderr.contains("holds one JSON object") && r.stderr.contains("terraform.tfvars.json:1"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_object_value_needs_every_attribute_that_is_not_optional() {
    let f = Fixture::new(
        r#"
variable "svc" {
  type = object({ name = string, port = optional(number, 80) })
}
output "svc" {
  value = var.svc
}
"#,
    );
    // From -var, a file and TF_VAR_: the same refusal, at the variable's declaration.
    let r = f.ok(&["plan", "-input=false", "-var", "svc={port = 1}"], 1);
    assert!(
        r.stderr.contains("Invalid value for variable")
            && r.stderr.contains("attribute \"name\" is required")
            && r.stderr.contains("main.tf:2"),
        "{}",
        r.stderr
    );
    f.write("terraform.tfvars", "svc = { port = 1 }\n");
    let r = f.ok(&["plan", "-input=false"], 1);
    assert!(
        r.stderr.contains("attribute \"name\" is required"),
        "{}",
        r.stderr
    );
    std::fs::remove_file(f.path().join("terraform.tfvars")).unwrap();
    let r = f.ok_with_env(
        &["plan", "-input=false"],
        &[("TF_VAR_svc", std::ffi::OsStr::new("{port = 1}"))],
        1,
    );
    assert!(
        r.stderr.contains("attribute \"name\" is required"),
        "{}",
        r.stderr
    );
    // A null attribute is given; a left-out optional one takes its default.
    f.ok(
        &["apply", "-auto-approve", "-var", "svc={name = \"api\"}"],
        0,
    );
    let out: serde_json::Value =
        serde_json::from_str(&f.ok(&["output", "-json"], 0).stdout).unwrap();
    assert_eq!(
        out["svc"]["value"],
        serde_json::json!({"name": "api", "port": 80})
    );
    f.ok(&["apply", "-auto-approve", "-var", "svc={name = null}"], 0);
}
