//! Traefik router rules, v2 and v3: a small recursive-descent parser, the [`Rule`] tree it
//! builds, its canonical [`Display`], and the questions the Routes pane asks
//! of a rule (which hosts, which paths, in words).
//!
//! This module owns the rule language only. It knows nothing of labels, containers or
//! entry points, performs no I/O and never panics: every input, however broken, gives
//! either a [`Rule`] or a [`RuleError`] with the byte offset at fault.
//!
//! The grammar is the subset of Go expressions Traefik accepts (Traefik hands the rule
//! to `go/parser`): calls of known matchers with string arguments, `!`, `&&`, `||` and
//! parentheses, where `!` binds tighter than `&&` and `&&` tighter than `||`. Strings are
//! Go raw strings (backticks) or interpreted strings (double quotes, with Go escapes).
//! Single-quoted strings are read too, because people write them, but Traefik rejects
//! them; [`parse_with_notes`] says so.

use std::fmt::{self, Display};

/// How deep parentheses and `!` may nest before the parser gives up. Real rules nest
/// two or three levels; the limit keeps hostile labels from exhausting the stack.
pub const MAX_DEPTH: usize = 64;

/// The matchers Traefik knows, for HTTP and TCP routers, in v2 and v3 syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatcherKind {
    Host,
    /// v2 only: an alias of `Host`.
    HostHeader,
    HostRegexp,
    Path,
    PathPrefix,
    PathRegexp,
    Method,
    /// v3: `Header(key, value)`.
    Header,
    /// v3: `HeaderRegexp(key, regexp)`.
    HeaderRegexp,
    /// v2: `Headers(key, value)`.
    Headers,
    /// v2: `HeadersRegexp(key, regexp)`.
    HeadersRegexp,
    Query,
    QueryRegexp,
    ClientIP,
    HostSNI,
    HostSNIRegexp,
    Alpn,
}

/// How many arguments a matcher takes, across v2 and v3 (the union of both, so a rule
/// that is valid in either version parses; [`Rule::syntax`] tells which version it needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arity {
    AtLeastOne,
    One,
    Two,
    OneOrTwo,
    /// Key/value pairs: 2, 4, 6...
    Pairs,
}

impl MatcherKind {
    pub const ALL: [MatcherKind; 17] = [
        MatcherKind::Host,
        MatcherKind::HostHeader,
        MatcherKind::HostRegexp,
        MatcherKind::Path,
        MatcherKind::PathPrefix,
        MatcherKind::PathRegexp,
        MatcherKind::Method,
        MatcherKind::Header,
        MatcherKind::HeaderRegexp,
        MatcherKind::Headers,
        MatcherKind::HeadersRegexp,
        MatcherKind::Query,
        MatcherKind::QueryRegexp,
        MatcherKind::ClientIP,
        MatcherKind::HostSNI,
        MatcherKind::HostSNIRegexp,
        MatcherKind::Alpn,
    ];

