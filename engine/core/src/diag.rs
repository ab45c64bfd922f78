//! Diagnostics: user mistakes and provider failures, collected rather than thrown.

use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// A location in a source file, with the text of its first line for rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRange {
    pub file: Arc<str>,
    /// One-based line.
    pub line: usize,
    /// One-based column (in characters).
    pub col: usize,
    /// Number of characters to underline on `line` (at least 1).
    pub len: usize,
    /// The source text of `line`.
    pub line_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub range: Option<SourceRange>,
    /// The resource instance concerned, when there is one.
    pub address: Option<String>,
    /// The top-level argument concerned (set by providers' validation), so that the engine can
    /// point at the argument's expression rather than at the whole block.
    pub attribute: Option<String>,
    /// The checkable object whose custom condition failed (`var.name`, `output.url`,
    /// `check.health`, `aws_vpc.main`), as a test's `expect_failures` names it.
    pub checkable: Option<String>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            range: None,
            address: None,
            attribute: None,
            checkable: None,
        }
    }
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary, detail)
        }
    }
    pub fn with_range(mut self, range: Option<SourceRange>) -> Self {
        if self.range.is_none() {
            self.range = range;
        }
        self
    }
    /// Names the argument this diagnostic is about.
    pub fn for_attribute(mut self, name: impl Into<String>) -> Self {
        self.attribute = Some(name.into());
        self
    }
    /// Names the checkable object whose condition failed.
    pub fn for_checkable(mut self, name: impl Into<String>) -> Self {
        self.checkable = Some(name.into());
        self
    }
    pub fn with_address(mut self, addr: impl fmt::Display) -> Self {
        self.address = Some(addr.to_string());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// Plain rendering, Terraform style:
    ///
    /// ```text
    /// Error: Unsupported attribute
    ///
    ///   with x.y[0],
    ///   on main.tf line 3, in resource "x" "y":
    ///    3:   foo = 1
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        };
        writeln!(f, "{label}: {}", self.summary)?;
        if let Some(r) = &self.range {
            writeln!(f)?;
            // The instance (a count or for_each key the block alone does not show), then where.
            if let Some(a) = &self.address {
                writeln!(f, "  with {a},")?;
            }
            writeln!(f, "  on {}:{}:{}:", r.file, r.line, r.col)?;
            let gutter = format!("{:>4}", r.line);
            writeln!(f, "{gutter}: {}", r.line_text)?;
            let pad: String = r
                .line_text
                .chars()
                .take(r.col.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(
                f,
                "{}  {}{}",
                " ".repeat(gutter.len()),
                pad,
                "^".repeat(r.len.max(1))
            )?;
        }
        if let Some(a) = &self.address {
            if self.range.is_none() {
                writeln!(f)?;
                writeln!(f, "  with {a}")?;
            }
        }
        if !self.detail.is_empty() {
            writeln!(f)?;
            writeln!(f, "{}", self.detail)?;
        }
        Ok(())
    }
}

/// An ordered collection of diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}
