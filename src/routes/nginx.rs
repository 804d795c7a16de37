//! A tolerant reader of nginx configuration: a tokenizer and block parser that accept
//! real-world files, include expansion through a caller-supplied resolver, and the
//! extraction of what routes need (servers, listens, server names, locations, proxy
//! targets, websocket upgrades, upstream groups).
//!
//! This module owns nginx's syntax and the meaning of the directives routes depend on.
//! It is pure: included files come from a callback, so the engine decides how to fetch
//! them (archive endpoint, `nginx -T`), and resolving upstream host names to containers
//! is left to the caller. It never fails and never panics: what it cannot read becomes a
//! [`Finding`] with the file and line, and parsing carries on.
//!
//! The tokenizer follows nginx's own (`ngx_conf_read_token`): `#` starts a comment only
//! at the start of a token, quotes only open at the start of a token, `{` ends a word
//! except right after `$`, `}` only closes a block at the start of a token, and `\"`,
//! `\'`, `\\`, `\t`, `\r`, `\n` are unescaped while other backslashes are kept (regular
//! expressions need them).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// How deep blocks may nest; deeper blocks are skipped with a finding. Real files nest
/// four or five levels.
pub const MAX_BLOCK_DEPTH: usize = 64;
/// How deep includes may nest (nginx has no limit, but an include cycle would be
/// infinite).
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// How many files includes may bring in, in all.
pub const MAX_INCLUDED_FILES: usize = 512;

/// One directive: `name args...;` or `name args... { block }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    pub file: Arc<str>,
    pub line: usize,
    pub block: Option<Vec<Directive>>,
}

impl Directive {
    fn children(&self) -> &[Directive] {
        self.block.as_deref().unwrap_or(&[])
    }

    fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(String::as_str)
    }
}

/// What kind of problem a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// The text is not valid nginx syntax here (unclosed block, missing `;`...).
    Syntax,
    /// An included file could not be read, or includes loop.
    Include,
    /// A directive whose arguments this reader cannot interpret.
    Unreadable,
    /// nginx itself would refuse to start with this.
    Refused,
    /// Valid, but probably not what was meant (a websocket upgrade over HTTP/1.0).
    Suspect,
}

/// A problem, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// A parsed configuration: the directive tree and what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub directives: Vec<Directive>,
    pub findings: Vec<Finding>,
}

impl Config {
    /// Every `include` left in the tree (all of them before [`parse_with_includes`]; after
    /// it, those that could not be read), in file order.
    pub fn includes(&self) -> Vec<&Directive> {
        let mut out = Vec::new();
        collect_includes(&self.directives, &mut out);
        out
    }
}

fn collect_includes<'a>(directives: &'a [Directive], out: &mut Vec<&'a Directive>) {
    for d in directives {
        if d.name == "include" && d.block.is_none() {
            out.push(d);
        }
        collect_includes(d.children(), out);
    }
}

// ---------------------------------------------------------------------------------------
// Tokenizer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Semi,
    Open,
    Close,
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
}

enum LexError {
    UnterminatedQuote { line: usize },
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer { chars: text.chars().peekable(), line: 1 }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next();
        if c == Some('\n') {
            self.line += 1;
        }
        c
    }

    /// The next token and the line it starts on.
    fn next_token(&mut self) -> Option<Result<(Tok, usize), LexError>> {
        loop {
            let c = *self.chars.peek()?;
            let line = self.line;
            match c {
                c if c.is_whitespace() => {
                    self.bump();
                }
                '#' => {
                    while let Some(c) = self.bump() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                ';' => {
                    self.bump();
                    return Some(Ok((Tok::Semi, line)));
                }
                '{' => {
                    self.bump();
                    return Some(Ok((Tok::Open, line)));
                }
                '}' => {
                    self.bump();
                    return Some(Ok((Tok::Close, line)));
                }
                '"' | '\'' => {
                    self.bump();
                    return Some(self.quoted(c, line).map(|w| (Tok::Word(w), line)));
                }
                _ => return Some(Ok((Tok::Word(self.word()), line))),
            }
        }
    }

    fn quoted(&mut self, quote: char, line: usize) -> Result<String, LexError> {
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(LexError::UnterminatedQuote { line }),
                Some(c) if c == quote => return Ok(out),
                Some('\\') => self.escape(&mut out),
                Some(c) => out.push(c),
            }
        }
    }

    fn word(&mut self) -> String {
        let mut out = String::new();
        let mut after_dollar = false;
        while let Some(&c) = self.chars.peek() {
            if c.is_whitespace() || c == ';' || (c == '{' && !after_dollar) {
                break;
            }
            self.bump();
            after_dollar = c == '$';
            if c == '\\' {
                self.escape(&mut out);
            } else {
                out.push(c);
            }
        }
        out
    }

    fn escape(&mut self, out: &mut String) {
        match self.bump() {
            Some(c @ ('"' | '\'' | '\\')) => out.push(c),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some(c) => {
                out.push('\\');
                out.push(c);
            }
            None => out.push('\\'),
        }
    }

    /// The raw text of a `*_by_lua_block { ... }` body, after its `{`: Lua is not nginx
    /// syntax, so braces are counted outside Lua strings and comments.
    fn raw_block(&mut self) -> Option<String> {
        let mut out = String::new();
        let mut depth = 1usize;
        while let Some(c) = self.bump() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(out);
                    }
                }
                '"' | '\'' => {
                    out.push(c);
                    while let Some(s) = self.bump() {
                        out.push(s);
                        if s == '\\' {
                            if let Some(escaped) = self.bump() {
                                out.push(escaped);
                            }
                        } else if s == c || s == '\n' {
                            break;
                        }
                    }
                    continue;
                }
                '-' if self.chars.peek() == Some(&'-') => {
                    out.push(c);
                    while let Some(s) = self.bump() {
                        out.push(s);
                        if s == '\n' {
                            break;
                        }
                    }
                    continue;
                }
                _ => {}
            }
            out.push(c);
        }
        None
    }
}

