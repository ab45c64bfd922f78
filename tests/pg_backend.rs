//! `backend "pg"` end to end, against a real PostgreSQL server on loopback: two working
//! directories with no local state (two CI runners) share one state; two workspaces apply at
//! once without waiting for each other; a run killed with SIGKILL mid-apply (an apply, and an
//! env up) is finished from the other directory, which takes over its lock (its session has
//! ended) with no duplicates.

mod common;
#[path = "common/postgres.rs"]
mod postgres;

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::Fixture;

/// A configuration on the pg backend whose test objects live in `cloud` (shared by the runners).
fn config(schema: &str, cloud: &Path, resources: &str) -> String {
    format!(
        r#"
terraform {{
  backend "pg" {{
    schema_name = "{schema}"
  }}
}}

provider "test" {{
  store = "{}"
}}
{resources}"#,
        cloud.display()
    )
}

fn objects(cloud: &Path) -> usize {
    std::fs::read_dir(cloud)
        .map(|r| {
            r.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

/// Runs `cmd` and kills it with SIGKILL once "inflight" exists and is settling (two objects
/// made in `cloud`).
fn kill_when_in_flight(cmd: &mut std::process::Command, cloud: &Path) {
    let mut child = cmd.stdout(std::process::Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    while objects(cloud) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the in-flight object was never made"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

fn conn() -> String {
    postgres::server().conn_str()
}

#[test]
fn two_runners_share_one_state_and_workspaces_apply_at_once() {
    let schema = postgres::fresh_schema("runners");
    let cloud = tempfile::tempdir().unwrap();
    let tf = config(
        &schema,
        cloud.path(),
        r#"
resource "test_instance" "a" {
  name       = "a-${terraform.workspace}"
  latency_ms = 500
}

output "name" {
  value = test_instance.a.name
}
"#,
    );
    let (one, two) = (Fixture::new(&tf), Fixture::new(&tf));
    let c = conn();
    let env = [("PG_CONN_STR", OsStr::new(&c))];
    let r = one.ok_with_env(&["init"], &env, 0);
    assert!(
        r.stdout.contains(&format!(
            "Initialized state database {} (schema {schema})",
            c
        )),
        "{}",
        r.stdout
    );
    one.ok_with_env(&["apply", "-auto-approve"], &env, 0);
    assert!(!one.path().join("terrane.state.db").exists());

    // The other runner sees the same state: the output, and nothing to do.
    let r = two.ok_with_env(&["output", "-raw", "name"], &env, 0);
    assert_eq!(r.stdout, "a-default");
    two.ok_with_env(&["plan", "-detailed-exitcode"], &env, 0);
    assert!(!two.path().join("terrane.state.db").exists());

    // Two workspaces at once, one from each directory: neither waits for the other's lock.
    let spawn = |f: &Fixture, ws: &str| {
        f.cmd(&["apply", "-auto-approve", "-lock-timeout=0s"])
            .env("PG_CONN_STR", &c)
            .env("TF_WORKSPACE", ws)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (x, y) = (spawn(&one, "blue"), spawn(&two, "green"));
    for child in [x, y] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(objects(cloud.path()), 3);
    let r = two.ok_with_env(&["workspace", "list"], &env, 0);
    for ws in ["blue", "default", "green"] {
        assert!(r.stdout.contains(ws), "{}", r.stdout);
    }

    // One destroys what the other made.
    two.ok_with_env(&["destroy", "-auto-approve"], &env, 0);
    let r = one.ok_with_env(&["plan", "-detailed-exitcode"], &env, 2);
    assert!(r.stdout.contains("1 to add"), "{}", r.stdout);
}

#[test]
fn a_run_killed_mid_apply_is_finished_from_another_directory() {
    let schema = postgres::fresh_schema("killed");
    let cloud = tempfile::tempdir().unwrap();
    let tf = config(
        &schema,
        cloud.path(),
        r#"
resource "test_instance" "done" {
  name = "done"
}

resource "test_instance" "inflight" {
  name      = "inflight"
  value     = test_instance.done.id
  settle_ms = 60000
}

resource "test_instance" "later" {
  value = test_instance.inflight.id
}
"#,
    );
    let (first, second) = (Fixture::new(&tf), Fixture::new(&tf));
    let c = conn();
    let env = [("PG_CONN_STR", OsStr::new(&c))];
    kill_when_in_flight(
        first
            .cmd(&["apply", "-auto-approve"])
            .env("PG_CONN_STR", &c),
        cloud.path(),
    );

    // From the other directory: the dead run's lock is taken over, its in-flight object found
    // by its token and recorded, and only what is left is planned.
    let r = second.ok_with_env(
        &["plan", "-detailed-exitcode", "-lock-timeout=30s"],
        &env,
        2,
    );
    assert!(
        r.stderr.contains("Took over a stale state lock"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("is now recorded in state"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        r.stdout
    );
    let r = second.ok_with_env(&["apply", "-auto-approve"], &env, 0);
    assert!(r.stdout.contains("1 added"), "{}", r.stdout);
    assert_eq!(objects(cloud.path()), 3, "no duplicates");
    first.ok_with_env(&["plan", "-detailed-exitcode"], &env, 0);
    first.ok_with_env(&["destroy", "-auto-approve"], &env, 0);
    assert_eq!(objects(cloud.path()), 0);
}

#[test]
fn backend_mistakes_are_errors_at_the_block() {
    let f = Fixture::new(
        r#"
terraform {
  backend "pg" {
    conn_string = "postgres://x"
  }
}
"#,
    );
    let r = f.ok(&["plan"], 1);
    assert!(
        r.stderr.contains("Unsupported backend argument"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("main.tf:3"), "{}", r.stderr);
    let f = Fixture::new(
        r#"
terraform {
  backend "pg" {}
}
"#,
    );
    let r = f.run_with_env(&["plan"], &[("PG_CONN_STR", OsStr::new(""))]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("needs conn_str"), "{}", r.stderr);
    // A backend Terrane lacks is a warning; the state stays in the local file.
    let f = Fixture::new(
        r#"
terraform {
  backend "s3" {
    bucket = "state"
  }
}
resource "terraform_data" "x" {}
"#,
    );
    let r = f.ok(&["apply", "-auto-approve"], 0);
    assert!(r.stderr.contains("Backend not supported"), "{}", r.stderr);
    assert!(f.path().join("terrane.state.db").exists());
}

#[test]
fn init_takes_the_ci_flags_and_records_backend_config_for_the_commands_after_it() {
    let schema = postgres::fresh_schema("ci");
    let f = Fixture::new(
        r#"
terraform {
  backend "pg" {}
}

resource "terraform_data" "x" {
  input = "one"
}
"#,
    );
    f.write("backend.hcl", &format!("schema_name = \"{schema}\"\n"));
    let c = conn();
    let cs = format!("-backend-config=conn_str={c}");
    let no_env = [("PG_CONN_STR", OsStr::new(""))];
    let r = f.ok_with_env(
        &[
            "init",
            "-input=false",
            "-no-color",
            &cs,
            "-backend-config=backend.hcl",
        ],
        &no_env,
        0,
    );
    assert!(
        r.stdout.contains(&format!("(schema {schema})")),
        "{}",
        r.stdout
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(f.path().join(".terrane/backend.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(m & 0o777, 0o600);
    }
    // The commands after init use what it recorded, with no environment.
    f.ok_with_env(&["apply", "-auto-approve"], &no_env, 0);
    f.ok_with_env(&["plan", "-detailed-exitcode"], &no_env, 0);
    assert!(!f.path().join("terrane.state.db").exists());
    // A setting the backend does not take, given at init, is an error at the block.
    let r = f.run_with_env(&["init", "-backend-config=bucket=x"], &no_env);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("not \"bucket\""), "{}", r.stderr);
}

#[test]
fn moving_a_local_state_to_pg_needs_migrate_state_and_copies_every_workspace() {
    let schema = postgres::fresh_schema("migrate");
    let resources = r#"
resource "terraform_data" "x" {
  input = terraform.workspace
}

output "ws" {
  value = terraform_data.x.output
}
"#;
    let f = Fixture::new(resources);
    f.ok(&["apply", "-auto-approve"], 0);
    f.ok(&["workspace", "new", "staging"], 0);
    f.ok(&["apply", "-auto-approve"], 0);
    f.ok(&["workspace", "select", "default"], 0);
    let pg = format!(
        "terraform {{\n  backend \"pg\" {{\n    schema_name = \"{schema}\"\n  }}\n}}\n{resources}"
    );
    f.write("main.tf", &pg);
    let c = conn();
    let env = [("PG_CONN_STR", OsStr::new(&c))];
    // Without a choice, init stops: the objects are recorded in the local file.
    let r = f.ok_with_env(&["init", "-input=false"], &env, 1);
    assert!(
        r.stderr.contains("Backend configuration changed"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("-migrate-state"), "{}", r.stderr);
    let r = f.ok_with_env(&["init", "-input=false", "-migrate-state"], &env, 0);
    assert!(
        r.stdout
            .contains("Copied 2 workspace(s), 2 resource instance(s), from "),
        "{}",
        r.stdout
    );
    // From a directory of its own, the state is in PostgreSQL: both workspaces, no changes.
    let other = Fixture::new(&pg);
    other.ok_with_env(&["plan", "-detailed-exitcode"], &env, 0);
    let r = other.ok_with_env(&["output", "-raw", "ws"], &env, 0);
    assert_eq!(r.stdout, "default");
    let staging = [
        ("PG_CONN_STR", OsStr::new(&c)),
        ("TF_WORKSPACE", OsStr::new("staging")),
    ];
    let r = other.ok_with_env(&["output", "-raw", "ws"], &staging, 0);
    assert_eq!(r.stdout, "staging");
    // Migrating again would overwrite: refused, nothing copied.
    std::fs::remove_file(f.path().join(".terrane/backend.json")).unwrap();
    let r = f.ok_with_env(&["init", "-migrate-state"], &env, 1);
    assert!(
        r.stderr.contains("already has state in the new backend"),
        "{}",
        r.stderr
    );
    // -reconfigure takes the new backend as it is.
    f.ok_with_env(&["init", "-reconfigure"], &env, 0);
    f.ok_with_env(&["plan", "-detailed-exitcode"], &env, 0);
}

#[test]
fn an_environment_reads_the_shared_workspace_through_terraform_remote_state() {
    let schema = postgres::fresh_schema("remote");
    let c = conn();
    let env = [("PG_CONN_STR", OsStr::new(&c))];
    // The shared stage (the seed's basic-infra): a repository and a role, in workspace "shared".
    let shared = Fixture::new(&format!(
        r#"
terraform {{
  backend "pg" {{
    schema_name = "{schema}"
  }}
}}

resource "terraform_data" "repo" {{
  input = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
}}

output "repository_url" {{
  value = terraform_data.repo.output
}}

output "token" {{
  value     = "s3cret-token-value"
  sensitive = true
}}
"#
    ));
    let in_shared = [
        ("PG_CONN_STR", OsStr::new(&c)),
        ("TF_WORKSPACE", OsStr::new("shared")),
    ];
    shared.ok_with_env(&["apply", "-auto-approve"], &in_shared, 0);

    // A branch environment, from another directory, in a workspace of its own.
    let branch = Fixture::new(&format!(
        r#"
terraform {{
  backend "pg" {{
    schema_name = "{schema}"
  }}
}}

data "terraform_remote_state" "shared" {{
  backend   = "pg"
  config    = {{ schema_name = "{schema}" }}
  workspace = "shared"
}}

data "terraform_remote_state" "later" {{
  backend   = "pg"
  config    = {{ schema_name = "{schema}" }}
  workspace = "not-applied-yet"
  defaults  = {{ url = "none" }}
}}

resource "terraform_data" "image" {{
  input = "${{data.terraform_remote_state.shared.outputs.repository_url}}:abc123"
}}

output "image" {{
  value = terraform_data.image.output
}}

output "later" {{
  value = data.terraform_remote_state.later.outputs.url
}}

output "token_length" {{
  value = length(data.terraform_remote_state.shared.outputs.token)
}}
"#
    ));
    let in_branch = [
        ("PG_CONN_STR", OsStr::new(&c)),
        ("TF_WORKSPACE", OsStr::new("automation-1a2b3c4d")),
    ];
    let r = branch.ok_with_env(&["apply", "-auto-approve"], &in_branch, 0);
    assert!(!r.stdout.contains("s3cret-token-value"), "{}", r.stdout);
    let r = branch.ok_with_env(&["output", "-raw", "image"], &in_branch, 0);
    assert_eq!(
        r.stdout,
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:abc123"
    );
    let r = branch.ok_with_env(&["output", "-raw", "later"], &in_branch, 0);
    assert_eq!(r.stdout, "none");
    let r = branch.ok_with_env(&["output", "-raw", "token_length"], &in_branch, 0);
    assert_eq!(r.stdout, "18");

    // A workspace with no state and no defaults is an error naming it.
    let typo = Fixture::new(&format!(
        r#"
data "terraform_remote_state" "shared" {{
  backend   = "pg"
  config    = {{ schema_name = "{schema}" }}
  workspace = "shraed"
}}
"#
    ));
    let r = typo.ok_with_env(&["plan"], &env, 1);
    assert!(
        r.stderr
            .contains("no state was found for workspace \"shraed\""),
        "{}",
        r.stderr
    );

    // The local backend: another directory's state file.
    let local = Fixture::new(
        r#"
output "region" {
  value = "eu-west-1"
}
"#,
    );
    local.ok(&["apply", "-auto-approve"], 0);
    let reader = Fixture::new(&format!(
        r#"
data "terraform_remote_state" "net" {{
  backend = "local"
  config  = {{ path = "{}" }}
}}

output "region" {{
  value = data.terraform_remote_state.net.outputs.region
}}
"#,
        local.path().join("terrane.state.db").display()
    ));
    reader.ok(&["apply", "-auto-approve"], 0);
    let r = reader.ok(&["output", "-raw", "region"], 0);
    assert_eq!(r.stdout, "eu-west-1");
}

#[test]
fn an_env_up_killed_mid_apply_is_finished_by_env_up_from_another_directory() {
    let schema = postgres::fresh_schema("envkill");
    let cloud = tempfile::tempdir().unwrap();
    let tf = config(
        &schema,
        cloud.path(),
        r#"
variable "env_name" {
  type = string
}

resource "test_instance" "done" {
  name = "${var.env_name}-done"
}

resource "test_instance" "inflight" {
  name      = "${var.env_name}-inflight"
  value     = test_instance.done.id
  settle_ms = 60000
}

resource "test_instance" "later" {
  value = test_instance.inflight.id
}
"#,
    );
    let (first, second) = (Fixture::new(&tf), Fixture::new(&tf));
    let c = conn();
    let env = [("PG_CONN_STR", OsStr::new(&c))];
    let up = [
        "env",
        "up",
        "--branch",
        "dev/feature-kill",
        "-auto-approve",
        "-input=false",
    ];
    kill_when_in_flight(first.cmd(&up).env("PG_CONN_STR", &c), cloud.path());

    // The same env up from another runner takes the dead run's lock over and finishes.
    let mut again = up.to_vec();
    again.push("-lock-timeout=30s");
    let r = second.ok_with_env(&again, &env, 0);
    assert!(
        r.stderr.contains("Took over a stale state lock"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("is now recorded in state"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("1 added"), "{}", r.stdout);
    assert_eq!(objects(cloud.path()), 3, "no duplicates");
    let name = format!(
        "automation-{}",
        terrane_engine::environments::sha8("dev/feature-kill")
    );
    let r = second.ok_with_env(&["env", "list", "-json"], &env, 0);
    let list: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(list[0]["name"], name.as_str());
    assert_eq!(list[0]["objects"], 3);
    second.ok_with_env(
        &[
            "env",
            "down",
            "--branch",
            "dev/feature-kill",
            "-auto-approve",
        ],
        &env,
        0,
    );
    assert_eq!(objects(cloud.path()), 0);
}
