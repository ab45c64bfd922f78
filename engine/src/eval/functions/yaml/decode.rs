//! `yamldecode`: one YAML document read line by line (block collections by indentation, flow
//! collections and scalars inline), resolved by YAML's core schema.

use terrane_core::{Value, ValueMap};

use super::R;

/// Parses one YAML document.
pub(super) fn decode(src: &str) -> R {
    let mut lines: Vec<String> = Vec::new();
    let mut docs = 0;
    for line in src.lines() {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- ") {
            docs += 1;
            if lines.iter().any(|l| significant(l)) {
                return Err("the YAML has more than one document; only one is supported".into());
            }
            lines.push(t[3..].to_string());
            continue;
        }
        if t == "..." {
            break;
        }
        if line.starts_with('%') {
            continue;
        }
        lines.push(line.to_string());
    }
    let mut p = Yaml { lines, i: 0 };
    p.skip_blank();
    if p.i >= p.lines.len() {
        if docs == 0 {
            return Err("on line 1, column 1: missing start of document".into());
        }
        return Ok(Value::Null);
    }
    let v = p.node(0)?;
    p.skip_blank();
    if p.i < p.lines.len() {
        return Err(format!(
            "unexpected content on line {} of the YAML: {:?}",
            p.i + 1,
            p.lines[p.i].trim()
        ));
    }
    Ok(v)
}

/// A line with something other than blanks and a comment.
fn significant(l: &str) -> bool {
    let t = l.trim_start();
    !t.is_empty() && !t.starts_with('#')
}

