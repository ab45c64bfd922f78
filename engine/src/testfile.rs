//! `.tftest.hcl` files, as `terrane test` runs them: file-level `variables`,
//! `override_resource` / `override_data` and `mock_provider` blocks (with an `alias`,
//! `mock_resource` and `mock_data` defaults, overrides, and a `source` of `.tfmock.hcl`
//! files), and `run` blocks with `command` (`apply`, the default, or `plan`), `variables`,
//! `expect_failures`, `assert` and override blocks and a `module` block (the run is of
//! another module, a local path). A run's
//! variables may refer to `var.NAME` (the file's and the command line's) and to the outputs of
//! earlier runs (`run.NAME.OUTPUT`), as its assertions may. Other arguments and blocks of
//! Terraform's test language are refused as not supported yet, at their line.

use std::collections::BTreeMap;
use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span;
use terrane_core::{Diagnostic, Diagnostics, Value};

use crate::eval::{eval_static, EmptyScope, EvalCtx};
use crate::mock::{MockSpec, Override};
use crate::source::SourceFile;

/// A test file: its runs, in order, and the providers it mocks.
pub struct TestFile {
    pub runs: Vec<RunBlock>,
    pub mocks: Vec<MockSpec>,
    /// The file's own `override_resource` and `override_data` blocks.
    pub overrides: Vec<Override>,
}

/// One `assert`: the text of its condition and message, and where the condition is.
pub struct Assert {
    pub condition: String,
    pub message: String,
    pub span: std::ops::Range<usize>,
}

pub struct RunBlock {
    pub name: String,
    pub apply: bool,
    /// The file's variables (static values).
    pub variables: BTreeMap<String, Value>,
    /// The run's own, evaluated when it runs ([`RunBlock::own_variables`]).
    pub own: Vec<(String, Expression)>,
    pub asserts: Vec<Assert>,
    /// `expect_failures`: the checkable objects (`var.name`, `output.url`, `check.health`,
    /// `aws_vpc.main`) whose custom conditions this run is meant to fail, with where each is.
    pub expect_failures: Vec<(String, std::ops::Range<usize>)>,
    /// `module { source = "./setup" }`: the run plans or applies that module (a path from the
    /// module under test) instead, with a state of its own.
    pub module: Option<ModuleRef>,
    /// The run's own `override_resource` and `override_data` blocks.
    pub overrides: Vec<Override>,
}

/// The module a run is of, with where its `source` is written.
pub struct ModuleRef {
    pub source: String,
    pub span: std::ops::Range<usize>,
}

impl RunBlock {
    /// The run's own variables, with `var` (the file's and the command line's variables) and
    /// `run` (an object of the earlier runs' outputs) bound.
    pub fn own_variables(
        &self,
        file: &SourceFile,
        var: &BTreeMap<String, Value>,
        run: &Value,
    ) -> Result<BTreeMap<String, Value>, Diagnostics> {
        let mut ctx = EvalCtx::new(&EmptyScope, file);
        ctx.bind("var", Value::Map(var.clone().into_iter().collect()));
        ctx.bind("run", run.clone());
        let mut out = BTreeMap::new();
        let mut diags = Diagnostics::new();
        for (name, e) in &self.own {
            match ctx.eval(e) {
                Ok(v) => {
                    out.insert(name.clone(), v);
                }
                Err(d) => diags.push(d),
            }
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(out)
        }
    }
}