// ---------------------------------------------------------------------------------------
// Parser

struct Frame {
    owner: Option<Directive>,
    children: Vec<Directive>,
}

/// Parses one file's text into a directive tree. Includes are kept as `include`
/// directives; see [`parse_with_includes`] to expand them.
pub fn parse(file: &str, text: &str) -> Config {
    let file_name: Arc<str> = Arc::from(file);
    let mut findings = Vec::new();
    let finding = |findings: &mut Vec<Finding>, kind, line, message: String| {
        findings.push(Finding { kind, file: file.to_string(), line, message });
    };
    let mut lexer = Lexer::new(text);
    let mut stack = vec![Frame { owner: None, children: Vec::new() }];
    let mut statement: Vec<String> = Vec::new();
    let mut statement_line = 1;
    let directive = |words: &mut Vec<String>, line: usize| {
        let mut words = std::mem::take(words).into_iter();
        Directive {
            name: words.next().unwrap_or_default(),
            args: words.collect(),
            file: file_name.clone(),
            line,
            block: None,
        }
    };
    loop {
        let (tok, line) = match lexer.next_token() {
            None => break,
            Some(Ok(token)) => token,
            Some(Err(LexError::UnterminatedQuote { line })) => {
                finding(
                    &mut findings,
                    FindingKind::Syntax,
                    line,
                    format!("quoted string starting at line {line} is not closed"),
                );
                // The statement is cut short by the quote; one finding says so.
                statement.clear();
                break;
            }
        };
        match tok {
            Tok::Word(word) => {
                if statement.is_empty() {
                    statement_line = line;
                }
                statement.push(word);
            }
            Tok::Semi => {
                if statement.is_empty() {
                    finding(&mut findings, FindingKind::Syntax, line, "unexpected `;`".to_string());
                    continue;
                }
                let d = directive(&mut statement, statement_line);
                if let Some(top) = stack.last_mut() {
                    top.children.push(d);
                }
            }
            Tok::Open => {
                if statement.is_empty() {
                    statement_line = line;
                    finding(
                        &mut findings,
                        FindingKind::Syntax,
                        line,
                        "`{` without a directive name".to_string(),
                    );
                }
                let mut d = directive(&mut statement, statement_line);
                if d.name.ends_with("_by_lua_block") {
                    match lexer.raw_block() {
                        Some(body) => {
                            d.args.push(body);
                            if let Some(top) = stack.last_mut() {
                                top.children.push(d);
                            }
                        }
                        None => finding(
                            &mut findings,
                            FindingKind::Syntax,
                            d.line,
                            format!("block `{}` opened at line {} is not closed", d.name, d.line),
                        ),
                    }
                    continue;
                }
                if stack.len() > MAX_BLOCK_DEPTH {
                    finding(
                        &mut findings,
                        FindingKind::Syntax,
                        line,
                        format!("blocks nest deeper than {MAX_BLOCK_DEPTH} levels; skipped"),
                    );
                    skip_block(&mut lexer);
                    continue;
                }
                stack.push(Frame { owner: Some(d), children: Vec::new() });
            }
            Tok::Close => {
                if !statement.is_empty() {
                    let d = directive(&mut statement, statement_line);
                    finding(
                        &mut findings,
                        FindingKind::Syntax,
                        d.line,
                        format!("directive `{}` is missing its `;`", d.name),
                    );
                    if let Some(top) = stack.last_mut() {
                        top.children.push(d);
                    }
                }
                if stack.len() == 1 {
                    finding(&mut findings, FindingKind::Syntax, line, "unexpected `}`".to_string());
                    continue;
                }
                close_frame(&mut stack);
            }
        }
    }
    if !statement.is_empty() {
        let d = directive(&mut statement, statement_line);
        finding(
            &mut findings,
            FindingKind::Syntax,
            d.line,
            format!("directive `{}` is missing its `;` at the end of the file", d.name),
        );
        if let Some(top) = stack.last_mut() {
            top.children.push(d);
        }
    }
    while stack.len() > 1 {
        if let Some(Frame { owner: Some(owner), .. }) = stack.last() {
            finding(
                &mut findings,
                FindingKind::Syntax,
                owner.line,
                format!("block `{}` opened at line {} is not closed", owner.name, owner.line),
            );
        }
        close_frame(&mut stack);
    }
    let directives = stack.pop().map(|f| f.children).unwrap_or_default();
    Config { directives, findings }
}

