//! Walks a vault: every `*.md` under the root, hidden folders (`.obsidian`,
//! `.git`, `.trash`) skipped. Symlinks are never followed: one that leaves
//! the vault is refused (publishing whatever it points at would leak files
//! the owner never meant to share), one that stays inside is skipped since
//! its target is published under its own path (a second id for the same
//! note would index it twice). Those, dangling links, and FIFOs or other
//! special files named `*.md` are all reported, each with its path.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use walkdir::WalkDir;

use super::rel_path::rel_path_text;
use super::skip::{SkipReason, Skipped};

#[derive(Debug, Clone)]
pub struct VaultFile {
    /// Path relative to the vault root, with `/` separators: the document id
    /// (non-UTF-8 bytes percent-encoded, see `rel_path`).
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
    /// Entries refused or unreadable, with why (each already logged).
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("vault path {path} is not a readable directory: {source}")]
    Root {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().starts_with(b".")
}

fn is_note_name(path: &Path) -> bool {
    path.extension() == Some(OsStr::new("md"))
}

/// Why a symlink is skipped; `None` for one that is no note's business (a
/// link named `logo.png` to a file).
fn symlink_reason(root: &Path, link: &Path) -> Option<SkipReason> {
    let note_name = is_note_name(link);
    let target = match link.canonicalize() {
        Ok(t) => t,
        Err(err) => {
            return note_name.then(|| SkipReason::DanglingSymlink {
                error: err.to_string(),
            })
        }
    };
    if !note_name && !target.is_dir() {
        return None;
    }
    Some(match target.strip_prefix(root) {
        Ok(inside) => SkipReason::SymlinkInsideVault {
            target: rel_path_text(inside).0,
        },
        Err(_) => SkipReason::SymlinkLeavesVault {
            target: target.display().to_string(),
        },
    })
}

/// What one entry of the vault is.
#[derive(Debug)]
pub enum Found {
    Note(VaultFile),
    /// Named like a note but refused (a symlink, a FIFO, unreadable).
    Refused(Skipped),
    /// No note's business (a folder, an image, a link to one).
    Other,
    /// Nothing is there (deleted, or moved away); the id text of the path.
    Missing(String),
}

/// The walk's verdict on one entry, from its own (not followed) type.
fn classify(
    root: &Path,
    path: &Path,
    rel_path: String,
    file_type: std::fs::FileType,
    metadata: impl FnOnce() -> Result<std::fs::Metadata, String>,
) -> Found {
    if file_type.is_symlink() {
        return match symlink_reason(root, path) {
            Some(reason) => Found::Refused(Skipped::new(rel_path, reason)),
            None => Found::Other,
        };
    }
    if file_type.is_dir() || !is_note_name(path) {
        return Found::Other;
    }
    if !file_type.is_file() {
        return Found::Refused(Skipped::new(rel_path, SkipReason::NotAFile));
    }
    let meta = match metadata() {
        Ok(m) => m,
        Err(error) => {
            return Found::Refused(Skipped::new(rel_path, SkipReason::Unreadable { error }));
        }
    };
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    Found::Note(VaultFile {
        rel_path,
        abs_path: path.to_path_buf(),
        size: meta.len(),
        mtime_ns,
    })
}

