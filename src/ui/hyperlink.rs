//! OSC 8 hyperlinks on the URLs portolan itself builds (a published port that answered
//! HTTP), only where the terminal says it supports them.
//!
//! ratatui has no hyperlinks: a cell holds a symbol and a style. Putting the escape
//! sequence inside a cell's symbol (a known trick) makes ratatui miscount the cell's
//! width and its diff skip the cells after it. Instead the link is laid over the frame
//! after ratatui drew it ([`Hyperlinks::after_draw`]): the cells showing a URL are
//! written once more, with the same symbols and styles, between an OSC 8 opening and
//! closing. What is on the screen is then exactly what ratatui believes, so its diff of
//! the next frame stays right; a cell it rewrites later loses the link (the terminal
//! only links what is written while a link is open), and cells that showed a link in
//! the last frame but not in this one are rewritten plain, so no link is left behind.
//!
//! The sequence never carries container bytes: the URLs come from
//! [`crate::model::ports::http_url`] (a port number and a checked host), are checked
//! again by [`open`], and are found in the frame by their exact text.

use std::io::{self, Write};

use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::buffer::{Buffer, Cell};

/// Whether to write hyperlinks: `hyperlinks` in the config, `--hyperlinks` on the
/// command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum HyperlinkMode {
    /// When the environment names a terminal known to support them, outside tmux.
    #[default]
    Auto,
    Always,
    Never,
}

impl HyperlinkMode {
    pub fn parse(text: &str) -> Option<HyperlinkMode> {
        match text.trim() {
            "auto" => Some(HyperlinkMode::Auto),
            "always" => Some(HyperlinkMode::Always),
            "never" => Some(HyperlinkMode::Never),
            _ => None,
        }
    }

    /// Whether links are written, given the environment (`var` reads one variable).
    pub fn enabled(self, var: impl Fn(&str) -> Option<String>) -> bool {
        match self {
            HyperlinkMode::Always => true,
            HyperlinkMode::Never => false,
            HyperlinkMode::Auto => terminal_supports(var),
        }
    }
}

/// Whether the terminal announces OSC 8 support through its environment.
///
/// Inside tmux or screen the answer is no: the variables describe the outer terminal
/// as it was when the session started, and tmux passes links on only when told to
/// (`terminal-features … hyperlinks`, tmux 3.4+), which cannot be seen from here.
/// `hyperlinks = "always"` overrides that.
pub fn terminal_supports(var: impl Fn(&str) -> Option<String>) -> bool {
    let term = var("TERM").unwrap_or_default();
    if var("TMUX").is_some_and(|v| !v.is_empty())
        || var("STY").is_some_and(|v| !v.is_empty())
        || term.starts_with("screen")
        || term.starts_with("tmux")
        || term == "dumb"
    {
        return false;
    }
    let program = var("TERM_PROGRAM").unwrap_or_default();
    if matches!(program.as_str(), "iTerm.app" | "WezTerm" | "vscode" | "ghostty" | "rio") {
        return true;
    }
    // GNOME Terminal, Tilix and other VTE terminals since VTE 0.50.
    if var("VTE_VERSION").and_then(|v| v.trim().parse::<u32>().ok()).is_some_and(|v| v >= 5000) {
        return true;
    }
    if var("KITTY_WINDOW_ID").is_some() || var("WT_SESSION").is_some() {
        return true;
    }
    ["kitty", "foot", "alacritty", "wezterm", "ghostty"].iter().any(|name| term.contains(name))
}

/// The sequence that opens a link to `url`, or None when `url` holds anything but
/// printable ASCII (no escape, no BEL, no space could end or bend the sequence).
pub fn open(url: &str) -> Option<String> {
    if url.is_empty() || url.len() > 2048 || !url.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    Some(format!("\x1b]8;;{url}\x1b\\"))
}

/// The sequence that closes a link.
pub const CLOSE: &str = "\x1b]8;;\x1b\\";

/// Where a URL shows in a frame: `width` cells from (`x`, `y`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSpan {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub url: String,
}

