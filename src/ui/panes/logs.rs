//! Logs: the merged, searchable, flood-proof log of one container or a whole compose
//! project. Lines are made safe by the store (no escape sequence but colour ever
//! reaches the terminal); this pane only draws, scrolls, searches and filters.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color as TermColor, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use regex::Regex;

use super::{Effect, Handled, Pane, PaneView, block, movement};
use crate::model::format::bytes;
use crate::model::names::names_by_id;
use crate::model::logs::{
    AnsiStyle, Color, Direction, Filter, FilteredView, Level, LogLine, LogStore, LogTarget,
    SaveOptions, SourceId, Stream, json_pretty, match_ranges, pattern, save,
};
use crate::model::sanitize::one_line;
use crate::model::{Container, Model};
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

/// How line times are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeMode {
    Local,
    Utc,
    Off,
}

/// What the prompt at the bottom of the pane is typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    Search,
    Filter,
}

#[derive(Debug)]
pub struct LogsPane {
    pub target: Option<LogTarget>,
    /// Words describing the target for the title.
    pub target_label: String,
    pub view: FilteredView,
    /// Following: the view sticks to the newest line.
    pub following: bool,
    /// The selected line (index into the view) while paused.
    pub selected: usize,
    /// Lines the view had when paused, to count what arrived since.
    paused_len: usize,
    pub wrap: bool,
    pub hscroll: usize,
    pub time: TimeMode,
    pub search: Option<(String, Regex)>,
    pub filter_text: String,
    pub hidden: HashSet<SourceId>,
    pub json: bool,
    /// The prompt being typed, if any.
    pub prompt: Option<(Prompt, String)>,
    /// A one-line message: where a file was saved, a bad pattern...
    pub status: Option<String>,
}

impl Default for LogsPane {
    fn default() -> Self {
        LogsPane {
            target: None,
            target_label: String::new(),
            view: FilteredView::default(),
            following: true,
            selected: 0,
            paused_len: 0,
            wrap: false,
            hscroll: 0,
            time: TimeMode::Local,
            search: None,
            filter_text: String::new(),
            hidden: HashSet::new(),
            json: false,
            prompt: None,
            status: None,
        }
    }
}

/// The source colour slots: each container keeps its colour across the session.
const SOURCE_SLOTS: [Slot; 6] = [
    Slot::LogSource0,
    Slot::LogSource1,
    Slot::LogSource2,
    Slot::LogSource3,
    Slot::LogSource4,
    Slot::LogSource5,
];

/// The width of the source name before each merged line.
const SOURCE_WIDTH: usize = 12;

fn source_slot(name: &str) -> Slot {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut hasher);
    SOURCE_SLOTS[(hasher.finish() % SOURCE_SLOTS.len() as u64) as usize]
}

/// The name a line's source goes by, as [`source_names`] gives it with no limit.
pub fn source_name(model: &Model, source: &SourceId) -> String {
    source_names(model, usize::MAX).remove(source).unwrap_or_else(|| {
        // Not in the store yet: named on its own.
        match model.containers.get(source.as_str()) {
            Some(c) => {
                let own = names_by_id([c], usize::MAX).remove(&c.id).unwrap_or_default();
                format!("{}{own}", super::host_prefix(model, c.host))
            }
            None => source.short().to_string(),
        }
    })
}

/// What each source whose lines the store holds goes by, in at most `width`
/// characters: named among each other by [`crate::model::names`] (`redis`, or
/// `shop/redis` when two projects merged here both run one), `host/name` with several
/// engines, where two of them can run a `web`.
pub fn source_names(model: &Model, width: usize) -> HashMap<SourceId, String> {
    let held: Vec<&Container> =
        model.logs.sources().filter_map(|s| model.containers.get(s.as_str())).collect();
    let room = width.saturating_sub(super::host_width(model, &held));
    let names = names_by_id(held.iter().copied(), room);
    model
        .logs
        .sources()
        .map(|source| {
            let name = match model.containers.get(source.as_str()) {
                Some(c) => format!(
                    "{}{}",
                    super::host_prefix(model, c.host),
                    names.get(&c.id).map_or(c.name.as_str(), String::as_str)
                ),
                None => source.short().to_string(),
            };
            (source.clone(), name)
        })
        .collect()
}

