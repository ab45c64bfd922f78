//! Per-instance resource limits.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Linear memory of one plugin instance.
    pub memory_bytes: usize,
    /// Guest time of one call (an epoch deadline; time in host calls is bounded separately).
    pub call_timeout: Duration,
    /// Instances of one provider configuration that may run at once.
    pub max_instances: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 256 << 20,
            call_timeout: Duration::from_secs(60),
            max_instances: 8,
        }
    }
}

/// `256MiB`, `1GiB`, `512MB`, `65536` (bytes).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size such as \"256MiB\""))?;
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" => 1 << 10,
        "kb" => 1000,
        "mib" => 1 << 20,
        "mb" => 1_000_000,
        "gib" => 1 << 30,
        "gb" => 1_000_000_000,
        u => {
            return Err(format!(
                "unknown size unit {u:?} in {s:?} (use KiB, MiB or GiB)"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// A positive duration: `60s`, `2m`, `500ms`, `1h`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    match terrane_core::units::parse_duration(s)? {
        d if d.is_zero() => Err(format!("{s:?} must be a positive duration")),
        d => Ok(d),
    }
}

pub fn human_size(n: usize) -> String {
    if n >= 1 << 30 && n.is_multiple_of(1 << 30) {
        format!("{} GiB", n >> 30)
    } else if n >= 1 << 20 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_parse() {
        assert_eq!(parse_size("256MiB").unwrap(), 256 << 20);
        assert_eq!(parse_size("1 GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3 parsecs").is_err());
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5m").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(human_size(256 << 20), "256 MiB");
        assert_eq!(human_size(2 << 30), "2 GiB");
    }
}
