//! Every key goes through here: key strings like `"ctrl-c"` map to [`Action`]s.
//!
//! One exception, by design: while a text field is open (the map's `/` filter, the
//! logs' prompt), the UI loop hands raw keys to it ([`crate::ui::App::text_input`])
//! instead of looking them up here, so typing `q` into a filter does not quit. Enter
//! or Esc closes it.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the operator can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Leave portolan, restoring the terminal.
    Quit,
    /// Show or hide the list of keys.
    Help,
    /// Close an overlay or clear the filter.
    Back,
    /// Move the selection up one row.
    Up,
    /// Move the selection down one row.
    Down,
    /// Move the selection left (the map moves between boxes).
    Left,
    /// Move the selection right.
    Right,
    /// Move the selection up one page.
    PageUp,
    /// Move the selection down one page.
    PageDown,
    /// Jump to the first row.
    Top,
    /// Jump to the last row.
    Bottom,
    /// Show the next pane.
    NextPane,
    /// Show the previous pane.
    PrevPane,
    /// Show the detail of the selection full-size, or go back.
    ToggleDetail,
    /// Cycle the project filter through every compose project and back to all.
    NextProject,
    /// Scroll the detail area down.
    DetailDown,
    /// Scroll the detail area up.
    DetailUp,
    /// Show the first pane (triage).
    Pane1,
    /// Show the second pane.
    Pane2,
    /// Show the third pane.
    Pane3,
    /// Show the fourth pane.
    Pane4,
    /// Show the fifth pane.
    Pane5,
    /// Show the sixth pane.
    Pane6,
    /// Show the seventh pane.
    Pane7,
    /// Sort the stats table by the next column.
    SortNext,
    /// Reverse the stats table's order.
    SortReverse,
    /// Show only the selected container's events in the timeline, or all again.
    ContainerFilter,
    /// Show the eighth pane (logs).
    Pane8,
    /// Show the ninth pane (routes).
    Pane9,
    /// Search (logs: a regex; typed at the prompt).
    Search,
    /// Jump to the next search match.
    SearchNext,
    /// Jump to the previous search match.
    SearchPrev,
    /// Logs: show only lines matching patterns (`!word` hides lines).
    Filter,
    /// Logs: pause following, or resume.
    Pause,
    /// Logs: timestamps in local time, in UTC, or none.
    Timestamps,
    /// Logs: wrap long lines, or scroll sideways.
    Wrap,
    /// Logs: hide or show the selected line's container.
    HideSource,
    /// Logs: save what the view shows to a file.
    Save,
    /// Logs: pretty-print the selected JSON line beside the log.
    JsonView,
    /// Containers: mark or unmark the selection (the logs pane follows the marked ones).
    Mark,
    /// Map: cycle the detail level (auto, compact, full).
    DetailLevel,
    /// Show the tenth pane (audit).
    Pane0,
    /// Start, stop, restart, pause, kill or remove the selected container (a menu).
    Actions,
    /// The same on every container of the selection's compose project.
    ProjectActions,
    /// Open a shell in the selected container.
    Exec,
    /// The selected container's configuration as a foldable tree.
    Inspect,
    /// A command palette: actions and containers by fuzzy name.
    Palette,
    /// Inspect: show masked secret values, or mask them again.
    Reveal,
    /// Inspect: copy the selected value to the clipboard (OSC 52).
    Copy,
    /// Show the swarm pane (nodes, services, tasks).
    PaneSwarm,
    /// Show the processes inside the selected container.
    PaneProcesses,
    /// Processes: send a signal to the selected process (asks first).
    KillProcess,
    /// Show what the selected container changed against its image.
    PaneChanges,
    /// Browse the selected container's files.
    PaneFiles,
    /// Files: copy the selection out to a local path (asks before replacing).
    CopyOut,
    /// Files: copy a local file into the directory shown (asks before replacing).
    CopyIn,
    /// Dial the selection's published ports from here and say which answer.
    CheckPorts,
    /// Show the shell pane (the shells opened in containers, in tabs).
    PaneShell,
    /// Open a shell in the selected container, in the shell pane, through the engine.
    OpenShell,
    /// Give the keyboard to the shell in the pane, or take it back.
    ShellFocus,
    /// Stats: the charts' span, 10 min, 1 h, 24 h, 7 d (the longer ones from the record).
    ChartSpan,
    /// Show the Disk pane: what images, containers, volumes and build cache take.
    PaneDisk,
    /// Prune (Disk pane): pick what, preview exactly what goes, then confirm.
    Prune,
    /// Show the compose pane (compose commands and image updates, their output).
    PaneCompose,
    /// The time cursor: one minute back (HISTORY mode, from the record).
    HistoryBack,
    /// The time cursor: one minute forward (past now: live again).
    HistoryForward,
    /// The time cursor: ten minutes back.
    HistoryBackMore,
    /// The time cursor: ten minutes forward.
    HistoryForwardMore,
    /// Leave HISTORY mode: the live state again.
    Live,
    /// Show the images pane (images, their users and layers).
    PaneImages,
    /// Show the volumes pane (volumes, their users, orphans).
    PaneVolumes,
    /// Show the networks pane (networks, their members and addresses).
    PaneNetworks,
}

