//! Stats: the numbers `docker stats` shows, sortable by any column, with history
//! charts for the selected container and for its compose project as a whole.

use crate::model::natural::natural_cmp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Sparkline, Table, TableState};

use super::{Effect, Handled, ListNav, Pane, PaneView, block};
use crate::model::format::{bytes, percent, rate};
use crate::model::sanitize::one_line;
use chrono::{DateTime, Utc};

use crate::model::stats::{ChartSpan, SampleSource};
use crate::model::{Container, Model, StatsPoint};
use crate::ui::keymap::Action;
use crate::ui::theme::{Slot, Theme};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Name,
    Cpu,
    Memory,
    MemoryPercent,
    NetRx,
    NetTx,
    BlockRead,
    BlockWrite,
    Pids,
}

impl SortColumn {
    const ALL: [SortColumn; 9] = [
        SortColumn::Name,
        SortColumn::Cpu,
        SortColumn::Memory,
        SortColumn::MemoryPercent,
        SortColumn::NetRx,
        SortColumn::NetTx,
        SortColumn::BlockRead,
        SortColumn::BlockWrite,
        SortColumn::Pids,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SortColumn::Name => "name",
            SortColumn::Cpu => "CPU",
            SortColumn::Memory => "memory",
            SortColumn::MemoryPercent => "memory %",
            SortColumn::NetRx => "net rx",
            SortColumn::NetTx => "net tx",
            SortColumn::BlockRead => "block read",
            SortColumn::BlockWrite => "block write",
            SortColumn::Pids => "pids",
        }
    }

    fn next(self) -> SortColumn {
        let i = SortColumn::ALL.iter().position(|c| *c == self).unwrap_or(0);
        SortColumn::ALL[(i + 1) % SortColumn::ALL.len()]
    }
}

#[derive(Debug)]
pub struct StatsPane {
    pub nav: ListNav,
    pub sort: SortColumn,
    pub descending: bool,
    /// Container ids in the order of the last render.
    order: Vec<String>,
    /// The model revision, sort and filter `order` was sorted for: a frame that only
    /// moves the selection does not sort a thousand rows again.
    ordered_for: Option<(u64, SortColumn, bool, Option<String>)>,
    names: super::RowNames,
    charts: ChartSeries,
    /// How far back the charts reach.
    pub span: ChartSpan,
    /// The record's series last asked for (container, span) and when.
    asked: Option<(String, ChartSpan, DateTime<Utc>)>,
}

/// What the Stats pane wants read from the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesAsk {
    pub host: usize,
    pub container_id: String,
    /// The running containers of its project on its engine, itself included.
    pub project_ids: Vec<String>,
    pub span: ChartSpan,
}

/// A longer span is read again this often while it is on screen: the record grows.
const SERIES_REFRESH_SECONDS: i64 = 30;

impl Default for StatsPane {
    fn default() -> Self {
        StatsPane {
            nav: ListNav::default(),
            sort: SortColumn::Cpu,
            descending: true,
            order: Vec::new(),
            ordered_for: None,
            names: super::RowNames::default(),
            charts: ChartSeries::default(),
            span: ChartSpan::Live,
            asked: None,
        }
    }
}

/// The running containers of `c`'s project on its engine (only `c` when it has none).
fn project_ids<'m>(model: &'m Model, c: &'m Container) -> Vec<&'m str> {
    match c.project() {
        Some(project) => model
            .containers
            .values()
            .filter(|o| o.host == c.host && o.project() == Some(project) && o.state.is_running())
            .map(|o| o.id.as_str())
            .collect(),
        None => vec![c.id.as_str()],
    }
}

impl StatsPane {
    /// What to read from the record now: a longer span than the model holds for a
    /// selection it was not read for, or read long enough ago.
    pub fn series_due(&mut self, model: &Model, now: DateTime<Utc>) -> Option<SeriesAsk> {
        if self.span == ChartSpan::Live {
            self.asked = None;
            return None;
        }
        let c = model.containers.get(self.selected_container()?)?;
        let fresh = self.asked.as_ref().is_some_and(|(id, span, at)| {
            *id == c.id && *span == self.span && (now - *at).num_seconds() < SERIES_REFRESH_SECONDS
        });
        if fresh {
            return None;
        }
        self.asked = Some((c.id.clone(), self.span, now));
        Some(SeriesAsk {
            host: c.host,
            container_id: c.id.clone(),
            project_ids: project_ids(model, c).into_iter().map(String::from).collect(),
            span: self.span,
        })
    }
}

