//! Durations as users write them in configurations and flags: one grammar for every place that
//! takes one (flags, `health_check`, plugin limits, the AWS provider's `timeouts` blocks).
//!
//! It is Go's `time.ParseDuration`, which Terraform uses: a sequence of decimal numbers, each
//! with an optional fraction and a unit (`ns`, `us` or `µs`, `ms`, `s`, `m`, `h`), such as
//! `500ms`, `30s`, `5m`, `1h30m` or `1.5h`, and `0` alone. Terrane also takes a bare number as
//! seconds (`-lock-timeout=5`), and blanks around the whole and between a number and its unit
//! (`5 m`, `1h 30m`). Negative durations are refused: no place that takes a duration has a use
//! for one.

use std::time::Duration;

/// Parses a duration (see the module documentation); zero is allowed.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.starts_with('-') {
        return Err(format!(
            "{s:?} is negative: a duration must be zero or more"
        ));
    }
    if t.is_empty() {
        return Err(format!("{s:?} is not a duration such as \"30s\""));
    }
    // A bare number: seconds.
    if let Ok(n) = t.parse::<f64>() {
        return seconds(n, s);
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(digits);
        if num.is_empty() || num == "." {
            return Err(format!(
                "{s:?} is not a duration such as \"30s\" or \"1h30m\""
            ));
        }
        let n: f64 = num
            .parse()
            .map_err(|_| format!("{s:?} is not a duration such as \"30s\" or \"1h30m\""))?;
        let after = after.trim_start();
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale = match unit.trim_end() {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => {
                return Err(format!(
                    "missing unit after {num} in {s:?} (use ns, us, ms, s, m or h)"
                ))
            }
            u => {
                return Err(format!(
                    "unknown duration unit {u:?} in {s:?} (use ns, us, ms, s, m or h)"
                ))
            }
        };
        total += n * scale;
        rest = next;
    }
    seconds(total, s)
}

fn seconds(secs: f64, s: &str) -> Result<Duration, String> {
    if !(secs >= 0.0 && secs.is_finite()) || secs > u64::MAX as f64 {
        return Err(format!("{s:?} is not a duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5m").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 fortnights").is_err());
    }

    #[test]
    fn durations_parse_as_terraform_does() {
        let ok = |s: &str| parse_duration(s).unwrap();
        assert_eq!(ok("30s"), Duration::from_secs(30));
        assert_eq!(ok("5m"), Duration::from_secs(300));
        assert_eq!(ok("10m"), Duration::from_secs(600));
        assert_eq!(ok("1h30m"), Duration::from_secs(5400));
        assert_eq!(ok("2h45m30s"), Duration::from_secs(2 * 3600 + 45 * 60 + 30));
        assert_eq!(ok("1m30.5s"), Duration::from_millis(90_500));
        assert_eq!(ok("1.5h"), Duration::from_secs(5400));
        assert_eq!(ok("300ms"), Duration::from_millis(300));
        assert_eq!(ok("1s500ms"), Duration::from_millis(1500));
        assert_eq!(ok("250us"), Duration::from_micros(250));
        assert_eq!(ok("250µs"), Duration::from_micros(250));
        assert_eq!(ok("40ns"), Duration::from_nanos(40));
        assert_eq!(ok("+5s"), Duration::from_secs(5));
        assert_eq!(ok(" 20m "), Duration::from_secs(1200));
        assert_eq!(ok("0s"), Duration::ZERO);
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        let err = |s: &str| parse_duration(s).unwrap_err();
        assert!(
            err("5x").contains("unknown duration unit \"x\""),
            "{}",
            err("5x")
        );
        assert!(
            err("1h30").contains("missing unit after 30"),
            "{}",
            err("1h30")
        );
        assert!(err("-5s").contains("negative"), "{}", err("-5s"));
        assert!(err("").contains("not a duration"));
        assert!(err("h").contains("not a duration"));
        assert!(err("1..5s").contains("not a duration"));
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
    }
}
