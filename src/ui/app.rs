//! The UI's state: the model it owns, which pane shows, and each pane's own state.

use chrono::{DateTime, FixedOffset, Utc};

use super::keymap::{Action, Keymap};
use super::overlay::{Entry, Outcome, Overlay, Palette, PaletteItem};
use super::panes::audit::AuditPane;
use super::panes::containers::ContainersPane;
use super::panes::health::HealthPane;
use super::panes::inspect::InspectView;
use super::panes::logs::{LogsPane, Prompt, target_for};
use super::panes::map::{Dir, MapPane};
use super::panes::resources::ResourcesPane;
use super::panes::routes::RoutesPane;
use super::panes::stats::StatsPane;
use super::panes::timeline::TimelinePane;
use super::panes::triage::TriagePane;
use super::theme::Theme;
use crate::engine::EngineCommand;
use crate::engine::logs::LogRequest;
use crate::model::action::{self, Verb};
use crate::model::logs::{Direction, LogTarget};
use crate::model::{Model, Update};

/// The panes that exist. `--pane` accepts exactly these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaneId {
    Triage,
    Map,
    Containers,
    Stats,
    Resources,
    Health,
    Timeline,
    Logs,
    Routes,
    Audit,
    Swarm,
}

impl PaneId {
    pub const ALL: &'static [PaneId] = &[
        PaneId::Triage,
        PaneId::Map,
        PaneId::Containers,
        PaneId::Stats,
        PaneId::Resources,
        PaneId::Health,
        PaneId::Timeline,
        PaneId::Logs,
        PaneId::Routes,
        PaneId::Audit,
        PaneId::Swarm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PaneId::Triage => "triage",
            PaneId::Map => "map",
            PaneId::Containers => "containers",
            PaneId::Stats => "stats",
            PaneId::Resources => "resources",
            PaneId::Health => "health",
            PaneId::Timeline => "timeline",
            PaneId::Logs => "logs",
            PaneId::Routes => "routes",
            PaneId::Audit => "audit",
            PaneId::Swarm => "swarm",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            PaneId::Triage => "Triage",
            PaneId::Map => "Map",
            PaneId::Containers => "Containers",
            PaneId::Stats => "Stats",
            PaneId::Resources => "Resources",
            PaneId::Health => "Health",
            PaneId::Timeline => "Timeline",
            PaneId::Logs => "Logs",
            PaneId::Routes => "Routes",
            PaneId::Audit => "Audit",
            PaneId::Swarm => "Swarm",
        }
    }

    /// For narrow terminals.
    /// The key that shows this pane, as the tab bar writes it.
    pub fn key(self) -> char {
        if self == PaneId::Swarm {
            return 'W';
        }
        let index = PaneId::ALL.iter().position(|p| *p == self).unwrap_or(0);
        // Ten panes: the tenth is on `0`, as on the keyboard.
        char::from_digit(((index + 1) % 10) as u32, 10).unwrap_or('?')
    }

    pub fn short_title(self) -> &'static str {
        match self {
            PaneId::Containers => "Ctrs",
            PaneId::Resources => "Res",
            PaneId::Timeline => "Time",
            other => other.title(),
        }
    }

    pub fn parse(name: &str) -> Option<PaneId> {
        PaneId::ALL.iter().copied().find(|p| p.name() == name.trim().to_ascii_lowercase())
    }

    pub fn names() -> Vec<&'static str> {
        PaneId::ALL.iter().map(|p| p.name()).collect()
    }
}

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

