//! Compose: the compose commands and image updates run from portolan, the last few,
//! newest first, and under them the selected one: the command line it ran, its
//! output as it streams (colours kept as styles, every other escape dropped), and its
//! exit status. ↑/↓ pick a run; page keys scroll its output, which follows new lines
//! while scrolled to the bottom.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Effect, Handled, Pane, PaneView, block, clock};
use crate::model::compose_runs::{LineKind, Run};
use crate::model::format;
use crate::model::sanitize::one_line;
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

#[derive(Debug, Default)]
pub struct ComposePane {
    /// The run shown; `None` follows the newest.
    selected: Option<u64>,
    /// Lines scrolled up from the bottom of the output (0 follows new lines).
    scroll_back: usize,
    /// Output rows visible at the last render, for paging.
    page: usize,
    /// Run ids, newest first, as last synced.
    ids: Vec<u64>,
}

impl ComposePane {
    /// Shows the newest run from now on (a run the operator just asked for).
    pub fn follow_latest(&mut self) {
        self.selected = None;
        self.scroll_back = 0;
    }

    fn shown<'a>(&self, view: &'a PaneView<'_>) -> Option<&'a Run> {
        let runs = &view.model.runs;
        self.selected.and_then(|id| runs.get(id)).or_else(|| runs.latest())
    }

    fn index(&self) -> usize {
        match self.selected {
            None => 0,
            Some(id) => self.ids.iter().position(|i| *i == id).unwrap_or(0),
        }
    }
}

fn status_words(run: &Run, view: &PaneView<'_>) -> (String, Slot) {
    match &run.end {
        None => {
            let took = (view.now - run.started).to_std().unwrap_or_default();
            (format!("running… {}", format::short_duration(took)), Slot::StateRestarting)
        }
        Some(end) => {
            let took = (end.at - run.started).to_std().unwrap_or_default();
            let slot = if end.ok { Slot::Ok } else { Slot::Error };
            (format!("{} · took {}", end.status, format::short_duration(took)), slot)
        }
    }
}

