//! HISTORY mode: the time cursor. `[`/`]` step a minute, `{`/`}` ten, `:goto 03:10`
//! jumps; the record is read at that moment on a blocking thread (the run loop does
//! it, as for the Stats pane's spans) and the model it rebuilds takes the place of
//! the live one on screen, so every pane, the header and the tab counts show the
//! past. The live model is parked meanwhile and goes on taking the engine's updates
//! (and the recorder reads it, never the past). Every action is refused; `L` or
//! `esc` returns to live.

use chrono::{DateTime, Utc};

use super::panes::PaneId;
use crate::derived::Derived;
use crate::model::Model;

/// The screen shows a moment of the record.
pub struct HistoryMode {
    pub at: DateTime<Utc>,
    /// What the record cannot show of the moment, in words.
    pub caveat: Option<String>,
    /// The live model and its derivations, parked while the past is shown; `None`
    /// in a snapshot, which has no live state.
    pub live: Option<Box<(Model, Derived)>>,
}

/// The record read at a moment, as the run loop hands it back.
pub struct HistoryRead {
    pub at: DateTime<Utc>,
    pub result: Result<(Model, Option<String>), String>,
}

/// The panes that can show the past: those drawn from the state alone.
pub const HISTORY_PANES: [PaneId; 7] = [
    PaneId::Triage,
    PaneId::Map,
    PaneId::Containers,
    PaneId::Stats,
    PaneId::Resources,
    PaneId::Health,
    PaneId::Timeline,
];

// What the App does in HISTORY mode is in `app/time_cursor.rs`.
