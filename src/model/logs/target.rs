//! Which containers a logs view follows, as containers come and go.
//!
//! A view is defined by what the operator asked for, not by container ids: when
//! compose re-creates a service, the new container (new id, same project, service
//! and name) joins the same view. This module decides membership from plain facts
//! about containers; starting and stopping log streams is the engine's business.

use std::collections::BTreeSet;

use crate::model::Container;

/// What a logs view follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// Exactly these container ids. A re-created container has a new id and does
    /// not join: use this for an explicit multi-selection.
    Ids(BTreeSet<String>),
    /// Containers with these names, whatever their id. Compose keeps a replica's
    /// name (`shop-web-1`) across re-creation, and so does `docker run --name`.
    Names(BTreeSet<String>),
    /// Every container of a compose project, or of some of its services.
    Compose { project: String, services: Option<BTreeSet<String>> },
}

/// The facts about one container that membership depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub id: &'a str,
    pub project: Option<&'a str>,
    pub service: Option<&'a str>,
    pub name: &'a str,
}

impl<'a> From<&'a Container> for Candidate<'a> {
    fn from(c: &'a Container) -> Self {
        Candidate { id: &c.id, project: c.project(), service: c.service(), name: &c.name }
    }
}

/// What the engine should change so that it follows exactly the target's members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowPlan {
    /// Members not followed yet, sorted.
    pub start: Vec<String>,
    /// Followed containers that are no longer members, sorted.
    pub stop: Vec<String>,
}

impl LogTarget {
    /// The target for one selected container: its name, so that following survives
    /// re-creation.
    pub fn container(candidate: &Candidate<'_>) -> LogTarget {
        LogTarget::Names(BTreeSet::from([bare_name(candidate.name).to_string()]))
    }

    /// A whole compose project.
    pub fn project(project: &str) -> LogTarget {
        LogTarget::Compose { project: project.to_string(), services: None }
    }

    pub fn includes(&self, candidate: &Candidate<'_>) -> bool {
        match self {
            LogTarget::Ids(ids) => ids.contains(candidate.id),
            LogTarget::Names(names) => {
                let name = bare_name(candidate.name);
                names.iter().any(|n| bare_name(n) == name)
            }
            LogTarget::Compose { project, services } => {
                candidate.project == Some(project.as_str())
                    && services.as_ref().is_none_or(|set| {
                        candidate.service.is_some_and(|service| set.contains(service))
                    })
            }
        }
    }

    /// The ids of the candidates that belong, sorted and without duplicates.
    pub fn members<'a>(&self, candidates: impl IntoIterator<Item = Candidate<'a>>) -> Vec<&'a str> {
        let ids: BTreeSet<&str> =
            candidates.into_iter().filter(|c| self.includes(c)).map(|c| c.id).collect();
        ids.into_iter().collect()
    }

    /// Compares the members among `candidates` with what is `followed` now.
    pub fn plan<'a>(
        &self,
        followed: &BTreeSet<String>,
        candidates: impl IntoIterator<Item = Candidate<'a>>,
    ) -> FollowPlan {
        let members = self.members(candidates);
        let start = members.iter().filter(|id| !followed.contains(**id)).map(|id| id.to_string());
        let stop = followed.iter().filter(|id| members.binary_search(&id.as_str()).is_err());
        FollowPlan { start: start.collect(), stop: stop.cloned().collect() }
    }
}

/// The engine reports names with a leading `/`; operators type them without.
fn bare_name(name: &str) -> &str {
    name.strip_prefix('/').unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c<'a>(
        id: &'a str,
        project: Option<&'a str>,
        service: Option<&'a str>,
        name: &'a str,
    ) -> Candidate<'a> {
        Candidate { id, project, service, name }
    }

    fn host() -> Vec<Candidate<'static>> {
        vec![
            c("a1", Some("shop"), Some("web"), "/shop-web-1"),
            c("a2", Some("shop"), Some("web"), "/shop-web-2"),
            c("b1", Some("shop"), Some("db"), "/shop-db-1"),
            c("c1", Some("blog"), Some("web"), "/blog-web-1"),
            c("d1", None, None, "/lonely"),
        ]
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_project_is_all_its_containers() {
        assert_eq!(LogTarget::project("shop").members(host()), ["a1", "a2", "b1"]);
        assert!(LogTarget::project("nope").members(host()).is_empty());
    }

    #[test]
    fn services_narrow_a_project() {
        let web = LogTarget::Compose { project: "shop".into(), services: Some(set(&["web"])) };
        assert_eq!(web.members(host()), ["a1", "a2"]);
        // Same service name in another project does not join.
        assert!(!web.includes(&c("c1", Some("blog"), Some("web"), "blog-web-1")));
    }

    #[test]
    fn ids_are_exact_and_names_ignore_the_leading_slash() {
        assert_eq!(LogTarget::Ids(set(&["b1", "d1"])).members(host()), ["b1", "d1"]);
        assert_eq!(LogTarget::Names(set(&["lonely", "/shop-db-1"])).members(host()), ["b1", "d1"]);
        let selected = c("a2", Some("shop"), Some("web"), "/shop-web-2");
        assert_eq!(LogTarget::container(&selected), LogTarget::Names(set(&["shop-web-2"])));
    }

    #[test]
    fn recreation_joins_the_same_view() {
        let followed = set(&["a1", "a2", "b1"]);
        // `docker compose up` re-created web-1: a1 is gone, x9 has its name.
        let after = vec![
            c("x9", Some("shop"), Some("web"), "/shop-web-1"),
            c("a2", Some("shop"), Some("web"), "/shop-web-2"),
            c("b1", Some("shop"), Some("db"), "/shop-db-1"),
        ];
        let plan = LogTarget::project("shop").plan(&followed, after.clone());
        assert_eq!(plan, FollowPlan { start: vec!["x9".into()], stop: vec!["a1".into()] });
        // Following one container by name survives the same re-creation...
        let one = LogTarget::container(&c("a1", Some("shop"), Some("web"), "/shop-web-1"));
        let plan = one.plan(&set(&["a1"]), after.clone());
        assert_eq!(plan, FollowPlan { start: vec!["x9".into()], stop: vec!["a1".into()] });
        // ...while a fixed set of ids does not grow.
        let ids = LogTarget::Ids(set(&["a1", "a2"]));
        let plan = ids.plan(&set(&["a1", "a2"]), after);
        assert_eq!(plan, FollowPlan { start: vec![], stop: vec!["a1".into()] });
        // Nothing to do when nothing changed.
        assert_eq!(LogTarget::project("shop").plan(&followed, host()), FollowPlan::default());
    }

    #[test]
    fn candidates_come_from_model_containers() {
        let mut container = Container::new("id1", "/shop-web-1");
        container.compose = Some(crate::model::ComposeInfo {
            project: "shop".into(),
            service: "web".into(),
            ..Default::default()
        });
        let candidate = Candidate::from(&container);
        assert_eq!(candidate, c("id1", Some("shop"), Some("web"), "/shop-web-1"));
    }
}
