//! The Files pane's engine side: a container's filesystem through the archive
//! endpoint, which works on stopped containers too and over any transport.
//!
//! - A listing streams the tar of the directory and reads only its headers, skipping
//!   file bodies as they stream by (nothing is buffered), within a budget of entries,
//!   bytes and time: a listing of `/usr` must not stream gigabytes. It stops early
//!   rather than late, and says so ([`Cut`]).
//! - A file's head reads at most [`HEAD_LIMIT`] bytes of its tar entry and drops the
//!   stream, which cancels the request.
//! - A copy out unpacks the tar under a local path, refusing names that would land
//!   outside it, device nodes and fifos; symbolic links are kept as links. A copy in
//!   builds a one-file tar stream and sends it with `PUT /containers/{id}/archive`.
//!
//! The `tar` crate reads synchronously: the HTTP body is handed to it chunk by chunk
//! through a bounded channel ([`ChannelReader`]) on a blocking thread, so the engine
//! is never asked for more than a few chunks ahead of what the reader has taken.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bollard::Docker;
use bytes::Bytes;
use chrono::Utc;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::error::EngineError;
use crate::model::Update;
use crate::model::files::{
    Cut, Direction, EntryKind, FileEntry, FileHead, FilesUpdate, HEAD_LIMIT, Head, Listing,
    ListingAnswer, ListingBuilder, Transfer, TransferState, resolve_link, unpack_parts,
};

/// What the Files pane asks of the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilesRequest {
    /// List directory `path` of container `id` (replacing any listing or head under way).
    List { id: String, path: String },
    /// Read the head of file `path` (replacing any listing or head under way).
    Head { id: String, path: String },
    /// Copy `path` (a file or a directory) out to `local` on this machine.
    CopyOut { number: u64, id: String, path: String, local: PathBuf, expected: Option<u64> },
    /// Copy the local file `local` into directory `dir` of the container.
    CopyIn { number: u64, id: String, dir: String, local: PathBuf },
    /// The operator left the pane: stop any listing or head under way (copies go on).
    Leave,
}

/// How much a listing may read before it stops and says its sizes are partial.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub entries: u64,
    pub bytes: u64,
    pub time: Duration,
}

/// A local engine streams a gigabyte in about a second; a remote one gets as far as
/// it can in the time.
pub const LIST_BUDGET: Budget =
    Budget { entries: 100_000, bytes: 1024 * 1024 * 1024, time: Duration::from_secs(8) };

/// A stream that sends nothing for this long has stalled.
const STALL: Duration = Duration::from_secs(30);

/// How often a copy reports its progress: every so often, and every so many bytes,
/// so a fast local copy still shows it moving.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
const PROGRESS_BYTES: u64 = 16 * 1024 * 1024;

/// Links followed to reach a file to view, at most.
const MAX_LINKS: usize = 8;

/// Why the bytes of a tar stream stopped coming.
#[derive(Debug, Clone)]
enum StreamEnd {
    /// The engine refused or broke off, in words.
    Engine(String),
    /// The listing's time budget ran out.
    Deadline,
    Stalled,
}

/// Streams the tar of `path` into a bounded channel, chunk by chunk, until the reader
/// goes away, `cancel` fires or `deadline` passes; dropping the stream ends the request.
fn pump(
    docker: &Docker,
    id: &str,
    path: &str,
    deadline: Option<tokio::time::Instant>,
    cancel: CancellationToken,
) -> mpsc::Receiver<Result<Bytes, StreamEnd>> {
    use bollard::query_parameters::DownloadFromContainerOptions;
    let (tx, rx) = mpsc::channel(4);
    let options = DownloadFromContainerOptions { path: path.to_string() };
    let mut stream = Box::pin(docker.download_from_container(id, Some(options)));
    let path = path.to_string();
    tokio::spawn(async move {
        let far = tokio::time::Instant::now() + Duration::from_secs(365 * 24 * 3600);
        let deadline = deadline.unwrap_or(far);
        loop {
            let next = tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tx.closed() => return,
                _ = tokio::time::sleep_until(deadline) => Some(Err(StreamEnd::Deadline)),
                next = tokio::time::timeout(STALL, stream.next()) => match next {
                    Err(_) => Some(Err(StreamEnd::Stalled)),
                    Ok(None) => None,
                    Ok(Some(Ok(bytes))) => Some(Ok(bytes)),
                    Ok(Some(Err(error))) => Some(Err(StreamEnd::Engine(refusal(error, &path)))),
                },
            };
            let Some(item) = next else { return };
            let last = item.is_err();
            if tx.send(item).await.is_err() || last {
                return;
            }
        }
    });
    rx
}