fn close_frame(stack: &mut Vec<Frame>) {
    if let Some(Frame { owner: Some(mut owner), children }) = stack.pop() {
        owner.block = Some(children);
        if let Some(top) = stack.last_mut() {
            top.children.push(owner);
        }
    }
}

fn skip_block(lexer: &mut Lexer<'_>) {
    let mut depth = 1usize;
    while let Some(Ok((tok, _))) = lexer.next_token() {
        match tok {
            Tok::Open => depth += 1,
            Tok::Close => {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// Includes

/// Parses `text` and expands its `include` directives with `resolve`, which gets each
/// include's argument as written (a path, relative to nginx's prefix if not absolute, or
/// a glob like `conf.d/*.conf`) and returns the text, or `None` when it cannot be read.
/// For a glob the text of every match, concatenated, is what nginx would read.
pub fn parse_with_includes(
    file: &str,
    text: &str,
    mut resolve: impl FnMut(&str) -> Option<String>,
) -> Config {
    parse_with_include_files(file, text, |pattern| {
        resolve(pattern).map(|text| vec![(pattern.to_string(), text)])
    })
}

/// As [`parse_with_includes`], for a resolver that returns each file a glob matches
/// with its own name, so findings point at the right file and line.
pub fn parse_with_include_files(
    file: &str,
    text: &str,
    mut resolve: impl FnMut(&str) -> Option<Vec<(String, String)>>,
) -> Config {
    let mut config = parse(file, text);
    let mut state = IncludeState {
        resolve: &mut resolve,
        stack: vec![file.to_string()],
        files: 0,
        findings: Vec::new(),
    };
    let directives = std::mem::take(&mut config.directives);
    config.directives = expand(directives, &mut state);
    config.findings.extend(state.findings);
    config
}

/// Splits the output of `nginx -T` into its files: each starts after a
/// `# configuration file PATH:` line. Text before the first such line is dropped.
pub fn split_dump(output: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Vec::new();
    for line in output.split_inclusive('\n') {
        let header = line.trim_end().strip_prefix("# configuration file ");
        if let Some(path) = header.and_then(|h| h.strip_suffix(':')) {
            files.push((path.to_string(), String::new()));
        } else if let Some((_, text)) = files.last_mut() {
            text.push_str(line);
        }
    }
    files
}

/// Resolves an include pattern against files known by absolute path, as nginx does:
/// a relative pattern is relative to `prefix` (nginx's configuration directory,
/// `/etc/nginx` in the official images), and `*` and `?` match within one path
/// segment. A glob gives its matches in name order (possibly none, which nginx
/// accepts); a plain path gives its file or `None`.
pub fn resolve_include(
    files: &BTreeMap<String, String>,
    prefix: &str,
    pattern: &str,
) -> Option<Vec<(String, String)>> {
    let full = if pattern.starts_with('/') {
        pattern.to_string()
    } else {
        format!("{}/{pattern}", prefix.trim_end_matches('/'))
    };
    if !full.contains(['*', '?']) {
        return files.get(&full).map(|text| vec![(full.clone(), text.clone())]);
    }
    Some(
        files
            .iter()
            .filter(|(path, _)| glob_match(full.as_bytes(), path.as_bytes()))
            .map(|(path, text)| (path.clone(), text.clone()))
            .collect(),
    )
}

/// `*` and `?` within a path segment; everything else literal. Iterative, with one
/// backtrack point, so hostile patterns cost linear time per star.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(b'?') if text.get(t) != Some(&b'/') => {
                p += 1;
                t += 1;
            }
            Some(c) if Some(c) == text.get(t) && *c != b'?' => {
                p += 1;
                t += 1;
            }
            _ => match star {
                // A star may not swallow a `/`.
                Some((sp, st)) if text.get(st) != Some(&b'/') => {
                    star = Some((sp, st + 1));
                    p = sp + 1;
                    t = st + 1;
                }
                _ => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|c| *c == b'*'))
}

type Resolver<'r> = &'r mut dyn FnMut(&str) -> Option<Vec<(String, String)>>;

struct IncludeState<'r> {
    resolve: Resolver<'r>,
    /// The includes being expanded, outermost first, to find cycles.
    stack: Vec<String>,
    files: usize,
    findings: Vec<Finding>,
}

