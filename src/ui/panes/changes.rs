//! Changes: what one container wrote over its image (`docker diff`), as a foldable
//! tree of paths marked added, changed or deleted, each directory with the count of
//! changes below it.
//!
//! The engine is asked when the pane opens on a container and again on `r`, never on
//! a timer: listing the changes walks the whole writable layer. The engine's list has
//! no sizes: the selected file's is read from the archive endpoint (a HEAD, no
//! content), for that row alone, once per row; the pane says so rather than showing
//! blanks that look like zero.
//! Paths are the container's to choose: every one is drawn through `one_line`.

use std::collections::BTreeSet;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Effect, Handled, ListNav, Pane, PaneView, block};
use crate::model::changes::{ChangeKind, ChangeRow, ContainerChanges, totals, tree_rows};
use crate::model::sanitize::one_line;
use crate::model::{Container, HostId, Model};
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

#[derive(Debug, Default)]
pub struct ChangesPane {
    /// The container shown, as the command line named it or another pane selected it:
    /// an id, a name, or an id's prefix.
    pub target: Option<String>,
    /// The container last asked about, with the time of the answer it had then: the
    /// pane waits while the model's answer is still that one.
    asked: Option<(String, Option<chrono::DateTime<chrono::Utc>>)>,
    /// The (container, path) whose size was last asked: the selected row's only.
    stat_asked: Option<(String, String)>,
    folded: BTreeSet<String>,
    /// Moves with every fold and unfold: with the answer shown, what `rows` was
    /// built from, so a frame does not rebuild the tree.
    folds: u64,
    rows_for: Option<(String, chrono::DateTime<chrono::Utc>, u64)>,
    nav: ListNav,
    rows: Vec<ChangeRow>,
}

/// The container `target` names (see [`Model::container_named`]).
pub fn resolve<'m>(model: &'m Model, target: &str) -> Option<&'m Container> {
    model.container_named(target)
}

impl ChangesPane {
    /// The container to ask about now, if it has not been asked about (or `r` asked
    /// again); marks it asked.
    pub fn take_due(&mut self, model: &Model) -> Option<(HostId, String)> {
        let c = resolve(model, self.target.as_deref()?)?;
        if self.asked.as_ref().is_some_and(|(id, _)| *id == c.id) {
            return None;
        }
        let previous = model.changes.get(&c.id).map(|ch| ch.at);
        self.asked = Some((c.id.clone(), previous));
        Some((c.host, c.id.clone()))
    }

    /// The selected entry's size to ask for, if it has none yet: a file or link that
    /// is still there (a directory's own size says nothing of what is in it).
    pub fn take_stat_due(&mut self, model: &Model) -> Option<(HostId, String, String)> {
        let (c, Some(changes)) = self.changes(model)? else { return None };
        let row = self.rows.get(self.nav.selected)?;
        if row.kind == Some(ChangeKind::Deleted) || row.is_dir() || changes.result.is_err() {
            return None;
        }
        if changes.stats.contains_key(&row.path) {
            return None;
        }
        let key = (c.id.clone(), row.path.clone());
        if self.stat_asked.as_ref() == Some(&key) {
            return None;
        }
        self.stat_asked = Some(key.clone());
        Some((c.host, key.0, key.1))
    }

    /// What the footer line says of the selected entry.
    fn selected_line(&self, changes: &ContainerChanges) -> Option<String> {
        let row = self.rows.get(self.nav.selected)?;
        let path = one_line(&row.path);
        let what = if row.kind == Some(ChangeKind::Deleted) {
            "deleted".to_string()
        } else if row.is_dir() {
            let n = row.below;
            format!("{n} change{} below", if n == 1 { "" } else { "s" })
        } else {
            match changes.stats.get(&row.path) {
                None => "size: asking…".to_string(),
                Some(Err(error)) => format!("size unknown: {}", one_line(error)),
                Some(Ok(info)) if !info.link_target.is_empty() => {
                    format!("link to {}", one_line(&info.link_target))
                }
                Some(Ok(info)) => crate::model::format::bytes(info.size),
            }
        };
        Some(format!("{path} · {what}"))
    }

    /// Whether the pane waits for the engine's answer.
    fn waiting(&self, model: &Model) -> bool {
        self.asked.as_ref().is_some_and(|(id, before)| model.changes.get(id).map(|ch| ch.at) == *before)
    }

    fn toggle(&mut self) -> bool {
        let Some(row) = self.rows.get(self.nav.selected) else { return false };
        if !row.is_dir() {
            return false;
        }
        let path = row.path.clone();
        if !self.folded.remove(&path) {
            self.folded.insert(path);
        }
        self.folds += 1;
        true
    }

    fn changes<'m>(&self, model: &'m Model) -> Option<(&'m Container, Option<&'m ContainerChanges>)> {
        let c = resolve(model, self.target.as_deref()?)?;
        Some((c, model.changes.get(&c.id)))
    }
}

fn kind_slot(kind: ChangeKind) -> Slot {
    match kind {
        ChangeKind::Added => Slot::Ok,
        ChangeKind::Changed => Slot::Warning,
        ChangeKind::Deleted => Slot::Error,
    }
}

