//! Which severity a log line declares, and JSON lines made readable.
//!
//! Detection reads the line's plain text (escapes already gone) and must stay cheap
//! enough to run on every line of a flood: words and logfmt keys are looked for in
//! the first [`WINDOW`] bytes only, and JSON is parsed only when the line starts
//! with `{`. A guess that is not backed by a strong sign (upper case, brackets, a
//! colon, a key) is no guess: prose that mentions an error is not an error line.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

/// Bytes at the start of a line searched for level words and logfmt keys.
pub const WINDOW: usize = 200;

/// Severity, least to most severe, so `level >= Level::Warn` reads naturally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    /// Fatal, critical, panic, emergency, alert.
    Fatal,
}

impl Level {
    pub const ALL: [Level; 6] =
        [Level::Trace, Level::Debug, Level::Info, Level::Warn, Level::Error, Level::Fatal];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// A level name as loggers write it, in any case: `warning`, `ERR`, `crit`,
    /// logrus's four-letter `WARN`/`ERRO`, zerolog's `WRN`, syslog's `notice`...
    pub fn parse(name: &str) -> Option<Level> {
        let mut buf = [0u8; 16];
        let bytes = name.as_bytes();
        let lower = buf.get_mut(..bytes.len())?;
        lower.copy_from_slice(bytes);
        lower.make_ascii_lowercase();
        Some(match &*lower {
            b"trace" | b"trac" | b"trc" | b"finest" => Level::Trace,
            b"debug" | b"debu" | b"dbg" | b"fine" | b"finer" => Level::Debug,
            b"info" | b"inf" | b"information" | b"informational" | b"notice" | b"note" => {
                Level::Info
            }
            b"warn" | b"warning" | b"wrn" => Level::Warn,
            b"error" | b"erro" | b"err" | b"severe" => Level::Error,
            b"fatal" | b"fata" | b"ftl" | b"critical" | b"crit" | b"panic" | b"pani" | b"pnc"
            | b"emerg" | b"emergency" | b"alert" => Level::Fatal,
            _ => return None,
        })
    }

    /// pino and bunyan numeric levels: 10 trace, 20 debug, 30 info, 40 warn,
    /// 50 error, 60 fatal; custom levels in between round down. Numbers below 10
    /// are not guessed at: they could as well be syslog severities, which run the
    /// other way.
    pub fn from_number(n: f64) -> Option<Level> {
        if !n.is_finite() || n < 10.0 {
            return None;
        }
        Some(match n {
            n if n < 20.0 => Level::Trace,
            n if n < 30.0 => Level::Debug,
            n if n < 40.0 => Level::Info,
            n if n < 50.0 => Level::Warn,
            n if n < 60.0 => Level::Error,
            _ => Level::Fatal,
        })
    }
}

/// The level a line declares, if it declares one.
pub fn detect(line: &str) -> Option<Level> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('{') {
        // Valid JSON says what it says; its message text is not searched for words.
        if let Some(level) = json_level(trimmed) {
            return level;
        }
    }
    let head = window(trimmed, WINDOW);
    glog(head).or_else(|| logfmt(head)).or_else(|| words(head))
}

