//! A plugin that misbehaves on purpose, so that the host's containment can be tested:
//! `misbehave_resource` with `mode` = `loop` (never returns), `alloc` (allocates without bound),
//! `trap` (panics), `http` (calls a host it was not granted), `aws` (calls an AWS service it was
//! not granted), `http_ignored` (is refused, ignores the refusal and reports success), or `ok`.

use terrane_plugin_sdk::*;

#[derive(Default)]
struct Misbehave;

impl Provider for Misbehave {
    fn manifest(&self) -> Manifest {
        // Declares one loopback host; the tests do not allow it, or call another.
        Manifest::new("misbehave", env!("CARGO_PKG_VERSION")).http_host("127.0.0.1")
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema::default();
        s.resources.insert(
            "misbehave_resource".into(),
            ResourceSchema::new()
                .attr("mode", Attribute::required(Type::String).force_new())
                .attr(
                    "url",
                    Attribute::optional(Type::String)
                        .with_default("http://127.0.0.9:9/")
                        .force_new(),
                )
                .attr("id", Attribute::computed(Type::String)),
        );
        s
    }

    fn apply(&mut self, req: ApplyRequest<'_>) -> Result<Option<Value>, Error> {
        let Some(planned) = req.planned else {
            return Ok(None);
        };
        let mode = planned.get("mode").and_then(Value::as_str).unwrap_or("ok");
        let url = planned
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or("http://127.0.0.9:9/");
        host::log(host::LogLevel::Info, &format!("about to misbehave: {mode}"));
        match mode {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "trap" => panic!("misbehave: deliberate panic in apply"),
            "http" => {
                host::http("GET", url, &[], &[])
                    .map_err(|e| Error::new(format!("request refused: {e}")))?;
            }
            "http_ignored" => {
                let _ = host::http("GET", url, &[], &[]);
            }
            "aws" => {
                host::aws("iam", "POST", "/", &[], b"Action=ListRoles")
                    .map_err(|e| Error::new(format!("request refused: {e}")))?;
            }
            _ => {}
        }
        let mut m = planned.as_map().cloned().unwrap_or_default();
        m.insert("id".into(), Value::from(format!("mb-{mode}")));
        Ok(Some(Value::Map(m)))
    }
}

export_provider!(Misbehave);
