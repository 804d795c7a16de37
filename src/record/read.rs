//! Questions asked of a record: which problems are open and since when (the UI's
//! "since"), and what happened over a span (`portolan history`).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::ProblemRow;
use super::store::{Store, StoreError, from_millis, millis};

/// Problems the record holds as not ended.
pub fn open_problems(store: &Store) -> Result<Vec<ProblemRow>, StoreError> {
    let mut statement = store
        .conn
        .prepare(
            "SELECT kind, container_id, container, project, started_at, reconstructed, detail
             FROM problems WHERE ended_at IS NULL ORDER BY started_at",
        )
        .map_err(|e| store.error(&e))?;
    let rows = statement
        .query_map([], |r| {
            Ok(ProblemRow {
                kind: r.get(0)?,
                container_id: r.get(1)?,
                container: r.get(2)?,
                project: r.get(3)?,
                started_at: from_millis(r.get(4)?),
                reconstructed: r.get(5)?,
                detail: r.get(6)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| store.error(&e))?;
    Ok(rows)
}

/// When the record was last written: a moment ago while a writer runs, else the
/// last commit of its last session (a killed writer's included).
pub fn last_write(store: &Store) -> Option<DateTime<Utc>> {
    store
        .conn
        .query_row("SELECT max(last_write) FROM sessions", [], |r| r.get::<_, Option<i64>>(0))
        .ok()
        .flatten()
        .map(from_millis)
}

/// One problem over its life, as `portolan history` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub kind: String,
    pub container_id: String,
    pub container: String,
    pub project: Option<String>,
    pub started_at: DateTime<Utc>,
    /// The start was inferred from the engine's counters, not seen.
    pub started_reconstructed: bool,
    /// `None` while it lasts.
    pub ended_at: Option<DateTime<Utc>>,
    pub detail: String,
    /// The last line the container wrote before it failed, when the record has it.
    pub last_log: Option<String>,
    /// The container is gone from the engine; the record still knows it.
    pub removed_at: Option<DateTime<Utc>>,
    /// Its log around the incident, when the record took one.
    pub excerpt: Option<IncidentExcerpt>,
}

/// The lines around an incident, raw as the container wrote them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentExcerpt {
    pub at: DateTime<Utc>,
    /// `die`, `oom` or `unhealthy`.
    pub reason: String,
    pub before: Vec<String>,
    pub after: Vec<String>,
}

/// An incident's excerpt: the first one taken from a little before it began (a
/// probe streak or a crash loop begins before the event that names it) to its end.
fn excerpt_of(
    store: &Store,
    container_id: &str,
    from: i64,
    to: i64,
) -> rusqlite::Result<Option<IncidentExcerpt>> {
    let found: Option<(i64, i64, String)> = store
        .conn
        .query_row(
            "SELECT id, at, reason FROM excerpts WHERE container_id = ?1 AND at >= ?2 AND at <= ?3
             ORDER BY at LIMIT 1",
            params![container_id, from, to],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((id, at, reason)) = found else { return Ok(None) };
    let mut statement = store
        .conn
        .prepare("SELECT after, line FROM excerpt_lines WHERE excerpt = ?1 ORDER BY n")?;
    let mut excerpt =
        IncidentExcerpt { at: from_millis(at), reason, before: Vec::new(), after: Vec::new() };
    let rows = statement.query_map(params![id], |r| Ok((r.get::<_, bool>(0)?, r.get(1)?)))?;
    for row in rows {
        let (after, line) = row?;
        if after { excerpt.after.push(line) } else { excerpt.before.push(line) }
    }
    Ok(Some(excerpt))
}

/// A span of time no writer recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub at: DateTime<Utc>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEvent {
    pub at: DateTime<Utc>,
    pub scope: String,
    pub name: String,
    pub action: String,
    pub detail: Option<String>,
    /// The compose project of the container it is about (added key).
    pub project: Option<String>,
}

/// What a record says of a span of time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The record's first moment: nothing before it is known.
    pub recorded_since: Option<DateTime<Utc>>,
    pub incidents: Vec<Incident>,
    pub events: Vec<HistoryEvent>,
    pub gaps: Vec<Gap>,
    pub notes: Vec<Note>,
}

impl History {
    /// Only what concerns compose project `project`, and the engine itself (lost,
    /// back): what an operator who opens portolan on one project asks about.
    pub fn of_project(mut self, project: &str) -> History {
        self.incidents.retain(|i| i.project.as_deref() == Some(project));
        self.events.retain(|e| e.scope == "engine" || e.project.as_deref() == Some(project));
        self
    }
}

/// A recorded session shorter apart than this from the next is not a gap.
const GAP_SLACK_MS: i64 = 5_000;

