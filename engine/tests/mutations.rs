//! Random mutations of the repository's own configurations: loading, validating and planning
//! must never panic or hang, whatever the input. Deterministic by default (a fixed seed);
//! `TERRANE_MUTATION_SEED` and `TERRANE_MUTATION_CASES` run other or more cases.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use terrane_core::ProviderRegistry;
use terrane_engine::{load_config, PlanOptions, Session, SessionOptions};
use terrane_state::Store;

/// One case may take this long before it counts as a hang.
const HANG: Duration = Duration::from_secs(20);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.tf` file under examples/ and modules/, plus configurations for the built-in and test
/// providers that planning goes all the way through.
fn seeds() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for top in ["examples", "modules"] {
        let mut stack = vec![repo().join(top)];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "tf") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    out.push((p.display().to_string(), text));
                }
            }
        }
    }
    out.sort();
    out.push(("builtin".into(), BUILTIN.into()));
    out.push(("test".into(), TEST.into()));
    out
}

const BUILTIN: &str = r#"
variable "n" {
  type    = number
  default = 2
  validation {
    condition     = var.n < 10
    error_message = "n must be small."
  }
}
variable "secret" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
locals {
  names = { for i in range(var.n) : "k${i}" => "v${i}" }
}
resource "terraform_data" "a" {
  count = var.n
  input = { index = count.index, secret = var.secret }
}
resource "terraform_data" "b" {
  for_each = local.names
  input    = "${each.key}=${each.value} ${terraform_data.a[0].id}"
  lifecycle {
    create_before_destroy = true
    replace_triggered_by  = [terraform_data.a[0]]
  }
}
resource "null_resource" "gate" {
  triggers = { v = jsonencode([for k, v in terraform_data.b : v.output]) }
  provisioner "local-exec" {
    command = "echo ${self.id}"
    when    = destroy
  }
}
output "first" {
  value = terraform_data.a[0].output
  sensitive = true
}
output "upper" {
  value = upper(join(",", keys(local.names)))
}
"#;

const TEST: &str = r#"
resource "test_instance" "base" {
  name = "base-é-${"x"}"
  tags = { env = "dev" }
}
resource "test_instance" "web" {
  count = 2
  name  = "${test_instance.base.name}-${count.index}"
  depends_on = [test_instance.base]
}
data "test_data" "d" {
  input = test_instance.web[*].name
}
"#;

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "${",
    "%{",
    "}}",
    "\n",
    "#",
    "//",
    "/*",
    "*/",
    "=",
    ".",
    "*",
    "\\",
    ",",
    ":",
    "?",
    "<<EOT\n",
    "<<-EOT\n",
    "EOT\n",
    "\u{feff}",
    "\u{202e}",
    "é",
    "🦀",
    "\u{0}",
    "\r\n",
    "count = 3\n",
    "for_each = {}\n",
    "var.",
    "local.",
    "self.",
    "each.key",
    "count.index",
    "lifecycle {\n",
    "dynamic \"x\" {\n",
    "resource \"terraform_data\" \"z\" {\n",
    "module \"m\" {\n",
    "-1",
    "1e999",
    "null",
    "true",
    "[for x in",
    "if",
    "=>",
    "...",
    "!",
    "&&",
    "||",
    "~}",
    "%{ endif }",
    "${var.n}",
    "@",
    "$",
    "%",
];

fn char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(rng: &mut StdRng, text: &str) -> String {
    let mut s = text.to_string();
    for _ in 0..rng.gen_range(1..4) {
        let n = s.len();
        let at = char_boundary(&s, rng.gen_range(0..=n));
        let to = char_boundary(&s, (at + rng.gen_range(0..40)).min(n));
        match rng.gen_range(0..7) {
            0 => s.insert_str(at, TOKENS[rng.gen_range(0..TOKENS.len())]),
            1 => s.replace_range(at..to, ""),
            2 => {
                let piece = s[at..to].to_string();
                s.insert_str(to, &piece);
            }
            3 => s.truncate(at),
            4 => s.insert(0, '\u{feff}'),
            5 => s.insert(at, '\u{202e}'),
            _ => {
                let tok = TOKENS[rng.gen_range(0..TOKENS.len())];
                s.replace_range(at..to, tok);
            }
        }
    }
    s
}

fn registry() -> ProviderRegistry {
    let mut r = ProviderRegistry::new();
    terrane_provider_builtin::register(&mut r);
    r.register(
        "test",
        terrane_provider_test::TestProvider::shared_factory(),
    );
    r
}

/// Loads, validates and plans one configuration (everything but apply).
fn exercise(dir: &Path) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let Ok((cfg, _)) = load_config(dir) else {
            return;
        };
        let validate = SessionOptions {
            validate_only: true,
            ..Default::default()
        };
        if let Ok(mut s) = Session::new(cfg, registry(), validate) {
            let _ = s.plan(None, &PlanOptions::default()).await;
        }
        let Ok((cfg, _)) = load_config(dir) else {
            return;
        };
        let store = Store::open(&dir.join("state.db")).unwrap();
        if let Ok(mut s) = Session::new(cfg, registry(), SessionOptions::default()) {
            if s.load_state(&store).is_ok() {
                let _ = s.plan(Some(&store), &PlanOptions::default()).await;
            }
        }
    });
}

#[test]
fn mutated_configurations_never_panic_or_hang() {
    let seed: u64 = std::env::var("TERRANE_MUTATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(11);
    let cases: usize = std::env::var("TERRANE_MUTATION_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let seeds = seeds();
    assert!(
        seeds.len() > 15,
        "found only {} configurations",
        seeds.len()
    );
    let mut rng = StdRng::seed_from_u64(seed);
    // Panics are caught and reported below; the default hook would print each one as well.
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    for case in 0..cases {
        let (name, text) = &seeds[rng.gen_range(0..seeds.len())];
        let mutated = mutate(&mut rng, text);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), &mutated).unwrap();
        let (tx, rx) = mpsc::channel();
        let path = dir.path().to_path_buf();
        std::thread::spawn(move || {
            let r = std::panic::catch_unwind(|| exercise(&path));
            let _ = tx.send(r.map_err(|e| {
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            }));
        });
        match rx.recv_timeout(HANG) {
            Ok(Ok(())) => {}
            Ok(Err(msg)) => failures.push(format!(
                "case {case} (from {name}): panic: {msg}\n--- input ---\n{mutated:?}"
            )),
            Err(_) => {
                failures.push(format!("case {case} (from {name}): no answer within {HANG:?}\n--- input ---\n{mutated:?}"));
                break;
            }
        }
    }
    let _ = std::panic::take_hook();
    assert!(
        failures.is_empty(),
        "{} of {cases} mutated configurations (seed {seed}) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn a_file_that_starts_with_a_byte_order_mark_loads_like_one_without() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), format!("\u{feff}{BUILTIN}")).unwrap();
    let (cfg, warnings) = load_config(dir.path()).unwrap_or_else(|d| panic!("{d}"));
    assert!(warnings.is_empty(), "{warnings}");
    assert_eq!(cfg.root.resources.len(), 3);
    // Positions are those of the text without the mark.
    let rc = cfg.root.resources.values().find(|r| r.name == "a").unwrap();
    assert_eq!(rc.range().line, 18, "{:?}", rc.range());
}
