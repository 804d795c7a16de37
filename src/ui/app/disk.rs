//! The app's part in the Disk pane and prunes, and in bulk actions on marked
//! containers: when to ask the engine for a disk reading, the prune's menu, preview
//! and confirmation, and one report per bulk action that names each container.

use std::collections::BTreeMap;

use super::{App, Notice, PaneId};
use crate::engine::EngineCommand;
use crate::model::action::{ActionResult, Verb};
use crate::model::disk::{self, PruneKind};
use crate::model::sanitize::one_line;
use crate::model::{HostId, Update};
use crate::ui::overlay::Overlay;

/// A bulk action under way: how each of its containers went, in order.
#[derive(Debug, Clone, Default)]
pub struct BulkRun {
    pub verb: Option<Verb>,
    /// By container id: its name and, once the engine answered, how it went.
    pub results: BTreeMap<String, (String, Option<Option<String>>)>,
    /// The order the confirmation named them in.
    pub order: Vec<String>,
}

impl BulkRun {
    /// One line: each container with its outcome, failures in words.
    pub fn summary(&self) -> String {
        let verb = self.verb.map_or("act on", Verb::as_str);
        let done = self.results.values().filter(|(_, r)| r.is_some()).count();
        let each: Vec<String> = self
            .order
            .iter()
            .filter_map(|id| self.results.get(id))
            .map(|(name, result)| match result {
                None => format!("{name} …"),
                Some(None) => format!("{name} ✓"),
                Some(Some(error)) => format!("{name} ✗ {error}"),
            })
            .collect();
        format!("{verb} {done}/{}: {}", self.results.len(), each.join(" · "))
    }

    fn finished(&self) -> bool {
        self.results.values().all(|(_, r)| r.is_some())
    }

    fn failed(&self) -> bool {
        self.results.values().any(|(_, r)| matches!(r, Some(Some(_))))
    }
}

impl App {
    /// The containers marked in the Containers pane that the model still holds:
    /// what the actions menu acts on when there are any.
    pub fn marked_targets(&self) -> Vec<String> {
        let marked = &self.panes.containers.marked;
        // In the list's order (the model's), not the marking's.
        self.model.containers.keys().filter(|id| marked.contains(*id)).cloned().collect()
    }

    /// Starts counting the answers to a bulk action on `ids`.
    pub(super) fn begin_bulk(&mut self, verb: Verb, ids: &[String]) {
        if ids.len() < 2 {
            self.bulk = None;
            return;
        }
        let mut run = BulkRun { verb: Some(verb), ..BulkRun::default() };
        for id in ids {
            let name = self.model.containers.get(id).map(|c| c.name.clone()).unwrap_or_default();
            run.results.insert(id.clone(), (one_line(&name).into_owned(), None));
            run.order.push(id.clone());
        }
        self.bulk = Some(run);
    }

    /// Takes an action's answer into the bulk run it belongs to; whether it did
    /// (then the footer shows the run, not the one container).
    pub(super) fn bulk_answer(&mut self, result: &ActionResult) -> bool {
        let Some(run) = self.bulk.as_mut() else { return false };
        if run.verb != Some(result.verb) {
            return false;
        }
        let Some(entry) = run.results.get_mut(&result.id) else { return false };
        let error = result.error.as_deref().map(|e| one_line(e).into_owned());
        entry.1 = Some(error);
        let text = run.summary();
        let error = run.failed();
        let finished = run.finished();
        self.notice = Some(Notice { text, error, at: result.at });
        if finished {
            self.bulk = None;
        }
        true
    }

    /// Asks the engine for a disk reading when the Disk pane wants one: the run loop
    /// calls it before passing requests on.
    pub fn ask_disk(&mut self) {
        if self.pane != PaneId::Disk {
            return;
        }
        let host = self.panes.disk.host;
        if self.panes.disk.due(&self.model, host, self.now) {
            self.model.ask_disk(host);
            self.pending.push(EngineCommand::DiskUsage { host });
        }
    }

