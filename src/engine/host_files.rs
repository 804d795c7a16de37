//! A remote engine's counters read from its host's cgroup files, through one shell on
//! the ssh connection portolan already has.
//!
//! The engine API gives one container's stats per request, and on Docker each request
//! waits for the daemon's next collection (up to a second). An ssh connection carries
//! ten sessions, so a hundred containers took 36 s to fill the CPU column. The files
//! the daemon itself reads are on the host we are logged in to: one `head` per
//! interval prints them all, for every container, in one round trip and one process,
//! at no cost to the daemon. The figures come from the same parser the local reader
//! uses, so they are the same.
//!
//! The shell's variables hold the file lists, sent once per change of the containers
//! sampled; each interval sends one short line. What the host prints is untrusted
//! text: files are told apart by `head`'s headers for paths we asked for, and the end
//! of a reading by a random marker a container cannot guess.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::OwnedSemaphorePermit;

/// A reading larger than this is not the files we asked for.
const MAX_READING: usize = 32 << 20;
/// Lines `head` prints of each file: memory.stat has about 70.
const HEAD_LINES: usize = 400;

/// A `sh` on the engine's host.
pub struct HostShell {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    end_marker: String,
    _session: OwnedSemaphorePermit,
}

/// Whether a path can go into the shell's variables as it is: no quoting, spaces or
/// glob characters to get wrong. Docker's, systemd's and Podman's cgroup paths all
/// pass; a container whose paths do not is read through the API instead.
pub fn is_plain_path(path: &Path) -> bool {
    let Some(text) = path.to_str() else { return false };
    text.starts_with('/')
        && text.len() < 4096
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._,:@+=-".contains(&b))
}

fn random_marker() -> String {
    let state = std::collections::hash_map::RandomState::new();
    let mut hasher = state.build_hasher();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    hasher.write_u128(now.map_or(0, |d| d.as_nanos()));
    hasher.write_u32(std::process::id());
    let other = state.build_hasher().finish();
    format!("portolan-end-{:016x}{:016x}", hasher.finish(), other)
}

impl HostShell {
    /// Starts the shell `command` runs (an ssh session) while `session` is held.
    pub async fn start(
        mut command: Command,
        session: OwnedSemaphorePermit,
        limit: Duration,
    ) -> io::Result<HostShell> {
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
        command.kill_on_drop(true);
        let mut child = command.spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(io::Error::other("the shell has no pipes"));
        };
        let mut shell = HostShell {
            _child: child,
            stdin,
            stdout: BufReader::new(stdout),
            end_marker: random_marker(),
            _session: session,
        };
        // No globbing of the variables, no error chatter, one language for `head`.
        shell.send("set -f; exec 2>/dev/null; LC_ALL=C; export LC_ALL\n", limit).await?;
        Ok(shell)
    }

    async fn send(&mut self, text: &str, limit: Duration) -> io::Result<()> {
        let write = async {
            self.stdin.write_all(text.as_bytes()).await?;
            self.stdin.flush().await
        };
        tokio::time::timeout(limit, write).await.map_err(|_| {
            io::Error::new(io::ErrorKind::TimedOut, "the host shell stopped reading")
        })?
    }

    /// Sets shell variable `name` to these paths (all [`is_plain_path`]).
    pub async fn define<'a>(
        &mut self,
        name: &str,
        paths: impl Iterator<Item = &'a Path>,
        limit: Duration,
    ) -> io::Result<()> {
        let mut line = format!("{name}='");
        for path in paths {
            if let Some(text) = path.to_str().filter(|_| is_plain_path(path)) {
                line.push_str(text);
                line.push(' ');
            }
        }
        line.push_str("'\n");
        self.send(&line, limit).await
    }

    /// Reads files on the host: `words` are plain paths and `$VARIABLE`s defined
    /// before. `/proc/uptime` comes first, as the host's clock for the reading. Returns
    /// each file that could be read, by path.
    pub async fn read(&mut self, words: &[&str], limit: Duration) -> io::Result<Reading> {
        let mut line = format!("head -v -n {HEAD_LINES} -- /proc/uptime");
        for word in words {
            line.push(' ');
            line.push_str(word);
        }
        line.push_str("; echo ");
        line.push_str(&self.end_marker);
        line.push('\n');
        self.send(&line, limit).await?;
        let mut output = Vec::new();
        let marker = self.end_marker.clone();
        let collect = async {
            loop {
                let start = output.len();
                let n = self.stdout.read_until(b'\n', &mut output).await?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the host shell ended",
                    ));
                }
                if output[start..].strip_suffix(b"\n").unwrap_or(&output[start..])
                    == marker.as_bytes()
                {
                    output.truncate(start);
                    return Ok(());
                }
                if output.len() > MAX_READING {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the host printed more than the files asked for",
                    ));
                }
            }
        };
        tokio::time::timeout(limit, collect).await.map_err(|_| {
            io::Error::new(io::ErrorKind::TimedOut, "the host shell did not answer")
        })??;
        Ok(Reading::parse(&String::from_utf8_lossy(&output)))
    }
}