fn expand(directives: Vec<Directive>, state: &mut IncludeState<'_>) -> Vec<Directive> {
    let mut out = Vec::with_capacity(directives.len());
    for mut d in directives {
        if d.name != "include" || d.block.is_some() {
            if let Some(block) = d.block.take() {
                d.block = Some(expand(block, state));
            }
            out.push(d);
            continue;
        }
        let problem = |message: String| Finding {
            kind: FindingKind::Include,
            file: d.file.to_string(),
            line: d.line,
            message,
        };
        let [pattern] = d.args.as_slice() else {
            state.findings.push(problem("`include` takes exactly one file".to_string()));
            out.push(d);
            continue;
        };
        if state.stack.iter().any(|p| p == pattern) {
            state.findings.push(problem(format!("`include {pattern}` includes itself")));
            out.push(d);
            continue;
        }
        if state.stack.len() > MAX_INCLUDE_DEPTH {
            state.findings.push(problem(format!(
                "`include {pattern}` nests deeper than {MAX_INCLUDE_DEPTH} includes"
            )));
            out.push(d);
            continue;
        }
        let Some(files) = (state.resolve)(pattern) else {
            state.findings.push(problem(format!("`include {pattern}` could not be read")));
            out.push(d);
            continue;
        };
        let pattern = pattern.clone();
        for (name, text) in files {
            state.files += 1;
            if state.files > MAX_INCLUDED_FILES {
                state.findings.push(problem(format!(
                    "more than {MAX_INCLUDED_FILES} included files; `{name}` skipped"
                )));
                continue;
            }
            let included = parse(&name, &text);
            state.findings.extend(included.findings);
            state.stack.push(pattern.clone());
            out.extend(expand(included.directives, state));
            state.stack.pop();
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// What routes need

/// Whether a server is an HTTP one (`http { server {} }`) or a TCP/UDP one
/// (`stream { server {} }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Http,
    Stream,
}

/// One `listen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// The address argument as written: `80`, `[::]:443`, `127.0.0.1:8080`.
    pub raw: String,
    /// The host part, when one is given (`*` and `[::]` included).
    pub address: Option<String>,
    pub port: Option<u16>,
    /// A `unix:` socket path instead of an address.
    pub unix: Option<String>,
    pub default_server: bool,
    pub ssl: bool,
    pub http2: bool,
    pub quic: bool,
    pub proxy_protocol: bool,
    /// Stream servers: `udp`.
    pub udp: bool,
    pub line: usize,
}

/// How a location matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Modifier {
    /// `location /path`
    Prefix,
    /// `location = /path`
    Exact,
    /// `location ~ regex`
    Regex,
    /// `location ~* regex`
    RegexCaseless,
    /// `location ^~ /path`: a prefix that wins over regular expressions.
    PrefixNoRegex,
    /// `location @name`: only reached by internal redirects.
    Named,
}

impl Modifier {
    /// The modifier as written in nginx (`""` for a plain prefix).
    pub fn as_str(self) -> &'static str {
        match self {
            Modifier::Prefix | Modifier::Named => "",
            Modifier::Exact => "=",
            Modifier::Regex => "~",
            Modifier::RegexCaseless => "~*",
            Modifier::PrefixNoRegex => "^~",
        }
    }

    pub fn is_regex(self) -> bool {
        matches!(self, Modifier::Regex | Modifier::RegexCaseless)
    }
}

/// Where a `proxy_pass` (or `grpc_pass`, `uwsgi_pass`, `fastcgi_pass`, `scgi_pass`)
/// sends requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyTarget {
    pub directive: String,
    /// The argument as written.
    pub raw: String,
    /// `http`, `https`, `grpc`...; `None` where the directive takes none.
    pub scheme: Option<String>,
    /// The host (a name, an address, or an upstream group's name) after substituting
    /// variables `set` in scope; empty for a unix socket.
    pub host: String,
    pub port: Option<u16>,
    /// The URI part (`/` in `http://backend:8000/`): when present, nginx replaces the
    /// matched location prefix with it.
    pub uri: Option<String>,
    pub unix: Option<String>,
    /// The `upstream` block the host names, if any.
    pub upstream: Option<String>,
    /// Variables left in the host after substitution (`$backend`): the target is only
    /// known at request time.
    pub unresolved: Vec<String>,
    /// True when variables from `set` were substituted to get `host`.
    pub via_variables: bool,
    pub line: usize,
}

impl ProxyTarget {
    /// Whether the host is known without running nginx.
    pub fn is_resolvable(&self) -> bool {
        self.unresolved.is_empty() && (self.unix.is_some() || !self.host.is_empty())
    }

    /// The port connected to: the explicit one, else the scheme's default; `None` for
    /// upstream groups (their servers have ports) and unix sockets.
    pub fn effective_port(&self) -> Option<u16> {
        if self.port.is_some() || self.upstream.is_some() || self.unix.is_some() {
            return self.port;
        }
        match self.scheme.as_deref() {
            Some("http") | Some("grpc") => Some(80),
            Some("https") | Some("grpcs") => Some(443),
            _ => None,
        }
    }
}

/// What a location does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Proxy(ProxyTarget),
    /// `return code [text|URL]`.
    Return {
        code: Option<u16>,
        target: Option<String>,
    },
    /// Files from disk: `root` (inherited) or `alias`, and `try_files`.
    Static {
        root: Option<String>,
        alias: Option<String>,
        try_files: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub modifier: Modifier,
    pub path: String,
    /// Paths of the locations this one is nested in, outermost first.
    pub parents: Vec<String>,
    pub action: Action,
    /// Inside an `if` block rather than unconditional.
    pub conditional: bool,
    /// `proxy_set_header Upgrade $http_upgrade` and `Connection "upgrade"` (or a mapped
    /// variable) are in effect.
    pub websocket: bool,
    /// `proxy_http_version` in effect (`1.0` when unset, nginx's default).
    pub proxy_http_version: String,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub context: Context,
    /// Never empty for HTTP servers: one without `listen` gets nginx's default `*:80`.
    pub listens: Vec<Listen>,
    /// True when the server has no `listen` and `listens` holds nginx's default.
    pub listen_implicit: bool,
    pub server_names: Vec<String>,
    pub locations: Vec<Location>,
    /// A `return` at server level (typically the HTTP-to-HTTPS redirect).
    pub server_return: Option<Action>,
    /// Stream servers: where connections go.
    pub proxy: Option<ProxyTarget>,
    pub ssl: bool,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamServer {
    pub host: String,
    /// `None` when not given: port 80 for HTTP upstreams.
    pub port: Option<u16>,
    pub unix: Option<String>,
    pub backup: bool,
    pub down: bool,
    /// The other parameters as written (`weight=5`, `max_fails=3`, `resolve`).
    pub params: Vec<String>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub context: Context,
    pub name: String,
    pub servers: Vec<UpstreamServer>,
    pub file: String,
    pub line: usize,
}

/// Everything routes need from an nginx configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    pub servers: Vec<Server>,
    pub upstreams: Vec<Upstream>,
    /// The configuration's own findings, then those of reading its meaning.
    pub findings: Vec<Finding>,
}

