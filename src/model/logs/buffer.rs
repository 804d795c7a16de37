//! The log store: every followed source's lines under one memory budget.
//!
//! [`LogStore`] owns the buffered lines of all sources, their order, and the count
//! of every line it did not keep. Two things force lines out, and both are counted
//! per source and in total, never silently:
//! - the global byte budget: when it is exceeded the oldest lines go first, across
//!   sources, in (timestamp, arrival) order;
//! - the ingest rate guard: beyond N lines per second from one source, the extra
//!   lines are not even parsed.
//!
//! Ordering rules: lines of one source stay in arrival order. A line whose engine
//! timestamp is older than its source's previous line sorts as if it had that
//! previous timestamp (the engine interleaves stdout and stderr, and reconnections
//! replay); a line without a timestamp sorts after everything already stored. The
//! merged view orders by that timestamp, then by arrival (`seq`).
//!
//! Memory accounting is approximate but covers what grows: each line's heap blocks
//! with allocator overhead, and every slot of every ring (a `VecDeque`'s spare
//! capacity costs as much as a line's fixed part).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};

use super::level::{self, Level};
use super::line::{LineOptions, LineParser, LogText};
use crate::model::sanitize;

/// Default memory budget shared by all sources: 64 MiB.
pub const DEFAULT_BUDGET: usize = 64 * 1024 * 1024;
/// Default number of lines one source may add per second.
pub const DEFAULT_RATE_LIMIT: u32 = 500_000;

const RATE_WINDOW: Duration = Duration::from_secs(1);
const LINE_SLOT: usize = std::mem::size_of::<LogLine>();

/// A followed log source: one container, by id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(Arc<str>);

impl SourceId {
    pub fn new(container_id: &str) -> Self {
        SourceId(Arc::from(container_id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 characters, as `docker ps` shows ids.
    pub fn short(&self) -> &str {
        self.0.get(..12).unwrap_or(&self.0)
    }
}

impl From<&str> for SourceId {
    fn from(id: &str) -> Self {
        SourceId::new(id)
    }
}

/// Which stream a line came from. Containers with a TTY have one merged stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
    Console,
}

/// A line's place in the merged order: (timestamp, arrival). Stable while the line
/// is stored, so views and searches hold keys rather than indices that shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineKey {
    ts: i64,
    seq: u64,
    slot: u32,
}

impl LineKey {
    pub fn seq(self) -> u64 {
        self.seq
    }
}

/// One stored line.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub source: SourceId,
    pub stream: Stream,
    /// The engine's timestamp, as received.
    pub timestamp: Option<DateTime<Utc>>,
    /// Arrival order across the whole store, starting at 0.
    pub seq: u64,
    pub text: LogText,
    pub level: Option<Level>,
    /// Ordering timestamp in nanoseconds (see the module docs).
    order_ts: i64,
    slot: u32,
}

impl LogLine {
    pub fn key(&self) -> LineKey {
        LineKey { ts: self.order_ts, seq: self.seq, slot: self.slot }
    }

    pub fn plain(&self) -> &str {
        self.text.plain()
    }

    /// Heap bytes this line owns; its fixed part is counted with the ring's slots.
    fn heap_cost(&self) -> usize {
        self.text.heap_bytes()
    }
}

/// Lines not kept, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drops {
    /// Evicted (or refused) to stay within the memory budget.
    pub budget: u64,
    /// Refused because the source wrote faster than the rate limit.
    pub rate: u64,
}

impl Drops {
    pub fn total(&self) -> u64 {
        self.budget + self.rate
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    Budget,
    Rate,
}

/// What became of a pushed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Stored(LineKey),
    Dropped(DropReason),
}

/// Which way to walk the merged order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreConfig {
    /// Bytes all sources may use together.
    pub budget_bytes: usize,
    /// Lines per second one source may add; `None` for no limit.
    pub rate_limit: Option<u32>,
    pub line: LineOptions,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            budget_bytes: DEFAULT_BUDGET,
            rate_limit: Some(DEFAULT_RATE_LIMIT),
            line: LineOptions::default(),
        }
    }
}

