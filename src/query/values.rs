//! The typed values of terms: sizes, dates, ages and number ranges, parsed
//! from text and written back in canonical form.

use std::fmt;

const KIB: u64 = 1024;
const SECONDS_PER_DAY: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Comparison {
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
}

impl Comparison {
    /// Splits a leading `<`, `<=`, `=`, `>=` or `>` off `text`.
    pub fn split(text: &str) -> Option<(Comparison, &str)> {
        const OPERATORS: [(&str, Comparison); 5] = [
            ("<=", Comparison::LessOrEqual),
            (">=", Comparison::GreaterOrEqual),
            ("<", Comparison::Less),
            (">", Comparison::Greater),
            ("=", Comparison::Equal),
        ];
        OPERATORS
            .iter()
            .find_map(|&(sign, comparison)| text.strip_prefix(sign).map(|rest| (comparison, rest)))
    }

    pub fn holds(self, left: u64, right: u64) -> bool {
        match self {
            Comparison::Less => left < right,
            Comparison::LessOrEqual => left <= right,
            Comparison::Equal => left == right,
            Comparison::GreaterOrEqual => left >= right,
            Comparison::Greater => left > right,
        }
    }

    pub fn sign(self) -> &'static str {
        match self {
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Equal => "=",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Greater => ">",
        }
    }
}

/// `10M`, `1.5k`, `2GB`, `300`: bytes, with 1024-based suffixes in any
/// case. A fraction is cut to whole bytes.
pub(super) fn parse_size(text: &str) -> Option<u64> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(digits_end);
    let unit = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => KIB,
        "m" | "mb" => KIB * KIB,
        "g" | "gb" => KIB * KIB * KIB,
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || fraction.contains('.') || fraction.len() > 9 {
        return None;
    }
    let whole: u128 = whole.parse().ok()?;
    let fraction_value: u128 = if fraction.is_empty() { 0 } else { fraction.parse().ok()? };
    let scale = 10u128.pow(fraction.len() as u32);
    let bytes = whole.checked_mul(u128::from(unit))? + fraction_value * u128::from(unit) / scale;
    u64::try_from(bytes).ok()
}

/// Bytes in the largest unit that holds them exactly: `10M`, `1536k`, `100`.
pub(super) fn format_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(KIB * KIB * KIB, "G"), (KIB * KIB, "M"), (KIB, "k")];
    UNITS
        .iter()
        .find(|&&(unit, _)| bytes > 0 && bytes.is_multiple_of(unit))
        .map(|&(unit, suffix)| format!("{}{suffix}", bytes / unit))
        .unwrap_or_else(|| bytes.to_string())
}

/// A calendar day, read as UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Day {
    year: i32,
    month: u32,
    day: u32,
}

impl Day {
    /// `YYYY-MM-DD` (or with `/`), a real day of the proleptic Gregorian
    /// calendar.
    pub fn parse(text: &str) -> Option<Day> {
        let separator = if text.contains('/') { '/' } else { '-' };
        let mut parts = text.split(separator);
        let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
        let all_digits = |part: &str, width: std::ops::RangeInclusive<usize>| {
            width.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
        };
        if parts.next().is_some() || !all_digits(year, 4..=4) || !all_digits(month, 1..=2) || !all_digits(day, 1..=2) {
            return None;
        }
        let day = Day {
            year: year.parse().ok()?,
            month: month.parse().ok()?,
            day: day.parse().ok()?,
        };
        let valid = (1..=12).contains(&day.month) && (1..=days_in_month(day.year, day.month)).contains(&day.day);
        valid.then_some(day)
    }

    /// Seconds since the epoch at 00:00 UTC of this day.
    pub(crate) fn midnight(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * SECONDS_PER_DAY
    }

    /// 00:00 UTC of the following day.
    pub(crate) fn next_midnight(self) -> i64 {
        self.midnight() + SECONDS_PER_DAY
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// A span of time back from now: `30d`, `12h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Age {
    amount: u64,
    unit: char,
    seconds: i64,
}

impl Age {
    pub fn parse(text: &str) -> Option<Age> {
        let unit = text.chars().last()?;
        let unit_seconds: i64 = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => SECONDS_PER_DAY,
            'w' => 7 * SECONDS_PER_DAY,
            _ => return None,
        };
        let number = &text[..text.len() - 1];
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let amount: u64 = number.parse().ok()?;
        let seconds = i64::try_from(amount).ok()?.checked_mul(unit_seconds)?;
        Some(Age { amount, unit, seconds })
    }

    /// The moment `now - self`.
    pub fn before(self, now: i64) -> i64 {
        now.saturating_sub(self.seconds)
    }
}

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.unit)
    }
}

/// Message numbers from `low` to `high`, both included; a missing end is
/// open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NumRange {
    pub low: Option<u32>,
    pub high: Option<u32>,
}

/// Why a number range was refused.
pub(super) enum NumRangeError {
    Malformed,
    Reversed { low: u32, high: u32 },
}

