//! Decoding the Engine API's answers as engines from 1.41 to 1.51 lay them out
//! (`tests/fixtures/api/<version>/`, written after the API reference of each version;
//! `make_bodies.py` there says what moved between them). Through bollard's models and
//! `convert`, every version must give the same containers and networks, and neither an
//! unknown field nor a missing optional one may drop a container.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;

use bollard::models::{
    ContainerInspectResponse, ContainerSummary, ImageInspect, NetworkInspect, SystemInfo,
    SystemVersion,
};
use chrono::{DateTime, Utc};
use portolan::engine::connect::{ApiVersion, negotiate};
use portolan::engine::convert;
use portolan::model::{Container, HealthStatus};
use serde_json::Value;

const VERSIONS: [&str; 4] = ["1.41", "1.44", "1.47", "1.51"];
const WEB: &str = "4fa6e0f0c6786287e131c3852c58a2e01cc697a68231826813597e4994f1d6e2";

fn body(version: &str, name: &str) -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/api").join(version).join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, value: Value) -> T {
    serde_json::from_value(value).unwrap_or_else(|e| panic!("{what}: {e}"))
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_733_400_000, 0).unwrap()
}

fn listed(value: Value) -> Vec<Container> {
    let list: Vec<ContainerSummary> = decode("container list", value);
    list.into_iter().map(|s| convert::summary(s, now())).collect()
}

fn inspected(value: Value) -> Container {
    convert::container(decode::<ContainerInspectResponse>("container inspect", value))
}

#[test]
fn every_version_lists_the_same_containers() {
    let reference = listed(body("1.41", "containers.json"));
    assert_eq!(reference.len(), 2);
    let web = &reference[0];
    assert_eq!(web.name, "shop-web-1");
    assert_eq!(web.image, "nginx:1.25-alpine");
    assert_eq!(web.ports.len(), 2, "{:?}", web.ports);
    assert_eq!(web.networks[0].name, "shop_default");
    assert_eq!(web.networks[0].ip.as_deref(), Some("172.18.0.3"));
    assert_eq!(web.compose.as_ref().map(|c| c.service.as_str()), Some("web"));
    assert_eq!(reference[1].networks[0].ip, None, "an exited container has no address");
    for version in VERSIONS {
        assert_eq!(listed(body(version, "containers.json")), reference, "API {version}");
    }
}

#[test]
fn every_version_inspects_to_the_same_container() {
    let reference = inspected(body("1.41", "container-inspect.json"));
    assert_eq!(reference.id, WEB);
    assert_eq!(reference.pid, Some(4242));
    assert_eq!(reference.health.as_ref().map(|h| h.status), Some(HealthStatus::Healthy));
    assert_eq!(reference.limits.cpus, Some(0.5));
    assert_eq!(reference.limits.memory_bytes, Some(256 << 20));
    assert!(reference.read_only);
    // 1.41 to 1.44 list the short id among the aliases, 1.45 on do not but add
    // DNSNames: the same names either way.
    assert_eq!(reference.networks[0].aliases, ["shop-web-1", "web"]);
    for version in VERSIONS {
        assert_eq!(inspected(body(version, "container-inspect.json")), reference, "API {version}");
    }
}

#[test]
fn every_version_gives_the_same_network() {
    let convert = |version| {
        convert::network_inspect(decode::<NetworkInspect>(
            "network",
            body(version, "network-inspect.json"),
        ))
    };
    let reference = convert("1.41");
    assert_eq!(reference.subnets, ["172.18.0.0/16"]);
    for version in VERSIONS {
        assert_eq!(convert(version), reference, "API {version}");
    }
}

#[test]
fn version_info_and_image_bodies_decode_and_negotiate() {
    for version in VERSIONS {
        let answer: SystemVersion = decode("version", body(version, "version.json"));
        assert_eq!(answer.api_version.as_deref(), Some(version));
        let agreed = negotiate(answer.api_version.as_deref(), answer.min_api_version.as_deref());
        assert_eq!(agreed, ApiVersion::parse(version), "API {version}");

        let info: SystemInfo = decode("info", body(version, "info.json"));
        assert_eq!(info.ncpu, Some(8), "API {version}");
        let cgroup = info.cgroup_version.map(|v| v.to_string());
        let expected = if version == "1.41" { "1" } else { "2" };
        assert_eq!(cgroup.as_deref(), Some(expected), "API {version}");

        // Image inspect lost ContainerConfig in 1.45 and gained Manifests and a
        // Descriptor later; the demo only needs the id.
        let image: ImageInspect = decode("image", body(version, "image-inspect.json"));
        assert!(image.id.is_some_and(|id| id.starts_with("sha256:")), "API {version}");
    }
}

