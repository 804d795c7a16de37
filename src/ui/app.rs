//! The UI's state: the model it owns, which pane shows, the panes themselves, and
//! what reaches across panes (the project filter, popups, notices, the selection
//! that travels). Every action is dispatched once: to the view on top (inspect), to
//! the pane on screen, and what neither takes is the app's.

use chrono::{DateTime, FixedOffset, Utc};

use super::keymap::{Action, Keymap};
use super::layout::Screen;
use super::overlay::{Entry, Outcome, Overlay, Palette, PaletteItem};
use super::pane::{Effect, Handled, Pane, PaneView};
use super::panes::Panes;
use super::panes::inspect::InspectView;
use super::panes::logs::target_for;
use super::theme::Theme;
use crate::derived::Derived;
use crate::engine::EngineCommand;
use crate::engine::logs::LogRequest;
use crate::engine::ports::PortCheckRequest;
use crate::engine::processes::ProcessRequest;
use crate::engine::shell::{ShellEvent, ShellInput};
use crate::model::action::{self, Verb};
use crate::model::logs::LogTarget;
use crate::model::{Model, Update};
use std::collections::HashMap;
use tokio::sync::mpsc;

pub use super::panes::PaneId;

/// How soon a change must reach the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redraw {
    No,
    /// With the next engine tick: stats and probe results, so a host with many
    /// healthchecks does not redraw once per probe.
    Soon,
    /// At the next frame: state changes, new and removed containers, the connection.
    Now,
}

/// The view panes read of the app's state. A macro, not a method, so that the
/// borrows stay on the fields it reads and a pane can be borrowed mutably beside it.
macro_rules! view_of {
    ($app:expr, $title:expr) => {
        PaneView {
            model: &$app.model,
            derived: &$app.derived,
            theme: &$app.theme,
            focused: true,
            title: $title,
            project: $app.project.as_deref(),
            // In HISTORY, relative times are measured against the moment shown.
            now: $app.history.as_ref().map_or($app.now, |h| h.at),
            offset: $app.offset,
        }
    };
}
pub(crate) use view_of;

pub struct App {
    pub model: Model,
    /// What panes derive from the model, memoised once per change.
    pub derived: Derived,
    pub theme: Theme,
    pub keymap: Keymap,
    pub pane: PaneId,
    /// Only this compose project is shown, when set.
    pub project: Option<String>,
    pub show_help: bool,
    /// Lines the help is scrolled down (it is longer than an 80x24 screen).
    pub help_scroll: u16,
    pub panes: Panes,
    /// What the logs pane follows when opened from the command line.
    pub log_target: Option<(LogTarget, String)>,
    pub log_tail: u32,
    pub log_since: Option<DateTime<Utc>>,
    /// Requests for the engine side, taken by the event loop.
    pub pending: Vec<EngineCommand>,
    /// Spans the Stats pane wants read from the record; the run loop reads them.
    pub series_asks: Vec<super::panes::stats::SeriesAsk>,
    /// How many problems triage lists, for the tab bar: counted once per change, not
    /// once per frame.
    pub problem_count: usize,
    /// The time panes show relative times against; pinned in tests.
    pub now: DateTime<Utc>,
    /// The time zone of clock times: the local one at start, UTC in tests.
    pub offset: FixedOffset,
    pub version: &'static str,
    pub quit: bool,
    /// Every action on containers is refused (`--read-only`, or `read_only` in config).
    pub read_only: bool,
    /// The shell a shell tries first; the others follow (see [`crate::engine::shell::SHELLS`]).
    pub exec_shell: String,
    /// Mouse clicks select and the wheel scrolls.
    pub mouse: bool,
    /// A popup that takes the keyboard: actions menu, confirmation, palette.
    pub overlay: Option<Overlay>,
    /// The outcome of the last action, shown in the footer for a while.
    pub notice: Option<Notice>,
    /// A shell the run loop should open (container id): it owns the terminal.
    pub exec_request: Option<String>,
    /// The selected container's configuration as a tree, over the body while open.
    pub inspect: Option<InspectView>,
    /// Text the run loop should put on the clipboard (OSC 52).
    pub clipboard: Option<String>,
    /// Where the last frame put everything, for the mouse.
    pub screen: Screen,
    /// The container the processes pane opens on (`--container NAME`), until the
    /// operator picks another.
    pub processes_name: Option<String>,
    /// What the engine was last asked to read for the processes pane.
    processes_watch: Option<ProcessRequest>,
    /// URLs are written as OSC 8 hyperlinks (decided once at start: see `ui::hyperlink`).
    pub hyperlinks: bool,
    /// The container a shell opens in once the inventory lists it (`--pane shell
    /// --container NAME`).
    pub shell_name: Option<String>,
    /// The screen shows a moment of the record (the time cursor), when set.
    pub history: Option<super::history::HistoryMode>,
    /// The moment last asked of the record, until its answer comes.
    pub history_asked: Option<DateTime<Utc>>,
    /// Moments the run loop should read from the record.
    pub history_asks: Vec<DateTime<Utc>>,
    /// Whether an engine has a record the time cursor can read.
    pub has_record: bool,
    /// Moments before which the Timeline wants older events from the record.
    pub older_asks: Vec<DateTime<Utc>>,
    /// Where each running shell takes its keys, by session.
    shell_inputs: HashMap<u64, mpsc::UnboundedSender<ShellInput>>,
    /// Keys typed while a shell was starting, sent when it runs.
    shell_waiting: Vec<(u64, ShellInput)>,
    /// A prune picked in the menu, waiting for the fresh reading its preview needs.
    pub prune_wanted: Option<(crate::model::HostId, crate::model::disk::PruneKind)>,
    /// A bulk action on marked containers, until each has answered.
    pub bulk: Option<disk::BulkRun>,
    /// A compose command or update waiting for its question's answer.
    asked: Option<compose_actions::Asked>,
    /// Whether the open actions menu is the project's (`A`) rather than the selection's.
    menu_project: bool,
    /// A custom command the run loop should run: it owns the terminal meanwhile.
    pub command_request: Option<super::commands::CommandRun>,
}

