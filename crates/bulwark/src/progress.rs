//! Progress bars on stderr, one per layer being read, only on a terminal: the scan
//! engine's [`Events`] drawn.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use bulwark_scan::Events;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Draws per-layer byte progress.
#[derive(Debug)]
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<usize, ProgressBar>>,
}

impl Bars {
    /// Bars on stderr if it is a terminal and `enabled`; otherwise nothing is drawn.
    pub fn new(enabled: bool) -> Bars {
        let target = if enabled && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Bars { multi: MultiProgress::with_draw_target(target), bars: Mutex::new(HashMap::new()) }
    }
}

impl Events for Bars {
    fn layer_started(&self, i: usize, size: u64) {
        // Every bar is born hidden and drawn only through `multi`: a bar made with
        // `ProgressBar::new` draws its first frame straight to stderr when its message is
        // set, outside `multi`, and that frame was never cleared.
        let bar = if size > 0 {
            let b = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::hidden());
            b.set_style(
                ProgressStyle::with_template("layer {msg:>3} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b
        } else {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            b.set_style(
                ProgressStyle::with_template("{spinner} reading {bytes} {bytes_per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b
        };
        let bar = self.multi.add(bar);
        bar.set_message(i.to_string());
        self.bars.lock().unwrap_or_else(|e| e.into_inner()).insert(i, bar);
    }

    fn layer_bytes(&self, i: usize, n: u64) {
        if let Some(b) = self.bars.lock().unwrap_or_else(|e| e.into_inner()).get(&i) {
            b.inc(n);
        }
    }

    fn layer_finished(&self, i: usize, _cached: bool) {
        if let Some(b) = self.bars.lock().unwrap_or_else(|e| e.into_inner()).remove(&i) {
            b.finish_and_clear();
        }
    }
}
