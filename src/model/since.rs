//! "Since": the moment the current bad state of a container began, defined once for
//! every kind of problem so that triage, the timeline, the JSON and the text snapshot
//! all give the same moment (the README's "What since means" lists the definitions).
//!
//! The engine keeps only its last five probes and a short buffer of events, so a
//! moment from before portolan watched is often not known exactly. Such a moment is
//! *reconstructed* from the engine's counters and marked as such (`~` on screen);
//! it is never replaced by a later moment that portolan happened to see.

use chrono::{DateTime, Duration, Utc};

use super::container::{Container, HealthProbe};

/// When a bad state began, and whether that moment was seen or inferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Since {
    pub at: DateTime<Utc>,
    /// Inferred from counters (a failing streak longer than the probes in view, a
    /// restart count larger than the restarts seen), not read off a timestamp.
    pub reconstructed: bool,
}

impl Since {
    pub fn exact(at: DateTime<Utc>) -> Since {
        Since { at, reconstructed: false }
    }

    pub fn reconstructed(at: DateTime<Utc>) -> Since {
        Since { at, reconstructed: true }
    }

    /// `~` for a reconstructed moment, else nothing: what goes before a time.
    pub fn mark(&self) -> &'static str {
        if self.reconstructed { "~" } else { "" }
    }
}

/// An open problem's start as a record holds it, from a session that watched it
/// begin (or reconstructed it then, closer to the moment than now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedStart {
    /// The problem kind's stable name (`unhealthy`, `crashloop`...).
    pub kind: String,
    pub container_id: String,
    pub since: Since,
    /// The last moment the record was written: a problem that began later is not
    /// the one it holds open.
    pub watched_until: DateTime<Utc>,
}

/// Slack for clocks and the record's once-a-second commits.
const RECORD_SLACK: Duration = Duration::seconds(2);

/// Which start to show: the one this session computed, or the record's.
///
/// A start this session saw happen (exact, after it began to watch) is the truth; so
/// is one after the record stopped watching (the record's open problem is an older
/// one that ended unseen). Otherwise the record's start, when earlier, is the same
/// problem seen from its beginning.
pub fn prefer_recorded(
    computed: Option<Since>,
    recorded: Option<&RecordedStart>,
    watching_since: Option<DateTime<Utc>>,
) -> Option<Since> {
    let Some(recorded) = recorded else { return computed };
    let Some(seen) = computed else { return Some(recorded.since) };
    let seen_begin = !seen.reconstructed && watching_since.is_some_and(|w| seen.at > w);
    if seen_begin || seen.at > recorded.watched_until + RECORD_SLACK {
        return Some(seen);
    }
    if recorded.since.at <= seen.at || seen.reconstructed {
        Some(recorded.since)
    } else {
        Some(seen)
    }
}

/// The engine's default healthcheck interval.
const DEFAULT_INTERVAL: Duration = Duration::seconds(30);
/// Restarts further apart than this are not one crash loop.
pub const LOOP_GAP: Duration = Duration::minutes(10);
/// Docker's restart policy waits 100 ms before the first restart and doubles the wait
/// after each one, up to a minute (it starts over after a run of 10 s or more).
const FIRST_BACKOFF_MS: i64 = 100;
const MAX_BACKOFF: Duration = Duration::seconds(60);

/// Unhealthy since: the start of the first failing probe of the current failing
/// streak (the streak that led to unhealthy, not the moment the engine declared it).
///
/// `probes` are the probes known for the container, oldest first (the engine's last
/// five, or every one portolan recorded). When the streak is longer than the failing
/// probes in view, the start is reconstructed: the earliest one seen, minus one
/// probe period per probe not seen, never before the container's start.
pub fn failing_streak_start(c: &Container, probes: &[&HealthProbe]) -> Option<Since> {
    let health = c.health.as_ref()?;
    let mut starts: Vec<DateTime<Utc>> = probes
        .iter()
        .rev()
        .take_while(|p| p.exit_code != Some(0))
        .filter_map(|p| p.start)
        .collect();
    starts.reverse();
    let first = *starts.first()?;
    let streak = usize::try_from(health.failing_streak).unwrap_or(usize::MAX);
    if streak == 0 || starts.len() >= streak {
        let index = starts.len().saturating_sub(streak.max(1));
        let index = if streak == 0 { 0 } else { index };
        return Some(Since::exact(starts[index]));
    }
    let missing = i32::try_from(streak - starts.len()).unwrap_or(i32::MAX);
    let period = match starts.len() {
        // Seen probes measure the real period (interval plus probe time).
        n if n >= 2 => {
            let last = starts[n - 1];
            (last - first) / i32::try_from(n - 1).unwrap_or(i32::MAX)
        }
        _ => c
            .healthcheck
            .as_ref()
            .and_then(|h| h.interval_ns)
            .filter(|ns| *ns > 0)
            .map_or(DEFAULT_INTERVAL, Duration::nanoseconds),
    };
    let mut at = first - period * missing;
    if let Some(started) = c.started_at
        && at < started
    {
        at = started;
    }
    Some(Since::reconstructed(at))
}

