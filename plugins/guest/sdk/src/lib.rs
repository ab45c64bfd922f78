//! Write Terrane provider plugins in Rust.
//!
//! Implement [`Provider`] for a type with `Default`, export it with [`export_provider!`], and
//! build with `cargo build --target wasm32-wasip2 --release`. The resulting `.wasm` is a
//! component that speaks the contract `terrane:provider@0.1.1` (`plugins/wit/provider.wit`,
//! world `discoverable-plugin`). A provider that can find its objects without state (for
//! cleanup) implements [`Provider::discoverable_types`] and [`Provider::discover`].
//!
//! ```ignore
//! use terrane_plugin_sdk::*;
//!
//! #[derive(Default)]
//! struct Hello;
//!
//! impl Provider for Hello {
//!     fn manifest(&self) -> Manifest {
//!         Manifest::new("hello", env!("CARGO_PKG_VERSION"))
//!     }
//!     fn schema(&self) -> ProviderSchema {
//!         let mut s = ProviderSchema::default();
//!         s.resources.insert(
//!             "hello_greeting".into(),
//!             ResourceSchema::new()
//!                 .attr("name", Attribute::required(Type::String).force_new())
//!                 .attr("text", Attribute::computed(Type::String)),
//!         );
//!         s
//!     }
//!     fn apply(&mut self, req: ApplyRequest<'_>) -> Result<Option<Value>, Error> {
//!         let Some(planned) = req.planned else { return Ok(None) };
//!         let name = planned.get("name").and_then(Value::as_str).unwrap_or("world");
//!         let mut state = planned.as_map().cloned().unwrap_or_default();
//!         state.insert("text".into(), Value::from(format!("Hello, {name}!")));
//!         Ok(Some(Value::Map(state)))
//!     }
//! }
//!
//! export_provider!(Hello);
//! ```
//!
//! The types ([`Value`], [`ResourceSchema`], [`Attribute`], [`Diagnostic`], the request types)
//! are the engine's own, so a plugin plans and validates exactly like a native provider.

pub use terrane_core::{
    ApplyRequest, AttrPath, Attribute, Diagnostic, DiscoverFilter, DiscoveredObject, FoundBy,
    NameMatch, Nesting, PlanRequest, PlanResponse, ProviderSchema, Reference, ResourceSchema,
    Severity, Type, Value,
};

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "discoverable-plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_world",
        default_bindings_module: "terrane_plugin_sdk::bindings",
    });
}

pub mod host;

use bindings::exports::terrane::provider::discovery as wit_discovery;
use bindings::exports::terrane::provider::provider as wit_provider;
use bindings::terrane::provider::types as wit;

/// The contract version this SDK builds plugins for.
pub const CONTRACT: &str = "0.1.1";

/// What the plugin is and which capabilities it asks for. The user must also allow each one in
/// the plugin's `required_providers` entry (`allow = { http = [...], aws = [...] }`).
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub http_hosts: Vec<String>,
    pub aws_services: Vec<String>,
}

impl Manifest {
    pub fn new(name: &str, version: &str) -> Manifest {
        Manifest {
            name: name.into(),
            version: version.into(),
            ..Default::default()
        }
    }
    /// Asks for HTTP access to `host` (an exact name or `*.example.com`).
    pub fn http_host(mut self, host: &str) -> Manifest {
        self.http_hosts.push(host.into());
        self
    }
    /// Asks for signed requests to an AWS service (its signing name, e.g. `ssm`).
    pub fn aws_service(mut self, service: &str) -> Manifest {
        self.aws_services.push(service.into());
        self
    }
}

/// A failed call.
#[derive(Debug, Clone)]
pub struct Error {
    pub message: String,
    /// The same call may succeed later (throttling).
    pub retryable: bool,
    /// The object exists although the call failed; the engine records it as tainted.
    pub partial_state: Option<Value>,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            retryable: false,
            partial_state: None,
        }
    }
}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error::new(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Error {
        Error::new(message)
    }
}

