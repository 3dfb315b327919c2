//! The disk under the store: how much of it is free, and a reserve file that is given up when
//! the store runs out of space, so that it can reopen (and the collector start) on a full disk.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::StorageConfig;

/// Free space is looked up at most this often: ingest asks on every batch.
const FREE_EVERY: Duration = Duration::from_millis(250);
/// The reserve's name in the data directory.
const RESERVE_FILE: &str = "reserve";

/// The data directory's file system.
pub(super) struct Disk {
    dir: PathBuf,
    config: StorageConfig,
    /// The last look at the free space: when, and how many bytes.
    free: Mutex<Option<(Instant, u64)>>,
}

impl Disk {
    pub(super) fn new(dir: &Path, config: StorageConfig) -> Disk {
        Disk { dir: dir.to_owned(), config, free: Mutex::new(None) }
    }

    /// Bytes free for the collector's user, looked up at most every 250 ms; `None` when the
    /// file system can't say.
    pub(super) fn free_bytes(&self) -> Option<u64> {
        let mut last = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, free)) = *last {
            if at.elapsed() < FREE_EVERY {
                return Some(free);
            }
        }
        let free = fs2::available_space(&self.dir).ok()?;
        *last = Some((Instant::now(), free));
        Some(free)
    }

    /// Whether less than the configured minimum is free.
    pub(super) fn is_low(&self) -> bool {
        self.free_bytes().is_some_and(|free| free < self.config.min_free_bytes)
    }

    /// Forgets the last look, so the next one reads the file system.
    fn looked_again(&self) {
        *self.free.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn reserve_path(&self) -> PathBuf {
        self.dir.join(RESERVE_FILE)
    }

    /// Whether the reserve file is there.
    pub(super) fn has_reserve(&self) -> bool {
        self.config.reserve_bytes > 0 && self.reserve_path().exists()
    }

    /// Writes the reserve file if it is missing and the disk has room for it above the minimum
    /// free space. Written out (not sparse), so the space is really taken.
    pub(super) fn keep_reserve(&self) {
        let size = self.config.reserve_bytes;
        if size == 0 || self.has_reserve() {
            return;
        }
        let Some(free) = self.free_bytes() else { return };
        if free < self.config.min_free_bytes.saturating_add(size) {
            return;
        }
        let path = self.reserve_path();
        let partial = path.with_extension("partial");
        let written = (|| {
            let mut file = std::fs::File::create(&partial)?;
            let zeros = vec![0u8; 1 << 20];
            let mut left = size;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                file.write_all(&zeros[..n])?;
                left -= n as u64;
            }
            file.sync_all()?;
            std::fs::rename(&partial, &path)
        })();
        if let Err(e) = written {
            tracing::warn!(error = %e, "the disk reserve could not be written");
            let _ = std::fs::remove_file(&partial);
        }
        self.looked_again();
    }

    /// Gives the reserve up; true if there was one.
    pub(super) fn release_reserve(&self) -> bool {
        // A reserve cut short while it was written counts as one.
        let partial = std::fs::remove_file(self.reserve_path().with_extension("partial")).is_ok();
        let released = std::fs::remove_file(self.reserve_path()).is_ok() || partial;
        if released {
            tracing::warn!(bytes = self.config.reserve_bytes, "disk reserve released for the store");
        }
        self.looked_again();
        released
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_kept_only_with_room_above_the_minimum() {
        let dir = tempfile::tempdir().unwrap();
        let roomy = Disk::new(dir.path(), StorageConfig { min_free_bytes: 0, reserve_bytes: 3 << 20 });
        roomy.keep_reserve();
        assert!(roomy.has_reserve());
        assert_eq!(std::fs::metadata(dir.path().join(RESERVE_FILE)).unwrap().len(), 3 << 20);
        assert!(roomy.release_reserve());
        assert!(!roomy.has_reserve());
        assert!(!roomy.release_reserve(), "released once");

        let cramped = Disk::new(dir.path(), StorageConfig { min_free_bytes: u64::MAX - 1, reserve_bytes: 1 << 20 });
        cramped.keep_reserve();
        assert!(!cramped.has_reserve(), "no reserve that would take the disk under its minimum");
        assert!(cramped.is_low());
    }
}