/// Objects whose keys are data (label names, network names, ports), not fields: a key
/// added there is a new label or network, not an unknown field.
const FREE_FORM: [&str; 12] = [
    "Labels",
    "PortBindings",
    "Options",
    "DriverOpts",
    "Networks",
    "Ports",
    "ExposedPorts",
    "Volumes",
    "Containers",
    "Data",
    "Details",
    "Runtimes",
];

/// Adds a field no version documents to every object of `value` that has fields.
fn with_unknown_fields(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                // LogConfig's Config is free-form too; the container's has an Image.
                let free_form = FREE_FORM.contains(&key.as_str())
                    || (key == "Config" && child.get("Image").is_none());
                match child {
                    // Their values are `{}`, an empty struct in Go and `()` in bollard.
                    Value::Object(_) if matches!(key.as_str(), "ExposedPorts" | "Volumes") => {}
                    Value::Object(entries) if free_form => {
                        entries.values_mut().for_each(with_unknown_fields);
                    }
                    _ => with_unknown_fields(child),
                }
            }
            map.insert(
                "FieldFromTheFuture".into(),
                serde_json::json!({"Nested": [1, "two", null]}),
            );
        }
        Value::Array(items) => items.iter_mut().for_each(with_unknown_fields),
        _ => {}
    }
}

/// Every path to a field in `value`, as object keys and array indices.
fn field_paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                prefix.push(key.clone());
                out.push(prefix.clone());
                field_paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                prefix.push(index.to_string());
                field_paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn without(value: &Value, path: &[String]) -> Value {
    let mut copy = value.clone();
    let mut at = &mut copy;
    for step in &path[..path.len() - 1] {
        at = match at {
            Value::Object(map) => map.get_mut(step).unwrap(),
            Value::Array(items) => &mut items[step.parse::<usize>().unwrap()],
            _ => unreachable!(),
        };
    }
    if let Value::Object(map) = at {
        map.remove(&path[path.len() - 1]);
    }
    copy
}

#[test]
fn unknown_fields_never_drop_a_container() {
    for version in VERSIONS {
        let mut list = body(version, "containers.json");
        let expected = listed(list.clone());
        with_unknown_fields(&mut list);
        assert_eq!(listed(list), expected, "API {version}: list");

        let mut inspect = body(version, "container-inspect.json");
        let expected = inspected(inspect.clone());
        with_unknown_fields(&mut inspect);
        assert_eq!(inspected(inspect), expected, "API {version}: inspect");
    }
}

/// Fields the Engine API reference marks required (`Port`, `DriverData`): an engine
/// that left one out would break its own schema.
const REQUIRED: [&[&str]; 4] = [
    &["Ports", "PrivatePort"],
    &["Ports", "Type"],
    &["GraphDriver", "Data"],
    &["GraphDriver", "Name"],
];

#[test]
fn a_missing_field_anywhere_never_drops_a_container() {
    for version in VERSIONS {
        for name in ["containers.json", "container-inspect.json"] {
            let value = body(version, name);
            let mut paths = Vec::new();
            field_paths(&value, &mut Vec::new(), &mut paths);
            assert!(paths.len() > 50, "{name}: {} fields", paths.len());
            for path in paths {
                let trimmed = without(&value, &path);
                let containers = match name {
                    "containers.json" => serde_json::from_value::<Vec<ContainerSummary>>(trimmed)
                        .map(|l| l.into_iter().map(|s| convert::summary(s, now())).collect()),
                    _ => serde_json::from_value::<ContainerInspectResponse>(trimmed)
                        .map(|i| vec![convert::container(i)]),
                };
                let fields: Vec<&str> = path
                    .iter()
                    .map(String::as_str)
                    .filter(|step| step.parse::<usize>().is_err())
                    .collect();
                let containers: Vec<Container> = match containers {
                    Ok(containers) => containers,
                    // The reference marks these required, and so do bollard's models.
                    Err(_) if REQUIRED.contains(&fields.as_slice()) => continue,
                    Err(e) => panic!("API {version} {name} without {path:?}: {e}"),
                };
                let expected = if name == "containers.json" { 2 } else { 1 };
                assert_eq!(containers.len(), expected, "API {version} {name} without {path:?}");
            }
        }
    }
}

