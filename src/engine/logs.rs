//! Log followers: one stream per followed container, opened from a bounded tail (never
//! the whole history), timestamps on, stdout and stderr apart. Lines leave in owned
//! batches; a full channel slows the stream down instead of growing memory here.
//!
//! Which containers are followed is the operator's [`LogTarget`]; the supervisor asks
//! [`LogFollowers::sync`] after every change, so a restarted container is picked up
//! again from where its last line left off, and a re-created one (new id, same name
//! or compose service) joins the view.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::model::logs::{Candidate, LogTarget, Stream};
use crate::model::{Container, LogBatch, RawLogLine, Update};

/// What the operator asked to follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    pub target: LogTarget,
    /// Lines of history to start from, per container.
    pub tail: u32,
    /// Or: everything since this moment (then `tail` does not apply).
    pub since: Option<DateTime<Utc>>,
    /// With several engines: only these follow it (a selected container's name may be
    /// another container's on another engine). `None`: every engine.
    pub hosts: Option<std::collections::BTreeSet<crate::model::HostId>>,
}

/// A batch leaves after this many lines or this long, whichever comes first.
const BATCH_LINES: usize = 2048;
/// And after this many bytes: the engine→UI channel holds up to 256 updates, which
/// lie outside the log budget until applied, so a batch's size bounds that backlog
/// (256 × 64 KiB = 16 MiB at most, one 1 MB line aside).
const BATCH_BYTES: usize = 64 << 10;
const BATCH_AGE: Duration = Duration::from_millis(50);

struct Follower {
    cancel: CancellationToken,
    /// The container's main process start this stream belongs to: a restart needs a
    /// new stream.
    started_at: Option<DateTime<Utc>>,
    /// Shared with every stream this container has had, so a new run's stream takes up
    /// exactly after the last line shown.
    seen: LastSeen,
}

/// Per stream (stdout, stderr, console), the engine timestamp (ns) of the newest line
/// of one container that went out.
///
/// Why not the run's `StartedAt`: the engine sets it after the process already runs,
/// so a first line can carry an earlier time than its own run's start. Lines are
/// only let through when they are newer than this mark, which also keeps an old
/// stream that is still draining and its successor from delivering a line twice.
/// Per stream because the engine stamps stdout and stderr in separate readers: only
/// within one stream are the times in file order.
#[derive(Clone)]
struct LastSeen(Arc<[AtomicI64; 3]>);

impl LastSeen {
    const NONE: i64 = i64::MIN;

    fn new(floor: Option<DateTime<Utc>>) -> Self {
        let mark = floor.and_then(|t| t.timestamp_nanos_opt()).map_or(Self::NONE, |n| n - 1);
        Self(Arc::new([AtomicI64::new(mark), AtomicI64::new(mark), AtomicI64::new(mark)]))
    }

    /// The oldest of the streams' marks: a new stream starting there misses nothing.
    fn resume_from(&self) -> Option<DateTime<Utc>> {
        self.0
            .iter()
            .map(|mark| mark.load(Ordering::Acquire))
            .filter(|mark| *mark != Self::NONE)
            .min()
            .map(DateTime::from_timestamp_nanos)
    }

    /// True when `timestamp` is newer than every line of `stream` let through so far
    /// (and marks it).
    fn admit(&self, stream: Stream, timestamp: Option<DateTime<Utc>>) -> bool {
        let Some(nanos) = timestamp.and_then(|t| t.timestamp_nanos_opt()) else { return true };
        self.0[stream as usize].fetch_max(nanos, Ordering::AcqRel) < nanos
    }
}

/// The running followers and what they follow.
#[derive(Default)]
pub struct LogFollowers {
    request: Option<LogRequest>,
    followers: HashMap<String, Follower>,
}

impl LogFollowers {
    pub fn set_request(&mut self, request: Option<LogRequest>) {
        if self.request != request {
            self.stop_all();
        }
        self.request = request;
    }

    pub fn stop_all(&mut self) {
        for (_, follower) in self.followers.drain() {
            follower.cancel.cancel();
        }
    }

