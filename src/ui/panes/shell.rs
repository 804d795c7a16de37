//! Shells in containers, each a terminal emulated inside the pane, in tabs of their
//! own; the rest of portolan stays live around them.
//!
//! The pane is the terminals' model: one `vt100` parser per session holds its screen
//! (with a modest scrollback), fed the shell's output chunk by chunk. Drawing copies
//! that screen cell by cell into ratatui's buffer, so nothing the container prints
//! reaches the operator's terminal except as the emulator's cells, and each cell is
//! checked: control characters, bidirectional overrides and graphemes whose width
//! would shift the grid are drawn as `?`. Titles, clipboard writes (OSC 52) and other
//! requests a program makes of its terminal are dropped by the emulator.
//!
//! While the pane has the keyboard (`focused`), every key becomes the bytes a
//! terminal sends ([`keys`]) except the one that gives the keyboard back. What the
//! pane wants sent (keys, resizes, hang-ups) waits in an outbox the app empties
//! into the sessions' channels: the pane never touches the engine.

pub mod keys;

use std::num::NonZeroU16;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Effect, Handled, Pane, PaneView, block};
use crate::engine::shell::{ShellEnd, ShellInput, ShellRequest, TtySize};
use crate::model::HostId;
use crate::model::sanitize::one_line;
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

/// Lines of scrollback kept per session: enough to look back, little memory (a line
/// of 200 cells is a few KiB).
pub const SCROLLBACK: usize = 1000;

/// The size a session starts at before the pane has been drawn.
const FIRST_SIZE: TtySize = TtySize { rows: 24, cols: 80 };

/// What a session is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// Asked of the engine; the shell is being looked for and started.
    Starting,
    /// The shell runs.
    Running { shell: String },
    /// The shell's process exited, with its code when the engine said it.
    Exited { shell: String, code: Option<i64> },
    /// It could not start, or the connection failed: why, in words.
    Failed(String),
    /// Closed by the operator (a tab that closes goes away; this is for the moment
    /// before the engine confirms).
    HungUp,
}

impl SessionState {
    pub fn is_live(&self) -> bool {
        matches!(self, SessionState::Starting | SessionState::Running { .. })
    }
}

/// One shell: which container it runs in, its terminal's screen and its state.
pub struct Session {
    pub id: u64,
    pub host: HostId,
    pub container: String,
    /// The container's name when the shell was opened, for the tab.
    pub name: String,
    pub state: SessionState,
    parser: vt100::Parser,
    /// The size the engine was last asked to give the TTY.
    sent_size: TtySize,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("container", &self.container)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The emulator's screen, as the pane draws it.
    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    /// The screen's text, row by row (for tests and the text snapshot).
    pub fn text(&self) -> String {
        self.parser.screen().contents()
    }

    /// What the tab says: `web · bash`, `db · sh · exit 3`.
    fn label(&self) -> String {
        let name = one_line(&self.name);
        match &self.state {
            SessionState::Starting => format!("{name} · starting"),
            SessionState::Running { shell } => format!("{name} · {}", short_shell(shell)),
            SessionState::Exited { shell, code } => {
                format!("{name} · {} · exit {}", short_shell(shell), code_text(*code))
            }
            SessionState::Failed(_) => format!("{name} · failed"),
            SessionState::HungUp => format!("{name} · closed"),
        }
    }

    /// The state in words, for the bottom of the pane.
    fn status(&self) -> Option<(String, Slot)> {
        match &self.state {
            SessionState::Starting => Some(("looking for a shell…".to_string(), Slot::Muted)),
            SessionState::Running { .. } => None,
            SessionState::Exited { shell, code } => {
                let slot = if *code == Some(0) { Slot::Ok } else { Slot::Warning };
                Some((format!("{} exited with code {}", short_shell(shell), code_text(*code)), slot))
            }
            SessionState::Failed(reason) => Some((one_line(reason).into_owned(), Slot::Error)),
            SessionState::HungUp => Some(("closed".to_string(), Slot::Muted)),
        }
    }
}

fn short_shell(shell: &str) -> String {
    one_line(shell.rsplit('/').next().unwrap_or(shell)).into_owned()
}

fn code_text(code: Option<i64>) -> String {
    code.map_or_else(|| "unknown".to_string(), |c| c.to_string())
}

/// The pane: every session, the one shown, and whether it has the keyboard.
#[derive(Debug, Default)]
pub struct ShellPane {
    sessions: Vec<Session>,
    current: usize,
    /// Keys go to the current shell rather than to portolan.
    focused: bool,
    next_id: u64,
    /// The terminal area at the last draw: new sessions start at it.
    last_size: Option<TtySize>,
    outbox: Vec<(u64, ShellInput)>,
}

