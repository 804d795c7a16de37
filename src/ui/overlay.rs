//! Popups that take the keyboard while open: the actions menu, the confirmation that
//! destructive actions ask for, and the command palette. Each is small state plus a
//! render function; `App` decides what a finished popup does.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::keymap::Action;
use super::theme::{Slot, Theme};
use crate::model::action::Verb;
use crate::model::compose_runs::ComposeVerb;
use crate::model::sanitize::one_line;

/// What a popup asks the app to do when it closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Still open; redraw if the bool says so.
    Open(bool),
    /// Closed without doing anything.
    Cancelled,
    /// The menu picked a verb for these targets.
    Verb(Verb),
    /// The confirmation was given.
    Confirmed,
    /// The palette picked an action or a container.
    Palette(PaletteItem),
    /// The signal confirmation was given.
    SendSignal,
    /// The prune menu picked what to prune.
    Prune(crate::model::disk::PruneKind),
    /// The prune preview was confirmed.
    PruneConfirmed,
    /// A custom command that asks first was confirmed.
    RunCommand,
    /// The menu picked a compose command or an image action.
    Extra(MenuExtra),
}

/// What the actions menu offers beside the container verbs: compose commands on the
/// selection's service or project, and image updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuExtra {
    Compose(ComposeVerb),
    /// Ask the registry whether the image has a newer one.
    CheckUpdate,
    /// Pull the newer image and re-create the container (asks first).
    Update,
}

impl MenuExtra {
    pub fn key(self) -> char {
        match self {
            MenuExtra::Compose(verb) => verb.menu_key(),
            MenuExtra::CheckUpdate => 'n',
            MenuExtra::Update => 'N',
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MenuExtra::Compose(verb) => verb.as_str(),
            MenuExtra::CheckUpdate => "check for a newer image",
            MenuExtra::Update => "update to it",
        }
    }

