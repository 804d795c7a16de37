//! The container list: grouped by compose project, then service; stand-alone
//! containers in their own group. Keeps its selection on the same container across
//! updates, and rebuilds its grouping only when the model's structure changes.

use crate::model::natural::natural_cmp;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table, TableState};

use super::detail::DetailPane;
use super::{Effect, Handled, Pane, PaneView, movement};
use crate::model::format::{bytes, percent, short_duration};
use crate::model::sanitize::one_line;
use crate::model::{Container, ContainerState, HostId, Model};
use crate::ui::keymap::Action;
use crate::ui::theme::{Slot, Theme};

pub const STANDALONE: &str = "stand-alone";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListRow {
    /// An engine, when there are several: its name and whether it answers.
    Host {
        host: HostId,
        running: usize,
        total: usize,
    },
    Group {
        title: String,
        running: usize,
        total: usize,
    },
    Container {
        id: String,
    },
}

#[derive(Debug, Default)]
pub struct ContainersPane {
    rows: Vec<ListRow>,
    selected: Option<String>,
    /// Index of the selected row, kept so a vanished container's neighbour is chosen.
    selected_index: usize,
    built_for: Option<(u64, Option<String>)>,
    table: TableState,
    page: usize,
    /// First row on screen.
    offset: usize,
    /// Containers marked for a merged log, by id.
    pub marked: std::collections::BTreeSet<String>,
    /// The selection's detail, beside the list or, when `detail_full`, instead of it.
    detail: DetailPane,
    pub detail_full: bool,
}

/// The order containers are listed in: by engine in the operator's order; then
/// projects alphabetically, stand-alone last; within a project by service then
/// container number then name, numbers in names compared as numbers (`web-2` before
/// `web-10`).
fn list_order(a: &Container, b: &Container) -> std::cmp::Ordering {
    let key = |c: &Container| match &c.compose {
        Some(info) => {
            (false, info.project.clone(), info.service.clone(), info.container_number.unwrap_or(0))
        }
        None => (true, String::new(), String::new(), 0),
    };
    let (ka, kb) = (key(a), key(b));
    a.host
        .cmp(&b.host)
        .then_with(|| ka.0.cmp(&kb.0))
        .then_with(|| natural_cmp(&ka.1, &kb.1))
        .then_with(|| natural_cmp(&ka.2, &kb.2))
        .then_with(|| ka.3.cmp(&kb.3))
        .then_with(|| natural_cmp(&a.name, &b.name))
}

impl ContainersPane {
    pub fn rows(&self) -> &[ListRow] {
        &self.rows
    }

    pub fn selected_id(&self) -> Option<&str> {
        self.selected.as_deref()
    }

    pub fn page(&self) -> usize {
        self.page.max(1)
    }

    /// Rebuilds the grouping if the structure or the filter changed since last time.
    pub fn refresh(&mut self, model: &Model, project: Option<&str>) {
        let key = (model.structure_revision, project.map(String::from));
        if self.built_for.as_ref() == Some(&key) {
            return;
        }
        self.built_for = Some(key);
        let mut containers: Vec<&Container> =
            model.containers.values().filter(|c| c.in_project(project)).collect();
        containers.sort_by(|a, b| list_order(a, b));
        self.rows.clear();
        let mut current: Option<(HostId, bool, String)> = None;
        let mut group_start = 0;
        let mut host_start = None;
        // Every engine has its header (an empty or connecting one too), unless a project
        // filter narrows the list to where it runs.
        let mut headed = 0;
        let mut head_hosts_until = |rows: &mut Vec<ListRow>, until: HostId| {
            while model.multi_host() && headed <= until && headed < model.hosts.len() {
                let shown = project.is_none() || headed == until;
                if shown {
                    rows.push(ListRow::Host { host: headed, running: 0, total: 0 });
                }
                headed += 1;
            }
        };
        for c in containers {
            if model.multi_host() && current.as_ref().is_none_or(|g| g.0 != c.host) {
                head_hosts_until(&mut self.rows, c.host);
                host_start = Some(self.rows.len() - 1);
            }
            let group =
                (c.host, c.compose.is_none(), c.project().unwrap_or(STANDALONE).to_string());
            if let Some(ListRow::Host { running, total, .. }) =
                host_start.and_then(|i| self.rows.get_mut(i))
            {
                *total += 1;
                if c.state == ContainerState::Running {
                    *running += 1;
                }
            }
            if current.as_ref() != Some(&group) {
                self.rows.push(ListRow::Group { title: group.2.clone(), running: 0, total: 0 });
                group_start = self.rows.len() - 1;
                current = Some(group);
            }
            if let ListRow::Group { running, total, .. } = &mut self.rows[group_start] {
                *total += 1;
                if c.state == ContainerState::Running {
                    *running += 1;
                }
            }
            self.rows.push(ListRow::Container { id: c.id.clone() });
        }
        if project.is_none() {
            head_hosts_until(&mut self.rows, model.hosts.len());
        }
        self.reselect();
    }

