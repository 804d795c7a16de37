//! Processes: what runs inside one container (its `/top`), with CPU and memory, read
//! again every two seconds while the pane is open and not otherwise. The selected
//! process can be sent a signal; the app asks first (and refuses when read-only).
//!
//! The pane keeps which container it shows and which process is selected (by pid, so
//! a refresh that reorders the list does not move the selection to another process).
//! Command lines come from inside the container: they are drawn through `one_line`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Effect, Handled, ListNav, Pane, PaneView, block};
use crate::model::format::fit;
use crate::model::processes::{KillAsk, ProcessRow, Signal, cpu, memory};
use crate::model::sanitize::one_line;
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

#[derive(Debug, Default)]
pub struct ProcessesPane {
    /// The id of the container shown.
    pub target: Option<String>,
    pub nav: ListNav,
    /// The pid under the selection, kept across refreshes.
    selected_pid: Option<u32>,
    /// The rows of the last table, for the keys.
    rows: Vec<ProcessRow>,
}

impl ProcessesPane {
    pub fn selected(&self) -> Option<&ProcessRow> {
        self.rows.get(self.nav.selected)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The column widths, command last taking what is left.
const PID: usize = 8;
const USER: usize = 9;
const CPU: usize = 7;
const MEM: usize = 10;
const TIME: usize = 11;

fn row_line(row: &ProcessRow, width: usize) -> String {
    let fixed = PID * 2 + USER + CPU + MEM + TIME;
    let command = fit(&one_line(&row.command), width.saturating_sub(fixed).max(8));
    format!(
        "{:>w$} {:>w$} {:<u$}{:>c$} {:>m$} {:>t$} {command}",
        row.pid,
        row.ppid.map_or_else(|| "–".to_string(), |p| p.to_string()),
        fit(&one_line(row.user.as_deref().unwrap_or("–")), USER - 1),
        cpu(row.cpu_percent),
        memory(row.rss_bytes),
        fit(&one_line(row.elapsed.as_deref().unwrap_or("–")), TIME),
        w = PID - 1,
        u = USER,
        c = CPU - 1,
        m = MEM - 1,
        t = TIME - 1,
    )
}

fn header(width: usize) -> String {
    let line = format!(
        "{:>w$} {:>w$} {:<u$}{:>c$} {:>m$} {:>t$} {}",
        "PID",
        "PPID",
        "USER",
        "CPU",
        "MEM",
        "TIME",
        "COMMAND",
        w = PID - 1,
        u = USER,
        c = CPU - 1,
        m = MEM - 1,
        t = TIME - 1,
    );
    fit(&line, width)
}

impl Pane for ProcessesPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        let table = view.model.processes.as_ref().filter(|t| {
            self.target.as_deref().is_some_and(|id| t.id == id || id.starts_with(&t.id))
        });
        self.rows = table.map(|t| t.rows.clone()).unwrap_or_default();
        if let Some(pid) = self.selected_pid
            && let Some(at) = self.rows.iter().position(|r| r.pid == pid)
        {
            self.nav.selected = at;
        }
        self.nav.selected = self.nav.selected.min(self.rows.len().saturating_sub(1));
        self.selected_pid = self.selected().map(|r| r.pid);
    }

    fn act(&mut self, action: Action, view: &PaneView<'_>, effects: &mut Vec<Effect>) -> Handled {
        if action == Action::KillProcess {
            let container = self.target.as_deref().and_then(|id| view.model.containers.get(id));
            // A remote engine's pids are not this machine's: say so before asking.
            if view.model.processes.as_ref().is_some_and(|t| !t.host_proc) {
                effects.push(Effect::Say {
                    text: "killing a process needs the engine on this machine".to_string(),
                    error: true,
                });
                return Handled::Redraw;
            }
            match (container, self.selected()) {
                (Some(c), Some(row)) => effects.push(Effect::AskKill(KillAsk {
                    host: c.host,
                    id: c.id.clone(),
                    container: one_line(&c.name).into_owned(),
                    pid: row.pid,
                    command: one_line(&row.command).into_owned(),
                    signal: Signal::default(),
                })),
                _ => effects.push(Effect::Say {
                    text: "no process selected: nothing to signal".to_string(),
                    error: true,
                }),
            }
            return Handled::Redraw;
        }
        let moved = self.nav.take_movement(action, self.rows.len());
        if moved != Handled::Pass {
            self.selected_pid = self.selected().map(|r| r.pid);
        }
        moved
    }

