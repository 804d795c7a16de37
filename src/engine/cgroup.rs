//! Reads a local container's counters straight from its cgroup and /proc files.
//!
//! On the engine's own host this costs the daemon nothing: `docker stats` makes
//! dockerd walk containerd and the shims every second for every container
//! (moby#39664), while a file read here is a few microseconds of kernel time. File
//! handles stay open between samples and are re-read from offset 0.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::model::stats::{CgroupLayout, SampleSource, memory_used};
use crate::model::{CpuCounter, RawSample};

/// Where the cgroup hierarchies are mounted, read once from /proc/self/mountinfo.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CgroupMounts {
    /// controller → (mount point, root of the hierarchy inside the mount)
    v1: HashMap<String, (PathBuf, String)>,
    v2: Option<(PathBuf, String)>,
}

impl CgroupMounts {
    pub fn detect() -> io::Result<CgroupMounts> {
        CgroupMounts::detect_at(Path::new("/"))
    }

    /// [`CgroupMounts::detect`] with every absolute path taken under `root`: how the
    /// tests run the real reader against a copy of another host's files.
    pub fn detect_at(root: &Path) -> io::Result<CgroupMounts> {
        let text = std::fs::read_to_string(under(root, Path::new("/proc/self/mountinfo")))?;
        Ok(parse_mountinfo(&text))
    }

    pub fn is_empty(&self) -> bool {
        self.v1.is_empty() && self.v2.is_none()
    }
}

pub fn parse_mountinfo(text: &str) -> CgroupMounts {
    let mut mounts = CgroupMounts::default();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else { continue };
        if fields.len() < dash + 4 || dash < 5 {
            continue;
        }
        let root = unescape(fields[3]);
        let mount_point = PathBuf::from(unescape(fields[4]));
        let fstype = fields[dash + 1];
        let super_options = fields[dash + 3];
        match fstype {
            "cgroup2" => {
                mounts.v2.get_or_insert((mount_point, root));
            }
            "cgroup" => {
                for option in super_options.split(',') {
                    if matches!(option, "cpuacct" | "cpu" | "memory" | "pids" | "blkio") {
                        mounts
                            .v1
                            .entry(option.to_string())
                            .or_insert_with(|| (mount_point.clone(), root.clone()));
                    }
                }
            }
            _ => {}
        }
    }
    mounts
}

/// mountinfo escapes spaces and a few other bytes as `\040`-style octal.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let digits = std::str::from_utf8(&bytes[i + 1..i + 4]).unwrap_or("");
            {
                if let Ok(value) = u8::from_str_radix(digits, 8) {
                    out.push(value);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `/proc/<pid>/cgroup`: `hierarchy:controllers:path` lines. Returns the v1 paths by
/// controller and the v2 path (hierarchy 0 with no controllers).
pub fn parse_proc_cgroup(text: &str) -> (HashMap<String, String>, Option<String>) {
    let mut v1 = HashMap::new();
    let mut v2 = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(hierarchy), Some(controllers), Some(path)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if hierarchy == "0" && controllers.is_empty() {
            v2 = Some(path.to_string());
        } else {
            for controller in controllers.split(',') {
                v1.insert(controller.to_string(), path.to_string());
            }
        }
    }
    (v1, v2)
}

/// An absolute path as seen from `root` ("/" in production).
pub fn under(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

fn resolve(mount: &(PathBuf, String), path: &str) -> PathBuf {
    let (mount_point, root) = mount;
    let relative =
        if root != "/" { path.strip_prefix(root.as_str()).unwrap_or(path) } else { path };
    mount_point.join(relative.trim_start_matches('/'))
}

/// Sums `Read` and `Write` from v1's `blkio.throttle.io_service_bytes*`.
pub fn parse_blkio_v1(text: &str) -> (u64, u64) {
    let (mut read, mut write) = (0u64, 0u64);
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(_device), Some(op), Some(value)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Ok(value) = value.parse::<u64>() else { continue };
        match op {
            "Read" => read = read.saturating_add(value),
            "Write" => write = write.saturating_add(value),
            _ => {}
        }
    }
    (read, write)
}

/// Sums `rbytes=` and `wbytes=` from v2's `io.stat`.
pub fn parse_io_stat_v2(text: &str) -> (u64, u64) {
    let (mut read, mut write) = (0u64, 0u64);
    for field in text.split_whitespace() {
        if let Some(v) = field.strip_prefix("rbytes=").and_then(|v| v.parse::<u64>().ok()) {
            read = read.saturating_add(v);
        } else if let Some(v) = field.strip_prefix("wbytes=").and_then(|v| v.parse::<u64>().ok()) {
            write = write.saturating_add(v);
        }
    }
    (read, write)
}

/// Sums received and transmitted bytes over every interface but loopback, as the
/// engine does for a container's network namespace.
pub fn parse_net_dev(text: &str) -> (u64, u64) {
    let (mut rx, mut tx) = (0u64, 0u64);
    for line in text.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else { continue };
        if name.trim() == "lo" {
            continue;
        }
        let values: Vec<u64> = counters.split_whitespace().filter_map(|v| v.parse().ok()).collect();
        if values.len() >= 9 {
            rx = rx.saturating_add(values[0]);
            tx = tx.saturating_add(values[8]);
        }
    }
    (rx, tx)
}