/// The engine's refusal of a path, in words: gone, not allowed, or its own message.
pub fn refusal(error: bollard::errors::Error, path: &str) -> String {
    use bollard::errors::Error;
    // A listing asks for `dir/` (to follow a link): the operator named `dir`.
    let path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
    match error {
        Error::DockerResponseServerError { status_code: 404, message } => {
            if message.contains("No such container") {
                "the container is gone".to_string()
            } else {
                format!("{path} is not there (no such file or directory)")
            }
        }
        Error::DockerResponseServerError { message, .. }
            if message.to_ascii_lowercase().contains("permission denied") =>
        {
            format!("permission denied on {path}")
        }
        Error::DockerResponseServerError { status_code, message } => {
            format!("the engine refused ({status_code}): {message}")
        }
        other => EngineError::from(other).to_string(),
    }
}

/// The body of a tar stream as [`Read`], for a blocking thread.
struct ChannelReader {
    rx: mpsc::Receiver<Result<Bytes, StreamEnd>>,
    chunk: Bytes,
    /// Bytes handed out so far.
    read: u64,
    /// Why the stream ended early, once it has.
    end: Option<StreamEnd>,
    /// Stop (as an error) once this many bytes were read (a listing sets it).
    byte_budget: Option<u64>,
}

impl ChannelReader {
    fn new(rx: mpsc::Receiver<Result<Bytes, StreamEnd>>) -> Self {
        ChannelReader { rx, chunk: Bytes::new(), read: 0, end: None, byte_budget: None }
    }

    fn over_budget(&self) -> bool {
        self.byte_budget.is_some_and(|b| self.read >= b)
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.over_budget() {
            return Err(io::Error::other("byte budget spent"));
        }
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(bytes)) => self.chunk = bytes,
                Some(Err(end)) => {
                    self.end = Some(end);
                    return Err(io::Error::other("the stream ended early"));
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        self.read += n as u64;
        Ok(n)
    }
}

/// A tar header as the model takes it: the whole path in `name`.
fn entry_of<R: Read>(entry: &tar::Entry<'_, R>) -> FileEntry {
    let header = entry.header();
    let kind = match header.entry_type() {
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
            EntryKind::File
        }
        tar::EntryType::Directory => EntryKind::Dir,
        tar::EntryType::Symlink => EntryKind::Symlink,
        tar::EntryType::Link => EntryKind::HardLink,
        tar::EntryType::Char => EntryKind::CharDevice,
        tar::EntryType::Block => EntryKind::BlockDevice,
        tar::EntryType::Fifo => EntryKind::Fifo,
        _ => EntryKind::Other,
    };
    let text = |bytes: Option<&[u8]>| bytes.map(|b| String::from_utf8_lossy(b).into_owned());
    FileEntry {
        name: String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
        kind,
        size: entry.size(),
        mode: header.mode().unwrap_or(0) & 0o7777,
        uid: header.uid().unwrap_or(0),
        gid: header.gid().unwrap_or(0),
        user: text(header.username_bytes()).unwrap_or_default(),
        group: text(header.groupname_bytes()).unwrap_or_default(),
        mtime: header.mtime().map_or(0, |t| i64::try_from(t).unwrap_or(i64::MAX)),
        link_target: entry
            .link_name_bytes()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default(),
        below: 0,
    }
}

