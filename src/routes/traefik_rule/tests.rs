use super::*;
use crate::routes::testutil::XorShift;

fn m(kind: MatcherKind, args: &[&str]) -> Rule {
    Rule::Matcher(Matcher { kind, args: args.iter().map(|a| a.to_string()).collect() })
}

fn host(h: &str) -> Rule {
    m(MatcherKind::Host, &[h])
}

fn prefix(p: &str) -> Rule {
    m(MatcherKind::PathPrefix, &[p])
}

fn not(r: Rule) -> Rule {
    Rule::Not(Box::new(r))
}

#[test]
fn every_matcher_parses_with_its_arguments() {
    let cases = [
        ("Host(`example.com`)", m(MatcherKind::Host, &["example.com"])),
        ("HostHeader(`example.com`)", m(MatcherKind::HostHeader, &["example.com"])),
        (
            "HostRegexp(`^.+\\.example\\.com$`)",
            m(MatcherKind::HostRegexp, &["^.+\\.example\\.com$"]),
        ),
        ("Path(`/health`)", m(MatcherKind::Path, &["/health"])),
        ("PathPrefix(`/api`)", m(MatcherKind::PathPrefix, &["/api"])),
        ("PathRegexp(`\\.(jpeg|jpg|png)$`)", m(MatcherKind::PathRegexp, &["\\.(jpeg|jpg|png)$"])),
        ("Method(`GET`)", m(MatcherKind::Method, &["GET"])),
        (
            "Header(`Content-Type`, `application/json`)",
            m(MatcherKind::Header, &["Content-Type", "application/json"]),
        ),
        (
            "HeaderRegexp(`Content-Type`, `^application/(json|yaml)$`)",
            m(MatcherKind::HeaderRegexp, &["Content-Type", "^application/(json|yaml)$"]),
        ),
        ("Headers(`X-Env`, `prod`)", m(MatcherKind::Headers, &["X-Env", "prod"])),
        ("HeadersRegexp(`X-Env`, `^prod`)", m(MatcherKind::HeadersRegexp, &["X-Env", "^prod"])),
        ("Query(`mobile`, `true`)", m(MatcherKind::Query, &["mobile", "true"])),
        ("Query(`mobile=true`, `id=7`)", m(MatcherKind::Query, &["mobile=true", "id=7"])),
        (
            "QueryRegexp(`mobile`, `^(true|yes)$`)",
            m(MatcherKind::QueryRegexp, &["mobile", "^(true|yes)$"]),
        ),
        ("ClientIP(`10.0.0.0/8`)", m(MatcherKind::ClientIP, &["10.0.0.0/8"])),
        ("HostSNI(`db.example.com`)", m(MatcherKind::HostSNI, &["db.example.com"])),
        (
            "HostSNIRegexp(`^.+\\.example\\.com$`)",
            m(MatcherKind::HostSNIRegexp, &["^.+\\.example\\.com$"]),
        ),
        ("ALPN(`h2`)", m(MatcherKind::Alpn, &["h2"])),
    ];
    for (text, expected) in cases {
        assert_eq!(parse(text), Ok(expected), "{text}");
    }
    // Every kind has a case above (HostHeader and friends included).
    assert_eq!(MatcherKind::ALL.len(), 17);
}

#[test]
fn v2_multi_value_forms_parse() {
    assert_eq!(parse("Host(`a.com`, `b.com`)"), Ok(m(MatcherKind::Host, &["a.com", "b.com"])));
    assert_eq!(
        parse("PathPrefix(`/api`, `/admin`,)"),
        Ok(m(MatcherKind::PathPrefix, &["/api", "/admin"])),
        "Go accepts a trailing comma in a call"
    );
    assert_eq!(parse("Method(`GET`, `POST`)"), Ok(m(MatcherKind::Method, &["GET", "POST"])));
    assert_eq!(
        parse("Headers(`A`, `1`, `B`, `2`)"),
        Ok(m(MatcherKind::Headers, &["A", "1", "B", "2"]))
    );
}

#[test]
fn matcher_names_accept_traefiks_casings_only() {
    for name in ["PathPrefix", "pathprefix", "PATHPREFIX", "Pathprefix"] {
        assert_eq!(parse(&format!("{name}(`/x`)")), Ok(prefix("/x")), "{name}");
    }
    assert_eq!(parse("host(`a`)"), Ok(host("a")));
    assert_eq!(parse("HOSTSNI(`*`)"), Ok(m(MatcherKind::HostSNI, &["*"])));
    assert_eq!(parse("Alpn(`h2`)"), Ok(m(MatcherKind::Alpn, &["h2"])));
    let err = parse("pathPrefix(`/x`)").unwrap_err();
    assert_eq!(err.to_string(), "unknown matcher `pathPrefix` at 0 (did you mean `PathPrefix`?)");
}