fn term_color(color: Color) -> TermColor {
    match color {
        Color::Indexed(i) => TermColor::Indexed(i),
        Color::Rgb(r, g, b) => TermColor::Rgb(r, g, b),
        named => {
            let index = (0u8..16).find(|i| Color::named(*i) == Some(named)).unwrap_or(7);
            TermColor::Indexed(index)
        }
    }
}

pub(crate) fn ansi_style(style: &AnsiStyle, colors: bool) -> Style {
    let mut out = Style::default();
    if colors {
        if let Some(fg) = style.fg {
            out = out.fg(term_color(fg));
        }
        if let Some(bg) = style.bg {
            out = out.bg(term_color(bg));
        }
    }
    let mut modifiers = Modifier::empty();
    for (on, m) in [
        (style.bold, Modifier::BOLD),
        (style.dim, Modifier::DIM),
        (style.italic, Modifier::ITALIC),
        (style.underline, Modifier::UNDERLINED),
        (style.reverse, Modifier::REVERSED),
    ] {
        if on {
            modifiers |= m;
        }
    }
    out.add_modifier(modifiers)
}

impl LogsPane {
    /// Starts a new view on `target`; the store is emptied so only its lines show.
    pub fn retarget(&mut self, target: Option<LogTarget>, label: String, store: &mut LogStore) {
        let budget = store.budget();
        *store = LogStore::new(crate::model::logs::StoreConfig {
            budget_bytes: budget,
            ..*store.config()
        });
        self.target = target;
        self.target_label = label;
        self.view = FilteredView::new(self.filter());
        self.following = true;
        self.selected = 0;
        self.hidden.clear();
        self.status = None;
    }

    fn filter(&self) -> Filter {
        let mut filter = Filter::default();
        for word in self.filter_text.split_whitespace() {
            match word.strip_prefix('!') {
                Some(rest) if !rest.is_empty() => {
                    if let Ok(re) = pattern(rest) {
                        filter.exclude.push(re);
                    }
                }
                _ => {
                    if let Ok(re) = pattern(word) {
                        filter.include.push(re);
                    }
                }
            }
        }
        filter
    }

    fn apply_filter(&mut self, store: &LogStore) {
        let mut filter = self.filter();
        if !self.hidden.is_empty() {
            let shown: HashSet<SourceId> =
                store.sources().filter(|s| !self.hidden.contains(*s)).cloned().collect();
            filter.sources = Some(shown);
        }
        self.view.set_filter(filter);
        self.view.refresh(store);
    }

    /// Catches up with new lines; returns whether the view changed.
    pub fn refresh(&mut self, store: &LogStore) -> bool {
        let changed = self.view.refresh(store);
        if self.following {
            self.selected = self.view.len().saturating_sub(1);
        }
        changed
    }

    pub fn toggle_pause(&mut self) {
        self.following = !self.following;
        if self.following {
            self.selected = self.view.len().saturating_sub(1);
        } else {
            self.paused_len = self.view.len();
        }
    }

    pub fn move_by(&mut self, delta: isize) {
        let len = self.view.len();
        if len == 0 {
            return;
        }
        if delta < 0 && self.following {
            self.following = false;
            self.paused_len = len;
        }
        let target =
            (self.selected as isize).saturating_add(delta).clamp(0, len as isize - 1) as usize;
        self.selected = target;
        if target + 1 == len && delta > 0 {
            self.following = true;
        }
    }