    pub fn asks(self) -> bool {
        match self {
            MenuExtra::Compose(verb) => verb.is_destructive(),
            MenuExtra::CheckUpdate => false,
            MenuExtra::Update => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaletteItem {
    Action(Action),
    Container {
        id: String,
    },
    /// A command typed with its argument (`goto 03:10`); picked without one, the
    /// palette asks for it.
    Command {
        name: &'static str,
        arg: String,
    },
    /// A custom command, by its index in the keymap's commands.
    Custom(usize),
}

/// Commands the palette takes typed with an argument: name, what the argument is,
/// what it does.
pub const COMMANDS: &[(&str, &str, &str)] =
    &[("goto", "TIME", "rewind the panes to a moment: 03:10, -15m, 2026-12-05 03:10:00")];

#[derive(Debug, Clone)]
pub enum Overlay {
    /// Pick a verb for `targets` (container ids).
    Actions {
        targets: Vec<String>,
        title: String,
        verbs: Vec<Verb>,
        /// Compose commands and image actions, when the selection has them.
        extras: Vec<MenuExtra>,
    },
    /// Ask before `verb` on `targets`; `typed` must read `yes` when `hard`.
    Confirm {
        verb: Verb,
        targets: Vec<String>,
        question: String,
        hard: bool,
        typed: String,
    },
    Palette(Palette),
    /// Ask before signalling a process; keys pick the signal first.
    Kill(crate::model::processes::KillAsk),
    /// What the record says happened since the operator last looked; any key closes.
    Away(Vec<crate::record::read::Away>),
    /// Pick what to prune.
    PruneMenu,
    /// Exactly what a prune removes and what it frees; `y` removes that list
    /// (volumes hold data: `yes` typed).
    PrunePreview {
        plan: Box<crate::model::disk::PrunePlan>,
        typed: String,
    },
    /// Ask before a compose command or an update the app holds; `y` goes ahead.
    Ask {
        title: String,
        question: String,
    },
    /// Ask before running a custom command that says `confirm = true`.
    RunCommand(super::commands::CommandRun),
}

impl Overlay {
    pub fn key(&mut self, key: &KeyEvent) -> Outcome {
        let ctrl_c =
            key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
        if key.code == KeyCode::Esc || ctrl_c {
            return Outcome::Cancelled;
        }
        match self {
            Overlay::Actions { verbs, extras, .. } => match key.code {
                KeyCode::Char(c) => match verbs.iter().find(|v| v.menu_key() == c) {
                    Some(verb) => Outcome::Verb(*verb),
                    None => match extras.iter().find(|e| e.key() == c) {
                        Some(extra) => Outcome::Extra(*extra),
                        None => Outcome::Open(false),
                    },
                },
                _ => Outcome::Open(false),
            },
            Overlay::Ask { .. } => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => Outcome::Confirmed,
                _ => Outcome::Cancelled,
            },
            Overlay::Confirm { hard, typed, .. } => answer(*hard, typed, key, Outcome::Confirmed),
            Overlay::Palette(palette) => palette.key(key),
            Overlay::Away(_) => Outcome::Cancelled,
            Overlay::RunCommand(_) => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => Outcome::RunCommand,
                _ => Outcome::Cancelled,
            },
            Overlay::PruneMenu => match key.code {
                KeyCode::Char(c) => {
                    use crate::model::disk::PruneKind;
                    match PruneKind::ALL.into_iter().find(|k| k.menu_key() == c) {
                        Some(kind) => Outcome::Prune(kind),
                        None => Outcome::Open(false),
                    }
                }
                _ => Outcome::Open(false),
            },
            Overlay::PrunePreview { plan, typed } => {
                if plan.items.is_empty() {
                    return Outcome::Cancelled;
                }
                let hard = plan.kind == crate::model::disk::PruneKind::Volumes;
                answer(hard, typed, key, Outcome::PruneConfirmed)
            }
            Overlay::Kill(ask) => {
                use crate::model::processes::KillStep;
                let typed = match key.code {
                    KeyCode::Enter => '\n',
                    KeyCode::Char(c) => c,
                    _ => return Outcome::Open(false),
                };
                match ask.key(typed) {
                    KillStep::Picked => Outcome::Open(true),
                    KillStep::Ignored => Outcome::Open(false),
                    KillStep::Send => Outcome::SendSignal,
                    KillStep::Cancel => Outcome::Cancelled,
                }
            }
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        match self {
            Overlay::Actions { title, verbs, extras, .. } => {
                let mut lines = vec![Line::from(Span::styled(
                    one_line(title).into_owned(),
                    theme.style(Slot::Value),
                ))];
                lines.push(Line::default());
                for verb in verbs {
                    lines.push(Line::from(vec![
                        Span::styled(format!("  {}  ", verb.menu_key()), theme.style(Slot::Accent)),
                        Span::styled(verb.as_str(), theme.style(Slot::Value)),
                        Span::styled(
                            if verb.is_destructive() { "  (asks first)" } else { "" },
                            theme.style(Slot::Muted),
                        ),
                    ]));
                }
                extra_lines(&mut lines, extras, theme);
                lines.push(Line::default());
                lines.push(Line::from(Span::styled("esc  close", theme.style(Slot::Muted))));
                popup(frame, area, theme, " Actions ", lines, 56);
            }
            Overlay::Confirm { question, hard, typed, .. } => {
                let mut lines = vec![Line::from(Span::styled(
                    one_line(question).into_owned(),
                    theme.style(Slot::Warning),
                ))];
                lines.push(Line::default());
                if *hard {
                    lines.push(Line::from(vec![
                        Span::styled("Type yes and press enter: ", theme.style(Slot::Value)),
                        Span::styled(format!("{typed}▏"), theme.style(Slot::Accent)),
                    ]));
                } else {
                    lines.push(answer_line(theme, "yes"));
                }
                popup(frame, area, theme, " Confirm ", lines, 70);
            }
            Overlay::Palette(palette) => palette.render(frame, area, theme),
            Overlay::RunCommand(run) => {
                let lines = vec![
                    Line::from(Span::styled(
                        format!("Run {}?", one_line(&run.name)),
                        theme.style(Slot::Warning),
                    )),
                    Line::from(Span::styled(
                        one_line(&run.line).into_owned(),
                        theme.style(Slot::Value),
                    )),
                    Line::default(),
                    answer_line(theme, "run"),
                ];
                popup(frame, area, theme, " Custom command ", lines, 80);
            }
            Overlay::PruneMenu => {
                use crate::model::disk::PruneKind;
                let mut lines = vec![Line::from(Span::styled(
                    "Prune what? A preview lists exactly what goes first.",
                    theme.style(Slot::Value),
                ))];
                lines.push(Line::default());
                for kind in PruneKind::ALL {
                    lines.push(Line::from(vec![
                        Span::styled(format!("  {}  ", kind.menu_key()), theme.style(Slot::Accent)),
                        Span::styled(kind.describe(), theme.style(Slot::Value)),
                    ]));
                }
                lines.push(Line::default());
                lines.push(Line::from(Span::styled("esc  close", theme.style(Slot::Muted))));
                popup(frame, area, theme, " Prune ", lines, 60);
            }
            Overlay::PrunePreview { plan, typed } => {
                // Room for the question, the notes and the keys around the list.
                let rows = (area.height as usize).saturating_sub(10 + plan.notes.len() * 2).max(3);
                let mut lines: Vec<Line> = super::panes::disk::preview_lines(plan, rows)
                    .into_iter()
                    .map(|(text, slot)| {
                        Line::from(Span::styled(one_line(&text).into_owned(), theme.style(slot)))
                    })
                    .collect();
                lines.push(Line::default());
                if plan.items.is_empty() {
                    lines
                        .push(Line::from(Span::styled("any key closes", theme.style(Slot::Muted))));
                } else if plan.kind == crate::model::disk::PruneKind::Volumes {
                    lines.push(Line::from(vec![
                        Span::styled(
                            "Their data is gone for good. Type yes and press enter: ",
                            theme.style(Slot::Value),
                        ),
                        Span::styled(format!("{typed}▏"), theme.style(Slot::Accent)),
                    ]));
                } else {
                    lines.push(answer_line(theme, "remove exactly these"));
                }
                popup(frame, area, theme, " Prune preview ", lines, 90);
            }
            Overlay::Ask { title, question } => {
                let lines = vec![
                    Line::from(Span::styled(
                        one_line(question).into_owned(),
                        theme.style(Slot::Warning),
                    )),
                    Line::default(),
                    answer_line(theme, "yes"),
                ];
                popup(frame, area, theme, &format!(" {} ", one_line(title)), lines, 74);
            }
            Overlay::Away(summaries) => {
                use crate::record::read::AwayKind;
                let mut lines = Vec::new();
                for (n, summary) in summaries.iter().enumerate() {
                    if n > 0 {
                        lines.push(Line::default());
                    }
                    for (kind, text) in &summary.lines {
                        let slot = match kind {
                            AwayKind::Heading => Slot::Value,
                            AwayKind::Incident => Slot::StateExited,
                            AwayKind::Resolved => Slot::Warning,
                            AwayKind::Log | AwayKind::Note => Slot::Muted,
                            AwayKind::Plain => Slot::Label,
                        };
                        lines.push(Line::from(Span::styled(
                            one_line(text).into_owned(),
                            theme.style(slot),
                        )));
                    }
                }
                lines.push(Line::default());
                lines.push(Line::from(Span::styled(
                    "any key closes · portolan history lists everything",
                    theme.style(Slot::Muted),
                )));
                popup(frame, area, theme, " While you were away ", lines, 110);
            }
            Overlay::Kill(ask) => {
                use crate::model::processes::Signal;
                let mut lines = vec![Line::from(Span::styled(
                    one_line(&ask.question()).into_owned(),
                    theme.style(Slot::Warning),
                ))];
                lines.push(Line::default());
                let mut signals = Vec::new();
                for signal in Signal::ALL {
                    let slot = if signal == ask.signal { Slot::Selection } else { Slot::Value };
                    signals.push(Span::styled(
                        format!("{} ", signal.key()),
                        theme.style(Slot::Accent),
                    ));
                    signals.push(Span::styled(signal.name(), theme.style(slot)));
                    signals.push(Span::raw("   "));
                }
                lines.push(Line::from(signals));
                lines.push(Line::from(vec![
                    Span::styled("y", theme.style(Slot::Accent)),
                    Span::styled(" or ", theme.style(Slot::Value)),
                    Span::styled("enter", theme.style(Slot::Accent)),
                    Span::styled(" send   ", theme.style(Slot::Value)),
                    Span::styled("n", theme.style(Slot::Accent)),
                    Span::styled(" or ", theme.style(Slot::Value)),
                    Span::styled("esc", theme.style(Slot::Accent)),
                    Span::styled(" no", theme.style(Slot::Value)),
                ]));
                popup(frame, area, theme, " Send a signal ", lines, 74);
            }
        }
    }
}

/// The menu's compose commands and image actions, a few to a line: the menu must
/// still fit an 80x24 screen.
fn extra_lines(lines: &mut Vec<Line<'_>>, extras: &[MenuExtra], theme: &Theme) {
    let compose: Vec<MenuExtra> =
        extras.iter().copied().filter(|e| matches!(e, MenuExtra::Compose(_))).collect();
    let image: Vec<MenuExtra> =
        extras.iter().copied().filter(|e| !matches!(e, MenuExtra::Compose(_))).collect();
    // Down is offered for a whole project, re-create for one service.
    let heading = if compose.contains(&MenuExtra::Compose(ComposeVerb::Down)) {
        "compose · the whole project"
    } else {
        "compose · this service"
    };
    for (heading, group, per_line) in [(heading, compose, 4), ("image", image, 2)] {
        if group.is_empty() {
            continue;
        }
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(heading, theme.style(Slot::Muted))));
        for chunk in group.chunks(per_line) {
            let mut spans = Vec::new();
            for extra in chunk {
                spans.push(Span::styled(format!("  {} ", extra.key()), theme.style(Slot::Accent)));
                spans.push(Span::styled(extra.label(), theme.style(Slot::Value)));
                if extra.asks() {
                    spans.push(Span::styled("*", theme.style(Slot::Muted)));
                }
            }
            lines.push(Line::from(spans));
        }
    }
    if extras.iter().any(|e| e.asks()) {
        lines.push(Line::from(Span::styled("  * asks first", theme.style(Slot::Muted))));
    }
}

