//! Audit: the usual compose hardening rules checked on every container, grouped by
//! project and container, most severe first, with counts per severity in the title.
//! Containers that pass every check share one line per project; the selected
//! finding's whole message sits below the list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Effect, Handled, ListNav, Pane, PaneView, block, movement};
use std::cmp::Reverse;
use std::collections::HashMap;
use std::rc::Rc;

use crate::audit::{Check, Finding, Severity, container_order};
use crate::model::format::fit;
use crate::model::sanitize::one_line;
use crate::model::{Container, Model};
use crate::topology::DEMO_IMAGE_LABEL;
use crate::ui::keymap::Action;
use crate::ui::theme::{Slot, Theme};

#[derive(Debug, Default)]
pub struct AuditPane {
    /// Over the findings, not the rows: group and container titles are not selectable.
    pub nav: ListNav,
    /// First row drawn.
    offset: usize,
    /// The selected finding by identity, so a rebuild does not move the selection to
    /// another container's finding.
    selected_key: Option<(String, Check)>,
    /// Findings and rows, rebuilt only when the derived findings are new ones (never
    /// per frame, never per stats tick).
    cache: Option<Audit>,
}

#[derive(Debug)]
struct Audit {
    /// The derived findings the rows were built from.
    source: Rc<Vec<Finding>>,
    findings: Vec<Finding>,
    rows: Vec<Row>,
    /// Findings per severity, in [`Severity::ALL`] order.
    counts: [usize; 4],
    containers: usize,
}

#[derive(Debug, Clone)]
enum Row {
    Group(String),
    Container {
        name: String,
        note: String,
    },
    Finding(usize),
    /// The containers of a group with no findings, on one line.
    Clean {
        count: usize,
        names: String,
    },
}

impl AuditPane {
    fn refresh(&mut self, view: &PaneView<'_>) {
        let source = view.derived.findings(view.model, view.project);
        if self.cache.as_ref().is_some_and(|a| Rc::ptr_eq(&a.source, &source)) {
            return;
        }
        let audit = build(view.model, view.project, source);
        let key = self.selected_key.as_ref();
        let found = key.and_then(|(id, check)| {
            audit.findings.iter().position(|f| &f.container_id == id && f.check == *check)
        });
        self.nav.selected = match (found, key) {
            (Some(i), _) => i,
            (None, Some(_)) => self.nav.selected,
            // The first time: the worst finding first, as triage puts problems first.
            (None, None) => audit
                .findings
                .iter()
                .enumerate()
                .max_by_key(|(i, f)| (f.severity, Reverse(*i)))
                .map_or(0, |(i, _)| i),
        };
        self.cache = Some(audit);
        self.remember();
    }

    fn remember(&mut self) {
        let len = self.len();
        self.nav.selected = self.nav.selected.min(len.saturating_sub(1));
        self.selected_key = self
            .cache
            .as_ref()
            .and_then(|a| a.findings.get(self.nav.selected))
            .map(|f| (f.container_id.clone(), f.check));
    }

    pub fn len(&self) -> usize {
        self.cache.as_ref().map_or(0, |a| a.findings.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn move_by(&mut self, delta: isize) {
        let len = self.len();
        self.nav.move_by(delta, len);
        self.remember();
    }
}

impl Pane for AuditPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.refresh(view);
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        match movement(action, self.nav.page) {
            Some(delta) => {
                self.move_by(delta);
                Handled::Redraw
            }
            None => Handled::Pass,
        }
    }