fn window(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// The fields that may carry a level; serde skips every other field without
/// building it.
#[derive(Deserialize)]
struct JsonProbe {
    level: Option<Value>,
    severity: Option<Value>,
    lvl: Option<Value>,
    levelname: Option<Value>,
    #[serde(rename = "log.level")]
    log_level: Option<Value>,
    log: Option<Value>,
}

/// `None` when the line is not a JSON object; `Some(None)` when it is one without a
/// level.
fn json_level(line: &str) -> Option<Option<Level>> {
    let probe: JsonProbe = serde_json::from_str(line).ok()?;
    let nested = probe.log.as_ref().and_then(|log| log.get("level"));
    let level = [&probe.level, &probe.severity, &probe.lvl, &probe.levelname, &probe.log_level]
        .into_iter()
        .flatten()
        .chain(nested)
        .find_map(level_of_value);
    Some(level)
}

fn level_of_value(value: &Value) -> Option<Level> {
    match value {
        Value::String(s) => Level::parse(s.trim()),
        Value::Number(n) => n.as_f64().and_then(Level::from_number),
        _ => None,
    }
}

/// glog and klog: `E0612 14:03:01.123456    1 main.go:42] ...` (I, W, E, F).
fn glog(head: &str) -> Option<Level> {
    let b = head.as_bytes();
    let digits = b.get(1..5)?.iter().all(u8::is_ascii_digit);
    if !digits || b.get(5) != Some(&b' ') || !b.get(6).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    match b.first()? {
        b'I' => Some(Level::Info),
        b'W' => Some(Level::Warn),
        b'E' => Some(Level::Error),
        b'F' => Some(Level::Fatal),
        _ => None,
    }
}

/// `level=error`, `lvl=warn`, `severity="info"`, `loglevel=debug`, `log.level=...`.
fn logfmt(head: &str) -> Option<Level> {
    head.split_ascii_whitespace().find_map(|field| {
        let (key, value) = field.split_once('=')?;
        let key_matches = ["level", "lvl", "severity", "loglevel", "log.level"]
            .iter()
            .any(|k| key.eq_ignore_ascii_case(k));
        if !key_matches {
            return None;
        }
        Level::parse(value.trim_matches(|c| c == '"' || c == '\''))
    })
}

/// Level words that stand out: upper case (`ERROR`, `WARN[0000]`), in brackets
/// (`[error]`, `<warn>`), followed by a colon (`error:`, `ERROR:root:`), or the
/// first word of the line (`warning something happened`).
fn words(head: &str) -> Option<Level> {
    let b = head.as_bytes();
    let mut i = 0;
    let mut first_word = true;
    while i < b.len() {
        if !b.get(i).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
            continue;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
        }
        let word = head.get(start..i).unwrap_or_default();
        // Words glued to digits or other letters (`E0612`, `errors2`, `über`) are
        // not level words; neither are keys (`debug=false`).
        let before = start.checked_sub(1).and_then(|k| b.get(k)).copied();
        let after = b.get(i).copied();
        let glued = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_digit() || c >= 0x80);
        let is_first = first_word;
        if word.len() >= 2 {
            first_word = false;
        }
        if glued(before) || glued(after) || after == Some(b'=') {
            continue;
        }
        let Some(level) = Level::parse(word) else { continue };
        let upper = word.bytes().all(|c| c.is_ascii_uppercase());
        let bracketed =
            matches!(before, Some(b'[' | b'(' | b'<')) || matches!(after, Some(b']' | b')' | b'>'));
        let colon = after == Some(b':');
        let leads = is_first && after.is_none_or(|c| c.is_ascii_whitespace());
        if upper || bracketed || colon || leads {
            return Some(level);
        }
    }
    None
}

/// A JSON line indented for a side view, keys in their original order and numbers
/// exactly as written; `None` when the line is not a JSON object or array.
pub fn json_pretty(line: &str) -> Option<String> {
    let trimmed = line.trim();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<IgnoredAny>(trimmed).ok()?;
    Some(reindent(trimmed))
}

