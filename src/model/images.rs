//! The images each engine holds, their layers when asked for, and how the last
//! operation on an image, volume or network went (a pull's progress, a removal's
//! answer): the Images, Volumes and Networks panes read it all from here.
//!
//! Images are listed once per session and then follow the engine's image events;
//! which containers use each is not stored but derived from the containers' image
//! ids (running and stopped), so it can never disagree with them. Pure like the rest
//! of the model: no I/O, no clock.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Container, HostId};

/// One image of an engine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Image {
    /// `sha256:…`, as the engine names it.
    pub id: String,
    /// `repository:tag`, as many as point at it; none for a dangling image.
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub size: Option<u64>,
    pub created: Option<DateTime<Utc>>,
    pub labels: BTreeMap<String, String>,
}

/// The engine's word for a missing repository or tag.
pub const NONE: &str = "<none>";

impl Image {
    /// Whether no tag names it: a rebuilt tag's old image, left behind.
    pub fn dangling(&self) -> bool {
        self.tags().next().is_none()
    }

    /// Its real tags: `<none>:<none>` is how the engine writes "no tag".
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.repo_tags.iter().map(String::as_str).filter(|t| *t != "<none>:<none>" && !t.is_empty())
    }

    /// The (repository, tag) of its first tag, `<none>` for what has none.
    pub fn repository_and_tag(&self) -> (&str, &str) {
        match self.tags().next() {
            Some(tag) => split_reference(tag),
            None => {
                let repo = self
                    .repo_digests
                    .first()
                    .and_then(|d| d.split_once('@'))
                    .map_or(NONE, |(repo, _)| repo);
                (repo, NONE)
            }
        }
    }

    /// `sha256:abc…` as the 12 characters the docker CLI shows.
    pub fn short_id(&self) -> &str {
        let hex = self.id.strip_prefix("sha256:").unwrap_or(&self.id);
        hex.get(..12).unwrap_or(hex)
    }

    /// What the operator calls it: its first tag, else its short id.
    pub fn label(&self) -> String {
        match self.tags().next() {
            Some(tag) => tag.to_string(),
            None => self.short_id().to_string(),
        }
    }

    /// Whether `container` runs on this image: by the image id it was created from,
    /// or (a container listed before it was inspected) by the name it was asked for.
    pub fn used_by(&self, container: &Container) -> bool {
        match &container.image_id {
            Some(id) => *id == self.id,
            None => {
                let wanted = container.image.as_str();
                !wanted.is_empty()
                    && (wanted == self.id
                        || self.tags().any(|t| t == wanted || t == format!("{wanted}:latest")))
            }
        }
    }
}

/// `repo:tag` split at the tag's colon (not a registry's port): `localhost:5000/a:1`
/// is `localhost:5000/a` and `1`; with no tag, `latest`.
pub fn split_reference(reference: &str) -> (&str, &str) {
    match reference.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (reference, "latest"),
    }
}

/// One layer of an image, from its history: newest first, as the engine lists them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layer {
    pub created: Option<DateTime<Utc>>,
    /// The instruction that made it; raw, made safe where shown.
    pub created_by: String,
    pub size: u64,
    pub comment: String,
}

impl Layer {
    /// The instruction without the shell wrapper the builder adds
    /// (`/bin/sh -c #(nop) CMD ["sh"]` is `CMD ["sh"]`).
    pub fn command(&self) -> &str {
        let text = self.created_by.trim();
        let text = text.strip_prefix("/bin/sh -c ").unwrap_or(text);
        let text = text.strip_prefix("#(nop) ").unwrap_or(text);
        text.trim()
    }
}

/// An image's history as the engine last answered it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageHistory {
    pub id: String,
    pub at: DateTime<Utc>,
    pub result: Result<Vec<Layer>, String>,
}

/// What an operation on an image, volume or network is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Image,
    Volume,
    Network,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Image => "image",
            ResourceKind::Volume => "volume",
            ResourceKind::Network => "network",
        }
    }
}

/// A line about an operation on images, volumes or networks: a pull's progress, a
/// removal's answer. The pane of its kind shows the last one in its status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceNote {
    pub at: DateTime<Utc>,
    pub kind: ResourceKind,
    /// Raw words (they may quote the engine): made safe where shown.
    pub text: String,
    /// Still under way (a pull streaming its progress).
    pub running: bool,
    pub error: bool,
}

