//! Time functions: `timestamp`, `plantimestamp`, `formatdate`, `timeadd`, `timecmp`, on RFC 3339
//! timestamps as Terraform reads and writes them.

use terrane_core::Value;

use super::{arity, s, R};

/// `Some(result)` for the functions of this file, `None` for any other name.
pub(super) fn call(name: &str, a: &[Value]) -> Option<R> {
    Some(match name {
        "timestamp" | "plantimestamp" => arity(name, a, 0)
            .map(|()| Value::String(terrane_state::format_rfc3339(crate::environments::now()))),
        "formatdate" => arity(name, a, 2).and_then(|()| formatdate(&s(&a[0])?, &s(&a[1])?)),
        "timeadd" => arity(name, a, 2).and_then(|()| timeadd(&s(&a[0])?, &s(&a[1])?)),
        "timecmp" => arity(name, a, 2).and_then(|()| {
            let (x, y) = (instant(&s(&a[0])?)?, instant(&s(&a[1])?)?);
            Ok(Value::Number(match x.cmp(&y) {
                std::cmp::Ordering::Less => -1.0,
                std::cmp::Ordering::Equal => 0.0,
                std::cmp::Ordering::Greater => 1.0,
            }))
        }),
        _ => return None,
    })
}

pub(super) const NAMES: &[&str] = &[
    "timestamp",
    "plantimestamp",
    "formatdate",
    "timeadd",
    "timecmp",
];

fn civil(t: &str) -> Result<Civil, String> {
    parse_time(t).ok_or_else(|| {
        format!("{t:?} is not a valid RFC 3339 timestamp: a time such as 2006-01-02T15:04:05Z is required")
    })
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    terrane_core::time::days_from_civil(y, i64::from(m), i64::from(d))
}

/// Nanoseconds since the epoch, UTC.
fn instant(t: &str) -> Result<i128, String> {
    let c = civil(t)?;
    let local = days_from_civil(c.year, c.month, c.day) * 86_400
        + i64::from(c.hour) * 3600
        + i64::from(c.minute) * 60
        + i64::from(c.second);
    let secs = local - i64::from(c.offset) * 60;
    Ok(i128::from(secs) * 1_000_000_000 + i128::from(c.nanos))
}

/// Go's `time.ParseDuration`, signed, in nanoseconds: `1h30m`, `-10m`, `1.5h`, `0`.
fn go_duration(d: &str) -> Result<i128, String> {
    let bad = || format!("{d:?} is not a duration such as \"1h30m\" or \"-10m\"");
    let (neg, body) = match d.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, d.strip_prefix('+').unwrap_or(d)),
    };
    if body == "0" {
        return Ok(0);
    }
    if body.is_empty() || body.contains(char::is_whitespace) || body.parse::<f64>().is_ok() {
        return Err(bad());
    }
    let abs = terrane_core::units::parse_duration(body).map_err(|_| bad())?;
    let n = abs.as_nanos() as i128;
    Ok(if neg { -n } else { n })
}

fn timeadd(t: &str, d: &str) -> R {
    let c = civil(t)?;
    let at = instant(t)? + go_duration(d)?;
    let offset = i128::from(c.offset) * 60;
    let local = (at.div_euclid(1_000_000_000) + offset) as i64;
    let (y, m, day) = terrane_core::time::civil_from_days(local.div_euclid(86_400));
    let rem = local.rem_euclid(86_400);
    let zone = if c.offset == 0 {
        "Z".to_string()
    } else {
        let sign = if c.offset < 0 { '-' } else { '+' };
        format!(
            "{sign}{:02}:{:02}",
            c.offset.abs() / 60,
            c.offset.abs() % 60
        )
    };
    Ok(Value::String(format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}{zone}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )))
}

/// An RFC 3339 time as its fields, in its own offset.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
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
    let mut nanos = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let scaled: String = frac[..digits]
            .chars()
            .chain("000000000".chars())
            .take(9)
            .collect();
        nanos = scaled.parse().ok()?;
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
        nanos,
        offset,
    };
    ((1..=12).contains(&c.month)
        && (1..=31).contains(&c.day)
        && c.hour < 24
        && c.minute < 60
        && c.second < 61)
        .then_some(c)
}

/// 0 = Sunday.
fn weekday(y: i64, m: u32, d: u32) -> usize {
    (days_from_civil(y, m, d) + 4).rem_euclid(7) as usize
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
    let c = civil(t)?;
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

    #[test]
    fn timeadd_and_timecmp_follow_terraform_examples() {
        let add = |t: &str, d: &str| c("timeadd", &[st(t), st(d)]);
        assert_eq!(
            add("2017-11-22T00:00:00Z", "10m").unwrap(),
            st("2017-11-22T00:10:00Z")
        );
        assert_eq!(
            add("2017-11-22T00:00:00Z", "-1h30m").unwrap(),
            st("2017-11-21T22:30:00Z")
        );
        assert_eq!(
            add("2024-02-28T23:00:00+05:30", "2h").unwrap(),
            st("2024-02-29T01:00:00+05:30")
        );
        assert!(add("2017-11-22T00:00:00Z", "10").is_err());
        assert!(add("2017-11-22", "10m").is_err());
        let cmp = |x: &str, y: &str| c("timecmp", &[st(x), st(y)]).unwrap();
        assert_eq!(
            cmp("2017-11-22T00:00:00Z", "2017-11-22T00:00:00Z"),
            Value::Number(0.0)
        );
        assert_eq!(
            cmp("2017-11-22T00:00:00Z", "2017-11-22T01:00:00+01:00"),
            Value::Number(0.0)
        );
        assert_eq!(
            cmp("2017-11-22T00:00:00.5Z", "2017-11-22T00:00:00Z"),
            Value::Number(1.0)
        );
        assert_eq!(
            cmp("2017-11-21T00:00:00Z", "2017-11-22T00:00:00Z"),
            Value::Number(-1.0)
        );
    }
}