/// Stable snake_case names for the config file's `[keys]` table. The exhaustive match
/// in [`Action::name`] makes a new action fail to build until it has a name.
macro_rules! action_names {
    ($($variant:ident => $name:literal,)*) => {
        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The action's name in the config file (`quit`, `pane_1`, `search_next`).
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            pub fn from_name(name: &str) -> Option<Action> {
                match name { $($name => Some(Action::$variant),)* _ => None }
            }
        }
    };
}

action_names! {
    Quit => "quit",
    Help => "help",
    Back => "back",
    Up => "up",
    Down => "down",
    Left => "left",
    Right => "right",
    PageUp => "page_up",
    PageDown => "page_down",
    Top => "top",
    Bottom => "bottom",
    NextPane => "next_pane",
    PrevPane => "prev_pane",
    ToggleDetail => "toggle_detail",
    NextProject => "next_project",
    DetailDown => "detail_down",
    DetailUp => "detail_up",
    Pane1 => "pane_1",
    Pane2 => "pane_2",
    Pane3 => "pane_3",
    Pane4 => "pane_4",
    Pane5 => "pane_5",
    Pane6 => "pane_6",
    Pane7 => "pane_7",
    SortNext => "sort_next",
    SortReverse => "sort_reverse",
    ContainerFilter => "container_filter",
    Pane8 => "pane_8",
    Pane9 => "pane_9",
    Search => "search",
    SearchNext => "search_next",
    SearchPrev => "search_prev",
    Filter => "filter",
    Pause => "pause",
    Timestamps => "timestamps",
    Wrap => "wrap",
    HideSource => "hide_source",
    Save => "save",
    JsonView => "json_view",
    Mark => "mark",
    DetailLevel => "detail_level",
    Pane0 => "pane_0",
    Actions => "actions",
    ProjectActions => "project_actions",
    Exec => "exec",
    Inspect => "inspect",
    Palette => "palette",
    Reveal => "reveal",
    Copy => "copy",
    PaneSwarm => "pane_swarm",
    PaneProcesses => "pane_processes",
    KillProcess => "kill_process",
    PaneChanges => "pane_changes",
    PaneFiles => "pane_files",
    CopyOut => "copy_out",
    CopyIn => "copy_in",
    CheckPorts => "check_ports",
    PaneShell => "pane_shell",
    OpenShell => "open_shell",
    ShellFocus => "shell_focus",
    ChartSpan => "chart_span",
    PaneDisk => "pane_disk",
    Prune => "prune",
    PaneCompose => "pane_compose",
    HistoryBack => "history_back",
    HistoryForward => "history_forward",
    HistoryBackMore => "history_back_more",
    HistoryForwardMore => "history_forward_more",
    Live => "live",
    PaneImages => "pane_images",
    PaneVolumes => "pane_volumes",
    PaneNetworks => "pane_networks",
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Action {
    /// The key of the pane this action shows (as the pane list gives it), for the
    /// actions that show one pane.
    pub fn pane_key(self) -> Option<char> {
        Some(match self {
            Action::Pane1 => '1',
            Action::Pane2 => '2',
            Action::Pane3 => '3',
            Action::Pane4 => '4',
            Action::Pane5 => '5',
            Action::Pane6 => '6',
            Action::Pane7 => '7',
            Action::Pane8 => '8',
            Action::Pane9 => '9',
            Action::Pane0 => '0',
            Action::PaneSwarm => 'W',
            Action::PaneProcesses => 'P',
            Action::PaneChanges => 'D',
            Action::PaneFiles => 'F',
            Action::PaneShell => 'T',
            Action::PaneDisk => 'U',
            Action::PaneCompose => 'C',
            Action::PaneImages => 'I',
            Action::PaneVolumes => 'V',
            Action::PaneNetworks => 'O',
            _ => return None,
        })
    }

    /// Whether the action switches panes (a number key, tab).
    pub fn shows_a_pane(self) -> bool {
        matches!(self, Action::NextPane | Action::PrevPane) || self.pane_key().is_some()
    }

    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "show or hide this help",
            Action::Back => "close overlay / back",
            Action::Up => "select previous / map: box above",
            Action::Down => "select next / map: box below",
            Action::Left => "map: box to the left; logs: scroll left; files: up",
            Action::Right => "map: box to the right; logs: scroll right; files: open",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "first",
            Action::Bottom => "last",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::ToggleDetail => "open the selection / full-size detail",
            Action::NextProject => "cycle project filter",
            Action::DetailDown => "scroll detail down",
            Action::DetailUp => "scroll detail up",
            Action::Pane1 => "triage: problems first",
            Action::Pane2 => "map: the live architecture diagram",
            Action::Pane3 => "containers",
            Action::Pane4 => "stats",
            Action::Pane5 => "resources: limits and reservations",
            Action::Pane6 => "health checks",
            Action::Pane7 => "timeline: startup sequence and incident log",
            Action::SortNext => "stats: sort by the next column",
            Action::SortReverse => "stats: reverse the order",
            Action::ContainerFilter => "timeline: only the selected container",
            Action::Pane8 => "logs of the selection, the marked containers or the project",
            Action::Pane9 => "routes: proxy routes and published ports, with verdicts",
            Action::Search => "search: logs by regex, map by name",
            Action::SearchNext => "next match",
            Action::SearchPrev => "previous match",
            Action::Filter => "logs: filter (words, !word hides)",
            Action::Pause => "logs: pause / follow",
            Action::Timestamps => "logs: local time / UTC / no time",
            Action::Wrap => "logs: wrap long lines",
            Action::HideSource => "logs: hide / show this container",
            Action::Save => "logs: save the view to a file",
            Action::JsonView => "logs: JSON of the selected line",
            Action::Mark => "containers: mark for a merged log",
            Action::DetailLevel => "map: detail level (auto, compact, full)",
            Action::Pane0 => "audit: security checks per container",
            Action::Actions => "start / stop / restart / pause / kill / remove the selection",
            Action::ProjectActions => "the same on every container of its project",
            Action::Exec => {
                "a shell in the selection through the docker CLI (portolan steps aside)"
            }
            Action::Inspect => "inspect the selection: its configuration as a tree",
            Action::Palette => "command palette: actions and containers by name",
            Action::Reveal => "inspect: reveal / mask secret values; changes, files: read again",
            Action::Copy => "inspect: copy the value to the clipboard",
            Action::PaneSwarm => "swarm: nodes, services and their tasks",
            Action::PaneProcesses => "processes inside the selection, with CPU and memory",
            Action::KillProcess => {
                "processes: send a signal to the selected one (asks first); shell: close the tab"
            }
            Action::PaneChanges => "changes: what the selection wrote over its image",
            Action::PaneFiles => "files: browse the selection's filesystem, view and copy",
            Action::CopyOut => "files: copy the selection out to a local path",
            Action::CopyIn => "files: copy a local file into the directory shown",
            Action::CheckPorts => "check whether the selection's published ports answer, from here",
            Action::PaneShell => "shell: the shells opened in containers, in tabs (←/→ switch)",
            Action::OpenShell => "open a shell in the selection, in a pane (another in a new tab)",
            Action::ShellFocus => "shell: give the keys to the shell / take them back",
            Action::ChartSpan => "stats: charts over 10 min, 1 h, 24 h or 7 days (from the record)",
            Action::PaneDisk => "disk: what images, containers, volumes and build cache take",
            Action::Prune => "disk: prune, with a preview of exactly what goes and what it frees",
            Action::PaneCompose => "compose: compose commands and image updates, with their output",
            Action::HistoryBack => "time cursor: one minute back (HISTORY, from the record)",
            Action::HistoryForward => "time cursor: one minute forward",
            Action::HistoryBackMore => "time cursor: ten minutes back",
            Action::HistoryForwardMore => "time cursor: ten minutes forward",
            Action::Live => "leave HISTORY: back to the live state",
            Action::PaneImages => "images: their users and layers; remove, pull (a), mark (m)",
            Action::PaneVolumes => "volumes: their users, sizes and orphans; remove (a), mark (m)",
            Action::PaneNetworks => "networks: members and addresses, unused ones; remove (a)",
        }
    }
}

