//! Phone numbers, kept in E.164 (`+8613912345602`), so that a caller who gives
//! `13912345602` and a record that says `+86 139 1234 5602` are one customer. A number
//! written without its country code belongs to the tenant's default country (China unless
//! the tenant says otherwise). libphonenumber's metadata, through the `phonenumber` crate,
//! knows each country's prefixes and lengths, so a digit too few is refused, not stored.

use phonenumber::country;

/// The country a phone number written without `+<country code>` belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhoneCountry(country::Id);

impl Default for PhoneCountry {
    fn default() -> Self {
        PhoneCountry::CHINA
    }
}

impl PhoneCountry {
    /// Axle's first market, and every tenant's default.
    pub const CHINA: PhoneCountry = PhoneCountry(country::Id::CN);

    /// The country with ISO 3166 alpha-2 code `code` (`CN`, `de`).
    pub fn parse(code: &str) -> Result<PhoneCountry, String> {
        code.trim()
            .to_ascii_uppercase()
            .parse()
            .map(PhoneCountry)
            .map_err(|_| {
                format!("`{code}` is not a country code; use ISO 3166 alpha-2, such as CN or DE")
            })
    }

    /// The ISO 3166 alpha-2 code.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }

    /// `raw` in E.164, read as a number of this country unless it starts with `+` or an
    /// international prefix (`00`).
    pub fn normalise(self, raw: &str) -> Result<String, String> {
        let number = phonenumber::parse(Some(self.0), raw.trim())
            .ok()
            .filter(phonenumber::is_valid)
            .ok_or_else(|| {
                format!(
                    "`{raw}` is not a valid phone number in {} or with a country code \
                     (such as 139 1234 5602 or +86 139 1234 5602)",
                    self.code()
                )
            })?;
        Ok(number.format().mode(phonenumber::Mode::E164).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_national_number_and_its_international_form_are_one_number() {
        let cn = PhoneCountry::CHINA;
        for raw in [
            "13912345602",
            "139-1234-5602",
            "+86 139 1234 5602",
            " +86 (139) 1234-5602 ",
            "008613912345602",
        ] {
            assert_eq!(cn.normalise(raw).as_deref(), Ok("+8613912345602"), "{raw}");
        }
        assert_eq!(
            cn.normalise("021 6288.1234").as_deref(),
            Ok("+862162881234")
        );
    }

    #[test]
    fn a_number_with_a_country_code_keeps_its_own_country() {
        let cn = PhoneCountry::CHINA;
        assert_eq!(cn.normalise("+49 30 901820").as_deref(), Ok("+4930901820"));
        let de = PhoneCountry::parse("de").unwrap();
        assert_eq!(de.normalise("030 901820").as_deref(), Ok("+4930901820"));
        assert_eq!(de.code(), "DE");
    }

    #[test]
    fn a_digit_too_few_or_too_many_or_words_are_refused_with_the_country_named() {
        let cn = PhoneCountry::CHINA;
        for raw in ["1391234560", "139123456020", "call me", "123", ""] {
            let err = cn.normalise(raw).unwrap_err();
            assert!(err.contains("in CN"), "{raw}: {err}");
        }
    }

    #[test]
    fn country_codes_are_iso_alpha_2() {
        assert_eq!(PhoneCountry::parse(" cn ").unwrap(), PhoneCountry::CHINA);
        assert!(PhoneCountry::parse("XX").unwrap_err().contains("ISO 3166"));
        assert!(PhoneCountry::parse("China").is_err());
    }
}
