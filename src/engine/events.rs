//! What one engine event means, worked out without touching the engine: the line it
//! adds to the timeline, what must be read again or forgotten, and whether the swarm
//! moved. The supervisor carries a [`Reaction`] out; keeping the judgement here, pure,
//! lets every rule be tested on plain data.

use std::collections::HashMap;
use std::collections::HashSet;

use bollard::models::{EventMessage, EventMessageTypeEnum};
use chrono::{DateTime, Utc};

use crate::model::ContainerEvent;
use crate::model::compose;
use crate::model::format::short_id;

/// Whether a re-inspect reads a proxy's configuration again or carries it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyRead {
    /// The proxy (re)started or reloaded: what it runs with may have changed.
    Fresh,
    /// A health probe or another change that leaves the configuration as it was.
    Keep,
}

/// What an `oom` event, or the end of the run it belonged to, says of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OomMark {
    /// The kernel killed a process of its current run for memory.
    Seen,
    /// A new run began, or the container is gone: forget any earlier kill.
    Cleared,
}

/// One thing the supervisor must do with the engine, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Inspect the container again and send what it is now.
    Container {
        id: String,
        proxy: ProxyRead,
    },
    /// Inspect the network again.
    Network {
        id: String,
    },
    /// Inspect the new volume.
    Volume {
        name: String,
    },
    ContainerGone {
        id: String,
    },
    NetworkGone {
        name: String,
    },
    VolumeGone {
        name: String,
    },
    /// Read one image again (by id, or by the reference a pull names).
    Image {
        reference: String,
    },
    /// The engine deleted an image.
    ImageGone {
        id: String,
    },
}

/// Everything one event changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reaction {
    pub oom: Option<(String, OomMark)>,
    /// The event as a line of the container's history.
    pub record: Option<ContainerEvent>,
    /// The container exited with a failure: its last log line likely says why.
    pub read_last_line: Option<String>,
    pub work: Vec<Work>,
    /// Swarm tasks moved: the cluster must be read again.
    pub swarm: bool,
}

/// Works out what `event` means. `health_checked` holds the containers with a
/// healthcheck (their probe runs change what inspect shows); `received` dates an
/// event that carries no time of its own.
pub fn react(
    event: &EventMessage,
    health_checked: &HashSet<String>,
    received: DateTime<Utc>,
) -> Reaction {
    let empty = HashMap::new();
    let action = event.action.as_deref().unwrap_or("");
    // "health_status: healthy", "exec_start: sh -c ..." carry detail after a colon.
    let verb = action.split(':').next().unwrap_or("").trim();
    let actor = event.actor.as_ref();
    let id = actor.and_then(|a| a.id.clone()).unwrap_or_default();
    let attributes = actor.and_then(|a| a.attributes.as_ref()).unwrap_or(&empty);
    let mut reaction = Reaction { swarm: touches_swarm(event), ..Reaction::default() };
    match event.typ {
        Some(EventMessageTypeEnum::CONTAINER) => {
            reaction.oom = match verb {
                "oom" => Some((id.clone(), OomMark::Seen)),
                "start" | "destroy" => Some((id.clone(), OomMark::Cleared)),
                _ => None,
            };
            if is_timeline_action(verb) {
                reaction.record = Some(record(event, verb, action, &id, attributes, received));
                let failed = verb == "die" && attributes.get("exitCode").is_some_and(|c| c != "0");
                if failed {
                    reaction.read_last_line = Some(id.clone());
                }
            }
            if let Some(work) = container_work(verb, action, id, attributes, health_checked) {
                reaction.work.push(work);
            }
        }
        Some(EventMessageTypeEnum::NETWORK) => {
            let name = attributes.get("name").cloned().unwrap_or_default();
            match verb {
                "destroy" => reaction.work.push(Work::NetworkGone { name }),
                "connect" | "disconnect" => {
                    if let Some(container) = attributes.get("container") {
                        let id = container.clone();
                        reaction.work.push(Work::Container { id, proxy: ProxyRead::Keep });
                    }
                    reaction.work.push(Work::Network { id });
                }
                _ => reaction.work.push(Work::Network { id }),
            }
        }
        Some(EventMessageTypeEnum::VOLUME) => match verb {
            "destroy" => reaction.work.push(Work::VolumeGone { name: id }),
            "create" => reaction.work.push(Work::Volume { name: id }),
            _ => {}
        },
        Some(EventMessageTypeEnum::IMAGE) => {
            if let Some(work) = image_work(verb, id) {
                reaction.work.push(work);
            }
        }
        _ => {}
    }
    reaction
}

/// What an image event asks to be read again: a new or retagged image (a pull names
/// its reference, a tag or import its id), an untagged one (gone if a `delete`
/// follows), a deleted one. Saves and pushes change nothing here.
fn image_work(verb: &str, id: String) -> Option<Work> {
    if id.is_empty() {
        return None;
    }
    match verb {
        "delete" => Some(Work::ImageGone { id }),
        "pull" | "tag" | "untag" | "import" | "load" | "create" | "build" | "prune" => {
            Some(Work::Image { reference: id })
        }
        _ => None,
    }
}