fn popup(frame: &mut Frame, area: Rect, theme: &Theme, title: &str, lines: Vec<Line>, width: u16) {
    let width = width.min(area.width);
    // Wrapped lines need room: estimate from the longest.
    let inner_width = width.saturating_sub(2).max(1) as usize;
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner_width)).sum();
    let height = (rows as u16 + 2).min(area.height);
    let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)]).flex(Flex::Center).areas(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).style(theme.style(Slot::Overlay)).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(true))
                .title(Span::styled(title.to_string(), theme.title(true))),
        ),
        popup,
    );
}

/// One thing the palette can run.
#[derive(Debug, Clone)]
pub struct Entry {
    pub label: String,
    pub kind: &'static str,
    pub item: PaletteItem,
}

/// `:` — type a few letters of an action or a container, pick with the arrows.
#[derive(Debug, Clone, Default)]
pub struct Palette {
    pub query: String,
    pub entries: Vec<Entry>,
    pub selected: usize,
}

impl Palette {
    pub fn new(entries: Vec<Entry>) -> Palette {
        Palette { query: String::new(), entries, selected: 0 }
    }

    /// A command typed with its argument: `goto 03:10`.
    pub fn typed_command(&self) -> Option<(&'static str, String)> {
        let query = self.query.trim_start();
        let (word, arg) = query.split_once(' ')?;
        let (name, _, _) = COMMANDS.iter().find(|(name, _, _)| name.eq_ignore_ascii_case(word))?;
        Some((name, arg.trim().to_string()))
    }