#[derive(Debug, Clone)]
struct SourceBuf {
    id: SourceId,
    lines: VecDeque<LogLine>,
    drops: Drops,
    last_ts: i64,
    window_start: Option<Instant>,
    window_count: u32,
}

impl SourceBuf {
    /// The rate guard: a fixed one-second window per source.
    fn admit(&mut self, now: Instant, limit: u32) -> bool {
        let fresh = self.window_start.is_none_or(|start| now.duration_since(start) >= RATE_WINDOW);
        if fresh {
            self.window_start = Some(now);
            self.window_count = 0;
        }
        if self.window_count >= limit {
            return false;
        }
        self.window_count += 1;
        true
    }
}

/// Buffered lines of every followed source, under one budget.
#[derive(Debug, Clone)]
pub struct LogStore {
    config: StoreConfig,
    parser: LineParser,
    /// Indexed by `LineKey::slot`; a removed source leaves `None` so keys stay valid.
    slots: Vec<Option<SourceBuf>>,
    by_id: HashMap<SourceId, u32>,
    used: usize,
    len: usize,
    next_seq: u64,
    latest_ts: i64,
    /// The last evicted key: everything stored is above it.
    watermark: Option<LineKey>,
    drops: Drops,
    removals: u64,
}

impl Default for LogStore {
    fn default() -> Self {
        LogStore::new(StoreConfig::default())
    }
}

impl LogStore {
    pub fn new(config: StoreConfig) -> Self {
        LogStore {
            config,
            parser: LineParser::new(config.line),
            slots: Vec::new(),
            by_id: HashMap::new(),
            used: 0,
            len: 0,
            next_seq: 0,
            latest_ts: i64::MIN,
            watermark: None,
            drops: Drops::default(),
            removals: 0,
        }
    }

    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Parses and stores one raw line. `now` is the caller's monotonic clock, used
    /// only by the rate guard, so the store itself stays free of I/O.
    pub fn push(
        &mut self,
        source: &SourceId,
        stream: Stream,
        timestamp: Option<DateTime<Utc>>,
        raw: &[u8],
        now: Instant,
    ) -> Admission {
        let slot = self.slot_for(source);
        let latest_ts = self.latest_ts;
        let Some(buf) = self.slots.get_mut(slot as usize).and_then(Option::as_mut) else {
            return Admission::Dropped(DropReason::Budget);
        };
        // Before parsing: a flood must not cost the parse of the lines it loses.
        if let Some(limit) = self.config.rate_limit
            && !buf.admit(now, limit)
        {
            buf.drops.rate += 1;
            self.drops.rate += 1;
            return Admission::Dropped(DropReason::Rate);
        }
        let order_ts = match timestamp.and_then(|t| t.timestamp_nanos_opt()) {
            Some(ts) => ts.max(buf.last_ts),
            None => buf.last_ts.max(latest_ts),
        };
        let key = LineKey { ts: order_ts, seq: self.next_seq, slot };
        // Older than lines already evicted for the budget: it would be the next to go.
        if self.watermark.is_some_and(|w| key < w) {
            buf.drops.budget += 1;
            self.drops.budget += 1;
            return Admission::Dropped(DropReason::Budget);
        }
        let text = self.parser.parse(raw);
        let level = level::detect(text.plain());
        let line = LogLine {
            source: buf.id.clone(),
            stream,
            timestamp,
            seq: key.seq,
            text,
            level,
            order_ts,
            slot,
        };
        buf.last_ts = order_ts;
        self.next_seq += 1;
        self.latest_ts = self.latest_ts.max(order_ts);
        self.used += line.heap_cost();
        if buf.lines.len() == buf.lines.capacity() {
            // Grow by a quarter, not double: spare slots count against the budget.
            let before = buf.lines.capacity();
            buf.lines.reserve_exact((before / 4).max(16));
            self.used += (buf.lines.capacity() - before) * LINE_SLOT;
        }
        buf.lines.push_back(line);
        self.len += 1;
        self.enforce_budget();
        if self.watermark.is_some_and(|w| key <= w) {
            Admission::Dropped(DropReason::Budget)
        } else {
            Admission::Stored(key)
        }
    }

