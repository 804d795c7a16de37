//! The last thing a container said before it failed: often the cause, so triage and
//! the detail show it. Read once for every failed container when a session starts,
//! and after each failing exit by a reader task of its own, so that a slow log read
//! never holds up the event loop.

use std::collections::VecDeque;
use std::time::Duration;

use bollard::Docker;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::model::Update;

/// The longest last line kept; the rest of a huge line is not the cause.
const LAST_LINE_MAX: usize = 500;

/// The last non-empty line a container wrote (stdout or stderr), if it can be read
/// within two seconds.
pub async fn read(docker: &Docker, id: &str) -> Option<String> {
    let options = bollard::query_parameters::LogsOptions {
        stdout: true,
        stderr: true,
        tail: "5".to_string(),
        ..Default::default()
    };
    let read = async {
        let mut stream = Box::pin(docker.logs(id, Some(options)));
        let mut last = None;
        while let Some(Ok(chunk)) = stream.next().await {
            let text = String::from_utf8_lossy(chunk.as_ref()).into_owned();
            for line in text.lines() {
                if !line.trim().is_empty() {
                    last = Some(line.to_string());
                }
            }
        }
        last
    };
    let line = tokio::time::timeout(Duration::from_secs(2), read).await.ok().flatten()?;
    let mut line = line.trim_end().to_string();
    if line.len() > LAST_LINE_MAX {
        let mut cut = LAST_LINE_MAX;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    Some(line)
}

/// Reads last lines one after the other, in the order the exits happened, so a
/// container that fails twice in a row ends with its newest line.
pub struct LastLineReader {
    requests: mpsc::UnboundedSender<String>,
}

impl LastLineReader {
    /// Starts the reader; it ends with `cancel` or when `updates` has no receiver.
    pub fn spawn(
        docker: Docker,
        updates: mpsc::Sender<Update>,
        cancel: CancellationToken,
    ) -> (LastLineReader, JoinHandle<()>) {
        let (requests, mut pending) = mpsc::unbounded_channel::<String>();
        let task = tokio::spawn(async move {
            // A crash loop asks again before the last read ends: one read that starts
            // later sees the newest line anyway, so a container waits in line once.
            let mut queue: VecDeque<String> = VecDeque::new();
            loop {
                if queue.is_empty() {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        id = pending.recv() => match id {
                            Some(id) => queue.push_back(id),
                            None => return,
                        },
                    }
                }
                while let Ok(id) = pending.try_recv() {
                    if !queue.contains(&id) {
                        queue.push_back(id);
                    }
                }
                let Some(id) = queue.pop_front() else { continue };
                let line = tokio::select! {
                    _ = cancel.cancelled() => return,
                    line = read(&docker, &id) => line,
                };
                if let Some(line) = line
                    && updates.send(Update::LastLogLine { id, line }).await.is_err()
                {
                    return;
                }
            }
        });
        (LastLineReader { requests }, task)
    }

    /// Asks for the last line of container `id`; the answer arrives as an update.
    pub fn request(&self, id: String) {
        let _ = self.requests.send(id);
    }
}
