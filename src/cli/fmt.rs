//! `terrane fmt`: finds the files, has the engine lay each out (`terrane_engine::fmt`), and
//! writes, lists or diffs them.

use std::path::{Path, PathBuf};

use super::{err, CmdResult};

/// The files `fmt` takes in `dir`: *.tf, *.tfvars, *.tftest.hcl and *.tfmock.hcl, in name order
/// (subdirectories too with `recursive`, but not `.terraform`-like hidden ones).
fn files_in(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            if recursive {
                files_in(&p, recursive, out)?;
            }
        } else if name.ends_with(".tf")
            || name.ends_with(".tfvars")
            || name.ends_with(".tftest.hcl")
            || name.ends_with(".tfmock.hcl")
        {
            out.push(p);
        }
    }
    Ok(())
}

/// Exit code: 0, or 3 with `check` when a file is not formatted (as Terraform's).
pub fn run(paths: &[PathBuf], check: bool, diff: bool, recursive: bool) -> CmdResult {
    let mut files = Vec::new();
    let targets = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    for t in &targets {
        if t.is_dir() {
            files_in(t, recursive, &mut files)
                .map_err(|e| err("Failed to read directory", format!("{}: {e}", t.display())))?;
        } else if t.is_file() {
            files.push(t.clone());
        } else {
            return Err(err(
                "No file or directory at that path",
                format!("{} does not exist.", t.display()),
            ));
        }
    }
    let mut unformatted = false;
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| err("Failed to read file", format!("{}: {e}", f.display())))?;
        let shown = f.strip_prefix("./").unwrap_or(&f).display().to_string();
        terrane_engine::config::check_syntax(&shown, &text)?;
        let formatted = terrane_engine::fmt::format(&text);
        if formatted == text {
            continue;
        }
        unformatted = true;
        println!("{shown}");
        if diff {
            print!("{}", line_diff(&shown, &text, &formatted));
        }
        if !check {
            std::fs::write(&f, &formatted)
                .map_err(|e| err("Failed to write file", format!("{}: {e}", f.display())))?;
        }
    }
    Ok(if check && unformatted { 3 } else { 0 })
}

/// The lines that differ, `-` before and `+` after, each run with its line number.
fn line_diff(name: &str, old: &str, new: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = format!("--- old/{name}\n+++ new/{name}\n");
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        out.push_str(&format!("@@ line {} @@\n", i + 1));
        while i < n || j < m {
            if i < n && j < m && a[i] == b[j] {
                break;
            }
            if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
                out.push_str(&format!("+{}\n", b[j]));
                j += 1;
            } else {
                out.push_str(&format!("-{}\n", a[i]));
                i += 1;
            }
        }
    }
    out
}
