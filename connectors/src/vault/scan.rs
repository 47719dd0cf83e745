//! Walks a vault: every `*.md` under the root, hidden folders (`.obsidian`,
//! `.git`, `.trash`) skipped, symlinks followed only while they stay inside
//! the root. Symlinks that leave it are refused with a warning, since
//! publishing whatever a link points at would leak files the vault owner
//! never meant to share.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use walkdir::WalkDir;

#[derive(Debug, Clone)]
pub struct VaultFile {
    /// Path relative to the vault root, with `/` separators: the document id.
    pub rel_path: String,
    pub abs_path: PathBuf,
    pub size: u64,
    pub mtime_ns: i128,
}

impl VaultFile {
    /// Cheap change check: if size and mtime match the last run, the file is
    /// not even read.
    pub fn fingerprint(&self) -> String {
        format!("{}:{}", self.size, self.mtime_ns)
    }
}

#[derive(Debug, Default)]
pub struct ScanResult {
    pub files: Vec<VaultFile>,
    /// Paths refused (symlink out of the vault) or unreadable, with why.
    pub skipped: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("vault path {path} is not a readable directory: {source}")]
    Root {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|s| s.starts_with('.'))
}

pub fn scan(root: &Path) -> Result<ScanResult, ScanError> {
    let root = root.canonicalize().map_err(|source| ScanError::Root {
        path: root.to_path_buf(),
        source,
    })?;
    if !root.is_dir() {
        return Err(ScanError::Root {
            path: root.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a directory"),
        });
    }
    let mut result = ScanResult::default();
    let walker = WalkDir::new(&root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let path = err
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                tracing::warn!(path, error = %err, "cannot read vault entry; skipped");
                result.skipped.push((path, err.to_string()));
                continue;
            }
        };
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let rel_path = match path.strip_prefix(&root) {
            Ok(rel) => rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => continue,
        };
        if entry.path_is_symlink() {
            match path.canonicalize() {
                Ok(target) if target.starts_with(&root) => {}
                Ok(target) => {
                    tracing::warn!(path = %rel_path, target = %target.display(),
                        "symlink leaves the vault root; refused");
                    result
                        .skipped
                        .push((rel_path, "symlink leaves the vault root".into()));
                    continue;
                }
                Err(err) => {
                    tracing::warn!(path = %rel_path, error = %err, "dangling symlink; skipped");
                    result
                        .skipped
                        .push((rel_path, format!("dangling symlink: {err}")));
                    continue;
                }
            }
        }
        // metadata() follows the (checked) symlink to the file it names.
        let meta = match std::fs::metadata(path) {
            Ok(m) if m.is_file() => m,
            Ok(_) => continue,
            Err(err) => {
                tracing::warn!(path = %rel_path, error = %err, "cannot stat note; skipped");
                result.skipped.push((rel_path, err.to_string()));
                continue;
            }
        };
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        result.files.push(VaultFile {
            rel_path,
            abs_path: path.to_path_buf(),
            size: meta.len(),
            mtime_ns,
        });
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_notes_skips_hidden_and_refuses_escaping_symlinks() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.md"), "top secret").unwrap();
        let vault = tempfile::tempdir().unwrap();
        let root = vault.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join(".obsidian")).unwrap();
        std::fs::write(root.join("a.md"), "a").unwrap();
        std::fs::write(root.join("sub/b.md"), "b").unwrap();
        std::fs::write(root.join("c.txt"), "not markdown").unwrap();
        std::fs::write(root.join(".obsidian/w.md"), "hidden").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.md"), root.join("leak.md")).unwrap();
        std::os::unix::fs::symlink(root.join("a.md"), root.join("alias.md")).unwrap();

        let scanned = scan(root).unwrap();
        let names: Vec<_> = scanned.files.iter().map(|f| f.rel_path.as_str()).collect();
        assert_eq!(names, vec!["a.md", "alias.md", "sub/b.md"]);
        assert_eq!(scanned.skipped.len(), 1);
        assert_eq!(scanned.skipped[0].0, "leak.md");
    }

    #[test]
    fn missing_root_is_a_clear_error() {
        let err = scan(Path::new("/definitely/not/here")).unwrap_err();
        assert!(err.to_string().contains("/definitely/not/here"));
    }
}
