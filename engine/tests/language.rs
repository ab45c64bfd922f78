//! Language and lifecycle features through the session API: modules, for_each, dynamic blocks,
//! data sources, create_before_destroy, prevent_destroy, ignore_changes, replace_triggered_by,
//! -target.

use std::path::Path;
use std::sync::Arc;

use terrane_core::{ProviderRegistry, Value};
use terrane_engine::events::{Event, RecordingSink};
use terrane_engine::{load_config, Action, Plan, PlanOptions, Session, SessionOptions};
use terrane_state::{StateStore, Store};

fn registry() -> ProviderRegistry {
    let mut r = ProviderRegistry::new();
    terrane_provider_builtin::register(&mut r);
    r.register(
        "test",
        terrane_provider_test::TestProvider::shared_factory(),
    );
    r
}

struct Env {
    dir: tempfile::TempDir,
    store: Store,
    reg: ProviderRegistry,
}

impl Env {
    fn new(files: &[(&str, &str)]) -> Env {
        let dir = tempfile::tempdir().unwrap();
        for (n, t) in files {
            let p = dir.path().join(n);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        }
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        Env {
            dir,
            store,
            reg: registry(),
        }
    }

    fn write(&self, n: &str, t: &str) {
        std::fs::write(self.dir.path().join(n), t).unwrap();
    }

    async fn plan(&self, opts: PlanOptions) -> Result<(Session, Plan), String> {
        let (cfg, _) = load_config(self.dir.path()).map_err(|d| d.to_string())?;
        let mut s = Session::new(cfg, self.reg.clone(), SessionOptions::default())
            .map_err(|d| d.to_string())?;
        s.load_state(&self.store).map_err(|d| d.to_string())?;
        let p = s
            .plan(Some(&self.store), &opts)
            .await
            .map_err(|d| d.to_string())?;
        Ok((s, p))
    }

    async fn apply(&self, opts: PlanOptions) -> (Plan, terrane_engine::ApplyOutcome, Vec<Event>) {
        let (mut s, p) = self.plan(opts).await.unwrap_or_else(|e| panic!("{e}"));
        let sink = Arc::new(RecordingSink::default());
        let (_tx, rx) = tokio::sync::watch::channel(0u8);
        let out = s.apply(&p, &self.store, 1, sink.clone(), rx).await;
        assert!(out.ok(), "{out:?}");
        let ev = sink
            .events
            .lock()
            .unwrap()
            .iter()
            .map(|(_, e)| e.clone())
            .collect();
        (p, out, ev)
    }

    fn addrs(&self) -> Vec<String> {
        self.store
            .resources("default")
            .unwrap()
            .into_iter()
            .map(|r| r.address)
            .collect()
    }

