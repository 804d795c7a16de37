//! Compose commands (up, down, restart, stop, pull, build, re-create one service) run
//! through the compose CLI that made the project, against the engine the project
//! lives on, with the project's name, files and directory from its labels. The child
//! process runs in a task of its own; every line it prints leaves as an owned
//! `Update::Run`, then its exit status. Whether a command can run here at all is
//! decided first, purely ([`plan`]): a remote engine's files are not on this machine,
//! and portolan says so instead of guessing.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use chrono::Utc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

use super::endpoint::Endpoint;
use crate::model::Update;
use crate::model::compose_runs::{ComposeTarget, ComposeVerb, LineKind, RunUpdate};

/// What the UI asks: run `verb` on `target`, reported as run `run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeRequest {
    pub run: u64,
    pub verb: ComposeVerb,
    pub target: ComposeTarget,
}

/// Which compose CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cli {
    /// The `docker compose` plugin (compose v2).
    Plugin,
    /// The Python `docker-compose` (compose v1), or the v2 standalone binary.
    Standalone,
}

/// Which compose CLIs are installed here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Installed {
    pub plugin: bool,
    pub standalone: bool,
}

/// A command line ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub program: String,
    pub args: Vec<String>,
    /// Variables to set; `None` removes one.
    pub env: Vec<(String, Option<String>)>,
    pub dir: PathBuf,
}

impl Invocation {
    /// The command line as the pane shows it (the environment that names the engine
    /// first).
    pub fn display(&self) -> String {
        let mut words: Vec<String> = self
            .env
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", quote(v))))
            .collect();
        words.push(self.program.clone());
        words.extend(self.args.iter().map(|a| quote(a)));
        words.join(" ")
    }
}

fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,".contains(c));
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

/// The environment that points a docker CLI at `endpoint`.
pub fn engine_env(endpoint: &Endpoint) -> Vec<(String, Option<String>)> {
    match endpoint {
        Endpoint::Context { name, .. } => {
            vec![("DOCKER_HOST".into(), None), ("DOCKER_CONTEXT".into(), Some(name.clone()))]
        }
        Endpoint::Found { endpoint, .. } => engine_env(endpoint),
        Endpoint::Unix(path) => {
            vec![("DOCKER_HOST".into(), Some(format!("unix://{}", path.display())))]
        }
        Endpoint::Tcp { host, port, tls } => {
            let mut env = vec![("DOCKER_HOST".into(), Some(format!("tcp://{host}:{port}")))];
            if let Some(tls) = tls {
                env.push(("DOCKER_TLS_VERIFY".into(), Some("1".into())));
                if let Some(dir) = tls.ca.parent() {
                    env.push(("DOCKER_CERT_PATH".into(), Some(dir.display().to_string())));
                }
            }
            env
        }
        Endpoint::Ssh(tunnel) => {
            vec![("DOCKER_HOST".into(), Some(tunnel.target.to_string()))]
        }
    }
}

/// Which CLI runs a project made by compose `version` (its label), of those installed.
pub fn pick_cli(version: Option<&str>, installed: Installed) -> Option<Cli> {
    let v1 = version.is_some_and(|v| v.trim().starts_with("1."));
    let preferred =
        if v1 { [Cli::Standalone, Cli::Plugin] } else { [Cli::Plugin, Cli::Standalone] };
    preferred.into_iter().find(|cli| match cli {
        Cli::Plugin => installed.plugin,
        Cli::Standalone => installed.standalone,
    })
}

/// Why a compose command cannot run from here, in words.
pub type Refusal = String;

