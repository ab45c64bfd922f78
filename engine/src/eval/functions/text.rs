//! String functions beyond the basics: regular expressions (RE2 syntax, as Terraform's), `trim`,
//! `chomp`, `indent`, `strrev`, and time: `timestamp`, `plantimestamp`, `formatdate`.

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
        "timestamp" | "plantimestamp" => arity(name, a, 0)
            .map(|()| Value::String(terrane_state::format_rfc3339(crate::environments::now()))),
        "formatdate" => arity(name, a, 2).and_then(|()| formatdate(&s(&a[0])?, &s(&a[1])?)),
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
    "timestamp",
    "plantimestamp",
    "formatdate",
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

/// An RFC 3339 time as its fields, in its own offset.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    /// Minutes east of UTC.
    offset: i32,
}

fn parse_time(t: &str) -> Option<Civil> {
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<u32>().ok();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let mut rest = &t[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
            let h: i32 = o[1..3].parse().ok()?;
            let m: i32 = o[4..6].parse().ok()?;
            let v = h * 60 + m;
            if o.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    let c = Civil {
        year: i64::from(num(0..4)?),
        month: num(5..7)?,
        day: num(8..10)?,
        hour: num(11..13)?,
        minute: num(14..16)?,
        second: num(17..19)?,
        offset,
    };
    ((1..=12).contains(&c.month)
        && (1..=31).contains(&c.day)
        && c.hour < 24
        && c.minute < 60
        && c.second < 61)
        .then_some(c)
}

/// 0 = Sunday (days from the civil date, as in Howard Hinnant's algorithm).
fn weekday(y: i64, m: u32, d: u32) -> usize {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days + 4).rem_euclid(7) as usize
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Terraform's `formatdate`: YYYY YY MMMM MMM MM M DD D EEEE EEE hh h HH H AA aa mm m ss s
/// ZZZZZ ZZZZ ZZZ Z, and 'quoted' literal text.
fn formatdate(spec: &str, t: &str) -> R {
    let c = parse_time(t).ok_or_else(|| format!("{t:?} is not a valid RFC 3339 timestamp"))?;
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let hour12 = if c.hour % 12 == 0 { 12 } else { c.hour % 12 };
    while i < chars.len() {
        let ch = chars[i];
        if ch == '\'' {
            // 'literal', with '' for a quote.
            let mut j = i + 1;
            if chars.get(j) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            loop {
                match chars.get(j) {
                    None => return Err("unterminated literal in the format string".into()),
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        out.push('\'');
                        j += 2;
                    }
                    Some('\'') => break,
                    Some(x) => {
                        out.push(*x);
                        j += 1;
                    }
                }
            }
            i = j + 1;
            continue;
        }
        if !ch.is_ascii_alphabetic() {
            out.push(ch);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|x| **x == ch).count();
        let sign = if c.offset < 0 { '-' } else { '+' };
        let (oh, om) = (c.offset.abs() / 60, c.offset.abs() % 60);
        let piece = match (ch, run) {
            ('Y', 4) => format!("{:04}", c.year),
            ('Y', 2) => format!("{:02}", c.year % 100),
            ('M', 4) => MONTHS[c.month as usize - 1].to_string(),
            ('M', 3) => MONTHS[c.month as usize - 1][..3].to_string(),
            ('M', 2) => format!("{:02}", c.month),
            ('M', 1) => c.month.to_string(),
            ('D', 2) => format!("{:02}", c.day),
            ('D', 1) => c.day.to_string(),
            ('E', 4) => DAYS[weekday(c.year, c.month, c.day)].to_string(),
            ('E', 3) => DAYS[weekday(c.year, c.month, c.day)][..3].to_string(),
            ('h', 2) => format!("{:02}", c.hour),
            ('h', 1) => c.hour.to_string(),
            ('H', 2) => format!("{hour12:02}"),
            ('H', 1) => hour12.to_string(),
            ('A', 2) => if c.hour < 12 { "AM" } else { "PM" }.to_string(),
            ('a', 2) => if c.hour < 12 { "am" } else { "pm" }.to_string(),
            ('m', 2) => format!("{:02}", c.minute),
            ('m', 1) => c.minute.to_string(),
            ('s', 2) => format!("{:02}", c.second),
            ('s', 1) => c.second.to_string(),
            ('Z', 5) => format!("{sign}{oh:02}:{om:02}"),
            ('Z', 4) => format!("{sign}{oh:02}{om:02}"),
            ('Z', 3) if c.offset == 0 => "UTC".to_string(),
            ('Z', 3) => format!("{sign}{oh:02}{om:02}"),
            ('Z', 1) if c.offset == 0 => "Z".to_string(),
            ('Z', 1) => format!("{sign}{oh:02}:{om:02}"),
            _ => {
                return Err(format!(
                    "invalid date format verb {:?}",
                    chars[i..i + run].iter().collect::<String>()
                ))
            }
        };
        out.push_str(&piece);
        i += run;
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

    #[test]
    fn formatdate_follows_terraform_examples() {
        let f = |spec: &str, t: &str| c("formatdate", &[st(spec), st(t)]).unwrap();
        assert_eq!(
            f("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z"),
            st("02 Jan 2018 23:12 UTC")
        );
        assert_eq!(
            f("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z"),
            st("Tuesday, 02-Jan-18 23:12:01 UTC")
        );
        assert_eq!(
            f("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00"),
            st("Tue, 02 Jan 2018 23:12:01 -0800")
        );
        assert_eq!(
            f("MMM DD, YYYY", "2018-01-02T23:12:01Z"),
            st("Jan 02, 2018")
        );
        assert_eq!(f("HH:mmaa", "2018-01-02T23:12:01Z"), st("11:12pm"));
        assert_eq!(f("h 'o''clock'", "2018-01-02T05:00:00.5Z"), st("5 o'clock"));
        assert_eq!(
            f("YYYY-MM-DD'T'hh:mm:ssZ", "2024-02-29T00:00:00+05:30"),
            st("2024-02-29T00:00:00+05:30")
        );
        assert!(c("formatdate", &[st("YYYY"), st("2018-01-02")]).is_err());
        assert!(c("formatdate", &[st("QQ"), st("2018-01-02T23:12:01Z")]).is_err());
    }
}