/// A line for the footer: what an action did, or why it could not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
    pub at: DateTime<Utc>,
}

/// How long a notice stays in the footer.
pub const NOTICE_SECONDS: i64 = 15;

impl App {
    pub fn new(model: Model, theme: Theme, keymap: Keymap, now: DateTime<Utc>) -> Self {
        let mut app = App {
            model,
            derived: Derived::default(),
            theme,
            keymap,
            pane: PaneId::Triage,
            project: None,
            show_help: false,
            help_scroll: 0,
            panes: Panes::default(),
            log_target: None,
            log_tail: 300,
            log_since: None,
            pending: Vec::new(),
            series_asks: Vec::new(),
            problem_count: 0,
            now,
            offset: *chrono::Local::now().offset(),
            version: env!("CARGO_PKG_VERSION"),
            quit: false,
            read_only: false,
            exec_shell: super::exec::DEFAULT_EXEC_SHELL.to_string(),
            mouse: true,
            overlay: None,
            notice: None,
            exec_request: None,
            inspect: None,
            clipboard: None,
            screen: Screen::default(),
            processes_name: None,
            processes_watch: None,
            hyperlinks: false,
            shell_name: None,
            history: None,
            history_asked: None,
            history_asks: Vec::new(),
            has_record: false,
            older_asks: Vec::new(),
            shell_inputs: HashMap::new(),
            shell_waiting: Vec::new(),
            prune_wanted: None,
            bulk: None,
            asked: None,
            menu_project: false,
            command_request: None,
        };
        app.count_problems();
        app
    }

    /// Folds in an update from the first engine (see [`App::apply_from`]).
    pub fn apply(&mut self, update: Update) -> Redraw {
        self.apply_from(0, update)
    }

    /// Folds in an update from engine `host` and says how soon to redraw.
    pub fn apply_from(&mut self, host: crate::model::HostId, update: Update) -> Redraw {
        // The past on screen does not move: the live state takes the update.
        let Err(update) = self.apply_to_parked(host, update) else { return Redraw::No };
        if let Update::ActionDone(result) = &update
            && !self.bulk_answer(result)
        {
            let name = crate::model::sanitize::one_line(&result.name).into_owned();
            self.notice = Some(match &result.error {
                None => Notice {
                    text: format!("{} {name}: done", result.verb.as_str()),
                    error: false,
                    at: result.at,
                },
                Some(error) => Notice {
                    text: format!("{} {name} failed: {error}", result.verb.as_str()),
                    error: true,
                    at: result.at,
                },
            });
        }
        if let Update::Processes(table) = &update
            && self.processes_watch.as_ref().is_none_or(|w| w.container != table.id)
        {
            // A read that crossed the request to stop, or for another container.
            return Redraw::No;
        }
        if let Update::PortsChecked(check) = &update
            && let Some(c) = self.model.containers.get(&check.id)
            && self.model.port_checks.get(&check.id).is_some_and(|s| s.checking_since.is_some())
        {
            // The answers in the footer too: the detail may be off screen or scrolled.
            let name = crate::model::sanitize::one_line(&c.name);
            let text = format!("ports of {name}: {}", check.summary());
            let text = crate::model::sanitize::one_line(&text).into_owned();
            self.notice = Some(Notice { text, error: false, at: check.at });
        }
        if matches!(update, Update::Run(_) | Update::UpdatesChecked(_)) {
            self.note_run(&update);
        }
        if let Update::ProcessSignalled(result) = &update {
            let text = crate::model::sanitize::one_line(&result.describe()).into_owned();
            self.notice = Some(Notice { text, error: result.error.is_some(), at: result.at });
        }
        let soft = match &update {
            Update::Stats(_) | Update::LastLogLine { .. } => true,
            // A new probe result that changes neither state nor health status.
            Update::ContainerChanged(c) => self.model.containers.get(&c.id).is_some_and(|old| {
                old.state == c.state
                    && old.health_status() == c.health_status()
                    && old.restart_count == c.restart_count
                    && old.name == c.name
            }),
            _ => false,
        };
        let logs = matches!(update, Update::Logs(_));
        let disk =
            matches!(update, Update::DiskUsage(_) | Update::Pruned(_)).then(|| update.clone());
        if !self.model.apply_from(host, update) {
            return Redraw::No;
        }
        if let Some(update) = disk {
            self.disk_update(host, &update);
        }
        if logs {
            // New lines matter only where they are shown; the frame cap paces a flood.
            return if self.pane == PaneId::Logs { Redraw::Now } else { Redraw::No };
        }
        self.sync_containers();
        self.count_problems();
        if self.shell_name.is_some() {
            self.open_named_shell();
        }
        if self.pane == PaneId::Processes || self.processes_watch.is_some() {
            // A `--container` name becomes an id once the inventory has it.
            self.watch_processes();
        }
        if soft { Redraw::Soon } else { Redraw::Now }
    }

