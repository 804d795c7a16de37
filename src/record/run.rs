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
use crate::engine::EngineCommand;
use crate::engine::fleet::Fleet;
use crate::engine::logs::LogRequest;
use crate::model::logs::{LogTarget, LogText};
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

fn describe(target: &super::alerts::AlertTarget) -> String {
    use super::alerts::AlertTarget;
    match target {
        AlertTarget::Webhook(url) => format!("the webhook {url}"),
        AlertTarget::Ntfy(url) => format!("the ntfy topic {url}"),
        AlertTarget::Command(argv) => format!("the command {}", argv.join(" ")),
    }
}

/// Records until stopped. `paths` are the engines' files, in the fleet's order.
pub async fn record(
    paths: Vec<PathBuf>,
    retention: Retention,
    metrics: Option<String>,
    alerts: Vec<super::alerts::AlertRule>,
    mut model: Model,
    mut fleet: Fleet,
) -> Result<(), RecordError> {
    // The metrics address is checked before anything is recorded: a typo there is
    // better said at once than found by a silent Prometheus.
    let (scrape_tx, mut scrapes) = mpsc::channel::<super::metrics::Scrape>(16);
    let server = match metrics {
        Some(address) => {
            let listener = match super::metrics::bind(&address).await {
                Ok(listener) => listener,
                Err(error) => {
                    fleet.stop().await;
                    return Err(RecordError::NothingRecorded(format!("  {error}")));
                }
            };
            say(&format!("metrics at http://{address}/metrics"));
            Some(tokio::spawn(super::metrics::serve(listener, scrape_tx)))
        }
        None => {
            drop(scrape_tx);
            None
        }
    };
    let (news_tx, mut news) = mpsc::unbounded_channel::<(HostId, WriterNews)>();
    let (recording, updates, openings) = Recording::start(
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
    let mut recording = recording.with_alerts();
    let mut book = super::alerts::AlertBook::new(alerts);
    let mut deliveries = Vec::new();
    let mut outboxes = Vec::new();
    for rule in book.rules() {
        let (outbox, messages) = mpsc::unbounded_channel();
        let failed = |words: String| say(&words);
        deliveries.push(tokio::spawn(super::alerts::deliver(
            rule.target.clone(),
            messages,
            failed,
        )));
        outboxes.push(outbox);
        say(&format!("alerts \"{}\" go to {}", rule.name, describe(&rule.target)));
    }
    let mut thresholds = super::alerts::ThresholdWatch::default();
    let mut log_watch = super::alerts::LogWatch::default();
    let reads_logs = book.rules().iter().any(|r| r.log_pattern.is_some());
    let rules = book.rules().to_vec();
    // Log rules are heard as their lines arrive, between ticks; they queue here.
    let mut log_transitions: Vec<(usize, super::alerts::Transition)> = Vec::new();
    let mut alert = |recording: &mut Recording,
                     model: &Model,
                     log_watch: &mut super::alerts::LogWatch,
                     from_logs: &mut Vec<(usize, super::alerts::Transition)>| {
        let now = Utc::now();
        let mut heard = Vec::new();
        for (host, transition) in recording.transitions() {
            heard.extend(book.hear(&model.host(host).name, &transition, now, None));
        }
        from_logs.extend(log_watch.check(book.rules(), model, now));
        let rule_transitions = thresholds.check(book.rules(), model, now);
        for (rule, transition) in rule_transitions.into_iter().chain(from_logs.drain(..)) {
            let host = match &transition {
                super::alerts::Transition::Opened(row)
                | super::alerts::Transition::Closed(row, _) => {
                    model.containers.get(&row.container_id).map_or(0, |c| c.host)
                }
            };
            heard.extend(book.hear(&model.host(host).name, &transition, now, Some(rule)));
        }
        for (rule, message) in heard {
            if let Some(outbox) = outboxes.get(rule) {
                let _ = outbox.send(message);
            }
        }
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| RecordError::NothingRecorded(format!("cannot listen for SIGTERM: {e}")))?;
    // A container that joins is read from when recording began, so the lines it
    // wrote before its stream was opened are heard too; nothing older is.
    let recording_began = Utc::now();
    let mut followed = std::collections::BTreeSet::new();
    let mut followed_for = u64::MAX;
    loop {
        tokio::select! {
            update = fleet.updates.recv() => {
                let Some((host, update)) = update else { break };
                if let Some(line) = journal_line(&model, host, &update) {
                    say(&line);
                }
                if let Update::Logs(batch) = &update {
                    // Followed only for the rules: the lines are matched, not kept.
                    if let Some(container) = model.containers.get(&batch.id) {
                        for line in &batch.lines {
                            let raw = batch.data.get(line.start..line.end).unwrap_or_default();
                            let text = LogText::parse(raw);
                            let now = line.timestamp.unwrap_or_else(Utc::now);
                            log_transitions.extend(log_watch.hear(&rules, container, text.plain(), now));
                        }
                    }
                    continue;
                }
                recording.observe(host, &update, &model, Utc::now());
                model.apply_from(host, update);
                recording.after_apply(host, &model);
                if reads_logs && model.structure_revision != followed_for {
                    followed_for = model.structure_revision;
                    let wanted = super::alerts::LogWatch::followed(&rules, &model);
                    if wanted != followed {
                        followed = wanted;
                        fleet.command(EngineCommand::FollowLogs((!followed.is_empty()).then(|| LogRequest {
                            target: LogTarget::Ids(followed.clone()),
                            tail: 0,
                            since: Some(recording_began),
                            hosts: None,
                        })));
                    }
                }
            }
            _ = tick.tick() => {
                recording.tick(&model, Utc::now());
                alert(&mut recording, &model, &mut log_watch, &mut log_transitions);
            }
            Some(reply) = scrapes.recv() => {
                let _ = reply.send(super::metrics::render(&model, Utc::now()));
            }
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
    alert(&mut recording, &model, &mut log_watch, &mut log_transitions);
    drop(outboxes);
    recording.stop();
    // Messages under way get a moment to go out; a receiver that is down does not
    // hold the stop up.
    let _ =
        tokio::time::timeout(Duration::from_secs(3), futures_util::future::join_all(deliveries))
            .await;
    if let Some(server) = server {
        server.abort();
    }
    fleet.stop().await;
    Ok(())
}
