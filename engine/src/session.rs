//! A session: one configuration, its graph, the providers it uses and the state it starts from.
//! Planning ([`crate::planner`]) and applying ([`crate::apply`]) both run on a session.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use terrane_core::{
    Diagnostic, Diagnostics, InstanceAddr, InstanceKey, Mode, ModulePath, Provider,
    ProviderRegistry, ResourceAddr, ResourceSchema, Value,
};
use terrane_state::{ResourceRecord, StateStore};

use crate::config::{Config, ParsedBlock, ResourceConfig};
use crate::eval::{eval_body, EvalCtx};
use crate::graph::{self, Graph, NodeId, NodeKind};
use crate::values::{Expansion, ModuleScope, Values};

/// One resource instance as the engine sees it in state.
#[derive(Debug, Clone, PartialEq)]
pub struct StateInstance {
    pub addr: InstanceAddr,
    pub provider: String,
    pub value: Value,
    pub sensitive: BTreeSet<String>,
    pub deps: Vec<String>,
    pub tainted: bool,
}

impl StateInstance {
    pub fn to_record(&self) -> ResourceRecord {
        ResourceRecord {
            address: self.addr.to_string(),
            provider: self.provider.clone(),
            attrs: self.value.to_json(),
            sensitive: self.sensitive.iter().cloned().collect(),
            deps: self.deps.clone(),
            tainted: self.tainted,
            schema_version: 0,
        }
    }

    pub fn from_record(r: &ResourceRecord) -> Result<StateInstance, Diagnostic> {
        let addr = InstanceAddr::parse(&r.address)
            .map_err(|e| Diagnostic::error("Corrupt state", e.to_string()))?;
        let si = StateInstance {
            addr,
            provider: r.provider.clone(),
            value: Value::from_json(&r.attrs),
            sensitive: r.sensitive.iter().cloned().collect(),
            deps: r.deps.clone(),
            tainted: r.tainted,
        };
        si.register_sensitive();
        Ok(si)
    }

    /// Registers the values of this instance's sensitive attributes for masking
    /// ([`terrane_core::redact`]).
    pub fn register_sensitive(&self) {
        for a in &self.sensitive {
            if let Some(v) = self.value.get(a) {
                terrane_core::redact::register(v);
            }
        }
    }

