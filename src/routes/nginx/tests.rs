use super::*;
use crate::routes::testutil::XorShift;

const SEED002: &str = include_str!("../testdata/seed002_nginx.conf");
const REAL_MAIN: &str = include_str!("../testdata/nginx-realworld/nginx.conf");
const REAL_APP: &str = include_str!("../testdata/nginx-realworld/conf.d/app.conf");
const REAL_ADMIN: &str = include_str!("../testdata/nginx-realworld/conf.d/admin.conf");
const REAL_MIME: &str = include_str!("../testdata/nginx-realworld/mime.types");

/// The files of the real-world fixture, as a resolver that expands its one glob.
fn realworld_files(pattern: &str) -> Option<Vec<(String, String)>> {
    match pattern {
        "mime.types" => Some(vec![("/etc/nginx/mime.types".into(), REAL_MIME.into())]),
        "conf.d/*.conf" => Some(vec![
            ("/etc/nginx/conf.d/admin.conf".into(), REAL_ADMIN.into()),
            ("/etc/nginx/conf.d/app.conf".into(), REAL_APP.into()),
        ]),
        "/etc/nginx/modules-enabled/*.conf" => Some(vec![]),
        _ => None,
    }
}

fn only_findings(text: &str) -> Vec<(FindingKind, usize, String)> {
    let routes = extract(&parse("t.conf", text));
    routes.findings.into_iter().map(|f| (f.kind, f.line, f.message)).collect()
}

fn proxy(location: &Location) -> &ProxyTarget {
    match &location.action {
        Action::Proxy(target) => target,
        other => panic!("{} is not a proxy: {other:?}", location.path),
    }
}

#[test]
fn seed002_every_route_of_the_diagram() {
    let routes = read("/etc/nginx/nginx.conf", SEED002, |p| {
        (p == "/etc/nginx/mime.types").then(|| vec![(p.to_string(), REAL_MIME.to_string())])
    });
    assert!(routes.findings.is_empty(), "{:#?}", routes.findings);
    let [server] = routes.servers.as_slice() else { panic!("{:#?}", routes.servers) };
    assert_eq!(server.context, Context::Http);
    assert_eq!(server.listens.len(), 1);
    assert_eq!((server.listens[0].port, server.listens[0].default_server), (Some(80), false));
    assert_eq!(server.server_names, ["localhost"]);
    let upstream = routes.upstream(Context::Http, "backend").unwrap();
    assert_eq!(upstream.servers.len(), 1);
    assert_eq!(
        (upstream.servers[0].host.as_str(), upstream.servers[0].port),
        ("backend", Some(8000))
    );

    // The diagram's table: path → container:port, and which ones upgrade to websockets.
    let table: Vec<(String, String, Option<u16>, bool)> = server
        .locations
        .iter()
        .filter_map(|l| match &l.action {
            Action::Proxy(t) => {
                let (host, port) = match &t.upstream {
                    Some(name) => {
                        let up = routes.upstream(Context::Http, name).unwrap();
                        (up.servers[0].host.clone(), up.servers[0].port)
                    }
                    None => (t.host.clone(), t.effective_port()),
                };
                Some((format!("{}{}", l.modifier.as_str(), l.path), host, port, l.websocket))
            }
            _ => None,
        })
        .collect();
    let expected = [
        ("/api/", "backend", 8000, false),
        ("/admin/", "backend", 8000, false),
        ("/static/", "backend", 8000, false),
        ("/media/", "backend", 8000, false),
        ("/ws", "frontend", 5173, true),
        ("/@vite/", "frontend", 5173, false),
        ("/", "frontend", 5173, true),
    ];
    let expected: Vec<(String, String, Option<u16>, bool)> = expected
        .iter()
        .map(|(p, h, port, ws)| (p.to_string(), h.to_string(), Some(*port), *ws))
        .collect();
    assert_eq!(table, expected);

    let health = &server.locations[0];
    assert_eq!((health.modifier, health.path.as_str()), (Modifier::Exact, "/health"));
    assert_eq!(health.action, Action::Return { code: Some(200), target: Some("healthy\n".into()) });
    let root = server.locations.last().unwrap();
    assert_eq!(proxy(root).uri.as_deref(), Some("/"));
    assert_eq!(root.proxy_http_version, "1.1");
    let api = &server.locations[1];
    assert_eq!(proxy(api).upstream.as_deref(), Some("backend"));
    assert_eq!(proxy(api).effective_port(), None, "the upstream's servers have the port");
    assert_eq!(api.proxy_http_version, "1.0");
}