/// `values` averaged down to `width` points (or as they are when they fit).
fn fit(values: &[f64], width: usize) -> Vec<f64> {
    if width == 0 || values.len() <= width {
        return values.to_vec();
    }
    (0..width)
        .map(|i| {
            let start = i * values.len() / width;
            let end = ((i + 1) * values.len() / width).max(start + 1);
            let slice = &values[start..end];
            slice.iter().sum::<f64>() / slice.len() as f64
        })
        .collect()
}

/// The selected container's and its project's history, summed once per change of
/// the model or of the selection: a project of hundreds of containers holds ten
/// minutes of points each.
#[derive(Debug, Default)]
struct ChartSeries {
    key: Option<(u64, String)>,
    /// cpu, mem, net: the container's own, then its project's.
    own: [Vec<f64>; 3],
    project: [Vec<f64>; 3],
    project_members: usize,
}

const METRICS: [(&str, Metric); 3] = [
    ("cpu", |p| p.cpu_percent),
    ("mem", |p| p.memory_bytes.map(|m| m as f64)),
    ("net", |p| Some(p.net_rx_rate.unwrap_or(0.0) + p.net_tx_rate.unwrap_or(0.0))),
];

/// CPU as a share of the container's CPU limit, when it has one (0.5 CPU used of a
/// 0.5 CPU limit is 100 %).
pub fn cpu_of_limit(c: &Container, point: Option<&StatsPoint>) -> Option<f64> {
    let cpu = point?.cpu_percent?;
    let limit = c.limits.cpus.filter(|l| *l > 0.0)?;
    Some(cpu / limit)
}

fn sort_key(c: &Container, p: Option<&StatsPoint>, column: SortColumn) -> f64 {
    let value = |v: Option<u64>| v.map_or(-1.0, |v| v as f64);
    match column {
        SortColumn::Name => 0.0,
        SortColumn::Cpu => p.and_then(|p| p.cpu_percent).unwrap_or(-1.0),
        SortColumn::Memory => value(p.and_then(|p| p.memory_bytes)),
        SortColumn::MemoryPercent => {
            let limit = c.limits.memory_bytes.or(p.and_then(|p| p.memory_limit_bytes));
            match (p.and_then(|p| p.memory_bytes), limit) {
                (Some(used), Some(limit)) if limit > 0 => used as f64 / limit as f64,
                _ => -1.0,
            }
        }
        SortColumn::NetRx => p.and_then(|p| p.net_rx_rate).unwrap_or(-1.0),
        SortColumn::NetTx => p.and_then(|p| p.net_tx_rate).unwrap_or(-1.0),
        SortColumn::BlockRead => value(p.and_then(|p| p.block_read_bytes)),
        SortColumn::BlockWrite => value(p.and_then(|p| p.block_write_bytes)),
        SortColumn::Pids => value(p.and_then(|p| p.pids)),
    }
}

/// The latest figures of a container whose engine still answers.
fn live_stats<'m>(model: &'m Model, c: &Container) -> Option<&'m StatsPoint> {
    if super::host_lost(model, c.host) { None } else { model.latest_stats(&c.id) }
}

impl StatsPane {
    pub fn cycle_sort(&mut self) {
        self.sort = self.sort.next();
        self.descending = self.sort != SortColumn::Name;
    }

    pub fn reverse(&mut self) {
        self.descending = !self.descending;
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn ordered<'m>(&self, model: &'m Model, project: Option<&str>) -> Vec<&'m Container> {
        let mut rows: Vec<&Container> = model
            .containers
            .values()
            .filter(|c| c.state.is_running() && c.in_project(project))
            .collect();
        let column = self.sort;
        rows.sort_by(|a, b| {
            let order = if column == SortColumn::Name {
                // Rows read `host/name`: sorted as they read (hosts in the order named).
                a.host.cmp(&b.host).then_with(|| natural_cmp(&a.name, &b.name))
            } else {
                let ka = sort_key(a, live_stats(model, a), column);
                let kb = sort_key(b, live_stats(model, b), column);
                ka.partial_cmp(&kb).unwrap_or(std::cmp::Ordering::Equal)
            };
            let order = if self.descending { order.reverse() } else { order };
            order.then_with(|| natural_cmp(&a.name, &b.name)).then_with(|| a.host.cmp(&b.host))
        });
        rows
    }

}