    /// Marks as sensitive every attribute that contains a known sensitive value (computed by
    /// the provider from a sensitive input), and registers the sensitive attributes' values.
    pub fn derive_sensitive(value: &Value, sensitive: &mut BTreeSet<String>) {
        sensitive.extend(terrane_core::redact::sensitive_attrs(value));
        for a in sensitive.iter() {
            if let Some(v) = value.get(a) {
                terrane_core::redact::register(v);
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub workspace: String,
    /// Root module input values (from -var, -var-file, TF_VAR_, *.auto.tfvars).
    pub inputs: BTreeMap<String, Value>,
    /// Validation only: unknown inputs, no provider calls.
    pub validate_only: bool,
    pub parallelism: usize,
    /// Tags added to every taggable object of every provider that has default tags (a
    /// `default_tags { tags }` block in its configuration schema, as the AWS provider's); the
    /// configuration's own default tags win.
    pub default_tags: BTreeMap<String, String>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            workspace: "default".into(),
            inputs: BTreeMap::new(),
            validate_only: false,
            parallelism: 10,
            default_tags: BTreeMap::new(),
        }
    }
}

/// `cfg` with `tags` merged under its `default_tags { tags }` (a provider without that block is
/// left alone).
fn with_default_tags(
    mut cfg: Value,
    schema: &terrane_core::ProviderSchema,
    tags: &BTreeMap<String, String>,
) -> Value {
    if tags.is_empty() || !schema.provider.blocks.contains_key("default_tags") {
        return cfg;
    }
    let Value::Map(m) = &mut cfg else {
        return cfg;
    };
    let mut merged: terrane_core::ValueMap = tags
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    if let Some(Value::Map(own)) = m.get("default_tags").and_then(|b| b.get("tags")).cloned() {
        for (k, v) in own.iter() {
            merged.insert(k.clone(), v.clone());
        }
    }
    m.insert(
        "default_tags".into(),
        Value::map([("tags", Value::Map(merged))]),
    );
    cfg
}

pub struct Session {
    pub(crate) config: Arc<Config>,
    pub(crate) graph: Graph,
    pub(crate) registry: ProviderRegistry,
    pub(crate) providers: HashMap<String, Arc<dyn Provider>>,
    pub(crate) opts: SessionOptions,
    pub(crate) state: BTreeMap<InstanceAddr, StateInstance>,
    pub(crate) root_dir: PathBuf,
    /// The root module's `import` blocks, one per object (`for_each` ones expanded).
    pub(crate) imports: Vec<crate::config::ImportBlock>,
    /// Keep the values a plan evaluated, for [`Session::eval_text`] (the console); off
    /// otherwise, so that a plan's memory goes when it ends.
    pub(crate) keep_values: bool,
    pub(crate) kept_values: Option<Values>,
    configured: bool,
    /// A test run's mocks of aliased configurations and overrides ([`Session::use_doubles`]).
    doubles: Option<Doubles>,
}

/// What a test run puts in place of the providers: aliased mocks and overrides.
struct Doubles {
    mocks: crate::mock::Mocks,
    /// The first that matches a resource wins.
    overrides: Vec<crate::mock::Override>,
    /// The provider keys already seen to.
    seen: HashSet<String>,
    /// The providers standing in at each override's target, by provider key and override.
    at: HashMap<(String, usize), Arc<dyn Provider>>,
}

impl Session {
    /// Builds the graph and instantiates (but does not configure) every provider it needs.
    pub fn new(
        config: Config,
        registry: ProviderRegistry,
        opts: SessionOptions,
    ) -> Result<Session, Diagnostics> {
        let env = crate::expand::ExpandInputs {
            inputs: &opts.inputs,
            workspace: &opts.workspace,
            validate_only: opts.validate_only,
        };
        let instances = crate::expand::expand_modules(&config, &env)?;
        let mut imports = config.root.imports.clone();
        imports.extend(crate::expand::expand_imports(&config, &env)?);
        let graph = graph::build(&config, instances)?;
        let mut diags = Diagnostics::new();
        let mut providers = HashMap::new();
        for n in &graph.nodes {
            if let NodeKind::Provider { key, name } = &n.kind {
                match registry.get(name) {
                    Some(f) => {
                        providers.insert(key.clone(), f());
                    }
                    None => diags.push(
                        Diagnostic::error(
                            "Provider not available",
                            format!("This configuration needs provider {name:?}, which is not available. Available providers: {}.", registry.names().collect::<Vec<_>>().join(", ")),
                        )
                        .with_range(first_user_range(&graph, key).or(n.range.clone())),
                    ),
                }
            }
        }
        let s = Session {
            root_dir: config.root.dir.clone(),
            config: Arc::new(config),
            graph,
            registry,
            providers,
            opts,
            state: BTreeMap::new(),
            imports,
            keep_values: false,
            kept_values: None,
            configured: false,
            doubles: None,
        };
        if diags.has_errors() {
            return Err(diags);
        }
        s.check_resource_types()?;
        Ok(s)
    }

    fn check_resource_types(&self) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::new();
        for (_, addr, rc) in self.graph.resource_nodes() {
            if let Err(d) = self.schema_for(&self.graph.provider_key(addr, rc), addr.mode, &addr.ty)
            {
                diags.push(d.with_range(Some(rc.range())));
            }
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(())
        }
    }