    /// The canonical spelling, as Traefik documents it.
    pub fn name(self) -> &'static str {
        match self {
            MatcherKind::Host => "Host",
            MatcherKind::HostHeader => "HostHeader",
            MatcherKind::HostRegexp => "HostRegexp",
            MatcherKind::Path => "Path",
            MatcherKind::PathPrefix => "PathPrefix",
            MatcherKind::PathRegexp => "PathRegexp",
            MatcherKind::Method => "Method",
            MatcherKind::Header => "Header",
            MatcherKind::HeaderRegexp => "HeaderRegexp",
            MatcherKind::Headers => "Headers",
            MatcherKind::HeadersRegexp => "HeadersRegexp",
            MatcherKind::Query => "Query",
            MatcherKind::QueryRegexp => "QueryRegexp",
            MatcherKind::ClientIP => "ClientIP",
            MatcherKind::HostSNI => "HostSNI",
            MatcherKind::HostSNIRegexp => "HostSNIRegexp",
            MatcherKind::Alpn => "ALPN",
        }
    }

    /// Looks a matcher up the way Traefik does: the canonical name, or its all-lower,
    /// all-upper or Title-lower form (`PathPrefix`, `pathprefix`, `PATHPREFIX`,
    /// `Pathprefix`). Any other casing is unknown to Traefik too.
    pub fn from_name(name: &str) -> Option<MatcherKind> {
        MatcherKind::ALL.into_iter().find(|kind| {
            let canonical = kind.name();
            name == canonical
                || name == canonical.to_ascii_lowercase()
                || name == canonical.to_ascii_uppercase()
                || name == title_lower(canonical)
        })
    }

    fn arity(self) -> Arity {
        match self {
            MatcherKind::Host
            | MatcherKind::HostHeader
            | MatcherKind::HostRegexp
            | MatcherKind::Path
            | MatcherKind::PathPrefix
            | MatcherKind::Method
            | MatcherKind::Query
            | MatcherKind::ClientIP
            | MatcherKind::HostSNI
            | MatcherKind::Alpn => Arity::AtLeastOne,
            MatcherKind::PathRegexp | MatcherKind::HostSNIRegexp => Arity::One,
            MatcherKind::Header | MatcherKind::HeaderRegexp => Arity::Two,
            MatcherKind::QueryRegexp => Arity::OneOrTwo,
            MatcherKind::Headers | MatcherKind::HeadersRegexp => Arity::Pairs,
        }
    }

    /// Whether an HTTP router may use this matcher.
    pub fn is_http(self) -> bool {
        !matches!(self, MatcherKind::HostSNI | MatcherKind::HostSNIRegexp | MatcherKind::Alpn)
    }

    /// Whether a TCP router may use this matcher.
    pub fn is_tcp(self) -> bool {
        matches!(
            self,
            MatcherKind::HostSNI
                | MatcherKind::HostSNIRegexp
                | MatcherKind::ClientIP
                | MatcherKind::Alpn
        )
    }

    /// Matchers that exist only in v2 syntax.
    fn v2_only(self) -> bool {
        matches!(self, MatcherKind::HostHeader | MatcherKind::Headers | MatcherKind::HeadersRegexp)
    }

    /// Matchers that exist only in v3 syntax.
    fn v3_only(self) -> bool {
        matches!(
            self,
            MatcherKind::Header
                | MatcherKind::HeaderRegexp
                | MatcherKind::PathRegexp
                | MatcherKind::QueryRegexp
                | MatcherKind::HostSNIRegexp
        )
    }

    /// Matchers that took several values in v2 and take exactly one in v3.
    fn single_in_v3(self) -> bool {
        matches!(
            self,
            MatcherKind::Host
                | MatcherKind::HostRegexp
                | MatcherKind::Path
                | MatcherKind::PathPrefix
                | MatcherKind::Method
                | MatcherKind::ClientIP
                | MatcherKind::HostSNI
                | MatcherKind::Alpn
        )
    }
}

/// Go's `strings.Title(strings.ToLower(name))` for an ASCII identifier.
fn title_lower(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// One matcher call: ``PathPrefix(`/api`)``.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Matcher {
    pub kind: MatcherKind,
    pub args: Vec<String>,
}

/// A parsed router rule. `And` and `Or` hold two or more operands: a chain like
/// `a && b && c` is one node, so long chains cost no stack depth.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    Matcher(Matcher),
    Not(Box<Rule>),
    And(Vec<Rule>),
    Or(Vec<Rule>),
}

/// Which Traefik rule syntax a rule needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Valid in v2 and v3.
    Any,
    /// Uses v2-only forms (multi-value `Host`, `Headers`...): Traefik v3 rejects it
    /// unless the router sets `ruleSyntax=v2`.
    V2,
    /// Uses v3-only matchers (`Header`, `PathRegexp`...): Traefik v2 rejects it.
    V3,
    /// Mixes both: no Traefik version accepts it.
    Neither,
}

/// Which kind of router a rule is for; TCP routers accept a different set of matchers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Http,
    Tcp,
}

