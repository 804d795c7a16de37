//! The update check's words, the docker config's credentials, and the body that
//! re-creates a container.

use super::*;

#[test]
fn references_split_into_registry_repository_and_tag() {
    assert_eq!(registry_host("nginx:1.25"), "docker.io");
    assert_eq!(registry_host("library/nginx"), "docker.io");
    assert_eq!(registry_host("127.0.0.1:5000/app:v1"), "127.0.0.1:5000");
    assert_eq!(registry_host("ghcr.io/o/app"), "ghcr.io");
    assert_eq!(repo_and_tag("127.0.0.1:5000/app"), ("127.0.0.1:5000/app".into(), "latest".into()));
    assert_eq!(repo_and_tag("127.0.0.1:5000/app:v2"), ("127.0.0.1:5000/app".into(), "v2".into()));
}

#[test]
fn credentials_come_from_the_docker_config() {
    // "user:pa:ss" in base64.
    let config = r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYTpzcw=="},
        "127.0.0.1:5000":{"auth":"YTpi"}}}"#;
    let hub = credentials_in(config, "docker.io");
    assert_eq!(hub.as_ref().and_then(|c| c.username.as_deref()), Some("user"));
    assert_eq!(hub.as_ref().and_then(|c| c.password.as_deref()), Some("pa:ss"));
    let local = credentials_in(config, "127.0.0.1:5000");
    assert_eq!(local.and_then(|c| c.password), Some("b".into()));
    assert!(credentials_in(config, "ghcr.io").is_none());
    assert!(credentials_in("not json", "ghcr.io").is_none());
}

#[test]
fn registry_failures_are_put_in_words() {
    let host = "127.0.0.1:9";
    let refused =
        "Get \"https://127.0.0.1:9/v2/\": dial tcp 127.0.0.1:9: connect: connection refused";
    assert_eq!(classify(Some(500), refused, host, "x"), CheckFailure::Unreachable(host.into()));
    assert!(matches!(
        classify(Some(429), "toomanyrequests", host, "x"),
        CheckFailure::RateLimited(_)
    ));
    assert!(matches!(
        classify(Some(401), "unauthorized", host, "x"),
        CheckFailure::Unauthorized(_)
    ));
    assert!(matches!(
        classify(Some(404), "manifest unknown", host, "x"),
        CheckFailure::UnknownManifest(_)
    ));
}

#[test]
fn a_new_container_keeps_its_own_settings_and_takes_the_new_images() {
    let old = serde_json::json!({
        "Id": "0123456789abcdef",
        "Config": {
            "Hostname": "0123456789ab",
            "Image": "reg/app:latest",
            "Env": ["PATH=/bin", "MINE=1"],
            "Cmd": ["serve"],
            "Healthcheck": {"Test": ["CMD", "true"]},
            "Labels": {"from.image": "1", "portolan.test": "x"}
        },
        "HostConfig": {"RestartPolicy": {"Name": "always"}, "NetworkMode": "bridge",
                       "Binds": ["data:/data"]},
        "Mounts": [
            {"Type": "volume", "Name": "data", "Destination": "/data", "RW": true},
            {"Type": "volume", "Name": "0f0f0f", "Destination": "/cache", "RW": true},
            {"Type": "bind", "Source": "/etc/x", "Destination": "/x", "RW": false}
        ],
        "NetworkSettings": {"Networks": {
            "bridge": {"Aliases": ["0123456789ab", "web"], "NetworkID": "n"},
            "backend": {"Aliases": ["api"]}
        }}
    });
    let image = serde_json::json!({
        "Env": ["PATH=/bin"],
        "Cmd": ["serve"],
        "Healthcheck": {"Test": ["CMD", "true"]},
        "Labels": {"from.image": "1"}
    });
    let body = create_body(&old, &image, "reg/app:latest");
    assert_eq!(body["Env"], serde_json::json!(["MINE=1"]));
    assert!(body.get("Cmd").is_none() && body.get("Healthcheck").is_none(), "{body}");
    assert!(body.get("Hostname").is_none());
    assert_eq!(body["Labels"], serde_json::json!({"portolan.test": "x"}));
    assert_eq!(body["HostConfig"]["RestartPolicy"]["Name"], "always");
    assert_eq!(
        body["HostConfig"]["Binds"],
        serde_json::json!(["data:/data", "0f0f0f:/cache"]),
        "the anonymous volume carries over"
    );
    let bridge = &body["NetworkingConfig"]["EndpointsConfig"]["bridge"];
    assert_eq!(bridge["Aliases"], serde_json::json!(["web"]));
    assert!(bridge.get("NetworkID").is_none());
    let created = body["NetworkingConfig"]["EndpointsConfig"].as_object().map(|o| o.len());
    assert_eq!(created, Some(1), "one network at create: {body}");
    assert_eq!(body[MORE_NETWORKS]["backend"]["Aliases"], serde_json::json!(["api"]));
}

#[test]
fn the_health_window_follows_the_healthcheck() {
    let second = 1_000_000_000;
    let health = bollard::models::HealthConfig {
        test: Some(vec!["CMD".into(), "true".into()]),
        interval: Some(second),
        timeout: Some(second),
        retries: Some(2),
        start_period: Some(2 * second),
        ..Default::default()
    };
    assert_eq!(health_window(Some(&health)), Some(Duration::from_secs(2 + 4) + WINDOW_SLACK));
    let none =
        bollard::models::HealthConfig { test: Some(vec!["NONE".into()]), ..Default::default() };
    assert_eq!(health_window(Some(&none)), None);
    assert_eq!(health_window(None), None);
}