    /// Puts a test run's doubles in place of the real providers: each of `mocks` that has an
    /// alias for the configuration it names, and `overrides` at their targets (the first that
    /// matches a resource wins). A target that is not a resource of the configuration is an
    /// error at the line it is written.
    pub fn use_doubles(
        &mut self,
        mocks: &crate::mock::Mocks,
        overrides: Vec<crate::mock::Override>,
    ) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::new();
        for o in &overrides {
            let found = self
                .graph
                .nodes
                .iter()
                .any(|n| matches!(&n.kind, NodeKind::Resource { addr, .. } if o.matches(addr)));
            if !found {
                diags.push(
                    Diagnostic::error(
                        "Override target not found",
                        format!("{} is not a resource of this configuration.", o.target),
                    )
                    .with_range(o.range.clone()),
                );
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        self.doubles = Some(Doubles {
            mocks: mocks.clone(),
            overrides,
            seen: HashSet::new(),
            at: HashMap::new(),
        });
        self.put_doubles();
        Ok(())
    }

    /// Wraps the providers not yet seen to in their doubles.
    fn put_doubles(&mut self) {
        let Some(d) = &mut self.doubles else {
            return;
        };
        for (key, p) in self.providers.iter_mut() {
            if !d.seen.insert(key.clone()) {
                continue;
            }
            if let Some(m) = d.mocks.stand_in(key, p) {
                *p = m;
            }
            for (i, o) in d.overrides.iter().enumerate() {
                d.at.insert((key.clone(), i), o.provider(p));
            }
        }
    }

    /// The provider of configuration `key` for resource `addr`: the one standing in for it
    /// when a test run overrides the resource.
    pub(crate) fn provider_at(&self, key: &str, addr: &ResourceAddr) -> Option<&Arc<dyn Provider>> {
        if let Some(d) = &self.doubles {
            if let Some(i) = d.overrides.iter().position(|o| o.matches(addr)) {
                if let Some(p) = d.at.get(&(key.to_string(), i)) {
                    return Some(p);
                }
            }
        }
        self.providers.get(key)
    }

    pub fn provider(&self, key: &str) -> Result<&Arc<dyn Provider>, Diagnostic> {
        self.providers.get(key).ok_or_else(|| {
            Diagnostic::error(
                "Provider configuration not present",
                format!("{key} is needed but is not configured."),
            )
        })
    }

    pub fn schema_for(
        &self,
        provider_key: &str,
        mode: Mode,
        ty: &str,
    ) -> Result<&ResourceSchema, Diagnostic> {
        let p = self.provider(provider_key)?;
        let s = p.schema();
        let found = match mode {
            Mode::Managed => s.resources.get(ty),
            Mode::Data => s.data_sources.get(ty),
        };
        found.ok_or_else(|| {
            let what = if mode == Mode::Data {
                "data source"
            } else {
                "resource type"
            };
            Diagnostic::error(
                format!("Invalid {what}"),
                format!("The provider {provider_key} does not support {what} {ty:?}."),
            )
        })
    }

    /// Whether the provider configuration `provider_key` declares attribute `attr` of `ty` with
    /// dynamic type (any value, as `terraform_data`'s `input`). False when the configuration has
    /// no such provider or type.
    pub fn attr_is_dynamic(&self, provider_key: &str, mode: Mode, ty: &str, attr: &str) -> bool {
        self.schema_for(provider_key, mode, ty)
            .ok()
            .and_then(|s| s.attributes.get(attr))
            .is_some_and(|a| a.ty == terrane_core::Type::Any)
    }

    /// Loads state from the store.
    pub fn load_state(&mut self, store: &dyn StateStore) -> Result<(), Diagnostics> {
        let state = read_state(store, &self.opts.workspace)?;
        self.set_state(state);
        Ok(())
    }

    /// Takes the state [`read_state`] read.
    pub(crate) fn set_state(&mut self, state: BTreeMap<InstanceAddr, StateInstance>) {
        self.state = state;
    }

    /// Evaluates provider configurations (and the variables and locals they use) and configures
    /// every provider, including those only state still needs (orphans).
    pub async fn configure_providers(&mut self) -> Result<(), Diagnostics> {
        if self.configured {
            return Ok(());
        }
        // Providers that only state references.
        let needed: BTreeSet<String> = self.state.values().map(|s| s.provider.clone()).collect();
        for key in needed {
            if self.providers.contains_key(&key) {
                continue;
            }
            let name = key
                .trim_start_matches("provider.")
                .split('.')
                .next()
                .unwrap_or_default()
                .to_string();
            match self.registry.get(&name) {
                Some(f) => {
                    self.providers.insert(key, f());
                }
                None => {
                    return Err(Diagnostic::error("Provider not available", format!("State holds resources of {key}, but provider {name:?} is not available.")).into());
                }
            }
        }
        self.put_doubles();
        let mut values = Values::default();
        let mut diags = Diagnostics::new();
        let closure = self.provider_closure()?;
        let mut configs: Vec<(String, Value)> = Vec::new();
        for &id in &self.graph.order {
            if !closure.contains(&id) {
                continue;
            }
            match &self.graph.nodes[id].kind {
                NodeKind::Provider { key, .. } => match self.eval_provider_config(&values, key) {
                    Ok(v) => configs.push((key.clone(), v)),
                    Err(d) => diags.extend(d),
                },
                _ => diags.extend(self.eval_named(&mut values, id)),
            }
        }
        for key in self.providers.keys() {
            if !configs.iter().any(|(k, _)| k == key) {
                let empty = self.providers[key]
                    .schema()
                    .provider
                    .default_plan(None, &Value::Map(Default::default()))
                    .0;
                configs.push((key.clone(), empty));
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        // validate: provider blocks are checked against their schemas, offline; nothing is
        // configured.
        if self.opts.validate_only {
            return Ok(());
        }
        for (key, cfg) in configs {
            let cfg =
                with_default_tags(cfg, self.providers[&key].schema(), &self.opts.default_tags);
            if cfg.contains_unknown() {
                diags.push(Diagnostic::error(
                    "Provider configuration depends on values known only after apply",
                    format!("{key}: provider settings must be known when planning."),
                ));
                continue;
            }
            if let Err(e) = self.providers[&key].configure(&cfg).await {
                diags.push(Diagnostic::error(
                    format!("Failed to configure {key}"),
                    e.message,
                ));
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        self.configured = true;
        Ok(())
    }

    /// Provider nodes and the variables and locals they depend on.
    fn provider_closure(&self) -> Result<BTreeSet<NodeId>, Diagnostics> {
        let mut out = BTreeSet::new();
        let mut stack: Vec<NodeId> = self
            .graph
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.kind, NodeKind::Provider { .. }))
            .map(|(i, _)| i)
            .collect();
        while let Some(i) = stack.pop() {
            if !out.insert(i) {
                continue;
            }
            if let NodeKind::Resource { addr, .. } = &self.graph.nodes[i].kind {
                return Err(Diagnostic::error("Provider configuration refers to a resource", format!("Provider configurations may use variables and locals, but not resources ({addr}).")).into());
            }
            stack.extend(self.graph.nodes[i].deps.iter().copied());
        }
        Ok(out)
    }

    fn eval_provider_config(&self, values: &Values, key: &str) -> Result<Value, Diagnostics> {
        let p = self.provider(key)?;
        let Some(pc) = self.config.root.providers.iter().find(|p| p.key() == key) else {
            return Ok(p
                .schema()
                .provider
                .default_plan(None, &Value::Map(Default::default()))
                .0);
        };
        let root = ModulePath::root();
        let scope = self.scope(values, &root);
        let mut ctx = EvalCtx::new(&scope, &pc.file);
        ctx.offset = pc.offset;
        let r = eval_body(
            &mut ctx,
            &pc.body,
            &p.schema().provider,
            &|| Some(pc.range.clone()),
            true,
        );
        if r.diags.has_errors() {
            return Err(r.diags);
        }
        Ok(r.value)
    }

    pub(crate) fn scope<'a>(
        &'a self,
        values: &'a Values,
        module: &'a ModulePath,
    ) -> ModuleScope<'a> {
        ModuleScope {
            graph: &self.graph,
            values,
            module,
            workspace: &self.opts.workspace,
            root_dir: &self.root_dir,
        }
    }

    /// Evaluates a variable, local or output node into `values`.
    pub(crate) fn eval_named(&self, values: &mut Values, id: NodeId) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let node = &self.graph.nodes[id];
        match &node.kind {
            NodeKind::Var { module, name } => {
                let mc = self.graph.module(module);
                let var = &mc.variables[name];
                let mut input_range = None;
                let (raw, sens) = match module.parent_call() {
                    None => match self.opts.inputs.get(name) {
                        Some(v) => (v.clone(), false),
                        None => match &var.default {
                            Some(d) => (d.clone(), false),
                            None if self.opts.validate_only => (Value::Unknown, false),
                            None => {
                                diags.push(
                                    Diagnostic::error("No value for required variable", format!("The root module input variable {name:?} is not set, and has no default value. Use a -var or -var-file command line argument, or a TF_VAR_{name} environment variable, to provide a value."))
                                        .with_range(Some(var.range.clone())),
                                );
                                return diags;
                            }
                        },
                    },
                    Some((parent, call, key)) => {
                        let pm = self.graph.module(&parent);
                        let mcall = &pm.module_calls[&call];
                        match mcall.inputs.get(name) {
                            Some(e) => {
                                // A bad value is the caller's mistake: point at the argument.
                                input_range = e.range();
                                let scope = self.scope(values, &parent);
                                let mut ctx = EvalCtx::at_expr(&scope, e);
                                let expansion = self.graph.instances.of(&parent, &call);
                                for (n, v) in instance_bindings(&key, Some(expansion)) {
                                    ctx.bind(n, v);
                                }
                                match ctx.eval(&e.expr) {
                                    Ok(v) => (v, ctx.sensitive),
                                    Err(d) => {
                                        diags.push(d);
                                        return diags;
                                    }
                                }
                            }
                            None => (var.default.clone().unwrap_or(Value::Null), false),
                        }
                    }
                };
                let v = match (&var.ty, raw.is_null()) {
                    (_, true) if !var.nullable => {
                        diags.push(
                            Diagnostic::error(
                                "Required variable not set",
                                format!(
                                    "Unsupported null value for non-nullable variable {name:?}."
                                ),
                            )
                            .with_range(Some(var.range.clone())),
                        );
                        return diags;
                    }
                    (Some(_), _) => match var.convert(&raw) {
                        Ok(v) => v,
                        Err(m) => {
                            diags.push(
                                Diagnostic::error(
                                    "Invalid value for variable",
                                    format!("The given value is not suitable for var.{name}: {m}."),
                                )
                                .with_range(input_range.clone().or(Some(var.range.clone()))),
                            );
                            return diags;
                        }
                    },
                    (None, _) => raw,
                };
                if sens || var.sensitive {
                    terrane_core::redact::register(&v);
                }
                values.named.insert(id, (v, sens || var.sensitive));
                for val in &var.validations {
                    let scope = self.scope(values, module);
                    let mut ctx = EvalCtx::at_expr(&scope, &val.condition);
                    match ctx.eval(&val.condition.expr) {
                        Ok(Value::Bool(false)) => {
                            let msg = ctx
                                .eval(&val.error_message.expr)
                                .ok()
                                .and_then(|m| m.as_str().map(String::from))
                                .unwrap_or_else(|| "The value is not valid.".into());
                            diags.push(
                                Diagnostic::error(
                                    "Invalid value for variable",
                                    format!(
                                        "{msg}\n\nThis was checked by the validation rule at {}.",
                                        val.condition
                                            .range()
                                            .map(|r| format!("{}:{}", r.file, r.line))
                                            .unwrap_or_default()
                                    ),
                                )
                                .with_range(input_range.clone().or(Some(var.range.clone())))
                                .for_checkable(format!("var.{name}")),
                            );
                        }
                        Ok(_) => {}
                        Err(d) => diags.push(d),
                    }
                }
            }
            NodeKind::Local { module, name } => {
                let l = &self.graph.module(module).locals[name];
                let scope = self.scope(values, module);
                let mut ctx = EvalCtx::at_expr(&scope, &l.expr);
                match ctx.eval(&l.expr.expr) {
                    Ok(v) => {
                        let s = ctx.sensitive;
                        values.named.insert(id, (v, s));
                    }
                    Err(d) => diags.push(d),
                }
            }
            NodeKind::Output { module, name } => {
                let o = &self.graph.module(module).outputs[name];
                let scope = self.scope(values, module);
                let mut ctx = EvalCtx::at_expr(&scope, &o.expr);
                match ctx.eval(&o.expr.expr) {
                    Ok(v) => {
                        if module.is_root() && ctx.sensitive && !o.sensitive {
                            diags.push(Diagnostic::error("Output refers to sensitive values", "To reduce the risk of accidentally exporting sensitive data that was intended to be only internal, Terrane requires that any root module output containing sensitive data be explicitly marked as sensitive, to confirm your intent. Add sensitive = true to the output block.").with_range(Some(o.range.clone())));
                        }
                        let s = ctx.sensitive || o.sensitive;
                        if !o.preconditions.is_empty() {
                            let (failed, _) = crate::conditions::check_all(
                                &mut ctx,
                                &o.preconditions,
                                crate::conditions::Kind::OutputPrecondition,
                            );
                            let at = format!("output.{name}");
                            diags.extend(Diagnostics(
                                failed.into_iter().map(|d| d.for_checkable(&at)).collect(),
                            ));
                        }
                        values.named.insert(id, (v, s));
                    }
                    Err(d) => diags.push(d),
                }
            }
            NodeKind::Check { module, name } => {
                let c = &self.graph.module(module).checks[name];
                let scope = self.scope(values, module);
                let Some(first) = c.asserts.first() else {
                    return diags;
                };
                let mut ctx = EvalCtx::at_expr(&scope, &first.condition);
                // Not known yet (during a plan): checked at the end of the apply.
                let (failed, _unknown) = crate::conditions::check_all(
                    &mut ctx,
                    &c.asserts,
                    crate::conditions::Kind::CheckAssertion,
                );
                for mut d in failed {
                    d.severity = terrane_core::Severity::Warning;
                    diags.push(d.for_checkable(format!("check.{name}")));
                }
            }
            NodeKind::Resource { .. } | NodeKind::Provider { .. } => {}
        }
        diags
    }

