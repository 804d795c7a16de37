use super::*;
use crate::routes::testutil::XorShift;
use crate::routes::traefik_static;

/// One container of a fixture file: name, Traefik arguments, exposed ports, labels.
pub(crate) struct Fixture {
    pub name: String,
    pub args: Vec<String>,
    pub exposed: Vec<u16>,
    pub labels: BTreeMap<String, String>,
}

pub(crate) fn fixture(text: &str) -> Vec<Fixture> {
    let mut out: Vec<Fixture> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push(Fixture {
                name: name.to_string(),
                args: Vec::new(),
                exposed: Vec::new(),
                labels: BTreeMap::new(),
            });
            continue;
        }
        let current = out.last_mut().expect("a [container] line first");
        if let Some(arg) = line.strip_prefix("arg: ") {
            current.args.push(arg.to_string());
        } else if let Some(port) = line.strip_prefix("expose: ") {
            current.exposed.push(port.parse().expect("port"));
        } else {
            let (k, v) = line.split_once('=').expect("key=value");
            current.labels.insert(k.to_string(), v.to_string());
        }
    }
    out
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn read(name: &str, pairs: &[(&str, &str)], exposed: &[u16]) -> ContainerRoutes {
    read_labels(name, &labels(pairs), exposed, &ProviderSettings::default())
}

fn kinds(findings: &[Finding]) -> Vec<FindingKind> {
    findings.iter().map(|f| f.kind).collect()
}

fn seed001() -> (traefik_static::StaticConfig, Vec<ContainerRoutes>) {
    let containers = fixture(include_str!("../testdata/seed001_traefik.txt"));
    let traefik = traefik_static::from_args(&containers[0].args);
    let settings = traefik.provider_settings();
    let routes =
        containers.iter().map(|c| read_labels(&c.name, &c.labels, &c.exposed, &settings)).collect();
    (traefik, routes)
}

#[test]
fn seed001_every_route_of_the_diagram() {
    let (traefik, routes) = seed001();
    let [proxy, web, api, db] = routes.as_slice() else { panic!("four containers") };
    for c in [proxy, web, api] {
        assert!(c.is_active(), "{}: {:?}", c.container, c.exposure);
        assert!(c.findings.is_empty(), "{}: {:#?}", c.container, c.findings);
    }
    assert_eq!(
        db.exposure,
        Exposure::NotEnabled {
            reason: "exposedByDefault is false and traefik.enable is not true".into()
        }
    );
    assert!(
        cross_check(&routes, Some(&traefik)).is_empty(),
        "{:#?}",
        cross_check(&routes, Some(&traefik))
    );

    // sellybase.albaly.jp → frontend:3000, TLS by Let's Encrypt, headers and gzip.
    let frontend = web.router(Protocol::Http, "frontend").unwrap();
    let rule = frontend.parsed_rule().unwrap();
    assert_eq!(rule.hosts(), ["sellybase.albaly.jp"]);
    assert_eq!(rule.describe(), "host sellybase.albaly.jp");
    assert_eq!(frontend.entrypoints, ["websecure"]);
    assert_eq!(frontend.middlewares, ["security-headers", "compress"]);
    assert!(frontend.tls);
    assert_eq!(frontend.cert_resolver.as_deref(), Some("letsencrypt"));
    assert_eq!(frontend.service.as_deref(), Some("frontend"));
    assert!(frontend.service_implicit, "the only service is assigned");
    assert_eq!(frontend.effective_priority(), "Host(`sellybase.albaly.jp`)".len() as i64);
    let service = web.service(Protocol::Http, "frontend").unwrap();
    assert_eq!((service.port, service.port_from_label), (Some(3000), true));
    let kinds_of = |c: &ContainerRoutes| -> Vec<(String, Vec<String>)> {
        c.middlewares.iter().map(|m| (m.name.clone(), m.kinds.clone())).collect()
    };
    assert_eq!(
        kinds_of(web),
        [
            ("compress".to_string(), vec!["compress".to_string()]),
            ("security-headers".to_string(), vec!["headers".to_string()]),
        ]
    );

    // api.sellybase.albaly.jp → backend:3001 with rate limiting.
    let router = api.router(Protocol::Http, "api").unwrap();
    assert_eq!(router.parsed_rule().unwrap().hosts(), ["api.sellybase.albaly.jp"]);
    assert_eq!(router.middlewares, ["api-ratelimit", "security-headers@docker", "cors"]);
    assert_eq!(api.service(Protocol::Http, "api").unwrap().port, Some(3001));
    assert!(kinds_of(api).contains(&("api-ratelimit".into(), vec!["ratelimit".into()])));

    // traefik.sellybase.albaly.jp → the dashboard, an internal service.
    let dashboard = proxy.router(Protocol::Http, "dashboard").unwrap();
    assert_eq!(dashboard.service.as_deref(), Some("api@internal"));
    assert!(!dashboard.service_implicit);
    assert_eq!(proxy.default_name, "traefik-selly");
    // Traefik's own container gets an implicit service on its lowest port, unused.
    assert_eq!(proxy.service(Protocol::Http, "traefik-selly").unwrap().port, Some(80));
    assert_eq!(proxy.network.as_deref(), Some("selly-network"), "the provider's network");
}