    fn slot_for(&mut self, source: &SourceId) -> u32 {
        if let Some(&slot) = self.by_id.get(source) {
            return slot;
        }
        let slot = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        self.slots.push(Some(SourceBuf {
            id: source.clone(),
            lines: VecDeque::new(),
            drops: Drops::default(),
            last_ts: i64::MIN,
            window_start: None,
            window_count: 0,
        }));
        self.by_id.insert(source.clone(), slot);
        slot
    }

    /// Changes the budget, evicting at once if the new one is smaller.
    pub fn set_budget(&mut self, budget_bytes: usize) {
        self.config.budget_bytes = budget_bytes;
        self.enforce_budget();
    }

    fn enforce_budget(&mut self) {
        while self.used > self.config.budget_bytes {
            let oldest = self
                .slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| Some((s.as_ref()?.lines.front()?.key(), i)))
                .min();
            let Some((_, slot)) = oldest else { break };
            self.evict_front(slot);
        }
    }

    fn evict_front(&mut self, slot: usize) {
        let Some(buf) = self.slots.get_mut(slot).and_then(Option::as_mut) else { return };
        let Some(line) = buf.lines.pop_front() else { return };
        self.used -= line.heap_cost();
        self.len -= 1;
        buf.drops.budget += 1;
        self.drops.budget += 1;
        self.watermark = Some(line.key());
        // A source squeezed out by a louder one gives its spare slots back, all of
        // them once empty: slots count against the budget like lines do.
        let capacity = buf.lines.capacity();
        if buf.lines.is_empty() || buf.lines.len() < capacity / 4 {
            buf.lines.shrink_to(buf.lines.len() * 2);
            self.used -= (capacity - buf.lines.capacity()) * LINE_SLOT;
        }
    }

    /// Forgets a source and its lines (not counted as dropped: the operator asked).
    /// Returns how many lines went.
    pub fn remove_source(&mut self, source: &SourceId) -> usize {
        let Some(slot) = self.by_id.remove(source) else { return 0 };
        let Some(buf) = self.slots.get_mut(slot as usize).and_then(Option::take) else {
            return 0;
        };
        let heap: usize = buf.lines.iter().map(LogLine::heap_cost).sum();
        self.used -= heap + buf.lines.capacity() * LINE_SLOT;
        self.len -= buf.lines.len();
        self.removals += 1;
        buf.lines.len()
    }

    /// Lines stored, all sources together.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes accounted against the budget.
    pub fn used_bytes(&self) -> usize {
        self.used
    }

    pub fn budget(&self) -> usize {
        self.config.budget_bytes
    }

    /// Lines dropped from one source, by reason, since it was first seen.
    pub fn drops(&self, source: &SourceId) -> Drops {
        self.buf(source).map_or_else(Drops::default, |b| b.drops)
    }

    /// Lines dropped from all sources, including removed ones.
    pub fn total_drops(&self) -> Drops {
        self.drops
    }

    /// Lines stored for one source.
    pub fn source_len(&self, source: &SourceId) -> usize {
        self.buf(source).map_or(0, |b| b.lines.len())
    }

    /// Every source the store knows, in order of first appearance.
    pub fn sources(&self) -> impl Iterator<Item = &SourceId> {
        self.slots.iter().flatten().map(|b| &b.id)
    }

    /// The `seq` the next stored line will get: lines with a lower `seq` have all
    /// been seen.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The last key evicted for the budget: every stored line's key is greater.
    pub fn watermark(&self) -> Option<LineKey> {
        self.watermark
    }

    /// Bumped each time a source is removed, which is the only way lines leave other
    /// than eviction from the bottom.
    pub fn removals(&self) -> u64 {
        self.removals
    }

    /// Memory accounting from scratch, to check the running total.
    #[cfg(test)]
    fn recount(&self) -> usize {
        self.slots
            .iter()
            .flatten()
            .map(|b| {
                b.lines.iter().map(LogLine::heap_cost).sum::<usize>()
                    + b.lines.capacity() * LINE_SLOT
            })
            .sum()
    }

    fn buf(&self, source: &SourceId) -> Option<&SourceBuf> {
        let slot = *self.by_id.get(source)?;
        self.slots.get(slot as usize)?.as_ref()
    }

    /// The line with this key, if still stored.
    pub fn get(&self, key: LineKey) -> Option<&LogLine> {
        let buf = self.slots.get(key.slot as usize)?.as_ref()?;
        let index = buf.lines.binary_search_by_key(&key.seq, |l| l.seq).ok()?;
        buf.lines.get(index)
    }

    /// All lines of the chosen sources (all when `None`), oldest first.
    pub fn merged<'a>(&'a self, sources: Option<&HashSet<SourceId>>) -> Merged<'a> {
        self.merged_from(sources, None, Direction::Forward)
    }

    /// Lines of the chosen sources strictly after (`Forward`) or before (`Backward`)
    /// `from` in merged order; from the oldest or the newest when `from` is `None`.
    pub fn merged_from<'a>(
        &'a self,
        sources: Option<&HashSet<SourceId>>,
        from: Option<LineKey>,
        direction: Direction,
    ) -> Merged<'a> {
        let cursors = self
            .slots
            .iter()
            .flatten()
            .filter(|b| sources.is_none_or(|set| set.contains(&b.id)))
            .filter(|b| !b.lines.is_empty())
            .map(|b| {
                let at = match (direction, from) {
                    (Direction::Forward, None) => 0,
                    (Direction::Backward, None) => b.lines.len(),
                    (Direction::Forward, Some(k)) => b.lines.partition_point(|l| l.key() <= k),
                    (Direction::Backward, Some(k)) => b.lines.partition_point(|l| l.key() < k),
                };
                Cursor { lines: &b.lines, at }
            })
            .collect();
        Merged { cursors, direction }
    }

    /// Lines with `seq >= since` of the chosen sources, in merged order: what
    /// arrived since a view last looked (minus what was already evicted).
    pub fn arrived_since<'a>(
        &'a self,
        since: u64,
        sources: Option<&HashSet<SourceId>>,
    ) -> Vec<&'a LogLine> {
        let mut lines: Vec<&LogLine> = self
            .slots
            .iter()
            .flatten()
            .filter(|b| sources.is_none_or(|set| set.contains(&b.id)))
            .flat_map(|b| b.lines.iter().rev().take_while(|l| l.seq >= since))
            .collect();
        lines.sort_unstable_by_key(|l| l.key());
        lines
    }
}

