//! The flight recorder on the real engine: faults made for real while `portolan
//! record` runs, then read back after the fact, after a `kill -9`, beside a second
//! writer, and against files that are not a record or a disk that is full.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use support::{Fixture, docker_ok};

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("portolan-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `portolan record` in the background, its stderr in a file.
struct Recorder {
    child: Child,
    stderr: PathBuf,
}

impl Recorder {
    /// A recorder that finds its file as the UI does, under the state directory.
    fn start_in(state: &Path) -> Recorder {
        let stderr = state.join(format!("recorder-{}.stderr", rand_suffix()));
        let child = Command::new(env!("CARGO_BIN_EXE_portolan"))
            .arg("record")
            .env("XDG_STATE_HOME", state)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Recorder { child, stderr }
    }

    fn start(db: &Path, extra: &[&str]) -> Recorder {
        let stderr = db.with_extension(format!("stderr-{}", rand_suffix()));
        let child = Command::new(env!("CARGO_BIN_EXE_portolan"))
            .arg("record")
            .arg("--db")
            .arg(db)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Recorder { child, stderr }
    }

    fn said(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn wait_said(&self, what: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.said().contains(what) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the recorder did not say {what:?} within {limit:?}; it said:\n{}", self.said());
    }

    fn kill9(&mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the recorder did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

fn portolan(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portolan")).args(args).env_remove("NO_COLOR").output().unwrap()
}

/// One scrape of a recorder's metrics endpoint, as Prometheus would make it.
fn scrape(address: &str) -> String {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    body.to_string()
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text.trim()).unwrap().with_timezone(&Utc)
}

fn inspect(name: &str, format: &str) -> String {
    docker_ok(&["inspect", "-f", format, name]).trim().to_string()
}

fn seconds_apart(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    ((a - b).num_milliseconds() as f64 / 1000.0).abs()
}

#[test]
fn a_recorder_gives_true_since_last_words_and_survives_kill_9() {
    let fx = Fixture::new("record");
    let dir = temp_dir("record");
    let db = dir.join("engine.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics = format!("127.0.0.1:{port}");
    let mut recorder = Recorder::start(&db, &["--metrics", &metrics]);
    recorder.wait_said("recording to", Duration::from_secs(20));
    recorder.wait_said("engine answers", Duration::from_secs(20));

    let started = Utc::now().timestamp() - 2;
    let sick = fx.name("sick");
    fx.run(
        "sick",
        &[
            "--health-cmd",
            "echo db-unreachable; exit 2",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
        ],
        &["sleep", "600"],
    );
    let looping = fx.name("loop");
    fx.run("loop", &["--restart", "unless-stopped"], &["sh", "-c", "echo boom; exit 1"]);
    let hog = fx.name("hog");
    fx.run(
        "hog",
        &["--memory", "16m", "--memory-swap", "16m"],
        &["sh", "-c", "x=aaaaaaaaaa; while true; do x=$x$x; done"],
    );
    let doomed = fx.name("doomed");
    fx.run("doomed", &[], &[
            "sh",
            "-c",
            "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done; echo last-words-of-doomed; exit 4",
        ]);

    // The truth, read off the engine while it still has it: the first failing probe
    // (the engine keeps only five), and the loop's second start (its first restart)
    // from the engine's own events.
    let mut sick_truth = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    while sick_truth.is_none() && Instant::now() < deadline {
        let first = inspect(
            &sick,
            "{{with .State.Health}}{{range $i, $p := .Log}}{{if eq $i 0}}{{$p.Start.Format \"2006-01-02T15:04:05.999999999Z07:00\"}}{{end}}{{end}}{{end}}",
        );
        if !first.is_empty() {
            sick_truth = Some(time(&first));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let sick_truth = sick_truth.expect("the sick container's first probe");
    std::thread::sleep(Duration::from_secs(2));
    let until = (Utc::now().timestamp() + 1).to_string();
    let container = format!("container={looping}");
    let starts = docker_ok(&[
        "events",
        "--since",
        &started.to_string(),
        "--until",
        &until,
        "--filter",
        &container,
        "--filter",
        "event=start",
        "--format",
        "{{.TimeNano}}",
    ]);
    let starts: Vec<i64> = starts.split_whitespace().filter_map(|t| t.parse().ok()).collect();
    assert!(starts.len() >= 2, "the loop restarted: {starts:?}");
    let loop_truth = DateTime::from_timestamp_nanos(starts[1]);

    // The doomed container dies, is seen dying, and is removed.
    let deadline = Instant::now() + Duration::from_secs(20);
    while inspect(&doomed, "{{.State.Status}}") != "exited" {
        assert!(Instant::now() < deadline, "doomed did not exit");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    docker_ok(&["rm", "-f", &doomed]);

    // Long enough that the engine alone can no longer say when `sick` began.
    std::thread::sleep(Duration::from_secs(9));

    // The metrics a Prometheus would scrape: valid to its own parser, and true.
    let scraped = scrape(&metrics);
    let check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (scripts/setup installs Debian's prometheus package)");
    let mut check = check;
    std::io::Write::write_all(check.stdin.as_mut().unwrap(), scraped.as_bytes()).unwrap();
    let checked = check.wait_with_output().unwrap();
    assert!(
        checked.status.success() && checked.stdout.is_empty() && checked.stderr.is_empty(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let series = |prefix: &str| {
        scraped.lines().find(|l| l.starts_with(prefix)).map(str::to_string).unwrap_or_default()
    };
    assert!(
        series(&format!("portolan_container_health{{engine=\"local\",container=\"{sick}\",project=\"\",service=\"\",status=\"unhealthy\"}}"))
            .ends_with(" 1"),
        "{scraped}"
    );
    let restarts = series(&format!(
        "portolan_container_restarts_total{{engine=\"local\",container=\"{looping}\""
    ));
    let restarts: f64 = restarts.rsplit(' ').next().unwrap_or("0").parse().unwrap_or(0.0);
    assert!(restarts >= 2.0, "{scraped}");
    let cpu = format!("portolan_container_cpu_percent{{engine=\"local\",container=\"{sick}\"");
    assert!(!series(&cpu).is_empty(), "a running container's CPU: {scraped}");
    let killed_at = Utc::now();
    recorder.kill9();

    // The file opens after a kill -9, and lost at most the last second.
    let store = portolan::record::store::Store::open_for_reading(&db).unwrap().unwrap();
    let last = portolan::record::read::last_write(&store).unwrap();
    assert!(
        (killed_at - last).num_milliseconds() <= 1500,
        "the last commit was {} ms before the kill",
        (killed_at - last).num_milliseconds()
    );
    drop(store);

    // A snapshot started now (the engine has only the last five probes of `sick`)
    // gives each problem's start from the record.
    let out = portolan(&["snapshot", "--db", db.to_str().unwrap(), "--wait", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problem = |name: &str, kind: &str| {
        json["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["container"] == name && p["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} problem for {name}: {:#}", json["problems"]))
            .clone()
    };
    let unhealthy = problem(&sick, "unhealthy");
    let since = time(unhealthy["since"].as_str().unwrap());
    assert!(seconds_apart(since, sick_truth) <= 2.0, "unhealthy since {since}, truth {sick_truth}");
    assert_eq!(unhealthy["since_reconstructed"], false, "{unhealthy:#}");
    let crashloop = problem(&looping, "crashloop");
    let since = time(crashloop["since"].as_str().unwrap());
    assert!(
        seconds_apart(since, loop_truth) <= 2.0,
        "crash loop since {since}, truth {loop_truth}"
    );
    let oom = problem(&hog, "oom_killed");
    let finished = time(&inspect(&hog, "{{.State.FinishedAt}}"));
    assert!(seconds_apart(time(oom["since"].as_str().unwrap()), finished) <= 2.0, "{oom:#}");

    // The history keeps the removed container, its last words and its removal.
    let out =
        portolan(&["history", "--db", db.to_str().unwrap(), "--since", "10m", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let history: Value = serde_json::from_slice(&out.stdout).unwrap();
    let incidents = history["engines"][0]["history"]["incidents"].as_array().unwrap().clone();
    let gone = incidents
        .iter()
        .find(|i| i["container"] == doomed.as_str())
        .unwrap_or_else(|| panic!("no incident for {doomed}: {incidents:#?}"));
    assert_eq!(gone["kind"], "exited");
    assert!(
        gone["last_log"].as_str().unwrap_or_default().contains("last-words-of-doomed"),
        "{gone:#}"
    );
    assert!(gone["removed_at"].is_string(), "{gone:#}");
    // Its log before it died, taken at the death and kept after the removal.
    let before = gone["excerpt"]["before"].as_array().unwrap_or_else(|| panic!("{gone:#}"));
    assert_eq!(before.len(), 200, "{gone:#}");
    assert_eq!(before[0], "line-101");
    assert_eq!(before[199], "last-words-of-doomed");
    assert!(gone["ended_at"].is_string(), "a removed container's problem ends: {gone:#}");
    for (name, kind) in [(&sick, "unhealthy"), (&looping, "crashloop"), (&hog, "oom_killed")] {
        assert!(
            incidents.iter().any(|i| i["container"] == name.as_str() && i["kind"] == kind),
            "no {kind} incident for {name}: {incidents:#?}"
        );
    }
    let text = portolan(&["history", "--db", db.to_str().unwrap(), "--since", "10m"]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(text.contains(&doomed) && text.contains("last log: last-words-of-doomed"), "{text}");

    // A second recorder continues the file: the kill shows as a gap, and the
    // problems still open are not opened twice.
    std::thread::sleep(Duration::from_secs(6));
    let second = Recorder::start(&db, &[]);
    second.wait_said("recording to", Duration::from_secs(20));
    // A third may not write the same file.
    let third = portolan(&["record", "--db", db.to_str().unwrap()]);
    assert!(!third.status.success());
    let words = String::from_utf8_lossy(&third.stderr);
    assert!(
        words.contains("being recorded by another portolan") && words.contains("pid"),
        "{words}"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(second.terminate().success(), "a recorder stops cleanly on SIGTERM");
    let out =
        portolan(&["history", "--db", db.to_str().unwrap(), "--since", "10m", "--format", "json"]);
    let history: Value = serde_json::from_slice(&out.stdout).unwrap();
    let history = &history["engines"][0]["history"];
    assert_eq!(history["gaps"].as_array().unwrap().len(), 1, "{history:#}");
    let open_unhealthy = history["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["container"] == sick.as_str() && i["kind"] == "unhealthy")
        .count();
    assert_eq!(open_unhealthy, 1, "{history:#}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn files_that_are_not_a_record_are_refused_and_left_alone() {
    let dir = temp_dir("record-refuse");
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "precious\n").unwrap();
    let out = portolan(&["record", "--db", notes.to_str().unwrap()]);
    assert!(!out.status.success());
    let words = String::from_utf8_lossy(&out.stderr);
    assert!(
        words.contains("is not a portolan record") && words.contains("left untouched"),
        "{words}"
    );
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "precious\n");

    // A record damaged on disk.
    let db = dir.join("damaged.db");
    let mut recorder = Recorder::start(&db, &[]);
    recorder.wait_said("engine answers", Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(1500));
    recorder.kill9();
    // Fold the WAL in first, so the damage is to the pages themselves.
    drop(portolan::record::store::Store::open_for_reading(&db).unwrap());
    let mut bytes = Vec::new();
    std::fs::File::open(&db).unwrap().read_to_end(&mut bytes).unwrap();
    let len = bytes.len();
    for b in &mut bytes[100..len] {
        *b ^= 0x5A;
    }
    std::fs::write(&db, &bytes).unwrap();
    let _ = std::fs::remove_file(dir.join("damaged.db-wal"));
    let out = portolan(&["history", "--db", db.to_str().unwrap()]);
    assert!(!out.status.success());
    let words = String::from_utf8_lossy(&out.stderr);
    assert!(words.contains("damaged") || words.contains("not a portolan record"), "{words}");
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "the damaged file is left as it was");
    let _ = std::fs::remove_dir_all(dir);
}

/// Unmounts the small file system however the test ends.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_stops_recording_in_words_and_it_resumes_when_there_is_room() {
    let fx = Fixture::new("recfull");
    let dir = temp_dir("record-full");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&dir)
        .status()
        .expect("mount runs (the tests run as root, as CI does)");
    assert!(mounted.success(), "a small tmpfs for the full-disk test (needs root)");
    let _mount = Mount(dir.clone());
    let db = dir.join("engine.db");
    let recorder = Recorder::start(&db, &[]);
    recorder.wait_said("engine answers", Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(1500));
    // Fill what is left.
    let filler = dir.join("filler");
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=4k", "count=1000"])
        .arg(format!("of={}", filler.display()))
        .stderr(Stdio::null())
        .status();
    // Events to record, which no longer fit.
    for i in 0..6 {
        fx.run(&format!("c{i}"), &[], &["sh", "-c", "echo a line that needs room; sleep 60"]);
    }
    recorder.wait_said("is full: recording stopped", Duration::from_secs(30));
    std::fs::remove_file(&filler).unwrap();
    fx.run("after", &[], &["sleep", "60"]);
    recorder.wait_said("recording again", Duration::from_secs(30));
    assert!(recorder.terminate().success());
    let store = portolan::record::store::Store::open_for_reading(&db).unwrap().unwrap();
    drop(store);
}

/// Takes the compose project, its volume and the image down however the test ends.
struct ComposeRecorder {
    project: String,
    image: String,
    volume: String,
}

impl ComposeRecorder {
    fn compose(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker-compose")
            .args(["-p", &self.project, "-f"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/docker-compose.record.yml"))
            .args(args)
            .env("PORTOLAN_IMAGE", &self.image)
            .env("PORTOLAN_RECORD_VOLUME", &self.volume)
            .output()
            .expect("docker-compose runs (scripts/setup installs it)")
    }
}

impl Drop for ComposeRecorder {
    fn drop(&mut self) {
        let _ = self.compose(&["down", "-v", "-t", "5"]);
        let _ = Command::new("docker").args(["volume", "rm", "-f", &self.volume]).output();
        let _ = Command::new("docker").args(["rmi", "-f", &self.image]).output();
    }
}

#[test]
fn the_compose_snippet_records_from_a_container_with_the_socket_mounted() {
    let fx = Fixture::new("reccompose");
    let run = fx.name("rec").to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "");
    let recorder = ComposeRecorder {
        project: run.clone(),
        image: format!("portolan-test/record:{run}"),
        volume: format!("{run}-state"),
    };
    let built = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/record-image.sh"))
        .args([env!("CARGO_BIN_EXE_portolan"), &recorder.image])
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let up = recorder.compose(&["up", "-d"]);
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    let container = format!("{run}_recorder_1");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let logs = Command::new("docker").args(["logs", &container]).output().unwrap();
        let said = String::from_utf8_lossy(&logs.stderr).into_owned();
        if said.contains("engine answers") {
            assert!(said.contains("recording to /state/portolan/"), "{said}");
            break;
        }
        assert!(Instant::now() < deadline, "the recorder in a container did not start:\n{said}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let dier = fx.name("dier");
    fx.run("dier", &[], &["sh", "-c", "echo seen-from-a-container; exit 5"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let history = Command::new("docker")
            .args(["run", "--rm", "-v", &format!("{}:/state", recorder.volume), &recorder.image])
            .args(["history", "--since", "10m", "--format", "json"])
            .output()
            .unwrap();
        assert!(history.status.success(), "{}", String::from_utf8_lossy(&history.stderr));
        let json: Value = serde_json::from_slice(&history.stdout).unwrap();
        let found =
            json["engines"][0]["history"]["incidents"].as_array().unwrap().iter().any(|i| {
                i["container"] == dier.as_str()
                    && i["detail"].as_str().unwrap_or("").contains("exit 5")
            });
        if found {
            break;
        }
        assert!(Instant::now() < deadline, "the record never showed {dier} exiting: {json:#}");
        std::thread::sleep(Duration::from_secs(1));
    }
    // It stops on compose's SIGTERM, committing first.
    let stopped = recorder.compose(&["stop", "-t", "15"]);
    assert!(stopped.status.success());
    let logs = Command::new("docker").args(["logs", &container]).output().unwrap();
    assert!(String::from_utf8_lossy(&logs.stderr).contains("stopping: writing what is pending"));
}

/// What an alert receiver has been sent.
struct Hook(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Hook {
    /// Every message so far, as JSON, in the order received.
    fn all(&self) -> Vec<Value> {
        self.0.lock().unwrap().iter().map(|b| serde_json::from_str(b).unwrap()).collect()
    }

    fn with_status(&self, status: &str) -> Vec<Value> {
        self.all().into_iter().filter(|m| m["status"] == status).collect()
    }

    /// Waits for a message of `status`, then returns every message so far.
    fn wait(&self, status: &str, limit: Duration, recorder: &Recorder) -> Vec<Value> {
        let deadline = Instant::now() + limit;
        while self.with_status(status).is_empty() {
            assert!(
                Instant::now() < deadline,
                "no {status} message: {:#?}\n{}",
                self.all(),
                recorder.said()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        self.all()
    }
}

/// An HTTP receiver on 127.0.0.1 that answers 200 and keeps every request's body.
fn receiver() -> (String, Hook) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut data = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then as many body bytes as Content-Length says.
            while let Ok(n) = stream.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&data).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        kept.lock().unwrap().push(body.to_string());
                        break;
                    }
                }
            }
            use std::io::Write;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (address, Hook(bodies))
}

#[test]
fn a_webhook_hears_once_when_a_problem_begins_and_once_when_it_ends() {
    let fx = Fixture::new("recalert");
    let dir = temp_dir("record-alert");
    let (address, hook) = receiver();
    let project = fx.name("proj");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[alerts]]\nname = \"test hook\"\nkinds = [\"unhealthy\"]\nproject = \"{project}\"\nwebhook = \"http://{address}/hook\"\n"
        ),
    )
    .unwrap();
    let db = dir.join("engine.db");
    let recorder = Recorder::start(&db, &["--config", config.to_str().unwrap()]);
    recorder.wait_said("alerts \"test hook\" go to the webhook", Duration::from_secs(20));
    recorder.wait_said("engine answers", Duration::from_secs(20));
    let flaky = fx.name("flaky");
    let label = format!("com.docker.compose.project={project}");
    fx.run(
        "flaky",
        &[
            "--label",
            &label,
            "--health-cmd",
            "test -f /tmp/ok",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
        ],
        &["sleep", "600"],
    );
    let got = hook.wait("firing", Duration::from_secs(30), &recorder);
    assert_eq!(got[0]["container"], flaky.as_str());
    assert_eq!(got[0]["kind"], "unhealthy");
    assert_eq!(got[0]["rule"], "test hook");
    assert!(got[0]["text"].as_str().unwrap().contains("unhealthy since"), "{got:#?}");
    docker_ok(&["exec", &flaky, "touch", "/tmp/ok"]);
    let got = hook.wait("resolved", Duration::from_secs(30), &recorder);
    // A few more seconds: nothing else may come for this one incident.
    std::thread::sleep(Duration::from_secs(4));
    let got_now = hook.all().len();
    assert_eq!(got_now, 2, "exactly one alert and one resolve: {got:#?}");
    assert!(recorder.terminate().success());
    let _ = std::fs::remove_dir_all(dir);
}

fn tmux(socket: &str, args: &[&str]) -> String {
    let out = Command::new("tmux").args(["-L", socket]).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The UI in tmux with `state` as its state directory; returns the screen once
/// `until` shows (or panics with it).
fn ui_until(socket: &str, state: &Path, until: &str) -> String {
    ui_with(socket, state, "", until)
}

/// The same, with arguments for the UI.
fn ui_with(socket: &str, state: &Path, args: &str, until: &str) -> String {
    let command =
        format!("XDG_STATE_HOME={} {} {args}", state.display(), env!("CARGO_BIN_EXE_portolan"));
    let started = Command::new("tmux")
        .args([
            "-L",
            socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            "120",
            "-y",
            "40",
        ])
        .args(["env", "-u", "NO_COLOR", "TERM=xterm-256color", "sh", "-c", &command])
        .status()
        .unwrap();
    assert!(started.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let screen = tmux(socket, &["capture-pane", "-p", "-t", "main"]);
        if screen.contains(until) {
            return screen;
        }
        assert!(Instant::now() < deadline, "no {until:?} on screen:\n{screen}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_ui_opens_with_what_happened_while_nobody_looked() {
    let fx = Fixture::new("recaway");
    let state = temp_dir("record-away");
    let recorder = Recorder::start_in(&state);
    recorder.wait_said("engine answers", Duration::from_secs(20));
    let gone = fx.name("gone");
    // A project of its own: the popup of a UI opened on it lists only what is its,
    // whatever else the shared engine went through meanwhile.
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    fx.run(
        "gone",
        &["--label", &label],
        &["sh", "-c", "echo first-words; echo words-before-dying; exit 7"],
    );
    // The die is seen, its excerpt read after its ten-second window, and committed.
    std::thread::sleep(Duration::from_secs(13));
    assert!(recorder.terminate().success());

    let socket = format!("portolan-away-{}", std::process::id());
    let screen = ui_with(&socket, &state, &format!("--project {project}"), "While you were away");
    assert!(screen.contains(&gone) && screen.contains("words-before-dying"), "{screen}");
    tmux(&socket, &["send-keys", "-t", "main", "x"]);
    std::thread::sleep(Duration::from_millis(800));
    let screen = tmux(&socket, &["capture-pane", "-p", "-t", "main"]);
    assert!(!screen.contains("While you were away"), "one key dismisses it:\n{screen}");
    tmux(&socket, &["send-keys", "-t", "main", "q"]);
    std::thread::sleep(Duration::from_secs(1));
    let _ = Command::new("tmux").args(["-L", &socket, "kill-server"]).status();

    // Looked at now: the next start has nothing new to say.
    let screen = ui_until(&socket, &state, "Triage");
    std::thread::sleep(Duration::from_secs(2));
    let again = tmux(&socket, &["capture-pane", "-p", "-t", "main"]);
    let _ = Command::new("tmux").args(["-L", &socket, "kill-server"]).status();
    assert!(!again.contains("While you were away"), "{screen}\n{again}");
    let _ = std::fs::remove_dir_all(state);
}

#[test]
fn the_stats_pane_charts_the_last_hour_from_the_record() {
    let fx = Fixture::new("recspan");
    let state = temp_dir("record-span");
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    fx.run("busy", &["--label", &label], &["sh", "-c", "while true; do :; done"]);
    let recorder = Recorder::start_in(&state);
    recorder.wait_said("engine answers", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(6));
    assert!(recorder.terminate().success());

    let socket = format!("portolan-span-{}", std::process::id());
    let args = format!("--pane stats --project {project}");
    // The record saw the container come: the UI opens with that, and one key closes it.
    ui_with(&socket, &state, &args, "While you were away");
    tmux(&socket, &["send-keys", "-t", "main", "Escape"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !tmux(&socket, &["capture-pane", "-p", "-t", "main"]).contains("last 10 min") {
        assert!(Instant::now() < deadline, "no stats charts");
        std::thread::sleep(Duration::from_millis(200));
    }
    tmux(&socket, &["send-keys", "-t", "main", ">"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let screen = loop {
        let screen = tmux(&socket, &["capture-pane", "-p", "-t", "main"]);
        if screen.contains("last hour (record)") && screen.contains("cpu ") {
            break screen;
        }
        assert!(Instant::now() < deadline, "no recorded hour:\n{screen}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = Command::new("tmux").args(["-L", &socket, "kill-server"]).status();
    assert!(
        !screen.contains("holds nothing") && !screen.contains("reading the record"),
        "{screen}"
    );
    // The busy loop's CPU, as the record kept it, is on the label: "cpu N% ↑M%".
    let label = screen.lines().find(|l| l.contains("│cpu ")).unwrap_or_default().to_string();
    let peak: f64 = label
        .split('↑')
        .nth(1)
        .and_then(|rest| rest.split('%').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0.0);
    assert!(peak > 20.0, "a busy loop's CPU from the record: {label}");
    let _ = std::fs::remove_dir_all(state);
}

#[test]
fn a_threshold_held_long_enough_is_told_and_its_end_too() {
    let fx = Fixture::new("recthresh");
    let dir = temp_dir("record-threshold");
    let (address, hook) = receiver();
    let project = fx.name("proj");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[alerts]]\nname = \"hot\"\nproject = \"{project}\"\nkinds = [\"oom_killed\"]\ncpu_percent_of_limit = 50\nfor = \"3s\"\nwebhook = \"http://{address}/hook\"\n"
        ),
    )
    .unwrap();
    let recorder = Recorder::start(&dir.join("engine.db"), &["--config", config.to_str().unwrap()]);
    recorder.wait_said("engine answers", Duration::from_secs(20));
    let label = format!("com.docker.compose.project={project}");
    let hot = fx.name("hot");
    fx.run("hot", &["--label", &label, "--cpus", "0.5"], &["sh", "-c", "while true; do :; done"]);
    // A quiet neighbour in the same project never crosses it.
    fx.run("calm", &["--label", &label, "--cpus", "0.5"], &["sleep", "600"]);
    let started = Instant::now();
    hook.wait("firing", Duration::from_secs(40), &recorder);
    let firing = hook.with_status("firing");
    assert!(started.elapsed() >= Duration::from_secs(3), "told before it was held for 3 s");
    assert_eq!(firing.len(), 1, "{firing:#?}");
    assert_eq!(firing[0]["kind"], "cpu_high");
    assert_eq!(firing[0]["container"], hot.as_str());
    assert!(firing[0]["detail"].as_str().unwrap().starts_with("CPU at "), "{firing:#?}");
    docker_ok(&["stop", "-t", "1", &hot]);
    hook.wait("resolved", Duration::from_secs(30), &recorder);
    assert_eq!(hook.with_status("resolved")[0]["kind"], "cpu_high");
    // The rule's kinds name oom_killed only: the stop is not an alert of its own.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(hook.all().len(), 2);
    assert!(recorder.terminate().success());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_log_line_matching_a_rule_is_told_once_and_resolved_when_the_log_is_quiet() {
    let fx = Fixture::new("reclogre");
    let dir = temp_dir("record-log-regex");
    let (address, hook) = receiver();
    let project = fx.name("proj");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[alerts]]\nname = \"api errors\"\nproject = \"{project}\"\nservice = \"api\"\nlog_regex = \"(?i)\\\\bfatal\\\\b\"\nfor = \"4s\"\nwebhook = \"http://{address}/hook\"\n"
        ),
    )
    .unwrap();
    let recorder = Recorder::start(&dir.join("engine.db"), &["--config", config.to_str().unwrap()]);
    recorder.wait_said("engine answers", Duration::from_secs(20));
    let labels = |service: &str| {
        vec![
            "--label".to_string(),
            format!("com.docker.compose.project={project}"),
            "--label".to_string(),
            format!("com.docker.compose.service={service}"),
        ]
    };
    // Three matching lines in a burst, with an escape sequence among them, then quiet.
    let script = "sleep 2; echo starting; echo 'FATAL: db refused \u{1b}]0;pwned\u{7}'; \
                  echo fatal again; echo 'Fatal, third'; echo fine; sleep 600";
    let api_args = labels("api");
    let api_args: Vec<&str> = api_args.iter().map(String::as_str).collect();
    let api = fx.name("api");
    fx.run("api", &api_args, &["sh", "-c", script]);
    // Another service of the project says the same words: not this rule's.
    let worker_args = labels("worker");
    let worker_args: Vec<&str> = worker_args.iter().map(String::as_str).collect();
    fx.run("worker", &worker_args, &["sh", "-c", "sleep 2; echo FATAL too; sleep 600"]);
    hook.wait("firing", Duration::from_secs(30), &recorder);
    let firing = hook.with_status("firing");
    assert_eq!(firing.len(), 1, "{firing:#?}");
    assert_eq!(firing[0]["kind"], "log_match");
    assert_eq!(firing[0]["container"], api.as_str());
    let detail = firing[0]["detail"].as_str().unwrap();
    assert!(detail.contains("FATAL: db refused"), "{detail}");
    assert!(!detail.contains('\u{1b}') && !detail.contains('\u{7}'), "{detail:?}");
    hook.wait("resolved", Duration::from_secs(30), &recorder);
    let resolved = hook.with_status("resolved");
    assert_eq!(resolved[0]["kind"], "log_match");
    assert!(resolved[0]["text"].as_str().unwrap().contains(api.as_str()), "{resolved:#?}");
    assert!(
        resolved[0]["detail"].as_str().unwrap().contains("(3 matching lines)"),
        "{resolved:#?}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(hook.all().len(), 2, "{:#?}", hook.all());
    assert!(recorder.terminate().success());
    let _ = std::fs::remove_dir_all(dir);
}
/// The containers a `snapshot --at` JSON lists, by name, with their states.
fn states_at(db: &Path, at: DateTime<Utc>) -> Vec<(String, String)> {
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let db = db.to_str().unwrap();
    let out = portolan(&["snapshot", "--db", db, "--at", &at, "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["history"]["at"].is_string(), "the moment is in the document: {doc}");
    doc["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (c["name"].as_str().unwrap().to_string(), c["state"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn snapshot_at_a_moment_shows_the_states_of_then() {
    let fx = Fixture::new("recat");
    let dir = temp_dir("record-at");
    let db = dir.join("engine.db");
    let recorder = Recorder::start(&db, &[]);
    recorder.wait_said("engine answers", Duration::from_secs(20));
    let (kept, gone) = (fx.name("kept"), fx.name("gone"));
    // A project of its own, so the text render lists these two whatever else runs.
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    fx.run("kept", &["--label", &label], &["sleep", "600"]);
    fx.run("gone", &["--label", &label], &["sleep", "600"]);
    std::thread::sleep(Duration::from_secs(3));
    let before = Utc::now();
    std::thread::sleep(Duration::from_millis(500));
    docker_ok(&["stop", "-t", "1", &kept]);
    docker_ok(&["rm", "-f", &gone]);
    // Seen, and committed (once a second).
    std::thread::sleep(Duration::from_secs(3));
    let after = Utc::now();

    let mine = |states: Vec<(String, String)>| -> Vec<(String, String)> {
        let mut mine: Vec<_> =
            states.into_iter().filter(|(name, _)| *name == kept || *name == gone).collect();
        mine.sort();
        mine
    };
    let then = mine(states_at(&db, before));
    assert_eq!(
        then,
        vec![(gone.clone(), "running".to_string()), (kept.clone(), "running".to_string())],
        "before: both running"
    );
    let later = mine(states_at(&db, after));
    assert_eq!(later, vec![(kept.clone(), "exited".to_string())], "after: stopped, and one gone");

    // The panes draw the moment too, marked as the past; no engine is asked.
    let at = before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let out = portolan(&[
        "snapshot",
        "--db",
        db.to_str().unwrap(),
        "--at",
        &at,
        "--format",
        "text",
        "--pane",
        "containers",
        "--project",
        &project,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("HISTORY") && text.contains("gone"), "{text}");
    // A bad moment says why.
    let out = portolan(&["snapshot", "--db", db.to_str().unwrap(), "--at", "tea time"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("`tea time` is not a time"), "{said}");
    assert!(recorder.terminate().success());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_time_cursor_goes_back_read_only_and_returns_to_live() {
    let fx = Fixture::new("reccursor");
    let state = temp_dir("record-cursor");
    let recorder = Recorder::start_in(&state);
    recorder.wait_said("engine answers", Duration::from_secs(20));
    let name = fx.name("then");
    fx.run("then", &[], &["sleep", "600"]);
    std::thread::sleep(Duration::from_secs(3));
    assert!(recorder.terminate().success());

    let socket = format!("portolan-cursor-{}", std::process::id());
    ui_until(&socket, &state, "While you were away");
    tmux(&socket, &["send-keys", "-t", "main", "Escape"]);
    std::thread::sleep(Duration::from_millis(500));
    tmux(&socket, &["send-keys", "-t", "main", "3"]);
    tmux(&socket, &["send-keys", "-t", "main", ":"]);
    tmux(&socket, &["send-keys", "-t", "main", "-l", "goto -2s"]);
    tmux(&socket, &["send-keys", "-t", "main", "Enter"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let screen = loop {
        let screen = tmux(&socket, &["capture-pane", "-p", "-t", "main"]);
        if screen.contains("HISTORY") && screen.contains("read-only") {
            break screen;
        }
        assert!(Instant::now() < deadline, "no HISTORY:\n{screen}");
        std::thread::sleep(Duration::from_millis(200));
    };
    // The name is cut to the column: its start is enough.
    assert!(screen.contains(&name[..24]), "the moment lists the container:\n{screen}");
    // Actions are refused in words.
    tmux(&socket, &["send-keys", "-t", "main", "a"]);
    std::thread::sleep(Duration::from_millis(600));
    let screen = tmux(&socket, &["capture-pane", "-p", "-t", "main"]);
    assert!(screen.contains("HISTORY is read-only"), "{screen}");
    // A bad time says so.
    tmux(&socket, &["send-keys", "-t", "main", ":"]);
    tmux(&socket, &["send-keys", "-t", "main", "-l", "goto soon"]);
    tmux(&socket, &["send-keys", "-t", "main", "Enter"]);
    std::thread::sleep(Duration::from_millis(600));
    let screen = tmux(&socket, &["capture-pane", "-p", "-t", "main"]);
    assert!(screen.contains("`soon` is not a time"), "{screen}");
    // One key back to live.
    tmux(&socket, &["send-keys", "-t", "main", "L"]);
    std::thread::sleep(Duration::from_millis(800));
    let screen = tmux(&socket, &["capture-pane", "-p", "-t", "main"]);
    let _ = Command::new("tmux").args(["-L", &socket, "kill-server"]).status();
    assert!(!screen.contains("HISTORY") && screen.contains("live again"), "{screen}");
    let _ = std::fs::remove_dir_all(state);
}
