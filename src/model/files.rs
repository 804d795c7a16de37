//! A container's filesystem as the Files pane shows it: directory listings read from
//! the headers of the engine's tar stream, the head of one file, and copies in and
//! out with their progress.
//!
//! The Engine API has no "list a directory": `GET /containers/{id}/archive` streams a
//! tar of a path. The engine side reads only the headers and hands each to a
//! [`ListingBuilder`], which keeps the direct children and adds up what streams under
//! each child directory. Everything here is pure: no I/O, so it is tested with plain
//! headers. Names and link targets are the container's to choose: they stay raw here
//! and are made safe where they are drawn ([`crate::model::sanitize::one_line`]).

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::natural::natural_cmp;

/// How much of a file the viewer reads: enough to read a config or a log's start,
/// small enough to hold and draw at once.
pub const HEAD_LIMIT: usize = 256 * 1024;

/// How many directory listings the model keeps, most recent first out: going back to
/// a parent shows at once, and browsing a big tree does not grow without end.
const LISTINGS_KEPT: usize = 32;

/// How many transfers the pane remembers (finished ones included).
const TRANSFERS_KEPT: usize = 8;

/// What an entry of the tar stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// A second name of a file listed earlier in the same stream.
    HardLink,
    CharDevice,
    BlockDevice,
    Fifo,
    Other,
}

impl EntryKind {
    /// The first letter of `ls -l`'s mode column.
    pub fn letter(self) -> char {
        match self {
            EntryKind::File | EntryKind::HardLink => '-',
            EntryKind::Dir => 'd',
            EntryKind::Symlink => 'l',
            EntryKind::CharDevice => 'c',
            EntryKind::BlockDevice => 'b',
            EntryKind::Fifo => 'p',
            EntryKind::Other => '?',
        }
    }
}

/// One entry: a tar header as the engine side reads it. In a [`Listing`], `name` is
/// the last component; as read from the stream it is the whole path in the tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub name: String,
    pub kind: EntryKind,
    /// The file's size; for a directory of a listing, what streamed below it.
    pub size: u64,
    /// Permission bits with setuid, setgid and sticky (`0o7777`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// User and group names, when the tar carries them (often it does not).
    pub user: String,
    pub group: String,
    /// Seconds since the epoch.
    pub mtime: i64,
    /// Where a symbolic or hard link points; empty otherwise.
    pub link_target: String,
    /// Entries that streamed below a directory (0 for anything else).
    pub below: u64,
}

impl FileEntry {
    /// `drwxr-xr-x`, as `ls -l` writes it, setuid, setgid and sticky included.
    pub fn mode_string(&self) -> String {
        let m = self.mode;
        let bit = |mask: u32, c: char| if m & mask != 0 { c } else { '-' };
        let special = |exec: bool, set: bool, on: char, off: char| match (exec, set) {
            (true, true) => on,
            (false, true) => off,
            (true, false) => 'x',
            (false, false) => '-',
        };
        let mut s = String::with_capacity(10);
        s.push(self.kind.letter());
        s.push(bit(0o400, 'r'));
        s.push(bit(0o200, 'w'));
        s.push(special(m & 0o100 != 0, m & 0o4000 != 0, 's', 'S'));
        s.push(bit(0o040, 'r'));
        s.push(bit(0o020, 'w'));
        s.push(special(m & 0o010 != 0, m & 0o2000 != 0, 's', 'S'));
        s.push(bit(0o004, 'r'));
        s.push(bit(0o002, 'w'));
        s.push(special(m & 0o001 != 0, m & 0o1000 != 0, 't', 'T'));
        s
    }

    /// `user:group` by name where the tar names them, else by number.
    pub fn owner(&self) -> String {
        let user = if self.user.is_empty() { self.uid.to_string() } else { self.user.clone() };
        let group = if self.group.is_empty() { self.gid.to_string() } else { self.group.clone() };
        format!("{user}:{group}")
    }

    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Dir
    }
}

/// Why a listing stopped before the end of the stream: a budget ran out, so sizes
/// below are partial and names after the cut are missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// This many entries were read.
    Entries(u64),
    /// This many bytes streamed.
    Bytes(u64),
    /// This many seconds went by.
    Seconds(u64),
}

impl Cut {
    pub fn describe(self) -> String {
        match self {
            Cut::Entries(n) => format!("stopped after {n} entries"),
            Cut::Bytes(n) => format!("stopped after {} streamed", super::format::bytes(n)),
            Cut::Seconds(n) => format!("stopped after {n} s"),
        }
    }
}