impl Pane for ChangesPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        let answer = self.changes(view.model).and_then(|(_, answer)| answer);
        let key = answer.map(|ch| (ch.id.clone(), ch.at, self.folds));
        if key.is_some() && key == self.rows_for {
            return;
        }
        let folded = &self.folded;
        self.rows = match answer {
            Some(ContainerChanges { result: Ok(list), .. }) => {
                tree_rows(list, &|p| folded.contains(p))
            }
            _ => Vec::new(),
        };
        self.rows_for = key;
    }

    fn act(&mut self, action: Action, view: &PaneView<'_>, effects: &mut Vec<Effect>) -> Handled {
        match action {
            Action::ToggleDetail => Handled::changed(self.toggle()),
            Action::Reveal => {
                if self.changes(view.model).is_none() {
                    return Handled::Quiet;
                }
                // The next sync asks again.
                self.asked = None;
                self.stat_asked = None;
                effects.push(Effect::Say {
                    text: "asking the engine for the changes again".into(),
                    error: false,
                });
                Handled::Redraw
            }
            _ => self.nav.take_movement(action, self.rows.len()),
        }
    }

    fn selected_container(&self) -> Option<&str> {
        self.asked.as_ref().map(|(id, _)| id.as_str())
    }

    fn select_container(&mut self, id: &str) {
        if self.target.as_deref() != Some(id) {
            self.target = Some(id.to_string());
            self.nav = ListNav::default();
            self.folded.clear();
            self.folds += 1;
        }
    }

    fn hints(&self) -> Vec<(Action, &'static str)> {
        vec![(Action::ToggleDetail, "fold"), (Action::Reveal, "ask again")]
    }

    /// Only once a container was picked: there is nothing to show before.
    fn has_tab(&self, _model: &Model) -> bool {
        self.target.is_some()
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let theme = view.theme;
        let muted = theme.style(Slot::Muted);
        let mut message = |title: String, text: String| super::message(frame, area, view, title, &text);
        let Some(target) = self.target.as_deref() else {
            return message(
                "Changes".into(),
                "Select a container in another pane and press D to see what it changed \
                 against its image."
                    .into(),
            );
        };
        let Some((c, answer)) = self.changes(view.model) else {
            return message(
                format!("Changes · {}", one_line(target)),
                format!("No container {} is listed.", one_line(target)),
            );
        };
        let name = one_line(&c.name).into_owned();
        let waiting = self.waiting(view.model);
        let list = match answer.map(|a| &a.result) {
            None => {
                return message(
                    format!("Changes · {name}"),
                    "Asking the engine what the container changed…".into(),
                );
            }
            Some(Err(error)) => {
                return message(
                    format!("Changes · {name}"),
                    format!("The engine did not list the changes: {}. r asks again.", one_line(error)),
                );
            }
            Some(Ok(list)) => list,
        };
        let counts: Vec<String> = totals(list)
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(kind, n)| format!("{n} {}", kind.as_str()))
            .collect();
        let mut title = format!("Changes · {name}");
        if counts.is_empty() {
            title.push_str(" · none");
        } else {
            title.push_str(&format!(" · {}", counts.join(", ")));
        }
        if let Some(at) = answer.map(|a| a.at) {
            let at = at.with_timezone(&view.offset).format("%H:%M:%S");
            title.push_str(&format!(" · as of {at}"));
        }
        if waiting {
            title.push_str(" · asking again…");
        }
        let outer = block(view, title);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        let note = "Sizes of the selected entry only: the engine's list has none. r asks again";
        if list.is_empty() {
            let text = vec![
                Line::from(Span::styled(
                    "Nothing changed: the container writes nowhere but its volumes and tmpfs.",
                    theme.style(Slot::Value),
                )),
                Line::from(Span::styled(note, muted)),
            ];
            frame.render_widget(Paragraph::new(text), inner);
            return;
        }
        let body = inner.height.saturating_sub(2) as usize;
        let range = self.nav.window(self.rows.len(), body);
        let mut lines = Vec::with_capacity(range.len() + 1);
        for (i, row) in self.rows[range.clone()].iter().enumerate() {
            let selected = range.start + i == self.nav.selected;
            let indent = "  ".repeat(row.depth);
            let fold = match (row.is_dir(), self.folded.contains(&row.path)) {
                (false, _) => " ",
                (true, true) => "▸",
                (true, false) => "▾",
            };
            let mut spans = vec![Span::raw(format!("{indent}{fold} "))];
            spans.push(match row.kind {
                Some(kind) => Span::styled(kind.mark().to_string(), theme.style(kind_slot(kind))),
                None => Span::styled("·", muted),
            });
            let slash = if row.is_dir() { "/" } else { "" };
            let slot = if row.kind == Some(ChangeKind::Deleted) { Slot::Muted } else { Slot::Value };
            spans.push(Span::styled(
                format!(" {}{slash}", one_line(&row.name)),
                theme.style(slot),
            ));
            if row.is_dir() {
                let below = if row.below == 1 { "1 change".into() } else { format!("{} changes", row.below) };
                spans.push(Span::styled(format!("  {below}"), muted));
            }
            let mut line = Line::from(spans);
            if selected {
                line = theme.selected(line);
            }
            lines.push(line);
        }
        while lines.len() < body {
            lines.push(Line::default());
        }
        let selected = answer.and_then(|a| self.selected_line(a)).unwrap_or_default();
        lines.push(Line::from(Span::styled(selected, theme.style(Slot::Value))));
        lines.push(Line::from(Span::styled(note, muted)));
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
