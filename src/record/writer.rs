//! The record's one writer: a thread that owns the file, commits what it receives at
//! least once a second (so a `kill -9` loses at most the last second), and keeps the
//! file within its retention and budget. The async side hands it owned batches and
//! never waits for the disk.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::store::{Store, StoreError, WriterLock, millis};
use super::{Record, Retention, Tier};

/// How often what arrived is committed.
const COMMIT_EVERY: StdDuration = StdDuration::from_secs(1);
/// How often retention and the budget are enforced.
const TIDY_EVERY: StdDuration = StdDuration::from_secs(60);
/// Batches waiting for the thread; beyond this the newest are dropped and counted.
const QUEUE: usize = 4096;

/// What the writer tells the operator, through whoever started it.
#[derive(Debug, Clone, PartialEq)]
pub enum WriterNews {
    /// Recording stopped (a full disk, a file that went bad): the words say why.
    Failed(String),
    /// Recording works again after a failure.
    Resumed,
    /// Old records were dropped to stay within the budget.
    Dropped(String),
}

enum Message {
    Records(Vec<Record>),
    Stop,
}

/// The async side's end of a running writer.
pub struct Writer {
    sender: SyncSender<Message>,
    thread: Option<JoinHandle<()>>,
    /// Batches the queue could not take since the last one it took.
    dropped: u64,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("dropped", &self.dropped).finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts the writer's thread on an open store; `news` hears of failures and
    /// drops. `who` names this writer in the file's sessions (`record`, `tui`).
    pub fn spawn(
        store: Store,
        lock: WriterLock,
        retention: Retention,
        who: &str,
        news: impl Fn(WriterNews) + Send + 'static,
    ) -> Result<Writer, StoreError> {
        let now = Utc::now();
        let session = store
            .conn
            .execute(
                "INSERT INTO sessions (started_at, last_write, writer) VALUES (?1, ?1, ?2)",
                params![millis(now), format!("{who} (pid {})", std::process::id())],
            )
            .map(|_| store.conn.last_insert_rowid())
            .map_err(|e| store.error(&e))?;
        let (sender, receiver) = mpsc::sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("portolan-record".into())
            .spawn(move || {
                let _lock = lock;
                let mut state = Thread {
                    store,
                    retention,
                    session,
                    news: Box::new(news),
                    failed: None,
                    series: HashMap::new(),
                    subjects: HashMap::new(),
                };
                state.run(&receiver);
            })
            .map_err(|e| StoreError::Unusable {
                path: "the recorder's thread".into(),
                detail: e.to_string(),
            })?;
        Ok(Writer { sender, thread: Some(thread), dropped: 0 })
    }