/// A test file's run blocks, in order (each with the file's variables under its own), and its
/// mock providers.
pub fn parse(file: &Arc<SourceFile>) -> Result<TestFile, Diagnostics> {
    let body = parse_body(file, "Invalid test file")?;
    let mut diags = Diagnostics::new();
    let mut file_vars = BTreeMap::new();
    let mut runs = Vec::new();
    let mut mocks: Vec<MockSpec> = Vec::new();
    let mut overrides = Vec::new();
    let at = |span: Option<std::ops::Range<usize>>| span.map(|s| file.range(s));
    for s in body.iter() {
        let Structure::Block(b) = s else {
            diags.push(
                Diagnostic::error(
                    "Unsupported argument",
                    "A test file holds variables, mock_provider and run blocks.",
                )
                .with_range(at(s.span())),
            );
            continue;
        };
        match b.ident.value().as_str() {
            "variables" => file_vars.extend(variables(file, b, &mut diags)),
            kind @ ("override_resource" | "override_data") => overrides.extend(override_block(file, kind, b, &mut diags)),
            "mock_provider" => {
                if let Some(m) = mock_provider(file, b, &mut diags) {
                    if mocks.iter().any(|x| x.name == m.name && x.alias == m.alias) {
                        let name = match &m.alias {
                            Some(a) => format!("{}.{a}", m.name),
                            None => m.name.clone(),
                        };
                        diags.push(
                            Diagnostic::error("Duplicate mock provider", format!("The provider {name:?} is mocked twice in this file."))
                                .with_range(at(b.ident.span())),
                        );
                    } else {
                        mocks.push(m);
                    }
                }
            }
            "run" => {
                let name = b
                    .labels
                    .first()
                    .map(|l| l.as_str().to_string())
                    .unwrap_or_default();
                let mut run = RunBlock {
                    name,
                    apply: true,
                    variables: file_vars.clone(),
                    own: Vec::new(),
                    asserts: Vec::new(),
                    expect_failures: Vec::new(),
                    module: None,
                    overrides: Vec::new(),
                };
                for s in b.body.iter() {
                    match s {
                        Structure::Attribute(a) => match a.key.value().as_str() {
                            "command" => {
                                let text = a.value.span().and_then(|sp| file.text.get(sp)).unwrap_or_default().trim();
                                match text {
                                    "apply" => run.apply = true,
                                    "plan" => run.apply = false,
                                    _ => diags.push(Diagnostic::error("Invalid command", "command is plan or apply.").with_range(at(a.value.span()))),
                                }
                            }
                            "expect_failures" => match &a.value {
                                Expression::Array(items) => {
                                    for e in items.iter() {
                                        let span = e.span().unwrap_or(0..0);
                                        let text: String = file.text.get(span.clone()).unwrap_or_default().split_whitespace().collect();
                                        if matches!(e, Expression::Traversal(_) | Expression::Variable(_)) {
                                            run.expect_failures.push((text, span));
                                        } else {
                                            diags.push(Diagnostic::error("Invalid expect_failures", "Each item names a variable, output, check block or resource, such as var.name or aws_vpc.main.").with_range(at(Some(span))));
                                        }
                                    }
                                }
                                _ => diags.push(Diagnostic::error("Invalid expect_failures", "expect_failures is a list, such as [var.name, check.health].").with_range(at(a.value.span()))),
                            },
                            other => diags.push(
                                Diagnostic::error("Argument not supported yet", format!("{other:?} in a run block is not supported yet: Terrane's test runs take command, variables, expect_failures and assert."))
                                    .with_range(at(a.key.span())),
                            ),
                        },
                        Structure::Block(ib) => match ib.ident.value().as_str() {
                            "variables" => run.own.extend(ib.body.iter().filter_map(|s| match s {
                                Structure::Attribute(a) => Some((a.key.value().as_str().to_string(), a.value.clone())),
                                Structure::Block(_) => None,
                            })),
                            "assert" => {
                                let mut condition = None;
                                let mut message = String::from("Assertion failed");
                                for s in ib.body.iter() {
                                    if let Structure::Attribute(a) = s {
                                        let span = a.value.span().unwrap_or(0..0);
                                        let text = file.text.get(span.clone()).unwrap_or_default().to_string();
                                        match a.key.value().as_str() {
                                            "condition" => condition = Some((text, span)),
                                            "error_message" => message = text,
                                            other => diags.push(Diagnostic::error("Unsupported argument", format!("An assert block takes condition and error_message, not {other:?}.")).with_range(at(a.key.span()))),
                                        }
                                    }
                                }
                                match condition {
                                    Some((condition, span)) => run.asserts.push(Assert { condition, message, span }),
                                    None => diags.push(Diagnostic::error("Missing required argument", "An assert block needs a condition.").with_range(at(ib.ident.span()))),
                                }
                            }
                            "module" => run.module = module_ref(file, ib, &mut diags),
                            kind @ ("override_resource" | "override_data") => run.overrides.extend(override_block(file, kind, ib, &mut diags)),
                            other => diags.push(
                                Diagnostic::error("Block not supported yet", format!("A {other:?} block in a run block is not supported yet: Terrane's test runs take variables, assert, module, override_resource and override_data blocks."))
                                    .with_range(at(ib.ident.span())),
                            ),
                        },
                    }
                }
                runs.push(run);
            }
            other => diags.push(
                Diagnostic::error("Unsupported block type", format!("A test file holds variables, mock_provider, override_resource, override_data and run blocks, not {other:?} (not supported yet)."))
                    .with_range(at(b.ident.span())),
            ),
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(TestFile {
            runs,
            mocks,
            overrides,
        })
    }
}

/// The file's HCL body; a syntax error is `summary` at its line.
fn parse_body(file: &Arc<SourceFile>, summary: &str) -> Result<Body, Diagnostics> {
    hcl_edit::parser::parse_body(&file.text).map_err(|e| {
        let loc = e.location();
        Diagnostics::from(
            Diagnostic::error(summary, e.message().to_string())
                .with_range(Some(file.range_at(loc.line(), loc.column()))),
        )
    })
}

/// A `mock_provider "NAME"` block: its `mock_resource "TYPE"` and `mock_data "TYPE"` blocks'
/// `defaults` (objects of static values), and its `source`, a directory of `*.tfmock.hcl`
/// files holding more of them (read by the caller, [`parse_mock_file`]), its `alias` and
/// its `override_resource` and `override_data` blocks.
fn mock_provider(file: &Arc<SourceFile>, b: &Block, diags: &mut Diagnostics) -> Option<MockSpec> {
    let at = |span: Option<std::ops::Range<usize>>| span.map(|s| file.range(s));
    let Some(name) = b.labels.first().map(|l| l.as_str().to_string()) else {
        diags.push(
            Diagnostic::error("Missing name for mock_provider", "A mock_provider block has the provider's local name as its label, such as mock_provider \"aws\" {}.")
                .with_range(at(b.ident.span())),
        );
        return None;
    };
    let mut spec = MockSpec {
        name,
        ..Default::default()
    };
    for s in b.body.iter() {
        if let Structure::Attribute(a) = s {
            match (a.key.value().as_str(), eval_static(&a.value, file)) {
                ("source", Ok(Value::String(dir))) => spec.source = Some((dir, a.value.span().unwrap_or(0..0))),
                ("source", Ok(_)) => diags.push(
                    Diagnostic::error("Invalid source", "source is a directory of .tfmock.hcl files, such as \"./testing/aws\".")
                        .with_range(at(a.value.span())),
                ),
                ("source", Err(d)) => diags.extend(d),
                ("alias", Ok(Value::String(alias))) if !alias.is_empty() => spec.alias = Some(alias),
                ("alias", Ok(_)) => diags.push(
                    Diagnostic::error("Invalid alias", "alias is the name of the provider configuration the mock stands in for, such as \"east\" for aws.east.")
                        .with_range(at(a.value.span())),
                ),
                ("alias", Err(d)) => diags.extend(d),
                (other, _) => diags.push(
                    Diagnostic::error("Argument not supported yet", format!("{other:?} in a mock_provider block is not supported yet: Terrane's mock providers take alias, source, mock_resource, mock_data, override_resource and override_data."))
                        .with_range(at(a.key.span())),
                ),
            }
        }
    }
    mock_blocks(file, &b.body, &mut spec, diags);
    Some(spec)
}

/// A `.tfmock.hcl` file, as a mock provider's `source` names a directory of them: its
/// `mock_resource` and `mock_data` blocks, added to `spec` where the test file's own do not
/// name the type.
pub fn parse_mock_file(file: &Arc<SourceFile>, spec: &mut MockSpec) -> Result<(), Diagnostics> {
    let body = parse_body(file, "Invalid mock file")?;
    let mut diags = Diagnostics::new();
    for s in body.iter() {
        if let Structure::Attribute(a) = s {
            diags.push(
                Diagnostic::error(
                    "Unsupported argument",
                    format!(
                        "A mock file holds mock_resource and mock_data blocks, not {:?}.",
                        a.key.value().as_str()
                    ),
                )
                .with_range(a.key.span().map(|sp| file.range(sp))),
            );
        }
    }
    let mut found = MockSpec::default();
    mock_blocks(file, &body, &mut found, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    for (ty, d) in found.resources {
        spec.resources.entry(ty).or_insert(d);
    }
    for (ty, d) in found.data {
        spec.data.entry(ty).or_insert(d);
    }
    spec.overrides.extend(found.overrides);
    Ok(())
}

/// The `mock_resource` and `mock_data` blocks of `body` into `spec` (attributes are the
/// caller's).
fn mock_blocks(file: &Arc<SourceFile>, body: &Body, spec: &mut MockSpec, diags: &mut Diagnostics) {
    let at = |span: Option<std::ops::Range<usize>>| span.map(|s| file.range(s));
    for s in body.iter() {
        match s {
            Structure::Attribute(_) => {}
            Structure::Block(ib) => {
                let kind = ib.ident.value().as_str();
                let into = match kind {
                    "mock_resource" => &mut spec.resources,
                    "mock_data" => &mut spec.data,
                    "override_resource" | "override_data" => {
                        spec.overrides.extend(override_block(file, kind, ib, diags));
                        continue;
                    }
                    other => {
                        diags.push(
                            Diagnostic::error("Block not supported yet", format!("A {other:?} block in a mock_provider block is not supported yet: Terrane's mock providers take mock_resource, mock_data, override_resource and override_data blocks."))
                                .with_range(at(ib.ident.span())),
                        );
                        continue;
                    }
                };
                let Some(ty) = ib.labels.first().map(|l| l.as_str().to_string()) else {
                    diags.push(
                        Diagnostic::error(format!("Missing type for {kind}"), format!("A {kind} block has the type it mocks as its label, such as {kind} \"aws_s3_bucket\" {{}}."))
                            .with_range(at(ib.ident.span())),
                    );
                    continue;
                };
                let mut defaults = terrane_core::ValueMap::new();
                for s in ib.body.iter() {
                    match s {
                        Structure::Attribute(a) if a.key.value().as_str() == "defaults" => match eval_static(&a.value, file) {
                            Ok(Value::Map(m)) => defaults = m,
                            Ok(_) => diags.push(
                                Diagnostic::error("Invalid defaults", "defaults is an object of attribute values, such as { arn = \"arn:aws:s3:::b\" }.")
                                    .with_range(at(a.value.span())),
                            ),
                            Err(d) => diags.extend(d),
                        },
                        Structure::Attribute(a) => diags.push(
                            Diagnostic::error("Argument not supported yet", format!("{:?} in a {kind} block is not supported yet: it takes defaults.", a.key.value().as_str()))
                                .with_range(at(a.key.span())),
                        ),
                        Structure::Block(x) => diags.push(
                            Diagnostic::error("Unsupported block type", format!("A {kind} block takes defaults, not {:?} blocks.", x.ident.value().as_str()))
                                .with_range(at(x.ident.span())),
                        ),
                    }
                }
                into.insert(ty, defaults);
            }
        }
    }
}

/// An `override_resource` or `override_data` block (`kind`): its `target`, a resource or data
/// source of the configuration (every instance of it; a step `module.NAME` without a key is
/// every instance of that call), and its `values`, an object of static values for the
/// computed attributes. `override_during` and an instance as the target are refused as not
/// supported yet.
fn override_block(
    file: &Arc<SourceFile>,
    kind: &str,
    b: &Block,
    diags: &mut Diagnostics,
) -> Option<Override> {
    let at = |span: Option<std::ops::Range<usize>>| span.map(|s| file.range(s));
    let data = kind == "override_data";
    let mut target = None;
    let mut values = terrane_core::ValueMap::new();
    for s in b.body.iter() {
        match s {
            Structure::Attribute(a) => match a.key.value().as_str() {
                "target" => {
                    let span = a.value.span();
                    let text: String = span
                        .clone()
                        .and_then(|sp| file.text.get(sp))
                        .unwrap_or_default()
                        .split_whitespace()
                        .collect();
                    let parsed = matches!(a.value, Expression::Traversal(_))
                        .then(|| terrane_core::InstanceAddr::parse(&text).ok())
                        .flatten();
                    let what = if data { "a data source, such as data.aws_ami.ubuntu" } else { "a resource, such as aws_s3_bucket.logs" };
                    match parsed {
                        Some(addr) if (addr.resource.mode == terrane_core::Mode::Data) != data => diags.push(
                            Diagnostic::error("Invalid override target", format!("The target of {kind} is {what}."))
                                .with_range(at(span)),
                        ),
                        Some(addr) if addr.key != terrane_core::InstanceKey::None => diags.push(
                            Diagnostic::error("Override target not supported yet", format!("{text}: an override's target is a whole resource (every instance of it); one instance as the target is not supported yet."))
                                .with_range(at(span)),
                        ),
                        Some(addr) => target = Some((addr.resource, at(span))),
                        None => diags.push(
                            Diagnostic::error("Invalid override target", format!("The target of {kind} is {what}."))
                                .with_range(at(span)),
                        ),
                    }
                }
                "values" => match eval_static(&a.value, file) {
                    Ok(Value::Map(m)) => values = m,
                    Ok(_) => diags.push(
                        Diagnostic::error("Invalid values", "values is an object of attribute values, such as { arn = \"arn:aws:s3:::b\" }.")
                            .with_range(at(a.value.span())),
                    ),
                    Err(d) => diags.extend(d),
                },
                other => diags.push(
                    Diagnostic::error("Argument not supported yet", format!("{other:?} in an {kind} block is not supported yet: it takes target and values."))
                        .with_range(at(a.key.span())),
                ),
            },
            Structure::Block(x) => diags.push(
                Diagnostic::error("Unsupported block type", format!("An {kind} block takes target and values, not {:?} blocks.", x.ident.value().as_str()))
                    .with_range(at(x.ident.span())),
            ),
        }
    }
    let has_target = b
        .body
        .iter()
        .any(|s| matches!(s, Structure::Attribute(a) if a.key.value().as_str() == "target"));
    if !has_target {
        diags.push(
            Diagnostic::error(
                "Missing required argument",
                format!("An {kind} block needs a target."),
            )
            .with_range(at(b.ident.span())),
        );
    }
    let (target, range) = target?;
    Some(Override {
        target,
        values,
        range,
    })
}

/// A run's `module` block: its `source`, a local path (`./` or `../`); a registry source or a
/// `version` is refused as not supported yet.
fn module_ref(file: &Arc<SourceFile>, b: &Block, diags: &mut Diagnostics) -> Option<ModuleRef> {
    let at = |span: Option<std::ops::Range<usize>>| span.map(|s| file.range(s));
    let mut source = None;
    for s in b.body.iter() {
        match s {
            Structure::Attribute(a) if a.key.value().as_str() == "source" => {
                let span = a.value.span().unwrap_or(0..0);
                match eval_static(&a.value, file) {
                    Ok(Value::String(p)) if p.starts_with("./") || p.starts_with("../") => {
                        source = Some(ModuleRef { source: p, span })
                    }
                    Ok(Value::String(p)) => diags.push(
                        Diagnostic::error(
                            "Module source not supported yet",
                            format!("{p:?}: a test run's module is a local path (starting with ./ or ../); registry and remote sources are not supported yet."),
                        )
                        .with_range(at(Some(span))),
                    ),
                    Ok(_) => diags.push(
                        Diagnostic::error("Invalid module source", "source is a string, such as \"./testing/setup\".")
                            .with_range(at(Some(span))),
                    ),
                    Err(d) => diags.extend(d),
                }
            }
            Structure::Attribute(a) => diags.push(
                Diagnostic::error(
                    "Argument not supported yet",
                    format!("{:?} in a run's module block is not supported yet: it takes source, a local path.", a.key.value().as_str()),
                )
                .with_range(at(a.key.span())),
            ),
            Structure::Block(ib) => diags.push(
                Diagnostic::error("Unsupported block type", "A run's module block takes only source.")
                    .with_range(at(ib.ident.span())),
            ),
        }
    }
    let has_source = b
        .body
        .iter()
        .any(|s| matches!(s, Structure::Attribute(a) if a.key.value().as_str() == "source"));
    if !has_source {
        diags.push(
            Diagnostic::error(
                "Missing required argument",
                "A run's module block needs source, a local path such as \"./testing/setup\".",
            )
            .with_range(at(b.ident.span())),
        );
    }
    source
}

/// A `variables` block's values: literals and functions.
fn variables(
    file: &Arc<SourceFile>,
    b: &Block,
    diags: &mut Diagnostics,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for s in b.body.iter() {
        if let Structure::Attribute(a) = s {
            match eval_static(&a.value, file) {
                Ok(v) => {
                    out.insert(a.key.value().as_str().to_string(), v);
                }
                Err(d) => diags.extend(d),
            }
        }
    }
    out
}
