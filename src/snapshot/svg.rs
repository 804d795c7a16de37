//! A rendered buffer as an SVG picture: what `portolan snapshot --format svg` prints and
//! what the screenshots in the README are made of.
//!
//! The picture is a terminal grid: every cell has the same size, one `<rect>` paints each
//! horizontal run of a background that differs from the canvas, and one `<text>` draws
//! each run of glyphs in one style, pinned to its start column and stretched to exactly
//! its cells (`textLength`) so a font with other metrics cannot make columns drift.
//! This module only reads a [`Buffer`] and a [`Theme`]: no model, no I/O.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use crate::ui::theme::{Canvas, Theme};

/// Font size in pixels. The cell is one DejaVu Sans Mono advance (1233/2048 em) wide,
/// so with that font `textLength` changes nothing and other fonts are fitted to it.
const FONT_SIZE: f64 = 14.0;
pub const CELL_WIDTH: f64 = FONT_SIZE * 1233.0 / 2048.0;
/// Box-drawing glyphs span ascent + descent (1.164 em = 16.3 px): a slightly shorter
/// row lets vertical lines overlap instead of showing gaps.
pub const CELL_HEIGHT: f64 = 16.0;
/// From the top of a row to the baseline: centres the glyph's 1.164 em on the row.
const BASELINE: f64 = 12.85;
/// Blank space around the grid, like a terminal window's inner border.
const PADDING: f64 = 12.0;
const FONT_FAMILY: &str =
    "'DejaVu Sans Mono', 'Cascadia Mono', Menlo, Consolas, 'Liberation Mono', monospace";
/// How much of a dim glyph's colour shows: terminals draw faint text at about half.
const DIM_OPACITY: &str = "0.55";

type Rgb = (u8, u8, u8);

/// The 16 ANSI colours on a dark canvas: bright enough to read on it, and `white` on
/// `blue` (the dark theme's header) still legible.
const DARK_PALETTE: [Rgb; 16] = [
    (0x1e, 0x1e, 0x1e), // black
    (0xe0, 0x5a, 0x5a), // red
    (0x4e, 0xc9, 0x6b), // green
    (0xd7, 0xba, 0x4a), // yellow
    (0x3b, 0x78, 0xd8), // blue
    (0xc0, 0x6c, 0xd0), // magenta
    (0x2a, 0xb5, 0xc8), // cyan
    (0xb8, 0xbc, 0xc4), // gray
    (0x6b, 0x70, 0x7a), // dark gray
    (0xff, 0x7b, 0x72), // light red
    (0x7e, 0xe7, 0x87), // light green
    (0xf5, 0xe0, 0x6e), // light yellow
    (0x6c, 0xa8, 0xff), // light blue
    (0xe0, 0x95, 0xf0), // light magenta
    (0x6f, 0xe0, 0xf0), // light cyan
    (0xf5, 0xf5, 0xf5), // white
];

/// The 16 ANSI colours on a light canvas: darker hues so text reads on white, and
/// `white` stays white for text on coloured bars.
const LIGHT_PALETTE: [Rgb; 16] = [
    (0x1f, 0x23, 0x28), // black
    (0xc4, 0x26, 0x2b), // red
    (0x1a, 0x7f, 0x37), // green
    (0x9a, 0x67, 0x00), // yellow
    (0x1f, 0x5f, 0xbf), // blue
    (0xa3, 0x2d, 0xa0), // magenta
    (0x5c, 0xc4, 0xd4), // cyan: light, since the light theme puts it behind black and blue text
    (0x9a, 0x9f, 0xa6), // gray
    (0x5f, 0x66, 0x6e), // dark gray
    (0xd7, 0x3a, 0x49), // light red
    (0x2d, 0x9a, 0x4b), // light green
    (0xb0, 0x80, 0x00), // light yellow
    (0x3b, 0x82, 0xf6), // light blue
    (0xbf, 0x4b, 0xc4), // light magenta
    (0x0e, 0x86, 0x96), // light cyan
    (0xff, 0xff, 0xff), // white
];