/// Every place in `buffer` where one of `urls` is written whole on one row.
pub fn find(buffer: &Buffer, urls: &[String]) -> Vec<LinkSpan> {
    let mut spans = Vec::new();
    if urls.is_empty() {
        return spans;
    }
    let area = buffer.area;
    for y in area.top()..area.bottom() {
        // One-column ASCII cells only: a URL is ASCII, so a wide or empty cell breaks it.
        let row: Vec<u8> = (area.left()..area.right())
            .map(|x| match buffer[(x, y)].symbol().as_bytes() {
                [b] if b.is_ascii_graphic() => *b,
                _ => 0,
            })
            .collect();
        for url in urls {
            let needle = url.as_bytes();
            let mut from = 0;
            while let Some(at) = row
                .get(from..)
                .and_then(|rest| rest.windows(needle.len()).position(|w| w == needle))
            {
                let start = from + at;
                spans.push(LinkSpan {
                    x: area.left() + start as u16,
                    y,
                    width: needle.len() as u16,
                    url: url.clone(),
                });
                from = start + needle.len();
            }
        }
    }
    spans
}

/// The links of the last frame drawn, and whether links are written at all.
#[derive(Debug, Default)]
pub struct Hyperlinks {
    pub enabled: bool,
    drawn: Vec<LinkSpan>,
}

/// What [`Hyperlinks::plan`] found to write after a frame: cells to link and cells to
/// write plain again, each with a copy of what the frame holds there.
pub struct LinkWrites {
    link: Vec<(LinkSpan, Vec<Cell>)>,
    unlink: Vec<(LinkSpan, Vec<Cell>)>,
}

impl Hyperlinks {
    pub fn new(enabled: bool) -> Hyperlinks {
        Hyperlinks { enabled, drawn: Vec::new() }
    }

    /// Works out, from the frame just drawn, which cells to link and which to unlink.
    /// Separate from [`Hyperlinks::write`] because the frame borrows the terminal.
    pub fn plan(&mut self, buffer: &Buffer, urls: &[String]) -> Option<LinkWrites> {
        if !self.enabled || (urls.is_empty() && self.drawn.is_empty()) {
            return None;
        }
        let spans = find(buffer, urls);
        let cells = |span: &LinkSpan| -> Vec<Cell> {
            (span.x..span.x + span.width)
                .filter(|x| buffer.area.contains((*x, span.y).into()))
                .map(|x| buffer[(x, span.y)].clone())
                .collect()
        };
        let unlink = self
            .drawn
            .iter()
            .filter(|old| !spans.contains(old))
            .map(|span| (span.clone(), cells(span)))
            .collect();
        let link = spans.iter().map(|span| (span.clone(), cells(span))).collect();
        self.drawn = spans;
        Some(LinkWrites { link, unlink })
    }

