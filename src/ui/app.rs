//! The UI's state: the model it owns, which pane shows, and each pane's own state.

use chrono::{DateTime, FixedOffset, Utc};

use super::keymap::{Action, Keymap};
use super::panes::audit::AuditPane;
use super::panes::containers::ContainersPane;
use super::panes::health::HealthPane;
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
        }
    }

    /// For narrow terminals.
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
}

impl App {
    pub fn new(model: Model, theme: Theme, keymap: Keymap, now: DateTime<Utc>) -> Self {
        let mut app = App {
            model,
            theme,
            keymap,
            pane: PaneId::Triage,
            project: None,
            show_help: false,
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
        };
        app.count_problems();
        app
    }

    /// Folds an engine update in and says how urgently the screen must follow.
    pub fn apply(&mut self, update: Update) -> Redraw {
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
        if !self.model.apply(update) {
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
        }
    }

    /// Opens the logs of what is selected (or the command line's target).
    pub fn open_logs(&mut self) {
        // The containers pane's selection: show_pane carried the previous pane's there.
        let selected = self.containers.selected_id().and_then(|id| self.model.containers.get(id));
        let marked: Vec<&crate::model::Container> =
            self.containers.marked.iter().filter_map(|id| self.model.containers.get(id)).collect();
        let target = self
            .log_target
            .clone()
            .or_else(|| target_for(&marked, self.project.as_deref(), selected));
        let (target, label) = match target {
            Some((target, label)) => (Some(target), label),
            None => (None, "nothing selected".to_string()),
        };
        self.logs.retarget(target.clone(), label, &mut self.model.logs);
        let request =
            target.map(|target| LogRequest { target, tail: self.log_tail, since: self.log_since });
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
            // The help overlay swallows everything but its own dismissal and quitting.
            match action {
                Action::Help | Action::Back => self.show_help = false,
                Action::Quit => self.quit = true,
                _ => return false,
            }
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
                let next = if action == Action::NextPane {
                    (index + 1) % all.len()
                } else {
                    (index + all.len() - 1) % all.len()
                };
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
                        .map(|c| c.name.clone()),
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
            | Action::Actions
            | Action::ProjectActions
            | Action::Exec
            | Action::Inspect
            | Action::Palette
            | Action::Reveal
            | Action::Copy => return false,
        }
        if self.selected_container() != before.as_deref() {
            self.detail_scroll = 0;
        }
        true
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