/// One directory's children, read from the headers of its tar.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Listing {
    /// The directory's own entry (its mode and owner).
    pub dir: Option<FileEntry>,
    /// The direct children: directories first, then files, each in natural order.
    pub entries: Vec<FileEntry>,
    /// Entries read from the stream, all depths.
    pub read: u64,
    /// Set when a budget stopped the reading.
    pub cut: Option<Cut>,
}

/// The engine's answer for one directory of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingAnswer {
    pub id: String,
    pub path: String,
    pub at: DateTime<Utc>,
    /// The listing, or why there is none, in words.
    pub result: Result<Listing, String>,
}

/// Builds a [`Listing`] from tar headers in stream order. The first header is the
/// directory itself and names the root every later path starts with (`etc/` for
/// `/etc/`, `/` for the root, `./` for `dir/.`).
#[derive(Debug, Default)]
pub struct ListingBuilder {
    root: Option<String>,
    dir: Option<FileEntry>,
    children: Vec<FileEntry>,
    by_name: HashMap<String, usize>,
    read: u64,
}

impl ListingBuilder {
    pub fn push(&mut self, mut entry: FileEntry) {
        self.read += 1;
        let Some(root) = &self.root else {
            self.root = Some(entry.name.trim_end_matches('/').to_string());
            self.dir = Some(entry);
            return;
        };
        let Some(rest) = relative(root, &entry.name) else { return };
        let mut parts = rest.split('/').filter(|p| !p.is_empty() && *p != ".");
        let Some(first) = parts.next().map(String::from) else { return };
        let deeper = parts.next().is_some();
        match (deeper, self.by_name.get(&first)) {
            (false, Some(_)) => {}
            (false, None) => {
                entry.name = first.clone();
                if entry.kind != EntryKind::Dir {
                    entry.below = 0;
                }
                self.by_name.insert(first, self.children.len());
                self.children.push(entry);
            }
            (true, found) => {
                let index = match found {
                    Some(index) => *index,
                    // A child whose own header never came (a tar need not list every
                    // directory): it is a directory, known only by what is below it.
                    None => {
                        let index = self.children.len();
                        self.children.push(FileEntry {
                            name: first.clone(),
                            kind: EntryKind::Dir,
                            size: 0,
                            mode: 0,
                            uid: 0,
                            gid: 0,
                            user: String::new(),
                            group: String::new(),
                            mtime: 0,
                            link_target: String::new(),
                            below: 0,
                        });
                        self.by_name.insert(first, index);
                        index
                    }
                };
                let child = &mut self.children[index];
                if entry.kind == EntryKind::File {
                    child.size = child.size.saturating_add(entry.size);
                }
                child.below += 1;
            }
        }
    }

    /// Entries read so far.
    pub fn read(&self) -> u64 {
        self.read
    }

    pub fn finish(self, cut: Option<Cut>) -> Listing {
        let mut entries = self.children;
        for e in &mut entries {
            if e.kind == EntryKind::Dir && e.below == 0 {
                // A directory's own tar size is 0: what is below it is what it holds.
                e.size = 0;
            }
        }
        entries.sort_by(order);
        Listing { dir: self.dir, entries, read: self.read, cut }
    }
}

/// Directories first, then the rest, each in natural order (`f2` before `f10`).
fn order(a: &FileEntry, b: &FileEntry) -> Ordering {
    b.is_dir()
        .cmp(&a.is_dir())
        .then_with(|| natural_cmp(&a.name, &b.name))
        .then_with(|| a.name.cmp(&b.name))
}

/// `name` below `root` in a tar, without the separating `/`; `None` when it is not
/// below it.
fn relative<'a>(root: &str, name: &'a str) -> Option<&'a str> {
    let rest = name.strip_prefix(root)?;
    if root.is_empty() {
        // The root of the filesystem: its entries are `/bin/`, `/etc/…`.
        return Some(rest.trim_start_matches('/'));
    }
    rest.strip_prefix('/')
}

/// The path of the directory's child `name`.
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') { format!("{dir}{name}") } else { format!("{dir}/{name}") }
}

/// The directory above `path`; `/` is its own parent.
pub fn parent(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => trimmed[..i].to_string(),
    }
}