/// The default bindings. Several keys may map to one action (vim keys and arrows).
pub const DEFAULT_BINDINGS: &[(&str, Action)] = &[
    ("q", Action::Quit),
    ("ctrl-c", Action::Quit),
    ("?", Action::Help),
    ("esc", Action::Back),
    ("k", Action::Up),
    ("up", Action::Up),
    ("j", Action::Down),
    ("down", Action::Down),
    ("h", Action::Left),
    ("left", Action::Left),
    ("l", Action::Right),
    ("right", Action::Right),
    ("pageup", Action::PageUp),
    ("ctrl-b", Action::PageUp),
    ("pagedown", Action::PageDown),
    ("ctrl-f", Action::PageDown),
    ("g", Action::Top),
    ("home", Action::Top),
    ("G", Action::Bottom),
    ("end", Action::Bottom),
    ("tab", Action::NextPane),
    ("backtab", Action::PrevPane),
    ("enter", Action::ToggleDetail),
    ("p", Action::NextProject),
    ("J", Action::DetailDown),
    ("K", Action::DetailUp),
    ("1", Action::Pane1),
    ("2", Action::Pane2),
    ("3", Action::Pane3),
    ("4", Action::Pane4),
    ("5", Action::Pane5),
    ("6", Action::Pane6),
    ("7", Action::Pane7),
    ("s", Action::SortNext),
    ("S", Action::SortReverse),
    ("c", Action::ContainerFilter),
    ("8", Action::Pane8),
    ("9", Action::Pane9),
    ("/", Action::Search),
    ("n", Action::SearchNext),
    ("N", Action::SearchPrev),
    ("f", Action::Filter),
    ("space", Action::Pause),
    ("t", Action::Timestamps),
    ("w", Action::Wrap),
    ("x", Action::HideSource),
    ("e", Action::Save),
    ("v", Action::JsonView),
    ("m", Action::Mark),
    ("z", Action::DetailLevel),
    ("0", Action::Pane0),
    ("a", Action::Actions),
    ("A", Action::ProjectActions),
    ("!", Action::Exec),
    ("i", Action::Inspect),
    (":", Action::Palette),
    ("r", Action::Reveal),
    ("y", Action::Copy),
    ("W", Action::PaneSwarm),
    ("P", Action::PaneProcesses),
    ("X", Action::KillProcess),
    ("D", Action::PaneChanges),
    ("F", Action::PaneFiles),
    ("d", Action::CopyOut),
    ("u", Action::CopyIn),
    ("o", Action::CheckPorts),
    ("T", Action::PaneShell),
    ("$", Action::OpenShell),
    // Shells rarely need it (telnet's escape): while a shell has the keys, it is the
    // one key that does not reach the shell.
    ("ctrl-]", Action::ShellFocus),
    (">", Action::ChartSpan),
    ("U", Action::PaneDisk),
    ("R", Action::Prune),
    ("C", Action::PaneCompose),
    ("[", Action::HistoryBack),
    ("]", Action::HistoryForward),
    ("{", Action::HistoryBackMore),
    ("}", Action::HistoryForwardMore),
    ("L", Action::Live),
    ("I", Action::PaneImages),
    ("V", Action::PaneVolumes),
    ("O", Action::PaneNetworks),
];