    /// The container of the selected finding.
    fn selected_container(&self) -> Option<&str> {
        let audit = self.cache.as_ref()?;
        audit.findings.get(self.nav.selected).map(|f| f.container_id.as_str())
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let theme = view.theme;
        let Some(audit) = self.cache.as_ref() else { return };
        let mut title = view.title.to_string();
        if audit.findings.is_empty() {
            title.push_str(" · no findings");
        }
        for (severity, count) in Severity::ALL.iter().zip(audit.counts) {
            if count > 0 {
                title.push_str(&format!(" · {count} {}", severity.as_str()));
            }
        }
        let outer = block(view, title);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        if inner.height == 0 {
            return;
        }
        if audit.findings.is_empty() {
            let checked = match audit.containers {
                0 => "There are no containers to audit.".to_string(),
                1 => "1 container passes every check.".to_string(),
                n => format!("{n} containers pass every check."),
            };
            let lines = vec![
                Line::from(Span::styled("✓ No findings.", theme.style(Slot::Ok))),
                Line::default(),
                Line::from(checked),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
            return;
        }
        let detail_height = if inner.height >= 12 { 5 } else { 0 };
        let [list_area, detail_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(detail_height)]).areas(inner);
        let visible = list_area.height.max(1) as usize;
        self.nav.page = visible;
        let selected_row = audit
            .rows
            .iter()
            .position(|r| matches!(r, Row::Finding(i) if *i == self.nav.selected))
            .unwrap_or(0);
        self.offset = scroll(&audit.rows, self.offset, selected_row, visible);
        let width = list_area.width as usize;
        let lines: Vec<Line> = audit.rows[self.offset..]
            .iter()
            .take(visible)
            .enumerate()
            .map(|(n, row)| {
                let line = row_line(row, &audit.findings, theme, width);
                if self.offset + n == selected_row { theme.selected(line) } else { line }
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), list_area);
        if detail_height > 0
            && let Some(finding) = audit.findings.get(self.nav.selected)
        {
            let rule = "─".repeat(detail_area.width as usize);
            let head = vec![
                Span::styled(
                    severity_tag(finding.severity).trim_end().to_string(),
                    theme.style(severity_slot(finding.severity)),
                ),
                Span::styled(format!(" · {}", finding.check.as_str()), theme.style(Slot::Label)),
                Span::styled(" · ", theme.style(Slot::Label)),
                Span::styled(one_line(&finding.container).into_owned(), theme.style(Slot::Value)),
            ];
            let lines = vec![
                Line::from(Span::styled(rule, theme.style(Slot::Border))),
                Line::from(head),
                Line::from(one_line(&finding.message).into_owned()),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), detail_area);
        }
    }
}

/// The first row to draw so that the selected row shows. A step keeps the selection
/// at the edge it moves past; a jump (to the worst finding, to the end) shows the
/// selection under its container's title.
fn scroll(rows: &[Row], offset: usize, selected: usize, visible: usize) -> usize {
    let titled = |selected: usize| {
        let mut start = selected;
        // Back up over the titles above the selection, as far as they fit.
        while start > 0
            && !matches!(rows[start - 1], Row::Finding(_))
            && selected + 2 - start <= visible
        {
            start -= 1;
        }
        start
    };
    let offset = if selected < offset {
        titled(selected)
    } else if selected >= offset + visible {
        let jump = selected - (offset + visible) >= visible / 2;
        if jump { titled(selected) } else { selected + 1 - visible }
    } else {
        offset
    };
    offset.min(rows.len().saturating_sub(visible))
}