    pub fn cycle_time(&mut self) {
        self.time = match self.time {
            TimeMode::Local => TimeMode::Utc,
            TimeMode::Utc => TimeMode::Off,
            TimeMode::Off => TimeMode::Local,
        };
    }

    /// Applies what the prompt typed.
    pub fn submit(&mut self, store: &LogStore) {
        let Some((kind, text)) = self.prompt.take() else { return };
        match kind {
            Prompt::Search => {
                if text.is_empty() {
                    self.search = None;
                    return;
                }
                match pattern(&text) {
                    Ok(re) => {
                        self.search = Some((text, re));
                        self.jump(store, Direction::Backward);
                    }
                    Err(error) => self.status = Some(format!("not a pattern: {error}")),
                }
            }
            Prompt::Filter => {
                for word in text.split_whitespace() {
                    if let Err(error) = pattern(word.trim_start_matches('!')) {
                        self.status = Some(format!("not a pattern: {error}"));
                        return;
                    }
                }
                self.filter_text = text;
                self.apply_filter(store);
                self.selected = self.view.len().saturating_sub(1);
            }
        }
    }

    /// Moves the selection to the next (or previous) match, pausing to show it.
    pub fn jump(&mut self, store: &LogStore, direction: Direction) {
        let Some((text, re)) = &self.search else {
            self.status = Some("no search yet: press / to search".into());
            return;
        };
        match self.view.find_next(store, Some(self.selected), re, direction) {
            Some(hit) => {
                self.following = false;
                self.paused_len = self.view.len();
                self.selected = hit.index;
                self.status = hit.wrapped.then(|| "search wrapped around".to_string());
            }
            None => self.status = Some(format!("no line matches /{text}/")),
        }
    }

    pub fn toggle_source(&mut self, store: &LogStore, model: &Model) {
        let Some(line) = self.view.line(store, self.selected) else { return };
        let source = line.source.clone();
        let name = source_name(model, &source);
        if !self.hidden.remove(&source) {
            self.hidden.insert(source);
            self.status = Some(format!(
                "hiding {name} (x on one of its lines shows it again; f/esc to reset)"
            ));
        } else {
            self.status = Some(format!("showing {name} again"));
        }
        if self.hidden.len() >= store.sources().count() {
            self.hidden.clear();
            self.status = Some("every container was hidden: showing all again".into());
        }
        self.apply_filter(store);
    }

    pub fn clear_hidden(&mut self, store: &LogStore) -> bool {
        if self.hidden.is_empty() && self.filter_text.is_empty() {
            return false;
        }
        self.hidden.clear();
        self.filter_text.clear();
        self.apply_filter(store);
        true
    }

