//! End-to-end tests: the `terrane` binary over fixture modules, with the test provider keeping
//! its objects on disk (`cloud/`) so that every process sees the same "cloud".

mod common;

use common::{scrub, sort_progress, Fixture};

const BASE: &str = r#"
provider "test" {
  store = "@DIR@/cloud"
}

variable "size" {
  type    = number
  default = 1
}

variable "name" {
  type    = string
  default = "alpha"
}

resource "test_instance" "net" {
  name = "net-${var.name}"
  tags = { tier = "network" }
}

resource "test_instance" "app" {
  count = 2
  name  = "app-${count.index}"
  size  = var.size
  value = test_instance.net.id
  rule {
    port     = 443
    protocol = "tcp"
  }
}

output "app_ids" {
  value = test_instance.app[*].id
}
"#;

#[test]
fn plan_apply_noop_update_replace_destroy() {
    let f = Fixture::new(BASE);
    f.ok(&["init"], 0);
    let p = f.ok(&["plan", "-detailed-exitcode"], 2);
    insta::assert_snapshot!("plan_create", scrub(&p.stdout, f.path()));
    let a = f.ok(&["apply", "-auto-approve"], 0);
    assert!(
        a.stdout
            .contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."),
        "{}",
        a.stdout
    );
    assert_eq!(f.cloud_objects().len(), 3);

    // No changes.
    let p = f.ok(&["plan", "-detailed-exitcode"], 0);
    assert!(p.stdout.contains("No changes."));

    // In-place update.
    let p = f.ok(&["plan", "-var", "size=3"], 0);
    insta::assert_snapshot!("plan_update", scrub(&p.stdout, f.path()));
    let a = f.ok(&["apply", "-auto-approve", "-var=size=3"], 0);
    assert!(
        a.stdout.contains("0 added, 2 changed, 0 destroyed."),
        "{}",
        a.stdout
    );
    let state = f.state_json();
    assert!(state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["address"]
            .as_str()
            .unwrap()
            .starts_with("test_instance.app"))
        .all(|r| r["values"]["size"] == 3));

    // Replace: name forces a new object; dependents update to the new id.
    let p = f.ok(&["plan", "-var=size=3", "-var=name=beta"], 0);
    insta::assert_snapshot!("plan_replace", scrub(&p.stdout, f.path()));
    let a = f.ok(
        &["apply", "-auto-approve", "-var=size=3", "-var=name=beta"],
        0,
    );
    assert!(
        a.stdout.contains("1 added, 2 changed, 1 destroyed."),
        "{}",
        a.stdout
    );
    assert_eq!(f.cloud_objects().len(), 3);
    f.ok(
        &[
            "plan",
            "-detailed-exitcode",
            "-var=size=3",
            "-var=name=beta",
        ],
        0,
    );

    // -replace forces a replacement without a config change.
    let a = f.ok(
        &[
            "apply",
            "-auto-approve",
            "-var=size=3",
            "-var=name=beta",
            "-replace=test_instance.app[1]",
        ],
        0,
    );
    assert!(
        a.stdout.contains("1 added, 0 changed, 1 destroyed."),
        "{}",
        a.stdout
    );

    // Outputs and state inspection.
    let o = f.ok(&["output", "-json", "app_ids"], 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&o.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let l = f.ok(&["state", "list"], 0);
    assert_eq!(
        l.stdout,
        "test_instance.app[0]\ntest_instance.app[1]\ntest_instance.net\n"
    );

    // Destroy: everything gone, dependents first.
    let d = f.ok(
        &["destroy", "-auto-approve", "-var=size=3", "-var=name=beta"],
        0,
    );
    assert!(
        d.stdout
            .contains("Destroy complete! Resources: 3 destroyed."),
        "{}",
        d.stdout
    );
    let app0 = d
        .stdout
        .find("test_instance.app[0]: Destruction complete")
        .unwrap();
    let net = d
        .stdout
        .find("test_instance.net: Destruction complete")
        .unwrap();
    assert!(app0 < net);
    assert!(f.cloud_objects().is_empty());
    assert_eq!(f.ok(&["state", "list"], 0).stdout, "");

    // Every apply is in the run history, with its counts.
    let h = f.ok(&["history", "-json"], 0);
    let runs: Vec<serde_json::Value> = h
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(runs.len(), 5, "{}", h.stdout);
    assert_eq!(runs[0]["added"], 3);
    assert_eq!(runs[4]["command"], "terrane destroy");
    assert_eq!(runs[4]["destroyed"], 3);
    assert!(runs.iter().all(|r| r["result"] == "ok"));
}

