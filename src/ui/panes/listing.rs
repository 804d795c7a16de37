//! What the Images, Volumes and Networks panes share, so each pane file holds only
//! its rows: the selection, sort (`s` next column, `S` reverse) and filter (`/` or
//! `f`, typed at the status line), marks (`m`), the actions menu (`a`) and the
//! question asked before a removal, and the requests for the engine that the app
//! takes from the pane ([`Listing::take_requests`]). Not a pane itself.

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::{Effect, Handled, ListNav, PaneView};
use crate::engine::images::ResourceRequest;
use crate::model::HostId;
use crate::model::images::ResourceKind;
use crate::model::sanitize::one_line;
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

/// What a listing's rows were built from: the images' and the structure's revisions,
/// the project filter, and the sort and filter.
pub type BuiltFor = (u64, u64, Option<String>, (usize, bool, String));

/// A question the pane asks before it sends a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    pub question: String,
    /// The operator types `yes` (a forced removal) rather than pressing `y`.
    pub hard: bool,
    pub typed: String,
    pub request: (HostId, ResourceRequest),
}

/// What the popup over the pane shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popup {
    /// The actions menu: `d` remove, and for images `p` pull.
    Menu,
    Confirm(Ask),
}

/// What the menu picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Remove,
    Pull,
}

/// Selection, sort, filter, marks, popups and requests of one listing pane.
#[derive(Debug, Default)]
pub struct Listing {
    pub nav: ListNav,
    /// The index of the sort column in the pane's list of sorts.
    pub sort: usize,
    pub reverse: bool,
    /// Rows whose text holds this (case-insensitive) are shown.
    pub filter: String,
    /// The filter is being typed.
    pub editing: bool,
    /// Marked rows, by key.
    pub marked: BTreeSet<String>,
    pub popup: Option<Popup>,
    /// Every action is refused (`--read-only`); set by the app.
    pub read_only: bool,
    requests: Vec<(HostId, ResourceRequest)>,
}

impl Listing {
    /// Whether `text` passes the filter.
    pub fn keeps(&self, text: &str) -> bool {
        let filter = self.filter.trim();
        filter.is_empty() || text.to_lowercase().contains(&filter.to_lowercase())
    }

    /// What rows are sorted and filtered by, for the pane's rebuild key.
    pub fn shape(&self) -> (usize, bool, String) {
        (self.sort, self.reverse, self.filter.clone())
    }

    pub fn push(&mut self, host: HostId, request: ResourceRequest) {
        self.requests.push((host, request));
    }

    /// The requests for the engine since the last call.
    pub fn take_requests(&mut self) -> Vec<(HostId, ResourceRequest)> {
        std::mem::take(&mut self.requests)
    }

    /// The keys every listing takes: movement, sort, filter, mark, the menu. `sorts`
    /// is how many sort columns the pane has; `key` the selected row's key.
    pub fn act(
        &mut self,
        action: Action,
        len: usize,
        sorts: usize,
        key: Option<String>,
        kind: ResourceKind,
        effects: &mut Vec<Effect>,
    ) -> Handled {
        match action {
            Action::SortNext => {
                self.sort = (self.sort + 1) % sorts.max(1);
                Handled::Redraw
            }
            Action::SortReverse => {
                self.reverse = !self.reverse;
                Handled::Redraw
            }
            Action::Search | Action::Filter => {
                self.editing = true;
                Handled::Redraw
            }
            Action::Back if !self.filter.is_empty() => {
                self.filter.clear();
                Handled::Redraw
            }
            Action::Back if !self.marked.is_empty() => {
                self.marked.clear();
                Handled::Redraw
            }
            Action::Mark => {
                if let Some(key) = key
                    && !self.marked.remove(&key)
                {
                    self.marked.insert(key);
                }
                self.nav.move_by(1, len);
                Handled::Redraw
            }
            Action::Actions => {
                if self.read_only {
                    effects.push(Effect::Say {
                        text: format!(
                            "read-only: {} actions are turned off (--read-only)",
                            kind.as_str()
                        ),
                        error: true,
                    });
                } else if len == 0 {
                    effects.push(Effect::Say {
                        text: format!("no {} selected", kind.as_str()),
                        error: true,
                    });
                } else {
                    self.popup = Some(Popup::Menu);
                }
                Handled::Redraw
            }
            _ => self.nav.take_movement(action, len),
        }
    }

    /// Whether keys go to the filter or the popup.
    /// A click on the pane's row `row` (the border and the header above the first
    /// row), among `rows`: selects it.
    pub fn click(&mut self, row: u16, rows: usize) -> bool {
        let Some(line) = row.checked_sub(2) else { return false };
        let index = self.nav.offset + usize::from(line);
        if index < rows {
            self.nav.selected = index;
        }
        index < rows
    }