impl Routes {
    pub fn upstream(&self, context: Context, name: &str) -> Option<&Upstream> {
        self.upstreams.iter().find(|u| u.context == context && u.name.eq_ignore_ascii_case(name))
    }
}

/// Reads `main` and its includes and extracts the routes: the usual entry point.
pub fn read(
    file: &str,
    text: &str,
    resolve: impl FnMut(&str) -> Option<Vec<(String, String)>>,
) -> Routes {
    extract(&parse_with_include_files(file, text, resolve))
}

/// Settings that inherit from `http` to `server` to `location`. Array-like directives
/// (`proxy_set_header`) inherit only when the inner level sets none, as in nginx.
#[derive(Debug, Clone, Default)]
struct Scope {
    headers: Vec<(String, String)>,
    http_version: Option<String>,
    root: Option<String>,
    sets: BTreeMap<String, String>,
}

impl Scope {
    fn enter(&self, directives: &[Directive]) -> Scope {
        let mut scope = self.clone();
        let headers: Vec<(String, String)> = directives
            .iter()
            .filter(|d| d.name == "proxy_set_header")
            .filter_map(|d| Some((d.arg(0)?.to_string(), d.arg(1).unwrap_or("").to_string())))
            .collect();
        if directives.iter().any(|d| d.name == "proxy_set_header") {
            scope.headers = headers;
        }
        for d in directives {
            match (d.name.as_str(), d.args.as_slice()) {
                ("proxy_http_version", [v]) => scope.http_version = Some(v.clone()),
                ("root", [path]) => scope.root = Some(path.clone()),
                ("set", [var, value]) => {
                    scope.sets.insert(var.trim_start_matches('$').to_string(), value.clone());
                }
                _ => {}
            }
        }
        scope
    }
}

struct Extractor {
    routes: Routes,
    /// Variables a `map $http_upgrade $var { ... upgrade ... }` defines.
    upgrade_vars: BTreeSet<String>,
}

/// Extracts servers, locations and upstreams from a parsed configuration.
pub fn extract(config: &Config) -> Routes {
    let mut ex = Extractor {
        routes: Routes { findings: config.findings.clone(), ..Routes::default() },
        upgrade_vars: BTreeSet::new(),
    };
    // Upstreams first: proxy_pass targets are matched against all of them.
    collect_upstreams(&config.directives, Context::Http, &mut ex.routes.upstreams);
    collect_upgrade_maps(&config.directives, &mut ex.upgrade_vars);
    let top = Scope::default();
    for d in &config.directives {
        match d.name.as_str() {
            "http" => ex.context(d.children(), Context::Http, &top.enter(d.children())),
            "stream" => ex.context(d.children(), Context::Stream, &top),
            // A file that holds servers without `http` is a conf.d file read alone.
            "server" if d.block.is_some() => ex.server(d, Context::Http, &top),
            _ => {}
        }
    }
    ex.check_servers();
    ex.routes
}

fn collect_upstreams(directives: &[Directive], context: Context, out: &mut Vec<Upstream>) {
    for d in directives {
        match d.name.as_str() {
            "http" => collect_upstreams(d.children(), Context::Http, out),
            "stream" => collect_upstreams(d.children(), Context::Stream, out),
            "upstream" if d.block.is_some() => {
                let servers = d
                    .children()
                    .iter()
                    .filter(|s| s.name == "server")
                    .filter_map(|s| {
                        let (host, port, unix) = split_host_port(s.arg(0)?);
                        let params: Vec<String> = s.args.iter().skip(1).cloned().collect();
                        Some(UpstreamServer {
                            host,
                            port,
                            unix,
                            backup: params.iter().any(|p| p == "backup"),
                            down: params.iter().any(|p| p == "down"),
                            params,
                            line: s.line,
                        })
                    })
                    .collect();
                out.push(Upstream {
                    context,
                    name: d.arg(0).unwrap_or("").to_string(),
                    servers,
                    file: d.file.to_string(),
                    line: d.line,
                });
            }
            _ => {}
        }
    }
}