#[derive(Debug, Clone)]
struct Cursor<'a> {
    lines: &'a VecDeque<LogLine>,
    /// Forward: the next line's index. Backward: one past it.
    at: usize,
}

/// A k-way merge of several sources' rings by (timestamp, seq). Sources are few,
/// so picking the next line is a scan of their heads.
#[derive(Debug, Clone)]
pub struct Merged<'a> {
    cursors: Vec<Cursor<'a>>,
    direction: Direction,
}

impl<'a> Iterator for Merged<'a> {
    type Item = &'a LogLine;

    fn next(&mut self) -> Option<&'a LogLine> {
        let forward = self.direction == Direction::Forward;
        let mut best: Option<(usize, &'a LogLine)> = None;
        for (i, cursor) in self.cursors.iter().enumerate() {
            let head = if forward {
                cursor.lines.get(cursor.at)
            } else {
                cursor.at.checked_sub(1).and_then(|k| cursor.lines.get(k))
            };
            let Some(line) = head else { continue };
            let better = match best {
                None => true,
                Some((_, b)) if forward => line.key() < b.key(),
                Some((_, b)) => line.key() > b.key(),
            };
            if better {
                best = Some((i, line));
            }
        }
        let (i, line) = best?;
        if let Some(cursor) = self.cursors.get_mut(i) {
            if forward {
                cursor.at += 1;
            } else {
                cursor.at -= 1;
            }
        }
        Some(line)
    }
}

/// How [`save`] writes lines.
#[derive(Debug, Clone, Default)]
pub struct SaveOptions<'a> {
    /// Prefix each line with its engine timestamp, RFC 3339 in UTC.
    pub timestamps: bool,
    /// Prefix each line with its source's name, `docker compose logs` style; sources
    /// missing from the map show their short id.
    pub source_names: Option<&'a HashMap<SourceId, String>>,
}

/// What [`save`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Saved {
    pub lines: u64,
    pub bytes: u64,
}

