//! Container inspects that never hold up anything else. An engine busy removing a
//! batch of containers can leave `GET /containers/{id}/json` of one of them hanging
//! for minutes while every other call answers at once; waiting on it in line would
//! blank the whole engine. Inspects here run [`IN_FLIGHT`] at a time (a remote engine
//! over ssh opens a session per request, and sshd allows ten), each with its own
//! timeout from the moment it is sent; a late one is retried with a growing pause for
//! as long as the container is wanted, and only the newest inspect of a container
//! counts.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::InspectContainerOptions;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;

use super::error::EngineError;
use super::{convert, proxy_files};
use crate::model::Container;
use crate::model::container::ProxyConfig;

/// How long one inspect (with a proxy's configuration files) may take once sent.
pub const INSPECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Inspects sent at once; the rest wait their turn.
pub const IN_FLIGHT: usize = 8;
/// The first pause before a late or failed inspect is asked again; it doubles.
const FIRST_RETRY: Duration = Duration::from_secs(2);
const MAX_RETRY: Duration = Duration::from_secs(30);

/// How a proxy's configuration files are had with the inspect.
#[derive(Debug, Clone)]
pub enum ProxyFiles {
    /// Read them again through the engine.
    Read,
    /// Carry over what was read before (a health probe changes nothing there).
    Keep(Arc<ProxyConfig>),
}

pub enum Outcome {
    Found(Box<Container>),
    /// The engine says it no longer exists.
    Gone,
    /// No answer within [`INSPECT_TIMEOUT`]; it is asked again.
    Late,
    /// The engine answered with an error; it is asked again.
    Failed(EngineError),
}

pub struct Inspected {
    pub id: String,
    generation: u64,
    pub outcome: Outcome,
}

struct Wanted {
    generation: u64,
    /// Consecutive late or failed answers: the next pause grows with them.
    misses: u32,
}

/// An inspect waiting for a free slot.
struct Queued {
    id: String,
    generation: u64,
    proxy: ProxyFiles,
}

/// What the futures in flight come back with: an inspect's answer, or the end of a
/// retry's pause (it then waits for a slot like any other).
enum Step {
    Answered(Inspected),
    Due(Queued),
}

/// The inspects of one session: queued, paused before a retry, or in flight.
pub struct Inspections {
    docker: Docker,
    running: FuturesUnordered<BoxFuture<'static, Step>>,
    queue: VecDeque<Queued>,
    /// Inspects sent and not answered (the rest of `running` are pauses).
    in_flight: usize,
    /// At most this many at once: [`IN_FLIGHT`], or fewer on a transport with few
    /// channels.
    limit: usize,
    wanted: HashMap<String, Wanted>,
    next_generation: u64,
}

impl Inspections {
    pub fn new(docker: Docker, limit: usize) -> Inspections {
        Inspections {
            docker,
            running: FuturesUnordered::new(),
            queue: VecDeque::new(),
            in_flight: 0,
            limit: limit.clamp(1, IN_FLIGHT),
            wanted: HashMap::new(),
            next_generation: 0,
        }
    }

    /// Inspects `id` as soon as a slot is free; an inspect of it already under way no
    /// longer counts.
    pub fn start(&mut self, id: &str, proxy: ProxyFiles) {
        self.launch(id, proxy, Duration::ZERO, 0);
    }

    /// Asks again after a late or failed answer, after a pause that grows with each
    /// miss. Returns the number of misses in a row so far.
    pub fn retry(&mut self, id: &str) -> u32 {
        let misses = self.wanted.get(id).map_or(0, |w| w.misses).saturating_add(1);
        let pause = FIRST_RETRY.saturating_mul(1 << (misses - 1).min(5)).min(MAX_RETRY);
        self.launch(id, ProxyFiles::Read, pause, misses);
        misses
    }

    /// Stops wanting `id`: an answer still in flight is dropped when it comes.
    pub fn cancel(&mut self, id: &str) {
        self.wanted.remove(id);
    }

    /// Containers whose inspect has not answered yet.
    pub fn pending(&self) -> usize {
        self.wanted.len()
    }

    pub fn is_idle(&self) -> bool {
        self.running.is_empty() && self.queue.is_empty()
    }

    /// The next answer that still counts; `None` when nothing is under way.
    pub async fn next(&mut self) -> Option<Inspected> {
        loop {
            self.send_queued();
            match self.running.next().await? {
                Step::Due(queued) => self.queue.push_back(queued),
                Step::Answered(done) => {
                    self.in_flight = self.in_flight.saturating_sub(1);
                    let current =
                        self.wanted.get(&done.id).is_some_and(|w| w.generation == done.generation);
                    if !current {
                        continue;
                    }
                    if matches!(done.outcome, Outcome::Found(_) | Outcome::Gone) {
                        self.wanted.remove(&done.id);
                    }
                    self.send_queued();
                    return Some(done);
                }
            }
        }
    }

    fn launch(&mut self, id: &str, proxy: ProxyFiles, pause: Duration, misses: u32) {
        self.next_generation += 1;
        let generation = self.next_generation;
        self.wanted.insert(id.to_string(), Wanted { generation, misses });
        let queued = Queued { id: id.to_string(), generation, proxy };
        if pause.is_zero() {
            self.queue.push_back(queued);
        } else {
            self.running.push(Box::pin(async move {
                tokio::time::sleep(pause).await;
                Step::Due(queued)
            }));
        }
    }

    /// Sends queued inspects while slots are free; those no longer wanted are dropped.
    fn send_queued(&mut self) {
        while self.in_flight < self.limit {
            let Some(Queued { id, generation, proxy }) = self.queue.pop_front() else { return };
            if self.wanted.get(&id).is_none_or(|w| w.generation != generation) {
                continue;
            }
            self.in_flight += 1;
            let docker = self.docker.clone();
            self.running.push(Box::pin(async move {
                let sent = inspect(&docker, &id, proxy);
                let outcome = match tokio::time::timeout(INSPECT_TIMEOUT, sent).await {
                    Err(_) => Outcome::Late,
                    Ok(Ok(Some(container))) => Outcome::Found(Box::new(container)),
                    Ok(Ok(None)) => Outcome::Gone,
                    Ok(Err(error)) => Outcome::Failed(error),
                };
                Step::Answered(Inspected { id, generation, outcome })
            }));
        }
    }
}

/// Inspects one container with its proxy configuration: `Ok(None)` when it no longer
/// exists.
async fn inspect(
    docker: &Docker,
    id: &str,
    proxy: ProxyFiles,
) -> Result<Option<Container>, EngineError> {
    let mut container = match docker.inspect_container(id, None::<InspectContainerOptions>).await {
        Ok(response) => convert::container(response),
        // A value newer than bollard's models costs that value, not the container.
        Err(bollard::errors::Error::JsonDataError { contents, message, column }) => {
            match convert::inspect_leniently(&contents) {
                Some(response) => {
                    tracing::warn!(%id, %message, "the inspect did not decode whole; read leniently");
                    convert::container(response)
                }
                None => {
                    let error = bollard::errors::Error::JsonDataError { contents, message, column };
                    return Err(EngineError::from(error));
                }
            }
        }
        Err(error) => {
            let error = EngineError::from(error);
            return if error.is_not_found() { Ok(None) } else { Err(error) };
        }
    };
    container.proxy_config = match proxy {
        ProxyFiles::Keep(config) => Some(config),
        ProxyFiles::Read => proxy_files::read(docker, &container).await.map(Arc::new),
    };
    Ok(Some(container))
}