    fn container_indices(&self) -> impl Iterator<Item = (usize, &str)> {
        self.rows.iter().enumerate().filter_map(|(i, r)| match r {
            ListRow::Container { id } => Some((i, id.as_str())),
            ListRow::Group { .. } | ListRow::Host { .. } => None,
        })
    }

    /// Keeps the selection on the same container; if it is gone, on its neighbour.
    fn reselect(&mut self) {
        if let Some(id) = &self.selected
            && let Some(index) =
                self.rows.iter().position(|r| matches!(r, ListRow::Container { id: i } if i == id))
        {
            self.selected_index = index;
            return;
        }
        let wanted = self.selected_index;
        let nearest = self
            .container_indices()
            .min_by_key(|(i, _)| (i.abs_diff(wanted), *i))
            .map(|(i, id)| (i, id.to_string()));
        match nearest {
            Some((index, id)) => {
                self.selected_index = index;
                self.selected = Some(id);
            }
            None => {
                self.selected = None;
                self.selected_index = 0;
            }
        }
    }

    /// Selects the container drawn on the `row`th line under the header, if any (a
    /// mouse click).
    pub fn click_row(&mut self, row: usize) -> bool {
        let index = self.offset + row;
        match self.rows.get(index) {
            Some(ListRow::Container { id }) => {
                let id = id.clone();
                self.selected_index = index;
                self.selected = Some(id);
                true
            }
            _ => false,
        }
    }

    /// Marks the selection, or unmarks it.
    pub fn toggle_mark(&mut self) {
        if let Some(id) = self.selected.clone()
            && !self.marked.remove(&id)
        {
            self.marked.insert(id);
        }
    }

    /// Selects a container by id, if it is listed.
    pub fn select(&mut self, id: &str) {
        let found =
            self.rows.iter().position(|r| matches!(r, ListRow::Container { id: i } if i == id));
        if let Some(index) = found {
            self.selected_index = index;
            self.selected = Some(id.to_string());
        }
    }

    /// Moves the selection by `delta` containers (group rows are skipped).
    pub fn move_by(&mut self, delta: isize) {
        let ids: Vec<(usize, String)> =
            self.container_indices().map(|(i, id)| (i, id.to_string())).collect();
        if ids.is_empty() {
            return;
        }
        let position = ids.iter().position(|(i, _)| *i == self.selected_index).unwrap_or(0);
        let target =
            (position as isize).saturating_add(delta).clamp(0, ids.len() as isize - 1) as usize;
        self.selected_index = ids[target].0;
        self.selected = Some(ids[target].1.clone());
    }

    /// Whether an `area` this size shows the selection's detail beside (or below) the list.
    pub fn room_for_detail(area: Rect) -> bool {
        area.width >= 100 || area.height >= 22
    }

    /// Whether the selection's detail is on screen in a body of this size.
    pub fn shows_detail(&self, body: Rect) -> bool {
        self.detail_full || Self::room_for_detail(body)
    }

