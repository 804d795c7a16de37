use super::*;
use crate::routes::testutil::XorShift;

const NONE: &[&str] = &[];

fn seed001_args() -> Vec<&'static str> {
    vec![
        "traefik",
        "--api.dashboard=true",
        "--api.insecure=true",
        "--providers.docker=true",
        "--providers.docker.exposedbydefault=false",
        "--providers.docker.network=selly-network",
        "--entrypoints.web.address=:80",
        "--entrypoints.websecure.address=:443",
        "--entrypoints.web.http.redirections.entrypoint.to=websecure",
        "--entrypoints.web.http.redirections.entrypoint.scheme=https",
        "--certificatesresolvers.letsencrypt.acme.tlschallenge=true",
        "--certificatesresolvers.letsencrypt.acme.email=admin@albaly.jp",
        "--certificatesresolvers.letsencrypt.acme.storage=/letsencrypt/acme.json",
    ]
}

#[test]
fn seed001_command_line() {
    let config = from_args(&seed001_args());
    assert_eq!(config.source, StaticSource::Arguments);
    assert_eq!(config.entrypoint_names(), ["traefik", "web", "websecure"]);
    let web = config.entrypoint("web").unwrap();
    assert_eq!((web.port, web.host.as_deref(), web.udp), (Some(80), None, false));
    assert_eq!(web.redirect_to.as_deref(), Some("websecure"));
    assert_eq!(web.redirect_scheme.as_deref(), Some("https"));
    assert_eq!(config.entrypoint("websecure").unwrap().port, Some(443));
    let dashboard = config.entrypoint("traefik").unwrap();
    assert!(dashboard.implicit, "the insecure API creates it");
    assert_eq!(dashboard.port, Some(8080));
    assert_eq!(config.entrypoint_for_port(443).map(|e| e.name.as_str()), Some("websecure"));
    let docker = config.docker.as_ref().unwrap();
    assert!(!docker.exposed_by_default);
    assert_eq!(docker.network.as_deref(), Some("selly-network"));
    assert_eq!(config.api, Some(Api { dashboard: true, insecure: true }));
    assert_eq!(
        config.cert_resolvers,
        [CertResolver {
            name: "letsencrypt".into(),
            email: Some("admin@albaly.jp".into()),
            storage: Some("/letsencrypt/acme.json".into()),
            ca_server: None,
            challenges: vec![Challenge::TlsAlpn],
        }]
    );
    let settings = config.provider_settings();
    assert!(!settings.exposed_by_default);
    assert_eq!(settings.default_rule.as_deref(), Some(crate::routes::traefik_labels::DEFAULT_RULE));
    assert!(config.notes.is_empty(), "{:?}", config.notes);
}

#[test]
fn flag_spellings() {
    let config = from_args(&[
        "--entryPoints.Web.address",
        ":8000",
        "--ENTRYPOINTS.metrics.address=127.0.0.1:8082",
        "--entrypoints.v6.address=[::]:8443/tcp",
        "--entrypoints.dns.address=:53/udp",
        "--entrypoints.web.asDefault",
        "--providers.docker",
        "--providers.docker.defaultRule=Host(`{{ .Name }}.localhost`)",
        "--traefik.api",
        "--certificatesresolvers.le.acme.httpchallenge.entrypoint=Web",
        "--certificatesresolvers.dns.acme.dnschallenge.provider=cloudflare",
        "--entrypoints.websecure.address=:443",
        "--entrypoints.websecure.http.tls.certresolver=le",
        "--entrypoints.websecure.http.middlewares=hsts@file, compress@file",
    ]);
    assert_eq!(config.entrypoint_names(), ["dns", "metrics", "v6", "Web", "websecure"]);
    let web = config.entrypoint("web").unwrap();
    assert_eq!((web.address.as_str(), web.port, web.as_default), (":8000", Some(8000), true));
    let metrics = config.entrypoint("metrics").unwrap();
    assert_eq!((metrics.host.as_deref(), metrics.port), (Some("127.0.0.1"), Some(8082)));
    let v6 = config.entrypoint("v6").unwrap();
    assert_eq!((v6.host.as_deref(), v6.port, v6.udp), (Some("::"), Some(8443), false));
    assert!(config.entrypoint("dns").unwrap().udp);
    let websecure = config.entrypoint("websecure").unwrap();
    assert!(websecure.tls);
    assert_eq!(websecure.cert_resolver.as_deref(), Some("le"));
    assert_eq!(websecure.middlewares, ["hsts@file", "compress@file"]);
    assert_eq!(
        config.default_entrypoints().iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["Web"]
    );
    let docker = config.docker.as_ref().unwrap();
    assert!(docker.exposed_by_default);
    assert_eq!(
        config.provider_settings().default_rule.as_deref(),
        Some("Host(`{{ .Name }}.localhost`)")
    );
    assert_eq!(config.api, Some(Api { dashboard: true, insecure: false }));
    let challenges: Vec<&Vec<Challenge>> =
        config.cert_resolvers.iter().map(|r| &r.challenges).collect();
    assert_eq!(
        challenges,
        [
            &vec![Challenge::Dns { provider: Some("cloudflare".into()) }],
            &vec![Challenge::Http { entrypoint: Some("Web".into()) }],
        ]
    );
    assert!(config.notes.is_empty(), "{:?}", config.notes);
}

#[test]
fn traefik_defaults_without_entry_points() {
    let config = from_args(&["--providers.docker=false", "--api=false"]);
    assert!(config.docker.is_none());
    assert!(config.api.is_none());
    let [http] = config.entrypoints.as_slice() else { panic!() };
    assert_eq!((http.name.as_str(), http.port, http.implicit), ("http", Some(80), true));
    assert_eq!(
        config.provider_settings(),
        crate::routes::traefik_labels::ProviderSettings::default()
    );
}