/// Works out the command line for `verb` on `target`, or says why it cannot run here.
/// `exists` tells whether a path is on this machine.
pub fn plan(
    endpoint: &Endpoint,
    target: &ComposeTarget,
    verb: ComposeVerb,
    installed: Installed,
    exists: &dyn Fn(&Path) -> bool,
) -> Result<Invocation, Refusal> {
    let what = target.describe();
    if !endpoint.is_local() {
        return Err(format!(
            "{what} lives on a remote engine ({}): its compose files are on that machine, \
             not this one. Run docker compose there.",
            endpoint.short_name()
        ));
    }
    let Some(dir) = target.working_dir.as_deref().filter(|d| !d.trim().is_empty()) else {
        return Err(format!(
            "{what} has no working-directory label: portolan cannot tell where its compose \
             files are"
        ));
    };
    let dir = PathBuf::from(dir);
    if !exists(&dir) {
        return Err(format!(
            "the directory of {what}, {}, is not on this machine: the project was made \
             elsewhere (another machine, or a container with its own filesystem)",
            dir.display()
        ));
    }
    if target.config_files.is_empty() {
        return Err(format!("{what} has no config-files label: portolan cannot tell its files"));
    }
    let mut files = Vec::new();
    for file in &target.config_files {
        let path = PathBuf::from(file);
        let path = if path.is_relative() { dir.join(path) } else { path };
        if !exists(&path) {
            return Err(format!(
                "the compose file {} of {what} is not on this machine",
                path.display()
            ));
        }
        files.push(path);
    }
    let Some(cli) = pick_cli(target.compose_version.as_deref(), installed) else {
        return Err("neither docker compose nor docker-compose is installed here".into());
    };
    let (program, mut args) = match cli {
        Cli::Plugin => ("docker".to_string(), vec!["compose".to_string()]),
        Cli::Standalone => ("docker-compose".to_string(), Vec::new()),
    };
    args.extend(["-p".to_string(), target.project.clone()]);
    for file in files {
        args.extend(["-f".to_string(), file.display().to_string()]);
    }
    args.extend(["--project-directory".to_string(), dir.display().to_string()]);
    args.extend(verb.args(target.service.as_deref()));
    Ok(Invocation { program, args, env: engine_env(endpoint), dir })
}