/// Reads the headers of a directory's tar into a listing, within `budget`.
fn read_listing(mut reader: ChannelReader, budget: Budget) -> Result<Listing, String> {
    reader.byte_budget = Some(budget.bytes);
    let mut archive = tar::Archive::new(reader);
    let mut builder = ListingBuilder::default();
    let started = Instant::now();
    let mut failure = None;
    let mut cut = None;
    match archive.entries() {
        Err(error) => failure = Some(error.to_string()),
        Ok(entries) => {
            for entry in entries {
                match entry {
                    Ok(entry) => builder.push(entry_of(&entry)),
                    Err(error) => {
                        failure = Some(error.to_string());
                        break;
                    }
                }
                if builder.read() >= budget.entries {
                    cut = Some(Cut::Entries(builder.read()));
                    break;
                }
            }
        }
    }
    let reader = archive.into_inner();
    if cut.is_none() && failure.is_some() {
        cut = match &reader.end {
            Some(StreamEnd::Deadline) => Some(Cut::Seconds(started.elapsed().as_secs().max(1))),
            _ if reader.over_budget() => Some(Cut::Bytes(reader.read)),
            _ => None,
        };
    }
    match (cut, failure, reader.end) {
        (Some(cut), _, _) => Ok(builder.finish(Some(cut))),
        (None, None, _) if builder.read() > 0 => Ok(builder.finish(None)),
        (None, None, _) => Err("the engine sent an empty archive".to_string()),
        (None, Some(_), Some(StreamEnd::Engine(why))) => Err(why),
        (None, Some(_), Some(StreamEnd::Stalled)) => {
            Err(format!("the engine sent nothing for {} s", STALL.as_secs()))
        }
        (None, Some(error), _) => Err(format!("the archive could not be read: {error}")),
    }
}

/// Lists directory `path` of container `id` and reports it, unless cancelled first.
pub async fn list(
    docker: Docker,
    id: String,
    path: String,
    budget: Budget,
    updates: mpsc::Sender<Update>,
    cancel: CancellationToken,
) {
    // The trailing slash makes the engine follow a link to a directory.
    let asked = if path.ends_with('/') { path.clone() } else { format!("{path}/") };
    let deadline = tokio::time::Instant::now() + budget.time;
    let rx = pump(&docker, &id, &asked, Some(deadline), cancel.clone());
    let reader = ChannelReader::new(rx);
    let result = tokio::task::spawn_blocking(move || read_listing(reader, budget))
        .await
        .unwrap_or_else(|e| Err(format!("the listing stopped: {e}")));
    if cancel.is_cancelled() {
        return;
    }
    let answer = ListingAnswer { id, path, at: Utc::now(), result };
    let _ = updates.send(Update::Files(Box::new(FilesUpdate::Listing(answer)))).await;
}

/// What the first entry of a path's tar is, for the viewer.
enum HeadRead {
    File { size: u64, bytes: Vec<u8> },
    Link(String),
    Dir,
    Not(&'static str),
}

fn read_head(reader: ChannelReader, limit: usize) -> Result<HeadRead, String> {
    let mut archive = tar::Archive::new(reader);
    let outcome = (|| -> io::Result<Option<HeadRead>> {
        let Some(entry) = archive.entries()?.next() else { return Ok(None) };
        let entry = entry?;
        let read = match entry_of(&entry).kind {
            EntryKind::File | EntryKind::HardLink => {
                let size = entry.size();
                let mut bytes = Vec::with_capacity(limit.min(size as usize));
                entry.take(limit as u64).read_to_end(&mut bytes)?;
                HeadRead::File { size, bytes }
            }
            EntryKind::Symlink => HeadRead::Link(entry_of(&entry).link_target),
            EntryKind::Dir => HeadRead::Dir,
            _ => HeadRead::Not("it is a device or a fifo, not a file"),
        };
        Ok(Some(read))
    })();
    let end = archive.into_inner().end;
    match (outcome, end) {
        (Ok(Some(read)), _) => Ok(read),
        (_, Some(StreamEnd::Engine(why))) => Err(why),
        (_, Some(StreamEnd::Stalled)) => {
            Err(format!("the engine sent nothing for {} s", STALL.as_secs()))
        }
        (Ok(None), _) => Err("the engine sent an empty archive".to_string()),
        (Err(error), _) => Err(format!("the archive could not be read: {error}")),
    }
}

/// Reads the head of file `path` (following links) and reports it, unless cancelled.
pub async fn head(
    docker: Docker,
    id: String,
    path: String,
    updates: mpsc::Sender<Update>,
    cancel: CancellationToken,
) {
    let mut current = path.clone();
    let mut result = Err(format!("more than {MAX_LINKS} links to follow"));
    let mut directory = None;
    for _ in 0..=MAX_LINKS {
        let rx = pump(&docker, &id, &current, None, cancel.clone());
        let reader = ChannelReader::new(rx);
        let read = tokio::task::spawn_blocking(move || read_head(reader, HEAD_LIMIT))
            .await
            .unwrap_or_else(|e| Err(format!("the read stopped: {e}")));
        result = match read {
            Ok(HeadRead::File { size, bytes }) => {
                Ok(Head { size, bytes, resolved: current.clone() })
            }
            Ok(HeadRead::Link(target)) => {
                current = resolve_link(&current, &target);
                continue;
            }
            Ok(HeadRead::Dir) => {
                directory = Some(current.clone());
                Err("it is a directory".to_string())
            }
            Ok(HeadRead::Not(why)) => Err(why.to_string()),
            Err(why) => Err(why),
        };
        break;
    }
    if cancel.is_cancelled() {
        return;
    }
    let head = FileHead { id, path, at: Utc::now(), result, directory };
    let _ = updates.send(Update::Files(Box::new(FilesUpdate::Head(head)))).await;
}

/// Sends a transfer's progress at most every [`PROGRESS_EVERY`], from a blocking thread.
struct Progress {
    transfer: Transfer,
    updates: mpsc::Sender<Update>,
    sent: Instant,
    /// `done` at the last report.
    sent_done: u64,
}

impl Progress {
    fn new(transfer: Transfer, updates: mpsc::Sender<Update>) -> Self {
        Progress { transfer, updates, sent: Instant::now(), sent_done: 0 }
    }

