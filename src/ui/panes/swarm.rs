//! Swarm: when the engine is a swarm manager, its services (mode, replicas running of
//! desired, image, ports, update status), the tasks that keep failing with their
//! error, and one box per node with the tasks placed on it, grouped by service.
//! Anywhere else it says plainly that there is no swarm.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use super::{Effect, Handled, ListNav, Pane, PaneView, ago, block};
use crate::model::format;
use crate::model::sanitize::one_line;
use crate::model::{Swarm, SwarmNode, SwarmService, SwarmTask};
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

#[derive(Debug, Default)]
pub struct SwarmPane {
    /// The selected service row.
    pub nav: ListNav,
    /// How many services are listed.
    len: usize,
}

/// Cuts `text`, which the engine's users chose, to `width` characters, marking the cut.
fn fit(text: &str, width: usize) -> String {
    format::fit(&one_line(text), width)
}

fn pad(text: &str, width: usize) -> String {
    format!("{:<width$}", fit(text, width))
}

fn task_slot(task: &SwarmTask) -> Slot {
    match task.state.as_str() {
        "running" => Slot::StateRunning,
        "failed" | "rejected" => Slot::Error,
        "complete" => Slot::StateExitedOk,
        "shutdown" | "orphaned" | "remove" => Slot::Muted,
        _ => Slot::StateRestarting,
    }
}

fn node_slot(node: &SwarmNode) -> Slot {
    match node.status.as_deref() {
        Some("ready") if node.availability.as_deref() == Some("active") => Slot::Ok,
        Some("ready") => Slot::Warning,
        _ => Slot::Error,
    }
}

impl SwarmPane {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

}

impl Pane for SwarmPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.len = view.model.swarm.as_ref().map_or(0, |s| shown_services(s, view.project).len());
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        self.nav.take_movement(action, self.len)
    }

    /// Only where there is a swarm.
    fn has_tab(&self, model: &crate::model::Model) -> bool {
        model.swarm.is_some()
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let theme = view.theme;
        let project = view.project;
        let Some(swarm) = &view.model.swarm else {
            let outer = block(view, "Swarm · not a swarm manager".to_string());
            let inner = outer.inner(area);
            frame.render_widget(outer, area);
            let lines = vec![
                Line::from(Span::styled(
                    "This engine is not a swarm manager: there are no nodes, services or tasks to show.",
                    theme.style(Slot::Value),
                )),
                Line::default(),
                Line::from(Span::styled(
                    "A manager (docker swarm init, or a manager's socket) shows them here.",
                    theme.style(Slot::Muted),
                )),
            ];
            frame.render_widget(
                Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }),
                inner,
            );
            return;
        };
        let services = shown_services(swarm, project);
        let failed: Vec<_> = swarm
            .failed_tasks()
            .into_iter()
            .filter(|f| services.iter().any(|s| s.id == f.service.id))
            .collect();
        let below = services.iter().filter(|s| swarm.is_below_desired(s)).count();
        let mut title = format!(
            "Swarm · {} · {}",
            plural(swarm.nodes.len(), "node"),
            plural(services.len(), "service")
        );
        if below > 0 {
            title.push_str(&format!(" · {below} below replicas"));
        }
        let outer = block(view, title);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        if inner.height < 3 {
            return;
        }

        let failing_rows = if failed.is_empty() { 0 } else { failed.len().min(4) + 1 };
        let table_rows = (services.len().max(1) + 1) as u16;
        let rest = inner.height.saturating_sub(failing_rows as u16);
        // The nodes get what is left, but never less than a box of three lines.
        let table_height = table_rows.min(rest.saturating_sub(4).max(2));
        let [table_area, failing_area, nodes_area] = Layout::vertical([
            Constraint::Length(table_height),
            Constraint::Length(failing_rows as u16),
            Constraint::Min(0),
        ])
        .areas(inner);

        self.render_services(frame, table_area, view, swarm, &services);

        if !failed.is_empty() {
            let width = failing_area.width as usize;
            let mut lines =
                vec![Line::from(Span::styled("Failing tasks", theme.style(Slot::Accent)))];
            for f in failed.iter().take(4) {
                let name = swarm.task_name(f.task);
                let node = swarm.node_name(f.task.node_id.as_deref());
                let mut cause = f.task.error_words();
                if f.failures > 1 {
                    cause.push_str(&format!(" · failed {} times in a row", f.failures));
                }
                let head = format!("✗ {name} on {node} ");
                let since = format!("{} ", ago(view.now, f.since));
                let room = width.saturating_sub(head.chars().count() + since.chars().count());
                lines.push(Line::from(vec![
                    Span::styled(fit(&head, width), theme.style(Slot::Error)),
                    Span::styled(since, theme.style(Slot::Muted)),
                    Span::styled(fit(&cause, room), theme.style(Slot::Value)),
                ]));
            }
            frame.render_widget(Paragraph::new(lines), failing_area);
        }

        render_nodes(frame.buffer_mut(), nodes_area, view, swarm, &services);
    }
}

