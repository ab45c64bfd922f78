//! The plugin host with real components built from plugins/guest: the example `random`
//! plugin through the author's harness, contract versions, the compiled-component cache, and
//! containment of the misbehaving plugin.

#[path = "../../../tests/common/plugins.rs"]
mod plugins;

use std::io::{Read, Write};
use std::time::Duration;

use terrane_core::{Diagnostic, Value};
use terrane_plugin_host::testing::Harness;
use terrane_plugin_host::{
    Allow, CacheOutcome, HostOptions, Limits, PluginError, PluginHost, PluginSpec,
};

fn cached() -> HostOptions {
    HostOptions {
        cache_dir: Some(plugins::cache_dir()),
        aws_signer: None,
    }
}

fn load(name: &str) -> Result<Harness, PluginError> {
    Harness::load_with(
        plugins::plugin(name),
        Allow::default(),
        Limits::default(),
        cached(),
    )
}

fn random(seed: i64) -> Harness {
    let h = load("random").unwrap();
    h.configure(Value::map([("seed", Value::from(seed))]))
        .unwrap();
    h
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{k} in {v:?}"))
}

#[test]
fn random_plugin_creates_ids_passwords_and_pets() {
    let h = random(7);
    assert_eq!(h.plugin().metadata().name, "random");
    assert_eq!(h.plugin().metadata().contract, "0.1.1");
    let schema = &h.plugin().schema().resources["random_password"];
    assert!(
        schema.attributes["result"].sensitive,
        "result is declared sensitive"
    );
    assert!(schema.attributes["length"].force_new);

    let id = h
        .create(
            "random_id",
            Value::map([
                ("byte_length", Value::from(8i64)),
                ("prefix", Value::from("p-")),
            ]),
        )
        .unwrap();
    assert_eq!(s(&id, "hex").len(), 2 + 16);
    assert!(s(&id, "hex").starts_with("p-"));
    assert!(s(&id, "dec")
        .trim_start_matches("p-")
        .parse::<u64>()
        .is_ok());
    assert_eq!(s(&id, "id").len(), 11, "8 bytes in unpadded base64url");

    let pw = h
        .create(
            "random_password",
            Value::map([
                ("length", Value::from(24i64)),
                ("special", Value::from(false)),
                ("min_numeric", Value::from(3i64)),
            ]),
        )
        .unwrap();
    let result = s(&pw, "result");
    assert_eq!(result.chars().count(), 24);
    assert!(
        result.chars().all(|c| c.is_ascii_alphanumeric()),
        "{result}"
    );
    assert!(
        result.chars().filter(char::is_ascii_digit).count() >= 3,
        "{result}"
    );

    let pet = h
        .create("random_pet", Value::map([("length", Value::from(3i64))]))
        .unwrap();
    assert_eq!(s(&pet, "id").split('-').count(), 3);

    // Reading keeps the values; a changed argument plans a replacement.
    assert_eq!(h.read("random_pet", &pet).unwrap().as_ref(), Some(&pet));
    let plan = h
        .plan(
            "random_pet",
            Some(&pet),
            Value::map([("length", Value::from(2i64))]),
        )
        .unwrap();
    assert_eq!(plan.requires_replace, vec![vec!["length".to_string()]]);
    assert_eq!(plan.planned.get("id"), Some(&Value::Unknown));
}

#[test]
fn a_seed_makes_the_values_repeatable_and_no_seed_does_not() {
    let cfg = || Value::map([("byte_length", Value::from(16i64))]);
    let a = random(42).create("random_id", cfg()).unwrap();
    let b = random(42).create("random_id", cfg()).unwrap();
    let c = random(43).create("random_id", cfg()).unwrap();
    assert_eq!(s(&a, "hex"), s(&b, "hex"));
    assert_ne!(s(&a, "hex"), s(&c, "hex"));
    let unseeded = || {
        let h = load("random").unwrap();
        h.configure(Value::map::<&str>([])).unwrap();
        h.create("random_id", cfg()).unwrap()
    };
    assert_ne!(s(&unseeded(), "hex"), s(&unseeded(), "hex"));
}