fn collect_upgrade_maps(directives: &[Directive], out: &mut BTreeSet<String>) {
    for d in directives {
        if d.name == "http" {
            collect_upgrade_maps(d.children(), out);
        }
        // `map $http_upgrade $var { default upgrade; '' close; }`: a value is "upgrade".
        if d.name == "map"
            && d.arg(0) == Some("$http_upgrade")
            && d.children()
                .iter()
                .any(|entry| entry.args.iter().any(|v| v.eq_ignore_ascii_case("upgrade")))
            && let Some(var) = d.arg(1)
        {
            out.insert(var.trim_start_matches('$').to_string());
        }
    }
}

impl Extractor {
    fn finding(&mut self, kind: FindingKind, d: &Directive, message: String) {
        self.routes.findings.push(Finding {
            kind,
            file: d.file.to_string(),
            line: d.line,
            message,
        });
    }

    fn context(&mut self, directives: &[Directive], context: Context, scope: &Scope) {
        for d in directives {
            if d.name == "server" && d.block.is_some() {
                self.server(d, context, scope);
            }
        }
    }

    fn server(&mut self, d: &Directive, context: Context, parent: &Scope) {
        let body = d.children();
        let scope = parent.enter(body);
        let mut server = Server {
            context,
            listens: Vec::new(),
            listen_implicit: false,
            server_names: Vec::new(),
            locations: Vec::new(),
            server_return: None,
            proxy: None,
            ssl: false,
            file: d.file.to_string(),
            line: d.line,
        };
        for item in body {
            match item.name.as_str() {
                "listen" => match parse_listen(item) {
                    Some(listen) => server.listens.push(listen),
                    None => self.finding(
                        FindingKind::Unreadable,
                        item,
                        format!("cannot read `listen {}`", item.args.join(" ")),
                    ),
                },
                "server_name" => server.server_names.extend(item.args.iter().cloned()),
                "ssl" if item.arg(0) == Some("on") => server.ssl = true,
                "return" => server.server_return = Some(parse_return(item)),
                "proxy_pass" if context == Context::Stream => {
                    server.proxy = self.target(item, &scope, Context::Stream);
                }
                _ => {}
            }
        }
        if server.listens.is_empty() && context == Context::Http {
            server.listen_implicit = true;
            server.listens.push(Listen {
                raw: "*:80".to_string(),
                address: Some("*".to_string()),
                port: Some(80),
                unix: None,
                default_server: false,
                ssl: false,
                http2: false,
                quic: false,
                proxy_protocol: false,
                udp: false,
                line: d.line,
            });
        }
        server.ssl |= server.listens.iter().any(|l| l.ssl);
        if context == Context::Http {
            self.locations(body, &scope, &[], &mut server.locations);
        }
        self.routes.servers.push(server);
    }

    fn locations(
        &mut self,
        body: &[Directive],
        scope: &Scope,
        parents: &[String],
        out: &mut Vec<Location>,
    ) {
        let mut seen: BTreeSet<(bool, Modifier, String)> = BTreeSet::new();
        for d in body.iter().filter(|d| d.name == "location" && d.block.is_some()) {
            let Some((modifier, path)) = parse_location_args(&d.args) else {
                self.finding(
                    FindingKind::Unreadable,
                    d,
                    format!("cannot read `location {}`", d.args.join(" ")),
                );
                continue;
            };
            // Prefix, exact and ^~ locations share one tree in nginx: the same path twice
            // is "duplicate location" even with different modifiers, except `=`.
            let key = match modifier {
                Modifier::Exact => (true, Modifier::Exact, path.clone()),
                Modifier::Prefix | Modifier::PrefixNoRegex => {
                    (true, Modifier::Prefix, path.clone())
                }
                other => (false, other, path.clone()),
            };
            if !seen.insert(key) {
                self.finding(
                    FindingKind::Refused,
                    d,
                    format!("duplicate location `{path}`: nginx refuses to start"),
                );
            }
            let inner = d.children();
            let location_scope = scope.enter(inner);
            let (action, conditional) = self.action(d, &location_scope, modifier);
            let websocket = self.websocket(&location_scope);
            let http_version =
                location_scope.http_version.clone().unwrap_or_else(|| "1.0".to_string());
            if websocket && matches!(action, Action::Proxy(_)) && http_version != "1.1" {
                self.finding(
                    FindingKind::Suspect,
                    d,
                    format!(
                        "location `{path}` sets websocket upgrade headers but proxies with HTTP/\
                         {http_version}; the upgrade needs `proxy_http_version 1.1`"
                    ),
                );
            }
            out.push(Location {
                modifier,
                path: path.clone(),
                parents: parents.to_vec(),
                action,
                conditional,
                websocket,
                proxy_http_version: http_version,
                file: d.file.to_string(),
                line: d.line,
            });
            let mut nested_parents = parents.to_vec();
            nested_parents.push(path);
            self.locations(inner, &location_scope, &nested_parents, out);
        }
    }

    /// The location's handler: its own `proxy_pass`/`return`, else one inside an `if`,
    /// else static files.
    fn action(&mut self, d: &Directive, scope: &Scope, modifier: Modifier) -> (Action, bool) {
        let body = d.children();
        if let Some(action) = self.direct_action(body, scope, Some(modifier), false) {
            return (action, false);
        }
        for block in body.iter().filter(|i| i.name == "if") {
            let if_scope = scope.enter(block.children());
            if let Some(action) = self.direct_action(block.children(), &if_scope, None, true) {
                return (action, true);
            }
        }
        let find = |name: &str| body.iter().find(|i| i.name == name).and_then(|i| i.arg(0));
        let try_files =
            body.iter().find(|i| i.name == "try_files").map(|i| i.args.clone()).unwrap_or_default();
        (
            Action::Static {
                root: scope.root.clone(),
                alias: find("alias").map(str::to_string),
                try_files,
            },
            false,
        )
    }