#[test]
fn seed001_planted_breakage_is_reported() {
    let (traefik, mut routes) = seed001();
    let api = &mut routes[2];
    let mut broken = fixture(include_str!("../testdata/seed001_traefik.txt")).remove(2).labels;
    broken.insert(
        "traefik.http.routers.api.rule".into(),
        "Host(`api.sellybase.albaly.jp`) && (PathPrefix(`/api`)".into(),
    );
    broken.insert("traefik.http.routers.api.middlewares".into(), "api-ratelimt,cors".into());
    *api = read_labels("selly-api", &broken, &[3001], &traefik.provider_settings());
    let finding = &api.findings[0];
    assert_eq!(finding.kind, FindingKind::RuleInvalid);
    assert_eq!(
        finding.message,
        "router `api`: rule `Host(`api.sellybase.albaly.jp`) && (PathPrefix(`/api`)` does not \
         parse: expected `)` at 54, found the end of the rule"
    );
    assert_eq!(
        finding.label.as_deref(),
        Some(
            "traefik.http.routers.api.rule=Host(`api.sellybase.albaly.jp`) && (PathPrefix(`/api`)"
        )
    );
    let cross = cross_check(&routes, Some(&traefik));
    assert_eq!(kinds(&cross), [FindingKind::MissingMiddleware]);
    assert!(cross[0].message.contains("`api-ratelimt`"), "{}", cross[0].message);
}

#[test]
fn implicit_router_and_service_from_the_lowest_exposed_port() {
    let c = read("/whoami", &[], &[8080, 80]);
    assert!(c.is_active());
    assert_eq!(c.default_name, "whoami");
    let [router] = c.routers.as_slice() else { panic!("{:?}", c.routers) };
    assert!(router.implicit);
    assert_eq!(router.name, "whoami");
    assert_eq!(router.rule.as_ref().unwrap().text, "Host(`whoami`)");
    assert!(router.rule.as_ref().unwrap().from_default);
    assert_eq!(router.service.as_deref(), Some("whoami"));
    let [service] = c.services.as_slice() else { panic!() };
    assert!(service.implicit);
    assert_eq!((service.port, service.port_from_label), (Some(80), false));
}

#[test]
fn compose_names_the_implicit_router_service_and_project() {
    let c = read(
        "demo-whoami-1",
        &[
            ("com.docker.compose.project", "demo"),
            ("com.docker.compose.service", "who_am.i"),
            ("traefik.http.routers.r.entrypoints", "web"),
        ],
        &[80],
    );
    assert_eq!(c.default_name, "who-am-i-demo");
    let router = c.router(Protocol::Http, "r").unwrap();
    assert!(!router.implicit);
    assert_eq!(router.rule.as_ref().unwrap().text, "Host(`who-am-i-demo`)");
    assert_eq!(router.service.as_deref(), Some("who-am-i-demo"));
}

