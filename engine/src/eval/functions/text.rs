//! String functions beyond the basics: regular expressions (RE2 syntax, as Terraform's), `trim`,
//! `chomp`, `indent`, `strrev`, `strcontains`.

use terrane_core::{Value, ValueMap};

use super::{arity, n, s, R};

/// `Some(result)` for the functions of this file, `None` for any other name.
pub(super) fn call(name: &str, a: &[Value]) -> Option<R> {
    Some(match name {
        "regex" => arity(name, a, 2).and_then(|()| regex(&s(&a[0])?, &s(&a[1])?, false)),
        "regexall" => arity(name, a, 2).and_then(|()| regex(&s(&a[0])?, &s(&a[1])?, true)),
        "trim" => arity(name, a, 2).and_then(|()| {
            let cut: Vec<char> = s(&a[1])?.chars().collect();
            Ok(Value::String(s(&a[0])?.trim_matches(&cut[..]).to_string()))
        }),
        "chomp" => arity(name, a, 1).and_then(|()| {
            Ok(Value::String(
                s(&a[0])?.trim_end_matches(['\n', '\r']).to_string(),
            ))
        }),
        "indent" => arity(name, a, 2).and_then(|()| {
            let pad = " ".repeat(n(&a[0])?.max(0.0) as usize);
            Ok(Value::String(s(&a[1])?.replace('\n', &format!("\n{pad}"))))
        }),
        "strrev" => {
            arity(name, a, 1).and_then(|()| Ok(Value::String(s(&a[0])?.chars().rev().collect())))
        }
        "strcontains" => {
            arity(name, a, 2).and_then(|()| Ok(Value::Bool(s(&a[0])?.contains(&s(&a[1])?))))
        }
        _ => return None,
    })
}

pub(super) const NAMES: &[&str] = &[
    "regex",
    "regexall",
    "trim",
    "chomp",
    "indent",
    "strrev",
    "strcontains",
];

fn compile(pattern: &str) -> Result<regex_lite::Regex, String> {
    regex_lite::Regex::new(pattern)
        .map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))
}

/// One match as Terraform gives it: the matched text without capture groups, a list of the
/// groups with unnamed ones, a map by name with named ones.
fn captures(re: &regex_lite::Regex, c: &regex_lite::Captures<'_>) -> Result<Value, String> {
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    let text = |i: usize| Value::String(c.get(i).map_or("", |m| m.as_str()).to_string());
    if names.is_empty() {
        return Ok(text(0));
    }
    match (
        names.iter().all(Option::is_some),
        names.iter().all(Option::is_none),
    ) {
        (true, _) => {
            let mut m = ValueMap::default();
            for (i, n) in names.iter().enumerate() {
                m.insert(n.unwrap_or_default().to_string(), text(i + 1));
            }
            Ok(Value::Map(m))
        }
        (_, true) => Ok(Value::List((1..=names.len()).map(text).collect())),
        _ => Err("a pattern may not mix named and unnamed capture groups".into()),
    }
}

fn regex(pattern: &str, text: &str, all: bool) -> R {
    let re = compile(pattern)?;
    if all {
        let found: Result<Vec<Value>, String> =
            re.captures_iter(text).map(|c| captures(&re, &c)).collect();
        return Ok(Value::List(found?));
    }
    match re.captures(text) {
        Some(c) => captures(&re, &c),
        None => Err("pattern did not match any part of the given string".into()),
    }
}

/// `replace(s, "/re/", r)`: the regular-expression form, with `$1` and `${name}` in `r`.
pub(super) fn replace(text: &str, find: &str, with: &str) -> R {
    match find
        .strip_prefix('/')
        .and_then(|f| f.strip_suffix('/'))
        .filter(|_| find.len() > 1)
    {
        Some(pattern) => Ok(Value::String(
            compile(pattern)?.replace_all(text, with).into_owned(),
        )),
        None => Ok(Value::String(text.replace(find, with))),
    }
}

