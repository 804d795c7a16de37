use std::io::{Read, Write};
use std::os::unix::net::UnixListener;

use super::*;

fn around(home: Option<&str>, runtime: Option<&str>) -> Surroundings {
    Surroundings {
        home: home.map(PathBuf::from),
        runtime_dir: runtime.map(PathBuf::from),
        root_socket: PathBuf::from(DEFAULT_SOCKET),
    }
}

fn places(list: &[Candidate]) -> Vec<String> {
    list.iter().map(|c| c.place.to_string()).collect()
}

#[test]
fn the_root_socket_comes_first_then_the_usual_places_in_order() {
    let list = candidates(&around(Some("/home/me"), Some("/run/user/1000")));
    assert_eq!(
        places(&list),
        [
            "/var/run/docker.sock",
            "/run/user/1000/docker.sock",
            "/home/me/.docker/run/docker.sock",
            "/home/me/.docker/desktop/docker.sock",
            "/home/me/.colima/default/docker.sock",
            "/home/me/.orbstack/run/docker.sock",
            "/run/user/1000/podman/podman.sock",
            "/run/podman/podman.sock",
        ]
    );
    let labels: Vec<_> = list.iter().map(|c| c.kind.label()).collect();
    assert_eq!(
        labels,
        ["local", "rootless", "desktop", "desktop", "colima", "orbstack", "podman", "podman"]
    );
}

#[test]
fn places_under_an_unset_variable_are_named_and_skipped() {
    let list = candidates(&around(None, None));
    assert_eq!(list.len(), 8, "every place is listed, looked at or not");
    assert_eq!(list[1].place, Place::Unset { var: "XDG_RUNTIME_DIR", rest: "docker.sock" });
    assert_eq!(list[1].place.to_string(), "$XDG_RUNTIME_DIR/docker.sock");
    assert_eq!(list[2].place.to_string(), "$HOME/.docker/run/docker.sock");
    assert_eq!(list[6].place.to_string(), "$XDG_RUNTIME_DIR/podman/podman.sock");
    assert_eq!(list[1].endpoint(), None, "nothing to connect to");
}

#[test]
fn the_environment_is_read_with_blank_meaning_unset() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string())
    };
    let read = Surroundings::from_env(env(&[("HOME", "/h"), ("XDG_RUNTIME_DIR", " ")]));
    assert_eq!(read, around(Some("/h"), None));
    let moved = Surroundings::from_env(env(&[(ROOT_SOCKET_VAR, "/tmp/none.sock")]));
    assert_eq!(moved.root_socket, PathBuf::from("/tmp/none.sock"));
    assert_eq!(places(&candidates(&moved))[0], "/tmp/none.sock");
}

#[test]
fn a_found_socket_says_what_it_is_and_stays_local() {
    let list = candidates(&around(Some("/home/me"), Some("/run/user/1000")));
    assert_eq!(list[0].endpoint(), Some(Endpoint::Unix(DEFAULT_SOCKET.into())));
    let desktop = list[3].endpoint().expect("a path");
    assert_eq!(desktop.to_string(), "desktop (unix:///home/me/.docker/desktop/docker.sock)");
    assert_eq!(desktop.short_name(), "desktop");
    assert_eq!(desktop.target(), &Endpoint::Unix("/home/me/.docker/desktop/docker.sock".into()));
    assert!(list.iter().filter_map(Candidate::endpoint).all(|e| e.is_local()));
}

#[test]
fn reasons_read_as_words() {
    let words = [
        (Unanswered::Unset { var: "XDG_RUNTIME_DIR" }, "not looked at: XDG_RUNTIME_DIR is not set"),
        (Unanswered::NoSuchFile, "no such file"),
        (Unanswered::PermissionDenied, "permission denied"),
        (Unanswered::NotASocket { what: "a regular file" }, "not a socket (a regular file)"),
        (Unanswered::Refused, "nothing listens on it (connection refused)"),
        (Unanswered::Silent { seconds: 1 }, "did not answer in 1 s"),
        (
            Unanswered::NotDocker { detail: "the engine answered 404: no".into() },
            "answered but is not a Docker API: the engine answered 404: no",
        ),
    ];
    for (reason, text) in words {
        assert_eq!(reason.to_string(), text);
    }
    let from = |kind| Unanswered::from_io(&io::Error::from(kind));
    assert_eq!(from(io::ErrorKind::PermissionDenied), Unanswered::PermissionDenied);
    assert_eq!(from(io::ErrorKind::ConnectionRefused), Unanswered::Refused);
    assert_eq!(from(io::ErrorKind::NotFound), Unanswered::NoSuchFile);
    // Told only when it is the likely way out.
    let denied = |outcome| NothingAnswers {
        tried: vec![Tried {
            candidate: candidates(&around(None, None))[0].clone(),
            outcome: Err(outcome),
        }],
    };
    assert!(denied(Unanswered::PermissionDenied).hint().contains("`docker` group"));
    assert!(!denied(Unanswered::NoSuchFile).hint().contains("`docker` group"));
    assert_eq!(Unanswered::NoSuchFile.file_exists(), Some(false));
    assert_eq!(Unanswered::Refused.file_exists(), Some(true));
    assert_eq!(Unanswered::Unset { var: "HOME" }.file_exists(), None);
}

