//! Function calls: the functions that see their arguments' expressions rather than only
//! values (`try`, `can`, `sensitive`, `nonsensitive`, `issensitive`, `ephemeralasnull`,
//! `templatefile`, `templatestring`, and `convert`, whose second argument is a type), then every
//! other function by name (`functions/`). As in Terraform, `core::NAME` is the built-in NAME
//! (`core::max(1, 2)`), and `provider::terraform::NAME` the built-in provider's functions; no
//! other provider's functions can be called.

use std::ops::Range;

use hcl_edit::expr::Expression;
use hcl_edit::Span;
use terrane_core::{Diagnostic, Value, ValueMap};

use super::{describe_target, functions, EvalCtx, EvalResult, Resolved, Scope};
use crate::refs::RefTarget;
use crate::source::SourceFile;

/// Errors that `try` and `can` do not catch, as in Terraform: they are mistakes in the
/// configuration (a reference to something undeclared, a function that does not exist), not
/// values that may fail.
fn static_error(d: &Diagnostic) -> bool {
    d.summary.starts_with("Reference to undeclared") || d.summary == "Call to unknown function"
}

/// Inside a template rendered by `templatefile`: only the template's variables exist.
struct TemplateScope;

impl Scope for TemplateScope {
    fn resolve(&self, target: &RefTarget) -> Result<Resolved, String> {
        Err(format!(
            "{} cannot be used in a template: only the variables passed to it are in scope.",
            describe_target(target)
        ))
    }
}

