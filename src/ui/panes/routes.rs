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
use crate::model::format::fit;
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
    cells: Vec<Vec<RouteCell>>,
    widths: Vec<usize>,
    /// Whether the columns that abbreviate show their short form.
    short: bool,
}

/// One cell of a route's row: its full text and, for a column that can give way
/// (entry, TLS and middlewares, state), a shorter one.
#[derive(Debug, Clone)]
struct RouteCell {
    full: String,
    short: Option<String>,
    style: Style,
}

impl RouteCell {
    fn new(full: String, style: Style) -> Self {
        RouteCell { full, short: None, style }
    }

    fn or_short(mut self, short: String) -> Self {
        if short.chars().count() < self.full.chars().count() {
            self.short = Some(short);
        }
        self
    }

    fn text(&self, short: bool) -> &str {
        match (&self.short, short) {
            (Some(text), true) => text,
            _ => &self.full,
        }
    }
}

/// How a column gives way when the table is too wide for the list.
#[derive(Debug, Clone, Copy)]
struct Column {
    header: &'static str,
    /// The header over the short form.
    short_header: &'static str,
    /// Higher keeps its width longer among the columns that give way.
    priority: usize,
    /// The verdict and the target: narrowed only when nothing else can give.
    kept: bool,
}

const fn column(header: &'static str, short_header: &'static str, priority: usize) -> Column {
    Column { header, short_header, priority, kept: false }
}

const fn kept(header: &'static str) -> Column {
    Column { header, short_header: header, priority: 10, kept: true }
}

/// The columns when the list is at least 110 wide.
const WIDE: [Column; 7] = [
    column("ENTRY", "ENTRY", 2),
    column("HOST", "HOST", 3),
    column("PATH", "PATH", 3),
    column("TLS · MIDDLEWARES", "TLS · MW", 2),
    kept("TARGET"),
    column("STATE", "STATE", 3),
    kept("VERDICT"),
];

const NARROW: [Column; 4] =
    [column("ENTRY", "ENTRY", 2), column("HOST · PATH", "HOST · PATH", 3), kept("TARGET"), kept("VERDICT")];

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
        let columns: &[Column] = if wide { &WIDE } else { &NARROW };
        let stale = self.laid_out.as_ref().is_none_or(|l| l.width != list_area.width);
        if stale {
            let cells: Vec<Vec<RouteCell>> =
                table.routes.iter().map(|route| route_cells(route, theme, wide)).collect();
            let (widths, short) = fit_columns(columns, &cells, list_area.width as usize);
            self.laid_out = Some(LaidOut { width: list_area.width, cells, widths, short });
        }
        let Some(LaidOut { cells, widths, short, .. }) = self.laid_out.as_ref() else { return };
        // The rows a wrapped verdict takes are kept free, so the window never scrolls
        // its end out of sight.
        let wrap_rows = match self.rows.get(self.nav.selected) {
            Some(RowKind::Route(i)) if detail_height == 0 => {
                match (cells[*i].last(), widths.last()) {
                    (Some(verdict), Some(&w)) => {
                        wrap_verdict(verdict, w, widths).map_or(0, |(_, rest)| rest.len())
                    }
                    _ => 0,
                }
            }
            _ => 0,
        };
        let visible = (list_area.height.saturating_sub(1) as usize).saturating_sub(wrap_rows);
        let range = self.nav.window(self.rows.len(), visible.max(1));
        let mut lines: Vec<Line> = Vec::with_capacity(range.len() + 1);
        lines.push(Line::from(
            columns
                .iter()
                .zip(widths)
                .map(|(c, w)| {
                    let header = if *short { c.short_header } else { c.header };
                    Span::styled(pad(header, *w), theme.style(Slot::Label))
                })
                .collect::<Vec<_>>(),
        ));
        // Without the detail box below, the selected route's verdict wraps in the table
        // rather than hide why the route is broken.
        let mut wrapped: Vec<Line> = Vec::new();
        for index in range {
            let selected = index == self.nav.selected;
            let mut line = match &self.rows[index] {
                RowKind::Group { title } => {
                    Line::from(Span::styled(title.clone(), theme.style(Slot::Group)))
                }
                RowKind::Note { message } => {
                    Line::from(Span::styled(format!("  ⚠ {message}"), theme.style(Slot::Warning)))
                }
                RowKind::Route(i) => {
                    let row = &cells[*i];
                    let mut spans: Vec<Span> = row
                        .iter()
                        .zip(widths)
                        .map(|(cell, w)| Span::styled(pad(cell.text(*short), *w), cell.style))
                        .collect();
                    if selected
                        && detail_height == 0
                        && let (Some(verdict), Some(&w)) = (row.last(), widths.last())
                        && let Some((first, rest)) = wrap_verdict(verdict, w, widths)
                    {
                        if let Some(last) = spans.last_mut() {
                            *last = Span::styled(first, verdict.style);
                        }
                        wrapped = rest;
                    }
                    Line::from(spans)
                }
            };
            if selected {
                line = theme.selected(line);
            }
            lines.push(line);
            lines.append(&mut wrapped);
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

/// Column widths that fit `total`, and whether the columns that abbreviate do: each
/// column as wide as its widest cell; then the short forms; then the columns that give
/// way shrink, the least important first; the verdict and the target shrink last.
/// One space between columns.
fn fit_columns(columns: &[Column], rows: &[Vec<RouteCell>], total: usize) -> (Vec<usize>, bool) {
    let measure = |short: bool| -> Vec<usize> {
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let header = if short { c.short_header } else { c.header };
                rows.iter()
                    .filter_map(|row| row.get(i))
                    .map(|cell| cell.text(short).chars().count())
                    .fold(header.chars().count(), usize::max)
            })
            .collect()
    };
    let available = total.saturating_sub(columns.len().saturating_sub(1));
    let full = measure(false);
    if full.iter().sum::<usize>() <= available {
        return (full, false);
    }
    let mut widths = measure(true);
    let shrink = |widths: &mut Vec<usize>, kept: bool, floor: &dyn Fn(usize) -> usize| {
        while widths.iter().sum::<usize>() > available {
            let cost = |i: usize| widths[i] * 10 / columns[i].priority.max(1);
            let Some(widest) = (0..widths.len())
                .filter(|&i| columns[i].kept == kept && widths[i] > floor(i))
                .max_by_key(|&i| (cost(i), i))
            else {
                break;
            };
            widths[widest] -= 1;
        }
    };
    // A reason that would take the whole row (a rule's parse error) gives way first,
    // down to two fifths of the row: the detail box or a wrap shows the rest. Then the columns
    // that give way, down to a few characters; then the verdict and the target, down
    // to enough to say ok or broken.
    let last = columns.len() - 1;
    let (verdict_cap, target_cap) = (available * 2 / 5, available / 4);
    shrink(&mut widths, true, &|i| if i == last { verdict_cap } else { target_cap });
    shrink(&mut widths, false, &|_| 4);
    shrink(&mut widths, true, &|_| 12);
    (widths, true)
}

