//! Which folder the vault root is: its device and inode. A vault moved away
//! and back is the same folder; an empty mount point left by an unmount, or
//! another folder put in its place, is not, and syncing it would tombstone
//! every note.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootId {
    dev: u64,
    ino: u64,
}

/// Where the root stands now, compared with the folder the watch began on.
#[derive(Debug)]
pub enum RootState {
    Same,
    /// Missing or unreadable (moved, unmounted, permissions).
    Gone(std::io::Error),
    /// Another folder or filesystem is there now.
    Replaced,
}

impl RootId {
    #[cfg(unix)]
    pub fn of(path: &Path) -> std::io::Result<RootId> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path)?;
        if !meta.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        Ok(RootId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    #[cfg(not(unix))]
    pub fn of(path: &Path) -> std::io::Result<RootId> {
        let meta = std::fs::metadata(path)?;
        if !meta.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        Ok(RootId { dev: 0, ino: 0 })
    }

    pub fn check(&self, path: &Path) -> RootState {
        match RootId::of(path) {
            Ok(id) if id == *self => RootState::Same,
            Ok(_) => RootState::Replaced,
            Err(err) => RootState::Gone(err),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn moved_away_and_back_is_the_same_root_another_folder_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("vault");
        std::fs::create_dir(&root).unwrap();
        let id = RootId::of(&root).unwrap();
        assert!(matches!(id.check(&root), RootState::Same));
        let away = dir.path().join("elsewhere");
        std::fs::rename(&root, &away).unwrap();
        assert!(matches!(id.check(&root), RootState::Gone(_)));
        std::fs::rename(&away, &root).unwrap();
        assert!(matches!(id.check(&root), RootState::Same));
        std::fs::rename(&root, &away).unwrap();
        std::fs::create_dir(&root).unwrap();
        assert!(matches!(id.check(&root), RootState::Replaced));
    }
}
