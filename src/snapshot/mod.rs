//! The model rendered without a terminal: what scripts, screenshots and tests see.

pub mod collect;
pub mod disk_json;
pub mod images_json;
pub mod json;
pub mod svg;