    /// Hands a batch over; never blocks. A full queue (the disk far behind) drops the
    /// batch, and the record says so once the queue takes batches again.
    pub fn send(&mut self, mut records: Vec<Record>) {
        if records.is_empty() {
            return;
        }
        if self.dropped > 0 {
            records.push(Record::Note {
                at: Utc::now(),
                text: format!(
                    "{} batches of records were lost: the disk did not keep up",
                    self.dropped
                ),
            });
        }
        match self.sender.try_send(Message::Records(records)) {
            Ok(()) => self.dropped = 0,
            Err(TrySendError::Full(_)) => self.dropped += 1,
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Commits what is queued and closes the file.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Writer {
    /// However the session ends (an error unwinding included), what was handed over
    /// is committed before the file is let go.
    fn drop(&mut self) {
        let _ = self.sender.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Thread {
    store: Store,
    retention: Retention,
    session: i64,
    news: Box<dyn Fn(WriterNews) + Send>,
    /// Why the last commit failed, while it does.
    failed: Option<String>,
    /// Each container's number in `series`, as written.
    series: HashMap<String, i64>,
    /// Each framed subject's number in `subjects`, as written.
    subjects: Subjects,
}

/// Numbers of framed subjects, by kind and key.
type Subjects = HashMap<(i64, String), i64>;

/// A subject's number in `subjects`, made the first time it is framed.
fn subject_of(
    tx: &Transaction<'_>,
    known: &mut Subjects,
    kind: i64,
    key: &str,
) -> rusqlite::Result<i64> {
    if let Some(n) = known.get(&(kind, key.to_string())) {
        return Ok(*n);
    }
    tx.execute("INSERT OR IGNORE INTO subjects (kind, key) VALUES (?1, ?2)", params![kind, key])?;
    let n = tx.query_row(
        "SELECT n FROM subjects WHERE kind = ?1 AND key = ?2",
        params![kind, key],
        |r| r.get(0),
    )?;
    known.insert((kind, key.to_string()), n);
    Ok(n)
}

impl Thread {
    fn run(&mut self, receiver: &Receiver<Message>) {
        let mut pending: Vec<Record> = Vec::new();
        let mut next_commit = Instant::now() + COMMIT_EVERY;
        let mut next_tidy = Instant::now();
        loop {
            let wait = next_commit.saturating_duration_since(Instant::now());
            let stop = match receiver.recv_timeout(wait) {
                Ok(Message::Records(records)) => {
                    pending.extend(records);
                    false
                }
                Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => true,
                Err(RecvTimeoutError::Timeout) => false,
            };
            if stop || Instant::now() >= next_commit {
                self.commit(&mut pending, stop);
                next_commit = Instant::now() + COMMIT_EVERY;
            }
            if !stop && Instant::now() >= next_tidy {
                self.tidy(Utc::now());
                next_tidy = Instant::now() + TIDY_EVERY;
            }
            if stop {
                return;
            }
        }
    }

    fn commit(&mut self, pending: &mut Vec<Record>, ending: bool) {
        let now = Utc::now();
        let result = (|| -> rusqlite::Result<()> {
            let tx = self.store.conn.transaction()?;
            write(&tx, pending, &mut self.series, &mut self.subjects)?;
            tx.execute(
                "UPDATE sessions SET last_write = ?1, ended_at = ?2 WHERE id = ?3",
                params![millis(now), ending.then(|| millis(now)), self.session],
            )?;
            tx.commit()
        })();
        match result {
            Ok(()) => {
                pending.clear();
                if self.failed.take().is_some() {
                    (self.news)(WriterNews::Resumed);
                }
            }
            Err(e) => {
                let error = self.store.error(&e);
                let words = error.to_string();
                // Kept for the next try, up to a bound: a disk that stays full must
                // not fill the memory instead.
                if pending.len() > 100_000 {
                    pending.clear();
                }
                if self.failed.as_deref() != Some(&words) {
                    (self.news)(WriterNews::Failed(words.clone()));
                    self.failed = Some(words);
                }
            }
        }
    }

    fn tidy(&mut self, now: DateTime<Utc>) {
        // Retention may drop subjects: their numbers are looked up again.
        self.subjects.clear();
        if let Err(e) = expire(&self.store, &self.retention, now) {
            tracing::warn!(error = %e, "record retention failed");
        }
        match keep_within_budget(&self.store, self.retention.budget_bytes, now) {
            Ok(Some(note)) => (self.news)(WriterNews::Dropped(note)),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "record budget failed"),
        }
    }
}

fn opt_i64(value: Option<u64>) -> Option<i64> {
    value.map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

/// A container's number in `series`, made the first time it is written.
fn series_of(
    tx: &Transaction<'_>,
    known: &mut HashMap<String, i64>,
    id: &str,
) -> rusqlite::Result<i64> {
    if let Some(n) = known.get(id) {
        return Ok(*n);
    }
    tx.execute("INSERT OR IGNORE INTO series (container_id) VALUES (?1)", params![id])?;
    let n =
        tx.query_row("SELECT n FROM series WHERE container_id = ?1", params![id], |r| r.get(0))?;
    known.insert(id.to_string(), n);
    Ok(n)
}

/// Writes one batch inside `tx`.
fn write(
    tx: &Transaction<'_>,
    records: &[Record],
    series: &mut HashMap<String, i64>,
    subjects: &mut Subjects,
) -> rusqlite::Result<()> {
    let mut frame = tx.prepare(
        "INSERT OR REPLACE INTO frames (subject, part, at, body) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut event = tx.prepare(
        "INSERT INTO events (at, scope, subject_id, name, project, service, action, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut opened = tx.prepare(
        "INSERT INTO problems (kind, container_id, container, project, started_at, reconstructed, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut closed = tx.prepare(
        "UPDATE problems SET ended_at = ?3
         WHERE kind = ?1 AND container_id = ?2 AND ended_at IS NULL",
    )?;
    let mut probe = tx.prepare(
        "INSERT OR IGNORE INTO probes (container_id, start, end, exit_code, output)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut stats = tx.prepare(
        "INSERT OR REPLACE INTO stats (tier, series, at, cpu_centi, memory_bytes,
             memory_limit_bytes, net_rx_bytes, net_tx_bytes, block_read_bytes, block_write_bytes, pids)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut seen = tx.prepare(
        "INSERT INTO containers (id, name, project, service, image, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, project = excluded.project,
             service = excluded.service, image = excluded.image, last_seen = excluded.last_seen,
             removed_at = NULL",
    )?;
    let mut removed = tx.prepare("UPDATE containers SET removed_at = ?2 WHERE id = ?1")?;
    let mut note = tx.prepare("INSERT INTO notes (at, text) VALUES (?1, ?2)")?;
    let mut excerpt = tx
        .prepare("INSERT INTO excerpts (container_id, name, at, reason) VALUES (?1, ?2, ?3, ?4)")?;
    let mut excerpt_line =
        tx.prepare("INSERT INTO excerpt_lines (excerpt, n, after, line) VALUES (?1, ?2, ?3, ?4)")?;
    for record in records {
        match record {
            Record::Event(e) => {
                event.execute(params![
                    millis(e.at),
                    e.scope,
                    e.subject_id,
                    e.name,
                    e.project,
                    e.service,
                    e.action,
                    e.detail
                ])?;
            }
            Record::ProblemOpened(p) => {
                opened.execute(params![
                    p.kind,
                    p.container_id,
                    p.container,
                    p.project,
                    millis(p.started_at),
                    p.reconstructed,
                    p.detail
                ])?;
            }
            Record::ProblemClosed { kind, container_id, ended_at } => {
                closed.execute(params![kind, container_id, millis(*ended_at)])?;
            }
            Record::Probe(p) => {
                probe.execute(params![
                    p.container_id,
                    millis(p.start),
                    p.end.map(millis),
                    p.exit_code,
                    p.output
                ])?;
            }
            Record::Stats(s) => {
                let n = series_of(tx, series, &s.container_id)?;
                stats.execute(params![
                    s.tier.number(),
                    n,
                    s.at.timestamp(),
                    s.cpu_percent.map(|c| (c * 100.0).round() as i64),
                    opt_i64(s.memory_bytes),
                    opt_i64(s.memory_limit_bytes),
                    opt_i64(s.net_rx_bytes),
                    opt_i64(s.net_tx_bytes),
                    opt_i64(s.block_read_bytes),
                    opt_i64(s.block_write_bytes),
                    opt_i64(s.pids)
                ])?;
            }
            Record::ContainerSeen(c) => {
                seen.execute(params![c.id, c.name, c.project, c.service, c.image, millis(c.seen)])?;
            }
            Record::ContainerRemoved { id, at } => {
                removed.execute(params![id, millis(*at)])?;
            }
            Record::Note { at, text } => {
                note.execute(params![millis(*at), text])?;
            }
            Record::Excerpt(e) => {
                excerpt.execute(params![e.id, e.name, millis(e.at), e.reason])?;
                let id = tx.last_insert_rowid();
                let lines =
                    e.before.iter().map(|l| (false, l)).chain(e.after.iter().map(|l| (true, l)));
                for (n, (after, line)) in lines.enumerate() {
                    excerpt_line.execute(params![id, n as i64, after, line])?;
                }
            }
            Record::Frame(f) => {
                let n = subject_of(tx, subjects, f.kind.number(), &f.key)?;
                frame.execute(params![n, f.part.number(), millis(f.at), f.body])?;
            }
        }
    }
    Ok(())
}

/// Drops what is older than its retention. Open problems are kept however old.
pub fn expire(store: &Store, retention: &Retention, now: DateTime<Utc>) -> rusqlite::Result<()> {
    let tx = store.conn.unchecked_transaction()?;
    for tier in Tier::ALL {
        tx.execute(
            "DELETE FROM stats WHERE tier = ?1 AND at < ?2",
            params![tier.number(), (now - retention.of(tier)).timestamp()],
        )?;
    }
    let cutoff = millis(now - retention.incidents);
    delete_incidents_before(&tx, cutoff)?;
    tx.execute(
        "DELETE FROM containers WHERE removed_at IS NOT NULL AND removed_at < ?1",
        params![cutoff],
    )?;
    tx.execute("DELETE FROM notes WHERE at < ?1", params![cutoff])?;
    tx.execute("DELETE FROM sessions WHERE last_write < ?1", params![cutoff])?;
    tx.commit()
}

/// Events, probes, ended problems and excerpts older than `cutoff`; open problems
/// stay however old they are.
fn delete_incidents_before(tx: &Transaction<'_>, cutoff: i64) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM events WHERE at < ?1", params![cutoff])?;
    tx.execute("DELETE FROM probes WHERE start < ?1", params![cutoff])?;
    tx.execute(
        "DELETE FROM problems WHERE ended_at IS NOT NULL AND ended_at < ?1",
        params![cutoff],
    )?;
    delete_excerpts_before(tx, cutoff)
}

fn delete_excerpts_before(tx: &Transaction<'_>, cutoff: i64) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM excerpt_lines WHERE excerpt IN (SELECT id FROM excerpts WHERE at < ?1)",
        params![cutoff],
    )?;
    tx.execute("DELETE FROM excerpts WHERE at < ?1", params![cutoff])?;
    delete_frames_before(tx, cutoff)
}

/// Frames older than `cutoff`, but for the newest of each subject before it: that
/// one is still the state at the cutoff. Subjects removed before it go whole.
fn delete_frames_before(tx: &Transaction<'_>, cutoff: i64) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM frames WHERE at < ?1 AND at < (
             SELECT max(g.at) FROM frames g
             WHERE g.subject = frames.subject AND g.part = frames.part AND g.at < ?1)",
        params![cutoff],
    )?;
    tx.execute(
        "DELETE FROM frames WHERE subject IN (
             SELECT f.subject FROM frames f
             WHERE f.body IS NULL AND f.at < ?1
               AND f.at = (SELECT max(g.at) FROM frames g WHERE g.subject = f.subject))",
        params![cutoff],
    )?;
    tx.execute("DELETE FROM subjects WHERE n NOT IN (SELECT subject FROM frames)", [])?;
    Ok(())
}

/// The oldest moment any timed table holds.
fn oldest(store: &Store) -> rusqlite::Result<Option<i64>> {
    store.conn.query_row(
        "SELECT min(m) FROM (
             SELECT min(at) * 1000 AS m FROM stats
             UNION ALL SELECT min(at) FROM events
             UNION ALL SELECT min(start) FROM probes
             UNION ALL SELECT min(ended_at) FROM problems
             UNION ALL SELECT min(at) FROM excerpts)",
        [],
        |r| r.get(0),
    )
}