    /// Writes the view (filtered or not) to a file next to where portolan runs.
    pub fn save(&mut self, store: &LogStore, model: &Model, now: DateTime<Utc>) {
        let label: String = self
            .target_label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
            .collect();
        let path = std::env::current_dir()
            .unwrap_or_else(|_| std::env::temp_dir())
            .join(format!("portolan-logs-{label}-{}.log", now.format("%Y%m%d-%H%M%S")));
        let result = std::fs::File::create(&path).and_then(|file| {
            let mut writer = std::io::BufWriter::new(file);
            let names = source_names(model, usize::MAX);
            let options = SaveOptions { timestamps: true, source_names: Some(&names) };
            let lines = self.view.lines(store, 0..self.view.len());
            let saved = save(lines, &mut writer, &options)?;
            std::io::Write::flush(&mut writer)?;
            Ok(saved)
        });
        self.status = Some(match result {
            Ok(saved) => format!("saved {} lines to {}", saved.lines, path.display()),
            Err(error) => format!("could not save to {}: {error}", path.display()),
        });
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let model = view.model;
        let store = &model.logs;
        let theme = view.theme;
        let drops = store.total_drops();
        let mut title = format!(
            "Logs · {} · {} lines · {} / {}",
            one_line(&self.target_label),
            self.view.len(),
            bytes(store.used_bytes() as u64),
            bytes(store.budget() as u64)
        );
        if drops.total() > 0 {
            title.push_str(&format!(
                " · DROPPED {} (budget {}, rate {})",
                drops.total(),
                drops.budget,
                drops.rate
            ));
        }
        if !self.filter_text.is_empty() {
            title.push_str(&format!(" · filter: {}", one_line(&self.filter_text)));
        }
        if !self.hidden.is_empty() {
            title.push_str(&format!(" · {} hidden", self.hidden.len()));
        }
        if self.following {
            title.push_str(" · following");
        } else {
            let new = self.view.len().saturating_sub(self.paused_len);
            title.push_str(&format!(" · PAUSED (+{new} new, space resumes)"));
        }
        let outer = block(view, title);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        if inner.height == 0 || inner.width == 0 {
            return;
        }
        let bottom_line = self.prompt.is_some() || self.status.is_some();
        let [body, bottom] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(u16::from(bottom_line))])
                .areas(inner);
        let (log_area, json_area) = if self.json && body.width >= 60 {
            let [l, j] =
                Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
                    .areas(body);
            (l, Some(j))
        } else {
            (body, None)
        };
        if self.target.is_none() {
            frame.render_widget(
                Paragraph::new(
                    "Select a container (or a project with p) and open its logs with 7.",
                )
                .style(theme.style(Slot::Muted)),
                log_area,
            );
        } else if self.view.is_empty() {
            let text =
                if store.is_empty() { "No log lines yet." } else { "No line matches the filter." };
            frame.render_widget(Paragraph::new(text).style(theme.style(Slot::Muted)), log_area);
        } else {
            self.draw_lines(frame, log_area, view);
        }
        if let Some(json_area) = json_area {
            let text = self
                .view
                .line(store, self.selected)
                .and_then(|l| json_pretty(l.plain()))
                .unwrap_or_else(|| "The selected line is not JSON.".to_string());
            let panel = block(&PaneView { focused: false, ..*view }, "JSON".to_string());
            frame.render_widget(
                Paragraph::new(one_line_keep_breaks(&text)).block(panel).wrap(Wrap { trim: false }),
                json_area,
            );
        }
        if let Some((kind, text)) = &self.prompt {
            let label = match kind {
                Prompt::Search => "/",
                Prompt::Filter => "filter (words, !word hides): ",
            };
            frame.render_widget(
                Paragraph::new(Line::from(vec![
                    Span::styled(label, theme.style(Slot::Accent)),
                    Span::raw(one_line(text).into_owned()),
                    Span::styled("█", theme.style(Slot::Accent)),
                ])),
                bottom,
            );
        } else if let Some(status) = &self.status {
            frame.render_widget(
                Paragraph::new(Span::styled(
                    one_line(status).into_owned(),
                    theme.style(Slot::Warning),
                )),
                bottom,
            );
        }
    }

    fn draw_lines(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let store = &view.model.logs;
        let height = area.height as usize;
        let width = area.width as usize;
        // Build from the selected line upwards (and downwards when paused) only what fits.
        let end = (self.selected + 1).min(self.view.len());
        let start = end.saturating_sub(height);
        let mut rows: Vec<Line> = Vec::new();
        let names = source_names(view.model, SOURCE_WIDTH);
        for (offset, line) in self.view.lines(store, start..end).enumerate() {
            let index = start + offset;
            rows.extend(self.render_line(line, index, &names, view, width));
        }
        // With wrapping a line can take several rows: keep the newest rows.
        let skip = rows.len().saturating_sub(height);
        let rows: Vec<Line> = rows.into_iter().skip(skip).collect();
        frame.render_widget(Paragraph::new(rows), area);
    }

    fn render_line<'a>(
        &self,
        line: &'a LogLine,
        index: usize,
        names: &HashMap<SourceId, String>,
        view: &PaneView<'_>,
        width: usize,
    ) -> Vec<Line<'a>> {
        let theme = view.theme;
        let name = names.get(&line.source).cloned().unwrap_or_else(|| line.source.short().into());
        let mut prefix: Vec<Span> = Vec::new();
        if let Some(t) = line.timestamp {
            match self.time {
                TimeMode::Local => prefix.push(Span::styled(
                    format!("{} ", t.with_timezone(&view.offset).format("%H:%M:%S%.3f")),
                    theme.style(Slot::LogTime),
                )),
                TimeMode::Utc => prefix.push(Span::styled(
                    format!("{} ", t.format("%H:%M:%S%.3fZ")),
                    theme.style(Slot::LogTime),
                )),
                TimeMode::Off => {}
            }
        }
        let marker = if line.stream == Stream::Stderr { "▌" } else { "│" };
        let marker_style = if line.stream == Stream::Stderr {
            theme.style(Slot::LogStderr)
        } else {
            theme.style(Slot::Muted)
        };
        // The colour follows the container, not its name in this list, which changes
        // as other sources come and go.
        let colour = view.model.containers.get(line.source.as_str()).map_or(&name, |c| &c.name);
        prefix.push(Span::styled(
            format!("{name:<SOURCE_WIDTH$.SOURCE_WIDTH$}"),
            theme.style(source_slot(colour)),
        ));
        prefix.push(Span::styled(marker, marker_style));
        let level_style = match line.level {
            Some(Level::Error) | Some(Level::Fatal) => theme.style(Slot::LogError),
            Some(Level::Warn) => theme.style(Slot::LogWarn),
            Some(Level::Debug) | Some(Level::Trace) => theme.style(Slot::LogDebug),
            _ => Style::default(),
        };
        let marks = match &self.search {
            Some((_, re)) => match_ranges(line.plain(), re),
            None => Vec::new(),
        };
        let colors = theme.name != "mono";
        let mut text: Vec<Span> = line
            .text
            .marked_segments(&marks)
            .into_iter()
            .map(|(segment, matched)| {
                let style = if matched {
                    theme.style(Slot::LogMatch)
                } else if segment.style.is_default() {
                    level_style
                } else {
                    level_style.patch(ansi_style(&segment.style, colors))
                };
                Span::styled(segment.text.to_string(), style)
            })
            .collect();
        if let Some(marker) = line.text.display_marker() {
            text.push(Span::styled(marker, theme.style(Slot::Muted)));
        }
        let selected = !self.following && index == self.selected;
        let prefix_width: usize = prefix.iter().map(Span::width).sum();
        let room = width.saturating_sub(prefix_width).max(1);
        let mut rows = Vec::new();
        if self.wrap {
            // Cut the text spans into rows of `room` characters.
            let mut current: Vec<Span> = Vec::new();
            let mut used = 0;
            for span in text {
                let mut content: &str = &span.content;
                let owned = content.to_string();
                content = &owned;
                let mut rest = content;
                while !rest.is_empty() {
                    let take = rest.char_indices().nth(room - used).map_or(rest.len(), |(i, _)| i);
                    current.push(Span::styled(rest[..take].to_string(), span.style));
                    used += rest[..take].chars().count();
                    rest = &rest[take..];
                    if used >= room {
                        rows.push(std::mem::take(&mut current));
                        used = 0;
                    }
                }
            }
            if !current.is_empty() || rows.is_empty() {
                rows.push(current);
            }
        } else {
            // Horizontal scroll: drop the first `hscroll` characters of the text.
            let mut skip = self.hscroll;
            let mut row = Vec::new();
            for span in text {
                let count = span.content.chars().count();
                if skip >= count {
                    skip -= count;
                    continue;
                }
                let cut: String = span.content.chars().skip(skip).collect();
                skip = 0;
                row.push(Span::styled(cut, span.style));
            }
            rows.push(row);
        }
        rows.into_iter()
            .enumerate()
            .map(|(n, row)| {
                let mut spans =
                    if n == 0 { prefix.clone() } else { vec![Span::raw(" ".repeat(prefix_width))] };
                spans.extend(row);
                let line = Line::from(spans);
                if selected { theme.selected(line) } else { line }
            })
            .collect()
    }
}

