//! A sensitive value, and every value a provider computed from it, never appears in what people
//! read: plan, apply, show, state show, history, debug logs and errors. Only naming an output,
//! `-raw` and `-json` reveal it, as in Terraform.

mod common;

use common::Fixture;

const SECRET: &str = "Tr0ub4dor-and-3";

const MAIN: &str = r#"
provider "test" {
  store = "@DIR@/cloud"
}

variable "db_password" {
  type      = string
  sensitive = true
}

resource "terraform_data" "wrapped" {
  input = { password = var.db_password, user = "app" }
}

resource "terraform_data" "prefixed" {
  input = "prefix-${var.db_password}"
}

resource "test_instance" "db" {
  name  = "db"
  value = terraform_data.prefixed.output
}

resource "null_resource" "uses" {
  triggers = { conn = "postgres://app:${var.db_password}@db" }
  provisioner "local-exec" {
    command = "echo connecting"
  }
}

output "conn" {
  value     = "postgres://app:${var.db_password}@db"
  sensitive = true
}
"#;

fn env() -> Vec<(&'static str, std::ffi::OsString)> {
    vec![("TF_VAR_db_password", SECRET.into())]
}

fn run(f: &Fixture, args: &[&str], code: i32) -> common::Run {
    let e = env();
    let e: Vec<(&str, &std::ffi::OsStr)> = e.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    f.ok_with_env(args, &e, code)
}

fn assert_hidden(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET),
        "{what} shows the sensitive value:\n{text}"
    );
}

#[test]
fn sensitive_values_and_values_computed_from_them_never_appear() {
    let f = Fixture::new(MAIN);
    let p = run(&f, &["plan"], 0);
    assert_hidden("plan", &p.all());
    assert!(p.stdout.contains("(sensitive value)"), "{}", p.stdout);

    let log = {
        let e = env();
        let mut e: Vec<(&str, &std::ffi::OsStr)> =
            e.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
        let debug = std::ffi::OsString::from("debug");
        e.push(("TERRANE_LOG", debug.as_os_str()));
        f.ok_with_env(&["apply", "-auto-approve"], &e, 0)
    };
    assert_hidden("apply (with debug log)", &log.all());
    assert!(
        log.stderr.contains("provider call") && log.stderr.contains("(sensitive value)"),
        "the debug log does not show the masked configuration:\n{}",
        log.stderr
    );

    // State knows which attributes are sensitive, including those the provider computed from
    // the secret (terraform_data's output).
    let st = f.state_json();
    for r in st["resources"].as_array().unwrap() {
        if r["address"]
            .as_str()
            .unwrap()
            .starts_with("terraform_data.")
        {
            assert_eq!(r["values"]["input"], "(sensitive value)", "{r}");
            assert_eq!(r["values"]["output"], "(sensitive value)", "{r}");
        }
    }
    let show = run(&f, &["show"], 0);
    assert_hidden("show", &show.all());
    assert!(show.stdout.contains("(sensitive value)"), "{}", show.stdout);
    for addr in [
        "terraform_data.wrapped",
        "terraform_data.prefixed",
        "test_instance.db",
        "null_resource.uses",
    ] {
        let s = run(&f, &["state", "show", addr], 0);
        assert_hidden(&format!("state show {addr}"), &s.all());
    }
    let h = run(&f, &["history"], 0);
    assert_hidden("history", &h.all());
    let o = run(&f, &["output"], 0);
    assert_hidden("output", &o.all());

    // A no-change plan and a changed one that shows the attributes again.
    let p = run(&f, &["plan"], 0);
    assert_hidden("no-change plan", &p.all());
    let e = [(
        "TF_VAR_db_password",
        std::ffi::OsStr::new("another-s3cret-value"),
    )];
    let p = f.ok_with_env(&["plan"], &e, 0);
    assert_hidden("plan of a changed secret", &p.all());
    assert!(!p.all().contains("another-s3cret-value"), "{}", p.all());

    // An error that quotes the value.
    let bad = MAIN.replace(
        "resource \"terraform_data\" \"prefixed\" {",
        "resource \"terraform_data\" \"broken\" {\n  input = tonumber(var.db_password)\n}\nresource \"terraform_data\" \"prefixed\" {",
    );
    f.write("main.tf", &bad);
    let r = run(&f, &["plan"], 1);
    assert_hidden("an error", &r.all());

    // Only asking for it by name, -raw or -json reveals it.
    f.write("main.tf", MAIN);
    let raw = run(&f, &["output", "-raw", "conn"], 0);
    assert_eq!(raw.stdout, format!("postgres://app:{SECRET}@db"));
    let j = run(&f, &["output", "-json"], 0);
    assert!(j.stdout.contains(SECRET));
}
