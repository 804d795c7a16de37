//! Disk: what the engine's disk holds, as `docker system df -v` shows it: images,
//! containers' writable layers, local volumes and build cache, each with its total
//! and what a prune could take back, and the rows under each, largest first. The
//! reading is the engine's `/system/df`, which is expensive: the app asks for it
//! only while this pane is open (see [`DiskPane::due`]), never per frame. `R` opens
//! a prune whose preview lists exactly what it would remove (see
//! [`crate::model::disk::plan`]); `r` reads again.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Effect, Handled, ListNav, Pane, PaneView, block, clock, message};
use crate::model::disk::{DiskUsage, PrunePlan, Total, short_id};
use crate::model::format::{self, bytes};
use crate::model::sanitize::one_line;
use crate::model::{HostId, Model};
use crate::ui::keymap::Action;
use crate::ui::theme::{Slot, Theme};

/// The shortest pause between two readings the pane asks for on its own when
/// containers, networks or volumes change: `/system/df` walks every layer.
pub const REREAD_SECONDS: i64 = 10;

/// One line of the list under the summary.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    /// A section's heading, or an object.
    heading: bool,
    name: String,
    size: Option<u64>,
    note: String,
    slot: Slot,
}

#[derive(Debug, Default)]
pub struct DiskPane {
    pub nav: ListNav,
    /// The engine shown: the selection's when the pane opened (see [`host_of`]).
    pub host: HostId,
    rows: Vec<Row>,
    /// The reading the rows were built from (host, when it was taken).
    built: Option<(HostId, DateTime<Utc>)>,
    /// What the app last asked for: the model's structure revision and when.
    asked: Option<(u64, DateTime<Utc>)>,
    /// `r` was pressed: read again now.
    reread: bool,
}

/// The engine the pane shows: the selection's, else the first.
pub fn host_of(model: &Model, selected: Option<&str>) -> HostId {
    selected.and_then(|id| model.containers.get(id)).map_or(0, |c| c.host)
}

impl DiskPane {
    /// Whether the app should ask for a reading now: on opening, on `r`, and when
    /// containers, networks or volumes changed since the last one, at most once every
    /// [`REREAD_SECONDS`]; never while one is being read.
    pub fn due(&mut self, model: &Model, host: HostId, now: DateTime<Utc>) -> bool {
        let state = model.disk.get(&host);
        if state.is_some_and(|s| s.reading_now) {
            return false;
        }
        let wanted = match self.asked {
            None => true,
            _ if self.reread => true,
            Some((revision, at)) => {
                revision != model.structure_revision
                    && (now - at).num_seconds() >= REREAD_SECONDS
            }
        };
        if wanted {
            self.asked = Some((model.structure_revision, now));
            self.reread = false;
        }
        wanted
    }

    /// The pane was left: the next opening reads again.
    pub fn left(&mut self) {
        self.asked = None;
    }

