//! Licence plates, normalised so that the way an agent types one does not matter:
//! `沪 a-12345`, `沪A·12345` and `沪A12345` are the same plate. The check is loose on
//! purpose: plates differ by country and era, so only length and characters are checked.

/// Separators people type inside a plate, dropped by normalisation.
const SEPARATORS: &[char] = &[' ', '-', '.', '·', '•', '\u{3000}'];

/// Plates have this many characters once normalised (Chinese plates have 7 or 8).
const LENGTH: std::ops::RangeInclusive<usize> = 2..=12;

/// Whether `ch` may appear in a normalised plate: ASCII letters and digits, and CJK
/// characters for the province prefix and suffixes such as 学, 警 or 挂.
fn allowed(ch: char) -> bool {
    ch.is_ascii_uppercase() || ch.is_ascii_digit() || ('\u{4e00}'..='\u{9fff}').contains(&ch)
}

/// The normalised plate: trimmed, without spaces, hyphens or dots, ASCII upper-cased.
/// A text that cannot be a plate is an error message saying what is allowed.
pub fn normalise_plate(raw: &str) -> Result<String, String> {
    let plate: String = raw
        .trim()
        .chars()
        .filter(|c| !SEPARATORS.contains(c))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let count = plate.chars().count();
    if !LENGTH.contains(&count) {
        return Err(format!(
            "`{raw}` is not a licence plate: use {}-{} letters, digits or Chinese characters \
             (for example 沪A12345)",
            LENGTH.start(),
            LENGTH.end()
        ));
    }
    if let Some(bad) = plate.chars().find(|c| !allowed(*c)) {
        return Err(format!(
            "`{bad}` is not allowed in a licence plate `{raw}`: use letters, digits or \
             Chinese characters (for example 沪A12345)"
        ));
    }
    if !plate.chars().any(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "`{raw}` is not a licence plate: a plate has letters or digits"
        ));
    }
    Ok(plate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_plates_keep_the_province_and_lose_separators() {
        assert_eq!(normalise_plate(" 沪 a-12345 ").unwrap(), "沪A12345");
        assert_eq!(normalise_plate("粤B·D1234.5").unwrap(), "粤BD12345");
        assert_eq!(normalise_plate("ab 123 cd").unwrap(), "AB123CD");
    }

    #[test]
    fn too_short_too_long_or_odd_characters_are_refused() {
        assert!(normalise_plate("A").is_err());
        assert!(normalise_plate("ABCDEFGHJKLMN").is_err());
        assert!(normalise_plate("沪A_12345").is_err());
        assert!(normalise_plate("沪京").is_err());
    }
}