#[test]
fn realworld_configuration_with_includes() {
    let routes = read("/etc/nginx/nginx.conf", REAL_MAIN, realworld_files);
    let messages: Vec<(FindingKind, &str, usize, &str)> = routes
        .findings
        .iter()
        .map(|f| (f.kind, f.file.as_str(), f.line, f.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        [(
            FindingKind::Suspect,
            "/etc/nginx/conf.d/app.conf",
            27,
            "location `/socket.io/` sets websocket upgrade headers but proxies with HTTP/1.0; \
             the upgrade needs `proxy_http_version 1.1`"
        )]
    );
    let names: Vec<(Context, Vec<String>)> =
        routes.servers.iter().map(|s| (s.context, s.server_names.clone())).collect();
    assert_eq!(
        names,
        [
            (Context::Http, vec!["_".to_string()]),
            (Context::Http, vec!["admin.internal".to_string()]),
            (Context::Http, vec!["example.com".to_string(), "www.example.com".to_string()]),
            (Context::Stream, vec![]),
            (Context::Stream, vec![]),
        ]
    );

    // The redirect server.
    let redirect = &routes.servers[0];
    let listens: Vec<(Option<&str>, Option<u16>, bool)> =
        redirect.listens.iter().map(|l| (l.address.as_deref(), l.port, l.default_server)).collect();
    assert_eq!(listens, [(None, Some(80), true), (Some("::"), Some(80), true)]);
    assert_eq!(
        redirect.locations[1].action,
        Action::Return { code: Some(301), target: Some("https://$host$request_uri".into()) }
    );
    assert_eq!(
        redirect.locations[0].action,
        Action::Static { root: Some("/var/www/certbot".into()), alias: None, try_files: vec![] }
    );

    // The admin server: gRPC on a loopback address.
    let admin = &routes.servers[1];
    assert_eq!(admin.listens[0].address.as_deref(), Some("127.0.0.1"));
    assert_eq!(admin.listens[0].port, Some(8080));
    let grpc = proxy(&admin.locations[0]);
    assert_eq!((grpc.directive.as_str(), grpc.scheme.as_deref()), ("grpc_pass", Some("grpc")));
    assert_eq!((grpc.host.as_str(), grpc.port), ("admin-grpc", Some(50051)));
    assert_eq!(admin.file, "/etc/nginx/conf.d/admin.conf");

    // The application server.
    let app = &routes.servers[2];
    assert!(app.ssl);
    let flags: Vec<(Option<u16>, bool, bool)> =
        app.listens.iter().map(|l| (l.port, l.ssl, l.http2)).collect();
    assert_eq!(flags, [(Some(443), true, true), (Some(443), true, false)]);
    let paths: Vec<String> =
        app.locations.iter().map(|l| format!("{}{}", l.modifier.as_str(), l.path)).collect();
    assert_eq!(
        paths,
        [
            "^~/grafana/",
            "~*\\.(?:ico|css|js|gif|jpe?g|png)$",
            "/api",
            "/socket.io/",
            "/dynamic/",
            "/legacy",
            "/legacy/reports",
            "/lua",
            "@fallback",
        ]
    );
    let grafana = proxy(&app.locations[0]);
    assert_eq!(
        (grafana.host.as_str(), grafana.port, grafana.via_variables),
        ("grafana", Some(3000), true)
    );
    assert!(grafana.is_resolvable());
    assert_eq!(
        app.locations[1].action,
        Action::Static {
            root: Some("/var/www/html".into()),
            alias: None,
            try_files: vec!["$uri".into(), "=404".into()]
        }
    );
    let api = proxy(&app.locations[2]);
    assert_eq!(api.upstream.as_deref(), Some("api_pool"));
    assert!(!app.locations[2].conditional, "the unconditional proxy_pass wins over the if");
    assert!(app.locations[3].websocket);
    let dynamic = proxy(&app.locations[4]);
    assert!(!dynamic.is_resolvable());
    assert_eq!(dynamic.unresolved, ["$http_x_backend"]);
    assert_eq!(dynamic.uri.as_deref(), Some("$request_uri"));
    let reports = &app.locations[6];
    assert_eq!(reports.parents, ["/legacy"]);
    assert_eq!(proxy(reports).uri.as_deref(), Some("/v2/"));
    assert!(
        matches!(&app.locations[5].action, Action::Static { alias: Some(a), .. } if a == "/srv/legacy")
    );
    assert!(matches!(app.locations[7].action, Action::Static { .. }), "Lua is not a proxy");
    let fallback = proxy(&app.locations[8]);
    assert_eq!(fallback.unix.as_deref(), Some("/run/app.sock"));
    assert!(fallback.is_resolvable());

    // Upstreams and the stream block.
    let pool = routes.upstream(Context::Http, "api_pool").unwrap();
    let servers: Vec<(&str, Option<u16>, bool, bool)> =
        pool.servers.iter().map(|s| (s.host.as_str(), s.port, s.backup, s.down)).collect();
    assert_eq!(
        servers,
        [
            ("api-1", Some(9000), false, false),
            ("api-2", Some(9000), false, false),
            ("10.0.0.9", None, true, false),
            ("", None, false, true)
        ]
    );
    assert_eq!(pool.servers[0].params, ["weight=3", "max_fails=2", "fail_timeout=10s"]);
    assert_eq!(pool.servers[3].unix.as_deref(), Some("/run/api.sock"));
    let pg = routes.servers[3].proxy.as_ref().unwrap();
    assert_eq!((pg.upstream.as_deref(), pg.scheme.as_deref()), (Some("pg"), None));
    assert_eq!(routes.upstream(Context::Stream, "pg").unwrap().servers[0].port, Some(5432));
    assert!(routes.upstream(Context::Http, "pg").is_none());
    let dns = &routes.servers[4];
    assert!(dns.listens[0].udp);
    let dns_target = dns.proxy.as_ref().unwrap();
    assert_eq!((dns_target.host.as_str(), dns_target.port), ("dns", Some(53)));
}

#[test]
fn tokenizer_follows_nginx() {
    let config = parse(
        "t.conf",
        r#"add_header X "a; b" always; # comment ; {
return 200 'it\'s \"q\" \\ \t';
rewrite ^/(.*)$ /x/$1 break;
set $a foo#bar;
if ($http_x ~* "^(a|b)$") { set ${b}x 1; }
location ~ \.php$ { }
 error_page 404 =200 /empty.gif;
log_format f '$a'
   "$b";
"#,
    );
    assert!(config.findings.is_empty(), "{:?}", config.findings);
    let d: Vec<(&str, Vec<&str>, usize)> = config
        .directives
        .iter()
        .map(|d| (d.name.as_str(), d.args.iter().map(String::as_str).collect(), d.line))
        .collect();
    assert_eq!(
        d,
        [
            ("add_header", vec!["X", "a; b", "always"], 1),
            ("return", vec!["200", "it's \"q\" \\ \t"], 2),
            ("rewrite", vec!["^/(.*)$", "/x/$1", "break"], 3),
            ("set", vec!["$a", "foo#bar"], 4),
            ("if", vec!["($http_x", "~*", "^(a|b)$", ")"], 5),
            ("location", vec!["~", "\\.php$"], 6),
            ("error_page", vec!["404", "=200", "/empty.gif"], 7),
            ("log_format", vec!["f", "$a", "$b"], 8),
        ]
    );
    let set = &config.directives[4].children()[0];
    assert_eq!(
        (set.name.as_str(), set.args.as_slice()),
        ("set", &["${b}x".to_string(), "1".to_string()][..])
    );
}

#[test]
fn location_forms() {
    type Case<'a> = (&'a [&'a str], Option<(Modifier, &'a str)>);
    let cases: &[Case] = &[
        (&["/api/"], Some((Modifier::Prefix, "/api/"))),
        (&["=", "/"], Some((Modifier::Exact, "/"))),
        (&["=/x"], Some((Modifier::Exact, "/x"))),
        (&["~", "^/a"], Some((Modifier::Regex, "^/a"))),
        (&["~*\\.png$"], Some((Modifier::RegexCaseless, "\\.png$"))),
        (&["^~", "/static/"], Some((Modifier::PrefixNoRegex, "/static/"))),
        (&["@named"], Some((Modifier::Named, "@named"))),
        (&["!", "/x"], None),
        (&[], None),
        (&["a", "b", "c"], None),
    ];
    for (args, expected) in cases {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let got = parse_location_args(&args);
        assert_eq!(got, expected.map(|(m, p)| (m, p.to_string())), "{args:?}");
    }
}