    pub fn takes_text(&self) -> bool {
        self.editing || self.popup.is_some()
    }

    /// A raw key for the filter or the popup. Returns whether to redraw, and what the
    /// menu picked (the pane turns it into a question or a request).
    pub fn text_key(&mut self, key: &KeyEvent, effects: &mut Vec<Effect>) -> (bool, Option<Pick>) {
        let ctrl_c =
            key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
        if self.editing {
            match key.code {
                _ if ctrl_c => effects.push(Effect::Quit),
                KeyCode::Esc => {
                    self.filter.clear();
                    self.editing = false;
                }
                KeyCode::Enter => self.editing = false,
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) if self.filter.len() < 200 => {
                    self.filter.push(c);
                    self.nav.selected = 0;
                }
                _ => return (false, None),
            }
            return (true, None);
        }
        let Some(popup) = self.popup.as_mut() else { return (false, None) };
        if key.code == KeyCode::Esc || ctrl_c {
            self.popup = None;
            return (true, None);
        }
        match popup {
            Popup::Menu => {
                self.popup = None;
                match key.code {
                    KeyCode::Char('d') => (true, Some(Pick::Remove)),
                    KeyCode::Char('p') => (true, Some(Pick::Pull)),
                    _ => (true, None),
                }
            }
            Popup::Confirm(ask) if ask.hard => match key.code {
                KeyCode::Enter if ask.typed.trim() == "yes" => {
                    self.confirmed();
                    (true, None)
                }
                KeyCode::Enter => {
                    self.popup = None;
                    (true, None)
                }
                KeyCode::Backspace => {
                    ask.typed.pop();
                    (true, None)
                }
                KeyCode::Char(c) if ask.typed.len() < 16 => {
                    ask.typed.push(c);
                    (true, None)
                }
                _ => (false, None),
            },
            Popup::Confirm(_) => {
                if matches!(key.code, KeyCode::Char('y' | 'Y')) {
                    self.confirmed();
                } else {
                    self.popup = None;
                }
                (true, None)
            }
        }
    }

    fn confirmed(&mut self) {
        if let Some(Popup::Confirm(ask)) = self.popup.take() {
            self.marked.clear();
            self.requests.push(ask.request);
        }
    }

    /// Asks before sending `request`.
    pub fn ask(&mut self, question: String, hard: bool, host: HostId, request: ResourceRequest) {
        self.popup = Some(Popup::Confirm(Ask {
            question,
            hard,
            typed: String::new(),
            request: (host, request),
        }));
    }

    /// The status line: the filter being typed, else `status` (the pane's last note or
    /// its counts) with the filter and marks in force.
    pub fn status_line<'a>(&self, view: &PaneView<'_>, status: Line<'a>) -> Line<'a> {
        let theme = view.theme;
        if self.editing {
            return Line::from(vec![
                Span::styled("filter: ", theme.style(Slot::Label)),
                Span::styled(format!("{}▏", one_line(&self.filter)), theme.style(Slot::Value)),
                Span::styled("  enter keep · esc clear", theme.style(Slot::Muted)),
            ]);
        }
        let mut spans = Vec::new();
        if !self.filter.is_empty() {
            spans.push(Span::styled(
                format!("filter “{}” · ", one_line(&self.filter)),
                theme.style(Slot::Accent),
            ));
        }
        if !self.marked.is_empty() {
            spans.push(Span::styled(
                format!("{} marked · ", self.marked.len()),
                theme.style(Slot::Accent),
            ));
        }
        spans.extend(status.spans);
        Line::from(spans)
    }

    /// The popup, over the pane's `area`.
    pub fn render_popup(&self, frame: &mut Frame, area: Rect, view: &PaneView<'_>, pull: bool) {
        let theme = view.theme;
        let Some(popup) = &self.popup else { return };
        let (title, lines) = match popup {
            Popup::Menu => {
                let mut lines = vec![Line::from(vec![
                    Span::styled("  d  ", theme.style(Slot::Accent)),
                    Span::styled("remove", theme.style(Slot::Value)),
                    Span::styled("  (asks first)", theme.style(Slot::Muted)),
                ])];
                if pull {
                    lines.push(Line::from(vec![
                        Span::styled("  p  ", theme.style(Slot::Accent)),
                        Span::styled("pull its tag again", theme.style(Slot::Value)),
                    ]));
                }
                lines.push(Line::default());
                lines.push(Line::from(Span::styled("esc  close", theme.style(Slot::Muted))));
                (" Actions ", lines)
            }
            Popup::Confirm(ask) => {
                let mut lines = vec![
                    Line::from(Span::styled(
                        one_line(&ask.question).into_owned(),
                        theme.style(Slot::Warning),
                    )),
                    Line::default(),
                ];
                if ask.hard {
                    lines.push(Line::from(vec![
                        Span::styled("Type yes and press enter: ", theme.style(Slot::Value)),
                        Span::styled(format!("{}▏", ask.typed), theme.style(Slot::Accent)),
                    ]));
                } else {
                    lines.push(Line::from(vec![
                        Span::styled("y", theme.style(Slot::Accent)),
                        Span::styled(" yes   ", theme.style(Slot::Value)),
                        Span::styled("any other key", theme.style(Slot::Accent)),
                        Span::styled(" no", theme.style(Slot::Value)),
                    ]));
                }
                (" Confirm ", lines)
            }
        };
        let width = 70.min(area.width);
        let inner_width = width.saturating_sub(2).max(1) as usize;
        let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner_width)).sum();
        let height = (rows as u16 + 2).min(area.height);
        let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
        let [popup] =
            Layout::horizontal([Constraint::Length(width)]).flex(Flex::Center).areas(popup);
        frame.render_widget(Clear, popup);
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .style(theme.style(Slot::Overlay))
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .border_style(theme.border(true))
                        .title(Span::styled(title, theme.title(true))),
                ),
            popup,
        );
    }
}