fn indent_of(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

struct Yaml {
    lines: Vec<String>,
    i: usize,
}

impl Yaml {
    fn skip_blank(&mut self) {
        while self.i < self.lines.len() && !significant(&self.lines[self.i]) {
            self.i += 1;
        }
    }

    /// The block node starting at the current line, whose lines are indented at least `min`.
    fn node(&mut self, min: usize) -> R {
        self.skip_blank();
        let Some(line) = self.lines.get(self.i).cloned() else {
            return Ok(Value::Null);
        };
        if line.trim_start().starts_with('\t') || line[..indent_of(&line)].contains('\t') {
            return Err(format!(
                "line {} of the YAML is indented with a tab",
                self.i + 1
            ));
        }
        let ind = indent_of(&line);
        if ind < min {
            return Ok(Value::Null);
        }
        let body = line[ind..].to_string();
        if body == "-" || body.starts_with("- ") {
            return self.sequence(ind);
        }
        if split_key(&body).is_some() {
            return self.mapping(ind);
        }
        // A scalar or flow collection, maybe over several lines.
        let mut text = strip_comment(&body).to_string();
        self.i += 1;
        self.continue_flow(&mut text)?;
        if !text.starts_with(['[', '{', '"', '\'']) {
            // A plain scalar folded over the following more-indented lines.
            loop {
                let save = self.i;
                self.skip_blank();
                match self.lines.get(self.i) {
                    Some(next)
                        if indent_of(next) > ind.saturating_sub(1)
                            && indent_of(next) >= min
                            && indent_of(next) > 0
                            && split_key(next.trim_start()).is_none()
                            && !next.trim_start().starts_with("- ") =>
                    {
                        text.push(' ');
                        text.push_str(strip_comment(next.trim()));
                        self.i += 1;
                    }
                    _ => {
                        self.i = save;
                        break;
                    }
                }
            }
        }
        inline(&text)
    }

    /// A flow collection opened in `text` and continued on the following lines, joined.
    fn continue_flow(&mut self, text: &mut String) -> Result<(), String> {
        while flow_open(text) {
            self.skip_blank();
            let Some(next) = self.lines.get(self.i) else {
                return Err("a flow collection in the YAML is not closed".into());
            };
            text.push(' ');
            text.push_str(strip_comment(next.trim()));
            self.i += 1;
        }
        Ok(())
    }

    fn sequence(&mut self, ind: usize) -> R {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            let Some(line) = self.lines.get(self.i).cloned() else {
                break;
            };
            let body = &line[indent_of(&line)..];
            if indent_of(&line) != ind || !(body == "-" || body.starts_with("- ")) {
                break;
            }
            let rest = body[1..].trim_start();
            if rest.is_empty() || rest.starts_with('#') {
                self.i += 1;
                let next_ind = self.next_indent();
                items.push(if next_ind.is_some_and(|n| n > ind) {
                    self.node(ind + 1)?
                } else {
                    Value::Null
                });
            } else if let Some(block) = block_header(rest) {
                self.i += 1;
                items.push(self.block_scalar(block, ind)?);
            } else {
                // The item's content as a line of its own at the column after "- ".
                let col = line.len() - rest.len();
                self.lines[self.i] = format!("{}{}", " ".repeat(col), rest);
                items.push(self.node(col)?);
            }
        }
        Ok(Value::List(items))
    }

    fn next_indent(&mut self) -> Option<usize> {
        let save = self.i;
        self.skip_blank();
        let n = self.lines.get(self.i).map(|l| indent_of(l));
        self.i = save;
        n
    }

    fn mapping(&mut self, ind: usize) -> R {
        let mut m = ValueMap::new();
        loop {
            self.skip_blank();
            let Some(line) = self.lines.get(self.i).cloned() else {
                break;
            };
            if indent_of(&line) != ind {
                if indent_of(&line) > ind {
                    return Err(format!(
                        "line {} of the YAML is indented more than the mapping it is in",
                        self.i + 1
                    ));
                }
                break;
            }
            let body = &line[ind..];
            let Some((key, rest)) = split_key(body) else {
                break;
            };
            let key = match inline(&key)? {
                Value::String(k) => k,
                Value::Null => "null".to_string(),
                other => other
                    .to_template_string()
                    .ok_or("a YAML mapping key must be a scalar")?,
            };
            let rest = strip_comment(rest.trim()).to_string();
            self.i += 1;
            let value = if rest.is_empty() {
                match self.next_indent() {
                    Some(n) if n > ind => self.node(ind + 1)?,
                    Some(n)
                        if n == ind && {
                            let save = self.i;
                            self.skip_blank();
                            let b = self.lines[self.i].trim_start();
                            let dash = b == "-" || b.starts_with("- ");
                            self.i = save;
                            dash
                        } =>
                    {
                        self.skip_blank();
                        self.sequence(ind)?
                    }
                    _ => Value::Null,
                }
            } else if let Some(block) = block_header(&rest) {
                self.block_scalar(block, ind)?
            } else {
                let mut text = rest;
                self.continue_flow(&mut text)?;
                if !text.starts_with(['[', '{', '"', '\'']) {
                    while let Some(next) = self.lines.get(self.i) {
                        if significant(next)
                            && indent_of(next) > ind
                            && split_key(next.trim_start()).is_none()
                        {
                            text.push(' ');
                            text.push_str(strip_comment(next.trim()));
                            self.i += 1;
                        } else {
                            break;
                        }
                    }
                }
                inline(&text)?
            };
            if m.insert(key.clone(), value).is_some() {
                return Err(format!("the YAML mapping has the key {key:?} twice"));
            }
        }
        Ok(Value::Map(m))
    }

    /// A `|` or `>` scalar: the more-indented lines after the current one.
    fn block_scalar(&mut self, (folded, chomp): (bool, char), parent: usize) -> R {
        let mut raw: Vec<String> = Vec::new();
        let mut block_ind = None;
        while let Some(line) = self.lines.get(self.i) {
            if line.trim().is_empty() {
                raw.push(String::new());
                self.i += 1;
                continue;
            }
            let n = indent_of(line);
            if n <= parent {
                break;
            }
            let b = *block_ind.get_or_insert(n);
            if n < b {
                break;
            }
            raw.push(line[b..].to_string());
            self.i += 1;
        }
        let trailing = raw.iter().rev().take_while(|l| l.is_empty()).count();
        let content = &raw[..raw.len() - trailing];
        let mut out = String::new();
        if folded {
            let mut prev_more = false;
            for (k, l) in content.iter().enumerate() {
                let more = l.starts_with(' ');
                if k > 0 {
                    let prev_empty = content[k - 1].is_empty();
                    if l.is_empty() || prev_empty || more || prev_more {
                        out.push('\n');
                    } else {
                        out.push(' ');
                    }
                }
                out.push_str(l);
                prev_more = more;
            }
            // Runs of empty lines each stand for one newline.
            out = out.replace("\n\n", "\n");
        } else {
            out = content.join("\n");
        }
        if !content.is_empty() {
            match chomp {
                '-' => {}
                '+' => {
                    out.push('\n');
                    out.push_str(&"\n".repeat(trailing));
                }
                _ => out.push('\n'),
            }
        }
        Ok(Value::String(out))
    }
}

