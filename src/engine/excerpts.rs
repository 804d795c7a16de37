//! Log excerpts around incidents, for the record: the last lines a container wrote
//! before it died, was OOM-killed or turned unhealthy, and the first it wrote after.
//! The engine keeps a container's log until the container is removed, so the lines
//! before are read at once (a `--rm` container may already be gone: then there are
//! none) and the lines after once the window has passed. Nothing is followed in
//! between: an idle host costs nothing.

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::model::{Excerpt, Update};

/// Lines kept from before an incident.
pub const BEFORE: usize = 200;
/// Lines kept from after it.
pub const AFTER: usize = 50;
/// How long after the incident its "after" lines are read.
const AFTER_WINDOW: Duration = Duration::from_secs(10);
/// One excerpt per container per this long: a crash loop dies every few seconds,
/// and the first death of a run of them says what the next ones would.
const PER_CONTAINER: chrono::Duration = chrono::Duration::seconds(60);
/// The longest line kept.
const LINE_MAX: usize = 2000;
/// How long one read may take.
const READ_LIMIT: Duration = Duration::from_secs(5);

/// Takes excerpts, each on a task of its own, cancelled with the session.
pub struct ExcerptTaker {
    docker: Docker,
    updates: mpsc::Sender<Update>,
    cancel: CancellationToken,
    /// Behind a lock because the supervisor shares its session immutably.
    last_taken: std::sync::Mutex<HashMap<String, DateTime<Utc>>>,
}

impl ExcerptTaker {
    pub fn new(docker: Docker, updates: mpsc::Sender<Update>, cancel: CancellationToken) -> Self {
        ExcerptTaker { docker, updates, cancel, last_taken: std::sync::Mutex::default() }
    }

    /// An incident (`reason`: `die`, `oom`, `unhealthy`) happened to container `id`.
    pub fn take(&self, id: &str, name: &str, at: DateTime<Utc>, reason: &str) {
        {
            let Ok(mut last_taken) = self.last_taken.lock() else { return };
            if last_taken.get(id).is_some_and(|last| at - *last < PER_CONTAINER) {
                return;
            }
            last_taken.insert(id.to_string(), at);
            if last_taken.len() > 10_000 {
                let cutoff = at - PER_CONTAINER;
                last_taken.retain(|_, last| *last >= cutoff);
            }
        }
        let docker = self.docker.clone();
        let updates = self.updates.clone();
        let cancel = self.cancel.clone();
        let (id, name, reason) = (id.to_string(), name.to_string(), reason.to_string());
        tokio::spawn(async move {
            let before = read(&docker, &id, None, Some(at), BEFORE).await.unwrap_or_default();
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(AFTER_WINDOW) => {}
            }
            let after = read(&docker, &id, Some(at), None, AFTER).await.unwrap_or_default();
            if before.is_empty() && after.is_empty() {
                return;
            }
            let excerpt = Excerpt { id, name, at, reason, before, after };
            let _ = updates.send(Update::Excerpt(Box::new(excerpt))).await;
        });
    }
}

/// Up to `limit` lines: the last ones before `until`, or the first ones after `since`.
async fn read(
    docker: &Docker,
    id: &str,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    limit: usize,
) -> Option<Vec<String>> {
    let options = bollard::query_parameters::LogsOptions {
        stdout: true,
        stderr: true,
        // The engine's tail counts from the end of what it returns.
        tail: if until.is_some() { limit.to_string() } else { "all".to_string() },
        since: since.map_or(0, |s| i32::try_from(s.timestamp()).unwrap_or(0)),
        until: until.map_or(0, |u| i32::try_from(u.timestamp() + 1).unwrap_or(0)),
        ..Default::default()
    };
    let read = async {
        let mut stream = Box::pin(docker.logs(id, Some(options)));
        let mut lines = Vec::new();
        while let Some(Ok(chunk)) = stream.next().await {
            let text = String::from_utf8_lossy(chunk.as_ref()).into_owned();
            for line in text.lines() {
                lines.push(cut(line));
                if since.is_some() && lines.len() >= limit {
                    return lines;
                }
            }
        }
        if lines.len() > limit {
            lines.drain(..lines.len() - limit);
        }
        lines
    };
    tokio::time::timeout(READ_LIMIT, read).await.ok()
}

fn cut(line: &str) -> String {
    let line = line.trim_end();
    if line.len() <= LINE_MAX {
        return line.to_string();
    }
    let mut end = LINE_MAX;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}
