//! The root module's `backend` block, read without the rest of the configuration.

use std::path::{Path, PathBuf};

use hcl_edit::structure::Structure;
use terrane_core::Diagnostics;

use super::super::{BackendConfig, ModuleConfig};
use super::{display_path, Loader};
use crate::source::SourceFile;

/// The root module's `backend` block alone, without loading the rest of the configuration:
/// every command that opens the state needs it, and at 100,000 resources loading everything
/// costs seconds. Only the `terraform` blocks of `dir`'s `.tf` files are parsed; a directory
/// without configuration has no backend.
pub fn load_backend(dir: &Path) -> Result<Option<BackendConfig>, Diagnostics> {
    let mut l = Loader {
        files: Vec::new(),
        diags: Diagnostics::new(),
        off: 0,
    };
    let mut m = ModuleConfig {
        dir: dir.to_path_buf(),
        ..Default::default()
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "tf") && p.is_file())
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    for p in paths {
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let file = SourceFile::new(display_path(&p), text);
        let whole = 0..file.text.len();
        let items =
            super::super::split::split_top_level(&file.text).unwrap_or_else(|| [whole].to_vec());
        for item in items {
            let t = &file.text[item.clone()];
            // Syntax errors are the full load's to report.
            if !mentions_terraform_block(t) {
                continue;
            }
            let Ok(body) = hcl_edit::parser::parse_body(t) else {
                continue;
            };
            l.off = item.start;
            for s in body.into_iter() {
                if let Structure::Block(b) = s {
                    if b.ident.value().as_str() == "terraform" {
                        l.terraform_block(&mut m, &file, b);
                    }
                }
            }
        }
    }
    if l.diags.has_errors() {
        return Err(l.diags);
    }
    Ok(m.backend)
}

/// Whether an item may hold a `terraform` block: its first word, after comments, is
/// `terraform` (an unsplit file is checked anywhere).
fn mentions_terraform_block(t: &str) -> bool {
    let mut rest = t;
    loop {
        rest = rest.trim_start();
        if rest.starts_with('#') || rest.starts_with("//") {
            rest = rest.split_once('\n').map(|(_, r)| r).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map(|(_, r)| r).unwrap_or("");
        } else {
            break;
        }
    }
    match rest.strip_prefix("terraform") {
        Some(r) => r.starts_with(|c: char| c.is_whitespace() || c == '{'),
        None => t.contains("\nterraform"),
    }
}
