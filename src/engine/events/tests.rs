use std::collections::{HashMap, HashSet};

use bollard::models::{EventActor, EventMessage, EventMessageTypeEnum};
use chrono::{DateTime, TimeZone, Utc};

use super::*;

fn received() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().unwrap_or_default()
}

fn event(
    kind: EventMessageTypeEnum,
    action: &str,
    id: &str,
    attributes: &[(&str, &str)],
) -> EventMessage {
    let attributes: HashMap<String, String> =
        attributes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    EventMessage {
        typ: Some(kind),
        action: Some(action.to_string()),
        actor: Some(EventActor { id: Some(id.to_string()), attributes: Some(attributes) }),
        time: Some(1_700_000_000),
        time_nano: Some(1_700_000_000_250_000_000),
        ..EventMessage::default()
    }
}

fn container(action: &str, attributes: &[(&str, &str)]) -> EventMessage {
    event(EventMessageTypeEnum::CONTAINER, action, "c0ffee00112233445566", attributes)
}

fn none() -> HashSet<String> {
    HashSet::new()
}

#[test]
fn a_failing_exit_is_recorded_asks_for_the_last_line_and_reinspects() {
    let die = container(
        "die",
        &[("name", "api"), ("exitCode", "1"), ("com.docker.compose.project", "shop")],
    );
    let reaction = react(&die, &none(), received());
    let record = reaction.record.expect("a die goes on the timeline");
    assert_eq!(record.action, "die");
    assert_eq!(record.detail.as_deref(), Some("1"));
    assert_eq!(record.name, "api");
    assert_eq!(record.project.as_deref(), Some("shop"));
    assert_eq!(record.at, DateTime::from_timestamp_nanos(1_700_000_000_250_000_000));
    assert_eq!(reaction.read_last_line.as_deref(), Some("c0ffee00112233445566"));
    assert_eq!(
        reaction.work,
        vec![Work::Container { id: "c0ffee00112233445566".into(), proxy: ProxyRead::Keep }]
    );
    assert!(!reaction.swarm);
}

#[test]
fn a_clean_exit_reads_no_last_line() {
    let reaction = react(&container("die", &[("exitCode", "0")]), &none(), received());
    assert!(reaction.record.is_some());
    assert_eq!(reaction.read_last_line, None);
}

#[test]
fn an_event_without_a_time_is_dated_when_received_and_named_by_its_short_id() {
    let mut start = container("start", &[]);
    start.time = None;
    start.time_nano = None;
    let reaction = react(&start, &none(), received());
    let record = reaction.record.expect("recorded");
    assert_eq!(record.at, received());
    assert_eq!(record.name, "c0ffee001122");
    assert_eq!(reaction.oom, Some(("c0ffee00112233445566".into(), OomMark::Cleared)));
    // A start may bring a new proxy configuration.
    assert_eq!(
        reaction.work,
        vec![Work::Container { id: "c0ffee00112233445566".into(), proxy: ProxyRead::Fresh }]
    );
}

#[test]
fn health_status_carries_the_status_and_oom_is_marked() {
    let health = react(&container("health_status: unhealthy", &[]), &none(), received());
    let record = health.record.expect("recorded");
    assert_eq!(record.action, "health_status");
    assert_eq!(record.detail.as_deref(), Some("unhealthy"));
    let oom = react(&container("oom", &[]), &none(), received());
    assert_eq!(oom.oom, Some(("c0ffee00112233445566".into(), OomMark::Seen)));
    assert!(oom.record.is_some());
}

#[test]
fn probe_runs_reinspect_only_health_checked_containers() {
    let exec_die = container("exec_die", &[("exitCode", "1")]);
    assert!(react(&exec_die, &none(), received()).work.is_empty());
    let checked: HashSet<String> = ["c0ffee00112233445566".to_string()].into();
    let reaction = react(&exec_die, &checked, received());
    assert_eq!(
        reaction.work,
        vec![Work::Container { id: "c0ffee00112233445566".into(), proxy: ProxyRead::Keep }]
    );
    // Exec events are not the container's history.
    assert_eq!(reaction.record, None);
    assert_eq!(reaction.read_last_line, None);
}