/// Everything the record holds between `from` and `to`.
pub fn history(
    store: &Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<History, StoreError> {
    let err = |e: rusqlite::Error| store.error(&e);
    let (lo, hi) = (millis(from), millis(to));
    let mut statement = store
        .conn
        .prepare(
            "SELECT p.kind, p.container_id, p.container, p.project, p.started_at, p.reconstructed,
                    p.ended_at, p.detail, c.removed_at,
                    (SELECT e.detail FROM events e
                      WHERE e.subject_id = p.container_id AND e.action = 'last_log'
                        AND e.at <= coalesce(p.ended_at, ?2) + 60000
                      ORDER BY e.at DESC LIMIT 1)
             FROM problems p LEFT JOIN containers c ON c.id = p.container_id
             WHERE p.started_at <= ?2 AND (p.ended_at IS NULL OR p.ended_at >= ?1)
             ORDER BY p.started_at, p.id",
        )
        .map_err(err)?;
    let incidents = statement
        .query_map(params![lo, hi], |r| {
            Ok(Incident {
                kind: r.get(0)?,
                container_id: r.get(1)?,
                container: r.get(2)?,
                project: r.get(3)?,
                started_at: from_millis(r.get(4)?),
                started_reconstructed: r.get(5)?,
                ended_at: r.get::<_, Option<i64>>(6)?.map(from_millis),
                detail: r.get(7)?,
                removed_at: r.get::<_, Option<i64>>(8)?.map(from_millis),
                last_log: r.get(9)?,
                excerpt: None,
            })
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<Incident>>>)
        .map_err(err)?;
    let mut incidents = incidents;
    for incident in &mut incidents {
        let from = millis(incident.started_at) - 120_000;
        let to = incident.ended_at.map_or(hi, millis) + 15_000;
        incident.excerpt = excerpt_of(store, &incident.container_id, from, to).map_err(err)?;
    }
    let mut statement = store
        .conn
        .prepare(
            "SELECT at, scope, name, action, detail, project FROM events
             WHERE at >= ?1 AND at <= ?2 AND action != 'last_log' ORDER BY at, id",
        )
        .map_err(err)?;
    let events = statement
        .query_map(params![lo, hi], |r| {
            Ok(HistoryEvent {
                at: from_millis(r.get(0)?),
                scope: r.get(1)?,
                name: r.get(2)?,
                action: r.get(3)?,
                detail: r.get(4)?,
                project: r.get(5)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(err)?;
    let mut statement = store
        .conn
        .prepare("SELECT at, text FROM notes WHERE at >= ?1 AND at <= ?2 ORDER BY at, id")
        .map_err(err)?;
    let notes = statement
        .query_map(params![lo, hi], |r| Ok(Note { at: from_millis(r.get(0)?), text: r.get(1)? }))
        .and_then(Iterator::collect)
        .map_err(err)?;
    let mut statement = store
        .conn
        .prepare("SELECT started_at, last_write FROM sessions ORDER BY started_at")
        .map_err(err)?;
    let sessions: Vec<(i64, i64)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(Iterator::collect)
        .map_err(err)?;
    let recorded_since = sessions.first().map(|(start, _)| from_millis(*start));
    Ok(History {
        from,
        to,
        recorded_since,
        incidents,
        events,
        gaps: gaps(&sessions, lo, hi),
        notes,
    })
}

/// The spans between recorded sessions that fall within `lo..hi`.
fn gaps(sessions: &[(i64, i64)], lo: i64, hi: i64) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let mut covered_until: Option<i64> = None;
    for &(start, last_write) in sessions {
        if let Some(until) = covered_until
            && start - until > GAP_SLACK_MS
            && start >= lo
            && until <= hi
        {
            gaps.push(Gap { from: from_millis(until.max(lo)), to: from_millis(start.min(hi)) });
        }
        covered_until = Some(covered_until.map_or(last_write, |u| u.max(last_write)));
    }
    gaps
}

#[cfg(test)]
#[test]
fn sessions_apart_leave_a_gap_and_overlapping_ones_do_not() {
    let sessions = [(0, 10_000), (12_000, 50_000), (40_000, 60_000), (100_000, 120_000)];
    let found = gaps(&sessions, 0, 200_000);
    assert_eq!(found, vec![Gap { from: from_millis(60_000), to: from_millis(100_000) }]);
    assert!(gaps(&sessions, 0, 30_000).is_empty(), "a gap after the span is not in it");
}

/// Lines of an excerpt the text shows on each side; the JSON has them all.
const EXCERPT_LINES_SHOWN: usize = 10;

/// The text `portolan history --format text` prints.
pub fn text(history: &History, offset: chrono::FixedOffset) -> String {
    use crate::model::sanitize::one_line;
    use std::fmt::Write;
    let clock =
        |at: DateTime<Utc>| at.with_timezone(&offset).format("%Y-%m-%d %H:%M:%S").to_string();
    let mut out = String::new();
    let _ = writeln!(out, "History from {} to {}", clock(history.from), clock(history.to));
    match history.recorded_since {
        Some(since) if since > history.from => {
            let _ = writeln!(out, "(recorded only since {})", clock(since));
        }
        None => {
            let _ = writeln!(out, "(nothing recorded yet)");
        }
        _ => {}
    }
    let _ = writeln!(out, "\nIncidents ({})", history.incidents.len());
    if history.incidents.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for incident in &history.incidents {
        let mark = if incident.started_reconstructed { "~" } else { "" };
        let end = match incident.ended_at {
            Some(ended) => format!("until {}", clock(ended)),
            None => "still open".to_string(),
        };
        let _ = writeln!(
            out,
            "  {mark}{}  {end}  {}  {}",
            clock(incident.started_at),
            one_line(&incident.container),
            incident.kind
        );
        if !incident.detail.is_empty() {
            let _ = writeln!(out, "      {}", one_line(&incident.detail));
        }
        // The cause often carries the last line already; an excerpt carries more.
        if let Some(line) = incident
            .last_log
            .as_ref()
            .filter(|line| incident.excerpt.is_none() && !incident.detail.contains(line.trim()))
        {
            let _ = writeln!(out, "      last log: {}", one_line(line));
        }
        if let Some(excerpt) = &incident.excerpt {
            let shown = excerpt.before.len().min(EXCERPT_LINES_SHOWN);
            let _ = writeln!(
                out,
                "      log at the {} ({}), last {shown} of {} lines before, {} after:",
                excerpt.reason,
                clock(excerpt.at),
                excerpt.before.len(),
                excerpt.after.len()
            );
            for line in &excerpt.before[excerpt.before.len() - shown..] {
                let _ = writeln!(out, "        | {}", one_line(line));
            }
            for line in excerpt.after.iter().take(EXCERPT_LINES_SHOWN) {
                let _ = writeln!(out, "        > {}", one_line(line));
            }
        }
        if let Some(removed) = incident.removed_at {
            let _ = writeln!(out, "      container removed at {}", clock(removed));
        }
    }
    let _ = writeln!(out, "\nEvents ({})", history.events.len());
    for event in &history.events {
        let detail =
            event.detail.as_deref().map(|d| format!(" {}", one_line(d))).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {}  {:<9} {} {}{detail}",
            clock(event.at),
            event.scope,
            one_line(&event.name),
            one_line(&event.action)
        );
    }
    for gap in &history.gaps {
        let _ = writeln!(out, "\nNot recorded from {} to {}", clock(gap.from), clock(gap.to));
    }
    for note in &history.notes {
        let _ = writeln!(out, "\nNote ({}): {}", clock(note.at), one_line(&note.text));
    }
    out
}

/// How a line of the "while you were away" summary is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwayKind {
    Heading,
    Incident,
    Resolved,
    Log,
    Plain,
    Note,
}

/// "While you were away": what a record says happened since the operator last
/// looked, in lines for a popup. Built from [`History`]; nothing here is raw.
#[derive(Debug, Clone, PartialEq)]
pub struct Away {
    pub lines: Vec<(AwayKind, String)>,
}

/// Incidents listed in full; the rest are counted.
const AWAY_INCIDENTS: usize = 8;
/// Log lines shown under each incident.
const AWAY_LOG_LINES: usize = 3;

/// The summary of `history` for engine `engine`, or `None` when nothing happened.
pub fn away(
    history: &History,
    engine: Option<&str>,
    looked: bool,
    now: DateTime<Utc>,
    offset: chrono::FixedOffset,
) -> Option<Away> {
    use crate::model::sanitize::one_line;
    let clock = |at: DateTime<Utc>| at.with_timezone(&offset).format("%H:%M:%S").to_string();
    let created: Vec<&HistoryEvent> =
        history.events.iter().filter(|e| e.scope == "container" && e.action == "create").collect();
    let destroyed: Vec<&HistoryEvent> =
        history.events.iter().filter(|e| e.scope == "container" && e.action == "destroy").collect();
    let lost = history.events.iter().filter(|e| e.scope == "engine" && e.action == "lost").count();
    // What began or ended while away: an incident open since before was already seen.
    let incidents: Vec<&Incident> = history
        .incidents
        .iter()
        .filter(|i| i.started_at >= history.from || i.ended_at.is_some_and(|e| e >= history.from))
        .collect();
    if incidents.is_empty() && created.is_empty() && destroyed.is_empty() && lost == 0 {
        return None;
    }
    let mut lines = Vec::new();
    let ago = (now - history.from).num_minutes();
    let ago = if ago >= 120 { format!("{} h", ago / 60) } else { format!("{ago} min") };
    let on = engine.map(|e| format!(" on {}", one_line(e))).unwrap_or_default();
    let local = history.from.with_timezone(&offset);
    let when = if local.date_naive() == now.with_timezone(&offset).date_naive() {
        local.format("%H:%M").to_string()
    } else {
        local.format("%a %H:%M").to_string()
    };
    let span = if looked {
        format!("Since you last looked{on}, at {when} ({ago} ago)")
    } else {
        format!("In the last {ago}{on}")
    };
    lines.push((
        AwayKind::Heading,
        format!(
            "{span}: {}, {} came, {} went{}",
            count(incidents.len(), "incident"),
            count(created.len(), "container"),
            destroyed.len(),
            if lost > 0 { format!(", engine lost {lost}×") } else { String::new() }
        ),
    ));
    if let Some(since) = history.recorded_since.filter(|s| *s > history.from) {
        lines.push((AwayKind::Note, format!("(recorded only since {})", clock(since))));
    }
    for incident in incidents.iter().take(AWAY_INCIDENTS) {
        let mark = if incident.started_reconstructed { "~" } else { "" };
        let (kind, span) = match incident.ended_at {
            Some(end) => (
                AwayKind::Resolved,
                format!("{mark}{} – {}", clock(incident.started_at), clock(end)),
            ),
            None => (
                AwayKind::Incident,
                format!("since {mark}{}, still open", clock(incident.started_at)),
            ),
        };
        let mut line = format!("{} {}  {span}", one_line(&incident.container), incident.kind);
        if !incident.detail.is_empty() {
            line.push_str(&format!(" · {}", one_line(&incident.detail)));
        }
        if incident.removed_at.is_some() {
            line.push_str(" · removed since");
        }
        lines.push((kind, line));
        if let Some(excerpt) = &incident.excerpt {
            let start = excerpt.before.len().saturating_sub(AWAY_LOG_LINES);
            for log in &excerpt.before[start..] {
                lines.push((AwayKind::Log, format!("  │ {}", one_line(log))));
            }
        }
    }
    if history.incidents.len() > AWAY_INCIDENTS {
        lines.push((
            AwayKind::Note,
            format!(
                "… and {} more (`portolan history` lists them all)",
                history.incidents.len() - AWAY_INCIDENTS
            ),
        ));
    }
    let names = |events: &[&HistoryEvent]| {
        let mut names: Vec<String> =
            events.iter().map(|e| one_line(&e.name).into_owned()).collect();
        names.dedup();
        let more = names.len().saturating_sub(6);
        names.truncate(6);
        let mut text = names.join(", ");
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
        text
    };
    if !created.is_empty() {
        lines.push((AwayKind::Plain, format!("came: {}", names(&created))));
    }
    if !destroyed.is_empty() {
        lines.push((AwayKind::Plain, format!("went: {}", names(&destroyed))));
    }
    // Gaps between sessions are common (a UI that was closed); a few are named,
    // many only counted.
    match history.gaps.as_slice() {
        [] => {}
        gaps @ ([_] | [_, _]) => {
            for gap in gaps {
                let text = format!("not recorded from {} to {}", clock(gap.from), clock(gap.to));
                lines.push((AwayKind::Note, text));
            }
        }
        gaps => {
            let minutes: i64 = gaps.iter().map(|g| (g.to - g.from).num_minutes()).sum();
            let text = format!(
                "not recorded for {} stretches ({minutes} min in all): a recorder keeps it whole",
                gaps.len()
            );
            lines.push((AwayKind::Note, text));
        }
    }
    Some(Away { lines })
}

fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// Where the moment the operator last looked at an engine is kept: beside its
/// record, so a record in another place keeps its own.
pub fn looked_path(record: &std::path::Path) -> std::path::PathBuf {
    let mut name = record.as_os_str().to_owned();
    name.push(".looked");
    std::path::PathBuf::from(name)
}

/// When the operator last looked at the engine of `record`, if ever.
pub fn last_looked(record: &std::path::Path) -> Option<DateTime<Utc>> {
    let text = std::fs::read_to_string(looked_path(record)).ok()?;
    DateTime::parse_from_rfc3339(text.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// Notes that the operator looked at the engine of `record` until `at`.
pub fn note_looked(record: &std::path::Path, at: DateTime<Utc>) -> std::io::Result<()> {
    std::fs::write(looked_path(record), at.to_rfc3339())
}

/// cpu, memory and network of a container, those of its project, and the rows read.
pub type SeriesRead = ([Vec<f64>; 3], [Vec<f64>; 3], usize);

/// Buckets a recorded span is read into; the chart averages them down to its width.
pub const SERIES_BUCKETS: usize = 360;

/// The tier that holds `span`: samples for an hour, ten-second averages for a day,
/// minutes beyond.
fn tier_for(span: crate::model::stats::ChartSpan) -> super::Tier {
    use crate::model::stats::ChartSpan;
    match span {
        ChartSpan::Live | ChartSpan::Hour => super::Tier::Sample,
        ChartSpan::Day => super::Tier::TenSeconds,
        ChartSpan::Week => super::Tier::Minute,
    }
}

/// cpu, memory and network of `own` and of the sum of `project` over `span` back
/// from `now`, in [`SERIES_BUCKETS`] buckets. A bucket a container has no row in
/// counts nothing for it.
pub fn series(
    store: &Store,
    own: &str,
    project: &[String],
    span: crate::model::stats::ChartSpan,
    now: DateTime<Utc>,
) -> Result<SeriesRead, StoreError> {
    let err = |e: rusqlite::Error| store.error(&e);
    let to = now.timestamp();
    let from = to - span.seconds();
    let width = (span.seconds() as f64 / SERIES_BUCKETS as f64).max(1.0);
    let mut ids: Vec<&str> = project.iter().map(String::as_str).collect();
    if !ids.contains(&own) {
        ids.push(own);
    }
    // Each container's number in the record, and its place among `ids`.
    let mut numbered =
        store.conn.prepare("SELECT n FROM series WHERE container_id = ?1").map_err(err)?;
    let mut place: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for (index, id) in ids.iter().enumerate() {
        if let Some(n) =
            numbered.query_row(params![id], |r| r.get::<_, i64>(0)).optional().map_err(err)?
        {
            place.insert(n, index);
        }
    }
    let empty = || std::array::from_fn(|_| vec![0.0; SERIES_BUCKETS]);
    let (mut mine, mut all): ([Vec<f64>; 3], [Vec<f64>; 3]) = (empty(), empty());
    if place.is_empty() {
        return Ok((mine, all, 0));
    }
    // One pass over the span in the table's own order (by time): per container, the
    // sums of each bucket and the last traffic counter seen.
    struct Acc {
        sums: Vec<[f64; 2]>,
        counts: Vec<u32>,
        net: Vec<f64>,
        net_counts: Vec<u32>,
        previous: Option<(i64, i64)>,
    }
    let mut accs: Vec<Acc> = (0..ids.len())
        .map(|_| Acc {
            sums: vec![[0.0; 2]; SERIES_BUCKETS],
            counts: vec![0; SERIES_BUCKETS],
            net: vec![0.0; SERIES_BUCKETS],
            net_counts: vec![0; SERIES_BUCKETS],
            previous: None,
        })
        .collect();
    let numbers: Vec<String> = place.keys().map(i64::to_string).collect();
    // The numbers are the record's own integers, never text from outside.
    let sql = format!(
        "SELECT at, series, cpu_centi, memory_bytes, net_rx_bytes, net_tx_bytes FROM stats
         WHERE tier = ?1 AND at >= ?2 AND at <= ?3 AND series IN ({})",
        numbers.join(",")
    );
    let mut statement = store.conn.prepare(&sql).map_err(err)?;
    let mut rows = 0;
    let points = statement
        .query_map(params![tier_for(span).number(), from, to], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<i64>>(4)?.unwrap_or(0) + r.get::<_, Option<i64>>(5)?.unwrap_or(0),
            ))
        })
        .map_err(err)?;
    for point in points {
        let (at, n, cpu, memory, traffic) = point.map_err(err)?;
        let Some(acc) = place.get(&n).and_then(|i| accs.get_mut(*i)) else { continue };
        rows += 1;
        let bucket = (((at - from) as f64 / width) as usize).min(SERIES_BUCKETS - 1);
        acc.sums[bucket][0] += cpu.unwrap_or(0) as f64 / 100.0;
        acc.sums[bucket][1] += memory.unwrap_or(0) as f64;
        acc.counts[bucket] += 1;
        // Counters restart with the container: a fall is not traffic.
        if let Some((then, before)) = acc.previous
            && at > then
            && traffic >= before
        {
            acc.net[bucket] += (traffic - before) as f64 / (at - then) as f64;
            acc.net_counts[bucket] += 1;
        }
        acc.previous = Some((at, traffic));
    }
    for (id, acc) in ids.iter().zip(&accs) {
        let in_project = project.iter().any(|p| p == id);
        for b in 0..SERIES_BUCKETS {
            let mean = |sum: f64, count: u32| if count > 0 { sum / f64::from(count) } else { 0.0 };
            let values = [
                mean(acc.sums[b][0], acc.counts[b]),
                mean(acc.sums[b][1], acc.counts[b]),
                mean(acc.net[b], acc.net_counts[b]),
            ];
            for (metric, value) in values.iter().enumerate() {
                if *id == own {
                    mine[metric][b] = *value;
                }
                if in_project {
                    all[metric][b] += *value;
                }
            }
        }
    }
    Ok((mine, all, rows))
}

/// What the record at `path` holds of a container's span, as the Stats pane draws
/// it; the words say why when it holds nothing (no record, a damaged file...).
pub fn recorded_series(
    path: Option<&std::path::Path>,
    host: usize,
    container_id: &str,
    project_ids: &[String],
    span: crate::model::stats::ChartSpan,
    now: DateTime<Utc>,
) -> crate::model::stats::RecordedSeries {
    use crate::model::stats::RecordedSeries;
    let mut answer = RecordedSeries {
        host,
        container_id: container_id.to_string(),
        span,
        ..RecordedSeries::default()
    };
    let Some(path) = path else {
        answer.error = Some("no record for this engine: longer spans need one".into());
        return answer;
    };
    let read = Store::open_for_reading(path).and_then(|store| match store {
        Some(store) => series(&store, container_id, project_ids, span, now).map(Some),
        None => Ok(None),
    });
    match read {
        Ok(Some((own, project, rows))) => {
            answer.own = own;
            answer.project = project;
            answer.rows = rows;
        }
        Ok(None) => {
            answer.error =
                Some(format!("nothing recorded yet ({} does not exist)", path.display()));
        }
        Err(error) => answer.error = Some(error.to_string()),
    }
    answer
}

/// The newest frame of every subject the record holds: what a new writing session
/// compares with, so that only changes are written.
pub fn newest_frames(store: &Store) -> Result<Vec<super::frames::FrameRow>, StoreError> {
    use super::frames::{FrameKind, FrameRow, Part};
    let err = |e: rusqlite::Error| store.error(&e);
    let mut statement = store
        .conn
        .prepare(
            "SELECT s.kind, s.key, f.part, f.at, f.body FROM subjects s JOIN frames f
             ON f.subject = s.n
             WHERE f.at = (SELECT max(g.at) FROM frames g WHERE g.subject = s.n AND g.part = f.part)",
        )
        .map_err(err)?;
    let rows = statement
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(err)?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, key, part, at, body)| {
            Some(FrameRow {
                at: from_millis(at),
                kind: FrameKind::from_number(kind)?,
                key,
                part: if part == 0 { Part::Config } else { Part::State },
                body,
            })
        })
        .collect())
}