/// A key with its modifiers, as written in a keymap: `q`, `G`, `ctrl-c`, `alt-x`,
/// `enter`, `pagedown`, `f5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCodeName,
    pub ctrl: bool,
    pub alt: bool,
}

/// The subset of key codes a keymap can name (comparable and printable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeName {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("`{0}` is not a key (try `q`, `ctrl-r`, `enter`, `pagedown`, `f5`)")]
    Unknown(String),
}

impl Key {
    pub fn parse(text: &str) -> Result<Key, KeyError> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 1 && (lower.starts_with("ctrl-") || lower.starts_with("ctrl+")) {
                ctrl = true;
                rest = &rest[5..];
            } else if rest.len() > 1 && (lower.starts_with("alt-") || lower.starts_with("alt+")) {
                alt = true;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCodeName::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCodeName::Enter,
                "esc" | "escape" => KeyCodeName::Esc,
                "tab" => KeyCodeName::Tab,
                "backtab" | "shift-tab" => KeyCodeName::BackTab,
                "backspace" => KeyCodeName::Backspace,
                "delete" | "del" => KeyCodeName::Delete,
                "insert" | "ins" => KeyCodeName::Insert,
                "up" => KeyCodeName::Up,
                "down" => KeyCodeName::Down,
                "left" => KeyCodeName::Left,
                "right" => KeyCodeName::Right,
                "home" => KeyCodeName::Home,
                "end" => KeyCodeName::End,
                "pageup" | "pgup" => KeyCodeName::PageUp,
                "pagedown" | "pgdn" | "pgdown" => KeyCodeName::PageDown,
                "space" => KeyCodeName::Char(' '),
                f if f.starts_with('f') => match f[1..].parse::<u8>() {
                    Ok(n) if (1..=24).contains(&n) => KeyCodeName::F(n),
                    _ => return Err(KeyError::Unknown(text.to_string())),
                },
                _ => return Err(KeyError::Unknown(text.to_string())),
            },
        };
        Ok(Key { code, ctrl, alt })
    }

    /// The key a terminal event stands for; None for keys no keymap can name.
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        let alt = event.modifiers.contains(KeyModifiers::ALT);
        let code = match event.code {
            KeyCode::Char(c) if ctrl => KeyCodeName::Char(control_char(c)),
            KeyCode::Char(c) => KeyCodeName::Char(c),
            KeyCode::F(n) => KeyCodeName::F(n),
            KeyCode::Enter => KeyCodeName::Enter,
            KeyCode::Esc => KeyCodeName::Esc,
            KeyCode::Tab => KeyCodeName::Tab,
            KeyCode::BackTab => KeyCodeName::BackTab,
            KeyCode::Backspace => KeyCodeName::Backspace,
            KeyCode::Delete => KeyCodeName::Delete,
            KeyCode::Insert => KeyCodeName::Insert,
            KeyCode::Up => KeyCodeName::Up,
            KeyCode::Down => KeyCodeName::Down,
            KeyCode::Left => KeyCodeName::Left,
            KeyCode::Right => KeyCodeName::Right,
            KeyCode::Home => KeyCodeName::Home,
            KeyCode::End => KeyCodeName::End,
            KeyCode::PageUp => KeyCodeName::PageUp,
            KeyCode::PageDown => KeyCodeName::PageDown,
            _ => return None,
        };
        Some(Key { code, ctrl, alt })
    }
}