fn build(model: &Model, project: Option<&str>, source: Rc<Vec<Finding>>) -> Audit {
    let mut by_container: HashMap<&str, Vec<Finding>> = HashMap::new();
    for finding in source.iter() {
        by_container.entry(finding.container_id.as_str()).or_default().push(finding.clone());
    }
    let mut containers: Vec<&Container> =
        model.containers.values().filter(|c| c.in_project(project)).collect();
    containers.sort_by(|a, b| a.host.cmp(&b.host).then_with(|| container_order(a, b)));
    let mut findings: Vec<Finding> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    for members in super::project_groups(&containers) {
        let (host, group) = (members[0].host, members[0].project());
        let name = one_line(group.unwrap_or(super::containers::STANDALONE));
        rows.push(Row::Group(format!("{}{name}", super::host_prefix(model, host))));
        // Within a project, the containers with the worst findings first.
        let mut audited: Vec<(&Container, Vec<Finding>)> = members
            .iter()
            .map(|c| (*c, by_container.remove(c.id.as_str()).unwrap_or_default()))
            .collect();
        audited.sort_by(|(a, found_a), (b, found_b)| {
            let worst = |found: &[Finding]| Reverse(found.iter().map(|f| f.severity).max());
            worst(found_a).cmp(&worst(found_b)).then_with(|| container_order(a, b))
        });
        let mut clean: Vec<String> = Vec::new();
        for (c, found) in audited {
            if found.is_empty() {
                clean.push(one_line(c.display_name()).into_owned());
                continue;
            }
            rows.push(Row::Container { name: one_line(c.display_name()).into(), note: note(c) });
            for f in found {
                rows.push(Row::Finding(findings.len()));
                findings.push(f);
            }
        }
        if !clean.is_empty() {
            rows.push(Row::Clean { count: clean.len(), names: clean.join(", ") });
        }
    }
    let mut counts = [0; 4];
    for f in &findings {
        if let Some(i) = Severity::ALL.iter().position(|s| *s == f.severity) {
            counts[i] += 1;
        }
    }
    Audit {
        source,
        findings,
        rows,
        counts,
        containers: containers.len(),
    }
}

/// What sits beside a container's name: its container name when a service names
/// it, the image it stands for, and its state when it is not running.
fn note(c: &Container) -> String {
    let mut parts: Vec<String> = Vec::new();
    if c.display_name() != c.name {
        parts.push(one_line(&c.name).into_owned());
    }
    let image = c.labels.get(DEMO_IMAGE_LABEL).filter(|i| !i.trim().is_empty()).unwrap_or(&c.image);
    if !image.is_empty() {
        parts.push(one_line(image).into_owned());
    }
    if !c.state.is_running() {
        parts.push(c.state.as_str().to_string());
    }
    parts.join(" · ")
}

fn severity_slot(severity: Severity) -> Slot {
    match severity {
        Severity::High => Slot::Error,
        Severity::Medium => Slot::Warning,
        Severity::Low => Slot::Value,
        Severity::Info => Slot::Muted,
    }
}

fn severity_tag(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "HIGH   ",
        Severity::Medium => "MEDIUM ",
        Severity::Low => "LOW    ",
        Severity::Info => "INFO   ",
    }
}

fn row_line<'a>(row: &Row, findings: &[Finding], theme: &Theme, width: usize) -> Line<'a> {
    match row {
        Row::Group(name) => Line::from(Span::styled(format!("▾ {name}"), theme.style(Slot::Group))),
        Row::Container { name, note } => {
            let mut spans = vec![Span::styled(format!("  {name}"), theme.style(Slot::Accent))];
            if !note.is_empty() {
                let room = width.saturating_sub(name.chars().count() + 4);
                spans
                    .push(Span::styled(format!("  {}", fit(note, room)), theme.style(Slot::Muted)));
            }
            Line::from(spans)
        }
        Row::Finding(i) => {
            let Some(f) = findings.get(*i) else { return Line::default() };
            // The check's title column goes first when the pane is narrow.
            let check_width = if width >= 60 { 17 } else { 0 };
            let room = width.saturating_sub(4 + 7 + check_width);
            let mut spans = vec![
                Span::raw("    "),
                Span::styled(severity_tag(f.severity), theme.style(severity_slot(f.severity))),
            ];
            if check_width > 0 {
                spans.push(Span::styled(
                    format!("{:<17}", f.check.title()),
                    theme.style(Slot::Label),
                ));
            }
            spans.push(Span::styled(fit(&one_line(&f.message), room), Style::default()));
            Line::from(spans)
        }
        Row::Clean { count, names } => {
            let text = match count {
                1 => format!("  ✓ no findings: {names}"),
                n => format!("  ✓ {n} with no findings: {names}"),
            };
            Line::from(Span::styled(fit(&text, width), theme.style(Slot::Ok)))
        }
    }
}
