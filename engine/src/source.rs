//! Source files and byte-span to line/column conversion for diagnostics.

use std::ops::Range;
use std::sync::Arc;

use terrane_core::SourceRange;

/// One loaded configuration file.
#[derive(Debug)]
pub struct SourceFile {
    /// Path as shown to the user (relative to the working directory where possible).
    pub name: Arc<str>,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// A file's text as read. A UTF-8 byte-order mark at the start (as Windows editors write
    /// them) is dropped, as Terraform does; every span is then relative to the text without it.
    pub fn new(name: impl Into<Arc<str>>, mut text: String) -> Arc<SourceFile> {
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Arc::new(SourceFile {
            name: name.into(),
            text,
            line_starts,
        })
    }

    /// Converts a byte span to a [`SourceRange`] (line and column one-based).
    pub fn range(&self, span: Range<usize>) -> SourceRange {
        // Spans come from parsers and scanners that count bytes: never slice inside a character.
        let start = floor_char_boundary(&self.text, span.start);
        let line_idx = match self.line_starts.binary_search(&start) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let line_start = self.line_starts[line_idx];
        let line_end = self
            .line_starts
            .get(line_idx + 1)
            .map(|e| e - 1)
            .unwrap_or(self.text.len());
        let line_text = self.text[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        let col = self.text[line_start..start].chars().count() + 1;
        let end = floor_char_boundary(&self.text, span.end.min(line_end)).max(start);
        let len = self.text[start..end].chars().count().max(1);
        SourceRange {
            file: self.name.clone(),
            line: line_idx + 1,
            col,
            len,
            line_text,
        }
    }

    /// Range from a one-based line and column (parser errors report those).
    pub fn range_at(&self, line: usize, col: usize) -> SourceRange {
        let line_idx = line.saturating_sub(1).min(self.line_starts.len() - 1);
        let start = self.line_starts[line_idx];
        let offset = self.text[start..]
            .char_indices()
            .nth(col.saturating_sub(1))
            .map(|(i, _)| start + i)
            .unwrap_or(self.text.len());
        self.range(offset..offset + 1)
    }
}

/// The largest character boundary of `s` at or before `i` (clamped to its length).
pub fn floor_char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_one_based() {
        let f = SourceFile::new("main.tf", "a = 1\nbb = 2\n".to_string());
        let r = f.range(6..8);
        assert_eq!((r.line, r.col, r.len), (2, 1, 2));
        assert_eq!(r.line_text, "bb = 2");
        let r = f.range_at(2, 4);
        assert_eq!((r.line, r.col), (2, 4));
    }

    #[test]
    fn a_byte_order_mark_is_dropped_and_spans_never_split_a_character() {
        let f = SourceFile::new("main.tf", "\u{feff}a = \"\u{202e}é\"\n".to_string());
        assert!(f.text.starts_with("a = "));
        // U+202E is bytes 5..8, é bytes 8..10.
        for s in 0..f.text.len() {
            for e in s..f.text.len() + 3 {
                let r = f.range(s..e);
                assert_eq!(r.line, 1);
                assert!(r.col >= 1 && r.len >= 1);
            }
        }
        assert_eq!(f.range(6..9).col, 6);
    }
}
