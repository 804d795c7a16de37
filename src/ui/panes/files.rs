//! Files: one container's filesystem, running or stopped, through the engine's
//! archive endpoint. A directory lists its entries with mode, owner, size (a child
//! directory's is what streamed below it) and time, links as links; Enter opens a
//! directory or shows a file's head (text sanitised as logs are, binaries as hex);
//! `d` copies the selection out (down) to a path typed at the prompt, `u` copies a local
//! file into the directory shown, each with its progress on the pane's last lines
//! and a question before anything is overwritten.
//!
//! A listing is read when a directory is first shown and again on `r`, never on a
//! timer; the model keeps recent ones, so going back up shows at once. Names, link
//! targets and file contents are the container's to choose: all are drawn through
//! the sanitiser. Local paths are the operator's: the pane looks at them only to
//! ask before replacing something there.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Effect, Handled, ListNav, Pane, PaneView, block};
use crate::engine::files::FilesRequest;
use crate::model::files::{
    Direction, EntryKind, FileEntry, FileHead, ListingAnswer, TransferState, hex_lines, join,
    parent, text_lines,
};
use crate::model::format::bytes;
use crate::model::sanitize::one_line;
use crate::model::{Container, HostId, Model};
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

/// Bytes of a binary file shown as hex.
const HEX_BYTES: usize = 512;

/// What the prompt at the bottom of the pane is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PromptKind {
    /// A local path to copy `remote` (of this size, when known) out to.
    CopyOut { remote: String, name: String, expected: Option<u64> },
    /// A local file to copy into directory `dir`.
    CopyIn { dir: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Prompt {
    kind: PromptKind,
    text: String,
    /// A copy that would replace something, waiting for `y`.
    confirm: Option<(FilesRequest, String)>,
}

/// The file on screen in the viewer, and how far it is scrolled.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Viewing {
    path: String,
    scroll: usize,
}

#[derive(Debug, Default)]
pub struct FilesPane {
    /// The container shown, as the command line named it or another pane selected it.
    pub target: Option<String>,
    /// Copies into the container are refused (`--read-only`); the app keeps it set.
    pub read_only: bool,
    /// The directory shown; `/` until the operator moves.
    dir: String,
    nav: ListNav,
    /// The (container, directory) last asked for, with the time of the answer the
    /// model had then: the pane waits while the model's answer is still that one.
    asked: Option<(String, String, Option<DateTime<Utc>>)>,
    /// `r` asks again even when a listing is cached.
    refresh: bool,
    viewing: Option<Viewing>,
    /// The (container, path) whose head was last asked for.
    head_asked: Option<(String, String)>,
    /// The viewer's lines, built once per answer rather than per frame.
    view_lines: Option<(String, DateTime<Utc>, Vec<String>)>,
    prompt: Option<Prompt>,
    /// Copies asked for, for the engine, with their container.
    outbox: Vec<(String, FilesRequest)>,
    next_transfer: u64,
    /// Copies in whose end was followed by a new listing already.
    refreshed_after: BTreeSet<u64>,
    /// The name to select once the listing shows (the directory just left).
    reselect: Option<String>,
}

/// `~/x` is the operator's home's `x`; the rest as typed.
fn local_path(text: &str) -> PathBuf {
    let text = text.trim();
    match (text.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(text),
    }
}

impl FilesPane {
    fn dir(&self) -> &str {
        if self.dir.is_empty() { "/" } else { &self.dir }
    }