impl Pane for ComposePane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.ids = view.model.runs.runs.iter().rev().map(|r| r.id).collect();
        if self.selected.is_some_and(|id| !self.ids.contains(&id)) {
            self.selected = None;
        }
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        let page = self.page.max(1);
        match action {
            Action::Up | Action::Down => {
                if self.ids.is_empty() {
                    return Handled::Quiet;
                }
                let index = self.index();
                let next = if action == Action::Up {
                    index.saturating_sub(1)
                } else {
                    (index + 1).min(self.ids.len() - 1)
                };
                let changed = next != index || self.selected.is_none();
                self.selected = if next == 0 { None } else { Some(self.ids[next]) };
                self.scroll_back = 0;
                Handled::changed(changed)
            }
            Action::PageUp => {
                self.scroll_back = self.scroll_back.saturating_add(page);
                Handled::Redraw
            }
            Action::PageDown => {
                let before = self.scroll_back;
                self.scroll_back = self.scroll_back.saturating_sub(page);
                Handled::changed(before != self.scroll_back)
            }
            Action::Top => {
                self.scroll_back = usize::MAX / 2;
                Handled::Redraw
            }
            Action::Bottom => {
                self.scroll_back = 0;
                Handled::Redraw
            }
            _ => Handled::Pass,
        }
    }

    /// Only once something ran (or while it is open): `C` shows it any time.
    fn has_tab(&self, model: &crate::model::Model) -> bool {
        !model.runs.runs.is_empty()
    }

    fn hints(&self) -> Vec<(Action, &'static str)> {
        vec![(Action::PageUp, "scroll output")]
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let theme = view.theme;
        let runs = &view.model.runs.runs;
        if runs.is_empty() {
            let outer = block(view, "Compose · no commands run yet".to_string());
            let inner = outer.inner(area);
            frame.render_widget(outer, area);
            let key = |k: &str| Span::styled(k.to_string(), theme.style(Slot::Accent));
            let text = |t: &str| Span::styled(t.to_string(), theme.style(Slot::Value));
            let lines = vec![
                Line::from(text(
                    "Compose commands and image updates run from here show their output in \
                     this pane.",
                )),
                Line::default(),
                Line::from(vec![
                    text("Select a container of a compose project, then "),
                    key("a"),
                    text(" (its service) or "),
                    key("A"),
                    text(" (its project):"),
                ]),
                Line::from(vec![
                    key("  U"),
                    text(" up  "),
                    key("D"),
                    text(" down  "),
                    key("R"),
                    text(" restart  "),
                    key("T"),
                    text(" stop  "),
                    key("L"),
                    text(" pull  "),
                    key("B"),
                    text(" build  "),
                    key("C"),
                    text(" re-create"),
                ]),
                Line::from(vec![
                    key("  n"),
                    text(" checks for a newer image  "),
                    key("N"),
                    text(" updates to it (rolls back if unhealthy)"),
                ]),
                Line::default(),
                Line::from(Span::styled(
                    "Destructive ones ask first. A project on a remote engine is refused: its \
                     files are not on this machine.",
                    theme.style(Slot::Muted),
                )),
            ];
            frame.render_widget(
                Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
                inner,
            );
            return;
        }
        let running = runs.iter().filter(|r| r.end.is_none()).count();
        let mut title = format!("Compose · {} run{}", runs.len(), if runs.len() == 1 { "" } else { "s" });
        if running > 0 {
            title.push_str(&format!(" · {running} running"));
        }
        let outer = block(view, title);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        if inner.height < 3 {
            return;
        }
        let list_height = (runs.len() as u16).min(inner.height / 3).max(1);
        let [list_area, rule_area, output_area] = Layout::vertical([
            Constraint::Length(list_height),
            Constraint::Length(1),
            Constraint::Min(0),
        ])
        .areas(inner);
        let shown_id = self.shown(view).map(|r| r.id);
        let width = inner.width as usize;
        let mut list = Vec::new();
        let index = self.index();
        let first = index.saturating_sub(list_height as usize - 1);
        for run in runs.iter().rev().skip(first).take(list_height as usize) {
            let (status, slot) = status_words(run, view);
            let mark = match &run.end {
                None => "◌ ",
                Some(end) if end.ok => "✓ ",
                Some(_) => "✗ ",
            };
            let at = format!("{} ", clock(view, run.started));
            let room = width.saturating_sub(2 + at.len());
            let title_w = (room * 3 / 5).max(10).min(room);
            let status_w = room.saturating_sub(title_w + 1);
            let selected = Some(run.id) == shown_id;
            let title_style = if selected { theme.style(Slot::Selection) } else { theme.style(Slot::Value) };
            list.push(Line::from(vec![
                Span::styled(mark, theme.style(slot)),
                Span::styled(at, theme.style(Slot::Muted)),
                Span::styled(
                    format!("{:<title_w$} ", format::fit(&one_line(&run.title), title_w)),
                    title_style,
                ),
                Span::styled(format::fit(&one_line(&status), status_w), theme.style(slot)),
            ]));
        }
        frame.render_widget(Paragraph::new(list), list_area);
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled("─".repeat(width), theme.style(Slot::Muted)))),
            rule_area,
        );
        let Some(run) = self.shown(view) else { return };
        let mut lines: Vec<Line> = Vec::with_capacity(run.lines.len() + 3);
        match &run.command {
            // Wrapped: its end (the verb and the service) matters most.
            Some(command) => {
                let text: Vec<char> = one_line(command).chars().collect();
                let room = width.saturating_sub(2).max(1);
                for (n, chunk) in text.chunks(room).enumerate() {
                    let prompt = if n == 0 { "$ " } else { "  " };
                    lines.push(Line::from(vec![
                        Span::styled(prompt, theme.style(Slot::Accent)),
                        Span::styled(chunk.iter().collect::<String>(), theme.style(Slot::Value)),
                    ]));
                }
            }
            None => lines.push(Line::from(Span::styled(
                one_line(&run.title).into_owned(),
                theme.style(Slot::Value),
            ))),
        }
        if run.dropped > 0 {
            lines.push(Line::from(Span::styled(
                format!("… {} earlier lines not kept", run.dropped),
                theme.style(Slot::Muted),
            )));
        }
        let total = run.lines.len() + lines.len() + 1;
        let page = output_area.height as usize;
        self.page = page;
        let max_back = total.saturating_sub(page);
        self.scroll_back = self.scroll_back.min(max_back);
        let skip = max_back - self.scroll_back;
        // Only the visible rows are built: a build prints thousands.
        let head = lines.len();
        let mut visible: Vec<Line> = lines.into_iter().skip(skip).collect();
        let body_skip = skip.saturating_sub(head);
        for line in run.lines.iter().skip(body_skip).take(page.saturating_sub(visible.len())) {
            visible.push(match line.kind {
                LineKind::Step => Line::from(vec![
                    Span::styled("▸ ", theme.style(Slot::Accent)),
                    Span::styled(line.text.display().to_string(), theme.style(Slot::Value)),
                ]),
                LineKind::Problem => Line::from(Span::styled(
                    format!("✗ {}", line.text.display()),
                    theme.style(Slot::Error),
                )),
                LineKind::Output => Line::from(
                    line.text
                        .segments()
                        .map(|s| {
                            let style: Style = theme.style(Slot::Value)
                                .patch(super::logs::ansi_style(&s.style, theme.name != "mono"));
                            Span::styled(s.text.to_string(), style)
                        })
                        .collect::<Vec<_>>(),
                ),
            });
        }
        if visible.len() < page {
            let (status, slot) = status_words(run, view);
            visible.push(Line::from(Span::styled(one_line(&status).into_owned(), theme.style(slot))));
        }
        frame.render_widget(Paragraph::new(visible), output_area);
    }
}
