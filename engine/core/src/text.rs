//! Text for messages.

/// `s` on one line (whitespace runs become one space), at most `max` characters, `...` when cut.
pub fn excerpt(s: &str, max: usize) -> String {
    let one = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > max {
        format!("{}...", one.chars().take(max).collect::<String>())
    } else {
        one
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_line_and_cut() {
        assert_eq!(super::excerpt(" a\n  b\tc ", 10), "a b c");
        assert_eq!(super::excerpt("abcdef", 3), "abc...");
    }
}