#[test]
fn saved_plan_is_applied_exactly_and_refused_when_stale() {
    let f = Fixture::new(BASE);
    f.ok(&["plan", "-out", "first.plan"], 0);
    f.ok(&["plan", "-out", "second.plan"], 0);
    let a = f.ok(&["apply", "first.plan"], 0);
    assert!(a.stdout.contains("3 added"));
    // State moved on since the second plan was made.
    let r = f.ok(&["apply", "second.plan"], 1);
    // The serial counts state transactions, which depend on how completions batched.
    let masked: String = {
        let t = scrub(&r.stderr, f.path());
        match t.find("state is now at serial ") {
            Some(i) => {
                let start = i + "state is now at serial ".len();
                let end = start + t[start..].find(')').unwrap_or(0);
                format!("{}[N]{}", &t[..start], &t[end..])
            }
            None => t,
        }
    };
    insta::assert_snapshot!("stale_plan", masked);
    assert_eq!(f.cloud_objects().len(), 3);
    // A plan made after a config change is refused too.
    f.ok(&["plan", "-var=size=2", "-out", "third.plan"], 0);
    f.write("extra.tf", "resource \"test_instance\" \"extra\" {}\n");
    let r = f.ok(&["apply", "third.plan"], 1);
    assert!(
        r.stderr
            .contains("Saved plan does not match the configuration"),
        "{}",
        r.stderr
    );
}