/// A terminal sends ctrl-\, ctrl-], ctrl-^ and ctrl-_ as the bytes 0x1c-0x1f, which
/// crossterm reports as ctrl with `4` to `7`: they are named as typed, so a keymap
/// can say `ctrl-]`.
fn control_char(c: char) -> char {
    match c {
        '4' => '\\',
        '5' => ']',
        '6' => '^',
        '7' => '_',
        c => c.to_ascii_lowercase(),
    }
}

impl Key {
    /// The key as a config file writes it: like [`fmt::Display`], but arrows are
    /// words (`up`) so the text parses back.
    pub fn config_string(&self) -> String {
        let arrow = match self.code {
            KeyCodeName::Up => "up",
            KeyCodeName::Down => "down",
            KeyCodeName::Left => "left",
            KeyCodeName::Right => "right",
            _ => return self.to_string(),
        };
        let mut text = String::new();
        if self.ctrl {
            text.push_str("ctrl-");
        }
        if self.alt {
            text.push_str("alt-");
        }
        text.push_str(arrow);
        text
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCodeName::Char(' ') => f.write_str("space"),
            KeyCodeName::Char(c) => write!(f, "{c}"),
            KeyCodeName::F(n) => write!(f, "f{n}"),
            KeyCodeName::Enter => f.write_str("enter"),
            KeyCodeName::Esc => f.write_str("esc"),
            KeyCodeName::Tab => f.write_str("tab"),
            KeyCodeName::BackTab => f.write_str("shift-tab"),
            KeyCodeName::Backspace => f.write_str("backspace"),
            KeyCodeName::Delete => f.write_str("delete"),
            KeyCodeName::Insert => f.write_str("insert"),
            KeyCodeName::Up => f.write_str("↑"),
            KeyCodeName::Down => f.write_str("↓"),
            KeyCodeName::Left => f.write_str("←"),
            KeyCodeName::Right => f.write_str("→"),
            KeyCodeName::Home => f.write_str("home"),
            KeyCodeName::End => f.write_str("end"),
            KeyCodeName::PageUp => f.write_str("pgup"),
            KeyCodeName::PageDown => f.write_str("pgdn"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: BTreeMap<Key, Action>,
    /// The bindings in the order they were declared: the first key of an action is
    /// the one the footer shows.
    order: Vec<(Key, Action)>,
    /// The config's custom commands (see [`super::commands`]), some with a key.
    pub commands: Vec<CustomCommand>,
}

impl Default for Keymap {
    fn default() -> Self {
        let order: Vec<(Key, Action)> = DEFAULT_BINDINGS
            .iter()
            .filter_map(|(text, action)| Key::parse(text).ok().map(|key| (key, *action)))
            .collect();
        Keymap { bindings: order.iter().copied().collect(), order, commands: Vec::new() }
    }
}

/// Why a set of overrides cannot make a keymap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Clash {
    /// The overrides give one key to two actions; `second` is the later one.
    #[error("`{key}` is already bound to `{first}`", key = key.config_string())]
    Twice { key: Key, first: Action, second: Action },
    /// An override takes the only key of an action it does not mention, which would
    /// leave that action unreachable without a word.
    #[error(
        "`{key}` is `{default}`'s only key; give `{default}` another key too (or `{default} = []` to leave it unbound)",
        key = key.config_string()
    )]
    Orphans { key: Key, action: Action, default: Action },
}

