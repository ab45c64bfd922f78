//! `provider` blocks and `terraform { required_providers { ... } }`.

use std::sync::Arc;

use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Attribute, Block};
use hcl_edit::Span;
use terrane_core::{Diagnostic, Value, ValueMap};

use super::super::{BackendConfig, ModuleConfig, ProviderConfig, RequiredProvider};
use super::{block_header_range, Loader};
use crate::config::version::{check_required_version, TERRAFORM_LANGUAGE_VERSION};
use crate::source::SourceFile;

impl Loader {
    /// A module call's `providers = { aws = aws.west, aws.east = aws }`: each entry as the
    /// child's configuration key and the caller's.
    pub(super) fn module_providers(
        &mut self,
        file: &Arc<SourceFile>,
        a: &Attribute,
    ) -> Vec<(String, String, terrane_core::SourceRange)> {
        let Expression::Object(o) = &a.value else {
            self.err(
                file,
                a.value.span(),
                "Invalid providers argument",
                "providers takes a map of provider configurations: { aws = aws.west }.".into(),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in o.iter() {
            let key_span = match k {
                ObjectKey::Ident(i) => i.span(),
                ObjectKey::Expression(e) => e.span(),
            };
            let (Some(child), Some(parent)) = (
                self.provider_config_key(file, key_span.clone()),
                self.provider_config_key(file, v.expr().span()),
            ) else {
                continue;
            };
            let range = self.sr(file, key_span);
            out.push((child, parent, range.unwrap_or_else(|| file.range_at(1, 1))));
        }
        out
    }

    /// `aws` or `aws.west` (written as a reference) as a configuration key, `provider.aws.west`.
    pub(super) fn provider_config_key(
        &mut self,
        file: &Arc<SourceFile>,
        span: Option<std::ops::Range<usize>>,
    ) -> Option<String> {
        let text = span
            .clone()
            .and_then(|s| file.text.get(s.start + self.off..s.end + self.off))
            .unwrap_or_default()
            .trim();
        let parts: Vec<&str> = text.split('.').collect();
        let name_ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        match parts.as_slice() {
            [n] if name_ok(n) => Some(crate::config::provider_key(n, None)),
            [n, alias] if name_ok(n) && name_ok(alias) => {
                Some(crate::config::provider_key(n, Some(alias)))
            }
            _ => {
                let text = text.to_string();
                self.err(file, span, "Invalid provider configuration reference", format!("{text} is not a provider configuration: write its name, or its name and alias, as aws or aws.west."));
                None
            }
        }
    }

    /// `terraform { required_version = "..." required_providers { ... } backend "KIND" { ... } }`.
    pub(super) fn terraform_block(
        &mut self,
        m: &mut ModuleConfig,
        file: &Arc<SourceFile>,
        b: Block,
    ) {
        if let Some(a) = b.body.get_attribute("required_version") {
            self.required_version(file, a);
        }
        for bb in b.body.get_blocks("backend") {
            let range = block_header_range(file, bb, self.off);
            let labels: Vec<String> = bb.labels.iter().map(|l| l.as_str().to_string()).collect();
            let [kind] = labels.as_slice() else {
                self.diags.push(
                    Diagnostic::error(
                        "Invalid backend block",
                        "A backend block takes one label, its type: backend \"local\" { ... } or backend \"pg\" { ... }.",
                    )
                    .with_range(Some(range)),
                );
                continue;
            };
            if let Some(first) = &m.backend {
                self.diags.push(
                    Diagnostic::error(
                        "Duplicate backend configuration",
                        format!(
                            "A module has one backend; another is configured at {}:{}.",
                            first.range.file, first.range.line
                        ),
                    )
                    .with_range(Some(range)),
                );
                continue;
            }
            let mut settings = std::collections::BTreeMap::new();
            for a in bb.body.attributes() {
                if let Some(v) = self.static_value(file, a) {
                    settings.insert(a.key.value().as_str().to_string(), v);
                }
            }
            m.backend = Some(BackendConfig {
                kind: kind.clone(),
                settings,
                range,
            });
        }
        for rp in b.body.get_blocks("required_providers") {
            for a in rp.body.attributes() {
                let name = a.key.value().as_str().to_string();
                let range = self
                    .sr(file, a.span())
                    .unwrap_or_else(|| file.range(self.off..self.off));
                let Some(v) = self.static_value(file, a) else {
                    continue;
                };
                let mut settings = match v {
                    // `aws = "hashicorp/aws"`: the older form, a source alone.
                    Value::String(s) => ValueMap::from([("source".to_string(), Value::String(s))]),
                    Value::Map(m) => m,
                    other => {
                        self.err(
                            file,
                            a.value.span(),
                            "Invalid required_providers entry",
                            format!(
                                "The entry for {name:?} must be an object such as {{ source = \"...\", version = \"...\" }}, not {}.",
                                other.type_name()
                            ),
                        );
                        continue;
                    }
                };
                let mut text = |k: &str| match settings.remove(k) {
                    Some(Value::String(s)) => Some(s),
                    _ => None,
                };
                let source = text("source");
                let version = text("version");
                m.required_providers.insert(
                    name.clone(),
                    RequiredProvider {
                        name,
                        source,
                        version,
                        settings: settings.into(),
                        module_dir: m.dir.clone(),
                        range,
                    },
                );
            }
        }
    }

    /// Checks `required_version` against the Terraform version whose language Terrane speaks,
    /// as Terraform checks it against its own: in every module, before anything runs.
    fn required_version(&mut self, file: &Arc<SourceFile>, a: &Attribute) {
        let span = a.value.span();
        match self.static_value(file, a) {
            Some(Value::String(c)) => match check_required_version(&c) {
                Ok(true) => {}
                Ok(false) => self.err(
                    file,
                    span,
                    "Unsupported Terraform Core version",
                    format!(
                        "This configuration requires Terraform {c:?}; Terrane speaks the language of Terraform {TERRAFORM_LANGUAGE_VERSION}. Version constraints are normally set for good reason: check that the configuration works with that language, then widen the constraint."
                    ),
                ),
                Err(e) => self.err(
                    file,
                    span,
                    "Invalid required_version constraint",
                    format!(
                        "{e}. A constraint is a version after an operator (=, !=, >, >=, <, <=, ~>), several separated by commas: \">= 1.3, < 2.0\"."
                    ),
                ),
            },
            Some(other) => self.err(
                file,
                span,
                "Invalid required_version constraint",
                format!("required_version must be a string, not {}.", other.type_name()),
            ),
            None => {}
        }
    }

    pub(super) fn provider(
        &mut self,
        m: &mut ModuleConfig,
        file: &Arc<SourceFile>,
        b: Block,
        labels: Vec<String>,
    ) {
        let range = block_header_range(file, &b, self.off);
        let alias = match b.body.get_attribute("alias") {
            Some(a) => self
                .static_value(file, a)
                .and_then(|v| v.as_str().map(String::from)),
            None => None,
        };
        let p = ProviderConfig {
            name: labels[0].clone(),
            alias,
            file: file.clone(),
            body: b.body,
            range,
            offset: self.off,
        };
        if m.providers.iter().any(|q| q.key() == p.key()) {
            self.diags.push(
                Diagnostic::error(
                    "Duplicate provider configuration",
                    format!(
                        "{} is configured twice; use alias to tell them apart.",
                        p.key()
                    ),
                )
                .with_range(Some(p.range)),
            );
            return;
        }
        m.providers.push(p);
    }
}