/// What one engine's record says of one moment: enough to draw the Map, Triage,
/// Containers, Stats and Health panes as they were.
#[derive(Debug, Clone, Default)]
pub struct Moment {
    pub at: DateTime<Utc>,
    pub containers: Vec<crate::model::Container>,
    pub networks: Vec<crate::model::Network>,
    pub volumes: Vec<crate::model::Volume>,
    /// Problems open at the moment, with their true starts.
    pub problems: Vec<ProblemRow>,
    /// Each container's figures over the minutes before the moment, oldest first.
    pub stats: Vec<(String, Vec<crate::model::StatsPoint>)>,
    /// Each container's probe results up to the moment, oldest first.
    pub probes: Vec<(String, Vec<crate::model::HealthProbe>)>,
    /// Each container's last line before it failed, as recorded by then.
    pub last_logs: Vec<(String, String)>,
    /// Restarts seen in the ten minutes before the moment, by container.
    pub restarts: Vec<(String, Vec<DateTime<Utc>>)>,
    /// Container events of the hour before the moment, oldest first: the Timeline's.
    pub events: Vec<crate::model::ContainerEvent>,
    /// When the recording session that covers the moment began; `None`: nobody
    /// recorded at that moment (the state shown is the last one recorded before).
    pub watched_since: Option<DateTime<Utc>>,
    /// The record's first keyframe: nothing before it is known.
    pub recorded_since: Option<DateTime<Utc>>,
}

