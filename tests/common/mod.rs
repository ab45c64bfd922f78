//! Helpers for end-to-end tests that drive the `terrane` binary.
#![allow(dead_code)]

pub mod plugins;
pub mod terraform;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Fixture {
    pub dir: tempfile::TempDir,
    /// Where commands run (the fixture's root unless it is a copied example).
    pub work: PathBuf,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl Fixture {
    fn empty() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().to_path_buf();
        Fixture { dir, work }
    }

    pub fn new(main_tf: &str) -> Fixture {
        let f = Fixture::empty();
        f.write("main.tf", main_tf);
        f
    }

    /// A copy of `tests/fixtures/<name>`.
    pub fn from_fixture(name: &str) -> Fixture {
        let f = Fixture::empty();
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        copy_dir(&src, f.path());
        f
    }

    /// A copy of the repository's `modules/` and `examples/<name>/`, run in the example.
    pub fn from_example(name: &str) -> Fixture {
        let mut f = Fixture::empty();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        copy_dir(&root.join("modules"), &f.path().join("modules"));
        let work = f.path().join("examples").join(name);
        copy_dir(&root.join("examples").join(name), &work);
        f.work = work;
        f
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies an example plugin's `.wasm` to `plugins/<name>.wasm` in the fixture.
    pub fn add_plugin(&self, name: &str) {
        let dir = self.work.join("plugins");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(plugins::plugin(name), dir.join(format!("{name}.wasm"))).unwrap();
    }

    pub fn write(&self, name: &str, text: &str) {
        let p = self.path().join(name);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(p, text.replace("@DIR@", &self.path().display().to_string())).unwrap();
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_with(Path::new(env!("CARGO_BIN_EXE_terrane")), args)
    }

    /// [`Fixture::cmd`] with another `terrane` binary (a build of an earlier commit, for the
    /// benchmarks' before/after comparisons).
    #[allow(dead_code)]
    pub fn cmd_with(&self, bin: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(bin);
        c.args(args)
            .current_dir(&self.work)
            .env("TERRANE_ENABLE_TEST_PROVIDER", "1")
            .env("NO_COLOR", "1")
            // Plugins compile once per target directory, not once per test.
            .env("TERRANE_PLUGIN_CACHE", plugins::cache_dir())
            .env_remove("TF_WORKSPACE")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[])
    }

    /// Like [`Fixture::run`], with extra environment variables.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Run {
        let mut c = self.cmd(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out: Output = c.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    /// Runs and asserts the exit code, printing everything when it differs.
    pub fn ok(&self, args: &[&str], code: i32) -> Run {
        self.ok_with_env(args, &[], code)
    }

    /// Like [`Fixture::ok`], with extra environment variables.
    pub fn ok_with_env(&self, args: &[&str], env: &[(&str, &std::ffi::OsStr)], code: i32) -> Run {
        let r = self.run_with_env(args, env);
        assert_eq!(
            r.code, code,
            "terrane {args:?} exited {}\n--- stdout\n{}\n--- stderr\n{}",
            r.code, r.stdout, r.stderr
        );
        r
    }

    pub fn cloud_objects(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.path().join("cloud"))
            .map(|r| {
                r.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    pub fn state_json(&self) -> serde_json::Value {
        let r = self.ok(&["show", "-json"], 0);
        serde_json::from_str(&r.stdout).unwrap()
    }

    /// A second copy of the example environment, to apply in the same account as the first
    /// (with `-var=environment=...`): the account's one GitHub OIDC provider belongs to the
    /// first.
    pub fn second_environment() -> Fixture {
        let second = Fixture::from_example("environment");
        let main_tf = "examples/environment/main.tf";
        let text = std::fs::read_to_string(second.path().join(main_tf)).unwrap();
        second.write(
            main_tf,
            &text.replace(
                "  role_name = \"${var.environment}-deploy\"\n",
                "  role_name = \"${var.environment}-deploy\"\n  create_provider = false\n",
            ),
        );
        second
    }

    /// (type, id) of every managed resource in the workspace's state.
    pub fn state_objects(&self) -> std::collections::BTreeSet<(String, String)> {
        let state = self.state_json();
        let mut out = std::collections::BTreeSet::new();
        for r in state["resources"].as_array().unwrap() {
            let Some(ty) = managed_type(r["address"].as_str().unwrap()) else {
                continue;
            };
            out.insert((
                ty.to_string(),
                r["values"]["id"].as_str().unwrap().to_string(),
            ));
        }
        out
    }
}

/// (group, other group) for each rule of the state's security groups that names another group:
/// discovery reports each as an `aws_security_group_rule` of its own, revoked before either
/// group is deleted.
pub fn group_rule_pairs(state: &serde_json::Value) -> std::collections::BTreeSet<(String, String)> {
    let mut out = std::collections::BTreeSet::new();
    for r in state["resources"].as_array().unwrap() {
        if managed_type(r["address"].as_str().unwrap()) != Some("aws_security_group") {
            continue;
        }
        let own = r["values"]["id"].as_str().unwrap();
        for k in ["ingress", "egress"] {
            for rule in r["values"][k].as_array().into_iter().flatten() {
                for g in rule["security_groups"].as_array().into_iter().flatten() {
                    let g = g.as_str().unwrap();
                    if g != own {
                        out.insert((own.to_string(), g.to_string()));
                    }
                }
            }
        }
    }
    out
}

/// The resource type of a managed resource's address (None for a data source), in any module.
pub fn managed_type(mut addr: &str) -> Option<&str> {
    while let Some(rest) = addr.strip_prefix("module.") {
        addr = rest.split_once('.').unwrap().1;
    }
    if addr.starts_with("data.") {
        return None;
    }
    addr.split('.').next()
}

pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        if e.file_name().to_string_lossy().starts_with('.') {
            continue; // a local run's state directory, for instance
        }
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}

/// Sorts the live progress lines (`addr: Creating...`): concurrent operations finish in any order.
pub fn sort_progress(s: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    let is_progress = |l: &str| {
        l.contains(": ")
            && !l.starts_with(' ')
            && (l.contains("...") || l.contains(" after ") || l.contains(": Skipped"))
    };
    for line in s.lines() {
        if is_progress(line) {
            block.push(line);
            continue;
        }
        block.sort();
        out.extend(block.drain(..).map(String::from));
        out.push(line.to_string());
    }
    block.sort();
    out.extend(block.drain(..).map(String::from));
    out.join("\n") + if s.ends_with('\n') { "\n" } else { "" }
}

/// Masks what changes from run to run (ids, temp paths, timings) for snapshots.
pub fn scrub(s: &str, dir: &Path) -> String {
    let out = s.replace(&dir.display().to_string(), "[DIR]");
    // Test-provider ids: ti- and 12 hex digits.
    let mut res = String::with_capacity(out.len());
    let chars: Vec<char> = out.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i..].starts_with(&['t', 'i', '-'])
            && i + 15 <= chars.len()
            && chars[i + 3..i + 15].iter().all(|c| c.is_ascii_hexdigit())
        {
            res.push_str("ti-[ID]");
            i += 15;
            continue;
        }
        res.push(chars[i]);
        i += 1;
    }
    res
}
