//! Timeline: the startup sequence of a compose project (when each service started and
//! became healthy, in dependency order) and,
//! below it, the incident log of everything that happened since portolan started —
//! and what it could reconstruct from before, marked `~`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Effect, Handled, ListNav, Pane, PaneView, block, clock, movement};
use crate::model::names::{Named, row_names};
use crate::model::sanitize::one_line;
use crate::model::{HostId, Model, TimelineEntry};
use crate::timeline::{StartupStep, incident_positions, startup_projects, startup_sequence_on};
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

#[derive(Debug, Default)]
pub struct TimelinePane {
    pub nav: ListNav,
    /// Only this container's events (by engine and name: names repeat across
    /// engines), when set.
    pub container: Option<(HostId, String)>,
    /// Whether the selection should follow the newest entry.
    pub scrolled: bool,
    /// The container the operator arrived with: `c` narrows the log to it.
    carried: Option<String>,
    incidents: Option<Incidents>,
    startup: Option<Startup>,
    /// The operator moved up past the oldest entry: older ones are read from the record.
    wants_older: bool,
    /// The oldest entry's time when older ones were asked for: the selection stays
    /// there when they arrive.
    anchor: Option<chrono::DateTime<chrono::Utc>>,
}

/// The log's and the containers' revisions, the project filter and the container filter.
type IncidentsKey = ((u64, u64), Option<String>, Option<(HostId, String)>);

/// The entries the incident log lists and what each is about, worked out once per
/// change of the log, of the containers' names or of the filters: a frame then
/// formats only the rows on screen, however long the log.
#[derive(Debug)]
struct Incidents {
    key: IncidentsKey,
    /// Where the listed entries are in the model's incident log, oldest first.
    positions: Vec<usize>,
    /// What each listed entry is about: named among every listed entry, so a name
    /// does not change as the log scrolls.
    subjects: Vec<String>,
}

/// The startup sequence shown above the log, worked out once per change of the
/// model's state or of the project filter.
#[derive(Debug)]
struct Startup {
    key: (u64, Option<String>),
    /// The engine and project whose startup it is.
    shown: Option<(HostId, String)>,
    steps: Vec<StartupStep>,
}

impl TimelinePane {
    /// Brings the listed entries and the startup sequence up to date; does nothing
    /// when neither the model's state nor a filter moved since the last call.
    fn refresh(&mut self, view: &PaneView<'_>) {
        let model = view.model;
        let project = view.project.map(String::from);
        // The listed entries and their names follow the log and the containers' names,
        // not their states: a probe result every second must not redo them.
        let revisions = (model.history.timeline_revision, model.structure_revision);
        let key = (revisions, project.clone(), self.container.clone());
        if self.incidents.as_ref().is_none_or(|i| i.key != key) {
            let name = self.container.as_ref().map(|(_, name)| name.as_str());
            let mut positions = incident_positions(model, view.project, name);
            if let Some((host, _)) = &self.container {
                let on_host = |at: &usize| {
                    model.history.timeline.get(*at).is_some_and(|e| e.host == Some(*host))
                };
                positions.retain(on_host);
            }
            let entries: Vec<&TimelineEntry> =
                positions.iter().filter_map(|at| model.history.timeline.get(*at)).collect();
            let subjects = subjects(model, &entries);
            // Older entries came in above: the selection stays where it was, one up.
            if let Some(anchor) = self.anchor.take() {
                let row = entries.iter().position(|e| e.time >= anchor).unwrap_or(entries.len());
                self.nav.selected = row.saturating_sub(1);
                self.scrolled = true;
            }
            self.incidents = Some(Incidents { key, positions, subjects });
        }
        let key = (model.state_revision, project);
        if self.startup.as_ref().is_none_or(|s| s.key != key) {
            // The startup sequence of the filtered project, or of the first project, on
            // the first engine that runs it: a project on two engines started twice.
            let projects = startup_projects(model);
            let shown = match view.project {
                Some(p) => projects.iter().find(|(_, name)| *name == p).copied(),
                None => projects.first().copied(),
            };
            let steps = shown.map(|(h, p)| startup_sequence_on(model, h, p)).unwrap_or_default();
            let shown = shown.map(|(h, p)| (h, p.to_string()));
            self.startup = Some(Startup { key, shown, steps });
        }
    }