/// `(folded, chomping)` of a block scalar header such as `|`, `>-` or `|+`.
fn block_header(rest: &str) -> Option<(bool, char)> {
    let t = strip_comment(rest).trim();
    let mut c = t.chars();
    let folded = match c.next()? {
        '|' => false,
        '>' => true,
        _ => return None,
    };
    let mut chomp = ' ';
    for ch in c {
        match ch {
            '-' | '+' => chomp = ch,
            '1'..='9' => {}
            _ => return None,
        }
    }
    Some((folded, chomp))
}

/// A line's `key: rest` split, when the line is a mapping entry.
fn split_key(body: &str) -> Option<(String, &str)> {
    if body.starts_with(['[', '{', '#']) {
        return None;
    }
    let b = body.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'"') | Some(b'\'')) {
        let quote = Some(b[0]);
        i = 1;
        while i < b.len() {
            if Some(b[i]) == quote {
                if b[i] == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                break;
            }
            if b[i] == b'\\' && quote == Some(b'"') {
                i += 1;
            }
            i += 1;
        }
        i += 1;
        let after = body.get(i..)?.trim_start();
        let rest = after.strip_prefix(':')?;
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        return Some((body[..i].to_string(), rest));
    }
    while i < b.len() {
        if b[i] == b':' && (i + 1 == b.len() || b[i + 1] == b' ') {
            return Some((body[..i].trim_end().to_string(), &body[i + 1..]));
        }
        if b[i] == b'#' && i > 0 && b[i - 1] == b' ' {
            return None;
        }
        i += 1;
    }
    None
}

/// The text before a comment (` #` outside quotes).
fn strip_comment(t: &str) -> &str {
    let b = t.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        match (quote, b[i]) {
            (None, b'"') | (None, b'\'') => quote = Some(b[i]),
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, b'#') if i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t' => {
                return t[..i].trim_end()
            }
            _ => {}
        }
        i += 1;
    }
    t.trim_end()
}

