//! The actions menu's compose commands and image updates: what the menu offers for
//! the selection, the question a destructive one asks, and the request the engine
//! side gets. The runs' output goes to the Compose pane.

use super::{App, Notice, PaneId};
use crate::engine::EngineCommand;
use crate::engine::compose_cli::ComposeRequest;
use crate::engine::updates::{CheckTarget, UpdateRequest};
use crate::model::compose_runs::{self, ComposeTarget, ComposeVerb, RunUpdate};
use crate::model::image_updates::{self, Verdict, short_digest};
use crate::model::sanitize::one_line;
use crate::model::{Container, Update};
use crate::ui::overlay::{MenuExtra, Overlay};

/// A command held while its question is asked.
#[derive(Debug, Clone)]
pub enum Asked {
    Compose { request: ComposeRequest },
    Update { host: crate::model::HostId, request: UpdateRequest },
}

impl App {
    /// What the menu offers beside the container verbs, for `targets` (the selection,
    /// or with `project` its project's containers).
    pub(super) fn menu_extras(&self, project: bool, targets: &[&Container]) -> Vec<MenuExtra> {
        let mut extras = Vec::new();
        if let Some(first) = targets.first()
            && ComposeTarget::of(first, project).is_some()
        {
            extras.extend(
                ComposeVerb::ALL
                    .into_iter()
                    .filter(|v| v.applies(!project))
                    .map(MenuExtra::Compose),
            );
        }
        if targets.iter().any(|c| c.state.is_running()) {
            extras.push(MenuExtra::CheckUpdate);
        }
        if !project
            && let Some(c) = targets.first()
            && self.model.image_updates.available(&c.id).is_some()
        {
            extras.push(MenuExtra::Update);
        }
        extras
    }

    /// A compose command or image action picked in the menu for `targets`.
    pub(super) fn choose_extra(&mut self, extra: MenuExtra, targets: Vec<String>) {
        if self.read_only {
            self.say("read-only: actions are turned off (--read-only)".into(), true);
            return;
        }
        let containers: Vec<&Container> =
            targets.iter().filter_map(|id| self.model.containers.get(id)).collect();
        let Some(first) = containers.first().copied() else {
            self.say("nothing selected: select a container first".into(), true);
            return;
        };
        match extra {
            MenuExtra::Compose(verb) => {
                let Some(target) = ComposeTarget::of(first, self.menu_project) else {
                    let name = one_line(&first.name).into_owned();
                    self.say(format!("{name} belongs to no compose project"), true);
                    return;
                };
                let affected: Vec<String> = self
                    .model
                    .containers
                    .values()
                    .filter(|c| {
                        c.host == target.host && c.project() == Some(target.project.as_str())
                    })
                    .filter(|c| {
                        target.service.is_none()
                            || c.compose.as_ref().map(|i| i.service.as_str())
                                == target.service.as_deref()
                    })
                    .map(|c| one_line(&c.name).into_owned())
                    .collect();
                let run = self.model.runs.reserve();
                let request = ComposeRequest { run, verb, target };
                if verb.is_destructive() {
                    let names: Vec<&str> = affected.iter().map(String::as_str).collect();
                    let question = compose_runs::question(verb, &request.target, &names);
                    self.asked = Some(Asked::Compose { request });
                    let title = format!("compose {}", verb.as_str());
                    self.overlay = Some(Overlay::Ask { title, question });
                } else {
                    self.go(Asked::Compose { request });
                }
            }
            MenuExtra::CheckUpdate => {
                let checked: Vec<CheckTarget> = containers
                    .iter()
                    .filter(|c| c.state.is_running())
                    .map(|c| CheckTarget { id: c.id.clone(), image: c.image.clone() })
                    .collect();
                if checked.is_empty() {
                    self.say("nothing running: only running containers are checked".into(), true);
                    return;
                }
                let host = first.host;
                for target in &checked {
                    self.model.image_updates.ask(&target.id, self.now);
                }
                self.model.revision += 1;
                let count = checked.len();
                let plural = if count == 1 { "" } else { "s" };
                self.say(format!("asking the registry about {count} container{plural}…"), false);
                self.pending.push(EngineCommand::CheckUpdates { host, targets: checked });
            }
            MenuExtra::Update => {
                let Some(Verdict::Available { local, remote }) =
                    self.model.image_updates.available(&first.id).cloned()
                else {
                    self.say("check for a newer image first (n in the actions menu)".into(), true);
                    return;
                };
                let name = one_line(&first.name).into_owned();
                let image = one_line(&first.image).into_owned();
                let compose = ComposeTarget::of(first, false);
                let how = match &compose {
                    Some(target) => format!("re-creates {} through compose", target.describe()),
                    None => format!("re-creates {name} with the same configuration"),
                };
                let old = local.as_deref().map_or("the local image".to_string(), short_digest);
                let question = format!(
                    "Update {name}? It pulls {image} ({old} → {}), {how}, waits for it to \
                     become healthy and rolls back to the old image if it does not.",
                    short_digest(&remote)
                );
                let run = self.model.runs.reserve();
                let request =
                    UpdateRequest { run, id: first.id.clone(), name: first.name.clone(), compose };
                self.asked = Some(Asked::Update { host: first.host, request });
                self.overlay = Some(Overlay::Ask { title: "update".into(), question });
            }
        }
    }

    /// The question was answered yes: send what it held.
    pub(super) fn go_ahead(&mut self) {
        if let Some(asked) = self.asked.take() {
            self.go(asked);
        }
    }

    fn go(&mut self, asked: Asked) {
        let text = match asked {
            Asked::Compose { request } => {
                let text = crate::engine::compose_cli::title(request.verb, &request.target);
                self.pending.push(EngineCommand::Compose { host: request.target.host, request });
                text
            }
            Asked::Update { host, request } => {
                let text = format!("update {}", request.name);
                self.pending.push(EngineCommand::UpdateImage { host, request });
                text
            }
        };
        self.say(format!("{}… (its output in the Compose pane)", one_line(&text)), false);
        self.panes.compose.follow_latest();
        self.show_pane(PaneId::Compose);
    }

    /// Footer words for what compose runs and update checks report.
    pub(super) fn note_run(&mut self, update: &Update) {
        match update {
            Update::UpdatesChecked(checks) if !checks.is_empty() => {
                let text = one_line(&image_updates::summary(checks)).into_owned();
                let at = checks[0].at;
                let error = checks.iter().all(|c| matches!(c.verdict, Verdict::Failed(_)));
                self.notice = Some(Notice { text, error, at });
            }
            Update::Run(run) => {
                if let RunUpdate::Ended { id, at, ok, status } = run.as_ref() {
                    let title =
                        self.model.runs.get(*id).map(|r| r.title.clone()).unwrap_or_default();
                    let text = one_line(&format!("{title}: {status}")).into_owned();
                    self.notice = Some(Notice { text, error: !ok, at: *at });
                }
            }
            _ => {}
        }
    }
}
