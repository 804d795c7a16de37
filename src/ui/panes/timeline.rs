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
use crate::model::{HostId, Model, TimelineEntry};
use crate::model::sanitize::one_line;
use crate::timeline::{incidents, startup_projects, startup_sequence_on};
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
    /// How many entries the incident log lists.
    len: usize,
}

impl TimelinePane {
    fn entries<'m>(&self, view: &PaneView<'m>) -> Vec<&'m crate::model::TimelineEntry> {
        let name = self.container.as_ref().map(|(_, name)| name.as_str());
        let mut entries = incidents(view.model, view.project, name);
        if let Some((host, _)) = &self.container {
            entries.retain(|e| e.host == Some(*host));
        }
        entries
    }
}

impl Pane for TimelinePane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.len = self.entries(view).len();
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
                self.scrolled = true;
                self.nav.move_by(delta, self.len);
                if self.nav.selected + 1 >= self.len {
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
        let model = view.model;
        let theme = view.theme;
        let project = view.project;
        // The startup sequence of the filtered project, or of the first project, on the
        // first engine that runs it: a project on two engines started twice.
        let projects = startup_projects(model);
        let shown = match project {
            Some(p) => projects.iter().find(|(_, name)| *name == p).copied(),
            None => projects.first().copied(),
        };
        let steps = shown.map(|(h, p)| startup_sequence_on(model, h, p)).unwrap_or_default();
        let seq_height =
            if steps.is_empty() { 0 } else { (steps.len() as u16 + 3).min(area.height / 2) };
        let [seq_area, log_area] =
            Layout::vertical([Constraint::Length(seq_height), Constraint::Fill(1)]).areas(area);
        if let Some((host, p)) = shown.filter(|_| seq_height > 0) {
            let on_host = if model.multi_host() {
                format!(" on {}", one_line(&model.host(host).name))
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
            for step in &steps {
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
        let entries = self.entries(view);
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
            format!(
                "Incident log · {} events{filter}{dropped} (c: this container only)",
                entries.len()
            ),
        );
        let inner = outer.inner(log_area);
        frame.render_widget(outer, log_area);
        if inner.height == 0 {
            return;
        }
        if !self.scrolled {
            self.nav.selected = entries.len().saturating_sub(1);
        }
        let range = self.nav.window(entries.len(), inner.height as usize);
        let subjects = subjects(model, &entries);
        let lines: Vec<Line> = entries[range.clone()]
            .iter()
            .zip(&subjects[range.clone()])
            .enumerate()
            .map(|(i, (e, subject))| {
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
                if range.start + i == self.nav.selected && self.scrolled {
                    theme.selected(line)
                } else {
                    line
                }
            })
            .collect();
        if entries.is_empty() {
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
