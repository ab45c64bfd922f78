//! `taint` and `untaint`: the mark is kept in state, the next plan replaces a tainted
//! instance, and the mistakes a user makes get Terraform's errors.

mod common;

use common::Fixture;

const CONFIG: &str = r#"
resource "terraform_data" "a" {
  input = "one"
}

resource "terraform_data" "b" {
  count = 2
  input = terraform_data.a.output
}
"#;

#[test]
fn a_tainted_instance_is_replaced_by_the_next_plan_and_untaint_takes_the_mark_back() {
    let f = Fixture::new(CONFIG);
    f.ok(&["apply", "-auto-approve"], 0);
    let id_before = f.state_json();

    let r = f.ok(&["taint", "terraform_data.b[1]"], 0);
    assert_eq!(
        r.stdout.trim(),
        "Resource instance terraform_data.b[1] has been marked as tainted."
    );
    let plan = f.ok(&["plan", "-detailed-exitcode"], 2);
    assert!(
        plan.stdout
            .contains("terraform_data.b[1] is tainted, so must be replaced"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("1 to add, 0 to change, 1 to destroy"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("terraform_data.b[0] is tainted"));

    let r = f.ok(&["untaint", "terraform_data.b[1]"], 0);
    assert_eq!(
        r.stdout.trim(),
        "Resource instance terraform_data.b[1] has been successfully untainted."
    );
    f.ok(&["plan", "-detailed-exitcode"], 0);
    // Nothing else in state changed.
    assert_eq!(f.state_json(), id_before);

    // Tainted, then applied: a new object, and the mark is gone.
    f.ok(&["taint", "terraform_data.a"], 0);
    let applied = f.ok(&["apply", "-auto-approve"], 0);
    assert!(
        applied.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        applied.stdout
    );
    f.ok(&["plan", "-detailed-exitcode"], 0);
}

#[test]
fn taint_and_untaint_refuse_what_they_cannot_mark() {
    let f = Fixture::new(CONFIG);
    f.ok(&["apply", "-auto-approve"], 0);

    let r = f.ok(&["taint", "terraform_data.c"], 1);
    assert!(r.all().contains("No such resource instance"), "{}", r.all());
    assert!(
        r.all().contains("before they can be tainted"),
        "{}",
        r.all()
    );
    let r = f.ok(&["taint", "-allow-missing", "terraform_data.c"], 0);
    assert!(r.stdout.contains("nothing to do"), "{}", r.stdout);

    let r = f.ok(&["untaint", "terraform_data.a"], 1);
    assert!(
        r.all()
            .contains("Resource instance terraform_data.a is not currently tainted"),
        "{}",
        r.all()
    );

    let r = f.ok(&["taint", "data.terraform_data.none"], 1);
    assert!(
        r.all().contains("Cannot taint a data resource"),
        "{}",
        r.all()
    );

    let r = f.ok(&["taint", "not an address"], 1);
    assert!(r.all().contains("Invalid address"), "{}", r.all());

    // Nothing was marked by the refused calls.
    f.ok(&["plan", "-detailed-exitcode"], 0);
}
