//! `snapshot --format svg` through the real rendering path: seed models drawn by the
//! UI at fixed sizes, clock and version pinned, then exported. The picture must say
//! what the text rendering says, cell for cell, in the theme's colours, whatever the
//! container names hold.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use portolan::model::{Container, ContainerState, Update};
use portolan::snapshot::svg::{CELL_HEIGHT, CELL_WIDTH, buffer_to_svg};
use portolan::topology::fixtures::{now, seed};
use portolan::ui::keymap::{Action, Keymap};
use portolan::ui::theme::Theme;
use portolan::ui::{App, PaneId, buffer_to_text, render_buffer, render_map_buffer};
use ratatui::buffer::Buffer;

const HOSTILE: &str = "evil<b>&amp;\"'\u{7}</svg>";

fn app(seed_name: &str, theme: &str, pane: PaneId) -> App {
    let mut model = seed(seed_name).expect("fixture");
    let mut evil = Container::new("ffffffffffff9", HOSTILE);
    evil.image = "x<y>".into();
    evil.state = ContainerState::Exited;
    evil.exit_code = Some(1);
    model.apply(Update::ContainerChanged(Box::new(evil)));
    let mut app = App::new(model, Theme::built_in(theme), Keymap::default(), now());
    app.version = "0.0.0-test";
    app.offset = chrono::FixedOffset::east_opt(0).expect("UTC");
    app.pane = pane;
    app.set_project(None);
    app
}

fn render(app: &mut App, w: u16, h: u16) -> Buffer {
    if app.pane == PaneId::Map { render_map_buffer(app, w, h) } else { render_buffer(app, w, h) }
}

/// One `<text>`: where it starts, the cells it claims, its fill and its content.
struct Text {
    col: usize,
    row: usize,
    cells: usize,
    fill: String,
    content: String,
}

fn attribute<'a>(tag: &'a str, name: &str) -> &'a str {
    let start = tag.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
    let end = tag[start..].find('"').expect("closing quote") + start;
    &tag[start..end]
}

fn unescape(text: &str) -> String {
    assert!(!text.contains('<') && !text.contains('>'), "markup in text: {text:?}");
    let mut rest = text;
    let mut out = String::new();
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let entity = &rest[amp..];
        let (c, len) =
            [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&apos;", '\'')]
                .iter()
                .find(|(e, _)| entity.starts_with(e))
                .map(|(e, c)| (*c, e.len()))
                .unwrap_or_else(|| panic!("bare & in {text:?}"));
        out.push(c);
        rest = &rest[amp + len..];
    }
    out.push_str(rest);
    out
}

fn texts(svg: &str) -> Vec<Text> {
    svg.lines()
        .filter(|l| l.starts_with("<text "))
        .map(|line| {
            let gt = line.find('>').expect("tag ends");
            let tag = &line[..gt];
            let content = line[gt + 1..].strip_suffix("</text>").expect("one line per text");
            let x: f64 = attribute(tag, "x").parse().unwrap();
            let y: f64 = attribute(tag, "y").parse().unwrap();
            let length: f64 = attribute(tag, "textLength").parse().unwrap();
            Text {
                col: (x / CELL_WIDTH).round() as usize,
                row: (y / CELL_HEIGHT).floor() as usize,
                cells: (length / CELL_WIDTH).round() as usize,
                fill: attribute(tag, "fill").to_string(),
                content: unescape(content),
            }
        })
        .collect()
}

fn rect_fills(svg: &str) -> Vec<String> {
    svg.lines()
        .filter(|l| l.starts_with("<rect x="))
        .map(|l| attribute(l, "fill").to_string())
        .collect()
}

/// Lays every `<text>` at its column and compares the picture with the text
/// rendering row by row: a run that drifted, overlapped or lost a glyph shows here.
fn assert_same_as_text(svg: &str, buffer: &Buffer) {
    let (w, h) = (usize::from(buffer.area.width), usize::from(buffer.area.height));
    let mut grid: Vec<Vec<Option<String>>> = vec![vec![Some(" ".to_string()); w]; h];
    for text in texts(svg) {
        let mut col = text.col;
        for c in text.content.chars() {
            let wide = ratatui::text::Span::raw(c.to_string()).width() == 2;
            assert!(col < w, "text past the edge: {:?}", text.content);
            grid[text.row][col] = Some(c.to_string());
            if wide {
                grid[text.row][col + 1] = None;
                col += 1;
            }
            col += 1;
        }
        assert_eq!(col, text.col + text.cells, "textLength of {:?}", text.content);
    }
    let expected = buffer_to_text(buffer);
    for (row, (cells, want)) in grid.iter().zip(expected.lines()).enumerate() {
        let got: String = cells.iter().flatten().map(String::as_str).collect();
        assert_eq!(got.trim_end(), want, "row {row}");
    }
}

