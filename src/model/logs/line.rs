//! One log line from a container, made safe to draw: raw bytes in, [`LogText`] out.
//!
//! A container controls its log bytes; the operator controls their terminal. This
//! module owns the rule between the two: SGR colour codes become [`AnsiStyle`]s
//! (or vanish when colours are off) and every other control or escape sequence is
//! removed. It reads each byte once and allocates nothing per escape sequence, so
//! its cost grows with the length of a line and not with what the line contains;
//! a line keeps two exact heap blocks at most. It knows nothing of ratatui: the UI
//! maps [`AnsiStyle`] to its own styles.
//!
//! Decisions a reader of the output should know:
//! - A carriage return gives the terminal's final picture of a progress line: text
//!   written before the last `\r` that is followed by more text is discarded
//!   (`progress 10%\rprogress 100%` shows `progress 100%`). A trailing `\r`, as in
//!   CRLF line ends, changes nothing. Styles set before the `\r` stay in force.
//! - Tabs expand to spaces up to the next multiple of [`TAB_WIDTH`] characters, in
//!   the plain text too, so search ranges map one to one onto what is drawn. Columns
//!   count characters, not display cells: a wide character before a tab shifts it.
//! - A sequence left open at the end of a line (an OSC without BEL or ST) hides
//!   the rest of that line, as a terminal would; the next line starts afresh.
//! - Each line starts unstyled: colours do not carry over from the previous line,
//!   which could be hidden by a filter or evicted.
//! - SGR 8 (conceal) and 5/6 (blink) are ignored: a container must not make text
//!   invisible, nor blink at the operator. Only 7-bit `ESC [ ... m` is SGR; the
//!   8-bit CSI (0x9b) is removed with its parameters, colours included.
//! - Invalid UTF-8 shows as U+FFFD, except a lone byte 0x80..=0x9f, which is an
//!   8-bit C1 control and is removed. Of those only CSI (0x9b) takes its parameters
//!   along; OSC/DCS bytes do not swallow the rest of the line, because as raw bytes
//!   they are more often legacy text (cp1252 `ž` is 0x9e) than controls. As code
//!   points (U+0080..U+009F, valid UTF-8) they behave exactly like their ESC forms.

use std::fmt::Write as _;
use std::ops::Range;

use crate::model::format;

/// Characters a tab moves to a multiple of.
pub const TAB_WIDTH: usize = 8;
/// Default cap on the text drawn for one line.
pub const DEFAULT_DISPLAY_CAP: usize = 16 * 1024;
/// Default cap on the text kept for search and save.
pub const DEFAULT_KEEP_CAP: usize = 1024 * 1024;

const SPACES: &str = "        ";
const MAX_PARAMS: usize = 32;
/// Style runs kept per line. A rainbow of one colour per character would otherwise
/// cost 18 bytes of spans per byte of text; past this the rest is drawn unstyled.
const MAX_SPANS: usize = 1024;
/// Scratch space a parser keeps between lines; a huge line's is given back.
const SCRATCH_KEEP: usize = 64 * 1024;
/// A guess at what the allocator adds to each heap block; memory accounting uses it.
const ALLOC_OVERHEAD: usize = 16;

/// A terminal colour as SGR can name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Color {
    Black,
    Red,
    Green,
    Yellow,
    Blue,
    Magenta,
    Cyan,
    White,
    BrightBlack,
    BrightRed,
    BrightGreen,
    BrightYellow,
    BrightBlue,
    BrightMagenta,
    BrightCyan,
    BrightWhite,
    /// `38;5;n`: the 256-colour palette.
    Indexed(u8),
    /// `38;2;r;g;b`: true colour.
    Rgb(u8, u8, u8),
}

const NAMED: [Color; 16] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::White,
    Color::BrightBlack,
    Color::BrightRed,
    Color::BrightGreen,
    Color::BrightYellow,
    Color::BrightBlue,
    Color::BrightMagenta,
    Color::BrightCyan,
    Color::BrightWhite,
];

impl Color {
    /// The 16 named colours by number: 0..=7 normal, 8..=15 bright.
    pub fn named(index: u8) -> Option<Color> {
        NAMED.get(usize::from(index)).copied()
    }

    fn named_index(self) -> Option<u8> {
        NAMED.iter().position(|&c| c == self).and_then(|i| u8::try_from(i).ok())
    }
}

/// The text attributes SGR sequences set, in portolan's own terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AnsiStyle {
    pub fg: Option<Color>,
    pub bg: Option<Color>,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub reverse: bool,
    pub strikethrough: bool,
}

impl AnsiStyle {
    pub fn is_default(&self) -> bool {
        *self == AnsiStyle::default()
    }

    /// The SGR sequence that sets exactly this style from any state, starting with a
    /// reset. Parsing it back gives the same style.
    pub fn to_sgr(&self) -> String {
        let mut out = String::from("\x1b[0");
        for (on, code) in [
            (self.bold, 1),
            (self.dim, 2),
            (self.italic, 3),
            (self.underline, 4),
            (self.reverse, 7),
            (self.strikethrough, 9),
        ] {
            if on {
                let _ = write!(out, ";{code}");
            }
        }
        for (color, base) in [(self.fg, 30u8), (self.bg, 40u8)] {
            match color {
                None => {}
                Some(Color::Indexed(n)) => {
                    let _ = write!(out, ";{};5;{n}", base + 8);
                }
                Some(Color::Rgb(r, g, b)) => {
                    let _ = write!(out, ";{};2;{r};{g};{b}", base + 8);
                }
                Some(named) => {
                    let n = named.named_index().unwrap_or(0);
                    let code = if n < 8 { base + n } else { base + 60 + n - 8 };
                    let _ = write!(out, ";{code}");
                }
            }
        }
        out.push('m');
        out
    }
}