/// Why a rule does not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("empty rule")]
    Empty,
    #[error("expected {expected} at {offset}, found {found}")]
    Expected { expected: &'static str, found: String, offset: usize },
    #[error("unknown matcher `{name}` at {offset}{}", suggestion_text(.suggestion))]
    UnknownMatcher { name: String, offset: usize, suggestion: Option<&'static str> },
    #[error("unterminated string starting at {offset}")]
    UnterminatedString { offset: usize },
    #[error("line break inside a quoted string at {offset}")]
    NewlineInString { offset: usize },
    #[error("invalid escape `{escape}` at {offset}")]
    InvalidEscape { escape: String, offset: usize },
    #[error("unexpected character `{found}` at {offset}")]
    UnexpectedChar { found: char, offset: usize },
    #[error("`{matcher}` takes {expected}, found {found} at {offset}")]
    Arity { matcher: &'static str, expected: &'static str, found: usize, offset: usize },
    #[error("rule nests deeper than {MAX_DEPTH} levels at {offset}")]
    TooDeep { offset: usize },
}

fn suggestion_text(suggestion: &Option<&'static str>) -> String {
    suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
}

impl RuleError {
    /// The byte offset in the rule text where the problem is.
    pub fn offset(&self) -> usize {
        match self {
            RuleError::Empty => 0,
            RuleError::Expected { offset, .. }
            | RuleError::UnknownMatcher { offset, .. }
            | RuleError::UnterminatedString { offset }
            | RuleError::NewlineInString { offset }
            | RuleError::InvalidEscape { offset, .. }
            | RuleError::UnexpectedChar { offset, .. }
            | RuleError::Arity { offset, .. }
            | RuleError::TooDeep { offset } => *offset,
        }
    }
}

/// Something that parses but that Traefik would refuse or treat differently than the
/// writer probably meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleNote {
    /// Byte offset in the rule text, when the note is about one spot.
    pub offset: Option<usize>,
    pub message: String,
}

/// Parses a Traefik rule.
pub fn parse(src: &str) -> Result<Rule, RuleError> {
    parse_with_notes(src).map(|(rule, _)| rule)
}

/// Parses a Traefik rule and also returns notes on what Traefik itself would reject
/// (single-quoted strings, a path without a leading `/`, a non-ASCII host).
pub fn parse_with_notes(src: &str) -> Result<(Rule, Vec<RuleNote>), RuleError> {
    let (tokens, mut notes) = lex(src)?;
    let mut parser = Parser { tokens: &tokens, pos: 0, depth: 0, src_len: src.len() };
    if matches!(parser.peek().tok, Tok::End) {
        return Err(RuleError::Empty);
    }
    let rule = parser.parse_or()?;
    let end = parser.peek();
    if !matches!(end.tok, Tok::End) {
        return Err(RuleError::Expected {
            expected: "`&&`, `||` or the end of the rule",
            found: end.tok.describe(),
            offset: end.at,
        });
    }
    rule.semantic_notes(&mut notes);
    Ok((rule, notes))
}

/// Traefik's default router priority: the length of the rule text in bytes. Two routers
/// with the same rule and priority on the same entry point conflict.
pub fn default_priority(rule_text: &str) -> i64 {
    i64::try_from(rule_text.len()).unwrap_or(i64::MAX)
}

// ---------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    LParen,
    RParen,
    Comma,
    And,
    Or,
    Not,
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(name) => format!("`{name}`"),
            Tok::Str(_) => "a string".to_string(),
            Tok::LParen => "`(`".to_string(),
            Tok::RParen => "`)`".to_string(),
            Tok::Comma => "`,`".to_string(),
            Tok::And => "`&&`".to_string(),
            Tok::Or => "`||`".to_string(),
            Tok::Not => "`!`".to_string(),
            Tok::End => "the end of the rule".to_string(),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    at: usize,
}

type CharIter<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