/// The images of every engine, their histories as asked for, and the last note of
/// each kind of operation.
#[derive(Debug, Clone, Default)]
pub struct ImageStore {
    /// By engine and image id.
    pub images: BTreeMap<(HostId, String), Image>,
    /// Asked for by the Images pane's layers view, by engine and image id.
    pub histories: BTreeMap<(HostId, String), ImageHistory>,
    pub notes: Vec<ResourceNote>,
    /// Bumped whenever an image comes, changes or goes: the panes key on it.
    pub revision: u64,
}

impl ImageStore {
    /// Every image of `host`, replacing what was known of it.
    pub fn replace(&mut self, host: HostId, images: Vec<Image>) -> bool {
        let before: Vec<&Image> =
            self.images.iter().filter(|((h, _), _)| *h == host).map(|(_, i)| i).collect();
        if before.len() == images.len() && images.iter().all(|i| before.contains(&i)) {
            return false;
        }
        self.images.retain(|(h, _), _| *h != host);
        self.images.extend(images.into_iter().map(|i| ((host, i.id.clone()), i)));
        self.revision += 1;
        true
    }

    /// One image as the engine describes it now. A tag names one image at a time, so
    /// the image that held its tags before (a rebuild, a pull of a newer version)
    /// loses them: that is how it becomes dangling, with no event of its own.
    pub fn changed(&mut self, host: HostId, image: Image) -> bool {
        let key = (host, image.id.clone());
        if self.images.get(&key) == Some(&image) {
            return false;
        }
        for ((h, id), other) in self.images.iter_mut() {
            if *h == host && *id != image.id {
                other.repo_tags.retain(|t| !image.repo_tags.contains(t) || t == "<none>:<none>");
            }
        }
        self.images.insert(key, image);
        self.revision += 1;
        true
    }

    pub fn removed(&mut self, host: HostId, id: &str) -> bool {
        let removed = self.images.remove(&(host, id.to_string())).is_some();
        self.histories.remove(&(host, id.to_string()));
        if removed {
            self.revision += 1;
        }
        removed
    }

    /// Forgets what an engine found to be another's held.
    pub fn forget_host(&mut self, host: HostId) {
        self.images.retain(|(h, _), _| *h != host);
        self.histories.retain(|(h, _), _| *h != host);
        self.revision += 1;
    }

    pub fn note(&mut self, note: ResourceNote) {
        self.notes.retain(|n| n.kind != note.kind);
        self.notes.push(note);
    }

    /// The last note about an operation of `kind`.
    pub fn last_note(&self, kind: ResourceKind) -> Option<&ResourceNote> {
        self.notes.iter().find(|n| n.kind == kind)
    }

    /// The image a container of `host` runs on, if listed.
    pub fn of_container(&self, c: &Container) -> Option<&Image> {
        match &c.image_id {
            Some(id) => self.images.get(&(c.host, id.clone())),
            None => {
                self.images.iter().find(|((h, _), i)| *h == c.host && i.used_by(c)).map(|(_, i)| i)
            }
        }
    }
}

/// The containers of `host` that use `image`, running ones first, then by name.
pub fn users<'a>(
    containers: impl IntoIterator<Item = &'a Container>,
    host: HostId,
    image: &Image,
) -> Vec<&'a Container> {
    let mut users: Vec<&Container> =
        containers.into_iter().filter(|c| c.host == host && image.used_by(c)).collect();
    users.sort_by(|a, b| {
        b.state
            .is_running()
            .cmp(&a.state.is_running())
            .then_with(|| super::natural::natural_cmp(&a.name, &b.name))
    });
    users
}

/// Why the engine did not remove an image, volume or network, from its answer: it is
/// in use (409), it is not there any more (404), or in its own words.
pub fn refusal_in_words(kind: ResourceKind, name: &str, engine: &str) -> String {
    let lower = engine.to_ascii_lowercase();
    if lower.contains("in use") || lower.contains("being used") || lower.contains("conflict") {
        format!("{} {name} is in use, the engine refused: {engine}", kind.as_str())
    } else if lower.contains("no such") || lower.contains("not found") {
        format!("{} {name} is not there any more", kind.as_str())
    } else {
        format!("cannot remove {} {name}: {engine}", kind.as_str())
    }
}

