use super::*;
use crate::model::ContainerState;
use crate::topology::fixtures;

/// The app on `pane` over the NestJS stack, with its first two containers exited
/// with code 1, so triage has two problems to select.
fn app_on(pane: PaneId) -> App {
    let mut model = fixtures::seed("000-nestjs-postgres-redis").expect("seed");
    let ids: Vec<String> = model.containers.keys().take(2).cloned().collect();
    for id in &ids {
        let mut dead = model.containers[id].clone();
        dead.state = ContainerState::Exited;
        dead.exit_code = Some(1);
        model.apply(Update::ContainerChanged(Box::new(dead)));
    }
    let mut app = App::new(model, Theme::built_in("dark"), Keymap::default(), fixtures::now());
    app.pane = pane;
    app.set_project(None);
    app
}

#[test]
fn keys_select_from_the_panes_rows_without_a_frame_drawn() {
    let mut app = app_on(PaneId::Triage);
    // Nothing was ever drawn: the rows come from the model, not from a render.
    assert!(app.act(Action::Down));
    let problems = app.derived.problems(&app.model, None, app.now);
    assert_eq!(problems.len(), 2);
    assert_eq!(app.selected_container(), Some(problems[1].container_id.as_str()));
    assert!(app.act(Action::Top));
    assert_eq!(app.selected_container(), Some(problems[0].container_id.as_str()));
    assert_eq!(app.problem_count, 2, "the tab bar counts from the same memo");
}

#[test]
fn the_view_on_top_takes_an_action_first_then_the_pane_then_the_app() {
    let mut app = app_on(PaneId::Containers);
    let first = app.selected_container().map(String::from).expect("a selection");
    assert!(app.act(Action::Inspect));
    assert!(app.inspect.is_some());
    // Down moves inside the tree, not the list under it.
    assert!(app.act(Action::Down));
    assert_eq!(app.selected_container(), Some(first.as_str()));
    assert!(app.act(Action::Back), "Esc closes the tree");
    assert!(app.inspect.is_none());
    // With nothing of the pane's to undo, Esc is the app's: it clears the project.
    app.set_project(Some("nestjs".into()));
    assert!(app.act(Action::Back));
    assert_eq!(app.project, None);
    assert!(!app.act(Action::Back), "nothing left to go back from");
}

#[test]
fn a_pane_that_takes_esc_keeps_it_from_the_app() {
    let mut app = app_on(PaneId::Containers);
    app.set_project(Some("nestjs".into()));
    assert!(app.act(Action::ToggleDetail), "Enter shows the detail full-size");
    assert!(app.panes.containers.detail_full);
    assert!(app.act(Action::Back));
    assert!(!app.panes.containers.detail_full, "Esc closed the detail…");
    assert_eq!(app.project.as_deref(), Some("nestjs"), "…and left the filter alone");
    // The logs pane's Esc clears its own search state, and never the project.
    app.pane = PaneId::Logs;
    assert!(!app.act(Action::Back));
    assert_eq!(app.project.as_deref(), Some("nestjs"));
}

#[test]
fn tab_passes_by_a_pane_without_a_tab_and_number_keys_find_their_pane() {
    let mut app = app_on(PaneId::Audit);
    assert!(app.model.swarm.is_none());
    assert!(app.act(Action::NextPane));
    assert_eq!(app.pane, PaneId::Images, "no swarm: its pane is passed by");
    assert!(app.act(Action::PrevPane));
    assert_eq!(app.pane, PaneId::Audit);
    assert!(app.act(Action::Pane4));
    assert_eq!(app.pane, PaneId::Stats);
    assert!(!app.act(Action::Pane4), "already there");
    assert!(app.act(Action::Pane0));
    assert_eq!(app.pane, PaneId::Audit);
    assert!(app.act(Action::PaneSwarm), "a key still shows it, to say there is no swarm");
    assert_eq!(app.pane, PaneId::Swarm);
}

#[test]
fn the_selection_travels_with_the_operator() {
    let mut app = app_on(PaneId::Stats);
    assert!(app.act(Action::Down));
    let picked = app.selected_container().map(String::from).expect("a selection");
    assert!(app.act(Action::Pane3));
    assert_eq!(app.panes.containers.selected_id(), Some(picked.as_str()));
    assert!(app.act(Action::Pane7));
    assert_eq!(app.selected_container(), Some(picked.as_str()), "the timeline has it too");
    // Enter on any pane's selection opens its detail in the containers pane.
    assert!(app.act(Action::ToggleDetail));
    assert_eq!(app.pane, PaneId::Containers);
    assert!(app.panes.containers.detail_full);
    assert_eq!(app.selected_container(), Some(picked.as_str()));
}