fn lex(src: &str) -> Result<(Vec<Token>, Vec<RuleNote>), RuleError> {
    let mut tokens = Vec::new();
    let mut notes = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        let tok = match c {
            c if c.is_whitespace() => {
                chars.next();
                continue;
            }
            '(' => single(&mut chars, Tok::LParen),
            ')' => single(&mut chars, Tok::RParen),
            ',' => single(&mut chars, Tok::Comma),
            '!' => single(&mut chars, Tok::Not),
            '&' | '|' => {
                chars.next();
                match chars.peek() {
                    Some(&(_, next)) if next == c => {
                        chars.next();
                        if c == '&' { Tok::And } else { Tok::Or }
                    }
                    _ => return Err(RuleError::UnexpectedChar { found: c, offset: at }),
                }
            }
            '`' => {
                chars.next();
                Tok::Str(raw_string(&mut chars, at)?)
            }
            '"' | '\'' => {
                chars.next();
                if c == '\'' {
                    notes.push(RuleNote {
                        offset: Some(at),
                        message: format!(
                            "single-quoted string at {at}: Traefik only accepts backticks \
                             and double quotes"
                        ),
                    });
                }
                Tok::Str(quoted_string(&mut chars, at, c)?)
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut name = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' {
                        name.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                Tok::Ident(name)
            }
            other => return Err(RuleError::UnexpectedChar { found: other, offset: at }),
        };
        tokens.push(Token { tok, at });
    }
    tokens.push(Token { tok: Tok::End, at: src.len() });
    Ok((tokens, notes))
}

fn single(chars: &mut CharIter<'_>, tok: Tok) -> Tok {
    chars.next();
    tok
}

/// A Go raw string: everything up to the next backtick. Go drops carriage returns from
/// raw strings, and so do we.
fn raw_string(chars: &mut CharIter<'_>, start: usize) -> Result<String, RuleError> {
    let mut out = String::new();
    for (_, c) in chars.by_ref() {
        match c {
            '`' => return Ok(out),
            '\r' => {}
            c => out.push(c),
        }
    }
    Err(RuleError::UnterminatedString { offset: start })
}

/// A Go interpreted string (or, leniently, a single-quoted one) with Go's escapes.
fn quoted_string(chars: &mut CharIter<'_>, start: usize, quote: char) -> Result<String, RuleError> {
    let mut out = String::new();
    while let Some((at, c)) = chars.next() {
        match c {
            c if c == quote => return Ok(out),
            '\n' => return Err(RuleError::NewlineInString { offset: at }),
            '\\' => out.push(escape(chars, at).map_err(|e| match e {
                RuleError::UnterminatedString { .. } => {
                    RuleError::UnterminatedString { offset: start }
                }
                other => other,
            })?),
            c => out.push(c),
        }
    }
    Err(RuleError::UnterminatedString { offset: start })
}

fn escape(chars: &mut CharIter<'_>, at: usize) -> Result<char, RuleError> {
    let Some((_, c)) = chars.next() else {
        return Err(RuleError::UnterminatedString { offset: at });
    };
    let simple = match c {
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        '\\' | '"' | '\'' => Some(c),
        _ => None,
    };
    if let Some(ch) = simple {
        return Ok(ch);
    }
    let (digits, radix) = match c {
        'x' => (2, 16),
        'u' => (4, 16),
        'U' => (8, 16),
        '0'..='7' => (3, 8),
        _ => return Err(RuleError::InvalidEscape { escape: format!("\\{c}"), offset: at }),
    };
    let mut text = String::new();
    if radix == 8 {
        text.push(c);
    }
    while text.len() < digits {
        match chars.peek() {
            Some(&(_, d)) if d.is_digit(radix) => {
                text.push(d);
                chars.next();
            }
            _ => break,
        }
    }
    let invalid = || RuleError::InvalidEscape {
        escape: if radix == 8 { format!("\\{text}") } else { format!("\\{c}{text}") },
        offset: at,
    };
    if text.len() < digits {
        return Err(invalid());
    }
    let value = u32::from_str_radix(&text, radix).map_err(|_| invalid())?;
    // `\x` and octal escapes are bytes in Go; above 0x7f they would not be UTF-8 text
    // on their own, and no host or path needs them.
    if matches!(c, 'x' | '0'..='7') && value > 0x7f {
        return Err(invalid());
    }
    char::from_u32(value).ok_or_else(invalid)
}