impl Keymap {
    /// The defaults with some actions rebound. Semantics, as `--print-config` states:
    /// - an action named in the overrides gets exactly the keys given (its default
    ///   keys are dropped; an empty list unbinds it);
    /// - a key given to two actions is a clash;
    /// - a key given to an action that is the default key of another, unnamed action
    ///   moves: the other action keeps its remaining keys, and if it had no other key
    ///   that is a clash too, so no action disappears silently.
    ///
    /// Overrides are in file order, which decides which side of a clash is reported.
    pub fn with_overrides(overrides: &[(Action, Vec<Key>)]) -> Result<Keymap, Clash> {
        let mut given: BTreeMap<Key, Action> = BTreeMap::new();
        for (action, keys) in overrides {
            for key in keys {
                match given.get(key) {
                    Some(first) if first != action => {
                        return Err(Clash::Twice { key: *key, first: *first, second: *action });
                    }
                    _ => {
                        given.insert(*key, *action);
                    }
                }
            }
        }
        let overridden = |action: Action| overrides.iter().any(|(a, _)| *a == action);
        let defaults = Keymap::default();
        let mut order: Vec<(Key, Action)> = Vec::new();
        let mut seen: Vec<Action> = Vec::new();
        for (_, action) in &defaults.order {
            if seen.contains(action) {
                continue;
            }
            seen.push(*action);
            if overridden(*action) {
                continue;
            }
            let kept: Vec<Key> = defaults
                .keys_for(*action)
                .into_iter()
                .filter(|key| !given.contains_key(key))
                .collect();
            if kept.is_empty()
                && let Some((key, taker)) = given
                    .iter()
                    .find(|(key, _)| defaults.bindings.get(key) == Some(action))
                    .map(|(k, a)| (*k, *a))
            {
                return Err(Clash::Orphans { key, action: taker, default: *action });
            }
            order.extend(kept.into_iter().map(|key| (key, *action)));
        }
        // A rebound action's keys keep the order written, so the footer shows the
        // first key the operator chose.
        for (action, keys) in overrides {
            for key in keys {
                if !order.contains(&(*key, *action)) {
                    order.push((*key, *action));
                }
            }
        }
        Ok(Keymap { bindings: order.iter().copied().collect(), order, commands: Vec::new() })
    }