    /// The containers list holds the selection that travels between panes and that
    /// logs and actions read: it follows every change, shown or not.
    fn sync_containers(&mut self) {
        let view = view_of!(self, "");
        self.panes.containers.sync(&view);
    }

    /// Brings the pane on screen (and the view over it) up to date with the model.
    pub fn sync(&mut self) {
        self.panes.files.read_only = self.read_only;
        self.panes.images.listing.read_only = self.read_only;
        self.panes.volumes.listing.read_only = self.read_only;
        self.panes.networks.listing.read_only = self.read_only;
        let view = view_of!(self, "");
        self.panes.get_mut(self.pane).sync(&view);
        if let Some(inspect) = self.inspect.as_mut() {
            inspect.sync(&view);
        }
    }

    /// Asks the engine for the changes of the container the Changes pane shows, once
    /// per container and once per `r`: the run loop calls it before passing requests on.
    pub fn ask_changes(&mut self) {
        if self.pane != PaneId::Changes {
            return;
        }
        if let Some((host, id)) = self.panes.changes.take_due(&self.model) {
            self.pending.push(EngineCommand::Changes { host, id });
        }
        // The selected row as the model has it now, not as last drawn.
        self.sync();
        if let Some((host, id, path)) = self.panes.changes.take_stat_due(&self.model) {
            self.pending.push(EngineCommand::PathStat { host, id, path });
        }
    }

    /// Asks for older events from the record when the Timeline scrolled up past its
    /// oldest entry; the run loop reads them.
    pub fn ask_older(&mut self) {
        if self.pane != PaneId::Timeline || self.in_history() {
            return;
        }
        if let Some(before) = self.panes.timeline.older_due(&self.model, self.now) {
            self.older_asks.push(before);
        }
    }

    /// Asks for the Stats pane's longer span from the record, when it wants one.
    pub fn ask_series(&mut self) {
        if self.pane != PaneId::Stats || self.in_history() {
            return;
        }
        self.sync();
        if let Some(ask) = self.panes.stats.series_due(&self.model, self.now) {
            self.series_asks.push(ask);
        }
    }

    /// Asks the engine for what the Files pane shows (a listing, a file's head) and
    /// for the copies the operator confirmed: the run loop calls it before passing
    /// requests on.
    pub fn ask_files(&mut self) {
        if self.pane != PaneId::Files {
            return;
        }
        self.sync();
        for (host, request) in self.panes.files.take_requests(&self.model) {
            // The pane refuses before asking; this holds whatever asked.
            if self.read_only
                && matches!(request, crate::engine::files::FilesRequest::CopyIn { .. })
            {
                continue;
            }
            self.pending.push(EngineCommand::Files { host, request });
        }
    }

    /// Passes on what the Images, Volumes and Networks panes asked of the engine
    /// (layers to read, confirmed removals, pulls): the run loop calls it.
    pub fn ask_resources(&mut self) {
        let mut requests = self.panes.images.take_requests();
        requests.extend(self.panes.volumes.take_requests());
        requests.extend(self.panes.networks.take_requests());
        for (host, request) in requests {
            let refused = self.read_only
                && !matches!(request, crate::engine::images::ResourceRequest::History { .. });
            // The pane refuses before asking; this holds whatever asked.
            if !refused {
                self.pending.push(EngineCommand::Resource { host, request });
            }
        }
    }

    /// What is on screen: the view on top, else the pane.
    fn shown(&self) -> &dyn Pane {
        match &self.inspect {
            Some(inspect) => inspect,
            None => self.panes.get(self.pane),
        }
    }

    /// The container the current pane has selected, if any.
    pub fn selected_container(&self) -> Option<&str> {
        self.panes.get(self.pane).selected_container()
    }