#[test]
fn notes_for_half_configured_entry_points() {
    let config = from_args(&[
        "--entrypoints.web.http.redirections.entrypoint.to=websecure",
        "--entrypoints.web.address=:80",
        "--entrypoints.admin.asdefault=true",
    ]);
    assert_eq!(
        config.notes,
        [
            "entry point `admin` has no address",
            "entry point `web` redirects to `websecure`, which is not defined",
        ]
    );
}

#[test]
fn which_source_traefik_uses() {
    let env =
        ["PATH=/usr/bin", "TRAEFIK_ENTRYPOINTS_WEB_ADDRESS=:8081", "TRAEFIK_PROVIDERS_DOCKER=true"];
    let from_env = from_container(NONE, &env);
    assert_eq!(from_env.source, StaticSource::Environment);
    assert_eq!(from_env.entrypoint("web").unwrap().port, Some(8081));
    assert!(from_env.docker.is_some());

    let args = from_container(&["traefik", "--entrypoints.web.address=:80"], &env);
    assert_eq!(args.source, StaticSource::Arguments, "arguments win over the environment");
    assert_eq!(args.entrypoint("web").unwrap().port, Some(80));

    let file = from_container(&["--configFile=/etc/traefik/traefik.yml", "--api"], &env);
    assert_eq!(file.source, StaticSource::FileNotRead("/etc/traefik/traefik.yml".into()));
    assert!(!file.is_known());
    assert!(file.notes[0].contains("ignores the other arguments"));

    let nothing = from_container(&["traefik"], NONE);
    assert_eq!(nothing.source, StaticSource::Defaults);
    assert!(!nothing.is_known(), "a traefik.yml may exist");
    assert!(args.is_known() && from_env.is_known());
    assert!(nothing.notes[0].contains("/etc/traefik/"));
}

const SEED001_YAML: &str = r#"
# traefik.yml for seed 001
api:
  dashboard: true
  insecure: true
entryPoints:
  web:
    address: ":80"
    http:
      redirections:
        entryPoint:
          to: websecure
          scheme: https
  websecure:
    address: ":443"
    http:
      middlewares: [security-headers@file]
providers:
  docker:
    exposedByDefault: false
    network: selly-network
  file:
    directory: /etc/traefik/dynamic
certificatesResolvers:
  letsencrypt:
    acme:
      email: admin@albaly.jp
      storage: /letsencrypt/acme.json
      tlsChallenge: {}
"#;

#[test]
fn yaml_and_toml_files_read_like_arguments() {
    let yaml = from_yaml("traefik.yml", SEED001_YAML).unwrap();
    let args = from_args(&seed001_args());
    assert_eq!(yaml.source, StaticSource::File("traefik.yml".into()));
    assert_eq!(yaml.entrypoint_names(), args.entrypoint_names());
    assert_eq!(yaml.entrypoint("web"), args.entrypoint("web"));
    assert_eq!(yaml.docker, args.docker);
    assert_eq!(yaml.cert_resolvers, args.cert_resolvers);
    assert_eq!(yaml.api, args.api);
    assert_eq!(yaml.file_provider.as_deref(), Some("/etc/traefik/dynamic"));
    assert_eq!(yaml.entrypoint("websecure").unwrap().middlewares, ["security-headers@file"]);

    let toml = from_toml(
        "traefik.toml",
        r#"
[entryPoints.web]
  address = ":80"
  [entryPoints.web.http.redirections.entryPoint]
    to = "websecure"
    scheme = "https"
[entryPoints.websecure]
  address = ":443"
[providers.docker]
  exposedByDefault = false
  network = "selly-network"
[api]
  dashboard = true
  insecure = true
[certificatesResolvers.letsencrypt.acme]
  email = "admin@albaly.jp"
  storage = "/letsencrypt/acme.json"
  [certificatesResolvers.letsencrypt.acme.tlsChallenge]
"#,
    )
    .unwrap();
    assert_eq!(toml.entrypoints, args.entrypoints);
    assert_eq!(toml.docker, args.docker);
    assert_eq!(toml.cert_resolvers, args.cert_resolvers);

    assert!(matches!(from_yaml("t.yml", "entryPoints: ["), Err(StaticFileError::Yaml { .. })));
    assert!(matches!(from_toml("t.toml", "[entryPoints"), Err(StaticFileError::Toml { .. })));
    let empty = from_yaml("t.yml", "").unwrap();
    assert_eq!(empty.entrypoint_names(), ["http"]);
}

#[test]
fn property_random_arguments_never_panic() {
    let words = [
        "--entrypoints.web.address",
        "--entrypoints..address=",
        "--entryPoints.x.address=:",
        "--entrypoints.x.address=[::",
        "--api",
        "--providers.docker.exposedbydefault",
        "--certificatesresolvers.le.acme.tlschallenge",
        "--certificatesresolvers.le.acme",
        ":80",
        "=",
        "--",
        "-",
        "--configfile",
        "traefik",
    ];
    let mut rng = XorShift::new(0x5eed_2001);
    for _ in 0..1_000 {
        let args: Vec<String> = (0..rng.below(8))
            .map(|_| {
                if rng.chance(75) {
                    rng.pick(&words).to_string()
                } else {
                    rng.text(20, b"-.=:[]/ entrypoints")
                }
            })
            .collect();
        let config = from_container(&args, NONE);
        let _ = (config.provider_settings(), config.default_entrypoints());
        let yaml = String::from_utf8_lossy(&rng.mutate(SEED001_YAML.as_bytes(), b":- \n{}[]"))
            .into_owned();
        let _ = from_yaml("t.yml", &yaml);
    }
}