    /// `R`: the prune menu, in the Disk pane only; refused when read-only.
    pub(super) fn open_prune(&mut self) -> bool {
        if self.read_only {
            self.say("read-only: pruning is turned off (--read-only)".into(), true);
            return true;
        }
        if self.pane != PaneId::Disk {
            self.say("prune from the Disk pane (U), where what it takes is shown".into(), true);
            return true;
        }
        self.overlay = Some(Overlay::PruneMenu);
        true
    }

    /// A kind picked in the menu: read the disk afresh, and preview from that reading.
    pub(super) fn prune_chosen(&mut self, kind: PruneKind) {
        let host = self.panes.disk.host;
        self.prune_wanted = Some((host, kind));
        self.model.ask_disk(host);
        self.pending.push(EngineCommand::DiskUsage { host });
        self.say(format!("reading the disk to preview: prune {}…", kind.describe()), false);
    }

    /// After an update is applied: a reading a prune waits for opens its preview, a
    /// prune's report goes to the footer.
    pub(super) fn disk_update(&mut self, host: HostId, update: &Update) {
        match update {
            Update::DiskUsage(result) => {
                let Some((wanted, kind)) = self.prune_wanted else { return };
                if wanted != host {
                    return;
                }
                self.prune_wanted = None;
                if let Err((_, error)) = result {
                    self.say(
                        format!("no preview: the disk usage could not be read: {error}"),
                        true,
                    );
                    return;
                }
                if let Some(plan) = self.prune_plan(host, kind) {
                    // The preview answers "reading the disk to preview…".
                    self.notice = None;
                    self.overlay =
                        Some(Overlay::PrunePreview { plan: Box::new(plan), typed: String::new() });
                }
            }
            Update::Pruned(report) => {
                let text = one_line(&report.summary()).into_owned();
                let error = report.failed().next().is_some();
                self.notice = Some(Notice { text, error, at: report.at });
            }
            _ => {}
        }
    }

    /// What a prune of `kind` on `host` would remove, from the last reading.
    pub fn prune_plan(&self, host: HostId, kind: PruneKind) -> Option<disk::PrunePlan> {
        let usage = self.model.disk.get(&host)?.reading.as_ref()?;
        let networks: Vec<_> =
            self.model.networks.iter().filter(|((h, _), _)| *h == host).map(|(_, n)| n).collect();
        let containers: Vec<_> = self.model.containers.values().collect();
        Some(disk::plan(host, kind, usage, &networks, &containers, None))
    }