    /// Opens the logs of what is selected (or the command line's target).
    pub fn open_logs(&mut self) {
        let containers = &self.panes.containers;
        // The containers pane's selection: show_pane carried the previous pane's there.
        let selected = containers.selected_id().and_then(|id| self.model.containers.get(id));
        let marked: Vec<&crate::model::Container> =
            containers.marked.iter().filter_map(|id| self.model.containers.get(id)).collect();
        // What the operator picked lives on known engines: only those follow it. A
        // name from the command line or a project may be on any.
        // An address found to be another's engine would stream the same lines again.
        let distinct = || {
            let model = &self.model;
            Some((0..model.hosts.len()).filter(|h| model.hosts[*h].same_as.is_none()).collect())
        };
        let hosts = if self.log_target.is_some() || self.project.is_some() && marked.is_empty() {
            distinct()
        } else if !marked.is_empty() {
            Some(marked.iter().map(|c| c.host).collect())
        } else {
            selected.map(|c| [c.host].into())
        };
        let target = self
            .log_target
            .clone()
            .or_else(|| target_for(&self.model, &marked, self.project.as_deref(), selected));
        let (target, label) = match target {
            Some((target, label)) => (Some(target), label),
            None => (None, "nothing selected".to_string()),
        };
        self.panes.logs.retarget(target.clone(), label, &mut self.model.logs);
        let request = target.map(|target| LogRequest {
            target,
            tail: self.log_tail,
            since: self.log_since,
            hosts,
        });
        self.pending.push(EngineCommand::FollowLogs(request));
    }

    fn show_pane(&mut self, pane: PaneId) -> bool {
        if pane == self.pane {
            return false;
        }
        if self.pane == PaneId::Logs {
            // Nobody looks: stop the streams.
            self.pending.push(EngineCommand::FollowLogs(None));
        }
        if self.pane == PaneId::Disk {
            self.panes.disk.left();
        }
        if self.pane == PaneId::Files {
            // A listing of a big tree nobody waits for any more stops streaming.
            self.panes.files.left(&self.model);
            for host in 0..self.model.hosts.len() {
                let request = crate::engine::files::FilesRequest::Leave;
                self.pending.push(EngineCommand::Files { host, request });
            }
        }
        self.sync();
        let selected = self.selected_container().map(String::from);
        self.panes.containers.detail_full = false;
        if pane == PaneId::Disk {
            self.panes.disk.host = super::panes::disk::host_of(&self.model, selected.as_deref());
        }
        self.pane = pane;
        self.sync();
        // The selection travels with the operator where the new pane lists it.
        if let Some(id) = &selected {
            self.panes.get_mut(pane).select_container(id);
        }
        self.watch_processes();
        if pane == PaneId::Logs {
            // The selection of the pane we came from decides what to follow.
            if let Some(id) = &selected {
                self.panes.containers.select(id);
            }
            self.open_logs();
        }
        true
    }

    /// Whether keys go to a text field (the map's filter, the logs' prompt) rather
    /// than the keymap.
    pub fn text_input_active(&self) -> bool {
        !self.show_help && self.shown().takes_text()
    }

    /// A raw key for the open text field; returns whether a redraw is needed.
    pub fn text_input(&mut self, key: &crossterm::event::KeyEvent) -> bool {
        if !self.text_input_active() {
            return false;
        }
        if self.inspect.is_none()
            && self.pane == PaneId::Shell
            && self.keymap.action(key) == Some(Action::ShellFocus)
        {
            // The one key a shell with the keyboard does not get.
            return self.act(Action::ShellFocus);
        }
        let view = view_of!(self, "");
        let mut effects = Vec::new();
        let changed = match self.inspect.as_mut() {
            Some(inspect) => inspect.text_key(key, &view, &mut effects),
            None => self.panes.get_mut(self.pane).text_key(key, &view, &mut effects),
        };
        self.take_effects(effects);
        changed
    }

