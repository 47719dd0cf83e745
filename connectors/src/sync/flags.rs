//! What the operator asked of one run: the flags `sync jira` and `sync
//! confluence` share (`--instance`, `--full`, `--prune`, `--dry-run`) and
//! the configured prune cadence.

use super::RunSpec;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFlags {
    /// Instance name, part of every document id.
    pub instance: String,
    /// Ignore the watermark(s) and per-item fingerprints: re-read every item
    /// in scope (still publishing only changed content).
    pub full: bool,
    /// List every item in scope and tombstone the vanished ones this run.
    pub prune: bool,
    /// ... and every Nth run (0: only when `prune` is set).
    pub prune_every: u32,
    /// Report what would be published; publish and record nothing.
    pub dry_run: bool,
}

impl RunFlags {
    /// A plain run (no flag set) of `instance`, pruning every `prune_every` runs.
    pub fn new(instance: &str, prune_every: u32) -> Self {
        RunFlags {
            instance: instance.to_owned(),
            prune_every,
            ..RunFlags::default()
        }
    }

    /// The driver's view of the run (`--full` is the source's business).
    pub fn spec(&self, kind: &'static str) -> RunSpec {
        RunSpec {
            kind,
            instance: self.instance.clone(),
            dry_run: self.dry_run,
            prune: self.prune,
            prune_every: self.prune_every,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_carries_every_flag_but_full() {
        let mut flags = RunFlags::new("acme", 6);
        flags.prune = true;
        flags.dry_run = true;
        flags.full = true;
        let spec = flags.spec("jira");
        assert_eq!(spec.connector_id(), "jira:acme");
        assert!(spec.prune && spec.dry_run);
        assert_eq!(spec.prune_every, 6);
    }
}