    fn add(&mut self, bytes: u64) {
        self.transfer.done += bytes;
        if self.sent.elapsed() >= PROGRESS_EVERY
            || self.transfer.done - self.sent_done >= PROGRESS_BYTES
        {
            self.sent = Instant::now();
            self.sent_done = self.transfer.done;
            let update = FilesUpdate::Transfer(self.transfer.clone());
            let _ = self.updates.blocking_send(Update::Files(Box::new(update)));
        }
    }

    fn update(&self) -> Update {
        Update::Files(Box::new(FilesUpdate::Transfer(self.transfer.clone())))
    }
}

/// Whether every directory between `dest` and the entry at `parts` is a real
/// directory or not there yet: a link unpacked earlier from the same stream must not
/// carry a later entry outside the destination.
fn no_links_on_the_way(dest: &Path, parts: &[&[u8]]) -> bool {
    let mut path = dest.to_path_buf();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        path.push(OsStr::from_bytes(part));
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if !meta.is_dir() => return false,
            _ => {}
        }
    }
    true
}

/// Makes room for an entry at `target`: a file or link there is replaced, never
/// written through; a directory is merged into (only by another directory).
fn clear(target: &Path, kind: EntryKind) -> io::Result<()> {
    match std::fs::symlink_metadata(target) {
        Ok(meta) if meta.is_dir() && kind == EntryKind::Dir => Ok(()),
        Ok(meta) if meta.is_dir() => Err(io::Error::other(format!(
            "{} is a directory here; a file cannot replace it",
            target.display()
        ))),
        Ok(_) => std::fs::remove_file(target),
        Err(_) => Ok(()),
    }
}

