//! Weekly opening hours of a site, e.g. `{"mon": ["08:30-12:00", "13:00-18:00"], "sun": []}`.
//! Days left out are closed. Times are local to the site's time zone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The days, in the order the API names them.
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Opening intervals per weekday, minutes after midnight, sorted and non-overlapping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, Vec<String>>",
    into = "BTreeMap<String, Vec<String>>"
)]
pub struct OpeningHours {
    week: [Vec<(u16, u16)>; 7],
}

fn parse_time(text: &str) -> Option<u16> {
    let (hours, minutes) = text.trim().split_once(':')?;
    let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    (minutes < 60 && (hours < 24 || (hours == 24 && minutes == 0))).then_some(hours * 60 + minutes)
}

fn format_time(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl TryFrom<BTreeMap<String, Vec<String>>> for OpeningHours {
    type Error = String;

    fn try_from(days: BTreeMap<String, Vec<String>>) -> Result<Self, String> {
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for (day, intervals) in days {
            let index = DAYS
                .iter()
                .position(|d| *d == day)
                .ok_or_else(|| format!("`{day}` is not a day; use {}", DAYS.join(", ")))?;
            let mut parsed = Vec::new();
            for interval in &intervals {
                let (open, close) = interval
                    .split_once('-')
                    .and_then(|(open, close)| Some((parse_time(open)?, parse_time(close)?)))
                    .filter(|(open, close)| open < close)
                    .ok_or_else(|| {
                        format!("{day}: `{interval}` is not an interval like 08:30-18:00")
                    })?;
                parsed.push((open, close));
            }
            parsed.sort_unstable();
            if parsed.windows(2).any(|pair| pair[0].1 > pair[1].0) {
                return Err(format!("{day}: opening intervals overlap"));
            }
            week[index] = parsed;
        }
        Ok(OpeningHours { week })
    }
}

impl From<OpeningHours> for BTreeMap<String, Vec<String>> {
    fn from(hours: OpeningHours) -> Self {
        DAYS.iter()
            .zip(hours.week)
            .filter(|(_, intervals)| !intervals.is_empty())
            .map(|(day, intervals)| {
                let text = intervals
                    .iter()
                    .map(|(open, close)| format!("{}-{}", format_time(*open), format_time(*close)))
                    .collect();
                ((*day).to_owned(), text)
            })
            .collect()
    }
}

impl OpeningHours {
    /// The intervals of weekday `day` (0 = Monday), in minutes after midnight.
    pub fn on(&self, day: usize) -> &[(u16, u16)] {
        self.week.get(day).map(Vec::as_slice).unwrap_or_default()
    }

    /// Whether the site is never open.
    pub fn is_closed_all_week(&self) -> bool {
        self.week.iter().all(Vec::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(json: serde_json::Value) -> Result<OpeningHours, String> {
        serde_json::from_value(json).map_err(|err| err.to_string())
    }

    #[test]
    fn parses_split_shifts_and_round_trips() {
        let parsed = hours(
            serde_json::json!({ "mon": ["13:00-18:00", "08:30-12:00"], "sat": ["09:00-12:00"] }),
        )
        .unwrap();
        assert_eq!(parsed.on(0), &[(510, 720), (780, 1080)]);
        assert!(parsed.on(6).is_empty());
        let back = serde_json::to_value(&parsed).unwrap();
        assert_eq!(
            back,
            serde_json::json!({ "mon": ["08:30-12:00", "13:00-18:00"], "sat": ["09:00-12:00"] })
        );
    }

    #[test]
    fn rejects_unknown_days_bad_times_and_overlaps() {
        assert!(
            hours(serde_json::json!({ "monday": [] }))
                .unwrap_err()
                .contains("not a day")
        );
        assert!(
            hours(serde_json::json!({ "mon": ["18:00-08:00"] }))
                .unwrap_err()
                .contains("not an interval")
        );
        assert!(hours(serde_json::json!({ "mon": ["25:00-26:00"] })).is_err());
        assert!(
            hours(serde_json::json!({ "mon": ["08:00-12:00", "11:00-13:00"] }))
                .unwrap_err()
                .contains("overlap")
        );
    }

    #[test]
    fn a_whole_day_ends_at_24_00() {
        assert_eq!(
            hours(serde_json::json!({ "sun": ["00:00-24:00"] }))
                .unwrap()
                .on(6),
            &[(0, 1440)]
        );
    }
}
