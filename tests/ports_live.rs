//! Published ports against a real engine: a container publishes two ports on
//! 127.0.0.1 (random host ports), an HTTP server listens behind one and nothing behind
//! the other; the check the `o` key asks for, sent through the engine's command path,
//! says which is which.

mod support;

use std::time::Duration;

use portolan::engine::EngineCommand;
use portolan::engine::ports::PortCheckRequest;
use portolan::model::ports::{PortOutcome, Vantage};
use support::{Fixture, Watch};

/// Serves one page on 8080; nothing listens on 8081.
const SERVER: &[&str] =
    &["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"];

#[tokio::test]
async fn a_port_with_a_listener_answers_http_and_one_without_is_refused() {
    let fixture = Fixture::new("ports");
    let id = fixture.run("web", &["-p", "127.0.0.1::8080", "-p", "127.0.0.1::8081"], SERVER);
    let mut watch = Watch::start().await;
    watch.wait_state(&id, portolan::model::ContainerState::Running, Duration::from_secs(10)).await;
    watch
        .wait("its published ports", Duration::from_secs(10), |m| {
            m.containers
                .get(&id)
                .is_some_and(|c| c.ports.iter().filter(|p| p.is_published()).count() == 2)
        })
        .await;
    let container = watch.model.containers.get(&id).cloned().expect("the container");
    let published = |port: u16| {
        container
            .ports
            .iter()
            .find(|p| p.container_port == port && p.is_published())
            .and_then(|p| p.host_port)
            .expect("published")
    };
    let (served, empty) = (published(8080), published(8081));

    // httpd may not be bound the moment the container runs: ask again until it is.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let check = loop {
        let before = watch.model.port_checks.get(&id).and_then(|s| s.last.as_ref()).map(|c| c.at);
        watch.model.ask_port_check(&id, chrono::Utc::now());
        let ports = container.ports.clone();
        watch.handle.command(EngineCommand::CheckPorts(PortCheckRequest {
            host: 0,
            id: id.clone(),
            ports,
        }));
        watch
            .wait("the check's answers", Duration::from_secs(10), |m| {
                m.port_checks.get(&id).and_then(|s| s.last.as_ref()).map(|c| c.at) != before
            })
            .await;
        let check = watch.model.port_checks[&id].last.clone().expect("a check");
        let answered = check.probes.iter().any(|p| {
            p.port.host_port == Some(served)
                && matches!(p.outcome, PortOutcome::Listening { http: Some(_) })
        });
        if answered || tokio::time::Instant::now() > deadline {
            break check;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };

    assert_eq!(check.vantage, Vantage::Local, "a local engine's ports are dialled from here");
    assert_eq!(check.probes.len(), 2, "{check:?}");
    let probe =
        |port: u16| check.probes.iter().find(|p| p.port.host_port == Some(port)).expect("probed");
    let listening = probe(served);
    assert_eq!(listening.address.as_deref(), Some("127.0.0.1"), "published on 127.0.0.1");
    assert_eq!(listening.outcome, PortOutcome::Listening { http: Some(200) }, "{check:?}");
    assert_eq!(listening.outcome.words(), "listening · HTTP 200");
    assert_eq!(listening.url(), Some(format!("http://127.0.0.1:{served}/")));
    let refused = probe(empty);
    // Refused by the host (no userland proxy), or by the proxy that found nothing inside.
    assert!(
        matches!(refused.outcome, PortOutcome::Refused | PortOutcome::ClosedAtOnce),
        "{check:?}"
    );
    assert!(refused.outcome.words().starts_with("refused"), "{check:?}");
    assert_eq!(refused.url(), None);
    assert!(watch.model.port_checks[&id].checking_since.is_none(), "the answers end the wait");
    watch.stop().await;
}