/// `key value` lines (memory.stat, cpu.stat).
pub fn parse_flat_keyed(text: &str) -> Vec<(&str, u64)> {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(' ')?;
            Some((key, value.trim().parse().ok()?))
        })
        .collect()
}

pub fn parse_number(text: &str) -> Option<u64> {
    let text = text.trim();
    if text == "max" {
        return Some(u64::MAX);
    }
    text.parse().ok()
}

/// The few causes a user meets here, in words rather than an OS error number.
fn io_words(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::NotFound => "no such file".into(),
        _ => error.to_string(),
    }
}

/// Why a container cannot be read locally (the collector then asks the engine).
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("{} is not readable ({})", path.display(), io_words(source))]
    Proc { path: PathBuf, source: io::Error },
    #[error("process {pid} does not belong to container {id} (another pid namespace?)")]
    NotThisContainer { pid: u32, id: String },
    #[error("no cgroup mount for {0}")]
    NoMount(&'static str),
    #[error("{} is not readable ({})", path.display(), io_words(source))]
    Open { path: PathBuf, source: io::Error },
}

impl CgroupError {
    /// Whether the container's main process is already gone: it exited between the
    /// engine's answer and this read, which says nothing about the files.
    pub fn container_gone(&self) -> bool {
        matches!(self, CgroupError::Proc { source, .. }
            if matches!(source.kind(), io::ErrorKind::NotFound) || source.raw_os_error() == Some(3))
    }
}

/// Where one container's counter files are, worked out once from the mounts and its
/// main process's `/proc/<pid>/cgroup`. The same paths serve a local reader (which
/// opens them) and a remote one (which asks an ssh shell for them).
#[derive(Debug, Clone, PartialEq)]
pub struct CgroupPaths {
    pub layout: CgroupLayout,
    pub cpu: PathBuf,
    pub memory_usage: PathBuf,
    pub memory_stat: PathBuf,
    pub memory_limit: PathBuf,
    pub pids: Option<PathBuf>,
    /// In order of preference: cgroup v1 names the block I/O table two ways.
    pub blkio: Vec<PathBuf>,
    /// Where the kernel counts OOM kills: v2's `memory.events`, v1's
    /// `memory.oom_control` (whose `oom_kill` line needs Linux 4.13).
    pub oom_events: PathBuf,
    pub net_dev: PathBuf,
}

