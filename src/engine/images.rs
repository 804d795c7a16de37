//! Images, and the operator's operations on images, volumes and networks: the image
//! list read once per session, one image read again after an image event, an
//! image's layers (its history) when the Images pane asks, removals and pulls. Each
//! operation runs in a task of its own so the event stream keeps flowing; how it
//! goes leaves as [`Update::ResourceNote`]s, and what it changed comes back through
//! the engine's own events.

use std::time::Duration;

use bollard::Docker;
use chrono::Utc;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::convert;
use super::error::EngineError;
use crate::model::Update;
use crate::model::images::{
    Image, ImageHistory, ResourceKind, ResourceNote, pull_failure_in_words, refusal_in_words,
};

/// How long the image list may take before the session goes on without it.
pub const LIST_WAIT: Duration = Duration::from_secs(10);
/// How long one image's inspect or history may take.
const READ_WAIT: Duration = Duration::from_secs(10);
/// How often a pull's progress reaches the pane at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// What the Images, Volumes and Networks panes ask of an engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceRequest {
    /// Read an image's layers.
    History {
        id: String,
    },
    /// Remove these images (id, what the operator calls it), one after the other;
    /// `force` removes images containers still use.
    RemoveImages {
        targets: Vec<(String, String)>,
        force: bool,
    },
    /// Pull an image by reference (`repo:tag`).
    Pull {
        reference: String,
    },
    RemoveVolumes {
        names: Vec<String>,
    },
    RemoveNetworks {
        names: Vec<String>,
    },
}

/// Every image of the engine.
pub async fn list(docker: &Docker) -> Result<Vec<Image>, EngineError> {
    let options = bollard::query_parameters::ListImagesOptions::default();
    match tokio::time::timeout(LIST_WAIT, docker.list_images(Some(options))).await {
        Err(_) => Err(EngineError::TimedOut.during("list images")),
        Ok(Err(error)) => Err(EngineError::from(error).during("list images")),
        Ok(Ok(list)) => Ok(list.into_iter().map(convert::image_summary).collect()),
    }
}

/// One image by id or reference; `None` when the engine no longer has it.
pub async fn read(docker: &Docker, reference: &str) -> Result<Option<Image>, EngineError> {
    match tokio::time::timeout(READ_WAIT, docker.inspect_image(reference)).await {
        Err(_) => Err(EngineError::TimedOut.during(format!("inspect image {reference}"))),
        Ok(Ok(image)) => Ok(Some(convert::image_inspect(image))),
        Ok(Err(error)) => {
            let error = EngineError::from(error);
            if error.is_not_found() {
                Ok(None)
            } else {
                Err(error.during(format!("inspect image {reference}")))
            }
        }
    }
}

/// The engine's own words of a failed call: its message when it answered.
fn engine_words(error: bollard::errors::Error) -> String {
    match EngineError::from(error) {
        EngineError::Answered { message, .. } => message,
        other => other.to_string(),
    }
}

fn note(kind: ResourceKind, text: String, running: bool, error: bool) -> Update {
    Update::ResourceNote(Box::new(ResourceNote { at: Utc::now(), kind, text, running, error }))
}

