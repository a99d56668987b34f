//! Ctrl-C and SIGTERM during `bulwark scan` (and `sbom`, `promote`): the signal cancels the
//! scan engine's [`CancelToken`], which the engine checks between stages and on every blob
//! read, so the scan stops within moments and nothing half-read is cached. The command then
//! prints one line, `scan cancelled`, and exits 130 for SIGINT or 143 for SIGTERM (128 + the
//! signal number, as a shell reports a process the signal killed).
//!
//! Outputs are written only after the scan, and a signal that arrives once they are being
//! written is not acted on: the run finishes in moments and the files are whole. Should the
//! engine not return within [`GRACE`] of the signal (it is, say, compiling rules, where
//! nothing is checked), the process exits from the watcher thread with the same line and
//! code; the layer cache writes each entry to a temporary file and renames it into place,
//! so an exit at any moment leaves whole entries only.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use bulwark_scan::CancelToken;

/// How long the engine has to stop on its own before the process exits anyway.
pub(crate) const GRACE: Duration = Duration::from_millis(800);

/// The run's state: scanning, writing outputs (a signal is too late), or cancelled.
const RUNNING: u8 = 0;
const COMMITTED: u8 = 1;
const CANCELLED: u8 = 2;

struct Interrupt {
    token: CancelToken,
    state: AtomicU8,
    /// The exit code of the signal received (130 or 143), 0 before one.
    code: AtomicU8,
    reported: AtomicBool,
}

static INTERRUPT: OnceLock<Interrupt> = OnceLock::new();

/// Installs the SIGINT and SIGTERM handlers for this process's scan. Before it is called
/// (and in `bulwark worker` and `server`, which never call it) signals keep their own
/// handling. Installing can fail only without signal support; the scan then runs as
/// before, killed by the signal as any process is.
pub(crate) fn install() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
    // The handlers are registered now, not when the watcher first runs: a signal that
    // arrives at once is not lost.
    let handlers = {
        let _entered = runtime.enter();
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    };
    let (Ok(mut int), Ok(mut term)) = handlers else { return };
    let interrupt = INTERRUPT.get_or_init(|| Interrupt {
        token: CancelToken::new(),
        state: AtomicU8::new(RUNNING),
        code: AtomicU8::new(0),
        reported: AtomicBool::new(false),
    });
    let spawned = std::thread::Builder::new().name("signals".into()).spawn(move || {
        runtime.block_on(async {
            loop {
                let code = tokio::select! {
                    _ = int.recv() => 130,
                    _ = term.recv() => 143,
                };
                if interrupt.state.compare_exchange(RUNNING, CANCELLED, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                    interrupt.code.store(code, Ordering::SeqCst);
                    interrupt.token.cancel();
                    tokio::time::sleep(GRACE).await;
                    exit_cancelled();
                }
                // Outputs are being written: the run ends in moments, whole.
            }
        });
    });
    if spawned.is_err() {
        // Without the watcher nobody would act on a signal: give it back its default.
        interrupt.state.store(COMMITTED, Ordering::SeqCst);
    }
}

/// The token a scan of this process checks (a fresh one when no handler is installed).
pub(crate) fn token() -> CancelToken {
    INTERRUPT.get().map(|i| i.token.clone()).unwrap_or_default()
}

/// Called before outputs are written: from here on a signal is ignored. Fails with
/// [`bulwark_scan::Error::Cancelled`] when the signal came first.
pub(crate) fn commit() -> Result<(), bulwark_scan::Error> {
    match INTERRUPT.get() {
        Some(i) if i.state.compare_exchange(RUNNING, COMMITTED, Ordering::SeqCst, Ordering::SeqCst).is_err() => {
            match i.state.load(Ordering::SeqCst) {
                CANCELLED => Err(bulwark_scan::Error::Cancelled),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// Called once the outputs are written: a signal cancels again (`promote`'s copy and
/// signing come next; an interrupted promotion can be repeated).
pub(crate) fn release() {
    if let Some(i) = INTERRUPT.get() {
        let _ = i.state.compare_exchange(COMMITTED, RUNNING, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// The exit code for a run that ended with `e`, when a signal cancelled it.
pub(crate) fn cancelled_code(e: &anyhow::Error) -> Option<u8> {
    let interrupt = INTERRUPT.get()?;
    let cancelled = e.chain().any(|c| matches!(c.downcast_ref(), Some(bulwark_scan::Error::Cancelled)));
    (cancelled && interrupt.state.load(Ordering::SeqCst) == CANCELLED).then(|| interrupt.code.load(Ordering::SeqCst))
}

/// Says `scan cancelled` once, on its own line, and exits with the signal's code.
pub(crate) fn exit_cancelled() -> ! {
    let code = INTERRUPT.get().map_or(130, |i| i.code.load(Ordering::SeqCst));
    if let Some(i) = INTERRUPT.get()
        && !i.reported.swap(true, Ordering::SeqCst)
    {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "scan cancelled");
        let _ = err.flush();
        // Holding stderr's lock, no other thread can print after the line.
        std::process::exit(i32::from(code));
    }
    // The other thread is reporting and exiting.
    loop {
        std::thread::park();
    }
}