#[test]
fn a_text_field_takes_raw_keys_and_ctrl_c_still_quits() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = app_on(PaneId::Logs);
    assert!(app.act(Action::Search));
    assert!(app.text_input_active());
    assert!(app.text_input(&KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)));
    assert!(!app.quit, "q is typed, not a quit");
    assert!(app.text_input(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
    assert!(app.quit);
}

fn processes(id: &str) -> Update {
    use crate::model::processes::{ProcessRow, ProcessTable};
    let row = |pid: u32, command: &str| ProcessRow {
        pid,
        ppid: Some(1),
        user: None,
        cpu_percent: None,
        rss_bytes: None,
        elapsed: None,
        command: command.into(),
    };
    Update::Processes(Box::new(ProcessTable {
        id: id.into(),
        rows: vec![row(101, "node main.js"), row(102, "sleep 1000")],
        host_proc: true,
        error: None,
    }))
}

fn key(c: char) -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char(c),
        crossterm::event::KeyModifiers::NONE,
    )
}

#[test]
fn processes_are_read_only_while_the_pane_is_open_and_a_signal_is_asked_first() {
    use crate::model::processes::{KillResult, Signal};
    let mut app = app_on(PaneId::Containers);
    let running = app
        .model
        .containers
        .values()
        .find(|c| c.state.is_running())
        .map(|c| c.id.clone())
        .expect("a running container");
    app.panes.containers.select(&running);
    assert!(app.act(Action::PaneProcesses));
    assert_eq!(app.pane, PaneId::Processes);
    assert!(
        matches!(app.pending.last(), Some(EngineCommand::Processes(Some(r))) if r.container == running),
        "opening the pane asks for the selection's processes: {:?}",
        app.pending
    );
    app.apply(processes(&running));
    assert!(app.model.processes.is_some());
    app.apply(processes("someone-else"));
    assert_eq!(
        app.model.processes.as_ref().map(|t| t.id.as_str()),
        Some(running.as_str()),
        "a read for another container is not shown"
    );

    // Read-only: refused before any question.
    app.read_only = true;
    app.pending.clear();
    assert!(app.act(Action::KillProcess));
    assert!(app.overlay.is_none());
    assert!(app.notice.as_ref().is_some_and(|n| n.error && n.text.contains("read-only")));
    assert!(app.pending.is_empty());

    // Asked, another signal picked, then cancelled: nothing sent.
    app.read_only = false;
    assert!(app.act(Action::Down));
    assert!(app.act(Action::KillProcess));
    assert!(matches!(&app.overlay, Some(Overlay::Kill(ask)) if ask.pid == 102));
    app.overlay_key(&key('k'));
    app.overlay_key(&key('n'));
    assert!(app.overlay.is_none() && app.pending.is_empty());

    // Asked again: KILL picked, then sent.
    assert!(app.act(Action::KillProcess));
    app.overlay_key(&key('k'));
    app.overlay_key(&key('y'));
    assert!(
        matches!(app.pending.last(), Some(EngineCommand::KillProcess(ask))
            if ask.pid == 102 && ask.signal == Signal::Kill && ask.id == running),
        "{:?}",
        app.pending
    );
    app.apply(Update::ProcessSignalled(Box::new(KillResult {
        at: fixtures::now(),
        container: "api".into(),
        pid: 102,
        signal: Signal::Kill,
        error: Some("killing a process needs the engine on this machine".into()),
    })));
    let notice = app.notice.clone().expect("a notice");
    assert!(notice.error && notice.text.contains("needs the engine on this machine"), "{notice:?}");

    // Leaving stops the reading and forgets the list.
    app.pending.clear();
    assert!(app.act(Action::Pane3));
    assert!(
        matches!(app.pending.last(), Some(EngineCommand::Processes(None))),
        "{:?}",
        app.pending
    );
    assert!(app.model.processes.is_none());
}

