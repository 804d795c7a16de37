//! Docker Compose metadata: the `com.docker.compose.*` labels, and the `depends_on`
//! section of compose files for Compose v1, which does not label dependencies.

use std::collections::BTreeMap;

use yaml_rust2::{Yaml, YamlLoader};

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
/// podman-compose's own labels; recent versions also set the `com.docker.compose.*`
/// ones, older ones only these.
pub const PODMAN_PROJECT: &str = "io.podman.compose.project";
pub const PODMAN_SERVICE: &str = "io.podman.compose.service";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DependencyCondition {
    Started,
    Healthy,
    CompletedSuccessfully,
}

impl DependencyCondition {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "service_started" => Some(DependencyCondition::Started),
            "service_healthy" => Some(DependencyCondition::Healthy),
            "service_completed_successfully" => Some(DependencyCondition::CompletedSuccessfully),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DependencyCondition::Started => "service_started",
            DependencyCondition::Healthy => "service_healthy",
            DependencyCondition::CompletedSuccessfully => "service_completed_successfully",
        }
    }
}

/// A compose `depends_on` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dependency {
    pub service: String,
    pub condition: DependencyCondition,
    pub required: bool,
}

/// Where a container's compose metadata came from and what it says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ComposeInfo {
    pub project: String,
    pub service: String,
    pub container_number: Option<u32>,
    pub depends_on: Vec<Dependency>,
    pub config_files: Vec<String>,
    pub working_dir: Option<String>,
    /// True when `depends_on` was read from the compose files rather than a label.
    pub depends_on_from_files: bool,
}

pub fn from_labels(labels: &BTreeMap<String, String>) -> Option<ComposeInfo> {
    let present = |key: &str| labels.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
    let project = present(PROJECT).or_else(|| present(PODMAN_PROJECT))?;
    let service =
        present(SERVICE).or_else(|| present(PODMAN_SERVICE)).unwrap_or_default().to_string();
    Some(ComposeInfo {
        project: project.to_string(),
        service,
        container_number: labels.get(CONTAINER_NUMBER).and_then(|n| n.trim().parse().ok()),
        depends_on: labels.get(DEPENDS_ON).map(|v| parse_depends_on_label(v)).unwrap_or_default(),
        config_files: labels
            .get(CONFIG_FILES)
            .map(|v| {
                v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
            })
            .unwrap_or_default(),
        working_dir: labels.get(WORKING_DIR).cloned(),
        depends_on_from_files: false,
    })
}

/// Parses Compose v2's `com.docker.compose.depends_on` label: a comma-separated list
/// of `service`, `service:condition` or `service:condition:restart` entries (the third
/// field says whether the dependent restarts with its dependency; it is not
/// `required`, which the label does not carry, so every entry counts as required).
/// Unknown conditions are read as `service_started`, the compose default.
pub fn parse_depends_on_label(value: &str) -> Vec<Dependency> {
    let mut deps: Vec<Dependency> = value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .filter_map(|entry| {
            let mut parts = entry.split(':');
            let service = parts.next()?.trim();
            if service.is_empty() {
                return None;
            }
            let condition = parts
                .next()
                .and_then(|c| DependencyCondition::parse(c.trim()))
                .unwrap_or(DependencyCondition::Started);
            Some(Dependency { service: service.to_string(), condition, required: true })
        })
        .collect();
    deps.sort();
    deps.dedup_by(|a, b| a.service == b.service);
    deps
}

/// Why a compose file could not give `depends_on`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeFileError {
    #[error("not valid YAML: {0}")]
    Yaml(String),
    #[error("no `services` section")]
    NoServices,
}

