//! Lists the schema files (`schema/resources/*.json`, `schema/data/*.json`) for
//! `src/resources/schemas.rs`, so that a new type's schema is one file dropped in its folder.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("schema");
    let mut out = String::new();
    for (table, dir) in [("RESOURCES", "resources"), ("DATA", "data")] {
        let dir = root.join(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        writeln!(out, "pub static {table}: &[(&str, &str)] = &[").unwrap();
        for f in files {
            let name = f.file_stem().unwrap().to_string_lossy();
            writeln!(out, "    ({name:?}, include_str!({:?})),", f.display()).unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("schema_files.rs");
    std::fs::write(dest, out).unwrap();
}
