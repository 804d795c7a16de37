//! Themes: semantic style slots loaded from TOML.
//!
//! The built-in themes are the files in `themes/`, embedded at build time. A user
//! theme names a base and overrides any subset of slots; a bad file is an error that
//! names the file, line and slot, never a silent fallback.

use std::collections::BTreeMap;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

macro_rules! slots {
    ($($variant:ident => $name:literal,)*) => {
        /// A semantic style slot. Panes ask for meanings, never for colours.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Slot { $($variant,)* }

        impl Slot {
            pub const ALL: &'static [Slot] = &[$(Slot::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(Slot::$variant => $name,)* }
            }

            pub fn from_name(name: &str) -> Option<Slot> {
                match name { $($name => Some(Slot::$variant),)* _ => None }
            }
        }
    };
}

slots! {
    Base => "base",
    Muted => "muted",
    Accent => "accent",
    Title => "title",
    TitleFocused => "title.focused",
    Border => "border",
    BorderFocused => "border.focused",
    Header => "header",
    HeaderBrand => "header.brand",
    HeaderBad => "header.bad",
    HeaderGood => "header.good",
    Footer => "footer",
    FooterKey => "footer.key",
    Selection => "selection",
    Group => "group",
    Label => "label",
    Value => "value",
    StateRunning => "state.running",
    StatePaused => "state.paused",
    StateRestarting => "state.restarting",
    StateExited => "state.exited",
    StateExitedOk => "state.exited_ok",
    StateCreated => "state.created",
    StateDead => "state.dead",
    HealthHealthy => "health.healthy",
    HealthUnhealthy => "health.unhealthy",
    HealthStarting => "health.starting",
    HealthNone => "health.none",
    Warning => "warning",
    Error => "error",
    Ok => "ok",
    GaugeLow => "gauge.low",
    GaugeMid => "gauge.mid",
    GaugeHigh => "gauge.high",
    Overlay => "overlay",
    LogTime => "log.time",
    LogStderr => "log.stderr",
    LogError => "log.error",
    LogWarn => "log.warn",
    LogDebug => "log.debug",
    LogMatch => "log.match",
    LogSource0 => "log.source.0",
    LogSource1 => "log.source.1",
    LogSource2 => "log.source.2",
    LogSource3 => "log.source.3",
    LogSource4 => "log.source.4",
    LogSource5 => "log.source.5",
    MapHost => "map.host",
    MapNetwork => "map.network",
    MapBox => "map.box",
    MapVolume => "map.volume",
    MapEdgeDependsOn => "map.edge.depends_on",
    MapEdgeConnection => "map.edge.connection",
    MapEdgeIngress => "map.edge.ingress",
    MapEdgeRoute => "map.edge.route",
    MapEdgeBroken => "map.edge.broken",
}

pub const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    styles: Vec<Style>,
    canvas: Canvas,
}

/// What `reset` stands for where portolan paints the picture itself (SVG snapshots):
/// there the terminal's own default colours are unknown, so a theme names the ones it
/// was designed on. Always plain RGB so the export needs no palette to resolve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canvas {
    pub fg: (u8, u8, u8),
    pub bg: (u8, u8, u8),
}

impl Canvas {
    /// A dark terminal: the canvas of a theme file that names none and has no base.
    pub const DARK: Canvas = Canvas { fg: (0xd4, 0xd4, 0xd4), bg: (0x1b, 0x1e, 0x24) };

