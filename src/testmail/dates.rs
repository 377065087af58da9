//! RFC 5322 dates without a date crate, for generated messages.

use super::Rng;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
pub(super) const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day number since 1970-01-01.
pub(super) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
pub(super) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const ZONE_OFFSETS_MINUTES: [i64; 9] = [0, 60, 60, 120, -300, -480, 330, 540, 0];

/// An RFC 5322 date. Always the same width (two-digit day), so a message's
/// size does not depend on which date it got.
pub fn format_date(utc: i64, offset_minutes: i64) -> String {
    let local = utc + offset_minutes * 60;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let weekday = WEEKDAYS[(days + 4).rem_euclid(7) as usize];
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.abs();
    format!(
        "{weekday}, {d:02} {} {y} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

pub(super) fn random_zone(rng: &mut Rng) -> i64 {
    *rng.pick(&ZONE_OFFSETS_MINUTES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testmail::realistic::DATES_END;

    #[test]
    fn dates_round_trip_and_format() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(format_date(0, 0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(format_date(DATES_END, -300), "Sat, 31 Oct 2026 19:00:00 -0500");
        assert_eq!(format_date(DATES_END, 330), "Sun, 01 Nov 2026 05:30:00 +0530");
    }
}