    fn build(&mut self, usage: &DiskUsage) {
        let mut rows = Vec::new();
        let heading = |name: &str, total: Total| Row {
            heading: true,
            name: format!("{name} ({})", total.count),
            size: Some(total.size),
            note: format!("{} reclaimable", bytes(total.reclaimable)),
            slot: Slot::Accent,
        };
        rows.push(heading("Images", usage.images_total()));
        let mut images: Vec<_> = usage.images.iter().collect();
        images.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.id.cmp(&b.id)));
        for i in images {
            let (users, slot) = match i.containers {
                Some(0) if i.dangling() => ("dangling, unused".to_string(), Slot::Warning),
                Some(0) => ("unused".to_string(), Slot::Muted),
                Some(n) => (format!("{n} container{}", if n == 1 { "" } else { "s" }), Slot::Value),
                None => (String::new(), Slot::Value),
            };
            // What decides a prune first; the id last, where a narrow screen cuts.
            let note = format!("{users} · own {} · {}", bytes(i.unique_size()), short_id(&i.id));
            rows.push(Row { heading: false, name: i.display(), size: Some(i.size), note, slot });
        }
        rows.push(heading("Containers", usage.containers_total()));
        let mut containers: Vec<_> = usage.containers.iter().collect();
        containers.sort_by(|a, b| b.size_rw.cmp(&a.size_rw).then_with(|| a.name.cmp(&b.name)));
        for c in containers {
            let slot = if c.stopped() { Slot::Muted } else { Slot::StateRunning };
            let note = format!("{} · {}", c.state, c.image);
            rows.push(Row { heading: false, name: c.name.clone(), size: Some(c.size_rw), note, slot });
        }
        rows.push(heading("Local volumes", usage.volumes_total()));
        let mut volumes: Vec<_> = usage.volumes.iter().collect();
        volumes.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.name.cmp(&b.name)));
        for v in volumes {
            let (note, slot) = match v.ref_count {
                Some(0) => ("orphan: no container".to_string(), Slot::Warning),
                Some(n) => (format!("{n} container{}", if n == 1 { "" } else { "s" }), Slot::Value),
                None => (String::new(), Slot::Value),
            };
            let note = if v.driver == "local" { note } else { format!("{note} · {}", v.driver) };
            rows.push(Row { heading: false, name: v.name.clone(), size: v.size, note, slot });
        }
        rows.push(heading("Build cache", usage.cache_total()));
        let mut cache: Vec<_> = usage.build_cache.iter().collect();
        cache.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.id.cmp(&b.id)));
        for b in cache {
            let state = if b.in_use {
                "in use"
            } else if b.shared {
                "shared"
            } else {
                "unused"
            };
            let note = format!("{} · {state}", b.kind);
            let name = if b.description.is_empty() { short_id(&b.id).to_string() } else { b.description.clone() };
            let slot = if b.in_use { Slot::Value } else { Slot::Muted };
            rows.push(Row { heading: false, name, size: Some(b.size), note, slot });
        }
        self.rows = rows;
    }
}

impl Pane for DiskPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        let host = self.host;
        let reading = view.model.disk.get(&host).and_then(|s| s.reading.as_ref());
        let key = reading.map(|r| (host, r.at));
        if key != self.built {
            match reading {
                Some(usage) => self.build(usage),
                None => self.rows.clear(),
            }
            self.built = key;
        }
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        if action == Action::Reveal {
            self.reread = true;
            return Handled::Redraw;
        }
        self.nav.take_movement(action, self.rows.len())
    }

    fn hints(&self) -> Vec<(Action, &'static str)> {
        vec![(Action::Prune, "prune"), (Action::Reveal, "read again")]
    }

    /// Only once the disk was read (the pane was opened with `U`): the tab bar has
    /// no room for a pane nobody asked for.
    fn has_tab(&self, model: &Model) -> bool {
        !model.disk.is_empty()
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let theme = view.theme;
        let host = self.host;
        let state = view.model.disk.get(&host).cloned().unwrap_or_default();
        let Some(usage) = &state.reading else {
            let text = match (&state.error, state.reading_now) {
                (_, true) => "Reading the disk usage (/system/df)…".to_string(),
                (Some((at, error)), false) => format!(
                    "The engine did not report its disk usage at {}: {error}. r reads again.",
                    clock(view, *at)
                ),
                (None, false) => "No disk usage read yet.".to_string(),
            };
            message(frame, area, view, "Disk".to_string(), &text);
            return;
        };
        let mut title = format!(
            "Disk · read {} in {} ms",
            clock(view, usage.at),
            usage.took_ms
        );
        if view.model.multi_host() {
            title = format!("{} · {title}", one_line(&view.model.host(host).name));
        }
        if state.reading_now {
            title.push_str(" · reading…");
        }
        let outer = block(view, title);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        if inner.height < 2 {
            return;
        }
        let footer = u16::from(state.last_prune.is_some() || state.error.is_some());
        let summary_height = 5.min(inner.height);
        let [summary_area, _, list_area, footer_area] = Layout::vertical([
            Constraint::Length(summary_height),
            Constraint::Length(u16::from(inner.height > summary_height + 2)),
            Constraint::Min(0),
            Constraint::Length(footer),
        ])
        .areas(inner);
        frame.render_widget(Paragraph::new(summary(usage, theme, inner.width as usize)), summary_area);
        self.render_rows(frame, list_area, theme);
        if let Some(report) = &state.last_prune {
            let text = format!("last prune {}: {}", clock(view, report.at), report.summary());
            let slot = if report.failed().next().is_some() { Slot::Warning } else { Slot::Ok };
            frame.render_widget(
                Paragraph::new(Span::styled(fit(&text, footer_area.width as usize), theme.style(slot))),
                footer_area,
            );
        } else if let Some((at, error)) = &state.error {
            let text = format!("the last reading failed at {}: {error}", clock(view, *at));
            frame.render_widget(
                Paragraph::new(Span::styled(fit(&text, footer_area.width as usize), theme.style(Slot::Error))),
                footer_area,
            );
        }
    }
}

