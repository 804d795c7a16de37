//! Recording while portolan runs: one record per engine, written when this process
//! holds the file's lock and only read otherwise. Whoever owns the model (the UI's
//! loop, `portolan record`) calls [`Recording::observe`] before it applies an update,
//! [`Recording::after_apply`] after, and [`Recording::tick`] once a second.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::read;
use super::store::{self, Store, StoreError};
use super::writer::{Writer, WriterNews};
use super::{Record, Recorder, Retention};
use crate::model::since::{RecordedStart, Since};
use crate::model::{HostId, Model, Update};

/// How one engine's record is used this session.
pub enum Role {
    Writing(Box<(Recorder, Writer)>),
    /// Another portolan writes it; its open problems were read at start.
    Reading,
    /// No record: turned off, or the file could not be used (the words say why).
    Off,
}

/// What starting a record said, for the operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Opening {
    pub host: HostId,
    pub path: PathBuf,
    /// `None` when all went well; else why this engine is not recorded (or only read).
    pub problem: Option<String>,
    pub writing: bool,
}

pub struct Recording {
    roles: Vec<Role>,
    scratch: Vec<Record>,
    /// Whether problems that begin and end are kept for [`Recording::transitions`].
    alerting: bool,
}

fn recorded_starts(store: &Store, rows: &[super::ProblemRow]) -> Vec<RecordedStart> {
    let Some(until) = read::last_write(store) else { return Vec::new() };
    rows.iter()
        .map(|row| RecordedStart {
            kind: row.kind.clone(),
            container_id: row.container_id.clone(),
            since: Since { at: row.started_at, reconstructed: row.reconstructed },
            watched_until: until,
        })
        .collect()
}

impl Recording {
    /// A session that records nothing.
    pub fn off(hosts: usize) -> Recording {
        Recording {
            roles: (0..hosts).map(|_| Role::Off).collect(),
            scratch: Vec::new(),
            alerting: false,
        }
    }

    /// Opens each engine's record at its path (`None`: not recorded). `writers` says
    /// whether this process may write (the UI with recording on, `portolan record`);
    /// `news` hears from the writers' threads. Returns the updates that give the
    /// model the records' open problems, and what each opening said.
    pub fn start(
        paths: Vec<Option<PathBuf>>,
        write: bool,
        retention: &Retention,
        who: &str,
        news: impl Fn(HostId, WriterNews) + Clone + Send + 'static,
    ) -> (Recording, Vec<(HostId, Update)>, Vec<Opening>) {
        let mut roles = Vec::new();
        let mut updates = Vec::new();
        let mut openings = Vec::new();
        for (host, path) in paths.into_iter().enumerate() {
            let Some(path) = path else {
                roles.push(Role::Off);
                continue;
            };
            let Opened { role, starts, problem } =
                open_one(host, &path, write, retention, who, news.clone());
            if !starts.is_empty() || problem.is_none() {
                updates.push((host, Update::RecordedProblems(starts)));
            }
            openings.push(Opening {
                host,
                path,
                problem: problem.map(|e| e.to_string()),
                writing: matches!(role, Role::Writing(_)),
            });
            roles.push(role);
        }
        (Recording { roles, scratch: Vec::new(), alerting: false }, updates, openings)
    }

    /// Keeps problems that begin and end for [`Recording::transitions`].
    pub fn with_alerts(mut self) -> Recording {
        self.alerting = true;
        self
    }

    /// Problems that began or ended since the last call, by engine.
    pub fn transitions(&mut self) -> Vec<(HostId, super::alerts::Transition)> {
        let mut out = Vec::new();
        for (host, role) in self.roles.iter_mut().enumerate() {
            if let Role::Writing(writing) = role {
                out.extend(writing.0.transitions.drain(..).map(|t| (host, t)));
            }
        }
        out
    }

    pub fn is_writing(&self) -> bool {
        self.roles.iter().any(|r| matches!(r, Role::Writing(_)))
    }

    pub fn observe(&mut self, host: HostId, update: &Update, model: &Model, now: DateTime<Utc>) {
        if let Some(Role::Writing(writing)) = self.roles.get_mut(host) {
            writing.0.observe(update, model, now, &mut self.scratch);
        }
    }

    pub fn after_apply(&mut self, host: HostId, model: &Model) {
        if let Some(Role::Writing(writing)) = self.roles.get_mut(host) {
            let (recorder, writer) = &mut **writing;
            recorder.after_apply(model, &mut self.scratch);
            writer.send(std::mem::take(&mut self.scratch));
        }
    }

    /// Once a second: problems that began or ended.
    pub fn tick(&mut self, model: &Model, now: DateTime<Utc>) {
        for role in &mut self.roles {
            if let Role::Writing(writing) = role {
                let (recorder, writer) = &mut **writing;
                recorder.tick(model, now, &mut self.scratch);
                writer.send(std::mem::take(&mut self.scratch));
                if !self.alerting {
                    recorder.transitions.clear();
                }
            }
        }
    }

    /// Writes what is pending and closes the files.
    pub fn stop(self) {
        for role in self.roles {
            if let Role::Writing(writing) = role {
                let (mut recorder, mut writer) = *writing;
                let mut last = Vec::new();
                recorder.flush(&mut last);
                writer.send(last);
                writer.stop();
            }
        }
    }
}

/// How opening one engine's record went.
struct Opened {
    role: Role,
    /// The open problems it holds, for "since".
    starts: Vec<RecordedStart>,
    /// Why it is not written (or not used at all).
    problem: Option<StoreError>,
}

fn read_starts(path: &std::path::Path) -> Result<Option<Vec<RecordedStart>>, StoreError> {
    let Some(store) = Store::open_for_reading(path)? else { return Ok(None) };
    let rows = read::open_problems(&store)?;
    Ok(Some(recorded_starts(&store, &rows)))
}

fn open_one(
    host: HostId,
    path: &std::path::Path,
    write: bool,
    retention: &Retention,
    who: &str,
    news: impl Fn(HostId, WriterNews) + Send + 'static,
) -> Opened {
    let off =
        |error: StoreError| Opened { role: Role::Off, starts: Vec::new(), problem: Some(error) };
    if !write {
        return match read_starts(path) {
            Ok(Some(starts)) => Opened { role: Role::Reading, starts, problem: None },
            Ok(None) => Opened { role: Role::Off, starts: Vec::new(), problem: None },
            Err(error) => off(error),
        };
    }
    let lock = match store::lock(path) {
        Ok(lock) => lock,
        // Someone else writes it: what it holds open still gives "since".
        Err(error @ StoreError::Busy { .. }) => {
            let starts = read_starts(path).ok().flatten().unwrap_or_default();
            return Opened { role: Role::Reading, starts, problem: Some(error) };
        }
        Err(error) => return off(error),
    };
    let opened = Store::open_for_writing(path, &lock).and_then(|store| {
        let rows = read::open_problems(&store)?;
        let starts = recorded_starts(&store, &rows);
        let frames = read::newest_frames(&store)?;
        let writer = Writer::spawn(store, lock, retention.clone(), who, move |n| news(host, n))?;
        Ok((rows, starts, frames, writer))
    });
    match opened {
        Ok((rows, starts, frames, writer)) => Opened {
            role: Role::Writing(Box::new((Recorder::new(host, rows).with_frames(frames), writer))),
            starts,
            problem: None,
        },
        Err(error) => off(error),
    }
}