#[test]
fn default_rule_templates() {
    let compose =
        labels(&[("com.docker.compose.project", "shop"), ("com.docker.compose.service", "web")]);
    let eval = |t: &str| evaluate_default_rule(t, "web-shop", "shop-web-1", &compose);
    assert_eq!(eval(DEFAULT_RULE), Ok("Host(`web-shop`)".into()));
    assert_eq!(
        eval("Host(`{{ .Name }}.docker.localhost`)"),
        Ok("Host(`web-shop.docker.localhost`)".into())
    );
    assert_eq!(
        eval("Host(`{{ index .Labels \"com.docker.compose.service\" }}.example.com`)"),
        Ok("Host(`web.example.com`)".into())
    );
    assert_eq!(
        eval("Host(`{{- .ContainerName | normalize | upper -}}`)"),
        Ok("Host(`SHOP-WEB-1`)".into())
    );
    assert_eq!(
        eval("Host(`{{ normalize (index .Labels \"com.docker.compose.project\") }}.x`)"),
        Ok("Host(`shop.x`)".into())
    );
    assert!(eval("Host(`{{ .Foo }}`)").unwrap_err().contains("cannot evaluate"));
    assert!(eval("Host(`{{ .Name `)").unwrap_err().contains("unclosed"));
    assert!(eval("Host(`{{ index .Labels \"x }}`)").is_err());

    let settings = ProviderSettings {
        default_rule: Some("Host(`{{ .Nope }}`)".into()),
        ..ProviderSettings::default()
    };
    let c = read_labels("x", &BTreeMap::new(), &[80], &settings);
    assert_eq!(kinds(&c.findings), [FindingKind::DefaultRuleUnreadable]);
    let settings = ProviderSettings { default_rule: None, ..ProviderSettings::default() };
    let c = read_labels("x", &BTreeMap::new(), &[80], &settings);
    assert_eq!(kinds(&c.findings), [FindingKind::NoRule]);
    assert!(c.routers[0].dropped);
}

#[test]
fn enable_and_exposed_by_default() {
    let strict = ProviderSettings { exposed_by_default: false, ..ProviderSettings::default() };
    let off = read_labels(
        "a",
        &labels(&[("traefik.enable", "false")]),
        &[80],
        &ProviderSettings::default(),
    );
    assert_eq!(off.exposure, Exposure::NotEnabled { reason: "traefik.enable is false".into() });
    assert!(off.routers.is_empty(), "no implicit router for a disabled container");
    let on = read_labels("a", &labels(&[("traefik.enable", "True")]), &[80], &strict);
    assert!(on.is_active());
    assert_eq!(on.enable_label, Some(true));
    assert!(!read_labels("a", &BTreeMap::new(), &[80], &strict).is_active());
    let bad = read("a", &[("traefik.enable", "yes")], &[80]);
    assert!(matches!(bad.exposure, Exposure::Rejected { .. }));
    assert_eq!(kinds(&bad.findings), [FindingKind::LabelsRejected]);
}

#[test]
fn option_keys_are_case_insensitive_names_are_not() {
    let c = read(
        "a",
        &[
            ("Traefik.HTTP.Routers.MyRouter.Rule", "Host(`a`)"),
            ("traefik.http.routers.MyRouter.EntryPoints", "web, websecure"),
            ("traefik.http.routers.MyRouter.TLS.CertResolver", "le"),
            ("traefik.http.services.Svc.LoadBalancer.Server.Port", "8000"),
            ("traefik.http.services.Svc.loadbalancer.server.scheme", "h2c"),
        ],
        &[],
    );
    assert!(c.findings.is_empty(), "{:?}", c.findings);
    let router = c.router(Protocol::Http, "MyRouter").unwrap();
    assert_eq!(router.entrypoints, ["web", "websecure"]);
    assert_eq!(router.cert_resolver.as_deref(), Some("le"));
    let service = c.service(Protocol::Http, "Svc").unwrap();
    assert_eq!((service.port, service.scheme.as_deref()), (Some(8000), Some("h2c")));
}

