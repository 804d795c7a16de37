//! Images, volumes and networks on the real engine, through portolan's own engine
//! code: images built here (a two-layer `docker build` from the test image, a
//! rebuild that leaves the first build dangling, a tag of the test image) followed
//! by events into the model, their users and layers, a removal refused while a
//! container uses the image and done once it does not, a volume used and one
//! orphaned, a network used and one unused, and a pull that cannot reach a registry
//! saying why in words. Everything is labelled by the fixture and removed at the end.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use portolan::engine::EngineCommand;
use portolan::engine::images::ResourceRequest;
use portolan::model::Model;
use portolan::model::images::{self, ResourceKind};
use support::{Fixture, Watch, docker, docker_ok};

const WAIT: Duration = Duration::from_secs(20);

/// Removes the images a test made, by tag and by the fixture's label, when dropped.
struct Images {
    label: String,
    tags: Vec<String>,
}

impl Drop for Images {
    fn drop(&mut self) {
        for tag in &self.tags {
            let _ = docker(&["rmi", "-f", tag]);
        }
        let filter = format!("label={}", self.label);
        let ids = docker(&["images", "-aq", "--filter", &filter]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            let _ = docker(&["rmi", "-f", id]);
        }
    }
}

/// Builds `tag` from the test image with two layers of its own, `content` in them.
fn build(fx: &Fixture, tag: &str, content: &str) -> String {
    let dir = std::env::temp_dir().join(format!("{}-{content}", fx.name("build")));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let dockerfile = format!(
        "FROM {}\nLABEL {}\nRUN echo {content} > /one.txt\nRUN echo {content}-two > /two.txt\n",
        fx.image,
        fx.label()
    );
    std::fs::write(dir.join("Dockerfile"), dockerfile).expect("write the Dockerfile");
    let path = dir.to_string_lossy().to_string();
    docker_ok(&["build", "-q", "-t", tag, &path]);
    let _ = std::fs::remove_dir_all(&dir);
    docker_ok(&["image", "inspect", "--format", "{{.Id}}", tag])
}

fn image<'a>(model: &'a Model, id: &str) -> Option<&'a images::Image> {
    model.images.images.get(&(0, id.to_string()))
}

fn note(model: &Model, kind: ResourceKind) -> Option<&images::ResourceNote> {
    model.images.last_note(kind).filter(|n| !n.running)
}

