//! Moments as an operator types them (`:goto 03:10`, `snapshot --at -15m`): a clock
//! time today (yesterday when it is still to come), a date and time, a span back
//! from now, or RFC 3339. Local times are read in the offset given; pure, with `now`
//! as an argument.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// Why a typed moment is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    #[error("no time given: try 03:10, -15m or 2026-12-05 03:10:00")]
    Empty,
    #[error("`{0}` is not a time: try 03:10, -15m, 2h ago or 2026-12-05 03:10:00")]
    NotATime(String),
    #[error("{0} is still to come: the record holds only the past")]
    Future(String),
}

/// A span like `15m`, `2h`, `90s`, `1d`, `1h30m`.
fn span(text: &str) -> Option<Duration> {
    let mut total = Duration::zero();
    let mut digits = String::new();
    let mut any = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if c == ' ' {
            continue;
        }
        let n: i64 = digits.parse().ok()?;
        digits.clear();
        // Words as people write them: `m`, `min`, `mins`, `minutes`.
        let mut unit = String::from(c);
        while let Some(next) = chars.peek().filter(|n| n.is_ascii_alphabetic()) {
            unit.push(*next);
            chars.next();
        }
        let step = match unit.to_ascii_lowercase().as_str() {
            "s" | "sec" | "secs" | "second" | "seconds" => Duration::seconds(n),
            "m" | "min" | "mins" | "minute" | "minutes" => Duration::minutes(n),
            "h" | "hr" | "hrs" | "hour" | "hours" => Duration::hours(n),
            "d" | "day" | "days" => Duration::days(n),
            _ => return None,
        };
        total += step;
        any = true;
    }
    (any && digits.is_empty()).then_some(total)
}

fn local(naive: NaiveDateTime, offset: FixedOffset) -> Option<DateTime<Utc>> {
    offset.from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc))
}

/// The moment `text` names, `now` being now and `offset` the local time zone.
pub fn parse(
    text: &str,
    now: DateTime<Utc>,
    offset: FixedOffset,
) -> Result<DateTime<Utc>, WhenError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(WhenError::Empty);
    }
    let not = || WhenError::NotATime(crate::model::sanitize::one_line(text).into_owned());
    let moment = if text.eq_ignore_ascii_case("now") {
        now
    } else if let Some(back) = text.strip_prefix('-') {
        now - span(back).ok_or_else(not)?
    } else if let Some(back) = text.strip_suffix("ago") {
        now - span(back.trim()).ok_or_else(not)?
    } else if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        at.with_timezone(&Utc)
    } else if let Some(at) =
        ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    {
        local(at, offset).ok_or_else(not)?
    } else if let Some(time) =
        ["%H:%M:%S", "%H:%M"].iter().find_map(|f| NaiveTime::parse_from_str(text, f).ok())
    {
        let today: NaiveDate = now.with_timezone(&offset).date_naive();
        let at = local(today.and_time(time), offset).ok_or_else(not)?;
        // A clock time still to come today is meant yesterday (paged at 03:25 about 03:10).
        if at > now { at - Duration::days(1) } else { at }
    } else if let Some(back) = span(text) {
        now - back
    } else {
        return Err(not());
    };
    if moment > now + Duration::seconds(1) {
        let shown = moment.with_timezone(&offset).format("%Y-%m-%d %H:%M:%S").to_string();
        return Err(WhenError::Future(shown));
    }
    Ok(moment)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        // 2026-12-05 03:25:00 UTC
        Utc.with_ymd_and_hms(2026, 12, 5, 3, 25, 0).single().unwrap_or_default()
    }

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!())
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, h, m, s).single().unwrap_or_default()
    }

    #[test]
    fn clock_times_are_today_or_yesterday_when_still_to_come() {
        assert_eq!(parse("03:10", now(), utc()), Ok(at(3, 10, 0)));
        assert_eq!(parse("03:10:42", now(), utc()), Ok(at(3, 10, 42)));
        assert_eq!(parse("23:50", now(), utc()), Ok(at(23, 50, 0) - Duration::days(1)));
    }

    #[test]
    fn spans_back_from_now_in_several_spellings() {
        assert_eq!(parse("-15m", now(), utc()), Ok(at(3, 10, 0)));
        assert_eq!(parse("15m ago", now(), utc()), Ok(at(3, 10, 0)));
        assert_eq!(parse("15 min ago", now(), utc()), Ok(at(3, 10, 0)));
        assert_eq!(parse("-1h30m", now(), utc()), Ok(at(1, 55, 0)));
        assert_eq!(parse("-90s", now(), utc()), Ok(at(3, 23, 30)));
        assert_eq!(parse("-1d", now(), utc()), Ok(now() - Duration::days(1)));
        assert_eq!(parse("now", now(), utc()), Ok(now()));
    }

    #[test]
    fn dates_are_local_and_rfc3339_carries_its_own_offset() {
        assert_eq!(parse("2026-12-05 03:10:00", now(), utc()), Ok(at(3, 10, 0)));
        assert_eq!(parse("2026-12-05 03:10", now(), utc()), Ok(at(3, 10, 0)));
        let paris = FixedOffset::east_opt(3600).unwrap_or_else(|| unreachable!());
        assert_eq!(parse("2026-12-05 04:10:00", now(), paris), Ok(at(3, 10, 0)));
        assert_eq!(parse("04:10", now(), paris), Ok(at(3, 10, 0)), "local clock time");
        assert_eq!(parse("2026-12-05T03:10:00Z", now(), paris), Ok(at(3, 10, 0)));
    }

    #[test]
    fn a_bad_time_says_so_in_words() {
        let bad = parse("tea time", now(), utc()).unwrap_err();
        assert_eq!(
            bad.to_string(),
            "`tea time` is not a time: try 03:10, -15m, 2h ago or 2026-12-05 03:10:00"
        );
        assert!(matches!(parse("25:99", now(), utc()), Err(WhenError::NotATime(_))));
        assert!(matches!(parse("-15x", now(), utc()), Err(WhenError::NotATime(_))));
        assert_eq!(parse("  ", now(), utc()), Err(WhenError::Empty));
        let future = parse("2027-01-01 00:00", now(), utc()).unwrap_err();
        assert!(future.to_string().contains("still to come"), "{future}");
    }
}
