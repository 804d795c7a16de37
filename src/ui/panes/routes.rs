//! Routes: every reverse-proxy route and published port, grouped by proxy and then by
//! host, joined to the container it reaches, with a verdict and the reason when it is
//! broken. The selected route's whole story (rule, middlewares, target state, note)
//! sits below the table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Effect, Handled, ListNav, Pane, PaneView, block};
use std::rc::Rc;

use crate::model::Model;
use crate::model::sanitize::one_line;
use crate::routes::table::{ProxyNote, Route, RouteKind, RouteTable};
use crate::ui::keymap::Action;
use crate::ui::theme::{Slot, Theme};

#[derive(Debug, Default)]
pub struct RoutesPane {
    pub nav: ListNav,
    /// The derived table: parsing labels and nginx files is work done once per
    /// change of the containers, not per frame nor per stats tick.
    cache: Option<Rc<RouteTable>>,
    /// What each row shows: rebuilt with the table.
    rows: Vec<RowKind>,
    /// Every route's cells and the column widths for one list width: laid out once
    /// per change of the table or of the width, not once per frame.
    laid_out: Option<LaidOut>,
}

/// Dropped with the table it was laid out for.
#[derive(Debug)]
struct LaidOut {
    width: u16,
    cells: Vec<Vec<(String, Style)>>,
    widths: Vec<usize>,
}

#[derive(Debug, Clone)]
enum RowKind {
    Group { title: String },
    Note { message: String },
    Route(usize),
}

impl RoutesPane {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Takes the derived table, and rebuilds the rows when it is a new one.
    fn take(&mut self, view: &PaneView<'_>) {
        let table = view.derived.routes(view.model, view.project);
        if self.cache.as_ref().is_some_and(|held| Rc::ptr_eq(held, &table)) {
            return;
        }
        self.rows = rows(&table, view.model);
        self.laid_out = None;
        self.cache = Some(table);
    }
}

impl Pane for RoutesPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.take(view);
        // Start on the first route, not on its group's title or a note.
        if self.nav.selected == 0
            && let Some(first) = self.rows.iter().position(|r| matches!(r, RowKind::Route(_)))
        {
            self.nav.selected = first;
        }
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        self.nav.take_movement(action, self.rows.len())
    }

    /// The target container of the selected route.
    fn selected_container(&self) -> Option<&str> {
        let table = self.cache.as_ref()?;
        match self.rows.get(self.nav.selected)? {
            RowKind::Route(i) => table.routes.get(*i)?.target_id.as_deref(),
            _ => None,
        }
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let theme = view.theme;
        let Some(table) = self.cache.clone() else { return };
        let broken = table.broken();
        let mut title = format!("Routes · {} routes", table.routes.len());
        if broken > 0 {
            title.push_str(&format!(" · {broken} broken"));
        }
        let outer = block(view, title);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        if inner.height < 2 {
            return;
        }
        if table.routes.is_empty() && table.notes.is_empty() {
            let text = "No routes: no Traefik labels, no nginx proxy and no published port.";
            frame.render_widget(Paragraph::new(text).style(theme.style(Slot::Muted)), inner);
            return;
        }
        let detail_height = if inner.height >= 16 { 5 } else { 0 };
        let [list_area, detail_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(detail_height)]).areas(inner);
        let wide = list_area.width >= 110;
        let visible = list_area.height.saturating_sub(1) as usize;
        let range = self.nav.window(self.rows.len(), visible);
        let headers: &[&str] = if wide {
            &["ENTRY", "HOST", "PATH", "TLS · MIDDLEWARES", "TARGET", "STATE", "VERDICT"]
        } else {
            &["ENTRY", "HOST · PATH", "TARGET", "VERDICT"]
        };
        let stale = self.laid_out.as_ref().is_none_or(|l| l.width != list_area.width);
        if stale {
            let cells: Vec<Vec<(String, Style)>> =
                table.routes.iter().map(|route| route_cells(route, theme, wide)).collect();
            let priority: &[usize] = if wide { &[3, 4, 4, 1, 3, 1, 4] } else { &[2, 3, 3, 3] };
            let widths = fit_columns(headers, priority, &cells, list_area.width as usize);
            self.laid_out = Some(LaidOut { width: list_area.width, cells, widths });
        }
        let Some(LaidOut { cells, widths, .. }) = self.laid_out.as_ref() else { return };
        let mut lines: Vec<Line> = Vec::with_capacity(range.len() + 1);
        lines.push(Line::from(
            headers
                .iter()
                .zip(widths)
                .map(|(h, w)| Span::styled(pad(h, *w), theme.style(Slot::Label)))
                .collect::<Vec<_>>(),
        ));
        for index in range {
            let selected = index == self.nav.selected;
            let mut line = match &self.rows[index] {
                RowKind::Group { title } => {
                    Line::from(Span::styled(title.clone(), theme.style(Slot::Group)))
                }
                RowKind::Note { message } => {
                    Line::from(Span::styled(format!("  ⚠ {message}"), theme.style(Slot::Warning)))
                }
                RowKind::Route(i) => Line::from(
                    cells[*i]
                        .iter()
                        .zip(widths)
                        .map(|((text, style), w)| Span::styled(pad(text, *w), *style))
                        .collect::<Vec<_>>(),
                ),
            };
            if selected {
                line = theme.selected(line);
            }
            lines.push(line);
        }
        frame.render_widget(Paragraph::new(lines), list_area);
        if detail_height > 0 {
            let lines = match self.rows.get(self.nav.selected) {
                Some(RowKind::Route(i)) => detail(&table.routes[*i], theme),
                Some(RowKind::Note { message }) => vec![Line::from(one_line(message).into_owned())],
                Some(RowKind::Group { title }) => {
                    vec![Line::from(Span::styled(title.clone(), theme.style(Slot::Group)))]
                }
                None => Vec::new(),
            };
            let rule = "─".repeat(detail_area.width as usize);
            let mut all = vec![Line::from(Span::styled(rule, theme.style(Slot::Border)))];
            all.extend(lines);
            frame.render_widget(Paragraph::new(all).wrap(Wrap { trim: false }), detail_area);
        }
    }
}