impl SwarmPane {
    fn render_services(
        &mut self,
        frame: &mut Frame,
        area: Rect,
        view: &PaneView<'_>,
        swarm: &Swarm,
        services: &[&SwarmService],
    ) {
        let theme = view.theme;
        let width = area.width as usize;
        // Name, mode and replicas keep their width; image, ports and update share the rest.
        let name_w =
            services.iter().map(|s| s.name.chars().count()).max().unwrap_or(4).clamp(4, 20);
        let fixed = name_w + 1 + 11 + 1 + 8 + 1;
        let flexible = width.saturating_sub(fixed);
        let image_w = (flexible * 2 / 5).max(5);
        let ports_w = (flexible / 4).max(5);
        let update_w = flexible.saturating_sub(image_w + ports_w + 2);
        let header = format!(
            "{} {} {} {} {} {}",
            pad("NAME", name_w),
            pad("MODE", 11),
            pad("REPLICAS", 8),
            pad("IMAGE", image_w),
            pad("PORTS", ports_w),
            fit("UPDATE", update_w)
        );
        let mut lines =
            vec![Line::from(Span::styled(fit(&header, width), theme.style(Slot::Label)))];
        if services.is_empty() {
            lines.push(Line::from(Span::styled(
                "No services yet (docker service create).",
                theme.style(Slot::Muted),
            )));
            frame.render_widget(Paragraph::new(lines), area);
            return;
        }
        let visible = (area.height as usize).saturating_sub(1).max(1);
        let range = self.nav.window(services.len(), visible);
        for index in range {
            let service = services[index];
            let (running, desired) = swarm.replicas(service);
            let replicas_slot = if swarm.is_below_desired(service) {
                if running == 0 { Slot::Error } else { Slot::Warning }
            } else {
                Slot::Ok
            };
            let ports: Vec<String> = service.ports.iter().map(|p| p.label()).collect();
            let update = service.update_status().unwrap_or_default();
            let update_slot = match service.update_state.as_deref() {
                Some("paused" | "rollback_paused") => Slot::Error,
                Some("updating" | "rollback_started") => Slot::Warning,
                _ => Slot::Muted,
            };
            let mut line = Line::from(vec![
                Span::styled(pad(&service.name, name_w), theme.style(Slot::Title)),
                Span::raw(" "),
                Span::styled(
                    pad(service.mode.map_or("?", |m| m.as_str()), 11),
                    theme.style(Slot::Value),
                ),
                Span::raw(" "),
                Span::styled(pad(&format!("{running}/{desired}"), 8), theme.style(replicas_slot)),
                Span::raw(" "),
                Span::styled(pad(&service.image, image_w), theme.style(Slot::Value)),
                Span::raw(" "),
                Span::styled(pad(&ports.join(","), ports_w), theme.style(Slot::Value)),
                Span::raw(" "),
                Span::styled(fit(&update, update_w), theme.style(update_slot)),
            ]);
            if index == self.nav.selected {
                line = theme.selected(line);
            }
            lines.push(line);
        }
        frame.render_widget(Paragraph::new(lines), area);
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// Rows the map gives its swarm band: the tallest node box and the band's border,
/// at most a third of the map. `None` when there is no room for it.
pub fn map_band_height(view: &PaneView<'_>, area: Rect) -> Option<u16> {
    let swarm = view.model.swarm.as_ref()?;
    if area.height < 15 || swarm.nodes.is_empty() {
        return None;
    }
    let services = shown_services(swarm, view.project);
    let tallest = swarm
        .nodes
        .keys()
        .map(|id| {
            let groups = swarm.tasks_on_node(id);
            groups.iter().filter(|(name, _)| services.iter().any(|s| &s.name == name)).count()
        })
        .max()
        .unwrap_or(0)
        .max(1) as u16;
    // Facts line, the groups, the node box's border and the band's.
    Some((tallest + 1 + 2 + 2).min(area.height / 3))
}

/// The map's swarm band: node boxes with the tasks placed on them, by service.
pub fn render_map_band(buf: &mut Buffer, area: Rect, view: &PaneView<'_>) {
    let Some(swarm) = &view.model.swarm else { return };
    let services = shown_services(swarm, view.project);
    let below = services.iter().filter(|s| swarm.is_below_desired(s)).count();
    let mut title = format!(
        " Swarm · {} on {}",
        plural(services.len(), "service"),
        plural(swarm.nodes.len(), "node")
    );
    if below > 0 {
        title.push_str(&format!(" · {below} below replicas (W)"));
    }
    title.push(' ');
    let band = Block::default()
        .borders(Borders::ALL)
        .border_style(view.theme.style(Slot::Border))
        .title(Span::styled(
            title,
            view.theme.style(if below > 0 { Slot::Warning } else { Slot::Title }),
        ));
    let inner = band.inner(area);
    band.render(area, buf);
    render_nodes(buf, inner, view, swarm, &services);
}

fn shown_services<'a>(swarm: &'a Swarm, project: Option<&str>) -> Vec<&'a SwarmService> {
    swarm.services_by_name().into_iter().filter(|s| s.in_project(project)).collect()
}