#[test]
fn precedence_not_over_and_over_or() {
    let a = || host("a");
    let b = || host("b");
    let c = || host("c");
    assert_eq!(
        parse("Host(`a`) || Host(`b`) && Host(`c`)"),
        Ok(Rule::Or(vec![a(), Rule::And(vec![b(), c()])]))
    );
    assert_eq!(
        parse("Host(`a`) && Host(`b`) || Host(`c`)"),
        Ok(Rule::Or(vec![Rule::And(vec![a(), b()]), c()]))
    );
    assert_eq!(parse("!Host(`a`) && Host(`b`)"), Ok(Rule::And(vec![not(a()), b()])));
    assert_eq!(parse("!(Host(`a`) || Host(`b`))"), Ok(not(Rule::Or(vec![a(), b()]))));
    assert_eq!(
        parse("(Host(`a`) || Host(`b`)) && Host(`c`)"),
        Ok(Rule::And(vec![Rule::Or(vec![a(), b()]), c()]))
    );
    assert_eq!(parse("!!Host(`a`)"), Ok(not(not(a()))));
    assert_eq!(
        parse("Host(`a`) && Host(`b`) && Host(`c`)"),
        Ok(Rule::And(vec![a(), b(), c()])),
        "a chain is one node"
    );
    assert_eq!(parse("((Host(`a`)))"), Ok(a()));
}

#[test]
fn whitespace_and_newlines_are_free() {
    assert_eq!(
        parse("\n  Host ( `a` )\t&&\n PathPrefix(`/x`)  "),
        Ok(Rule::And(vec![host("a"), prefix("/x")]))
    );
}

#[test]
fn string_forms() {
    assert_eq!(parse("Host(\"a.com\")"), Ok(host("a.com")));
    assert_eq!(parse("Path(`/a\\b`)"), Ok(m(MatcherKind::Path, &["/a\\b"])), "raw: no escapes");
    assert_eq!(
        parse(r#"Path("/a\"b\\c\t\x41\u00e9\101")"#),
        Ok(m(MatcherKind::Path, &["/a\"b\\c\tAéA"]))
    );
    assert_eq!(parse("Path(`/a\r\nb`)"), Ok(m(MatcherKind::Path, &["/a\nb"])), "Go drops CR");
    let (rule, notes) = parse_with_notes("Host('a.com')").unwrap();
    assert_eq!(rule, host("a.com"));
    assert_eq!(notes.len(), 1);
    assert!(notes[0].message.contains("single-quoted"), "{notes:?}");
    assert_eq!(parse(r"Host('it\'s')"), Ok(host("it's")));
    assert_eq!(parse("Host(`ünïcödé.example`)"), Ok(host("ünïcödé.example")));
}

#[test]
fn notes_flag_what_traefik_refuses() {
    let (_, notes) = parse_with_notes("PathPrefix(`api`) && Host(`bücher.de`)").unwrap();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].message.contains("does not start with `/`"));
    assert!(notes[1].message.contains("not ASCII"));
    let (_, notes) = parse_with_notes("Host(`a`) && PathPrefix(`/`)").unwrap();
    assert!(notes.is_empty());
}