    /// When the operator scrolled up past the oldest entry: the moment before which
    /// the record should be read (once per arrival at the top).
    pub fn older_due(
        &mut self,
        model: &Model,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        if !std::mem::take(&mut self.wants_older) || model.history.recorded_exhausted {
            return None;
        }
        // Before what this session saw (its older entries are reconstructed), then
        // before the oldest read back.
        let watching = model.hosts.iter().filter_map(|h| h.connected_at).min().unwrap_or(now);
        let before = model.history.recorded_before.map_or(watching, |b| b.min(watching));
        self.anchor = Some(before);
        Some(before)
    }

    /// How many entries the incident log lists, as of the last sync.
    fn len(&self) -> usize {
        self.incidents.as_ref().map_or(0, |i| i.positions.len())
    }
}

impl Pane for TimelinePane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.refresh(view);
    }

    fn act(&mut self, action: Action, view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        match action {
            Action::ContainerFilter => {
                self.container = match self.container {
                    Some(_) => None,
                    None => self
                        .carried
                        .as_ref()
                        .and_then(|id| view.model.containers.get(id))
                        .map(|c| (c.host, c.name.clone())),
                };
                self.scrolled = false;
            }
            Action::Back if self.container.is_some() => self.container = None,
            _ => {
                let Some(delta) = movement(action, self.nav.page) else { return Handled::Pass };
                let len = self.len();
                let at_top = len == 0 || (self.scrolled && self.nav.selected == 0);
                if delta < 0 && (at_top || self.nav.selected as isize + delta < 0) {
                    // Up past the oldest entry: the record may hold older ones.
                    self.wants_older = true;
                }
                self.scrolled = true;
                self.nav.move_by(delta, len);
                if self.nav.selected + 1 >= len {
                    // Back at the bottom: follow new events again.
                    self.scrolled = false;
                }
            }
        }
        Handled::Redraw
    }

    fn selected_container(&self) -> Option<&str> {
        self.carried.as_deref()
    }

    fn select_container(&mut self, id: &str) {
        self.carried = Some(id.to_string());
    }

    fn hints(&self) -> Vec<(Action, &'static str)> {
        vec![(Action::ContainerFilter, "this container")]
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        self.refresh(view);
        let (Some(incidents), Some(startup)) = (&self.incidents, &self.startup) else { return };
        let model = view.model;
        let theme = view.theme;
        let project = view.project;
        let steps = &startup.steps;
        let seq_height =
            if steps.is_empty() { 0 } else { (steps.len() as u16 + 3).min(area.height / 2) };
        let [seq_area, log_area] =
            Layout::vertical([Constraint::Length(seq_height), Constraint::Fill(1)]).areas(area);
        if let Some((host, p)) = startup.shown.as_ref().filter(|_| seq_height > 0) {
            let on_host = if model.multi_host() {
                format!(" on {}", one_line(&model.host(*host).name))
            } else {
                String::new()
            };
            let outer = block(
                &PaneView { focused: false, ..*view },
                format!("Startup sequence · {}{on_host}", one_line(p)),
            );
            let inner = outer.inner(seq_area);
            frame.render_widget(outer, seq_area);
            let mut lines = vec![Line::from(Span::styled(
                format!(" {:<7}{:<18}{:<14}{}", "TIME", "SERVICE", "STATUS", "ACTION"),
                theme.style(Slot::Label),
            ))];
            // Below the heading, as many steps as there are lines: the rest would be cut.
            for step in steps.iter().take(usize::from(inner.height).saturating_sub(1)) {
                let status_slot = match step.status.as_str() {
                    "healthy" => Slot::Ok,
                    "starting" => Slot::Value,
                    _ => Slot::Error,
                };
                let mark = if step.reconstructed { "~" } else { " " };
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{mark}{:<7}", offset(step.offset_seconds)),
                        theme.style(Slot::Muted),
                    ),
                    Span::styled(
                        format!("{:<18}", one_line(&step.service)),
                        theme.style(Slot::Title),
                    ),
                    Span::styled(format!("{:<14}", step.status), theme.style(status_slot)),
                    Span::styled(one_line(&step.action).into_owned(), theme.style(Slot::Value)),
                ]));
            }
            frame.render_widget(Paragraph::new(lines), inner);
        }
        let listed = incidents.positions.len();
        let filter = match (&self.container, project) {
            (Some((host, c)), _) => {
                format!(" · container {}{}", super::host_prefix(model, *host), one_line(c))
            }
            (None, Some(p)) => format!(" · project {}", one_line(p)),
            (None, None) => String::new(),
        };
        let dropped = if model.history.timeline_dropped > 0 {
            format!(" · {} oldest dropped", model.history.timeline_dropped)
        } else {
            String::new()
        };
        let outer = block(
            view,
            format!("Incident log · {listed} events{filter}{dropped} (c: this container only)"),
        );
        let inner = outer.inner(log_area);
        frame.render_widget(outer, log_area);
        if inner.height == 0 {
            return;
        }
        if !self.scrolled {
            self.nav.selected = listed.saturating_sub(1);
        }
        let range = self.nav.window(listed, inner.height as usize);
        let lines: Vec<Line> = range
            .clone()
            .filter_map(|row| {
                let entry = model.history.timeline.get(*incidents.positions.get(row)?)?;
                Some((row, entry, incidents.subjects.get(row)?))
            })
            .map(|(row, e, subject)| {
                let slot = match e.event.as_str() {
                    "die" | "oom" | "kill" | "health_status: unhealthy" | "host unreachable" => {
                        Slot::Error
                    }
                    "restart" | "destroy" => Slot::Warning,
                    "start" | "health_status: healthy" | "host reconnected" => Slot::Ok,
                    _ => Slot::Value,
                };
                let mark = if e.reconstructed { "~" } else { " " };
                let line = Line::from(vec![
                    Span::styled(
                        format!("{mark}{} ", clock(view, e.time)),
                        theme.style(Slot::Muted),
                    ),
                    Span::styled(
                        format!("{subject:<SUBJECT_WIDTH$}"),
                        theme.style(Slot::Title),
                    ),
                    Span::styled(format!("{:<26}", e.event), theme.style(slot)),
                    Span::styled(one_line(&e.detail).into_owned(), theme.style(Slot::Value)),
                ]);
                if row == self.nav.selected && self.scrolled {
                    theme.selected(line)
                } else {
                    line
                }
            })
            .collect();
        if listed == 0 {
            frame.render_widget(
                Paragraph::new(Span::styled("Nothing has happened yet.", theme.style(Slot::Muted))),
                inner,
            );
        } else {
            frame.render_widget(Paragraph::new(lines), inner);
        }
    }
}