impl Pane for StatsPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        // Keep the selection on the same container when the order changes.
        let key =
            (view.model.revision, self.sort, self.descending, view.project.map(String::from));
        if self.ordered_for.as_ref() == Some(&key) {
            return;
        }
        let selected_id = self.selected_container().map(String::from);
        self.order = self.ordered(view.model, view.project).iter().map(|c| c.id.clone()).collect();
        self.ordered_for = Some(key);
        if let Some(id) = selected_id {
            self.select_container(&id);
        }
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        match action {
            Action::SortNext => self.cycle_sort(),
            Action::SortReverse => self.reverse(),
            Action::ChartSpan => self.span = self.span.next(),
            _ => return self.nav.take_movement(action, self.order.len()),
        }
        Handled::Redraw
    }

    fn selected_container(&self) -> Option<&str> {
        self.order.get(self.nav.selected).map(String::as_str)
    }

    fn select_container(&mut self, id: &str) {
        if let Some(i) = self.order.iter().position(|o| o == id) {
            self.nav.selected = i;
        }
    }

    fn hints(&self) -> Vec<(Action, &'static str)> {
        vec![(Action::SortNext, "sort"), (Action::ChartSpan, "span")]
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let model = view.model;
        let theme = view.theme;
        // `sync` sorted the rows just before this frame: sorting again here would
        // double the pane's cost on a busy host.
        let rows: Vec<&Container> =
            self.order.iter().filter_map(|id| model.containers.get(id)).collect();
        let charts_height = if area.height >= 24 { 9 } else { 0 };
        let [table_area, charts_area] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(charts_height)]).areas(area);
        let arrow = if self.descending { "↓" } else { "↑" };
        let title = format!(
            "Stats · {} running · sorted by {} {arrow} (s: column, S: reverse)",
            rows.len(),
            self.sort.name()
        );
        let outer = block(view, title);
        let inner = outer.inner(table_area);
        frame.render_widget(outer, table_area);
        if inner.height < 2 {
            return;
        }
        // The names come first: the lifetime totals need room to spare, and MEM % is
        // also read from the usage against the limit.
        let columns = Columns { memory_percent: inner.width >= 90, totals: inner.width >= 130 };
        let mut fixed: Vec<(&str, u16)> = vec![("CPU %", 13), ("MEM USAGE / LIMIT", 19)];
        if columns.memory_percent {
            fixed.push(("MEM %", 6));
        }
        fixed.extend([("NET RX/s", 10), ("NET TX/s", 10)]);
        if columns.totals {
            fixed.extend([("NET I/O", 19), ("BLOCK I/O", 19)]);
        }
        fixed.push(("PIDS", 5));
        let header = Row::new(
            std::iter::once("NAME")
                .chain(fixed.iter().map(|(h, _)| *h))
                .map(|h| Cell::from(Span::styled(h, theme.style(Slot::Label)))),
        );
        let visible = inner.height.saturating_sub(1) as usize;
        let range = self.nav.window(rows.len(), visible);
        // The NAME column takes what the fixed ones leave (one space between columns).
        let taken: u16 = fixed.iter().map(|(_, w)| w + 1).sum();
        let name_width = usize::from(inner.width.saturating_sub(taken));
        // Named among every running row, not only those on screen: a name must not
        // change as the list scrolls.
        let width = name_width.saturating_sub(super::host_width(model, &rows));
        let names = self.names.get(view, width, || rows.clone());
        let name = |c: &'_ Container| -> String {
            names.get(&c.id).cloned().unwrap_or_else(|| c.name.clone())
        };
        let body: Vec<Row> = rows[range.clone()]
            .iter()
            .map(|c| stats_row(c, &name(c), model, theme, columns, name_width))
            .collect();
        let widths: Vec<Constraint> = std::iter::once(Constraint::Fill(2))
            .chain(fixed.iter().map(|(_, w)| Constraint::Length(*w)))
            .collect();
        let table = Table::new(body, widths)
            .header(header)
            .column_spacing(1)
            .row_highlight_style(theme.style(Slot::Selection));
        let mut state = TableState::default();
        if !rows.is_empty() {
            state.select(Some(self.nav.selected - range.start));
        }
        frame.render_stateful_widget(table, inner, &mut state);
        if charts_height > 0 {
            let selected =
                self.order.get(self.nav.selected).and_then(|id| model.containers.get(id));
            let named = selected.map(|c| (c, name(c)));
            let selected = named.as_ref().map(|(c, n)| (*c, n.as_str()));
            render_charts(frame, charts_area, view, selected, &mut self.charts, self.span);
        }
    }
}

