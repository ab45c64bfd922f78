//! What `terrane console` and `terrane test` evaluate with: expressions given as text, in
//! the root module, with the values a plan kept.

use terrane_core::{Diagnostic, Diagnostics, ModulePath, Value, ValueMap};

use crate::graph::NodeKey;
use crate::session::Session;

impl Session {
    /// Evaluates `text`, one expression, in the root module with the values of the last plan
    /// (made after [`Session::keep_values`]): what `terrane console` prints. The flag says
    /// whether the value is sensitive.
    pub fn eval_text(&self, text: &str) -> Result<(Value, bool), Diagnostics> {
        self.eval_text_with(text, &[])
    }

    /// [`Session::eval_text`] with more names bound at the root (`run`, in test files).
    pub fn eval_text_with(
        &self,
        text: &str,
        bindings: &[(String, Value)],
    ) -> Result<(Value, bool), Diagnostics> {
        let file = crate::source::SourceFile::new("<console-input>", text.to_string());
        let expr = hcl_edit::parser::parse_expr(text).map_err(|e| {
            let loc = e.location();
            Diagnostics::from(
                Diagnostic::error("Invalid expression", e.message().to_string())
                    .with_range(Some(file.range_at(loc.line(), loc.column()))),
            )
        })?;
        let Some(values) = &self.kept_values else {
            return Err(Diagnostic::error(
                "Nothing evaluated yet",
                "Expressions are evaluated with the values of a plan made with keep_values.",
            )
            .into());
        };
        let root = ModulePath::root();
        let scope = self.scope(values, &root);
        let mut ctx = crate::eval::EvalCtx::new(&scope, &file);
        // `output.NAME`, as test assertions read the root module's outputs (sensitive ones
        // are left out: a binding cannot carry their sensitivity).
        let outputs: ValueMap = self
            .config
            .root
            .outputs
            .keys()
            .filter_map(|name| {
                let id = self
                    .graph
                    .id(&NodeKey::Output(root.clone(), name.clone()))?;
                match values.named.get(&id) {
                    Some((v, false)) => Some((name.clone(), v.clone())),
                    _ => None,
                }
            })
            .collect();
        ctx.bind("output", Value::Map(outputs));
        for (name, v) in bindings {
            ctx.bind(name, v.clone());
        }
        let v = ctx.eval(&expr).map_err(Diagnostics::from)?;
        Ok((v, ctx.sensitive))
    }

    /// Makes the next plan keep its values for [`Session::eval_text`].
    pub fn keep_values(&mut self) {
        self.keep_values = true;
    }
}
