//! Filters and search over the whole buffered history, and the filtered view a pane
//! scrolls through.
//!
//! A [`FilteredView`] keeps the keys of the lines that pass its [`Filter`], in
//! merged order, and catches up with the store incrementally: a refresh costs the
//! lines that arrived since the last one, not the history. Only a new filter or a
//! removed source makes it scan everything again.

use std::collections::{HashSet, VecDeque};
use std::ops::Range;

use regex::{Regex, RegexBuilder};

use super::buffer::{Direction, LineKey, LogLine, LogStore, SourceId};
use super::level::Level;

/// A pattern the user typed that is not a valid regular expression.
#[derive(Debug, thiserror::Error)]
#[error("invalid pattern {pattern:?}: {source}")]
pub struct PatternError {
    pub pattern: String,
    #[source]
    pub source: regex::Error,
}

/// Compiles a user's pattern with smart case: all lower case matches any case, a
/// capital letter makes it case-sensitive (as in less, vim and ripgrep).
pub fn pattern(text: &str) -> Result<Regex, PatternError> {
    let case_insensitive = !text.chars().any(char::is_uppercase);
    RegexBuilder::new(text)
        .case_insensitive(case_insensitive)
        .build()
        .map_err(|source| PatternError { pattern: text.to_string(), source })
}

/// Which lines a view shows. The default shows everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A line must match at least one of these (when there are any).
    pub include: Vec<Regex>,
    /// A line matching any of these is hidden.
    pub exclude: Vec<Regex>,
    /// Only these sources (all when `None`): the per-service toggles.
    pub sources: Option<HashSet<SourceId>>,
    /// Hides lines below this level, and lines with no detected level.
    pub min_level: Option<Level>,
}

impl Filter {
    pub fn matches(&self, line: &LogLine) -> bool {
        if self.sources.as_ref().is_some_and(|s| !s.contains(&line.source)) {
            return false;
        }
        if let Some(min) = self.min_level
            && line.level.is_none_or(|level| level < min)
        {
            return false;
        }
        let text = line.plain();
        if self.exclude.iter().any(|re| re.is_match(text)) {
            return false;
        }
        self.include.is_empty() || self.include.iter().any(|re| re.is_match(text))
    }

    /// Whether the filter hides nothing.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty()
            && self.exclude.is_empty()
            && self.sources.is_none()
            && self.min_level.is_none()
    }
}

/// Byte ranges of `re`'s matches in `text`, for highlighting. Empty matches are left
/// out: there is nothing to paint.
pub fn match_ranges(text: &str, re: &Regex) -> Vec<Range<usize>> {
    re.find_iter(text).map(|m| m.range()).filter(|r| !r.is_empty()).collect()
}

/// A search result in the store's merged order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub key: LineKey,
    /// Byte ranges in the line's `plain()` text.
    pub ranges: Vec<Range<usize>>,
    /// The search went past the end (or start) and came round.
    pub wrapped: bool,
}

impl LogStore {
    /// The next line after (or before) `from` that passes `filter` and matches
    /// `re`, wrapping round once; `from` itself is found last. From the start (or
    /// the end) when `from` is `None`.
    pub fn find_next(
        &self,
        from: Option<LineKey>,
        re: &Regex,
        direction: Direction,
        filter: &Filter,
    ) -> Option<SearchHit> {
        let sources = filter.sources.as_ref();
        let hit = |line: &LogLine| filter.matches(line) && re.is_match(line.plain());
        let found = |line: &LogLine, wrapped| SearchHit {
            key: line.key(),
            ranges: match_ranges(line.plain(), re),
            wrapped,
        };
        if let Some(line) = self.merged_from(sources, from, direction).find(|l| hit(l)) {
            return Some(found(line, false));
        }
        let from = from?;
        let not_past = |line: &&LogLine| match direction {
            Direction::Forward => line.key() <= from,
            Direction::Backward => line.key() >= from,
        };
        self.merged_from(sources, None, direction)
            .take_while(not_past)
            .find(|l| hit(l))
            .map(|line| found(line, true))
    }
}

/// A search result in a [`FilteredView`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewHit {
    /// Index in the view.
    pub index: usize,
    pub ranges: Vec<Range<usize>>,
    pub wrapped: bool,
}