    /// Shows the detail of `id` over the whole body.
    pub fn open_detail(&mut self, id: &str) {
        self.select(id);
        self.detail_full = true;
        self.detail.show(self.selected.as_deref());
        self.detail.to_top();
    }

    fn render_list(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let PaneView { model, theme, focused, title, now, .. } = *view;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .title(Span::styled(format!(" {title} "), theme.title(focused)));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.width == 0 || inner.height == 0 {
            return;
        }
        self.page = inner.height.saturating_sub(1) as usize;
        if self.rows.is_empty() {
            let text = if model.any_connected() {
                "No containers on this engine yet. They appear here as soon as they are created."
            } else {
                "Waiting for the engine…"
            };
            frame.render_widget(
                ratatui::widgets::Paragraph::new(Span::styled(text, theme.style(Slot::Muted)))
                    .wrap(ratatui::widgets::Wrap { trim: true }),
                inner,
            );
            return;
        }
        let columns = Columns::for_width(inner.width);
        let header = Row::new(
            columns
                .headers()
                .into_iter()
                .map(|h| Cell::from(Span::styled(h, theme.style(Slot::Label)))),
        );
        // Only the rows that fit are built: a host with hundreds of containers costs
        // no more per frame than one screenful.
        let visible = inner.height.saturating_sub(1).max(1) as usize;
        if self.selected_index < self.offset {
            self.offset = self.selected_index.saturating_sub(1);
        } else if self.selected_index >= self.offset + visible {
            self.offset = self.selected_index + 1 - visible;
        }
        self.offset = self.offset.min(self.rows.len().saturating_sub(visible));
        let window = &self.rows[self.offset..(self.offset + visible).min(self.rows.len())];
        let indent = if model.multi_host() { "  " } else { "" };
        let rows = window.iter().map(|row| match row {
            // Drawn over the whole width below: a table cell would cut the outage's reason.
            ListRow::Host { .. } => Row::new(vec![Cell::from("")]),
            ListRow::Group { title, running, total } => {
                Row::new(vec![Cell::from(Line::from(vec![
                    Span::raw(indent),
                    Span::styled(one_line(title).into_owned(), theme.style(Slot::Group)),
                    Span::styled(format!("  {running}/{total} running"), theme.style(Slot::Muted)),
                ]))])
            }
            ListRow::Container { id } => match model.containers.get(id) {
                Some(c) => container_row(c, model, theme, &columns, now, self.marked.contains(id)),
                None => Row::new(vec![Cell::from("")]),
            },
        });
        let table = Table::new(rows, columns.constraints())
            .header(header)
            .column_spacing(1)
            .row_highlight_style(theme.style(Slot::Selection));
        *self.table.offset_mut() = 0;
        self.table.select(self.selected.as_ref().map(|_| self.selected_index - self.offset));
        frame.render_stateful_widget(table, inner, &mut self.table);
        for (line, row) in window.iter().enumerate() {
            if let ListRow::Host { host, running, total } = row {
                let y = inner.y + 1 + line as u16;
                let area = Rect { y, height: 1, ..inner };
                frame.render_widget(
                    ratatui::widgets::Paragraph::new(host_line(view, *host, *running, *total)),
                    area,
                );
            }
        }
    }
}

