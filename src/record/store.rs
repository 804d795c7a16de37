//! The record's file: an SQLite database in WAL mode that only portolan writes.
//!
//! A file is recognised as portolan's by SQLite's `application_id`; its layout by
//! `user_version`, upgraded in place by [`MIGRATIONS`]. A file that is not portolan's,
//! is corrupt or comes from a newer portolan is refused with words and never written:
//! the operator may have pointed `--db` at something precious. One writer at a time
//! holds an advisory lock on a sidecar `.lock` file; everyone else reads.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

/// "PRTL": what SQLite's header says of a file portolan made.
pub const APPLICATION_ID: i32 = 0x5052_544c;

/// The layout of each version, in order: migration `n` takes a file from version `n`
/// to `n + 1`. Only ever append.
const MIGRATIONS: &[&str] = &[
    // 1: events, problems, probes, stats tiers, containers seen, notes, sessions.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
     CREATE TABLE sessions (
         id INTEGER PRIMARY KEY,
         started_at INTEGER NOT NULL,
         last_write INTEGER NOT NULL,
         ended_at INTEGER,
         writer TEXT NOT NULL);
     CREATE TABLE events (
         id INTEGER PRIMARY KEY,
         at INTEGER NOT NULL,
         scope TEXT NOT NULL,
         subject_id TEXT NOT NULL,
         name TEXT NOT NULL,
         project TEXT,
         service TEXT,
         action TEXT NOT NULL,
         detail TEXT);
     CREATE INDEX events_at ON events (at);
     CREATE TABLE problems (
         id INTEGER PRIMARY KEY,
         kind TEXT NOT NULL,
         container_id TEXT NOT NULL,
         container TEXT NOT NULL,
         project TEXT,
         started_at INTEGER NOT NULL,
         reconstructed INTEGER NOT NULL,
         ended_at INTEGER,
         detail TEXT NOT NULL);
     CREATE INDEX problems_open ON problems (ended_at, kind, container_id);
     CREATE INDEX problems_started ON problems (started_at);
     CREATE TABLE probes (
         container_id TEXT NOT NULL,
         start INTEGER NOT NULL,
         end INTEGER,
         exit_code INTEGER,
         output TEXT NOT NULL,
         PRIMARY KEY (container_id, start)) WITHOUT ROWID;
     CREATE INDEX probes_start ON probes (start);
     CREATE TABLE stats (
         tier INTEGER NOT NULL,
         container_id TEXT NOT NULL,
         at INTEGER NOT NULL,
         cpu_percent REAL,
         memory_bytes INTEGER,
         memory_limit_bytes INTEGER,
         net_rx_bytes INTEGER,
         net_tx_bytes INTEGER,
         block_read_bytes INTEGER,
         block_write_bytes INTEGER,
         pids INTEGER,
         PRIMARY KEY (tier, at, container_id)) WITHOUT ROWID;
     CREATE TABLE containers (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         project TEXT,
         service TEXT,
         image TEXT NOT NULL,
         first_seen INTEGER NOT NULL,
         last_seen INTEGER NOT NULL,
         removed_at INTEGER) WITHOUT ROWID;
     CREATE TABLE notes (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, text TEXT NOT NULL);",
    // 2: log excerpts around incidents, one line per row, kept after the container.
    "CREATE TABLE excerpts (
         id INTEGER PRIMARY KEY,
         container_id TEXT NOT NULL,
         name TEXT NOT NULL,
         at INTEGER NOT NULL,
         reason TEXT NOT NULL);
     CREATE INDEX excerpts_container ON excerpts (container_id, at);
     CREATE INDEX excerpts_at ON excerpts (at);
     CREATE TABLE excerpt_lines (
         excerpt INTEGER NOT NULL REFERENCES excerpts (id) ON DELETE CASCADE,
         n INTEGER NOT NULL,
         after INTEGER NOT NULL,
         line TEXT NOT NULL,
         PRIMARY KEY (excerpt, n)) WITHOUT ROWID;",
    // 3: stats rows a third of the size, so 30 days of 50 containers fit the default
    // budget: a container is a small number (its 64-character id once, in `series`),
    // a moment whole seconds, CPU hundredths of a percent as an integer. Rows of
    // layout 1 are dropped: they were at most an hour of samples and averages.
    "DROP TABLE stats;
     CREATE TABLE series (n INTEGER PRIMARY KEY, container_id TEXT NOT NULL UNIQUE);
     CREATE TABLE stats (
         tier INTEGER NOT NULL,
         at INTEGER NOT NULL,
         series INTEGER NOT NULL,
         cpu_centi INTEGER,
         memory_bytes INTEGER,
         memory_limit_bytes INTEGER,
         net_rx_bytes INTEGER,
         net_tx_bytes INTEGER,
         block_read_bytes INTEGER,
         block_write_bytes INTEGER,
         pids INTEGER,
         PRIMARY KEY (tier, at, series)) WITHOUT ROWID;",
    // 4: keyframes, to rebuild the state at any moment (the time cursor, `snapshot
    // --at`): each container's configuration and state, each network and volume,
    // written only when they changed; a frame without a body is a removal. A subject
    // is a small number, its id or name written once.
    "CREATE TABLE subjects (
         n INTEGER PRIMARY KEY,
         kind INTEGER NOT NULL,
         key TEXT NOT NULL,
         UNIQUE (kind, key));
     CREATE TABLE frames (
         subject INTEGER NOT NULL,
         part INTEGER NOT NULL,
         at INTEGER NOT NULL,
         body TEXT,
         PRIMARY KEY (subject, part, at)) WITHOUT ROWID;",
];