/// Whether a flow collection started in `t` is still open.
fn flow_open(t: &str) -> bool {
    if !t.starts_with(['[', '{']) {
        return false;
    }
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut esc = false;
    for c in t.chars() {
        match quote {
            Some(q) => {
                if esc {
                    esc = false;
                } else if c == '\\' && q == '"' {
                    esc = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '[' | '{' => depth += 1,
                ']' | '}' => depth -= 1,
                _ => {}
            },
        }
    }
    depth > 0
}

/// A scalar or flow collection written on one line.
fn inline(t: &str) -> R {
    let chars: Vec<char> = t.trim().chars().collect();
    let mut pos = 0;
    let v = flow(&chars, &mut pos, false)?;
    while pos < chars.len() && chars[pos] == ' ' {
        pos += 1;
    }
    if pos != chars.len() {
        return Err(format!(
            "unexpected {:?} in the YAML value {t:?}",
            chars[pos..].iter().collect::<String>()
        ));
    }
    Ok(v)
}

fn flow(c: &[char], pos: &mut usize, nested: bool) -> R {
    while *pos < c.len() && c[*pos] == ' ' {
        *pos += 1;
    }
    match c.get(*pos) {
        Some('[') => {
            *pos += 1;
            let mut items = Vec::new();
            loop {
                skip_spaces(c, pos);
                if c.get(*pos) == Some(&']') {
                    *pos += 1;
                    return Ok(Value::List(items));
                }
                items.push(flow(c, pos, true)?);
                skip_spaces(c, pos);
                match c.get(*pos) {
                    Some(',') => *pos += 1,
                    Some(']') => {}
                    _ => return Err("a YAML flow sequence is missing a ',' or ']'".into()),
                }
            }
        }
        Some('{') => {
            *pos += 1;
            let mut m = ValueMap::new();
            loop {
                skip_spaces(c, pos);
                if c.get(*pos) == Some(&'}') {
                    *pos += 1;
                    return Ok(Value::Map(m));
                }
                let k = flow(c, pos, true)?;
                skip_spaces(c, pos);
                let v = if c.get(*pos) == Some(&':') {
                    *pos += 1;
                    flow(c, pos, true)?
                } else {
                    Value::Null
                };
                let key = match k {
                    Value::String(k) => k,
                    other => other
                        .to_template_string()
                        .ok_or("a YAML mapping key must be a scalar")?,
                };
                m.insert(key, v);
                skip_spaces(c, pos);
                match c.get(*pos) {
                    Some(',') => *pos += 1,
                    Some('}') => {}
                    _ => return Err("a YAML flow mapping is missing a ',' or '}'".into()),
                }
            }
        }
        Some('"') => {
            *pos += 1;
            let mut out = String::new();
            while let Some(&ch) = c.get(*pos) {
                *pos += 1;
                match ch {
                    '"' => return Ok(Value::String(out)),
                    '\\' => {
                        let e = c.get(*pos).copied().ok_or("a YAML string ends with \\")?;
                        *pos += 1;
                        match e {
                            'n' => out.push('\n'),
                            't' => out.push('\t'),
                            'r' => out.push('\r'),
                            '0' => out.push('\0'),
                            ' ' => out.push(' '),
                            '/' => out.push('/'),
                            '\\' => out.push('\\'),
                            '"' => out.push('"'),
                            'x' | 'u' | 'U' => {
                                let n = match e {
                                    'x' => 2,
                                    'u' => 4,
                                    _ => 8,
                                };
                                let hex: String = c
                                    .get(*pos..*pos + n)
                                    .ok_or("a short escape in a YAML string")?
                                    .iter()
                                    .collect();
                                *pos += n;
                                let code = u32::from_str_radix(&hex, 16)
                                    .map_err(|_| "a bad escape in a YAML string")?;
                                out.push(
                                    char::from_u32(code).ok_or("a bad escape in a YAML string")?,
                                );
                            }
                            other => {
                                return Err(format!(
                                    "the escape \\{other} is not valid in a YAML string"
                                ))
                            }
                        }
                    }
                    _ => out.push(ch),
                }
            }
            Err("a YAML string is not closed".into())
        }
        Some('\'') => {
            *pos += 1;
            let mut out = String::new();
            while let Some(&ch) = c.get(*pos) {
                *pos += 1;
                if ch == '\'' {
                    if c.get(*pos) == Some(&'\'') {
                        out.push('\'');
                        *pos += 1;
                        continue;
                    }
                    return Ok(Value::String(out));
                }
                out.push(ch);
            }
            Err("a YAML string is not closed".into())
        }
        Some('&') | Some('*') => Err("YAML anchors and aliases are not supported".into()),
        _ => {
            let start = *pos;
            while let Some(&ch) = c.get(*pos) {
                if nested && (ch == ',' || ch == ']' || ch == '}') {
                    break;
                }
                if nested
                    && ch == ':'
                    && matches!(
                        c.get(*pos + 1),
                        Some(' ') | Some(',') | Some('}') | Some(']') | None
                    )
                {
                    break;
                }
                *pos += 1;
            }
            let text: String = c[start..*pos].iter().collect();
            plain(text.trim())
        }
    }
}

fn skip_spaces(c: &[char], pos: &mut usize) {
    while *pos < c.len() && c[*pos] == ' ' {
        *pos += 1;
    }
}

/// A plain scalar resolved by YAML's core schema.
fn plain(t: &str) -> R {
    if let Some(rest) = t.strip_prefix("!!") {
        let (tag, v) = rest.split_once(' ').unwrap_or((rest, ""));
        let v = v.trim();
        return match tag {
            "str" => Ok(Value::String(v.trim_matches(['"', '\'']).to_string())),
            "int" | "float" => plain(v).and_then(|x| match x {
                Value::Number(_) => Ok(x),
                _ => Err(format!("{v:?} is not a YAML number")),
            }),
            "bool" => plain(v),
            "null" => Ok(Value::Null),
            other => Err(format!("the YAML tag !!{other} is not supported")),
        };
    }
    if t.starts_with('!') {
        return Err(format!("the YAML tag in {t:?} is not supported"));
    }
    Ok(match t {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "-.inf" | ".nan" | ".NaN" | ".NAN" => {
            return Err(format!("the YAML number {t} cannot be represented"))
        }
        _ => match number(t) {
            Some(x) => Value::Number(x),
            None => Value::String(t.to_string()),
        },
    })
}

fn number(t: &str) -> Option<f64> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let signed = |x: f64| if neg { -x } else { x };
    if let Some(h) = body.strip_prefix("0x") {
        return i64::from_str_radix(h, 16).ok().map(|x| signed(x as f64));
    }
    if let Some(o) = body.strip_prefix("0o") {
        return i64::from_str_radix(o, 8).ok().map(|x| signed(x as f64));
    }
    let ok = !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && body
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '.')
        && body != ".";
    if !ok {
        return None;
    }
    body.parse::<f64>().ok().map(signed)
}