#[tokio::test(flavor = "current_thread")]
async fn images_volumes_and_networks_follow_the_engine() {
    let fx = Fixture::new("images");
    let app = format!("{}:1", fx.name("app"));
    let rebuilt = format!("{}:1", fx.name("re"));
    let tagged = format!("{}:1", fx.name("tagged"));
    let _images =
        Images { label: fx.label(), tags: vec![app.clone(), rebuilt.clone(), tagged.clone()] };

    let mut watch = Watch::start().await;
    watch.wait("the image list", WAIT, |m| !m.images.images.is_empty()).await;

    // A two-layer build arrives by its events, with its tag.
    let app_id = build(&fx, &app, "one");
    watch
        .wait("the built image", WAIT, |m| {
            image(m, &app_id).is_some_and(|i| i.repo_tags.contains(&app))
        })
        .await;

    // A container on it, running: the image is in use, by name.
    let label = fx.label();
    let user = fx.name("user");
    let user_id =
        docker_ok(&["run", "-d", "--name", &user, "--label", &label, &app, "sleep", "1000"]);
    watch.wait("the user container", WAIT, |m| m.containers.contains_key(&user_id)).await;
    {
        let model = &watch.model;
        let img = image(model, &app_id).expect("the image");
        let users = images::users(model.containers.values(), 0, img);
        assert_eq!(users.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec![user.as_str()]);
        assert!(!img.dangling());
    }

    // A rebuild of the same tag with other content leaves the first build dangling.
    let first = build(&fx, &rebuilt, "first");
    watch.wait("the first build", WAIT, |m| image(m, &first).is_some()).await;
    let second = build(&fx, &rebuilt, "second");
    assert_ne!(first, second);
    watch
        .wait("the first build to dangle", WAIT, |m| {
            image(m, &first).is_some_and(|i| i.dangling())
                && image(m, &second).is_some_and(|i| i.repo_tags.contains(&rebuilt))
        })
        .await;
    let dangling = image(&watch.model, &first).unwrap();
    assert!(images::users(watch.model.containers.values(), 0, dangling).is_empty(), "unused");

    // A tag of the test image: a `tag` event, the same image with one more name.
    docker_ok(&["tag", &fx.image, &tagged]);
    watch
        .wait("the new tag", WAIT, |m| {
            m.images.images.values().any(|i| i.repo_tags.contains(&tagged))
        })
        .await;

    // Layers from the history: the two RUN lines, newest first, with their sizes.
    watch.handle.command(EngineCommand::Resource {
        host: 0,
        request: ResourceRequest::History { id: app_id.clone() },
    });
    watch.wait("the layers", WAIT, |m| m.images.histories.contains_key(&(0, app_id.clone()))).await;
    let layers = watch.model.images.histories[&(0, app_id.clone())].result.clone().expect("layers");
    assert!(layers.len() >= 3, "{layers:?}");
    assert!(layers[0].command().contains("echo one-two > /two.txt"), "{layers:?}");
    assert!(layers[1].command().contains("echo one > /one.txt"), "{layers:?}");
    assert!(layers[0].size > 0 && layers[1].size > 0, "{layers:?}");

    // Removal while a container uses it: the engine refuses, said in words.
    let remove = |force| EngineCommand::Resource {
        host: 0,
        request: ResourceRequest::RemoveImages {
            targets: vec![(app_id.clone(), app.clone())],
            force,
        },
    };
    watch.handle.command(remove(false));
    watch
        .wait("the refusal", WAIT, |m| note(m, ResourceKind::Image).is_some_and(|n| n.error))
        .await;
    let refusal = note(&watch.model, ResourceKind::Image).unwrap().text.clone();
    assert!(refusal.contains("in use"), "{refusal}");
    assert!(image(&watch.model, &app_id).is_some(), "still there");

    // Once its container is gone, it goes, and the model follows the delete event.
    docker_ok(&["rm", "-f", &user_id]);
    watch.wait("the user gone", WAIT, |m| !m.containers.contains_key(&user_id)).await;
    watch.handle.command(remove(false));
    watch.wait("the image removed", WAIT, |m| image(m, &app_id).is_none()).await;
    watch
        .wait("the removal's note", WAIT, |m| {
            note(m, ResourceKind::Image).is_some_and(|n| !n.error && n.text.contains("removed"))
        })
        .await;

    // A volume used and one orphaned; a network used and one unused.
    let used_volume = fx.volume("used");
    let orphan = fx.volume("orphan");
    let used_net = fx.network("used", &[]);
    let unused_net = fx.network("unused", &["--internal"]);
    let mount = format!("{used_volume}:/data");
    let member = fx.run("member", &["-v", &mount, "--network", &used_net], &["sleep", "1000"]);
    watch
        .wait("the member with its volume and network", WAIT, |m| {
            m.containers.get(&member).is_some_and(|c| {
                c.mounts.iter().any(|mt| mt.name.as_deref() == Some(used_volume.as_str()))
                    && c.networks.iter().any(|n| n.name == used_net && n.ip.is_some())
            }) && m.volumes.contains_key(&(0, orphan.clone()))
                && m.networks.contains_key(&(0, unused_net.clone()))
        })
        .await;
    let volumes = portolan::ui::panes::volumes::rows(&watch.model, None);
    let used = volumes.iter().find(|v| v.name == used_volume).expect("the used volume");
    assert_eq!(used.users, vec![fx.name("member")]);
    assert!(used.mountpoint.contains(&used_volume), "{used:?}");
    assert!(volumes.iter().find(|v| v.name == orphan).expect("the orphan").orphan());
    let networks = portolan::ui::panes::networks::rows(&watch.model, None);
    let on = networks.iter().find(|n| n.name == used_net).expect("the used network");
    assert_eq!(on.members.len(), 1);
    assert!(on.members[0].1.as_deref().is_some_and(|ip| ip.contains('.')), "{on:?}");
    assert!(!on.subnet.is_empty() && !on.unused());
    let spare = networks.iter().find(|n| n.name == unused_net).expect("the unused network");
    assert!(spare.unused() && spare.internal);
    let bridge = networks.iter().find(|n| n.name == "bridge").expect("the default bridge");
    assert!(!bridge.unused(), "built-in networks are never unused");

    // Removing the orphan and the unused network through the engine side.
    watch.handle.command(EngineCommand::Resource {
        host: 0,
        request: ResourceRequest::RemoveVolumes { names: vec![orphan.clone()] },
    });
    watch.handle.command(EngineCommand::Resource {
        host: 0,
        request: ResourceRequest::RemoveNetworks { names: vec![unused_net.clone()] },
    });
    watch
        .wait("the orphan and the unused network gone", WAIT, |m| {
            !m.volumes.contains_key(&(0, orphan.clone()))
                && !m.networks.contains_key(&(0, unused_net.clone()))
        })
        .await;

    // A pull with no registry to reach fails, and says why in words.
    watch.handle.command(EngineCommand::Resource {
        host: 0,
        request: ResourceRequest::Pull { reference: "127.0.0.1:1/portolan-nope:latest".into() },
    });
    watch
        .wait("the failed pull", WAIT, |m| {
            note(m, ResourceKind::Image).is_some_and(|n| n.error && n.text.contains("pull"))
        })
        .await;
    let failed = note(&watch.model, ResourceKind::Image).unwrap().text.clone();
    assert!(failed.contains("registry could not be reached"), "{failed}");
    assert!(failed.contains("127.0.0.1:1"), "{failed}");
    watch.stop().await;
}