/// Re-indents JSON already known to be valid, by its structural characters.
fn reindent(json: &str) -> String {
    let b = json.as_bytes();
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut i = 0;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                let start = i;
                i += 1;
                while let Some(&s) = b.get(i) {
                    i += 1;
                    match s {
                        b'\\' => i += 1,
                        b'"' => break,
                        _ => {}
                    }
                }
                out.push_str(json.get(start..i).unwrap_or_default());
                continue;
            }
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                let mut next = i + 1;
                while b.get(next).is_some_and(u8::is_ascii_whitespace) {
                    next += 1;
                }
                out.push(char::from(c));
                if b.get(next) == Some(&close) {
                    out.push(char::from(close));
                    i = next + 1;
                    continue;
                }
                depth += 1;
                newline(&mut out, depth);
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(char::from(c));
            }
            b',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            b':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            _ => {
                // Numbers, true, false, null: copy the run as it is.
                let start = i;
                while b.get(i).is_some_and(|&c| {
                    !matches!(c, b',' | b'}' | b']' | b':' | b'"') && !c.is_ascii_whitespace()
                }) {
                    i += 1;
                }
                out.push_str(json.get(start..i).unwrap_or_default());
                continue;
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cases: &[(&str, Option<Level>)]) {
        for (line, expected) in cases {
            assert_eq!(detect(line), *expected, "{line:?}");
        }
    }

    #[test]
    fn level_words() {
        use Level::*;
        check(&[
            ("2024-05-01 12:00:00,123 ERROR [main] com.shop.Cart - boom", Some(Error)),
            ("2024-05-01T12:00:00.123456Z  WARN app::db: slow query", Some(Warn)),
            ("12:00:00.123 [main] INFO  c.s.Application - Started", Some(Info)),
            ("[2024-05-01T12:00:00Z DEBUG portolan] tick", Some(Debug)),
            ("TRACE entering fn", Some(Trace)),
            ("FATAL: the database system is shutting down", Some(Fatal)),
            ("2024-05-01 12:00:00 UTC [1] PANIC:  could not write", Some(Fatal)),
            ("CRITICAL disk full", Some(Fatal)),
            ("WARNING: no healthcheck", Some(Warn)),
            // Case-insensitive in brackets, followed by a colon, or first on the line.
            ("2024/05/01 12:00:00 [error] 29#29: *1 open() failed", Some(Error)),
            ("<warn> deprecated option", Some(Warn)),
            ("error: could not compile", Some(Error)),
            ("warning something happened", Some(Warn)),
            ("2024-05-01 Info: ready", Some(Info)),
            ("[Note] [MY-010051] Event Scheduler", Some(Info)),
            // logrus, zerolog and Python's logging.
            ("ERRO[0003] failed to connect", Some(Error)),
            ("WARN[0000] config missing", Some(Warn)),
            ("12:00PM WRN retrying", Some(Warn)),
            ("ERROR:root:Traceback follows", Some(Error)),
            ("INFO:     Uvicorn running on http://0.0.0.0:8000", Some(Info)),
            // glog / klog.
            ("E0612 14:03:01.123456       1 reflector.go:138] failed", Some(Error)),
            ("I0612 14:03:01.123456       1 main.go:42] started", Some(Info)),
            ("W0612 14:03:01.123456       1 main.go:42] slow", Some(Warn)),
            ("F0612 14:03:01.123456       1 main.go:42] dead", Some(Fatal)),
        ]);
    }

    #[test]
    fn prose_is_not_a_level() {
        check(&[
            ("handled the error gracefully", None),
            ("GET /errors 200", None),
            ("started with debug=false", None),
            ("no errors found", None),
            ("E1234 is not glog without a time", None),
            ("Listening on :8080", None),
            ("", None),
        ]);
    }

    #[test]
    fn words_are_searched_near_the_start_only() {
        let late = format!("{} ERROR", "x".repeat(WINDOW));
        assert_eq!(detect(&late), None);
        // The window cuts on a character boundary.
        let wide = format!("{} ERROR", "é".repeat(WINDOW));
        assert_eq!(detect(&wide), None);
    }

    #[test]
    fn logfmt_keys() {
        use Level::*;
        check(&[
            ("time=2024-05-01T12:00:00Z level=error msg=\"boom\"", Some(Error)),
            ("t=2024-05-01T12:00:00+0000 lvl=warn msg=slow", Some(Warn)),
            ("ts=1 caller=main.go:1 level=info", Some(Info)),
            ("severity=\"CRITICAL\" msg=x", Some(Fatal)),
            ("loglevel=debug", Some(Debug)),
            ("level=verbose msg=x", None),
        ]);
    }

    #[test]
    fn json_fields_strings_and_numbers() {
        use Level::*;
        check(&[
            (r#"{"level":"error","msg":"boom"}"#, Some(Error)),
            (r#"  {"severity":"WARNING","message":"x"}"#, Some(Warn)),
            (r#"{"lvl":"dbug"}"#, None),
            (r#"{"lvl":"debug"}"#, Some(Debug)),
            (r#"{"@timestamp":"t","log.level":"info"}"#, Some(Info)),
            (r#"{"log":{"level":"warn"},"message":"nested ECS"}"#, Some(Warn)),
            (r#"{"levelname":"CRITICAL"}"#, Some(Fatal)),
            // pino / bunyan.
            (r#"{"level":10,"msg":"t"}"#, Some(Trace)),
            (r#"{"level":20}"#, Some(Debug)),
            (r#"{"level":30,"time":1714564800000,"pid":1}"#, Some(Info)),
            (r#"{"level":40}"#, Some(Warn)),
            (r#"{"level":50}"#, Some(Error)),
            (r#"{"level":60}"#, Some(Fatal)),
            (r#"{"level":35}"#, Some(Info)),
            (r#"{"level":3}"#, None),
            // Valid JSON without a level field is not searched for words.
            (r#"{"msg":"ERROR in message text"}"#, None),
            // Not JSON after all: the words rule applies.
            ("{not json} ERROR", Some(Error)),
        ]);
    }

    #[test]
    fn names_parse_in_any_case() {
        assert_eq!(Level::parse("Warning"), Some(Level::Warn));
        assert_eq!(Level::parse("eRr"), Some(Level::Error));
        assert_eq!(Level::parse("a-very-long-word-indeed"), None);
        assert!(Level::Fatal > Level::Error && Level::Warn > Level::Info);
    }

    #[test]
    fn json_is_pretty_printed_in_its_own_order() {
        let line = r#"{"time":"t","level":"info","n":1.50,"tags":["a","b"],"ctx":{},"list":[],"s":"a,b:{c}\"d"}"#;
        let expected = r#"{
  "time": "t",
  "level": "info",
  "n": 1.50,
  "tags": [
    "a",
    "b"
  ],
  "ctx": {},
  "list": [],
  "s": "a,b:{c}\"d"
}"#;
        assert_eq!(json_pretty(line).as_deref(), Some(expected));
        assert_eq!(json_pretty(" [1, 2] ").as_deref(), Some("[\n  1,\n  2\n]"));
        assert_eq!(json_pretty("plain text"), None);
        assert_eq!(json_pretty("{broken"), None);
    }
}