/// Which of the optional columns the table has room for.
#[derive(Debug, Clone, Copy)]
struct Columns {
    memory_percent: bool,
    /// Network and block I/O since the container started.
    totals: bool,
}

fn stats_row<'a>(
    c: &Container,
    name: &str,
    model: &Model,
    theme: &Theme,
    columns: Columns,
    name_width: usize,
) -> Row<'a> {
    // An unreachable engine's figures are old: its rows show none, muted.
    let lost = super::host_lost(model, c.host);
    let p = if lost { None } else { model.latest_stats(&c.id) };
    let dash = || "–".to_string();
    let cpu = match (p.and_then(|p| p.cpu_percent), cpu_of_limit(c, p)) {
        (Some(cpu), Some(of_limit)) => format!("{} ({:.0}%L)", percent(cpu), of_limit),
        (Some(cpu), None) => percent(cpu),
        _ => dash(),
    };
    let limit = c.limits.memory_bytes.or(p.and_then(|p| p.memory_limit_bytes));
    let memory = match (p.and_then(|p| p.memory_bytes), limit) {
        (Some(used), Some(limit)) => format!("{} / {}", bytes(used), bytes(limit)),
        (Some(used), None) => bytes(used),
        _ => dash(),
    };
    let memory_percent = match (p.and_then(|p| p.memory_bytes), limit) {
        (Some(used), Some(limit)) if limit > 0 => Some(used as f64 / limit as f64 * 100.0),
        _ => None,
    };
    let mut cells = vec![
        Cell::from(super::host_and_name(model, c.host, name, name_width)),
        Cell::from(cpu),
        Cell::from(memory),
    ];
    if columns.memory_percent {
        cells.push(Cell::from(memory_percent.map_or_else(dash, percent)));
    }
    cells.extend([
        Cell::from(p.and_then(|p| p.net_rx_rate).map_or_else(dash, rate)),
        Cell::from(p.and_then(|p| p.net_tx_rate).map_or_else(dash, rate)),
    ]);
    if columns.totals {
        let pair = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => format!("{} / {}", bytes(a), bytes(b)),
            _ => dash(),
        };
        cells
            .push(Cell::from(pair(p.and_then(|p| p.net_rx_bytes), p.and_then(|p| p.net_tx_bytes))));
        cells.push(Cell::from(pair(
            p.and_then(|p| p.block_read_bytes),
            p.and_then(|p| p.block_write_bytes),
        )));
    }
    cells.push(Cell::from(p.and_then(|p| p.pids).map_or_else(dash, |n| n.to_string())));
    // Thresholds: memory above 80 % of its limit, CPU at its limit.
    let hot_memory = c.limits.memory_bytes.is_some() && memory_percent.is_some_and(|m| m >= 80.0);
    let hot_cpu = cpu_of_limit(c, p).is_some_and(|v| v >= 95.0);
    let style = if lost {
        theme.style(Slot::Muted)
    } else if hot_memory || hot_cpu {
        theme.style(Slot::Warning)
    } else {
        Style::default()
    };
    Row::new(cells).style(style)
}

/// The last `width` points of a series, scaled for a sparkline.
/// The newest `width` values as sparkline bars.
fn points(values: &[f64], width: usize) -> Vec<u64> {
    let start = values.len().saturating_sub(width);
    values[start..].iter().map(|v| (v.max(0.0) * 100.0) as u64).collect()
}

/// Reads one figure from a stats point.
type Metric = fn(&StatsPoint) -> Option<f64>;