#[test]
fn listen_forms() {
    let listen = |text: &str| {
        let config = parse("t", &format!("server {{ listen {text}; }}"));
        extract(&config).servers[0].listens.first().cloned()
    };
    let l = listen("8080").unwrap();
    assert_eq!((l.address, l.port), (None, Some(8080)));
    let l = listen("*:80 default_server reuseport").unwrap();
    assert_eq!((l.address.as_deref(), l.port, l.default_server), (Some("*"), Some(80), true));
    let l = listen("[::1]:8443 ssl proxy_protocol").unwrap();
    assert_eq!(
        (l.address.as_deref(), l.port, l.ssl, l.proxy_protocol),
        (Some("::1"), Some(8443), true, true)
    );
    let l = listen("127.0.0.1").unwrap();
    assert_eq!((l.address.as_deref(), l.port), (Some("127.0.0.1"), Some(80)));
    let l = listen("localhost:8000").unwrap();
    assert_eq!((l.address.as_deref(), l.port), (Some("localhost"), Some(8000)));
    let l = listen("unix:/var/run/nginx.sock").unwrap();
    assert_eq!((l.unix.as_deref(), l.port), (Some("/var/run/nginx.sock"), None));
    let l = listen("443 quic reuseport").unwrap();
    assert!(l.quic);
    let none = extract(&parse("t", "server { server_name a; }"));
    assert!(none.servers[0].listen_implicit);
    assert_eq!(none.servers[0].listens[0].port, Some(80));
}

