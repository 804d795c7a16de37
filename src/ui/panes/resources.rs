//! Resources: the limits and reservations a compose file declares, live. Per service:
//! limits and reservations next to what is used now, a TOTAL row per project, and
//! containers without limits flagged.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table, TableState};

use super::{Effect, Handled, ListNav, Pane, PaneView, block};
use crate::model::format::{bytes, percent};
use crate::model::sanitize::one_line;
use crate::model::{Container, Model};
use crate::ui::keymap::Action;
use crate::ui::theme::{Slot, Theme};

#[derive(Debug, Default)]
pub struct ResourcesPane {
    pub nav: ListNav,
    /// Row → container id (None for group and total rows).
    rows: Vec<Option<String>>,
    /// The table as of the last change of the model or the project filter: a frame
    /// formats only the rows on screen, however many containers there are.
    plan: Vec<Planned>,
    unlimited: usize,
    planned_for: Option<(u64, Option<String>)>,
}

/// A line of the table, kept between frames (a service by its container's id).
#[derive(Debug)]
enum Planned {
    Group(String),
    Service(String),
    Total { label: String, sums: Sums },
}

enum Line<'a> {
    Group(String),
    Service(&'a Container),
    Total { label: String, sums: Sums },
}

/// What a TOTAL row adds up.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    cpus: f64,
    memory: u64,
    cpu_now: f64,
    memory_now: u64,
    unlimited: usize,
}

impl Sums {
    fn add(&mut self, other: Sums) {
        self.cpus += other.cpus;
        self.memory += other.memory;
        self.cpu_now += other.cpu_now;
        self.memory_now += other.memory_now;
        self.unlimited += other.unlimited;
    }
}

impl ResourcesPane {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl Pane for ResourcesPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        let key = (view.model.revision, view.project.map(String::from));
        if self.planned_for.as_ref() == Some(&key) {
            return;
        }
        let lines = build(view.model, view.project);
        self.unlimited =
            lines.iter().filter(|l| matches!(l, Line::Service(c) if no_limits(c))).count();
        self.plan = lines
            .into_iter()
            .map(|l| match l {
                Line::Group(name) => Planned::Group(name),
                Line::Service(c) => Planned::Service(c.id.clone()),
                Line::Total { label, sums } => Planned::Total { label, sums },
            })
            .collect();
        self.rows = self
            .plan
            .iter()
            .map(|l| match l {
                Planned::Service(id) => Some(id.clone()),
                _ => None,
            })
            .collect();
        self.planned_for = Some(key);
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        self.nav.take_movement(action, self.rows.len())
    }

    fn selected_container(&self) -> Option<&str> {
        self.rows.get(self.nav.selected).and_then(|r| r.as_deref())
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let model = view.model;
        let theme = view.theme;
        // `sync` worked the table out for this model just before the frame.
        let unlimited = self.unlimited;
        let title = if unlimited > 0 {
            format!("Resources · limits & reservations · {unlimited} without limits")
        } else {
            "Resources · limits & reservations".to_string()
        };
        let outer = block(view, title);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        if inner.height < 2 {
            return;
        }
        let header = Row::new(
            [
                "SERVICE",
                "CPU LIMIT",
                "CPU RESERVE",
                "CPU NOW",
                "MEM LIMIT",
                "MEM RESERVE",
                "MEM NOW",
                "NOTE",
            ]
            .map(|h| Cell::from(Span::styled(h, theme.style(Slot::Label)))),
        );
        let visible = inner.height.saturating_sub(1) as usize;
        let range = self.nav.window(self.plan.len(), visible);
        let rows: Vec<Row> = self.plan[range.clone()]
            .iter()
            .filter_map(|planned| {
                let line = match planned {
                    Planned::Group(name) => Line::Group(name.clone()),
                    Planned::Service(id) => Line::Service(model.containers.get(id)?),
                    Planned::Total { label, sums } => {
                        Line::Total { label: label.clone(), sums: *sums }
                    }
                };
                Some(row(&line, model, theme))
            })
            .collect();
        let widths = [
            Constraint::Fill(2),
            Constraint::Length(9),
            Constraint::Length(11),
            Constraint::Length(15),
            Constraint::Length(9),
            Constraint::Length(11),
            Constraint::Length(15),
            Constraint::Fill(1),
        ];
        let table = Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .row_highlight_style(theme.style(Slot::Selection));
        let mut state = TableState::default();
        if !self.plan.is_empty() {
            state.select(Some(self.nav.selected - range.start));
        }
        frame.render_stateful_widget(table, inner, &mut state);
    }
}

fn no_limits(c: &Container) -> bool {
    c.limits.cpus.is_none() && c.limits.memory_bytes.is_none()
}