/// Unpacks a tar stream under `dest`; returns how many entries were skipped.
fn unpack(reader: ChannelReader, dest: &Path, progress: &mut Progress) -> Result<u64, String> {
    use std::os::unix::fs::PermissionsExt;
    let mut archive = tar::Archive::new(reader);
    let mut root: Option<Vec<u8>> = None;
    let mut skipped = 0;
    let mut dirs: Vec<(PathBuf, u32)> = Vec::new();
    // The entry being written, for the words of an error.
    let mut writing = dest.to_path_buf();
    let outcome = (|| -> io::Result<()> {
        for entry in archive.entries()? {
            let mut entry = entry?;
            let name = entry.path_bytes().into_owned();
            let root = root.get_or_insert_with(|| name.clone()).clone();
            let Ok(parts) = unpack_parts(&root, &name) else {
                skipped += 1;
                continue;
            };
            if !no_links_on_the_way(dest, &parts) {
                skipped += 1;
                continue;
            }
            let target =
                parts.iter().fold(dest.to_path_buf(), |p, part| p.join(OsStr::from_bytes(part)));
            writing = target.clone();
            let header = entry_of(&entry);
            if let Some(parent) = target.parent().filter(|_| !parts.is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            match header.kind {
                EntryKind::Dir => {
                    clear(&target, EntryKind::Dir)?;
                    std::fs::create_dir_all(&target)?;
                    // The owner keeps the right to enter and change the copy.
                    dirs.push((target, (header.mode & 0o777) | 0o700));
                }
                EntryKind::File => {
                    clear(&target, EntryKind::File)?;
                    let mut file = std::fs::File::create(&target)?;
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = entry.read(&mut buf)?;
                        if n == 0 {
                            break;
                        }
                        file.write_all(&buf[..n])?;
                        progress.add(n as u64);
                    }
                    // No setuid, setgid or sticky bits on the operator's machine.
                    let mode = header.mode & 0o777;
                    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))?;
                }
                EntryKind::Symlink => {
                    clear(&target, EntryKind::Symlink)?;
                    let link = entry.link_name_bytes().map(|b| b.into_owned()).unwrap_or_default();
                    std::os::unix::fs::symlink(OsStr::from_bytes(&link), &target)?;
                }
                EntryKind::HardLink => {
                    let link = entry.link_name_bytes().map(|b| b.into_owned()).unwrap_or_default();
                    match unpack_parts(&root, &link) {
                        Ok(from) if no_links_on_the_way(dest, &from) && !from.is_empty() => {
                            let from = from.iter().fold(dest.to_path_buf(), |p, part| {
                                p.join(OsStr::from_bytes(part))
                            });
                            clear(&target, EntryKind::File)?;
                            std::fs::hard_link(from, &target)?;
                        }
                        _ => skipped += 1,
                    }
                }
                EntryKind::CharDevice
                | EntryKind::BlockDevice
                | EntryKind::Fifo
                | EntryKind::Other => skipped += 1,
            }
        }
        Ok(())
    })();
    // Deepest first, so a read-only parent does not stop its children's modes.
    for (dir, mode) in dirs.iter().rev() {
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(*mode));
    }
    let end = archive.into_inner().end;
    match (outcome, end) {
        (Ok(()), _) if root.is_none() => Err("the engine sent an empty archive".to_string()),
        (Ok(()), _) => Ok(skipped),
        (Err(_), Some(StreamEnd::Engine(why))) => Err(why),
        (Err(_), Some(StreamEnd::Stalled)) => {
            Err(format!("the engine sent nothing for {} s", STALL.as_secs()))
        }
        (Err(error), _) => Err(format!("cannot write {}: {error}", writing.display())),
    }
}

/// Copies `path` of container `id` out to `local`, reporting progress as it goes.
#[allow(clippy::too_many_arguments)]
pub async fn copy_out(
    docker: Docker,
    number: u64,
    id: String,
    path: String,
    local: PathBuf,
    expected: Option<u64>,
    updates: mpsc::Sender<Update>,
    cancel: CancellationToken,
) {
    let transfer = Transfer {
        number,
        container: id.clone(),
        direction: Direction::Out,
        remote: path.clone(),
        local: local.display().to_string(),
        done: 0,
        total: expected,
        state: TransferState::Running,
    };
    let rx = pump(&docker, &id, &path, None, cancel.clone());
    let reader = ChannelReader::new(rx);
    let mut progress = Progress::new(transfer, updates.clone());
    let _ = updates.send(progress.update()).await;
    let template = progress.transfer.clone();
    let (result, mut progress) = tokio::task::spawn_blocking(move || {
        let result = unpack(reader, &local, &mut progress);
        (result, progress)
    })
    .await
    .unwrap_or_else(|e| (Err(e.to_string()), Progress::new(template, updates.clone())));
    progress.transfer.state = match result {
        _ if cancel.is_cancelled() => TransferState::Failed("cancelled".into()),
        Ok(skipped) => TransferState::Done { skipped },
        Err(why) => TransferState::Failed(why),
    };
    if let TransferState::Done { .. } = progress.transfer.state {
        // What was moved is the size, whatever was guessed before.
        progress.transfer.total = Some(progress.transfer.done);
    }
    let _ = updates.send(progress.update()).await;
}