/// Where a symbolic link at `link` that points to `target` leads, as an absolute,
/// normalised path in the container (`..` never climbs above `/`).
pub fn resolve_link(link: &str, target: &str) -> String {
    let base = if target.starts_with('/') { String::new() } else { parent(link) };
    let mut parts: Vec<&str> = Vec::new();
    for part in base.split('/').chain(target.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Why a name from a tar stream is not unpacked: it would land outside the
/// destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsafe {
    NotBelowRoot,
    Absolute,
    ParentDirectory,
}

/// The components of tar path `name` below the stream's `root` (the first entry's
/// name), to be joined onto a local destination; empty for the root itself. Refuses
/// what would escape the destination: `..`, and absolute paths once the root is off.
/// Works on bytes: a name need not be UTF-8, and is written under its own bytes.
pub fn unpack_parts<'a>(root: &[u8], name: &'a [u8]) -> Result<Vec<&'a [u8]>, Unsafe> {
    let trim = |mut s: &'a [u8]| {
        while let [rest @ .., b'/'] = s {
            s = rest;
        }
        s
    };
    let root = {
        let mut r = root;
        while let [rest @ .., b'/'] = r {
            r = rest;
        }
        r
    };
    let name = trim(name);
    let rest = name.strip_prefix(root).ok_or(Unsafe::NotBelowRoot)?;
    let rest = if root.is_empty() {
        // The filesystem's root: `/bin` is `bin` below it.
        rest.strip_prefix(b"/").unwrap_or(rest)
    } else if rest.is_empty() {
        rest
    } else {
        rest.strip_prefix(b"/").ok_or(Unsafe::NotBelowRoot)?
    };
    if rest.starts_with(b"/") {
        return Err(Unsafe::Absolute);
    }
    let mut parts = Vec::new();
    for part in rest.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err(Unsafe::ParentDirectory),
            part => parts.push(part),
        }
    }
    Ok(parts)
}

/// The first bytes of one file of a container, for the viewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHead {
    pub id: String,
    /// The path asked for (a link's own path when it was followed).
    pub path: String,
    pub at: DateTime<Utc>,
    pub result: Result<Head, String>,
    /// Where the path led when it is a directory (a link to one): the pane opens it
    /// as a directory instead of viewing it.
    pub directory: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The whole file's size.
    pub size: u64,
    /// At most [`HEAD_LIMIT`] bytes from its start.
    pub bytes: Vec<u8>,
    /// The path read, after following links.
    pub resolved: String,
}

impl Head {
    pub fn is_binary(&self) -> bool {
        is_binary(&self.bytes)
    }

    /// Whether the file is longer than what was read.
    pub fn is_cut(&self) -> bool {
        (self.bytes.len() as u64) < self.size
    }
}

/// Whether `bytes` look like something other than text: a NUL, or many control
/// bytes that text does not use (tab, line ends, form feed and escape are text; so
/// are bytes of multibyte UTF-8 and legacy encodings).
pub fn is_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(8192)];
    if sample.contains(&0) {
        return true;
    }
    let controls = sample
        .iter()
        .filter(|b| **b < 0x20 && !matches!(**b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    controls * 10 > sample.len()
}

/// The lines of a text head, each made safe exactly as a log line is (escapes
/// removed, colours dropped, invalid UTF-8 as U+FFFD, tabs expanded).
pub fn text_lines(bytes: &[u8]) -> Vec<String> {
    use super::logs::line::{LineOptions, LineParser};
    let mut parser = LineParser::new(LineOptions::default().with_colors(false));
    if bytes.is_empty() {
        return Vec::new();
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    body.split(|b| *b == b'\n').map(|line| parser.parse(line).display().to_string()).collect()
}

/// `hexdump -C`'s lines for the first `max` bytes: offset, sixteen bytes, and the
/// printable ASCII of them.
pub fn hex_lines(bytes: &[u8], max: usize) -> Vec<String> {
    bytes[..bytes.len().min(max)]
        .chunks(16)
        .enumerate()
        .map(|(row, chunk)| {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let ascii: String = chunk
                .iter()
                .map(|b| if b.is_ascii_graphic() || *b == b' ' { *b as char } else { '.' })
                .collect();
            format!("{:08x}  {:<47}  |{ascii}|", row * 16, hex.join(" "))
        })
        .collect()
}

/// Which way a copy goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the container to the operator's machine.
    Out,
    /// From the operator's machine into the container.
    In,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferState {
    Running,
    /// Finished; `skipped` special files (devices, fifos, unsafe names) were not written.
    Done {
        skipped: u64,
    },
    Failed(String),
}

/// One copy and how far it got; the engine side sends it again as it moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Chosen by the pane, unique in a session.
    pub number: u64,
    pub container: String,
    pub direction: Direction,
    /// The path in the container.
    pub remote: String,
    /// The path on the operator's machine.
    pub local: String,
    /// Bytes of file content moved so far.
    pub done: u64,
    /// Bytes expected, when known.
    pub total: Option<u64>,
    pub state: TransferState,
}

impl Transfer {
    /// `copy out 1.2 MiB of 3.4 MiB (35%) · /etc/passwd → ./passwd`, the words the
    /// pane shows (raw: the pane sanitises them). How far it got comes first: a long
    /// path must not push it off a narrow screen.
    pub fn describe(&self) -> String {
        let (verb, from, to) = match self.direction {
            Direction::Out => ("copy out", &self.remote, &self.local),
            Direction::In => ("copy in", &self.local, &self.remote),
        };
        let amount = match self.total {
            Some(total) if total > 0 => format!(
                "{} of {} ({}%)",
                super::format::bytes(self.done),
                super::format::bytes(total),
                (self.done.min(total) * 100) / total
            ),
            _ => super::format::bytes(self.done),
        };
        let state = match &self.state {
            TransferState::Running => amount,
            TransferState::Done { skipped: 0 } => format!("done, {amount}"),
            TransferState::Done { skipped } => {
                format!("done, {amount}; {skipped} special files or unsafe names skipped")
            }
            TransferState::Failed(why) => format!("failed after {amount}: {why}"),
        };
        format!("{verb} {state} · {from} → {to}")
    }
}

/// What the Files pane's engine side reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilesUpdate {
    Listing(ListingAnswer),
    Head(FileHead),
    Transfer(Transfer),
}