    fn container<'m>(&self, model: &'m Model) -> Option<&'m Container> {
        model.container_named(self.target.as_deref()?)
    }

    fn listing<'m>(&self, model: &'m Model) -> Option<&'m ListingAnswer> {
        let c = self.container(model)?;
        model.files.listing(&c.id, self.dir())
    }

    fn entries<'m>(&self, model: &'m Model) -> &'m [FileEntry] {
        self.listing(model).and_then(|l| l.result.as_ref().ok()).map_or(&[], |l| &l.entries)
    }

    fn selected<'m>(&self, model: &'m Model) -> Option<&'m FileEntry> {
        self.entries(model).get(self.nav.selected)
    }

    fn head<'m>(&self, model: &'m Model) -> Option<&'m FileHead> {
        let (c, viewing) = (self.container(model)?, self.viewing.as_ref()?);
        model.files.head.as_ref().filter(|h| h.id == c.id && h.path == viewing.path)
    }

    /// What the engine should be asked now: the listing of the directory shown when
    /// the model has none (or `r` asked again), the head of the file viewed, and the
    /// copies the operator confirmed. Marks them asked.
    pub fn take_requests(&mut self, model: &Model) -> Vec<(HostId, FilesRequest)> {
        let Some(c) = self.container(model) else { return Vec::new() };
        let (host, id) = (c.host, c.id.clone());
        let mut requests = Vec::new();
        let dir = self.dir().to_string();
        let cached = model.files.listing(&id, &dir).map(|l| l.at);
        let asked_here = self.asked.as_ref().is_some_and(|(i, d, _)| *i == id && *d == dir);
        if self.viewing.is_none() && (self.refresh || cached.is_none() && !asked_here) {
            self.refresh = false;
            self.asked = Some((id.clone(), dir.clone(), cached));
            requests.push((host, FilesRequest::List { id: id.clone(), path: dir }));
        }
        if let Some(viewing) = &self.viewing {
            let key = (id.clone(), viewing.path.clone());
            if self.head_asked.as_ref() != Some(&key) {
                self.head_asked = Some(key);
                requests.push((host, FilesRequest::Head { id: id.clone(), path: viewing.path.clone() }));
            }
        }
        for (container, request) in self.outbox.drain(..) {
            let host = model.containers.get(&container).map_or(host, |c| c.host);
            requests.push((host, request));
        }
        requests
    }

    /// The operator left the pane: what was under way is stopped, so what was not
    /// answered is asked again on return.
    pub fn left(&mut self, model: &Model) {
        if self.waiting(model) {
            self.asked = None;
        }
        if self.viewing.is_some() && self.head(model).is_none() {
            self.head_asked = None;
        }
    }

    /// Whether the listing shown is still to come.
    fn waiting(&self, model: &Model) -> bool {
        let Some(c) = self.container(model) else { return false };
        self.asked.as_ref().is_some_and(|(id, dir, before)| {
            *id == c.id && dir == self.dir() && model.files.listing(id, dir).map(|l| l.at) == *before
        })
    }

    /// Shows directory `dir` (an absolute path in the container), as if the operator
    /// had walked there.
    pub fn show_dir(&mut self, dir: &str) {
        self.go_to(dir.to_string(), None);
    }

    /// Shows the head of file `path`, as if the operator had opened it.
    pub fn show_file(&mut self, path: &str) {
        self.viewing = Some(Viewing { path: path.to_string(), scroll: 0 });
    }

    fn go_to(&mut self, dir: String, reselect: Option<String>) {
        self.dir = dir;
        self.nav = ListNav::default();
        self.viewing = None;
        self.reselect = reselect;
    }

    fn open(&mut self, model: &Model) -> bool {
        let Some(entry) = self.selected(model) else { return false };
        let path = join(self.dir(), &entry.name);
        match entry.kind {
            EntryKind::Dir => self.go_to(path, None),
            // A link may lead to a directory or a file: the engine follows it, and a
            // directory at its end is opened as one (see `sync`).
            EntryKind::File | EntryKind::HardLink | EntryKind::Symlink => {
                self.viewing = Some(Viewing { path, scroll: 0 });
            }
            _ => return false,
        }
        true
    }

    fn up(&mut self) -> bool {
        if self.viewing.take().is_some() {
            return true;
        }
        if self.dir() == "/" {
            return false;
        }
        let name = self.dir().trim_end_matches('/').rsplit('/').next().map(String::from);
        self.go_to(parent(self.dir()), name);
        true
    }

    fn start_copy_out(&mut self, model: &Model, effects: &mut Vec<Effect>) -> bool {
        let Some(entry) = self.selected(model) else {
            effects.push(Effect::Say { text: "nothing selected to copy out".into(), error: true });
            return true;
        };
        let remote = join(self.dir(), &entry.name);
        let expected = (entry.kind != EntryKind::Symlink).then_some(entry.size);
        let name = entry.name.clone();
        self.prompt = Some(Prompt {
            kind: PromptKind::CopyOut { remote, name: name.clone(), expected },
            text: one_line(&name).into_owned(),
            confirm: None,
        });
        true
    }

    fn start_copy_in(&mut self, effects: &mut Vec<Effect>) -> bool {
        if self.read_only {
            effects.push(Effect::Say {
                text: "read-only: copying into containers is turned off (--read-only)".into(),
                error: true,
            });
            return true;
        }
        let dir = self.dir().to_string();
        self.prompt = Some(Prompt { kind: PromptKind::CopyIn { dir }, text: String::new(), confirm: None });
        true
    }

    /// The prompt's Enter: the copy it describes, or the question before it.
    fn submit(&mut self, model: &Model, effects: &mut Vec<Effect>) {
        let Some(prompt) = self.prompt.take() else { return };
        let Some(c) = self.container(model) else { return };
        let id = c.id.clone();
        if prompt.text.trim().is_empty() {
            effects.push(Effect::Say { text: "no path given: nothing copied".into(), error: true });
            return;
        }
        let typed = local_path(&prompt.text);
        let number = self.next_transfer;
        let (request, question) = match prompt.kind.clone() {
            PromptKind::CopyOut { remote, name, expected } => {
                // Into a directory that is there, as `cp` does; else the path itself.
                let local = if typed.is_dir() && !name.is_empty() { typed.join(&name) } else { typed };
                let there = std::fs::symlink_metadata(&local).is_ok();
                let question = there.then(|| format!("{} exists here: replace it?", local.display()));
                (FilesRequest::CopyOut { number, id: id.clone(), path: remote, local, expected }, question)
            }
            PromptKind::CopyIn { dir } => {
                let name = typed.file_name().map(|n| n.to_string_lossy().into_owned());
                let Some(name) = name else {
                    effects.push(Effect::Say { text: "that path names no file".into(), error: true });
                    return;
                };
                let exists = self.entries(model).iter().any(|e| e.name == name);
                let question = exists.then(|| format!("{} exists in the container: replace it?", join(&dir, &name)));
                (FilesRequest::CopyIn { number, id: id.clone(), dir, local: typed }, question)
            }
        };
        match question {
            Some(question) => {
                self.prompt = Some(Prompt { confirm: Some((request, question)), ..prompt });
            }
            None => self.send(id, request, effects),
        }
    }

    fn send(&mut self, id: String, request: FilesRequest, effects: &mut Vec<Effect>) {
        let text = match &request {
            FilesRequest::CopyOut { path, local, .. } => format!("copying {path} out to {}…", local.display()),
            FilesRequest::CopyIn { dir, local, .. } => format!("copying {} into {dir}…", local.display()),
            _ => String::new(),
        };
        effects.push(Effect::Say { text: one_line(&text).into_owned(), error: false });
        self.next_transfer += 1;
        self.outbox.push((id, request));
    }

    /// The latest copy of this container, running ones first.
    fn transfer_line(&self, model: &Model) -> Option<(String, Slot)> {
        let c = self.container(model)?;
        let mut mine = model.files.transfers.iter().filter(|t| t.container == c.id);
        let running = mine.clone().rfind(|t| t.state == TransferState::Running);
        let t = running.or_else(|| mine.next_back())?;
        let slot = match t.state {
            TransferState::Running => Slot::Value,
            TransferState::Done { .. } => Slot::Ok,
            TransferState::Failed(_) => Slot::Error,
        };
        Some((one_line(&t.describe()).into_owned(), slot))
    }
}