/// A styled byte range of a line's drawn text. Gaps between spans are unstyled.
/// Offsets are 16-bit: the display cap is at most 64 KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u16,
    end: u16,
    style: AnsiStyle,
}

/// A run of display text with one style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    pub text: &'a str,
    pub style: AnsiStyle,
}

/// How raw bytes become a [`LogText`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineOptions {
    /// Keep SGR colours as styles; when false they are stripped like everything else.
    pub colors: bool,
    /// Bytes of plain text drawn (at most 64 KiB); the rest is replaced by a marker.
    pub display_cap: usize,
    /// Bytes of plain text kept for search and save; the rest is replaced by a marker.
    pub keep_cap: usize,
}

impl Default for LineOptions {
    fn default() -> Self {
        LineOptions { colors: true, display_cap: DEFAULT_DISPLAY_CAP, keep_cap: DEFAULT_KEEP_CAP }
    }
}

impl LineOptions {
    pub fn with_colors(mut self, colors: bool) -> Self {
        self.colors = colors;
        self
    }

    /// Sets both caps. The kept text is never shorter than the drawn text, and stays
    /// addressable with 32-bit offsets; the drawn text with 16-bit ones.
    pub fn with_caps(mut self, display_cap: usize, keep_cap: usize) -> Self {
        self.keep_cap = keep_cap.min(u32::MAX as usize / 2);
        self.display_cap = display_cap.min(self.keep_cap).min(usize::from(u16::MAX));
        self
    }
}

/// One line of log text, safe to draw: plain text plus style spans over its start.
///
/// The text is stored once; [`LogText::segments`] borrows runs of it rather than
/// owning a `String` per styled run, so a line costs two heap blocks at most.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogText {
    /// Kept text, followed by a truncation marker when the line was longer than the
    /// keep cap.
    plain: Box<str>,
    spans: Box<[Span]>,
    /// Bytes of `plain` that are drawn.
    display_len: u32,
    /// Bytes of `plain` that are text, before any marker.
    kept_len: u32,
    /// Bytes of plain text the line had before any cap.
    full_len: u64,
}

impl LogText {
    /// Parses with the default options: colours kept, 16 KiB drawn, 1 MiB kept.
    pub fn parse(raw: &[u8]) -> LogText {
        LineParser::new(LineOptions::default()).parse(raw)
    }

    /// The text without styles, for search and save. Includes the truncation marker
    /// when the line was longer than the keep cap.
    pub fn plain(&self) -> &str {
        &self.plain
    }

    /// The part of the text that is drawn (no marker).
    pub fn display(&self) -> &str {
        self.plain.get(..self.display_len as usize).unwrap_or_default()
    }

    /// The drawn text in runs of one style, in order, covering [`LogText::display`].
    pub fn segments(&self) -> Segments<'_> {
        Segments { text: self.display(), spans: &self.spans, pos: 0, next_span: 0 }
    }

    /// The drawn segments cut again at the edges of `marks` (byte ranges in
    /// [`LogText::plain`], sorted, as search returns them), each piece flagged with
    /// whether it lies in a mark: what a pane needs to paint search matches over the
    /// line's own colours.
    pub fn marked_segments(&self, marks: &[Range<usize>]) -> Vec<(Segment<'_>, bool)> {
        let mut out = Vec::new();
        let mut offset = 0;
        let mut marks = marks.iter().filter(|m| m.start < m.end).peekable();
        for segment in self.segments() {
            let end = offset + segment.text.len();
            let mut pos = offset;
            while pos < end {
                // Skip marks that end before this point.
                while marks.peek().is_some_and(|m| m.end <= pos) {
                    marks.next();
                }
                let (cut, marked) = match marks.peek() {
                    Some(m) if m.start <= pos => (m.end.min(end), true),
                    Some(m) => (m.start.min(end), false),
                    None => (end, false),
                };
                // Marks from a regex are on character boundaries; others are widened.
                let cut = ceil_char_boundary(self.display(), cut).min(end);
                let text = self.display().get(pos..cut).unwrap_or_default();
                out.push((Segment { text, style: segment.style }, marked));
                pos = cut;
            }
            offset = end;
        }
        out
    }

    /// Whether any part of the drawn text is styled.
    pub fn has_styles(&self) -> bool {
        !self.spans.is_empty()
    }

    /// Bytes of plain text the line had before any cap.
    pub fn full_len(&self) -> u64 {
        self.full_len
    }

    /// Bytes of plain text not drawn, when the line is longer than the display cap.
    pub fn display_cut(&self) -> Option<u64> {
        let shown = u64::from(self.display_len);
        (self.full_len > shown).then(|| self.full_len - shown)
    }

    /// What to draw after [`LogText::display`] when the line was cut:
    /// `… [truncated 1.00MiB]`.
    pub fn display_marker(&self) -> Option<String> {
        self.display_cut().map(truncation_marker)
    }

    /// Bytes of plain text dropped for good because the line exceeded the keep cap.
    pub fn kept_cut(&self) -> Option<u64> {
        let kept = u64::from(self.kept_len);
        (self.full_len > kept).then(|| self.full_len - kept)
    }

    /// Approximate heap bytes this text holds, allocator overhead included.
    pub fn heap_bytes(&self) -> usize {
        let mut bytes = 0;
        if !self.plain.is_empty() {
            bytes += self.plain.len() + ALLOC_OVERHEAD;
        }
        if !self.spans.is_empty() {
            bytes += std::mem::size_of_val::<[Span]>(&self.spans) + ALLOC_OVERHEAD;
        }
        bytes
    }
}

