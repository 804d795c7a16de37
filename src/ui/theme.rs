//! Themes: semantic style slots loaded from TOML.
//!
//! The built-in themes are the files in `themes/`, embedded at build time. A user
//! theme names a base and overrides any subset of slots; a bad file is an error that
//! names the file, line and slot, never a silent fallback.

use std::collections::BTreeMap;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
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
    History => "history",
}

pub const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

fn built_in_names() -> String {
    BUILT_IN.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
}

fn built_in_text(name: &str) -> Option<&'static str> {
    BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

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

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ThemeError {
    #[error(
        "unknown theme `{0}` (built in: {list}; or NAME for <config dir>/themes/NAME.toml, or a path to a .toml file)",
        list = built_in_names()
    )]
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
    /// A user theme starts from this built-in theme (default: the built-in theme of
    /// the same name, else dark). `extends` reads better in a user file.
    #[serde(alias = "extends")]
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
        Theme::resolve(name_or_path, None)
    }

    /// A theme by name or path. A plain name is looked up first in `user_dir`
    /// (`<config dir>/themes/NAME.toml`), so a user file named like a built-in
    /// adjusts that built-in; then among the built-ins; anything else is a path.
    /// A user file's unset slots come from its `extends` (or `base`) theme, by
    /// default the built-in of the same name, else dark.
    pub fn resolve(name_or_path: &str, user_dir: Option<&Path>) -> Result<Theme, ThemeError> {
        let plain = !name_or_path.is_empty()
            && !name_or_path.contains(['/', '\\'])
            && !name_or_path.ends_with(".toml");
        if plain && let Some(dir) = user_dir {
            let path = dir.join(format!("{name_or_path}.toml"));
            if path.is_file() {
                return Theme::parse_user_file(&path, name_or_path);
            }
        }
        if let Some(text) = built_in_text(name_or_path) {
            return Theme::parse(text, &format!("themes/{name_or_path}.toml"), None);
        }
        let path = Path::new(name_or_path);
        if !plain || path.exists() {
            return Theme::parse_user_file(path, name_or_path);
        }
        Err(ThemeError::Unknown(name_or_path.to_string()))
    }

    fn parse_user_file(path: &Path, name: &str) -> Result<Theme, ThemeError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ThemeError::Read { file: file.clone(), reason: e.to_string() })?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or(name);
        let fallback = Theme::built_in(if built_in_text(stem).is_some() { stem } else { "dark" });
        let mut theme = Theme::parse(&text, &file, Some(&fallback))?;
        if theme.name == file {
            theme.name = stem.to_string();
        }
        Ok(theme)
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
                let Some(base_text) = built_in_text(base) else {
                    let line = text
                        .lines()
                        .position(|l| {
                            let l = l.trim_start();
                            l.starts_with("base") || l.starts_with("extends")
                        })
                        .map_or(1, |i| i + 1);
                    return Err(ThemeError::Invalid {
                        file: file.to_string(),
                        line,
                        reason: format!(
                            "unknown base theme `{base}` (built in: {})",
                            built_in_names()
                        ),
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

    /// A selected line. The selection's colours win over the spans' own: a span
    /// coloured like the selection's background would otherwise vanish.
    pub fn selected<'a>(&self, line: Line<'a>) -> Line<'a> {
        let selection = self.style(Slot::Selection);
        let spans = line
            .spans
            .into_iter()
            .map(|span| {
                let style = span.style.patch(selection);
                span.style(style)
            })
            .collect();
        Line { spans, style: line.style.patch(selection), ..line }
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

/// The 16 ANSI colours as xterm draws them: the reference for "nearest" and for
/// contrast checks. Real terminals vary, which is why the built-in themes name
/// these colours rather than RGB.
const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// Whether the terminal announces more than the 16 ANSI colours: `COLORTERM` says
/// `truecolor` or `24bit`, or `TERM` names a 256-colour or direct-colour entry.
/// Anything else gets the 16-colour fallback, which is always safe.
pub fn announces_more_than_16(colorterm: Option<&str>, term: Option<&str>) -> bool {
    let colorterm = colorterm.unwrap_or_default().to_ascii_lowercase();
    let term = term.unwrap_or_default().to_ascii_lowercase();
    colorterm == "truecolor"
        || colorterm == "24bit"
        || term.contains("256color")
        || term.contains("direct")
}

/// A colour's approximate RGB (xterm's palette for the 16 and the 256-colour
/// cube); None for the terminal's default colour.
pub fn approximate_rgb(color: Color) -> Option<(u8, u8, u8)> {
    match color {
        Color::Reset => None,
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(i) if i < 16 => Some(ANSI16[usize::from(i)].1),
        Color::Indexed(i) if i < 232 => {
            let level = |n: u8| if n == 0 { 0 } else { 55 + 40 * n };
            let n = i - 16;
            Some((level(n / 36), level(n / 6 % 6), level(n % 6)))
        }
        Color::Indexed(i) => {
            let grey = 8 + 10 * (i - 232);
            Some((grey, grey, grey))
        }
        named => ANSI16.iter().find(|(c, _)| *c == named).map(|(_, rgb)| *rgb),
    }
}

/// The nearest of the 16 ANSI colours, for terminals that announce no more.
/// Named colours and the default colour are kept as they are.
pub fn nearest_ansi16(color: Color) -> Color {
    let rgb = match color {
        Color::Rgb(..) | Color::Indexed(_) => approximate_rgb(color),
        _ => None,
    };
    let Some((r, g, b)) = rgb else { return color };
    if let Color::Indexed(i) = color
        && i < 16
    {
        return ANSI16[usize::from(i)].0;
    }
    // "Redmean" weighting: cheap, and closer to what the eye sees than plain RGB
    // distance, which sends dark blues to black and oranges to green.
    let distance = |(r2, g2, b2): (u8, u8, u8)| {
        let mean = (i64::from(r) + i64::from(r2)) / 2;
        let (dr, dg, db) = (
            i64::from(r) - i64::from(r2),
            i64::from(g) - i64::from(g2),
            i64::from(b) - i64::from(b2),
        );
        (((512 + mean) * dr * dr) >> 8) + 4 * dg * dg + (((767 - mean) * db * db) >> 8)
    };
    ANSI16.iter().min_by_key(|(_, rgb)| distance(*rgb)).map_or(color, |(c, _)| *c)
}

impl Theme {
    /// The same theme with every colour moved to the nearest of the 16 ANSI colours.
    pub fn to_ansi16(&self) -> Theme {
        let map = |c: Option<Color>| c.map(nearest_ansi16);
        Theme {
            name: self.name.clone(),
            styles: self
                .styles
                .iter()
                .map(|s| Style {
                    fg: map(s.fg),
                    bg: map(s.bg),
                    underline_color: map(s.underline_color),
                    ..*s
                })
                .collect(),
            canvas: self.canvas,
        }
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

    fn luminance(rgb: (u8, u8, u8)) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(rgb.0) + 0.7152 * channel(rgb.1) + 0.0722 * channel(rgb.2)
    }

    fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn high_contrast_reaches_wcag_aa_in_every_slot() {
        let theme = Theme::built_in("high-contrast");
        let base = theme.style(Slot::Base);
        for slot in Slot::ALL {
            let style = theme.style(*slot);
            let fg = style.fg.and_then(approximate_rgb).or(base.fg.and_then(approximate_rgb));
            let bg = style.bg.and_then(approximate_rgb).or(base.bg.and_then(approximate_rgb));
            let (Some(fg), Some(bg)) = (fg, bg) else {
                panic!("{} leaves a colour to the terminal", slot.name());
            };
            let ratio = contrast(fg, bg);
            assert!(ratio >= 4.5, "{}: contrast {ratio:.1}", slot.name());
            assert!(!style.add_modifier.contains(Modifier::DIM), "{} is dim", slot.name());
        }
        assert!(theme.style(Slot::Selection).bg.is_some(), "selection stands out");
    }

    #[test]
    fn nearest_ansi16_maps_rgb_and_indexed() {
        assert_eq!(nearest_ansi16(Color::Rgb(0, 0, 0)), Color::Black);
        assert_eq!(nearest_ansi16(Color::Rgb(250, 250, 250)), Color::White);
        assert_eq!(nearest_ansi16(Color::Rgb(30, 144, 255)), Color::LightBlue);
        assert_eq!(nearest_ansi16(Color::Rgb(200, 10, 10)), Color::Red);
        assert_eq!(nearest_ansi16(Color::Rgb(0x1e, 0x1e, 0x2e)), Color::Black);
        assert_eq!(nearest_ansi16(Color::Rgb(128, 128, 128)), Color::DarkGray);
        assert_eq!(nearest_ansi16(Color::Indexed(9)), Color::LightRed);
        assert_eq!(nearest_ansi16(Color::Indexed(196)), Color::LightRed);
        assert_eq!(nearest_ansi16(Color::Indexed(46)), Color::LightGreen);
        assert_eq!(nearest_ansi16(Color::Indexed(232)), Color::Black);
        assert_eq!(nearest_ansi16(Color::Indexed(255)), Color::Gray);
        assert_eq!(nearest_ansi16(Color::Cyan), Color::Cyan);
        assert_eq!(nearest_ansi16(Color::Reset), Color::Reset);
        assert_eq!(approximate_rgb(Color::Indexed(16)), Some((0, 0, 0)));
        assert_eq!(approximate_rgb(Color::Indexed(231)), Some((255, 255, 255)));
    }

    #[test]
    fn ansi16_theme_keeps_attributes_and_drops_rgb() {
        let text = "extends = \"dark\"\n[slots]\n\"selection\" = { fg = \"#101010\", bg = \"color214\", bold = true }\n";
        let theme = Theme::parse(text, "t.toml", None).expect("parses").to_ansi16();
        let selection = theme.style(Slot::Selection);
        assert_eq!(selection.fg, Some(Color::Black));
        assert_eq!(selection.bg, Some(Color::Yellow));
        assert!(selection.add_modifier.contains(Modifier::BOLD));
        assert_eq!(Theme::built_in("dark").to_ansi16(), Theme::built_in("dark"));
    }

    #[test]
    fn terminal_colour_announcements() {
        assert!(announces_more_than_16(Some("truecolor"), Some("xterm")));
        assert!(announces_more_than_16(Some("24bit"), None));
        assert!(announces_more_than_16(None, Some("xterm-256color")));
        assert!(announces_more_than_16(None, Some("xterm-direct")));
        assert!(!announces_more_than_16(None, Some("xterm")));
        assert!(!announces_more_than_16(Some(""), Some("linux")));
        assert!(!announces_more_than_16(None, None));
    }

    #[test]
    fn user_themes_come_from_the_config_directory() {
        let dir = std::env::temp_dir().join(format!("portolan-themes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(
            dir.join("ocean.toml"),
            "extends = \"light\"\n[slots]\n\"border\" = \"#0000ff\"\n",
        )
        .expect("write");
        std::fs::write(dir.join("mono.toml"), "[slots]\n\"selection\" = { underlined = true }\n")
            .expect("write");
        std::fs::write(dir.join("broken.toml"), "[slots]\n\n\"log.eror\" = \"red\"\n")
            .expect("write");

        let ocean = Theme::resolve("ocean", Some(&dir)).expect("ocean");
        assert_eq!(ocean.name, "ocean");
        assert_eq!(ocean.style(Slot::Border).fg, Some(Color::Rgb(0, 0, 255)));
        assert_eq!(ocean.style(Slot::Warning), Theme::built_in("light").style(Slot::Warning));

        // A user file named like a built-in adjusts that built-in.
        let mono = Theme::resolve("mono", Some(&dir)).expect("mono");
        assert!(mono.style(Slot::Selection).add_modifier.contains(Modifier::UNDERLINED));
        assert_eq!(mono.style(Slot::Error), Theme::built_in("mono").style(Slot::Error));

        let err = Theme::resolve("broken", Some(&dir)).expect_err("bad slot");
        let file = dir.join("broken.toml").display().to_string();
        assert_eq!(err.to_string(), format!("{file}:3: unknown slot `log.eror`"));

        let err = Theme::parse("extends = \"solarized\"\n", "t.toml", None).expect_err("base");
        assert!(err.to_string().starts_with("t.toml:1: unknown base theme `solarized`"), "{err}");
        assert!(matches!(Theme::resolve("nope", Some(&dir)), Err(ThemeError::Unknown(_))));
        assert!(Theme::resolve("high-contrast", Some(&dir)).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
