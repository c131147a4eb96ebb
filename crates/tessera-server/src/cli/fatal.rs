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

/// Writes `text` to standard output. A reader that went away before the end
/// (`tessera explain --all | head`) ends the output quietly: the rest is not wanted,
/// which is what a Unix filter does on SIGPIPE (Rust ignores the signal, so `println!`
/// would panic instead). Any other failure to write is fatal.
pub fn print_out(text: &str) -> Result<(), Fatal> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Fatal::runtime(format!(
            "cannot write to standard output: {e}"
        ))),
        _ => Ok(()),
    }
}