#[test]
fn labels_traefik_cannot_decode_reject_the_container() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "traefik.http.routers.api.entrypoint",
            "websecure",
            "Traefik cannot read `traefik.http.routers.api.entrypoint` (no router option \
             `entrypoint` (did you mean `entrypoints`?)) and ignores this container",
        ),
        (
            "traefik.http.router.api.rule",
            "Host(`a`)",
            "Traefik cannot read `traefik.http.router.api.rule` (no section `router` (did you \
             mean `routers`?)) and ignores this container",
        ),
        (
            "traefik.http.routers.api.priority",
            "high",
            "Traefik cannot read `traefik.http.routers.api.priority` (`high` is not a whole \
             number) and ignores this container",
        ),
        (
            "traefik.http.routers.api.tls",
            "yes",
            "Traefik cannot read `traefik.http.routers.api.tls` (`yes` is not true or false) \
             and ignores this container",
        ),
        (
            "traefik.http.middlewares.m.ratelimitt.average",
            "5",
            "Traefik cannot read `traefik.http.middlewares.m.ratelimitt.average` (no middleware \
             type `ratelimitt`) and ignores this container",
        ),
        (
            "traefik.http.services.s.lb.server.port",
            "80",
            "Traefik cannot read `traefik.http.services.s.lb.server.port` (no service type `lb`) \
             and ignores this container",
        ),
        (
            "traefik.http.routers.api.tls.passthrough",
            "true",
            "Traefik cannot read `traefik.http.routers.api.tls.passthrough` (no router option \
             `tls.passthrough`) and ignores this container",
        ),
    ];
    for (key, value, message) in cases {
        let c = read("a", &[(key, value), ("traefik.http.routers.api.rule", "Host(`a`)")], &[80]);
        assert!(matches!(c.exposure, Exposure::Rejected { .. }), "{key}");
        let rejected: Vec<&Finding> =
            c.findings.iter().filter(|f| f.kind == FindingKind::LabelsRejected).collect();
        assert_eq!(rejected.len(), 1, "{key}: {:?}", c.findings);
        assert_eq!(rejected[0].message, *message);
        assert_eq!(rejected[0].label, Some(format!("{key}={value}")));
    }
}

#[test]
fn service_assignment_and_too_many_services() {
    let c = read(
        "a",
        &[
            ("traefik.http.routers.one.rule", "Host(`a`)"),
            ("traefik.http.routers.two.rule", "Host(`b`)"),
            ("traefik.http.routers.two.service", "admin"),
            ("traefik.http.services.web.loadbalancer.server.port", "80"),
            ("traefik.http.services.admin.loadbalancer.server.port", "9000"),
        ],
        &[],
    );
    let one = c.router(Protocol::Http, "one").unwrap();
    assert!(one.dropped);
    assert_eq!(c.findings.len(), 1, "{:?}", c.findings);
    assert_eq!(c.findings[0].kind, FindingKind::TooManyServices);
    assert_eq!(c.findings[0].router.as_deref(), Some("one"));
    let two = c.router(Protocol::Http, "two").unwrap();
    assert!(!two.dropped);
    assert_eq!(two.service.as_deref(), Some("admin"));

    let no_router = read(
        "a",
        &[
            ("traefik.http.services.web.loadbalancer.server.port", "80"),
            ("traefik.http.services.admin.loadbalancer.server.port", "9000"),
        ],
        &[],
    );
    assert!(no_router.routers.is_empty());
    assert_eq!(kinds(&no_router.findings), [FindingKind::TooManyServices]);
}