pub struct App {
    pub model: Model,
    pub theme: Theme,
    pub keymap: Keymap,
    pub pane: PaneId,
    /// Only this compose project is shown, when set.
    pub project: Option<String>,
    pub show_help: bool,
    /// Lines the help is scrolled down (it is longer than an 80x24 screen).
    pub help_scroll: u16,
    /// The detail of the selection fills the body.
    pub detail_full: bool,
    pub detail_scroll: u16,
    pub containers: ContainersPane,
    pub triage: TriagePane,
    pub map: MapPane,
    pub stats: StatsPane,
    pub resources: ResourcesPane,
    pub health: HealthPane,
    pub timeline: TimelinePane,
    pub logs: LogsPane,
    pub routes: RoutesPane,
    pub audit: AuditPane,
    pub swarm: super::panes::swarm::SwarmPane,
    /// What the logs pane follows when opened from the command line.
    pub log_target: Option<(LogTarget, String)>,
    pub log_tail: u32,
    pub log_since: Option<DateTime<Utc>>,
    /// Requests for the engine side, taken by the event loop.
    pub pending: Vec<EngineCommand>,
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
    /// The shell `exec` tries first; `sh` is the fallback when the image lacks it.
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
            theme,
            keymap,
            pane: PaneId::Triage,
            project: None,
            show_help: false,
            help_scroll: 0,
            detail_full: false,
            detail_scroll: 0,
            containers: ContainersPane::default(),
            triage: TriagePane::default(),
            map: MapPane::default(),
            stats: StatsPane::default(),
            resources: ResourcesPane::default(),
            health: HealthPane::default(),
            timeline: TimelinePane::default(),
            logs: LogsPane::default(),
            routes: RoutesPane::default(),
            audit: AuditPane::default(),
            swarm: super::panes::swarm::SwarmPane::default(),
            log_target: None,
            log_tail: 300,
            log_since: None,
            pending: Vec::new(),
            problem_count: 0,
            now,
            offset: *chrono::Local::now().offset(),
            version: env!("CARGO_PKG_VERSION"),
            quit: false,
            read_only: false,
            exec_shell: "sh".to_string(),
            mouse: true,
            overlay: None,
            notice: None,
            exec_request: None,
            inspect: None,
            clipboard: None,
        };
        app.count_problems();
        app
    }

    /// Folds an engine update in and says how urgently the screen must follow.
    /// Folds in an update from the first engine (see [`App::apply_from`]).
    pub fn apply(&mut self, update: Update) -> Redraw {
        self.apply_from(0, update)
    }

    /// Folds in an update from engine `host` and says how soon to redraw.
    pub fn apply_from(&mut self, host: crate::model::HostId, update: Update) -> Redraw {
        if let Update::ActionDone(result) = &update {
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
        if !self.model.apply_from(host, update) {
            return Redraw::No;
        }
        if logs {
            // New lines matter only where they are shown; the frame cap paces a flood.
            return if self.pane == PaneId::Logs { Redraw::Now } else { Redraw::No };
        }
        self.containers.refresh(&self.model, self.project.as_deref());
        self.count_problems();
        if soft { Redraw::Soon } else { Redraw::Now }
    }

    /// The container the current pane has selected, if any.
    pub fn selected_container(&self) -> Option<&str> {
        match self.pane {
            PaneId::Triage => self.triage.list.selected(),
            PaneId::Map => self.map.selected_container(),
            PaneId::Containers => self.containers.selected_id(),
            PaneId::Stats => self.stats.selected_container(),
            PaneId::Resources => self.resources.selected_container(),
            PaneId::Health => self.health.list.selected(),
            PaneId::Timeline => self.containers.selected_id(),
            PaneId::Logs => None,
            PaneId::Routes => self.routes.selected_container(),
            PaneId::Audit => self.audit.selected_container(),
            PaneId::Swarm => None,
        }
    }

    /// Opens the logs of what is selected (or the command line's target).
    pub fn open_logs(&mut self) {
        // The containers pane's selection: show_pane carried the previous pane's there.
        let selected = self.containers.selected_id().and_then(|id| self.model.containers.get(id));
        let marked: Vec<&crate::model::Container> =
            self.containers.marked.iter().filter_map(|id| self.model.containers.get(id)).collect();
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
        self.logs.retarget(target.clone(), label, &mut self.model.logs);
        let request = target.map(|target| LogRequest {
            target,
            tail: self.log_tail,
            since: self.log_since,
            hosts,
        });
        self.pending.push(EngineCommand::FollowLogs(request));
    }

    /// Whether keys go to a text prompt rather than the keymap.
    pub fn wants_text(&self) -> bool {
        self.pane == PaneId::Logs && self.logs.prompt.is_some()
    }

    /// A key typed into the prompt.
    pub fn type_key(&mut self, key: &crossterm::event::KeyEvent) -> bool {
        use crossterm::event::KeyCode;
        let Some((_, text)) = self.logs.prompt.as_mut() else { return false };
        match key.code {
            KeyCode::Enter => self.logs.submit(&self.model.logs),
            KeyCode::Esc => self.logs.prompt = None,
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c)
                if !key.modifiers.contains(crossterm::event::KeyModifiers::CONTROL) =>
            {
                if text.len() < 512 {
                    text.push(c);
                }
            }
            KeyCode::Char('c') => self.quit = true,
            _ => return false,
        }
        true
    }

    fn show_pane(&mut self, pane: PaneId) -> bool {
        if pane == self.pane {
            return false;
        }
        if self.pane == PaneId::Logs {
            // Nobody looks: stop the streams.
            self.pending.push(EngineCommand::FollowLogs(None));
        }
        // The selection travels with the operator where the new pane lists it.
        if let Some(id) = self.selected_container().map(String::from) {
            match pane {
                PaneId::Containers => self.containers.select(&id),
                PaneId::Stats => self.stats.select(&id),
                PaneId::Map => self.map.select_container(&id),
                _ => {}
            }
        }
        let selected = self.selected_container().map(String::from);
        self.pane = pane;
        self.detail_full = false;
        if pane == PaneId::Logs {
            // The selection of the pane we came from decides what to follow.
            if let Some(id) = selected {
                self.containers.select(&id);
            }
            self.open_logs();
        }
        true
    }

    fn move_selection(&mut self, delta: isize) {
        match self.pane {
            PaneId::Map => {
                // The map moves between boxes in space; a page is a few steps.
                let dir = if delta < 0 { Dir::Up } else { Dir::Down };
                if delta.unsigned_abs() > 1_000 {
                    let _ = if delta < 0 { self.map.first() } else { self.map.last() };
                } else {
                    for _ in 0..delta.unsigned_abs() {
                        if !self.map.step(dir) {
                            break;
                        }
                    }
                }
            }
            PaneId::Containers => self.containers.move_by(delta),
            PaneId::Triage => self.triage.list.move_by(delta),
            PaneId::Stats => self.stats.nav.move_by(delta, self.stats.len()),
            PaneId::Resources => self.resources.nav.move_by(delta, self.resources.len()),
            PaneId::Health => self.health.list.move_by(delta),
            PaneId::Logs => self.logs.move_by(delta),
            PaneId::Routes => self.routes.nav.move_by(delta, self.routes.len()),
            PaneId::Audit => self.audit.move_by(delta),
            PaneId::Swarm => self.swarm.nav.move_by(delta, self.swarm.len()),
            PaneId::Timeline => {
                let len = self.model.history.timeline.len();
                self.timeline.scrolled = true;
                self.timeline.nav.move_by(delta, len);
                if self.timeline.nav.selected + 1 >= len {
                    // Back at the bottom: follow new events again.
                    self.timeline.scrolled = false;
                }
            }
        }
    }

    fn page(&self) -> isize {
        let rows = match self.pane {
            PaneId::Containers => self.containers.page(),
            PaneId::Triage => self.triage.list.nav.page,
            PaneId::Map => 3,
            PaneId::Stats => self.stats.nav.page,
            PaneId::Resources => self.resources.nav.page,
            PaneId::Health => self.health.list.nav.page,
            PaneId::Timeline => self.timeline.nav.page,
            PaneId::Logs => 20,
            PaneId::Routes => self.routes.nav.page,
            PaneId::Audit => self.audit.nav.page,
            PaneId::Swarm => self.swarm.nav.page,
        };
        rows.max(1) as isize
    }

    /// Whether keys go to a text field (the map's filter) rather than the keymap.
    pub fn text_input_active(&self) -> bool {
        self.pane == PaneId::Map && self.map.filter_open && !self.show_help
    }

    /// A raw key for the open text field; returns whether a redraw is needed.
    pub fn text_input(&mut self, key: &crossterm::event::KeyEvent) -> bool {
        if self.text_input_active() { self.map.filter_key(key) } else { false }
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
        if self.inspect.is_some() && self.inspect_act(action) {
            return true;
        }
        let before = self.selected_container().map(String::from);
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.show_help = true,
            Action::Back if self.pane == PaneId::Logs => {
                if self.logs.status.take().is_none() && !self.logs.clear_hidden(&self.model.logs) {
                    return false;
                }
            }
            Action::Back => {
                if self.detail_full {
                    self.detail_full = false;
                } else if self.pane == PaneId::Map && !self.map.filter.is_empty() {
                    self.map.filter.clear();
                } else if self.timeline.container.is_some() && self.pane == PaneId::Timeline {
                    self.timeline.container = None;
                } else if self.project.is_some() {
                    self.set_project(None);
                } else {
                    return false;
                }
            }
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::Left | Action::Right if self.pane == PaneId::Map => {
                return self.map.step(if action == Action::Left { Dir::Left } else { Dir::Right });
            }
            Action::Search if self.pane == PaneId::Map => self.map.open_filter(),
            Action::DetailLevel if self.pane == PaneId::Map => self.map.cycle_detail(),
            Action::PageUp => self.move_selection(-self.page()),
            Action::PageDown => self.move_selection(self.page()),
            Action::Top => self.move_selection(isize::MIN / 2),
            Action::Bottom => self.move_selection(isize::MAX / 2),
            Action::NextPane | Action::PrevPane => {
                let all = PaneId::ALL;
                let index = all.iter().position(|p| *p == self.pane).unwrap_or(0);
                let step = if action == Action::NextPane { 1 } else { all.len() - 1 };
                let mut next = (index + step) % all.len();
                // Without a swarm its pane has no tab: Tab passes it by too.
                if all[next] == PaneId::Swarm && self.model.swarm.is_none() {
                    next = (next + step) % all.len();
                }
                return self.show_pane(all[next]);
            }
            Action::Pane1
            | Action::Pane2
            | Action::Pane3
            | Action::Pane4
            | Action::Pane5
            | Action::Pane6
            | Action::Pane7
            | Action::Pane8
            | Action::Pane9 => {
                let index = match action {
                    Action::Pane1 => 0,
                    Action::Pane2 => 1,
                    Action::Pane3 => 2,
                    Action::Pane4 => 3,
                    Action::Pane5 => 4,
                    Action::Pane6 => 5,
                    Action::Pane7 => 6,
                    Action::Pane8 => 7,
                    _ => 8,
                };
                return match PaneId::ALL.get(index) {
                    Some(pane) => self.show_pane(*pane),
                    None => false,
                };
            }
            Action::Pane0 => return self.show_pane(PaneId::Audit),
            Action::PaneSwarm => return self.show_pane(PaneId::Swarm),
            Action::ToggleDetail => {
                if self.pane == PaneId::Containers {
                    self.detail_full = !self.detail_full;
                    self.detail_scroll = 0;
                } else if self.pane == PaneId::Map && self.map.expand_selected() {
                    // Enter on a collapsed network opens it.
                } else if let Some(id) = self.selected_container().map(String::from) {
                    // Enter on any list opens that container's detail.
                    self.containers.select(&id);
                    self.pane = PaneId::Containers;
                    self.detail_full = true;
                    self.detail_scroll = 0;
                } else {
                    return false;
                }
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
            Action::DetailDown => self.detail_scroll = self.detail_scroll.saturating_add(3),
            Action::DetailUp => self.detail_scroll = self.detail_scroll.saturating_sub(3),
            Action::SortNext if self.pane == PaneId::Stats => self.stats.cycle_sort(),
            Action::SortReverse if self.pane == PaneId::Stats => self.stats.reverse(),
            Action::ContainerFilter if self.pane == PaneId::Timeline => {
                self.timeline.container = match self.timeline.container {
                    Some(_) => None,
                    None => self
                        .containers
                        .selected_id()
                        .and_then(|id| self.model.containers.get(id))
                        .map(|c| (c.host, c.name.clone())),
                };
                self.timeline.scrolled = false;
            }
            Action::Search if self.pane == PaneId::Logs => {
                self.logs.prompt = Some((Prompt::Search, String::new()));
                self.logs.status = None;
            }
            Action::Filter if self.pane == PaneId::Logs => {
                self.logs.prompt = Some((Prompt::Filter, self.logs.filter_text.clone()));
                self.logs.status = None;
            }
            Action::SearchNext if self.pane == PaneId::Logs => {
                self.logs.jump(&self.model.logs, Direction::Forward)
            }
            Action::SearchPrev if self.pane == PaneId::Logs => {
                self.logs.jump(&self.model.logs, Direction::Backward)
            }
            Action::Pause if self.pane == PaneId::Logs => self.logs.toggle_pause(),
            Action::Timestamps if self.pane == PaneId::Logs => self.logs.cycle_time(),
            Action::Wrap if self.pane == PaneId::Logs => {
                self.logs.wrap = !self.logs.wrap;
                self.logs.hscroll = 0;
            }
            Action::Left if self.pane == PaneId::Logs => {
                self.logs.hscroll = self.logs.hscroll.saturating_sub(8)
            }
            Action::Right if self.pane == PaneId::Logs && !self.logs.wrap => self.logs.hscroll += 8,
            Action::HideSource if self.pane == PaneId::Logs => {
                self.logs.toggle_source(&self.model.logs, &self.model)
            }
            Action::Save if self.pane == PaneId::Logs => {
                self.logs.save(&self.model.logs, &self.model, self.now)
            }
            Action::JsonView if self.pane == PaneId::Logs => self.logs.json = !self.logs.json,
            Action::Mark if self.pane == PaneId::Containers => self.containers.toggle_mark(),
            Action::Actions => return self.open_actions(false),
            Action::ProjectActions => return self.open_actions(true),
            Action::Exec => return self.request_exec(),
            Action::Palette => {
                self.overlay = Some(Overlay::Palette(Palette::new(self.palette_entries())));
            }
            Action::Inspect => match self.selected_container() {
                Some(id) => self.inspect = Some(InspectView::new(id)),
                None => self.say("nothing selected: select a container to inspect".into(), true),
            },
            Action::SortNext
            | Action::SortReverse
            | Action::ContainerFilter
            | Action::Search
            | Action::Filter
            | Action::SearchNext
            | Action::SearchPrev
            | Action::Pause
            | Action::Timestamps
            | Action::Wrap
            | Action::Left
            | Action::Right
            | Action::HideSource
            | Action::Save
            | Action::JsonView
            | Action::Mark
            | Action::DetailLevel
            | Action::Reveal
            | Action::Copy => return false,
        }
        if self.selected_container() != before.as_deref() {
            self.detail_scroll = 0;
        }
        true
    }

    /// Keys while the inspect tree is open; false passes the action on (pane switches,
    /// quitting, actions on the container).
    fn inspect_act(&mut self, action: Action) -> bool {
        let Some(view) = self.inspect.as_mut() else { return false };
        let len = view.len();
        match action {
            Action::Up => view.nav.move_by(-1, len),
            Action::Down => view.nav.move_by(1, len),
            Action::PageUp => view.nav.move_by(-(view.nav.page.max(1) as isize), len),
            Action::PageDown => view.nav.move_by(view.nav.page.max(1) as isize, len),
            Action::Top => view.nav.selected = 0,
            Action::Bottom => view.nav.selected = len.saturating_sub(1),
            Action::ToggleDetail | Action::Pause => view.toggle(),
            Action::Reveal => view.reveal = !view.reveal,
            Action::Copy => match view.selected_value() {
                Ok(value) => {
                    let size = value.len();
                    self.clipboard = Some(value);
                    self.say(format!("copied {size} bytes to the clipboard (OSC 52)"), false);
                }
                Err(why) => self.say(why, true),
            },
            Action::Back | Action::Inspect => self.inspect = None,
            _ => {
                // Leaving for another pane closes the tree.
                if action.shows_a_pane() {
                    self.inspect = None;
                }
                return false;
            }
        }
        true
    }

    /// A mouse event at (`column`, `row`) of a `width` x `height` screen: the wheel
    /// scrolls, a click on a tab shows its pane, a click on a container's row in the
    /// containers list selects it.
    pub fn mouse(&mut self, event: &crossterm::event::MouseEvent, width: u16) -> bool {
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
                // The tab bar is the second line; the body starts below it (and below
                // the outage line when the engine is lost).
                if event.row == 1 {
                    return match super::chrome::tab_at(self, width, event.column) {
                        Some(pane) => self.show_pane(pane),
                        None => false,
                    };
                }
                let outage = u16::from(super::chrome::outage_shown(&self.model));
                // Body top + border + the table's header line.
                let first_row = 2 + outage + 2;
                if self.pane == PaneId::Containers
                    && self.inspect.is_none()
                    && event.row >= first_row
                {
                    return self.containers.click_row((event.row - first_row) as usize);
                }
                false
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
        let targets = self.action_targets(project);
        let containers: Vec<&crate::model::Container> =
            targets.iter().filter_map(|id| self.model.containers.get(id)).collect();
        if containers.is_empty() {
            let what = if project { "no compose project selected" } else { "nothing selected" };
            self.say(format!("{what}: select a container first"), true);
            return true;
        }
        let verbs: Vec<Verb> =
            Verb::ALL.into_iter().filter(|v| containers.iter().any(|c| v.applies_to(c))).collect();
        let title = if project {
            let name = containers[0].project().unwrap_or_default();
            format!("project {name} · {} containers", containers.len())
        } else {
            format!("{} · {}", containers[0].name, containers[0].state_and_health())
        };
        self.overlay = Some(Overlay::Actions { targets, title, verbs });
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
                if let Some(Overlay::Confirm { verb, targets, .. }) = self.overlay.take() {
                    self.dispatch(verb, targets);
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
                        self.containers.select(&id);
                    }
                }
                true
            }
        }
    }

    pub fn set_project(&mut self, project: Option<String>) {
        self.project = project;
        self.containers.refresh(&self.model, self.project.as_deref());
        self.count_problems();
    }

    fn count_problems(&mut self) {
        self.problem_count =
            crate::triage::problems(&self.model, self.now, self.project.as_deref()).len();
    }
}
