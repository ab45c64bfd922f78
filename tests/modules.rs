//! Module calls with `count` and `for_each`, through the binary: instance addresses
//! (`module.svc["api"]`), references to one instance and to all of them, adding and removing
//! an instance, and the mistakes users make with them; refactoring with `moved` and `removed`
//! blocks; `optional(T, default)` in module inputs.

mod common;
use common::{scrub, Fixture};

const SERVICE: &str = r#"
variable "name" {
  type = string
}
variable "port" {
  type    = number
  default = 80
}
resource "terraform_data" "this" {
  input = "${var.name}:${var.port}"
}
output "url" {
  value = "http://${terraform_data.this.output}"
}
"#;

const ROOT: &str = r#"
variable "services" {
  type = map(object({ port = number }))
  default = {
    api    = { port = 8080 }
    worker = { port = 9090 }
  }
}
locals {
  caches = ["sessions", "jobs"]
}
module "svc" {
  source   = "./svc"
  for_each = var.services
  name     = each.key
  port     = each.value.port
}
module "cache" {
  source = "./svc"
  count  = length(local.caches)
  name   = local.caches[count.index]
}
resource "terraform_data" "lb" {
  input = { for k, m in module.svc : k => m.url }
}
output "api" {
  value = module.svc["api"].url
}
output "caches" {
  value = module.cache[*].url
}
"#;

fn fixture(root: &str) -> Fixture {
    let f = Fixture::new(root);
    f.write("svc/main.tf", SERVICE);
    f
}