    /// How a resource block expands (`count`, `for_each` or a single instance).
    pub(crate) fn expand(
        &self,
        values: &Values,
        pb: &ParsedBlock,
        module: &ModulePath,
    ) -> Result<Expansion, Diagnostic> {
        let scope = self.scope(values, module);
        let validate_only = self.opts.validate_only;
        if let Some(c) = &pb.count() {
            let mut ctx = EvalCtx::at_expr(&scope, c);
            let v = ctx.eval(&c.expr)?;
            return Expansion::of_count(v, c, validate_only);
        }
        if let Some(fe) = &pb.for_each() {
            let mut ctx = EvalCtx::at_expr(&scope, fe);
            let v = ctx.eval(&fe.expr)?;
            return Expansion::of_for_each(v, ctx.sensitive, fe, validate_only);
        }
        Ok(Expansion::Single)
    }

    /// Evaluates one instance's configuration against its schema.
    pub(crate) fn eval_instance(
        &self,
        values: &Values,
        rc: &ResourceConfig,
        pb: &ParsedBlock,
        inst: &InstanceAddr,
        expansion: &Expansion,
        schema: &ResourceSchema,
    ) -> crate::eval::BodyResult {
        let scope = self.scope(values, &inst.resource.module);
        let mut ctx = EvalCtx::new(&scope, &rc.file);
        ctx.offset = pb.offset;
        for (n, v) in instance_bindings(&inst.key, Some(expansion)) {
            ctx.bind(n, v);
        }
        let mut r = eval_body(&mut ctx, pb.body(), schema, &|| Some(rc.range()), true);
        r.sensitive
            .extend(schema.sensitive_attrs().map(String::from));
        r
    }

