//! Splits a configuration file into its top-level items so that each block can be parsed on
//! its own: at 100,000 resources, the syntax tree of a whole file would dominate peak memory.
//! The scanner only has to find where items end (strings, interpolations, heredocs, comments
//! and brackets); any doubt returns `None` and the caller parses the whole file instead.

use std::ops::Range;

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    /// Brackets opened in code.
    Code,
    /// Inside a quoted string.
    Str,
    /// Inside `${ ... }` or `%{ ... }` in a string.
    Interp,
}

/// Byte ranges of the top-level items of `src`, in order, or `None` if unsure.
pub fn split_top_level(src: &str) -> Option<Vec<Range<usize>>> {
    let b = src.as_bytes();
    let mut items = Vec::new();
    let mut stack: Vec<Ctx> = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    let n = b.len();
    while i < n {
        let c = b[i];
        let top = stack.last().copied();
        if top == Some(Ctx::Str) {
            match c {
                b'\\' => i += 2,
                b'"' => {
                    stack.pop();
                    i += 1;
                }
                b'$' | b'%' if b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&b'{') => i += 3,
                b'$' | b'%' if b.get(i + 1) == Some(&b'{') => {
                    stack.push(Ctx::Interp);
                    i += 2;
                }
                b'\n' => return None,
                _ => i += 1,
            }
            continue;
        }
        // Code (top level, brackets or interpolation).
        match c {
            b'#' => i = skip_line(b, i),
            b'/' if b.get(i + 1) == Some(&b'/') => i = skip_line(b, i),
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = src[i + 2..].find("*/")?;
                i += 2 + end + 2;
            }
            _ if c.is_ascii_whitespace() => i += 1,
            _ => {
                if stack.is_empty() && start.is_none() {
                    start = Some(i);
                }
                match c {
                    b'"' => {
                        stack.push(Ctx::Str);
                        i += 1;
                    }
                    b'<' if b.get(i + 1) == Some(&b'<') && !stack.is_empty() => {
                        i = skip_heredoc(src, i)?
                    }
                    b'{' | b'[' | b'(' => {
                        stack.push(Ctx::Code);
                        i += 1;
                    }
                    b'}' | b']' | b')' => {
                        match stack.pop() {
                            Some(Ctx::Code) | Some(Ctx::Interp) => {}
                            _ => return None,
                        }
                        i += 1;
                        if stack.is_empty() && c == b'}' {
                            items.push(start.take()?..i);
                        }
                    }
                    _ => i += 1,
                }
            }
        }
    }
    if !stack.is_empty() || start.is_some() {
        return None;
    }
    Some(items)
}

fn skip_line(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b'\n' {
        i += 1;
    }
    i
}

/// Skips `<<EOT ... EOT` / `<<-EOT ... EOT`; returns the index after the closing marker.
fn skip_heredoc(src: &str, i: usize) -> Option<usize> {
    let rest = &src[i + 2..];
    let rest_trim = rest.strip_prefix('-').unwrap_or(rest);
    let ident_len = rest_trim
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
        .count();
    if ident_len == 0 {
        return None;
    }
    let ident = &rest_trim[..ident_len];
    let body_start = src[i..].find('\n')? + i + 1;
    let mut pos = body_start;
    for line in src[body_start..].split_inclusive('\n') {
        if line.trim() == ident {
            return Some(pos + line.trim_end_matches(['\n', '\r']).len());
        }
        pos += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_blocks_with_tricky_contents() {
        let src = r#"
# comment with { brace
resource "a" "b" {
  x = "str } with ${var.y} and ${ {a = "}"}.a }"
  y = <<-EOT
    heredoc } {
  EOT
  /* } */ z = { k = [1, (2)] }
}
// another
locals { a = 1 }
"#;
        let items = split_top_level(src).unwrap();
        assert_eq!(items.len(), 2);
        assert!(src[items[0].clone()].starts_with("resource"));
        assert!(src[items[0].clone()].ends_with('}'));
        assert_eq!(&src[items[1].clone()], "locals { a = 1 }");
    }

    #[test]
    fn unbalanced_input_is_left_to_the_parser() {
        assert!(split_top_level("resource \"a\" \"b\" {\n").is_none());
        assert!(split_top_level("x = 1\n").is_none());
    }
}