fn fit(text: &str, width: usize) -> String {
    format::fit(&one_line(text), width)
}

/// The four totals, `docker system df`'s table.
fn summary<'a>(usage: &DiskUsage, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let row = |name: &str, total: Total| {
        let percent = (total.reclaimable * 100)
            .checked_div(total.size)
            .map(|p| format!(" ({p}%)"))
            .unwrap_or_default();
        format!(
            "{:<14}{:>6}{:>8}{:>11}  {}{percent}",
            name,
            total.count,
            total.active,
            bytes(total.size),
            bytes(total.reclaimable)
        )
    };
    let header = format!("{:<14}{:>6}{:>8}{:>11}  {}", "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
    vec![
        Line::from(Span::styled(fit(&header, width), theme.style(Slot::Label))),
        Line::from(Span::styled(fit(&row("Images", usage.images_total()), width), theme.style(Slot::Value))),
        Line::from(Span::styled(
            fit(&row("Containers", usage.containers_total()), width),
            theme.style(Slot::Value),
        )),
        Line::from(Span::styled(
            fit(&row("Local volumes", usage.volumes_total()), width),
            theme.style(Slot::Value),
        )),
        Line::from(Span::styled(fit(&row("Build cache", usage.cache_total()), width), theme.style(Slot::Value))),
    ]
}

impl DiskPane {
    fn render_rows(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let width = area.width as usize;
        let range = self.nav.window(self.rows.len(), area.height as usize);
        let size_w = 9;
        let note_w = (width / 3).clamp(10, 44);
        let name_w = width.saturating_sub(size_w + note_w + 4);
        let mut lines = Vec::new();
        for (index, row) in self.rows.iter().enumerate().take(range.end).skip(range.start) {
            let size = row.size.map(bytes).unwrap_or_else(|| "–".to_string());
            let indent = if row.heading { "" } else { "  " };
            let name = fit(&format!("{indent}{}", row.name), name_w);
            let text = format!(
                "{name:<name_w$} {size:>size_w$}  {}",
                fit(&row.note, note_w),
            );
            let mut style = theme.style(row.slot);
            if index == self.nav.selected {
                style = theme.style(Slot::Selection);
            }
            lines.push(Line::from(Span::styled(fit(&text, width), style)));
        }
        frame.render_widget(Paragraph::new(lines), area);
    }
}

/// The preview of a prune, for its popup: the question, what is listed, largest
/// first, with sizes, and the notes; at most `rows` objects, then how many more.
pub fn preview_lines(plan: &PrunePlan, rows: usize) -> Vec<(String, Slot)> {
    let mut lines = vec![(plan.question(), Slot::Warning)];
    if let Some(filter) = &plan.filter {
        let label = match &filter.value {
            Some(value) => format!("{}={value}", filter.key),
            None => filter.key.clone(),
        };
        lines.push((format!("only objects labelled {label}"), Slot::Muted));
    }
    lines.push((String::new(), Slot::Value));
    for item in plan.items.iter().take(rows) {
        let size = item.bytes.map(bytes).unwrap_or_else(|| "–".to_string());
        let id = if item.id == item.name { String::new() } else { format!("  {}", short_id(&item.id)) };
        lines.push((format!("{:>9}  {} {}{id}", size, item.kind.as_str(), item.name), Slot::Value));
    }
    if plan.items.len() > rows {
        lines.push((format!("… and {} more", plan.items.len() - rows), Slot::Muted));
    }
    for note in &plan.notes {
        lines.push((note.clone(), Slot::Muted));
    }
    lines
}
