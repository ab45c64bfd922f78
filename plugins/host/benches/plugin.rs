//! Plugin host costs, with the example `random` plugin (built by tests/common/plugins.rs):
//! - first load (compile with Cranelift) and cached load (from the compiled-component cache);
//! - one plan call with ~1 KB of attributes, against the same plan computed natively;
//! - 1,000 independent resources planned and applied by the engine through the plugin
//!   (`random_pet`) against the same through the native test provider (`test_instance`).
//!   Target: the plugin path within 2x of native.
//!
//! Run: `cargo bench -p terrane-plugin-host --bench plugin`

#[path = "../../../tests/common/plugins.rs"]
mod plugins;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use terrane_core::{PlanRequest, Provider, ProviderRegistry, Value};
use terrane_plugin_host::{Allow, HostOptions, Limits, PluginHost, PluginProvider, PluginSpec};

fn spec() -> PluginSpec {
    PluginSpec {
        name: "random".into(),
        path: plugins::plugin("random"),
        allow: Allow::default(),
        limits: Limits::default(),
    }
}

fn load(c: &mut Criterion) {
    let mut g = c.benchmark_group("plugin_load");
    g.sample_size(10);
    let host = PluginHost::new(HostOptions::default()).unwrap();
    g.bench_function("first_load_compile", |b| {
        b.iter(|| host.load(&spec()).unwrap())
    });
    let dir = tempfile::tempdir().unwrap();
    let cached = PluginHost::new(HostOptions {
        cache_dir: Some(dir.path().to_path_buf()),
        aws_signer: None,
    })
    .unwrap();
    cached.load(&spec()).unwrap(); // fills the cache
    g.bench_function("cached_load", |b| b.iter(|| cached.load(&spec()).unwrap()));
    g.finish();
}

/// A random_pet configuration whose `keepers` hold about 1 KB.
fn kilobyte_config() -> Value {
    let keepers: Vec<(String, Value)> = (0..16)
        .map(|i| (format!("key_{i:02}"), Value::from("x".repeat(56))))
        .collect();
    Value::map([
        ("length", Value::from(2i64)),
        ("separator", Value::from("-")),
        ("prefix", Value::Null),
        ("keepers", Value::map(keepers)),
        ("id", Value::Null),
    ])
}

fn plan_call(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let host = PluginHost::new(HostOptions::default()).unwrap();
    let plugin = host.load(&spec()).unwrap();
    let p = PluginProvider::new(plugin.clone());
    rt.block_on(p.configure(&Value::map([("seed", Value::from(1i64))])))
        .unwrap();
    let config = kilobyte_config();
    println!(
        "  plan request: {} bytes of attributes",
        config.to_json().to_string().len()
    );
    let schema = plugin.schema().resources["random_pet"].clone();
    let mut g = c.benchmark_group("plan_call_1kb");
    g.bench_function("plugin", |b| {
        b.iter(|| {
            rt.block_on(p.plan(PlanRequest {
                type_name: "random_pet",
                prior: None,
                config: &config,
            }))
            .unwrap()
        })
    });
    g.bench_function("native_same_plan", |b| {
        b.iter(|| schema.default_plan(None, &config))
    });
    g.finish();
}

fn random_pets(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "resource \"random_pet\" \"p{i}\" {{\n  length = 2\n  prefix = \"n{i}\"\n}}\n"
        ));
    }
    s
}

fn test_instances(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "resource \"test_instance\" \"p{i}\" {{\n  size = 2\n  name = \"n{i}\"\n}}\n"
        ));
    }
    s
}

fn plugin_registry(plugin: terrane_plugin_host::Plugin) -> ProviderRegistry {
    let mut r = terrane_benches::registry();
    r.register(
        "random",
        Arc::new(move || Arc::new(PluginProvider::new(plugin.clone())) as Arc<dyn Provider>),
    );
    r
}

fn thousand_resources(c: &mut Criterion) {
    let n = 1000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let host = PluginHost::new(HostOptions::default()).unwrap();
    let plugin = host.load(&spec()).unwrap();
    let mut g = c.benchmark_group("apply_1000");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    let mut best = Vec::new();
    for (name, config, reg) in [
        (
            "native_test_provider",
            test_instances(n),
            terrane_benches::registry(),
        ),
        (
            "wasm_plugin",
            random_pets(n),
            plugin_registry(plugin.clone()),
        ),
    ] {
        let mut fastest = Duration::MAX;
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (dir, store) = terrane_benches::workdir(&config);
                    let start = Instant::now();
                    let out = rt.block_on(terrane_benches::apply(dir.path(), &store, &reg, 10));
                    let el = start.elapsed();
                    assert_eq!(out.added, n);
                    fastest = fastest.min(el);
                    total += el;
                }
                total
            })
        });
        best.push(fastest);
    }
    g.finish();
    println!(
        "  1,000 resources, plan + apply, fastest of the run: native {:.1} ms, plugin {:.1} ms, plugin / native = {:.2}",
        best[0].as_secs_f64() * 1e3,
        best[1].as_secs_f64() * 1e3,
        best[1].as_secs_f64() / best[0].as_secs_f64()
    );
}

criterion_group!(benches, load, plan_call, thousand_resources);
criterion_main!(benches);