    /// This keymap with the custom commands bound to their keys. A key an action
    /// or an earlier command has is a clash, said in words with the index of the
    /// command at fault.
    pub fn with_commands(
        mut self,
        commands: Vec<CustomCommand>,
    ) -> Result<Keymap, (usize, String)> {
        for (index, command) in commands.iter().enumerate() {
            let Some(key) = command.key else { continue };
            if let Some(action) = self.bindings.get(&key) {
                return Err((
                    index,
                    format!("`{}` is already bound to `{action}`", key.config_string()),
                ));
            }
            if let Some(other) = commands[..index].iter().find(|c| c.key == Some(key)) {
                return Err((
                    index,
                    format!(
                        "`{}` is already the key of the command `{}`",
                        key.config_string(),
                        other.name
                    ),
                ));
            }
        }
        self.commands = commands;
        Ok(self)
    }

    /// The custom command a key runs, by its index in [`Keymap::commands`].
    pub fn command(&self, event: &KeyEvent) -> Option<usize> {
        let key = Key::from_event(event)?;
        self.commands.iter().position(|c| c.key == Some(key))
    }

    pub fn action(&self, event: &KeyEvent) -> Option<Action> {
        Key::from_event(event).and_then(|key| self.bindings.get(&key).copied())
    }

    /// The keys bound to an action, in a stable order, for the footer and help.
    pub fn keys_for(&self, action: Action) -> Vec<Key> {
        self.order.iter().filter(|(_, a)| *a == action).map(|(k, _)| *k).collect()
    }

    /// The first key for an action as text ("?" for unbound).
    pub fn label(&self, action: Action) -> String {
        self.keys_for(action).first().map_or_else(|| "?".to_string(), Key::to_string)
    }