/// What a plugin implements. Every method but [`Provider::manifest`], [`Provider::schema`] and
/// [`Provider::apply`] has a default.
pub trait Provider: Default + Send + 'static {
    fn manifest(&self) -> Manifest;

    fn schema(&self) -> ProviderSchema;

    /// The provider block's configuration; called once per instance before other calls.
    fn configure(&mut self, _config: &Value) -> Result<(), Error> {
        Ok(())
    }

    /// Checks a resource's configuration. Runs without capabilities (no HTTP, no AWS).
    fn validate(&self, _type_name: &str, _config: &Value) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Plans a change. The default is the engine's: the configuration, computed attributes kept
    /// from the prior state (unknown on create), force-new attributes that change replace.
    fn plan(&mut self, req: PlanRequest<'_>) -> Result<PlanResponse, Error> {
        let schema = cached_schema(self);
        let rs = schema
            .resources
            .get(req.type_name)
            .ok_or_else(|| Error::new(format!("unknown resource type {}", req.type_name)))?;
        let (planned, requires_replace) = rs.default_plan(req.prior, req.config);
        Ok(PlanResponse {
            planned,
            requires_replace,
            diagnostics: Vec::new(),
        })
    }

    /// Creates (`prior` none), updates, or deletes (`planned` none). Returns the new state.
    fn apply(&mut self, req: ApplyRequest<'_>) -> Result<Option<Value>, Error>;

    /// The current state of an object; `None` when it is gone. The default returns the state
    /// unchanged (for resources that exist only in state).
    fn read(&mut self, _type_name: &str, state: &Value) -> Result<Option<Value>, Error> {
        Ok(Some(state.clone()))
    }

    fn import(&mut self, type_name: &str, _id: &str) -> Result<Value, Error> {
        Err(Error::new(format!("{type_name} does not support import")))
    }

    fn read_data(&mut self, type_name: &str, _config: &Value) -> Result<Value, Error> {
        Err(Error::new(format!("unknown data source {type_name}")))
    }

    /// The resource types [`Provider::discover`] can find; none by default (the host then
    /// reports that the plugin cannot discover).
    fn discoverable_types(&self) -> Vec<String> {
        Vec::new()
    }

    /// The objects matching `filter` (all its tags, its name match, its types), whether or not
    /// any state knows them, each with the state a delete of it takes. Runs with the plugin's
    /// capabilities, as `read` does.
    fn discover(&mut self, _filter: &DiscoverFilter) -> Result<Vec<DiscoveredObject>, Error> {
        Err(Error::new("this plugin cannot discover its objects"))
    }
}

/// The provider's schema, built once per instance (a component exports one provider).
/// Use it instead of [`Provider::schema`] in per-call code.
pub fn cached_schema<P: Provider>(p: &P) -> &'static ProviderSchema {
    static SCHEMA: std::sync::OnceLock<ProviderSchema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| p.schema())
}

/// Exports a [`Provider`] as the plugin's implementation of the contract.
#[macro_export]
macro_rules! export_provider {
    ($ty:ty) => {
        const _: () = {
            static INSTANCE: ::std::sync::Mutex<::std::option::Option<$ty>> =
                ::std::sync::Mutex::new(::std::option::Option::None);

            struct TerranePluginExport;

            impl $crate::__private::Guest for TerranePluginExport {
                fn metadata() -> $crate::__private::WitManifest {
                    $crate::__private::with(&INSTANCE, |p| $crate::__private::metadata(p))
                }
                fn schema() -> $crate::__private::WitProviderSchema {
                    $crate::__private::with(&INSTANCE, |p| $crate::__private::schema(p))
                }
                fn configure(config: ::std::string::String) -> ::std::result::Result<(), $crate::__private::WitError> {
                    $crate::__private::with(&INSTANCE, |p| $crate::__private::configure(p, &config))
                }
                fn validate(type_name: ::std::string::String, config: ::std::string::String) -> ::std::vec::Vec<$crate::__private::WitDiagnostic> {
                    $crate::__private::with(&INSTANCE, |p| $crate::__private::validate(p, &type_name, &config))
                }
                fn plan(request: $crate::__private::WitPlanRequest) -> ::std::result::Result<$crate::__private::WitPlanResponse, $crate::__private::WitError> {
                    $crate::__private::with(&INSTANCE, |p| $crate::__private::plan(p, request))
                }
                fn apply(request: $crate::__private::WitApplyRequest) -> ::std::result::Result<::std::option::Option<::std::string::String>, $crate::__private::WitError> {
                    $crate::__private::with(&INSTANCE, |p| $crate::__private::apply(p, request))
                }
                fn read(type_name: ::std::string::String, state: ::std::string::String) -> ::std::result::Result<::std::option::Option<::std::string::String>, $crate::__private::WitError> {
                    $crate::__private::with(&INSTANCE, |p| $crate::__private::read(p, &type_name, &state))
                }
                fn import(type_name: ::std::string::String, id: ::std::string::String) -> ::std::result::Result<::std::string::String, $crate::__private::WitError> {
                    $crate::__private::with(&INSTANCE, |p| $crate::__private::import(p, &type_name, &id))
                }
                fn read_data(type_name: ::std::string::String, config: ::std::string::String) -> ::std::result::Result<::std::string::String, $crate::__private::WitError> {
                    $crate::__private::with(&INSTANCE, |p| $crate::__private::read_data(p, &type_name, &config))
                }
            }

            impl $crate::__private::DiscoveryGuest for TerranePluginExport {
                fn discoverable_types() -> ::std::vec::Vec<::std::string::String> {
                    $crate::__private::with(&INSTANCE, |p| $crate::Provider::discoverable_types(p))
                }
                fn discover(filter: $crate::__private::WitDiscoverFilter) -> ::std::result::Result<::std::vec::Vec<$crate::__private::WitDiscoveredObject>, $crate::__private::WitError> {
                    $crate::__private::with(&INSTANCE, |p| $crate::__private::discover(p, filter))
                }
            }

            $crate::bindings::__export_plugin_world!(TerranePluginExport with_types_in $crate::bindings);
        };
    };
}