impl CgroupPaths {
    /// `proc_cgroup` is the text of `/proc/<pid>/cgroup`.
    pub fn resolve(
        mounts: &CgroupMounts,
        id: &str,
        pid: u32,
        proc_cgroup: &str,
    ) -> Result<CgroupPaths, CgroupError> {
        let (v1, v2) = parse_proc_cgroup(proc_cgroup);
        // A pid from another namespace would name some other process: refuse unless
        // its cgroup path carries the container's id.
        let belongs = !id.is_empty() && v1.values().chain(v2.iter()).any(|path| path.contains(id));
        if !belongs {
            return Err(CgroupError::NotThisContainer { pid, id: id.to_string() });
        }
        let net_dev = PathBuf::from(format!("/proc/{pid}/net/dev"));
        match (v1.get("memory"), &mounts.v2, v2) {
            (Some(memory_path), _, _) if mounts.v1.contains_key("memory") => {
                let dir = |controller: &'static str| -> Result<PathBuf, CgroupError> {
                    let mount =
                        mounts.v1.get(controller).ok_or(CgroupError::NoMount(controller))?;
                    let path = v1.get(controller).unwrap_or(memory_path);
                    Ok(resolve(mount, path))
                };
                let memory = dir("memory")?;
                let blkio = dir("blkio").ok();
                Ok(CgroupPaths {
                    layout: CgroupLayout::V1,
                    cpu: dir("cpuacct")?.join("cpuacct.usage"),
                    memory_usage: memory.join("memory.usage_in_bytes"),
                    memory_stat: memory.join("memory.stat"),
                    memory_limit: memory.join("memory.limit_in_bytes"),
                    pids: dir("pids").ok().map(|d| d.join("pids.current")),
                    blkio: blkio
                        .map(|d| {
                            vec![
                                d.join("blkio.throttle.io_service_bytes_recursive"),
                                d.join("blkio.throttle.io_service_bytes"),
                            ]
                        })
                        .unwrap_or_default(),
                    oom_events: memory.join("memory.oom_control"),
                    net_dev,
                })
            }
            (_, Some(mount), Some(path)) => {
                let dir = resolve(mount, &path);
                Ok(CgroupPaths {
                    layout: CgroupLayout::V2,
                    cpu: dir.join("cpu.stat"),
                    memory_usage: dir.join("memory.current"),
                    memory_stat: dir.join("memory.stat"),
                    memory_limit: dir.join("memory.max"),
                    pids: Some(dir.join("pids.current")),
                    blkio: vec![dir.join("io.stat")],
                    oom_events: dir.join("memory.events"),
                    net_dev,
                })
            }
            _ => Err(CgroupError::NoMount("memory")),
        }
    }
}

/// The kernel formats `memory.stat` (~70 counters, each summed over every CPU in
/// cgroup v1) and the block I/O table anew on every read: that was most of portolan's
/// idle CPU with 50 containers. The inactive file cache, the limit and the block
/// totals change slowly, so they are read every fifth sample; usage, CPU, pids and
/// network are read every time.
pub const SLOW_EVERY: u64 = 5;

/// What a reader of one container's files keeps between samples, and how a reading's
/// texts become a [`RawSample`]: shared by the local and the remote readers so both
/// give the same figures for the same files.
#[derive(Debug, Clone)]
pub struct Counters {
    layout: CgroupLayout,
    source: SampleSource,
    samples: u64,
    /// Slow-moving figures, refreshed every [`SLOW_EVERY`] samples (see there).
    inactive_file: Option<u64>,
    limit: Option<u64>,
    block: (Option<u64>, Option<u64>),
    oom_kills: Option<u64>,
}

impl Counters {
    pub fn new(layout: CgroupLayout, source: SampleSource) -> Counters {
        Counters {
            layout,
            source,
            samples: 0,
            inactive_file: None,
            limit: None,
            block: (None, None),
            oom_kills: None,
        }
    }

    /// Whether nothing was read yet.
    pub fn is_fresh(&self) -> bool {
        self.samples == 0
    }

    /// Whether this sample should read the slow files too.
    pub fn wants_slow(&self) -> bool {
        self.samples.is_multiple_of(SLOW_EVERY)
    }

    pub fn cpu_ns(&self, text: &str) -> u64 {
        match self.layout {
            CgroupLayout::V1 => parse_number(text).unwrap_or(0),
            CgroupLayout::V2 => parse_flat_keyed(text)
                .iter()
                .find(|(k, _)| *k == "usage_usec")
                .map_or(0, |(_, v)| v.saturating_mul(1000)),
        }
    }