    fn direct_action(
        &mut self,
        body: &[Directive],
        scope: &Scope,
        modifier: Option<Modifier>,
        inside_if: bool,
    ) -> Option<Action> {
        for item in body {
            match item.name.as_str() {
                "proxy_pass" | "grpc_pass" | "uwsgi_pass" | "fastcgi_pass" | "scgi_pass"
                | "memcached_pass" => {
                    let target = self.target(item, scope, Context::Http)?;
                    if target.uri.is_some()
                        && target.unresolved.is_empty()
                        && !target.via_variables
                        && item.name == "proxy_pass"
                        && (inside_if
                            || modifier.is_some_and(|m| m.is_regex() || m == Modifier::Named))
                    {
                        self.finding(
                            FindingKind::Refused,
                            item,
                            format!(
                                "`proxy_pass {}` has a URI part inside a regex location, a named \
                                 location or an `if`: nginx refuses to start",
                                item.args.join(" ")
                            ),
                        );
                    }
                    return Some(Action::Proxy(target));
                }
                "return" => return Some(parse_return(item)),
                _ => {}
            }
        }
        None
    }

    fn target(&mut self, d: &Directive, scope: &Scope, context: Context) -> Option<ProxyTarget> {
        let Some(raw) = d.arg(0) else {
            self.finding(FindingKind::Unreadable, d, format!("`{}` has no target", d.name));
            return None;
        };
        let (substituted, via_variables) = substitute(raw, &scope.sets);
        let (scheme, rest) = match substituted.split_once("://") {
            Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest.to_string()),
            None => (None, substituted.clone()),
        };
        let mut target = ProxyTarget {
            directive: d.name.clone(),
            raw: raw.to_string(),
            scheme,
            host: String::new(),
            port: None,
            uri: None,
            unix: None,
            upstream: None,
            unresolved: Vec::new(),
            via_variables,
            line: d.line,
        };
        if let Some(socket) = rest.strip_prefix("unix:") {
            // `http://unix:/path/to.sock:/uri` — the socket path ends at the next `:`.
            match socket.split_once(':') {
                Some((path, uri)) => {
                    target.unix = Some(path.to_string());
                    target.uri = (!uri.is_empty()).then(|| uri.to_string());
                }
                None => target.unix = Some(socket.to_string()),
            }
            return Some(target);
        }
        let (mut hostport, mut uri) = match rest.find('/') {
            Some(i) => (
                rest.get(..i).unwrap_or("").to_string(),
                Some(rest.get(i..).unwrap_or("").to_string()),
            ),
            None => (rest.clone(), None),
        };
        // `http://backend:8000$request_uri`: a variable after the host starts the URI.
        let host_variable = match hostport.strip_prefix('$') {
            Some(rest) => 1 + variable_name(rest).1,
            None => 0,
        };
        let uri_start = hostport.get(host_variable..).and_then(|rest| rest.find('$'));
        if let Some(i) = uri_start.map(|i| i + host_variable).filter(|i| *i > 0) {
            let tail = hostport.get(i..).unwrap_or("").to_string();
            uri = Some(tail + uri.as_deref().unwrap_or(""));
            hostport.truncate(i);
        }
        let (host, port, _) = split_host_port(&hostport);
        if port.is_none()
            && hostport.rsplit_once(':').is_some_and(|(h, _)| !h.ends_with(']') && !h.contains(':'))
        {
            self.finding(
                FindingKind::Unreadable,
                d,
                format!("cannot read the port in `{} {raw}`", d.name),
            );
        }
        target.unresolved = variables(&host);
        target.host = host;
        target.port = port;
        target.uri = uri;
        if target.unresolved.is_empty()
            && let Some(up) = self.routes.upstream(context, &target.host)
        {
            let name = up.name.clone();
            if let Some(port) = target.port {
                self.finding(
                    FindingKind::Refused,
                    d,
                    format!("upstream `{name}` may not have port {port}: nginx refuses to start"),
                );
            }
            target.upstream = Some(name);
        }
        Some(target)
    }

    fn websocket(&self, scope: &Scope) -> bool {
        let header = |name: &str| {
            scope
                .headers
                .iter()
                .find(|(h, _)| h.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let upgrade = header("Upgrade")
            .is_some_and(|v| v == "$http_upgrade" || v.eq_ignore_ascii_case("websocket"));
        let connection = header("Connection").is_some_and(|v| {
            v.to_ascii_lowercase().contains("upgrade")
                || self.upgrade_vars.contains(v.trim_start_matches('$'))
        });
        upgrade && connection
    }

    /// Problems across servers: two default servers on one address.
    fn check_servers(&mut self) {
        let mut defaults: BTreeMap<(Context, String, u16), usize> = BTreeMap::new();
        let mut problems = Vec::new();
        for server in &self.routes.servers {
            for listen in server.listens.iter().filter(|l| l.default_server) {
                let Some(port) = listen.port else { continue };
                let address = listen.address.clone().unwrap_or_else(|| "*".to_string());
                let address = if address == "0.0.0.0" { "*".to_string() } else { address };
                let count = defaults.entry((server.context, address.clone(), port)).or_insert(0);
                *count += 1;
                if *count == 2 {
                    problems.push(Finding {
                        kind: FindingKind::Refused,
                        file: server.file.clone(),
                        line: listen.line,
                        message: format!(
                            "a second default server for {address}:{port}: nginx refuses to start"
                        ),
                    });
                }
            }
        }
        self.routes.findings.extend(problems);
    }
}

/// Splits `host:port`, `[v6]:port`, a bare port, or `unix:/path` into parts.
fn split_host_port(text: &str) -> (String, Option<u16>, Option<String>) {
    if let Some(path) = text.strip_prefix("unix:") {
        return (String::new(), None, Some(path.to_string()));
    }
    if let Some(rest) = text.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => {
                (host.to_string(), tail.strip_prefix(':').and_then(|p| p.parse().ok()), None)
            }
            None => (text.to_string(), None, None),
        };
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return (String::new(), text.parse().ok(), None);
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse::<u16>() {
            Ok(port) => (host.to_string(), Some(port), None),
            Err(_) => (host.to_string(), None, None),
        },
        _ => (text.to_string(), None, None),
    }
}