/// `format` with the verbs modules use: %s %d %f %.Nf %v %q %t %%, with width and zero padding.
pub(super) fn format(a: &[Value]) -> R {
    let (f, rest) = a.split_first().ok_or("format() needs a format string")?;
    let f = s(f)?;
    let mut out = String::new();
    let mut args = rest.iter();
    let mut chars = f.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() || matches!(d, '.' | '-' | '+' | '#' | ' ') {
                spec.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let verb = chars.next().ok_or("format string ends with %")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let v = args
            .next()
            .ok_or("not enough arguments for the format string")?;
        let (zero, width, prec) = {
            let left = spec.trim_start_matches(['-', '+', '#', ' ']);
            let (w, p) = match left.split_once('.') {
                Some((w, p)) => (w, p.parse::<usize>().ok()),
                None => (left, None),
            };
            (w.starts_with('0'), w.parse::<usize>().unwrap_or(0), p)
        };
        let body = match verb {
            'v' if spec.contains('#') => v.to_json().to_string(),
            's' | 'v' => match v {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => s(v)?,
                o => o.to_json().to_string(),
            },
            'q' => serde_json::Value::String(s(v)?).to_string(),
            'd' => format!("{}", n(v)?.trunc() as i64),
            'f' => format!("{:.*}", prec.unwrap_or(6), n(v)?),
            'x' | 'X' | 'o' | 'b' => {
                let x = n(v)?;
                if x.fract() != 0.0 {
                    return Err(format!(
                        "unsupported value for \"%{verb}\": an integer is required"
                    ));
                }
                let (sign, m) = (if x < 0.0 { "-" } else { "" }, x.abs() as u128);
                match verb {
                    'x' => format!("{sign}{m:x}"),
                    'X' => format!("{sign}{m:X}"),
                    'o' => format!("{sign}{m:o}"),
                    _ => format!("{sign}{m:b}"),
                }
            }
            'e' | 'E' => {
                let x = n(v)?;
                // Go writes at least two exponent digits, with a sign.
                let r = format!("{:.*e}", prec.unwrap_or(6), x);
                let (mant, exp) = r.split_once('e').expect("an exponent");
                let (esign, edigits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
                let body = format!("{mant}e{esign}{edigits:0>2}");
                if verb == 'E' {
                    body.to_uppercase()
                } else {
                    body
                }
            }
            't' => match v {
                Value::Bool(b) => b.to_string(),
                o => return Err(format!("%t needs a bool, got {}", o.type_name())),
            },
            other => return Err(format!("unsupported format verb %{other}")),
        };
        let pad = width.saturating_sub(body.chars().count());
        if spec.starts_with('-') {
            out.push_str(&body);
            out.push_str(&" ".repeat(pad));
        } else if zero && matches!(verb, 'd' | 'f') {
            let (sign, digits) = body
                .strip_prefix('-')
                .map(|d| ("-", d))
                .unwrap_or(("", body.as_str()));
            out.push_str(sign);
            out.push_str(&"0".repeat(pad));
            out.push_str(digits);
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(&body);
        }
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, args: &[Value]) -> R {
        call(name, args).expect("a function of this file")
    }
    fn st(x: &str) -> Value {
        Value::from(x)
    }

    /// The examples of Terraform's documentation for each function.
    #[test]
    fn regular_expressions_match_terraform() {
        assert_eq!(
            c(
                "regex",
                &[st("[a-z]+"), st("53453453.345345aaabbbccc23454")]
            )
            .unwrap(),
            st("aaabbbccc")
        );
        assert_eq!(
            c(
                "regex",
                &[st(r"(\d\d\d\d)-(\d\d)-(\d\d)"), st("2019-02-01")]
            )
            .unwrap(),
            Value::List(vec![st("2019"), st("02"), st("01")])
        );
        assert_eq!(
            c(
                "regex",
                &[
                    st("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?"),
                    st("https://terraform.io/docs/")
                ]
            )
            .unwrap(),
            Value::map([("authority", st("terraform.io")), ("scheme", st("https"))])
        );
        assert_eq!(
            c("regexall", &[st("[a-z]+"), st("1234abcd5678efgh9")]).unwrap(),
            Value::List(vec![st("abcd"), st("efgh")])
        );
        assert_eq!(
            c("regexall", &[st("[a-z]+"), st("123")]).unwrap(),
            Value::List(vec![])
        );
        let e = c("regex", &[st("[a-z]+"), st("123")]).unwrap_err();
        assert!(e.contains("did not match"), "{e}");
        assert!(c("regex", &[st("(unclosed"), st("x")]).is_err());
        assert_eq!(
            replace("hello world", "/w.*d/", "everybody").unwrap(),
            st("hello everybody")
        );
        assert_eq!(replace("1 + 2 + 3", "+", "-").unwrap(), st("1 - 2 - 3"));
        assert_eq!(
            replace("2019-02-01", r"/(\d+)-(\d+)-(\d+)/", "$3.$2.$1").unwrap(),
            st("01.02.2019")
        );
    }

    #[test]
    fn string_functions_match_terraform() {
        assert_eq!(
            c("trim", &[st("?!hello?!"), st("!?")]).unwrap(),
            st("hello")
        );
        assert_eq!(c("trim", &[st("foobar"), st("far")]).unwrap(), st("oob"));
        assert_eq!(c("chomp", &[st("hello\n\n")]).unwrap(), st("hello"));
        assert_eq!(c("chomp", &[st("hello\r\n")]).unwrap(), st("hello"));
        assert_eq!(c("chomp", &[st("hello")]).unwrap(), st("hello"));
        assert_eq!(
            c("indent", &[Value::from(2i64), st("[\n  foo,\n  bar,\n]\n")]).unwrap(),
            st("[\n    foo,\n    bar,\n  ]\n  ")
        );
        assert_eq!(c("strrev", &[st("hello")]).unwrap(), st("olleh"));
        assert_eq!(c("strrev", &[st("a ☃")]).unwrap(), st("☃ a"));
    }
}