#[test]
fn a_service_without_port_makes_traefik_skip_the_container() {
    let c = read("a", &[("traefik.http.routers.r.rule", "Host(`a`)")], &[]);
    assert!(matches!(c.exposure, Exposure::Rejected { .. }));
    assert_eq!(kinds(&c.findings), [FindingKind::NoPort]);
    let bad_port =
        read("a", &[("traefik.http.services.s.loadbalancer.server.port", "http")], &[80]);
    assert!(bad_port.is_active(), "Traefik builds it, the URL fails later");
    assert_eq!(kinds(&bad_port.findings), [FindingKind::NoPort]);
    assert_eq!(bad_port.services[0].port, None);
    let weighted = read("a", &[("traefik.http.services.w.weighted.services[0].name", "x")], &[80]);
    assert!(matches!(weighted.exposure, Exposure::Rejected { .. }));
}

#[test]
fn tcp_routers_and_services() {
    let c = read(
        "pg",
        &[
            ("traefik.tcp.routers.pg.rule", "HostSNI(`*`)"),
            ("traefik.tcp.routers.pg.entrypoints", "postgres"),
            ("traefik.tcp.routers.pg.tls.passthrough", "true"),
            ("traefik.tcp.services.pg.loadbalancer.server.port", "5432"),
        ],
        &[5432, 8080],
    );
    assert!(c.findings.is_empty(), "{:?}", c.findings);
    assert_eq!(c.routers.len(), 1, "a TCP-only container gets no implicit HTTP router");
    let router = c.router(Protocol::Tcp, "pg").unwrap();
    assert!(router.tls && router.tls_passthrough);
    assert_eq!(router.service.as_deref(), Some("pg"));
    assert!(router.parsed_rule().unwrap().is_sni_catch_all());
    assert_eq!(c.service(Protocol::Tcp, "pg").unwrap().port, Some(5432));

    let implicit =
        read("db", &[("traefik.tcp.routers.db.rule", "HostSNI(`db.example.com`)")], &[5432]);
    assert_eq!(implicit.service(Protocol::Tcp, "db").unwrap().port, Some(5432));
    assert_eq!(implicit.router(Protocol::Tcp, "db").unwrap().service.as_deref(), Some("db"));

    let no_rule = read("db", &[("traefik.tcp.routers.db.entrypoints", "pg")], &[5432]);
    assert_eq!(kinds(&no_rule.findings), [FindingKind::NoRule]);
    assert!(no_rule.routers[0].dropped);

    let wrong = read("db", &[("traefik.tcp.routers.db.rule", "Host(`db.example.com`)")], &[5432]);
    assert_eq!(kinds(&wrong.findings), [FindingKind::RuleSuspect]);
    assert!(wrong.findings[0].message.contains("Host cannot be used in a TCP rule"));
}

#[test]
fn rule_notes_and_syntax_versions() {
    let c = read("a", &[("traefik.http.routers.r.rule", "Host('a.com', 'b.com')")], &[80]);
    let messages: Vec<&str> = c.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].contains("single-quoted"));
    assert!(messages[2].contains("v2 syntax"));
    let declared = read(
        "a",
        &[
            ("traefik.http.routers.r.rule", "Host(`a.com`, `b.com`)"),
            ("traefik.http.routers.r.ruleSyntax", "v2"),
        ],
        &[80],
    );
    assert!(declared.findings.is_empty(), "{:?}", declared.findings);
}

#[test]
fn legacy_v1_labels() {
    let c = read("a", &[("traefik.frontend.rule", "Host:a.com"), ("traefik.port", "80")], &[80]);
    assert_eq!(kinds(&c.findings), [FindingKind::LegacyLabel]);
    assert!(c.findings[0].message.contains("traefik.frontend.rule, traefik.port"));
    assert!(c.is_active(), "v2 ignores them; the implicit router still exists");
}