fn build<'a>(model: &'a Model, project: Option<&str>) -> Vec<Line<'a>> {
    let mut containers: Vec<&Container> =
        model.containers.values().filter(|c| c.in_project(project)).collect();
    containers.sort_by(|a, b| {
        use crate::model::natural::{natural_cmp, natural_cmp_opt};
        a.host
            .cmp(&b.host)
            .then_with(|| natural_cmp_opt(a.project(), b.project()))
            .then_with(|| natural_cmp_opt(a.service(), b.service()))
            .then_with(|| natural_cmp(&a.name, &b.name))
    });
    let mut lines = Vec::new();
    let mut host_sums = Sums::default();
    let mut host_groups = 0;
    let mut groups = super::project_groups(&containers).peekable();
    while let Some(members) = groups.next() {
        let (host, group) = (members[0].host, members[0].project());
        let name = group.unwrap_or(super::containers::STANDALONE);
        lines.push(Line::Group(format!("{}{name}", super::host_prefix(model, host))));
        let mut total = Sums::default();
        for c in members {
            lines.push(Line::Service(c));
            total.cpus += c.limits.cpus.unwrap_or(0.0);
            total.memory += c.limits.memory_bytes.unwrap_or(0);
            if c.state.is_running()
                && !super::host_lost(model, c.host)
                && let Some(p) = model.latest_stats(&c.id)
            {
                total.cpu_now += p.cpu_percent.unwrap_or(0.0);
                total.memory_now += p.memory_bytes.unwrap_or(0);
            }
            if no_limits(c) {
                total.unlimited += 1;
            }
        }
        lines.push(Line::Total { label: "TOTAL".to_string(), sums: total });
        host_sums.add(total);
        host_groups += 1;
        let host_ends = groups.peek().is_none_or(|next| next[0].host != host);
        if host_ends {
            // An engine of one group would repeat its TOTAL: only several are summed.
            if model.multi_host() && host_groups > 1 {
                let label = format!("TOTAL on {}", one_line(&model.host(host).name));
                lines.push(Line::Total { label, sums: host_sums });
            }
            host_sums = Sums::default();
            host_groups = 0;
        }
    }
    lines
}

fn against(now: String, share: Option<f64>) -> String {
    match share {
        Some(share) => format!("{now} ({})", percent(share)),
        None => now,
    }
}

fn row<'a>(line: &Line<'_>, model: &Model, theme: &Theme) -> Row<'a> {
    let dash = || "–".to_string();
    match line {
        Line::Group(name) => Row::new(vec![Cell::from(Span::styled(
            one_line(name).into_owned(),
            theme.style(Slot::Group),
        ))]),
        Line::Service(c) => {
            let running = c.state.is_running();
            // An unreachable engine's figures are old: none is shown as "now".
            let lost = super::host_lost(model, c.host);
            let p = if running && !lost { model.latest_stats(&c.id) } else { None };
            let cpu_now = p.and_then(|p| p.cpu_percent);
            let cpu_share = cpu_now.zip(c.limits.cpus).map(|(now, limit)| now / limit);
            let mem_now = p.and_then(|p| p.memory_bytes);
            let mem_share = mem_now
                .zip(c.limits.memory_bytes)
                .map(|(now, limit)| now as f64 / limit.max(1) as f64 * 100.0);
            let note = if no_limits(c) {
                "no limits".to_string()
            } else if c.limits.cpus.is_none() {
                "no CPU limit".to_string()
            } else if c.limits.memory_bytes.is_none() {
                "no memory limit".to_string()
            } else if !running {
                c.state.as_str().to_string()
            } else {
                String::new()
            };
            let warn = !note.is_empty() && running;
            let hot = cpu_share.is_some_and(|s| s >= 95.0) || mem_share.is_some_and(|s| s >= 80.0);
            let style = if lost {
                theme.style(Slot::Muted)
            } else if hot {
                theme.style(Slot::Error)
            } else if warn {
                theme.style(Slot::Warning)
            } else {
                Style::default()
            };
            Row::new(vec![
                Cell::from(format!("  {}", one_line(c.display_name()))),
                Cell::from(c.limits.cpus.map_or_else(dash, |c| format!("{c}"))),
                // docker run has no CPU reservation; only swarm services do.
                Cell::from(dash()),
                Cell::from(cpu_now.map_or_else(dash, |now| against(percent(now), cpu_share))),
                Cell::from(c.limits.memory_bytes.map_or_else(dash, bytes)),
                Cell::from(c.limits.memory_reservation_bytes.map_or_else(dash, bytes)),
                Cell::from(mem_now.map_or_else(dash, |now| against(bytes(now), mem_share))),
                Cell::from(note),
            ])
            .style(style)
        }
        Line::Total { label, sums } => {
            let Sums { cpus, memory, cpu_now, memory_now, unlimited } = sums;
            let bold = theme.style(Slot::Accent);
            Row::new(vec![
                Cell::from(format!("  {label}")),
                Cell::from(if *cpus > 0.0 { format!("{cpus}") } else { dash() }),
                Cell::from(dash()),
                Cell::from(percent(*cpu_now)),
                Cell::from(if *memory > 0 { bytes(*memory) } else { dash() }),
                Cell::from(dash()),
                Cell::from(bytes(*memory_now)),
                Cell::from(if *unlimited > 0 {
                    format!("{unlimited} unlimited")
                } else {
                    String::new()
                }),
            ])
            .style(bold)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::theme::Theme;

    #[test]
    fn the_table_is_worked_out_once_per_change_not_per_frame() {
        let mut model = crate::topology::fixtures::three_hosts();
        let derived = crate::derived::Derived::default();
        let theme = Theme::built_in("dark");
        fn view<'a>(
            model: &'a Model,
            derived: &'a crate::derived::Derived,
            theme: &'a Theme,
        ) -> PaneView<'a> {
            super::super::testing::view(model, derived, theme, "Resources", chrono::Utc::now())
        }
        let mut pane = ResourcesPane::default();
        pane.sync(&view(&model, &derived, &theme));
        let services = pane.rows.iter().flatten().count();
        assert_eq!(services, model.containers.len());
        let planned = pane.plan.as_ptr();
        pane.sync(&view(&model, &derived, &theme));
        assert_eq!(pane.plan.as_ptr(), planned, "kept for a frame with no change");
        model.revision += 1;
        pane.sync(&view(&model, &derived, &theme));
        assert_ne!(pane.plan.as_ptr(), planned, "worked out again for a change");
    }
}