    fn inactive_key(&self) -> &'static str {
        match self.layout {
            CgroupLayout::V1 => "total_inactive_file",
            CgroupLayout::V2 => "inactive_file",
        }
    }

    pub fn note_memory_stat(&mut self, text: &str) {
        let key = self.inactive_key();
        self.inactive_file =
            parse_flat_keyed(text).iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    }

    pub fn note_limit(&mut self, text: &str) {
        self.limit = parse_number(text);
    }

    /// `None` when the container has no block I/O table.
    pub fn note_block(&mut self, text: Option<&str>) {
        self.block = match text {
            Some(text) => {
                let (r, w) = match self.layout {
                    CgroupLayout::V1 => parse_blkio_v1(text),
                    CgroupLayout::V2 => parse_io_stat_v2(text),
                };
                (Some(r), Some(w))
            }
            None => (None, None),
        };
    }

    /// `None` when the kernel keeps no OOM kill count for this container.
    pub fn note_oom_events(&mut self, text: Option<&str>) {
        self.oom_kills = text.and_then(|text| {
            parse_flat_keyed(text).iter().find(|(k, _)| *k == "oom_kill").map(|(_, v)| *v)
        });
    }

    /// One sample from the fast figures just read and the slow ones last noted.
    pub fn finish(
        &mut self,
        cpu_ns: u64,
        usage: Option<u64>,
        pids: Option<u64>,
        net: Option<(u64, u64)>,
        monotonic_ns: u64,
    ) -> RawSample {
        self.samples += 1;
        let used = usage.map(|usage| {
            let stat = self.inactive_file.map(|v| [(self.inactive_key(), v)]);
            memory_used(self.layout, usage, stat.as_ref().map_or(&[][..], |s| &s[..]))
        });
        let (block_read, block_write) = self.block;
        RawSample {
            source: self.source,
            taken_at: Utc::now(),
            cpu: Some(CpuCounter::Cgroup { usage_ns: cpu_ns, at_ns: monotonic_ns }),
            memory_used: used,
            memory_limit: self.limit,
            net_rx: net.map(|(rx, _)| rx),
            net_tx: net.map(|(_, tx)| tx),
            block_read,
            block_write,
            pids,
            oom_kills: self.oom_kills,
        }
    }
}

struct Files {
    cpu: File,
    memory_usage: File,
    memory_stat: File,
    memory_limit: File,
    pids: Option<File>,
    blkio: Option<File>,
    oom_events: Option<File>,
    net_dev: Option<File>,
}

/// Open handles on one container's counter files.
pub struct CgroupReader {
    files: Files,
    buffer: Vec<u8>,
    counters: Counters,
}

fn open(path: PathBuf) -> Result<File, CgroupError> {
    File::open(&path).map_err(|source| CgroupError::Open { path, source })
}

impl CgroupReader {
    pub fn open(mounts: &CgroupMounts, id: &str, pid: u32) -> Result<CgroupReader, CgroupError> {
        CgroupReader::open_at(Path::new("/"), mounts, id, pid)
    }

    /// [`CgroupReader::open`] with every absolute path (the mounts' and /proc's) taken
    /// under `root`, so the same code reads a fixture tree laid out like a host's.
    pub fn open_at(
        root: &Path,
        mounts: &CgroupMounts,
        id: &str,
        pid: u32,
    ) -> Result<CgroupReader, CgroupError> {
        let proc_cgroup = under(root, Path::new(&format!("/proc/{pid}/cgroup")));
        let text = std::fs::read_to_string(&proc_cgroup)
            .map_err(|source| CgroupError::Proc { path: proc_cgroup, source })?;
        let paths = CgroupPaths::resolve(mounts, id, pid, &text)?;
        let at = |path: &Path| under(root, path);
        let files = Files {
            cpu: open(at(&paths.cpu))?,
            memory_usage: open(at(&paths.memory_usage))?,
            memory_stat: open(at(&paths.memory_stat))?,
            memory_limit: open(at(&paths.memory_limit))?,
            pids: paths.pids.and_then(|p| File::open(at(&p)).ok()),
            blkio: paths.blkio.iter().find_map(|p| File::open(at(p)).ok()),
            oom_events: File::open(at(&paths.oom_events)).ok(),
            net_dev: File::open(at(&paths.net_dev)).ok(),
        };
        Ok(CgroupReader {
            files,
            buffer: Vec::with_capacity(8192),
            counters: Counters::new(paths.layout, SampleSource::CgroupFiles),
        })
    }

