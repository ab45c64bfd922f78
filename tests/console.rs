//! `terrane console`: expressions read from standard input, evaluated with the configuration
//! and the state, printed as Terraform's console prints them; a mistake is an error with its
//! position, and ends a piped session with exit code 1.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::Fixture;

/// Runs `terrane console` with `input` on its standard input: (exit code, stdout, stderr).
fn console(f: &Fixture, input: &str) -> (i32, String, String) {
    let mut child = f
        .cmd(&["console"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const MAIN: &str = r#"
variable "name" {
  default = "web"
}
variable "password" {
  default   = "hunter2-secret"
  sensitive = true
}
locals {
  ports = [80, 443]
}
resource "terraform_data" "a" {
  input = { name = var.name, ports = local.ports }
}
output "greeting" {
  value = "hello ${var.name}"
}
"#;

#[test]
fn console_evaluates_with_the_configuration_and_the_state() {
    let f = Fixture::new(MAIN);
    f.ok(&["apply", "-auto-approve"], 0);
    let (code, out, err) = console(
        &f,
        "var.name\nlocal.ports\nterraform_data.a.output\nupper(var.name)\n\"multi\\nline\"\nvar.password\nlength(var.password)\n{for p in local.ports : tostring(p) => p > 100}\n",
    );
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("console_values", out);
    assert!(!out.contains("hunter2"), "{out}");

    // A mistake: its error, at its position; a piped session stops there with 1.
    let (code, out, err) = console(&f, "var.name\nvar.nope\nvar.name\n");
    assert_eq!(code, 1);
    assert_eq!(out, "\"web\"\n", "nothing after the error");
    assert!(
        err.contains("Reference to undeclared input variable") && err.contains("<console-input>:1"),
        "{err}"
    );
    let (code, _, err) = console(&f, "1 +\n");
    assert_eq!(code, 1);
    assert!(err.contains("Invalid expression"), "{err}");
}

#[test]
fn console_before_any_apply_shows_what_is_not_known_yet() {
    let f = Fixture::new(MAIN);
    let (code, out, err) = console(&f, "terraform_data.a.id\nterraform_data.a.input.name\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "(known after apply)\n\"web\"\n");
}
