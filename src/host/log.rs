//! Where the CLI's tracing events go: `wax_log` events (notes about the
//! guest that are not errors, such as a system call Wax does not provide)
//! are appended to the file `WAX_LOG` names and dropped without it; every
//! other event (warnings, `--strace` lines) goes to stderr.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;

/// The environment variable naming the log file (kept out of the guest's
/// environment, so a native and a wax run see the same variables).
pub const WAX_LOG: &str = "WAX_LOG";

/// The tracing target of events that belong in the log.
const LOG_TARGET: &str = "wax_log";

pub struct LogWriter {
    log: Option<Arc<Mutex<File>>>,
}

impl LogWriter {
    /// Opens `$WAX_LOG` for appending (a warning on stderr if it cannot).
    pub fn from_env() -> LogWriter {
        let log = std::env::var_os(WAX_LOG).and_then(|path| {
            match OpenOptions::new().create(true).append(true).open(&path) {
                Ok(f) => Some(Arc::new(Mutex::new(f))),
                Err(e) => {
                    eprintln!("wax: WAX_LOG={}: {e}", path.to_string_lossy());
                    None
                }
            }
        });
        LogWriter { log }
    }
}

/// One event's destination.
pub enum Sink {
    Stderr(io::Stderr),
    Log(Arc<Mutex<File>>),
    Nowhere,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stderr(e) => e.write(buf),
            Sink::Log(f) => f.lock().unwrap_or_else(|p| p.into_inner()).write(buf),
            Sink::Nowhere => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stderr(e) => e.flush(),
            Sink::Log(f) => f.lock().unwrap_or_else(|p| p.into_inner()).flush(),
            Sink::Nowhere => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = Sink;

    fn make_writer(&'a self) -> Sink {
        Sink::Stderr(io::stderr())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Sink {
        if meta.target() != LOG_TARGET {
            return Sink::Stderr(io::stderr());
        }
        match &self.log {
            Some(f) => Sink::Log(Arc::clone(f)),
            None => Sink::Nowhere,
        }
    }
}