    fn read_file<'b>(buffer: &'b mut Vec<u8>, file: &File) -> io::Result<&'b str> {
        // Kernel pseudo-files generate their whole content on a read from offset 0, and
        // again for a read at any other offset: one read of a large enough buffer is
        // half the cost of reading until EOF. Only a full buffer asks for more.
        const CHUNK: usize = 8192;
        buffer.clear();
        loop {
            let start = buffer.len();
            buffer.resize(start + CHUNK, 0);
            let n = file.read_at(&mut buffer[start..], start as u64)?;
            buffer.truncate(start + n);
            if n < CHUNK || buffer.len() > 1 << 20 {
                break;
            }
        }
        std::str::from_utf8(buffer).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// One reading. An error means the container is gone or the files vanished.
    pub fn sample(&mut self, monotonic_ns: u64) -> io::Result<RawSample> {
        let files = &self.files;
        let buffer = &mut self.buffer;
        let counters = &mut self.counters;
        let cpu_ns = counters.cpu_ns(Self::read_file(buffer, &files.cpu)?);
        let usage = parse_number(Self::read_file(buffer, &files.memory_usage)?);
        if counters.wants_slow() {
            counters.note_memory_stat(Self::read_file(buffer, &files.memory_stat)?);
            counters.note_limit(Self::read_file(buffer, &files.memory_limit)?);
            match &files.blkio {
                Some(file) => counters.note_block(Some(Self::read_file(buffer, file)?)),
                None => counters.note_block(None),
            }
            match &files.oom_events {
                Some(file) => counters.note_oom_events(Self::read_file(buffer, file).ok()),
                None => counters.note_oom_events(None),
            }
        }
        let pids = match &files.pids {
            Some(file) => parse_number(Self::read_file(buffer, file)?),
            None => None,
        };
        let net = match &files.net_dev {
            Some(file) => Self::read_file(buffer, file).ok().map(parse_net_dev),
            None => None,
        };
        Ok(counters.finish(cpu_ns, usage, pids, net, monotonic_ns))
    }
}

