//! Vehicle identification numbers per 49 CFR 565 (and GB 16735, which follows it):
//! 17 characters from 0-9 and A-Z without I, O and Q, with a check digit at position 9.

use std::fmt;

/// A VIN that passed validation, upper-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vin(String);

/// Why a string is not a valid VIN.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VinError {
    #[error("a VIN has 17 characters, `{vin}` has {len}")]
    Length { vin: String, len: usize },
    #[error(
        "`{ch}` at position {position} is not allowed in a VIN (letters I, O and Q never appear)"
    )]
    Character { ch: char, position: usize },
    #[error("check digit at position 9 is `{found}` but the VIN's characters give `{expected}`")]
    CheckDigit { found: char, expected: char },
}

const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

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

/// The check digit the other 16 characters call for. `vin` must be 17 valid characters.
fn expected_check_digit(vin: &[char]) -> char {
    let sum: u32 = vin
        .iter()
        .zip(WEIGHTS)
        .map(|(&ch, weight)| transliterate(ch).unwrap_or(0) * weight)
        .sum();
    match sum % 11 {
        10 => 'X',
        digit => char::from_digit(digit, 10).unwrap_or('0'),
    }
}

impl Vin {
    /// Validates `raw` (surrounding spaces ignored, case-insensitive).
    pub fn parse(raw: &str) -> Result<Vin, VinError> {
        let upper = raw.trim().to_ascii_uppercase();
        let chars: Vec<char> = upper.chars().collect();
        if chars.len() != 17 {
            return Err(VinError::Length {
                vin: raw.trim().to_owned(),
                len: chars.len(),
            });
        }
        for (index, &ch) in chars.iter().enumerate() {
            if transliterate(ch).is_none() {
                return Err(VinError::Character {
                    ch,
                    position: index + 1,
                });
            }
        }
        let expected = expected_check_digit(&chars);
        if chars[8] != expected {
            return Err(VinError::CheckDigit {
                found: chars[8],
                expected,
            });
        }
        Ok(Vin(upper))
    }

    /// Replaces position 9 of a 17-character candidate with its correct check digit;
    /// used to generate valid demo and test VINs.
    pub fn with_check_digit(candidate: &str) -> Option<Vin> {
        let mut chars: Vec<char> = candidate.to_ascii_uppercase().chars().collect();
        if chars.len() != 17 || chars.iter().any(|&ch| transliterate(ch).is_none()) {
            return None;
        }
        chars[8] = '0';
        chars[8] = expected_check_digit(&chars);
        Some(Vin(chars.into_iter().collect()))
    }

    /// The VIN as a string.
    pub fn as_str(&self) -> &str {
        &self.0
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

    #[test]
    fn accepts_a_vin_with_a_correct_check_digit() {
        // The worked example from NHTSA's VIN decoder documentation.
        assert_eq!(
            Vin::parse("1M8GDM9AXKP042788").unwrap().as_str(),
            "1M8GDM9AXKP042788"
        );
    }

    #[test]
    fn accepts_lower_case_and_surrounding_spaces() {
        assert_eq!(
            Vin::parse(" 1m8gdm9axkp042788 ").unwrap().as_str(),
            "1M8GDM9AXKP042788"
        );
    }

    #[test]
    fn rejects_a_wrong_check_digit_and_names_the_expected_one() {
        assert_eq!(
            Vin::parse("1M8GDM9A1KP042788"),
            Err(VinError::CheckDigit {
                found: '1',
                expected: 'X'
            })
        );
    }

    #[test]
    fn rejects_i_o_and_q() {
        assert_eq!(
            Vin::parse("1M8GDM9AXKP04278O"),
            Err(VinError::Character {
                ch: 'O',
                position: 17
            })
        );
    }

    #[test]
    fn rejects_the_wrong_length() {
        assert!(matches!(
            Vin::parse("1M8GDM9AXKP04278"),
            Err(VinError::Length { len: 16, .. })
        ));
    }

    #[test]
    fn with_check_digit_produces_valid_vins() {
        let vin = Vin::with_check_digit("LSVAX4100N2000001").unwrap();
        assert!(Vin::parse(vin.as_str()).is_ok());
        assert_eq!(vin.as_str().len(), 17);
    }
}
