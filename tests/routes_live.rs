//! Routes on the real engine, with planted breakage: a Traefik stand-in (busybox with
//! Traefik's flags) and an nginx stand-in (a config bind-mounted at nginx's path), each
//! route joined to live containers and every fault reported with its reason.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use portolan::model::{ContainerState, HealthStatus, Model};
use portolan::routes::table::{Route, RouteKind, RouteTable};
use support::{Fixture, Watch, docker_ok};

fn router<'a>(table: &'a RouteTable, proxy_id: &str, name: &str) -> &'a Route {
    table
        .routes
        .iter()
        .find(|r| {
            r.kind == RouteKind::Traefik
                && r.proxy_id.as_deref() == Some(proxy_id)
                && r.name.as_deref() == Some(name)
        })
        .unwrap_or_else(|| panic!("no router {name}: {:#?}", table.routes))
}

fn reason(route: &Route) -> String {
    route.verdict.reason().unwrap_or("ok").to_string()
}

fn id_of(model: &Model, name: &str) -> String {
    model.containers.values().find(|c| c.name == name).map(|c| c.id.clone()).expect(name)
}

#[tokio::test(flavor = "current_thread")]
async fn traefik_routes_report_every_planted_fault() {
    let fx = Fixture::new("routest");
    let edge = fx.network("edge", &[]);
    let island = fx.network("island", &[]);
    let r = |what: &str| format!("{what}{}", fx.run.replace('-', ""));
    let labels = |router: &str, rule: &str| -> Vec<String> {
        vec![
            "--label".into(),
            "traefik.enable=true".into(),
            "--label".into(),
            format!("traefik.http.routers.{router}.rule={rule}"),
            "--label".into(),
            format!("traefik.http.routers.{router}.entrypoints=web"),
            "--label".into(),
            format!("traefik.http.services.{router}.loadbalancer.server.port=80"),
            "--expose".into(),
            "80".into(),
        ]
    };
    let run =
        |what: &str, network: &str, router: &str, rule: &str, extra: &[&str], cmd: &[&str]| {
            let mut args: Vec<String> = vec!["--network".into(), network.into()];
            args.extend(labels(router, rule));
            args.extend(extra.iter().map(|s| s.to_string()));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            fx.run(what, &args, cmd)
        };
    let serve = ["httpd", "-f", "-p", "80"];
    // The proxy: Traefik's flags on a busybox that sleeps.
    let proxy = fx.run(
        "traefik",
        &["--network", &edge, "--entrypoint", "/bin/sh"],
        &[
            "-c",
            "sleep 600",
            "traefik",
            "--providers.docker=true",
            "--providers.docker.exposedbydefault=false",
            "--entrypoints.web.address=:80",
        ],
    );
    let (good, stopped, sick, far, typo) =
        (r("good"), r("stopped"), r("sick"), r("far"), r("typo"));
    run("good", &edge, &good, &format!("Host(`{good}.test`)"), &[], &serve);
    run("stopped", &edge, &stopped, &format!("Host(`{stopped}.test`)"), &[], &serve);
    run(
        "sick",
        &edge,
        &sick,
        &format!("Host(`{sick}.test`)"),
        &["--health-cmd", "false", "--health-interval", "1s", "--health-retries", "1"],
        &serve,
    );
    run("far", &island, &far, &format!("Host(`{far}.test`)"), &[], &serve);
    run("typo", &edge, &typo, &format!("Host(`{typo}.test`"), &[], &serve);
    docker_ok(&["stop", "-t", "0", &fx.name("stopped")]);

    let mut watch = Watch::start().await;
    let (stopped_name, sick_name) = (fx.name("stopped"), fx.name("sick"));
    watch
        .wait("the planted faults", Duration::from_secs(30), |m| {
            let state = |name: &str| m.containers.values().find(|c| c.name == name).cloned();
            state(&stopped_name).is_some_and(|c| c.state == ContainerState::Exited)
                && state(&sick_name).is_some_and(|c| c.health_status() == HealthStatus::Unhealthy)
        })
        .await;
    let table = RouteTable::build(&watch.model);
    assert_eq!(id_of(&watch.model, &fx.name("traefik")), proxy);

    let ok = router(&table, &proxy, &good);
    assert!(ok.verdict.is_ok(), "{ok:#?}");
    assert_eq!(ok.host.as_deref(), Some(format!("{good}.test").as_str()));
    assert_eq!(ok.target_name.as_deref(), Some(fx.name("good").as_str()));
    assert_eq!(ok.target_port, Some(80));
    assert_eq!(ok.entrypoint, "web :80 (not published)");

    let down = router(&table, &proxy, &stopped);
    assert!(reason(down).contains("is not running (exited"), "{down:#?}");
    let unhealthy = router(&table, &proxy, &sick);
    assert!(reason(unhealthy).contains("unhealthy: Traefik drops"), "{unhealthy:#?}");
    let other = router(&table, &proxy, &far);
    assert!(reason(other).contains("no network shared with the proxy"), "{other:#?}");
    assert!(reason(other).contains(&island), "names the network: {other:#?}");
    let bad = router(&table, &proxy, &typo);
    assert!(reason(bad).starts_with("rule does not parse"), "{bad:#?}");
    assert!(reason(bad).contains(&format!("traefik.http.routers.{typo}.rule=")), "{bad:#?}");

    // The fault mends: start the stopped one and its route turns ok.
    docker_ok(&["start", &stopped_name]);
    watch
        .wait("the restarted target", Duration::from_secs(15), |m| {
            m.containers.values().any(|c| c.name == stopped_name && c.state.is_running())
        })
        .await;
    let table = RouteTable::build(&watch.model);
    assert!(router(&table, &proxy, &stopped).verdict.is_ok());
    watch.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn nginx_config_is_read_through_the_engine_and_resolved() {
    let fx = Fixture::new("routesnginx");
    let app_net = fx.network("app", &[]);
    let other_net = fx.network("other", &[]);
    let alias = format!("api-{}", fx.run);
    let far = fx.name("far");
    let dir = std::env::temp_dir().join(format!("portolan-{}", fx.run));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("nginx.conf");
    let text = |extra: &str| {
        format!(
            "events {{}}\nhttp {{\n  upstream api {{ server {alias}:8080; }}\n  server {{\n    \
             listen 80;\n    server_name shop.test;\n    location / {{ proxy_pass http://api; }}\n    \
             location /gone/ {{ proxy_pass http://nobody-{run}:80; }}\n    location /far/ {{ \
             proxy_pass http://{far}:80; }}\n{extra}  }}\n}}\n",
            run = fx.run
        )
    };
    std::fs::write(&conf, text("")).unwrap();
    let mount = format!("{}:/etc/nginx/nginx.conf:ro", conf.display());
    let proxy = fx.run(
        "proxy",
        &["--network", &app_net, "-v", &mount, "-p", "127.0.0.1::80"],
        &["sleep", "600"],
    );
    fx.run(
        "api",
        &["--network", &app_net, "--network-alias", &alias, "--expose", "8080"],
        &["httpd", "-f", "-p", "8080"],
    );
    fx.run("far", &["--network", &other_net], &["sleep", "600"]);

    let mut watch = Watch::start().await;
    let proxy_for_wait = proxy.clone();
    watch
        .wait("the proxy's configuration", Duration::from_secs(15), |m| {
            m.containers.get(&proxy_for_wait).is_some_and(|c| c.proxy_config.is_some())
        })
        .await;
    let table = RouteTable::build(&watch.model);
    let by_path = |table: &RouteTable, path: &str| -> Route {
        table
            .routes
            .iter()
            .find(|r| {
                r.proxy_id.as_deref() == Some(proxy.as_str()) && r.path.as_deref() == Some(path)
            })
            .cloned()
            .unwrap_or_else(|| panic!("no route {path}: {:#?}", table.routes))
    };
    let root = by_path(&table, "/*");
    assert!(root.verdict.is_ok(), "{root:#?}");
    assert_eq!(root.target_name.as_deref(), Some(fx.name("api").as_str()), "by network alias");
    assert_eq!(root.target_port, Some(8080));
    assert_eq!(root.host.as_deref(), Some("shop.test"));
    assert!(root.entrypoint.starts_with("listen 80 (host "), "{root:#?}");
    let gone = by_path(&table, "/gone/*");
    assert!(reason(&gone).contains("resolves to no container"), "{gone:#?}");
    let elsewhere = by_path(&table, "/far/*");
    assert!(reason(&elsewhere).contains("shares no network"), "{elsewhere:#?}");

    // An edit and a reload: the proxy's configuration is read again.
    std::fs::write(&conf, text("    location /new/ { return 204; }\n")).unwrap();
    docker_ok(&["exec", &fx.name("proxy"), "sh", "-c", ": nginx -s reload"]);
    let proxy_for_wait = proxy.clone();
    watch
        .wait("the reloaded configuration", Duration::from_secs(15), |m| {
            m.containers.get(&proxy_for_wait).and_then(|c| c.proxy_config.as_ref()).is_some_and(
                |config| config.files.values().any(|text| text.contains("location /new/")),
            )
        })
        .await;
    let table = RouteTable::build(&watch.model);
    assert_eq!(by_path(&table, "/new/*").target, "return 204");
    watch.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