/// The files of one reading, by path.
#[derive(Debug, Default, PartialEq)]
pub struct Reading {
    files: HashMap<String, String>,
}

impl Reading {
    /// `head -v` output: each file after a `==> PATH <==` line. Only absolute paths
    /// start a file, and a path seen twice keeps its first text: a counter file's
    /// contents cannot pass for another file.
    pub fn parse(output: &str) -> Reading {
        let mut files: HashMap<String, String> = HashMap::new();
        let mut current: Option<(String, String)> = None;
        for line in output.split_inclusive('\n') {
            let bare = line.trim_end_matches('\n');
            let header = bare
                .strip_prefix("==> ")
                .and_then(|rest| rest.strip_suffix(" <=="))
                .filter(|path| path.starts_with('/') && !path.contains(' '));
            match header {
                Some(path) => {
                    if let Some((path, text)) = current.take() {
                        files.entry(path).or_insert(text);
                    }
                    current = Some((path.to_string(), String::new()));
                }
                None => {
                    if let Some((_, text)) = current.as_mut() {
                        text.push_str(line);
                    }
                }
            }
        }
        if let Some((path, text)) = current {
            files.entry(path).or_insert(text);
        }
        Reading { files }
    }

    pub fn get(&self, path: &Path) -> Option<&str> {
        self.files.get(path.to_str()?).map(String::as_str)
    }

    /// The host's monotonic clock when the reading began, from `/proc/uptime`.
    pub fn uptime_ns(&self) -> Option<u64> {
        let seconds: f64 =
            self.files.get("/proc/uptime")?.split_whitespace().next()?.parse().ok()?;
        (seconds.is_finite() && seconds >= 0.0).then_some((seconds * 1e9) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_split_by_the_headers_of_absolute_paths() {
        let output = "==> /proc/uptime <==\n1234.56 99.0\n\n==> /sys/a/cpuacct.usage <==\n42\n\n\
                      ==> /proc/7/net/dev <==\nInter-|\n face |\n  eth0: 1 2\n";
        let reading = Reading::parse(output);
        assert_eq!(reading.uptime_ns(), Some(1_234_560_000_000));
        assert_eq!(reading.get(Path::new("/sys/a/cpuacct.usage")).map(str::trim), Some("42"));
        assert!(reading.get(Path::new("/proc/7/net/dev")).unwrap().contains("eth0: 1 2"));
        assert_eq!(reading.get(Path::new("/missing")), None);
    }

    #[test]
    fn file_contents_cannot_pose_as_another_file() {
        // Text before any header, a relative "path", and a second copy of a path.
        let output = "==> /x <==\nstray\n==> /a <==\n1\n==> rel <==\n==> /a <==\n999\n";
        let reading = Reading::parse(output);
        assert_eq!(reading.get(Path::new("/a")), Some("1\n==> rel <==\n"));
        assert_eq!(reading.get(Path::new("/x")), Some("stray\n"));
        assert_eq!(Reading::parse("no header\n"), Reading::default());
    }

    #[test]
    fn only_plain_paths_go_to_the_shell() {
        for good in [
            "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpuacct.usage",
            "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/x/libpod-ab.scope/cpu.stat",
            "/proc/123/net/dev",
        ] {
            assert!(is_plain_path(Path::new(good)), "{good}");
        }
        for bad in ["relative/x", "/a b", "/a'b", "/a*", "/a$(reboot)", "/a;b", "/a\nb", "/a`b`"] {
            assert!(!is_plain_path(Path::new(bad)), "{bad}");
        }
    }

    #[test]
    fn markers_differ() {
        assert_ne!(random_marker(), random_marker());
    }
}