#[test]
fn partial_failure_applies_independent_branches_and_skips_dependents() {
    let f = Fixture::new(
        r#"
provider "test" {
  store = "@DIR@/cloud"
}
resource "test_instance" "db" {
  name    = "db"
  fail_on = "create"
}
resource "test_instance" "api" {
  value = test_instance.db.id
}
resource "test_instance" "cache" {
  name = "cache"
}
"#,
    );
    let r = f.ok(&["apply", "-auto-approve"], 1);
    insta::assert_snapshot!("partial_failure", scrub(&sort_progress(&r.all()), f.path()));
    let l = f.ok(&["state", "list"], 0);
    assert_eq!(l.stdout, "test_instance.cache\n");
    assert_eq!(f.cloud_objects().len(), 1);
    // Fix the config: the next run finishes the job.
    f.write(
        "main.tf",
        &std::fs::read_to_string(f.path().join("main.tf"))
            .unwrap()
            .replace("  fail_on = \"create\"\n", ""),
    );
    let r = f.ok(&["apply", "-auto-approve"], 0);
    assert!(
        r.stdout.contains("2 added, 0 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
}

#[test]
fn user_mistakes_are_diagnostics_with_locations() {
    let cases: &[(&str, &str)] = &[
        ("syntax", "resource \"test_instance\" \"a\" {\n  name = \n}\n"),
        ("unknown_attribute", "resource \"test_instance\" \"a\" {\n  nmae = \"x\"\n}\n"),
        ("wrong_type", "resource \"test_instance\" \"a\" {\n  size = [1, 2]\n}\n"),
        ("undefined_reference", "resource \"test_instance\" \"a\" {\n  value = test_instance.missing.id\n}\n"),
        ("cycle", "resource \"test_instance\" \"a\" {\n  value = test_instance.b.id\n}\nresource \"test_instance\" \"b\" {\n  value = local.x\n}\nlocals {\n  x = test_instance.a.id\n}\n"),
        ("missing_variable", "variable \"region\" {\n  type = string\n}\nresource \"test_instance\" \"a\" {\n  name = var.region\n}\n"),
        ("unknown_resource_type", "resource \"test_nosuch\" \"a\" {\n}\n"),
        ("unknown_block", "resoruce \"test_instance\" \"a\" {\n}\n"),
        ("bad_function", "resource \"test_instance\" \"a\" {\n  name = uper(\"x\")\n}\n"),
        ("required_version", "terraform {\n  required_version = \">= 1.3, < 1.5\"\n}\nresource \"test_instance\" \"a\" {\n}\n"),
        ("validation_rule", "variable \"env\" {\n  default = \"production-east-1\"\n  validation {\n    condition     = length(var.env) <= 8\n    error_message = \"env must be at most 8 characters.\"\n  }\n}\nresource \"test_instance\" \"a\" {\n  name = var.env\n}\n"),
    ];
    for (name, src) in cases {
        let f = Fixture::new(src);
        let r = f.run(&["plan", "-input=false"]);
        assert_eq!(r.code, 1, "{name}: {}", r.all());
        assert!(!r.stderr.contains("panicked"), "{name}: {}", r.stderr);
        insta::assert_snapshot!(format!("diag_{name}"), scrub(&r.stderr, f.path()));
    }
}

#[test]
fn sensitive_values_never_appear_in_plans_state_output_or_errors() {
    let f = Fixture::new(
        r#"
provider "test" {
  store = "@DIR@/cloud"
}
variable "db_password" {
  type      = string
  sensitive = true
}
resource "test_instance" "db" {
  secret = var.db_password
  value  = "postgres://app:${var.db_password}@db"
}
output "dsn" {
  value     = test_instance.db.value
  sensitive = true
}
"#,
    );
    let secret = "s3cr3t-Pa55";
    let p = f.ok(&["plan", &format!("-var=db_password={secret}")], 0);
    let a = f.ok(
        &[
            "apply",
            "-auto-approve",
            &format!("-var=db_password={secret}"),
        ],
        0,
    );
    let s = f.ok(&["show"], 0);
    let sj = f.ok(&["show", "-json"], 0);
    let o = f.ok(&["output"], 0);
    let l = f.ok(&["state", "show", "test_instance.db"], 0);
    for r in [&p, &a, &s, &sj, &o, &l] {
        assert!(!r.all().contains(secret), "secret leaked:\n{}", r.all());
    }
    assert!(p.stdout.contains("(sensitive value)"));
    assert!(o.stdout.contains("dsn = <sensitive>"));
    // Asked for by name, the value is given (as Terraform does).
    assert!(f.ok(&["output", "-raw", "dsn"], 0).stdout.contains(secret));
}

#[test]
fn graph_prints_dot() {
    let f = Fixture::new(BASE);
    let g = f.ok(&["graph"], 0);
    assert!(g.stdout.starts_with("digraph terrane {"));
    assert!(
        g.stdout
            .contains("\"test_instance.app\" -> \"test_instance.net\""),
        "{}",
        g.stdout
    );
}

#[test]
fn import_adopts_an_existing_object_and_plans_clean() {
    let f = Fixture::new(
        r#"
provider "test" {
  store = "@DIR@/cloud"
}
resource "test_instance" "existing" {
  name = "legacy"
  tags = { owner = "ops" }
}
"#,
    );
    // An object made outside this configuration (another workspace).
    f.ok(&["workspace", "new", "other"], 0);
    f.ok(&["apply", "-auto-approve"], 0);
    let id = f.state_json()["resources"][0]["values"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    f.ok(&["workspace", "select", "default"], 0);
    f.ok(&["state", "list"], 0);
    let r = f.ok(&["import", "test_instance.existing", &id], 0);
    assert!(r.stdout.contains("Import successful!"), "{}", r.stdout);
    f.ok(&["plan", "-detailed-exitcode"], 0);
    // Importing again, or into an undeclared address, is refused.
    let r = f.ok(&["import", "test_instance.existing", &id], 1);
    assert!(r.stderr.contains("already in state"), "{}", r.stderr);
    let r = f.ok(&["import", "test_instance.nope", &id], 1);
    assert!(
        r.stderr.contains("does not declare a managed resource"),
        "{}",
        r.stderr
    );
    let r = f.ok(&["import", "test_instance.existing", "ti-000000000000"], 1);
    assert!(
        r.stderr.contains("already in state") || r.stderr.contains("import failed"),
        "{}",
        r.stderr
    );
}

#[test]
fn import_blocks_adopt_objects_when_the_plan_is_applied() {
    let f = Fixture::new(
        r#"
provider "test" {
  store = "@DIR@/cloud"
}
resource "test_instance" "a" {
  name = "legacy-a"
}
resource "test_instance" "b" {
  name = "legacy-b"
}
"#,
    );
    // Objects made outside this configuration (another workspace).
    f.ok(&["workspace", "new", "other"], 0);
    f.ok(&["apply", "-auto-approve"], 0);
    let state = f.state_json();
    let id = |i: usize| {
        state["resources"][i]["values"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (a, b) = (id(0), id(1));
    f.ok(&["workspace", "select", "default"], 0);
    f.write(
        "main.tf",
        &format!(
            r#"
provider "test" {{
  store = "@DIR@/cloud"
}}
resource "test_instance" "a" {{
  name = "legacy-a"
}}
resource "test_instance" "b" {{
  name = "legacy-b"
  tags = {{ owner = "ops" }}
}}
import {{
  to = test_instance.a
  id = "{a}"
}}
import {{
  to = test_instance.b
  id = "{b}"
}}
"#
        ),
    );
    let p = f.ok(&["plan", "-out", "import.plan"], 0);
    for line in [
        format!("# test_instance.a will be imported (id \"{a}\")"),
        format!("# test_instance.b will be updated in-place\n  # (imported from \"{b}\")"),
        "Plan: 2 to import, 0 to add, 1 to change, 0 to destroy.".to_string(),
    ] {
        assert!(p.stdout.contains(&line), "{line:?} in:\n{}", p.stdout);
    }
    // Planning wrote nothing.
    assert_eq!(f.ok(&["state", "list"], 0).stdout, "");
    let r = f.ok(&["apply", "import.plan"], 0);
    assert!(
        r.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    let ids: Vec<String> = f.state_json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["values"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, [a.clone(), b.clone()], "the same objects, adopted");
    // The blocks are done: they stay in the configuration and plan nothing.
    f.ok(&["plan", "-detailed-exitcode"], 0);
    // An import into an undeclared address, or in a child module, is an error at its line.
    f.write(
        "main.tf",
        &format!("import {{\n  to = test_instance.nope\n  id = \"{a}\"\n}}\n"),
    );
    let r = f.ok(&["plan"], 1);
    assert!(
        r.stderr
            .contains("Configuration for import target does not exist")
            && r.stderr.contains("main.tf:1"),
        "{}",
        r.stderr
    );
    f.write("main.tf", "module \"m\" {\n  source = \"./m\"\n}\n");
    f.write(
        "m/main.tf",
        "import {\n  to = test_instance.x\n  id = \"x\"\n}\n",
    );
    let r = f.ok(&["validate"], 1);
    assert!(
        r.stderr.contains("only allowed in the root module") && r.stderr.contains("m/main.tf:1"),
        "{}",
        r.stderr
    );
}

#[test]
fn import_blocks_with_for_each_adopt_one_object_per_key() {
    let made = r#"
provider "test" {
  store = "@DIR@/cloud"
}
resource "test_instance" "x" {
  for_each = toset(["a", "b"])
  name     = "legacy-${each.key}"
}
resource "test_instance" "y" {
  name = "legacy-y"
}
"#;
    let f = Fixture::new(made);
    // Objects made outside this configuration (another workspace).
    f.ok(&["workspace", "new", "other"], 0);
    f.ok(&["apply", "-auto-approve"], 0);
    let ids: std::collections::BTreeMap<String, String> = f.state_json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_string(),
                r["values"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let (a, b, y) = (
        &ids["test_instance.x[\"a\"]"],
        &ids["test_instance.x[\"b\"]"],
        &ids["test_instance.y"],
    );
    f.ok(&["workspace", "select", "default"], 0);
    // The keys and ids come from a variable; the single block's id from a local.
    f.write(
        "main.tf",
        &format!(
            r#"{made}
variable "ids" {{
  type    = map(string)
  default = {{ a = "{a}", b = "{b}" }}
}}
locals {{
  y_id = "{y}"
}}
import {{
  for_each = var.ids
  to       = test_instance.x[each.key]
  id       = each.value
}}
import {{
  to = test_instance.y
  id = local.y_id
}}
"#
        ),
    );
    let p = f.ok(&["plan", "-out", "import.plan"], 0);
    for line in [
        format!("# test_instance.x[\"a\"] will be imported (id \"{a}\")"),
        format!("# test_instance.x[\"b\"] will be imported (id \"{b}\")"),
        format!("# test_instance.y will be imported (id \"{y}\")"),
        "Plan: 3 to import, 0 to add, 0 to change, 0 to destroy.".to_string(),
    ] {
        assert!(p.stdout.contains(&line), "{line:?} in:\n{}", p.stdout);
    }
    f.ok(&["apply", "import.plan"], 0);
    let adopted: std::collections::BTreeMap<String, String> = f.state_json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_string(),
                r["values"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(adopted, ids, "the same objects at the same addresses");
    f.ok(&["plan", "-detailed-exitcode"], 0);
    // With for_each, `to` needs the key of each instance.
    f.write(
        "main.tf",
        &format!(
            "{made}\nimport {{\n  for_each = toset([\"a\"])\n  to       = test_instance.x\n  id       = each.key\n}}\n"
        ),
    );
    let r = f.ok(&["validate"], 1);
    assert!(
        r.stderr.contains("Invalid import address") && r.stderr.contains("main.tf:15"),
        "{}",
        r.stderr
    );
}

#[test]
fn refresh_false_skips_reading_real_infrastructure() {
    let f = Fixture::new(BASE);
    f.ok(&["apply", "-auto-approve"], 0);
    // Delete one object behind Terrane's back.
    let victim = f.cloud_objects().into_iter().next().unwrap();
    std::fs::remove_file(victim).unwrap();
    // Without refresh the plan trusts state; with it, the deletion shows and is recreated.
    f.ok(&["plan", "-refresh=false", "-detailed-exitcode"], 0);
    let r = f.ok(&["plan", "-detailed-exitcode"], 2);
    assert!(r.stdout.contains("has been deleted"), "{}", r.stdout);
    assert!(r.stdout.contains("1 to add"), "{}", r.stdout);
}

/// An argument or block of hashicorp/aws that Terrane does not support yet is refused as such,
/// at its line, and not as an argument that does not exist.
#[test]
fn an_aws_argument_not_supported_yet_says_so() {
    let f = Fixture::new(concat!(
        "resource \"aws_vpc\" \"v\" {\n",
        "  cidr_block        = \"10.0.0.0/16\"\n",
        "  ipv4_ipam_pool_id = \"ipam-pool-1\"\n",
        "}\n",
        "\n",
        "resource \"aws_lb_listener\" \"l\" {\n",
        "  load_balancer_arn = \"arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/x/1\"\n",
        "  port              = 80\n",
        "  default_action {\n",
        "    type = \"authenticate-oidc\"\n",
        "    authenticate_oidc {\n",
        "      issuer = \"https://login.example.com\"\n",
        "    }\n",
        "  }\n",
        "}\n",
    ));
    let r = f.ok(&["validate"], 1);
    insta::assert_snapshot!(scrub(&r.stderr, f.path()));
}

#[test]
fn the_added_functions_evaluate_through_outputs() {
    let f = Fixture::new(
        r#"
locals {
  url = "https://terraform.io/docs/"
}

output "parts" {
  value = regex("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?", local.url)
}

output "words" {
  value = regexall("[a-z]+", "1234abcd5678efgh9")
}

output "renamed" {
  value = replace("web-blue-1", "/-(blue|green)-/", "-$1:")
}

output "date" {
  value = formatdate("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00")
}

output "numbers" {
  value = [sum([10, 13, 6, 4.5]), index(["a", "b"], "b"), parseint("FF", 16), pow(3, 2)]
}

output "sets" {
  value = sort(setunion(["a", "b"], ["b", "c"]))
}

output "text" {
  value = [trim("?!hello?!", "!?"), chomp("x\n\n"), strrev("abc"), urlencode("a b&c")]
}

output "yaml" {
  value = yamlencode({ name = "web", ports = [80, 8080] })
}
"#,
    );
    f.ok(&["apply", "-auto-approve"], 0);
    let out = f.ok(&["output", "-json"], 0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let value = |k: &str| v[k]["value"].clone();
    assert_eq!(
        value("parts"),
        serde_json::json!({"authority": "terraform.io", "scheme": "https"})
    );
    assert_eq!(value("words"), serde_json::json!(["abcd", "efgh"]));
    assert_eq!(value("renamed"), serde_json::json!("web-blue:1"));
    assert_eq!(
        value("date"),
        serde_json::json!("Tue, 02 Jan 2018 23:12:01 -0800")
    );
    assert_eq!(value("numbers"), serde_json::json!([33.5, 1, 255, 9]));
    // Each output's type as Terraform writes it beside the value.
    assert_eq!(
        v["parts"]["type"],
        serde_json::json!(["object", {"authority": "string", "scheme": "string"}])
    );
    assert_eq!(
        v["numbers"]["type"],
        serde_json::json!(["tuple", ["number", "number", "number", "number"]])
    );
    assert_eq!(v["yaml"]["type"], serde_json::json!("string"));
    assert_eq!(v["yaml"]["sensitive"], serde_json::json!(false));
    assert_eq!(value("sets"), serde_json::json!(["a", "b", "c"]));
    assert_eq!(
        value("text"),
        serde_json::json!(["hello", "x", "cba", "a+b%26c"])
    );
    assert_eq!(
        value("yaml"),
        serde_json::json!("\"name\": \"web\"\n\"ports\":\n- 80\n- 8080\n")
    );
    // A bad pattern is a diagnostic at its line, not a panic.
    f.write(
        "main.tf",
        "output \"bad\" {\n  value = regex(\"(unclosed\", \"x\")\n}\n",
    );
    let r = f.run(&["plan"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.all().contains("invalid regular expression"),
        "{}",
        r.all()
    );
    assert!(r.all().contains("main.tf:2"), "{}", r.all());
}

#[test]
fn version_names_the_release_the_platform_and_the_providers() {
    let f = Fixture::new("");
    let r = f.ok(&["version"], 0);
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let platform = format!("{}_{arch}", std::env::consts::OS);
    let mut lines = r.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(format!("Terrane v{}", env!("CARGO_PKG_VERSION")).as_str())
    );
    assert_eq!(lines.next(), Some(format!("on {platform}").as_str()));
    assert!(
        r.stdout.contains("+ provider aws (built in)\n"),
        "{}",
        r.stdout
    );
    let j: serde_json::Value =
        serde_json::from_str(&f.ok(&["version", "-json"], 0).stdout).unwrap();
    assert_eq!(j["terrane_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(j["platform"], platform.as_str());
    assert_eq!(j["provider_selections"]["terraform"], "built-in");
    assert_eq!(j["provider_selections"]["aws"], "built-in");
}

#[test]
fn required_version_is_checked_in_every_module_against_terraforms_language_version() {
    // Constraints Terraform 1.5 meets pass, in the root and in a child module.
    let f = Fixture::new(
        r#"
terraform {
  required_version = ">= 1.3.0, ~> 1.5"
}
module "child" {
  source = "./child"
}
"#,
    );
    f.write(
        "child/main.tf",
        "terraform {\n  required_version = \">= 1.0\"\n}\nresource \"test_instance\" \"a\" {\n}\n",
    );
    f.ok(&["plan", "-input=false"], 0);
    // A child module that needs a newer Terraform stops the plan, at its line.
    f.write(
        "child/main.tf",
        "terraform {\n  required_version = \"~> 1.9.0\"\n}\nresource \"test_instance\" \"a\" {\n}\n",
    );
    let r = f.ok(&["plan", "-input=false"], 1);
    assert!(
        r.stderr.contains("Unsupported Terraform Core version"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("child/main.tf:2"), "{}", r.stderr);
    assert!(r.stderr.contains("\"~> 1.9.0\""), "{}", r.stderr);
    // A constraint that does not parse says so.
    f.write(
        "child/main.tf",
        "terraform {\n  required_version = \">= one\"\n}\n",
    );
    let r = f.ok(&["validate"], 1);
    assert!(
        r.stderr.contains("Invalid required_version constraint"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("\"one\" is not a version"),
        "{}",
        r.stderr
    );
    // `version -json` gives the number it is checked against, where tools read Terraform's.
    let j: serde_json::Value =
        serde_json::from_str(&f.ok(&["version", "-json"], 0).stdout).unwrap();
    assert_eq!(j["terraform_version"], "1.5.0");
}

#[test]
fn providers_shows_what_each_module_requires_and_what_the_state_uses() {
    let f = Fixture::new(
        r#"
resource "terraform_data" "a" {
  input = "one"
}

module "net" {
  source = "./net"
}
"#,
    );
    f.write(
        "net/main.tf",
        r#"
terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = ">= 3.0"
    }
  }
}

resource "terraform_data" "b" {
  input = "two"
}
"#,
    );
    let tree = "
Providers required by configuration:
.
├── provider[terraform.io/builtin/terraform]
└── module.net
    ├── provider[registry.terraform.io/hashicorp/null] >= 3.0
    └── provider[terraform.io/builtin/terraform]
";
    assert_eq!(f.ok(&["providers"], 0).stdout, format!("{tree}\n"));
    f.ok(&["apply", "-auto-approve"], 0);
    assert_eq!(
        f.ok(&["providers"], 0).stdout,
        format!("{tree}\nProviders required by state:\n\n    provider[terraform.io/builtin/terraform]\n\n")
    );
}

/// `-exclude` (OpenTofu's): a plan leaves out the named resources and what depends on them, a
/// destroy the named ones and what they depend on; with -target it is refused.
#[test]
fn exclude_leaves_out_resources_and_their_dependents() {
    let f = Fixture::new(BASE);
    f.ok(&["apply", "-auto-approve"], 0);
    f.write(
        "extra.tf",
        "resource \"test_instance\" \"extra\" {\n  name = \"extra\"\n}\n",
    );
    let all = f.ok(&["plan", "-var", "size=2"], 0);
    assert!(
        all.stdout.contains("1 to add, 2 to change, 0 to destroy"),
        "{}",
        all.stdout
    );
    // The apps depend on net: excluding net leaves them out too.
    let r = f.ok(&["plan", "-var", "size=2", "-exclude=test_instance.net"], 0);
    assert!(
        r.stdout.contains("1 to add, 0 to change, 0 to destroy"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("test_instance.app"), "{}", r.stdout);
    f.ok(
        &[
            "apply",
            "-auto-approve",
            "-var",
            "size=2",
            "-exclude",
            "test_instance.app",
        ],
        0,
    );
    let state = f.state_json().to_string();
    assert!(state.contains("extra"), "{state}");
    // The apps were left as they were: size 1.
    let again = f.ok(&["plan", "-var", "size=2"], 0);
    assert!(
        again.stdout.contains("0 to add, 2 to change, 0 to destroy"),
        "{}",
        again.stdout
    );
    // A destroy that excludes the apps keeps them and net, which they need.
    f.ok(
        &["destroy", "-auto-approve", "-exclude=test_instance.app"],
        0,
    );
    let list = f.ok(&["state", "list"], 0).stdout;
    assert_eq!(
        list.lines().collect::<Vec<_>>(),
        [
            "test_instance.app[0]",
            "test_instance.app[1]",
            "test_instance.net"
        ],
        "{list}"
    );
    let bad = f.ok(
        &[
            "plan",
            "-target=test_instance.net",
            "-exclude=test_instance.app",
        ],
        1,
    );
    assert!(bad.stderr.contains("mutually-exclusive"), "{}", bad.stderr);
    let bad = f.ok(&["plan", "-exclude=not an address"], 1);
    assert!(
        bad.stderr.contains("Invalid -exclude address"),
        "{}",
        bad.stderr
    );
}

#[test]
fn plans_show_nested_values_a_line_per_key_and_json_strings_as_json() {
    let v1 = r#"
resource "terraform_data" "svc" {
  input = {
    name = "api"
    tags = { team = "core", tier = "web", cost = "shared" }
    ports = [
      { port = 80, protocol = "tcp" },
      { port = 443, protocol = "tcp" },
    ]
    zones = ["a", "b", "c"]
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{ Effect = "Allow", Action = ["s3:GetObject"], Resource = "*" }]
    })
  }
}
"#;
    let f = Fixture::new(v1);
    let create = f.ok(&["plan"], 0);
    insta::assert_snapshot!("plan_nested_create", scrub(&create.stdout, f.path()));
    f.ok(&["apply", "-auto-approve"], 0);
    f.write(
        "main.tf",
        &v1.replace("tier = \"web\"", "tier = \"api\"")
            .replace("cost = \"shared\"", "owner = \"ops\"")
            .replace(
                "{ port = 443, protocol = \"tcp\" }",
                "{ port = 443, protocol = \"tls\" }",
            )
            .replace("[\"a\", \"b\", \"c\"]", "[\"a\", \"c\", \"d\"]")
            .replace("[\"s3:GetObject\"]", "[\"s3:GetObject\", \"s3:PutObject\"]"),
    );
    let update = f.ok(&["plan"], 0);
    // terraform_data's id is random: the snapshot keeps its place, not its value.
    let id = f.state_json()["resources"][0]["values"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    insta::assert_snapshot!(
        "plan_nested_update",
        scrub(&update.stdout, f.path()).replace(&id, "ID")
    );
}

#[test]
fn plan_generate_config_out_writes_configuration_for_imported_objects() {
    let provider = "provider \"test\" {\n  store = \"@DIR@/cloud\"\n}\n";
    let f = Fixture::new(&format!(
        "{provider}resource \"test_instance\" \"legacy\" {{\n  name = \"legacy\"\n  size = 2\n  tags = {{ team = \"ops\" }}\n  rule {{\n    port = 80\n  }}\n}}\n"
    ));
    f.ok(&["workspace", "new", "other"], 0);
    f.ok(&["apply", "-auto-approve"], 0);
    let id = f.state_json()["resources"][0]["values"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    f.ok(&["workspace", "select", "default"], 0);
    f.write(
        "main.tf",
        &format!("{provider}import {{\n  to = test_instance.legacy\n  id = \"{id}\"\n}}\n"),
    );
    let p = f.ok(&["plan", "-generate-config-out=generated.tf"], 0);
    for line in [
        "has generated configuration for 1 imported object(s) and written it to generated.tf",
        "# test_instance.legacy will be imported",
        "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.",
    ] {
        assert!(p.stdout.contains(line), "{line:?} in:\n{}", p.stdout);
    }
    let generated = std::fs::read_to_string(f.path().join("generated.tf")).unwrap();
    for line in [
        "resource \"test_instance\" \"legacy\" {",
        "  name = \"legacy\"",
        "  size = 2",
        "    team = \"ops\"",
        "  rule {",
        "    port = 80",
    ] {
        assert!(generated.contains(line), "{line:?} in:\n{generated}");
    }
    // The generated file is in Terraform's layout already.
    assert_eq!(f.ok(&["fmt", "-check", "generated.tf"], 0).stdout, "");
    f.ok(&["apply", "-auto-approve"], 0);
    f.ok(&["plan", "-detailed-exitcode"], 0);
    // It never overwrites a file.
    let r = f.ok(&["plan", "-generate-config-out=generated.tf"], 1);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
}