fn truncation_marker(cut: u64) -> String {
    format!("… [truncated {}]", format::bytes(cut))
}

/// Iterator over the styled runs of a line's drawn text.
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    text: &'a str,
    spans: &'a [Span],
    pos: usize,
    next_span: usize,
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        if self.pos >= self.text.len() {
            return None;
        }
        let (end, style) = match self.spans.get(self.next_span) {
            Some(span) if (span.start as usize) > self.pos => {
                (span.start as usize, AnsiStyle::default())
            }
            Some(span) => {
                self.next_span += 1;
                (span.end as usize, span.style)
            }
            None => (self.text.len(), AnsiStyle::default()),
        };
        let text = self.text.get(self.pos..end)?;
        self.pos = end;
        Some(Segment { text, style })
    }
}

/// Turns raw lines into [`LogText`]s, reusing its scratch buffers between lines so
/// that a line costs exactly the allocations it keeps.
#[derive(Debug, Clone, Default)]
pub struct LineParser {
    options: LineOptions,
    plain: String,
    spans: Vec<Span>,
}

impl LineParser {
    pub fn new(options: LineOptions) -> Self {
        let options = options.with_caps(options.display_cap, options.keep_cap);
        LineParser { options, plain: String::new(), spans: Vec::new() }
    }

    pub fn options(&self) -> &LineOptions {
        &self.options
    }

    /// Parses one line. A single trailing `\n` (or `\r\n`) is ignored; any other
    /// line feed inside the bytes shows as a space.
    pub fn parse(&mut self, raw: &[u8]) -> LogText {
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        self.plain.clear();
        self.spans.clear();
        // Most lines lose only a few bytes of escapes: size for the raw length once.
        self.plain.reserve(raw.len().min(self.options.keep_cap));
        if self.plain.capacity() > SCRATCH_KEEP {
            self.plain = String::new();
        }
        let mut scanner = Scanner::new(&self.options, &mut self.plain, &mut self.spans);
        let mut after_invalid = false;
        for chunk in raw.utf8_chunks() {
            scanner.feed_str(chunk.valid());
            let garbage = after_invalid && chunk.valid().is_empty();
            after_invalid = !chunk.invalid().is_empty();
            match chunk.invalid() {
                [] => {}
                // A lone byte 0x80..=0x9f is an 8-bit C1 control, removed. Only CSI
                // (0x9b) takes its parameters along: the others could as well be
                // legacy text (cp1252 `ž` is 0x9e) and must not swallow the line.
                // Right after another invalid byte it is debris of a broken
                // character, shown like the rest.
                &[0x9b] if !garbage => scanner.feed_char('\u{9b}'),
                &[byte] if (0x80..=0x9f).contains(&byte) && !garbage => {}
                _ => scanner.feed_char(char::REPLACEMENT_CHARACTER),
            }
        }
        scanner.finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ground,
    /// After ESC.
    Escape,
    /// After ESC and an intermediate byte, as in `ESC ( B`.
    EscapeIntermediate,
    Csi,
    /// Inside OSC, DCS, SOS, PM or APC: swallowed up to BEL or ST.
    Str,
}

#[derive(Debug, Clone, Copy, Default)]
struct Param {
    value: u16,
    /// Introduced by `:` rather than `;`: a sub-parameter of the one before.
    sub: bool,
}

#[derive(Debug, Clone, Copy)]
struct Csi {
    params: [Param; MAX_PARAMS],
    len: usize,
    current: u16,
    current_sub: bool,
    /// A private marker (`?`, `<`, `=`, `>`) or intermediate byte: never SGR.
    not_sgr: bool,
}

impl Csi {
    fn new() -> Self {
        Csi {
            params: [Param::default(); MAX_PARAMS],
            len: 0,
            current: 0,
            current_sub: false,
            not_sgr: false,
        }
    }

    fn push_current(&mut self) {
        if let Some(slot) = self.params.get_mut(self.len) {
            *slot = Param { value: self.current, sub: self.current_sub };
            self.len += 1;
        }
        self.current = 0;
    }

    fn params(&self) -> &[Param] {
        self.params.get(..self.len).unwrap_or_default()
    }
}

struct Scanner<'s> {
    opts: &'s LineOptions,
    plain: &'s mut String,
    spans: &'s mut Vec<Span>,
    state: State,
    style: AnsiStyle,
    span_start: usize,
    /// Plain bytes since the last effective `\r`, cut or not.
    total: u64,
    /// The keep cap was reached: count, do not store.
    full: bool,
    pending_cr: bool,
    /// Tab stops: the column at `col_base_byte` of the plain text.
    col_base: usize,
    col_base_byte: usize,
    csi: Csi,
}

impl<'s> Scanner<'s> {
    fn new(opts: &'s LineOptions, plain: &'s mut String, spans: &'s mut Vec<Span>) -> Self {
        Scanner {
            opts,
            plain,
            spans,
            state: State::Ground,
            style: AnsiStyle::default(),
            span_start: 0,
            total: 0,
            full: false,
            pending_cr: false,
            col_base: 0,
            col_base_byte: 0,
            csi: Csi::new(),
        }
    }

