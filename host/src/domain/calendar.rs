//! Business-hours arithmetic for SLA clocks: a site's weekly opening hours in its time
//! zone, minus holidays. "Four business hours after a Friday 17:00 call" lands on Monday
//! morning, not Friday night.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::domain::hours::OpeningHours;

/// A business calendar.
#[derive(Clone, Debug)]
pub struct Calendar {
    hours: OpeningHours,
    timezone: TimeZone,
    holidays: Vec<Date>,
}

/// How far ahead the calendar looks before deciding a site is never open.
const MAX_DAYS: i32 = 400;

impl Calendar {
    /// A calendar from weekly hours, an IANA time zone and holiday dates.
    pub fn new(
        hours: OpeningHours,
        timezone: &str,
        mut holidays: Vec<Date>,
    ) -> Result<Calendar, String> {
        let timezone =
            TimeZone::get(timezone).map_err(|err| format!("time zone `{timezone}`: {err}"))?;
        holidays.sort_unstable();
        Ok(Calendar {
            hours,
            timezone,
            holidays,
        })
    }

    /// Around the clock, every day: the calendar of a 24/7 hotline.
    pub fn always_open() -> Calendar {
        let days = crate::domain::hours::DAYS
            .iter()
            .map(|day| ((*day).to_owned(), vec!["00:00-24:00".to_owned()]));
        let hours = OpeningHours::try_from(days.collect::<std::collections::BTreeMap<_, _>>())
            .expect("24/7 hours are valid");
        Calendar {
            hours,
            timezone: TimeZone::UTC,
            holidays: Vec::new(),
        }
    }

    fn open_intervals(&self, date: Date) -> &[(u16, u16)] {
        if self.holidays.binary_search(&date).is_ok() {
            return &[];
        }
        let weekday = date.weekday().to_monday_zero_offset() as usize;
        self.hours.on(weekday)
    }