impl NumRange {
    pub fn parse(text: &str) -> Result<NumRange, NumRangeError> {
        let number = |part: &str| -> Result<Option<u32>, NumRangeError> {
            if part.is_empty() {
                return Ok(None);
            }
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(NumRangeError::Malformed);
            }
            part.parse().map(Some).map_err(|_| NumRangeError::Malformed)
        };
        let range = match text.split_once('-') {
            None => {
                let only = number(text)?;
                NumRange { low: only, high: only }
            }
            Some((low, high)) => NumRange {
                low: number(low)?,
                high: number(high)?,
            },
        };
        match range {
            NumRange { low: None, high: None } => Err(NumRangeError::Malformed),
            NumRange {
                low: Some(low),
                high: Some(high),
            } if low > high => Err(NumRangeError::Reversed { low, high }),
            range => Ok(range),
        }
    }

    pub fn contains(self, number: u32) -> bool {
        self.low.is_none_or(|low| number >= low) && self.high.is_none_or(|high| number <= high)
    }
}

impl fmt::Display for NumRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.low, self.high) {
            (Some(low), Some(high)) if low == high => write!(f, "{low}"),
            (low, high) => {
                if let Some(low) = low {
                    write!(f, "{low}")?;
                }
                f.write_str("-")?;
                if let Some(high) = high {
                    write!(f, "{high}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let table: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("300", Some(300)),
            ("300b", Some(300)),
            ("2k", Some(2048)),
            ("2K", Some(2048)),
            ("2KB", Some(2048)),
            ("10M", Some(10 << 20)),
            ("10m", Some(10 << 20)),
            ("1G", Some(1 << 30)),
            ("1.5M", Some(1_572_864)),
            ("0.5k", Some(512)),
            ("16777216G", Some(1 << 54)),
            ("99999999999G", None),
            ("18446744073709551616", None),
            ("999999999999999999999999999999999999999G", None),
            ("", None),
            ("M", None),
            (".5k", None),
            ("1.2.3k", None),
            ("10T", None),
            ("10 M", None),
            ("x", None),
            ("-1", None),
        ];
        for &(text, bytes) in table {
            assert_eq!(parse_size(text), bytes, "{text}");
        }
    }

    #[test]
    fn size_display_uses_the_largest_exact_unit() {
        for (bytes, shown) in [
            (0, "0"),
            (100, "100"),
            (2048, "2k"),
            (1_572_864, "1536k"),
            (10 << 20, "10M"),
            (3 << 30, "3G"),
        ] {
            assert_eq!(format_size(bytes), shown);
            assert_eq!(parse_size(shown), Some(bytes));
        }
    }

    #[test]
    fn days() {
        assert_eq!(Day::parse("1970-01-01").unwrap().midnight(), 0);
        assert_eq!(Day::parse("2024-01-31").unwrap().midnight(), 1_706_659_200);
        assert_eq!(Day::parse("2024/2/29").unwrap().midnight(), 1_709_164_800);
        assert_eq!(Day::parse("1969-12-31").unwrap().midnight(), -86_400);
        assert_eq!(Day::parse("2000-03-01").unwrap().midnight(), 951_868_800);
        assert_eq!(Day::parse("2024-1-5").unwrap().to_string(), "2024-01-05");
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "24-01-01",
            "2024-01",
            "2024-01-01-01",
            "2024-01-x1",
            "2024-01/01",
            "",
            "yesterday",
        ] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ages() {
        assert_eq!(Age::parse("30d").unwrap().before(100 * 86_400), 70 * 86_400);
        assert_eq!(Age::parse("2w").unwrap().seconds, 14 * 86_400);
        assert_eq!(Age::parse("90s").unwrap().seconds, 90);
        assert_eq!(Age::parse("5m").unwrap().seconds, 300);
        assert_eq!(Age::parse("12h").unwrap().to_string(), "12h");
        assert_eq!(Age::parse("99999999999999999w"), None);
        assert_eq!(
            Age::parse("9999999999999w").unwrap().before(0),
            -(9_999_999_999_999 * 7 * 86_400)
        );
        assert_eq!(Age::parse("9999999999999w").unwrap().before(i64::MIN + 5), i64::MIN);
        for bad in ["30", "d", "30D", "30M", "3.5d", "-3d", "30dd", ""] {
            assert_eq!(Age::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn num_ranges() {
        let ok = |text: &str| NumRange::parse(text).ok().map(|r| (r.low, r.high));
        assert_eq!(ok("7"), Some((Some(7), Some(7))));
        assert_eq!(ok("100-200"), Some((Some(100), Some(200))));
        assert_eq!(ok("-50"), Some((None, Some(50))));
        assert_eq!(ok("4000-"), Some((Some(4000), None)));
        assert_eq!(ok("5-5"), Some((Some(5), Some(5))));
        for bad in ["-", "", "x", "1-2-3", "1..2", "99999999999", "+5"] {
            assert!(matches!(NumRange::parse(bad), Err(NumRangeError::Malformed)), "{bad}");
        }
        assert!(matches!(
            NumRange::parse("200-100"),
            Err(NumRangeError::Reversed { low: 200, high: 100 })
        ));
        for (text, shown) in [
            ("7", "7"),
            ("100-200", "100-200"),
            ("-50", "-50"),
            ("4000-", "4000-"),
            ("5-5", "5"),
        ] {
            assert_eq!(NumRange::parse(text).ok().unwrap().to_string(), shown);
        }
    }
}