#[test]
fn containers_pane_matches_the_text_rendering_and_escapes_names() {
    for (theme, w, h) in [("dark", 120, 40), ("light", 120, 40), ("mono", 80, 24)] {
        let mut app = app("002-nginx-react-django-postgres-redis", theme, PaneId::Containers);
        // Select the hostile container so its name is in the list, bar and detail.
        app.act(Action::Bottom);
        let buffer = render(&mut app, w, h);
        let svg = buffer_to_svg(&buffer, &app.theme);
        assert_same_as_text(&svg, &buffer);
        assert_eq!(svg.matches("<text ").count(), svg.matches("</text>").count());
        assert_eq!(svg.matches("<g ").count(), 2);
        assert!(svg.ends_with("</g>\n</svg>\n"));
        assert!(svg.contains("evil&lt;b&gt;&amp;amp;&quot;&apos;"), "{theme}: name escaped");
        assert!(!svg.contains('\u{7}'), "a control character reached the document");
        assert!(!svg.contains("<b>"), "markup from a name");
        assert_eq!((svg.matches("<svg ").count(), svg.matches("</svg>").count()), (1, 1));
        let canvas = app.theme.canvas();
        let (bg, fg) = (
            format!("#{:02x}{:02x}{:02x}", canvas.bg.0, canvas.bg.1, canvas.bg.2),
            format!("#{:02x}{:02x}{:02x}", canvas.fg.0, canvas.fg.1, canvas.fg.2),
        );
        assert!(svg.contains(&format!("fill=\"{bg}\"/>")), "{theme}: canvas background");
        let fills = rect_fills(&svg);
        assert!(!fills.contains(&bg), "{theme}: a rect painted the canvas colour again");
        // The header is one bar across the whole width, the first rect.
        let first = svg.lines().find(|l| l.starts_with("<rect x=")).expect("a rect");
        assert!(first.contains(&format!("width=\"{}\"", trim(f64::from(w) * CELL_WIDTH))));
        // The selection bar: a rect in the theme's selection background, under text
        // in its foreground (mono reverses the canvas colours).
        let selection = match theme {
            "dark" => ("#2ab5c8", "#1e1e1e"),
            "light" => ("#1f5fbf", "#ffffff"),
            _ => (fg.as_str(), bg.as_str()),
        };
        assert!(fills.iter().any(|f| f == selection.0), "{theme}: selection bar {fills:?}");
        let texts = texts(&svg);
        let selected = texts
            .iter()
            .find(|t| t.content.contains("evil<b>") && t.fill == selection.1)
            .map(|t| t.row);
        assert!(selected.is_some(), "{theme}: the selected name in the selection colour");
        // Runs come in reading order and never overlap.
        for pair in texts.windows(2) {
            if pair[0].row == pair[1].row {
                assert!(pair[0].col + pair[0].cells <= pair[1].col, "overlap");
            }
        }
        // Merged: far fewer runs than glyphs.
        let glyphs: usize = texts.iter().map(|t| t.content.chars().count()).sum();
        assert!(texts.len() * 4 < glyphs, "{theme}: {} runs for {glyphs} glyphs", texts.len());
    }
}

#[test]
fn map_of_a_seed_matches_the_text_rendering_in_every_theme() {
    for theme in ["dark", "light", "mono"] {
        for (w, h) in [(80u16, 24u16), (120, 40)] {
            let mut app = app("001-traefik-next-nest-postgres", theme, PaneId::Map);
            let buffer = render(&mut app, w, h);
            let svg = buffer_to_svg(&buffer, &app.theme);
            assert_same_as_text(&svg, &buffer);
            let rects = svg.matches("<rect ").count();
            let texts = svg.matches("<text ").count();
            // A map is mostly lines and words: far fewer elements than cells.
            assert!(texts > 20 && texts < usize::from(w) * usize::from(h) / 4, "{theme} {texts}");
            assert!(rects >= 2, "{theme}: canvas and the selected box");
        }
    }
}

#[test]
fn export_is_deterministic() {
    let render_once = || {
        let mut app = app("000-nestjs-postgres-redis", "dark", PaneId::Stats);
        let buffer = render(&mut app, 100, 30);
        buffer_to_svg(&buffer, &app.theme)
    };
    assert_eq!(render_once(), render_once());
}

fn trim(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Text is never drawn in the colour of what lies under it: a span's own colour left
/// on a selection bar (a cyan name on the dark theme's cyan bar) would vanish.
#[test]
fn no_text_is_drawn_in_its_background_colour() {
    for theme in ["dark", "light", "mono"] {
        for pane in PaneId::ALL {
            let mut app = app("002-nginx-react-django-postgres-redis", theme, *pane);
            let buffer = render(&mut app, 120, 40);
            let svg = buffer_to_svg(&buffer, &app.theme);
            let canvas = app.theme.canvas().bg;
            let canvas = format!("#{:02x}{:02x}{:02x}", canvas.0, canvas.1, canvas.2);
            let mut under = vec![vec![canvas.clone(); 120]; 40];
            for rect in svg.lines().filter(|l| l.starts_with("<rect x=")) {
                let number = |name: &str| attribute(rect, name).parse::<f64>().unwrap();
                let row = (number("y") / CELL_HEIGHT).round() as usize;
                let col = (number("x") / CELL_WIDTH).round() as usize;
                let cells = (number("width") / CELL_WIDTH).round() as usize;
                for cell in &mut under[row][col..col + cells] {
                    *cell = attribute(rect, "fill").to_string();
                }
            }
            for text in texts(&svg) {
                for (i, c) in text.content.chars().enumerate() {
                    if c != ' ' {
                        assert_ne!(
                            text.fill,
                            under[text.row][text.col + i],
                            "{theme} {pane:?}: {:?} at row {} is invisible",
                            text.content,
                            text.row
                        );
                    }
                }
            }
        }
    }
}
