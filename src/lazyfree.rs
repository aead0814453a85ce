//! Freeing large values off the loop thread.
//!
//! Dropping a database with millions of keys (FLUSHALL ASYNC) or a huge value (UNLINK) would
//! stall every client for as long as the frees take. Such objects are sent to one background
//! thread that drops them. The queue is bounded: when it is full the loop frees the object
//! itself, which is slow but never loses memory or blocks forever.
//!
//! There is one lazy-free thread per process (`global()`). Collections (lists, hashes, sets,
//! sorted sets) call `defer_if_large` from their `Drop`: when a collection with more than
//! `LAZYFREE_THRESHOLD` elements is dropped on the loop thread — deleted, overwritten, expired,
//! popped to empty or flushed, whatever the path — its storage is moved to the background
//! thread instead of being freed in the middle of a client's command. Drops on any other
//! thread (the lazy-free thread itself, tests, tools) free inline.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};

/// Objects waiting to be freed, at most.
const QUEUE_MAX: usize = 1024;
/// Values with more elements than this are freed in the background (Redis's
/// LAZYFREE_THRESHOLD).
pub const LAZYFREE_THRESHOLD: usize = 64;

type Garbage = Box<dyn Send>;

/// How long starting the thread waits for it to have applied `bio_cpulist`.
const PIN_WAIT_MAX: std::time::Duration = std::time::Duration::from_secs(5);

pub struct LazyFree {
    tx: Option<SyncSender<Garbage>>,
    pending: Arc<AtomicUsize>,
    pub freed_objects: Arc<AtomicUsize>,
}

impl LazyFree {
    pub fn start() -> LazyFree {
        let (tx, rx) = sync_channel::<Garbage>(QUEUE_MAX);
        let pending = Arc::new(AtomicUsize::new(0));
        let freed = Arc::new(AtomicUsize::new(0));
        let (p, f) = (pending.clone(), freed.clone());
        // The thread says when it has pinned itself, so that `bio_cpulist` holds before the
        // server serves anyone (a test, or an operator, reading the thread's CPUs then).
        let (pinned_tx, pinned_rx) = sync_channel::<()>(1);
        let spawned = std::thread::Builder::new()
            .name("ringkv-lazyfree".into())
            .spawn(move || {
                if let Some(cpus) = BIO_CPUS.get() {
                    // Checked usable at start-up (`util::cpulist::check_usable`).
                    if let Err(e) = crate::util::cpulist::pin_current_thread(cpus) {
                        log::warn!("bio_cpulist: {e}");
                    }
                }
                let _ = pinned_tx.send(());
                for g in rx {
                    drop(g);
                    p.fetch_sub(1, Ordering::Relaxed);
                    f.fetch_add(1, Ordering::Relaxed);
                }
            });
        if spawned.is_ok() && BIO_CPUS.get().is_some() {
            let _ = pinned_rx.recv_timeout(PIN_WAIT_MAX);
        }
        LazyFree {
            tx: spawned.ok().map(|_| tx),
            pending,
            freed_objects: freed,
        }
    }

    /// Hands `obj` to the background thread, or drops it here if the queue is full.
    pub fn free<T: Send + 'static>(&self, obj: T) {
        let Some(tx) = &self.tx else {
            drop(obj);
            return;
        };
        self.pending.fetch_add(1, Ordering::Relaxed);
        match tx.try_send(Box::new(obj)) {
            Ok(()) => {}
            Err(TrySendError::Full(g)) | Err(TrySendError::Disconnected(g)) => {
                self.pending.fetch_sub(1, Ordering::Relaxed);
                drop(g);
            }
        }
    }

    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    pub fn freed(&self) -> usize {
        self.freed_objects.load(Ordering::Relaxed)
    }
}

static GLOBAL: OnceLock<LazyFree> = OnceLock::new();

thread_local! {
    static ON_LOOP_THREAD: Cell<bool> = const { Cell::new(false) };
    /// `lazyfree-lazy-server-del`: whether the collections a command drops as a side effect
    /// (overwritten, renamed over, emptied) go to the background thread.
    static SERVER_DEL_LAZY: Cell<bool> = const { Cell::new(true) };
}

/// Sets `lazyfree-lazy-server-del` for drops on this thread (the loop's, at start and after
/// CONFIG SET).
pub fn set_server_del_lazy(lazy: bool) {
    SERVER_DEL_LAZY.with(|c| c.set(lazy));
}

/// `bio_cpulist`: the CPUs the lazy-free thread (Redis's bio threads' counterpart) pins
/// itself to when it starts.
static BIO_CPUS: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();

/// Sets `bio_cpulist`, before the lazy-free thread starts (`global`).
pub fn set_bio_cpus(cpus: Vec<usize>) {
    let _ = BIO_CPUS.set(cpus);
}

/// The process's lazy-free thread, started on first use.
pub fn global() -> &'static LazyFree {
    GLOBAL.get_or_init(LazyFree::start)
}

/// Marks the calling thread as the event loop: large collections dropped on it from now on
/// are freed in the background.
pub fn enter_loop_thread() {
    global();
    ON_LOOP_THREAD.with(|c| c.set(true));
}

/// Whether a collection of `len` elements being dropped here should be freed in the
/// background.
pub fn should_defer(len: usize) -> bool {
    len > LAZYFREE_THRESHOLD && ON_LOOP_THREAD.with(Cell::get) && SERVER_DEL_LAZY.with(Cell::get)
}

/// Drops `obj` on this thread even if it is a large collection on the loop thread (eviction
/// without `lazyfree-lazy-eviction` frees synchronously, so the memory it freed is known).
pub fn drop_inline<T>(obj: T) {
    let was = ON_LOOP_THREAD.with(|c| c.replace(false));
    drop(obj);
    ON_LOOP_THREAD.with(|c| c.set(was));
}

/// For `Drop` impls: if `len` is large and this is the loop thread, moves the storage that
/// `take` returns to the lazy-free thread. Otherwise does nothing (the caller's fields are
/// then dropped inline as usual).
pub fn defer_if_large<T: Send + 'static>(len: usize, take: impl FnOnce() -> T) {
    if should_defer(len) {
        global().free(take());
    }
}