#[test]
fn a_reload_or_hangup_rereads_the_proxy_and_other_signals_do_not() {
    let fresh = |e: EventMessage| react(&e, &none(), received()).work;
    let expected =
        vec![Work::Container { id: "c0ffee00112233445566".into(), proxy: ProxyRead::Fresh }];
    assert_eq!(fresh(container("exec_start: nginx -s reload", &[])), expected);
    assert_eq!(fresh(container("kill", &[("signal", "HUP")])), expected);
    assert_eq!(fresh(container("kill", &[("signal", "1")])), expected);
    assert!(fresh(container("kill", &[("signal", "15")])).is_empty());
    assert!(fresh(container("exec_start: sh -c true", &[])).is_empty());
    let kill = react(&container("kill", &[("signal", "15")]), &none(), received());
    assert_eq!(kill.record.and_then(|r| r.detail).as_deref(), Some("15"));
}

#[test]
fn a_destroyed_container_is_forgotten_and_a_rename_says_the_old_name() {
    let destroy = react(&container("destroy", &[]), &none(), received());
    assert_eq!(destroy.work, vec![Work::ContainerGone { id: "c0ffee00112233445566".into() }]);
    assert_eq!(destroy.oom, Some(("c0ffee00112233445566".into(), OomMark::Cleared)));
    let rename = react(&container("rename", &[("oldName", "/old")]), &none(), received());
    assert_eq!(rename.record.and_then(|r| r.detail).as_deref(), Some("was old"));
}

#[test]
fn network_events_reread_the_container_first_then_the_network() {
    let connect = event(
        EventMessageTypeEnum::NETWORK,
        "connect",
        "net1",
        &[("name", "shop_default"), ("container", "abc")],
    );
    let reaction = react(&connect, &none(), received());
    assert_eq!(
        reaction.work,
        vec![
            Work::Container { id: "abc".into(), proxy: ProxyRead::Keep },
            Work::Network { id: "net1".into() },
        ]
    );
    assert_eq!(reaction.record, None);
    let destroy =
        event(EventMessageTypeEnum::NETWORK, "destroy", "net1", &[("name", "shop_default")]);
    assert_eq!(
        react(&destroy, &none(), received()).work,
        vec![Work::NetworkGone { name: "shop_default".into() }]
    );
    let create = event(EventMessageTypeEnum::NETWORK, "create", "net2", &[]);
    assert_eq!(react(&create, &none(), received()).work, vec![Work::Network { id: "net2".into() }]);
}

#[test]
fn volumes_are_read_when_created_and_forgotten_when_destroyed() {
    let volume = |action| event(EventMessageTypeEnum::VOLUME, action, "data", &[]);
    let work = |action| react(&volume(action), &none(), received()).work;
    assert_eq!(work("create"), vec![Work::Volume { name: "data".into() }]);
    assert_eq!(work("destroy"), vec![Work::VolumeGone { name: "data".into() }]);
    assert!(work("mount").is_empty());
}

#[test]
fn services_nodes_and_task_containers_move_the_swarm() {
    let service = event(EventMessageTypeEnum::SERVICE, "update", "svc", &[]);
    assert!(react(&service, &none(), received()).swarm);
    let node = event(EventMessageTypeEnum::NODE, "update", "n1", &[]);
    assert!(react(&node, &none(), received()).swarm);
    let task = container("start", &[("com.docker.swarm.task.id", "t1")]);
    assert!(react(&task, &none(), received()).swarm);
    assert!(!react(&container("start", &[]), &none(), received()).swarm);
    let image = event(EventMessageTypeEnum::IMAGE, "pull", "busybox", &[]);
    let reaction = react(&image, &none(), received());
    assert!(!reaction.swarm);
    assert_eq!(reaction.work, vec![Work::Image { reference: "busybox".into() }]);
    let deleted = event(EventMessageTypeEnum::IMAGE, "delete", "sha256:ab", &[]);
    assert_eq!(
        react(&deleted, &none(), received()).work,
        vec![Work::ImageGone { id: "sha256:ab".into() }]
    );
    let pushed = event(EventMessageTypeEnum::IMAGE, "push", "busybox", &[]);
    assert!(react(&pushed, &none(), received()).work.is_empty());
}