#[test]
fn the_ports_key_asks_the_engine_only_for_published_ports_and_read_only_allows_it() {
    let mut app = app_on(PaneId::Triage);
    app.read_only = true;
    app.sync();
    let id = app.selected_container().map(String::from).expect("a selection");
    let mut unpublished = app.model.containers[&id].clone();
    unpublished.ports.retain(|p| !p.is_published());
    app.apply(Update::ContainerChanged(Box::new(unpublished.clone())));
    app.pending.clear();
    assert!(app.act(Action::CheckPorts));
    assert!(app.pending.is_empty(), "nothing to dial");
    let notice = app.notice.clone().expect("a notice");
    assert!(notice.error && notice.text.contains("publishes no ports"), "{notice:?}");

    let mut published = unpublished;
    published.ports.push(crate::model::Port {
        host_ip: Some("0.0.0.0".into()),
        host_port: Some(8080),
        container_port: 80,
        protocol: "tcp".into(),
    });
    app.apply(Update::ContainerChanged(Box::new(published)));
    app.pending.clear();
    assert!(app.act(Action::CheckPorts));
    let asked: Vec<&PortCheckRequest> = app
        .pending
        .iter()
        .filter_map(|c| match c {
            EngineCommand::CheckPorts(request) => Some(request),
            _ => None,
        })
        .collect();
    assert_eq!(asked.len(), 1);
    assert_eq!((asked[0].id.as_str(), asked[0].ports.len()), (id.as_str(), 1));
    assert_eq!(app.pane, PaneId::Containers, "the detail opens where the answers show");
    assert!(app.panes.containers.detail_full);
    assert!(app.model.port_checks[&id].checking_since.is_some());

    // The answers end the wait and reach the footer; a late answer for a container
    // nobody asked about is dropped.
    let check = crate::model::ports::PortCheck {
        id: id.clone(),
        at: app.now,
        vantage: crate::model::ports::Vantage::Local,
        probes: vec![],
    };
    let stray = crate::model::ports::PortCheck { id: "nobody".into(), ..check.clone() };
    assert_eq!(app.apply(Update::PortsChecked(Box::new(stray))), Redraw::No);
    assert_eq!(app.apply(Update::PortsChecked(Box::new(check))), Redraw::Now);
    assert!(app.model.port_checks[&id].checking_since.is_none());
    assert!(app.notice.as_ref().is_some_and(|n| n.text.starts_with("ports of ")));
}

#[test]
fn a_shell_opens_in_a_tab_takes_the_keys_and_read_only_refuses_it() {
    let mut app = app_on(PaneId::Containers);
    let running = app
        .model
        .containers
        .values()
        .find(|c| c.state.is_running())
        .map(|c| c.id.clone())
        .expect("a running container");
    app.panes.containers.select(&running);

    app.read_only = true;
    assert!(app.act(Action::OpenShell));
    assert!(app.notice.as_ref().is_some_and(|n| n.error && n.text.contains("read-only")));
    assert!(app.pending.is_empty(), "nothing asked of the engine");
    assert!(app.panes.shell.sessions().is_empty());

    app.read_only = false;
    assert!(app.act(Action::OpenShell));
    assert_eq!(app.pane, PaneId::Shell);
    let request = app.pending.iter().find_map(|c| match c {
        EngineCommand::OpenShell(request) => Some(request.clone()),
        _ => None,
    });
    let request = request.expect("the engine is asked for a shell");
    assert_eq!(request.container, running);
    assert_eq!(request.preferred.as_deref(), Some("bash"), "the configured shell comes first");

    // The shell has every key but one from the start; what is typed before it runs
    // reaches it once it does.
    assert!(app.text_input_active());
    app.text_input(&key('q'));
    app.flush_shells();
    assert!(!app.quit, "q went to the shell");
    let (input, mut typed) = tokio::sync::mpsc::unbounded_channel();
    app.shell_event(ShellEvent::Started {
        session: request.session,
        shell: "/bin/sh".into(),
        input,
    });
    app.text_input(&key('w'));
    app.flush_shells();
    assert_eq!(typed.try_recv().ok(), Some(ShellInput::Bytes(b"q".to_vec())));
    assert_eq!(typed.try_recv().ok(), Some(ShellInput::Bytes(b"w".to_vec())));
    let ctrl_bracket = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('5'),
        crossterm::event::KeyModifiers::CONTROL,
    );
    app.text_input(&ctrl_bracket);
    assert!(!app.text_input_active(), "ctrl-] took the keys back");
    app.flush_shells();
    assert!(typed.try_recv().is_err(), "ctrl-] never reaches the shell");

    // Its exit is said, and the keys stay portolan's.
    app.shell_event(ShellEvent::Ended {
        session: request.session,
        end: crate::engine::shell::ShellEnd::Exited(Some(3)),
    });
    assert!(!app.act(Action::ShellFocus) || !app.text_input_active());
    assert!(app.notice.as_ref().is_some_and(|n| n.text.contains("has ended")));
}

#[test]
fn the_span_key_typed_with_shift_reaches_the_stats_pane_under_a_project_filter() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = app_on(PaneId::Stats);
    let project = app.model.containers.values().find_map(|c| c.project().map(String::from));
    app.set_project(project);
    let key = KeyEvent::new(KeyCode::Char('>'), KeyModifiers::SHIFT);
    let action = app.keymap.action(&key);
    assert_eq!(action, Some(Action::ChartSpan));
    app.act(Action::ChartSpan);
    assert_eq!(app.panes.stats.span, crate::model::stats::ChartSpan::Hour);
}