impl ShellPane {
    /// A new session in container `id` of engine `host`, shown and focused; the
    /// request to send the engine.
    pub fn open(
        &mut self,
        host: HostId,
        id: &str,
        name: &str,
        preferred: Option<String>,
    ) -> ShellRequest {
        self.next_id += 1;
        let size = self.last_size.unwrap_or(FIRST_SIZE);
        self.sessions.push(Session {
            id: self.next_id,
            host,
            container: id.to_string(),
            name: name.to_string(),
            state: SessionState::Starting,
            parser: parser(size),
            sent_size: size,
        });
        self.current = self.sessions.len() - 1;
        self.focused = true;
        ShellRequest { host, session: self.next_id, container: id.to_string(), preferred, size }
    }

    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    pub fn current(&self) -> Option<&Session> {
        self.sessions.get(self.current)
    }

    pub fn focused(&self) -> bool {
        self.focused && self.current().is_some_and(|s| s.state.is_live())
    }

    /// Gives the keyboard to the current shell, or takes it back; false when there
    /// is no live shell to give it to.
    pub fn toggle_focus(&mut self) -> bool {
        if self.focused() {
            self.focused = false;
            return true;
        }
        self.focused = self.current().is_some_and(|s| s.state.is_live());
        self.focused
    }

    /// Whether session `id` still has a tab.
    pub fn knows(&self, id: u64) -> bool {
        self.sessions.iter().any(|s| s.id == id)
    }

    fn session_mut(&mut self, id: u64) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.id == id)
    }

    /// The shell started.
    pub fn started(&mut self, id: u64, shell: String) -> bool {
        match self.session_mut(id) {
            Some(session) if session.state == SessionState::Starting => {
                session.state = SessionState::Running { shell };
                true
            }
            _ => false,
        }
    }

    /// Feeds what the shell printed to its emulator: work in proportion to the chunk,
    /// drawn at the next frame. Whether the shown session changed.
    pub fn output(&mut self, id: u64, bytes: &[u8]) -> bool {
        let shown = self.current().map(|s| s.id) == Some(id);
        match self.session_mut(id) {
            Some(session) => {
                session.parser.process(bytes);
                shown
            }
            None => false,
        }
    }

    /// The session ended; it stays, with its last screen, until closed.
    pub fn ended(&mut self, id: u64, end: ShellEnd) -> bool {
        let Some(session) = self.session_mut(id) else { return false };
        let shell = match &session.state {
            SessionState::Running { shell } => Some(shell.clone()),
            _ => None,
        };
        session.state = match (end, shell) {
            (ShellEnd::Exited(code), Some(shell)) => SessionState::Exited { shell, code },
            (ShellEnd::Exited(code), None) => {
                SessionState::Exited { shell: "shell".to_string(), code }
            }
            (ShellEnd::Failed(reason), _) => SessionState::Failed(reason),
            (ShellEnd::HungUp, _) => SessionState::HungUp,
        };
        if self.current().is_some_and(|s| s.id == id) {
            // Keys would go nowhere: they are portolan's again.
            self.focused = false;
        }
        true
    }

    /// What is waiting to go to the sessions, oldest first.
    pub fn take_outbox(&mut self) -> Vec<(u64, ShellInput)> {
        std::mem::take(&mut self.outbox)
    }

    /// Closes the current tab, hanging up its shell if it still runs.
    fn close_current(&mut self) -> bool {
        if self.current >= self.sessions.len() {
            return false;
        }
        let session = self.sessions.remove(self.current);
        if session.state.is_live() {
            self.outbox.push((session.id, ShellInput::Hangup));
        }
        self.current = self.current.min(self.sessions.len().saturating_sub(1));
        self.focused = false;
        true
    }

    /// Rows of the current terminal, for paging through its scrollback.
    fn page(&self) -> usize {
        self.last_size.map_or(usize::from(FIRST_SIZE.rows), |s| usize::from(s.rows))
    }

    /// Moves the view `delta` lines back into the scrollback (forward when negative);
    /// 0 is the live screen.
    fn scroll(&mut self, delta: isize) -> bool {
        let Some(session) = self.sessions.get_mut(self.current) else { return false };
        let screen = session.parser.screen_mut();
        let before = screen.scrollback();
        let wanted = (before as isize).saturating_add(delta).max(0) as usize;
        screen.set_scrollback(wanted);
        screen.scrollback() != before
    }

    fn switch(&mut self, step: isize) -> bool {
        let count = self.sessions.len();
        if count < 2 {
            return false;
        }
        self.current = (self.current as isize + step).rem_euclid(count as isize) as usize;
        true
    }

    /// Sizes the current session's terminal to `size`: the emulator at once, the
    /// engine's TTY through the outbox, only when it changed.
    fn fit(&mut self, size: TtySize) {
        self.last_size = Some(size);
        let Some(session) = self.sessions.get_mut(self.current) else { return };
        if session.sent_size == size {
            return;
        }
        if let (Some(rows), Some(cols)) = (NonZeroU16::new(size.rows), NonZeroU16::new(size.cols)) {
            session.parser.set_size(rows, cols);
        }
        session.sent_size = size;
        if session.state.is_live() {
            self.outbox.push((session.id, ShellInput::Resize(size)));
        }
    }

    /// Draws the tabs, the current terminal and its state into `area` (the block's
    /// inside); the terminal takes what the tabs and state lines leave.
    fn draw_inside(&mut self, buf: &mut Buffer, area: Rect, view: &PaneView<'_>) {
        let theme = view.theme;
        let tabs: Vec<Span> = self
            .sessions
            .iter()
            .enumerate()
            .flat_map(|(index, session)| {
                let style = if index == self.current {
                    theme.style(Slot::Selection)
                } else {
                    theme.style(Slot::Muted)
                };
                [Span::styled(format!(" {} {} ", index + 1, session.label()), style), Span::raw(" ")]
            })
            .collect();
        buf.set_line(area.x, area.y, &Line::from(tabs), area.width);
        let status = self.current().and_then(|session| {
            let back = session.parser.screen().scrollback();
            if back > 0 {
                let text = format!("{back} lines back in the scrollback (end returns)");
                return Some((text, Slot::Accent));
            }
            session.status()
        });
        let bottom = u16::from(status.is_some());
        let screen_area = Rect {
            x: area.x,
            y: area.y + 1,
            width: area.width,
            height: area.height.saturating_sub(1 + bottom),
        };
        if screen_area.width == 0 || screen_area.height == 0 {
            return;
        }
        self.fit(TtySize { rows: screen_area.height, cols: screen_area.width });
        let focused = self.focused();
        if let Some(session) = self.current() {
            let base = theme.style(Slot::Base);
            draw_screen(session.parser.screen(), buf, screen_area, focused, base);
        }
        if let Some((text, slot)) = status {
            let y = screen_area.bottom();
            buf.set_line(area.x, y, &Line::styled(format!(" {text} "), theme.style(slot)), area.width);
        }
    }
}

