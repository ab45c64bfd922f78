//! `provider` blocks and `terraform { required_providers { ... } }`.

use std::sync::Arc;

use hcl_edit::structure::Block;
use hcl_edit::Span;
use terrane_core::{Diagnostic, Value, ValueMap};

use super::super::{BackendConfig, ModuleConfig, ProviderConfig, RequiredProvider};
use super::{block_header_range, Loader};
use crate::source::SourceFile;

impl Loader {
    /// `terraform { required_providers { ... } backend "KIND" { ... } }`; other settings
    /// (required_version) are accepted and have no effect.
    pub(super) fn terraform_block(
        &mut self,
        m: &mut ModuleConfig,
        file: &Arc<SourceFile>,
        b: Block,
    ) {
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