/// The lines of a store that pass a filter, in merged order, indexable for
/// scrolling. Costs one [`LineKey`] (24 bytes) per shown line, outside the store's
/// budget.
#[derive(Debug, Clone, Default)]
pub struct FilteredView {
    filter: Filter,
    keys: VecDeque<LineKey>,
    seen_seq: u64,
    removals: u64,
    built: bool,
}

impl FilteredView {
    pub fn new(filter: Filter) -> Self {
        FilteredView { filter, ..FilteredView::default() }
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Replaces the filter; the next refresh applies it to the whole history.
    pub fn set_filter(&mut self, filter: Filter) {
        self.filter = filter;
        self.built = false;
    }

    /// Catches up with the store. Returns whether the view changed.
    pub fn refresh(&mut self, store: &LogStore) -> bool {
        if !self.built || self.removals != store.removals() {
            return self.rebuild(store);
        }
        let mut changed = false;
        if let Some(watermark) = store.watermark() {
            while self.keys.front().is_some_and(|k| *k <= watermark) {
                self.keys.pop_front();
                changed = true;
            }
        }
        let arrived = store.arrived_since(self.seen_seq, self.filter.sources.as_ref());
        self.seen_seq = store.next_seq();
        let fresh: Vec<LineKey> =
            arrived.into_iter().filter(|l| self.filter.matches(l)).map(LogLine::key).collect();
        let Some(&first) = fresh.first() else { return changed };
        if self.keys.back().is_none_or(|last| *last < first) {
            self.keys.extend(fresh);
            return true;
        }
        // A slower source delivered lines that sort among ones already shown: merge
        // only the tail they overlap.
        let at = self.keys.partition_point(|k| *k < first);
        let tail: Vec<LineKey> = self.keys.drain(at..).collect();
        let (mut a, mut b) = (tail.into_iter().peekable(), fresh.into_iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x <= y => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => break,
            };
            self.keys.extend(next);
        }
        true
    }