#[test]
fn the_first_that_answers_in_order_is_chosen() {
    let list = candidates(&around(Some("/h"), Some("/r")));
    let engine = |name: &str| Ok(Answer { name: Some(name.into()), ..Answer::default() });
    let tried: Vec<Tried> = list
        .iter()
        .zip([
            Err(Unanswered::NoSuchFile),
            Err(Unanswered::Silent { seconds: 1 }),
            Err(Unanswered::NoSuchFile),
            engine("Docker Desktop"),
            Err(Unanswered::NoSuchFile),
            engine("OrbStack"),
            Err(Unanswered::NoSuchFile),
            Err(Unanswered::NoSuchFile),
        ])
        .map(|(candidate, outcome)| Tried { candidate: candidate.clone(), outcome })
        .collect();
    let chosen = chosen(&tried).expect("one answers");
    assert_eq!(chosen.candidate.place.to_string(), "/h/.docker/desktop/docker.sock");
    let none = NothingAnswers { tried: tried[..3].to_vec() };
    assert_eq!(
        none.to_string(),
        "no Docker engine answers here, and none is named; looked at:\n  \
         /var/run/docker.sock (the docker CLI's default socket): no such file\n  \
         /r/docker.sock (rootless Docker): did not answer in 1 s\n  \
         /h/.docker/run/docker.sock (Docker Desktop): no such file"
    );
}

/// A directory of the test's own, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir()
            .join(format!("portolan-discover-{what}-{}-{nanos:x}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Answers every request on a socket with `response`, as a stand-in engine would.
fn serve(path: &Path, response: &'static str) {
    let listener = UnixListener::bind(path).expect("bind");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                if request.windows(4).any(|w| w == b"\r\n\r\n") {
                    let _ = stream.write_all(response.as_bytes());
                    break;
                }
            }
        }
    });
}

#[test]
fn files_that_are_not_sockets_are_told_apart() {
    let dir = Scratch::new("files");
    let at = |name: &str| dir.0.join(name);
    assert_eq!(is_a_socket(&at("missing.sock")), Err(Unanswered::NoSuchFile));
    std::os::unix::fs::symlink(at("gone.sock"), at("link.sock")).expect("link");
    assert_eq!(
        is_a_socket(&at("link.sock")),
        Err(Unanswered::DanglingLink { target: at("gone.sock").display().to_string() })
    );
    std::fs::write(at("plain.sock"), "").expect("write");
    assert_eq!(
        is_a_socket(&at("plain.sock")),
        Err(Unanswered::NotASocket { what: "a regular file" })
    );
    std::fs::create_dir(at("dir.sock")).expect("dir");
    assert_eq!(is_a_socket(&at("dir.sock")), Err(Unanswered::NotASocket { what: "a directory" }));
    std::fs::write(at("file"), "").expect("write");
    assert_eq!(is_a_socket(&at("file/docker.sock")), Err(Unanswered::NoSuchFile));
}

