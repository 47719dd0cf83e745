//! What a batch of debounced file-system events asks for, decided without
//! touching the disk: the notes to look at again, or a full rescan when the
//! events cannot be trusted to name every note that changed (a folder
//! created, moved or deleted, the kernel's queue overflowing, the root
//! itself moved).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

/// One event, reduced to what the planner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsEvent {
    pub kind: FsEventKind,
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsEventKind {
    Create,
    /// Content or metadata changed.
    Modify,
    /// Renamed or moved (`paths`: from, to; or just one side of a move in
    /// or out of the vault).
    Rename,
    Remove,
    /// The watcher lost events (queue overflow) or asks for a rescan.
    Rescan,
    /// Access and other events that change nothing.
    Other,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Absolute paths of notes to look at again (each may now exist, be
    /// gone, or be refused).
    pub notes: BTreeSet<PathBuf>,
    /// Walk the whole vault instead: some change is not a note's.
    pub rescan: bool,
    /// The vault root itself was removed or moved.
    pub root_changed: bool,
}

impl Plan {
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.notes.is_empty() && !self.rescan && !self.root_changed
    }
}

fn is_note(path: &Path) -> bool {
    path.extension() == Some(OsStr::new("md"))
}

/// Under a hidden folder (`.obsidian`, `.git`, `.trash`) or hidden itself:
/// never part of the vault.
fn is_hidden(rel: &Path) -> bool {
    rel.components().any(|c| match c {
        Component::Normal(name) => name.as_encoded_bytes().starts_with(b"."),
        _ => false,
    })
}

/// Plans one batch. `root` is the vault root as the watcher reports paths
/// (canonical); `is_dir` tells whether a path is a folder now.
pub fn plan(root: &Path, events: &[FsEvent], is_dir: impl Fn(&Path) -> bool) -> Plan {
    let mut plan = Plan::default();
    for event in events {
        match event.kind {
            FsEventKind::Other => continue,
            FsEventKind::Rescan => {
                plan.rescan = true;
                continue;
            }
            _ => {}
        }
        for path in &event.paths {
            if path == root {
                if matches!(event.kind, FsEventKind::Remove | FsEventKind::Rename) {
                    plan.root_changed = true;
                }
                continue;
            }
            let Ok(rel) = path.strip_prefix(root) else {
                // Moved out of the vault: the rename's other side is inside.
                continue;
            };
            if is_hidden(rel) {
                continue;
            }
            if is_note(path) && !is_dir(path) {
                plan.notes.insert(path.clone());
                continue;
            }
            // A folder created, moved or deleted changes every note in it,
            // and one event names only the folder. A file that is not a
            // note (an image) changes nothing; a path without an extension
            // that is gone was most likely a folder.
            let structural = matches!(
                event.kind,
                FsEventKind::Create | FsEventKind::Rename | FsEventKind::Remove
            );
            if structural && (is_dir(path) || path.extension().is_none() || is_note(path)) {
                plan.rescan = true;
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: FsEventKind, paths: &[&str]) -> FsEvent {
        FsEvent {
            kind,
            paths: paths.iter().map(PathBuf::from).collect(),
        }
    }

    fn notes(plan: &Plan) -> Vec<&str> {
        plan.notes.iter().map(|p| p.to_str().unwrap()).collect()
    }

    const ROOT: &str = "/v";

    fn no_dirs(_: &Path) -> bool {
        false
    }

    #[test]
    fn note_events_name_the_notes_to_look_at_once_each() {
        let events = [
            ev(FsEventKind::Create, &["/v/a.md"]),
            ev(FsEventKind::Modify, &["/v/a.md"]),
            ev(FsEventKind::Modify, &["/v/sub/b.md"]),
            ev(FsEventKind::Remove, &["/v/c.md"]),
            ev(FsEventKind::Rename, &["/v/d.md", "/v/e.md"]),
        ];
        let plan = plan(Path::new(ROOT), &events, no_dirs);
        assert_eq!(
            notes(&plan),
            ["/v/a.md", "/v/c.md", "/v/d.md", "/v/e.md", "/v/sub/b.md"]
        );
        assert!(!plan.rescan && !plan.root_changed);
    }

    #[test]
    fn hidden_folders_other_files_and_access_change_nothing() {
        let events = [
            ev(FsEventKind::Modify, &["/v/.obsidian/workspace.json"]),
            ev(FsEventKind::Create, &["/v/.trash/old.md"]),
            ev(FsEventKind::Create, &["/v/.hidden.md"]),
            ev(FsEventKind::Create, &["/v/img/logo.png"]),
            ev(FsEventKind::Other, &["/v/a.md"]),
            ev(FsEventKind::Modify, &["/elsewhere/x.md"]),
        ];
        assert!(plan(Path::new(ROOT), &events, no_dirs).is_empty());
    }

    #[test]
    fn moving_a_note_out_of_or_into_the_vault_names_the_inside_side() {
        let out = [ev(FsEventKind::Rename, &["/v/a.md", "/tmp/a.md"])];
        assert_eq!(notes(&plan(Path::new(ROOT), &out, no_dirs)), ["/v/a.md"]);
        let into = [ev(FsEventKind::Rename, &["/tmp/b.md", "/v/b.md"])];
        assert_eq!(notes(&plan(Path::new(ROOT), &into, no_dirs)), ["/v/b.md"]);
    }

    #[test]
    fn folder_changes_and_lost_events_ask_for_a_rescan() {
        let is_dir = |p: &Path| p == Path::new("/v/new");
        for events in [
            vec![ev(FsEventKind::Create, &["/v/new"])],
            vec![ev(FsEventKind::Remove, &["/v/gone"])],
            vec![ev(FsEventKind::Rename, &["/v/old", "/v/new"])],
            vec![ev(FsEventKind::Rescan, &[])],
        ] {
            let plan = plan(Path::new(ROOT), &events, is_dir);
            assert!(plan.rescan, "{events:?}");
        }
        // A folder named like a note is a folder.
        let dir_md = [ev(FsEventKind::Create, &["/v/folder.md"])];
        let folder = plan(Path::new(ROOT), &dir_md, |p: &Path| {
            p == Path::new("/v/folder.md")
        });
        assert!(folder.rescan && folder.notes.is_empty());
        // Modifying a folder (its mtime) is not structural.
        let touched = [ev(FsEventKind::Modify, &["/v/new"])];
        assert!(plan(Path::new(ROOT), &touched, is_dir).is_empty());
    }

    #[test]
    fn the_root_moving_or_vanishing_is_reported() {
        let events = [ev(FsEventKind::Remove, &["/v"])];
        assert!(plan(Path::new(ROOT), &events, no_dirs).root_changed);
        let events = [ev(FsEventKind::Modify, &["/v"])];
        assert!(!plan(Path::new(ROOT), &events, no_dirs).root_changed);
    }
}