/// One box per node, side by side and wrapping, each listing its tasks by service.
fn render_nodes(
    buf: &mut Buffer,
    area: Rect,
    view: &PaneView<'_>,
    swarm: &Swarm,
    services: &[&SwarmService],
) {
    let theme = view.theme;
    if area.height < 3 || area.width < 12 {
        return;
    }
    let nodes = swarm.nodes_sorted();
    if nodes.is_empty() {
        return;
    }
    let shown = |name: &str| services.iter().any(|s| s.name == name);
    let cards: Vec<(Line, Vec<Line>)> = nodes
        .iter()
        .map(|node| {
            let leader = if node.leader { " ★" } else { "" };
            let title = Line::from(vec![Span::styled(
                format!(" {}{leader} ", one_line(&node.hostname)),
                theme.style(Slot::Title),
            )]);
            let facts = [
                node.role.as_deref().unwrap_or("?"),
                node.availability.as_deref().unwrap_or("?"),
                node.status.as_deref().unwrap_or("?"),
                node.engine_version.as_deref().unwrap_or("?"),
            ]
            .join(" · ");
            let mut lines = vec![Line::from(Span::styled(facts, theme.style(node_slot(node))))];
            let groups = swarm.tasks_on_node(&node.id);
            let groups: Vec<_> = groups.into_iter().filter(|(name, _)| shown(name)).collect();
            if groups.is_empty() {
                lines.push(Line::from(Span::styled("no tasks", theme.style(Slot::Muted))));
            }
            for (service, tasks) in groups {
                let mut spans = vec![Span::styled(
                    format!("{} ", one_line(&service)),
                    theme.style(Slot::Label),
                )];
                for task in tasks {
                    let slot = task.slot.map(|s| format!(".{s}")).unwrap_or_default();
                    spans.push(Span::styled(
                        format!("{slot} {} ", task.state),
                        theme.style(task_slot(task)),
                    ));
                }
                lines.push(Line::from(spans));
            }
            (title, lines)
        })
        .collect();
    let widest = cards
        .iter()
        .flat_map(|(t, lines)| std::iter::once(t.width()).chain(lines.iter().map(Line::width)))
        .max()
        .unwrap_or(20);
    let box_w = ((widest + 2) as u16).clamp(24, area.width);
    let per_row = (area.width / box_w).max(1) as usize;
    let mut y = area.y;
    let mut drawn = 0;
    for row in cards.chunks(per_row) {
        let height = row.iter().map(|(_, l)| l.len()).max().unwrap_or(1) as u16 + 2;
        let height = height.min(area.bottom().saturating_sub(y));
        if height < 3 {
            break;
        }
        drawn += row.len();
        for (i, (title, lines)) in row.iter().enumerate() {
            let rect = Rect::new(area.x + i as u16 * box_w, y, box_w, height);
            let card = Block::default()
                .borders(Borders::ALL)
                .border_style(theme.style(Slot::Border))
                .title(title.clone());
            let inner = card.inner(rect);
            card.render(rect, buf);
            Paragraph::new(lines.clone()).render(inner, buf);
        }
        y += height;
    }
    // Never a silent cut: say how many nodes had no room.
    if drawn < cards.len() {
        let note = format!(" {} more not shown ", plural(cards.len() - drawn, "node"));
        let width = (note.chars().count() as u16).min(area.width);
        let rect = Rect::new(area.right().saturating_sub(width), area.bottom() - 1, width, 1);
        Paragraph::new(Span::styled(note, theme.style(Slot::Warning))).render(rect, buf);
    }
}
