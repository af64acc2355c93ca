//! Writing a content file so that nothing is ever half-written: the new text goes to a
//! temporary file beside the old one, is flushed to disk, and replaces it by a rename (then the
//! folder itself is flushed). A reader, the folder watcher or a crash sees the old file or the
//! new one, never a mix; a failure leaves the old file as it was and no temporary file behind.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Replaces the file at `path` with `text`, atomically.
pub fn replace_file(path: &Path, text: &str) -> io::Result<()> {
    replace_file_with(path, |file| file.write_all(text.as_bytes()))
}

/// [`replace_file`] with the writing done by `write` (where a test injects its failures).
pub fn replace_file_with(path: &Path, write: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file's path"))?
        .to_string_lossy();
    // A leading dot and no `.md`: the content loader never reads it.
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temporary)?;
        write(&mut file)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_midway_leaves_the_old_file_whole_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notice.md");
        std::fs::write(&path, "old text\n").unwrap();
        let failed = replace_file_with(&path, |file| {
            file.write_all(b"half of the new")?;
            Err(io::Error::other("disk full"))
        });
        assert_eq!(failed.unwrap_err().to_string(), "disk full");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old text\n");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["notice.md"], "no temporary file left behind");

        replace_file(&path, "new text\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new text\n");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["notice.md"]);
    }
}
