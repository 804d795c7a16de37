//! The screen's one layout: where the header, the tab bar, the outage line, the body
//! and the footer go. Computed once per frame and kept, so that the mouse reads the
//! same geometry that was drawn instead of working it out again.

use std::ops::Range;

use ratatui::layout::{Constraint, Layout, Rect};

use super::panes::PaneId;
use crate::model::{Connection, Model};

pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 12;

/// Where the last frame put everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Screen {
    pub header: Rect,
    pub tabs: Rect,
    /// One line when some engine is lost, else empty.
    pub outage: Rect,
    pub body: Rect,
    pub footer: Rect,
    /// The columns each tab took on the tab bar, as drawn.
    pub tab_columns: Vec<(Range<u16>, PaneId)>,
    /// The terminal is below the minimum: only a notice is drawn.
    pub too_small: bool,
}

impl Screen {
    pub fn new(area: Rect, model: &Model) -> Screen {
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            return Screen { body: area, too_small: true, ..Screen::default() };
        }
        let [header, tabs, outage, body, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(u16::from(outage_shown(model))),
            Constraint::Fill(1),
            Constraint::Length(1),
        ])
        .areas(area);
        Screen { header, tabs, outage, body, footer, tab_columns: Vec::new(), too_small: false }
    }

    /// The pane whose tab is at column `x` of the tab bar.
    pub fn tab_at(&self, x: u16) -> Option<PaneId> {
        self.tab_columns.iter().find(|(columns, _)| columns.contains(&x)).map(|(_, pane)| *pane)
    }
}

/// Whether the outage line is drawn: some engine is lost.
pub fn outage_shown(model: &Model) -> bool {
    model.hosts.iter().any(|h| matches!(h.connection, Connection::Disconnected { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_takes_what_the_bars_leave_and_the_outage_line_only_when_needed() {
        let model = crate::topology::fixtures::seed("000-nestjs-postgres-redis").expect("seed");
        let screen = Screen::new(Rect::new(0, 0, 80, 24), &model);
        assert_eq!((screen.header.y, screen.tabs.y, screen.outage.height), (0, 1, 0));
        assert_eq!((screen.body.y, screen.body.height, screen.footer.y), (2, 21, 23));
        let lost = crate::topology::fixtures::three_hosts();
        let screen = Screen::new(Rect::new(0, 0, 80, 24), &lost);
        assert_eq!((screen.outage.y, screen.outage.height, screen.body.y), (2, 1, 3));
        let tiny = Screen::new(Rect::new(0, 0, 30, 10), &model);
        assert!(tiny.too_small);
    }

    #[test]
    fn a_click_finds_the_tab_drawn_under_it() {
        let screen = Screen {
            tab_columns: vec![(0..10, PaneId::Triage), (11..17, PaneId::Map)],
            ..Screen::default()
        };
        assert_eq!(screen.tab_at(3), Some(PaneId::Triage));
        assert_eq!(screen.tab_at(10), None, "the gap between tabs");
        assert_eq!(screen.tab_at(12), Some(PaneId::Map));
        assert_eq!(screen.tab_at(40), None);
    }
}