/// The layout this portolan writes and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Why a record cannot be used, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path} is not a portolan record (it is {what}); it was left untouched")]
    NotPortolan { path: PathBuf, what: String },
    #[error(
        "{path} is damaged ({detail}); it was left untouched: move it aside to start a new record"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "{path} was written by a newer portolan (layout {found}, this one knows up to {known}); it was left untouched"
    )]
    Newer { path: PathBuf, found: i64, known: i64 },
    #[error("the disk holding {path} is full: recording stopped")]
    DiskFull { path: PathBuf },
    #[error("{path} is being recorded by another portolan{holder}: this one only reads it")]
    Busy { path: PathBuf, holder: String },
    #[error("cannot use {path}: {detail}")]
    Unusable { path: PathBuf, detail: String },
}

impl StoreError {
    fn from_sqlite(path: &Path, error: &rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode;
        let path = path.to_path_buf();
        match error.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull { path },
            Some(ErrorCode::DatabaseCorrupt) => {
                StoreError::Corrupt { path, detail: error.to_string() }
            }
            Some(ErrorCode::NotADatabase) => {
                StoreError::NotPortolan { path, what: "not an SQLite database".into() }
            }
            _ => StoreError::Unusable { path, detail: error.to_string() },
        }
    }

    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::DiskFull { .. })
    }
}

/// Milliseconds since the epoch, as the record keeps every moment.
pub fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// The right to write a record, held as long as the value lives.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the writer's lock of the record at `path`, or says who holds it.
pub fn lock(path: &Path) -> Result<WriterLock, StoreError> {
    let lock_path = lock_path(path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Unusable { path: dir.into(), detail: e.to_string() })?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| StoreError::Unusable { path: lock_path.clone(), detail: e.to_string() })?;
    match file.try_lock() {
        Ok(()) => {
            // Who holds it, for the message another portolan gives.
            let _ = file.set_len(0);
            let _ = write!(file, "{}", std::process::id());
            Ok(WriterLock { _file: file })
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if !holder.is_empty() && holder.bytes().all(|b| b.is_ascii_digit()) {
                format!(" (pid {holder})")
            } else {
                String::new()
            };
            Err(StoreError::Busy { path: path.to_path_buf(), holder })
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(StoreError::Unusable { path: lock_path, detail: e.to_string() })
        }
    }
}

/// What the first bytes of a file say it is; `None` for an SQLite database or an
/// empty file.
fn foreign_kind(path: &Path) -> Result<Option<String>, StoreError> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::Unusable { path: path.into(), detail: e.to_string() }),
    };
    let meta = file
        .metadata()
        .map_err(|e| StoreError::Unusable { path: path.into(), detail: e.to_string() })?;
    if meta.is_dir() {
        return Ok(Some("a directory".into()));
    }
    let mut head = [0u8; 16];
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => {
                return Err(StoreError::Unusable { path: path.into(), detail: e.to_string() });
            }
        }
    }
    if read == 0 {
        return Ok(None);
    }
    if &head[..read] == b"SQLite format 3\0" {
        return Ok(None);
    }
    Ok(Some(format!("a file of {} bytes that is not an SQLite database", meta.len())))
}

/// An open record.
pub struct Store {
    pub path: PathBuf,
    pub(crate) conn: Connection,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the record at `path` to write it, making it (and its directory) when it
    /// does not exist. The caller holds the [`WriterLock`].
    pub fn open_for_writing(path: &Path, _lock: &WriterLock) -> Result<Store, StoreError> {
        if let Some(what) = foreign_kind(path)? {
            return Err(StoreError::NotPortolan { path: path.into(), what });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Unusable { path: dir.into(), detail: e.to_string() })?;
        }
        let conn = Connection::open(path).map_err(|e| StoreError::from_sqlite(path, &e))?;
        let store = Store { path: path.into(), conn };
        // Nothing is written before the file is known to be portolan's: even a journal
        // mode is a change to someone else's database.
        store.check_identity(true, true)?;
        store.configure(true)?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing record to read it; a missing file is `Ok(None)`.
    pub fn open_for_reading(path: &Path) -> Result<Option<Store>, StoreError> {
        Store::open_reader(path, true)
    }