fn history(model: &Model, ids: &[&str], metric: Metric) -> Vec<f64> {
    // Sum aligned by age: the newest point of each container is "now".
    let mut sums: Vec<f64> = Vec::new();
    for id in ids {
        let Some(stats) = model.stats.get(*id) else { continue };
        for (age, point) in stats.history().iter().rev().enumerate() {
            if sums.len() <= age {
                sums.resize(age + 1, 0.0);
            }
            sums[age] += metric(point).unwrap_or(0.0);
        }
    }
    sums.reverse();
    sums
}

/// The charts of the selected container, named as its row is.
fn render_charts(
    frame: &mut Frame,
    area: Rect,
    view: &PaneView<'_>,
    selected: Option<(&Container, &str)>,
    series: &mut ChartSeries,
    span: ChartSpan,
) {
    let Some((c, name)) = selected else {
        frame.render_widget(Paragraph::new("Select a running container to see its history."), area);
        return;
    };
    let model = view.model;
    let key = (model.revision, c.id.clone());
    if series.key.as_ref() != Some(&key) {
        // The project as deployed on this container's engine: the same project on
        // another engine is another deployment, never summed in.
        let project_ids = project_ids(model, c);
        series.own = METRICS.map(|(_, metric)| history(model, &[c.id.as_str()], metric));
        series.project = METRICS.map(|(_, metric)| history(model, &project_ids, metric));
        series.project_members = project_ids.len();
        series.key = Some(key);
    }
    // A longer span comes from the record, once it has answered for this selection.
    let recorded = model
        .recorded_series
        .as_ref()
        .filter(|r| span != ChartSpan::Live && r.container_id == c.id && r.span == span);
    if span != ChartSpan::Live {
        let words = match recorded {
            None => Some("reading the record…".to_string()),
            Some(r) if r.error.is_some() => r.error.clone(),
            Some(r) if r.rows == 0 => Some(format!("the record holds nothing for the {}", span.words())),
            Some(_) => None,
        };
        if let Some(words) = words {
            let title = format!("{}{name} · {}", super::host_prefix(model, c.host), span.words());
            let unfocused = PaneView { focused: false, ..*view };
            return super::message(frame, area, &unfocused, title, &words);
        }
    }
    let (own, project) = match recorded {
        Some(r) => (&r.own, &r.project),
        None => (&series.own, &series.project),
    };
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    // Where the figures come from, when it is not this machine's own files: a remote
    // user should know whether they are the host's counters or the engine's answers.
    let source = match model.latest_stats(&c.id).map(|p| p.source) {
        Some(SampleSource::HostFilesOverSsh) => " · from the host's files over ssh",
        Some(SampleSource::EngineApi) => " · from the engine API",
        Some(SampleSource::CgroupFiles) | None => "",
    };
    charts_for(
        frame,
        left,
        view,
        format!("{}{name} · {}{source}", super::host_prefix(model, c.host), span.words()),
        own,
        c.limits.memory_bytes,
    );
    let title = match c.project() {
        Some(project) => format!(
            "project {}{} (sum of {})",
            super::host_prefix(model, c.host),
            one_line(project),
            series.project_members
        ),
        None => "stand-alone".to_string(),
    };
    charts_for(frame, right, view, title, project, None);
}

