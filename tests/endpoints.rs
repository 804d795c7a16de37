//! Engines reached the way the docker CLI reaches them: TLS-protected tcp, docker
//! contexts and ssh. Everything runs for real: `openssl` makes the certificates, `stunnel`
//! puts TLS in front of the shared engine's socket, `sshd` listens on 127.0.0.1.
//! A missing tool fails the test (scripts/setup installs them): nothing is skipped.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use portolan::engine::Endpoint;

/// Scrubbed of the tester's own docker settings: each test says what it means.
fn portolan() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portolan"));
    command.env_remove("NO_COLOR");
    command.env("XDG_CONFIG_HOME", "/nonexistent/portolan-tests");
    for var in [
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_TLS",
        "DOCKER_TLS_VERIFY",
        "DOCKER_CERT_PATH",
        "DOCKER_CONFIG",
    ] {
        command.env_remove(var);
    }
    command
}

fn require(tool: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin", "/usr/local/sbin"] {
        let path = Path::new(dir).join(tool);
        if path.exists() {
            return path;
        }
    }
    panic!("`{tool}` is needed by this test and is not installed: run scripts/setup (as root)");
}

fn run_ok(command: &mut Command) -> Output {
    let output = command.output().expect("the tool runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A directory of the test's own, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "portolan-{what}-{}-{:x}",
            std::process::id(),
            nanos
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A process this test started, stopped at the end.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16, daemon: &mut Daemon) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = daemon.0.try_wait() {
            panic!("the daemon on port {port} exited: {status}");
        }
        assert!(started.elapsed() < Duration::from_secs(10), "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn engine_socket() -> PathBuf {
    match support::endpoint() {
        Endpoint::Unix(path) => path,
        other => {
            panic!("these tests put TLS and ssh in front of a unix socket; DOCKER_HOST is {other}")
        }
    }
}

fn engine_version() -> String {
    support::docker_ok(&["version", "--format", "{{.Server.Version}}"])
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "portolan failed ({:?}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("a JSON snapshot")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A CA, a server certificate for IP 127.0.0.1 only, a client certificate, and an
/// unrelated CA, made with the `openssl` CLI.
struct Pki {
    dir: TempDir,
}

impl Pki {
    fn new() -> Pki {
        let openssl = require("openssl");
        let dir = TempDir::new("pki");
        let sh = |script: &str| {
            run_ok(
                Command::new("sh")
                    .arg("-ec")
                    .arg(script)
                    .current_dir(&dir.0)
                    .env("OPENSSL", &openssl),
            );
        };
        sh(r#"
            for ca in ca other-ca; do
              "$OPENSSL" req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=portolan test $ca" \
                -keyout $ca-key.pem -out $ca.pem 2>/dev/null
            done
            "$OPENSSL" req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
              -keyout server-key.pem -out server.csr 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
            "$OPENSSL" x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
              -days 2 -extfile server.ext -out server.pem 2>/dev/null
            "$OPENSSL" req -newkey rsa:2048 -nodes -subj /CN=client \
              -keyout key.pem -out client.csr 2>/dev/null
            printf 'extendedKeyUsage=clientAuth\n' > client.ext
            "$OPENSSL" x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
              -days 2 -extfile client.ext -out cert.pem 2>/dev/null
        "#);
        Pki { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }
}

/// stunnel terminating TLS (client certificates required) in front of the engine.
/// (socat's OPENSSL-LISTEN cannot: with client verification it leaves OpenSSL's session
/// id context unset, and every handshake fails.)
fn tls_engine(pki: &Pki) -> (Daemon, u16) {
    let stunnel = require("stunnel4");
    let port = free_port();
    let config = pki.dir.join("stunnel.conf");
    std::fs::write(
        &config,
        format!(
            "foreground = yes\npid =\nconnect = {}\ncert = {}\nkey = {}\nCAfile = {}\n\
             verifyChain = yes\nrequireCert = yes\n\
             [docker]\naccept = 127.0.0.1:{port}\n\
             [other-name]\naccept = 127.0.0.2:{port}\n",
            engine_socket().display(),
            pki.path("server.pem"),
            pki.path("server-key.pem"),
            pki.path("ca.pem")
        ),
    )
    .unwrap();
    let child = Command::new(stunnel)
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("stunnel starts");
    let mut daemon = Daemon(child);
    wait_for_port(port, &mut daemon);
    (daemon, port)
}

/// Runs a snapshot that must fail quickly, with exit status 2 and these words.
fn failing<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S], words: &str) -> String {
    let mut command = portolan();
    command.args(args);
    fails(command, words)
}

fn fails(mut command: Command, words: &str) -> String {
    let started = Instant::now();
    let output = command.args(["snapshot", "--wait", "0"]).output().unwrap();
    let elapsed = started.elapsed();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{command:?}: {text}");
    assert!(elapsed < Duration::from_millis(3500), "{command:?} took {elapsed:?}");
    assert!(text.contains(words), "{command:?} should say `{words}`: {text}");
    assert!(!text.contains("Error {") && !text.contains("panicked"), "{text}");
    assert!(output.stdout.is_empty());
    text
}

#[test]
fn tls_engine_is_reached_with_flags_and_environment_and_failures_have_words() {
    let pki = Pki::new();
    let (_socat, port) = tls_engine(&pki);
    let host = format!("tcp://127.0.0.1:{port}");
    let version = engine_version();

    // The flags, like the docker CLI's.
    let output = portolan()
        .args(["-H", &host, "--tlsverify", "--tlscacert", &pki.path("ca.pem")])
        .args(["--tlscert", &pki.path("cert.pem"), "--tlskey", &pki.path("key.pem")])
        .args(["snapshot", "--format", "json", "--wait", "0"])
        .output()
        .unwrap();
    let document = json(&output);
    assert_eq!(document["engine"]["version"], version.as_str(), "{document:#}");
    assert_eq!(document["engine"]["endpoint"], host.as_str());

    // The environment: DOCKER_TLS_VERIFY with ca.pem, cert.pem, key.pem in DOCKER_CERT_PATH.
    let output = portolan()
        .env("DOCKER_HOST", &host)
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &pki.dir.0)
        .args(["snapshot", "--format", "json", "--wait", "0"])
        .output()
        .unwrap();
    assert_eq!(json(&output)["engine"]["version"], version.as_str());

    let client = ["--tlscert", &pki.path("cert.pem"), "--tlskey", &pki.path("key.pem")];
    let with = |host: &str, ca: &str| -> Vec<String> {
        let mut args = vec!["-H".to_string(), host.to_string(), "--tlsverify".into()];
        args.extend(["--tlscacert".into(), ca.to_string()]);
        args.extend(client.iter().map(|s| s.to_string()));
        args
    };

    // A CA that did not sign the engine's certificate.
    let text = failing(&with(&host, &pki.path("other-ca.pem")), "is not trusted");
    assert!(text.contains("--tlscacert"), "says what to do: {text}");
    // An address the certificate is not for (127.0.0.2 is loopback too).
    let other_name = format!("tcp://127.0.0.2:{port}");
    failing(&with(&other_name, &pki.path("ca.pem")), "is not for that name");
    // Missing and unusable files are named.
    let missing = pki.path("nope.pem");
    let text = failing(&with(&host, &missing), "no such file");
    assert!(text.contains("nope.pem"), "{text}");
    let text = failing(
        &["-H", &host, "--tlsverify", "--tlscacert", &pki.path("ca.pem")]
            .into_iter()
            .chain(["--tlscert", &pki.path("cert.pem"), "--tlskey", &pki.path("cert.pem")])
            .collect::<Vec<_>>(),
        "no PEM private key",
    );
    assert!(text.contains("cert.pem"), "{text}");
    // No client certificate (none in DOCKER_CERT_PATH either): the engine (stunnel,
    // requireCert) turns the client away.
    let empty = TempDir::new("no-client-cert");
    let mut command = portolan();
    command.env("DOCKER_CERT_PATH", &empty.0);
    command.args(["-H", &host, "--tlsverify", "--tlscacert", &pki.path("ca.pem")]);
    fails(command, "refused the TLS");
}

/// The hex sha256 the docker CLI files a context under, from `sha256sum`.
fn context_id(name: &str) -> String {
    let output =
        run_ok(Command::new("sh").arg("-c").arg(format!("printf %s '{name}' | sha256sum")));
    String::from_utf8_lossy(&output.stdout).split_whitespace().next().unwrap().to_string()
}

fn write_context(config: &Path, name: &str, host: &str, tls_from: Option<&Pki>) {
    let id = context_id(name);
    let meta = config.join("contexts/meta").join(&id);
    std::fs::create_dir_all(&meta).unwrap();
    let doc = serde_json::json!({
        "Name": name,
        "Metadata": {"Description": "portolan test"},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}
    });
    std::fs::write(meta.join("meta.json"), doc.to_string()).unwrap();
    if let Some(pki) = tls_from {
        let dir = config.join("contexts/tls").join(&id).join("docker");
        std::fs::create_dir_all(&dir).unwrap();
        for file in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::copy(pki.dir.join(file), dir.join(file)).unwrap();
        }
    }
}

