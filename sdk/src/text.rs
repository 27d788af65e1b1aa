//! Keyword matching for ticket text, which arrives in Chinese as often as in English.

/// The first of `keywords`, in list order, that occurs in `text`, ignoring case.
///
/// A keyword that starts with an ASCII letter or digit must start a word: `brake` matches
/// "brakes" and "Brake pedal", but `fire` does not match "misfire". Other keywords, such as
/// Chinese ones, match anywhere, since Chinese puts no spaces between words. Blank keywords
/// never match.
pub fn find_keyword<'k, K: AsRef<str>>(text: &str, keywords: &'k [K]) -> Option<&'k str> {
    let text = text.to_lowercase();
    keywords
        .iter()
        .map(AsRef::as_ref)
        .find(|keyword| contains_keyword(&text, keyword))
}

/// Whether lowercased `text` contains `keyword` under the rules of [`find_keyword`].
fn contains_keyword(text: &str, keyword: &str) -> bool {
    let keyword = keyword.trim().to_lowercase();
    let Some(first) = keyword.chars().next() else {
        return false;
    };
    if !first.is_ascii_alphanumeric() {
        return text.contains(&keyword);
    }
    text.match_indices(&keyword).any(|(at, _)| {
        !text[..at]
            .chars()
            .next_back()
            .is_some_and(|before| before.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_keywords_match_at_word_starts_ignoring_case() {
        assert_eq!(find_keyword("Brakes squeal", &["brake"]), Some("brake"));
        assert_eq!(find_keyword("engine misfire", &["fire"]), None);
        assert_eq!(find_keyword("misfire, then FIRE", &["fire"]), Some("fire"));
        assert_eq!(find_keyword("刹车brake失灵", &["brake"]), Some("brake"));
    }

    #[test]
    fn chinese_keywords_match_anywhere() {
        assert_eq!(
            find_keyword("车辆行驶中突然起火了", &["起火"]),
            Some("起火")
        );
    }

    #[test]
    fn the_first_keyword_in_list_order_wins() {
        let keywords = ["安全气囊", "气囊"];
        assert_eq!(find_keyword("安全气囊灯亮", &keywords), Some("安全气囊"));
        assert_eq!(find_keyword("气囊灯亮", &keywords), Some("气囊"));
    }

    #[test]
    fn blank_keywords_never_match() {
        assert_eq!(find_keyword("anything", &["", "  "]), None);
    }

    #[test]
    fn keywords_are_trimmed_and_lowercased() {
        assert_eq!(
            find_keyword("Charging port", &[" CHARGING "]),
            Some(" CHARGING ")
        );
    }
}