    fn attr(&self, addr: &str, a: &str) -> serde_json::Value {
        self.store.resource("default", addr).unwrap().unwrap().attrs[a].clone()
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

fn actions(p: &Plan) -> Vec<(String, Action)> {
    p.changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
        .map(|c| (c.addr.to_string(), c.action))
        .collect()
}

fn done_order(ev: &[Event]) -> Vec<String> {
    ev.iter()
        .filter_map(|e| match e {
            Event::ApplyDone { addr, action, .. } => Some(format!("{} {}", action.as_str(), addr)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn modules_pass_inputs_and_outputs() {
    let env = Env::new(&[
        (
            "main.tf",
            r#"
module "net" {
  source = "./modules/net"
  cidr   = "10.1.0.0/16"
  azs    = ["a", "b"]
}
resource "test_instance" "app" {
  value = module.net.subnet_ids
}
output "subnets" {
  value = module.net.subnet_cidrs
}
"#,
        ),
        (
            "modules/net/main.tf",
            r#"
variable "cidr" {
  type = string
}
variable "azs" {
  type = list(string)
}
resource "test_instance" "vpc" {
  name = "vpc"
  tags = { cidr = var.cidr }
}
resource "test_instance" "subnet" {
  for_each = toset(var.azs)
  name     = "subnet-${each.key}"
  value    = test_instance.vpc.id
  tags     = { cidr = cidrsubnet(var.cidr, 8, index_of(each.key)) }
}
locals {
  index = { a = 0, b = 1 }
}
output "subnet_ids" {
  value = [for s in test_instance.subnet : s.id]
}
output "subnet_cidrs" {
  value = { for k, s in test_instance.subnet : k => s.tags.cidr }
}
"#,
        ),
    ]);
    // index_of is not a function: the error names the module file and line.
    let e = env.plan(PlanOptions::default()).await.err().unwrap();
    assert!(e.contains("/modules/net/main.tf:16:47"), "{e}");
    assert_eq!(e.matches("Call to unknown function").count(), 1, "{e}");
    assert!(e.contains("Call to unknown function"), "{e}");
    env.write(
        "modules/net/main.tf",
        &std::fs::read_to_string(env.dir.path().join("modules/net/main.tf"))
            .unwrap()
            .replace("index_of(each.key)", "local.index[each.key]"),
    );
    let (p, out, _) = env.apply(PlanOptions::default()).await;
    assert_eq!(out.added, 4, "{:?}", actions(&p));
    assert_eq!(
        env.addrs(),
        vec![
            "module.net.test_instance.subnet[\"a\"]",
            "module.net.test_instance.subnet[\"b\"]",
            "module.net.test_instance.vpc",
            "test_instance.app"
        ]
    );
    let outs = env.store.outputs("default").unwrap();
    assert_eq!(
        outs[0].value,
        serde_json::json!({"a": "10.1.0.0/24", "b": "10.1.1.0/24"})
    );
    assert_eq!(
        env.attr("test_instance.app", "value")
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (_, p) = env
        .plan(PlanOptions {
            refresh: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!p.has_changes());
}

#[tokio::test]
async fn dynamic_blocks_expand() {
    let env = Env::new(&[(
        "main.tf",
        r#"
variable "ports" {
  default = [80, 443]
}
resource "test_instance" "lb" {
  dynamic "rule" {
    for_each = var.ports
    iterator = p
    content {
      port     = p.value
      protocol = p.value == 443 ? "https" : "http"
    }
  }
}
"#,
    )]);
    env.apply(PlanOptions::default()).await;
    assert_eq!(
        env.attr("test_instance.lb", "rule"),
        serde_json::json!([{"port": 80, "protocol": "http"}, {"port": 443, "protocol": "https"}])
    );
}

#[tokio::test]
async fn data_sources_are_read_at_plan_or_deferred_to_apply() {
    let env = Env::new(&[(
        "main.tf",
        r#"
data "test_data" "known" {
  input = "hello"
}
resource "test_instance" "a" {
  value = data.test_data.known.output
}
data "test_data" "later" {
  input = test_instance.a.id
}
resource "test_instance" "b" {
  value = data.test_data.later.output
}
"#,
    )]);
    let (_, p) = env.plan(PlanOptions::default()).await.unwrap();
    let a = p
        .changes
        .iter()
        .find(|c| c.addr.to_string() == "test_instance.a")
        .unwrap();
    assert_eq!(
        a.planned.as_ref().unwrap().get("value"),
        Some(&Value::from("hello"))
    );
    let later = p
        .changes
        .iter()
        .find(|c| c.addr.to_string() == "data.test_data.later")
        .unwrap();
    assert_eq!(later.reason.as_deref(), Some("will be read during apply"));
    env.apply(PlanOptions::default()).await;
    assert_eq!(
        env.attr("test_instance.b", "value"),
        env.attr("test_instance.a", "id")
    );
}

#[tokio::test]
async fn create_before_destroy_orders_replacement() {
    let cfg = |name: &str, cbd: bool| {
        format!(
            r#"
resource "test_instance" "a" {{
  name = "{name}"
  lifecycle {{
    create_before_destroy = {cbd}
  }}
}}
resource "test_instance" "user" {{
  value = test_instance.a.id
}}
"#
        )
    };
    let env = Env::new(&[("main.tf", &cfg("one", true))]);
    env.apply(PlanOptions::default()).await;
    env.write("main.tf", &cfg("two", true));
    let (_, _, ev) = env.apply(PlanOptions::default()).await;
    assert_eq!(
        done_order(&ev),
        vec![
            "replace test_instance.a",
            "update test_instance.user",
            "delete test_instance.a"
        ]
    );
    env.write("main.tf", &cfg("three", false));
    let (_, _, ev) = env.apply(PlanOptions::default()).await;
    assert_eq!(
        done_order(&ev),
        vec![
            "delete test_instance.a",
            "replace test_instance.a",
            "update test_instance.user"
        ]
    );
}

#[tokio::test]
async fn prevent_destroy_stops_the_plan() {
    let env = Env::new(&[(
        "main.tf",
        "resource \"test_instance\" \"db\" {\n  name = \"a\"\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n",
    )]);
    env.apply(PlanOptions::default()).await;
    env.write("main.tf", "resource \"test_instance\" \"db\" {\n  name = \"b\"\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n");
    let e = env.plan(PlanOptions::default()).await.err().unwrap();
    assert!(e.contains("Instance cannot be destroyed"), "{e}");
    assert!(e.contains("main.tf:1:1"), "{e}");
    let e = env
        .plan(PlanOptions {
            destroy: true,
            ..Default::default()
        })
        .await
        .err()
        .unwrap();
    assert!(e.contains("prevent_destroy"), "{e}");
}

#[tokio::test]
async fn ignore_changes_and_replace_triggered_by() {
    let cfg = |size: u32, trig: &str| {
        format!(
            r#"
resource "terraform_data" "version" {{
  input = "{trig}"
}}
resource "test_instance" "a" {{
  size = {size}
  lifecycle {{
    ignore_changes       = [size]
    replace_triggered_by = [terraform_data.version]
  }}
}}
"#
        )
    };
    let env = Env::new(&[("main.tf", &cfg(1, "v1"))]);
    env.apply(PlanOptions::default()).await;
    env.write("main.tf", &cfg(5, "v1"));
    let (_, p) = env.plan(PlanOptions::default()).await.unwrap();
    assert!(!p.has_changes(), "{:?}", actions(&p));
    env.write("main.tf", &cfg(5, "v2"));
    let (_, p) = env.plan(PlanOptions::default()).await.unwrap();
    assert_eq!(
        actions(&p),
        vec![
            ("terraform_data.version".to_string(), Action::Update),
            ("test_instance.a".to_string(), Action::Replace)
        ]
    );
}

#[tokio::test]
async fn target_limits_the_plan_to_a_resource_and_its_dependencies() {
    let env = Env::new(&[(
        "main.tf",
        "resource \"test_instance\" \"a\" {}\nresource \"test_instance\" \"b\" {\n  value = test_instance.a.id\n}\nresource \"test_instance\" \"c\" {}\n",
    )]);
    let (_, p) = env
        .plan(PlanOptions {
            targets: vec!["test_instance.b".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        actions(&p),
        vec![
            ("test_instance.a".to_string(), Action::Create),
            ("test_instance.b".to_string(), Action::Create)
        ]
    );
    env.apply(PlanOptions {
        targets: vec!["test_instance.b".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(env.addrs(), vec!["test_instance.a", "test_instance.b"]);
    // Destroying a target destroys what depends on it too.
    let (p, _, _) = env
        .apply(PlanOptions {
            destroy: true,
            targets: vec!["test_instance.a".into()],
            ..Default::default()
        })
        .await;
    assert_eq!(p.counts().destroy, 2);
    assert!(env.addrs().is_empty());
}

#[tokio::test]
async fn removed_resource_block_is_destroyed_after_its_users_move_on() {
    let env = Env::new(&[(
        "main.tf",
        "resource \"test_instance\" \"old\" {}\nresource \"test_instance\" \"user\" {\n  value = test_instance.old.id\n}\n",
    )]);
    env.apply(PlanOptions::default()).await;
    env.write(
        "main.tf",
        "resource \"test_instance\" \"user\" {\n  value = \"static\"\n}\n",
    );
    let (p, _, ev) = env.apply(PlanOptions::default()).await;
    assert_eq!(
        actions(&p),
        vec![
            ("test_instance.old".to_string(), Action::Delete),
            ("test_instance.user".to_string(), Action::Update)
        ]
    );
    assert_eq!(
        done_order(&ev),
        vec!["update test_instance.user", "delete test_instance.old"]
    );
    let _ = path(env.dir.path());
}

#[tokio::test]
async fn provider_aliases_route_resources_to_their_configuration() {
    let env = Env::new(&[]);
    let (east, west) = (env.dir.path().join("east"), env.dir.path().join("west"));
    env.write(
        "main.tf",
        &format!(
            r#"
provider "test" {{
  store = "{}"
}}
provider "test" {{
  alias = "west"
  store = "{}"
}}
resource "test_instance" "a" {{
  name = "east"
}}
resource "test_instance" "b" {{
  provider = test.west
  name     = "west"
}}
"#,
            path(&east),
            path(&west)
        ),
    );
    env.apply(PlanOptions::default()).await;
    assert_eq!(std::fs::read_dir(&east).unwrap().count(), 1);
    assert_eq!(std::fs::read_dir(&west).unwrap().count(), 1);
    let rec = env
        .store
        .resource("default", "test_instance.b")
        .unwrap()
        .unwrap();
    assert_eq!(rec.provider, "provider.test.west");
    // Destroy uses the aliased configuration recorded in state.
    env.apply(PlanOptions {
        destroy: true,
        ..Default::default()
    })
    .await;
    assert_eq!(std::fs::read_dir(&west).unwrap().count(), 0);
}