#[doc(hidden)]
pub mod __private {
    use std::sync::Mutex;

    pub use super::wit::{
        ApplyRequest as WitApplyRequest, Diagnostic as WitDiagnostic, Error as WitError,
        Manifest as WitManifest, PlanRequest as WitPlanRequest, PlanResponse as WitPlanResponse,
        ProviderSchema as WitProviderSchema,
    };
    pub use super::wit_discovery::{
        DiscoverFilter as WitDiscoverFilter, DiscoveredObject as WitDiscoveredObject,
        Guest as DiscoveryGuest,
    };
    pub use super::wit_provider::Guest;
    use super::*;

    pub fn discover<P: Provider>(
        p: &mut P,
        f: WitDiscoverFilter,
    ) -> Result<Vec<WitDiscoveredObject>, WitError> {
        let name = match f.name {
            None => None,
            Some(wit_discovery::NameMatch::Prefix(s)) => Some(NameMatch::Prefix(s)),
            Some(wit_discovery::NameMatch::Regex(r)) => {
                Some(NameMatch::regex(&r).map_err(|e| error_out(Error::new(e)))?)
            }
        };
        let filter = DiscoverFilter {
            tags: f.tags.into_iter().collect(),
            name,
            types: f.types.into_iter().collect(),
        };
        let found = p.discover(&filter).map_err(error_out)?;
        Ok(found
            .into_iter()
            .map(|o| WitDiscoveredObject {
                type_name: o.type_name,
                id: o.id,
                aliases: o.aliases,
                name: o.name,
                tags: o.tags.into_iter().collect(),
                created: o.created,
                found_by: match o.found_by {
                    FoundBy::Tags => wit_discovery::FoundBy::Tags,
                    FoundBy::Listing => wit_discovery::FoundBy::Listing,
                },
                references: o
                    .references
                    .into_iter()
                    .map(|r| wit_discovery::Reference {
                        type_name: r.type_name,
                        id: r.id,
                    })
                    .collect(),
                state: encode(&o.state),
                is_default: o.is_default,
            })
            .collect())
    }

    pub fn with<P: Provider, R>(cell: &Mutex<Option<P>>, f: impl FnOnce(&mut P) -> R) -> R {
        let mut guard = cell.lock().unwrap_or_else(|e| e.into_inner());
        f(guard.get_or_insert_with(P::default))
    }

    fn decode(s: &str) -> Result<Value, WitError> {
        Value::from_wire(s)
            .map_err(|e| error_out(Error::new(format!("the host sent a value that is {e}"))))
    }

    fn encode(v: &Value) -> String {
        v.to_wire()
    }

    fn error_out(e: Error) -> WitError {
        WitError {
            message: e.message,
            retryable: e.retryable,
            partial_state: e.partial_state.as_ref().map(encode),
        }
    }

    fn diagnostic_out(d: &Diagnostic) -> WitDiagnostic {
        WitDiagnostic {
            severity: match d.severity {
                Severity::Error => wit::Severity::Error,
                Severity::Warning => wit::Severity::Warning,
            },
            summary: d.summary.clone(),
            detail: d.detail.clone(),
            attribute: d.attribute.iter().cloned().collect(),
        }
    }

    pub fn metadata<P: Provider>(p: &mut P) -> WitManifest {
        let m = p.manifest();
        WitManifest {
            name: m.name,
            version: m.version,
            http_hosts: m.http_hosts,
            aws_services: m.aws_services,
        }
    }