#[test]
fn module_for_each_and_count_make_one_instance_per_key() {
    let f = fixture(ROOT);
    let a = f.ok(&["apply", "-auto-approve"], 0);
    assert!(
        a.stdout.contains("5 added, 0 changed, 0 destroyed"),
        "{}",
        a.stdout
    );
    let list = f.ok(&["state", "list"], 0).stdout;
    assert_eq!(
        list.lines().collect::<Vec<_>>(),
        [
            "module.cache[0].terraform_data.this",
            "module.cache[1].terraform_data.this",
            "module.svc[\"api\"].terraform_data.this",
            "module.svc[\"worker\"].terraform_data.this",
            "terraform_data.lb",
        ]
    );
    // each.key / each.value and count.index reach the instances' variables.
    let show = f.ok(
        &[
            "state",
            "show",
            "module.svc[\"worker\"].terraform_data.this",
        ],
        0,
    );
    assert!(show.stdout.contains("\"worker:9090\""), "{}", show.stdout);
    let show = f.ok(&["state", "show", "module.cache[1].terraform_data.this"], 0);
    assert!(show.stdout.contains("\"jobs:80\""), "{}", show.stdout);
    // One instance's output, all instances as a map (for_each) and as a list (count).
    let out: serde_json::Value =
        serde_json::from_str(&f.ok(&["output", "-json"], 0).stdout).unwrap();
    assert_eq!(out["api"]["value"], "http://api:8080");
    assert_eq!(
        out["caches"]["value"],
        serde_json::json!(["http://sessions:80", "http://jobs:80"])
    );
    let lb = f.ok(&["state", "show", "terraform_data.lb"], 0).stdout;
    assert!(lb.contains("http://worker:9090"), "{lb}");
    // The graph names module instances (quoted for DOT).
    let g = f.ok(&["graph"], 0).stdout;
    assert!(
        g.contains(r#""terraform_data.lb" -> "module.svc[\"api\"].terraform_data.this""#),
        "{g}"
    );
    f.ok(&["plan", "-detailed-exitcode"], 0);

    // A key removed destroys that instance's objects and nothing else; a key added creates.
    let p = f.ok(
        &[
            "plan",
            "-var",
            r#"services={"api"={port=8080},"web"={port=80}}"#,
        ],
        0,
    );
    assert!(
        p.stdout
            .contains("module.svc[\"worker\"].terraform_data.this will be destroyed")
            && p.stdout
                .contains("module.svc[\"web\"].terraform_data.this will be created")
            && p.stdout
                .contains("Plan: 1 to add, 1 to change, 1 to destroy."),
        "{}",
        p.stdout
    );
    // -target takes a module instance.
    let t = f.ok(
        &[
            "apply",
            "-auto-approve",
            "-target",
            "module.svc[\"web\"]",
            "-var",
            r#"services={"api"={port=8080},"worker"={port=9090},"web"={port=80}}"#,
        ],
        0,
    );
    assert!(
        t.stdout.contains("1 added, 0 changed, 0 destroyed"),
        "{}",
        t.stdout
    );
    // Keys removed: their instances' objects go, the rest stay.
    let d = f.ok(
        &[
            "apply",
            "-auto-approve",
            "-var",
            r#"services={"api"={port=8080}}"#,
        ],
        0,
    );
    assert!(
        d.stdout.contains("0 added, 1 changed, 2 destroyed"),
        "{}",
        d.stdout
    );
    assert!(
        !f.ok(&["state", "list"], 0).stdout.contains("worker"),
        "the removed instance's object is gone"
    );
}

#[test]
fn module_repetition_mistakes_are_errors_at_their_line() {
    let cases: &[(&str, &str)] = &[
        (
            "module_for_each_on_a_resource",
            "resource \"terraform_data\" \"names\" {\n  input = [\"a\"]\n}\nmodule \"svc\" {\n  source   = \"./svc\"\n  for_each = toset(terraform_data.names.output)\n  name     = each.key\n}\n",
        ),
        (
            "module_output_without_instance_key",
            "module \"svc\" {\n  source   = \"./svc\"\n  for_each = toset([\"a\"])\n  name     = each.key\n}\noutput \"url\" {\n  value = module.svc.url\n}\n",
        ),
        (
            "module_count_and_for_each",
            "module \"svc\" {\n  source   = \"./svc\"\n  count    = 1\n  for_each = toset([\"a\"])\n  name     = \"x\"\n}\n",
        ),
        (
            "module_count_not_a_number",
            "variable \"n\" {\n  default = \"two\"\n}\nmodule \"svc\" {\n  source = \"./svc\"\n  count  = var.n\n  name   = \"x\"\n}\n",
        ),
    ];
    for (name, src) in cases {
        let f = fixture(src);
        let r = f.run(&["plan", "-input=false"]);
        assert_eq!(r.code, 1, "{name}: {}", r.all());
        assert!(!r.stderr.contains("panicked"), "{name}: {}", r.stderr);
        insta::assert_snapshot!(format!("diag_{name}"), scrub(&r.stderr, f.path()));
    }
}

const OLD_LAYOUT: &str = r#"
module "api" {
  source = "./svc"
  name   = "api"
  port   = 8080
}
module "worker" {
  source = "./svc"
  name   = "worker"
  port   = 9090
}
resource "terraform_data" "old" {
  input = "x"
}
resource "terraform_data" "first" {
  input = "chain"
}
"#;

const NEW_LAYOUT: &str = r#"
locals {
  services = { api = 8080, worker = 9090 }
}
module "svc" {
  source   = "./svc"
  for_each = local.services
  name     = each.key
  port     = each.value
}
resource "terraform_data" "renamed" {
  input = "x"
}
resource "terraform_data" "third" {
  input = "chain, changed"
}
moved {
  from = module.api
  to   = module.svc["api"]
}
moved {
  from = module.worker
  to   = module.svc["worker"]
}
moved {
  from = terraform_data.old
  to   = terraform_data.renamed
}
moved {
  from = terraform_data.first
  to   = terraform_data.second
}
moved {
  from = terraform_data.second
  to   = terraform_data.third
}
"#;

fn ids(f: &Fixture) -> Vec<String> {
    let state = f.state_json();
    let mut ids: Vec<String> = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["values"]["id"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn moved_blocks_migrate_a_state_made_by_the_old_layout_without_recreating_anything() {
    let f = fixture(OLD_LAYOUT);
    f.ok(&["apply", "-auto-approve"], 0);
    let before = ids(&f);
    f.write("main.tf", NEW_LAYOUT);
    let p = f.ok(&["plan", "-out", "moves.plan"], 0);
    for line in [
        "# module.api.terraform_data.this has moved to module.svc[\"api\"].terraform_data.this",
        "# module.worker.terraform_data.this has moved to module.svc[\"worker\"].terraform_data.this",
        "# terraform_data.old has moved to terraform_data.renamed",
        // A chain is shown from its start; a moved object that also changes says so.
        "# terraform_data.third will be updated in-place\n  # (moved from terraform_data.first)",
        "Plan: 0 to add, 1 to change, 0 to destroy.",
    ] {
        assert!(p.stdout.contains(line), "{line:?} in:\n{}", p.stdout);
    }
    // The saved plan carries the moves: applying it records them, then the change.
    let a = f.ok(&["apply", "moves.plan"], 0);
    assert!(
        a.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        a.stdout
    );
    assert_eq!(
        f.ok(&["state", "list"], 0)
            .stdout
            .lines()
            .collect::<Vec<_>>(),
        [
            "module.svc[\"api\"].terraform_data.this",
            "module.svc[\"worker\"].terraform_data.this",
            "terraform_data.renamed",
            "terraform_data.third",
        ]
    );
    assert_eq!(
        ids(&f),
        before,
        "the same objects, under their new addresses"
    );
    // Done once: the moved blocks now find nothing to move.
    let again = f.ok(&["plan", "-detailed-exitcode"], 0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
}

#[test]
fn a_moved_block_whose_destination_is_taken_moves_nothing_and_warns() {
    let f = fixture(
        "resource \"terraform_data\" \"a\" {\n  input = 1\n}\nresource \"terraform_data\" \"b\" {\n  input = 2\n}\n",
    );
    f.ok(&["apply", "-auto-approve"], 0);
    f.write(
        "main.tf",
        "resource \"terraform_data\" \"b\" {\n  input = 2\n}\nmoved {\n  from = terraform_data.a\n  to   = terraform_data.b\n}\n",
    );
    let p = f.ok(&["plan"], 0);
    assert!(
        p.all()
            .contains("Object already exists at the moved block's destination")
            && p.all().contains("main.tf:4")
            && p.stdout.contains("terraform_data.a will be destroyed"),
        "{}",
        p.all()
    );
}

#[test]
fn moved_block_mistakes_are_errors_at_their_line() {
    let cases: &[(&str, &str)] = &[
        (
            "moved_type_mismatch",
            "resource \"terraform_data\" \"b\" {\n}\nmoved {\n  from = null_resource.a\n  to   = terraform_data.b\n}\n",
        ),
        (
            "moved_module_to_resource",
            "resource \"terraform_data\" \"b\" {\n}\nmoved {\n  from = module.a\n  to   = terraform_data.b\n}\n",
        ),
        (
            "moved_not_an_address",
            "moved {\n  from = \"terraform_data.a\"\n  to   = terraform_data.b\n}\n",
        ),
        (
            "moved_from_still_declared",
            "resource \"terraform_data\" \"a\" {\n}\nresource \"terraform_data\" \"b\" {\n}\nmoved {\n  from = terraform_data.a\n  to   = terraform_data.b\n}\n",
        ),
        (
            "removed_still_declared",
            "resource \"terraform_data\" \"a\" {\n}\nremoved {\n  from = terraform_data.a\n  lifecycle {\n    destroy = false\n  }\n}\n",
        ),
        (
            "removed_one_instance",
            "removed {\n  from = terraform_data.a[0]\n}\n",
        ),
        (
            "moved_data_source",
            "moved {\n  from = data.terraform_remote_state.a\n  to   = data.terraform_remote_state.b\n}\n",
        ),
    ];
    for (name, src) in cases {
        let f = fixture(src);
        let r = f.run(&["plan", "-input=false"]);
        assert_eq!(r.code, 1, "{name}: {}", r.all());
        assert!(!r.stderr.contains("panicked"), "{name}: {}", r.stderr);
        insta::assert_snapshot!(format!("diag_{name}"), scrub(&r.stderr, f.path()));
    }
}

#[test]
fn optional_object_attributes_take_their_defaults() {
    let f = fixture(
        r#"
variable "services" {
  type = map(object({
    port   = optional(number, 80)
    health = optional(object({ path = optional(string, "/healthz") }), {})
  }))
  default = {
    api = { port = 8080 }
    web = { health = { path = "/" } }
  }
}
module "svc" {
  source   = "./svc"
  for_each = var.services
  name     = "${each.key}${each.value.health.path}"
  port     = each.value.port
}
output "names" {
  value = { for k, m in module.svc : k => m.url }
}
"#,
    );
    f.ok(&["apply", "-auto-approve"], 0);
    let out: serde_json::Value =
        serde_json::from_str(&f.ok(&["output", "-json"], 0).stdout).unwrap();
    assert_eq!(
        out["names"]["value"],
        serde_json::json!({"api": "http://api/healthz:8080", "web": "http://web/:80"})
    );
}

#[test]
fn removed_blocks_forget_objects_or_let_them_be_destroyed() {
    let f = fixture(
        "resource \"terraform_data\" \"keep\" {\n  input = 1\n}\nmodule \"old\" {\n  source = \"./svc\"\n  name   = \"old\"\n}\n",
    );
    f.ok(&["apply", "-auto-approve"], 0);
    f.write(
        "main.tf",
        "removed {\n  from = terraform_data.keep\n  lifecycle {\n    destroy = false\n  }\n}\nremoved {\n  from = module.old\n}\n",
    );
    let p = f.ok(&["plan", "-out", "p.plan"], 0);
    for line in [
        "# terraform_data.keep will be removed from the Terrane state but will not be destroyed",
        "# module.old.terraform_data.this will be destroyed",
        "Plan: 0 to add, 0 to change, 1 to destroy, 1 to forget.",
    ] {
        assert!(p.stdout.contains(line), "{line:?} in:\n{}", p.stdout);
    }
    let a = f.ok(&["apply", "p.plan"], 0);
    assert!(
        a.stdout.contains("0 added, 0 changed, 1 destroyed"),
        "{}",
        a.stdout
    );
    assert_eq!(f.ok(&["state", "list"], 0).stdout, "");
    let again = f.ok(&["plan"], 0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
}

#[test]
fn module_calls_pass_provider_configurations_with_providers() {
    let f = Fixture::new(
        r#"
provider "test" {
  store = "@DIR@/east"
}
provider "test" {
  alias = "west"
  store = "@DIR@/west"
}
module "west" {
  source    = "./m"
  providers = { test = test.west }
}
module "default" {
  source = "./m"
}
"#,
    );
    f.write(
        "m/main.tf",
        "resource \"test_instance\" \"x\" {\n  name = \"x\"\n}\nmodule \"inner\" {\n  source = \"./inner\"\n}\n",
    );
    f.write(
        "m/inner/main.tf",
        "resource \"test_instance\" \"y\" {\n  name = \"y\"\n}\n",
    );
    f.ok(&["apply", "-auto-approve"], 0);
    let state = f.state_json();
    let providers: Vec<(String, String)> = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_string(),
                r["provider"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        providers,
        [
            (
                "module.default.module.inner.test_instance.y".to_string(),
                "provider.test".to_string()
            ),
            (
                "module.default.test_instance.x".to_string(),
                "provider.test".to_string()
            ),
            // Passed on to the module's own child too.
            (
                "module.west.module.inner.test_instance.y".to_string(),
                "provider.test.west".to_string()
            ),
            (
                "module.west.test_instance.x".to_string(),
                "provider.test.west".to_string()
            ),
        ]
    );
    let count = |d: &str| {
        std::fs::read_dir(f.path().join(d))
            .map(|r| r.count())
            .unwrap_or(0)
    };
    assert!(
        count("west") >= 2 && count("east") >= 2,
        "objects in each store"
    );
    f.ok(&["plan", "-detailed-exitcode"], 0);
    // A configuration that is not declared is an error.
    f.write(
        "main.tf",
        "module \"west\" {\n  source    = \"./m\"\n  providers = { test = test.nowhere }\n}\n",
    );
    let r = f.ok(&["plan"], 1);
    assert!(
        r.stderr.contains("Provider configuration not present")
            && r.stderr.contains("provider.test.nowhere"),
        "{}",
        r.stderr
    );
}