/// One cell with its colours resolved as a terminal would show them.
#[derive(Clone, Copy, PartialEq)]
struct Look {
    fg: Rgb,
    bg: Rgb,
    bold: bool,
    italic: bool,
    underline: bool,
    strike: bool,
    dim: bool,
    hidden: bool,
}

struct Resolver {
    canvas: Canvas,
    palette: &'static [Rgb; 16],
}

impl Resolver {
    fn new(theme: &Theme) -> Resolver {
        let canvas = theme.canvas();
        let palette = if canvas.is_light() { &LIGHT_PALETTE } else { &DARK_PALETTE };
        Resolver { canvas, palette }
    }

    fn colour(&self, colour: Color, default: Rgb) -> Rgb {
        match colour {
            Color::Reset => default,
            Color::Black => self.palette[0],
            Color::Red => self.palette[1],
            Color::Green => self.palette[2],
            Color::Yellow => self.palette[3],
            Color::Blue => self.palette[4],
            Color::Magenta => self.palette[5],
            Color::Cyan => self.palette[6],
            Color::Gray => self.palette[7],
            Color::DarkGray => self.palette[8],
            Color::LightRed => self.palette[9],
            Color::LightGreen => self.palette[10],
            Color::LightYellow => self.palette[11],
            Color::LightBlue => self.palette[12],
            Color::LightMagenta => self.palette[13],
            Color::LightCyan => self.palette[14],
            Color::White => self.palette[15],
            Color::Indexed(n) if n < 16 => self.palette[usize::from(n)],
            Color::Indexed(n) => xterm_256(n),
            Color::Rgb(r, g, b) => (r, g, b),
        }
    }

    fn look(&self, cell: &ratatui::buffer::Cell) -> Look {
        let m = cell.modifier;
        let mut fg = self.colour(cell.fg, self.canvas.fg);
        let mut bg = self.colour(cell.bg, self.canvas.bg);
        if m.contains(Modifier::REVERSED) {
            std::mem::swap(&mut fg, &mut bg);
        }
        Look {
            fg,
            bg,
            bold: m.contains(Modifier::BOLD),
            italic: m.contains(Modifier::ITALIC),
            underline: m.contains(Modifier::UNDERLINED),
            strike: m.contains(Modifier::CROSSED_OUT),
            dim: m.contains(Modifier::DIM),
            hidden: m.contains(Modifier::HIDDEN),
        }
    }
}

/// Colours 16–255 of xterm: a 6×6×6 cube, then 24 greys.
fn xterm_256(n: u8) -> Rgb {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    if n >= 232 {
        let v = 8 + 10 * (n - 232);
        return (v, v, v);
    }
    let i = n.saturating_sub(16);
    (LEVELS[usize::from(i / 36)], LEVELS[usize::from(i / 6 % 6)], LEVELS[usize::from(i % 6)])
}

/// One grid position: a glyph that starts here (and covers `width` cells), or the
/// second half of a wide glyph to its left.
enum Place<'a> {
    Glyph { symbol: &'a str, width: u16, look: Look },
    Covered,
}