#[test]
fn errors_carry_positions_and_words() {
    let cases: &[(&str, &str)] = &[
        ("", "empty rule"),
        ("   ", "empty rule"),
        ("Host(`abc", "unterminated string starting at 5"),
        ("Host(\"abc\\", "unterminated string starting at 5"),
        ("Hots(`a`)", "unknown matcher `Hots` at 0 (did you mean `Host`?)"),
        ("Frobnicate(`a`)", "unknown matcher `Frobnicate` at 0"),
        ("Host(`a.com`) && (Path(`/x`)", "expected `)` at 28, found the end of the rule"),
        ("Host(`a.com`) && (Path(`/x`) Host(`b`)", "expected `)` at 29, found `Host`"),
        ("Host(`a`) &", "unexpected character `&` at 10"),
        ("Host(`a`) | Host(`b`)", "unexpected character `|` at 10"),
        ("Host(`a`) Host(`b`)", "expected `&&`, `||` or the end of the rule at 10, found `Host`"),
        ("Host `a`", "expected `(` after the matcher name at 5, found a string"),
        ("Host(a)", "expected a quoted value at 5, found `a`"),
        ("Host(`a` `b`)", "expected `,` or `)` at 9, found a string"),
        ("Host()", "`Host` takes at least one value, found 0 at 0"),
        ("Header(`X`)", "`Header` takes two values (name and value), found 1 at 0"),
        ("Headers(`X`, `1`, `Y`)", "`Headers` takes name and value pairs, found 3 at 0"),
        ("PathRegexp(`a`, `b`)", "`PathRegexp` takes one value, found 2 at 0"),
        (
            "Host(`a`) &&",
            "expected a matcher such as Host(`example.com`) at 12, found the end of the rule",
        ),
        ("&& Host(`a`)", "expected a matcher such as Host(`example.com`) at 0, found `&&`"),
        (")", "expected a matcher such as Host(`example.com`) at 0, found `)`"),
        ("Path(\"\\q\")", "invalid escape `\\q` at 6"),
        ("Path(\"\\xff\")", "invalid escape `\\xff` at 6"),
        ("Path(\"\\u12\")", "invalid escape `\\u12` at 6"),
        ("Path(\"\\ud800\")", "invalid escape `\\ud800` at 6"),
        ("Path(\"a\nb\")", "line break inside a quoted string at 7"),
        ("Host(`a`) # x", "unexpected character `#` at 10"),
        ("Host(`a`) && é", "unknown matcher `é` at 13"),
    ];
    for (text, expected) in cases {
        let err = parse(text).expect_err(text);
        assert_eq!(err.to_string(), *expected, "{text:?}");
        assert!(err.offset() <= text.len(), "{text:?}");
    }
}

