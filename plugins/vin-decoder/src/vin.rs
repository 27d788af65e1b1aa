//! The structure of a 17-character VIN (ISO 3779, 49 CFR 565, GB 16735).

/// Weights of positions 1–17 in the check digit sum; position 9, the check digit, weighs 0.
const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/// Year codes of position 10, in order from 1980 (and again from 2010).
const YEAR_CODES: &[u8; 30] = b"ABCDEFGHJKLMNPRSTVWXY123456789";

/// A VIN whose characters are all allowed; the check digit may still be wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Vin(String);

impl Vin {
    /// Reads `text` as a VIN, ignoring surrounding spaces and case. The error says what is
    /// wrong in words a service agent can act on.
    pub fn parse(text: &str) -> Result<Vin, String> {
        let vin = text.trim().to_ascii_uppercase();
        let length = vin.chars().count();
        if length != 17 {
            return Err(format!("a VIN has 17 characters, this one has {length}"));
        }
        if let Some((at, c)) = vin.char_indices().find(|(_, c)| !c.is_ascii_alphanumeric()) {
            return Err(format!(
                "a VIN has only letters and digits, found '{c}' at position {}",
                at + 1
            ));
        }
        if let Some((at, c)) = vin
            .char_indices()
            .find(|(_, c)| matches!(c, 'I' | 'O' | 'Q'))
        {
            return Err(format!(
                "a VIN never contains I, O or Q, found '{c}' at position {}; \
                 it is probably a 1 or a 0",
                at + 1
            ));
        }
        Ok(Vin(vin))
    }

    /// The world manufacturer identifier: positions 1–3.
    pub fn wmi(&self) -> &str {
        &self.0[..3]
    }

    /// Position 9 as printed.
    pub fn check_digit(&self) -> char {
        char::from(self.0.as_bytes()[8])
    }

    /// What position 9 should be, given the other 16 characters.
    pub fn expected_check_digit(&self) -> char {
        let sum: u32 = self
            .0
            .bytes()
            .zip(WEIGHTS)
            .map(|(c, weight)| transliterate(c) * weight)
            .sum();
        match sum % 11 {
            10 => 'X',
            digit => char::from_digit(digit, 10).expect("a remainder of 11 is a digit"),
        }
    }

    /// The model year coded in position 10, or `None` when position 10 is not a year code.
    ///
    /// The code repeats every 30 years. For North American and most other VINs, 49 CFR 565
    /// settles the cycle with position 7: a digit means 1980–2009, a letter 2010–2039.
    /// Chinese VINs (GB 16735) leave position 7 to the maker and only exist since 1999, so
    /// for them the code is read in 1999–2028.
    pub fn model_year(&self) -> Option<u16> {
        let bytes = self.0.as_bytes();
        let index = YEAR_CODES.iter().position(|&code| code == bytes[9])?;
        let first_cycle = 1980 + u16::try_from(index).expect("30 year codes");
        let later_cycle = if bytes[0] == b'L' {
            first_cycle < 1999
        } else {
            bytes[6].is_ascii_alphabetic()
        };
        Some(if later_cycle {
            first_cycle + 30
        } else {
            first_cycle
        })
    }
}

/// The value of a VIN character in the check digit sum (49 CFR 565.15).
fn transliterate(c: u8) -> u32 {
    match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        b'A' | b'J' => 1,
        b'B' | b'K' | b'S' => 2,
        b'C' | b'L' | b'T' => 3,
        b'D' | b'M' | b'U' => 4,
        b'E' | b'N' | b'V' => 5,
        b'F' | b'W' => 6,
        b'G' | b'P' | b'X' => 7,
        b'H' | b'Y' => 8,
        b'R' | b'Z' => 9,
        // Not reachable for a parsed VIN: I, O, Q and non-alphanumerics are rejected.
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vin(text: &str) -> Vin {
        Vin::parse(text).unwrap()
    }

    #[test]
    fn textbook_vins_have_valid_check_digits() {
        for text in [
            "1M8GDM9AXKP042788",
            "11111111111111111",
            "5YJ3E1EA2KF317000",
        ] {
            let v = vin(text);
            assert_eq!(v.expected_check_digit(), v.check_digit(), "{text}");
        }
    }

    #[test]
    fn a_changed_character_breaks_the_check_digit() {
        let v = vin("1M8GDM9AXKP042789");
        assert_eq!(v.check_digit(), 'X');
        assert_ne!(v.expected_check_digit(), 'X');
    }

    #[test]
    fn remainder_ten_is_x() {
        assert_eq!(vin("1M8GDM9A0KP042788").expected_check_digit(), 'X');
    }

    #[test]
    fn parse_normalises_case_and_spaces() {
        assert_eq!(vin(" lsvau2180n2183294 ").0, "LSVAU2180N2183294");
    }

    #[test]
    fn parse_rejects_wrong_length_and_characters() {
        let short = Vin::parse("LSVAU2180N218329").unwrap_err();
        assert!(short.contains("has 16"), "{short}");
        let letter_o = Vin::parse("LSVAU2180N2O83294").unwrap_err();
        assert!(letter_o.contains("'O' at position 12"), "{letter_o}");
        let dash = Vin::parse("LSVAU-180N2183294").unwrap_err();
        assert!(dash.contains("'-' at position 6"), "{dash}");
        let wide = Vin::parse("LSVAU2180N218329车").unwrap_err();
        assert!(wide.contains("'车' at position 17"), "{wide}");
    }

    #[test]
    fn position_7_picks_the_cycle_of_north_american_vins() {
        assert_eq!(vin("1M8GDM9AXKP042788").model_year(), Some(1989));
        assert_eq!(vin("5YJ3E1EA2KF317000").model_year(), Some(2019));
    }

    #[test]
    fn chinese_vins_read_in_1999_to_2028() {
        // Position 7 is a digit, which 49 CFR 565 would read as 1992.
        assert_eq!(vin("LSVAU2180N2183294").model_year(), Some(2022));
        assert_eq!(vin("LRW3E7FS5PC695355").model_year(), Some(2023));
        assert_eq!(vin("LGXC16DF2X0000001").model_year(), Some(1999));
        assert_eq!(vin("LGXC16DF250000001").model_year(), Some(2005));
    }

    #[test]
    fn positions_10_without_a_year_code_give_no_year() {
        assert_eq!(vin("WVWZZZ1KZ0W000001").model_year(), None);
        assert_eq!(vin("WVWZZZ1KZUW000001").model_year(), None);
    }
}