    /// Checks one instance's preconditions (`this` is `None`) or postconditions (`this` is the
    /// object, bound to `self`). Failures carry the instance's address; the flag says whether
    /// some condition is not known yet.
    pub(crate) fn check_conditions(
        &self,
        values: &Values,
        rc: &ResourceConfig,
        inst: &InstanceAddr,
        expansion: Option<&Expansion>,
        this: Option<&Value>,
    ) -> (Vec<Diagnostic>, bool) {
        let (conds, kind) = match this {
            None => (
                &rc.lifecycle.preconditions,
                crate::conditions::Kind::ResourcePrecondition,
            ),
            Some(_) => (
                &rc.lifecycle.postconditions,
                crate::conditions::Kind::ResourcePostcondition,
            ),
        };
        if conds.is_empty() {
            return (Vec::new(), false);
        }
        let scope = self.scope(values, &inst.resource.module);
        let mut ctx = EvalCtx::new(&scope, &rc.file);
        for (n, v) in instance_bindings(&inst.key, expansion) {
            ctx.bind(n, v);
        }
        if let Some(v) = this {
            ctx.bind("self", v.clone());
        }
        let (failed, unknown) = crate::conditions::check_all(&mut ctx, conds, kind);
        (
            failed
                .into_iter()
                .map(|d| {
                    d.with_address(inst)
                        .for_checkable(inst.resource.to_string())
                })
                .collect(),
            unknown,
        )
    }