impl Moment {
    /// Words for a moment the record cannot show fully, else `None`.
    pub fn caveat(&self, offset: chrono::FixedOffset) -> Option<String> {
        let clock = |at: DateTime<Utc>| at.with_timezone(&offset).format("%Y-%m-%d %H:%M:%S");
        match self.recorded_since {
            None => Some("nothing recorded yet".to_string()),
            Some(since) if since > self.at => {
                Some(format!("nothing recorded before {}", clock(since)))
            }
            _ if self.watched_since.is_none() => {
                Some("not recorded at this moment: the last state recorded before it".to_string())
            }
            _ => None,
        }
    }
}

/// Probe results kept per container in a moment.
const MOMENT_PROBES: usize = 20;
/// Events a moment's Timeline lists at most (of the hour before it).
const MOMENT_EVENTS: usize = 1000;
/// The minutes of stats a moment holds before it.
const MOMENT_STATS_SECONDS: i64 = 600;

/// The state the record holds for moment `at`.
pub fn moment(store: &Store, at: DateTime<Utc>) -> Result<Moment, StoreError> {
    use super::frames::{self, FrameKind};
    let err = |e: rusqlite::Error| store.error(&e);
    let t = millis(at);
    let mut moment = Moment { at, ..Moment::default() };
    // The newest frame of each part of each subject at or before the moment: one
    // index seek per subject and part.
    let mut statement = store
        .conn
        .prepare(
            "SELECT s.kind, s.key,
                 (SELECT body FROM frames f WHERE f.subject = s.n AND f.part = 0 AND f.at <= ?1
                  ORDER BY f.at DESC LIMIT 1),
                 (SELECT body FROM frames f WHERE f.subject = s.n AND f.part = 1 AND f.at <= ?1
                  ORDER BY f.at DESC LIMIT 1),
                 (SELECT count(*) FROM frames f WHERE f.subject = s.n AND f.at <= ?1)
             FROM subjects s",
        )
        .map_err(err)?;
    let rows = statement
        .query_map(params![t], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .map_err(err)?;
    for row in rows {
        let (kind, key, config, state, count) = row.map_err(err)?;
        if count == 0 {
            continue;
        }
        match FrameKind::from_number(kind) {
            Some(FrameKind::Container) => {
                // A removal is a state frame without a body: the newest state frame
                // then reads as NULL, like no frame at all.
                if let (Some(config), Some(state)) = (config, state)
                    && let Some(c) = frames::container_from(&key, &config, &state)
                {
                    moment.containers.push(c);
                }
            }
            Some(FrameKind::Network) => {
                if let Some(n) = config.and_then(|b| frames::network_from(&key, &b)) {
                    moment.networks.push(n);
                }
            }
            Some(FrameKind::Volume) => {
                if let Some(v) = config.and_then(|b| frames::volume_from(&key, &b)) {
                    moment.volumes.push(v);
                }
            }
            None => {}
        }
    }
    drop(statement);
    let present: std::collections::HashSet<String> =
        moment.containers.iter().map(|c| c.id.clone()).collect();
    moment.recorded_since = store
        .conn
        .query_row("SELECT min(at) FROM frames", [], |r| r.get::<_, Option<i64>>(0))
        .map_err(err)?
        .map(from_millis);
    moment.watched_since = store
        .conn
        .query_row(
            "SELECT max(started_at) FROM sessions WHERE started_at <= ?1 AND last_write >= ?2",
            params![t, t - GAP_SLACK_MS],
            |r| r.get::<_, Option<i64>>(0),
        )
        .map_err(err)?
        .map(from_millis);
    // Problems open at the moment.
    let mut statement = store
        .conn
        .prepare(
            "SELECT kind, container_id, container, project, started_at, reconstructed, detail
             FROM problems WHERE started_at <= ?1 AND (ended_at IS NULL OR ended_at > ?1)
             ORDER BY started_at",
        )
        .map_err(err)?;
    moment.problems = statement
        .query_map(params![t], |r| {
            Ok(ProblemRow {
                kind: r.get(0)?,
                container_id: r.get(1)?,
                container: r.get(2)?,
                project: r.get(3)?,
                started_at: from_millis(r.get(4)?),
                reconstructed: r.get(5)?,
                detail: r.get(6)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(err)?;
    moment.stats = stats_before(store, &present, at)?;
    let (events, _) = events_before(store, at + chrono::Duration::milliseconds(1), MOMENT_EVENTS)?;
    let hour_before = at - chrono::Duration::hours(1);
    moment.events = events.into_iter().filter(|e| e.at >= hour_before).collect();
    // Probes of the hour before, the newest few per container.
    let mut statement = store
        .conn
        .prepare(
            "SELECT container_id, start, end, exit_code, output FROM probes
             WHERE start <= ?1 AND start >= ?2 ORDER BY start",
        )
        .map_err(err)?;
    let mut probes: std::collections::BTreeMap<String, Vec<crate::model::HealthProbe>> =
        std::collections::BTreeMap::new();
    let rows = statement
        .query_map(params![t, t - 3_600_000], |r| {
            Ok((
                r.get::<_, String>(0)?,
                crate::model::HealthProbe {
                    start: Some(from_millis(r.get(1)?)),
                    end: r.get::<_, Option<i64>>(2)?.map(from_millis),
                    exit_code: r.get(3)?,
                    output: r.get(4)?,
                },
            ))
        })
        .map_err(err)?;
    for row in rows {
        let (id, probe) = row.map_err(err)?;
        if present.contains(&id) {
            probes.entry(id).or_default().push(probe);
        }
    }
    for list in probes.values_mut() {
        let excess = list.len().saturating_sub(MOMENT_PROBES);
        list.drain(..excess);
    }
    moment.probes = probes.into_iter().collect();
    // Container events of the day before: last log lines, and restarts.
    let mut statement = store
        .conn
        .prepare(
            "SELECT subject_id, at, action, detail FROM events
             WHERE scope = 'container' AND at <= ?1 AND at >= ?2
               AND action IN ('last_log', 'start', 'restart') ORDER BY at, id",
        )
        .map_err(err)?;
    let rows = statement
        .query_map(params![t, t - 86_400_000], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .map_err(err)?;
    let mut last_logs = std::collections::BTreeMap::new();
    let mut starts: std::collections::BTreeMap<String, Vec<DateTime<Utc>>> =
        std::collections::BTreeMap::new();
    for row in rows {
        let (id, when, action, detail) = row.map_err(err)?;
        if !present.contains(&id) {
            continue;
        }
        match action.as_str() {
            "last_log" => {
                if let Some(line) = detail {
                    last_logs.insert(id, line);
                }
            }
            _ if when >= t - 600_000 => starts.entry(id).or_default().push(from_millis(when)),
            _ => {}
        }
    }
    moment.last_logs = last_logs.into_iter().collect();
    // The first start in the window is a start; the ones after it are restarts.
    moment.restarts = starts
        .into_iter()
        .filter_map(|(id, mut times)| {
            times.dedup();
            (times.len() > 1).then(|| (id, times.split_off(1)))
        })
        .collect();
    Ok(moment)
}

/// Each present container's figures over the minutes before `at`, from the finest
/// tier that still holds them.
fn stats_before(
    store: &Store,
    present: &std::collections::HashSet<String>,
    at: DateTime<Utc>,
) -> Result<Vec<(String, Vec<crate::model::StatsPoint>)>, StoreError> {
    let err = |e: rusqlite::Error| store.error(&e);
    let to = at.timestamp();
    let mut statement = store
        .conn
        .prepare(
            "SELECT s.container_id, t.at, t.cpu_centi, t.memory_bytes, t.memory_limit_bytes,
                    t.net_rx_bytes, t.net_tx_bytes, t.block_read_bytes, t.block_write_bytes,
                    t.pids
             FROM stats t JOIN series s ON s.n = t.series
             WHERE t.tier = ?1 AND t.at > ?2 AND t.at <= ?3 ORDER BY t.at",
        )
        .map_err(err)?;
    let as_u64 = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
    for tier in super::Tier::ALL {
        let from = to - if tier == super::Tier::Minute { 3_600 } else { MOMENT_STATS_SECONDS };
        let mut by: std::collections::BTreeMap<String, Vec<crate::model::StatsPoint>> =
            std::collections::BTreeMap::new();
        let rows = statement
            .query_map(params![tier.number(), from, to], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    [
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                        r.get::<_, Option<i64>>(6)?,
                        r.get::<_, Option<i64>>(7)?,
                        r.get::<_, Option<i64>>(8)?,
                        r.get::<_, Option<i64>>(9)?,
                    ],
                ))
            })
            .map_err(err)?;
        for row in rows {
            let (id, when, cpu, figures) = row.map_err(err)?;
            if !present.contains(&id) {
                continue;
            }
            let points = by.entry(id).or_default();
            let [memory, limit, rx, tx, read, write, pids] = figures.map(as_u64);
            let previous = points.last();
            let rate = |before: Option<u64>, now: Option<u64>| {
                let (p, before, now) = (previous?, before?, now?);
                let seconds = (when - p.at.timestamp()) as f64;
                (now >= before && seconds > 0.0).then(|| (now - before) as f64 / seconds)
            };
            let point = crate::model::StatsPoint {
                at: from_millis(when * 1000),
                cpu_percent: cpu.map(|c| c as f64 / 100.0),
                memory_bytes: memory,
                memory_limit_bytes: limit,
                net_rx_bytes: rx,
                net_tx_bytes: tx,
                net_rx_rate: rate(previous.and_then(|p| p.net_rx_bytes), rx),
                net_tx_rate: rate(previous.and_then(|p| p.net_tx_bytes), tx),
                block_read_bytes: read,
                block_write_bytes: write,
                pids,
                oom_kills: None,
                source: crate::model::stats::SampleSource::default(),
            };
            points.push(point);
        }
        if !by.is_empty() {
            return Ok(by.into_iter().collect());
        }
    }
    Ok(Vec::new())
}

/// A model of the moments read from each engine's record, as the panes draw it:
/// `hosts` are the live model's engines (their names and versions).
pub fn model_at(
    hosts: &[crate::model::Host],
    moments: Vec<(crate::model::HostId, Moment)>,
    at: DateTime<Utc>,
) -> crate::model::Model {
    use crate::model::since::{RecordedStart, Since};
    use crate::model::{Connection, ContainerStats, Model};
    let mut hosts = hosts.to_vec();
    for host in &mut hosts {
        host.syncing = None;
        host.same_as = None;
        host.connection = Connection::Disconnected { since: at, reason: "not recorded".into() };
        host.connected_at = None;
    }
    let mut model = Model::with_hosts(hosts, at);
    for (host, moment) in moments {
        if host >= model.hosts.len() {
            continue;
        }
        if let Some(since) = moment.watched_since {
            model.hosts[host].connection = Connection::Connected { since };
            model.hosts[host].connected_at = Some(since);
        }
        for mut c in moment.containers {
            c.host = host;
            model.containers.insert(c.id.clone(), c);
        }
        for n in moment.networks {
            model.networks.insert((host, n.name.clone()), n);
        }
        for v in moment.volumes {
            model.volumes.insert((host, v.name.clone()), v);
        }
        for (id, points) in moment.stats {
            let mut stats = ContainerStats::new(points.len().max(2));
            for point in points {
                stats.push_point(point);
            }
            model.stats.insert(id, stats);
        }
        for (id, probes) in moment.probes {
            // The failing streak, counted back from the newest probe.
            let streak = probes.iter().rev().take_while(|p| p.exit_code != Some(0)).count();
            if let Some(health) = model.containers.get_mut(&id).and_then(|c| c.health.as_mut()) {
                health.failing_streak = streak as u64;
                let keep = probes.len().saturating_sub(5);
                health.log = probes[keep..].to_vec();
            }
            model.history.containers.entry(id).or_default().probes = probes.into();
        }
        for (id, line) in moment.last_logs {
            model.history.set_last_log_line(&id, line);
        }
        let entries =
            moment.events.iter().map(|e| crate::model::history::timeline_entry(host, e)).collect();
        model.history.insert_recorded(entries);
        for (id, restarts) in moment.restarts {
            model.history.containers.entry(id).or_default().restarts = restarts;
        }
        for problem in moment.problems {
            let key = (host, problem.kind.clone(), problem.container_id.clone());
            let start = RecordedStart {
                kind: problem.kind,
                container_id: problem.container_id,
                since: Since { at: problem.started_at, reconstructed: problem.reconstructed },
                watched_until: at,
            };
            model.recorded_starts.insert(key, start);
        }
    }
    model.revision = 1;
    model.structure_revision = 1;
    model.state_revision = 1;
    model
}

/// Rebuilds the state of every engine at `at` from their records (`paths`, by
/// host; `None`: not recorded): the model the panes draw, and words for what the
/// record cannot show. Fails, in words, when no engine has a record to read.
pub fn rewind(
    paths: &[Option<std::path::PathBuf>],
    hosts: &[crate::model::Host],
    at: DateTime<Utc>,
    offset: chrono::FixedOffset,
) -> Result<(crate::model::Model, Option<String>), String> {
    let mut moments = Vec::new();
    let mut problems = Vec::new();
    for (host, path) in paths.iter().enumerate() {
        let Some(path) = path else { continue };
        match Store::open_for_rewinding(path) {
            Ok(Some(store)) => match moment(&store, at) {
                Ok(moment) => moments.push((host, moment)),
                Err(error) => problems.push(error.to_string()),
            },
            Ok(None) => problems.push(format!(
                "no record: nothing recorded yet ({} does not exist)",
                path.display()
            )),
            Err(error) => problems.push(error.to_string()),
        }
    }
    if moments.is_empty() {
        return Err(if problems.is_empty() {
            "no record: the time cursor reads one (recording is off)".to_string()
        } else {
            problems.join("; ")
        });
    }
    let caveat = moments.iter().find_map(|(_, m)| m.caveat(offset));
    Ok((model_at(hosts, moments, at), caveat))
}

/// Container events the record holds from before `before`, the newest `limit` of
/// them, oldest first; and whether there are none older (the Timeline scrolling back).
pub fn events_before(
    store: &Store,
    before: DateTime<Utc>,
    limit: usize,
) -> Result<(Vec<crate::model::ContainerEvent>, bool), StoreError> {
    let err = |e: rusqlite::Error| store.error(&e);
    let mut statement = store
        .conn
        .prepare(
            "SELECT at, subject_id, name, project, service, action, detail FROM events
             WHERE scope = 'container' AND action != 'last_log' AND at < ?1
             ORDER BY at DESC, id DESC LIMIT ?2",
        )
        .map_err(err)?;
    let mut events: Vec<crate::model::ContainerEvent> = statement
        .query_map(params![millis(before), limit as i64], |r| {
            Ok(crate::model::ContainerEvent {
                at: from_millis(r.get(0)?),
                id: r.get(1)?,
                name: r.get(2)?,
                project: r.get(3)?,
                service: r.get(4)?,
                action: r.get(5)?,
                detail: r.get(6)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(err)?;
    let exhausted = events.len() < limit;
    events.reverse();
    Ok((events, exhausted))
}

/// [`events_before`] of the record at `path`, as the update that gives them to the
/// model; `None` when there is no record to read.
pub fn recorded_events(
    path: Option<&std::path::Path>,
    before: DateTime<Utc>,
    limit: usize,
) -> Option<crate::model::Update> {
    let store = Store::open_for_reading(path?).ok().flatten()?;
    let (events, exhausted) = events_before(&store, before, limit).ok()?;
    Some(crate::model::Update::RecordedEvents { events, exhausted })
}