    fn feed_str(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match self.state {
                State::Ground => {
                    let end = plain_run_end(bytes, i);
                    if end > i {
                        self.emit(s.get(i..end).unwrap_or_default());
                        i = end;
                        continue;
                    }
                }
                State::Str => {
                    let end = string_run_end(bytes, i);
                    if end > i {
                        i = end;
                        continue;
                    }
                }
                _ => {}
            }
            // `i` is always on a character boundary here.
            let Some(c) = s.get(i..).and_then(|rest| rest.chars().next()) else { break };
            i += c.len_utf8();
            self.feed_char(c);
        }
    }

    fn feed_char(&mut self, c: char) {
        // A character that ends a malformed sequence is read again as text.
        loop {
            let again = match self.state {
                State::Ground => {
                    self.ground(c);
                    false
                }
                State::Escape => self.escape(c),
                State::EscapeIntermediate => self.escape_intermediate(c),
                State::Csi => self.csi(c),
                State::Str => {
                    self.string(c);
                    false
                }
            };
            if !again {
                break;
            }
        }
    }

    fn ground(&mut self, c: char) {
        match c {
            '\x1b' => self.state = State::Escape,
            '\u{9b}' => self.start_c1_csi(),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => self.state = State::Str,
            '\t' => self.tab(),
            '\r' => self.pending_cr = true,
            '\n' => self.emit(" "),
            c if is_removed(c) => {}
            c => {
                let mut buf = [0; 4];
                self.emit(c.encode_utf8(&mut buf));
            }
        }
    }

    /// Returns whether `c` must be read again in the new state.
    fn escape(&mut self, c: char) -> bool {
        match c {
            '[' => self.start_csi(),
            ']' | 'P' | 'X' | '^' | '_' => self.state = State::Str,
            '\x1b' => {}
            ' '..='/' => self.state = State::EscapeIntermediate,
            '0'..='~' => self.state = State::Ground,
            _ => {
                self.state = State::Ground;
                return true;
            }
        }
        false
    }

    fn escape_intermediate(&mut self, c: char) -> bool {
        match c {
            ' '..='/' => {}
            '0'..='~' => self.state = State::Ground,
            '\x1b' => self.state = State::Escape,
            _ => {
                self.state = State::Ground;
                return true;
            }
        }
        false
    }

    fn start_csi(&mut self) {
        self.csi = Csi::new();
        self.state = State::Csi;
    }

    /// The 8-bit CSI is removed like any CSI but never read as SGR: no terminal in
    /// UTF-8 mode would have drawn its colours either.
    fn start_c1_csi(&mut self) {
        self.start_csi();
        self.csi.not_sgr = true;
    }

    fn csi(&mut self, c: char) -> bool {
        match c {
            '0'..='9' => {
                let digit = c as u16 - u16::from(b'0');
                self.csi.current = self.csi.current.saturating_mul(10).saturating_add(digit);
            }
            ';' => {
                self.csi.push_current();
                self.csi.current_sub = false;
            }
            ':' => {
                self.csi.push_current();
                self.csi.current_sub = true;
            }
            '<'..='?' | ' '..='/' => self.csi.not_sgr = true,
            '@'..='~' => {
                self.csi.push_current();
                self.state = State::Ground;
                if c == 'm' && !self.csi.not_sgr && self.opts.colors {
                    let mut style = self.style;
                    apply_sgr(&mut style, self.csi.params());
                    self.set_style(style);
                }
            }
            '\x1b' => self.state = State::Escape,
            '\x18' | '\x1a' => self.state = State::Ground,
            // Other C0 controls and DEL inside a CSI are dropped; the CSI goes on.
            '\0'..='\x1f' | '\x7f' => {}
            _ => {
                self.state = State::Ground;
                return true;
            }
        }
        false
    }

    fn string(&mut self, c: char) {
        match c {
            '\x07' | '\u{9c}' | '\x18' | '\x1a' => self.state = State::Ground,
            // ESC \ is ST; ESC anything else starts a new sequence. Both work from
            // the escape state, since `\` is an ordinary final byte there.
            '\x1b' => self.state = State::Escape,
            _ => {}
        }
    }

    fn set_style(&mut self, style: AnsiStyle) {
        if style == self.style {
            return;
        }
        self.close_span();
        self.style = style;
        self.span_start = self.plain.len();
    }

    fn close_span(&mut self) {
        let end = self.plain.len();
        if self.style.is_default()
            || end <= self.span_start
            || self.span_start >= self.display_cap()
        {
            return;
        }
        let start = self.span_start as u16;
        let end = end.min(self.display_cap()) as u16;
        let full = self.spans.len() >= MAX_SPANS;
        match self.spans.last_mut() {
            Some(last) if last.end == start && last.style == self.style => last.end = end,
            _ if full => {}
            _ => self.spans.push(Span { start, end, style: self.style }),
        }
    }

    fn display_cap(&self) -> usize {
        self.opts.display_cap
    }

    fn restart_line(&mut self) {
        self.plain.clear();
        self.spans.clear();
        self.span_start = 0;
        self.total = 0;
        self.full = false;
        self.col_base = 0;
        self.col_base_byte = 0;
        self.pending_cr = false;
    }

    fn emit(&mut self, text: &str) {
        if self.pending_cr {
            self.restart_line();
        }
        self.total += text.len() as u64;
        if self.full {
            return;
        }
        let room = self.opts.keep_cap.saturating_sub(self.plain.len());
        let take = if text.len() <= room {
            text
        } else {
            // Once something is cut, nothing after it may be kept: the kept text
            // must be a prefix of the line, not a line with holes.
            self.full = true;
            text.get(..floor_char_boundary(text, room)).unwrap_or_default()
        };
        self.plain.push_str(take);
    }

    fn tab(&mut self) {
        if self.pending_cr {
            self.restart_line();
        }
        let since = self.plain.get(self.col_base_byte..).unwrap_or_default();
        let col = self.col_base + since.chars().count();
        let width = TAB_WIDTH - col % TAB_WIDTH;
        self.emit(SPACES.get(..width).unwrap_or(SPACES));
        self.col_base = col + width;
        self.col_base_byte = self.plain.len();
    }

    fn finish(mut self) -> LogText {
        self.close_span();
        let plain = self.plain;
        let kept = plain.len();
        let display_len = floor_char_boundary(plain, self.opts.display_cap.min(kept));
        let spans = self.spans;
        spans.retain(|span| (span.start as usize) < display_len);
        if let Some(last) = spans.last_mut() {
            last.end = last.end.min(display_len as u16);
        }
        if self.total > kept as u64 {
            plain.push_str(&truncation_marker(self.total - kept as u64));
        }
        LogText {
            plain: Box::from(plain.as_str()),
            spans: Box::from(spans.as_slice()),
            display_len: display_len as u32,
            kept_len: kept as u32,
            full_len: self.total,
        }
    }
}