    /// Entries matching the query, best first.
    pub fn matches(&self) -> Vec<&Entry> {
        let mut scored: Vec<(i64, &Entry)> = self
            .entries
            .iter()
            .filter_map(|e| fuzzy_score(&self.query, &e.label).map(|s| (s, e)))
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.label.cmp(&b.1.label)));
        scored.into_iter().map(|(_, e)| e).collect()
    }

    fn key(&mut self, key: &KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Enter => {
                if let Some((name, arg)) = self.typed_command() {
                    return Outcome::Palette(PaletteItem::Command { name, arg });
                }
                match self.matches().get(self.selected).map(|e| e.item.clone()) {
                    // A command needs its argument: it is typed after the name.
                    Some(PaletteItem::Command { name, arg }) if arg.is_empty() => {
                        self.query = format!("{name} ");
                        self.selected = 0;
                        Outcome::Open(true)
                    }
                    Some(item) => Outcome::Palette(item),
                    None => Outcome::Cancelled,
                }
            }
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                Outcome::Open(true)
            }
            KeyCode::Down | KeyCode::Tab => {
                let count = self.matches().len();
                self.selected = (self.selected + 1).min(count.saturating_sub(1));
                Outcome::Open(true)
            }
            KeyCode::Backspace => {
                self.query.pop();
                self.selected = 0;
                Outcome::Open(true)
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                if self.query.len() < 64 {
                    self.query.push(c);
                }
                self.selected = 0;
                Outcome::Open(true)
            }
            _ => Outcome::Open(false),
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let width = 70.min(area.width);
        let height = 16.min(area.height);
        let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Start).areas(area);
        let [popup] =
            Layout::horizontal([Constraint::Length(width)]).flex(Flex::Center).areas(popup);
        let matches = self.matches();
        let mut lines = vec![Line::from(vec![
            Span::styled(": ", theme.style(Slot::Accent)),
            Span::styled(format!("{}▏", one_line(&self.query)), theme.style(Slot::Value)),
            Span::styled(format!("  {} matches", matches.len()), theme.style(Slot::Muted)),
        ])];
        if let Some((name, arg)) = self.typed_command() {
            let what = COMMANDS.iter().find(|(n, _, _)| *n == name).map_or("", |c| c.2);
            lines.push(Line::from(vec![
                Span::styled(format!("{:<10}", "command"), theme.style(Slot::Muted)),
                Span::styled(format!("{name} {}", one_line(&arg)), theme.style(Slot::Selection)),
            ]));
            lines
                .push(Line::from(Span::styled(format!("enter: {what}"), theme.style(Slot::Muted))));
            frame.render_widget(Clear, popup);
            frame.render_widget(
                Paragraph::new(lines).style(theme.style(Slot::Overlay)).block(
                    Block::default()
                        .borders(Borders::ALL)
                        .border_style(theme.border(true))
                        .title(Span::styled(" Command palette ", theme.title(true))),
                ),
                popup,
            );
            return;
        }
        let visible = height.saturating_sub(3) as usize;
        let start = self.selected.saturating_sub(visible.saturating_sub(1));
        for (i, entry) in matches.iter().enumerate().skip(start).take(visible) {
            let style = if i == self.selected {
                theme.style(Slot::Selection)
            } else {
                theme.style(Slot::Value)
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{:<10}", entry.kind), theme.style(Slot::Muted)),
                Span::styled(one_line(&entry.label).into_owned(), style),
            ]));
        }
        frame.render_widget(Clear, popup);
        frame.render_widget(
            Paragraph::new(lines).style(theme.style(Slot::Overlay)).block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border(true))
                    .title(Span::styled(" Command palette ", theme.title(true))),
            ),
            popup,
        );
    }
}