#[test]
fn null_for_any_field_never_drops_a_container() {
    // Go's encoder writes a nil slice, map or pointer as null: any of them may be null.
    for version in VERSIONS {
        for name in ["containers.json", "container-inspect.json"] {
            let value = body(version, name);
            let mut paths = Vec::new();
            field_paths(&value, &mut Vec::new(), &mut paths);
            for path in paths {
                // A map's entry is data, not a field (see FREE_FORM).
                if path.len() > 1 && FREE_FORM.contains(&path[path.len() - 2].as_str()) {
                    continue;
                }
                let pointer = format!("/{}", path.join("/"));
                if !value.pointer(&pointer).is_some_and(|v| v.is_array() || v.is_object()) {
                    continue;
                }
                let mut nulled = value.clone();
                if let Some(slot) = nulled.pointer_mut(&pointer) {
                    *slot = Value::Null;
                }
                let decoded = match name {
                    "containers.json" => {
                        serde_json::from_value::<Vec<ContainerSummary>>(nulled).map(|l| l.len())
                    }
                    _ => serde_json::from_value::<ContainerInspectResponse>(nulled).map(|_| 1),
                };
                let count = decoded
                    .unwrap_or_else(|e| panic!("API {version} {name} with {path:?} null: {e}"));
                assert_eq!(count, if name == "containers.json" { 2 } else { 1 });
            }
        }
    }
}

#[test]
fn health_listed_by_newer_engines_is_shown_before_the_inspect() {
    // API 1.52 adds Health to each container of the list; older lists have none.
    let mut list = body("1.51", "containers.json");
    list[0]["Health"] = serde_json::json!({"Status": "unhealthy", "FailingStreak": 4});
    list[1]["Health"] = serde_json::json!({"Status": "none", "FailingStreak": 0});
    let containers = listed(list);
    let health = containers[0].health.as_ref().expect("listed health");
    assert_eq!((health.status, health.failing_streak), (HealthStatus::Unhealthy, 4));
    assert!(health.log.is_empty(), "the probes' output waits for the inspect");
    assert_eq!(containers[1].health, None, "\"none\" is no health check");
    for version in VERSIONS {
        assert!(listed(body(version, "containers.json")).iter().all(|c| c.health.is_none()));
    }
}

#[test]
fn a_value_outside_an_open_enum_keeps_the_container() {
    // Mount types grew (`image` in 1.47) and may again: bollard reads them as strings.
    let mut list = body("1.51", "containers.json");
    list[0]["Mounts"][0]["Type"] = Value::String("some-future-mount".into());
    assert_eq!(listed(list).len(), 2);
}

#[test]
fn a_state_newer_than_the_models_keeps_every_container() {
    // bollard's states and port types are closed enums: this body fails as a whole,
    // which would drop every container; read leniently, only the odd values go.
    let mut list = body("1.51", "containers.json");
    list[1]["State"] = Value::String("hibernating".into());
    list[0]["Ports"][0]["Type"] = Value::String("quic".into());
    let text = list.to_string();
    assert!(serde_json::from_str::<Vec<ContainerSummary>>(&text).is_err());
    let summaries = convert::summaries_one_by_one(&text).expect("a list");
    let containers: Vec<Container> =
        summaries.into_iter().map(|s| convert::summary(s, now())).collect();
    let reference = listed(body("1.51", "containers.json"));
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[0].name, "shop-web-1");
    // Only the port whose type is new is left out; the other binding of port 80 stays.
    assert_eq!(containers[0].ports, reference[0].ports[1..]);
    assert_eq!(containers[0].networks, reference[0].networks, "the rest is kept");
    assert_eq!(containers[1].name, "shop-db-1");
    assert_eq!(containers[1].state, portolan::model::ContainerState::Unknown);
    assert_eq!(containers[1].labels, reference[1].labels);
    assert_eq!(convert::summaries_one_by_one("{\"message\":\"no\"}"), None);
}

#[test]
fn an_inspect_with_values_newer_than_the_models_keeps_the_rest() {
    let reference = inspected(body("1.51", "container-inspect.json"));
    let mut value = body("1.51", "container-inspect.json");
    value["State"]["Status"] = Value::String("hibernating".into());
    value["HostConfig"]["RestartPolicy"]["Name"] = Value::String("on-a-whim".into());
    let text = value.to_string();
    assert!(serde_json::from_str::<ContainerInspectResponse>(&text).is_err());
    let container = convert::container(convert::inspect_leniently(&text).expect("lenient"));
    assert_eq!(container.state, portolan::model::ContainerState::Unknown);
    assert_eq!(container.restart_policy, None);
    // Only those two values are lost: the pid, health, limits and networks stay.
    assert_eq!(container.pid, reference.pid);
    assert_eq!(container.health, reference.health);
    assert_eq!(container.limits, reference.limits);
    assert_eq!(container.networks, reference.networks);
}
