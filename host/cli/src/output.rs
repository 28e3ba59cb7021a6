//! Human output: tables, sizes and plugin logs.

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{ContentArrangement, Table};

/// A table with a header row, sized to the terminal.
pub fn table<const N: usize>(header: [&str; N]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    t
}

/// `1.2 MiB`, `340 KiB`, `12 B`.
pub fn size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KIB * KIB {
        format!("{:.1} MiB", b / KIB / KIB)
    } else if b >= KIB {
        format!("{:.0} KiB", b / KIB)
    } else {
        format!("{bytes} B")
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Writes a plugin call's log to stderr, one line per entry, so that a
/// person trying a plugin by hand sees what it said and which requests it
/// made, while stdout stays the call's JSON result.
pub fn plugin_log(entries: &[weft_runtime::LogEntry]) {
    use weft_runtime::LogEntry;
    for entry in entries {
        match entry {
            LogEntry::Line(line) => {
                let fields: String = line
                    .fields
                    .iter()
                    .map(|(k, v)| format!(" {k}={v}"))
                    .collect();
                eprintln!(
                    "[{:?} {:?}] {}{fields}",
                    line.source,
                    line.level,
                    line.message.trim_end()
                );
            }
            LogEntry::Http(x) => {
                let status = x.status.map_or_else(|| "-".to_owned(), |s| s.to_string());
                eprintln!(
                    "[http] {} {} -> {status} ({} ms)",
                    x.method, x.url, x.duration_ms
                );
            }
        }
    }
}
