//! Makes strings that come from containers safe to put on the operator's terminal.
//!
//! A container chooses its name, labels, environment, healthcheck output and log
//! bytes; the operator's terminal must never receive its control sequences. Every
//! such string passes through [`one_line`] (or [`multi_line`]) before it is drawn.

use std::borrow::Cow;

/// Removes escape sequences (CSI, OSC, DCS, APC, PM, SOS and two-byte ESC forms),
/// C0 and C1 control characters, DEL and bidirectional overrides; line breaks and
/// tabs become single spaces.
pub fn one_line(input: &str) -> Cow<'_, str> {
    clean(input, false)
}

/// As [`one_line`], but keeps `\n` so a caller can split lines itself.
pub fn multi_line(input: &str) -> Cow<'_, str> {
    clean(input, true)
}

/// Whether `c` may be drawn as it is: no control character, no bidirectional override.
pub fn is_printable(c: char) -> bool {
    is_safe(c, false)
}

fn is_safe(c: char, keep_newlines: bool) -> bool {
    !(c.is_control() && !(keep_newlines && c == '\n')) && !is_bidi_control(c)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn clean(input: &str, keep_newlines: bool) -> Cow<'_, str> {
    if input.chars().all(|c| is_safe(c, keep_newlines)) {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 forms of CSI/OSC/DCS/SOS/PM/APC introduce sequences too.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\n' if keep_newlines => out.push('\n'),
            '\n' | '\t' | '\r' => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c if !is_safe(c, keep_newlines) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_escape(chars: &mut Chars<'_>) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => {
            chars.next();
            skip_string(chars);
        }
        // Character set designations take one more byte: ESC ( B.
        Some('(') | Some(')') | Some('*') | Some('+') | Some('-') | Some('.') | Some('/')
        | Some('#') | Some('%') | Some(' ') => {
            chars.next();
            chars.next();
        }
        Some(_) => {
            chars.next();
        }
        None => {}
    }
}

/// CSI: parameter and intermediate bytes, then one final byte in `@`..=`~`.
fn skip_csi(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            // Malformed: stop at the first byte that cannot belong to a CSI.
            return;
        }
    }
}

/// OSC/DCS/SOS/PM/APC: everything up to BEL, ST (`ESC \`) or C1 ST.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(one_line("postgres-1 ünïcode ✓"), Cow::Borrowed(_)));
    }

    #[test]
    fn strips_terminal_attacks() {
        let nasty =
            "a\x1b[2Jb\x1b[10;10Hc\x1b]0;pwned\x07d\x1b]52;c;aGVsbG8=\x1b\\e\x1b[?2004hf\x1b(Bg";
        assert_eq!(one_line(nasty), "abcdefg");
        assert_eq!(one_line("x\u{9b}31my\u{9d}title\u{9c}z"), "xyz");
        assert_eq!(one_line("bell\x07 del\x7f nul\0"), "bell del nul");
        assert_eq!(one_line("rtl\u{202E}olleh"), "rtlolleh");
    }

    #[test]
    fn line_breaks_fold_or_stay() {
        assert_eq!(one_line("one\r\ntwo\tthree"), "one two three");
        assert_eq!(multi_line("one\ntwo\x1b[31m!"), "one\ntwo!");
    }

    #[test]
    fn truncated_sequences_do_not_swallow_panics() {
        assert_eq!(one_line("end\x1b"), "end");
        assert_eq!(one_line("end\x1b["), "end");
        assert_eq!(one_line("end\x1b]unterminated"), "end");
    }
}
