//! Owns the operator's terminal: raw mode, the alternate screen, mouse reporting and
//! the cursor are restored on exit, on error and on panic.

use std::io::{self, BufWriter, Stdout, Write};
use std::sync::Once;

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

/// A whole frame goes out in one write: the buffered writer is flushed once per draw.
pub type Tui = Terminal<CrosstermBackend<BufWriter<Stdout>>>;

/// Puts everything back the way the shell expects it. Safe to call more than once.
pub fn restore() {
    let mut stdout = io::stdout();
    let _ = execute!(
        stdout,
        crossterm::terminal::EndSynchronizedUpdate,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    );
    let _ = disable_raw_mode();
    let _ = stdout.flush();
}

static PANIC_HOOK: Once = Once::new();

/// Restores the terminal before the default panic message is printed, so the message
/// lands on a usable screen.
pub fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// While alive, the terminal is in full-screen mode; dropping it restores it.
pub struct TerminalGuard {
    pub terminal: Tui,
    mouse: bool,
}

impl TerminalGuard {
    /// `mouse`: report clicks and the wheel (the terminal's own selection then needs
    /// shift held, which is why it can be turned off).
    pub fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode()?;
        let mut stdout = io::stdout();
        if let Err(error) = execute!(stdout, EnterAlternateScreen, Hide) {
            restore();
            return Err(error);
        }
        if mouse && let Err(error) = execute!(stdout, EnableMouseCapture) {
            restore();
            return Err(error);
        }
        // A fixed viewport, resized on the terminal's resize events: ratatui would
        // otherwise ask the terminal for its size (opening /dev/tty) on every frame.
        let (width, height) = crossterm::terminal::size().unwrap_or((80, 24));
        let backend = CrosstermBackend::new(BufWriter::with_capacity(64 * 1024, io::stdout()));
        let options = TerminalOptions { viewport: Viewport::Fixed(Rect::new(0, 0, width, height)) };
        match Terminal::with_options(backend, options) {
            Ok(mut terminal) => {
                let _ = terminal.clear();
                Ok(TerminalGuard { terminal, mouse })
            }
            Err(error) => {
                restore();
                Err(error)
            }
        }
    }
}

impl TerminalGuard {
    /// Hands the terminal back to the shell for a while (an exec session): cooked mode,
    /// the main screen, a visible cursor.
    pub fn suspend(&mut self) {
        restore();
    }

    /// Takes the terminal again after [`suspend`](Self::suspend), at whatever size it
    /// has now, and clears it so the next frame is drawn whole.
    pub fn resume(&mut self) -> io::Result<()> {
        enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen, Hide)?;
        if self.mouse {
            execute!(io::stdout(), EnableMouseCapture)?;
        }
        let (width, height) = crossterm::terminal::size().unwrap_or((80, 24));
        self.terminal.resize(Rect::new(0, 0, width, height))?;
        self.terminal.clear()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}
