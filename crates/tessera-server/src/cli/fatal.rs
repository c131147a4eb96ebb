//! How a command fails: one line on stderr and an exit status.

/// A failure that ends a command, in one line, with the exit status to use (2: bad
/// usage or input, 1: a runtime step failed).
#[derive(Debug)]
pub struct Fatal {
    pub message: String,
    pub status: u8,
}

impl Fatal {
    pub fn runtime(message: String) -> Self {
        Self { message, status: 1 }
    }
}
