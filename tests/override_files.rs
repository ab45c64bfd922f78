//! Override files: `override.tf` and `*_override.tf` merged into the blocks they name, as
//! Terraform merges them (arguments replaced by name, nested blocks by type, a resource's
//! lifecycle argument by argument, locals entry by entry); an override of a block no other
//! file declares is an error at its line.

mod common;

use common::Fixture;

const MAIN: &str = r#"
provider "test" {
  store = "@DIR@/cloud"
}
locals {
  env  = "dev"
  size = 1
}
resource "test_instance" "a" {
  name = "a-${local.env}"
  size = local.size
  tags = { team = "ops" }
  rule {
    port = 80
  }
  lifecycle {
    create_before_destroy = true
  }
}
output "name" {
  value = test_instance.a.name
}
"#;

#[test]
fn override_files_merge_into_the_blocks_they_name() {
    let f = Fixture::new(MAIN);
    f.write(
        "override.tf",
        r#"locals {
  env = "prod"
}
resource "test_instance" "a" {
  size = 3
  rule {
    port     = 443
    protocol = "tcp"
  }
  lifecycle {
    ignore_changes = [tags]
  }
}
"#,
    );
    f.write(
        "name_override.tf",
        "output \"name\" {\n  value = upper(test_instance.a.name)\n}\n",
    );
    f.ok(&["apply", "-auto-approve"], 0);
    assert_eq!(f.ok(&["output", "-raw", "name"], 0).stdout, "A-PROD");
    let state = f.state_json();
    let a = &state["resources"][0]["values"];
    assert_eq!(a["size"], 3, "{a}");
    assert_eq!(a["tags"]["team"], "ops", "kept: not overridden");
    assert_eq!(
        a["rule"].as_array().unwrap().len(),
        1,
        "the override's rule blocks replace the base's: {a}"
    );
    assert_eq!(a["rule"][0]["port"], 443);
    // Lifecycle merged: ignore_changes from the override, create_before_destroy kept.
    f.write("main.tf", &MAIN.replace("team = \"ops\"", "team = \"dev\""));
    f.ok(&["plan", "-detailed-exitcode"], 0);

    // An override of something no other file declares.
    f.write(
        "extra_override.tf",
        "\nresource \"test_instance\" \"nope\" {\n  size = 1\n}\n",
    );
    let r = f.ok(&["validate"], 1);
    assert!(
        r.stderr.contains("Missing base configuration for override")
            && r.stderr.contains("extra_override.tf:2"),
        "{}",
        r.stderr
    );
}
