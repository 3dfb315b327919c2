//! The thread that watches the store: once a second it keeps the disk reserve (see
//! [`Store::keep`]), and when a write has failed in the store, it ends the process.
//!
//! sled can't go on after a failed write (a later flush, even the one closing the database,
//! waits for ever), and everything acknowledged is durable already, so the collector exits
//! with [`EXIT_STORE_FAILED`] for its supervisor to start it again. A disk that is still full
//! then is met by the reserve, given up so that the store opens (see
//! [`super::SledStore::open_with`]); the collector serves reads and refuses new batches until
//! there is space again.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Health, Store};

/// The exit status after a failed write: `EX_TEMPFAIL`, start again.
pub const EXIT_STORE_FAILED: i32 = 75;

const EVERY: Duration = Duration::from_secs(1);

/// Stops the thread when dropped.
pub struct Keeper {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Keeper {
    pub fn start(store: Arc<dyn Store>) -> Keeper {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sightline-store-keeper".into())
            .spawn(move || {
                // Failed at the last look too: the requests the failure met have had a second
                // to be answered.
                let mut failed = false;
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    store.keep();
                    if store.health() != Health::Failed {
                        continue;
                    }
                    if failed {
                        tracing::error!(
                            status = EXIT_STORE_FAILED,
                            "the store failed; exiting to be started again (everything acknowledged is on disk)"
                        );
                        std::process::exit(EXIT_STORE_FAILED);
                    }
                    failed = true;
                }
            })
            .expect("spawning the store keeper thread");
        Keeper { stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