impl Pane for ContainersPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.refresh(view.model, view.project);
        self.detail.show(self.selected.as_deref());
    }

    fn act(&mut self, action: Action, view: &PaneView<'_>, effects: &mut Vec<Effect>) -> Handled {
        match action {
            Action::ToggleDetail => {
                self.detail_full = !self.detail_full;
                self.detail.to_top();
            }
            Action::Back if self.detail_full => self.detail_full = false,
            Action::Mark => self.toggle_mark(),
            Action::DetailDown | Action::DetailUp => return self.detail.act(action, view, effects),
            _ => {
                let Some(delta) = movement(action, self.page()) else { return Handled::Pass };
                self.move_by(delta);
                self.detail.show(self.selected.as_deref());
            }
        }
        Handled::Redraw
    }

    fn selected_container(&self) -> Option<&str> {
        self.selected_id()
    }

    fn select_container(&mut self, id: &str) {
        self.select(id);
        self.detail.show(self.selected.as_deref());
    }

    /// Rows start under the border and the table's header line.
    fn click(&mut self, row: u16) -> bool {
        if self.detail_full || row < 2 {
            return false;
        }
        let clicked = self.click_row(usize::from(row - 2));
        self.detail.show(self.selected.as_deref());
        clicked
    }

    fn hints(&self) -> Vec<(Action, &'static str)> {
        vec![(Action::ToggleDetail, if self.detail_full { "list" } else { "detail" })]
    }

    /// The list with the selection's detail beside it (below it on a narrow screen,
    /// left out on a short one), or the detail alone.
    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        if self.detail_full {
            self.detail.render(frame, area, view);
            return;
        }
        let (list_area, detail_area) = if !Self::room_for_detail(area) {
            (area, None)
        } else if area.width >= 100 {
            let [l, d] =
                Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                    .areas(area);
            (l, Some(d))
        } else {
            let [l, d] = Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(area);
            (l, Some(d))
        };
        if let Some(detail_area) = detail_area {
            self.detail.render(frame, detail_area, &PaneView { focused: false, ..*view });
        }
        self.render_list(frame, list_area, view);
    }
}

/// An engine's header: its name, whether it answers, and how much of it runs.
fn host_line<'a>(view: &PaneView<'_>, host: HostId, running: usize, total: usize) -> Line<'a> {
    let theme = view.theme;
    let (state, slot) = super::host_state(view, host);
    let mut name = one_line(&view.model.host(host).name).into_owned();
    if let Some(kind) = view.model.kind_beside_name(host) {
        name = format!("{name} ({kind})");
    }
    Line::from(vec![
        Span::styled(format!("▣ {name}"), theme.style(Slot::Title)),
        Span::styled(format!("  {state}"), theme.style(slot)),
        Span::styled(format!("  {running}/{total} running"), theme.style(Slot::Muted)),
    ])
}

/// Which columns fit: NAME and STATE always; the rest as width allows.
#[derive(Debug, Clone, Copy)]
struct Columns {
    status: bool,
    health: bool,
    cpu: bool,
    memory: bool,
    memory_limit: bool,
    ports: bool,
}

impl Columns {
    fn for_width(width: u16) -> Columns {
        Columns {
            health: width >= 44,
            cpu: width >= 52,
            memory: width >= 62,
            status: width >= 80,
            memory_limit: width >= 96,
            ports: width >= 112,
        }
    }

    fn headers(&self) -> Vec<&'static str> {
        let mut h = vec!["  NAME", "STATE"];
        if self.status {
            h.push("STATUS");
        }
        if self.health {
            h.push("HEALTH");
        }
        if self.cpu {
            h.push("CPU");
        }
        if self.memory {
            h.push("MEM");
        }
        if self.ports {
            h.push("PORTS");
        }
        h
    }

    fn constraints(&self) -> Vec<Constraint> {
        let mut c = vec![Constraint::Fill(3), Constraint::Length(10)];
        if self.status {
            c.push(Constraint::Fill(2));
        }
        if self.health {
            c.push(Constraint::Length(11));
        }
        if self.cpu {
            c.push(Constraint::Length(6));
        }
        if self.memory {
            c.push(Constraint::Length(if self.memory_limit { 17 } else { 8 }));
        }
        if self.ports {
            c.push(Constraint::Fill(2));
        }
        c
    }
}

/// A braille spinner frame for `now`, ten frames a second.
pub fn spinner(now: DateTime<Utc>) -> &'static str {
    const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    FRAMES[(now.timestamp_subsec_millis() / 100) as usize % FRAMES.len()]
}

pub fn state_glyph(c: &Container) -> &'static str {
    match c.state {
        ContainerState::Running => "●",
        ContainerState::Paused => "‖",
        ContainerState::Restarting => "↻",
        ContainerState::Exited => "■",
        ContainerState::Created | ContainerState::Removing => "○",
        ContainerState::Dead | ContainerState::Unknown => "✖",
    }
}