    fn selected_container(&self) -> Option<&str> {
        self.target.as_deref()
    }

    fn select_container(&mut self, id: &str) {
        if self.target.as_deref() != Some(id) {
            self.target = Some(id.to_string());
            self.nav = ListNav::default();
            self.selected_pid = None;
            self.rows.clear();
        }
    }

    fn hints(&self) -> Vec<(Action, &'static str)> {
        vec![(Action::KillProcess, "signal")]
    }

    /// A tab only while it shows something: the key opens it for the selection.
    fn has_tab(&self, model: &crate::model::Model) -> bool {
        model.processes.is_some()
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let theme = view.theme;
        let container = self.target.as_deref().and_then(|id| view.model.containers.get(id));
        let Some(c) = container else {
            let text = if self.target.is_some() {
                "The container is gone."
            } else {
                "No container selected: select one (3) and press P to see its processes."
            };
            return super::message(frame, area, view, "Processes".to_string(), text);
        };
        let table = view.model.processes.as_ref().filter(|t| t.id == c.id || c.id.starts_with(&t.id));
        let mut title = format!("Processes · {}", one_line(&c.name));
        if let Some(t) = table.filter(|t| t.error.is_none()) {
            let count = t.rows.len();
            title.push_str(&format!(
                " · {count} process{}",
                if count == 1 { "" } else { "es" }
            ));
            if !t.host_proc {
                title.push_str(" · figures from ps");
            }
        }
        let outer = block(view, title);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        let width = inner.width as usize;
        let message = |text: String, slot: Slot| Paragraph::new(text).style(theme.style(slot));
        if !c.state.is_running() {
            let text = format!("{} is {}: no processes to show.", one_line(&c.name), c.state.as_str());
            frame.render_widget(message(text, Slot::Muted), inner);
            return;
        }
        let Some(table) = table else {
            frame.render_widget(message("Reading the processes…".to_string(), Slot::Muted), inner);
            return;
        };
        if let Some(error) = &table.error {
            let text = format!("The engine did not list the processes: {}", one_line(error));
            frame.render_widget(
                message(text, Slot::Error).wrap(ratatui::widgets::Wrap { trim: true }),
                inner,
            );
            return;
        }
        let mut lines =
            vec![Line::from(Span::styled(header(width), theme.style(Slot::Label)))];
        let visible = (inner.height as usize).saturating_sub(1);
        let range = self.nav.window(self.rows.len(), visible);
        for (i, row) in self.rows[range.clone()].iter().enumerate() {
            let text = fit(&row_line(row, width), width);
            let mut line = Line::from(Span::styled(text, theme.style(Slot::Value)));
            if range.start + i == self.nav.selected {
                line = theme.selected(line);
            }
            lines.push(line);
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pid: u32, command: &str) -> ProcessRow {
        ProcessRow {
            pid,
            ppid: Some(1),
            user: Some("root".into()),
            cpu_percent: Some(0.5),
            rss_bytes: Some(1192 * 1024),
            elapsed: Some("00:01".into()),
            command: command.into(),
        }
    }

    #[test]
    fn a_remote_engines_process_is_not_offered_a_signal() {
        use crate::model::processes::ProcessTable;
        let mut model = crate::topology::fixtures::seed("000-nestjs-postgres-redis").expect("seed");
        let id = model.containers.keys().next().cloned().expect("a container");
        model.processes = Some(ProcessTable {
            id: id.clone(),
            rows: vec![row(7, "sleep 1")],
            host_proc: false,
            error: None,
        });
        let derived = crate::derived::Derived::default();
        let theme = crate::ui::theme::Theme::built_in("dark");
        let view = super::super::testing::view(
            &model,
            &derived,
            &theme,
            "",
            crate::topology::fixtures::now(),
        );
        let mut pane = ProcessesPane::default();
        pane.select_container(&id);
        pane.sync(&view);
        let mut effects = Vec::new();
        pane.act(Action::KillProcess, &view, &mut effects);
        assert!(
            matches!(&effects[..], [Effect::Say { text, error: true }] if text.contains("on this machine")),
            "{effects:?}"
        );
    }

    #[test]
    fn hostile_command_lines_are_drawn_without_their_escapes() {
        let line = row_line(&row(7, "evil \u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31mred\nnext"), 100);
        assert!(!line.contains('\u{1b}'), "{line:?}");
        assert!(!line.contains('\u{7}') && !line.contains('\n'), "{line:?}");
        assert!(line.contains("evil"), "{line:?}");
    }
}
