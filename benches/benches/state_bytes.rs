//! Bytes written to state per applied resource, as the state grows: state is written
//! incrementally (one small transaction per step), so this must stay flat. Measured as the bytes
//! the process passes to write(2) (/proc/self/io wchar) while applying 1,000 more resources into
//! a state that already holds 0, 10,000 and 100,000.

use std::fmt::Write as _;

use terrane_benches::*;
use terrane_state::{ResourceRecord, StateStore};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("state_bytes: bench");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let reg = registry();
    let added = 1_000usize;
    println!("existing resources | bytes written per applied resource | state file size");
    let mut first = None;
    for existing in [0usize, 10_000, 100_000] {
        let mut cfg = String::new();
        for i in 0..added {
            let _ = writeln!(
                cfg,
                "resource \"terraform_data\" \"new{i}\" {{\n  input = \"value-{i}\"\n}}\n"
            );
        }
        let (dir, store) = workdir(&cfg);
        store.workspace("default").unwrap();
        // Pre-existing state from another part of the system (kept out of the config via
        // -target-like scoping: the records belong to a resource type the plan leaves alone).
        for i in 0..existing {
            store
                .put_resource(
                    "default",
                    &ResourceRecord {
                        address: format!("module.old.terraform_data.r{i}"),
                        provider: "provider.terraform".into(),
                        attrs: serde_json::json!({"id": format!("{i:016x}"), "input": format!("value-{i}"), "output": format!("value-{i}"), "triggers_replace": null}),
                        sensitive: vec![],
                        deps: vec![],
                        tainted: false,
                        schema_version: 0,
                    },
                )
                .unwrap();
        }
        let (mut s, mut plan) = rt.block_on(plan(dir.path(), &store, &reg, 10));
        // Only the new resources are applied; the pre-existing ones are left as they are.
        plan.changes.retain(|c| c.addr.resource.module.is_root());
        let before = bytes_written();
        let (_tx, rx) = tokio::sync::watch::channel(0u8);
        let out = rt.block_on(s.apply(
            &plan,
            &store,
            1,
            std::sync::Arc::new(terrane_engine::events::NullSink),
            rx,
        ));
        let per = (bytes_written() - before) as f64 / added as f64;
        assert_eq!(out.added, added);
        let size = std::fs::metadata(dir.path().join("terrane.state.db"))
            .map(|m| m.len())
            .unwrap_or(0);
        println!(
            "{existing:>18} | {per:>34.0} | {:>10.1} MB",
            size as f64 / 1e6
        );
        let base = *first.get_or_insert(per);
        println!("{:>18} | ratio to empty state: {:.2}", "", per / base);
    }
}