/// What the model keeps for the Files pane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilesState {
    /// Listings by (container id, directory), with the order they came in.
    pub listings: BTreeMap<(String, String), ListingAnswer>,
    arrival: Vec<(String, String)>,
    /// The file last read for the viewer.
    pub head: Option<FileHead>,
    /// Copies, oldest first.
    pub transfers: Vec<Transfer>,
}

impl FilesState {
    pub fn listing(&self, id: &str, path: &str) -> Option<&ListingAnswer> {
        self.listings.get(&(id.to_string(), path.to_string()))
    }

    /// Folds in an answer; returns whether anything changed.
    pub fn apply(&mut self, update: FilesUpdate) -> bool {
        match update {
            FilesUpdate::Listing(answer) => {
                let key = (answer.id.clone(), answer.path.clone());
                self.arrival.retain(|k| *k != key);
                self.arrival.push(key.clone());
                self.listings.insert(key, answer);
                while self.arrival.len() > LISTINGS_KEPT {
                    let old = self.arrival.remove(0);
                    self.listings.remove(&old);
                }
                true
            }
            FilesUpdate::Head(head) => {
                self.head = Some(head);
                true
            }
            FilesUpdate::Transfer(transfer) => {
                match self.transfers.iter_mut().find(|t| t.number == transfer.number) {
                    Some(known) if *known == transfer => return false,
                    Some(known) => *known = transfer,
                    None => {
                        self.transfers.push(transfer);
                        if self.transfers.len() > TRANSFERS_KEPT {
                            self.transfers.remove(0);
                        }
                    }
                }
                true
            }
        }
    }

