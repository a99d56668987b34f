//! What the terminal can show: the table's width and whether to use colour.

/// Width when the table goes to a file or pipe and no terminal can be asked.
const UNBOUNDED_WIDTH: usize = 200;
/// Width when a terminal does not say its size.
const TERMINAL_WIDTH: usize = 120;

/// The table's width in display cells: `COLUMNS` when set, else the window size of stdout,
/// else that of stderr (`bulwark scan … | less` still fits the window), else 200 for files
/// and pipes. `tty` says whether the table goes to a terminal.
pub fn table_width(tty: bool) -> usize {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|c| *c > 0) {
        return c;
    }
    let size = |t: console::Term| t.size_checked().map(|(_rows, cols)| usize::from(cols)).filter(|c| *c > 0);
    size(console::Term::stdout()).or_else(|| size(console::Term::stderr())).unwrap_or(if tty {
        TERMINAL_WIDTH
    } else {
        UNBOUNDED_WIDTH
    })
}

/// Colour only on a terminal that can show it: not with `NO_COLOR` (no-color.org: any
/// non-empty value) and not on `TERM=dumb`, which has no escape sequences.
pub fn color(tty: bool) -> bool {
    tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}