/// The verdict cut into pieces of `width`: the first for the route's own row, the
/// rest as rows of their own under the verdict column. Nothing when it fits its row.
fn wrap_verdict<'a>(
    verdict: &RouteCell,
    width: usize,
    widths: &[usize],
) -> Option<(String, Vec<Line<'a>>)> {
    let text: Vec<char> = verdict.full.chars().collect();
    if text.len() <= width || width == 0 {
        return None;
    }
    let indent: usize = widths.iter().take(widths.len().saturating_sub(1)).map(|w| w + 1).sum();
    // Broken between words: a reason reads as words, not as chunks of columns.
    let mut pieces = crate::model::format::wrap_words(&verdict.full, width).into_iter();
    let first = pieces.next().unwrap_or_default();
    let rest = pieces
        .map(|piece| {
            Line::from(vec![Span::raw(" ".repeat(indent)), Span::styled(piece, verdict.style)])
        })
        .collect();
    Some((first, rest))
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

fn route_cells(route: &Route, theme: &Theme, wide: bool) -> Vec<RouteCell> {
    let text = |s: &str| one_line(s).into_owned();
    let host = route.host.as_deref().map(text).unwrap_or_else(|| "*".to_string());
    let path = route.path.as_deref().map(text).unwrap_or_default();
    let mut target = text(&route.target);
    if route.websocket {
        target.push_str(" (ws)");
    }
    let verdict = match route.verdict.reason() {
        None => RouteCell::new("✓ ok".to_string(), theme.style(Slot::Ok)),
        Some(reason) => RouteCell::new(format!("✗ {}", text(reason)), theme.style(Slot::Error)),
    };
    let entry_text = text(&route.entrypoint);
    let entry = RouteCell::new(entry_text.clone(), theme.style(Slot::Accent))
        .or_short(short_entry(&entry_text));
    let target = RouteCell::new(target, target_style(route, theme));
    let plain = theme.style(Slot::Value);
    if wide {
        let mut extras: Vec<String> = Vec::new();
        if let Some(tls) = &route.tls {
            extras.push(format!("TLS {}", text(tls)));
        }
        extras.extend(route.middlewares.iter().map(|m| text(m)));
        // TLS and a count of middlewares: the detail box names them.
        let mut short_extras: Vec<String> = Vec::new();
        if let Some(tls) = &route.tls {
            short_extras.push(format!("TLS {}", fit(&text(tls), 8)));
        }
        if !route.middlewares.is_empty() {
            short_extras.push(format!("+{}", route.middlewares.len()));
        }
        // `running · healthy` says no more than `healthy` in a narrow column.
        let state = route.target_state.as_deref().map(text).unwrap_or_default();
        let state = state.strip_prefix("running · ").map(str::to_string).unwrap_or(state);
        // `exited 137 · OOM killed` gives way to its first words.
        let short_state = state.split(" · ").next().unwrap_or_default().to_string();
        vec![
            entry,
            RouteCell::new(host, plain),
            RouteCell::new(path, plain),
            RouteCell::new(extras.join(" "), theme.style(Slot::Muted))
                .or_short(short_extras.join(" ")),
            target,
            RouteCell::new(state, target_style(route, theme)).or_short(short_state),
            verdict,
        ]
    } else {
        let matched = if path.is_empty() { host } else { format!("{host} {path}") };
        vec![entry, RouteCell::new(matched, plain), target, verdict]
    }
}

/// An entry without the entrypoints' names and the defaults: `websecure :443` reads
/// `:443`, `0.0.0.0:8080/tcp` reads `:8080`; what is odd (`(not published)`, a
/// loopback address, `/udp`) stays, shorter.
fn short_entry(entry: &str) -> String {
    entry
        .split(", ")
        .map(|part| {
            let part = part.replace(" (not published)", " unpublished");
            let part = match part.split_once(" (host ") {
                Some((port, host)) => format!("{port}→{}", host.trim_end_matches(')')),
                None => part,
            };
            let part = match part.split_once(" :") {
                Some((_, port)) => format!(":{port}"),
                None => part,
            };
            let part = part.strip_prefix("0.0.0.0").unwrap_or(&part).to_string();
            part.strip_suffix("/tcp").unwrap_or(&part).to_string()
        })
        .collect::<Vec<_>>()
        .join(", ")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_abbreviates_to_its_ports() {
        assert_eq!(short_entry("websecure :443"), ":443");
        assert_eq!(short_entry("web :80 (not published), websecure :443"), ":80 unpublished, :443");
        assert_eq!(short_entry("websecure :443 (host 8443)"), ":443→8443");
        assert_eq!(short_entry("0.0.0.0:8080/tcp"), ":8080");
        assert_eq!(short_entry("127.0.0.1:53/udp"), "127.0.0.1:53/udp");
    }

    fn cell(full: &str, short: Option<&str>) -> RouteCell {
        let cell = RouteCell::new(full.to_string(), Style::default());
        match short {
            Some(short) => cell.or_short(short.to_string()),
            None => cell,
        }
    }

    #[test]
    fn the_verdict_and_target_keep_their_room_while_others_abbreviate() {
        let row = vec![
            cell("websecure :443 (host 8443)", Some(":443→8443")),
            cell("blog.example.com", None),
            cell("", None),
            cell("TLS letsencrypt ratelimit@file", Some("TLS letsenc… +1")),
            cell("ghost:2368", None),
            cell("exited 1", None),
            cell("✗ target ghost is not running (exited 1)", None),
        ];
        let (widths, short) = fit_columns(&WIDE, std::slice::from_ref(&row), 110);
        assert!(short);
        assert!(widths.iter().sum::<usize>() + 6 <= 110, "{widths:?}");
        assert_eq!(widths[4], "ghost:2368".len(), "the target whole: {widths:?}");
        assert_eq!(widths[5], "exited 1".len(), "the state whole: {widths:?}");
        assert_eq!(widths[6], row[6].full.chars().count(), "the verdict whole: {widths:?}");
        let (widths, short) = fit_columns(&WIDE, &[row], 200);
        assert!(!short, "room for everything: {widths:?}");
    }

    #[test]
    fn a_verdict_too_long_for_its_row_wraps_under_its_column() {
        let verdict = cell("✗ target ghost is not running (exited 1)", None);
        let (first, rest) = wrap_verdict(&verdict, 30, &[4, 5, 30]).expect("it wraps");
        assert_eq!(first, "✗ target ghost is not running", "broken between words");
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].to_string(), format!("{}(exited 1)", " ".repeat(11)));
        assert!(wrap_verdict(&verdict, 60, &[60]).is_none());
    }
}
