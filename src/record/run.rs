//! `portolan record`: the engine code the UI runs, without a terminal, writing each
//! engine's record until SIGINT or SIGTERM. What the operator should know (the files,
//! a lost engine, a full disk) goes to stderr, one line each.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;

use super::Retention;
use super::session::Recording;
use super::writer::WriterNews;
use crate::engine::fleet::Fleet;
use crate::model::{HostId, Model, Update};

/// Why recording could not start at all.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("no engine could be recorded:\n{0}")]
    NothingRecorded(String),
}

fn say(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{} portolan: {line}", Utc::now().format("%Y-%m-%dT%H:%M:%SZ"));
}

/// What is worth a line on stderr of an update, for the journal of a service.
fn journal_line(model: &Model, host: HostId, update: &Update) -> Option<String> {
    let name = &model.host(host).name;
    match update {
        Update::Connected { .. } => Some(format!("{name}: engine answers")),
        Update::Disconnected { reason, .. } => Some(format!("{name}: engine lost: {reason}")),
        Update::Warning { message, .. } => Some(format!("{name}: {message}")),
        _ => None,
    }
}

/// Records until stopped. `paths` are the engines' files, in the fleet's order.
pub async fn record(
    paths: Vec<PathBuf>,
    retention: Retention,
    mut model: Model,
    mut fleet: Fleet,
) -> Result<(), RecordError> {
    let (news_tx, mut news) = mpsc::unbounded_channel::<(HostId, WriterNews)>();
    let (mut recording, updates, openings) = Recording::start(
        paths.into_iter().map(Some).collect(),
        true,
        &retention,
        "record",
        move |host, n| {
            let _ = news_tx.send((host, n));
        },
    );
    let mut failures = Vec::new();
    for opening in &openings {
        let name = &model.host(opening.host).name;
        match &opening.problem {
            None => say(&format!("{name}: recording to {}", opening.path.display())),
            Some(problem) => failures.push(format!("  {name}: {problem}")),
        }
    }
    if !recording.is_writing() {
        fleet.stop().await;
        return Err(RecordError::NothingRecorded(failures.join("\n")));
    }
    for failure in &failures {
        say(failure.trim_start());
    }
    for (host, update) in updates {
        model.apply_from(host, update);
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| RecordError::NothingRecorded(format!("cannot listen for SIGTERM: {e}")))?;
    loop {
        tokio::select! {
            update = fleet.updates.recv() => {
                let Some((host, update)) = update else { break };
                if let Some(line) = journal_line(&model, host, &update) {
                    say(&line);
                }
                recording.observe(host, &update, &model, Utc::now());
                model.apply_from(host, update);
                recording.after_apply(host, &model);
            }
            _ = tick.tick() => recording.tick(&model, Utc::now()),
            Some((host, news)) = news.recv() => {
                let name = &model.host(host).name;
                match news {
                    WriterNews::Failed(words) => say(&format!("{name}: {words}; portolan goes on and retries")),
                    WriterNews::Resumed => say(&format!("{name}: recording again")),
                    WriterNews::Dropped(words) => say(&format!("{name}: {words}")),
                }
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
        }
    }
    say("stopping: writing what is pending");
    recording.tick(&model, Utc::now());
    recording.stop();
    fleet.stop().await;
    Ok(())
}