fn group_title(route: &Route, model: &Model) -> String {
    let title = match route.kind {
        RouteKind::Traefik => format!("▾ Traefik · {}", one_line(&route.proxy)),
        RouteKind::Nginx => format!("▾ nginx · {}", one_line(&route.proxy)),
        RouteKind::Port => "▾ Published ports · host → container".to_string(),
    };
    if model.multi_host() {
        // A lost engine's routes are as last known: nothing says they still answer.
        let lost =
            if super::host_lost(model, route.host_id) { " (unreachable: last known)" } else { "" };
        format!("{title} · on {}{lost}", one_line(&model.host(route.host_id).name))
    } else {
        title
    }
}

fn rows(table: &RouteTable, model: &Model) -> Vec<RowKind> {
    let mut rows = Vec::new();
    // Two engines can each run a proxy of the same name: the engine is part of the key.
    let mut current: Option<(usize, RouteKind, &str)> = None;
    let mut noted: Vec<(usize, &str)> = Vec::new();
    for (i, route) in table.routes.iter().enumerate() {
        let key = (route.host_id, route.kind, route.proxy.as_str());
        if current != Some(key) {
            current = Some(key);
            rows.push(RowKind::Group { title: group_title(route, model) });
            let proxy = (route.host_id, route.proxy.as_str());
            if route.kind != RouteKind::Port && !noted.contains(&proxy) {
                noted.push(proxy);
                let own = |n: &&ProxyNote| n.host_id == route.host_id && n.proxy == route.proxy;
                for note in table.notes.iter().filter(own) {
                    rows.push(RowKind::Note { message: one_line(&note.message).into_owned() });
                }
            }
        }
        rows.push(RowKind::Route(i));
    }
    // Notes of proxies that have no route at all.
    for note in table.notes.iter().filter(|n| !noted.contains(&(n.host_id, n.proxy.as_str()))) {
        let proxy = if model.multi_host() {
            format!("{}/{}", one_line(&model.host(note.host_id).name), one_line(&note.proxy))
        } else {
            one_line(&note.proxy).into_owned()
        };
        rows.push(RowKind::Note { message: format!("{proxy}: {}", one_line(&note.message)) });
    }
    rows
}

fn target_style(route: &Route, theme: &Theme) -> Style {
    match &route.target_state {
        Some(state) if state.contains("unhealthy") => theme.style(Slot::HealthUnhealthy),
        Some(state) if !state.starts_with("running") => theme.style(Slot::StateExited),
        _ => theme.style(Slot::Value),
    }
}