    fn attribute_out(name: &str, a: &Attribute) -> wit::Attribute {
        wit::Attribute {
            name: name.to_string(),
            type_: a.ty.to_type_json().to_string(),
            required: a.required,
            optional: a.optional,
            computed: a.computed,
            sensitive: a.sensitive,
            force_new: a.force_new,
            default: a.default.as_ref().map(encode),
        }
    }

    fn schema_out(type_name: &str, s: &ResourceSchema) -> wit::Schema {
        fn blocks(parent: &[String], s: &ResourceSchema, out: &mut Vec<wit::Block>) {
            for (name, b) in &s.blocks {
                out.push(wit::Block {
                    parent: parent.to_vec(),
                    name: name.clone(),
                    nesting: match b.nesting {
                        Nesting::Single => wit::Nesting::Single,
                        Nesting::List => wit::Nesting::List,
                        Nesting::Set => wit::Nesting::Set,
                    },
                    force_new: b.force_new,
                    attributes: b
                        .schema
                        .attributes
                        .iter()
                        .map(|(n, a)| attribute_out(n, a))
                        .collect(),
                });
                let mut path = parent.to_vec();
                path.push(name.clone());
                blocks(&path, &b.schema, out);
            }
        }
        let mut bs = Vec::new();
        blocks(&[], s, &mut bs);
        wit::Schema {
            type_name: type_name.to_string(),
            attributes: s
                .attributes
                .iter()
                .map(|(n, a)| attribute_out(n, a))
                .collect(),
            blocks: bs,
        }
    }

    pub fn schema<P: Provider>(p: &mut P) -> WitProviderSchema {
        let s = cached_schema(p);
        WitProviderSchema {
            provider: schema_out("", &s.provider),
            resources: s.resources.iter().map(|(n, r)| schema_out(n, r)).collect(),
            data_sources: s
                .data_sources
                .iter()
                .map(|(n, r)| schema_out(n, r))
                .collect(),
        }
    }

    pub fn configure<P: Provider>(p: &mut P, config: &str) -> Result<(), WitError> {
        let config = decode(config)?;
        p.configure(&config).map_err(error_out)
    }

    pub fn validate<P: Provider>(p: &mut P, type_name: &str, config: &str) -> Vec<WitDiagnostic> {
        match decode(config) {
            Ok(c) => p
                .validate(type_name, &c)
                .iter()
                .map(diagnostic_out)
                .collect(),
            Err(e) => vec![WitDiagnostic {
                severity: wit::Severity::Error,
                summary: "Invalid value".into(),
                detail: e.message,
                attribute: vec![],
            }],
        }
    }

    pub fn plan<P: Provider>(p: &mut P, r: WitPlanRequest) -> Result<WitPlanResponse, WitError> {
        let prior = r.prior.as_deref().map(decode).transpose()?;
        let config = decode(&r.config)?;
        let resp = p
            .plan(PlanRequest {
                type_name: &r.type_name,
                prior: prior.as_ref(),
                config: &config,
            })
            .map_err(error_out)?;
        Ok(WitPlanResponse {
            planned: encode(&resp.planned),
            requires_replace: resp.requires_replace,
            diagnostics: resp.diagnostics.iter().map(diagnostic_out).collect(),
        })
    }

    pub fn apply<P: Provider>(p: &mut P, r: WitApplyRequest) -> Result<Option<String>, WitError> {
        let prior = r.prior.as_deref().map(decode).transpose()?;
        let planned = r.planned.as_deref().map(decode).transpose()?;
        let config = decode(&r.config)?;
        let out = p
            .apply(ApplyRequest {
                type_name: &r.type_name,
                prior: prior.as_ref(),
                planned: planned.as_ref(),
                config: &config,
                token: &r.token,
                // The contract has no progress channel yet: a plugin's waits are not shown.
                progress: &terrane_core::NoProgress,
            })
            .map_err(error_out)?;
        Ok(out.as_ref().map(encode))
    }

    pub fn read<P: Provider>(
        p: &mut P,
        type_name: &str,
        state: &str,
    ) -> Result<Option<String>, WitError> {
        let state = decode(state)?;
        Ok(p.read(type_name, &state)
            .map_err(error_out)?
            .as_ref()
            .map(encode))
    }

    pub fn import<P: Provider>(p: &mut P, type_name: &str, id: &str) -> Result<String, WitError> {
        p.import(type_name, id)
            .map(|v| encode(&v))
            .map_err(error_out)
    }

    pub fn read_data<P: Provider>(
        p: &mut P,
        type_name: &str,
        config: &str,
    ) -> Result<String, WitError> {
        let config = decode(config)?;
        p.read_data(type_name, &config)
            .map(|v| encode(&v))
            .map_err(error_out)
    }
}