/// The tar header and its name extension (for long names) of one local file, as the
/// engine unpacks it: owned by root, with the file's mode and time.
fn tar_header(name: &[u8], meta: &std::fs::Metadata) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::MetadataExt;
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(meta.len());
    header.set_mode(meta.mode() & 0o7777);
    header.set_mtime(u64::try_from(meta.mtime()).unwrap_or(0));
    header.set_uid(0);
    header.set_gid(0);
    let mut builder = tar::Builder::new(Vec::new());
    // An empty body: the builder writes the header (and a long-name entry before it
    // when needed); the file's bytes follow as they are read.
    builder.append_data(&mut header, Path::new(OsStr::from_bytes(name)), io::empty())?;
    Ok(builder.get_ref().clone())
}

/// Copies the local file `local` into directory `dir` of container `id`.
#[allow(clippy::too_many_arguments)]
pub async fn copy_in(
    docker: Docker,
    number: u64,
    id: String,
    dir: String,
    local: PathBuf,
    updates: mpsc::Sender<Update>,
    cancel: CancellationToken,
) {
    use bollard::query_parameters::UploadToContainerOptions;
    let name = local.file_name().map(|n| n.as_bytes().to_vec()).unwrap_or_default();
    let remote = crate::model::files::join(&dir, &String::from_utf8_lossy(&name));
    let mut transfer = Transfer {
        number,
        container: id.clone(),
        direction: Direction::In,
        remote,
        local: local.display().to_string(),
        done: 0,
        total: None,
        state: TransferState::Running,
    };
    let send =
        |transfer: &Transfer| Update::Files(Box::new(FilesUpdate::Transfer(transfer.clone())));
    let opened = match tokio::fs::metadata(&local).await {
        Ok(meta) if meta.is_file() && !name.is_empty() => match tokio::fs::File::open(&local).await
        {
            Ok(file) => {
                tar_header(&name, &meta).map(|h| (file, meta.len(), h)).map_err(|e| e.to_string())
            }
            Err(e) => Err(format!("cannot read {}: {e}", local.display())),
        },
        Ok(_) => Err(format!("{} is not a file: only a file can be copied in", local.display())),
        Err(e) => Err(format!("cannot read {}: {e}", local.display())),
    };
    let (file, size, header) = match opened {
        Ok(opened) => opened,
        Err(why) => {
            transfer.state = TransferState::Failed(why);
            let _ = updates.send(send(&transfer)).await;
            return;
        }
    };
    transfer.total = Some(size);
    let _ = updates.send(send(&transfer)).await;
    let (chunks_tx, chunks_rx) = mpsc::channel::<io::Result<Bytes>>(4);
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(0u64);
    // The body: the header, the file as it is read, then padding and the end blocks.
    let reader = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut file = file;
        if chunks_tx.send(Ok(Bytes::from(header))).await.is_err() {
            return;
        }
        let mut sent = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        while sent < size {
            let want = buf.len().min((size - sent) as usize);
            match file.read(&mut buf[..want]).await {
                Ok(0) => {
                    let error = io::Error::other("the file got shorter while it was read");
                    let _ = chunks_tx.send(Err(error)).await;
                    return;
                }
                Ok(n) => {
                    if chunks_tx.send(Ok(Bytes::copy_from_slice(&buf[..n]))).await.is_err() {
                        return;
                    }
                    sent += n as u64;
                    let _ = done_tx.send(sent);
                }
                Err(error) => {
                    let _ = chunks_tx.send(Err(error)).await;
                    return;
                }
            }
        }
        let padding = (512 - (size % 512) as usize) % 512;
        let _ = chunks_tx.send(Ok(Bytes::from(vec![0u8; padding + 1024]))).await;
    });
    let body = futures_util::stream::unfold(chunks_rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let options = UploadToContainerOptions { path: dir.clone(), ..Default::default() };
    let upload = docker.upload_to_container(&id, Some(options), bollard::body_try_stream(body));
    tokio::pin!(upload);
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    let outcome = loop {
        tokio::select! {
            _ = cancel.cancelled() => break Err("cancelled".to_string()),
            outcome = &mut upload => break outcome.map_err(|e| refusal(e, &dir)),
            _ = tick.tick() => {
                let done = *done_rx.borrow_and_update();
                if done != transfer.done {
                    transfer.done = done;
                    let _ = updates.send(send(&transfer)).await;
                }
            }
        }
    };
    reader.abort();
    transfer.done = *done_rx.borrow();
    transfer.state = match outcome {
        Ok(()) => TransferState::Done { skipped: 0 },
        Err(why) => TransferState::Failed(why),
    };
    let _ = updates.send(send(&transfer)).await;
}