#[test]
fn cross_container_references() {
    let backend = read(
        "backend",
        &[
            ("traefik.http.routers.api.rule", "Host(`api.example.com`)"),
            ("traefik.http.routers.api.middlewares", "auth@file, shared, missing, chain"),
            ("traefik.http.routers.admin.rule", "Host(`admin.example.com`)"),
            ("traefik.http.routers.admin.service", "elsewhere"),
            ("traefik.http.routers.metrics.rule", "Host(`m.example.com`)"),
            ("traefik.http.routers.metrics.service", "prometheus@internal"),
            ("traefik.http.middlewares.chain.chain.middlewares", "shared,ghost"),
        ],
        &[8000],
    );
    let other = read(
        "other",
        &[
            ("traefik.http.middlewares.shared.headers.framedeny", "true"),
            ("traefik.http.services.elsewhere.loadbalancer.server.port", "9000"),
        ],
        &[9000],
    );
    let disabled = read(
        "disabled",
        &[("traefik.enable", "false"), ("traefik.http.middlewares.missing.compress", "true")],
        &[80],
    );
    let findings = cross_check(&[backend.clone(), other.clone(), disabled.clone()], None);
    let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "router `api` uses middleware `missing`, which no container defines (only disabled, \
             which Traefik ignores, defines it)",
            "chain middleware `chain` runs `ghost`, which no container defines",
        ]
    );
    let without_other = cross_check(&[backend, disabled], None);
    assert!(without_other.iter().any(|f| f.kind == FindingKind::MissingService
        && f.message == "router `admin` uses service `elsewhere`, which no container defines"));
}

#[test]
fn duplicate_rules_need_same_priority_and_shared_entry_point() {
    let make = |name: &str, rule: &str, extra: &[(&str, &str)]| {
        let rule_key = format!("traefik.http.routers.{name}.rule");
        let mut pairs = vec![(rule_key.as_str(), rule)];
        pairs.extend_from_slice(extra);
        read(name, &pairs, &[80])
    };
    let a = make("a", "Host(`x.com`) && PathPrefix(`/api`)", &[]);
    let b = make("b", "PathPrefix(`/api`) && Host(`X.com`)", &[]);
    let findings = cross_check(&[a.clone(), b.clone()], None);
    assert_eq!(kinds(&findings), [FindingKind::DuplicateRule]);
    assert!(findings[0].message.starts_with(
        "routers `a` (a) and `b` (b) have the same rule `Host(`x.com`) && PathPrefix(`/api`)` \
         and priority 35"
    ));

    let c = make(
        "c",
        "Host(`x.com`) && PathPrefix(`/api`)",
        &[("traefik.http.routers.c.priority", "100")],
    );
    assert!(cross_check(&[a.clone(), c], None).is_empty(), "priority differs");
    let d = make(
        "d",
        "Host(`x.com`) && PathPrefix(`/api`)",
        &[("traefik.http.routers.d.entrypoints", "web")],
    );
    let e = make(
        "e",
        "Host(`x.com`) && PathPrefix(`/api`)",
        &[("traefik.http.routers.e.entrypoints", "websecure")],
    );
    assert!(cross_check(&[d.clone(), e], None).is_empty(), "entry points differ");
    assert_eq!(
        kinds(&cross_check(&[a.clone(), d], None)),
        [FindingKind::DuplicateRule],
        "no entry points: all"
    );
    // Replicas of one compose service carry the same router: Traefik merges them.
    let replica = |n: &str| {
        read(
            n,
            &[
                ("com.docker.compose.project", "shop"),
                ("com.docker.compose.service", "api"),
                ("traefik.http.routers.a.rule", "Host(`x.com`) && PathPrefix(`/api`)"),
            ],
            &[80],
        )
    };
    let (a, replica) = (replica("shop-api-1"), replica("shop-api-2"));
    assert!(cross_check(&[a, replica], None).is_empty());
}