#[test]
fn proxy_targets() {
    let target = |text: &str| {
        let config = parse("t", &format!("server {{ location / {{ proxy_pass {text}; }} }}"));
        let routes = extract(&config);
        proxy(&routes.servers[0].locations[0]).clone()
    };
    let t = target("http://backend:8000/");
    assert_eq!(
        (t.scheme.as_deref(), t.host.as_str(), t.port, t.uri.as_deref()),
        (Some("http"), "backend", Some(8000), Some("/"))
    );
    let t = target("https://api.example.com");
    assert_eq!((t.port, t.effective_port(), t.uri), (None, Some(443), None));
    let t = target("http://[::1]:9000/v1/");
    assert_eq!((t.host.as_str(), t.port, t.uri.as_deref()), ("::1", Some(9000), Some("/v1/")));
    let t = target("http://$backend");
    assert_eq!(t.unresolved, ["$backend"]);
    assert!(!t.is_resolvable());
    let t = target("http://${svc}:80");
    assert_eq!(t.unresolved, ["$svc"]);
    let t = target("http://backend:8000$request_uri");
    assert_eq!(
        (t.host.as_str(), t.port, t.uri.as_deref()),
        ("backend", Some(8000), Some("$request_uri"))
    );
    let t = target("http://unix:/tmp/app.sock:/api/");
    assert_eq!(
        (t.unix.as_deref(), t.uri.as_deref(), t.host.as_str()),
        (Some("/tmp/app.sock"), Some("/api/"), "")
    );

    let set = extract(&parse(
        "t",
        "server { set $up backend; set $port 8000; location / { set $up api; proxy_pass http://$up:$port; } }",
    ));
    let t = proxy(&set.servers[0].locations[0]);
    assert_eq!(
        (t.host.as_str(), t.port, t.via_variables),
        ("api", Some(8000), true),
        "the location's set wins"
    );
    let fastcgi =
        extract(&parse("t", "server { location ~ \\.php$ { fastcgi_pass php-fpm:9000; } }"));
    let t = proxy(&fastcgi.servers[0].locations[0]);
    assert_eq!((t.scheme.as_deref(), t.host.as_str(), t.port), (None, "php-fpm", Some(9000)));
}

