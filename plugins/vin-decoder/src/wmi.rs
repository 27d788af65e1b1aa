//! Makers by world manufacturer identifier (VIN positions 1–3).

/// Makers by WMI. Weighted to the OEMs and joint ventures that build for the Chinese market;
/// not exhaustive. A maker often holds several WMIs (by plant, vehicle type or market).
const MAKERS: &[(&str, &str)] = &[
    // China.
    ("L1N", "XPeng"),
    ("L6T", "Geely"),
    ("LB3", "Geely"),
    ("LBE", "Beijing Hyundai"),
    ("LBV", "BMW Brilliance"),
    ("LC0", "BYD"),
    ("LDC", "Dongfeng Peugeot-Citroën"),
    ("LE4", "Beijing Benz"),
    ("LFM", "FAW Toyota"),
    ("LFP", "FAW Car (Hongqi, Bestune)"),
    ("LFV", "FAW-Volkswagen"),
    ("LGB", "Dongfeng Nissan"),
    ("LGW", "Great Wall Motor"),
    ("LGX", "BYD"),
    ("LHG", "GAC Honda"),
    ("LJ1", "JAC (incl. NIO)"),
    ("LJD", "Dongfeng Yueda Kia"),
    ("LMG", "GAC Motor"),
    ("LNB", "BAIC Motor"),
    ("LRW", "Tesla (Shanghai)"),
    ("LS5", "Changan"),
    ("LSG", "SAIC-GM"),
    ("LSJ", "SAIC Motor (MG, Roewe)"),
    ("LSV", "SAIC Volkswagen"),
    ("LTV", "FAW Toyota (Tianjin)"),
    ("LVG", "GAC Toyota"),
    ("LVH", "Dongfeng Honda"),
    ("LVR", "Changan Mazda"),
    ("LVS", "Changan Ford"),
    ("LVV", "Chery"),
    ("LW4", "Li Auto"),
    ("LYV", "Volvo Cars (China)"),
    ("LZW", "SAIC-GM-Wuling"),
    // Japan and Korea.
    ("JF1", "Subaru"),
    ("JHM", "Honda"),
    ("JM1", "Mazda"),
    ("JN1", "Nissan"),
    ("JTH", "Lexus"),
    ("JTJ", "Lexus"),
    ("KMH", "Hyundai"),
    ("KNA", "Kia"),
    ("KND", "Kia"),
    // Europe.
    ("SAJ", "Jaguar"),
    ("SAL", "Land Rover"),
    ("TMB", "Škoda"),
    ("VF1", "Renault"),
    ("VF3", "Peugeot"),
    ("VF7", "Citroën"),
    ("VSS", "SEAT"),
    ("W1K", "Mercedes-Benz"),
    ("W1N", "Mercedes-Benz"),
    ("WA1", "Audi"),
    ("WAU", "Audi"),
    ("WBA", "BMW"),
    ("WBS", "BMW M"),
    ("WDB", "Mercedes-Benz"),
    ("WDC", "Mercedes-Benz"),
    ("WDD", "Mercedes-Benz"),
    ("WF0", "Ford (Germany)"),
    ("WMW", "MINI"),
    ("WP0", "Porsche"),
    ("WP1", "Porsche"),
    ("WVG", "Volkswagen"),
    ("WVW", "Volkswagen"),
    ("XP7", "Tesla (Berlin)"),
    ("YV1", "Volvo"),
    ("ZFA", "Fiat"),
    // North America.
    ("1FA", "Ford"),
    ("1FM", "Ford"),
    ("1FT", "Ford"),
    ("1G1", "Chevrolet"),
    ("1HG", "Honda (USA)"),
    ("1N4", "Nissan (USA)"),
    ("1VW", "Volkswagen (USA)"),
    ("2HG", "Honda (Canada)"),
    ("3FA", "Ford (Mexico)"),
    ("3VW", "Volkswagen (Mexico)"),
    ("4JG", "Mercedes-Benz (USA)"),
    ("5FN", "Honda (USA)"),
    ("5UX", "BMW (USA)"),
    ("5YJ", "Tesla"),
    ("7SA", "Tesla"),
];

/// Makers that own every WMI starting with these two characters, unless [`MAKERS`] names
/// the full WMI.
const MAKER_PREFIXES: &[(&str, &str)] = &[("JT", "Toyota")];

/// The maker of `wmi`, or the region its first characters are assigned to (ISO 3780) when
/// the maker is not in the table.
pub fn maker_or_region(wmi: &str) -> &'static str {
    MAKERS
        .iter()
        .chain(MAKER_PREFIXES)
        .find(|(code, _)| wmi.starts_with(code))
        .map_or_else(|| region(wmi), |(_, maker)| maker)
}

/// The country or region that the first two characters of `wmi` are assigned to.
fn region(wmi: &str) -> &'static str {
    let mut chars = wmi.chars();
    let first = chars.next().unwrap_or('?');
    let second = chars.next().unwrap_or('?');
    match first {
        '1' | '4' | '5' => "United States",
        '2' => "Canada",
        '3' => "Mexico",
        '6' => "Australia",
        '7' => "New Zealand",
        '8' | '9' => "South America",
        'A'..='H' => "Africa",
        'J' => "Japan",
        'K' if ('L'..='R').contains(&second) => "South Korea",
        'L' => "China",
        'K' | 'M'..='R' => "Asia",
        'W' => "Germany",
        'S' if ('A'..='M').contains(&second) => "United Kingdom",
        'V' if ('F'..='R').contains(&second) => "France",
        'V' if ('S'..='W').contains(&second) => "Spain",
        'Y' if ('S'..='W').contains(&second) => "Sweden",
        'Z' if ('A'..='R').contains(&second) => "Italy",
        'S'..='Z' => "Europe",
        _ => "unknown region",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_wmis_name_their_maker() {
        assert_eq!(maker_or_region("LSV"), "SAIC Volkswagen");
        assert_eq!(maker_or_region("LRW"), "Tesla (Shanghai)");
        assert_eq!(maker_or_region("WDD"), "Mercedes-Benz");
    }

    #[test]
    fn full_wmis_win_over_two_character_prefixes() {
        assert_eq!(maker_or_region("JTD"), "Toyota");
        assert_eq!(maker_or_region("JTH"), "Lexus");
    }

    #[test]
    fn unknown_wmis_fall_back_to_their_region() {
        assert_eq!(maker_or_region("LZZ"), "China");
        assert_eq!(maker_or_region("KLA"), "South Korea");
        assert_eq!(maker_or_region("ZAR"), "Italy");
        assert_eq!(maker_or_region("VF9"), "France");
        assert_eq!(maker_or_region("9BW"), "South America");
    }

    #[test]
    fn the_table_has_no_duplicate_wmis() {
        let mut codes: Vec<&str> = MAKERS.iter().map(|(code, _)| *code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), MAKERS.len());
        assert!(MAKERS.iter().all(|(code, _)| code.len() == 3));
    }
}