/// Reads `services.<service>.depends_on` from a compose file's text, in either the
/// list form (`[db, redis]`) or the map form (`db: {condition: service_healthy}`).
/// Returns `Ok(None)` when the file does not define the service.
pub fn depends_on_from_file(
    text: &str,
    service: &str,
) -> Result<Option<Vec<Dependency>>, ComposeFileError> {
    let docs =
        YamlLoader::load_from_str(text).map_err(|e| ComposeFileError::Yaml(e.to_string()))?;
    let Some(doc) = docs.first() else {
        return Err(ComposeFileError::NoServices);
    };
    let services = &doc["services"];
    if services.is_badvalue() || services.is_null() {
        return Err(ComposeFileError::NoServices);
    }
    let definition = &services[service];
    if definition.is_badvalue() {
        return Ok(None);
    }
    let mut deps = Vec::new();
    match &definition["depends_on"] {
        Yaml::Array(items) => {
            for item in items {
                if let Some(name) = item.as_str() {
                    deps.push(Dependency {
                        service: name.to_string(),
                        condition: DependencyCondition::Started,
                        required: true,
                    });
                }
            }
        }
        Yaml::Hash(map) => {
            for (key, value) in map {
                let Some(name) = key.as_str() else { continue };
                let condition = value["condition"]
                    .as_str()
                    .and_then(DependencyCondition::parse)
                    .unwrap_or(DependencyCondition::Started);
                let required = value["required"].as_bool().unwrap_or(true);
                deps.push(Dependency { service: name.to_string(), condition, required });
            }
        }
        _ => {}
    }
    deps.sort();
    deps.dedup_by(|a, b| a.service == b.service);
    Ok(Some(deps))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(service: &str, condition: DependencyCondition, required: bool) -> Dependency {
        Dependency { service: service.into(), condition, required }
    }

    #[test]
    fn podman_compose_labels_name_the_project_too() {
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        // Older podman-compose: only its own labels.
        let old = labels(&[(PODMAN_PROJECT, "shop"), (PODMAN_SERVICE, "web")]);
        let info = from_labels(&old).unwrap();
        assert_eq!((info.project.as_str(), info.service.as_str()), ("shop", "web"));
        // Both: Docker's win (they are what compose itself would write).
        let both = labels(&[(PODMAN_PROJECT, "x"), (PROJECT, "shop"), (SERVICE, "db")]);
        assert_eq!(from_labels(&both).unwrap().project, "shop");
        assert_eq!(from_labels(&labels(&[(PODMAN_PROJECT, " ")])), None);
    }

    #[test]
    fn a_pod_groups_like_a_project_unless_compose_labels_say_more() {
        let mut c = crate::model::Container::new("a", "shop-web");
        c.join_pod("shop");
        assert_eq!((c.project(), c.service()), (Some("shop"), Some("shop-web")));
        assert_eq!(c.pod.as_deref(), Some("shop"));
        let mut labelled = crate::model::Container::new("b", "web_1");
        labelled.compose = from_labels(
            &[(PROJECT.to_string(), "proj".to_string()), (SERVICE.to_string(), "web".to_string())]
                .into_iter()
                .collect(),
        );
        labelled.join_pod("pod_proj");
        assert_eq!((labelled.project(), labelled.service()), (Some("proj"), Some("web")));
        assert_eq!(labelled.pod.as_deref(), Some("pod_proj"));
    }

    #[test]
    fn depends_on_label_accepts_all_three_forms() {
        let deps =
            parse_depends_on_label("db:service_healthy:true,redis,cache:service_started:false");
        assert_eq!(
            deps,
            vec![
                dep("cache", DependencyCondition::Started, true),
                dep("db", DependencyCondition::Healthy, true),
                dep("redis", DependencyCondition::Started, true),
            ]
        );
        assert_eq!(
            parse_depends_on_label("migrate:service_completed_successfully"),
            vec![dep("migrate", DependencyCondition::CompletedSuccessfully, true)]
        );
    }

    #[test]
    fn depends_on_label_tolerates_junk() {
        assert!(parse_depends_on_label("").is_empty());
        assert!(parse_depends_on_label(" , ,:").is_empty());
        assert_eq!(
            parse_depends_on_label("db:weird_condition"),
            vec![dep("db", DependencyCondition::Started, true)]
        );
        assert_eq!(parse_depends_on_label("db,db:service_healthy").len(), 1);
    }

    #[test]
    fn labels_give_project_service_and_files() {
        let labels: BTreeMap<String, String> = [
            (PROJECT, "shop"),
            (SERVICE, "api"),
            (CONTAINER_NUMBER, "2"),
            (DEPENDS_ON, "db:service_healthy:true"),
            (CONFIG_FILES, "/srv/shop/docker-compose.yml,/srv/shop/override.yml"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let info = from_labels(&labels).expect("compose labels");
        assert_eq!(info.project, "shop");
        assert_eq!(info.service, "api");
        assert_eq!(info.container_number, Some(2));
        assert_eq!(info.depends_on, vec![dep("db", DependencyCondition::Healthy, true)]);
        assert_eq!(info.config_files.len(), 2);
        assert!(from_labels(&BTreeMap::new()).is_none());
    }

    #[test]
    fn compose_file_list_and_map_forms() {
        let text = r#"
version: "2.4"
services:
  app:
    image: node
    depends_on:
      postgres:
        condition: service_healthy
      redis:
        condition: service_started
        required: false
  worker:
    depends_on: [app, redis]
  db: {}
"#;
        assert_eq!(
            depends_on_from_file(text, "app").expect("parses"),
            Some(vec![
                dep("postgres", DependencyCondition::Healthy, true),
                dep("redis", DependencyCondition::Started, false),
            ])
        );
        assert_eq!(
            depends_on_from_file(text, "worker").expect("parses"),
            Some(vec![
                dep("app", DependencyCondition::Started, true),
                dep("redis", DependencyCondition::Started, true),
            ])
        );
        assert_eq!(depends_on_from_file(text, "db").expect("parses"), Some(vec![]));
        assert_eq!(depends_on_from_file(text, "missing").expect("parses"), None);
    }

    #[test]
    fn compose_file_errors_are_findings() {
        assert!(matches!(depends_on_from_file("services: [", "a"), Err(ComposeFileError::Yaml(_))));
        assert_eq!(depends_on_from_file("foo: 1", "a"), Err(ComposeFileError::NoServices));
    }
}