    fn rebuild(&mut self, store: &LogStore) -> bool {
        let filter = &self.filter;
        self.keys = store
            .merged(filter.sources.as_ref())
            .filter(|l| filter.matches(l))
            .map(LogLine::key)
            .collect();
        self.seen_seq = store.next_seq();
        self.removals = store.removals();
        self.built = true;
        true
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn key(&self, index: usize) -> Option<LineKey> {
        self.keys.get(index).copied()
    }

    /// Where a key is (`Ok`) or would be (`Err`): keeps a scrolled view on the
    /// same line while lines come and go.
    pub fn index_of(&self, key: LineKey) -> Result<usize, usize> {
        self.keys.binary_search(&key)
    }

    pub fn line<'s>(&self, store: &'s LogStore, index: usize) -> Option<&'s LogLine> {
        store.get(self.key(index)?)
    }

    /// The lines at `range` of the view, for drawing.
    pub fn lines<'s>(
        &'s self,
        store: &'s LogStore,
        range: Range<usize>,
    ) -> impl Iterator<Item = &'s LogLine> + 's {
        self.keys
            .range(range.start.min(self.len())..range.end.min(self.len()))
            .filter_map(move |k| store.get(*k))
    }

    /// The next line of the view after (or before) index `from` matching `re`,
    /// wrapping round once; `from` itself is found last. From the start (or the
    /// end) when `from` is `None`.
    pub fn find_next(
        &self,
        store: &LogStore,
        from: Option<usize>,
        re: &Regex,
        direction: Direction,
    ) -> Option<ViewHit> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let start = match (from, direction) {
            (Some(i), _) => i.min(n - 1),
            (None, Direction::Forward) => n - 1,
            (None, Direction::Backward) => 0,
        };
        for step in 1..=n {
            let index = match direction {
                Direction::Forward => (start + step) % n,
                Direction::Backward => (start + n - step % n) % n,
            };
            let Some(line) = self.line(store, index) else { continue };
            if re.is_match(line.plain()) {
                let wrapped = match direction {
                    Direction::Forward => from.is_some() && index <= start,
                    Direction::Backward => from.is_some() && index >= start,
                };
                return Some(ViewHit { index, ranges: match_ranges(line.plain(), re), wrapped });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use chrono::DateTime;

    use super::*;
    use crate::model::logs::buffer::{Admission, StoreConfig, Stream};

    fn store(budget_bytes: usize) -> LogStore {
        LogStore::new(StoreConfig { budget_bytes, rate_limit: None, ..StoreConfig::default() })
    }

    fn push(store: &mut LogStore, source: &str, secs: i64, text: &str) -> Option<LineKey> {
        let ts = DateTime::from_timestamp(secs, 0);
        let now = Instant::now();
        match store.push(&SourceId::new(source), Stream::Stdout, ts, text.as_bytes(), now) {
            Admission::Stored(key) => Some(key),
            Admission::Dropped(_) => None,
        }
    }

    fn re(text: &str) -> Regex {
        pattern(text).expect("valid pattern")
    }

    fn shown(view: &FilteredView, store: &LogStore) -> Vec<String> {
        view.lines(store, 0..view.len()).map(|l| l.plain().to_string()).collect()
    }

    fn sample() -> LogStore {
        let mut s = store(DEFAULT_TEST_BUDGET);
        push(&mut s, "web", 1, "INFO GET /health 200");
        push(&mut s, "db", 2, "LOG: checkpoint starting");
        push(&mut s, "web", 3, "ERROR GET /cart 500 timeout");
        push(&mut s, "db", 4, "ERROR: deadlock detected");
        push(&mut s, "web", 5, "WARN slow request /cart");
        push(&mut s, "web", 6, "INFO GET /health 200");
        s
    }

    const DEFAULT_TEST_BUDGET: usize = 1024 * 1024;

    #[test]
    fn patterns_use_smart_case_and_fail_with_the_pattern() {
        assert!(re("error").is_match("ERROR"));
        assert!(!re("Error").is_match("ERROR"));
        let err = pattern("(unclosed").expect_err("invalid");
        assert!(err.to_string().starts_with("invalid pattern \"(unclosed\""), "{err}");
    }

    #[test]
    fn include_exclude_sources_and_level() {
        let s = sample();
        let view = |filter: Filter| {
            let mut v = FilteredView::new(filter);
            v.refresh(&s);
            shown(&v, &s)
        };
        assert_eq!(view(Filter::default()).len(), 6);
        let cart = Filter { include: vec![re("/cart"), re("deadlock")], ..Filter::default() };
        assert_eq!(
            view(cart),
            ["ERROR GET /cart 500 timeout", "ERROR: deadlock detected", "WARN slow request /cart"]
        );
        let no_health = Filter { exclude: vec![re("health")], ..Filter::default() };
        assert_eq!(view(no_health).len(), 4);
        let both =
            Filter { include: vec![re("get")], exclude: vec![re("health")], ..Filter::default() };
        assert_eq!(view(both), ["ERROR GET /cart 500 timeout"]);
        let db =
            Filter { sources: Some(HashSet::from([SourceId::new("db")])), ..Filter::default() };
        assert_eq!(view(db), ["LOG: checkpoint starting", "ERROR: deadlock detected"]);
        let warn = Filter { min_level: Some(Level::Warn), ..Filter::default() };
        assert_eq!(
            view(warn),
            ["ERROR GET /cart 500 timeout", "ERROR: deadlock detected", "WARN slow request /cart"]
        );
        assert!(Filter::default().is_empty());
    }

    #[test]
    fn a_new_filter_applies_to_the_whole_history() {
        let s = sample();
        let mut view = FilteredView::new(Filter::default());
        view.refresh(&s);
        assert_eq!(view.len(), 6);
        view.set_filter(Filter { include: vec![re("error")], ..Filter::default() });
        assert!(view.refresh(&s));
        assert_eq!(view.len(), 2);
        assert!(!view.refresh(&s), "nothing new, nothing changed");
    }

    #[test]
    fn the_view_follows_arrivals_evictions_and_late_sources() {
        // A deterministic jumble: three sources with skewed clocks and delivery
        // delays, a filter, and a budget small enough to evict all the time. After
        // every batch the incremental view must equal a view built from scratch.
        let mut s = store(24 * 1024);
        let filter = Filter { exclude: vec![re("skip")], ..Filter::default() };
        let mut view = FilteredView::new(filter.clone());
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for batch in 0..200 {
            for _ in 0..(next() % 20) {
                let r = next();
                let source = ["a", "b", "c"][(r % 3) as usize];
                let skew = (r >> 8) % 5;
                let word = if r % 7 == 0 { "skip" } else { "keep" };
                push(&mut s, source, batch * 3 - skew as i64, &format!("{word} {r:x}"));
            }
            view.refresh(&s);
            let mut fresh = FilteredView::new(filter.clone());
            fresh.refresh(&s);
            assert_eq!(view.keys, fresh.keys, "batch {batch}");
        }
        assert!(s.total_drops().budget > 0, "the test must exercise eviction");
        // Removing a source rebuilds.
        s.remove_source(&SourceId::new("b"));
        view.refresh(&s);
        assert!(view.lines(&s, 0..view.len()).all(|l| l.source.as_str() != "b"));
        assert_eq!(view.lines(&s, 0..view.len()).count(), view.len());
    }

    #[test]
    fn store_search_goes_next_and_previous_with_wrap() {
        let s = sample();
        let everything = Filter::default();
        let cart = re("/cart");
        let first = s.find_next(None, &cart, Direction::Forward, &everything).expect("found");
        assert_eq!(s.get(first.key).map(LogLine::plain), Some("ERROR GET /cart 500 timeout"));
        assert_eq!(first.ranges, vec![10..15]);
        assert!(!first.wrapped);
        let second = s.find_next(Some(first.key), &cart, Direction::Forward, &everything);
        let second = second.expect("found");
        assert_eq!(s.get(second.key).map(LogLine::plain), Some("WARN slow request /cart"));
        let wrapped = s.find_next(Some(second.key), &cart, Direction::Forward, &everything);
        assert_eq!(wrapped.as_ref().map(|h| (h.key, h.wrapped)), Some((first.key, true)));
        let back = s.find_next(Some(first.key), &cart, Direction::Backward, &everything);
        assert_eq!(back.map(|h| (h.key, h.wrapped)), Some((second.key, true)));
        let last = s.find_next(None, &cart, Direction::Backward, &everything).expect("found");
        assert_eq!(last.key, second.key);
        // Search respects the filter, and a lone match is found from itself.
        let web_only =
            Filter { sources: Some(HashSet::from([SourceId::new("db")])), ..Filter::default() };
        assert_eq!(s.find_next(None, &cart, Direction::Forward, &web_only), None);
        let deadlock = re("deadlock");
        let hit = s.find_next(None, &deadlock, Direction::Forward, &web_only).expect("found");
        let again = s.find_next(Some(hit.key), &deadlock, Direction::Forward, &web_only);
        assert_eq!(again.map(|h| (h.key, h.wrapped)), Some((hit.key, true)));
    }

    #[test]
    fn view_search_goes_next_and_previous_with_wrap() {
        let s = sample();
        let mut view = FilteredView::new(Filter { exclude: vec![re("LOG")], ..Filter::default() });
        view.refresh(&s);
        // Shown: 0 health, 1 cart 500, 2 deadlock, 3 slow cart, 4 health.
        let health = re("health");
        let hit = |from, dir| view.find_next(&s, from, &health, dir).map(|h| (h.index, h.wrapped));
        assert_eq!(hit(None, Direction::Forward), Some((0, false)));
        assert_eq!(hit(Some(0), Direction::Forward), Some((4, false)));
        assert_eq!(hit(Some(4), Direction::Forward), Some((0, true)));
        assert_eq!(hit(None, Direction::Backward), Some((4, false)));
        assert_eq!(hit(Some(4), Direction::Backward), Some((0, false)));
        assert_eq!(hit(Some(0), Direction::Backward), Some((4, true)));
        assert_eq!(hit(Some(2), Direction::Forward), Some((4, false)));
        let ranges = view.find_next(&s, None, &re("e"), Direction::Forward).map(|h| h.ranges);
        assert_eq!(ranges, Some(vec![6..7, 11..12]));
        assert_eq!(view.find_next(&s, None, &re("nowhere"), Direction::Forward), None);
        let key = view.key(3).expect("shown");
        assert_eq!(view.index_of(key), Ok(3));
    }

    #[test]
    fn match_ranges_skip_empty_matches() {
        assert_eq!(match_ranges("aXbXc", &re("x")), [1..2, 3..4]);
        assert!(match_ranges("abc", &re("z*")).is_empty());
    }
}