fn charts_for(
    frame: &mut Frame,
    area: Rect,
    view: &PaneView<'_>,
    title: String,
    series: &[Vec<f64>; 3],
    memory_limit: Option<u64>,
) {
    let theme = view.theme;
    let outer = block(&PaneView { focused: false, ..*view }, title);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    if inner.height < 3 || inner.width < 20 {
        return;
    }
    let label_width = 22u16;
    let rows =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Length(1)])
            .spacing(1)
            .split(inner);
    for ((row, (name, _)), values) in rows.iter().zip(METRICS).zip(series) {
        let now = values.last().copied().unwrap_or(0.0);
        let peak = values.iter().copied().fold(0.0, f64::max);
        let label = match name {
            "cpu" => format!("cpu {} ↑{}", percent(now), percent(peak)),
            "mem" => match memory_limit {
                Some(limit) => format!("mem {}/{}", bytes(now as u64), bytes(limit)),
                None => format!("mem {} ↑{}", bytes(now as u64), bytes(peak as u64)),
            },
            _ => format!("net {}", rate(now)),
        };
        let [label_area, chart_area] =
            Layout::horizontal([Constraint::Length(label_width), Constraint::Fill(1)]).areas(*row);
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(label, theme.style(Slot::Label)))),
            label_area,
        );
        let data = points(&fit(values, chart_area.width as usize), chart_area.width as usize);
        let mut sparkline = Sparkline::default().data(&data).style(theme.style(Slot::Accent));
        if name == "mem"
            && let Some(limit) = memory_limit
        {
            sparkline = sparkline.max((limit as f64 * 100.0) as u64);
        }
        frame.render_widget(sparkline, chart_area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_name_rows_sort_as_they_read_engine_first() {
        let model = crate::topology::fixtures::three_hosts();
        let pane = StatsPane { sort: SortColumn::Name, descending: false, ..StatsPane::default() };
        let rows = pane.ordered(&model, None);
        let keys: Vec<(usize, &str)> = rows.iter().map(|c| (c.host, c.name.as_str())).collect();
        assert!(keys.windows(2).all(|w| w[0].0 <= w[1].0), "{keys:?}");
        assert!(keys.iter().any(|(h, _)| *h == 1) && keys.iter().any(|(h, _)| *h == 0));
        let local: Vec<&str> = keys.iter().filter(|(h, _)| *h == 0).map(|(_, n)| *n).collect();
        let mut sorted = local.clone();
        sorted.sort();
        assert_eq!(local, sorted);
    }

    #[test]
    fn the_chart_says_where_a_remote_containers_figures_come_from() {
        use crate::model::{CpuCounter, RawSample, Update};
        let mut model = crate::topology::fixtures::three_hosts();
        let derived = crate::derived::Derived::default();
        let theme = Theme::built_in("dark");
        let mut pane = StatsPane::default();
        pane.sync(&super::super::testing::view(&model, &derived, &theme, "Stats", chrono::Utc::now()));
        let selected = pane.selected_container().expect("a running container").to_string();
        for (second, source) in [(1, SampleSource::EngineApi), (2, SampleSource::EngineApi)] {
            let sample = RawSample {
                taken_at: chrono::Utc::now() + chrono::Duration::seconds(second),
                cpu: Some(CpuCounter::Api {
                    total_ns: second as u64 * 1_000,
                    system_ns: second as u64 * 10_000,
                    online_cpus: 2,
                }),
                memory_used: Some(1 << 20),
                memory_limit: None,
                net_rx: None,
                net_tx: None,
                block_read: None,
                block_write: None,
                pids: Some(1),
                oom_kills: None,
                source,
            };
            model.apply(Update::Stats(vec![(selected.clone(), sample)]));
        }
        let view = super::super::testing::view(&model, &derived, &theme, "Stats", chrono::Utc::now());
        pane.select_container(&selected);
        let screen = super::super::testing::draw(&mut pane, &view, 160, 40).join("\n");
        assert!(screen.contains("from the engine API"), "{screen}");
    }

    #[test]
    fn rows_are_sorted_once_per_change_not_per_frame() {
        let mut model = crate::topology::fixtures::three_hosts();
        let derived = crate::derived::Derived::default();
        let theme = Theme::built_in("dark");
        fn view<'a>(
            model: &'a Model,
            derived: &'a crate::derived::Derived,
            theme: &'a Theme,
        ) -> PaneView<'a> {
            super::super::testing::view(model, derived, theme, "Stats", chrono::Utc::now())
        }
        let mut pane = StatsPane::default();
        pane.sync(&view(&model, &derived, &theme));
        assert!(!pane.order.is_empty());
        let sorted = pane.order.as_ptr();
        // A frame for a key press: the same model, the same order.
        pane.sync(&view(&model, &derived, &theme));
        assert_eq!(pane.order.as_ptr(), sorted, "kept for a frame with no change");
        // Another column, or a change of the model (a stats tick): sorted again.
        pane.cycle_sort();
        pane.sync(&view(&model, &derived, &theme));
        let by_memory = pane.order.as_ptr();
        assert_ne!(by_memory, sorted, "sorted again for another column");
        model.revision += 1;
        pane.sync(&view(&model, &derived, &theme));
        assert_ne!(pane.order.as_ptr(), by_memory, "sorted again for a change of the model");
    }
}
