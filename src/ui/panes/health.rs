//! Health: every healthcheck as a flow — the engine runs the probe every N seconds,
//! each result passes or fails — with the probe's
//! configuration, the last results and a history strip so flapping shows.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{ContainerList, Effect, Handled, Pane, PaneView, ago, block, clock};
use crate::model::format::nanos;
use crate::model::sanitize::one_line;
use crate::model::{Container, HealthProbe, HealthStatus};
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

#[derive(Debug, Default)]
pub struct HealthPane {
    pub list: ContainerList,
    names: super::RowNames,
}

/// The containers with a healthcheck, trouble first, then by name.
fn checked<'m>(view: &PaneView<'m>) -> Vec<&'m Container> {
    let project = view.project;
    let mut checked: Vec<&Container> = view
        .model
        .containers
        .values()
        .filter(|c| c.in_project(project) && c.healthcheck.is_some())
        .collect();
    checked.sort_by(|a, b| {
        rank(a.health_status())
            .cmp(&rank(b.health_status()))
            .then_with(|| crate::model::natural::natural_cmp(&a.name, &b.name))
            .then_with(|| a.host.cmp(&b.host))
    });
    checked
}

impl Pane for HealthPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.list.set(checked(view).iter().map(|c| c.id.clone()).collect());
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        self.list.take_movement(action)
    }

    fn selected_container(&self) -> Option<&str> {
        self.list.selected()
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let model = view.model;
        let theme = view.theme;
        let project = view.project;
        let checked = checked(view);
        let shown: Vec<&Container> =
            model.containers.values().filter(|c| c.in_project(project)).collect();
        // A card's name follows its status column (12 wide), inside the borders.
        let room = usize::from(area.width.saturating_sub(2))
            .saturating_sub(12 + super::host_width(model, &shown));
        let names = self.names.get(view, room, || shown.clone());
        let name = |c: &Container| names.get(&c.id).cloned().unwrap_or_else(|| c.name.clone());
        let unchecked: Vec<String> = shown
            .iter()
            .filter(|c| c.healthcheck.is_none())
            .map(|c| format!("{}{}", super::host_prefix(model, c.host), name(c)))
            .collect();
        let outer = block(
            view,
            format!(
                "Health · {} checked, {} without a healthcheck",
                checked.len(),
                unchecked.len()
            ),
        );
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        if inner.height == 0 {
            return;
        }
        let width = inner.width as usize;
        let footer = if unchecked.is_empty() {
            None
        } else {
            Some(Line::from(vec![
                Span::styled("No healthcheck: ", theme.style(Slot::Warning)),
                Span::styled(
                    one_line(&unchecked.join(", ")).into_owned(),
                    theme.style(Slot::Muted),
                ),
            ]))
        };
        let room = inner.height as usize - usize::from(footer.is_some());
        let blocks: Vec<Vec<Line>> =
            checked.iter().map(|c| card(c, &name(c), view, width)).collect();
        let per = blocks.iter().map(Vec::len).max().unwrap_or(1);
        let range = self.list.nav.window(blocks.len(), (room / per.max(1)).max(1));
        let mut lines = Vec::new();
        for index in range {
            for (n, mut line) in blocks[index].clone().into_iter().enumerate() {
                if n == 0 && index == self.list.nav.selected {
                    line = theme.selected(line);
                }
                lines.push(line);
            }
        }
        if checked.is_empty() {
            lines.push(Line::from(Span::styled(
                "No container here has a healthcheck.",
                theme.style(Slot::Muted),
            )));
        }
        lines.truncate(room);
        if let Some(footer) = footer {
            while lines.len() < room {
                lines.push(Line::default());
            }
            lines.push(footer);
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

fn rank(status: HealthStatus) -> u8 {
    match status {
        HealthStatus::Unhealthy => 0,
        HealthStatus::Starting => 1,
        HealthStatus::Healthy => 2,
        HealthStatus::None => 3,
    }
}

fn card<'a>(c: &Container, name: &str, view: &PaneView<'_>, width: usize) -> Vec<Line<'a>> {
    let theme = view.theme;
    let Some(check) = &c.healthcheck else { return Vec::new() };
    let status = c.health_status();
    let streak = c.health.as_ref().map_or(0, |h| h.failing_streak);
    let mut title = vec![
        Span::styled(format!("{:<12}", status.marked()), theme.health(status)),
        Span::styled(
            format!("{}{name}", super::host_prefix(view.model, c.host)),
            theme.style(Slot::Title),
        ),
    ];
    if c.project().is_some() && name != c.name {
        title.push(Span::styled(format!("  ({})", one_line(&c.name)), theme.style(Slot::Muted)));
    }
    if streak > 0 {
        title.push(Span::styled(format!("  failing streak {streak}"), theme.style(Slot::Error)));
    }
    if !c.state.is_running() {
        title.push(Span::styled(format!("  [{}]", c.state.as_str()), theme.style(Slot::Muted)));
    }
    if super::host_lost(view.model, c.host) {
        title.push(Span::styled("  [engine unreachable: last known]", theme.style(Slot::Muted)));
    }
    let every = check.interval_ns.map_or("30s".to_string(), nanos);
    let mut config = format!("engine ─► every {every} ─► {}", one_line(&check.command()));
    let mut extras = Vec::new();
    extras.push(format!("timeout {}", check.timeout_ns.map_or("30s".to_string(), nanos)));
    extras.push(format!("{} retries", check.retries.unwrap_or(3)));
    if let Some(start) = check.start_period_ns {
        extras.push(format!("start period {}", nanos(start)));
    }
    config.push_str(&format!("  ({})", extras.join(", ")));
    let history = view.model.history.get(&c.id);
    let probes: Vec<&HealthProbe> = match history {
        Some(h) if !h.probes.is_empty() => h.probes.iter().collect(),
        _ => c.health.as_ref().map(|h| h.log.iter().collect()).unwrap_or_default(),
    };
    // The strip: one cell per probe, newest on the right.
    let room = width.saturating_sub(14).max(1);
    let start = probes.len().saturating_sub(room);
    let mut strip = vec![Span::styled(format!("{:<12}", "history"), theme.style(Slot::Label))];
    for probe in &probes[start..] {
        let (glyph, slot) =
            if probe.exit_code == Some(0) { ("▮", Slot::Ok) } else { ("▮", Slot::Error) };
        strip.push(Span::styled(glyph, theme.style(slot)));
    }
    let passed = probes.iter().filter(|p| p.exit_code == Some(0)).count();
    let summary = if probes.is_empty() {
        "no probe has run yet".to_string()
    } else {
        format!("  {passed}/{} passed", probes.len())
    };
    strip.push(Span::styled(summary, theme.style(Slot::Muted)));
    let mut lines = vec![
        Line::from(title),
        Line::from(vec![Span::raw("            "), Span::styled(config, theme.style(Slot::Value))]),
        Line::from(strip),
    ];
    for probe in probes.iter().rev().take(2) {
        let when = probe.start.map(|t| clock(view, t)).unwrap_or_default();
        let took = match (probe.start, probe.end) {
            (Some(s), Some(e)) => format!("{}ms", (e - s).num_milliseconds().max(0)),
            _ => "?".into(),
        };
        let code = probe.exit_code.map_or("?".to_string(), |c| c.to_string());
        let output =
            one_line(probe.output.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or(""))
                .into_owned();
        let slot = if probe.exit_code == Some(0) { Slot::Ok } else { Slot::Error };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<12}", when), theme.style(Slot::Label)),
            Span::styled(format!("exit {code:<3} "), theme.style(slot)),
            Span::styled(format!("{took:>7}  "), theme.style(Slot::Muted)),
            Span::styled(output, theme.style(Slot::Muted)),
            Span::styled(format!("  {}", ago(view.now, probe.end)), theme.style(Slot::Muted)),
        ]));
    }
    lines.push(Line::default());
    lines
}