impl EvalCtx<'_> {
    pub(super) fn call(&mut self, f: &hcl_edit::expr::FuncCall) -> EvalResult {
        let full: String = f
            .name
            .namespace
            .iter()
            .map(|n| format!("{}::", n.value().as_str()))
            .chain([f.name.name.value().as_str().to_string()])
            .collect();
        let span = f.name.name.span();
        let args: Vec<&Expression> = f.args.iter().collect();
        // `core::NAME` is the built-in NAME, as Terraform calls it when a provider's function
        // has the same name.
        let name = match full.strip_prefix("core::") {
            Some(bare) if !bare.contains("::") => bare,
            _ => full.as_str(),
        };
        if name.contains("::") && !name.starts_with("provider::terraform::") {
            return Err(self.error(
                span,
                "Call to unknown function",
                format!("There is no function named {full:?}. Only the built-in functions (NAME or core::NAME) and those of the built-in \"terraform\" provider (provider::terraform::NAME) can be called in Terrane."),
            ));
        }
        // Functions that must see their arguments' errors or sensitivity, or evaluate a template.
        match name {
            "sensitive" | "nonsensitive" | "issensitive" | "ephemeralasnull" => {
                let [a] = args.as_slice() else {
                    return Err(self.error(
                        span,
                        "Invalid function arguments",
                        format!("{name}() takes exactly one argument."),
                    ));
                };
                let before = self.sensitive;
                self.sensitive = false;
                let v = self.eval(a);
                let marked = self.sensitive;
                let v = v?;
                self.sensitive = before;
                return Ok(match name {
                    "sensitive" => {
                        self.sensitive = true;
                        v
                    }
                    "nonsensitive" => v,
                    "issensitive" if v.is_unknown() && !marked => Value::Unknown,
                    "issensitive" => Value::Bool(marked),
                    _ => {
                        self.sensitive |= marked;
                        v
                    }
                });
            }
            "templatefile" | "templatestring" => {
                if self.in_template {
                    return Err(self.error(
                        span,
                        "Error in function call",
                        format!("Call to function {name:?} failed: cannot recursively call {name} from inside another template function."),
                    ));
                }
                if name == "templatestring"
                    && !matches!(
                        args.first(),
                        Some(Expression::Variable(_)) | Some(Expression::Traversal(_)) | None
                    )
                {
                    return Err(self.error(
                        args[0].span(),
                        "Invalid template expression",
                        "The templatestring function requires a direct reference to a named value (such as local.template) as its template argument, not an expression that builds the template.",
                    ));
                }
                let vals = args
                    .iter()
                    .map(|a| self.eval(a))
                    .collect::<Result<Vec<_>, _>>()?;
                return self.render_template(name, vals, f.span());
            }
            "try" => {
                let mut last = None;
                for a in &args {
                    match self.eval(a) {
                        Ok(v) => return Ok(v),
                        Err(d) if static_error(&d) => return Err(d),
                        Err(d) => last = Some(d),
                    }
                }
                return Err(last.unwrap_or_else(|| {
                    self.error(
                        span,
                        "Invalid function argument",
                        "try() needs at least one argument.",
                    )
                }));
            }
            "can" => {
                let [a] = args.as_slice() else {
                    return Err(self.error(
                        span,
                        "Invalid function arguments",
                        "can() takes exactly one argument.",
                    ));
                };
                return Ok(match self.eval(a) {
                    Ok(v) if v.is_unknown() => Value::Unknown,
                    Ok(_) => Value::Bool(true),
                    Err(d) if static_error(&d) => return Err(d),
                    Err(_) => Value::Bool(false),
                });
            }
            "convert" => return self.convert(&args, f.span()),
            _ => {}
        }
        let mut vals = Vec::with_capacity(args.len());
        for a in &args {
            vals.push(self.eval(a)?);
        }
        if f.args.expand_final() {
            match vals.pop() {
                Some(Value::List(l)) => vals.extend(l),
                Some(Value::Unknown) => return Ok(Value::Unknown),
                _ => {
                    return Err(self.error(
                        span,
                        "Invalid expanding argument",
                        "The final argument with ... must be a list.",
                    ))
                }
            }
        }
        let dir = self.scope.module_dir();
        functions::call(name, vals, &dir).map_err(|m| {
            if m.starts_with("There is no function") {
                self.error(span, "Call to unknown function", m)
            } else {
                self.error(
                    f.span(),
                    "Invalid function argument",
                    format!("{name}: {m}"),
                )
            }
        })
    }

    /// `convert(value, type)`: the value converted to the type, written as a variable's type
    /// constraint (`list(string)`, `object({a = optional(number, 1)})`), with the defaults of its
    /// optional attributes, as Terraform's `convert`.
    fn convert(&mut self, args: &[&Expression], span: Option<Range<usize>>) -> EvalResult {
        let [value, ty] = args else {
            return Err(self.error(
                span,
                "Invalid function arguments",
                "convert() takes exactly two arguments: a value and a type.",
            ));
        };
        let v = self.eval(value)?;
        let mut constant = |e: &Expression| self.eval(e).map_err(|d| d.detail);
        let parsed = crate::config::parse_type_constraint(ty, &mut constant);
        let (t, defaults) = parsed.map_err(|m| {
            self.error(
                ty.span(),
                "Invalid type specification",
                format!("The second argument of convert must be a type: {m}."),
            )
        })?;
        if v.contains_unknown() {
            return Ok(Value::Unknown);
        }
        defaults.convert(&t, &v).map_err(|m| {
            self.error(
                span.clone(),
                "Invalid function argument",
                format!("Invalid value for \"value\" parameter: {m}."),
            )
        })
    }

    /// `templatefile(path, vars)` and `templatestring(template, vars)`: the template rendered
    /// with only `vars` in scope (and the functions, but no further template rendering).
    fn render_template(
        &mut self,
        name: &str,
        vals: Vec<Value>,
        span: Option<Range<usize>>,
    ) -> EvalResult {
        let fail = |ctx: &Self, m: String| {
            ctx.error(
                span.clone(),
                "Invalid function argument",
                format!("{name}: {m}"),
            )
        };
        let (source, vars) = match vals.as_slice() {
            [t, v] => (t.clone(), v.clone()),
            _ => return Err(fail(self, "takes exactly two arguments".into())),
        };
        if source.contains_unknown() || vars.is_unknown() {
            return Ok(Value::Unknown);
        }
        let Some(source) = source.as_str().map(String::from) else {
            return Err(fail(
                self,
                format!(
                    "the first argument must be a string, got {}",
                    source.type_name()
                ),
            ));
        };
        let vars = match vars {
            Value::Map(m) => m,
            Value::Null => ValueMap::new(),
            o => {
                return Err(fail(
                    self,
                    format!(
                        "the vars argument must be a map or object, got {}",
                        o.type_name()
                    ),
                ))
            }
        };
        let (label, text) = if name == "templatefile" {
            let path = self.scope.module_dir().join(&source);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| fail(self, format!("cannot read {}: {e}", path.display())))?;
            (path.display().to_string(), text)
        } else {
            ("<templatestring argument>".to_string(), source)
        };
        for k in vars.keys() {
            let ok = k
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && k.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
            if !ok {
                return Err(fail(self, format!("invalid template variable name {k:?}: must start with a letter, followed by zero or more letters, digits, and underscores")));
            }
        }
        let template = hcl_edit::parser::parse_template(&text).map_err(|e| {
            fail(
                self,
                format!("the template in {label} does not parse: {}", e.message()),
            )
        })?;
        let file = SourceFile::new(label, text);
        let mut inner = EvalCtx::new(&TemplateScope, &file);
        inner.in_template = true;
        for (k, v) in vars {
            inner.bind(&k, v);
        }
        // An error inside the template is reported at the call, naming the template's line.
        let out = inner.template(&template).map_err(|d| {
            let at = d
                .range
                .as_ref()
                .map(|r| format!(" (at {}:{}:{})", r.file, r.line, r.col))
                .unwrap_or_default();
            fail(self, format!("{}: {}{at}", d.summary, d.detail))
        })?;
        self.sensitive |= inner.sensitive;
        Ok(out)
    }
}