#[test]
fn random_id_imports_from_its_base64url_id() {
    let h = random(1);
    let id = h
        .create(
            "random_id",
            Value::map([("byte_length", Value::from(5i64))]),
        )
        .unwrap();
    let imported = h.import("random_id", s(&id, "id")).unwrap();
    for k in ["hex", "dec", "b64_std", "b64_url"] {
        assert_eq!(s(&imported, k), s(&id, k), "{k}");
    }
    assert!(h.import("random_id", "!!").is_err());
}

#[test]
fn plugin_validation_names_the_attribute() {
    let h = random(1);
    let d: Vec<Diagnostic> = h.validate(
        "random_id",
        Value::map([("byte_length", Value::from(0i64))]),
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].attribute.as_deref(), Some("byte_length"));
    assert!(
        d[0].detail.contains("between 1 and 1024"),
        "{}",
        d[0].detail
    );
}

#[test]
fn a_plugin_for_another_contract_version_is_refused_naming_both() {
    let err = match load("future") {
        Err(e) => e,
        Ok(_) => panic!("a 0.2.0 plugin loaded"),
    };
    assert!(matches!(err, PluginError::Contract { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("terrane:provider@0.2.0"), "{msg}");
    assert!(msg.contains("0.1.x"), "{msg}");
}

#[test]
fn a_file_that_is_not_a_component_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bogus.wasm");
    std::fs::write(&f, b"\0asm not really").unwrap();
    let msg = match Harness::load(&f) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("garbage loaded"),
    };
    assert!(msg.contains("not a WebAssembly component"), "{msg}");
    let msg = match Harness::load(dir.path().join("missing.wasm")) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a missing file loaded"),
    };
    assert!(msg.contains("cannot read plugin"), "{msg}");
}

#[test]
fn the_second_load_comes_from_the_compiled_cache() {
    let dir = tempfile::tempdir().unwrap();
    let spec = PluginSpec {
        name: "random".into(),
        path: plugins::plugin("random"),
        allow: Allow::default(),
        limits: Limits::default(),
    };
    let opts = || HostOptions {
        cache_dir: Some(dir.path().to_path_buf()),
        aws_signer: None,
    };
    let first = PluginHost::new(opts()).unwrap().load(&spec).unwrap();
    assert_eq!(first.cache_outcome(), CacheOutcome::Compiled);
    let second = PluginHost::new(opts()).unwrap().load(&spec).unwrap();
    assert_eq!(second.cache_outcome(), CacheOutcome::Hit);
    assert_eq!(
        first.schema().resources.len(),
        second.schema().resources.len()
    );
    // A damaged cache entry is compiled again, not trusted.
    for e in std::fs::read_dir(dir.path()).unwrap() {
        std::fs::write(e.unwrap().path(), b"garbage").unwrap();
    }
    let third = PluginHost::new(opts()).unwrap().load(&spec).unwrap();
    assert_eq!(third.cache_outcome(), CacheOutcome::Compiled);
}

fn misbehave(allow: Allow, limits: Limits) -> Harness {
    let h = Harness::load_with(plugins::plugin("misbehave"), allow, limits, cached()).unwrap();
    h.configure(Value::map::<&str>([])).unwrap();
    h
}

fn run(h: &Harness, mode: &str, url: Option<&str>) -> Result<Value, String> {
    let mut cfg = vec![("mode", Value::from(mode))];
    if let Some(u) = url {
        cfg.push(("url", Value::from(u)));
    }
    h.create("misbehave_resource", Value::map(cfg))
        .map_err(|e| e.message)
}

#[test]
fn an_endless_loop_is_stopped_at_its_deadline_and_the_plugin_goes_on() {
    let h = misbehave(
        Allow::default(),
        Limits {
            call_timeout: Duration::from_millis(500),
            ..Limits::default()
        },
    );
    let started = std::time::Instant::now();
    let e = run(&h, "loop", None).unwrap_err();
    let took = started.elapsed();
    assert!(
        e.contains("plugin \"terrane_plugin_misbehave\"")
            && e.contains("apply for misbehave_resource: stopped"),
        "{e}"
    );
    assert!(e.contains("ran longer than its limit of 500ms"), "{e}");
    assert!(took < Duration::from_secs(10), "stopped after {took:?}");
    // A fresh instance serves the next call.
    assert_eq!(s(&run(&h, "ok", None).unwrap(), "id"), "mb-ok");
}