    /// Carries out an action; returns whether a redraw is needed.
    pub fn act(&mut self, action: Action) -> bool {
        if self.show_help {
            // The help overlay swallows everything but scrolling, its own dismissal
            // and quitting.
            match action {
                Action::Help | Action::Back => {
                    self.show_help = false;
                    self.help_scroll = 0;
                }
                Action::Quit => self.quit = true,
                Action::Down => self.help_scroll = self.help_scroll.saturating_add(1),
                Action::Up => self.help_scroll = self.help_scroll.saturating_sub(1),
                Action::PageDown => self.help_scroll = self.help_scroll.saturating_add(10),
                Action::PageUp => self.help_scroll = self.help_scroll.saturating_sub(10),
                Action::Top => self.help_scroll = 0,
                _ => return false,
            }
            return true;
        }
        if let Some(redraw) = self.history_act(action) {
            return redraw;
        }
        match self.pane_act(action) {
            Handled::Redraw => return true,
            Handled::Quiet => return false,
            Handled::Pass => {}
        }
        if let Some(key) = action.pane_key() {
            return PaneId::with_key(key).is_some_and(|pane| self.show_pane(pane));
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.show_help = true,
            Action::Back if self.in_history() => return self.go_live(),
            Action::Back => {
                if self.project.is_none() {
                    return false;
                }
                self.set_project(None);
            }
            Action::NextPane | Action::PrevPane => {
                let all = PaneId::ALL;
                let index = all.iter().position(|p| *p == self.pane).unwrap_or(0);
                let step = if action == Action::NextPane { 1 } else { all.len() - 1 };
                // Panes without a tab are passed by.
                let next = (1..all.len()).map(|n| all[(index + n * step) % all.len()]).find(|p| {
                    self.panes.get(*p).has_tab(&self.model)
                        && (!self.in_history() || super::history::HISTORY_PANES.contains(p))
                });
                return next.is_some_and(|pane| self.show_pane(pane));
            }
            Action::ToggleDetail => {
                // Enter on any list opens that container's detail.
                let Some(id) = self.selected_container().map(String::from) else { return false };
                self.pane = PaneId::Containers;
                self.sync();
                self.panes.containers.open_detail(&id);
            }
            Action::NextProject => {
                let projects: Vec<String> =
                    self.model.projects().into_iter().map(String::from).collect();
                let next = match &self.project {
                    None => projects.first().cloned(),
                    Some(current) => {
                        let index = projects.iter().position(|p| p == current);
                        index.and_then(|i| projects.get(i + 1)).cloned()
                    }
                };
                self.set_project(next);
            }
            Action::Actions => return self.open_actions(false),
            Action::ProjectActions => return self.open_actions(true),
            Action::Exec => return self.request_exec(),
            Action::OpenShell => return self.open_shell(),
            Action::ShellFocus => {
                if self.panes.shell.sessions().is_empty() {
                    self.say("no shell open: select a running container and open one".into(), true);
                    return true;
                }
                if self.pane != PaneId::Shell {
                    self.show_pane(PaneId::Shell);
                    self.panes.shell.toggle_focus();
                    return true;
                }
                if !self.panes.shell.toggle_focus() {
                    self.say("this shell has ended: open another, or close its tab".into(), true);
                }
            }
            Action::Palette => {
                self.overlay = Some(Overlay::Palette(Palette::new(self.palette_entries())));
            }
            Action::CheckPorts => return self.check_ports(),
            Action::Prune => return self.open_prune(),
            Action::Inspect => match self.selected_container() {
                Some(id) => self.inspect = Some(InspectView::new(id)),
                None => self.say("nothing selected: select a container to inspect".into(), true),
            },
            _ => return false,
        }
        true
    }

    /// Offers an action to the view on top, then to the pane under it.
    fn pane_act(&mut self, action: Action) -> Handled {
        self.sync();
        let view = view_of!(self, "");
        let mut effects = Vec::new();
        let mut handled = match self.inspect.as_mut() {
            Some(inspect) => inspect.act(action, &view, &mut effects),
            None => Handled::Pass,
        };
        if handled == Handled::Pass {
            handled = self.panes.get_mut(self.pane).act(action, &view, &mut effects);
        }
        self.take_effects(effects);
        handled
    }

