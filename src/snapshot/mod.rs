//! The model rendered without a terminal: what scripts, screenshots and tests see.

pub mod collect;
pub mod json;
pub mod svg;