    /// Starts and stops streams so that exactly the target's members are followed.
    pub fn sync<'a>(
        &mut self,
        docker: &Docker,
        containers: impl IntoIterator<Item = &'a Container>,
        updates: &mpsc::Sender<Update>,
        parent: &CancellationToken,
    ) {
        let Some(request) = self.request.clone() else {
            self.stop_all();
            return;
        };
        let containers: Vec<&Container> = containers.into_iter().collect();
        let members: BTreeSet<&str> = request
            .target
            .members(containers.iter().map(|c| Candidate::from(*c)))
            .into_iter()
            .collect();
        self.followers.retain(|id, follower| {
            let keep = members.contains(id.as_str()) && !follower.cancel.is_cancelled();
            if !keep {
                follower.cancel.cancel();
            }
            keep
        });
        for c in containers {
            if !members.contains(c.id.as_str()) {
                continue;
            }
            // A new run of a container already followed continues from its start, not
            // from the tail again: nothing twice, nothing lost.
            let (since, seen) = match self.followers.get(&c.id) {
                Some(existing) if existing.started_at == c.started_at => continue,
                Some(existing) => {
                    existing.cancel.cancel();
                    // Nothing shown yet: the previous run's start bounds what is new.
                    let since =
                        existing.seen.resume_from().or(existing.started_at).or(c.started_at);
                    (since, existing.seen.clone())
                }
                None => (request.since, LastSeen::new(request.since)),
            };
            let cancel = parent.child_token();
            tokio::spawn(follow(
                docker.clone(),
                c.id.clone(),
                Start { tail: request.tail, since },
                c.state.is_running(),
                updates.clone(),
                seen.clone(),
                cancel.clone(),
            ));
            let follower = Follower { cancel, started_at: c.started_at, seen };
            self.followers.insert(c.id.clone(), follower);
        }
    }
}

/// Splits Docker's `2024-05-01T10:00:00.123456789Z message` into time and bytes.
pub fn split_timestamp(line: &[u8]) -> (Option<DateTime<Utc>>, &[u8]) {
    let Some(space) = line.iter().position(|b| *b == b' ') else { return (None, line) };
    if !(20..=40).contains(&space) {
        return (None, line);
    }
    let parsed = std::str::from_utf8(&line[..space])
        .ok()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    match parsed {
        Some(t) => (Some(t), &line[space + 1..]),
        None => (None, line),
    }
}

/// Where a stream starts: the last `tail` lines, or everything since a moment.
struct Start {
    tail: u32,
    since: Option<DateTime<Utc>>,
}

/// Follows one container until it stops, the stream ends or the follower is cancelled.
async fn follow(
    docker: Docker,
    id: String,
    start: Start,
    running: bool,
    updates: mpsc::Sender<Update>,
    seen: LastSeen,
    cancel: CancellationToken,
) {
    let mut options = LogsOptions {
        follow: running,
        stdout: true,
        stderr: true,
        timestamps: true,
        tail: start.tail.to_string(),
        ..Default::default()
    };
    if let Some(since) = start.since {
        // The API takes whole seconds: lines of that second already shown are
        // filtered out by `seen`.
        options.since = i32::try_from(since.timestamp()).unwrap_or(0);
        options.tail = "all".to_string();
    }
    let mut stream = Box::pin(docker.logs(&id, Some(options)));
    let mut batch = Batch::default();
    let mut oldest = Instant::now();
    // A frame may end in the middle of a line (Docker splits lines over 16 KiB): keep
    // the rest until its newline arrives.
    let mut partial: [Vec<u8>; 3] = Default::default();
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            next = stream.next() => next,
            _ = tokio::time::sleep(BATCH_AGE), if !batch.lines.is_empty() => {
                if !batch.send(&updates, &id).await {
                    return;
                }
                continue;
            }
        };
        let (kind, bytes) = match next {
            Some(Ok(LogOutput::StdOut { message })) => (Stream::Stdout, message),
            Some(Ok(LogOutput::StdErr { message })) => (Stream::Stderr, message),
            Some(Ok(LogOutput::Console { message })) => (Stream::Console, message),
            Some(Ok(LogOutput::StdIn { .. })) => continue,
            Some(Err(error)) => {
                tracing::debug!(%id, %error, "log stream ended with an error");
                break;
            }
            None => break,
        };
        if batch.lines.is_empty() {
            oldest = Instant::now();
        }
        let pending = &mut partial[kind as usize];
        let mut rest: &[u8] = &bytes;
        // The common case, a frame of whole lines, is taken without copying twice.
        if !pending.is_empty() {
            // The engine cuts lines over 16 KiB into messages that each carry the
            // line's timestamp again.
            if let (Some(_), text) = split_timestamp(rest) {
                rest = text;
            }
            match rest.iter().position(|b| *b == b'\n') {
                Some(end) => {
                    pending.extend_from_slice(&rest[..end]);
                    let line = std::mem::take(pending);
                    batch.push(kind, &line, &seen);
                    rest = &rest[end + 1..];
                }
                None => {
                    pending.extend_from_slice(rest);
                    rest = &[];
                }
            }
        }
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            batch.push(kind, &rest[..end], &seen);
            rest = &rest[end + 1..];
        }
        pending.extend_from_slice(rest);
        // A line with no newline for a long time (or a huge one) still gets shown.
        if pending.len() > 1 << 20 {
            let line = std::mem::take(pending);
            batch.push(kind, &line, &seen);
        }
        if (batch.lines.len() >= BATCH_LINES
            || batch.data.len() >= BATCH_BYTES
            || oldest.elapsed() >= BATCH_AGE)
            && !batch.send(&updates, &id).await
        {
            return;
        }
    }
    for (index, rest) in partial.iter().enumerate() {
        if !rest.is_empty() {
            let kind = [Stream::Stdout, Stream::Stderr, Stream::Console][index];
            batch.push(kind, rest, &seen);
        }
    }
    let _ = batch.send(&updates, &id).await;
}