/// What a container event asks to be read again, if anything.
fn container_work(
    verb: &str,
    action: &str,
    id: String,
    attributes: &HashMap<String, String>,
    health_checked: &HashSet<String>,
) -> Option<Work> {
    let proxy = match verb {
        "destroy" => return Some(Work::ContainerGone { id }),
        // A probe ran: its result shows only in inspect.
        "exec_die" if health_checked.contains(&id) => ProxyRead::Keep,
        // `nginx -s reload`, `kill -HUP`: a proxy re-reads its configuration.
        "exec_start" if action.contains(" -s reload") => ProxyRead::Fresh,
        "kill"
            if matches!(
                attributes.get("signal").map(String::as_str),
                Some("1" | "HUP" | "SIGHUP")
            ) =>
        {
            ProxyRead::Fresh
        }
        // Nothing an inspect would show differently.
        "exec_create" | "exec_start" | "exec_die" | "exec_detach" | "attach" | "detach"
        | "resize" | "top" | "export" | "copy" | "archive-path" | "extract-to-dir" | "commit"
        | "kill" => return None,
        "start" | "restart" | "create" | "unpause" | "update" => ProxyRead::Fresh,
        _ => ProxyRead::Keep,
    };
    Some(Work::Container { id, proxy })
}

fn record(
    event: &EventMessage,
    verb: &str,
    action: &str,
    id: &str,
    attributes: &HashMap<String, String>,
    received: DateTime<Utc>,
) -> ContainerEvent {
    let detail = match verb {
        "die" => attributes.get("exitCode").cloned(),
        "kill" => attributes.get("signal").cloned(),
        "health_status" => action.split_once(':').map(|(_, s)| s.trim().to_string()),
        "rename" => {
            attributes.get("oldName").map(|old| format!("was {}", old.trim_start_matches('/')))
        }
        _ => None,
    };
    let at = event
        .time_nano
        .map(DateTime::from_timestamp_nanos)
        .or_else(|| event.time.and_then(|s| DateTime::from_timestamp(s, 0)))
        .unwrap_or(received);
    ContainerEvent {
        at,
        id: id.to_string(),
        name: attributes.get("name").cloned().unwrap_or_else(|| short_id(id).to_string()),
        project: attributes.get(compose::PROJECT).cloned(),
        service: attributes.get(compose::SERVICE).cloned(),
        action: verb.to_string(),
        detail,
    }
}

/// A service or node changed, or a container of a swarm task did: the tasks moved.
fn touches_swarm(event: &EventMessage) -> bool {
    match event.typ {
        Some(EventMessageTypeEnum::SERVICE | EventMessageTypeEnum::NODE) => true,
        Some(EventMessageTypeEnum::CONTAINER) => {
            let action = event.action.as_deref().unwrap_or("");
            matches!(action, "start" | "die" | "destroy" | "create")
                && event
                    .actor
                    .as_ref()
                    .and_then(|a| a.attributes.as_ref())
                    .is_some_and(|a| a.contains_key("com.docker.swarm.task.id"))
        }
        _ => false,
    }
}

fn is_timeline_action(verb: &str) -> bool {
    matches!(
        verb,
        "create"
            | "start"
            | "die"
            | "kill"
            | "oom"
            | "restart"
            | "health_status"
            | "destroy"
            | "pause"
            | "unpause"
            | "stop"
            | "rename"
    )
}

/// Which of `ids` the engine's buffer of recent events says were OOM killed: one
/// request, at most a second. The buffer is short (256 events on Docker), so an
/// empty answer proves nothing.
pub async fn past_oom_kills(docker: &bollard::Docker, ids: &[&str]) -> Vec<String> {
    use futures_util::StreamExt;
    if ids.is_empty() {
        return Vec::new();
    }
    let now = chrono::Utc::now();
    // To the nanosecond: a whole-second `until` leaves out this second's events.
    let until = format!("{}.{:09}", now.timestamp(), now.timestamp_subsec_nanos());
    let since = (now.timestamp() - 24 * 3600).to_string();
    let mut filters: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
    filters.insert("type", vec!["container"]);
    filters.insert("event", vec!["oom"]);
    filters.insert("container", ids.to_vec());
    let options = bollard::query_parameters::EventsOptionsBuilder::new()
        .since(&since)
        .until(&until)
        .filters(&filters)
        .build();
    let past = docker.events(Some(options)).collect::<Vec<_>>();
    let Ok(past) = tokio::time::timeout(std::time::Duration::from_secs(1), past).await else {
        tracing::debug!("the engine's past oom events did not come within 1 s");
        return Vec::new();
    };
    past.into_iter().flatten().filter_map(|event| event.actor?.id).collect()
}

#[cfg(test)]
mod tests;