    /// Whether the background is light, judged by its luma.
    pub fn is_light(self) -> bool {
        let (r, g, b) = self.bg;
        299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) > 128 * 1000
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ThemeError {
    #[error("unknown theme `{0}` (built in: dark, light, mono; or a path to a .toml file)")]
    Unknown(String),
    #[error("{file}: cannot read: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}:{line}: {reason}")]
    Invalid { file: String, line: usize, reason: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    /// A user theme starts from this built-in theme (default: dark).
    base: Option<String>,
    /// The default foreground and background as `#rrggbb`, for SVG snapshots.
    canvas: Option<CanvasSpec>,
    #[serde(default)]
    slots: BTreeMap<String, SlotSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CanvasSpec {
    fg: String,
    bg: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SlotSpec {
    Color(String),
    Full(StyleSpec),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underlined: bool,
    #[serde(default)]
    reversed: bool,
}

/// Parses `red`, `lightblue`, `darkgray`, `reset`, `#1e90ff`, `color208`.
pub fn parse_color(value: &str) -> Option<Color> {
    let lower = value.trim().to_ascii_lowercase();
    let named = match lower.replace(['_', '-', ' '], "").as_str() {
        "reset" | "default" | "none" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "darkgray" | "darkgrey" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        other => {
            if let Some(hex) = other.strip_prefix('#') {
                if hex.len() != 6 {
                    return None;
                }
                let n = u32::from_str_radix(hex, 16).ok()?;
                return Some(Color::Rgb((n >> 16) as u8, (n >> 8) as u8, n as u8));
            }
            if let Some(index) = other.strip_prefix("color") {
                return index.parse::<u8>().ok().map(Color::Indexed);
            }
            return None;
        }
    };
    Some(named)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).map_or(1, |i| i + 1)
}

impl Theme {
    /// A built-in theme by name, or a theme file by path.
    pub fn load(name_or_path: &str) -> Result<Theme, ThemeError> {
        if let Some((_, text)) = BUILT_IN.iter().find(|(name, _)| *name == name_or_path) {
            return Theme::parse(text, &format!("themes/{name_or_path}.toml"), None);
        }
        let path = Path::new(name_or_path);
        if path.extension().is_some_and(|e| e == "toml") || path.exists() {
            let text = std::fs::read_to_string(path).map_err(|e| ThemeError::Read {
                file: path.display().to_string(),
                reason: e.to_string(),
            })?;
            return Theme::parse(&text, &path.display().to_string(), None);
        }
        Err(ThemeError::Unknown(name_or_path.to_string()))
    }

    /// The built-in `dark`, `light` or `mono`; falls back to an unstyled theme only
    /// if the embedded file were broken, which a unit test rules out.
    pub fn built_in(name: &str) -> Theme {
        Theme::load(name).unwrap_or_else(|_| Theme {
            name: name.to_string(),
            styles: vec![Style::default(); Slot::ALL.len()],
            canvas: Canvas::DARK,
        })
    }

    /// Parses a theme file. Slots it does not set come from its `base` (or `fallback`).
    pub fn parse(text: &str, file: &str, fallback: Option<&Theme>) -> Result<Theme, ThemeError> {
        let parsed: ThemeFile = toml::from_str(text).map_err(|e| ThemeError::Invalid {
            file: file.to_string(),
            line: e
                .span()
                .map_or(1, |span| text[..span.start.min(text.len())].lines().count().max(1)),
            reason: e.message().to_string(),
        })?;
        let base = match (&parsed.base, fallback) {
            (Some(base), _) => {
                let Some((_, base_text)) = BUILT_IN.iter().find(|(n, _)| n == base) else {
                    return Err(ThemeError::Invalid {
                        file: file.to_string(),
                        line: line_of(text, "base"),
                        reason: format!("unknown base theme `{base}` (dark, light, mono)"),
                    });
                };
                Some(Theme::parse(base_text, base, None)?)
            }
            (None, Some(fallback)) => Some(fallback.clone()),
            (None, None) => None,
        };
        let mut canvas = base.as_ref().map_or(Canvas::DARK, |b| b.canvas);
        if let Some(spec) = &parsed.canvas {
            let rgb = |value: &str| match parse_color(value) {
                Some(Color::Rgb(r, g, b)) => Ok((r, g, b)),
                _ => Err(ThemeError::Invalid {
                    file: file.to_string(),
                    line: line_of(text, "canvas"),
                    reason: format!("canvas: `{value}` is not a #rrggbb colour"),
                }),
            };
            canvas = Canvas { fg: rgb(&spec.fg)?, bg: rgb(&spec.bg)? };
        }
        let mut styles =
            base.map(|b| b.styles).unwrap_or_else(|| vec![Style::default(); Slot::ALL.len()]);
        for (name, spec) in &parsed.slots {
            let invalid = |reason: String| ThemeError::Invalid {
                file: file.to_string(),
                line: line_of(text, &format!("\"{name}\"")),
                reason,
            };
            let slot =
                Slot::from_name(name).ok_or_else(|| invalid(format!("unknown slot `{name}`")))?;
            let color = |value: &str| {
                parse_color(value)
                    .ok_or_else(|| invalid(format!("slot `{name}`: `{value}` is not a colour")))
            };
            let style = match spec {
                SlotSpec::Color(fg) => Style::default().fg(color(fg)?),
                SlotSpec::Full(spec) => {
                    let mut style = Style::default();
                    if let Some(fg) = &spec.fg {
                        style = style.fg(color(fg)?);
                    }
                    if let Some(bg) = &spec.bg {
                        style = style.bg(color(bg)?);
                    }
                    let mut modifiers = Modifier::empty();
                    for (on, modifier) in [
                        (spec.bold, Modifier::BOLD),
                        (spec.dim, Modifier::DIM),
                        (spec.italic, Modifier::ITALIC),
                        (spec.underlined, Modifier::UNDERLINED),
                        (spec.reversed, Modifier::REVERSED),
                    ] {
                        if on {
                            modifiers |= modifier;
                        }
                    }
                    style.add_modifier(modifiers)
                }
            };
            styles[slot as usize] = style;
        }
        Ok(Theme { name: parsed.name.unwrap_or_else(|| file.to_string()), styles, canvas })
    }

    /// The colours `reset` stands for outside a terminal.
    pub fn canvas(&self) -> Canvas {
        self.canvas
    }

    pub fn style(&self, slot: Slot) -> Style {
        self.styles[slot as usize]
    }

    /// A selected line: the selection style laid over every span, not under them, so
    /// no span keeps its own colour on the selection bar (a cyan title on the dark
    /// theme's cyan bar vanishes).
    pub fn selected<'a>(&self, line: ratatui::text::Line<'a>) -> ratatui::text::Line<'a> {
        let selection = self.style(Slot::Selection);
        let mut line = line.patch_style(selection);
        for span in &mut line.spans {
            span.style = span.style.patch(selection);
        }
        line
    }

    pub fn border(&self, focused: bool) -> Style {
        self.style(if focused { Slot::BorderFocused } else { Slot::Border })
    }

    pub fn title(&self, focused: bool) -> Style {
        self.style(if focused { Slot::TitleFocused } else { Slot::Title })
    }

    pub fn state(&self, container: &crate::model::Container) -> Style {
        use crate::model::ContainerState as S;
        self.style(match container.state {
            S::Running => Slot::StateRunning,
            S::Paused => Slot::StatePaused,
            S::Restarting => Slot::StateRestarting,
            S::Exited if container.exit_code == Some(0) && !container.oom_killed => {
                Slot::StateExitedOk
            }
            S::Exited => Slot::StateExited,
            S::Created | S::Removing => Slot::StateCreated,
            S::Dead | S::Unknown => Slot::StateDead,
        })
    }

    pub fn health(&self, status: crate::model::HealthStatus) -> Style {
        use crate::model::HealthStatus as H;
        self.style(match status {
            H::Healthy => Slot::HealthHealthy,
            H::Unhealthy => Slot::HealthUnhealthy,
            H::Starting => Slot::HealthStarting,
            H::None => Slot::HealthNone,
        })
    }

    /// Colours a gauge by how full it is (0–100).
    pub fn gauge(&self, percent: f64) -> Style {
        self.style(if percent >= 90.0 {
            Slot::GaugeHigh
        } else if percent >= 80.0 {
            Slot::GaugeMid
        } else {
            Slot::GaugeLow
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_parses_and_sets_every_slot() {
        for (name, text) in BUILT_IN {
            let theme = Theme::parse(text, name, None).expect("built-in theme parses");
            let parsed: toml::Table = toml::from_str(text).expect("toml");
            let slots = parsed["slots"].as_table().expect("slots table");
            for slot in Slot::ALL {
                assert!(slots.contains_key(slot.name()), "{name} misses slot {}", slot.name());
            }
            assert_eq!(theme.name, *name);
        }
    }

    #[test]
    fn mono_uses_no_colour_and_keeps_selection_visible() {
        let mono = Theme::built_in("mono");
        for slot in Slot::ALL {
            let style = mono.style(*slot);
            assert!(matches!(style.fg, None | Some(Color::Reset)), "{} has a colour", slot.name());
            assert!(matches!(style.bg, None | Some(Color::Reset)), "{} has a colour", slot.name());
        }
        assert!(mono.style(Slot::Selection).add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn user_theme_overrides_a_subset() {
        let text = "base = \"dark\"\n[slots]\n\"selection\" = { fg = \"#ff0000\", bold = true }\n";
        let theme = Theme::parse(text, "mine.toml", None).expect("parses");
        assert_eq!(theme.style(Slot::Selection).fg, Some(Color::Rgb(255, 0, 0)));
        assert_eq!(
            theme.style(Slot::StateRunning),
            Theme::built_in("dark").style(Slot::StateRunning)
        );
    }

    #[test]
    fn bad_themes_name_file_line_and_slot() {
        let err = Theme::parse("[slots]\n\"bogus.slot\" = \"red\"\n", "t.toml", None)
            .expect_err("bad slot");
        assert_eq!(err.to_string(), "t.toml:2: unknown slot `bogus.slot`");
        let err = Theme::parse("[slots]\n\"muted\" = \"mauve\"\n", "t.toml", None)
            .expect_err("bad colour");
        assert_eq!(err.to_string(), "t.toml:2: slot `muted`: `mauve` is not a colour");
        let err = Theme::parse("[slots\n", "t.toml", None).expect_err("bad toml");
        assert!(err.to_string().starts_with("t.toml:1:"), "{err}");
        assert_eq!(Theme::load("nope"), Err(ThemeError::Unknown("nope".into())));
    }

    #[test]
    fn canvas_comes_from_the_file_or_its_base() {
        assert!(Theme::built_in("light").canvas().is_light());
        assert!(!Theme::built_in("dark").canvas().is_light());
        assert!(!Theme::built_in("mono").canvas().is_light());
        let mine = Theme::parse("base = \"light\"\n", "mine.toml", None).expect("parses");
        assert_eq!(mine.canvas(), Theme::built_in("light").canvas());
        let mine = Theme::parse("canvas = { fg = \"#000000\", bg = \"#ffffff\" }\n", "m", None)
            .expect("parses");
        assert_eq!(mine.canvas(), Canvas { fg: (0, 0, 0), bg: (255, 255, 255) });
        let err = Theme::parse("canvas = { fg = \"red\", bg = \"#ffffff\" }\n", "t.toml", None)
            .expect_err("named colour");
        assert_eq!(err.to_string(), "t.toml:1: canvas: `red` is not a #rrggbb colour");
    }

    #[test]
    fn selected_lines_override_span_colours() {
        use ratatui::text::{Line, Span};
        let dark = Theme::built_in("dark");
        let line = Line::from(vec![
            Span::styled("web", dark.style(Slot::Title)),
            Span::styled(" (shop)", dark.style(Slot::Muted)),
        ]);
        let line = dark.selected(line);
        let selection = dark.style(Slot::Selection);
        assert_eq!(line.style.bg, selection.bg);
        for span in &line.spans {
            assert_eq!((span.style.fg, span.style.bg), (selection.fg, selection.bg));
        }
    }

    #[test]
    fn colours_parse() {
        assert_eq!(parse_color("LightBlue"), Some(Color::LightBlue));
        assert_eq!(parse_color("dark_gray"), Some(Color::DarkGray));
        assert_eq!(parse_color("color208"), Some(Color::Indexed(208)));
        assert_eq!(parse_color("#12345"), None);
    }
}