/// The buffer as a standalone SVG document, `reset` taken from the theme's canvas.
pub fn buffer_to_svg(buffer: &Buffer, theme: &Theme) -> String {
    let resolver = Resolver::new(theme);
    let area = buffer.area;
    let (width, height) = (
        f64::from(area.width) * CELL_WIDTH + 2.0 * PADDING,
        f64::from(area.height) * CELL_HEIGHT + 2.0 * PADDING,
    );
    let mut rects = String::new();
    let mut texts = String::new();
    for row in 0..area.height {
        let slots = row_slots(buffer, row, &resolver);
        // The covered half of a wide glyph is painted with the glyph's background, as a
        // terminal does, whatever the buffer left in that cell.
        let mut backgrounds = Vec::with_capacity(slots.len());
        for slot in &slots {
            let bg = match slot {
                Place::Glyph { look, .. } => look.bg,
                Place::Covered => backgrounds.last().copied().unwrap_or(resolver.canvas.bg),
            };
            backgrounds.push(bg);
        }
        background_runs(&backgrounds, resolver.canvas.bg, row, &mut rects);
        text_runs(&slots, row, &mut texts);
    }
    let mut svg = String::with_capacity(rects.len() + texts.len() + 1024);
    let _ = write!(
        svg,
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" ",
            "viewBox=\"0 0 {w} {h}\" xml:space=\"preserve\">\n",
            "<title>portolan · {title} · {cols}x{rows}</title>\n",
            "<rect width=\"{w}\" height=\"{h}\" fill=\"{bg}\"/>\n",
            "<g transform=\"translate({pad} {pad})\" shape-rendering=\"crispEdges\">\n",
        ),
        w = num(width),
        h = num(height),
        title = escape(&theme.name),
        cols = area.width,
        rows = area.height,
        bg = hex(resolver.canvas.bg),
        pad = num(PADDING),
    );
    svg.push_str(&rects);
    let _ = write!(
        svg,
        concat!(
            "</g>\n",
            "<g transform=\"translate({pad} {pad})\" font-family=\"{font}\" ",
            "font-size=\"{size}\" text-rendering=\"geometricPrecision\" ",
            // xml:space for SVG 1.1 renderers (librsvg), white-space for SVG 2 ones.
            "style=\"white-space: pre\">\n",
        ),
        pad = num(PADDING),
        font = FONT_FAMILY,
        size = num(FONT_SIZE),
    );
    svg.push_str(&texts);
    svg.push_str("</g>\n</svg>\n");
    svg
}

fn row_slots<'a>(buffer: &'a Buffer, row: u16, resolver: &Resolver) -> Vec<Place<'a>> {
    let area = buffer.area;
    let mut slots = Vec::with_capacity(usize::from(area.width));
    let mut covered = 0u16;
    for col in 0..area.width {
        if covered > 0 {
            covered -= 1;
            slots.push(Place::Covered);
            continue;
        }
        let cell = &buffer[(area.x + col, area.y + row)];
        let symbol = cell.symbol();
        let width = ratatui::text::Span::raw(symbol).width().clamp(1, 2) as u16;
        // A wide glyph in the last column has no room for its second half.
        let width = width.min(area.width - col);
        covered = width - 1;
        slots.push(Place::Glyph { symbol, width, look: resolver.look(cell) });
    }
    slots
}

/// One `<rect>` per horizontal run of one background other than the canvas.
fn background_runs(backgrounds: &[Rgb], canvas: Rgb, row: u16, out: &mut String) {
    let mut start = 0;
    while start < backgrounds.len() {
        let bg = backgrounds[start];
        let end = backgrounds[start..]
            .iter()
            .position(|b| *b != bg)
            .map_or(backgrounds.len(), |n| start + n);
        if bg != canvas {
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                num(start as f64 * CELL_WIDTH),
                num(f64::from(row) * CELL_HEIGHT),
                num((end - start) as f64 * CELL_WIDTH),
                num(CELL_HEIGHT),
                hex(bg),
            );
        }
        start = end;
    }
}

/// What makes two glyphs part of one `<text>`: everything but the background.
#[derive(Clone, Copy, PartialEq)]
struct Ink {
    fg: Rgb,
    bold: bool,
    italic: bool,
    underline: bool,
    strike: bool,
    dim: bool,
}

impl Ink {
    fn of(look: &Look) -> Ink {
        Ink {
            fg: look.fg,
            bold: look.bold,
            italic: look.italic,
            underline: look.underline,
            strike: look.strike,
            dim: look.dim,
        }
    }

    /// Lines under or through text are drawn under spaces too.
    fn marks_spaces(&self) -> bool {
        self.underline || self.strike
    }
}