/// Crash loop since: the first restart of the loop (restarts no more than
/// [`LOOP_GAP`] apart, back from the newest).
///
/// `restarts` are the restarts portolan saw, oldest first; `connected_at` is when it
/// began to watch the engine. When the loop reaches back before that and the engine's
/// restart count says there were restarts portolan did not see, their time is
/// reconstructed with Docker's restart backoff, never before the container was made.
pub fn crash_loop_start(
    c: &Container,
    restarts: &[DateTime<Utc>],
    connected_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Since> {
    // Seen for the first time mid-loop, the current run's start is the newest restart.
    let fallback;
    let seen: &[DateTime<Utc>] = if restarts.is_empty() {
        fallback = [c.started_at.or(c.finished_at)?];
        &fallback
    } else {
        restarts
    };
    let mut earliest = *seen.last()?;
    let mut later = now.max(earliest);
    let mut in_loop = 0usize;
    for &t in seen.iter().rev() {
        if later - t > LOOP_GAP {
            break;
        }
        earliest = t;
        later = t;
        in_loop += 1;
    }
    let unseen = c.restart_count.saturating_sub(u64::try_from(seen.len()).unwrap_or(u64::MAX));
    // Watched since well before the loop: every restart of it was seen.
    let watched_from_start = connected_at.is_some_and(|connected| earliest - connected > LOOP_GAP);
    if unseen == 0 || watched_from_start || in_loop < seen.len() {
        return Some(Since::exact(earliest));
    }
    // A run's length, when the last one was short enough to count as a crash.
    let run = match (c.started_at, c.finished_at) {
        (Some(started), Some(finished))
            if finished > started && finished - started < MAX_BACKOFF =>
        {
            finished - started
        }
        _ => Duration::zero(),
    };
    let mut at = earliest;
    for i in 0..unseen.min(64) {
        let backoff = Duration::milliseconds(FIRST_BACKOFF_MS.saturating_mul(1 << i.min(20)));
        at = at - backoff.min(MAX_BACKOFF) - run;
        if earliest - at > LOOP_GAP * 6 {
            break;
        }
    }
    if let Some(created) = c.created
        && at < created
    {
        at = created;
    }
    Some(Since::reconstructed(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::container::{Health, HealthStatus, Healthcheck};
    use chrono::TimeZone;

    fn t(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + seconds, 0).unwrap()
    }

    fn probe(start: i64, code: i64) -> HealthProbe {
        HealthProbe {
            start: Some(t(start)),
            end: Some(t(start) + Duration::milliseconds(50)),
            exit_code: Some(code),
            output: String::new(),
        }
    }

    fn unhealthy(streak: u64, log: Vec<HealthProbe>) -> Container {
        let mut c = Container::new("a", "api");
        c.started_at = Some(t(0));
        c.healthcheck = Some(Healthcheck {
            test: vec!["CMD".into(), "false".into()],
            interval_ns: Some(5_000_000_000),
            ..Healthcheck::default()
        });
        c.health = Some(Health { status: HealthStatus::Unhealthy, failing_streak: streak, log });
        c
    }

    #[test]
    fn a_streak_in_view_starts_at_its_first_failing_probe() {
        let log = vec![probe(100, 0), probe(105, 1), probe(110, 1), probe(115, 1)];
        let c = unhealthy(3, log.clone());
        let probes: Vec<&HealthProbe> = log.iter().collect();
        assert_eq!(failing_streak_start(&c, &probes), Some(Since::exact(t(105))));
    }

    #[test]
    fn a_streak_longer_than_the_probes_in_view_is_reconstructed_not_the_newest() {
        // Failing for five minutes at 5 s: streak 61, the engine keeps the last five.
        let log: Vec<HealthProbe> = (0..5).map(|i| probe(400 + i * 5, 1)).collect();
        let c = unhealthy(61, log.clone());
        let probes: Vec<&HealthProbe> = log.iter().collect();
        let since = failing_streak_start(&c, &probes).unwrap();
        assert!(since.reconstructed);
        // 56 probes of 5 s before the first one seen.
        assert_eq!(since.at, t(400 - 56 * 5));
        assert_eq!(since.mark(), "~");
    }

    #[test]
    fn a_reconstructed_streak_never_begins_before_the_container_started() {
        let log = vec![probe(20, 1)];
        let c = unhealthy(500, log.clone());
        let probes: Vec<&HealthProbe> = log.iter().collect();
        assert_eq!(failing_streak_start(&c, &probes), Some(Since::reconstructed(t(0))));
    }

    #[test]
    fn a_loop_watched_from_its_start_begins_at_its_first_restart() {
        let mut c = Container::new("a", "worker");
        c.restart_count = 4;
        let restarts = [t(1000), t(1001), t(1003), t(1007)];
        let since = crash_loop_start(&c, &restarts, Some(t(0)), t(1010));
        assert_eq!(since, Some(Since::exact(t(1000))));
    }

    #[test]
    fn a_loop_older_than_portolan_is_reconstructed_before_the_restarts_seen() {
        // Connected at 2000 into a loop that had restarted 12 times already.
        let mut c = Container::new("a", "worker");
        c.created = Some(t(0));
        c.restart_count = 14;
        c.started_at = Some(t(2060));
        c.finished_at = Some(t(2061));
        let restarts = [t(2000), t(2060)];
        let since = crash_loop_start(&c, &restarts, Some(t(1999)), t(2062)).unwrap();
        assert!(since.reconstructed);
        assert!(since.at < t(2000) - Duration::seconds(60), "{since:?}");
        assert!(since.at >= t(0));
    }

    #[test]
    fn first_seen_mid_loop_the_start_is_not_the_latest_restart() {
        let mut c = Container::new("a", "worker");
        c.created = Some(t(0));
        c.restart_count = 8;
        c.started_at = Some(t(500));
        c.finished_at = Some(t(499));
        let since = crash_loop_start(&c, &[], Some(t(501)), t(502)).unwrap();
        assert!(since.reconstructed && since.at < t(500), "{since:?}");
    }

    #[test]
    fn restarts_far_apart_are_not_one_loop() {
        let mut c = Container::new("a", "worker");
        c.restart_count = 3;
        let restarts = [t(0), t(5000), t(5002)];
        let since = crash_loop_start(&c, &restarts, None, t(5003));
        assert_eq!(since, Some(Since::exact(t(5000))));
    }
}
