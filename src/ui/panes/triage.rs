//! Triage: problems first, each with its cause on screen. A healthy host says so.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{ContainerList, Effect, Handled, Pane, PaneView, ago, block, clock};
use crate::model::sanitize::one_line;
use crate::triage::{Problem, ProblemKind};
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

#[derive(Debug, Default)]
pub struct TriagePane {
    /// The containers of the problems, in the order they are listed.
    pub list: ContainerList,
    /// The problems as of the last sync.
    found: std::rc::Rc<Vec<Problem>>,
}

fn slot(kind: ProblemKind) -> Slot {
    match kind {
        ProblemKind::HostUnreachable
        | ProblemKind::OomKilled
        | ProblemKind::Crashloop
        | ProblemKind::Unhealthy => Slot::Error,
        ProblemKind::Exited => Slot::StateExited,
        ProblemKind::DependencyDown | ProblemKind::ServiceDegraded => Slot::Warning,
        ProblemKind::TaskFailed => Slot::Error,
    }
}

impl Pane for TriagePane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.found = view.derived.problems(view.model, view.project, view.now);
        self.list.set(self.found.iter().map(|p| p.container_id.clone()).collect());
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        self.list.take_movement(action)
    }

    fn selected_container(&self) -> Option<&str> {
        self.list.selected()
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let project = view.project;
        let found = std::rc::Rc::clone(&self.found);
        // The counts of what is shown: the project's containers when one is chosen.
        let counts = view.model.counts_where(|c| c.in_project(project));
        let title = match found.len() {
            0 => "Triage · all clear".to_string(),
            1 => "Triage · 1 problem".to_string(),
            n => format!("Triage · {n} problems"),
        };
        let outer = block(view, title);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        if inner.height == 0 {
            return;
        }
        let theme = view.theme;
        if found.is_empty() {
            let mut lines = vec![
                Line::from(Span::styled("✓ Nothing is wrong.", theme.style(Slot::Ok))),
                Line::default(),
                Line::from(format!(
                    "{} running, {} unhealthy, no crash loops, no OOM kills, no failed exits, no stopped dependencies.",
                    counts.running, counts.unhealthy
                )),
            ];
            if counts.total == 0 {
                lines.push(Line::from(Span::styled(
                    "There are no containers on this engine yet.",
                    theme.style(Slot::Muted),
                )));
            }
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
            return;
        }
        // Each problem takes a title line and its cause, wrapped to at most two lines.
        let width = inner.width as usize;
        let entries: Vec<Vec<Line>> = found.iter().map(|p| problem_lines(p, view, width)).collect();
        let per = entries.iter().map(Vec::len).max().unwrap_or(2);
        let visible = (inner.height as usize / per.max(1)).max(1);
        let range = self.list.nav.window(entries.len(), visible);
        let mut lines = Vec::new();
        for index in range.clone() {
            for (n, mut line) in entries[index].clone().into_iter().enumerate() {
                if index == self.list.nav.selected && n == 0 {
                    line = theme.selected(line);
                }
                lines.push(line);
            }
        }
        let hidden = entries.len() - range.len();
        if hidden > 0 && lines.len() < inner.height as usize {
            lines.push(Line::from(Span::styled(
                format!("{hidden} more below/above: j/k to scroll"),
                theme.style(Slot::Muted),
            )));
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

fn problem_lines<'a>(p: &Problem, view: &PaneView<'_>, width: usize) -> Vec<Line<'a>> {
    let theme = view.theme;
    let since = match p.since {
        Some(since) => {
            let mark = since.mark();
            let at = since.at;
            format!("since {mark}{} ({mark}{})", clock(view, at), ago(view.now, Some(at)))
        }
        None => String::new(),
    };
    let project = p.project.as_deref().map(|p| format!("  [{}]", one_line(p))).unwrap_or_default();
    // With several engines the same name can run on two of them: say which one.
    let host = if view.model.multi_host() && p.kind != ProblemKind::HostUnreachable {
        format!("  on {}", one_line(&view.model.host(p.host).name))
    } else {
        String::new()
    };
    let subject = match p.kind {
        ProblemKind::HostUnreachable => format!("host {}", one_line(&p.container)),
        _ => one_line(&p.container).into_owned(),
    };
    let title = Line::from(vec![
        Span::styled(format!("✗ {:<16}", p.kind.title().to_uppercase()), theme.style(slot(p.kind))),
        Span::styled(subject, theme.style(Slot::Title)),
        Span::styled(project, theme.style(Slot::Muted)),
        Span::styled(host, theme.style(Slot::Accent)),
        Span::styled(format!("  {since}"), theme.style(Slot::Muted)),
    ]);
    let indent = "    ";
    let room = width.saturating_sub(indent.len()).max(10);
    let detail: Vec<char> = one_line(&p.detail).chars().collect();
    let mut lines = vec![title];
    let chunks: Vec<String> = detail.chunks(room).take(2).map(|c| c.iter().collect()).collect();
    let total = chunks.len();
    for (i, mut chunk) in chunks.into_iter().enumerate() {
        if i == total - 1 && detail.len() > room * 2 {
            chunk.pop();
            chunk.push('…');
        }
        lines.push(Line::from(vec![
            Span::raw(indent),
            Span::styled(chunk, theme.style(Slot::Value)),
        ]));
    }
    if lines.len() == 1 {
        lines.push(Line::default());
    }
    lines
}