#[test]
fn docker_contexts_are_resolved_like_the_docker_cli() {
    let pki = Pki::new();
    let (_stunnel, port) = tls_engine(&pki);
    let socket = format!("unix://{}", engine_socket().display());
    let secure_host = format!("tcp://127.0.0.1:{port}");
    let config = TempDir::new("docker-config");
    write_context(&config.0, "local", &socket, None);
    write_context(&config.0, "secure", &secure_host, Some(&pki));
    std::fs::write(config.join("config.json"), r#"{"auths": {}, "currentContext": "secure"}"#)
        .unwrap();
    let version = engine_version();
    let snapshot = |command: &mut Command| {
        json(
            &command
                .env("DOCKER_CONFIG", &config.0)
                .args(["snapshot", "--wait", "0"])
                .output()
                .unwrap(),
        )
    };

    // currentContext: the TLS one, its name and host in the header.
    let document = snapshot(&mut portolan());
    assert_eq!(document["engine"]["endpoint"], format!("secure ({secure_host})").as_str());
    assert_eq!(document["engine"]["version"], version.as_str());
    // --context and DOCKER_CONTEXT override it.
    let document = snapshot(portolan().args(["--context", "local"]));
    assert_eq!(document["engine"]["endpoint"], format!("local ({socket})").as_str());
    let document = snapshot(portolan().env("DOCKER_CONTEXT", "local"));
    assert_eq!(document["engine"]["endpoint"], format!("local ({socket})").as_str());
    // DOCKER_HOST beats DOCKER_CONTEXT and currentContext: no context is named.
    let document = snapshot(portolan().env("DOCKER_HOST", &socket).env("DOCKER_CONTEXT", "secure"));
    assert_eq!(document["engine"]["endpoint"], socket.as_str());

    // An unknown context is named, with the ones there are.
    let mut command = portolan();
    command.env("DOCKER_CONFIG", &config.0).args(["--context", "nope"]);
    let text = fails(command, "no docker context `nope`");
    assert!(text.contains("default, local, secure"), "lists the contexts: {text}");
    let mut command = portolan();
    command.env("DOCKER_CONFIG", &config.0).args(["-H", &socket, "--context", "local"]);
    fails(command, "named twice");

    // Several contexts: several engines, each called by its context.
    let document = snapshot(portolan().args(["--context", "local", "--context", "secure"]));
    let hosts = document["hosts"].as_array().expect("hosts");
    let names: Vec<&str> = hosts.iter().filter_map(|h| h["name"].as_str()).collect();
    assert_eq!(names, ["local", "secure"]);
    assert!(hosts.iter().all(|h| h["connected"] == true), "{hosts:?}");
    assert_eq!(hosts[1]["endpoint"], format!("secure ({secure_host})").as_str());
}

/// An sshd on 127.0.0.1 letting the current user in with a generated key, and an `ssh`
/// on PATH that uses a private config (key, known_hosts). A wrapper on PATH rather than
/// HOME: ssh finds ~/.ssh through the password database, not $HOME.
struct SshServer {
    dir: TempDir,
    port: u16,
    user: String,
    _sshd: Daemon,
}

impl SshServer {
    fn start() -> SshServer {
        SshServer::start_with("")
    }

    /// With these `NAME=value` words added to the sessions' environment.
    fn start_with(extra_env: &str) -> SshServer {
        let sshd = require("sshd");
        let keygen = require("ssh-keygen");
        let ssh = require("ssh");
        let dir = TempDir::new("sshd");
        let port = free_port();
        let user = String::from_utf8(run_ok(Command::new("id").arg("-un")).stdout)
            .unwrap()
            .trim()
            .to_string();
        for key in ["host_key", "client_key"] {
            run_ok(
                Command::new(&keygen)
                    .args(["-q", "-t", "ed25519", "-N", ""])
                    .arg("-f")
                    .arg(dir.join(key)),
            );
        }
        std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
        let host_key = std::fs::read_to_string(dir.join("host_key.pub")).unwrap();
        let host_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
        std::fs::write(
            dir.join("known_hosts"),
            format!("[127.0.0.1]:{port} {}\n", host_key.join(" ")),
        )
        .unwrap();
        let d = dir.0.display();
        std::fs::write(
            dir.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\n\
                 AuthorizedKeysFile {d}/authorized_keys\nPidFile none\nUsePAM no\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nStrictModes no\n\
                 PermitRootLogin prohibit-password\nLogLevel VERBOSE\n\
                 SetEnv DOCKER_HOST=unix://{} {extra_env}\n",
                engine_socket().display()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("ssh_config"),
            format!(
                "Host *\n  IdentityFile {d}/client_key\n  IdentitiesOnly yes\n\
                 UserKnownHostsFile {d}/known_hosts\n  StrictHostKeyChecking yes\n"
            ),
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        let wrapper = dir.join("bin/ssh");
        std::fs::write(
            &wrapper,
            format!("#!/bin/sh\nexec {} -F {d}/ssh_config \"$@\"\n", ssh.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir_all(dir.join("run")).unwrap();
        // sshd refuses to start without its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("sshd starts");
        let mut daemon = Daemon(child);
        wait_for_port(port, &mut daemon);
        SshServer { dir, port, user, _sshd: daemon }
    }

    /// portolan with the private ssh on PATH and its private directories under `run`.
    fn portolan(&self) -> Command {
        let mut command = portolan();
        let path = std::env::var("PATH").unwrap_or_default();
        command.env("PATH", format!("{}:{path}", self.dir.join("bin").display()));
        command.env("XDG_RUNTIME_DIR", self.dir.join("run"));
        command
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sshd.log")).unwrap()
    }

    fn leftovers(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.join("run")).unwrap().map(|e| e.unwrap().path()).collect()
    }
}

#[test]
fn ssh_engine_is_reached_over_one_connection_and_cleaned_up() {
    let server = SshServer::start();
    let fx = support::Fixture::new("ssh");
    // More containers than sshd's 10 sessions per connection: the first sync inspects
    // 8 at once while stats and events run, and still no second connection is opened.
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    let ids: Vec<String> = (0..12)
        .map(|n| {
            let memory = if n == 0 { "--memory=64m" } else { "--memory=0" };
            fx.run(&format!("web{n}"), &["--label", &label, memory], &["sleep", "600"])
        })
        .collect();
    let id = ids[0].clone();
    let host = format!("ssh://{}@127.0.0.1:{}", server.user, server.port);

    let output = server
        .portolan()
        .args(["-H", &host, "--project", &project, "snapshot", "--format", "json"])
        // Every request costs a channel and a remote `docker` process, and the first
        // sync inspects every container on the shared engine (dozens, when other tests
        // run): the inventory gets the 3 s connect limit plus this, and the stats their
        // two readings.
        .args(["--wait", "15"])
        .output()
        .unwrap();
    let document = json(&output);
    // The header names the ssh address, never the private socket.
    assert_eq!(document["engine"]["endpoint"], host.as_str());
    assert_eq!(document["engine"]["version"], engine_version().as_str());
    let containers = document["containers"].as_array().unwrap();
    assert!(containers.iter().any(|c| c["id"] == id.as_str()), "sees {id}: {document:#}");
    assert_eq!(containers.len(), ids.len());
    // Stats come from the host's own cgroup files, read through a shell on the same
    // ssh connection: every container has its CPU figure, and the limit set on one
    // is read on its first reading.
    for container in containers {
        let stats = &container["stats"];
        assert_eq!(stats["source"], "host cgroup files over ssh", "{container:#}");
        assert!(stats["cpu_percent"].as_f64().is_some(), "a CPU figure: {container:#}");
        assert!(stats["memory_bytes"].as_u64().is_some_and(|m| m > 0), "{container:#}");
        assert!(stats["pids"].as_u64().is_some_and(|p| p >= 1), "{container:#}");
    }
    let limited = containers.iter().find(|c| c["id"] == id.as_str()).unwrap();
    assert_eq!(limited["stats"]["memory_limit_bytes"], 64 << 20, "{limited:#}");

    // Many requests (version, info, lists, inspects, events, stats), one ssh connection:
    // each request's connection is a channel of the one master.
    let log = server.log();
    let logins = log.matches("Accepted publickey").count();
    let channels = log.matches("Starting session").count();
    assert_eq!(logins, 1, "one ssh connection: {log}");
    assert!(channels >= 3, "requests travel as channels of that connection: {log}");
    // On exit the master is ended and the private directory removed.
    let started = Instant::now();
    while !(server.log().contains("Disconnected from") && server.leftovers().is_empty()) {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the master and its directory outlived portolan: {:?}\n{}",
            server.leftovers(),
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // ssh's own words when it cannot get in.
    let mut command = server.portolan();
    command.args(["-H", &format!("ssh://portolan-nobody@127.0.0.1:{}", server.port)]);
    let text = fails(command, "Permission denied");
    assert!(text.contains("BatchMode"), "says what to do: {text}");
    let mut command = server.portolan();
    command.args(["-H", &format!("ssh://{}@localhost:{}", server.user, server.port)]);
    fails(command, "Host key verification failed");
    assert!(server.leftovers().is_empty(), "{:?}", server.leftovers());
}

#[test]
fn ssh_stats_fall_back_to_the_api_and_say_why_when_the_host_files_cannot_be_read() {
    // A host whose sessions find `docker` and `sh` but no `head`: the files cannot be
    // printed, so every container is asked of the engine's API instead, and a warning
    // says so.
    let remote_bin = TempDir::new("remote-bin");
    for tool in ["docker", "sh"] {
        std::os::unix::fs::symlink(require(tool), remote_bin.join(tool)).unwrap();
    }
    let server = SshServer::start_with(&format!("PATH={}", remote_bin.0.display()));
    let fx = support::Fixture::new("sshapi");
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    let ids: Vec<String> = (0..3)
        .map(|n| fx.run(&format!("web{n}"), &["--label", &label], &["sleep", "600"]))
        .collect();
    let host = format!("ssh://{}@127.0.0.1:{}", server.user, server.port);
    let output = server
        .portolan()
        .args(["-H", &host, "--project", &project, "snapshot", "--format", "json"])
        .args(["--wait", "20"])
        .output()
        .unwrap();
    let document = json(&output);
    let containers = document["containers"].as_array().unwrap();
    assert_eq!(containers.len(), ids.len(), "{document:#}");
    for container in containers {
        let stats = &container["stats"];
        assert_eq!(stats["source"], "engine API", "{container:#}");
        assert!(stats["cpu_percent"].as_f64().is_some(), "a CPU figure: {container:#}");
    }
    let warnings = document["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| {
            let message = w["message"].as_str().unwrap_or_default();
            message.contains("engine API") && message.contains("cannot be read over ssh")
        }),
        "says why the stats are slower: {warnings:#?}"
    );
}

/// The real binary in tmux with `command`'s environment and arguments: its shell pane
/// on `name` answers a command and reports the exit code, over whatever engine the
/// arguments name.
fn shell_pane_answers(test: &str, command: &Command, name: &str) {
    let socket = format!("portolan-endpoints-{test}-{}", std::process::id());
    let env: Vec<String> = command
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_str()?, v?.to_str()?)))
        .collect();
    let unset: Vec<String> = command
        .get_envs()
        .filter(|(_, v)| v.is_none())
        .filter_map(|(k, _)| Some(format!("-u{}", k.to_str()?)))
        .collect();
    let args: Vec<&str> = command.get_args().filter_map(|a| a.to_str()).collect();
    let tmux = |args: &[&str]| -> String {
        let out = Command::new("tmux").args(["-L", &socket]).args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let status = Command::new("tmux")
        .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d", "-s", "main"])
        .args(["-x", "120", "-y", "40", "env"])
        .args(&unset)
        .args(&env)
        .arg(command.get_program())
        .args(&args)
        .args(["--pane", "shell", "--container", name])
        .status()
        .expect("tmux runs (scripts/setup installs it)");
    assert!(status.success(), "tmux could not start a session");
    let wait = |what: &str, done: &dyn Fn(&str) -> bool| {
        let started = Instant::now();
        loop {
            let screen = tmux(&["capture-pane", "-p", "-t", "main"]);
            if done(&screen) {
                return;
            }
            if started.elapsed() > Duration::from_secs(20) {
                let _ = tmux(&["kill-server"]);
                panic!("{test}: timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait("the shell", &|s| s.contains("keys go to the shell") && s.contains(" # "));
    tmux(&["send-keys", "-t", "main", "echo hi-$((6*7))", "Enter"]);
    wait("its answer", &|s| s.contains("hi-42"));
    tmux(&["send-keys", "-t", "main", "exit 3", "Enter"]);
    wait("the exit code", &|s| s.contains("exited with code 3"));
    let _ = tmux(&["kill-server"]);
}

#[test]
fn a_shell_pane_works_over_tls_and_over_ssh() {
    let fx = support::Fixture::new("shellremote");
    fx.run("box", &[], &["sleep", "600"]);
    let name = fx.name("box");

    let pki = Pki::new();
    let (_stunnel, port) = tls_engine(&pki);
    let mut tls = portolan();
    tls.args(["-H", &format!("tcp://127.0.0.1:{port}"), "--tlsverify"])
        .args(["--tlscacert", &pki.path("ca.pem"), "--tlscert", &pki.path("cert.pem")])
        .args(["--tlskey", &pki.path("key.pem")]);
    shell_pane_answers("tls", &tls, &name);

    let server = SshServer::start();
    let mut ssh = server.portolan();
    ssh.args(["-H", &format!("ssh://{}@127.0.0.1:{}", server.user, server.port)]);
    shell_pane_answers("ssh", &ssh, &name);
    // The shell's connection was one more channel of the one ssh connection.
    assert_eq!(server.log().matches("Accepted publickey").count(), 1, "{}", server.log());
}