    /// Resource-level dependency addresses of a resource node.
    /// `-parallelism`, and each provider's own limit keyed by its configuration's key: what the
    /// walks of plan, refresh and apply may run at once.
    pub(crate) fn limits(&self) -> crate::walk::Limits {
        let mut limits = crate::walk::Limits::new(self.opts.parallelism);
        for (k, p) in &self.providers {
            if let Some(n) = p.max_concurrency() {
                limits.per_key.insert(k.clone(), n.max(1));
            }
        }
        limits
    }

    pub(crate) fn dep_addrs(&self, id: NodeId) -> Vec<String> {
        self.graph
            .resource_deps
            .get(&id)
            .map(|s| {
                s.iter()
                    .map(|d| self.graph.nodes[*d].key.to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `count` or `each` of one instance. Without its expansion (an object being destroyed),
/// `each.value` is unknown to Terrane and left out.
pub(crate) fn instance_bindings(
    key: &InstanceKey,
    expansion: Option<&Expansion>,
) -> Vec<(&'static str, Value)> {
    match (key, expansion) {
        (InstanceKey::Int(i), _) => vec![("count", Value::map([("index", Value::from(*i))]))],
        (InstanceKey::Str(k), Some(Expansion::ForEach(m))) => vec![(
            "each",
            Value::map([
                ("key", Value::from(k.as_str())),
                ("value", m.get(k).cloned().unwrap_or(Value::Null)),
            ]),
        )],
        (InstanceKey::Str(k), None) => {
            vec![("each", Value::map([("key", Value::from(k.as_str()))]))]
        }
        _ => Vec::new(),
    }
}

/// Reads the instances of `workspace` from `store` (it needs no session, so it can run while
/// another thread builds one).
pub(crate) fn read_state(
    store: &dyn StateStore,
    workspace: &str,
) -> Result<BTreeMap<InstanceAddr, StateInstance>, Diagnostics> {
    let mut diags = Diagnostics::new();
    // Built a batch at a time: a map built from a sorted run fills its nodes, where one insert
    // at a time leaves them about half empty (20 MB at 100,000 resources), and merging each
    // batch in (`append` consumes both maps as it builds) never holds every row twice, as
    // one run of all rows beside the finished map would (30 MB at 100,000 resources).
    let mut state = BTreeMap::new();
    let mut batch = Vec::with_capacity(STATE_BATCH);
    let merge = |batch: &mut Vec<(InstanceAddr, StateInstance)>,
                 state: &mut BTreeMap<InstanceAddr, StateInstance>| {
        // Collected in place (the batch's own buffer), then merged.
        let full = std::mem::replace(batch, Vec::with_capacity(STATE_BATCH));
        let mut part = BTreeMap::from_iter(full);
        state.append(&mut part);
    };
    store
        .for_each_resource(workspace, &mut |r| match StateInstance::from_record(&r) {
            Ok(si) => {
                batch.push((si.addr.clone(), si));
                if batch.len() == STATE_BATCH {
                    merge(&mut batch, &mut state);
                }
            }
            Err(d) => diags.push(d),
        })
        .map_err(|e| Diagnostics::from(Diagnostic::error("Failed to read state", e.to_string())))?;
    merge(&mut batch, &mut state);
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(state)
}

/// Rows of state turned into a map at a time ([`read_state`]).
const STATE_BATCH: usize = 32_768;

pub(crate) fn state_err(e: terrane_state::StateError) -> Diagnostics {
    Diagnostic::error("Failed to write state", e.to_string()).into()
}

fn first_user_range(g: &Graph, provider_key: &str) -> Option<terrane_core::SourceRange> {
    g.resource_nodes()
        .find(|(_, addr, rc)| g.provider_key(addr, rc) == provider_key)
        .map(|(_, _, rc)| rc.range())
}