/// Where the run of bytes that can be copied as they are ends: printable ASCII and
/// every non-ASCII character except C1 controls and bidirectional controls.
fn plain_run_end(bytes: &[u8], mut i: usize) -> usize {
    while let Some(&b) = bytes.get(i) {
        let next = |k: usize| bytes.get(i + k).copied().unwrap_or(0);
        let stop = match b {
            0x20..=0x7e => false,
            0x00..=0x1f | 0x7f => true,
            // U+0080..U+009F: C2 80..C2 9F.
            0xc2 => next(1) < 0xa0,
            // U+061C arabic letter mark: D8 9C.
            0xd8 => next(1) == 0x9c,
            // U+200E/F, U+202A..U+202E: E2 80 xx; U+2066..U+2069: E2 81 A6..A9.
            0xe2 => matches!(
                (next(1), next(2)),
                (0x80, 0x8e | 0x8f | 0xaa..=0xae) | (0x81, 0xa6..=0xa9)
            ),
            _ => false,
        };
        if stop {
            break;
        }
        i += 1;
    }
    i
}

/// Inside a string sequence, where the bytes that cannot end it stop.
fn string_run_end(bytes: &[u8], mut i: usize) -> usize {
    while let Some(&b) = bytes.get(i) {
        // 0xc2 may start U+009C, the 8-bit string terminator.
        if matches!(b, 0x07 | 0x1b | 0x18 | 0x1a | 0xc2) {
            break;
        }
        i += 1;
    }
    i
}