#[tokio::test]
async fn sockets_are_asked_for_real_and_each_gets_its_reason() {
    let dir = Scratch::new("ask");
    let at = |name: &str| Place::At(dir.0.join(name));
    // A socket left behind by a listener that is gone.
    drop(UnixListener::bind(dir.0.join("stale.sock")).expect("bind"));
    // A listener that never accepts: the connection waits in its backlog.
    let _silent = UnixListener::bind(dir.0.join("silent.sock")).expect("bind");
    serve(&dir.0.join("web.sock"), "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here\n");
    let version =
        r#"{"Platform":{"Name":"Stand-in Engine"},"Version":"1.2.3","ApiVersion":"1.47"}"#;
    let engine = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{version}",
        version.len()
    );
    serve(&dir.0.join("engine.sock"), Box::leak(engine.into_boxed_str()));

    let limit = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let list: Vec<Candidate> = ["stale.sock", "silent.sock", "web.sock", "engine.sock"]
        .into_iter()
        .map(|name| Candidate { kind: SocketPlace::Desktop, place: at(name) })
        .collect();
    let tried = look(&list, limit).await;
    assert!(started.elapsed() < Duration::from_secs(2), "asked at once, not one by one");
    let outcomes: Vec<_> = tried.iter().map(|t| t.outcome.clone()).collect();
    assert_eq!(outcomes[0], Err(Unanswered::Refused));
    assert_eq!(outcomes[1], Err(Unanswered::Silent { seconds: 1 }));
    let Err(Unanswered::NotDocker { detail }) = &outcomes[2] else {
        panic!("not a Docker API expected: {:?}", outcomes[2]);
    };
    assert!(detail.contains("404"), "{detail}");
    let answer = outcomes[3].as_ref().expect("the stand-in answers");
    assert_eq!(answer.to_string(), "Stand-in Engine 1.2.3 (API 1.47)");
    assert_eq!(chosen(&tried).map(|t| t.candidate.place.clone()), Some(at("engine.sock")));
}

#[test]
fn the_report_lists_every_place_and_the_one_used() {
    let list = candidates(&around(Some("/h"), None));
    let outcomes = [
        Err(Unanswered::NoSuchFile),
        Err(Unanswered::Unset { var: "XDG_RUNTIME_DIR" }),
        Err(Unanswered::NotASocket { what: "a regular file" }),
        Ok(Answer {
            name: Some("Docker Desktop 4.30.0".into()),
            version: Some("26.1.1".into()),
            api_version: Some("1.45".into()),
        }),
    ];
    let tried: Vec<Tried> = list
        .iter()
        .zip(outcomes)
        .map(|(candidate, outcome)| Tried { candidate: candidate.clone(), outcome })
        .collect();
    assert_eq!(
        report(&[], &tried),
        "Where portolan looks when no engine is named, in order:\n  \
         1. /var/run/docker.sock — the docker CLI's default socket\n     \
         missing: no such file\n  \
         2. $XDG_RUNTIME_DIR/docker.sock — rootless Docker\n     \
         not looked at: XDG_RUNTIME_DIR is not set\n  \
         3. /h/.docker/run/docker.sock — Docker Desktop\n     \
         exists; does not answer: not a socket (a regular file)\n  \
         4. /h/.docker/desktop/docker.sock — Docker Desktop\n     \
         exists; answers: Docker Desktop 4.30.0 26.1.1 (API 1.45)\n\n\
         portolan would use: /h/.docker/desktop/docker.sock (desktop)\n"
    );
    assert!(report(&[], &tried[..3]).ends_with(
        "portolan would use: nothing: no place answers, so portolan would exit with status 2\n"
    ));
    let named = NamedTried {
        by: "DOCKER_HOST".into(),
        endpoint: Endpoint::Tcp { host: "10.0.0.2".into(), port: 2375, tls: None },
        outcome: Err("connection refused at tcp://10.0.0.2:2375".into()),
    };
    let text = report(std::slice::from_ref(&named), &tried);
    assert!(
        text.starts_with(
            "Named (used as named; the places below are looked at only when nothing is):\n  \
             DOCKER_HOST: tcp://10.0.0.2:2375\n     \
             does not answer: connection refused at tcp://10.0.0.2:2375\n\n"
        ),
        "{text}"
    );
    assert!(text.ends_with(
        "portolan would use: tcp://10.0.0.2:2375 (named by DOCKER_HOST), though it does not answer now\n"
    ));
    assert!(report(&[named.clone(), named], &tried).ends_with("all 2 named engines at once\n"));
}

#[test]
fn an_engine_is_named_by_its_platform_else_its_first_component() {
    let version = |json: &str| {
        Answer::from_version(serde_json::from_str(json).expect("a /version answer")).to_string()
    };
    assert_eq!(
        version(
            r#"{"Platform":{"Name":"Docker Engine - Community"},"Version":"27.1.1","ApiVersion":"1.46"}"#
        ),
        "Docker Engine - Community 27.1.1 (API 1.46)"
    );
    assert_eq!(
        version(
            r#"{"Platform":{"Name":""},"Components":[{"Name":"Engine","Version":"20.10.24"}],"Version":"20.10.24"}"#
        ),
        "Docker Engine 20.10.24"
    );
    assert_eq!(
        version(
            r#"{"Components":[{"Name":"Podman Engine","Version":"4.9.3"}],"Version":"4.9.3","ApiVersion":"1.41"}"#
        ),
        "Podman Engine 4.9.3 (API 1.41)"
    );
    assert_eq!(version("{}"), "an engine");
}