/// The answer to a request that cannot be carried out (no engine), so the pane does
/// not wait for ever; `None` for a request that needs none.
pub fn unanswered(request: FilesRequest, why: &str) -> Option<Update> {
    let update = match request {
        FilesRequest::List { id, path } => FilesUpdate::Listing(ListingAnswer {
            id,
            path,
            at: Utc::now(),
            result: Err(why.into()),
        }),
        FilesRequest::Head { id, path } => FilesUpdate::Head(FileHead {
            id,
            path,
            at: Utc::now(),
            result: Err(why.into()),
            directory: None,
        }),
        FilesRequest::CopyOut { number, id, path, local, expected } => {
            FilesUpdate::Transfer(Transfer {
                number,
                container: id,
                direction: Direction::Out,
                remote: path,
                local: local.display().to_string(),
                done: 0,
                total: expected,
                state: TransferState::Failed(why.into()),
            })
        }
        FilesRequest::CopyIn { number, id, dir, local } => FilesUpdate::Transfer(Transfer {
            number,
            container: id,
            direction: Direction::In,
            remote: dir,
            local: local.display().to_string(),
            done: 0,
            total: None,
            state: TransferState::Failed(why.into()),
        }),
        FilesRequest::Leave => return None,
    };
    Some(Update::Files(Box::new(update)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar entry with a name written as is, past the checks `tar::Builder` makes:
    /// the engine's stream is the container's to shape.
    fn raw_entry(tar: &mut Vec<u8>, name: &[u8], kind: tar::EntryType, link: &[u8], body: &[u8]) {
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.as_old_mut().linkname[..link.len()].copy_from_slice(link);
        header.set_entry_type(kind);
        header.set_size(body.len() as u64);
        header.set_mode(if kind == tar::EntryType::Directory { 0o755 } else { 0o4755 });
        header.set_cksum();
        tar.extend_from_slice(header.as_bytes());
        tar.extend_from_slice(body);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }

    fn reader_of(tar: Vec<u8>) -> ChannelReader {
        let (tx, rx) = mpsc::channel(tar.len() / 100 + 2);
        for chunk in tar.chunks(100) {
            tx.try_send(Ok(Bytes::copy_from_slice(chunk))).expect("room");
        }
        ChannelReader::new(rx)
    }

    #[test]
    fn unpacking_keeps_everything_inside_the_destination() {
        use std::os::unix::fs::PermissionsExt;
        use tar::EntryType::*;
        let mut tar = Vec::new();
        raw_entry(&mut tar, b"d/", Directory, b"", b"");
        raw_entry(&mut tar, b"d/ok.txt", Regular, b"", b"fine");
        raw_entry(&mut tar, b"d/../escaped", Regular, b"", b"no");
        raw_entry(&mut tar, b"/etc/absolute", Regular, b"", b"no");
        // A link out of the destination, then a file written through it.
        raw_entry(&mut tar, b"d/out", Symlink, b"/tmp", b"");
        raw_entry(&mut tar, b"d/out/through-the-link", Regular, b"", b"no");
        raw_entry(&mut tar, b"d/device", Char, b"", b"");
        raw_entry(&mut tar, b"d/fifo", Fifo, b"", b"");
        raw_entry(&mut tar, b"d/second-name", Link, b"d/ok.txt", b"");
        raw_entry(&mut tar, b"d/bad-link", Link, b"d/../../etc/passwd", b"");
        tar.extend_from_slice(&[0; 1024]);

        let scratch = std::env::temp_dir().join(format!("portolan-unpack-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).expect("scratch");
        let dest = scratch.join("copy");
        let (tx, _rx) = mpsc::channel(64);
        let transfer = Transfer {
            number: 0,
            container: "c".into(),
            direction: Direction::Out,
            remote: "/d".into(),
            local: dest.display().to_string(),
            done: 0,
            total: None,
            state: TransferState::Running,
        };
        let mut progress = Progress::new(transfer, tx);
        let skipped = unpack(reader_of(tar), &dest, &mut progress).expect("unpacked");
        // `..`, absolute, through the link, device, fifo, a hard link out.
        assert_eq!(skipped, 6);
        assert_eq!(progress.transfer.done, 4, "only file contents count");
        assert_eq!(std::fs::read(dest.join("ok.txt")).expect("ok"), b"fine");
        assert_eq!(std::fs::read(dest.join("second-name")).expect("hard link"), b"fine");
        let mode = std::fs::metadata(dest.join("ok.txt")).expect("ok").permissions().mode();
        assert_eq!(mode & 0o7777, 0o755, "no setuid bit on this machine");
        assert_eq!(std::fs::read_link(dest.join("out")).expect("link"), Path::new("/tmp"));
        assert!(!Path::new("/tmp/through-the-link").exists());
        assert!(!scratch.join("escaped").exists() && !dest.join("device").exists());
        let mut names: Vec<String> = std::fs::read_dir(&dest)
            .expect("dest")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["ok.txt", "out", "second-name"]);
        let _ = std::fs::remove_dir_all(&scratch);
    }

    #[test]
    fn a_listing_reads_headers_only_and_stops_at_its_byte_budget() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut add = |path: &str, body: &[u8]| {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(if path.ends_with('/') {
                tar::EntryType::Directory
            } else {
                tar::EntryType::Regular
            });
            builder.append_data(&mut header, path, body).expect("append");
        };
        add("d/", b"");
        add("d/a", &[1; 3000]);
        add("d/sub/", b"");
        add("d/sub/b", &[2; 5000]);
        add("d/z", &[3; 10]);
        let tar = builder.into_inner().expect("tar");
        let budget = Budget { entries: 100, bytes: u64::MAX, time: Duration::from_secs(5) };
        let listing = read_listing(reader_of(tar.clone()), budget).expect("listed");
        let shown: Vec<(&str, u64)> =
            listing.entries.iter().map(|e| (e.name.as_str(), e.size)).collect();
        assert_eq!(shown, [("sub", 5000), ("a", 3000), ("z", 10)]);
        assert_eq!(listing.cut, None);
        // A budget spent inside d/a's body: what came before it is listed, and cut.
        let budget = Budget { entries: 100, bytes: 2048, time: Duration::from_secs(5) };
        let listing = read_listing(reader_of(tar), budget).expect("listed");
        assert!(matches!(listing.cut, Some(Cut::Bytes(n)) if n >= 2048), "{:?}", listing.cut);
        assert_eq!(listing.entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn a_listing_cut_by_its_time_or_refused_by_the_engine_says_which() {
        let mut tar = Vec::new();
        raw_entry(&mut tar, b"d/", tar::EntryType::Directory, b"", b"");
        raw_entry(&mut tar, b"d/a", tar::EntryType::Regular, b"", b"abc");
        let budget = Budget { entries: 100, bytes: u64::MAX, time: Duration::from_secs(5) };
        let ended = |end: StreamEnd| {
            let (tx, rx) = mpsc::channel(4);
            tx.try_send(Ok(Bytes::from(tar.clone()))).expect("room");
            tx.try_send(Err(end)).expect("room");
            read_listing(ChannelReader::new(rx), budget)
        };
        let listing = ended(StreamEnd::Deadline).expect("what came in time");
        assert!(matches!(listing.cut, Some(Cut::Seconds(_))), "{:?}", listing.cut);
        assert_eq!(listing.entries.len(), 1);
        let (tx, rx) = mpsc::channel(4);
        tx.try_send(Err(StreamEnd::Engine("permission denied on /root".into()))).expect("room");
        assert_eq!(
            read_listing(ChannelReader::new(rx), budget),
            Err("permission denied on /root".into())
        );
    }
}