// ---------------------------------------------------------------------------------------
// Parser

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    depth: usize,
    src_len: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Token {
        self.tokens.get(self.pos).cloned().unwrap_or(Token { tok: Tok::End, at: self.src_len })
    }

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn enter(&mut self, at: usize) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH { Err(RuleError::TooDeep { offset: at }) } else { Ok(()) }
    }

    fn parse_or(&mut self) -> Result<Rule, RuleError> {
        let mut operands = vec![self.parse_and()?];
        while matches!(self.peek().tok, Tok::Or) {
            self.bump();
            operands.push(self.parse_and()?);
        }
        Ok(if operands.len() == 1 { operands.remove(0) } else { Rule::Or(operands) })
    }

    fn parse_and(&mut self) -> Result<Rule, RuleError> {
        let mut operands = vec![self.parse_unary()?];
        while matches!(self.peek().tok, Tok::And) {
            self.bump();
            operands.push(self.parse_unary()?);
        }
        Ok(if operands.len() == 1 { operands.remove(0) } else { Rule::And(operands) })
    }

    fn parse_unary(&mut self) -> Result<Rule, RuleError> {
        let token = self.peek();
        if matches!(token.tok, Tok::Not) {
            self.bump();
            self.enter(token.at)?;
            let inner = self.parse_unary()?;
            self.depth -= 1;
            return Ok(Rule::Not(Box::new(inner)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Rule, RuleError> {
        let token = self.bump();
        match token.tok {
            Tok::LParen => {
                self.enter(token.at)?;
                let inner = self.parse_or()?;
                self.expect_rparen()?;
                self.depth -= 1;
                Ok(inner)
            }
            Tok::Ident(name) => self.parse_matcher(name, token.at),
            other => Err(RuleError::Expected {
                expected: "a matcher such as Host(`example.com`)",
                found: other.describe(),
                offset: token.at,
            }),
        }
    }

    fn expect_rparen(&mut self) -> Result<(), RuleError> {
        let token = self.bump();
        match token.tok {
            Tok::RParen => Ok(()),
            other => Err(RuleError::Expected {
                expected: "`)`",
                found: other.describe(),
                offset: token.at,
            }),
        }
    }

    fn parse_matcher(&mut self, name: String, at: usize) -> Result<Rule, RuleError> {
        let Some(kind) = MatcherKind::from_name(&name) else {
            let suggestion = suggest(&name);
            return Err(RuleError::UnknownMatcher { name, offset: at, suggestion });
        };
        let open = self.bump();
        if !matches!(open.tok, Tok::LParen) {
            return Err(RuleError::Expected {
                expected: "`(` after the matcher name",
                found: open.tok.describe(),
                offset: open.at,
            });
        }
        let mut args = Vec::new();
        loop {
            let token = self.bump();
            match token.tok {
                Tok::RParen => break,
                Tok::Str(value) => {
                    args.push(value);
                    let next = self.bump();
                    match next.tok {
                        Tok::Comma => {}
                        Tok::RParen => break,
                        other => {
                            return Err(RuleError::Expected {
                                expected: "`,` or `)`",
                                found: other.describe(),
                                offset: next.at,
                            });
                        }
                    }
                }
                other => {
                    return Err(RuleError::Expected {
                        expected: if args.is_empty() {
                            "a quoted value"
                        } else {
                            "a quoted value or `)`"
                        },
                        found: other.describe(),
                        offset: token.at,
                    });
                }
            }
        }
        check_arity(kind, args.len(), at)?;
        Ok(Rule::Matcher(Matcher { kind, args }))
    }
}

fn check_arity(kind: MatcherKind, found: usize, offset: usize) -> Result<(), RuleError> {
    let (ok, expected) = match kind.arity() {
        Arity::AtLeastOne => (found >= 1, "at least one value"),
        Arity::One => (found == 1, "one value"),
        Arity::Two => (found == 2, "two values (name and value)"),
        Arity::OneOrTwo => (found == 1 || found == 2, "one or two values"),
        Arity::Pairs => (found >= 2 && found.is_multiple_of(2), "name and value pairs"),
    };
    if ok {
        Ok(())
    } else {
        Err(RuleError::Arity { matcher: kind.name(), expected, found, offset })
    }
}

/// The known matcher closest to a misspelt one, if it is close enough to be a typo.
fn suggest(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    MatcherKind::ALL
        .into_iter()
        .map(|kind| (edit_distance(&lower, &kind.name().to_ascii_lowercase()), kind.name()))
        .filter(|(distance, canonical)| *distance <= 2.max(canonical.len() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, canonical)| canonical)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            let deletion = row.get(j + 1).copied().unwrap_or(usize::MAX).saturating_add(1);
            let insertion = row.get(j).copied().unwrap_or(usize::MAX).saturating_add(1);
            previous = row.get(j + 1).copied().unwrap_or(0);
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = substitution.min(deletion).min(insertion);
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Display: canonical Traefik syntax

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.kind.name())?;
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write_string(f, arg)?;
        }
        f.write_str(")")
    }
}