#[test]
fn unbounded_allocation_is_stopped_at_the_memory_limit() {
    let h = misbehave(
        Allow::default(),
        Limits {
            memory_bytes: 32 << 20,
            ..Limits::default()
        },
    );
    let e = run(&h, "alloc", None).unwrap_err();
    assert!(e.contains("more memory than its limit of 32 MiB"), "{e}");
    assert_eq!(s(&run(&h, "ok", None).unwrap(), "id"), "mb-ok");
}

#[test]
fn a_trap_is_reported_with_what_the_plugin_wrote() {
    let h = misbehave(Allow::default(), Limits::default());
    let e = run(&h, "trap", None).unwrap_err();
    assert!(e.contains("crashed"), "{e}");
    assert!(e.contains("deliberate panic in apply"), "{e}");
    assert_eq!(s(&run(&h, "ok", None).unwrap(), "id"), "mb-ok");
}

/// A one-shot HTTP server on loopback that answers 200 and counts requests.
fn tiny_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/", l.local_addr().unwrap().port());
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ =
                c.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (url, hits)
}

#[test]
fn http_reaches_only_hosts_both_declared_and_allowed() {
    let (url, hits) = tiny_server();
    // Declared by the manifest (127.0.0.1) but not allowed by the user: refused, nothing sent.
    let h = misbehave(Allow::default(), Limits::default());
    let e = run(&h, "http", Some(&url)).unwrap_err();
    assert!(
        e.contains("tried to reach 127.0.0.1, which it was not granted"),
        "{e}"
    );
    assert!(e.contains("configuration does not allow it"), "{e}");
    // A plugin that ignores the refusal still fails: the host stops the call.
    let e = run(&h, "http_ignored", Some(&url)).unwrap_err();
    assert!(e.contains("stopped: plugin"), "{e}");
    // Allowed and declared: the request goes out.
    let allowed = Allow {
        http: vec!["127.0.0.1".into()],
        aws: vec![],
    };
    let h = misbehave(allowed.clone(), Limits::default());
    run(&h, "http", Some(&url)).unwrap();
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "only the granted request arrived"
    );
    // Allowed by the user but not declared in the manifest: refused.
    let e = run(&h, "http", Some("http://127.0.0.9:9/")).unwrap_err();
    assert!(e.contains("its manifest does not declare it"), "{e}");
    // An AWS service it never asked for.
    let e = run(&h, "aws", None).unwrap_err();
    assert!(e.contains("AWS service \"iam\""), "{e}");
}

/// A plugin built against contract 0.1.0 (before discovery) loads, plans and applies through a
/// 0.1.1 host, and is reported as unable to discover; a plugin built with the SDK (0.1.1)
/// declares what it discovers.
#[test]
fn a_plugin_built_for_0_1_0_still_loads_and_cannot_be_discovered() {
    use terrane_core::{DiscoverFilter, Provider};
    let h = load("legacy").unwrap();
    assert_eq!(h.plugin().metadata().contract, "0.1.0");
    assert_eq!(h.plugin().metadata().name, "legacy");
    h.configure(Value::Null).unwrap();
    let state = h
        .create("legacy_note", Value::map([("text", Value::from("hello"))]))
        .unwrap();
    assert_eq!(s(&state, "id"), "hello");
    assert_eq!(h.read("legacy_note", &state).unwrap(), Some(state.clone()));
    assert!(h.plugin().discoverable_types().is_empty());
    assert!(!h.provider().discovers());
    let err = h.discover(&DiscoverFilter::default()).unwrap_err();
    assert!(
        err.message.contains("cannot discover") && err.message.contains("0.1.0"),
        "{}",
        err.message
    );

    let random = random(1);
    assert!(random.plugin().discoverable_types().is_empty());
    let ssm = load("aws_ssm").unwrap();
    assert_eq!(ssm.plugin().metadata().contract, "0.1.1");
    assert_eq!(ssm.plugin().discoverable_types(), ["aws_ssm_parameter"]);
    assert!(ssm.provider().discovers());
}