/// Whether this process can see cgroup files at all.
pub fn available(mounts: &CgroupMounts) -> bool {
    !mounts.is_empty() && Path::new("/proc/self/cgroup").exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
35 24 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
36 35 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
37 35 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct
38 35 0:33 /sandbox /sys/fs/cgroup/pids rw,nosuid shared:17 - cgroup cgroup rw,pids
39 35 0:34 / /sys/fs/cgroup/unified rw,nosuid shared:18 - cgroup2 cgroup2 rw
";

    #[test]
    fn mountinfo_finds_v1_and_v2() {
        let mounts = parse_mountinfo(MOUNTINFO);
        assert_eq!(mounts.v1["memory"].0, PathBuf::from("/sys/fs/cgroup/memory"));
        assert_eq!(mounts.v1["cpuacct"].0, PathBuf::from("/sys/fs/cgroup/cpu,cpuacct"));
        assert_eq!(mounts.v1["pids"].1, "/sandbox");
        assert!(mounts.v2.is_some());
        assert!(!mounts.v1.contains_key("cgroup"));
    }

    #[test]
    fn proc_cgroup_and_resolution() {
        let text = "12:pids:/sandbox/docker/abc\n4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/docker/abc\n";
        let (v1, v2) = parse_proc_cgroup(text);
        assert_eq!(v1["cpuacct"], "/docker/abc");
        assert_eq!(v2.as_deref(), Some("/docker/abc"));
        let mounts = parse_mountinfo(MOUNTINFO);
        assert_eq!(
            resolve(&mounts.v1["pids"], &v1["pids"]),
            PathBuf::from("/sys/fs/cgroup/pids/docker/abc")
        );
        assert_eq!(
            resolve(&mounts.v1["memory"], &v1["memory"]),
            PathBuf::from("/sys/fs/cgroup/memory/docker/abc")
        );
    }

    #[test]
    fn paths_resolve_for_v1_and_v2_and_refuse_another_process() {
        let mounts = parse_mountinfo(MOUNTINFO);
        let v1 = "5:blkio:/docker/abc\n4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n12:pids:/sandbox/docker/abc\n";
        let paths = CgroupPaths::resolve(&mounts, "abc", 7, v1).unwrap();
        assert_eq!(paths.layout, CgroupLayout::V1);
        assert_eq!(paths.cpu, PathBuf::from("/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpuacct.usage"));
        assert_eq!(paths.pids, Some(PathBuf::from("/sys/fs/cgroup/pids/docker/abc/pids.current")));
        // No blkio mount in this mountinfo: no block table.
        assert!(paths.blkio.is_empty());
        assert_eq!(paths.net_dev, PathBuf::from("/proc/7/net/dev"));

        let v2_only = "\
40 35 0:34 / /sys/fs/cgroup rw,nosuid shared:18 - cgroup2 cgroup2 rw
";
        let mounts = parse_mountinfo(v2_only);
        let text = "0::/system.slice/docker-abc.scope\n";
        let paths = CgroupPaths::resolve(&mounts, "abc", 9, text).unwrap();
        assert_eq!(paths.layout, CgroupLayout::V2);
        assert_eq!(
            paths.memory_limit,
            PathBuf::from("/sys/fs/cgroup/system.slice/docker-abc.scope/memory.max")
        );
        assert!(matches!(
            CgroupPaths::resolve(&mounts, "other", 9, text),
            Err(CgroupError::NotThisContainer { .. })
        ));
    }

    #[test]
    fn podman_paths_resolve_like_dockers() {
        // Podman with the cgroupfs manager on cgroup v1 (as here: no systemd).
        let mounts = parse_mountinfo(MOUNTINFO);
        let v1 = "4:memory:/libpod_parent/libpod-abc\n3:cpu,cpuacct:/libpod_parent/libpod-abc\n";
        let paths = CgroupPaths::resolve(&mounts, "abc", 7, v1).unwrap();
        assert_eq!(
            paths.memory_usage,
            PathBuf::from("/sys/fs/cgroup/memory/libpod_parent/libpod-abc/memory.usage_in_bytes")
        );
        // Podman 4 under systemd on cgroup v2: the payload in `container` under the
        // scope, conmon in a scope of its own (`libpod-conmon-<id>.scope`), not counted.
        let v2_only = "40 35 0:34 / /sys/fs/cgroup rw,nosuid shared:18 - cgroup2 cgroup2 rw\n";
        let mounts = parse_mountinfo(v2_only);
        let text = "0::/machine.slice/libpod-abc.scope/container\n";
        let paths = CgroupPaths::resolve(&mounts, "abc", 9, text).unwrap();
        assert_eq!(paths.layout, CgroupLayout::V2);
        assert_eq!(
            paths.cpu,
            PathBuf::from("/sys/fs/cgroup/machine.slice/libpod-abc.scope/container/cpu.stat")
        );
        // A pod's member sits in the pod's slice.
        let text = "0::/machine.slice/machine-libpod_pod_p1.slice/libpod-abc.scope/container\n";
        assert!(CgroupPaths::resolve(&mounts, "abc", 9, text).is_ok());
    }

    #[test]
    fn counters_parse() {
        let blkio = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 1\n8:16 Read 100\nTotal 12389\n";
        assert_eq!(parse_blkio_v1(blkio), (4196, 8192));
        assert_eq!(
            parse_io_stat_v2("8:0 rbytes=10 wbytes=20 rios=1\n8:16 rbytes=5 wbytes=0\n"),
            (15, 20)
        );
        let net = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:  999 9 0 0 0 0 0 0  999 9 0 0 0 0 0 0\n  eth0: 1500 10 0 0 0 0 0 0 700 5 0 0 0 0 0 0\n  eth1: 500 1 0 0 0 0 0 0 300 1 0 0 0 0 0 0\n";
        assert_eq!(parse_net_dev(net), (2000, 1000));
        assert_eq!(parse_flat_keyed("usage_usec 1500\nuser_usec 1000\n")[0], ("usage_usec", 1500));
        assert_eq!(parse_number("max\n"), Some(u64::MAX));
        assert_eq!(unescape("/a\\040b"), "/a b");
    }
}