impl Pane for LogsPane {
    /// Catches up with the lines that arrived.
    fn sync(&mut self, view: &PaneView<'_>) {
        self.refresh(&view.model.logs);
    }

    fn act(&mut self, action: Action, view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        let store = &view.model.logs;
        match action {
            // Esc clears what the pane added, and nothing beyond it.
            Action::Back => {
                let cleared = self.status.take().is_some() || self.clear_hidden(store);
                return Handled::changed(cleared);
            }
            Action::Search => {
                self.prompt = Some((Prompt::Search, String::new()));
                self.status = None;
            }
            Action::Filter => {
                self.prompt = Some((Prompt::Filter, self.filter_text.clone()));
                self.status = None;
            }
            Action::SearchNext => self.jump(store, Direction::Forward),
            Action::SearchPrev => self.jump(store, Direction::Backward),
            Action::Pause => self.toggle_pause(),
            Action::Timestamps => self.cycle_time(),
            Action::Wrap => {
                self.wrap = !self.wrap;
                self.hscroll = 0;
            }
            Action::Left => self.hscroll = self.hscroll.saturating_sub(8),
            Action::Right if !self.wrap => self.hscroll += 8,
            Action::HideSource => self.toggle_source(store, view.model),
            Action::Save => self.save(store, view.model, view.now),
            Action::JsonView => self.json = !self.json,
            _ => {
                // A page of log lines is a fixed stride: lines wrap to any height.
                let Some(delta) = movement(action, 20) else { return Handled::Pass };
                self.move_by(delta);
            }
        }
        Handled::Redraw
    }