    /// The same, without the integrity check that reads the whole file: for the
    /// time cursor, which opens it at every step (a damaged page still fails the read
    /// that meets it, in words).
    pub fn open_for_rewinding(path: &Path) -> Result<Option<Store>, StoreError> {
        Store::open_reader(path, false)
    }

    fn open_reader(path: &Path, thorough: bool) -> Result<Option<Store>, StoreError> {
        if !path.exists() {
            return Ok(None);
        }
        if let Some(what) = foreign_kind(path)? {
            return Err(StoreError::NotPortolan { path: path.into(), what });
        }
        // Read-write at the SQLite level so the WAL's shared memory can be used while a
        // writer runs; portolan itself never writes through this connection.
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .or_else(|_| Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY))
        .map_err(|e| StoreError::from_sqlite(path, &e))?;
        let store = Store { path: path.into(), conn };
        store.check_identity(false, thorough)?;
        store.configure(false)?;
        let version = store.version()?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Newer {
                path: path.into(),
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        if version < SCHEMA_VERSION {
            // Older files are upgraded by their writer; reading one before then would
            // misread it.
            return Err(StoreError::Unusable {
                path: path.into(),
                detail: format!(
                    "its layout ({version}) is older than this portolan's ({SCHEMA_VERSION}); \
                     `portolan record` upgrades it"
                ),
            });
        }
        Ok(Some(store))
    }

    fn sqlite(&self, error: &rusqlite::Error) -> StoreError {
        StoreError::from_sqlite(&self.path, error)
    }

    fn configure(&self, writer: bool) -> Result<(), StoreError> {
        if writer {
            // Incremental vacuum lets retention give space back to the disk; it must be
            // chosen before the first table exists.
            self.conn
                .execute_batch(
                    "PRAGMA auto_vacuum = INCREMENTAL;
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA cache_size = -1024;",
                )
                .map_err(|e| self.sqlite(&e))?;
        }
        Ok(())
    }

    fn version(&self) -> Result<i64, StoreError> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| self.sqlite(&e))
    }

    /// Refuses a database that is someone else's or damaged.
    fn check_identity(&self, writer: bool, thorough: bool) -> Result<(), StoreError> {
        self.conn.busy_timeout(Duration::from_secs(2)).map_err(|e| self.sqlite(&e))?;
        let id: i32 = self
            .conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| self.sqlite(&e))?;
        let tables: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(|e| self.sqlite(&e))?;
        if id != APPLICATION_ID && (tables > 0 || !writer || id != 0) {
            return Err(StoreError::NotPortolan {
                path: self.path.clone(),
                what: if tables > 0 {
                    format!("an SQLite database with {tables} tables of another program")
                } else {
                    "an empty SQLite database".into()
                },
            });
        }
        if tables > 0 && thorough {
            let verdict: String = self
                .conn
                .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
                .map_err(|e| self.sqlite(&e))?;
            if verdict != "ok" {
                return Err(StoreError::Corrupt { path: self.path.clone(), detail: verdict });
            }
        }
        Ok(())
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let version = self.version()?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Newer {
                path: self.path.clone(),
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        for (from, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let to = from + 1;
            let batch = format!(
                "BEGIN IMMEDIATE;
                 {migration}
                 PRAGMA application_id = {APPLICATION_ID};
                 PRAGMA user_version = {to};
                 COMMIT;"
            );
            if let Err(e) = self.conn.execute_batch(&batch) {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(self.sqlite(&e));
            }
        }
        Ok(())
    }

    /// Moves the write-ahead log into the file and empties it, so that the file's
    /// size is what it holds (measurements).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| self.sqlite(&e))
    }

    /// The file's size on disk, the write-ahead log included: what the budget counts.
    pub fn bytes_on_disk(&self) -> u64 {
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let mut wal = self.path.as_os_str().to_owned();
        wal.push("-wal");
        size(&self.path) + size(Path::new(&wal))
    }

    /// A value of the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| r.get(0))
            .optional()
            .map_err(|e| self.sqlite(&e))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
            .map_err(|e| self.sqlite(&e))
    }

    pub(crate) fn error(&self, error: &rusqlite::Error) -> StoreError {
        self.sqlite(error)
    }
}