/// Why a pull failed, in words an operator can act on, from the engine's message.
pub fn pull_failure_in_words(reference: &str, engine: &str) -> String {
    let lower = engine.to_ascii_lowercase();
    let why = if lower.contains("connection refused")
        || lower.contains("no such host")
        || lower.contains("dial tcp")
        || lower.contains("i/o timeout")
        || lower.contains("network is unreachable")
        || lower.contains("server misbehaving")
        || lower.contains("tls handshake")
    {
        "the registry could not be reached (offline, or no registry at that address)"
    } else if lower.contains("unauthorized")
        || lower.contains("denied")
        || lower.contains("authentication required")
    {
        "the registry refused access (log in with docker login, or check the name)"
    } else if lower.contains("manifest unknown") || lower.contains("not found") {
        "the registry has no such image or tag"
    } else if lower.contains("toomanyrequests") || lower.contains("rate limit") {
        "the registry's rate limit was reached: try again later or log in"
    } else if lower.contains("invalid reference") {
        "that is not a valid image name"
    } else {
        "the engine could not pull it"
    };
    format!("pull {reference} failed: {why} — {}", engine.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: &str, tags: &[&str]) -> Image {
        Image {
            id: id.into(),
            repo_tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Image::default()
        }
    }

    #[test]
    fn references_split_at_the_tag_not_the_port() {
        assert_eq!(split_reference("nginx:1.25"), ("nginx", "1.25"));
        assert_eq!(split_reference("localhost:5000/app"), ("localhost:5000/app", "latest"));
        assert_eq!(split_reference("localhost:5000/app:2"), ("localhost:5000/app", "2"));
        let dangling = image("sha256:0123456789abcdef", &["<none>:<none>"]);
        assert!(dangling.dangling());
        assert_eq!(dangling.repository_and_tag(), (NONE, NONE));
        assert_eq!(dangling.short_id(), "0123456789ab");
        assert_eq!(dangling.label(), "0123456789ab");
    }

    #[test]
    fn a_tag_moved_to_a_new_image_leaves_the_old_one_dangling() {
        let mut store = ImageStore::default();
        store.replace(0, vec![image("sha256:old", &["app:1", "app:latest"])]);
        store.replace(1, vec![image("sha256:other", &["app:1"])]);
        assert!(store.changed(0, image("sha256:new", &["app:1"])));
        let old = &store.images[&(0, "sha256:old".to_string())];
        assert_eq!(old.repo_tags, vec!["app:latest".to_string()]);
        assert!(store.changed(0, image("sha256:newer", &["app:latest"])));
        assert!(store.images[&(0, "sha256:old".to_string())].dangling());
        // Another engine's tags are its own.
        assert!(!store.images[&(1, "sha256:other".to_string())].dangling());
        assert!(!store.changed(0, image("sha256:newer", &["app:latest"])), "nothing new");
        assert!(store.removed(0, "sha256:old"));
        assert!(!store.removed(0, "sha256:old"));
    }

    #[test]
    fn users_are_found_by_image_id_else_by_the_name_asked_for() {
        let img = image("sha256:abc", &["shop/api:2"]);
        let mut by_id = Container::new("c1", "api");
        by_id.image_id = Some("sha256:abc".into());
        by_id.state = crate::model::ContainerState::Exited;
        let mut by_name = Container::new("c2", "worker");
        by_name.image = "shop/api:2".into();
        by_name.state = crate::model::ContainerState::Running;
        let mut other = Container::new("c3", "db");
        other.image_id = Some("sha256:def".into());
        other.image = "shop/api:2".into();
        let all = [by_id, by_name, other];
        let names: Vec<&str> = users(&all, 0, &img).iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["worker", "api"], "running first");
    }

    #[test]
    fn failures_are_said_in_words() {
        let refused = pull_failure_in_words(
            "127.0.0.1:1/x:1",
            "Get \"https://127.0.0.1:1/v2/\": dial tcp 127.0.0.1:1: connect: connection refused",
        );
        assert!(refused.contains("could not be reached"), "{refused}");
        assert!(pull_failure_in_words("a", "manifest unknown").contains("no such image"));
        assert!(pull_failure_in_words("a", "unauthorized: x").contains("refused access"));
        let busy = refusal_in_words(
            ResourceKind::Image,
            "app:1",
            "conflict: unable to remove repository reference (must force)",
        );
        assert!(busy.contains("in use"), "{busy}");
    }

    #[test]
    fn layer_commands_lose_the_builder_wrapper() {
        let layer =
            Layer { created_by: "/bin/sh -c #(nop)  CMD [\"sh\"]".into(), ..Layer::default() };
        assert_eq!(layer.command(), "CMD [\"sh\"]");
        let run =
            Layer { created_by: "RUN /bin/sh -c echo hi # buildkit".into(), ..Layer::default() };
        assert_eq!(run.command(), "RUN /bin/sh -c echo hi # buildkit");
    }
}
