//! Bulk actions on the real engine: three marked containers stopped with one
//! confirmation through the app, each carried out by the engine and reported; and a
//! read-only session refusing the same.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use portolan::model::ContainerState;
use portolan::ui::App;
use portolan::ui::keymap::{Action, Keymap};
use portolan::ui::overlay::Overlay;
use portolan::ui::panes::PaneId;
use portolan::ui::theme::Theme;
use support::{Fixture, Watch};

const TRAPS: &str = "trap 'exit 0' TERM; while true; do sleep 0.2; done";

fn press(app: &mut App, c: char) {
    app.overlay_key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
}

#[tokio::test]
async fn three_marked_containers_stop_with_one_confirmation() {
    let fixture = Fixture::new("bulk");
    let ids: Vec<String> = ["a", "b", "c"]
        .iter()
        // A shell that ends on TERM: a stop takes a moment, not its 10 s grace.
        .map(|w| fixture.run(w, &[], &["sh", "-c", TRAPS]).trim().to_string())
        .collect();
    let mut watch = Watch::start().await;
    watch
        .wait("the three running", Duration::from_secs(15), |m| {
            ids.iter().all(|id| m.containers.get(id).is_some_and(|c| c.state.is_running()))
        })
        .await;
    let mut app = App::new(
        watch.model.clone(),
        Theme::built_in("dark"),
        Keymap::default(),
        chrono::Utc::now(),
    );
    app.pane = PaneId::Containers;
    app.panes.containers.marked.extend(ids.iter().cloned());

    // Read-only first: nothing is offered, nothing sent.
    app.read_only = true;
    assert!(app.act(Action::Actions));
    assert!(app.overlay.is_none() && app.pending.is_empty());
    assert!(app.notice.as_ref().is_some_and(|n| n.text.starts_with("read-only")));
    app.read_only = false;

    assert!(app.act(Action::Actions));
    press(&mut app, 't');
    match &app.overlay {
        Some(Overlay::Confirm { question, .. }) => {
            for w in ["a", "b", "c"] {
                assert!(question.contains(&fixture.name(w)), "{question}");
            }
        }
        other => panic!("no confirmation: {other:?}"),
    }
    press(&mut app, 'y');
    for command in app.pending.drain(..) {
        watch.handle.command(command);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let stopped = |app: &App| {
        ids.iter().all(|id| {
            app.model.containers.get(id).is_some_and(|c| c.state == ContainerState::Exited)
        })
    };
    while !(stopped(&app) && app.bulk.is_none()) {
        let update = tokio::time::timeout_at(deadline, watch.handle.updates.recv())
            .await
            .expect("the three stopped within 60 s")
            .expect("the supervisor runs");
        app.apply(update);
    }
    let notice = app.notice.clone().expect("a report");
    assert!(!notice.error, "{}", notice.text);
    assert!(notice.text.starts_with("stop 3/3"), "{}", notice.text);
    for w in ["a", "b", "c"] {
        assert!(notice.text.contains(&format!("{} ✓", fixture.name(w))), "{}", notice.text);
    }
    watch.stop().await;
}
