//! Keys as the bytes an xterm sends for them: what a shell in the pane receives while
//! it has the keyboard. Pure: a key and the screen's cursor-key mode in, bytes out.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The bytes for `key`, or none for keys a terminal sends nothing for (a lone
/// modifier, media keys). `application_cursor` is the mode the program in the
/// terminal asked for (`ESC [ ? 1 h`): arrows then send `ESC O A` instead of `ESC [ A`.
pub fn bytes(key: &KeyEvent, application_cursor: bool) -> Option<Vec<u8>> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    // xterm's modifier parameter: 1 + shift + 2·alt + 4·ctrl.
    let modifier = 1 + u8::from(shift) + 2 * u8::from(alt) + 4 * u8::from(ctrl);
    let mut out = Vec::new();
    match key.code {
        KeyCode::Char(c) => {
            if alt {
                out.push(0x1b);
            }
            match control_byte(c).filter(|_| ctrl) {
                Some(byte) => out.push(byte),
                None => {
                    let mut utf8 = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                }
            }
        }
        KeyCode::Enter => prefixed(&mut out, alt, b"\r"),
        KeyCode::Tab => prefixed(&mut out, alt, b"\t"),
        KeyCode::BackTab => out.extend_from_slice(b"\x1b[Z"),
        // DEL, as xterm sends by default; ctrl-backspace sends BS.
        KeyCode::Backspace => prefixed(&mut out, alt, if ctrl { b"\x08" } else { b"\x7f" }),
        KeyCode::Esc => prefixed(&mut out, alt, b"\x1b"),
        KeyCode::Up => cursor(&mut out, b'A', modifier, application_cursor),
        KeyCode::Down => cursor(&mut out, b'B', modifier, application_cursor),
        KeyCode::Right => cursor(&mut out, b'C', modifier, application_cursor),
        KeyCode::Left => cursor(&mut out, b'D', modifier, application_cursor),
        KeyCode::Home => cursor(&mut out, b'H', modifier, application_cursor),
        KeyCode::End => cursor(&mut out, b'F', modifier, application_cursor),
        KeyCode::Insert => tilde(&mut out, 2, modifier),
        KeyCode::Delete => tilde(&mut out, 3, modifier),
        KeyCode::PageUp => tilde(&mut out, 5, modifier),
        KeyCode::PageDown => tilde(&mut out, 6, modifier),
        KeyCode::F(n @ 1..=4) => {
            let last = b"PQRS"[usize::from(n - 1)];
            if modifier == 1 {
                out.extend_from_slice(&[0x1b, b'O', last]);
            } else {
                out.extend_from_slice(format!("\x1b[1;{modifier}").as_bytes());
                out.push(last);
            }
        }
        KeyCode::F(n @ 5..=12) => {
            let code = [15, 17, 18, 19, 20, 21, 23, 24][usize::from(n - 5)];
            tilde(&mut out, code, modifier);
        }
        _ => return None,
    }
    Some(out)
}

/// The control byte ctrl gives a character: `ctrl-c` is ETX, `ctrl-[` ESC, `ctrl-]`
/// GS. crossterm reports the bytes 0x1c–0x1f as ctrl with `4`–`7`, as xterm's
/// keyboard makes them, so those digits map back to the same bytes.
fn control_byte(c: char) -> Option<u8> {
    Some(match c {
        'a'..='z' => c as u8 - b'a' + 1,
        'A'..='Z' => c as u8 - b'A' + 1,
        '@' | ' ' | '2' => 0,
        '[' | '3' => 0x1b,
        '\\' | '4' => 0x1c,
        ']' | '5' => 0x1d,
        '^' | '6' => 0x1e,
        '_' | '7' | '/' => 0x1f,
        '?' | '8' => 0x7f,
        _ => return None,
    })
}

fn prefixed(out: &mut Vec<u8>, alt: bool, bytes: &[u8]) {
    if alt {
        out.push(0x1b);
    }
    out.extend_from_slice(bytes);
}

/// Arrows, Home and End: `ESC [ A` (or `ESC O A` in application mode), and with
/// modifiers `ESC [ 1 ; m A`.
fn cursor(out: &mut Vec<u8>, last: u8, modifier: u8, application: bool) {
    if modifier == 1 {
        out.extend_from_slice(&[0x1b, if application { b'O' } else { b'[' }, last]);
    } else {
        out.extend_from_slice(format!("\x1b[1;{modifier}").as_bytes());
        out.push(last);
    }
}

/// The `ESC [ n ~` keys, `ESC [ n ; m ~` with modifiers.
fn tilde(out: &mut Vec<u8>, code: u8, modifier: u8) {
    if modifier == 1 {
        out.extend_from_slice(format!("\x1b[{code}~").as_bytes());
    } else {
        out.extend_from_slice(format!("\x1b[{code};{modifier}~").as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Vec<u8> {
        bytes(&KeyEvent::new(code, modifiers), false).unwrap_or_default()
    }

    #[test]
    fn characters_and_control_keys() {
        let none = KeyModifiers::NONE;
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(key(KeyCode::Char('a'), none), b"a");
        assert_eq!(key(KeyCode::Char('é'), none), "é".as_bytes());
        assert_eq!(key(KeyCode::Char('A'), KeyModifiers::SHIFT), b"A");
        assert_eq!(key(KeyCode::Char('c'), ctrl), b"\x03");
        assert_eq!(key(KeyCode::Char('d'), ctrl), b"\x04");
        assert_eq!(key(KeyCode::Char('['), ctrl), b"\x1b");
        assert_eq!(key(KeyCode::Char('5'), ctrl), b"\x1d", "ctrl-] as crossterm reports it");
        assert_eq!(key(KeyCode::Char('x'), KeyModifiers::ALT), b"\x1bx");
        assert_eq!(key(KeyCode::Enter, none), b"\r");
        assert_eq!(key(KeyCode::Tab, none), b"\t");
        assert_eq!(key(KeyCode::BackTab, KeyModifiers::SHIFT), b"\x1b[Z");
        assert_eq!(key(KeyCode::Backspace, none), b"\x7f");
        assert_eq!(key(KeyCode::Esc, none), b"\x1b");
        assert_eq!(bytes(&KeyEvent::new(KeyCode::CapsLock, none), false), None);
    }

    #[test]
    fn cursor_and_function_keys_as_xterm_sends_them() {
        let none = KeyModifiers::NONE;
        assert_eq!(key(KeyCode::Up, none), b"\x1b[A");
        assert_eq!(key(KeyCode::Left, none), b"\x1b[D");
        assert_eq!(bytes(&KeyEvent::new(KeyCode::Up, none), true).unwrap_or_default(), b"\x1bOA");
        assert_eq!(key(KeyCode::Right, KeyModifiers::CONTROL), b"\x1b[1;5C");
        assert_eq!(key(KeyCode::Home, none), b"\x1b[H");
        assert_eq!(key(KeyCode::End, none), b"\x1b[F");
        assert_eq!(key(KeyCode::Delete, none), b"\x1b[3~");
        assert_eq!(key(KeyCode::PageDown, KeyModifiers::SHIFT), b"\x1b[6;2~");
        assert_eq!(key(KeyCode::F(1), none), b"\x1bOP");
        assert_eq!(key(KeyCode::F(4), KeyModifiers::SHIFT), b"\x1b[1;2S");
        assert_eq!(key(KeyCode::F(5), none), b"\x1b[15~");
        assert_eq!(key(KeyCode::F(12), none), b"\x1b[24~");
        assert_eq!(bytes(&KeyEvent::new(KeyCode::F(13), none), false), None);
    }
}