/// A subsequence match of `query` in `text`, case-insensitive: `None` when some letter
/// is missing; higher for matches at word starts and in runs.
pub fn fuzzy_score(query: &str, text: &str) -> Option<i64> {
    if query.is_empty() {
        return Some(0);
    }
    let text: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let mut score = 0i64;
    let mut position = 0usize;
    let mut previous: Option<usize> = None;
    for q in query.chars().flat_map(char::to_lowercase) {
        if q == ' ' {
            continue;
        }
        let found = text[position..].iter().position(|c| *c == q)? + position;
        score += 10;
        // Letters in a run count most (`api` in `shop-api-1`), then word starts.
        if previous.is_some_and(|p| p + 1 == found) {
            score += 25;
        }
        if found == 0 || !text[found - 1].is_alphanumeric() {
            score += 10;
        }
        score -= (found - position) as i64;
        previous = Some(found);
        position = found + 1;
    }
    Some(score)
}

/// A question's answer: `y` (or, when `hard`, `yes` typed and enter) gives `yes`;
/// anything else says no, or goes on typing.
fn answer(hard: bool, typed: &mut String, key: &KeyEvent, yes: Outcome) -> Outcome {
    if !hard {
        return match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => yes,
            _ => Outcome::Cancelled,
        };
    }
    match key.code {
        KeyCode::Enter if typed.trim() == "yes" => yes,
        KeyCode::Enter => Outcome::Cancelled,
        KeyCode::Backspace => {
            typed.pop();
            Outcome::Open(true)
        }
        KeyCode::Char(c) if typed.len() < 16 => {
            typed.push(c);
            Outcome::Open(true)
        }
        _ => Outcome::Open(false),
    }
}

