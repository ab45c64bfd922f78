//! WASM plugins through the `terrane` binary: `required_providers` with a plugin source,
//! `terrane init` and the lock file, a changed hash, an unsupported contract version, and the
//! misbehaving plugin contained in the middle of an apply.

mod common;

use std::ffi::OsStr;

use common::Fixture;

const RANDOM: &str = r#"
terraform {
  required_providers {
    random = {
      source  = "./plugins/random.wasm"
      version = "~> 0.1"
    }
  }
}

provider "random" {
  seed = 7
}

resource "random_pet" "server" {
  length = 2
}

resource "random_password" "db" {
  length  = 20
  special = false
}

resource "terraform_data" "uses" {
  input = "${random_pet.server.id}:${length(random_password.db.result)}"
}

output "name" {
  value = random_pet.server.id
}

output "password" {
  value     = random_password.db.result
  sensitive = true
}
"#;

fn random_fixture() -> Fixture {
    let f = Fixture::new(RANDOM);
    f.add_plugin("random");
    f
}

#[test]
fn a_plugin_is_used_only_after_init_records_its_hash() {
    let f = random_fixture();
    let r = f.ok(&["plan"], 1);
    assert!(r.stderr.contains("Plugin not trusted"), "{}", r.stderr);
    assert!(r.stderr.contains("run `terrane init`"), "{}", r.stderr);
    assert!(
        r.stderr.contains("main.tf:4"),
        "points at the entry: {}",
        r.stderr
    );

    let r = f.ok(&["init"], 0);
    assert!(
        r.stdout
            .contains("- random: plugins/random.wasm random v0.1.0 (contract 0.1.1), sha256 "),
        "{}",
        r.stdout
    );
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.path().join("terrane.lock.json")).unwrap())
            .unwrap();
    let sha = lock["plugins"]["plugins/random.wasm"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(sha.len(), 64);

    let r = f.ok(&["apply", "-auto-approve"], 0);
    assert!(
        r.stdout.contains("3 added, 0 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    let shown = f.state_json().to_string();
    let st = f.ok(&["output", "-raw", "password"], 0).stdout;
    assert_eq!(st.len(), 20, "{st}");
    assert!(
        st.chars().all(|c| c.is_ascii_alphanumeric()),
        "special = false: {st}"
    );
    assert!(
        !r.all().contains(&st),
        "the password never shows in apply output"
    );
    assert!(
        !shown.contains(&st),
        "nor in show -json (it is sensitive in the plugin's schema)"
    );
    let name = f.ok(&["output", "-raw", "name"], 0).stdout;
    assert_eq!(name.split('-').count(), 2, "{name}");

    // Nothing to do on the next plan.
    f.ok(&["plan", "-detailed-exitcode"], 0);

    // Another file under the same name is refused until init runs again.
    std::fs::copy(
        common::plugins::plugin("misbehave"),
        f.path().join("plugins/random.wasm"),
    )
    .unwrap();
    let r = f.ok(&["plan"], 1);
    assert!(
        r.stderr
            .contains("has changed since `terrane init` recorded it"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&sha),
        "names the recorded hash: {}",
        r.stderr
    );
    std::fs::copy(
        common::plugins::plugin("random"),
        f.path().join("plugins/random.wasm"),
    )
    .unwrap();
    f.ok(&["plan", "-detailed-exitcode"], 0);

    let r = f.ok(&["destroy", "-auto-approve"], 0);
    assert!(r.stdout.contains("3 destroyed"), "{}", r.stdout);
}

#[test]
fn a_version_constraint_the_plugin_does_not_meet_is_refused() {
    let f = Fixture::new(&RANDOM.replace("~> 0.1", ">= 2.0"));
    f.add_plugin("random");
    let r = f.ok(&["init"], 1);
    assert!(
        r.stderr.contains("Plugin version does not match"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("is version 0.1.0, but the configuration requires \">= 2.0\""),
        "{}",
        r.stderr
    );
}

#[test]
fn a_plugin_for_an_unsupported_contract_is_refused_at_init() {
    let f = Fixture::new(
        r#"
terraform {
  required_providers {
    future = { source = "./plugins/future.wasm" }
  }
}
"#,
    );
    f.add_plugin("future");
    let r = f.ok(&["init"], 1);
    assert!(r.stderr.contains("Plugin refused"), "{}", r.stderr);
    assert!(r.stderr.contains("terrane:provider@0.2.0"), "{}", r.stderr);
    assert!(r.stderr.contains("it speaks 0.1.x"), "{}", r.stderr);
    assert!(r.stderr.contains("main.tf:4"), "{}", r.stderr);
    assert!(
        !f.path().join("terrane.lock.json").exists(),
        "nothing was recorded"
    );
}

#[test]
fn bad_plugin_settings_are_reported_at_the_entry() {
    let f = Fixture::new(
        r#"
terraform {
  required_providers {
    random = {
      source = "./plugins/random.wasm"
      allow  = { files = ["/etc"] }
    }
  }
}
"#,
    );
    f.add_plugin("random");
    let r = f.ok(&["init"], 1);
    assert!(
        r.stderr.contains("\"files\" is not a capability"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("main.tf:4"), "{}", r.stderr);
}

const MISBEHAVE: &str = r#"
terraform {
  required_providers {
    misbehave = {
      source = "./plugins/misbehave.wasm"
      limits = { timeout = "1s", memory = "32MiB" }
    }
    random = { source = "./plugins/random.wasm" }
  }
}

resource "misbehave_resource" "spins" {
  mode = "loop"
}

resource "misbehave_resource" "hoards" {
  mode = "alloc"
}

resource "misbehave_resource" "crashes" {
  mode = "trap"
}

resource "misbehave_resource" "phones_home" {
  mode = "http"
}

resource "misbehave_resource" "fine" {
  mode = "ok"
}

resource "terraform_data" "after_spin" {
  input = misbehave_resource.spins.id
}

resource "random_pet" "independent" {
}
"#;

#[test]
fn misbehaving_plugins_are_contained_and_the_rest_of_the_apply_goes_on() {
    let f = Fixture::new(MISBEHAVE);
    f.add_plugin("misbehave");
    f.add_plugin("random");
    f.ok(&["init"], 0);
    // With logs on, the plugin's own log lines and what it wrote to stderr (the panic) show
    // under its name.
    let log = [("TERRANE_LOG", OsStr::new("terrane_plugin_host=info"))];
    let all = f.ok_with_env(&["apply", "-auto-approve"], &log, 1).all();
    let logged = |needle: &str| {
        all.lines()
            .any(|l| l.contains("plugin=\"misbehave\"") && l.contains(needle))
    };
    assert!(logged("about to misbehave: trap"), "{all}");
    assert!(logged("deliberate panic in apply"), "{all}");
    for (addr, why) in [
        (
            "misbehave_resource.spins",
            "ran longer than its limit of 1s per call",
        ),
        (
            "misbehave_resource.hoards",
            "more memory than its limit of 32 MiB",
        ),
        ("misbehave_resource.crashes", "crashed"),
        (
            "misbehave_resource.phones_home",
            "tried to reach 127.0.0.9, which it was not granted",
        ),
    ] {
        let line = all
            .lines()
            .find(|l| l.contains(why))
            .unwrap_or_else(|| panic!("no error {why:?} in\n{all}"));
        let _ = line;
        assert!(all.contains(addr), "{addr} in\n{all}");
    }
    assert!(all.contains("plugin \"misbehave\""), "{all}");
    assert!(all.contains("deliberate panic in apply"), "{all}");
    // The rest went on: the well-behaved resources exist, the dependent one was not touched.
    let state = f.ok(&["state", "list"], 0).stdout;
    assert!(state.contains("misbehave_resource.fine"), "{state}");
    assert!(state.contains("random_pet.independent"), "{state}");
    assert!(!state.contains("terraform_data.after_spin"), "{state}");
    assert!(!state.contains("misbehave_resource.spins"), "{state}");
    // State is intact and the next plan offers the failed ones again.
    let r = f.ok(&["plan", "-no-color"], 0);
    assert!(
        r.stdout.contains("5 to add, 0 to change, 0 to destroy"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_plugin_can_be_named_by_source_address_like_a_registry_provider() {
    // An unchanged Terraform configuration that asks for hashicorp/random is served by the
    // random plugin installed in the plugin path.
    let f = Fixture::new(&RANDOM.replace("./plugins/random.wasm", "hashicorp/random"));
    let installed = f.path().join("installed");
    std::fs::create_dir_all(installed.join("hashicorp")).unwrap();
    std::fs::copy(
        common::plugins::plugin("random"),
        installed.join("hashicorp").join("random.wasm"),
    )
    .unwrap();
    let run = |args: &[&str], code: i32| {
        f.ok_with_env(
            args,
            &[("TERRANE_PLUGIN_PATH", installed.as_os_str())],
            code,
        )
        .all()
    };
    let init = run(&["init"], 0);
    assert!(
        init.contains("- random: hashicorp/random random v0.1.0"),
        "{init}"
    );
    let apply = run(&["apply", "-auto-approve"], 0);
    assert!(apply.contains("3 added"), "{apply}");
    // Without the plugin installed, the provider is reported as unavailable.
    let nowhere = f.path().join("nowhere");
    let r = f.ok_with_env(
        &["plan"],
        &[("TERRANE_PLUGIN_PATH", nowhere.as_os_str())],
        1,
    );
    assert!(r.stderr.contains("Provider not available"), "{}", r.stderr);
}
