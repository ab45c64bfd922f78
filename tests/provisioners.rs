//! `provisioner "local-exec"` through the binary: environment and `self`, output streamed
//! under the resource's address, a failing command taints the resource and holds back its
//! dependents, `on_failure = continue`, `when = destroy`, and configuration mistakes.

mod common;

use common::{scrub, Fixture};

fn read(f: &Fixture, name: &str) -> String {
    std::fs::read_to_string(f.path().join(name)).unwrap_or_default()
}

#[test]
fn local_exec_runs_after_create_with_environment_and_self_and_streams_its_output() {
    let f = Fixture::new(
        r#"
variable "greeting" {
  default = "hello"
}

resource "terraform_data" "source" {
  input = "from another resource"
}

resource "null_resource" "app" {
  triggers = { release = "1" }
  provisioner "local-exec" {
    command     = "echo \"$GREETING $WHO id=${self.id} release=${self.triggers.release}\" > created.txt; echo line one; echo line two >&2"
    environment = {
      GREETING = var.greeting
      WHO      = terraform_data.source.output
    }
  }
  provisioner "local-exec" {
    command     = "pwd > where.txt"
    working_dir = "sub"
    interpreter = ["/bin/bash", "-c"]
  }
}
"#,
    );
    std::fs::create_dir(f.path().join("sub")).unwrap();
    let r = f.ok(&["apply", "-auto-approve"], 0);
    let id = f.ok(&["state", "show", "null_resource.app"], 0).stdout;
    let created = read(&f, "created.txt");
    assert!(
        created.starts_with("hello from another resource id="),
        "{created}"
    );
    assert!(created.trim_end().ends_with("release=1"), "{created}");
    let id_value = created
        .split("id=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(
        id.contains(id_value),
        "self.id is the new object's id: {id}"
    );
    assert!(
        r.stdout
            .contains("null_resource.app (local-exec): line one"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("null_resource.app (local-exec): line two"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("null_resource.app (local-exec): Executing: [\"/bin/sh\", \"-c\", "),
        "{}",
        r.stdout
    );
    assert!(read(&f, "sub/where.txt").trim_end().ends_with("/sub"));

    // Not on update or no-op: only creation-time.
    std::fs::remove_file(f.path().join("created.txt")).unwrap();
    f.ok(&["apply", "-auto-approve", "-var", "greeting=hi"], 0);
    assert_eq!(read(&f, "created.txt"), "");
}

#[test]
fn a_failing_command_taints_the_resource_and_holds_back_its_dependents() {
    let f = Fixture::new(
        r#"
resource "null_resource" "migrate" {
  provisioner "local-exec" {
    command = "echo applying >&2; echo 'relation users does not exist' >&2; test -e ok || exit 3"
  }
}

resource "terraform_data" "app" {
  input      = "after migrations"
  depends_on = [null_resource.migrate]
}

resource "terraform_data" "other" {
  input = "independent"
}

resource "null_resource" "optional" {
  provisioner "local-exec" {
    command    = "exit 5"
    on_failure = continue
  }
}
"#,
    );
    let r = f.ok(&["apply", "-auto-approve"], 1);
    insta::assert_snapshot!("provisioner_failure", scrub(&r.stderr, f.path()));
    let all = r.all();
    assert!(
        all.contains("local-exec provisioner error: \"echo applying >&2; echo 'relation users does not exist' >&2; test -e ok || exit 3\" ended with exit status 3"),
        "{all}"
    );
    assert!(all.contains("relation users does not exist"), "{all}");
    assert!(all.contains("on_failure = continue: going on"), "{all}");
    let state = f.ok(&["state", "list"], 0).stdout;
    assert!(state.contains("terraform_data.other"), "{state}");
    assert!(state.contains("null_resource.optional"), "{state}");
    assert!(!state.contains("terraform_data.app"), "{state}");
    let plan = f.ok(&["plan"], 0).stdout;
    assert!(
        plan.contains("null_resource.migrate is tainted, so must be replaced"),
        "{plan}"
    );

    // Fixed: the next apply replaces the tainted object, runs the command again, goes on.
    std::fs::write(f.path().join("ok"), "").unwrap();
    let r = f.ok(&["apply", "-auto-approve"], 0);
    assert!(
        r.stdout.contains("2 added, 0 changed, 1 destroyed"),
        "{}",
        r.stdout
    );
}

#[test]
fn destroy_time_provisioners_run_before_the_object_goes_and_a_failure_keeps_it() {
    let f = Fixture::new(
        r#"
variable "fail_destroy" {
  default = "no"
}

resource "null_resource" "registration" {
  triggers = {
    name         = "svc-a"
    fail_destroy = var.fail_destroy
  }
  provisioner "local-exec" {
    when    = destroy
    command = "test \"${self.triggers.fail_destroy}\" = no || exit 4; echo deregistered ${self.triggers.name} >> log.txt"
  }
  provisioner "local-exec" {
    command = "echo registered ${self.triggers.name} >> log.txt"
  }
}
"#,
    );
    f.ok(&["apply", "-auto-approve"], 0);
    assert_eq!(read(&f, "log.txt"), "registered svc-a\n");
    // A replace destroys the old object: its destroy provisioner runs first.
    f.ok(&["apply", "-auto-approve", "-var", "fail_destroy=yes"], 0);
    assert_eq!(
        read(&f, "log.txt"),
        "registered svc-a\nderegistered svc-a\nregistered svc-a\n"
    );
    // Now the destroy provisioner fails: the object stays in state.
    let r = f.ok(&["destroy", "-auto-approve", "-var", "fail_destroy=yes"], 1);
    assert!(r.all().contains("ended with exit status 4"), "{}", r.all());
    assert!(f
        .ok(&["state", "list"], 0)
        .stdout
        .contains("null_resource.registration"));
    // A destroy provisioner may read only self, count, each and path.
    let g = Fixture::new(
        r#"
variable "x" {
  default = "a"
}
resource "null_resource" "r" {
  provisioner "local-exec" {
    when    = destroy
    command = "echo ${var.x}"
  }
}
"#,
    );
    let v = g.ok(&["validate"], 1);
    assert!(
        v.stderr
            .contains("Invalid reference from destroy provisioner"),
        "{}",
        v.stderr
    );
    assert!(v.stderr.contains("main.tf:8"), "{}", v.stderr);
}

#[test]
fn provisioner_mistakes_are_reported_with_their_line() {
    let f = Fixture::new(
        r#"
resource "null_resource" "a" {
  provisioner "remote-exec" {
    inline = ["true"]
  }
}

resource "null_resource" "b" {
  provisioner "local-exec" {
    command    = "true"
    on_failure = retry
    shell      = "bash"
  }
}

resource "null_resource" "c" {
  provisioner "local-exec" {
    interpreter = ["/bin/sh", "-c"]
  }
}
"#,
    );
    let r = f.ok(&["validate"], 1);
    insta::assert_snapshot!("provisioner_mistakes", scrub(&r.stderr, f.path()));
    let e = &r.stderr;
    assert!(e.contains("Unsupported provisioner"), "{e}");
    assert!(e.contains("main.tf:3"), "{e}");
    assert!(e.contains("Invalid \"on_failure\" keyword"), "{e}");
    assert!(e.contains("main.tf:11"), "{e}");
    assert!(
        e.contains("An argument named \"shell\" is not expected"),
        "{e}"
    );
    assert!(e.contains("main.tf:12"), "{e}");
    assert!(e.contains("The argument \"command\" is required"), "{e}");
    assert!(e.contains("main.tf:17"), "{e}");
}

#[test]
fn a_command_that_reads_a_secret_shows_neither_itself_nor_its_output() {
    let f = Fixture::new(
        r#"
variable "token" {
  default   = "s3cr3t-token"
  sensitive = true
}

resource "null_resource" "login" {
  provisioner "local-exec" {
    command = "echo using ${var.token}; exit 2"
  }
}
"#,
    );
    let r = f.ok(&["apply", "-auto-approve"], 1);
    let all = r.all();
    assert!(!all.contains("s3cr3t-token"), "{all}");
    assert!(
        all.contains("Executing: (command and output suppressed: they use a sensitive value)"),
        "{all}"
    );
    assert!(
        all.contains("local-exec provisioner error: the command ended with exit status 2"),
        "{all}"
    );
}