/// `y VERB   any other key no`, the foot of a question.
fn answer_line(theme: &Theme, verb: &str) -> Line<'static> {
    Line::from(vec![
        Span::styled("y", theme.style(Slot::Accent)),
        Span::styled(format!(" {verb}   "), theme.style(Slot::Value)),
        Span::styled("any other key", theme.style(Slot::Accent)),
        Span::styled(" no", theme.style(Slot::Value)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn a_command_is_typed_with_its_argument_or_asks_for_it() {
        let entries = vec![Entry {
            label: "goto TIME · rewind".into(),
            kind: "command",
            item: PaletteItem::Command { name: "goto", arg: String::new() },
        }];
        let mut palette = Palette::new(entries);
        for c in "goto".chars() {
            palette.key(&press(KeyCode::Char(c)));
        }
        assert_eq!(palette.key(&press(KeyCode::Enter)), Outcome::Open(true));
        assert_eq!(palette.query, "goto ", "picked without an argument: it is asked for");
        for c in "-15m".chars() {
            palette.key(&press(KeyCode::Char(c)));
        }
        assert_eq!(
            palette.key(&press(KeyCode::Enter)),
            Outcome::Palette(PaletteItem::Command { name: "goto", arg: "-15m".into() })
        );
        palette.query = "goto 2026-12-05 03:10:00".into();
        assert_eq!(palette.typed_command(), Some(("goto", "2026-12-05 03:10:00".into())));
        palette.query = "gotcha".into();
        assert_eq!(palette.typed_command(), None);
    }

    #[test]
    fn fuzzy_prefers_word_starts_and_runs() {
        assert!(fuzzy_score("stp", "stop container").is_some());
        assert!(fuzzy_score("xyz", "stop").is_none());
        let run = fuzzy_score("api", "shop-api-1").unwrap_or(0);
        let scattered = fuzzy_score("api", "a pretty image").unwrap_or(0);
        assert!(run > scattered, "{run} vs {scattered}");
    }

    fn confirm(verb: Verb, hard: bool) -> Overlay {
        Overlay::Confirm {
            verb,
            targets: vec!["a".into()],
            question: format!("{}?", verb.as_str()),
            hard,
            typed: String::new(),
        }
    }

    #[test]
    fn confirmation_asks_once_or_harder() {
        let mut easy = confirm(Verb::Stop, false);
        assert_eq!(easy.key(&press(KeyCode::Char('y'))), Outcome::Confirmed);
        assert_eq!(easy.key(&press(KeyCode::Char('n'))), Outcome::Cancelled);
        assert_eq!(easy.key(&press(KeyCode::Enter)), Outcome::Cancelled, "enter is not yes");
        let mut hard = confirm(Verb::Remove, true);
        assert_eq!(hard.key(&press(KeyCode::Char('y'))), Outcome::Open(true));
        assert_eq!(hard.key(&press(KeyCode::Enter)), Outcome::Cancelled, "y alone is not enough");
        let mut hard = confirm(Verb::Remove, true);
        for c in "yes".chars() {
            hard.key(&press(KeyCode::Char(c)));
        }
        assert_eq!(hard.key(&press(KeyCode::Enter)), Outcome::Confirmed);
    }

    #[test]
    fn the_menu_picks_only_offered_verbs() {
        let mut menu = Overlay::Actions {
            targets: vec!["a".into()],
            title: "x".into(),
            verbs: vec![Verb::Stop, Verb::Restart],
            extras: vec![MenuExtra::Compose(ComposeVerb::Recreate), MenuExtra::CheckUpdate],
        };
        assert_eq!(
            menu.key(&press(KeyCode::Char('C'))),
            Outcome::Extra(MenuExtra::Compose(ComposeVerb::Recreate))
        );
        assert_eq!(
            menu.key(&press(KeyCode::Char('N'))),
            Outcome::Open(false),
            "update not offered"
        );
        assert_eq!(menu.key(&press(KeyCode::Char('s'))), Outcome::Open(false), "start not offered");
        assert_eq!(menu.key(&press(KeyCode::Char('t'))), Outcome::Verb(Verb::Stop));
        assert_eq!(menu.key(&press(KeyCode::Esc)), Outcome::Cancelled);
    }
}