    /// The preview was confirmed: remove exactly its list.
    pub(super) fn prune_confirmed(&mut self, plan: disk::PrunePlan) {
        if self.read_only {
            self.say("read-only: pruning is turned off (--read-only)".into(), true);
            return;
        }
        if plan.items.is_empty() {
            return;
        }
        let text = format!("pruning {} objects…", plan.items.len());
        self.pending.push(EngineCommand::Prune(Box::new(plan)));
        self.say(text, false);
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::model::ContainerState;
    use crate::model::disk::{DiskContainer, DiskUsage};
    use crate::topology::fixtures;
    use crate::ui::keymap::{Action, Keymap};
    use crate::ui::theme::Theme;

    fn app() -> App {
        let model = fixtures::seed("000-nestjs-postgres-redis").expect("seed");
        let mut app = App::new(model, Theme::built_in("dark"), Keymap::default(), fixtures::now());
        app.pane = PaneId::Containers;
        app.set_project(None);
        app
    }

    fn press(app: &mut App, c: char) {
        app.overlay_key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }

    fn mark_three(app: &mut App) -> Vec<String> {
        let ids: Vec<String> = app.model.containers.keys().take(3).cloned().collect();
        app.panes.containers.marked.extend(ids.iter().cloned());
        ids
    }

    #[test]
    fn the_actions_menu_acts_on_every_marked_container_with_one_confirmation() {
        let mut app = app();
        let ids = mark_three(&mut app);
        let names: Vec<String> =
            ids.iter().map(|id| app.model.containers[id].name.clone()).collect();
        assert!(app.act(Action::Actions));
        match &app.overlay {
            Some(Overlay::Actions { targets, title, .. }) => {
                assert_eq!(targets, &ids);
                assert!(title.starts_with("3 marked"), "{title}");
            }
            other => panic!("no menu: {other:?}"),
        }
        press(&mut app, 't');
        match &app.overlay {
            Some(Overlay::Confirm { question, targets, .. }) => {
                assert_eq!(targets.len(), 3);
                for name in &names {
                    assert!(question.contains(name.as_str()), "{question} names {name}");
                }
            }
            other => panic!("no confirmation: {other:?}"),
        }
        press(&mut app, 'y');
        let sent: Vec<String> = app
            .pending
            .iter()
            .flat_map(|c| match c {
                EngineCommand::Act { verb: Verb::Stop, targets, .. } => {
                    targets.iter().map(|(id, _)| id.clone()).collect()
                }
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(sent, ids);
        // Each answer is counted; the footer names every container and how it went.
        for (n, id) in ids.iter().enumerate() {
            let error = (n == 1).then(|| "no such container".to_string());
            let result = ActionResult {
                at: Utc::now(),
                id: id.clone(),
                name: names[n].clone(),
                verb: Verb::Stop,
                error,
            };
            app.apply(Update::ActionDone(Box::new(result)));
        }
        let notice = app.notice.clone().expect("a notice");
        assert!(notice.error);
        assert!(notice.text.starts_with("stop 3/3"), "{}", notice.text);
        assert!(notice.text.contains(&format!("{} ✓", names[0])), "{}", notice.text);
        assert!(
            notice.text.contains(&format!("{} ✗ no such container", names[1])),
            "{}",
            notice.text
        );
        assert!(app.bulk.is_none(), "finished");
    }

    #[test]
    fn read_only_refuses_bulk_actions_and_prunes() {
        let mut app = app();
        app.read_only = true;
        mark_three(&mut app);
        assert!(app.act(Action::Actions));
        assert!(app.overlay.is_none());
        assert!(app.notice.as_ref().is_some_and(|n| n.text.starts_with("read-only")));
        app.pane = PaneId::Disk;
        app.notice = None;
        assert!(app.act(Action::Prune));
        assert!(app.overlay.is_none());
        assert!(app.notice.as_ref().is_some_and(|n| n.text.starts_with("read-only")));
        // Even a plan that got through is not sent.
        let plan = disk::plan(0, PruneKind::Containers, &stopped_usage(), &[], &[], None);
        app.prune_confirmed(plan);
        assert!(!app.pending.iter().any(|c| matches!(c, EngineCommand::Prune(_))));
    }

    fn stopped_usage() -> DiskUsage {
        DiskUsage {
            containers: vec![DiskContainer {
                id: "gone-1".into(),
                name: "old-job".into(),
                state: "exited".into(),
                size_rw: 4096,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn the_disk_pane_reads_on_opening_and_a_prune_previews_a_fresh_reading() {
        let mut app = app();
        assert!(app.act(Action::PaneDisk));
        app.ask_disk();
        assert!(app.pending.iter().any(|c| matches!(c, EngineCommand::DiskUsage { host: 0 })));
        app.pending.clear();
        app.ask_disk();
        assert!(app.pending.is_empty(), "one reading at a time, not per frame");
        app.apply(Update::DiskUsage(Ok(Box::new(stopped_usage()))));
        app.ask_disk();
        assert!(app.pending.is_empty(), "nothing changed since");
        assert!(app.act(Action::Prune));
        assert!(matches!(app.overlay, Some(Overlay::PruneMenu)));
        press(&mut app, 'c');
        assert!(app.pending.iter().any(|c| matches!(c, EngineCommand::DiskUsage { host: 0 })));
        assert!(app.overlay.is_none(), "the preview waits for the fresh reading");
        app.apply(Update::DiskUsage(Ok(Box::new(stopped_usage()))));
        match &app.overlay {
            Some(Overlay::PrunePreview { plan, .. }) => {
                assert_eq!(plan.items.len(), 1);
                assert_eq!(plan.bytes(), 4096);
            }
            other => panic!("no preview: {other:?}"),
        }
        press(&mut app, 'y');
        let sent = app.pending.iter().find_map(|c| match c {
            EngineCommand::Prune(plan) => {
                Some(plan.items.iter().map(|i| i.id.clone()).collect::<Vec<_>>())
            }
            _ => None,
        });
        assert_eq!(sent, Some(vec!["gone-1".to_string()]), "exactly the previewed list");
        let _ = ContainerState::Exited;
    }
}
