//! VIN and licence plate parsing, with the properties callers rely on: a parsed VIN or a
//! normalised plate reads back as itself, and a VIN given its check digit is valid.

#![no_main]

use axle_host::domain::plate::normalise_plate;
use axle_vin::Vin;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(vin) = Vin::parse(text) {
        assert_eq!(vin.as_str().len(), 17);
        assert_eq!(Vin::parse(vin.as_str()).as_ref(), Ok(&vin));
    }
    if let Some(vin) = Vin::with_check_digit(text) {
        assert_eq!(Vin::parse(vin.as_str()).as_ref(), Ok(&vin), "{text:?}");
    }
    if let Ok(plate) = normalise_plate(text) {
        assert!((2..=12).contains(&plate.chars().count()), "{plate:?}");
        assert_eq!(normalise_plate(&plate).as_ref(), Ok(&plate), "{text:?}");
    }
});