fn parse_listen(d: &Directive) -> Option<Listen> {
    let raw = d.arg(0)?;
    let (host, port, unix) = split_host_port(raw);
    if unix.is_none() && port.is_none() && host.is_empty() {
        return None;
    }
    let params = d.args.get(1..).unwrap_or(&[]);
    let has = |p: &str| params.iter().any(|x| x == p);
    Some(Listen {
        raw: raw.to_string(),
        address: (!host.is_empty()).then_some(host),
        // `listen 127.0.0.1;` listens on port 80.
        port: port.or((unix.is_none()).then_some(80)),
        unix,
        default_server: has("default_server") || has("default"),
        ssl: has("ssl"),
        http2: has("http2"),
        quic: has("quic"),
        proxy_protocol: has("proxy_protocol"),
        udp: has("udp"),
        line: d.line,
    })
}

fn parse_location_args(args: &[String]) -> Option<(Modifier, String)> {
    let modifier_of = |m: &str| match m {
        "=" => Some(Modifier::Exact),
        "~" => Some(Modifier::Regex),
        "~*" => Some(Modifier::RegexCaseless),
        "^~" => Some(Modifier::PrefixNoRegex),
        _ => None,
    };
    match args {
        [modifier, path] => Some((modifier_of(modifier)?, path.clone())),
        [one] => {
            for prefix in ["~*", "^~", "=", "~"] {
                if let Some(rest) = one.strip_prefix(prefix).filter(|r| !r.is_empty()) {
                    return Some((modifier_of(prefix)?, rest.to_string()));
                }
            }
            if one.starts_with('@') {
                return Some((Modifier::Named, one.clone()));
            }
            (!one.is_empty()).then(|| (Modifier::Prefix, one.clone()))
        }
        _ => None,
    }
}

fn parse_return(d: &Directive) -> Action {
    match d.args.as_slice() {
        [code, target] => Action::Return { code: code.parse().ok(), target: Some(target.clone()) },
        [one] => match one.parse::<u16>() {
            Ok(code) => Action::Return { code: Some(code), target: None },
            // `return URL` is a 302.
            Err(_) => Action::Return { code: Some(302), target: Some(one.clone()) },
        },
        _ => Action::Return { code: None, target: None },
    }
}

/// Replaces `$name` and `${name}` with values `set` in scope, when those values hold no
/// variables themselves. Returns the text and whether anything was replaced.
fn substitute(text: &str, sets: &BTreeMap<String, String>) -> (String, bool) {
    if !text.contains('$') || sets.is_empty() {
        return (text.to_string(), false);
    }
    let mut out = String::new();
    let mut replaced = false;
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let after = rest.get(i + 1..).unwrap_or("");
        let (name, consumed) = variable_name(after);
        match sets.get(name).filter(|v| !v.contains('$')) {
            Some(value) if !name.is_empty() => {
                out.push_str(value);
                replaced = true;
            }
            _ => out.push_str(rest.get(i..i + 1 + consumed).unwrap_or("$")),
        }
        rest = after.get(consumed..).unwrap_or("");
    }
    out.push_str(rest);
    (out, replaced)
}

/// The variable name at the start of `text` (after a `$`), and how many bytes it spans.
fn variable_name(text: &str) -> (&str, usize) {
    if let Some(inner) = text.strip_prefix('{') {
        return match inner.find('}') {
            Some(end) => (inner.get(..end).unwrap_or(""), end + 2),
            None => ("", 0),
        };
    }
    let end = text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(text.len());
    (text.get(..end).unwrap_or(""), end)
}

fn variables(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        let after = rest.get(i + 1..).unwrap_or("");
        let (name, consumed) = variable_name(after);
        out.push(format!("${name}"));
        rest = after.get(consumed.max(1)..).unwrap_or("");
    }
    out
}

#[cfg(test)]
mod tests;