/// Writes lines as plain text, one per line, with the prefixes asked for.
pub fn save<'a, W: Write>(
    lines: impl IntoIterator<Item = &'a LogLine>,
    writer: W,
    options: &SaveOptions<'_>,
) -> io::Result<Saved> {
    let mut out = io::BufWriter::new(writer);
    let names = options.source_names;
    let width = names.map_or(0, |n| n.values().map(|v| v.chars().count()).max().unwrap_or(0));
    let mut saved = Saved::default();
    let mut prefix = String::new();
    for line in lines {
        prefix.clear();
        if options.timestamps {
            match line.timestamp {
                Some(ts) => prefix.push_str(&ts.to_rfc3339_opts(SecondsFormat::Nanos, true)),
                None => prefix.push_str(&format!("{:30}", "-")),
            }
            prefix.push(' ');
        }
        if let Some(names) = names {
            let name = names
                .get(&line.source)
                .map_or(Cow::Borrowed(line.source.short()), |n| sanitize::one_line(n));
            prefix.push_str(&format!("{name:<width$} | "));
        }
        out.write_all(prefix.as_bytes())?;
        out.write_all(line.plain().as_bytes())?;
        out.write_all(b"\n")?;
        saved.lines += 1;
        saved.bytes += (prefix.len() + line.plain().len() + 1) as u64;
    }
    out.flush()?;
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(secs, 0)
    }

    fn store(budget_bytes: usize) -> LogStore {
        LogStore::new(StoreConfig { budget_bytes, rate_limit: None, ..StoreConfig::default() })
    }

    fn push(store: &mut LogStore, source: &str, secs: Option<i64>, text: &str) -> Admission {
        let now = Instant::now();
        store.push(&SourceId::new(source), Stream::Stdout, secs.and_then(at), text.as_bytes(), now)
    }

    fn texts<'a>(lines: impl Iterator<Item = &'a LogLine>) -> Vec<&'a str> {
        lines.map(LogLine::plain).collect()
    }

    #[test]
    fn merged_order_is_by_timestamp_then_arrival() {
        let mut s = store(DEFAULT_BUDGET);
        push(&mut s, "a", Some(5), "a1");
        push(&mut s, "b", Some(5), "b1");
        push(&mut s, "a", Some(5), "a2");
        push(&mut s, "b", Some(5), "b2");
        push(&mut s, "c", Some(1), "c-early");
        push(&mut s, "c", Some(9), "c-late");
        assert_eq!(texts(s.merged(None)), ["c-early", "a1", "b1", "a2", "b2", "c-late"]);
        let back: Vec<&str> =
            s.merged_from(None, None, Direction::Backward).map(|l| l.plain()).collect();
        assert_eq!(back, ["c-late", "b2", "a2", "b1", "a1", "c-early"]);
        let only_b = HashSet::from([SourceId::new("b")]);
        assert_eq!(texts(s.merged(Some(&only_b))), ["b1", "b2"]);
    }

    #[test]
    fn merged_from_a_key_is_exclusive_both_ways() {
        let mut s = store(DEFAULT_BUDGET);
        let keys: Vec<LineKey> = (0..6)
            .map(|i| {
                let source = if i % 2 == 0 { "even" } else { "odd" };
                match push(&mut s, source, Some(i), &format!("l{i}")) {
                    Admission::Stored(key) => key,
                    other => panic!("{other:?}"),
                }
            })
            .collect();
        let after: Vec<&str> = texts(s.merged_from(None, Some(keys[2]), Direction::Forward));
        assert_eq!(after, ["l3", "l4", "l5"]);
        let before: Vec<&str> = texts(s.merged_from(None, Some(keys[2]), Direction::Backward));
        assert_eq!(before, ["l1", "l0"]);
        assert_eq!(s.get(keys[4]).map(LogLine::plain), Some("l4"));
    }

    #[test]
    fn a_source_keeps_its_arrival_order_and_untimed_lines_come_last() {
        let mut s = store(DEFAULT_BUDGET);
        push(&mut s, "a", Some(10), "a@10");
        // stderr interleaving: an older timestamp after a newer one stays after it.
        push(&mut s, "a", Some(8), "a@8");
        push(&mut s, "b", Some(9), "b@9");
        push(&mut s, "b", None, "b-untimed");
        push(&mut s, "a", Some(11), "a@11");
        assert_eq!(texts(s.merged(None)), ["b@9", "a@10", "a@8", "b-untimed", "a@11"]);
        let line = s.merged(None).nth(2).map(|l| l.timestamp);
        assert_eq!(line, Some(at(8)), "the engine's timestamp is kept as received");
    }

    #[test]
    fn lines_carry_parsed_text_and_level() {
        let mut s = store(DEFAULT_BUDGET);
        push(&mut s, "a", Some(1), "\x1b[31mERROR\x1b[0m disk \x1b]0;t\x07full");
        let line = s.merged(None).next().expect("stored");
        assert_eq!(line.plain(), "ERROR disk full");
        assert_eq!(line.level, Some(Level::Error));
        assert!(line.text.has_styles());
        assert_eq!(line.source.as_str(), "a");
        assert_eq!(line.seq, 0);
    }

    #[test]
    fn a_flood_stays_within_budget_and_every_drop_is_counted() {
        const LINES: u64 = 200_000;
        let budget = 1024 * 1024;
        let mut s = store(budget);
        let (a, b) = (SourceId::new("flood-a"), SourceId::new("flood-b"));
        let now = Instant::now();
        let mut max_used = 0;
        for i in 0..LINES {
            let source = if i % 3 == 0 { &b } else { &a };
            let raw = format!("2024 INFO request {i} \x1b[32mok\x1b[0m path=/api/items/{i}");
            s.push(source, Stream::Stdout, at(i as i64 / 1000), raw.as_bytes(), now);
            max_used = max_used.max(s.used_bytes());
        }
        assert!(max_used <= budget, "accounted {max_used} > budget {budget}");
        assert_eq!(s.used_bytes(), s.recount(), "running total drifted");
        let drops = s.total_drops();
        assert_eq!(drops.rate, 0);
        assert_eq!(drops.budget + s.len() as u64, LINES, "dropped plus kept is everything");
        assert_eq!(s.drops(&a).budget + s.drops(&b).budget, drops.budget);
        assert_eq!(s.source_len(&a) + s.source_len(&b), s.len());
        // What is left is the newest: the last line survived, the first did not.
        let newest = s.merged_from(None, None, Direction::Backward).next().map(|l| l.seq);
        assert_eq!(newest, Some(LINES - 1));
        let oldest_seq = s.merged(None).next().map_or(0, |l| l.seq);
        assert_eq!(oldest_seq, drops.budget, "eviction took exactly the oldest lines");
        assert!(s.len() > 3000, "a 1 MiB budget holds thousands of short lines: {}", s.len());
    }

    #[test]
    fn eviction_is_global_oldest_first() {
        let mut s = store(64 * 1024);
        let quiet = SourceId::new("quiet");
        for i in 0..10 {
            push(&mut s, "quiet", Some(i), "quiet line");
        }
        for i in 0..5000 {
            push(&mut s, "loud", Some(100 + i), "a loud line that fills the budget");
        }
        assert_eq!(s.source_len(&quiet), 0);
        assert_eq!(s.drops(&quiet), Drops { budget: 10, rate: 0 });
        assert!(s.used_bytes() <= s.budget());
        assert_eq!(s.used_bytes(), s.recount());
        // The quiet ring gave back its slots when it emptied... mostly: it is small.
        let loud = SourceId::new("loud");
        assert_eq!(s.drops(&loud).budget + s.source_len(&loud) as u64, 5000);
    }

    #[test]
    fn a_late_line_older_than_evicted_ones_is_refused_and_counted() {
        let mut s = store(8 * 1024);
        for i in 0..500 {
            push(&mut s, "a", Some(100 + i), "filling up the budget with lines");
        }
        let watermark = s.watermark().expect("something was evicted");
        let before = s.drops(&SourceId::new("b")).budget;
        assert_eq!(push(&mut s, "b", Some(1), "too old"), Admission::Dropped(DropReason::Budget));
        assert_eq!(s.drops(&SourceId::new("b")).budget, before + 1);
        assert!(s.merged(None).all(|l| l.key() > watermark));
    }

    #[test]
    fn a_line_bigger_than_the_budget_is_dropped_not_kept() {
        let mut s = store(4096);
        push(&mut s, "a", Some(1), "small");
        let big = "x".repeat(10_000);
        assert_eq!(push(&mut s, "a", Some(2), &big), Admission::Dropped(DropReason::Budget));
        assert!(s.used_bytes() <= 4096);
        assert_eq!(s.total_drops().budget, 2);
        assert!(s.is_empty());
    }

    #[test]
    fn the_rate_guard_counts_what_it_refuses() {
        let mut s = LogStore::new(StoreConfig { rate_limit: Some(100), ..StoreConfig::default() });
        let src = SourceId::new("chatty");
        let other = SourceId::new("calm");
        let t0 = Instant::now();
        let mut refused = 0;
        for i in 0..250 {
            let now = t0 + Duration::from_millis(i);
            if s.push(&src, Stream::Stderr, at(1), b"spam", now)
                == Admission::Dropped(DropReason::Rate)
            {
                refused += 1;
            }
        }
        assert_eq!(refused, 150);
        assert_eq!(s.drops(&src), Drops { budget: 0, rate: 150 });
        // Another source has its own allowance; a new second, a new one too.
        assert!(matches!(s.push(&other, Stream::Stdout, at(1), b"hi", t0), Admission::Stored(_)));
        let later = t0 + Duration::from_millis(1000);
        assert!(matches!(s.push(&src, Stream::Stdout, at(2), b"ok", later), Admission::Stored(_)));
        assert_eq!(s.total_drops().total(), 150);
        assert_eq!(s.len(), 102);
    }

    #[test]
    fn removing_a_source_frees_its_memory_but_not_its_drop_count() {
        let mut s = store(16 * 1024);
        for i in 0..400 {
            push(&mut s, if i % 2 == 0 { "a" } else { "b" }, Some(i), "some line of text here");
        }
        let dropped = s.total_drops();
        let a = SourceId::new("a");
        let a_len = s.source_len(&a);
        assert_eq!(s.remove_source(&a), a_len);
        assert_eq!(s.used_bytes(), s.recount());
        assert_eq!(s.total_drops(), dropped);
        assert_eq!(s.removals(), 1);
        assert!(s.merged(None).all(|l| l.source.as_str() == "b"));
        assert_eq!(s.sources().map(SourceId::as_str).collect::<Vec<_>>(), ["b"]);
        // The id may come back as a new source.
        push(&mut s, "a", Some(1000), "back");
        assert_eq!(s.source_len(&a), 1);
    }

    #[test]
    fn a_smaller_budget_evicts_at_once() {
        let mut s = store(DEFAULT_BUDGET);
        for i in 0..1000 {
            push(&mut s, "a", Some(i), "line");
        }
        s.set_budget(10 * 1024);
        assert!(s.used_bytes() <= 10 * 1024);
        assert_eq!(s.total_drops().budget + s.len() as u64, 1000);
    }

    #[test]
    fn save_writes_plain_text_with_optional_prefixes() {
        let mut s = store(DEFAULT_BUDGET);
        let id = "0123456789abcdef0123";
        push(&mut s, "web", Some(1_714_564_800), "\x1b[1mGET\x1b[0m /");
        push(&mut s, id, None, "tab\there");
        let names = HashMap::from([(SourceId::new("web"), "shop-web-1".to_string())]);

        let mut out = Vec::new();
        let options = SaveOptions { timestamps: true, source_names: Some(&names) };
        let saved = save(s.merged(None), &mut out, &options).expect("writes to a Vec");
        let text = String::from_utf8(out).expect("plain text is UTF-8");
        assert_eq!(
            text,
            "2024-05-01T12:00:00.000000000Z shop-web-1 | GET /\n\
             -                              0123456789ab | tab     here\n"
        );
        assert_eq!(saved, Saved { lines: 2, bytes: text.len() as u64 });

        let mut bare = Vec::new();
        save(s.merged(None), &mut bare, &SaveOptions::default()).expect("writes");
        assert_eq!(String::from_utf8_lossy(&bare), "GET /\ntab     here\n");
    }
}