fn parser(size: TtySize) -> vt100::Parser {
    let rows = NonZeroU16::new(size.rows).unwrap_or(vt100::Parser::DEFAULT_ROWS);
    let cols = NonZeroU16::new(size.cols).unwrap_or(vt100::Parser::DEFAULT_COLS);
    vt100::Parser::new(rows, cols, SCROLLBACK)
}

/// Copies the emulator's screen into `area` cell by cell; the cursor shows as a
/// reversed cell when the shell has the keyboard. The terminal's default colours are
/// `base`'s, so a theme with a background of its own keeps it.
pub fn draw_screen(
    screen: &vt100::Screen,
    buf: &mut Buffer,
    area: Rect,
    cursor: bool,
    base: Style,
) {
    let live = screen.scrollback() == 0;
    let cursor_at = (cursor && live && !screen.hide_cursor()).then(|| screen.cursor_position());
    for row in 0..area.height {
        let mut col = 0;
        while col < area.width {
            let (x, y) = (area.x + col, area.y + row);
            let Some(cell) = screen.cell(row, col) else {
                buf[(x, y)].reset();
                buf[(x, y)].set_style(base);
                col += 1;
                continue;
            };
            let wide = cell.is_wide() && col + 1 < area.width;
            let mut style = cell_style(cell, base);
            if cursor_at == Some((row, col)) {
                style = style.add_modifier(Modifier::REVERSED);
            }
            let symbol = safe_symbol(cell.contents(), if wide { 2 } else { 1 });
            buf[(x, y)].set_symbol(symbol).set_style(style);
            if wide {
                // The grapheme covers the next cell: ratatui must not draw over it.
                buf[(x + 1, y)].reset();
                buf[(x + 1, y)].set_style(style);
                col += 2;
            } else {
                col += 1;
            }
        }
    }
}

/// What a cell may show: its grapheme when it is printable and as wide as the cell,
/// else `?` (or a blank for an empty cell). The emulator keeps control characters
/// out of cells already; this holds even if it did not.
pub fn safe_symbol(contents: &str, width: usize) -> &str {
    if contents.is_empty() {
        return " ";
    }
    let printable = contents.chars().all(crate::model::sanitize::is_printable);
    if printable && Span::raw(contents).width() == width {
        contents
    } else {
        "?"
    }
}