/// The width of the column that says what an entry is about.
const SUBJECT_WIDTH: usize = 28;

/// What each entry is about: its container, named among every container the log
/// names by [`crate::model::names`] (so `redis` reads `shop/redis` when two projects
/// run one), as `host/name` with several engines; an engine's own entries, and a
/// swarm's, name what they are about as they are.
fn subjects(model: &Model, entries: &[&TimelineEntry]) -> Vec<String> {
    let about_container = |e: &TimelineEntry| e.host.filter(|_| !e.is_host_event());
    let named: Vec<Named<'_>> = entries
        .iter()
        .filter_map(|e| {
            let host = about_container(e)?;
            let number = model
                .containers
                .get(&e.container_id)
                .and_then(|c| c.compose.as_ref())
                .and_then(|info| info.container_number);
            Some(Named {
                host,
                name: &e.container,
                project: e.project.as_deref(),
                service: e.service.as_deref(),
                number,
            })
        })
        .collect();
    let host_width = named
        .iter()
        .map(|n| super::host_prefix(model, n.host).chars().count())
        .max()
        .unwrap_or(0);
    let mut names = row_names(&named, SUBJECT_WIDTH.saturating_sub(host_width)).into_iter();
    entries
        .iter()
        .map(|e| match about_container(e) {
            Some(host) => {
                format!("{}{}", super::host_prefix(model, host), names.next().unwrap_or_default())
            }
            None => one_line(&e.container).into_owned(),
        })
        .collect()
}