fn is_removed(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn ceil_char_boundary(s: &str, mut index: usize) -> usize {
    while index < s.len() && !s.is_char_boundary(index) {
        index += 1;
    }
    index.min(s.len())
}

fn floor_char_boundary(s: &str, mut index: usize) -> usize {
    if index >= s.len() {
        return s.len();
    }
    while index > 0 && !s.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn apply_sgr(style: &mut AnsiStyle, params: &[Param]) {
    let mut i = 0;
    while let Some(param) = params.get(i) {
        // A parameter with `:` sub-parameters is one self-contained group.
        let subs_end = params
            .get(i + 1..)
            .and_then(|rest| rest.iter().position(|p| !p.sub))
            .map_or(params.len(), |n| i + 1 + n);
        let group = params.get(i + 1..subs_end).unwrap_or_default();
        let code = param.value;
        if !group.is_empty() {
            apply_group(style, code, group);
            i = subs_end;
            continue;
        }
        match code {
            38 | 48 | 58 => {
                let value = |k: usize| params.get(i + k).map(|p| p.value);
                let (color, used) = match value(1) {
                    Some(5) => (value(2).and_then(indexed), 3),
                    Some(2) => match (value(2), value(3), value(4)) {
                        (Some(r), Some(g), Some(b)) => (rgb(r, g, b), 5),
                        _ => (None, params.len()),
                    },
                    // Malformed extended colour: the rest cannot be trusted.
                    _ => (None, params.len()),
                };
                set_color(style, code, color);
                i += used;
            }
            _ => {
                apply_code(style, code);
                i += 1;
            }
        }
    }
}

/// `38:5:n`, `38:2::r:g:b` (with colour space), `38:2:r:g:b`, `4:3` (curly underline).
fn apply_group(style: &mut AnsiStyle, code: u16, subs: &[Param]) {
    let v: [Option<u16>; 5] = std::array::from_fn(|k| subs.get(k).map(|p| p.value));
    match code {
        38 | 48 | 58 => {
            let color = match (v[0], subs.len()) {
                (Some(5), _) => v[1].and_then(indexed),
                (Some(2), n) if n >= 5 => match (v[2], v[3], v[4]) {
                    (Some(r), Some(g), Some(b)) => rgb(r, g, b),
                    _ => None,
                },
                (Some(2), 4) => match (v[1], v[2], v[3]) {
                    (Some(r), Some(g), Some(b)) => rgb(r, g, b),
                    _ => None,
                },
                _ => None,
            };
            set_color(style, code, color);
        }
        4 => style.underline = v[0] != Some(0),
        _ => apply_code(style, code),
    }
}

fn indexed(n: u16) -> Option<Color> {
    u8::try_from(n).ok().map(Color::Indexed)
}

fn rgb(r: u16, g: u16, b: u16) -> Option<Color> {
    Some(Color::Rgb(u8::try_from(r).ok()?, u8::try_from(g).ok()?, u8::try_from(b).ok()?))
}

fn set_color(style: &mut AnsiStyle, code: u16, color: Option<Color>) {
    let Some(color) = color else { return };
    match code {
        38 => style.fg = Some(color),
        48 => style.bg = Some(color),
        // 58 is the underline colour: accepted, not kept.
        _ => {}
    }
}

fn apply_code(style: &mut AnsiStyle, code: u16) {
    let named = |n: u16| u8::try_from(n).ok().and_then(Color::named);
    match code {
        0 => *style = AnsiStyle::default(),
        1 => style.bold = true,
        2 => style.dim = true,
        3 => style.italic = true,
        4 | 21 => style.underline = true,
        7 => style.reverse = true,
        9 => style.strikethrough = true,
        22 => {
            style.bold = false;
            style.dim = false;
        }
        23 => style.italic = false,
        24 => style.underline = false,
        27 => style.reverse = false,
        29 => style.strikethrough = false,
        30..=37 => style.fg = named(code - 30),
        39 => style.fg = None,
        40..=47 => style.bg = named(code - 40),
        49 => style.bg = None,
        90..=97 => style.fg = named(code - 90 + 8),
        100..=107 => style.bg = named(code - 100 + 8),
        // 5/6 blink, 8 conceal, 28 reveal, fonts, frames...: ignored on purpose.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(raw: &[u8]) -> String {
        LogText::parse(raw).plain().to_string()
    }

    fn styles(raw: &[u8]) -> Vec<(String, AnsiStyle)> {
        LogText::parse(raw).segments().map(|s| (s.text.to_string(), s.style)).collect()
    }

    fn fg(color: Color) -> AnsiStyle {
        AnsiStyle { fg: Some(color), ..AnsiStyle::default() }
    }

    #[test]
    fn plain_text_is_one_unstyled_segment() {
        let text = LogText::parse(b"GET /health 200 \xe2\x9c\x93 caf\xc3\xa9\n");
        assert_eq!(text.plain(), "GET /health 200 ✓ café");
        assert!(!text.has_styles());
        assert_eq!(styles(b"hello"), vec![("hello".to_string(), AnsiStyle::default())]);
        assert_eq!(text.display_cut(), None);
        assert_eq!(text.kept_cut(), None);
    }

    #[test]
    fn csi_sequences_are_removed() {
        // Clear screen, cursor moves, erase line, scroll region, cursor hide.
        assert_eq!(plain(b"a\x1b[2Jb\x1b[10;10Hc\x1b[Kd\x1b[1;24re\x1b[?25lf"), "abcdef");
        // Bracketed paste and the alternate screen, on and off (DECSET/DECRST).
        assert_eq!(plain(b"\x1b[?2004hpaste\x1b[?2004l \x1b[?1049halt\x1b[?1049l"), "paste alt");
        // A private marker or intermediate byte with final `m` is not SGR.
        let text = LogText::parse(b"\x1b[>4;2mkeys\x1b[1 mx");
        assert_eq!(text.plain(), "keysx");
        assert!(!text.has_styles());
        // Device status and attribute queries would make the terminal answer.
        assert_eq!(plain(b"q\x1b[6n\x1b[c\x1b[>c"), "q");
    }

    #[test]
    fn osc_sequences_are_removed_with_either_terminator() {
        assert_eq!(plain(b"a\x1b]0;pwned title\x07b"), "ab");
        assert_eq!(plain(b"a\x1b]2;pwned title\x1b\\b"), "ab");
        // OSC 52 asks the terminal to write the clipboard.
        assert_eq!(plain(b"x\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07y"), "xy");
        // Hyperlinks lose the link, keep the words.
        assert_eq!(
            plain(b"see \x1b]8;;http://evil.example\x1b\\the docs\x1b]8;;\x1b\\."),
            "see the docs."
        );
        // C1 string terminator.
        assert_eq!(plain("a\x1b]0;t\u{9c}b".as_bytes()), "ab");
    }

    #[test]
    fn dcs_apc_pm_sos_are_removed() {
        assert_eq!(plain(b"a\x1bP1$r0m\x1b\\b"), "ab");
        assert_eq!(plain(b"a\x1bPq#0;2;0;0;0#1!\x1b\\b"), "ab");
        assert_eq!(plain(b"a\x1b_Gf=100;AAAA\x1b\\b"), "ab");
        assert_eq!(plain(b"a\x1b^privacy\x1b\\b"), "ab");
        assert_eq!(plain(b"a\x1bXstring\x1b\\b"), "ab");
        // CAN aborts a string; what follows is text again.
        assert_eq!(plain(b"a\x1b]0;title\x18b"), "ab");
    }

    #[test]
    fn c1_controls_are_removed_as_bytes_and_as_code_points() {
        // 0x9b alone is invalid UTF-8: the 8-bit CSI, parameters and all.
        assert_eq!(plain(b"x\x9b2Jy\x9b31mz"), "xyz");
        assert!(!LogText::parse(b"x\x9b31mz").has_styles());
        // Other C1 bytes (OSC, ST, NEL, IND) go alone: as bytes they are more often
        // legacy text than controls, so they do not swallow what follows.
        assert_eq!(plain(b"a\x9d0;title\x9cb\x85c\x84d"), "a0;titlebcd");
        // After another invalid byte, a C1-range byte is debris of a broken character.
        assert_eq!(plain(b"\xed\xa0\x80x"), "\u{FFFD}\u{FFFD}\u{FFFD}x");
        // The same as code points (valid UTF-8).
        assert_eq!(plain("x\u{9b}2Jy\u{9d}0;t\u{7}z\u{85}!".as_bytes()), "xyz!");
        assert_eq!(plain("a\u{90}dcs\u{9c}b\u{9f}apc\u{9c}c".as_bytes()), "abc");
    }

    #[test]
    fn short_escapes_and_controls_are_removed() {
        // Save/restore cursor, full reset, reverse index, keypad mode, charsets,
        // DEC screen alignment test.
        assert_eq!(plain(b"a\x1b7b\x1b8c\x1bcd\x1bMe\x1b=f\x1b(Bg\x1b)0h\x1b#8i"), "abcdefghi");
        // NUL, BEL, backspace, VT, FF, SO, SI, DEL.
        assert_eq!(plain(b"a\x00b\x07c\x08d\x0be\x0cf\x0eg\x0fh\x7fi"), "abcdefghi");
        // Bidirectional overrides, isolates and marks.
        assert_eq!(
            plain("user\u{202E}gnp.exe \u{2066}a\u{2069}\u{200F}\u{061C}".as_bytes()),
            "usergnp.exe a"
        );
    }

    #[test]
    fn malformed_sequences_end_cleanly() {
        assert_eq!(plain(b"end\x1b"), "end");
        assert_eq!(plain(b"end\x1b["), "end");
        assert_eq!(plain(b"end\x1b[12;"), "end");
        assert_eq!(plain(b"end\x1b]unterminated title"), "end");
        // ESC inside a CSI starts over; a non-ASCII character ends the CSI and stays.
        assert_eq!(plain(b"a\x1b[12\x1b[31mb"), "ab");
        assert_eq!(plain("a\x1b[1é".as_bytes()), "aé");
        // ESC ESC [ ... still one sequence.
        assert_eq!(plain(b"a\x1b\x1b[2Jb"), "ab");
        // Absurd parameters saturate instead of overflowing.
        assert_eq!(plain(b"a\x1b[99999999999999999999;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1mb"), "ab");
    }

    #[test]
    fn invalid_utf8_is_shown_lossily() {
        assert_eq!(plain(b"a\xffb"), "a\u{FFFD}b");
        assert_eq!(plain(b"cut \xe2\x82"), "cut \u{FFFD}");
        assert_eq!(plain(b"\xc3\x28"), "\u{FFFD}(");
        assert_eq!(plain(b"\xf0\x9f\x92x"), String::from_utf8_lossy(b"\xf0\x9f\x92x"));
    }

    #[test]
    fn tabs_expand_to_the_next_multiple_of_eight() {
        assert_eq!(plain(b"a\tb"), "a       b");
        assert_eq!(plain(b"12345678\tx"), "12345678        x");
        assert_eq!(plain(b"\t\tx"), " ".repeat(16) + "x");
        // Columns count characters, not bytes, and escapes take no column.
        assert_eq!(plain("é\tx".as_bytes()), "é       x");
        assert_eq!(plain(b"\x1b[31mab\x1b[0m\tc"), "ab      c");
        assert_eq!(plain(b"abc\tde\tf"), "abc     de      f");
    }

    #[test]
    fn carriage_return_keeps_the_final_overwrite() {
        assert_eq!(plain(b"progress 10%\rprogress 100%"), "progress 100%");
        assert_eq!(plain(b"a\rb\rlast"), "last");
        assert_eq!(plain(b"crlf line\r\n"), "crlf line");
        assert_eq!(plain(b"trailing\r"), "trailing");
        // Tab stops restart with the line.
        assert_eq!(plain(b"long prefix\rab\tc"), "ab      c");
        // A style set before the return is still in force after it.
        assert_eq!(styles(b"old\x1b[31m\rnew"), vec![("new".to_string(), fg(Color::Red))]);
    }

    #[test]
    fn line_feeds_inside_a_line_become_spaces() {
        assert_eq!(plain(b"one\ntwo\n"), "one two");
    }

    #[test]
    fn sgr_colours_become_styles() {
        assert_eq!(
            styles(b"a\x1b[31mb\x1b[0mc"),
            vec![
                ("a".to_string(), AnsiStyle::default()),
                ("b".to_string(), fg(Color::Red)),
                ("c".to_string(), AnsiStyle::default()),
            ]
        );
        let bold_green_on_blue = AnsiStyle {
            fg: Some(Color::Green),
            bg: Some(Color::Blue),
            bold: true,
            ..AnsiStyle::default()
        };
        assert_eq!(styles(b"\x1b[1;32;44mx"), vec![("x".to_string(), bold_green_on_blue)]);
        assert_eq!(styles(b"\x1b[38;5;208mx")[0].1, fg(Color::Indexed(208)));
        assert_eq!(styles(b"\x1b[38;2;1;2;3mx")[0].1, fg(Color::Rgb(1, 2, 3)));
        assert_eq!(styles(b"\x1b[38:2::1:2:3mx")[0].1, fg(Color::Rgb(1, 2, 3)));
        assert_eq!(styles(b"\x1b[38:2:1:2:3mx")[0].1, fg(Color::Rgb(1, 2, 3)));
        assert_eq!(
            styles(b"\x1b[38:5:9;1mx")[0].1,
            AnsiStyle { bold: true, ..fg(Color::Indexed(9)) }
        );
        assert_eq!(styles(b"\x1b[91mx")[0].1, fg(Color::BrightRed));
        assert_eq!(styles(b"\x1b[48;5;1;103mx")[0].1.bg, Some(Color::BrightYellow));
        // 38;5 then 4: the index is consumed, underline applies.
        let style = styles(b"\x1b[38;5;4;4mx")[0].1;
        assert_eq!((style.fg, style.underline), (Some(Color::Indexed(4)), true));
    }

    #[test]
    fn sgr_resets() {
        assert_eq!(styles(b"\x1b[31;44ma\x1b[39mb")[1].1.fg, None);
        assert_eq!(styles(b"\x1b[31;44ma\x1b[39mb")[1].1.bg, Some(Color::Blue));
        assert_eq!(styles(b"\x1b[31;44ma\x1b[49mb")[1].1, fg(Color::Red));
        assert_eq!(styles(b"\x1b[1;2;3ma\x1b[22;23mb")[1].1, AnsiStyle::default());
        assert_eq!(styles(b"\x1b[31ma\x1b[mb")[1].1, AnsiStyle::default());
        assert!(styles(b"\x1b[4:3ma")[0].1.underline);
        assert!(!LogText::parse(b"\x1b[4:0ma").has_styles());
        // Conceal and blink are ignored: text stays visible and still.
        assert!(!LogText::parse(b"\x1b[8;5msecret").has_styles());
        // A malformed extended colour leaves the style alone.
        assert_eq!(
            styles(b"\x1b[1;38;7;1mx")[0].1,
            AnsiStyle { bold: true, ..AnsiStyle::default() }
        );
    }

    #[test]
    fn same_style_runs_merge_and_colourless_parsing_strips_sgr() {
        assert_eq!(styles(b"\x1b[31ma\x1b[31mb"), vec![("ab".to_string(), fg(Color::Red))]);
        let mut parser = LineParser::new(LineOptions::default().with_colors(false));
        let text = parser.parse(b"\x1b[1;31mERROR\x1b[0m disk \x1b[2Jfull");
        assert_eq!(text.plain(), "ERROR disk full");
        assert!(!text.has_styles());
    }

    #[test]
    fn styles_round_trip_through_sgr() {
        let samples = [
            AnsiStyle::default(),
            fg(Color::Red),
            AnsiStyle { bg: Some(Color::BrightCyan), italic: true, ..AnsiStyle::default() },
            AnsiStyle {
                fg: Some(Color::Rgb(255, 128, 0)),
                bg: Some(Color::Indexed(17)),
                bold: true,
                dim: true,
                underline: true,
                reverse: true,
                strikethrough: true,
                italic: true,
            },
            fg(Color::BrightWhite),
            fg(Color::Black),
        ];
        for style in samples {
            let raw = format!("{}x", style.to_sgr());
            let text = LogText::parse(raw.as_bytes());
            let parsed = text.segments().next().map(|s| s.style);
            assert_eq!(parsed, Some(style), "{raw:?}");
        }
    }

    #[test]
    fn a_huge_line_is_cut_for_display_and_kept_for_search() {
        let mut raw = b"\x1b[31mstart ".to_vec();
        raw.resize(1_000_000, b'x');
        raw.extend_from_slice(b" needle");
        let text = LogText::parse(&raw);
        assert_eq!(text.display().len(), DEFAULT_DISPLAY_CAP);
        assert_eq!(text.plain().len(), 1_000_000 - 5 + 7);
        assert!(text.plain().ends_with(" needle"));
        assert_eq!(text.kept_cut(), None);
        let hidden = 1_000_002 - DEFAULT_DISPLAY_CAP as u64;
        assert_eq!(text.display_cut(), Some(hidden));
        assert_eq!(text.display_marker().as_deref(), Some("… [truncated 961KiB]"));
        // Styles stop at the display cap: no span over text that is not drawn.
        let drawn: usize = text.segments().map(|s| s.text.len()).sum();
        assert_eq!(drawn, DEFAULT_DISPLAY_CAP);
    }

    #[test]
    fn beyond_the_keep_cap_the_text_is_cut_with_a_marker() {
        let raw = vec![b'y'; 3 * 1024 * 1024];
        let text = LogText::parse(&raw);
        assert_eq!(text.full_len(), 3 * 1024 * 1024);
        assert_eq!(text.kept_cut(), Some(2 * 1024 * 1024));
        assert!(text.plain().ends_with("y… [truncated 2.00MiB]"));
        assert_eq!(text.plain().len(), DEFAULT_KEEP_CAP + "… [truncated 2.00MiB]".len());
        // Nothing after the cut is kept, even if it would fit.
        let mut parser = LineParser::new(LineOptions::default().with_caps(4, 8));
        assert_eq!(parser.parse("abcdefgé!".as_bytes()).plain(), "abcdefg… [truncated 3B]");
    }

    #[test]
    fn caps_respect_character_boundaries() {
        let mut parser = LineParser::new(LineOptions::default().with_caps(5, 9));
        let text = parser.parse("ééééééé".as_bytes());
        assert_eq!(text.display(), "éé");
        assert_eq!(text.display_marker().as_deref(), Some("… [truncated 10B]"));
        assert!(text.plain().starts_with("éééé…"));
    }

    #[test]
    fn search_marks_cut_segments_without_losing_styles() {
        let text = LogText::parse(b"GET \x1b[31m/cart 500\x1b[0m timeout");
        let pieces: Vec<(&str, bool, bool)> = text
            .marked_segments(&[2..6, 14..16, 20..40])
            .into_iter()
            .map(|(s, marked)| (s.text, s.style.fg.is_some(), marked))
            .collect();
        assert_eq!(
            pieces,
            [
                ("GE", false, false),
                ("T ", false, true),
                ("/c", true, true),
                ("art 500", true, false),
                (" ", false, false),
                ("ti", false, true),
                ("meou", false, false),
                ("t", false, true),
            ]
        );
        let joined: String = text.marked_segments(&[]).iter().map(|(s, _)| s.text).collect();
        assert_eq!(joined, text.display());
    }

    #[test]
    fn a_rainbow_line_keeps_a_bounded_number_of_spans() {
        let mut raw = Vec::new();
        for i in 0..5000 {
            raw.extend_from_slice(format!("\x1b[3{}mx", i % 2 + 1).as_bytes());
        }
        let text = LogText::parse(&raw);
        assert_eq!(text.plain().len(), 5000);
        assert_eq!(text.segments().filter(|s| !s.style.is_default()).count(), MAX_SPANS);
        assert_eq!(text.segments().map(|s| s.text.len()).sum::<usize>(), 5000);
    }

    #[test]
    fn memory_is_two_exact_blocks_at_most() {
        let text = LogText::parse(b"\x1b[31mred\x1b[0m plain");
        assert_eq!(text.heap_bytes(), "red plain".len() + std::mem::size_of::<Span>() + 32);
        assert_eq!(LogText::parse(b"").heap_bytes(), 0);
        assert!(std::mem::size_of::<LogText>() <= 48);
    }
}