struct Run {
    ink: Ink,
    start: usize,
    cells: usize,
    text: String,
}

/// One `<text>` per run of glyphs in one style; a blank joins whatever run it is in,
/// since its colour shows nowhere. A wide glyph gets a `<text>` of its own: stretching
/// a run around it to fit would move the narrow glyphs beside it.
fn text_runs(slots: &[Place<'_>], row: u16, out: &mut String) {
    let mut run: Option<Run> = None;
    for (col, slot) in slots.iter().enumerate() {
        let Place::Glyph { symbol, width, look } = slot else { continue };
        let ink = Ink::of(look);
        let cells = usize::from(*width);
        let blank = look.hidden || symbol.trim().is_empty();
        let joins = run.as_ref().is_some_and(|r| {
            cells == 1 && (r.ink == ink || (blank && !ink.marks_spaces() && !r.ink.marks_spaces()))
        });
        if joins {
            if let Some(r) = run.as_mut() {
                push_glyph(&mut r.text, symbol, blank);
                r.cells += 1;
            }
            continue;
        }
        if let Some(done) = run.take() {
            emit_run(done, row, out);
        }
        // A run starts at its first visible glyph, so leading blanks cost nothing.
        if blank && !ink.marks_spaces() {
            continue;
        }
        let mut text = String::new();
        push_glyph(&mut text, symbol, blank);
        let started = Run { ink, start: col, cells, text };
        if cells > 1 {
            emit_run(started, row, out);
        } else {
            run = Some(started);
        }
    }
    if let Some(done) = run {
        emit_run(done, row, out);
    }
}

fn push_glyph(text: &mut String, symbol: &str, blank: bool) {
    if blank {
        text.push(' ');
    } else {
        push_escaped(text, symbol);
    }
}

fn emit_run(mut run: Run, row: u16, out: &mut String) {
    if !run.ink.marks_spaces() {
        let kept = run.text.trim_end_matches(' ').len();
        run.cells -= run.text.len() - kept;
        run.text.truncate(kept);
    }
    if run.text.trim().is_empty() && !run.ink.marks_spaces() {
        return;
    }
    let ink = run.ink;
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" textLength=\"{}\" lengthAdjust=\"spacingAndGlyphs\" fill=\"{}\"",
        num(run.start as f64 * CELL_WIDTH),
        num(f64::from(row) * CELL_HEIGHT + BASELINE),
        num(run.cells as f64 * CELL_WIDTH),
        hex(ink.fg),
    );
    if ink.bold {
        out.push_str(" font-weight=\"bold\"");
    }
    if ink.italic {
        out.push_str(" font-style=\"italic\"");
    }
    match (ink.underline, ink.strike) {
        (true, true) => out.push_str(" text-decoration=\"underline line-through\""),
        (true, false) => out.push_str(" text-decoration=\"underline\""),
        (false, true) => out.push_str(" text-decoration=\"line-through\""),
        (false, false) => {}
    }
    if ink.dim {
        let _ = write!(out, " fill-opacity=\"{DIM_OPACITY}\"");
    }
    let _ = writeln!(out, ">{}</text>", run.text);
}

/// Appends `text` safe for XML character data and attribute values. Names come from
/// containers anyone can create, so markup characters are escaped and what XML 1.0
/// cannot carry at all (control characters, noncharacters) becomes U+FFFD.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() || is_noncharacter(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

fn is_noncharacter(c: char) -> bool {
    let n = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE
}

