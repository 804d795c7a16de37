//! Triage: problems first, each with its cause on screen. A healthy host says so.
//! Below them, in the rows they leave, an overview of every project, so the first
//! screen also answers how the rest of the host is doing.

use std::rc::Rc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{ContainerList, Effect, Handled, Pane, PaneView, ago, block, clock};
use crate::model::format::{bytes, wrap_words};
use crate::model::sanitize::one_line;
use crate::triage::overview::{Against, OverviewRow, Usage};
use crate::triage::{Problem, ProblemKind};
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

#[derive(Debug, Default)]
pub struct TriagePane {
    /// The containers of the problems, in the order they are listed.
    pub list: ContainerList,
    /// The problems as of the last sync.
    found: Rc<Vec<Problem>>,
    /// One row per project as of the last sync, from the memo in `Derived`: a frame
    /// only lays it out.
    overview: Rc<Vec<OverviewRow>>,
}

fn slot(kind: ProblemKind) -> Slot {
    match kind {
        ProblemKind::HostUnreachable
        | ProblemKind::OomKilled
        | ProblemKind::Crashloop
        | ProblemKind::Unhealthy => Slot::Error,
        ProblemKind::Exited => Slot::StateExited,
        ProblemKind::DependencyDown
        | ProblemKind::ServiceDegraded
        | ProblemKind::HealthNotRun => Slot::Warning,
        ProblemKind::TaskFailed => Slot::Error,
    }
}

impl Pane for TriagePane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.found = view.derived.problems(view.model, view.project, view.now);
        self.overview = view.derived.overview(view.model, view.project, view.now);
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
        let found = Rc::clone(&self.found);
        let overview = Rc::clone(&self.overview);
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
        let width = inner.width as usize;
        let height = inner.height as usize;
        if found.is_empty() {
            let mut lines = vec![
                Line::from(Span::styled("✓ Nothing is wrong.", theme.style(Slot::Ok))),
                Line::default(),
            ];
            let words = format!(
                "{} running, {} unhealthy, no crash loops, no OOM kills, no failed exits, no stopped dependencies.",
                counts.running, counts.unhealthy
            );
            lines.extend(wrap_words(&words, width).into_iter().map(Line::from));
            if counts.total == 0 {
                for piece in wrap_words("There are no containers on this engine yet.", width) {
                    lines.push(Line::from(Span::styled(piece, theme.style(Slot::Muted))));
                }
            }
            let used = lines.len().min(height);
            frame.render_widget(Paragraph::new(lines), rows_of(inner, 0, used));
            render_overview(frame, rows_of(inner, used + 1, height), view, &overview);
            return;
        }
        // Each problem takes a title line and its cause, wrapped to at most two lines.
        let entries: Vec<Vec<Line>> = found.iter().map(|p| problem_lines(p, view, width)).collect();
        let per = entries.iter().map(Vec::len).max().unwrap_or(2).max(1);
        // Problems come first; when they need the whole pane the overview keeps its
        // last line for a one-line summary, as long as one problem still fits.
        let all_fit = entries.len() * per <= height;
        let keep_summary = !all_fit && height > per + 1 && !overview.is_empty();
        let problem_height = if keep_summary { height - 1 } else { height };
        let visible = (problem_height / per).max(1);
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
        if hidden > 0 && lines.len() < problem_height {
            lines.push(Line::from(Span::styled(
                format!("{hidden} more below/above: j/k to scroll"),
                theme.style(Slot::Muted),
            )));
        }
        let used = lines.len().min(problem_height);
        frame.render_widget(Paragraph::new(lines), rows_of(inner, 0, used));
        if keep_summary {
            let summary = Line::from(summary_spans(view, &overview));
            frame.render_widget(Paragraph::new(summary), rows_of(inner, height - 1, height));
        } else {
            render_overview(frame, rows_of(inner, used, height), view, &overview);
        }
    }
}

/// Rows `from..to` of `area` (clamped to it).
fn rows_of(area: Rect, from: usize, to: usize) -> Rect {
    let from = from.min(area.height as usize) as u16;
    let to = (to.min(area.height as usize) as u16).max(from);
    Rect { y: area.y + from, height: to - from, ..area }
}