fn cell_style(cell: &vt100::Cell, base: Style) -> Style {
    let fg = color(cell.fgcolor()).or(base.fg).unwrap_or(Color::Reset);
    let bg = color(cell.bgcolor()).or(base.bg).unwrap_or(Color::Reset);
    let mut style = Style::default().fg(fg).bg(bg);
    let mut modifiers = Modifier::empty();
    if cell.bold() {
        modifiers |= Modifier::BOLD;
    }
    if cell.dim() {
        modifiers |= Modifier::DIM;
    }
    if cell.italic() {
        modifiers |= Modifier::ITALIC;
    }
    if cell.underline() {
        modifiers |= Modifier::UNDERLINED;
    }
    if cell.inverse() {
        modifiers |= Modifier::REVERSED;
    }
    style = style.add_modifier(modifiers);
    style
}

/// The emulator's colours in ratatui's terms (none for the default): the 16 named
/// ones stay named, so a 16-colour terminal shows them.
fn color(color: vt100::Color) -> Option<Color> {
    const NAMED: [Color; 16] = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];
    match color {
        vt100::Color::Default => None,
        vt100::Color::Idx(index) => {
            Some(NAMED.get(usize::from(index)).copied().unwrap_or(Color::Indexed(index)))
        }
        vt100::Color::Rgb(r, g, b) => Some(Color::Rgb(r, g, b)),
    }
}

impl Pane for ShellPane {
    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let focused = self.focused();
        let mut title = view.title.to_string();
        if let Some(session) = self.current() {
            title = format!("{title} · {}", one_line(&session.name));
        }
        if focused {
            title.push_str(" · keys go to the shell");
        }
        let shown = PaneView { focused: view.focused && (focused || self.sessions.is_empty()), ..*view };
        let block = block(&shown, title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.sessions.is_empty() {
            let text = "No shell open. Select a running container and press the open-shell key \
                        (see ? for keys).";
            let paragraph = Paragraph::new(Line::styled(text, view.theme.style(Slot::Muted)))
                .wrap(ratatui::widgets::Wrap { trim: true });
            frame.render_widget(paragraph, inner);
            return;
        }
        self.draw_inside(frame.buffer_mut(), inner, view);
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, _effects: &mut Vec<Effect>) -> Handled {
        match action {
            Action::Left => Handled::changed(self.switch(-1)),
            Action::Right => Handled::changed(self.switch(1)),
            Action::KillProcess => Handled::changed(self.close_current()),
            action => match super::movement(action, self.page()) {
                // Up the scrollback is back in time: the opposite of a list's down.
                Some(delta) => Handled::changed(self.scroll(-delta)),
                None => Handled::Pass,
            },
        }
    }

    fn selected_container(&self) -> Option<&str> {
        self.current().map(|s| s.container.as_str())
    }

    fn select_container(&mut self, id: &str) {
        if self.current().is_some_and(|s| s.container == id) {
            // Several shells in one container: stay on the one last shown.
            return;
        }
        if let Some(index) = self.sessions.iter().position(|s| s.container == id) {
            self.current = index;
        }
    }

    fn takes_text(&self) -> bool {
        self.focused()
    }

    fn text_key(&mut self, key: &KeyEvent, _view: &PaneView<'_>, _effects: &mut Vec<Effect>) -> bool {
        let Some(session) = self.sessions.get(self.current) else { return false };
        if !session.state.is_live() {
            return false;
        }
        let application_cursor = session.parser.screen().application_cursor();
        if let Some(bytes) = keys::bytes(key, application_cursor) {
            // Typing goes to the bottom of the screen, as in a terminal.
            let id = session.id;
            let scrolled = session.parser.screen().scrollback() > 0;
            if scrolled && let Some(session) = self.sessions.get_mut(self.current) {
                session.parser.screen_mut().set_scrollback(0);
            }
            self.outbox.push((id, ShellInput::Bytes(bytes)));
            return scrolled;
        }
        false
    }

    fn hints(&self) -> Vec<(Action, &'static str)> {
        let mut hints = Vec::new();
        if self.current().is_some_and(|s| s.state.is_live()) {
            hints.push((Action::ShellFocus, "type in the shell"));
        }
        hints.push((Action::OpenShell, "new shell"));
        if self.sessions.len() > 1 {
            hints.push((Action::Right, "next shell"));
        }
        if !self.sessions.is_empty() {
            hints.push((Action::KillProcess, "close"));
            hints.push((Action::PageUp, "scroll back"));
        }
        hints
    }