    fn instant(&self, date: Date, minute: u16) -> Option<Timestamp> {
        let datetime = if minute >= 24 * 60 {
            DateTime::from_parts(date.tomorrow().ok()?, Time::midnight())
        } else {
            DateTime::from_parts(
                date,
                Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).ok()?,
            )
        };
        Some(
            datetime
                .to_zoned_datetime(self.timezone.clone())
                .ok()?
                .timestamp(),
        )
    }

    /// The instant `minutes` business minutes after `start`. `None` if the calendar has no
    /// opening hours within a year of `start`.
    pub fn add_business_minutes(&self, start: Timestamp, minutes: i64) -> Option<Timestamp> {
        let mut remaining = minutes.max(0);
        let local = start.to_zoned_datetime(self.timezone.clone());
        let mut date = local.date();
        let mut now_minute = local.hour() as i64 * 60 + local.minute() as i64;
        for _ in 0..MAX_DAYS {
            for &(open, close) in self.open_intervals(date) {
                let (open, close) = (i64::from(open), i64::from(close));
                if now_minute >= close {
                    continue;
                }
                let from = now_minute.max(open);
                let available = close - from;
                if remaining <= available {
                    let at = self.instant(date, u16::try_from(from + remaining).ok()?)?;
                    // Keep the seconds of a start inside an open interval.
                    return Some(if from == now_minute {
                        at + (local.second() as i64).seconds()
                    } else {
                        at
                    });
                }
                remaining -= available;
            }
            date = date.tomorrow().ok()?;
            now_minute = 0;
        }
        None
    }

    /// Business minutes between `from` and `to` (0 when `to` is not after `from`).
    pub fn business_minutes_between(&self, from: Timestamp, to: Timestamp) -> i64 {
        if to <= from {
            return 0;
        }
        let start = from.to_zoned_datetime(self.timezone.clone());
        let end = to.to_zoned_datetime(self.timezone.clone());
        let mut date = start.date();
        let mut total = 0;
        for _ in 0..MAX_DAYS * 10 {
            if date > end.date() {
                break;
            }
            let day_from = if date == start.date() {
                start.hour() as i64 * 60 + start.minute() as i64
            } else {
                0
            };
            let day_to = if date == end.date() {
                end.hour() as i64 * 60 + end.minute() as i64
            } else {
                24 * 60
            };
            for &(open, close) in self.open_intervals(date) {
                let lo = day_from.max(i64::from(open));
                let hi = day_to.min(i64::from(close));
                total += (hi - lo).max(0);
            }
            let Ok(next) = date.tomorrow() else { break };
            date = next;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar(holidays: Vec<Date>) -> Calendar {
        let hours: OpeningHours = serde_json::from_value(serde_json::json!({
            "mon": ["08:30-12:00", "13:00-18:00"], "tue": ["08:30-12:00", "13:00-18:00"],
            "wed": ["08:30-12:00", "13:00-18:00"], "thu": ["08:30-12:00", "13:00-18:00"],
            "fri": ["08:30-12:00", "13:00-18:00"]
        }))
        .unwrap();
        Calendar::new(hours, "Asia/Shanghai", holidays).unwrap()
    }

    fn at(text: &str) -> Timestamp {
        format!("{text}[Asia/Shanghai]")
            .parse::<jiff::ZonedDateTime>()
            .unwrap()
            .timestamp()
    }

    #[test]
    fn time_inside_opening_hours_counts_straight_through() {
        // Wednesday 2026-11-25 09:00 + 2h = 11:00.
        assert_eq!(
            calendar(vec![]).add_business_minutes(at("2026-11-25T09:00"), 120),
            Some(at("2026-11-25T11:00"))
        );
    }

    #[test]
    fn the_lunch_break_and_the_weekend_do_not_count() {
        let cal = calendar(vec![]);
        assert_eq!(
            cal.add_business_minutes(at("2026-11-25T11:30"), 60),
            Some(at("2026-11-25T13:30"))
        );
        // Friday 17:00 + 4h: one hour on Friday, three on Monday from 08:30.
        assert_eq!(
            cal.add_business_minutes(at("2026-11-27T17:00"), 240),
            Some(at("2026-11-30T11:30"))
        );
        // + 5h: and past Monday's lunch break.
        assert_eq!(
            cal.add_business_minutes(at("2026-11-27T17:00"), 300),
            Some(at("2026-11-30T13:30"))
        );
    }

    #[test]
    fn a_call_after_hours_starts_the_clock_next_morning() {
        assert_eq!(
            calendar(vec![]).add_business_minutes(at("2026-11-25T22:15"), 30),
            Some(at("2026-11-26T09:00"))
        );
    }

    #[test]
    fn holidays_are_skipped() {
        let cal = calendar(vec![Date::constant(2026, 11, 26)]);
        assert_eq!(
            cal.add_business_minutes(at("2026-11-25T17:30"), 60),
            Some(at("2026-11-27T09:00"))
        );
    }

    #[test]
    fn business_minutes_between_ignores_closed_time() {
        let cal = calendar(vec![]);
        assert_eq!(
            cal.business_minutes_between(at("2026-11-27T17:00"), at("2026-11-30T09:30")),
            120
        );
        assert_eq!(
            cal.business_minutes_between(at("2026-11-30T09:30"), at("2026-11-27T17:00")),
            0
        );
    }

    #[test]
    fn a_calendar_that_is_never_open_has_no_deadline() {
        let cal = Calendar::new(OpeningHours::default(), "Asia/Shanghai", vec![]).unwrap();
        assert_eq!(cal.add_business_minutes(at("2026-11-25T09:00"), 10), None);
    }

    #[test]
    fn the_always_open_calendar_is_wall_clock_time() {
        let cal = Calendar::always_open();
        assert_eq!(
            cal.add_business_minutes(at("2026-11-28T23:00"), 120),
            Some(at("2026-11-29T01:00"))
        );
    }
}
