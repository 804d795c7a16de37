//! The contract between the app and every pane, the detail and inspect views included.
//!
//! A pane owns its scroll and selection state and its own model of its rows, rebuilt
//! from the [`PaneView`] in [`Pane::sync`]: what can be selected is what the model
//! holds now, never what happened to be drawn last. The app keeps the panes in one
//! place ([`crate::ui::panes::Panes`]), syncs the one on screen before it reads its
//! selection or hands it a key, and dispatches every action once: the pane answers
//! whether it took it, and asks the app for what reaches beyond itself through
//! [`Effect`]s. A pane never sees the app, the engine or the terminal.

use chrono::{DateTime, FixedOffset, Utc};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::keymap::Action;
use super::theme::Theme;
use crate::derived::Derived;
use crate::model::Model;

/// What every pane reads to draw itself and to answer a key: an immutable view of
/// the model and of the UI around it.
#[derive(Clone, Copy)]
pub struct PaneView<'a> {
    pub model: &'a Model,
    /// What is derived from the model, computed once per change and shared.
    pub derived: &'a Derived,
    pub theme: &'a Theme,
    pub focused: bool,
    pub title: &'a str,
    /// Only this compose project is shown, when set.
    pub project: Option<&'a str>,
    /// Relative times ("Up 5 minutes") are measured against this; pinned in tests.
    pub now: DateTime<Utc>,
    /// The time zone clock times are shown in (the local one, fixed at start; UTC in tests).
    pub offset: FixedOffset,
}

/// A pane's answer to an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Taken, and the screen changed.
    Redraw,
    /// Taken, with nothing to redraw: the app must not act on it either.
    Quiet,
    /// Not this pane's: the app applies its own meaning, if any.
    Pass,
}

impl Handled {
    /// `Redraw` when `changed`, else `Quiet`.
    pub fn changed(changed: bool) -> Handled {
        if changed { Handled::Redraw } else { Handled::Quiet }
    }
}

/// What a pane asks of the app, beyond its own state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A line for the footer.
    Say { text: String, error: bool },
    /// Text for the operator's clipboard.
    Copy(String),
    /// The view closes itself (the inspect tree).
    Close,
    /// Leave portolan (ctrl-c typed into a text field).
    Quit,
    /// Ask the operator whether to signal a process (the app refuses when read-only).
    AskKill(crate::model::processes::KillAsk),
}

pub trait Pane {
    /// Brings the pane's own rows up to date with the view; cheap when nothing they
    /// depend on changed. The app calls it before drawing and before input.
    fn sync(&mut self, _view: &PaneView<'_>) {}

    /// Draws the pane into `area` from the synced rows.
    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>);

    /// Carries out an action on the pane, when it is the pane's to take.
    fn act(&mut self, action: Action, view: &PaneView<'_>, effects: &mut Vec<Effect>) -> Handled;

    /// The container under the selection, if any.
    fn selected_container(&self) -> Option<&str> {
        None
    }

    /// Moves the selection to a container, where the pane lists it: the selection
    /// travels with the operator from pane to pane.
    fn select_container(&mut self, _id: &str) {}

    /// Whether typed keys go to a text field of the pane rather than the keymap.
    fn takes_text(&self) -> bool {
        false
    }

    /// A raw key for the pane's open text field; returns whether a redraw is needed.
    fn text_key(
        &mut self,
        _key: &KeyEvent,
        _view: &PaneView<'_>,
        _effects: &mut Vec<Effect>,
    ) -> bool {
        false
    }

    /// A mouse click at `row` lines below the top of the pane's area.
    fn click(&mut self, _row: u16) -> bool {
        false
    }

    /// The keys the footer offers on this pane, after the ones every pane has.
    fn hints(&self) -> Vec<(Action, &'static str)> {
        vec![(Action::ToggleDetail, "open")]
    }

    /// Whether the pane has a tab in the tab bar (a pane with nothing to show can
    /// hide until there is).
    fn has_tab(&self, _model: &Model) -> bool {
        true
    }
}

/// How far a movement key moves a selection over rows, `page` rows to a page;
/// `None` for keys that are not movements.
pub fn movement(action: Action, page: usize) -> Option<isize> {
    let page = page.max(1) as isize;
    match action {
        Action::Up => Some(-1),
        Action::Down => Some(1),
        Action::PageUp => Some(-page),
        Action::PageDown => Some(page),
        Action::Top => Some(isize::MIN / 2),
        Action::Bottom => Some(isize::MAX / 2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movements_cover_the_list_keys_and_nothing_else() {
        assert_eq!(movement(Action::Up, 10), Some(-1));
        assert_eq!(movement(Action::PageDown, 10), Some(10));
        assert_eq!(movement(Action::PageUp, 0), Some(-1), "a page is at least a row");
        assert!(movement(Action::Top, 5).is_some_and(|d| d < -1_000_000));
        assert!(movement(Action::Bottom, 5).is_some_and(|d| d > 1_000_000));
        assert_eq!(movement(Action::Search, 5), None);
        assert_eq!(Handled::changed(true), Handled::Redraw);
        assert_eq!(Handled::changed(false), Handled::Quiet);
    }
}