/// One path as the walk would see it, for the watch mode: `root` is the
/// canonical vault root, `path` a path under it. `None`: the walk's answer
/// depends on the rest of the vault (a name that needed encoding may clash
/// with another note's), so only a full scan can tell.
pub fn note_at(root: &Path, path: &Path) -> Option<Found> {
    let Ok(rel) = path.strip_prefix(root) else {
        return Some(Found::Other);
    };
    if rel.iter().any(is_hidden) || rel.as_os_str().is_empty() {
        return Some(Found::Other);
    }
    let (rel_path, was_encoded) = rel_path_text(rel);
    if was_encoded {
        return None;
    }
    // A note under a symlinked folder is not in the walk either.
    let mut dir = root.to_path_buf();
    if let Some(parent) = rel.parent() {
        for part in parent.iter() {
            dir.push(part);
            match std::fs::symlink_metadata(&dir) {
                Ok(meta) if meta.file_type().is_dir() => {}
                Ok(_) => return Some(Found::Other),
                Err(_) => return Some(Found::Missing(rel_path)),
            }
        }
    }
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Some(Found::Missing(rel_path))
        }
        Err(err) => {
            let reason = SkipReason::Unreadable {
                error: err.to_string(),
            };
            return Some(Found::Refused(Skipped::new(rel_path, reason)));
        }
    };
    Some(classify(root, path, rel_path, meta.file_type(), || {
        std::fs::metadata(path).map_err(|e| e.to_string())
    }))
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
    // Notes whose names needed encoding, checked against the others below.
    let mut encoded = Vec::new();
    let walker = WalkDir::new(&root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let path = err.path().map_or_else(String::new, |p| {
                    p.strip_prefix(&root)
                        .map_or_else(|_| p.display().to_string(), |rel| rel_path_text(rel).0)
                });
                let reason = SkipReason::Unreadable {
                    error: err.to_string(),
                };
                result.skipped.push(Skipped::new(path, reason));
                continue;
            }
        };
        if entry.depth() == 0 {
            continue;
        }
        let path = entry.path();
        let Ok(rel) = path.strip_prefix(&root) else {
            continue;
        };
        let (rel_path, was_encoded) = rel_path_text(rel);
        let file = match classify(&root, path, rel_path, entry.file_type(), || {
            entry.metadata().map_err(|e| e.to_string())
        }) {
            Found::Note(file) => file,
            Found::Refused(skipped) => {
                result.skipped.push(skipped);
                continue;
            }
            Found::Other | Found::Missing(_) => continue,
        };
        if was_encoded {
            encoded.push(file);
        } else {
            result.files.push(file);
        }
    }
    if !encoded.is_empty() {
        // `caf%E9.md` may be a real UTF-8 name too; that note keeps the id.
        let native: HashSet<&str> = result.files.iter().map(|f| f.rel_path.as_str()).collect();
        let (taken, free): (Vec<VaultFile>, Vec<VaultFile>) = encoded
            .into_iter()
            .partition(|f| native.contains(f.rel_path.as_str()));
        for file in taken {
            result
                .skipped
                .push(Skipped::new(file.rel_path, SkipReason::IdTaken));
        }
        result.files.extend(free);
    }
    Ok(result)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::ffi::OsStrExt;

    use super::super::test_log::{capture, warned_paths};
    use super::*;

    fn names(scanned: &ScanResult) -> Vec<&str> {
        scanned.files.iter().map(|f| f.rel_path.as_str()).collect()
    }

    fn skipped(scanned: &ScanResult) -> Vec<(&str, &SkipReason)> {
        scanned
            .skipped
            .iter()
            .map(|s| (s.path.as_str(), &s.reason))
            .collect()
    }

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

        let scanned = scan(root).unwrap();
        assert_eq!(names(&scanned), vec!["a.md", "sub/b.md"]);
        assert_eq!(scanned.skipped.len(), 1);
        assert_eq!(scanned.skipped[0].path, "leak.md");
        assert!(matches!(
            scanned.skipped[0].reason,
            SkipReason::SymlinkLeavesVault { .. }
        ));
    }

    #[test]
    fn symlinks_are_never_followed_and_always_reported() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.md"), "top secret").unwrap();
        let vault = tempfile::tempdir().unwrap();
        let root = vault.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("a.md"), "a").unwrap();
        std::fs::write(root.join("sub/b.md"), "b").unwrap();
        std::fs::write(root.join("logo.png"), "png").unwrap();
        let link = |target: &Path, name: &str| {
            std::os::unix::fs::symlink(target, root.join(name)).unwrap();
        };
        link(outside.path(), "shared"); // a folder leaving the vault
        link(&root.join("sub"), "sub-again"); // a folder inside it
        link(&root.join("a.md"), "alias.md"); // a note inside it
        link(&root.join("missing.md"), "dangling.md");
        link(&root.join("logo.png"), "logo-link.png"); // not a note: ignored

        let (scanned, events) = capture(|| scan(root).unwrap());
        // Leaving or dangling: warnings; inside: an info line. All name the file.
        assert_eq!(warned_paths(&events), vec!["dangling.md", "shared"]);
        let noted: Vec<&str> = events
            .iter()
            .filter(|e| e.level == tracing::Level::INFO)
            .filter_map(|e| e.fields.get("path").map(String::as_str))
            .collect();
        assert_eq!(noted, vec!["alias.md", "sub-again"]);
        assert_eq!(names(&scanned), vec!["a.md", "sub/b.md"]);
        let secret = outside.path().canonicalize().unwrap().display().to_string();
        let found = skipped(&scanned);
        let paths: Vec<&str> = found.iter().map(|(p, _)| *p).collect();
        assert_eq!(
            paths,
            vec!["alias.md", "dangling.md", "shared", "sub-again"]
        );
        assert_eq!(
            found[0].1,
            &SkipReason::SymlinkInsideVault {
                target: "a.md".into()
            }
        );
        assert!(matches!(found[1].1, SkipReason::DanglingSymlink { .. }));
        assert_eq!(
            found[2].1,
            &SkipReason::SymlinkLeavesVault { target: secret }
        );
        assert_eq!(
            found[3].1,
            &SkipReason::SymlinkInsideVault {
                target: "sub".into()
            }
        );
    }

    #[test]
    fn special_files_named_md_are_reported_and_directories_named_md_walked() {
        let vault = tempfile::tempdir().unwrap();
        let root = vault.path();
        std::fs::create_dir_all(root.join("folder.md")).unwrap();
        std::fs::write(root.join("folder.md/inner.md"), "x").unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(root.join("sock.md")).unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(root.join("pipe.md"))
            .status()
            .expect("mkfifo runs");
        assert!(fifo.success());

        let (scanned, events) = capture(|| scan(root).unwrap());
        assert_eq!(names(&scanned), vec!["folder.md/inner.md"]);
        assert_eq!(warned_paths(&events), vec!["pipe.md", "sock.md"]);
        assert!(events
            .iter()
            .all(|e| e.message == "not a regular file (FIFO, socket or device); skipped"));
        assert_eq!(
            skipped(&scanned),
            vec![
                ("pipe.md", &SkipReason::NotAFile),
                ("sock.md", &SkipReason::NotAFile)
            ]
        );
    }

    #[test]
    fn non_utf8_names_get_distinct_stable_ids() {
        let vault = tempfile::tempdir().unwrap();
        let root = vault.path();
        let name = |bytes: &[u8]| root.join(OsStr::from_bytes(bytes));
        std::fs::write(name(b"caf\xe9.md"), "one").unwrap();
        std::fs::write(name(b"caf\xe8.md"), "two").unwrap();
        std::fs::create_dir(name(b".hid\xe9")).unwrap();
        std::fs::write(name(b".hid\xe9/x.md"), "hidden").unwrap();
        // Its UTF-8 name is what the encoded Latin-1 name would be.
        std::fs::write(root.join("n%E9.md"), "real").unwrap();
        std::fs::write(name(b"n\xe9.md"), "clash").unwrap();

        let first = scan(root).unwrap();
        let mut ids = names(&first);
        ids.sort_unstable();
        assert_eq!(ids, vec!["caf%E8.md", "caf%E9.md", "n%E9.md"]);
        let real = first
            .files
            .iter()
            .find(|f| f.rel_path == "n%E9.md")
            .unwrap();
        assert_eq!(real.abs_path, root.canonicalize().unwrap().join("n%E9.md"));
        assert_eq!(skipped(&first), vec![("n%E9.md", &SkipReason::IdTaken)]);

        let again = scan(root).unwrap();
        assert_eq!(names(&again), names(&first));
    }

    #[test]
    fn one_path_is_judged_as_the_walk_judges_it() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.md"), "top secret").unwrap();
        let vault = tempfile::tempdir().unwrap();
        let root = vault.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join(".trash")).unwrap();
        std::fs::write(root.join("sub/a.md"), "a").unwrap();
        std::fs::write(root.join(".trash/old.md"), "old").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.md"), root.join("leak.md")).unwrap();
        std::os::unix::fs::symlink(root.join("sub"), root.join("alias")).unwrap();

        match note_at(&root, &root.join("sub/a.md")) {
            Some(Found::Note(file)) => {
                let walked = scan(&root).unwrap();
                let same = walked
                    .files
                    .iter()
                    .find(|f| f.rel_path == "sub/a.md")
                    .unwrap();
                assert_eq!(file.fingerprint(), same.fingerprint());
                assert_eq!(file.abs_path, same.abs_path);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            note_at(&root, &root.join("gone.md")),
            Some(Found::Missing(rel)) if rel == "gone.md"
        ));
        assert!(matches!(
            note_at(&root, &root.join("leak.md")),
            Some(Found::Refused(Skipped {
                reason: SkipReason::SymlinkLeavesVault { .. },
                ..
            }))
        ));
        assert!(matches!(
            note_at(&root, &root.join(".trash/old.md")),
            Some(Found::Other)
        ));
        assert!(matches!(
            note_at(&root, &root.join("alias/a.md")),
            Some(Found::Other)
        ));
        assert!(note_at(&root, &root.join(OsStr::from_bytes(b"caf\xe9.md"))).is_none());
    }

    #[test]
    fn missing_root_is_a_clear_error() {
        let err = scan(Path::new("/definitely/not/here")).unwrap_err();
        assert!(err.to_string().contains("/definitely/not/here"));
    }
}
