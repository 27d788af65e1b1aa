//! Amounts of money: stored as whole minor units (cents, fen) so sums are exact, shown and
//! accepted as decimal strings (`"1280.50"`) the way a spreadsheet holds them.

use std::fmt;

use serde::{Serialize, Serializer};

/// A non-negative amount in minor currency units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amount(i64);

/// The largest amount accepted: far beyond any workshop bill, well inside `i64`.
const MAX_CENTS: i64 = 1_000_000_000_000;

impl Amount {
    /// An amount of `cents` minor units.
    pub fn from_cents(cents: i64) -> Amount {
        Amount(cents)
    }

    /// The amount in minor units.
    pub fn cents(self) -> i64 {
        self.0
    }

    /// Parses a decimal amount with at most two decimals: `1280`, `1280.5`, `1280.50`.
    pub fn parse(raw: &str) -> Result<Amount, String> {
        let text = raw.trim();
        let invalid = || {
            format!(
                "`{raw}` is not an amount: write digits with at most two decimals and no \
                 currency sign or thousands separator, e.g. 1280.50"
            )
        };
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty()
            || fraction.len() > 2
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
            || (text.contains('.') && fraction.is_empty())
        {
            return Err(invalid());
        }
        let whole: i64 = whole.parse().map_err(|_| invalid())?;
        let fraction: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| invalid())? * 10,
            _ => fraction.parse().map_err(|_| invalid())?,
        };
        let cents = whole
            .checked_mul(100)
            .and_then(|c| c.checked_add(fraction))
            .filter(|&c| c <= MAX_CENTS)
            .ok_or_else(|| format!("`{raw}` is too large for an amount"))?;
        Ok(Amount(cents))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_and_decimal_amounts() {
        assert_eq!(Amount::parse("1280").unwrap().cents(), 128_000);
        assert_eq!(Amount::parse("1280.5").unwrap().cents(), 128_050);
        assert_eq!(Amount::parse(" 0.07 ").unwrap().cents(), 7);
    }

    #[test]
    fn shows_two_decimals() {
        assert_eq!(Amount::from_cents(128_050).to_string(), "1280.50");
        assert_eq!(Amount::from_cents(7).to_string(), "0.07");
    }

    #[test]
    fn rejects_signs_separators_and_extra_decimals() {
        for bad in ["-5", "¥1280", "1,280.50", "12.345", "12.", ".5", "", "1e3"] {
            assert!(Amount::parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}
