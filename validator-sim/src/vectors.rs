//! `validator-sim vectors DIR`: replay every reference vector file in a directory through the
//! scorer (DESIGN.md contract). The comparisons themselves are `miid_scoring::vectors::check`,
//! the same ones the scoring crate's tests run; this module only reads files and reports.

use std::path::{Path, PathBuf};

/// One file's outcome.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub file: String,
    pub passed: usize,
    pub failed: usize,
    /// `(case index, what differed)` for the failures, in file order.
    pub failures: Vec<(usize, String)>,
}

/// The `*.jsonl` files of `dir`, sorted by name.
pub fn vector_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    Ok(files)
}

/// Replays one file; an unreadable file or an unparseable line counts as a failure, not a crash.
pub fn replay_file(path: &Path) -> FileReport {
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let mut report = FileReport { file: file.clone(), passed: 0, failed: 0, failures: Vec::new() };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            report.failed = 1;
            report.failures.push((0, format!("cannot read {}: {e}", path.display())));
            return report;
        }
    };
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let outcome = serde_json::from_str::<serde_json::Value>(line)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(|case| miid_scoring::vectors::check(&file, &case));
        match outcome {
            Ok(()) => report.passed += 1,
            Err(why) => {
                report.failed += 1;
                report.failures.push((i, why));
            }
        }
    }
    report
}

/// Replays every file of `dir`, files in parallel (rounds dominate; the rest are quick).
pub fn replay_dir(dir: &Path) -> std::io::Result<Vec<FileReport>> {
    let files = vector_files(dir)?;
    Ok(std::thread::scope(|s| {
        let handles: Vec<_> = files.iter().map(|f| s.spawn(move || replay_file(f))).collect();
        handles.into_iter().map(|h| h.join().expect("a vector replay thread panicked")).collect()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_and_unknown_kinds_fail_without_crashing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("orthographic.jsonl"), "{not json\n").unwrap();
        std::fs::write(dir.path().join("mystery.jsonl"), "{}\n{}\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let reports = replay_dir(dir.path()).unwrap();
        let summary: Vec<(&str, usize, usize)> =
            reports.iter().map(|r| (r.file.as_str(), r.passed, r.failed)).collect();
        assert_eq!(summary, vec![("mystery.jsonl", 0, 2), ("orthographic.jsonl", 0, 1)]);
        assert!(reports[0].failures[0].1.contains("unknown vector file kind"));
    }
}