/// `text` in at most `width` characters, cut between words with `…` where it must be.
fn fit_words(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split(' ') {
        let needed = out.chars().count() + usize::from(!out.is_empty()) + word.chars().count();
        // Room for the word and the `…` that says more followed.
        if needed + 1 > width {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        // Not even one word fits: cut it, the one place a word is cut.
        return crate::model::format::fit(text, width);
    }
    out.push('…');
    out
}

/// One cell of the overview: styled pieces, measured in characters.
type Cell = Vec<Span<'static>>;

fn cell_width(cell: &Cell) -> usize {
    cell.iter().map(|s| s.content.chars().count()).sum()
}

/// A column of the overview. The narrowest screens lose whole columns, lowest
/// `keep` first, never a piece of one.
struct Column {
    header: &'static str,
    keep: u8,
    /// Takes the width the others leave: the last column, cut between words.
    flexible: bool,
    cells: Vec<Cell>,
}

/// The event column takes what the others leave, and is only worth showing with
/// room for a time, a name and a word.
const EVENT_MIN_WIDTH: usize = 18;
const GAP: usize = 2;

fn overview_columns(view: &PaneView<'_>, rows: &[OverviewRow]) -> Vec<Column> {
    let theme = view.theme;
    let model = view.model;
    let muted = theme.style(Slot::Muted);
    let project = rows
        .iter()
        .map(|r| {
            let (mark, slot) = if r.lost {
                ("? ", Slot::Muted)
            } else if r.problems > 0 {
                ("✗ ", Slot::Error)
            } else if r.broken_routes > 0 {
                // Nothing of its own is down, yet some of its traffic goes nowhere.
                ("! ", Slot::Warning)
            } else {
                ("✓ ", Slot::Ok)
            };
            let name = match &r.project {
                Some(p) => one_line(p).into_owned(),
                None => "stand-alone".to_string(),
            };
            let name = crate::model::format::fit(&format!("{}{name}", super::host_prefix(model, r.host)), 28);
            let style = if r.project.is_none() || r.lost { muted } else { theme.style(Slot::Title) };
            vec![Span::styled(mark, theme.style(slot)), Span::styled(name, style)]
        })
        .collect();
    let up = rows
        .iter()
        .map(|r| {
            let slot = if r.running == 0 { Slot::StateExited } else { Slot::Value };
            vec![Span::styled(format!("{}/{}", r.running, r.total), theme.style(slot))]
        })
        .collect();
    let health = rows
        .iter()
        .map(|r| {
            let mut cell: Cell = Vec::new();
            for (n, words, slot) in [
                (r.unhealthy, "unhealthy", Slot::HealthUnhealthy),
                (r.starting, "starting", Slot::HealthStarting),
                (r.healthy, "ok", Slot::HealthHealthy),
            ] {
                if n == 0 {
                    continue;
                }
                if !cell.is_empty() {
                    cell.push(Span::styled(" · ", muted));
                }
                cell.push(Span::styled(format!("{n} {words}"), theme.style(slot)));
            }
            if cell.is_empty() {
                cell.push(Span::styled("–", muted));
            }
            cell
        })
        .collect();
    let cpu = rows.iter().map(|r| usage_cell(view, r.lost, &r.cpu, cpus)).collect();
    let memory = rows.iter().map(|r| usage_cell(view, r.lost, &r.memory, bytes)).collect();
    let routes = rows
        .iter()
        .map(|r| match r.broken_routes {
            0 => vec![Span::styled("–", muted)],
            n => vec![Span::styled(format!("{n} broken"), theme.style(Slot::Error))],
        })
        .collect();
    let event = rows
        .iter()
        .map(|r| match &r.newest_event {
            None => vec![Span::styled("–", muted)],
            Some(e) => {
                let mark = if e.reconstructed { "~" } else { "" };
                let at = e.at.with_timezone(&view.offset).format("%H:%M");
                let bad = ["die exit", "oom", "kill", "unhealthy"].iter().any(|w| e.words.starts_with(w))
                    && e.words != "die exit 0";
                let slot = if bad { Slot::Warning } else { Slot::Value };
                vec![
                    Span::styled(format!("{mark}{at} "), muted),
                    Span::styled(format!("{} ", one_line(&e.container)), theme.style(Slot::Accent)),
                    Span::styled(one_line(&e.words).into_owned(), theme.style(slot)),
                ]
            }
        })
        .collect();
    let column = |header, keep, cells| Column { header, keep, flexible: false, cells };
    vec![
        column("PROJECT", u8::MAX, project),
        column("UP", 6, up),
        column("HEALTH", 5, health),
        column("CPU", 1, cpu),
        column("MEMORY", 2, memory),
        column("ROUTES", 4, routes),
        Column { header: "LAST EVENT", keep: 3, flexible: true, cells: event },
    ]
}

/// CPUs as the overview writes them: `0.42`, `1.5`, `2`.
fn cpus(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `used/capacity` coloured by how full it is, and whether the capacity is the sum of
/// the limits (`lim`) or the engine's own (`host`); `–` where nothing is known.
fn usage_cell<T: crate::triage::overview::Amount>(
    view: &PaneView<'_>,
    lost: bool,
    usage: &Usage<T>,
    words: impl Fn(T) -> String,
) -> Cell {
    let theme = view.theme;
    let muted = theme.style(Slot::Muted);
    let (Some(used), false) = (usage.used, lost) else {
        return vec![Span::styled("–", muted)];
    };
    let style = usage.percent().map_or(theme.style(Slot::Value), |p| theme.gauge(p));
    let mut cell = vec![Span::styled(words(used), style)];
    if let Some(capacity) = usage.capacity {
        let against = match usage.against {
            Against::Limits => "lim",
            Against::Host => "host",
        };
        cell.push(Span::styled(format!("/{} ", words(capacity)), theme.style(Slot::Value)));
        cell.push(Span::styled(against, muted));
    }
    cell
}

/// The columns that fit `width`, each with its width: the least important give way
/// first, whole, until the rest fit. The project's column always stays.
fn fit_columns(columns: &[Column], width: usize) -> Vec<(usize, usize)> {
    let natural: Vec<usize> = columns
        .iter()
        .map(|c| c.cells.iter().map(cell_width).max().unwrap_or(0).max(c.header.chars().count()))
        .collect();
    let least = |i: usize| if columns[i].flexible { natural[i].min(EVENT_MIN_WIDTH) } else { natural[i] };
    let mut shown: Vec<usize> = (0..columns.len()).collect();
    loop {
        let need: usize =
            shown.iter().map(|i| least(*i)).sum::<usize>() + GAP * shown.len().saturating_sub(1);
        if need <= width || shown.len() <= 1 {
            break;
        }
        let weakest = shown.iter().enumerate().min_by_key(|(_, i)| columns[**i].keep).map(|(at, _)| at);
        match weakest {
            Some(at) if columns[shown[at]].keep < u8::MAX => {
                shown.remove(at);
            }
            _ => break,
        }
    }
    let fixed: usize = shown
        .iter()
        .filter(|i| !columns[**i].flexible)
        .map(|i| natural[*i])
        .sum::<usize>()
        + GAP * shown.len().saturating_sub(1);
    let rest = width.saturating_sub(fixed);
    shown
        .into_iter()
        .map(|i| {
            let w = if columns[i].flexible { rest } else { natural[i] };
            (i, w.min(width))
        })
        .collect()
}

/// `cell` in at most `width` characters: the piece that overflows is cut between
/// words, and what follows it is left out.
fn fit_cell(cell: &Cell, width: usize) -> Cell {
    let mut out = Vec::new();
    let mut room = width;
    for span in cell {
        let count = span.content.chars().count();
        if count <= room {
            room -= count;
            out.push(span.clone());
            continue;
        }
        let cut = fit_words(span.content.trim_end(), room);
        if !cut.is_empty() {
            out.push(Span::styled(cut, span.style));
        }
        break;
    }
    out
}

/// The overview below the problems: a rule titled `Overview`, a header and one line
/// per project, as many as `area` holds; the ones left out are counted.
fn render_overview(frame: &mut Frame, area: Rect, view: &PaneView<'_>, rows: &[OverviewRow]) {
    let theme = view.theme;
    let height = area.height as usize;
    if rows.is_empty() || height == 0 {
        return;
    }
    if height < 3 {
        // No room for a header and a row: what fits is the summary.
        let last = rows_of(area, height - 1, height);
        frame.render_widget(Paragraph::new(Line::from(summary_spans(view, rows))), last);
        return;
    }
    let title = format!(" Overview · {} ", what_rows_are(rows));
    let rule = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.border(false))
        .title(Span::styled(title, theme.title(false)));
    frame.render_widget(rule, rows_of(area, 0, 1));
    let width = area.width as usize;
    let columns = overview_columns(view, rows);
    let shown = fit_columns(&columns, width);
    let line_of = |cells: Vec<(Cell, usize)>| {
        let mut spans: Vec<Span> = Vec::new();
        let last = cells.len().saturating_sub(1);
        for (n, (cell, w)) in cells.into_iter().enumerate() {
            let cell = fit_cell(&cell, w);
            let pad = w.saturating_sub(cell_width(&cell));
            spans.extend(cell);
            if n < last {
                spans.push(Span::raw(" ".repeat(pad + GAP)));
            }
        }
        Line::from(spans)
    };
    let header = line_of(
        shown
            .iter()
            .map(|(i, w)| (vec![Span::styled(columns[*i].header, theme.style(Slot::Label))], *w))
            .collect(),
    );
    let mut lines = vec![header];
    let room = height - 2;
    let fits = if rows.len() <= room { rows.len() } else { room.saturating_sub(1) };
    for (r, row) in rows.iter().enumerate().take(fits) {
        let line = line_of(shown.iter().map(|(i, w)| (columns[*i].cells[r].clone(), *w)).collect());
        lines.push(if row.lost { line.style(theme.style(Slot::Muted)) } else { line });
    }
    if fits < rows.len() {
        lines.push(Line::from(Span::styled(
            format!("{} more projects: p narrows the view to one", rows.len() - fits),
            theme.style(Slot::Muted),
        )));
    }
    frame.render_widget(Paragraph::new(lines), rows_of(area, 1, height));
}

/// `4 projects + stand-alone`: stand-alone containers are no project.
fn what_rows_are(rows: &[OverviewRow]) -> String {
    let named = rows.iter().filter(|r| r.project.is_some()).count();
    let alone = rows.iter().any(|r| r.project.is_none());
    match (named, alone) {
        (0, _) => "stand-alone containers".to_string(),
        (1, false) => "1 project".to_string(),
        (1, true) => "1 project + stand-alone".to_string(),
        (n, false) => format!("{n} projects"),
        (n, true) => format!("{n} projects + stand-alone"),
    }
}

/// The whole overview on one line, for when the problems leave no more:
/// `Overview · 4 projects · 7/9 up · 1 unhealthy · 1 broken route`.
fn summary_spans(view: &PaneView<'_>, rows: &[OverviewRow]) -> Vec<Span<'static>> {
    let theme = view.theme;
    let sum = |f: fn(&OverviewRow) -> usize| rows.iter().map(f).sum::<usize>();
    let (running, total, unhealthy) = (sum(|r| r.running), sum(|r| r.total), sum(|r| r.unhealthy));
    // A broken route between two projects is on both their rows: count it once.
    let broken = view.derived.routes(view.model, view.project).broken();
    let projects = what_rows_are(rows);
    let mut spans = vec![
        Span::styled("Overview", theme.title(false)),
        Span::styled(format!(" · {projects} · {running}/{total} up"), theme.style(Slot::Value)),
    ];
    if unhealthy > 0 {
        spans.push(Span::styled(format!(" · {unhealthy} unhealthy"), theme.style(Slot::Warning)));
    }
    if broken > 0 {
        let s = if broken == 1 { "" } else { "s" };
        spans.push(Span::styled(format!(" · {broken} broken route{s}"), theme.style(Slot::Error)));
    }
    spans
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
    let mut lines = vec![title];
    // Two lines broken between words; what does not fit ends in `…`.
    let wrapped = wrap_words(&one_line(&p.detail), room);
    let cut = wrapped.len() > 2;
    let total = wrapped.len().min(2);
    for (i, mut chunk) in wrapped.into_iter().take(2).enumerate() {
        if i == total - 1 && cut {
            if chunk.chars().count() >= room {
                chunk.pop();
            }
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