#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    lines: Vec<RawLogLine>,
}

impl Batch {
    fn push(&mut self, stream: Stream, line: &[u8], seen: &LastSeen) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let (timestamp, text) = split_timestamp(line);
        if !seen.admit(stream, timestamp) {
            return;
        }
        let start = self.data.len();
        self.data.extend_from_slice(text);
        self.lines.push(RawLogLine { stream, timestamp, start, end: self.data.len() });
    }

    async fn send(&mut self, updates: &mpsc::Sender<Update>, id: &str) -> bool {
        if self.lines.is_empty() {
            return true;
        }
        let batch = LogBatch {
            id: id.to_string(),
            received: Instant::now(),
            data: std::mem::take(&mut self.data),
            lines: std::mem::take(&mut self.lines),
        };
        updates.send(Update::Logs(Box::new(batch))).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_split_off() {
        let (t, text) = split_timestamp(b"2024-05-01T10:00:00.123456789Z hello world");
        assert_eq!(text, b"hello world");
        assert_eq!(t.map(|t| t.timestamp_subsec_nanos()), Some(123_456_789));
        let (t, text) = split_timestamp(b"no timestamp here at all");
        assert!(t.is_none());
        assert_eq!(text, b"no timestamp here at all");
        let (t, _) = split_timestamp(b"");
        assert!(t.is_none());
    }

    fn at(text: &str) -> Option<DateTime<Utc>> {
        split_timestamp(format!("{text} x").as_bytes()).0
    }

    #[test]
    fn a_line_goes_out_once_even_when_two_streams_overlap() {
        let seen = LastSeen::new(None);
        let out = Stream::Stdout;
        assert!(seen.admit(out, at("2024-05-01T10:00:00.000000001Z")));
        assert!(!seen.admit(out, at("2024-05-01T10:00:00.000000001Z")), "the same line again");
        assert!(!seen.admit(out, at("2024-05-01T09:59:59Z")), "older than what went out");
        assert!(seen.admit(out, at("2024-05-01T10:00:00.5Z")));
        assert!(seen.admit(out, None), "lines without a time cannot be told apart");
        assert_eq!(seen.resume_from(), at("2024-05-01T10:00:00.5Z"));
    }

    #[test]
    fn stderr_is_ordered_apart_from_stdout() {
        let seen = LastSeen::new(None);
        assert!(seen.admit(Stream::Stdout, at("2024-05-01T10:00:00.2Z")));
        assert!(
            seen.admit(Stream::Stderr, at("2024-05-01T10:00:00.1Z")),
            "stamped by another reader"
        );
        assert_eq!(seen.resume_from(), at("2024-05-01T10:00:00.1Z"));
    }

    #[test]
    fn since_lets_through_its_own_moment_and_later() {
        let since = at("2024-05-01T10:00:00Z");
        let seen = LastSeen::new(since);
        assert!(!seen.admit(Stream::Stdout, at("2024-05-01T09:59:59.999Z")));
        assert!(seen.admit(Stream::Stdout, since));
    }
}