    fn take_effects(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Say { text, error } => self.say(text, error),
                Effect::Copy(text) => self.clipboard = Some(text),
                Effect::Close => self.inspect = None,
                Effect::Quit => self.quit = true,
                Effect::AskKill(ask) => {
                    if self.read_only {
                        self.say(
                            "read-only: killing processes is turned off (--read-only)".into(),
                            true,
                        );
                    } else {
                        self.overlay = Some(Overlay::Kill(ask));
                    }
                }
            }
        }
    }

    /// A mouse event: the wheel scrolls, a click on a tab shows its pane, a click in
    /// the body goes to the pane under it (the containers list selects the row).
    pub fn mouse(&mut self, event: &crossterm::event::MouseEvent) -> bool {
        use crossterm::event::{MouseButton, MouseEventKind};
        if !self.mouse || self.overlay.is_some() || self.show_help {
            return false;
        }
        match event.kind {
            MouseEventKind::ScrollDown => {
                (0..3).fold(false, |changed, _| self.act(Action::Down) | changed)
            }
            MouseEventKind::ScrollUp => {
                (0..3).fold(false, |changed, _| self.act(Action::Up) | changed)
            }
            MouseEventKind::Down(MouseButton::Left) => {
                let screen = &self.screen;
                if screen.tabs.height > 0 && event.row == screen.tabs.y {
                    return match screen.tab_at(event.column) {
                        Some(pane) => self.show_pane(pane),
                        None => false,
                    };
                }
                let body = screen.body;
                let inside = (body.y..body.bottom()).contains(&event.row)
                    && (body.x..body.right()).contains(&event.column);
                if !inside || self.inspect.is_some() {
                    return false;
                }
                self.sync();
                self.panes.get_mut(self.pane).click(event.row - body.y)
            }
            _ => false,
        }
    }

    fn say(&mut self, text: String, error: bool) {
        self.notice = Some(Notice { text, error, at: self.now });
    }

    /// The containers an action would touch: the selection, or with `project` every
    /// container of the selection's project (or of the project filter).
    fn action_targets(&self, project: bool) -> Vec<String> {
        let selected = self.selected_container().and_then(|id| self.model.containers.get(id));
        if !project {
            return selected.map(|c| vec![c.id.clone()]).unwrap_or_default();
        }
        let name = selected.and_then(|c| c.project()).or(self.project.as_deref());
        let Some(name) = name else { return Vec::new() };
        self.model
            .containers
            .values()
            .filter(|c| c.project() == Some(name))
            .map(|c| c.id.clone())
            .collect()
    }

    fn open_actions(&mut self, project: bool) -> bool {
        if self.read_only {
            self.say("read-only: actions are turned off (--read-only)".into(), true);
            return true;
        }
        let marked = if project { Vec::new() } else { self.marked_targets() };
        let bulk = !marked.is_empty();
        let targets = if bulk { marked } else { self.action_targets(project) };
        let containers: Vec<&crate::model::Container> =
            targets.iter().filter_map(|id| self.model.containers.get(id)).collect();
        if containers.is_empty() {
            let what = if project { "no compose project selected" } else { "nothing selected" };
            self.say(format!("{what}: select a container first"), true);
            return true;
        }
        let verbs: Vec<Verb> =
            Verb::ALL.into_iter().filter(|v| containers.iter().any(|c| v.applies_to(c))).collect();
        let extras = self.menu_extras(project, &containers);
        self.menu_project = project;
        let title = if bulk {
            let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
            format!("{} marked: {}", containers.len(), names.join(", "))
        } else if project {
            let name = containers[0].project().unwrap_or_default();
            format!("project {name} · {} containers", containers.len())
        } else {
            format!("{} · {}", containers[0].name, containers[0].state_and_health())
        };
        self.overlay = Some(Overlay::Actions { targets, title, verbs, extras });
        true
    }

    /// A verb chosen in the menu: ask first when it interrupts something.
    fn choose(&mut self, verb: Verb, targets: Vec<String>) {
        let containers: Vec<&crate::model::Container> = targets
            .iter()
            .filter_map(|id| self.model.containers.get(id))
            .filter(|c| verb.applies_to(c))
            .collect();
        if containers.is_empty() {
            self.say(format!("nothing to {}", verb.as_str()), true);
            return;
        }
        let ids: Vec<String> = containers.iter().map(|c| c.id.clone()).collect();
        if self.read_only {
            self.say("read-only: actions are turned off (--read-only)".into(), true);
            return;
        }
        if verb.is_destructive() {
            let question = action::question(verb, &containers);
            let hard = action::needs_typed_confirmation(verb, &containers);
            self.overlay =
                Some(Overlay::Confirm { verb, targets: ids, question, hard, typed: String::new() });
        } else {
            self.dispatch(verb, ids);
        }
    }

    fn dispatch(&mut self, verb: Verb, ids: Vec<String>) {
        if self.read_only {
            self.say("read-only: actions are turned off (--read-only)".into(), true);
            return;
        }
        self.begin_bulk(verb, &ids);
        let targets: Vec<(String, String)> = ids
            .iter()
            .filter_map(|id| self.model.containers.get(id).map(|c| (c.id.clone(), c.name.clone())))
            .collect();
        let names: Vec<&str> = targets.iter().map(|(_, n)| n.as_str()).collect();
        let text = format!("{} {}…", verb.progressive(), names.join(", "));
        // Each engine acts on its own containers.
        let mut by_host: std::collections::BTreeMap<_, Vec<(String, String)>> = Default::default();
        for (id, name) in &targets {
            let host = self.model.containers.get(id).map_or(0, |c| c.host);
            by_host.entry(host).or_default().push((id.clone(), name.clone()));
        }
        for (host, targets) in by_host {
            self.pending.push(EngineCommand::Act { host, verb, targets });
        }
        self.say(crate::model::sanitize::one_line(&text).into_owned(), false);
    }

    fn request_exec(&mut self) -> bool {
        if self.read_only {
            self.say("read-only: exec is turned off (--read-only)".into(), true);
            return true;
        }
        let Some(c) = self.selected_container().and_then(|id| self.model.containers.get(id)) else {
            self.say("nothing selected: select a running container to open a shell".into(), true);
            return true;
        };
        if !c.state.is_running() {
            self.say(format!("{} is not running: no shell to open", c.name), true);
            return true;
        }
        self.exec_request = Some(c.id.clone());
        true
    }

    /// Opens a shell in the selected container (on the shell pane: in the current
    /// tab's container) in a new tab of the shell pane, which takes the keyboard.
    fn open_shell(&mut self) -> bool {
        if self.read_only {
            self.say("read-only: shells are turned off (--read-only)".into(), true);
            return true;
        }
        let Some(id) = self.selected_container().map(String::from) else {
            self.say("nothing selected: select a running container to open a shell".into(), true);
            return true;
        };
        self.open_shell_in(&id)
    }

    fn open_shell_in(&mut self, id: &str) -> bool {
        let Some(c) = self.model.containers.get(id) else { return false };
        if !c.state.is_running() {
            let name = crate::model::sanitize::one_line(&c.name).into_owned();
            self.say(format!("{name} is not running: no shell to open"), true);
            return true;
        }
        let (host, id, name) = (c.host, c.id.clone(), c.name.clone());
        let preferred = Some(self.exec_shell.clone()).filter(|s| !s.trim().is_empty());
        let request = self.panes.shell.open(host, &id, &name, preferred);
        self.pending.push(EngineCommand::OpenShell(request));
        self.show_pane(PaneId::Shell);
        true
    }

    /// The shell the command line asked for, once its container is known.
    pub fn open_named_shell(&mut self) {
        let Some(name) = self.shell_name.as_deref() else { return };
        let Some(id) = self.model.container_named(name).map(|c| c.id.clone()) else { return };
        self.shell_name = None;
        if self.read_only {
            self.say("read-only: shells are turned off (--read-only)".into(), true);
            return;
        }
        self.open_shell_in(&id);
    }

    /// What a shell session said; whether the screen changed.
    pub fn shell_event(&mut self, event: ShellEvent) -> bool {
        let shown = self.pane == PaneId::Shell && self.inspect.is_none();
        let changed = match event {
            ShellEvent::Started { session, shell, input } => {
                if !self.panes.shell.knows(session) {
                    // Its tab was closed while it started.
                    let _ = input.send(ShellInput::Hangup);
                    return false;
                }
                let (early, later) = std::mem::take(&mut self.shell_waiting)
                    .into_iter()
                    .partition(|(s, _)| *s == session);
                self.shell_waiting = later;
                for (_, typed) in early {
                    let _ = input.send(typed);
                }
                self.shell_inputs.insert(session, input);
                self.panes.shell.started(session, shell)
            }
            ShellEvent::Output { session, bytes } => self.panes.shell.output(session, &bytes),
            ShellEvent::Ended { session, end } => {
                self.shell_inputs.remove(&session);
                self.shell_waiting.retain(|(s, _)| *s != session);
                self.panes.shell.ended(session, end)
            }
        };
        changed && shown
    }

    /// Sends what the shell pane has for its sessions (keys, sizes, hang-ups).
    pub fn flush_shells(&mut self) {
        for (session, input) in self.panes.shell.take_outbox() {
            let hangup = input == ShellInput::Hangup;
            match self.shell_inputs.get(&session) {
                Some(sender) => {
                    let _ = sender.send(input);
                }
                // Still starting: what is typed meanwhile goes once it runs.
                None if !hangup && self.panes.shell.knows(session) => {
                    self.shell_waiting.push((session, input));
                }
                None => {}
            }
            if hangup {
                self.shell_inputs.remove(&session);
                self.shell_waiting.retain(|(s, _)| *s != session);
            }
        }
    }

    fn palette_entries(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = self
            .keymap
            .describe()
            .into_iter()
            .filter(|(action, _)| !matches!(action, Action::Palette))
            .map(|(action, keys)| {
                let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
                Entry {
                    label: format!("{} ({})", action.describe(), keys.join(" ")),
                    kind: "action",
                    item: PaletteItem::Action(action),
                }
            })
            .collect();
        for (name, arg, what) in super::overlay::COMMANDS {
            entries.push(Entry {
                label: format!("{name} {arg} · {what}"),
                kind: "command",
                item: PaletteItem::Command { name, arg: String::new() },
            });
        }
        for (index, command) in self.keymap.commands.iter().enumerate() {
            let key = command.key.map(|k| format!(" ({k})")).unwrap_or_default();
            entries.push(Entry {
                label: format!("{}{key} · {}", command.name, command.command),
                kind: "command",
                item: PaletteItem::Custom(index),
            });
        }
        for c in self.model.containers.values() {
            entries.push(Entry {
                label: format!("{} · {} · {}", c.name, c.image, c.state.as_str()),
                kind: "container",
                item: PaletteItem::Container { id: c.id.clone() },
            });
        }
        entries
    }

    pub fn overlay_open(&self) -> bool {
        self.overlay.is_some()
    }

    /// A key for the open popup.
    pub fn overlay_key(&mut self, key: &crossterm::event::KeyEvent) -> bool {
        let Some(overlay) = self.overlay.as_mut() else { return false };
        match overlay.key(key) {
            Outcome::Open(redraw) => redraw,
            Outcome::Cancelled => {
                self.overlay = None;
                self.asked = None;
                true
            }
            Outcome::Verb(verb) => {
                let targets = match self.overlay.take() {
                    Some(Overlay::Actions { targets, .. }) => targets,
                    _ => Vec::new(),
                };
                self.choose(verb, targets);
                true
            }
            Outcome::Confirmed => {
                match self.overlay.take() {
                    Some(Overlay::Confirm { verb, targets, .. }) => self.dispatch(verb, targets),
                    Some(Overlay::Ask { .. }) => self.go_ahead(),
                    _ => {}
                }
                true
            }
            Outcome::Prune(kind) => {
                self.overlay = None;
                self.prune_chosen(kind);
                true
            }
            Outcome::RunCommand => {
                if let Some(Overlay::RunCommand(run)) = self.overlay.take() {
                    self.command_request = Some(run);
                }
                true
            }
            Outcome::PruneConfirmed => {
                if let Some(Overlay::PrunePreview { plan, .. }) = self.overlay.take() {
                    self.prune_confirmed(*plan);
                }
                true
            }
            Outcome::Extra(extra) => {
                let targets = match self.overlay.take() {
                    Some(Overlay::Actions { targets, .. }) => targets,
                    _ => Vec::new(),
                };
                self.choose_extra(extra, targets);
                true
            }
            Outcome::SendSignal => {
                if let Some(Overlay::Kill(ask)) = self.overlay.take() {
                    let text = format!("sending {} to process {}…", ask.signal.name(), ask.pid);
                    self.pending.push(EngineCommand::KillProcess(ask));
                    self.say(text, false);
                }
                true
            }
            Outcome::Palette(item) => {
                self.overlay = None;
                match item {
                    PaletteItem::Action(action) => {
                        self.act(action);
                    }
                    PaletteItem::Container { id } => {
                        self.show_pane(PaneId::Containers);
                        self.panes.containers.select_container(&id);
                    }
                    PaletteItem::Command { name: "goto", arg } => {
                        self.goto(&arg);
                    }
                    PaletteItem::Command { .. } => {}
                    PaletteItem::Custom(index) => {
                        self.run_command(index);
                    }
                }
                true
            }
        }
    }

    /// The URLs the screen may show that are worth a hyperlink: those of published
    /// ports that answered HTTP.
    pub fn link_urls(&self) -> Vec<String> {
        if !self.hyperlinks {
            return Vec::new();
        }
        let checks = self.model.port_checks.values().filter_map(|s| s.last.as_ref());
        let mut urls: Vec<String> = checks.flat_map(|c| c.urls()).collect();
        urls.sort();
        urls.dedup();
        urls
    }

    /// Dials the selection's published ports (the engine side does, from here) and
    /// shows the answers in its detail, opened as Enter opens it when it is not on
    /// screen. Not an action on the
    /// container, so a read-only session allows it.
    fn check_ports(&mut self) -> bool {
        let Some(c) = self.selected_container().and_then(|id| self.model.containers.get(id)) else {
            self.say("nothing selected: select a container to check its ports".into(), true);
            return true;
        };
        let name = crate::model::sanitize::one_line(&c.name).into_owned();
        let ports: Vec<crate::model::Port> =
            c.ports.iter().filter(|p| p.is_published()).cloned().collect();
        if ports.is_empty() {
            self.say(format!("{name} publishes no ports: nothing to check"), true);
            return true;
        }
        let (host, id) = (c.host, c.id.clone());
        let count = ports.len();
        self.model.ask_port_check(&id, self.now);
        self.pending.push(EngineCommand::CheckPorts(PortCheckRequest {
            host,
            id: id.clone(),
            ports,
        }));
        let plural = if count == 1 { "" } else { "s" };
        self.say(format!("checking {count} published port{plural} of {name}…"), false);
        let detail_shown =
            self.pane == PaneId::Containers && self.panes.containers.shows_detail(self.screen.body);
        if !detail_shown {
            self.pane = PaneId::Containers;
            self.sync();
            self.panes.containers.open_detail(&id);
        }
        true
    }

    /// Asks the engine to read the processes of the container the processes pane
    /// shows while it is on screen, and to stop once it is not: nothing polls for a
    /// pane nobody looks at.
    pub fn watch_processes(&mut self) {
        let wanted = if self.pane == PaneId::Processes {
            let pane = &mut self.panes.processes;
            if pane.target.is_none()
                && let Some(name) = &self.processes_name
                && let Some(c) = self.model.container_named(name)
            {
                pane.target = Some(c.id.clone());
            }
            pane.target
                .as_deref()
                .and_then(|id| self.model.containers.get(id))
                .filter(|c| c.state.is_running())
                .map(|c| ProcessRequest { host: c.host, container: c.id.clone() })
        } else {
            None
        };
        if wanted == self.processes_watch {
            return;
        }
        if wanted.as_ref().map(|w| &w.container)
            != self.processes_watch.as_ref().map(|w| &w.container)
        {
            // Another container's list must not show under this one's name.
            self.model.processes = None;
        }
        self.processes_watch = wanted.clone();
        self.pending.push(EngineCommand::Processes(wanted));
    }

    pub fn set_project(&mut self, project: Option<String>) {
        self.project = project;
        self.sync_containers();
        self.count_problems();
    }

    fn count_problems(&mut self) {
        let now = self.cursor_now();
        self.problem_count = self.derived.problems(&self.model, self.project.as_deref(), now).len();
    }
}

mod commands;
mod compose_actions;
mod disk;
mod time_cursor;

#[cfg(test)]
mod tests;