/// Column widths that fit `total`: each column as wide as its widest cell, then the
/// least important wide ones shrunk until the row fits; one space between columns.
fn fit_columns(
    headers: &[&str],
    priority: &[usize],
    rows: &[Vec<(String, Style)>],
    total: usize,
) -> Vec<usize> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, (text, _)) in widths.iter_mut().zip(row) {
            *w = (*w).max(text.chars().count());
        }
    }
    let available = total.saturating_sub(widths.len().saturating_sub(1));
    while widths.iter().sum::<usize>() > available {
        // The column with the most width per unit of importance gives first.
        let cost = |i: usize| widths[i] * 10 / priority.get(i).copied().unwrap_or(1).max(1);
        let Some(widest) = (0..widths.len()).max_by_key(|&i| (cost(i), i)) else {
            break;
        };
        if widths[widest] <= 4 {
            break;
        }
        widths[widest] -= 1;
    }
    widths
}

/// `text` cut or padded to `width` characters, and a space after.
fn pad(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count > width {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut.push(' ');
        cut
    } else {
        format!("{text}{} ", " ".repeat(width - count))
    }
}

fn route_cells(route: &Route, theme: &Theme, wide: bool) -> Vec<(String, Style)> {
    let text = |s: &str| one_line(s).into_owned();
    let host = route.host.as_deref().map(text).unwrap_or_else(|| "*".to_string());
    let path = route.path.as_deref().map(text).unwrap_or_default();
    let mut target = text(&route.target);
    if route.websocket {
        target.push_str(" (ws)");
    }
    let verdict = match route.verdict.reason() {
        None => ("✓ ok".to_string(), theme.style(Slot::Ok)),
        Some(reason) => (format!("✗ {}", text(reason)), theme.style(Slot::Error)),
    };
    let entry = (text(&route.entrypoint), theme.style(Slot::Accent));
    let target = (target, target_style(route, theme));
    let plain = theme.style(Slot::Value);
    if wide {
        let mut extras: Vec<String> = Vec::new();
        if let Some(tls) = &route.tls {
            extras.push(format!("TLS {}", text(tls)));
        }
        extras.extend(route.middlewares.iter().map(|m| text(m)));
        // `running · healthy` says no more than `healthy` in a narrow column.
        let state = route.target_state.as_deref().map(text).unwrap_or_default();
        let state = state.strip_prefix("running · ").map(str::to_string).unwrap_or(state);
        vec![
            entry,
            (host, plain),
            (path, plain),
            (extras.join(" "), theme.style(Slot::Muted)),
            target,
            (state, target_style(route, theme)),
            verdict,
        ]
    } else {
        let matched = if path.is_empty() { host } else { format!("{host} {path}") };
        vec![entry, (matched, plain), target, verdict]
    }
}

fn detail<'a>(route: &Route, theme: &Theme) -> Vec<Line<'a>> {
    let text = |s: &str| one_line(s).into_owned();
    let label = |s: &str| Span::styled(s.to_string(), theme.style(Slot::Label));
    let mut first = vec![label(route.kind.as_str()), Span::raw(" ")];
    if let Some(name) = &route.name {
        first.push(Span::styled(text(name), theme.style(Slot::Value)));
    }
    if let Some(rule) = &route.rule {
        first.push(Span::raw("  "));
        first.push(label("rule "));
        first.push(Span::raw(text(rule)));
    }
    let mut second = vec![label("matches "), Span::raw(text(&route.matches))];
    if !route.middlewares.is_empty() {
        second.push(Span::raw("  "));
        second.push(label("middlewares "));
        second.push(Span::raw(
            route.middlewares.iter().map(|m| text(m)).collect::<Vec<_>>().join(", "),
        ));
    }
    if let Some(tls) = &route.tls {
        second.push(Span::raw("  "));
        second.push(label("TLS "));
        second.push(Span::raw(text(tls)));
    }
    if route.websocket {
        second.push(Span::raw("  websocket upgrade"));
    }
    let mut third = vec![
        label(&format!("{} → ", text(&route.entrypoint))),
        Span::styled(text(&route.target), target_style(route, theme)),
    ];
    if let Some(state) = &route.target_state {
        third.push(Span::styled(format!("  ({})", text(state)), target_style(route, theme)));
    }
    let fourth = match (route.verdict.reason(), &route.note) {
        (Some(reason), _) => Line::from(Span::styled(
            format!("✗ broken: {}", text(reason)),
            theme.style(Slot::Error),
        )),
        (None, Some(note)) => {
            Line::from(Span::styled(format!("✓ ok · {}", text(note)), theme.style(Slot::Warning)))
        }
        (None, None) => Line::from(Span::styled("✓ ok", theme.style(Slot::Ok))),
    };
    // The verdict first: at 80 columns the lines below may wrap out of sight.
    vec![fourth, Line::from(third), Line::from(first), Line::from(second)]
}