    /// Every action with its keys, for the help overlay.
    pub fn describe(&self) -> Vec<(Action, Vec<Key>)> {
        let mut actions: Vec<Action> = self.bindings.values().copied().collect();
        actions.sort();
        actions.dedup();
        actions.into_iter().map(|a| (a, self.keys_for(a))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn parses_key_strings() {
        assert_eq!(
            Key::parse("ctrl-c").expect("ok"),
            Key { code: KeyCodeName::Char('c'), ctrl: true, alt: false }
        );
        assert_eq!(Key::parse("G").expect("ok").code, KeyCodeName::Char('G'));
        assert_eq!(Key::parse("PageDown").expect("ok").code, KeyCodeName::PageDown);
        assert_eq!(Key::parse("f5").expect("ok").code, KeyCodeName::F(5));
        assert_eq!(Key::parse("-").expect("ok").code, KeyCodeName::Char('-'));
        assert!(Key::parse("ctrl-").is_err());
        assert_eq!(
            Key::parse("alt-x").expect("ok"),
            Key { code: KeyCodeName::Char('x'), ctrl: false, alt: true }
        );
        assert!(Key::parse("hyper-x").is_err());
        assert!(Key::parse("f99").is_err());
    }

    #[test]
    fn defaults_cover_vim_and_arrows() {
        let keymap = Keymap::default();
        assert_eq!(
            keymap.action(&press(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(keymap.action(&press(KeyCode::Down, KeyModifiers::NONE)), Some(Action::Down));
        assert_eq!(
            keymap.action(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.action(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(keymap.action(&press(KeyCode::Char('%'), KeyModifiers::NONE)), None);
        // ctrl-] as crossterm reads it from a terminal, and as a kitty keyboard says it.
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(keymap.action(&press(KeyCode::Char('5'), ctrl)), Some(Action::ShellFocus));
        assert_eq!(keymap.action(&press(KeyCode::Char(']'), ctrl)), Some(Action::ShellFocus));
        assert_eq!(DEFAULT_BINDINGS.len(), keymap.bindings.len(), "no default key is bound twice");
    }

    #[test]
    fn keys_print_as_they_parse() {
        for (text, _) in DEFAULT_BINDINGS {
            let key = Key::parse(text).expect("default parses");
            let shown = key.to_string();
            if !matches!(
                key.code,
                KeyCodeName::Up | KeyCodeName::Down | KeyCodeName::Left | KeyCodeName::Right
            ) {
                assert_eq!(Key::parse(&shown).expect("round trip"), key, "{text}");
            }
        }
    }

    fn key(text: &str) -> Key {
        Key::parse(text).expect("key")
    }

    #[test]
    fn action_names_round_trip_and_cover_the_defaults() {
        for action in Action::ALL {
            assert_eq!(Action::from_name(action.name()), Some(*action));
            assert!(
                action
                    .name()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                action.name()
            );
        }
        for (_, action) in DEFAULT_BINDINGS {
            assert!(Action::ALL.contains(action), "{action:?} missing from Action::ALL");
        }
        assert_eq!(Action::from_name("pane_1"), Some(Action::Pane1));
        assert_eq!(Action::from_name("Quit"), None);
    }

    #[test]
    fn config_strings_parse_back() {
        for (text, _) in DEFAULT_BINDINGS {
            let k = key(text);
            assert_eq!(Key::parse(&k.config_string()).expect("parses"), k, "{text}");
        }
        assert_eq!(key("ctrl-up").config_string(), "ctrl-up");
    }

    #[test]
    fn overrides_replace_an_actions_keys_and_move_stolen_keys() {
        let keymap = Keymap::with_overrides(&[
            (Action::Quit, vec![key("ctrl-q")]),
            (Action::Search, vec![key("ctrl-s"), key("/")]),
        ])
        .expect("no clash");
        let ctrl_q = press(KeyCode::Char('q'), KeyModifiers::CONTROL);
        assert_eq!(keymap.action(&ctrl_q), Some(Action::Quit));
        assert_eq!(keymap.action(&press(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert_eq!(keymap.action(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)), None);
        assert_eq!(keymap.label(Action::Quit), "ctrl-q");
        assert_eq!(keymap.label(Action::Search), "ctrl-s");
        assert_eq!(
            keymap.action(&press(KeyCode::Char('/'), KeyModifiers::NONE)),
            Some(Action::Search)
        );

        // `k` moves from up to help; up keeps its arrow.
        let keymap = Keymap::with_overrides(&[(Action::Help, vec![key("k")])]).expect("ok");
        assert_eq!(
            keymap.action(&press(KeyCode::Char('k'), KeyModifiers::NONE)),
            Some(Action::Help)
        );
        assert_eq!(keymap.keys_for(Action::Up), vec![key("up")]);
        assert_eq!(keymap.action(&press(KeyCode::Char('?'), KeyModifiers::NONE)), None);

        // An empty list unbinds.
        let keymap = Keymap::with_overrides(&[(Action::Exec, vec![])]).expect("ok");
        assert!(keymap.keys_for(Action::Exec).is_empty());
        assert_eq!(keymap.label(Action::Exec), "?");
    }

    #[test]
    fn clashes_are_refused() {
        assert_eq!(
            Keymap::with_overrides(&[
                (Action::Quit, vec![key("x")]),
                (Action::Help, vec![key("x")]),
            ])
            .expect_err("twice"),
            Clash::Twice { key: key("x"), first: Action::Quit, second: Action::Help }
        );
        let err = Keymap::with_overrides(&[(Action::Quit, vec![key("s")])]).expect_err("orphan");
        assert_eq!(
            err,
            Clash::Orphans { key: key("s"), action: Action::Quit, default: Action::SortNext }
        );
        assert_eq!(
            err.to_string(),
            "`s` is `sort_next`'s only key; give `sort_next` another key too (or `sort_next = []` to leave it unbound)"
        );
        // Rebinding the other action too resolves it.
        Keymap::with_overrides(&[
            (Action::Quit, vec![key("s")]),
            (Action::SortNext, vec![key("b")]),
        ])
        .expect("resolved");
    }
}

/// One `[[commands]]` entry, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomCommand {
    pub name: String,
    pub key: Option<Key>,
    /// The line with its placeholders, as written.
    pub command: String,
    /// Ask before running it.
    pub confirm: bool,
}