    /// Forgets what was read of a container that is gone.
    pub fn forget(&mut self, id: &str) {
        self.listings.retain(|(c, _), _| c != id);
        self.arrival.retain(|(c, _)| c != id);
        if self.head.as_ref().is_some_and(|h| h.id == id) {
            self.head = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sanitize::one_line;

    fn entry(name: &str, kind: EntryKind, size: u64) -> FileEntry {
        FileEntry {
            name: name.into(),
            kind,
            size,
            mode: if kind == EntryKind::Dir { 0o755 } else { 0o644 },
            uid: 0,
            gid: 0,
            user: String::new(),
            group: String::new(),
            mtime: 0,
            link_target: String::new(),
            below: 0,
        }
    }

    fn shown(listing: &Listing) -> Vec<String> {
        listing
            .entries
            .iter()
            .map(|e| format!("{} {} {}", e.kind.letter(), e.name, e.size))
            .collect()
    }

    #[test]
    fn direct_children_are_listed_and_a_child_directory_sums_what_streams_below() {
        use EntryKind::*;
        let mut b = ListingBuilder::default();
        for e in [
            entry("etc/", Dir, 0),
            entry("etc/passwd", File, 100),
            entry("etc/ssl/", Dir, 0),
            entry("etc/ssl/certs/", Dir, 0),
            entry("etc/ssl/certs/ca.pem", File, 2000),
            entry("etc/ssl/openssl.cnf", File, 30),
            entry("etc/file10", File, 1),
            entry("etc/file2", File, 2),
        ] {
            b.push(e);
        }
        let listing = b.finish(None);
        assert_eq!(listing.dir.as_ref().map(|d| d.name.as_str()), Some("etc/"));
        assert_eq!(
            shown(&listing),
            vec!["d ssl 2030", "- file2 2", "- file10 1", "- passwd 100"],
            "directories first, natural order"
        );
        assert_eq!(listing.entries[0].below, 3);
        assert_eq!(listing.read, 8);
        assert_eq!(listing.cut, None);
    }

    #[test]
    fn the_roots_of_the_filesystem_and_of_a_followed_link_are_recognised() {
        use EntryKind::*;
        let mut root = ListingBuilder::default();
        for e in [
            entry("/", Dir, 0),
            entry("/.dockerenv", File, 0),
            entry("/bin/", Dir, 0),
            entry("/bin/sh", File, 9),
        ] {
            root.push(e);
        }
        assert_eq!(shown(&root.finish(None)), vec!["d bin 9", "- .dockerenv 0"]);
        let mut dot = ListingBuilder::default();
        for e in [entry("./", Dir, 0), entry("./f", File, 2)] {
            dot.push(e);
        }
        assert_eq!(shown(&dot.finish(None)), vec!["- f 2"]);
    }

    #[test]
    fn a_directory_known_only_by_what_is_below_it_still_shows() {
        let mut b = ListingBuilder::default();
        b.push(entry("d/", EntryKind::Dir, 0));
        b.push(entry("d/x/y", EntryKind::File, 5));
        // Something not below the root is no child.
        b.push(entry("elsewhere/z", EntryKind::File, 5));
        let listing = b.finish(Some(Cut::Entries(3)));
        assert_eq!(shown(&listing), vec!["d x 5"]);
        assert_eq!(listing.cut.map(Cut::describe).as_deref(), Some("stopped after 3 entries"));
    }

    #[test]
    fn modes_read_as_ls_writes_them() {
        let mut e = entry("f", EntryKind::File, 0);
        e.mode = 0o4755;
        assert_eq!(e.mode_string(), "-rwsr-xr-x");
        e.mode = 0o2640;
        assert_eq!(e.mode_string(), "-rw-r-S---");
        let mut d = entry("tmp", EntryKind::Dir, 0);
        d.mode = 0o1777;
        assert_eq!(d.mode_string(), "drwxrwxrwt");
        let mut l = entry("l", EntryKind::Symlink, 0);
        l.mode = 0o777;
        assert_eq!(l.mode_string(), "lrwxrwxrwx");
        e.uid = 123;
        e.gid = 45;
        assert_eq!(e.owner(), "123:45");
        e.user = "app".into();
        assert_eq!(e.owner(), "app:45");
    }

    #[test]
    fn paths_join_climb_and_links_resolve() {
        assert_eq!(join("/", "etc"), "/etc");
        assert_eq!(join("/etc", "passwd"), "/etc/passwd");
        assert_eq!(parent("/etc/ssl"), "/etc");
        assert_eq!(parent("/etc"), "/");
        assert_eq!(parent("/"), "/");
        assert_eq!(resolve_link("/lib64", "usr/lib"), "/usr/lib");
        assert_eq!(resolve_link("/bin/sh", "/bin/busybox"), "/bin/busybox");
        assert_eq!(resolve_link("/a/b/c", "../../../../x"), "/x", "never above /");
    }

    #[test]
    fn unpacking_refuses_names_that_escape_the_destination() {
        fn ok<'a>(root: &[u8], name: &'a [u8]) -> Result<Vec<&'a [u8]>, Unsafe> {
            unpack_parts(root, name)
        }
        assert_eq!(ok(b"d/", b"d/"), Ok(vec![]));
        assert_eq!(ok(b"d/", b"d/a/b"), Ok(vec![&b"a"[..], b"b"]));
        assert_eq!(ok(b"d/", b"d/./a"), Ok(vec![&b"a"[..]]));
        assert_eq!(ok(b"d/", b"d/../etc/passwd"), Err(Unsafe::ParentDirectory));
        assert_eq!(ok(b"d/", b"d/a/../../x"), Err(Unsafe::ParentDirectory));
        assert_eq!(ok(b"d/", b"/etc/passwd"), Err(Unsafe::NotBelowRoot));
        assert_eq!(ok(b"d/", b"dd/x"), Err(Unsafe::NotBelowRoot), "a prefix is not a parent");
        assert_eq!(ok(b"d", b"d//etc"), Err(Unsafe::Absolute));
        assert_eq!(ok(b"/", b"/bin/sh"), Ok(vec![&b"bin"[..], b"sh"]));
        assert_eq!(ok(b"./", b"./f"), Ok(vec![&b"f"[..]]));
        assert_eq!(ok(b"d/", b"d/\xff\xfe"), Ok(vec![&b"\xff\xfe"[..]]), "bytes kept");
    }