#[test]
fn same_router_defined_differently_is_dropped_by_traefik() {
    let a = read(
        "a",
        &[
            ("traefik.http.routers.r.rule", "Host(`a`)"),
            ("traefik.http.services.s.loadbalancer.server.port", "80"),
        ],
        &[],
    );
    let b = read(
        "b",
        &[
            ("traefik.http.routers.r.rule", "Host(`b`)"),
            ("traefik.http.services.s.loadbalancer.server.port", "80"),
        ],
        &[],
    );
    let findings = cross_check(&[a, b], None);
    assert_eq!(kinds(&findings), [FindingKind::ConflictingDefinition]);
    assert_eq!(
        findings[0].message,
        "router `r` is defined differently on a and b, so Traefik drops it"
    );
    let multi = read(
        "m",
        &[
            ("traefik.http.middlewares.x.headers.framedeny", "true"),
            ("traefik.http.middlewares.x.compress", "true"),
        ],
        &[80],
    );
    assert_eq!(kinds(&multi.findings), [FindingKind::MiddlewareInvalid]);
    assert_eq!(
        multi.findings[0].message,
        "middleware `x` has several types (compress, headers); Traefik accepts one per middleware"
    );
}

#[test]
fn entry_points_and_resolvers_against_traefiks_configuration() {
    let (traefik, _) = seed001();
    let c = read(
        "a",
        &[
            ("traefik.http.routers.r.rule", "Host(`a`)"),
            ("traefik.http.routers.r.entrypoints", "WebSecure,https"),
            ("traefik.http.routers.r.tls.certresolver", "le"),
        ],
        &[80],
    );
    let findings = cross_check(std::slice::from_ref(&c), Some(&traefik));
    let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "router `r` listens on entry point `https`, which Traefik does not define (it has \
             traefik, web, websecure)",
            "router `r` asks certificate resolver `le`, which Traefik does not define",
        ]
    );
    let unread =
        traefik_static::from_container(&["--configFile=/etc/traefik/traefik.yml"], &[] as &[&str]);
    assert!(cross_check(&[c], Some(&unread)).is_empty(), "nothing known, nothing claimed");
}

#[test]
fn normalize_like_traefik() {
    assert_eq!(normalize("/my_app.web--1"), "my-app-web-1");
    assert_eq!(normalize("--"), "");
    assert_eq!(normalize("Crème brûlée"), "Crème-brûlée");
}

#[test]
fn property_random_labels_never_panic() {
    let keys = [
        "traefik.enable",
        "traefik.docker.network",
        "traefik.http.routers.r.rule",
        "traefik.http.routers.r.service",
        "traefik.http.routers.r.middlewares",
        "traefik.http.routers.r.priority",
        "traefik.http.routers.s.entrypoints",
        "traefik.http.services.s.loadbalancer.server.port",
        "traefik.http.middlewares.m.chain.middlewares",
        "traefik.tcp.routers.t.rule",
        "traefik.tcp.services.t.loadbalancer.server.port",
        "traefik.udp.routers.u.service",
        "traefik.http..rule",
        "traefik.",
        "traefik.http",
        "traefik.http.routers",
        "traefik.http.routers.r",
        "traefik.tcp.middlewares.x.ipallowlist.sourcerange",
    ];
    let values =
        ["Host(`a`)", "true", "", "80", "0", "x,y", "HostSNI(`*`)", "Host(`", "-1", "65536"];
    let mut rng = XorShift::new(0x5eed_1001);
    for _ in 0..1_500 {
        let mut map = BTreeMap::new();
        for _ in 0..rng.below(8) {
            let key = if rng.chance(80) {
                rng.pick(&keys).to_string()
            } else {
                rng.text(24, b"traefik.http.routers.")
            };
            let value = if rng.chance(80) {
                rng.pick(&values).to_string()
            } else {
                rng.text(16, b"{}`()$. ")
            };
            map.insert(key, value);
        }
        let settings = ProviderSettings {
            exposed_by_default: rng.chance(50),
            default_rule: if rng.chance(80) { Some(rng.text(30, b"{}.Name |()\"`")) } else { None },
            network: None,
        };
        let ports: Vec<u16> = (0..rng.below(3)).map(|_| rng.below(70_000) as u16).collect();
        let c = read_labels("c", &map, &ports, &settings);
        let _ = cross_check(&[c.clone(), c], None);
    }
}
