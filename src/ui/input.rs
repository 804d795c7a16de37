//! Terminal input on its own thread (crossterm's `read` blocks), which can be paused
//! so that an exec session gets every keystroke.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::Event;
use tokio::sync::mpsc;

/// How long one wait for input lasts: how quickly a pause takes hold.
const POLL: Duration = Duration::from_millis(200);

pub struct InputReader {
    pub events: mpsc::UnboundedReceiver<Event>,
    paused: Arc<AtomicBool>,
    /// Set by the thread once it has seen the pause and stopped reading.
    idle: Arc<AtomicBool>,
}

impl InputReader {
    pub fn spawn() -> InputReader {
        let (tx, events) = mpsc::unbounded_channel();
        let paused = Arc::new(AtomicBool::new(false));
        let idle = Arc::new(AtomicBool::new(false));
        let (thread_paused, thread_idle) = (paused.clone(), idle.clone());
        std::thread::Builder::new()
            .name("portolan-input".into())
            .spawn(move || {
                loop {
                    if thread_paused.load(Ordering::Acquire) {
                        thread_idle.store(true, Ordering::Release);
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                    match crossterm::event::poll(POLL) {
                        Ok(true) => match crossterm::event::read() {
                            Ok(event) => {
                                if tx.send(event).is_err() {
                                    break;
                                }
                            }
                            Err(_) => break,
                        },
                        Ok(false) => {}
                        Err(_) => break,
                    }
                }
            })
            .ok();
        InputReader { events, paused, idle }
    }

    /// Stops reading the terminal, and waits until the thread has let go of it.
    pub async fn pause(&self) {
        self.idle.store(false, Ordering::Release);
        self.paused.store(true, Ordering::Release);
        for _ in 0..50 {
            if self.idle.load(Ordering::Acquire) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn resume(&self) {
        self.paused.store(false, Ordering::Release);
    }
}