    fn takes_text(&self) -> bool {
        self.prompt.is_some()
    }

    /// A key typed into the prompt.
    fn text_key(&mut self, key: &KeyEvent, view: &PaneView<'_>, effects: &mut Vec<Effect>) -> bool {
        let Some((_, text)) = self.prompt.as_mut() else { return false };
        match key.code {
            KeyCode::Enter => self.submit(&view.model.logs),
            KeyCode::Esc => self.prompt = None,
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                if text.len() < 512 {
                    text.push(c);
                }
            }
            KeyCode::Char('c') => effects.push(Effect::Quit),
            _ => return false,
        }
        true
    }

    fn hints(&self) -> Vec<(Action, &'static str)> {
        vec![
            (Action::Search, "search"),
            (Action::Filter, "filter"),
            (Action::Pause, if self.following { "pause" } else { "follow" }),
        ]
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        self.draw(frame, area, view);
    }
}

fn one_line_keep_breaks(text: &str) -> String {
    crate::model::sanitize::multi_line(text).into_owned()
}

/// The target a logs pane opens on: the marked containers, else the project filter,
/// else the selected container.
pub fn target_for(
    model: &Model,
    marked: &[&Container],
    project: Option<&str>,
    selected: Option<&Container>,
) -> Option<(LogTarget, String)> {
    let prefix = |c: &Container| super::host_prefix(model, c.host);
    if !marked.is_empty() {
        let ids = marked.iter().map(|c| c.id.clone()).collect();
        let names: Vec<String> =
            marked.iter().map(|c| format!("{}{}", prefix(c), c.display_name())).collect();
        return Some((LogTarget::Ids(ids), names.join(", ")));
    }
    if let Some(project) = project {
        return Some((LogTarget::project(project), format!("project {project}")));
    }
    let c = selected?;
    Some((LogTarget::container(&c.into()), format!("{}{}", prefix(c), c.name)))
}