#[test]
fn depth_is_bounded() {
    let ok = format!("{}Host(`a`){}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(parse(&ok), Ok(host("a")));
    let deep = format!("{}Host(`a`){}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert_eq!(parse(&deep), Err(RuleError::TooDeep { offset: MAX_DEPTH }));
    let nots = format!("{}Host(`a`)", "!".repeat(100_000));
    assert!(matches!(parse(&nots), Err(RuleError::TooDeep { .. })));
    let parens = "(".repeat(100_000);
    assert!(matches!(parse(&parens), Err(RuleError::TooDeep { .. })));
}

#[test]
fn long_chains_cost_no_depth() {
    let chain = vec!["Host(`a`)"; 20_000].join(" && ");
    let rule = parse(&chain).unwrap();
    let Rule::And(operands) = &rule else { panic!("expected a chain") };
    assert_eq!(operands.len(), 20_000);
    assert_eq!(rule.to_string(), chain);
    let mixed = vec!["Host(`a`) && Path(`/b`)"; 5_000].join(" || ");
    assert_eq!(parse(&mixed).unwrap().to_string(), mixed);
}

#[test]
fn display_is_canonical_traefik_syntax() {
    let cases = [
        ("host(\"a.com\")&&pathprefix('/api')", "Host(`a.com`) && PathPrefix(`/api`)"),
        ("Host(`a`,`b`)", "Host(`a`, `b`)"),
        ("(Host(`a`) || Host(`b`)) && !Path(`/x`)", "(Host(`a`) || Host(`b`)) && !Path(`/x`)"),
        ("!(Host(`a`) && Host(`b`))", "!(Host(`a`) && Host(`b`))"),
        ("Host(`a`) || (Host(`b`) && Host(`c`))", "Host(`a`) || Host(`b`) && Host(`c`)"),
        ("(Host(`a`) && Host(`b`)) && Host(`c`)", "(Host(`a`) && Host(`b`)) && Host(`c`)"),
        ("Path(\"/a`b\")", "Path(\"/a`b\")"),
        ("Path(\"/a\\tb\")", "Path(\"/a\\tb\")"),
        ("Path(\"\\u0001\")", "Path(\"\\u0001\")"),
        ("alpn(`h2`)", "ALPN(`h2`)"),
    ];
    for (text, canonical) in cases {
        let rule = parse(text).unwrap();
        assert_eq!(rule.to_string(), canonical, "{text}");
        assert_eq!(parse(canonical), Ok(rule), "{canonical}");
    }
}

#[test]
fn hosts_and_paths() {
    let rule = parse(
        "(Host(`API.example.com`) || Host(`www.example.com`, `api.example.com`)) && \
         PathPrefix(`/api`) && !PathPrefix(`/api/internal`) && !Host(`evil.com`) && \
         (Path(`/health`) || Path(`/ready`))",
    )
    .unwrap();
    assert_eq!(rule.hosts(), ["api.example.com", "www.example.com"]);
    assert_eq!(rule.path_prefixes(), ["/api"]);
    assert_eq!(rule.paths(), ["/health", "/ready"]);
    let sni = parse("HostSNI(`*`)").unwrap();
    assert!(sni.hosts().is_empty());
    assert!(sni.is_sni_catch_all());
    assert_eq!(parse("HostSNI(`db.example.com`)").unwrap().hosts(), ["db.example.com"]);
    assert_eq!(parse("HostHeader(`a`)").unwrap().hosts(), ["a"]);
    assert!(parse("HostRegexp(`.+`)").unwrap().hosts().is_empty());
    assert_eq!(parse("!!Host(`a`)").unwrap().hosts(), ["a"], "double negation is positive");
}

#[test]
fn describe_in_words() {
    let cases = [
        ("Host(`api.example.com`) && PathPrefix(`/api/`)", "host api.example.com and path /api/*"),
        ("Host(`a`, `b`)", "host a or b"),
        ("(Host(`a`) || Host(`b`)) && Path(`/x`)", "(host a or host b) and path /x"),
        ("PathPrefix(`/`)", "path /*"),
        ("PathPrefix(`/api`)", "path /api*"),
        ("!PathPrefix(`/api`)", "not path /api*"),
        ("!(Host(`a`) && Method(`GET`))", "not (host a and method GET)"),
        ("Header(`X-Env`, `prod`)", "header X-Env: prod"),
        ("HeadersRegexp(`X-Env`, `^p`)", "header X-Env matching ^p"),
        ("Query(`mobile`, `true`)", "query mobile=true"),
        ("Query(`mobile`)", "query mobile"),
        ("QueryRegexp(`id`, `^[0-9]+$`)", "query id matching ^[0-9]+$"),
        ("ClientIP(`10.0.0.0/8`)", "client IP 10.0.0.0/8"),
        ("HostSNI(`*`)", "any SNI"),
        (
            "HostSNI(`db.example.com`) && ALPN(`postgresql`)",
            "SNI db.example.com and ALPN postgresql",
        ),
        ("HostRegexp(`^.+\\.example\\.com$`)", "host matching ^.+\\.example\\.com$"),
        ("PathRegexp(`^/v[0-9]+/`)", "path matching ^/v[0-9]+/"),
        ("HostSNIRegexp(`^db`)", "SNI matching ^db"),
    ];
    for (text, words) in cases {
        assert_eq!(parse(text).unwrap().describe(), words, "{text}");
    }
}

#[test]
fn syntax_versions() {
    let syntax = |t: &str| parse(t).unwrap().syntax();
    assert_eq!(syntax("Host(`a`) && PathPrefix(`/x`)"), Syntax::Any);
    assert_eq!(syntax("Host(`a`, `b`)"), Syntax::V2);
    assert_eq!(syntax("Headers(`a`, `b`)"), Syntax::V2);
    assert_eq!(syntax("HostHeader(`a`)"), Syntax::V2);
    assert_eq!(syntax("Header(`a`, `b`)"), Syntax::V3);
    assert_eq!(syntax("Query(`a`, `b`)"), Syntax::V3);
    assert_eq!(syntax("PathRegexp(`^/x`)"), Syntax::V3);
    assert_eq!(syntax("Host(`a`, `b`) && Header(`a`, `b`)"), Syntax::Neither);
}

#[test]
fn foreign_matchers_per_protocol() {
    let rule = parse("HostSNI(`a`) && Host(`b`) && ClientIP(`10.0.0.1`)").unwrap();
    assert_eq!(rule.foreign_matchers(Protocol::Tcp), [MatcherKind::Host]);
    assert_eq!(rule.foreign_matchers(Protocol::Http), [MatcherKind::HostSNI]);
}

#[test]
fn normalized_ignores_order_case_and_nesting() {
    let a = parse("Host(`A.com`) && (PathPrefix(`/x`) && Method(`GET`))").unwrap();
    let b = parse("Method(`GET`) && PathPrefix(`/x`) && host(`a.com`)").unwrap();
    assert_ne!(a, b);
    assert_eq!(a.normalized(), b.normalized());
    assert_eq!(parse("!!Host(`a`)").unwrap().normalized(), host("a"));
    assert_eq!(
        parse("Host(`b`, `a`, `A`)").unwrap().normalized(),
        parse("Host(`a`, `b`)").unwrap().normalized()
    );
    assert_ne!(
        parse("Host(`a`) && Path(`/x`)").unwrap().normalized(),
        parse("Host(`a`) || Path(`/x`)").unwrap().normalized()
    );
}

#[test]
fn default_priority_is_rule_length() {
    assert_eq!(default_priority("Host(`a.com`)"), 13);
    assert_eq!(default_priority(""), 0);
    assert_eq!(default_priority("Host(`é`)"), 10, "bytes, as Go's len()");
}

// ---------------------------------------------------------------------------------------
// Properties

const STRING_ALPHABET: &[&str] = &[
    "a", "b", "z", "0", "9", ".", "-", "/", "*", "^", "$", "(", ")", ",", "&&", "||", "!", " ",
    "`", "\"", "'", "\\", "\n", "\r", "\t", "\u{1}", "é", "🦀", "{", "}", "=",
];

fn random_string(rng: &mut XorShift) -> String {
    (0..rng.below(8)).map(|_| *rng.pick(STRING_ALPHABET)).collect()
}

fn random_matcher(rng: &mut XorShift) -> Rule {
    let kind = *rng.pick(&MatcherKind::ALL);
    let count = match kind.arity() {
        Arity::AtLeastOne => 1 + rng.below(3),
        Arity::One => 1,
        Arity::Two => 2,
        Arity::OneOrTwo => 1 + rng.below(2),
        Arity::Pairs => 2 * (1 + rng.below(2)),
    };
    Rule::Matcher(Matcher { kind, args: (0..count).map(|_| random_string(rng)).collect() })
}

fn random_rule(rng: &mut XorShift, depth: usize) -> Rule {
    if depth == 0 || rng.chance(35) {
        return random_matcher(rng);
    }
    match rng.below(3) {
        0 => not(random_rule(rng, depth - 1)),
        op => {
            let operands = (0..2 + rng.below(3)).map(|_| random_rule(rng, depth - 1)).collect();
            if op == 1 { Rule::And(operands) } else { Rule::Or(operands) }
        }
    }
}

#[test]
fn property_display_then_parse_round_trips() {
    let mut rng = XorShift::new(0x5eed_0001);
    for case in 0..2_000 {
        let rule = random_rule(&mut rng, 4);
        let text = rule.to_string();
        assert_eq!(parse(&text).as_ref(), Ok(&rule), "case {case}: {text}");
        // The canonical form is a fixed point.
        assert_eq!(parse(&text).map(|r| r.to_string()), Ok(text.clone()), "case {case}");
        // Questions never panic.
        let _ = (rule.hosts(), rule.describe(), rule.syntax(), rule.normalized());
    }
}

const RULE_ALPHABET: &[u8] = b"()!&|,`\"'\\ HostPathPrefix/.*a";

#[test]
fn property_random_bytes_never_panic() {
    let mut rng = XorShift::new(0x5eed_0002);
    for _ in 0..3_000 {
        let len = rng.below(64);
        let bytes = rng.bytes(len, RULE_ALPHABET);
        let text = String::from_utf8_lossy(&bytes);
        if let Err(err) = parse(&text) {
            assert!(err.offset() <= text.len());
            assert!(!err.to_string().is_empty());
        }
    }
}

#[test]
fn property_mutated_rules_never_panic() {
    let seeds = [
        "Host(`sellybase.albaly.jp`) && PathPrefix(`/api`)",
        "(Host(`a`) || Host(`b`)) && !Method(`POST`)",
        "Headers(`X`, \"a\\\"b\") || Query(`q`, `1`)",
        "HostSNI(`*`) && ALPN(`h2`)",
    ];
    let mut rng = XorShift::new(0x5eed_0003);
    for i in 0..4_000 {
        let seed = seeds[i % seeds.len()];
        let bytes = rng.mutate(seed.as_bytes(), RULE_ALPHABET);
        let text = String::from_utf8_lossy(&bytes);
        match parse(&text) {
            Ok(rule) => assert_eq!(parse(&rule.to_string()), Ok(rule), "{text}"),
            Err(err) => assert!(err.offset() <= text.len(), "{text}: {err}"),
        }
    }
}