    #[test]
    fn text_is_sanitised_as_logs_are_and_binaries_are_recognised() {
        let lines = text_lines(b"plain\n\x1b[31mred\x1b[0m\n\x1b]0;title\x07tail\n\xff\xfe bad\n");
        assert_eq!(lines[0], "plain");
        assert_eq!(lines[1], "red", "colours dropped with their escapes");
        assert_eq!(lines[2], "tail", "an OSC title is removed");
        assert!(lines[3].contains('\u{FFFD}'));
        assert!(lines.iter().all(|l| !l.chars().any(char::is_control)));
        assert_eq!(lines.len(), 4, "the final newline ends the last line, it adds none");
        assert!(text_lines(b"").is_empty());
        assert!(!is_binary(b"key = value\n\tindented\r\n"));
        assert!(is_binary(b"\x7fELF\x02\x01\x01\0\0\0"));
        assert!(is_binary(&[1, 2, 3, 4, 5, 6, b'a']));
        let hex = hex_lines(b"\x7fELF hello world!!", 64);
        assert_eq!(
            hex[0],
            "00000000  7f 45 4c 46 20 68 65 6c 6c 6f 20 77 6f 72 6c 64  |.ELF hello world|"
        );
        assert!(hex[1].starts_with("00000010  21 21 "));
    }

    #[test]
    fn hostile_names_stay_raw_in_the_model_and_draw_safe() {
        let mut b = ListingBuilder::default();
        b.push(entry("d/", EntryKind::Dir, 0));
        b.push(entry("d/evil\x1b[2J\nname\u{202e}", EntryKind::File, 1));
        let listing = b.finish(None);
        let name = &listing.entries[0].name;
        assert!(name.contains('\u{1b}') && name.contains('\n'));
        let drawn = one_line(name);
        assert!(!drawn.chars().any(char::is_control), "{drawn:?}");
        assert_eq!(drawn, "evil name");
    }

    fn transfer(number: u64, done: u64, state: TransferState) -> Transfer {
        Transfer {
            number,
            container: "c".into(),
            direction: Direction::Out,
            remote: "/big".into(),
            local: "/tmp/big".into(),
            done,
            total: Some(4096),
            state,
        }
    }

    #[test]
    fn state_keeps_recent_listings_and_transfers_by_number() {
        let mut state = FilesState::default();
        for i in 0..40 {
            let answer = ListingAnswer {
                id: "c".into(),
                path: format!("/d{i}"),
                at: Utc::now(),
                result: Ok(Listing::default()),
            };
            assert!(state.apply(FilesUpdate::Listing(answer)));
        }
        assert_eq!(state.listings.len(), LISTINGS_KEPT);
        assert!(state.listing("c", "/d0").is_none() && state.listing("c", "/d39").is_some());
        assert!(state.apply(FilesUpdate::Transfer(transfer(1, 1024, TransferState::Running))));
        assert!(!state.apply(FilesUpdate::Transfer(transfer(1, 1024, TransferState::Running))));
        assert!(state.apply(FilesUpdate::Transfer(transfer(
            1,
            4096,
            TransferState::Done { skipped: 0 }
        ))));
        assert_eq!(state.transfers.len(), 1);
        assert_eq!(
            state.transfers[0].describe(),
            "copy out done, 4.00KiB of 4.00KiB (100%) · /big → /tmp/big"
        );
        let failed = transfer(2, 1024, TransferState::Failed("disk full".into()));
        assert_eq!(
            failed.describe(),
            "copy out failed after 1.00KiB of 4.00KiB (25%): disk full · /big → /tmp/big"
        );
        state.forget("c");
        assert!(state.listings.is_empty());
    }
}