/// Backticks when the value allows it (the common case, and what Traefik's docs use);
/// otherwise a double-quoted Go string with escapes.
fn write_string(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    if !value.chars().any(|c| c == '`' || c.is_control()) {
        return write!(f, "`{value}`");
    }
    f.write_str("\"")?;
    for c in value.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() && u32::from(c) <= 0xffff => write!(f, "\\u{:04x}", u32::from(c))?,
            c if c.is_control() => write!(f, "\\U{:08x}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Matcher(matcher) => matcher.fmt(f),
            Rule::Not(inner) => {
                f.write_str("!")?;
                match inner.as_ref() {
                    Rule::And(_) | Rule::Or(_) => write!(f, "({inner})"),
                    _ => inner.fmt(f),
                }
            }
            Rule::And(operands) => {
                // An operand that is itself a chain keeps its parentheses, so that
                // display-then-parse gives back the same tree.
                join(f, operands, " && ", |r| matches!(r, Rule::And(_) | Rule::Or(_)))
            }
            Rule::Or(operands) => join(f, operands, " || ", |r| matches!(r, Rule::Or(_))),
        }
    }
}

fn join(
    f: &mut fmt::Formatter<'_>,
    operands: &[Rule],
    separator: &str,
    needs_parens: impl Fn(&Rule) -> bool,
) -> fmt::Result {
    for (i, operand) in operands.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        if needs_parens(operand) { write!(f, "({operand})")? } else { operand.fmt(f)? }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Questions about a rule

impl Rule {
    /// Every matcher in the rule, with whether it sits under a `!`.
    pub fn matchers(&self) -> Vec<(&Matcher, bool)> {
        let mut out = Vec::new();
        self.collect_matchers(false, &mut out);
        out
    }

    fn collect_matchers<'a>(&'a self, negated: bool, out: &mut Vec<(&'a Matcher, bool)>) {
        match self {
            Rule::Matcher(m) => out.push((m, negated)),
            Rule::Not(inner) => inner.collect_matchers(!negated, out),
            Rule::And(operands) | Rule::Or(operands) => {
                operands.iter().for_each(|r| r.collect_matchers(negated, out))
            }
        }
    }

    fn positive_args(&self, kinds: &[MatcherKind]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (matcher, negated) in self.matchers() {
            if negated || !kinds.contains(&matcher.kind) {
                continue;
            }
            for arg in &matcher.args {
                if !out.contains(arg) {
                    out.push(arg.clone());
                }
            }
        }
        out
    }

    /// Literal host names the rule can match: the values of `Host`/`HostHeader`, and of
    /// `HostSNI` other than the catch-all `*`, outside any `!`. Hosts are lower-cased,
    /// as Traefik compares them.
    pub fn hosts(&self) -> Vec<String> {
        let kinds = [MatcherKind::Host, MatcherKind::HostHeader, MatcherKind::HostSNI];
        let mut out: Vec<String> = Vec::new();
        for host in self.positive_args(&kinds) {
            let host = host.to_ascii_lowercase();
            if host != "*" && !out.contains(&host) {
                out.push(host);
            }
        }
        out
    }

    /// Values of `PathPrefix` outside any `!`.
    pub fn path_prefixes(&self) -> Vec<String> {
        self.positive_args(&[MatcherKind::PathPrefix])
    }

    /// Values of `Path` (exact paths) outside any `!`.
    pub fn paths(&self) -> Vec<String> {
        self.positive_args(&[MatcherKind::Path])
    }

    /// Whether the rule matches any TLS connection (``HostSNI(`*`)``), as TCP catch-alls do.
    pub fn is_sni_catch_all(&self) -> bool {
        self.matchers().iter().any(|(m, negated)| {
            !negated && m.kind == MatcherKind::HostSNI && m.args.iter().any(|a| a == "*")
        })
    }

    /// Which Traefik syntax version the rule needs.
    pub fn syntax(&self) -> Syntax {
        let mut v2 = false;
        let mut v3 = false;
        for (m, _) in self.matchers() {
            v2 |= m.kind.v2_only() || (m.kind.single_in_v3() && m.args.len() > 1);
            v3 |= m.kind.v3_only() || (m.kind == MatcherKind::Query && m.args.len() == 2);
        }
        match (v2, v3) {
            (false, false) => Syntax::Any,
            (true, false) => Syntax::V2,
            (false, true) => Syntax::V3,
            (true, true) => Syntax::Neither,
        }
    }

    /// Matchers that the given kind of router does not accept (`Host` on a TCP router,
    /// `HostSNI` on an HTTP one).
    pub fn foreign_matchers(&self, protocol: Protocol) -> Vec<MatcherKind> {
        let mut out = Vec::new();
        for (m, _) in self.matchers() {
            let ok = match protocol {
                Protocol::Http => m.kind.is_http(),
                Protocol::Tcp => m.kind.is_tcp(),
            };
            if !ok && !out.contains(&m.kind) {
                out.push(m.kind);
            }
        }
        out
    }

    /// The same rule with nested chains flattened, operands sorted and deduplicated and
    /// hosts lower-cased: two rules that match the same requests for these reasons alone
    /// normalise to equal trees. Used to find routers that conflict.
    pub fn normalized(&self) -> Rule {
        match self {
            Rule::Matcher(m) => {
                let mut m = m.clone();
                if matches!(
                    m.kind,
                    MatcherKind::Host | MatcherKind::HostHeader | MatcherKind::HostSNI
                ) {
                    m.args.iter_mut().for_each(|a| a.make_ascii_lowercase());
                    m.args.sort();
                    m.args.dedup();
                }
                if m.kind == MatcherKind::HostHeader {
                    m.kind = MatcherKind::Host;
                }
                Rule::Matcher(m)
            }
            Rule::Not(inner) => match inner.normalized() {
                Rule::Not(twice) => *twice,
                other => Rule::Not(Box::new(other)),
            },
            Rule::And(operands) => normalize_chain(operands, true),
            Rule::Or(operands) => normalize_chain(operands, false),
        }
    }

    /// The rule in words, for the Routes pane: `host api.example.com and path /api/*`.
    pub fn describe(&self) -> String {
        match self {
            Rule::Matcher(m) => describe_matcher(m),
            Rule::Not(inner) => match inner.as_ref() {
                Rule::Matcher(_) | Rule::Not(_) => format!("not {}", inner.describe()),
                _ => format!("not ({})", inner.describe()),
            },
            Rule::And(operands) => operands
                .iter()
                .map(|r| match r {
                    Rule::Or(_) => format!("({})", r.describe()),
                    _ => r.describe(),
                })
                .collect::<Vec<_>>()
                .join(" and "),
            Rule::Or(operands) => {
                operands.iter().map(Rule::describe).collect::<Vec<_>>().join(" or ")
            }
        }
    }

    fn semantic_notes(&self, notes: &mut Vec<RuleNote>) {
        for (m, _) in self.matchers() {
            for arg in &m.args {
                match m.kind {
                    MatcherKind::Path | MatcherKind::PathPrefix if !arg.starts_with('/') => {
                        notes.push(RuleNote {
                            offset: None,
                            message: format!(
                                "{} `{arg}` does not start with `/`: Traefik rejects it",
                                m.kind.name()
                            ),
                        });
                    }
                    MatcherKind::Host
                    | MatcherKind::HostHeader
                    | MatcherKind::HostRegexp
                    | MatcherKind::HostSNI
                        if !arg.is_ascii() =>
                    {
                        notes.push(RuleNote {
                            offset: None,
                            message: format!(
                                "{} `{arg}` is not ASCII: Traefik rejects it (use the \
                                 punycode form)",
                                m.kind.name()
                            ),
                        });
                    }
                    _ => {}
                }
            }
        }
    }
}

fn normalize_chain(operands: &[Rule], and: bool) -> Rule {
    let mut flat = Vec::new();
    for operand in operands {
        match (operand.normalized(), and) {
            (Rule::And(inner), true) | (Rule::Or(inner), false) => flat.extend(inner),
            (other, _) => flat.push(other),
        }
    }
    flat.sort();
    flat.dedup();
    if flat.len() == 1 {
        return flat.remove(0);
    }
    if and { Rule::And(flat) } else { Rule::Or(flat) }
}

fn describe_matcher(m: &Matcher) -> String {
    let list = |items: &[String]| items.join(" or ");
    let args = &m.args;
    let first = args.first().map(String::as_str).unwrap_or("");
    let second = args.get(1).map(String::as_str);
    match m.kind {
        MatcherKind::Host | MatcherKind::HostHeader => format!("host {}", list(args)),
        MatcherKind::HostRegexp => format!("host matching {}", list(args)),
        MatcherKind::Path => format!("path {}", list(args)),
        MatcherKind::PathPrefix => {
            let prefixes: Vec<String> = args
                .iter()
                .map(|p| if p == "/" { "/*".to_string() } else { format!("{p}*") })
                .collect();
            format!("path {}", list(&prefixes))
        }
        MatcherKind::PathRegexp => format!("path matching {first}"),
        MatcherKind::Method => format!("method {}", list(args)),
        MatcherKind::Header | MatcherKind::Headers => pairs(args, "header", ": "),
        MatcherKind::HeaderRegexp | MatcherKind::HeadersRegexp => {
            pairs(args, "header", " matching ")
        }
        MatcherKind::Query => match second {
            Some(value) => format!("query {first}={value}"),
            None => format!("query {}", list(args)),
        },
        MatcherKind::QueryRegexp => match second {
            Some(value) => format!("query {first} matching {value}"),
            None => format!("query {first}"),
        },
        MatcherKind::ClientIP => format!("client IP {}", list(args)),
        MatcherKind::HostSNI if args.iter().any(|a| a == "*") => "any SNI".to_string(),
        MatcherKind::HostSNI => format!("SNI {}", list(args)),
        MatcherKind::HostSNIRegexp => format!("SNI matching {first}"),
        MatcherKind::Alpn => format!("ALPN {}", list(args)),
    }
}

fn pairs(args: &[String], what: &str, separator: &str) -> String {
    args.chunks(2)
        .map(|pair| match pair {
            [name, value] => format!("{what} {name}{separator}{value}"),
            [name] => format!("{what} {name}"),
            _ => String::new(),
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

#[cfg(test)]
mod tests;