fn container_row<'a>(
    c: &'a Container,
    model: &Model,
    theme: &Theme,
    columns: &Columns,
    now: DateTime<Utc>,
    marked: bool,
) -> Row<'a> {
    // An unreachable engine's containers are as last known: drawn muted, with no
    // figures, so none of them looks live.
    let lost = super::host_lost(model, c.host);
    let stats = if lost { None } else { model.stats.get(&c.id).and_then(|s| s.latest()) };
    let running = c.state.is_running();
    let muted = theme.style(Slot::Muted);
    let state_style = if lost { muted } else { theme.state(c) };
    let name = match c.compose.as_ref() {
        Some(info) if info.container_number.unwrap_or(1) > 1 => {
            format!("{} #{}", info.service, info.container_number.unwrap_or(1))
        }
        Some(info) if !info.service.is_empty() => info.service.clone(),
        _ => c.name.clone(),
    };
    let indent = if model.multi_host() { "  " } else { "" };
    let glyph = if lost { "?" } else { state_glyph(c) };
    let mut cells = vec![
        Cell::from(Line::from(vec![
            Span::raw(indent),
            Span::styled(format!("{glyph} "), state_style),
            Span::styled(if marked { "◆ " } else { "" }, theme.style(Slot::Accent)),
            Span::styled(one_line(&name).into_owned(), if lost { muted } else { Style::default() }),
            // A newer image was found for it (checked on request, never polled).
            Span::styled(
                if model.image_updates.available(&c.id).is_some() { " ↑update" } else { "" },
                theme.style(Slot::Warning),
            ),
        ])),
        match model.busy.get(&c.id) {
            // An action is under way: say which, with a spinner that moves per frame.
            Some(verb) => Cell::from(Span::styled(
                format!("{} {}", spinner(now), verb.progressive()),
                theme.style(Slot::Accent),
            )),
            None => Cell::from(Span::styled(c.state_brief(), state_style)),
        },
    ];
    if columns.status {
        cells.push(Cell::from(Span::styled(c.status_text(now), theme.style(Slot::Muted))));
    }
    if columns.health {
        // Not inspected yet: its health is unknown, not "none".
        let cell = match c.inspect_pending_since {
            Some(since) => {
                let late = short_duration((now - since).to_std().unwrap_or_default());
                // Fits the column; the status column and the detail say it in full.
                Span::styled(format!("inspect {late}"), theme.style(Slot::Warning))
            }
            None => {
                let status = c.health_status();
                let style = if lost { muted } else { theme.health(status) };
                Span::styled(status.marked(), style)
            }
        };
        cells.push(Cell::from(cell));
    }
    if columns.cpu {
        let text = match stats.and_then(|s| s.cpu_percent) {
            Some(cpu) if running => percent(cpu),
            _ => "–".to_string(),
        };
        let style = match (stats.and_then(|s| s.cpu_percent), c.limits.cpus) {
            (Some(cpu), Some(limit)) if running && limit > 0.0 => theme.gauge(cpu / limit),
            _ => Style::default(),
        };
        cells.push(Cell::from(Span::styled(text, style)));
    }
    if columns.memory {
        let text = match stats.and_then(|s| s.memory_bytes) {
            Some(used) if running => {
                if columns.memory_limit {
                    match c.limits.memory_bytes.or(stats.and_then(|s| s.memory_limit_bytes)) {
                        Some(limit) => format!("{} / {}", bytes(used), bytes(limit)),
                        None => bytes(used),
                    }
                } else {
                    bytes(used)
                }
            }
            _ => "–".to_string(),
        };
        let style = match (stats.and_then(|s| s.memory_bytes), c.limits.memory_bytes) {
            (Some(used), Some(limit)) if running && limit > 0 => {
                theme.gauge(used as f64 / limit as f64 * 100.0)
            }
            _ => Style::default(),
        };
        cells.push(Cell::from(Span::styled(text, style)));
    }
    if columns.ports {
        cells.push(Cell::from(Span::styled(c.published_words(), theme.style(Slot::Muted))));
    }
    Row::new(cells)
}
