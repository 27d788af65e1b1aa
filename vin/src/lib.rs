//! Vehicle identification numbers per ISO 3779, 49 CFR 565 and GB 16735, which follows
//! them: 17 characters from 0-9 and A-Z without I, O and Q, with a check digit at position
//! 9 and the model year at position 10.
//!
//! The host refuses a VIN whose check digit is wrong ([`Vin::parse`]); the `vin-decoder`
//! plugin reads the maker and year of any well-formed VIN ([`Vin::read`]) and reports a
//! wrong check digit as an issue. Both use this crate (the plugin through `axle_sdk::vin`),
//! so they never disagree about what a VIN is.

use std::fmt;

/// A VIN, upper-cased, whose characters are all allowed. One made by [`Vin::parse`] or
/// [`Vin::with_check_digit`] also has the right check digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Vin(String);

/// Why a text is not a valid VIN, in words a service agent can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VinError {
    /// Not 17 characters.
    Length { vin: String, len: usize },
    /// A character a VIN never has (`position` counts from 1).
    Character { ch: char, position: usize },
    /// Position 9 is not what the other 16 characters give.
    CheckDigit { found: char, expected: char },
}

impl fmt::Display for VinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VinError::Length { vin, len } => {
                write!(f, "a VIN has 17 characters, `{vin}` has {len}")
            }
            VinError::Character { ch, position } if matches!(ch, 'I' | 'O' | 'Q') => write!(
                f,
                "`{ch}` at position {position} is not allowed in a VIN (letters I, O and Q \
                 never appear; it is probably a 1 or a 0)"
            ),
            VinError::Character { ch, position } => write!(
                f,
                "`{ch}` at position {position} is not allowed in a VIN (only letters and \
                 digits are, and letters I, O and Q never appear)"
            ),
            VinError::CheckDigit { found, expected } => write!(
                f,
                "check digit at position 9 is `{found}` but the VIN's characters give \
                 `{expected}`"
            ),
        }
    }
}

impl std::error::Error for VinError {}

/// Weights of positions 1–17 in the check digit sum; position 9, the check digit, weighs 0.
const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/// Year codes of position 10, in order from 1980 (and again from 2010).
const YEAR_CODES: &[u8; 30] = b"ABCDEFGHJKLMNPRSTVWXY123456789";

/// The value of a VIN character in the check digit sum (49 CFR 565.15); `None` for a
/// character a VIN never has.
fn transliterate(ch: char) -> Option<u32> {
    Some(match ch {
        '0'..='9' => ch as u32 - '0' as u32,
        'A' | 'J' => 1,
        'B' | 'K' | 'S' => 2,
        'C' | 'L' | 'T' => 3,
        'D' | 'M' | 'U' => 4,
        'E' | 'N' | 'V' => 5,
        'F' | 'W' => 6,
        'G' | 'P' | 'X' => 7,
        'H' | 'Y' => 8,
        'R' | 'Z' => 9,
        _ => return None,
    })
}

/// The check digit the other 16 characters call for. `chars` are 17 allowed characters.
fn check_digit_of(chars: impl Iterator<Item = char>) -> char {
    let sum: u32 = chars
        .zip(WEIGHTS)
        .map(|(ch, weight)| transliterate(ch).unwrap_or(0) * weight)
        .sum();
    match sum % 11 {
        10 => 'X',
        digit => char::from_digit(digit, 10).unwrap_or('0'),
    }
}

impl Vin {
    /// Validates `raw` (surrounding spaces ignored, case-insensitive), check digit included.
    pub fn parse(raw: &str) -> Result<Vin, VinError> {
        let vin = Vin::read(raw)?;
        let (found, expected) = (vin.check_digit(), vin.expected_check_digit());
        if found != expected {
            return Err(VinError::CheckDigit { found, expected });
        }
        Ok(vin)
    }

    /// Reads `raw` as a VIN whose check digit may be wrong: for what its characters say
    /// (maker, model year) when a wrong check digit is reported on its own.
    pub fn read(raw: &str) -> Result<Vin, VinError> {
        let upper = raw.trim().to_ascii_uppercase();
        let len = upper.chars().count();
        if len != 17 {
            return Err(VinError::Length {
                vin: raw.trim().to_owned(),
                len,
            });
        }
        if let Some((index, ch)) = upper
            .chars()
            .enumerate()
            .find(|&(_, ch)| transliterate(ch).is_none())
        {
            return Err(VinError::Character {
                ch,
                position: index + 1,
            });
        }
        Ok(Vin(upper))
    }

    /// Replaces position 9 of a 17-character candidate with its correct check digit; used
    /// to make valid demo and test VINs.
    pub fn with_check_digit(candidate: &str) -> Option<Vin> {
        let mut chars: Vec<char> = Vin::read(candidate).ok()?.0.chars().collect();
        chars[8] = '0';
        chars[8] = check_digit_of(chars.iter().copied());
        Some(Vin(chars.into_iter().collect()))
    }

