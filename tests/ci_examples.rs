//! The CI examples in examples/ci/ (GitHub Actions, GitLab CI): every terrane command they run
//! exists with those flags (each checked by the binary's own argument parser, with
//! TERRANE_PARSE_ONLY=1), and together they implement the seed's rules: up on push, down when
//! the branch goes (GitLab's on_stop), gc nightly, every runner without prompts.

mod common;

use common::Fixture;

/// The terrane command lines of a CI file, with CI expressions (`${{ ... }}`, `$(...)`)
/// replaced by a placeholder value; a command inside `$(...)` is a command line of its own.
fn commands(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        // ${{ ... }} -> x
        let mut l = String::new();
        let mut rest = line;
        while let Some(i) = rest.find("${{") {
            l.push_str(&rest[..i]);
            l.push('x');
            rest = rest[i..].split_once("}}").map(|(_, r)| r).unwrap_or("");
        }
        l.push_str(rest);
        // $(inner) -> x, with inner checked too
        let mut outer = String::new();
        let mut rest = l.as_str();
        while let Some(i) = rest.find("$(") {
            outer.push_str(&rest[..i]);
            outer.push('x');
            let inner = &rest[i + 2..];
            let end = inner.find(')').unwrap_or(inner.len());
            out.extend(terrane_in(&inner[..end]));
            rest = inner.get(end + 1..).unwrap_or("");
        }
        outer.push_str(rest);
        out.extend(terrane_in(&outer));
    }
    out
}

/// The words of the terrane command in `s` (up to a pipe), quotes removed.
fn terrane_in(s: &str) -> Option<Vec<String>> {
    let start = s.find("terrane ")?;
    let cmd = s[start..].split('|').next().unwrap_or_default();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in cmd.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    Some(words.into_iter().skip(1).collect())
}

#[test]
fn every_command_of_the_ci_examples_exists_with_its_flags() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci");
    let f = Fixture::new("");
    for file in ["github-actions.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let cmds = commands(&text);
        let used: Vec<String> = cmds
            .iter()
            .map(|c| {
                c.iter()
                    .take_while(|w| !w.starts_with('-'))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        for want in ["init", "env up", "env down", "env gc"] {
            assert!(
                used.iter().any(|u| u == want),
                "{file} never runs terrane {want}: {used:?}"
            );
        }
        for c in &cmds {
            let args: Vec<&str> = c.iter().map(String::as_str).collect();
            let r = f.run_with_env(&args, &[("TERRANE_PARSE_ONLY", std::ffi::OsStr::new("1"))]);
            assert_eq!(
                r.code,
                0,
                "{file}: terrane {}\n{}",
                args.join(" "),
                r.stderr
            );
            // A runner cannot answer a prompt.
            let mutating = ["init", "up", "down", "gc"]
                .iter()
                .any(|w| args.contains(w));
            if mutating {
                assert!(
                    args.contains(&"-input=false"),
                    "{file}: terrane {} may prompt",
                    args.join(" ")
                );
            }
        }
    }
    // The parser is the real one: a flag that does not exist is refused.
    let r = f.run_with_env(
        &["env", "up", "--branch", "x", "-no-such-flag"],
        &[("TERRANE_PARSE_ONLY", std::ffi::OsStr::new("1"))],
    );
    assert_ne!(r.code, 0);
    let gitlab = std::fs::read_to_string(root.join("gitlab-ci.yml")).unwrap();
    assert!(gitlab.contains("on_stop: destroy-branches") && gitlab.contains("action: stop"));
    let github = std::fs::read_to_string(root.join("github-actions.yml")).unwrap();
    assert!(github.contains("delete:") && github.contains("schedule:"));
}