/// `text` cut to `width` columns, with `…` where it was cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Names listed in full for a question: every one, as the brief of a bulk action asks.
pub fn listed(names: &[String]) -> String {
    names.join(", ")
}

/// The last note of `kind` as a status line, with a spinner while it runs.
pub fn note_line<'a>(view: &PaneView<'_>, kind: ResourceKind) -> Option<Line<'a>> {
    let note = view.model.images.last_note(kind)?;
    let theme = view.theme;
    let slot = if note.error {
        Slot::Error
    } else if note.running {
        Slot::Accent
    } else {
        Slot::Ok
    };
    let lead = if note.running {
        format!("{} ", super::containers::spinner(view.now))
    } else {
        String::new()
    };
    Some(Line::from(Span::styled(format!("{lead}{}", one_line(&note.text)), theme.style(slot))))
}

/// Whether a note of `kind` is recent enough to show instead of the counts.
pub fn note_is_fresh(view: &PaneView<'_>, kind: ResourceKind) -> bool {
    view.model.images.last_note(kind).is_some_and(|n| {
        n.running || (view.now - n.at).num_seconds() < crate::ui::app::NOTICE_SECONDS * 4
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn a_soft_question_sends_on_y_only_and_a_hard_one_on_yes() {
        let mut l = Listing::default();
        let request = ResourceRequest::RemoveVolumes { names: vec!["v".into()] };
        l.ask("Remove?".into(), false, 0, request.clone());
        let mut effects = Vec::new();
        l.text_key(&key(KeyCode::Char('n')), &mut effects);
        assert!(l.take_requests().is_empty() && l.popup.is_none());
        l.ask("Remove?".into(), false, 0, request.clone());
        l.text_key(&key(KeyCode::Char('y')), &mut effects);
        assert_eq!(l.take_requests(), vec![(0, request.clone())]);
        l.ask("Force?".into(), true, 1, request.clone());
        l.text_key(&key(KeyCode::Char('y')), &mut effects);
        l.text_key(&key(KeyCode::Enter), &mut effects);
        assert!(l.take_requests().is_empty(), "`y` is not `yes`");
        l.ask("Force?".into(), true, 1, request.clone());
        for c in "yes".chars() {
            l.text_key(&key(KeyCode::Char(c)), &mut effects);
        }
        l.text_key(&key(KeyCode::Enter), &mut effects);
        assert_eq!(l.take_requests(), vec![(1, request)]);
    }

    #[test]
    fn read_only_refuses_the_menu() {
        let mut l = Listing { read_only: true, ..Listing::default() };
        let mut effects = Vec::new();
        l.act(Action::Actions, 3, 2, None, ResourceKind::Image, &mut effects);
        assert!(l.popup.is_none());
        assert!(
            matches!(&effects[0], Effect::Say { text, error: true } if text.contains("read-only"))
        );
    }

    #[test]
    fn the_filter_is_typed_and_cleared() {
        let mut l = Listing::default();
        let mut effects = Vec::new();
        l.act(Action::Filter, 3, 2, None, ResourceKind::Image, &mut effects);
        assert!(l.takes_text());
        for c in "Web".chars() {
            l.text_key(&key(KeyCode::Char(c)), &mut effects);
        }
        l.text_key(&key(KeyCode::Enter), &mut effects);
        assert!(!l.takes_text());
        assert!(l.keeps("shop-web-1") && !l.keeps("db"));
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
