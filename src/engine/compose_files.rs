//! Compose v1 does not label `depends_on`; when its config files are readable here,
//! read the dependencies from them. Files are cached by path and modification time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::model::compose::{self, depends_on_from_file};
use crate::model::{Container, Dependency};

#[derive(Default)]
pub struct ComposeFiles {
    cache: HashMap<PathBuf, (Option<SystemTime>, Option<String>)>,
}

impl ComposeFiles {
    fn text(&mut self, path: &Path) -> Option<&str> {
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let stale = self.cache.get(path).is_none_or(|(cached, _)| *cached != modified);
        if stale {
            // Compose files are small; a huge one is not a compose file.
            let text = std::fs::read(path)
                .ok()
                .filter(|bytes| bytes.len() < 4 << 20)
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
            self.cache.insert(path.to_path_buf(), (modified, text));
        }
        self.cache.get(path).and_then(|(_, text)| text.as_deref())
    }

    /// Fills `depends_on` from the compose files when no label gave it. Returns a
    /// warning for files that exist but cannot be read as compose files.
    pub fn fill(&mut self, container: &mut Container) -> Option<String> {
        if container.labels.contains_key(compose::DEPENDS_ON) {
            return None;
        }
        let info = container.compose.as_mut()?;
        if info.config_files.is_empty() || info.service.is_empty() {
            return None;
        }
        let mut merged: Vec<Dependency> = Vec::new();
        let mut found = false;
        let mut warning = None;
        for file in info.config_files.clone() {
            let mut path = PathBuf::from(&file);
            if path.is_relative()
                && let Some(dir) = &info.working_dir
            {
                path = Path::new(dir).join(path);
            }
            let Some(text) = self.text(&path) else { continue };
            match depends_on_from_file(text, &info.service) {
                Ok(Some(deps)) => {
                    found = true;
                    merged.extend(deps);
                }
                Ok(None) => {}
                Err(error) => {
                    warning = Some(format!("{}: {error}", path.display()));
                }
            }
        }
        if found {
            merged.sort();
            merged.dedup_by(|a, b| a.service == b.service);
            info.depends_on = merged;
            info.depends_on_from_files = true;
        }
        warning
    }
}