    /// Writes the links (and the plain cells) over what ratatui drew.
    pub fn write<W: Write>(
        writes: LinkWrites,
        backend: &mut CrosstermBackend<W>,
    ) -> io::Result<()> {
        for (span, cells) in &writes.unlink {
            let content = cells.iter().enumerate().map(|(i, c)| (span.x + i as u16, span.y, c));
            backend.draw(content)?;
        }
        for (span, cells) in &writes.link {
            let Some(open) = open(&span.url) else { continue };
            backend.write_all(open.as_bytes())?;
            let content = cells.iter().enumerate().map(|(i, c)| (span.x + i as u16, span.y, c));
            backend.draw(content)?;
            backend.write_all(CLOSE.as_bytes())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use ratatui::layout::Rect;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn known_terminals_announce_support_and_tmux_hides_it() {
        let yes = [
            env(&[("TERM", "xterm-256color"), ("TERM_PROGRAM", "iTerm.app")]),
            env(&[("TERM", "xterm-256color"), ("TERM_PROGRAM", "WezTerm")]),
            env(&[("TERM", "xterm-256color"), ("TERM_PROGRAM", "vscode")]),
            env(&[("TERM", "xterm-ghostty")]),
            env(&[("TERM", "xterm-256color"), ("VTE_VERSION", "7600")]),
            env(&[("TERM", "xterm-kitty"), ("KITTY_WINDOW_ID", "1")]),
            env(&[("TERM", "xterm-256color"), ("WT_SESSION", "abc")]),
            env(&[("TERM", "foot")]),
            env(&[("TERM", "alacritty")]),
        ];
        for (i, var) in yes.iter().enumerate() {
            assert!(terminal_supports(var), "case {i}");
        }
        let no = [
            env(&[("TERM", "xterm-256color")]),
            env(&[("TERM", "xterm-256color"), ("VTE_VERSION", "4800")]),
            env(&[("TERM", "xterm-256color"), ("VTE_VERSION", "new")]),
            env(&[("TERM", "linux")]),
            env(&[("TERM", "dumb"), ("TERM_PROGRAM", "vscode")]),
            env(&[]),
            // The outer terminal supports them, but tmux may not pass them on.
            env(&[("TERM", "tmux-256color"), ("TERM_PROGRAM", "tmux")]),
            env(&[("TERM", "xterm-kitty"), ("KITTY_WINDOW_ID", "1"), ("TMUX", "/tmp/t,1,0")]),
            env(&[("TERM", "screen-256color"), ("TERM_PROGRAM", "iTerm.app")]),
        ];
        for (i, var) in no.iter().enumerate() {
            assert!(!terminal_supports(var), "case {i}");
        }
        let tmux = env(&[("TERM", "tmux-256color"), ("TMUX", "x")]);
        assert!(HyperlinkMode::Always.enabled(&tmux));
        assert!(!HyperlinkMode::Never.enabled(env(&[("TERM", "foot")])));
        assert!(HyperlinkMode::Auto.enabled(env(&[("TERM", "foot")])));
        assert_eq!(HyperlinkMode::parse("always"), Some(HyperlinkMode::Always));
        assert_eq!(HyperlinkMode::parse("sometimes"), None);
    }

    #[test]
    fn the_sequence_carries_only_printable_ascii() {
        assert_eq!(
            open("http://127.0.0.1:8080/").as_deref(),
            Some("\x1b]8;;http://127.0.0.1:8080/\x1b\\")
        );
        for bad in ["", "http://x/\x1b]8;;evil\x1b\\", "http://x/\x07", "http://a b/", "http://é/"]
        {
            assert_eq!(open(bad), None, "{bad:?}");
        }
        assert_eq!(CLOSE, "\x1b]8;;\x1b\\");
    }

    fn frame(lines: &[&str]) -> Buffer {
        Buffer::with_lines(lines.iter().copied())
    }

    #[test]
    fn urls_are_found_whole_on_a_row() {
        let url = "http://127.0.0.1:80/".to_string();
        let buffer = frame(&[
            "x http://127.0.0.1:80/ and http://127.0.0.1:80/",
            "http://127.0.0.1:8                              ",
        ]);
        let spans = find(&buffer, std::slice::from_ref(&url));
        assert_eq!(
            spans,
            vec![
                LinkSpan { x: 2, y: 0, width: 20, url: url.clone() },
                LinkSpan { x: 27, y: 0, width: 20, url: url.clone() },
            ]
        );
        assert!(find(&buffer, &[]).is_empty());
    }

    /// What the backend writes, kept where the test can read it.
    #[derive(Clone, Default)]
    struct Screen(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl Write for Screen {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn written(links: &mut Hyperlinks, buffer: &Buffer, urls: &[String]) -> String {
        let screen = Screen::default();
        let mut backend = CrosstermBackend::new(screen.clone());
        if let Some(writes) = links.plan(buffer, urls) {
            Hyperlinks::write(writes, &mut backend).expect("write");
        }
        Write::flush(&mut backend).expect("flush");
        String::from_utf8(screen.0.borrow().clone()).expect("utf-8")
    }

    #[test]
    fn a_link_is_written_over_its_cells_and_removed_when_it_goes() {
        let url = "http://127.0.0.1:80/".to_string();
        let urls = vec![url.clone()];
        let mut links = Hyperlinks::new(true);
        let first = frame(&["  http://127.0.0.1:80/  "]);
        let out = written(&mut links, &first, &urls);
        let open_at = out.find("\x1b]8;;http://127.0.0.1:80/\x1b\\").expect("opened");
        let text_at = out.rfind("http://127.0.0.1:80/").expect("the cells again");
        let close_at = out.rfind(CLOSE).expect("closed");
        assert!(open_at < text_at && text_at < close_at, "{out:?}");
        assert!(out.contains("\x1b[1;3H"), "starts at the URL's first cell: {out:?}");

        // The next frame shows something else there: those cells are written plain.
        let second = frame(&["  nothing listens here  "]);
        let out = written(&mut links, &second, &[]);
        assert!(!out.contains("\x1b]8"), "no link is opened: {out:?}");
        assert!(out.contains("nothing listens here"), "{out:?}");

        // Nothing linked, nothing to link: nothing is written at all.
        assert_eq!(written(&mut links, &second, &[]), "");
        let mut off = Hyperlinks::new(false);
        assert_eq!(written(&mut off, &first, &urls), "");
        assert_eq!(Rect::new(0, 0, 24, 1), first.area);
    }
}