/// Whether `program` is an executable file on `PATH`.
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else { return false };
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(program))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// Which compose CLIs are installed (`docker compose version` answers; `docker-compose`
/// is on `PATH`).
pub async fn installed() -> Installed {
    let standalone = on_path("docker-compose");
    let plugin = on_path("docker")
        && tokio::time::timeout(
            std::time::Duration::from_secs(5),
            Command::new("docker")
                .args(["compose", "version"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .status(),
        )
        .await
        .is_ok_and(|s| s.is_ok_and(|s| s.success()));
    Installed { plugin, standalone }
}

/// Title of a run: `re-create service web of project shop`.
pub fn title(verb: ComposeVerb, target: &ComposeTarget) -> String {
    format!("{} {}", verb.as_str(), target.describe())
}

/// Plans and runs one compose command, reporting it as run `request.run`.
pub async fn run(endpoint: Endpoint, request: ComposeRequest, updates: mpsc::Sender<Update>) {
    let ComposeRequest { run: id, verb, target } = request;
    let host = target.host;
    let title = title(verb, &target);
    let installed = installed().await;
    let planned = plan(&endpoint, &target, verb, installed, &|p: &Path| p.exists());
    let invocation = match planned {
        Ok(invocation) => invocation,
        Err(why) => {
            let at = Utc::now();
            let started = RunUpdate::Started { id, host, title, command: None, at };
            let _ = updates.send(Update::Run(Box::new(started))).await;
            let status = format!("refused: {why}");
            let ended = RunUpdate::Ended { id, at, ok: false, status };
            let _ = updates.send(Update::Run(Box::new(ended))).await;
            return;
        }
    };
    let command = Some(invocation.display());
    let started = RunUpdate::Started { id, host, title, command, at: Utc::now() };
    if updates.send(Update::Run(Box::new(started))).await.is_err() {
        return;
    }
    let (ok, status) = execute(&invocation, id, &updates).await;
    let ended = RunUpdate::Ended { id, at: Utc::now(), ok, status };
    let _ = updates.send(Update::Run(Box::new(ended))).await;
}

/// Runs an invocation to its end, its output sent line by line as run `id`; returns
/// whether it succeeded and its status in words.
pub async fn execute(
    invocation: &Invocation,
    id: u64,
    updates: &mpsc::Sender<Update>,
) -> (bool, String) {
    let mut command = Command::new(&invocation.program);
    command
        .args(&invocation.args)
        .current_dir(&invocation.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (key, value) in &invocation.env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => return (false, format!("could not start {}: {error}", invocation.program)),
    };
    let out = child.stdout.take().map(|s| tokio::spawn(forward(s, id, updates.clone())));
    let err = child.stderr.take().map(|s| tokio::spawn(forward(s, id, updates.clone())));
    let status = child.wait().await;
    for reader in [out, err].into_iter().flatten() {
        let _ = reader.await;
    }
    match status {
        Ok(status) => match status.code() {
            Some(code) => (code == 0, format!("exit status {code}")),
            None => (false, "ended by a signal".to_string()),
        },
        Err(error) => (false, format!("lost the command: {error}")),
    }
}

/// The longest piece of output read as one line.
const LINE_LIMIT: u64 = 64 * 1024;

/// Sends what a stream prints, one line at a time (a carriage return starts the line
/// over, as a terminal would show it).
async fn forward(stream: impl AsyncRead + Unpin, id: u64, updates: mpsc::Sender<Update>) {
    let mut reader = BufReader::new(stream);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        // A line without an end is cut into pieces rather than held whole.
        match (&mut reader).take(LINE_LIMIT).read_until(b'\n', &mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&buffer);
        let text = text.trim_end_matches(['\n', '\r']);
        let text = text.rsplit('\r').next().unwrap_or_default().to_string();
        let lines = vec![(LineKind::Output, text)];
        if updates.send(Update::Run(Box::new(RunUpdate::Lines { id, lines }))).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> ComposeTarget {
        ComposeTarget {
            host: 0,
            project: "shop".into(),
            service: Some("web".into()),
            working_dir: Some("/srv/shop".into()),
            config_files: vec!["/srv/shop/docker-compose.yml".into()],
            compose_version: Some("1.29.2".into()),
        }
    }

    const BOTH: Installed = Installed { plugin: true, standalone: true };

    #[test]
    fn a_local_project_runs_through_the_cli_that_made_it() {
        let endpoint = Endpoint::Unix("/var/run/docker.sock".into());
        let plan = plan(&endpoint, &target(), ComposeVerb::Recreate, BOTH, &|_| true);
        let plan = plan.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.program, "docker-compose");
        assert_eq!(
            plan.display(),
            "DOCKER_HOST=unix:///var/run/docker.sock docker-compose -p shop \
             -f /srv/shop/docker-compose.yml --project-directory /srv/shop \
             up -d --no-deps --force-recreate web"
        );
        assert_eq!(pick_cli(Some("2.24.0"), BOTH), Some(Cli::Plugin));
        let only_v1 = Installed { plugin: false, standalone: true };
        assert_eq!(pick_cli(Some("2.24.0"), only_v1), Some(Cli::Standalone), "falls back");
        assert_eq!(pick_cli(None, Installed::default()), None);
    }

    #[tokio::test]
    async fn output_streams_line_by_line_and_the_exit_status_is_said() {
        let invocation = Invocation {
            program: "sh".into(),
            args: vec![
                "-c".into(),
                "printf 'pulling 10%%\\rpulling done\\n'; printf 'oops\\n' >&2; exit 3".into(),
            ],
            env: vec![("DOCKER_HOST".into(), None)],
            dir: std::env::temp_dir(),
        };
        let (tx, mut rx) = mpsc::channel(16);
        let (ok, status) = execute(&invocation, 7, &tx).await;
        drop(tx);
        assert!(!ok);
        assert_eq!(status, "exit status 3");
        let mut lines = Vec::new();
        while let Some(Update::Run(run)) = rx.recv().await {
            if let RunUpdate::Lines { id: 7, lines: got } = *run {
                lines.extend(got.into_iter().map(|(_, text)| text));
            }
        }
        lines.sort();
        assert_eq!(lines, ["oops", "pulling done"], "a carriage return starts the line over");
    }

    #[test]
    fn a_remote_engine_or_missing_files_are_refused_in_words() {
        let remote = Endpoint::parse("ssh://deploy@prod").unwrap_or_else(|e| panic!("{e}"));
        let why = plan(&remote, &target(), ComposeVerb::Up, BOTH, &|_| true).unwrap_err();
        assert!(why.contains("remote engine") && why.contains("not this one"), "{why}");
        let tcp = Endpoint::parse("tcp://10.0.0.5:2376").unwrap_or_else(|e| panic!("{e}"));
        assert!(plan(&tcp, &target(), ComposeVerb::Up, BOTH, &|_| true).is_err());
        let local = Endpoint::Unix("/var/run/docker.sock".into());
        let why = plan(&local, &target(), ComposeVerb::Up, BOTH, &|_| false).unwrap_err();
        assert!(why.contains("/srv/shop") && why.contains("not on this machine"), "{why}");
        let why =
            plan(&local, &target(), ComposeVerb::Up, Installed::default(), &|_| true).unwrap_err();
        assert!(why.contains("neither docker compose nor docker-compose"), "{why}");
        let mut bare = target();
        bare.working_dir = None;
        assert!(plan(&local, &bare, ComposeVerb::Up, BOTH, &|_| true).is_err());
    }
}