    /// The VIN as a string.
    pub fn as_str(&self) -> &str {
        &self.0
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
        check_digit_of(self.0.chars())
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
        let first_cycle = 1980 + u16::try_from(index).ok()?;
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

impl fmt::Display for Vin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vin(text: &str) -> Vin {
        Vin::parse(text).unwrap()
    }

    #[test]
    fn accepts_a_vin_with_a_correct_check_digit() {
        // The worked example from NHTSA's VIN decoder documentation.
        assert_eq!(vin("1M8GDM9AXKP042788").as_str(), "1M8GDM9AXKP042788");
        for text in [
            "11111111111111111",
            "5YJ3E1EA2KF317000",
            "LRW3E7FS5PC695355",
        ] {
            assert_eq!(vin(text).as_str(), text);
        }
    }

    #[test]
    fn accepts_lower_case_and_surrounding_spaces() {
        assert_eq!(vin(" 1m8gdm9axkp042788 ").as_str(), "1M8GDM9AXKP042788");
    }

    #[test]
    fn rejects_a_wrong_check_digit_and_names_the_expected_one() {
        let err = Vin::parse("1M8GDM9A1KP042788").unwrap_err();
        assert_eq!(
            err,
            VinError::CheckDigit {
                found: '1',
                expected: 'X'
            }
        );
        assert_eq!(
            err.to_string(),
            "check digit at position 9 is `1` but the VIN's characters give `X`"
        );
    }

    #[test]
    fn read_accepts_a_wrong_check_digit_and_tells_both() {
        let read = Vin::read("1M8GDM9AXKP042789").unwrap();
        assert_eq!(read.check_digit(), 'X');
        assert_ne!(read.expected_check_digit(), 'X');
        assert_eq!(
            Vin::read("1M8GDM9A0KP042788")
                .unwrap()
                .expected_check_digit(),
            'X'
        );
    }

    #[test]
    fn rejects_i_o_and_q_suggesting_the_digit_meant() {
        let err = Vin::parse("1M8GDM9AXKP04278O").unwrap_err();
        assert_eq!(
            err,
            VinError::Character {
                ch: 'O',
                position: 17
            }
        );
        assert!(err.to_string().contains("I, O and Q"), "{err}");
        assert!(err.to_string().contains("probably a 1 or a 0"), "{err}");
    }

    #[test]
    fn rejects_punctuation_and_chinese_characters_by_position() {
        let dash = Vin::read("LSVAU-180N2183294").unwrap_err();
        assert!(dash.to_string().starts_with("`-` at position 6"), "{dash}");
        let wide = Vin::read("LSVAU2180N218329车").unwrap_err();
        assert!(
            wide.to_string().starts_with("`车` at position 17"),
            "{wide}"
        );
    }

    #[test]
    fn rejects_the_wrong_length_counting_characters() {
        assert_eq!(
            Vin::parse("1M8GDM9AXKP04278").unwrap_err().to_string(),
            "a VIN has 17 characters, `1M8GDM9AXKP04278` has 16"
        );
        assert!(matches!(
            Vin::read("LSVAU2180N218329车车"),
            Err(VinError::Length { len: 18, .. })
        ));
    }

    #[test]
    fn with_check_digit_produces_valid_vins() {
        let made = Vin::with_check_digit("LSVAX4100N2000001").unwrap();
        assert_eq!(Vin::parse(made.as_str()), Ok(made.clone()));
        assert_eq!(Vin::with_check_digit("LSVAX4100N200000"), None);
    }

    #[test]
    fn position_7_picks_the_cycle_of_north_american_vins() {
        assert_eq!(vin("1M8GDM9AXKP042788").model_year(), Some(1989));
        assert_eq!(vin("5YJ3E1EA2KF317000").model_year(), Some(2019));
    }

    #[test]
    fn chinese_vins_read_in_1999_to_2028() {
        // Position 7 is a digit, which 49 CFR 565 would read as 1992.
        assert_eq!(
            Vin::read("LSVAU2180N2183294").unwrap().model_year(),
            Some(2022)
        );
        assert_eq!(vin("LRW3E7FS5PC695355").model_year(), Some(2023));
        assert_eq!(
            Vin::read("LGXC16DF2X0000001").unwrap().model_year(),
            Some(1999)
        );
        assert_eq!(
            Vin::read("LGXC16DF250000001").unwrap().model_year(),
            Some(2005)
        );
    }

    #[test]
    fn positions_10_without_a_year_code_give_no_year() {
        assert_eq!(Vin::read("WVWZZZ1KZ0W000001").unwrap().model_year(), None);
        assert_eq!(Vin::read("WVWZZZ1KZUW000001").unwrap().model_year(), None);
    }
}