/// `T+5s`, `T+12m`, `T+3h05m`: short enough for the column at any age.
fn offset(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("T+{s}s"),
        s if s < 3600 => format!("T+{}m", s / 60),
        s => format!("T+{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::derived::Derived;
    use crate::model::compose::ComposeInfo;
    use crate::model::{Container, ContainerEvent, Inventory, Update};
    use crate::timeline::incidents;
    use crate::ui::theme::Theme;

    fn at(seconds: i64) -> chrono::DateTime<Utc> {
        Utc.timestamp_opt(1_750_000_000 + seconds, 0).single().expect("a time")
    }

    const SERVICES: [&str; 3] = ["redis", "app", "postgres"];

    /// Two projects run the same three services (so a subject is named among all of
    /// them); `events` events, one container after another.
    fn model(events: usize) -> Model {
        let mut model = Model::new("unix:///var/run/docker.sock", at(-1000));
        let mut containers = Vec::new();
        for project in ["shop", "billing"] {
            for service in SERVICES {
                let mut c = Container::new(format!("{project}-{service}"), format!("{project}-{service}-1"));
                c.compose = Some(ComposeInfo {
                    project: project.into(),
                    service: service.into(),
                    container_number: Some(1),
                    ..ComposeInfo::default()
                });
                containers.push(c);
            }
        }
        model.apply(Update::Synced(Box::new(Inventory { containers, ..Inventory::default() })));
        for n in 0..events {
            event(&mut model, n);
        }
        model
    }

    fn event(model: &mut Model, n: usize) {
        let project = ["shop", "billing"][n % 2];
        let service = SERVICES[n % 3];
        model.apply(Update::Event(Box::new(ContainerEvent {
            at: at(n as i64 - 900),
            id: format!("{project}-{service}"),
            name: format!("{project}-{service}-1"),
            project: Some(project.into()),
            service: Some(service.into()),
            action: ["start", "die", "restart"][n % 3].into(),
            detail: Some(format!("event {n}")),
        })));
    }

    fn view<'a>(model: &'a Model, derived: &'a Derived, theme: &'a Theme) -> PaneView<'a> {
        super::super::testing::view(model, derived, theme, "Timeline", at(0))
    }

    const WIDTH: u16 = 110;
    const HEIGHT: u16 = 14;

    /// The rows inside the log's borders.
    fn drawn(pane: &mut TimelinePane, view: &PaneView<'_>) -> Vec<String> {
        let rows = super::super::testing::draw(pane, view, WIDTH, HEIGHT);
        rows[1..usize::from(HEIGHT) - 1]
            .iter()
            .map(|row| {
                let inner: String = row.chars().skip(1).take(usize::from(WIDTH) - 2).collect();
                inner.trim_end().to_string()
            })
            .collect()
    }

    /// The rows the whole log gives for the entries `first..` on screen, as the pane
    /// drew them when it named and formatted every entry on every frame.
    fn whole_log(view: &PaneView<'_>, first: usize) -> Vec<String> {
        let entries = incidents(view.model, view.project, None);
        let subjects = subjects(view.model, &entries);
        let rows = usize::from(HEIGHT - 2);
        entries
            .iter()
            .zip(&subjects)
            .skip(first)
            .take(rows)
            .map(|(e, subject)| {
                let mark = if e.reconstructed { "~" } else { " " };
                let row = format!(
                    "{mark}{} {subject:<SUBJECT_WIDTH$}{:<26}{}",
                    clock(view, e.time),
                    e.event,
                    e.detail
                );
                row.trim_end().to_string()
            })
            .collect()
    }

    #[test]
    fn the_rows_on_screen_are_the_ones_the_whole_log_gives() {
        let model = model(60);
        let (derived, theme) = (Derived::default(), Theme::built_in("dark"));
        let view = view(&model, &derived, &theme);
        let mut pane = TimelinePane::default();
        let rows = usize::from(HEIGHT - 2);
        // Following the newest: the last page.
        assert_eq!(drawn(&mut pane, &view), whole_log(&view, 60 - rows));
        assert_eq!(pane.nav.selected, 59);
        let subjects = drawn(&mut pane, &view).join("\n");
        assert!(subjects.contains("billing/redis") && subjects.contains("shop/postgres"), "{subjects}");
        // Scrolled up within the page: it stays; above it: the window starts there.
        pane.scrolled = true;
        for (selected, first) in [(55, 60 - rows), (40, 40), (0, 0), (5, 0), (30, 19), (59, 48)] {
            pane.nav.selected = selected;
            assert_eq!(drawn(&mut pane, &view), whole_log(&view, first), "selected {selected}");
            assert_eq!(pane.nav.offset, first, "selected {selected}");
        }
    }

    #[test]
    fn a_new_event_or_another_filter_is_listed_at_the_next_frame() {
        let mut model = model(20);
        let (derived, theme) = (Derived::default(), Theme::built_in("dark"));
        let mut pane = TimelinePane::default();
        let _ = drawn(&mut pane, &view(&model, &derived, &theme));
        event(&mut model, 20);
        let view = view(&model, &derived, &theme);
        let rows = drawn(&mut pane, &view);
        assert_eq!(rows, whole_log(&view, 21 - usize::from(HEIGHT - 2)));
        assert!(rows.last().is_some_and(|row| row.ends_with("event 20")), "{rows:#?}");
        // One container's events only: shop's redis had events 0, 6, 12 and 18.
        pane.container = Some((0, "shop-redis-1".into()));
        let rows = drawn(&mut pane, &view);
        let listed: Vec<&String> = rows.iter().filter(|row| !row.is_empty()).collect();
        assert_eq!(listed.len(), 4, "{rows:#?}");
        for (row, n) in listed.iter().zip([0, 6, 12, 18]) {
            assert!(row.ends_with(&format!(" event {n}")), "{rows:#?}");
        }
        pane.container = None;
        assert_eq!(drawn(&mut pane, &view).len(), usize::from(HEIGHT - 2));
    }

    #[test]
    fn a_change_of_state_alone_does_not_redo_the_list() {
        let mut model = model(20);
        let (derived, theme) = (Derived::default(), Theme::built_in("dark"));
        let mut pane = TimelinePane::default();
        let _ = drawn(&mut pane, &view(&model, &derived, &theme));
        let worked_out = |pane: &TimelinePane| pane.incidents.as_ref().map(|i| i.positions.as_ptr());
        let before = worked_out(&pane);
        // A probe result moves the state, not the log.
        model.state_revision += 1;
        let _ = drawn(&mut pane, &view(&model, &derived, &theme));
        assert_eq!(worked_out(&pane), before, "kept across a change of state");
        event(&mut model, 20);
        let _ = drawn(&mut pane, &view(&model, &derived, &theme));
        assert_ne!(worked_out(&pane), before, "redone for a new entry");
    }
}