    fn has_tab(&self, _model: &crate::model::Model) -> bool {
        !self.sessions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_would_shift_or_escape_are_question_marks() {
        assert_eq!(safe_symbol("a", 1), "a");
        assert_eq!(safe_symbol("", 1), " ");
        assert_eq!(safe_symbol("漢", 2), "漢");
        assert_eq!(safe_symbol("漢", 1), "?", "a wide grapheme in a narrow cell");
        assert_eq!(safe_symbol("\u{1b}", 1), "?");
        assert_eq!(safe_symbol("\u{7}", 1), "?");
        assert_eq!(safe_symbol("\u{9b}", 1), "?", "C1 CSI");
        assert_eq!(safe_symbol("a\u{202e}", 1), "?", "bidi override");
        assert_eq!(safe_symbol("e\u{301}", 1), "e\u{301}", "a combining accent is fine");
    }

    #[test]
    fn output_feeds_the_emulator_and_size_changes_are_sent_once() {
        let mut pane = ShellPane::default();
        let request = pane.open(0, "abc", "web", None);
        assert_eq!(request.size, FIRST_SIZE);
        assert!(pane.started(request.session, "/bin/sh".into()));
        assert!(pane.output(request.session, b"hello\r\nworld"));
        assert!(pane.current().is_some_and(|s| s.text().starts_with("hello\nworld")));
        pane.fit(TtySize { rows: 10, cols: 40 });
        pane.fit(TtySize { rows: 10, cols: 40 });
        assert_eq!(
            pane.take_outbox(),
            vec![(request.session, ShellInput::Resize(TtySize { rows: 10, cols: 40 }))]
        );
        assert!(pane.ended(request.session, ShellEnd::Exited(Some(3))));
        assert_eq!(
            pane.current().map(|s| s.state.clone()),
            Some(SessionState::Exited { shell: "/bin/sh".into(), code: Some(3) })
        );
        assert!(!pane.focused(), "an exited shell gives the keyboard back");
        pane.fit(TtySize { rows: 12, cols: 40 });
        assert!(pane.take_outbox().is_empty(), "an exited shell is not resized");
    }

    #[test]
    fn a_flood_keeps_the_scrollback_bounded() {
        let mut pane = ShellPane::default();
        let request = pane.open(0, "abc", "web", None);
        let chunk = b"y\r\n".repeat(10_000);
        for _ in 0..10 {
            pane.output(request.session, &chunk);
        }
        let screen = pane.current().map(|s| s.screen().scrollback_capacity());
        assert_eq!(screen, Some(SCROLLBACK));
    }

    #[test]
    fn the_scrollback_is_scrolled_and_typing_returns_to_the_live_screen() {
        let mut pane = ShellPane::default();
        let request = pane.open(0, "abc", "web", None);
        pane.started(request.session, "sh".into());
        let lines: String = (0..100).map(|n| format!("line {n}\r\n")).collect();
        pane.output(request.session, lines.as_bytes());
        assert!(pane.scroll(10));
        assert_eq!(pane.current().map(|s| s.screen().scrollback()), Some(10));
        assert!(!pane.scroll(-20) || pane.current().is_some_and(|s| s.screen().scrollback() == 0));
        assert!(pane.scroll(5));
        let key = KeyEvent::new(crossterm::event::KeyCode::Char('x'), crossterm::event::KeyModifiers::NONE);
        let model = crate::model::Model::new("test", chrono::Utc::now());
        let derived = crate::derived::Derived::default();
        let theme = crate::ui::theme::Theme::built_in("dark");
        let view = super::super::testing::view(&model, &derived, &theme, "Shell", chrono::Utc::now());
        assert!(pane.text_key(&key, &view, &mut Vec::new()), "typing redraws the live screen");
        assert_eq!(pane.current().map(|s| s.screen().scrollback()), Some(0));
    }

    #[test]
    fn tabs_switch_and_close_and_a_live_one_is_hung_up() {
        let mut pane = ShellPane::default();
        let first = pane.open(0, "a", "web", None).session;
        let second = pane.open(0, "b", "db", None).session;
        assert_eq!(pane.current().map(|s| s.id), Some(second));
        assert!(pane.switch(1));
        assert_eq!(pane.current().map(|s| s.id), Some(first));
        assert!(pane.close_current());
        assert_eq!(pane.take_outbox(), vec![(first, ShellInput::Hangup)]);
        assert_eq!(pane.current().map(|s| s.id), Some(second));
        assert!(!pane.switch(1), "one tab: nothing to switch to");
    }
}
