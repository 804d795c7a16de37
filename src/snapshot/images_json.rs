//! The `images` key of the JSON document, and what it adds to `networks` and
//! `volumes` (members with addresses, sizes, orphans): the same rows the Images,
//! Volumes and Networks panes show. Keys are a contract: add, never rename.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::model::Model;
use crate::model::images;

#[derive(Serialize)]
pub struct ImageJson {
    pub host: String,
    pub id: String,
    /// `<none>` for a dangling image.
    pub repository: String,
    pub tag: String,
    /// Every `repository:tag` that names it.
    pub tags: Vec<String>,
    pub size: Option<u64>,
    pub created: Option<String>,
    pub dangling: bool,
    /// No container, running or stopped, uses it.
    pub unused: bool,
    /// The containers that use it, running ones first.
    pub used_by: Vec<String>,
}

#[derive(Serialize)]
pub struct MemberJson {
    pub container: String,
    pub ip: Option<String>,
}

fn time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Every image; with a project, those its containers use.
pub fn images(model: &Model, project: Option<&str>) -> Vec<ImageJson> {
    model
        .images
        .images
        .iter()
        .filter_map(|(&(host, _), image)| {
            let users = images::users(model.containers.values(), host, image);
            if project.is_some() && !users.iter().any(|c| c.in_project(project)) {
                return None;
            }
            let (repository, tag) = image.repository_and_tag();
            Some(ImageJson {
                host: model.host(host).name.clone(),
                id: image.id.clone(),
                repository: repository.to_string(),
                tag: tag.to_string(),
                tags: image.tags().map(String::from).collect(),
                size: image.size,
                created: time(image.created),
                dangling: image.dangling(),
                unused: users.is_empty(),
                used_by: users.iter().map(|c| c.name.clone()).collect(),
            })
        })
        .collect()
}

/// A network's members with their addresses, by name.
pub fn members(model: &Model, host: crate::model::HostId, network: &str) -> Vec<MemberJson> {
    let mut members: Vec<MemberJson> = model
        .containers
        .values()
        .filter(|c| c.host == host)
        .filter_map(|c| {
            let attachment = c.networks.iter().find(|a| a.name == network)?;
            Some(MemberJson { container: c.name.clone(), ip: attachment.ip.clone() })
        })
        .collect();
    members.sort_by(|a, b| crate::model::natural::natural_cmp(&a.container, &b.container));
    members
}

pub fn created(t: Option<DateTime<Utc>>) -> Option<String> {
    time(t)
}

#[cfg(test)]
mod tests {
    #[test]
    fn images_say_their_users_and_dangling_ones() {
        let model = crate::topology::fixtures::seed("000-nestjs-postgres-redis").expect("seed");
        let images = super::images(&model, None);
        assert!(images.iter().any(|i| i.dangling && i.unused));
        assert!(
            images.iter().any(|i| !i.dangling && !i.used_by.is_empty()),
            "{:?}",
            images.iter().map(|i| (&i.repository, &i.used_by)).collect::<Vec<_>>()
        );
        let json = serde_json::to_value(&images).expect("json");
        assert!(json[0].get("used_by").is_some());
    }
}