#[test]
fn websocket_needs_both_headers_and_inherits_like_nginx() {
    let routes = extract(&parse(
        "t",
        r#"
http {
  proxy_http_version 1.1;
  map $http_upgrade $up_conn { default Upgrade; "" close; }
  server {
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $up_conn;
    location /inherits { proxy_pass http://a; }
    location /overrides { proxy_pass http://a; proxy_set_header Host $host; }
    location /only-upgrade { proxy_pass http://a; proxy_set_header Upgrade $http_upgrade; }
  }
}"#,
    ));
    let ws: Vec<(&str, bool)> =
        routes.servers[0].locations.iter().map(|l| (l.path.as_str(), l.websocket)).collect();
    assert_eq!(ws, [("/inherits", true), ("/overrides", false), ("/only-upgrade", false)]);
    assert!(routes.findings.is_empty(), "HTTP/1.1 comes from http: {:?}", routes.findings);
}

#[test]
fn nginx_refusals_are_findings() {
    let text = r#"
http {
  upstream backend { server backend:8000; }
  server {
    listen 80 default_server;
    location /a { proxy_pass http://backend:8000; }
    location ~ ^/b { proxy_pass http://other:80/b/; }
    location /c/ { return 200; }
    location ^~ /c/ { return 204; }
    location @named { proxy_pass http://x/uri; }
    location /d { if ($x) { proxy_pass http://x/uri; } }
  }
  server { listen 0.0.0.0:80 default_server; }
}"#;
    let got = only_findings(text);
    let expected: Vec<(FindingKind, usize, String)> = vec![
        (FindingKind::Refused, 6, "upstream `backend` may not have port 8000: nginx refuses to start".into()),
        (FindingKind::Refused, 7, "`proxy_pass http://other:80/b/` has a URI part inside a regex location, a named location or an `if`: nginx refuses to start".into()),
        (FindingKind::Refused, 9, "duplicate location `/c/`: nginx refuses to start".into()),
        (FindingKind::Refused, 10, "`proxy_pass http://x/uri` has a URI part inside a regex location, a named location or an `if`: nginx refuses to start".into()),
        (FindingKind::Refused, 11, "`proxy_pass http://x/uri` has a URI part inside a regex location, a named location or an `if`: nginx refuses to start".into()),
        (FindingKind::Refused, 13, "a second default server for *:80: nginx refuses to start".into()),
    ];
    assert_eq!(got, expected);
    let routes = extract(&parse("t", text));
    assert!(routes.servers[0].locations[5].conditional);
}

#[test]
fn malformed_files_give_findings_not_panics() {
    let cases: &[(&str, &[(usize, &str)])] = &[
        ("http { server { listen 80; }", &[(1, "block `http` opened at line 1 is not closed")]),
        ("server {\n listen 80\n}", &[(2, "directive `listen` is missing its `;`")]),
        ("}\nevents {}", &[(1, "unexpected `}`")]),
        (
            "worker_processes 1",
            &[(1, "directive `worker_processes` is missing its `;` at the end of the file")],
        ),
        (";", &[(1, "unexpected `;`")]),
        ("{ listen 80; }", &[(1, "`{` without a directive name")]),
        (
            "return 200 \"unterminated;\n}\n",
            &[(1, "quoted string starting at line 1 is not closed")],
        ),
        (
            "content_by_lua_block { if x then",
            &[(1, "block `content_by_lua_block` opened at line 1 is not closed")],
        ),
        ("server { listen ; }", &[(1, "cannot read `listen `")]),
        ("server { listen :; }", &[(1, "cannot read `listen :`")]),
        ("server { location { } }", &[(1, "cannot read `location `")]),
        ("server { location / { proxy_pass; } }", &[(1, "`proxy_pass` has no target")]),
        (
            "server { location / { proxy_pass http://a:port; } }",
            &[(1, "cannot read the port in `proxy_pass http://a:port`")],
        ),
    ];
    for (text, expected) in cases {
        let got = only_findings(text);
        let got: Vec<(usize, &str)> = got.iter().map(|(_, line, m)| (*line, m.as_str())).collect();
        assert_eq!(got, *expected, "{text:?}");
    }
    let deep = format!("{}{}", "a {".repeat(10_000), "}".repeat(10_000));
    let config = parse("t", &deep);
    assert_eq!(config.findings.len(), 1, "{:?}", config.findings.first());
    assert!(config.findings[0].message.contains("deeper than 64"));
    let unclosed = "a {".repeat(100_000);
    let config = parse("t", &unclosed);
    assert!(!config.findings.is_empty());
}

#[test]
fn includes_are_expanded_or_reported() {
    let mut asked = Vec::new();
    let config = parse_with_includes(
        "main.conf",
        "http { include conf.d/*.conf; include missing.conf; include a b; }",
        |p| {
            asked.push(p.to_string());
            (p == "conf.d/*.conf")
                .then(|| "server { listen 8080; }\nserver { listen 8081; }".to_string())
        },
    );
    assert_eq!(asked, ["conf.d/*.conf", "missing.conf"]);
    let left: Vec<Vec<String>> = config.includes().iter().map(|d| d.args.clone()).collect();
    assert_eq!(left, [vec!["missing.conf".to_string()], vec!["a".to_string(), "b".to_string()]]);
    let messages: Vec<&str> = config.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        ["`include missing.conf` could not be read", "`include` takes exactly one file"]
    );
    let routes = extract(&config);
    let ports: Vec<Option<u16>> = routes.servers.iter().map(|s| s.listens[0].port).collect();
    assert_eq!(ports, [Some(8080), Some(8081)]);
    assert_eq!(routes.servers[0].file, "conf.d/*.conf");

    let cycle = parse_with_includes("main.conf", "include self.conf;", |_| {
        Some("include self.conf;".into())
    });
    assert_eq!(cycle.findings.len(), 1);
    assert_eq!(cycle.findings[0].message, "`include self.conf` includes itself");
    assert_eq!(cycle.findings[0].file, "self.conf");

    let mut n = 0;
    let chain = parse_with_includes("main.conf", "include f0;", |_| {
        n += 1;
        Some(format!("include f{n};"))
    });
    assert!(chain.findings.iter().any(|f| f.message.contains("nests deeper than 16")));

    let fan = parse_with_includes("main.conf", "include a;", |_| {
        Some("include b; include c; include d;".into())
    });
    assert!(fan.findings.len() < 50, "cycles stop the fan-out: {}", fan.findings.len());
    let explode = parse_with_include_files("main.conf", "include x0;", |p| {
        let depth: usize = p.trim_start_matches('x').parse().unwrap_or(0);
        Some(vec![("f".into(), format!("include x{}; include x{};", depth + 1, depth + 1))])
    });
    assert!(explode.findings.iter().any(|f| f.message.contains("more than 512 included files")));
}

#[test]
fn upstream_matching_ignores_case_and_context() {
    let routes = extract(&parse(
        "t",
        "http { upstream Backend { server b:1; } server { location / { proxy_pass http://backend; } } }",
    ));
    assert_eq!(proxy(&routes.servers[0].locations[0]).upstream.as_deref(), Some("Backend"));
}

#[test]
fn nginx_dump_and_include_resolution() {
    let dump = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n\
                # configuration file /etc/nginx/nginx.conf:\n\
                http { include conf.d/*.conf; include mime.types; }\n\
                \n\
                # configuration file /etc/nginx/conf.d/b.conf:\n\
                server { listen 81; }\n\
                # configuration file /etc/nginx/conf.d/a.conf:\n\
                server { listen 80; }\n";
    let files = split_dump(dump);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["/etc/nginx/nginx.conf", "/etc/nginx/conf.d/b.conf", "/etc/nginx/conf.d/a.conf"]
    );
    assert_eq!(files[1].1, "server { listen 81; }\n");
    let map: BTreeMap<String, String> = files.into_iter().collect();
    let main = &map["/etc/nginx/nginx.conf"];
    let routes = read("/etc/nginx/nginx.conf", main, |p| resolve_include(&map, "/etc/nginx", p));
    let ports: Vec<Option<u16>> = routes.servers.iter().map(|s| s.listens[0].port).collect();
    assert_eq!(ports, [Some(80), Some(81)], "glob matches in name order");
    let messages: Vec<&str> = routes.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(messages, ["`include mime.types` could not be read"]);

    let map: BTreeMap<String, String> =
        ["/etc/nginx/conf.d/x.conf", "/etc/nginx/conf.d/sub/y.conf", "/etc/nginx/a.conf"]
            .iter()
            .map(|p| (p.to_string(), String::new()))
            .collect();
    let names = |pattern: &str| -> Option<Vec<String>> {
        resolve_include(&map, "/etc/nginx/", pattern)
            .map(|v| v.into_iter().map(|(n, _)| n).collect())
    };
    assert_eq!(names("conf.d/*.conf"), Some(vec!["/etc/nginx/conf.d/x.conf".to_string()]));
    assert_eq!(
        names("/etc/nginx/conf.d/*/*.conf"),
        Some(vec!["/etc/nginx/conf.d/sub/y.conf".to_string()])
    );
    assert_eq!(names("?.conf"), Some(vec!["/etc/nginx/a.conf".to_string()]));
    assert_eq!(names("sites-enabled/*"), Some(vec![]));
    assert_eq!(names("a.conf"), Some(vec!["/etc/nginx/a.conf".to_string()]));
    assert_eq!(names("b.conf"), None);
    assert!(glob_match(b"*a*b*c*", b"xxaxxbxxc"));
    assert!(!glob_match(b"*a*b*c*", b"xxaxxbxx"));
    assert!(!glob_match(&[b'*'; 64], b"a/b"));
    assert!(glob_match(b"", b""));
}

// ---------------------------------------------------------------------------------------
// Properties

const NGINX_ALPHABET: &[u8] =
    b"{};#\"'\\$ \n\tlocation server listen proxy_pass http://a:80/ ~*^=@";

#[test]
fn property_random_bytes_never_panic() {
    let mut rng = XorShift::new(0x5eed_3001);
    for _ in 0..2_000 {
        let text = rng.text(200, NGINX_ALPHABET);
        let routes = extract(&parse("t", &text));
        for f in &routes.findings {
            assert!(f.line >= 1 && f.line <= text.lines().count().max(1) + 1, "{f:?} in {text:?}");
        }
    }
}

#[test]
fn property_mutated_configs_never_panic() {
    let seeds = [SEED002, REAL_MAIN, REAL_APP];
    let mut rng = XorShift::new(0x5eed_3002);
    for i in 0..600 {
        let seed = seeds[i % seeds.len()];
        let text =
            String::from_utf8_lossy(&rng.mutate(seed.as_bytes(), NGINX_ALPHABET)).into_owned();
        let _ = read("t", &text, |p| {
            (p == "conf.d/*.conf").then(|| vec![("app.conf".to_string(), REAL_APP.to_string())])
        });
    }
}