/// Gives freed pages back to the disk. Each step of `incremental_vacuum` frees one
/// page, so it is stepped to the end; the checkpoint then moves the shorter file out
/// of the write-ahead log and truncates both.
fn shrink(store: &Store) -> rusqlite::Result<()> {
    let mut vacuum = store.conn.prepare("PRAGMA incremental_vacuum")?;
    let mut steps = vacuum.query([])?;
    while steps.next()?.is_some() {}
    drop(steps);
    store.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
}

/// Drops the oldest records, a slice of the recorded span at a time, until the file
/// fits `budget` bytes. Returns the note it wrote, when it dropped anything.
pub fn keep_within_budget(
    store: &Store,
    budget: u64,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<String>> {
    if store.bytes_on_disk() <= budget {
        return Ok(None);
    }
    shrink(store)?;
    // Down to nine tenths, so that the next minute's records do not cost another drop.
    let target = budget / 10 * 9;
    let mut dropped_before = None;
    for _ in 0..20 {
        if store.bytes_on_disk() <= target {
            break;
        }
        let Some(oldest) = oldest(store)? else { break };
        let span = (millis(now) - oldest).max(1000);
        let cutoff = oldest + (span / 10).max(1000);
        let tx = store.conn.unchecked_transaction()?;
        tx.execute("DELETE FROM stats WHERE at < ?1", params![cutoff / 1000])?;
        delete_incidents_before(&tx, cutoff)?;
        tx.commit()?;
        shrink(store)?;
        dropped_before = Some(cutoff);
    }
    let Some(cutoff) = dropped_before else { return Ok(None) };
    let at = super::store::from_millis(cutoff);
    let text = format!(
        "records before {} were dropped to keep the file within its budget of {} MiB",
        at.format("%Y-%m-%d %H:%M:%S UTC"),
        budget / (1024 * 1024)
    );
    store
        .conn
        .execute("INSERT INTO notes (at, text) VALUES (?1, ?2)", params![millis(now), text])?;
    shrink(store)?;
    Ok(Some(text))
}