/// Carries out one request, reporting as it goes.
pub async fn run(docker: Docker, request: ResourceRequest, updates: mpsc::Sender<Update>) {
    match request {
        ResourceRequest::History { id } => {
            let answer = tokio::time::timeout(READ_WAIT, docker.image_history(&id)).await;
            let result = match answer {
                Err(_) => Err("the engine did not answer within 10 s".to_string()),
                Ok(Err(error)) => Err(EngineError::from(error).to_string()),
                Ok(Ok(items)) => Ok(items.into_iter().map(convert::layer).collect()),
            };
            let history = ImageHistory { id, at: Utc::now(), result };
            let _ = updates.send(Update::ImageHistory(Box::new(history))).await;
        }
        ResourceRequest::RemoveImages { targets, force } => {
            remove_images(&docker, targets, force, &updates).await;
        }
        ResourceRequest::Pull { reference } => pull(&docker, &reference, &updates).await,
        ResourceRequest::RemoveVolumes { names } => {
            let mut done = Vec::new();
            for name in names {
                let options = bollard::query_parameters::RemoveVolumeOptions { force: false };
                match docker.remove_volume(&name, Some(options)).await {
                    Ok(()) => done.push(name),
                    Err(error) => {
                        let text =
                            refusal_in_words(ResourceKind::Volume, &name, &engine_words(error));
                        let _ = updates.send(note(ResourceKind::Volume, text, false, true)).await;
                        return;
                    }
                }
            }
            let text = format!("removed volume{} {}", plural(done.len()), done.join(", "));
            let _ = updates.send(note(ResourceKind::Volume, text, false, false)).await;
        }
        ResourceRequest::RemoveNetworks { names } => {
            let mut done = Vec::new();
            for name in names {
                match docker.remove_network(&name).await {
                    Ok(()) => done.push(name),
                    Err(error) => {
                        let text =
                            refusal_in_words(ResourceKind::Network, &name, &engine_words(error));
                        let _ = updates.send(note(ResourceKind::Network, text, false, true)).await;
                        return;
                    }
                }
            }
            let text = format!("removed network{} {}", plural(done.len()), done.join(", "));
            let _ = updates.send(note(ResourceKind::Network, text, false, false)).await;
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

async fn remove_images(
    docker: &Docker,
    targets: Vec<(String, String)>,
    force: bool,
    updates: &mpsc::Sender<Update>,
) {
    let mut done = Vec::new();
    let count = targets.len();
    for (id, label) in targets {
        let progress = format!("removing image {label}…");
        let _ = updates.send(note(ResourceKind::Image, progress, true, false)).await;
        let options = bollard::query_parameters::RemoveImageOptions {
            force,
            noprune: false,
            platforms: None,
        };
        match docker.remove_image(&id, Some(options), None).await {
            Ok(_) => done.push(label),
            Err(error) => {
                let mut text = refusal_in_words(ResourceKind::Image, &label, &engine_words(error));
                if !done.is_empty() {
                    text = format!("removed {}; {text}", done.join(", "));
                }
                let _ = updates.send(note(ResourceKind::Image, text, false, true)).await;
                return;
            }
        }
    }
    let text = format!("removed {} image{}: {}", count, plural(count), done.join(", "));
    let _ = updates.send(note(ResourceKind::Image, text, false, false)).await;
}

/// Pulls `reference`, its progress streamed into notes a few times a second.
pub async fn pull(docker: &Docker, reference: &str, updates: &mpsc::Sender<Update>) {
    let (repo, tag) = crate::model::images::split_reference(reference);
    let options = bollard::query_parameters::CreateImageOptions {
        from_image: Some(repo.to_string()),
        tag: Some(tag.to_string()),
        ..Default::default()
    };
    let started = format!("pulling {reference}…");
    let _ = updates.send(note(ResourceKind::Image, started, true, false)).await;
    let mut stream = Box::pin(docker.create_image(Some(options), None, None));
    let mut last_sent = tokio::time::Instant::now();
    let mut layers = std::collections::BTreeSet::new();
    while let Some(item) = stream.next().await {
        match item {
            Err(error) => {
                let text = pull_failure_in_words(reference, &engine_words(error));
                let _ = updates.send(note(ResourceKind::Image, text, false, true)).await;
                return;
            }
            Ok(info) => {
                if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                    let text = pull_failure_in_words(reference, &detail);
                    let _ = updates.send(note(ResourceKind::Image, text, false, true)).await;
                    return;
                }
                if let Some(id) = &info.id {
                    layers.insert(id.clone());
                }
                if last_sent.elapsed() >= PROGRESS_EVERY {
                    last_sent = tokio::time::Instant::now();
                    let status = info.status.unwrap_or_default();
                    let progress = info
                        .progress_detail
                        .and_then(|p| Some((p.current?, p.total?)))
                        .filter(|(_, total)| *total > 0)
                        .map(|(current, total)| {
                            let (current, total) = (
                                u64::try_from(current).unwrap_or(0),
                                u64::try_from(total).unwrap_or(0),
                            );
                            format!(
                                " {} / {}",
                                crate::model::format::bytes(current),
                                crate::model::format::bytes(total)
                            )
                        })
                        .unwrap_or_default();
                    let text = format!(
                        "pulling {reference}: {status}{progress} ({} layer{})",
                        layers.len(),
                        plural(layers.len())
                    );
                    let _ = updates.send(note(ResourceKind::Image, text, true, false)).await;
                }
            }
        }
    }
    let text = format!("pulled {reference}");
    let _ = updates.send(note(ResourceKind::Image, text, false, false)).await;
}

/// The answer to a request an engine that is not connected cannot carry out.
pub fn unanswered(request: ResourceRequest) -> Update {
    let why = "the engine is not connected";
    match request {
        ResourceRequest::History { id } => Update::ImageHistory(Box::new(ImageHistory {
            id,
            at: Utc::now(),
            result: Err(why.to_string()),
        })),
        ResourceRequest::RemoveImages { .. } | ResourceRequest::Pull { .. } => {
            note(ResourceKind::Image, format!("not done: {why}"), false, true)
        }
        ResourceRequest::RemoveVolumes { .. } => {
            note(ResourceKind::Volume, format!("not done: {why}"), false, true)
        }
        ResourceRequest::RemoveNetworks { .. } => {
            note(ResourceKind::Network, format!("not done: {why}"), false, true)
        }
    }
}