fn hex((r, g, b): Rgb) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Coordinates to two decimals, without trailing zeros: exact enough for a pixel grid
/// and keeps the document small.
fn num(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_string() } else { text.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    fn buffer(lines: &[&str]) -> Buffer {
        Buffer::with_lines(lines.iter().copied())
    }

    fn count(svg: &str, needle: &str) -> usize {
        svg.matches(needle).count()
    }

    /// Every element opened is closed, in order, and nothing but known elements appear:
    /// a small structural check instead of a full XML parser.
    fn assert_well_formed(svg: &str) {
        let body =
            svg.strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n").expect("prolog");
        let mut open: Vec<String> = Vec::new();
        let mut rest = body;
        while let Some(lt) = rest.find('<') {
            let text = &rest[..lt];
            assert!(!text.contains('>'), "stray > in {text:?}");
            assert_entities(text);
            let gt = rest[lt..].find('>').expect("tag closes") + lt;
            let tag = &rest[lt + 1..gt];
            assert!(!tag.contains('<'), "stray < in tag {tag:?}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(open.pop().as_deref(), Some(name), "mismatched </{name}>");
            } else {
                let name = tag.split([' ', '/']).next().expect("name").to_string();
                assert!(["svg", "title", "rect", "g", "text"].contains(&name.as_str()), "{name}");
                // Attribute values are double-quoted and hold no raw quote.
                assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes in {tag:?}");
                assert_entities(tag);
                if !tag.ends_with('/') {
                    open.push(name);
                }
            }
            rest = &rest[gt + 1..];
        }
        assert!(rest.trim().is_empty(), "text after the root: {rest:?}");
        assert!(open.is_empty(), "unclosed {open:?}");
        assert!(
            !svg.chars().any(|c| c.is_control() && c != '\n'),
            "a control character reached the document"
        );
    }

    fn assert_entities(text: &str) {
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].iter().any(|e| entity.starts_with(e)),
                "bare & in {text:?}"
            );
        }
    }

    fn texts(svg: &str) -> Vec<&str> {
        svg.lines().filter(|l| l.starts_with("<text")).collect()
    }

    fn rects(svg: &str) -> Vec<&str> {
        // The first rect is the canvas.
        svg.lines().filter(|l| l.starts_with("<rect x=")).collect()
    }

    #[test]
    fn hostile_names_are_escaped() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 30, 1));
        buf.set_string(0, 0, "<a href=\"x\">&amp;'</a>", Style::default());
        // set_string drops control characters; a cell set directly keeps them.
        buf[(28, 0)].set_symbol("\u{1b}");
        buf[(29, 0)].set_symbol("\u{FFFF}");
        let mut theme = Theme::built_in("dark");
        theme.name = "<evil & \"theme\">".into();
        let svg = buffer_to_svg(&buf, &theme);
        assert_well_formed(&svg);
        assert!(svg.contains("&lt;a href=&quot;x&quot;&gt;&amp;amp;&apos;&lt;/a&gt;"), "{svg}");
        assert!(svg.contains("<title>portolan · &lt;evil &amp; &quot;theme&quot;&gt;"), "{svg}");
        assert!(svg.contains('\u{FFFD}'));
        assert!(!svg.contains('\u{1b}') && !svg.contains('\u{FFFF}'));
    }

    #[test]
    fn runs_merge_by_style_and_background() {
        let mut buf = buffer(&["ab  cd  ", "        "]);
        // Row 0: "ab" red on blue, "  cd" default, two trailing blanks.
        buf.set_style(Rect::new(0, 0, 2, 1), Style::default().fg(Color::Red).bg(Color::Blue));
        // Row 1: a blue bar over three cells, then another over two, split by a gap.
        buf.set_style(Rect::new(0, 1, 3, 1), Style::default().bg(Color::Blue));
        buf.set_style(Rect::new(5, 1, 2, 1), Style::default().bg(Color::Blue));
        let svg = buffer_to_svg(&buf, &Theme::built_in("dark"));
        assert_well_formed(&svg);
        let rects = rects(&svg);
        assert_eq!(rects.len(), 3, "{rects:#?}");
        assert!(rects[0].contains(&format!("width=\"{}\"", num(2.0 * CELL_WIDTH))));
        assert!(rects[1].contains(&format!("width=\"{}\"", num(3.0 * CELL_WIDTH))));
        assert!(rects[2].contains(&format!("x=\"{}\"", num(5.0 * CELL_WIDTH))));
        let texts = texts(&svg);
        assert_eq!(texts.len(), 2, "{texts:#?}");
        assert!(texts[0].ends_with(">ab</text>") && texts[0].contains("x=\"0\""));
        // Leading and trailing blanks are trimmed; the run starts at its first glyph.
        assert!(texts[1].ends_with(">cd</text>"), "{}", texts[1]);
        assert!(texts[1].contains(&format!("x=\"{}\"", num(4.0 * CELL_WIDTH))));
        assert!(texts[1].contains(&format!("textLength=\"{}\"", num(2.0 * CELL_WIDTH))));
        // Blank rows and default backgrounds produce nothing.
        assert!(!svg.contains("y=\"28.85\""));
    }

    #[test]
    fn blanks_of_another_colour_do_not_split_a_run() {
        let mut buf = buffer(&["a b"]);
        buf.set_style(Rect::new(0, 0, 1, 1), Style::default().fg(Color::Green));
        buf.set_style(Rect::new(2, 0, 1, 1), Style::default().fg(Color::Green));
        let svg = buffer_to_svg(&buf, &Theme::built_in("dark"));
        assert_eq!(texts(&svg).len(), 1, "{svg}");
        assert!(svg.contains(">a b</text>"));
    }

    #[test]
    fn colours_resolve_through_canvas_palette_and_xterm() {
        let dark = Resolver::new(&Theme::built_in("dark"));
        let light = Resolver::new(&Theme::built_in("light"));
        let canvas = Theme::built_in("dark").canvas();
        assert_eq!(dark.colour(Color::Reset, canvas.fg), canvas.fg);
        assert_eq!(dark.colour(Color::Red, canvas.fg), DARK_PALETTE[1]);
        assert_eq!(light.colour(Color::Red, canvas.fg), LIGHT_PALETTE[1]);
        assert_eq!(dark.colour(Color::Indexed(9), canvas.fg), DARK_PALETTE[9]);
        assert_eq!(dark.colour(Color::Indexed(16), canvas.fg), (0, 0, 0));
        assert_eq!(dark.colour(Color::Indexed(196), canvas.fg), (255, 0, 0));
        assert_eq!(dark.colour(Color::Indexed(208), canvas.fg), (255, 135, 0));
        assert_eq!(dark.colour(Color::Indexed(231), canvas.fg), (255, 255, 255));
        assert_eq!(dark.colour(Color::Indexed(232), canvas.fg), (8, 8, 8));
        assert_eq!(dark.colour(Color::Indexed(255), canvas.fg), (238, 238, 238));
        assert_eq!(dark.colour(Color::Rgb(1, 2, 3), canvas.fg), (1, 2, 3));
        assert_eq!(hex((1, 0xab, 255)), "#01abff");
        assert_eq!(num(8.4287), "8.43");
        assert_eq!(num(16.0), "16");
        assert_eq!(num(0.5), "0.5");
    }

    #[test]
    fn canvas_paints_reset_and_modifiers_show() {
        let theme = Theme::built_in("dark");
        let canvas = theme.canvas();
        let mut buf = buffer(&["bold ital dim str und"]);
        let styles = [
            (0, 4, Modifier::BOLD, "font-weight=\"bold\""),
            (5, 4, Modifier::ITALIC, "font-style=\"italic\""),
            (10, 3, Modifier::DIM, "fill-opacity=\"0.55\""),
            (14, 3, Modifier::CROSSED_OUT, "text-decoration=\"line-through\""),
            (18, 3, Modifier::UNDERLINED, "text-decoration=\"underline\""),
        ];
        for (x, width, modifier, _) in styles {
            buf.set_style(Rect::new(x, 0, width, 1), Style::default().add_modifier(modifier));
        }
        let svg = buffer_to_svg(&buf, &theme);
        assert_well_formed(&svg);
        assert!(svg.contains(&format!("fill=\"{}\"/>", hex(canvas.bg))), "canvas background");
        for (_, _, _, attribute) in styles {
            assert_eq!(count(&svg, attribute), 1, "{attribute}: {svg}");
        }
        assert_eq!(count(&svg, &format!("fill=\"{}\"", hex(canvas.fg))), 5);
    }

    #[test]
    fn reversed_swaps_foreground_and_background() {
        let theme = Theme::built_in("mono");
        let canvas = theme.canvas();
        let mut buf = buffer(&["sel"]);
        buf.set_style(buf.area, Style::default().add_modifier(Modifier::REVERSED));
        let svg = buffer_to_svg(&buf, &theme);
        let rects = rects(&svg);
        assert_eq!(rects.len(), 1);
        assert!(rects[0].contains(&format!("fill=\"{}\"", hex(canvas.fg))), "{svg}");
        assert!(texts(&svg)[0].contains(&format!("fill=\"{}\"", hex(canvas.bg))), "{svg}");
        // Reversed on explicit colours swaps those.
        let mut buf = buffer(&["x"]);
        buf.set_style(
            buf.area,
            Style::default().fg(Color::Red).bg(Color::Green).add_modifier(Modifier::REVERSED),
        );
        let svg = buffer_to_svg(&buf, &Theme::built_in("dark"));
        assert!(rects_of(&svg).contains(&hex(DARK_PALETTE[1])));
        assert!(texts(&svg)[0].contains(&hex(DARK_PALETTE[2])));
    }

    fn rects_of(svg: &str) -> String {
        rects(svg).join("\n")
    }

    #[test]
    fn wide_glyphs_cover_two_cells_and_keep_columns() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 8, 1));
        buf.set_string(0, 0, "a日本b", Style::default().bg(Color::Blue));
        let svg = buffer_to_svg(&buf, &Theme::built_in("dark"));
        assert_well_formed(&svg);
        let texts = texts(&svg);
        assert_eq!(texts.len(), 4, "{texts:#?}");
        let at = |t: &str, col: f64, cells: f64| {
            t.contains(&format!("x=\"{}\"", num(col * CELL_WIDTH)))
                && t.contains(&format!("textLength=\"{}\"", num(cells * CELL_WIDTH)))
        };
        assert!(at(texts[0], 0.0, 1.0) && texts[0].ends_with(">a</text>"));
        assert!(at(texts[1], 1.0, 2.0) && texts[1].ends_with(">日</text>"));
        assert!(at(texts[2], 3.0, 2.0) && texts[2].ends_with(">本</text>"));
        assert!(at(texts[3], 5.0, 1.0) && texts[3].ends_with(">b</text>"));
        // The covered halves share the glyphs' background: one bar of six cells.
        let rects = rects(&svg);
        assert_eq!(rects.len(), 1, "{rects:#?}");
        assert!(rects[0].contains(&format!("width=\"{}\"", num(6.0 * CELL_WIDTH))));
    }

    #[test]
    fn document_is_well_formed_and_sized_to_the_grid() {
        let buf = buffer(&["┌──┐", "│hi│", "└──┘"]);
        let svg = buffer_to_svg(&buf, &Theme::built_in("light"));
        assert_well_formed(&svg);
        let width = num(4.0 * CELL_WIDTH + 2.0 * PADDING);
        let height = num(3.0 * CELL_HEIGHT + 2.0 * PADDING);
        assert!(svg.contains(&format!("width=\"{width}\" height=\"{height}\"")), "{svg}");
        assert!(svg.contains("font-family=\"'DejaVu Sans Mono'"));
        assert!(svg.contains("xml:space=\"preserve\""));
        assert_eq!(texts(&svg).len(), 3);
        assert!(svg.contains(&hex(Theme::built_in("light").canvas().bg)));
    }
}
