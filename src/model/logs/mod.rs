//! Container logs as portolan keeps them: safe text, levels, one budgeted store for
//! every followed source, filters, search and save.
//!
//! Pure data and functions, like the rest of the model: no I/O beyond the writer
//! [`save`] is handed, no ratatui, tokio or bollard. The engine feeds raw lines into
//! a [`LogStore`]; panes read it through a [`FilteredView`].
//!
//! - [`mod@line`] turns raw bytes into a [`LogText`] that is safe to draw.
//! - [`level`] says which severity a line declares and pretty-prints JSON lines.
//! - [`buffer`] is the store: per-source rings, the global budget, the rate guard,
//!   merged order and save.
//! - [`filter`] holds filters, search and the incrementally filtered view.
//! - [`target`] decides which containers a view follows.

pub mod buffer;
pub mod filter;
pub mod level;
pub mod line;
pub mod target;

pub use buffer::{
    Admission, Direction, DropReason, Drops, LineKey, LogLine, LogStore, Merged, SaveOptions,
    Saved, SourceId, StoreConfig, Stream, save,
};
pub use filter::{Filter, FilteredView, PatternError, SearchHit, ViewHit, match_ranges, pattern};
pub use level::{Level, json_pretty};
pub use line::{AnsiStyle, Color, LineOptions, LineParser, LogText, Segment};
pub use target::{Candidate, FollowPlan, LogTarget};
