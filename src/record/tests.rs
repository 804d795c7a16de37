use chrono::{TimeZone, Utc};

use super::store::{self, Store, StoreError};
use super::writer::{expire, keep_within_budget};
use super::*;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + seconds, 0).single().unwrap_or_default()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("portolan-record-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_default();
    dir
}

fn open(path: &std::path::Path) -> (Store, store::WriterLock) {
    let lock = store::lock(path).unwrap_or_else(|e| panic!("lock: {e}"));
    let store = Store::open_for_writing(path, &lock).unwrap_or_else(|e| panic!("open: {e}"));
    (store, lock)
}

/// A writer on a new record at `path`, with the default retention.
fn spawn_writer(path: &std::path::Path) -> writer::Writer {
    let (store, lock) = open(path);
    writer::Writer::spawn(store, lock, Retention::default(), "test", |_| {})
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_new_file_is_made_marked_as_portolans_and_read_back() {
    let dir = temp_dir("new");
    let path = dir.join("sub/engine.db");
    let (store, lock) = open(&path);
    drop(store);
    drop(lock);
    let read = Store::open_for_reading(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(read.is_some());
    assert!(
        Store::open_for_reading(&dir.join("absent.db")).unwrap_or_else(|e| panic!("{e}")).is_none()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn someone_elses_file_is_refused_and_left_as_it_was() {
    let dir = temp_dir("foreign");
    let text = dir.join("notes.txt");
    std::fs::write(&text, "my precious notes\n").unwrap_or_default();
    let lock = store::lock(&text).unwrap_or_else(|e| panic!("{e}"));
    let refused = Store::open_for_writing(&text, &lock);
    assert!(matches!(refused, Err(StoreError::NotPortolan { .. })), "{refused:?}");
    assert_eq!(std::fs::read_to_string(&text).unwrap_or_default(), "my precious notes\n");

    let other = dir.join("other.db");
    {
        let conn = rusqlite::Connection::open(&other).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch("CREATE TABLE accounts (id INTEGER); INSERT INTO accounts VALUES (7);")
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let before = std::fs::read(&other).unwrap_or_default();
    let lock = store::lock(&other).unwrap_or_else(|e| panic!("{e}"));
    let refused = Store::open_for_writing(&other, &lock);
    let words = refused.as_ref().map(|_| String::new()).unwrap_or_else(|e| e.to_string());
    assert!(words.contains("not a portolan record") && words.contains("1 tables"), "{words}");
    assert!(std::fs::read(&other).unwrap_or_default() == before, "the file is unchanged");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_damaged_file_says_so() {
    let dir = temp_dir("corrupt");
    let path = dir.join("engine.db");
    {
        let mut writer = spawn_writer(&path);
        let rows = (0..2000).map(|i| Record::Note { at: at(i), text: "x".repeat(200) }).collect();
        writer.send(rows);
        writer.stop();
    }
    // Scribble over the pages after the header, as a failing disk would.
    let mut bytes = std::fs::read(&path).unwrap_or_default();
    assert!(bytes.len() > 8192, "the file holds several pages");
    for b in &mut bytes[4096..8192] {
        *b = 0xAB;
    }
    std::fs::write(&path, &bytes).unwrap_or_default();
    let opened = Store::open_for_reading(&path);
    assert!(
        matches!(opened, Err(StoreError::Corrupt { .. } | StoreError::NotPortolan { .. })),
        "{opened:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_second_writer_is_told_who_holds_the_file() {
    let dir = temp_dir("busy");
    let path = dir.join("engine.db");
    let held = store::lock(&path).unwrap_or_else(|e| panic!("{e}"));
    let second = store::lock(&path);
    let words = second.map(|_| String::new()).unwrap_or_else(|e| e.to_string());
    assert!(
        words.contains("another portolan")
            && words.contains(&format!("pid {}", std::process::id())),
        "{words}"
    );
    drop(held);
    assert!(store::lock(&path).is_ok(), "released with its holder");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn problems_open_close_and_survive_a_new_writer() {
    let dir = temp_dir("problems");
    let path = dir.join("engine.db");
    let row = ProblemRow {
        kind: "unhealthy".into(),
        container_id: "abc".into(),
        container: "db".into(),
        project: Some("shop".into()),
        started_at: at(10),
        reconstructed: false,
        detail: "probe failed".into(),
    };
    {
        let mut writer = spawn_writer(&path);
        writer.send(vec![Record::ProblemOpened(row.clone())]);
        writer.stop();
    }
    let store =
        Store::open_for_reading(&path).unwrap_or_default().unwrap_or_else(|| panic!("written"));
    assert_eq!(read::open_problems(&store).unwrap_or_default(), vec![row.clone()]);
    drop(store);
    {
        let mut writer = spawn_writer(&path);
        writer.send(vec![Record::ProblemClosed {
            kind: "unhealthy".into(),
            container_id: "abc".into(),
            ended_at: at(70),
        }]);
        writer.stop();
    }
    let store =
        Store::open_for_reading(&path).unwrap_or_default().unwrap_or_else(|| panic!("written"));
    assert!(read::open_problems(&store).unwrap_or_default().is_empty());
    let history = read::history(&store, at(0), at(100)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(history.incidents.len(), 1);
    assert_eq!(history.incidents[0].started_at, at(10));
    assert_eq!(history.incidents[0].ended_at, Some(at(70)));
    let _ = std::fs::remove_dir_all(dir);
}

/// A stats row of container `id` with these figures (received bytes: `traffic`).
fn stats_of(tier: Tier, id: &str, second: i64, cpu: f64, memory: u64, traffic: u64) -> Record {
    Record::Stats(StatsRow {
        tier,
        container_id: id.into(),
        at: at(second),
        cpu_percent: Some(cpu),
        memory_bytes: Some(memory),
        memory_limit_bytes: None,
        net_rx_bytes: Some(traffic),
        net_tx_bytes: Some(0),
        block_read_bytes: Some(0),
        block_write_bytes: Some(0),
        pids: Some(1),
    })
}

/// One of fifty containers' rows, the same figures each second.
fn stats_row(tier: Tier, second: i64) -> Record {
    stats_of(tier, &format!("c{}", second % 50), second, 1.5, 1 << 20, 10)
}

#[test]
fn retention_drops_each_tier_after_its_own_span() {
    let dir = temp_dir("retention");
    let path = dir.join("engine.db");
    let mut writer = spawn_writer(&path);
    let now = at(100_000);
    writer.send(vec![
        stats_row(Tier::Sample, 100_000 - 7200),
        stats_row(Tier::Sample, 100_000 - 60),
        stats_row(Tier::TenSeconds, 100_000 - 7200),
    ]);
    writer.stop();
    let lock = store::lock(&path).unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open_for_writing(&path, &lock).unwrap_or_else(|e| panic!("{e}"));
    expire(&store, &Retention::default(), now).unwrap_or_else(|e| panic!("{e}"));
    let count = |tier: Tier| -> i64 {
        store
            .conn
            .query_row("SELECT count(*) FROM stats WHERE tier = ?1", [tier.number()], |r| r.get(0))
            .unwrap_or(-1)
    };
    assert_eq!(count(Tier::Sample), 1, "the two-hour-old sample is gone, the recent one kept");
    assert_eq!(count(Tier::TenSeconds), 1, "ten-second averages are kept for a day");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_budget_holds_by_dropping_the_oldest_and_says_so() {
    let dir = temp_dir("budget");
    let path = dir.join("engine.db");
    let mut writer = spawn_writer(&path);
    // The oldest megabytes are log excerpts: they go first too.
    let excerpts = (0..20)
        .map(|i| {
            Record::Excerpt(Box::new(crate::model::Excerpt {
                id: "c1".into(),
                name: "app".into(),
                at: at(i),
                reason: "die".into(),
                before: vec!["x".repeat(500); 200],
                after: Vec::new(),
            }))
        })
        .collect();
    writer.send(excerpts);
    for chunk in 0..20 {
        writer.send((0..2000).map(|i| stats_row(Tier::Sample, chunk * 2000 + i)).collect());
    }
    writer.stop();
    let lock = store::lock(&path).unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open_for_writing(&path, &lock).unwrap_or_else(|e| panic!("{e}"));
    let before = store.bytes_on_disk();
    let vacuum: i64 = store.conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).unwrap_or(-1);
    assert_eq!(vacuum, 2, "incremental");
    let budget = 1024 * 1024;
    assert!(before > budget, "the test writes more than the budget: {before}");
    let note = keep_within_budget(&store, budget, at(40_000)).unwrap_or_else(|e| panic!("{e}"));
    assert!(store.bytes_on_disk() <= budget, "{} > {budget}", store.bytes_on_disk());
    let note = note.unwrap_or_default();
    assert!(note.contains("dropped to keep the file within its budget of 1 MiB"), "{note}");
    let newest: i64 =
        store.conn.query_row("SELECT max(at) FROM stats", [], |r| r.get(0)).unwrap_or(0);
    assert_eq!(newest, at(39_999).timestamp(), "the newest records are kept");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn file_names_are_readable_and_distinct() {
    let local =
        default_path("unix:///var/run/docker.sock", None, Some("/home/ops")).unwrap_or_default();
    assert!(local.starts_with("/home/ops/.local/state/portolan"));
    let name = local.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    assert!(name.starts_with("unix-var-run-docker.sock-") && name.ends_with(".db"), "{name}");
    let other =
        default_path("tcp://10.0.0.5:2376", Some("/state"), Some("/home/ops")).unwrap_or_default();
    assert!(other.starts_with("/state/portolan"));
    assert_ne!(local.file_name(), other.file_name());
    assert!(default_path("x", None, None).is_none());
}

mod recorder {
    use super::at;
    use crate::model::since::{RecordedStart, Since, prefer_recorded};
    use crate::model::{
        Container, ContainerState, Health, HealthProbe, HealthStatus, Inventory, Model, Update,
    };
    use crate::record::{ProblemRow, Record, Recorder};

    fn sick(id: &str, first_failure: i64, streak: u64) -> Container {
        let mut c = Container::new(id, format!("app-{id}"));
        c.state = ContainerState::Running;
        c.started_at = Some(at(0));
        let log = (0..streak.min(5))
            .map(|i| {
                let start =
                    at(first_failure + (streak.saturating_sub(streak.min(5)) + i) as i64 * 5);
                HealthProbe {
                    start: Some(start),
                    end: Some(start),
                    exit_code: Some(1),
                    output: "down".into(),
                }
            })
            .collect();
        c.health = Some(Health { status: HealthStatus::Unhealthy, failing_streak: streak, log });
        c
    }

    fn feed(model: &mut Model, recorder: &mut Recorder, update: Update, out: &mut Vec<Record>) {
        recorder.observe(&update, model, at(1000), out);
        model.apply(update);
        recorder.after_apply(model, out);
    }

    #[test]
    fn nothing_is_opened_or_closed_before_the_inventory_is_read() {
        let mut model = Model::new("x", at(0));
        let carried = ProblemRow {
            kind: "unhealthy".into(),
            container_id: "gone".into(),
            container: "app-gone".into(),
            project: None,
            started_at: at(5),
            reconstructed: false,
            detail: String::new(),
        };
        let mut recorder = Recorder::new(0, vec![carried]);
        let mut out = Vec::new();
        feed(
            &mut model,
            &mut recorder,
            Update::Connected { at: at(100), info: Box::default() },
            &mut out,
        );
        recorder.tick(&model, at(101), &mut out);
        assert!(!out.iter().any(|r| matches!(r, Record::ProblemClosed { .. })), "{out:?}");
        let inventory = Inventory { containers: vec![sick("a", 50, 3)], ..Inventory::default() };
        feed(&mut model, &mut recorder, Update::Synced(Box::new(inventory)), &mut out);
        out.clear();
        recorder.tick(&model, at(102), &mut out);
        let opened: Vec<_> = out
            .iter()
            .filter_map(|r| if let Record::ProblemOpened(p) = r { Some(p) } else { None })
            .collect();
        assert_eq!(opened.len(), 1);
        assert_eq!(opened[0].started_at, at(50), "the start of the failing streak");
        assert!(out.iter().any(
            |r| matches!(r, Record::ProblemClosed { container_id, .. } if container_id == "gone")
        ));
        out.clear();
        recorder.tick(&model, at(103), &mut out);
        assert!(out.is_empty(), "an open problem is written once: {out:?}");
    }

    #[test]
    fn probes_are_written_once_each() {
        let mut model = Model::new("x", at(0));
        let mut recorder = Recorder::new(0, Vec::new());
        let mut out = Vec::new();
        feed(
            &mut model,
            &mut recorder,
            Update::ContainerChanged(Box::new(sick("a", 50, 3))),
            &mut out,
        );
        feed(
            &mut model,
            &mut recorder,
            Update::ContainerChanged(Box::new(sick("a", 50, 4))),
            &mut out,
        );
        let probes = out.iter().filter(|r| matches!(r, Record::Probe(_))).count();
        assert_eq!(probes, 4, "three, then the one new probe: {out:?}");
    }

    #[test]
    fn a_carried_problem_that_began_again_unseen_is_a_new_incident() {
        let mut model = Model::new("x", at(0));
        let carried = ProblemRow {
            kind: "unhealthy".into(),
            container_id: "a".into(),
            container: "app-a".into(),
            project: None,
            started_at: at(5),
            reconstructed: false,
            detail: String::new(),
        };
        let mut recorder = Recorder::new(0, vec![carried]);
        let mut out = Vec::new();
        feed(
            &mut model,
            &mut recorder,
            Update::Connected { at: at(100), info: Box::default() },
            &mut out,
        );
        let inventory = Inventory { containers: vec![sick("a", 300, 3)], ..Inventory::default() };
        feed(&mut model, &mut recorder, Update::Synced(Box::new(inventory)), &mut out);
        out.clear();
        recorder.tick(&model, at(400), &mut out);
        assert!(
            matches!(&out[0], Record::ProblemClosed { ended_at, .. } if *ended_at == at(300)),
            "{out:?}"
        );
        assert!(matches!(&out[1], Record::ProblemOpened(p) if p.started_at == at(300)), "{out:?}");
    }

    #[test]
    fn the_record_wins_only_for_what_this_session_did_not_see_begin() {
        let recorded = RecordedStart {
            kind: "unhealthy".into(),
            container_id: "a".into(),
            since: Since::exact(at(100)),
            watched_until: at(500),
        };
        let watching = Some(at(400));
        // Reconstructed now (~250), seen exactly by the record: the record.
        assert_eq!(
            prefer_recorded(Some(Since::reconstructed(at(250))), Some(&recorded), watching),
            Some(Since::exact(at(100)))
        );
        // Seen beginning in this session: this session.
        assert_eq!(
            prefer_recorded(Some(Since::exact(at(450))), Some(&recorded), watching),
            Some(Since::exact(at(450)))
        );
        // Began after the record stopped watching: not the record's problem.
        assert_eq!(
            prefer_recorded(Some(Since::reconstructed(at(600))), Some(&recorded), watching),
            Some(Since::reconstructed(at(600)))
        );
        // No record: unchanged.
        assert_eq!(
            prefer_recorded(Some(Since::exact(at(7))), None, watching),
            Some(Since::exact(at(7)))
        );
    }
}

#[test]
fn a_span_is_read_back_per_container_and_summed_for_its_project() {
    use crate::model::stats::ChartSpan;
    let dir = temp_dir("series");
    let path = dir.join("engine.db");
    let now = at(10_000);
    let mut writer = spawn_writer(&path);
    let row = |id: &str, second: i64, cpu: f64, memory: u64, traffic: u64| {
        stats_of(Tier::Sample, id, second, cpu, memory, traffic)
    };
    let mut rows = Vec::new();
    // Half an hour ago to now: a at 10 % and 100 MB, b at 30 % and 50 MB, a sending
    // 1000 bytes a second.
    for s in (10_000 - 1800..=10_000).step_by(10) {
        rows.push(row("a", s, 10.0, 100_000_000, ((s - 8200) * 1000) as u64));
        rows.push(row("b", s, 30.0, 50_000_000, 0));
    }
    // Before the span: not read.
    rows.push(row("a", 10_000 - 7200, 99.0, 1, 0));
    writer.send(rows);
    writer.stop();
    let store =
        Store::open_for_reading(&path).unwrap_or_default().unwrap_or_else(|| panic!("written"));
    let project = vec!["a".to_string(), "b".to_string()];
    let (own, all, read) =
        read::series(&store, "a", &project, ChartSpan::Hour, now).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read, 2 * 181, "both containers' rows in the hour, not the older one");
    let last = read::SERIES_BUCKETS - 1;
    assert!((own[0][last] - 10.0).abs() < 0.01, "cpu {}", own[0][last]);
    assert!((all[0][last] - 40.0).abs() < 0.01, "project cpu {}", all[0][last]);
    assert!((all[1][last] - 150_000_000.0).abs() < 1.0, "project memory {}", all[1][last]);
    assert!((own[2][last] - 1000.0).abs() < 0.01, "net rate {}", own[2][last]);
    assert_eq!(own[0][0], 0.0, "nothing recorded in the span's first half");
    let _ = std::fs::remove_dir_all(dir);
}

/// A writer's file after `records`, committed.
fn written(name: &str, records: Vec<Record>) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = temp_dir(name);
    let path = dir.join("engine.db");
    let mut writer = spawn_writer(&path);
    writer.send(records);
    writer.stop();
    (dir, path)
}

fn container(id: &str, state: crate::model::ContainerState) -> Container {
    let mut c = Container::new(id, format!("app-{id}"));
    c.image = "busybox".into();
    c.state = state;
    c.networks.push(crate::model::NetworkAttachment {
        name: "net".into(),
        ip: None,
        aliases: Vec::new(),
    });
    c
}

#[test]
fn a_moment_is_rebuilt_from_the_frames_before_it() {
    use crate::model::{ContainerState, Network};
    let mut framer = frames::Framer::default();
    let mut rows = Vec::new();
    framer.network(&Network { name: "net".into(), ..Network::default() }, at(10), &mut rows);
    framer.container(&container("a", ContainerState::Running), at(10), &mut rows);
    framer.container(&container("b", ContainerState::Running), at(10), &mut rows);
    framer.container(&container("a", ContainerState::Exited), at(20), &mut rows);
    framer.container_removed("b", at(30), &mut rows);
    let records = rows.into_iter().map(Record::Frame).collect();
    let (dir, path) = written("moment", records);
    let store = Store::open_for_reading(&path).ok().flatten().unwrap_or_else(|| panic!("opens"));
    let state = |t: i64| -> Vec<(String, ContainerState)> {
        let moment = read::moment(&store, at(t)).unwrap_or_else(|e| panic!("{e}"));
        moment.containers.iter().map(|c| (c.id.clone(), c.state)).collect()
    };
    assert!(state(5).is_empty(), "nothing before the first frame");
    assert_eq!(
        state(15),
        vec![("a".into(), ContainerState::Running), ("b".into(), ContainerState::Running)]
    );
    assert_eq!(
        state(25),
        vec![("a".into(), ContainerState::Exited), ("b".into(), ContainerState::Running)]
    );
    assert_eq!(state(35), vec![("a".into(), ContainerState::Exited)], "b was removed");
    let moment = read::moment(&store, at(15)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(moment.networks.len(), 1);
    let model = read::model_at(&Model::new("x", at(0)).hosts, vec![(0, moment)], at(15));
    assert_eq!(model.network_members(0, "net"), vec!["app-a", "app-b"]);
    // Retention keeps the newest frame before its cutoff: the state then.
    expire(&store, &Retention { incidents: Duration::seconds(0), ..Retention::default() }, at(26))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        state(27),
        vec![("a".into(), ContainerState::Exited), ("b".into(), ContainerState::Running)]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_new_session_writes_only_what_changed_since_the_last() {
    use crate::model::ContainerState;
    let mut framer = frames::Framer::default();
    let mut rows = Vec::new();
    framer.container(&container("a", ContainerState::Running), at(10), &mut rows);
    let (dir, path) = written("sessions", rows.into_iter().map(Record::Frame).collect());
    let store = Store::open_for_reading(&path).ok().flatten().unwrap_or_else(|| panic!("opens"));
    let known = read::newest_frames(&store).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(known.len(), 2);
    let mut framer = frames::Framer::with_known(known);
    let mut rows = Vec::new();
    framer.container(&container("a", ContainerState::Running), at(50), &mut rows);
    assert!(rows.is_empty(), "{rows:?}");
    framer.absent(frames::FrameKind::Container, &Default::default(), at(50), &mut rows);
    assert_eq!(rows.len(), 1, "gone while nobody recorded: {rows:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_timeline_reads_older_events_back_page_by_page() {
    let event = |second: i64, action: &str| {
        Record::Event(EventRow {
            at: at(second),
            scope: "container",
            subject_id: "a".into(),
            name: "app-a".into(),
            project: None,
            service: None,
            action: action.into(),
            detail: (action == "die").then(|| "1".to_string()),
        })
    };
    let records = vec![event(1, "start"), event(2, "die"), event(3, "start"), event(9, "die")];
    let (dir, path) = written("older", records);
    let store = Store::open_for_reading(&path).ok().flatten().unwrap_or_else(|| panic!("opens"));
    let (events, exhausted) =
        read::events_before(&store, at(9), 2).unwrap_or_else(|e| panic!("{e}"));
    let seconds: Vec<i64> = events.iter().map(|e| e.at.timestamp() - 1_700_000_000).collect();
    assert_eq!((seconds, exhausted), (vec![2, 3], false), "the newest two before, oldest first");
    let mut model = Model::new("x", at(0));
    model.apply(Update::RecordedEvents { events, exhausted });
    let (events, exhausted) =
        read::events_before(&store, at(2), 2).unwrap_or_else(|e| panic!("{e}"));
    assert!(exhausted);
    model.apply(Update::RecordedEvents { events, exhausted });
    let log: Vec<(i64, String)> = model
        .history
        .timeline
        .iter()
        .map(|e| (e.time.timestamp() - 1_700_000_000, format!("{} {}", e.event, e.detail)))
        .collect();
    assert_eq!(
        log,
        vec![(1, "start ".into()), (2, "die exit 1".into()), (3, "start ".into())],
        "in order, as the live log words them"
    );
    assert!(model.history.recorded_exhausted);
    assert_eq!(model.history.recorded_before, Some(at(1)));
    let _ = std::fs::remove_dir_all(dir);
}