impl Pane for FilesPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        let model = view.model;
        // A link followed to a directory opens that directory.
        if let Some(dir) = self.head(model).and_then(|h| h.directory.clone()) {
            self.head_asked = None;
            self.go_to(dir, None);
        }
        if let Some(name) = self.reselect.clone()
            && self.listing(model).is_some()
        {
            if let Some(i) = self.entries(model).iter().position(|e| e.name == name) {
                self.nav.selected = i;
            }
            self.reselect = None;
        }
        // A finished copy into the directory shown is listed at once.
        if let Some(c) = self.container(model) {
            let finished: Vec<u64> = model
                .files
                .transfers
                .iter()
                .filter(|t| t.container == c.id && t.direction == Direction::In)
                .filter(|t| matches!(t.state, TransferState::Done { .. }))
                .filter(|t| parent(&t.remote) == self.dir())
                .map(|t| t.number)
                .filter(|n| !self.refreshed_after.contains(n))
                .collect();
            if !finished.is_empty() {
                self.refreshed_after.extend(finished);
                self.refresh = true;
            }
        }
        let head = self.head(model).map(|h| (h.path.clone(), h.at));
        let built = self.view_lines.as_ref().map(|(p, at, _)| (p.clone(), *at));
        if head != built {
            self.view_lines = self.head(model).and_then(|h| {
                let lines = match &h.result {
                    Ok(body) if body.is_binary() => hex_lines(&body.bytes, HEX_BYTES),
                    Ok(body) => text_lines(&body.bytes),
                    Err(_) => return None,
                };
                Some((h.path.clone(), h.at, lines))
            });
        }
    }

    fn act(&mut self, action: Action, view: &PaneView<'_>, effects: &mut Vec<Effect>) -> Handled {
        let model = view.model;
        if self.container(model).is_none() {
            return Handled::Pass;
        }
        if let Some(viewing) = self.viewing.as_mut() {
            let lines = self.view_lines.as_ref().map_or(0, |(_, _, l)| l.len());
            if let Some(delta) = super::movement(action, self.nav.page) {
                let last = lines.saturating_sub(1) as isize;
                let scroll = (viewing.scroll as isize).saturating_add(delta).clamp(0, last.max(0));
                viewing.scroll = scroll as usize;
                return Handled::Redraw;
            }
            return match action {
                Action::Back | Action::Left | Action::ToggleDetail => Handled::changed(self.up()),
                Action::Reveal => {
                    self.head_asked = None;
                    Handled::Redraw
                }
                Action::CopyOut => {
                    let path = viewing.path.clone();
                    let name = path.rsplit('/').next().unwrap_or_default().to_string();
                    let expected = self.head(model).and_then(|h| h.result.as_ref().ok()).map(|b| b.size);
                    self.prompt = Some(Prompt {
                        kind: PromptKind::CopyOut { remote: path, name: name.clone(), expected },
                        text: one_line(&name).into_owned(),
                        confirm: None,
                    });
                    Handled::Redraw
                }
                _ => Handled::Pass,
            };
        }
        match action {
            Action::ToggleDetail | Action::Right => Handled::changed(self.open(model)),
            Action::Left => Handled::changed(self.up()),
            Action::Reveal => {
                self.refresh = true;
                effects.push(Effect::Say {
                    text: format!("reading {} again", one_line(self.dir())),
                    error: false,
                });
                Handled::Redraw
            }
            Action::CopyOut => Handled::changed(self.start_copy_out(model, effects)),
            Action::CopyIn => Handled::changed(self.start_copy_in(effects)),
            _ => self.nav.take_movement(action, self.entries(model).len()),
        }
    }

    fn selected_container(&self) -> Option<&str> {
        self.asked.as_ref().map(|(id, _, _)| id.as_str())
    }

    fn select_container(&mut self, id: &str) {
        if self.target.as_deref() != Some(id) {
            self.target = Some(id.to_string());
            self.go_to("/".to_string(), None);
            self.asked = None;
            self.head_asked = None;
            self.prompt = None;
        }
    }

    fn takes_text(&self) -> bool {
        self.prompt.is_some()
    }

    fn text_key(&mut self, key: &KeyEvent, view: &PaneView<'_>, effects: &mut Vec<Effect>) -> bool {
        let Some(prompt) = self.prompt.as_mut() else { return false };
        if let Some((request, _)) = &prompt.confirm {
            // A question: `y` goes ahead, anything else leaves things as they are.
            let request = request.clone();
            self.prompt = None;
            match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    if let Some(c) = self.container(view.model) {
                        let id = c.id.clone();
                        self.send(id, request, effects);
                    }
                }
                _ => effects.push(Effect::Say { text: "not copied: nothing replaced".into(), error: false }),
            }
            return true;
        }
        match key.code {
            KeyCode::Enter => self.submit(view.model, effects),
            KeyCode::Esc => self.prompt = None,
            KeyCode::Backspace => {
                prompt.text.pop();
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => effects.push(Effect::Quit),
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => prompt.text.clear(),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                if prompt.text.len() < 4096 {
                    prompt.text.push(c);
                }
            }
            _ => return false,
        }
        true
    }

    fn hints(&self) -> Vec<(Action, &'static str)> {
        if self.viewing.is_some() {
            return vec![(Action::Back, "close"), (Action::CopyOut, "copy out")];
        }
        vec![
            (Action::ToggleDetail, "open"),
            (Action::Left, "up"),
            (Action::CopyOut, "copy out"),
            (Action::CopyIn, "copy in"),
            (Action::Reveal, "read again"),
        ]
    }

    /// Only once a container was picked: there is nothing to show before.
    fn has_tab(&self, _model: &Model) -> bool {
        self.target.is_some()
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let theme = view.theme;
        let muted = theme.style(Slot::Muted);
        let message =
            |frame: &mut Frame, title: String, text: String| super::message(frame, area, view, title, &text);
        let Some(target) = self.target.as_deref() else {
            return message(
                frame,
                "Files".into(),
                "Select a container in another pane and press F to browse its files.".into(),
            );
        };
        let Some(c) = self.container(view.model) else {
            return message(
                frame,
                format!("Files · {}", one_line(target)),
                format!("No container {} is listed.", one_line(target)),
            );
        };
        let name = one_line(&c.name).into_owned();
        let outer_title;
        let mut body: Vec<Line> = Vec::new();
        let mut status: Vec<Line> = Vec::new();
        let inner_height;
        {
            let outer = block(view, String::new());
            let inner = outer.inner(area);
            inner_height = inner.height as usize;
        }
        if let Some((text, slot)) = self.transfer_line(view.model) {
            status.push(Line::from(Span::styled(text, theme.style(slot))));
        }
        status.push(match &self.prompt {
            Some(Prompt { confirm: Some((_, question)), .. }) => Line::from(vec![
                Span::styled(one_line(question).into_owned(), theme.style(Slot::Warning)),
                Span::styled("  y replaces, any other key keeps it", muted),
            ]),
            Some(prompt) => {
                let label = match prompt.kind {
                    PromptKind::CopyOut { .. } => "copy out to (local path): ",
                    PromptKind::CopyIn { .. } => "copy in from (local file): ",
                };
                Line::from(vec![
                    Span::styled(label, theme.style(Slot::Label)),
                    Span::styled(format!("{}▏", one_line(&prompt.text)), theme.style(Slot::Value)),
                ])
            }
            None => Line::from(Span::styled(
                if self.viewing.is_some() {
                    "esc closes · d copies this file out · ↑↓ scroll"
                } else {
                    "enter opens · h goes up · d copies out · u copies in · r reads again"
                },
                muted,
            )),
        });
        let rows = inner_height.saturating_sub(status.len());

        if let Some(viewing) = &self.viewing {
            let path = one_line(&viewing.path).into_owned();
            let head = self.head(view.model);
            let mut title = format!("Files · {name} · {path}");
            match head.map(|h| &h.result) {
                None => body.push(Line::from(Span::styled("Reading the file…", muted))),
                Some(Err(why)) => body.push(Line::from(Span::styled(
                    format!("Cannot show it: {}. esc goes back.", one_line(why)),
                    theme.style(Slot::Error),
                ))),
                Some(Ok(file)) => {
                    let size = bytes(file.size);
                    if file.is_cut() {
                        title.push_str(&format!(" · first {} of {size}", bytes(file.bytes.len() as u64)));
                    } else {
                        title.push_str(&format!(" · {size}"));
                    }
                    if file.resolved != viewing.path {
                        title.push_str(&format!(" · link to {}", one_line(&file.resolved)));
                    }
                    let mut lines: Vec<Line> = Vec::new();
                    if file.is_binary() {
                        let shown = file.bytes.len().min(HEX_BYTES);
                        lines.push(Line::from(Span::styled(
                            format!("A binary file ({size}): its first {shown} bytes as hex."),
                            theme.style(Slot::Warning),
                        )));
                    }
                    let text = self.view_lines.as_ref().map_or(&[][..], |(_, _, l)| l.as_slice());
                    let room = rows.saturating_sub(lines.len());
                    self.nav.page = room.max(1);
                    let start = viewing.scroll.min(text.len().saturating_sub(1));
                    for line in text.iter().skip(start).take(room) {
                        lines.push(Line::from(Span::styled(line.clone(), theme.style(Slot::Value))));
                    }
                    if text.is_empty() && !file.is_binary() {
                        lines.push(Line::from(Span::styled("(empty file)", muted)));
                    }
                    body = lines;
                }
            }
            outer_title = title;
        } else {
            let dir = one_line(self.dir()).into_owned();
            let mut title = format!("Files · {name} · {dir}");
            let answer = self.listing(view.model);
            match answer.map(|a| &a.result) {
                None => body.push(Line::from(Span::styled("Reading the directory…", muted))),
                Some(Err(why)) => body.push(Line::from(Span::styled(
                    format!("Cannot list it: {}. h goes up, r reads again.", one_line(why)),
                    theme.style(Slot::Error),
                ))),
                Some(Ok(listing)) => {
                    let n = listing.entries.len();
                    title.push_str(&format!(" · {n} entr{}", if n == 1 { "y" } else { "ies" }));
                    if let Some(cut) = listing.cut {
                        title.push_str(&format!(" · sizes partial ({})", cut.describe()));
                    }
                    if n == 0 {
                        body.push(Line::from(Span::styled("Nothing here: the directory is empty.", muted)));
                    }
                    let width = area.width.saturating_sub(2) as usize;
                    let owner_width =
                        listing.entries.iter().map(|e| one_line(&e.owner()).chars().count()).max().unwrap_or(0).min(16);
                    let show_time = width >= 70;
                    let range = self.nav.window(n, rows);
                    for (i, entry) in listing.entries[range.clone()].iter().enumerate() {
                        let selected = range.start + i == self.nav.selected;
                        let size = match entry.kind {
                            EntryKind::Dir if entry.below == 0 => "-".to_string(),
                            EntryKind::Symlink | EntryKind::CharDevice | EntryKind::BlockDevice | EntryKind::Fifo => {
                                String::new()
                            }
                            _ => bytes(entry.size),
                        };
                        let owner: String = one_line(&entry.owner()).chars().take(16).collect();
                        let mut spans = vec![
                            Span::styled(entry.mode_string(), muted),
                            Span::raw(format!(" {owner:<owner_width$} ")),
                            Span::styled(format!("{size:>7} "), theme.style(Slot::Value)),
                        ];
                        if show_time {
                            let time = Utc
                                .timestamp_opt(entry.mtime, 0)
                                .single()
                                .map(|t| t.with_timezone(&view.offset).format("%Y-%m-%d %H:%M").to_string())
                                .unwrap_or_default();
                            spans.push(Span::styled(format!("{time:<16} "), muted));
                        }
                        let (shown, slot) = match entry.kind {
                            EntryKind::Dir => (format!("{}/", one_line(&entry.name)), Slot::Accent),
                            EntryKind::Symlink => (
                                format!("{} → {}", one_line(&entry.name), one_line(&entry.link_target)),
                                Slot::Label,
                            ),
                            EntryKind::HardLink => (
                                format!("{} (hard link to {})", one_line(&entry.name), one_line(&entry.link_target)),
                                Slot::Value,
                            ),
                            _ => (one_line(&entry.name).into_owned(), Slot::Value),
                        };
                        spans.push(Span::styled(shown, theme.style(slot)));
                        let mut line = Line::from(spans);
                        if selected {
                            line = theme.selected(line);
                        }
                        body.push(line);
                    }
                }
            }
            if let Some(at) = answer.map(|a| a.at) {
                title.push_str(&format!(" · {}", at.with_timezone(&view.offset).format("%H:%M:%S")));
            }
            if self.waiting(view.model) {
                title.push_str(" · reading…");
            }
            outer_title = title;
        }
        let outer = block(view, outer_title);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        body.truncate(rows);
        while body.len() < rows {
            body.push(Line::default());
        }
        body.extend(status);
        frame.render_widget(Paragraph::new(body), inner);
    }
}
