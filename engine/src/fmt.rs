//! `terrane fmt`: Terraform's canonical layout of a configuration file, line by line as
//! Terraform's formatter (hclwrite) does it: two spaces of indentation per line that leaves
//! brackets open (however many it opens), the `=` of consecutive arguments aligned one space
//! after the longest name (an argument whose value opens a bracket ends the run; one whose
//! value is a heredoc does not), one space around that `=`, no trailing whitespace. Comments,
//! blank lines and heredocs are kept as they are; the spacing inside expressions is left
//! alone, and so are trailing comments' columns.

/// What one line holds, once its own indentation is taken away.
struct Line {
    /// The text without leading and trailing whitespace (a heredoc line: as it was).
    text: String,
    /// Nesting depth for its indentation.
    depth: usize,
    /// Inside a heredoc or a block comment: kept as written.
    verbatim: bool,
    /// Byte offset of the argument's `=` in `text`, for a `name = value` line at the top of its
    /// nesting.
    assign: Option<usize>,
}

/// `text` in Terraform's layout.
pub fn format(text: &str) -> String {
    let lines = scan(text);
    let mut out: Vec<String> = vec![String::new(); lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        if l.verbatim {
            out[i] = l.text.clone();
            i += 1;
            continue;
        }
        if l.assign.is_none() {
            out[i] = if l.text.is_empty() {
                String::new()
            } else {
                format!("{}{}", "  ".repeat(l.depth), l.text)
            };
            i += 1;
            continue;
        }
        // A run of arguments (a heredoc's body inside the run neither joins nor ends it).
        let mut run = vec![i];
        let mut j = i + 1;
        while j < lines.len() {
            if lines[j].verbatim {
                j += 1;
                continue;
            }
            if lines[j].assign.is_none() {
                break;
            }
            run.push(j);
            j += 1;
        }
        let width = run
            .iter()
            .map(|&k| {
                let x = &lines[k];
                x.text[..x.assign.unwrap_or(0)].trim_end().chars().count()
            })
            .max()
            .unwrap_or(0);
        for &k in &run {
            let x = &lines[k];
            let at = x.assign.unwrap_or(0);
            let name = x.text[..at].trim_end();
            let value = x.text[at + 1..].trim_start();
            let pad = width - name.chars().count();
            let mut s = format!("{}{name}{} =", "  ".repeat(x.depth), " ".repeat(pad));
            if !value.is_empty() {
                s.push(' ');
                s.push_str(value);
            }
            out[k] = s;
        }
        // The other lines inside the run.
        for (k, line) in lines.iter().enumerate().take(j).skip(i) {
            if line.verbatim {
                out[k] = line.text.clone();
            }
        }
        i = j;
    }
    let mut s = out.join("\n");
    if text.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// Splits `text` into lines with their depth, finding heredocs, strings and comments.
fn scan(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    // Per line that left brackets open, how many (hclwrite's indentation stack).
    let mut indents: Vec<isize> = Vec::new();
    let mut heredoc: Option<String> = None;
    let mut block_comment = false;
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(end) = &heredoc {
            if raw.trim() == end {
                let text = raw.to_string();
                heredoc = None;
                out.push(Line {
                    text,
                    depth: 0,
                    verbatim: true,
                    assign: None,
                });
            } else {
                out.push(Line {
                    text: raw.to_string(),
                    depth: 0,
                    verbatim: true,
                    assign: None,
                });
            }
            continue;
        }
        if block_comment {
            if raw.contains("*/") {
                block_comment = false;
            }
            out.push(Line {
                text: raw.trim_end().to_string(),
                depth: 0,
                verbatim: true,
                assign: None,
            });
            continue;
        }
        let t = raw.trim();
        let closes_first = t.starts_with(['}', ']', ')']);
        let mut assign = None;
        let mut level: isize = 0; // brackets opened on this line and still open
        let mut in_str = false;
        let chars: Vec<(usize, char)> = t.char_indices().collect();
        let mut k = 0;
        while k < chars.len() {
            let (at, c) = chars[k];
            let next = chars.get(k + 1).map(|x| x.1);
            if in_str {
                match c {
                    '\\' => k += 1,
                    '"' => in_str = false,
                    _ => {}
                }
                k += 1;
                continue;
            }
            match c {
                '"' => in_str = true,
                '#' => break,
                '/' if next == Some('/') => break,
                '/' if next == Some('*') => {
                    if !t[at..].contains("*/") {
                        block_comment = true;
                    }
                    break;
                }
                '<' if next == Some('<') => {
                    // A heredoc: <<EOT or <<-EOT to the end of the line.
                    let rest = t[at + 2..].trim_start_matches('-');
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        heredoc = Some(name);
                        break;
                    }
                }
                '{' | '[' | '(' => level += 1,
                '}' | ']' | ')' => level -= 1,
                '=' if level == 0
                    && assign.is_none()
                    && next != Some('=')
                    && next != Some('>')
                    && at > 0
                    && !matches!(t.as_bytes()[at - 1], b'=' | b'!' | b'<' | b'>') =>
                {
                    assign = Some(at);
                }
                _ => {}
            }
            k += 1;
        }
        // Only a line that is an argument by itself aligns: `name = value`, a name first.
        let is_arg = assign.is_some_and(|a| {
            let name = t[..a].trim_end();
            !name.is_empty()
                && !closes_first
                && (name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    || (name.starts_with('"') && name.ends_with('"')))
        });
        // Indentation as hclwrite's: a line that leaves brackets open is indented at the
        // current depth and opens one level; one that closes them closes as many levels as
        // hold them, then is indented.
        let line_depth = match level {
            n if n > 0 => {
                let d = indents.len();
                indents.push(n);
                d
            }
            n if n < 0 => {
                let mut closed = -n;
                while closed > 0 {
                    let Some(top) = indents.last_mut() else {
                        break;
                    };
                    if closed >= *top {
                        closed -= *top;
                        indents.pop();
                    } else {
                        *top -= closed;
                        closed = 0;
                    }
                }
                indents.len()
            }
            _ => indents.len(),
        };
        // An argument whose value opens a bracket is not aligned with its neighbours, and
        // ends their run; one whose value is a heredoc is aligned. A comment line, like a
        // blank one, ends a run.
        out.push(Line {
            text: t.to_string(),
            depth: line_depth,
            verbatim: false,
            assign: if is_arg && level <= 0 && !block_comment {
                assign
            } else {
                None
            },
        });
    }
    // A trailing newline leaves an empty last line (written back by `format`).
    if text.ends_with('\n') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn indents_aligns_and_trims_as_terraform_does() {
        let src = "resource \"aws_vpc\" \"main\" {\ncidr_block = \"10.0.0.0/16\"\n    enable_dns_support=true\n  tags = {\n  Name = \"main\"\n      environment   =   var.env\n  }\n\n\n  lifecycle {\n    ignore_changes = [tags]\n  }   \n}\n\n\n\nvariable \"x\" {}\n";
        let want = "resource \"aws_vpc\" \"main\" {\n  cidr_block         = \"10.0.0.0/16\"\n  enable_dns_support = true\n  tags = {\n    Name        = \"main\"\n    environment = var.env\n  }\n\n\n  lifecycle {\n    ignore_changes = [tags]\n  }\n}\n\n\n\nvariable \"x\" {}\n";
        assert_eq!(format(src), want);
        assert_eq!(format(want), want, "formatting is idempotent");
    }

    #[test]
    fn heredocs_comments_and_operators_are_left_alone() {
        let src = "locals {\n  # a comment = not an argument\n  a = 1 == 1\n  long_name = <<-EOT\n   keep   this =  as is\n  EOT\n  b = x >= 2 ? \"=\" : \"\"\n  list = [jsonencode({\n        a = 1\n      })]\n}\n";
        let want = "locals {\n  # a comment = not an argument\n  a         = 1 == 1\n  long_name = <<-EOT\n   keep   this =  as is\n  EOT\n  b         = x >= 2 ? \"=\" : \"\"\n  list = [jsonencode({\n    a = 1\n  })]\n}\n";
        assert_eq!(format(src), want);
    }
}
