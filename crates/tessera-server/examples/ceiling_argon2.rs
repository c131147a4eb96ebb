//! Machine calibration for BENCHMARKS.md: Argon2id at m=19 MiB, t=2, p=1 (the argon2
//! crate, one hash at a time on each of the machine's cores) for 10 s, the ceiling
//! measured when Tessera's targets were set (~85 hashes/s on both cores of that 2-vCPU
//! machine), which "password sign-ins ≥ 70/s (≈ 80 % of the Argon2 ceiling)" refers
//! to. Run by `benches/calibrate.sh`.
//!   ceiling_argon2                  hash flat out on every core for 10 s
//!   ceiling_argon2 <rate> <seconds> hash at a fixed rate (open loop: hash N is queued at
//!     N / rate s), on one thread per core that keeps its memory, as Tessera's password
//!     pool does. calibrate.sh runs this beside the token-like endpoint to measure what
//!     50 hashes/s alone do to another load's p99 on this machine, with no Tessera code.

use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};

fn argon() -> Result<Argon2<'static>, String> {
    let params = Params::new(19 * 1024, 2, 1, Some(32)).map_err(|e| e.to_string())?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => flat_out(cores),
        [rate, seconds] => at_rate(cores, rate.parse()?, seconds.parse()?),
        _ => Err("usage: ceiling_argon2 [<rate> <seconds>]".into()),
    }
}

fn flat_out(cores: usize) -> Result<(), Box<dyn std::error::Error>> {
    let window = Duration::from_secs(10);
    let start = Instant::now();
    let workers: Vec<_> = (0..cores)
        .map(|i| {
            std::thread::spawn(move || {
                let argon = argon()?;
                let salt = [i as u8; 16];
                let mut out = [0u8; 32];
                let mut hashes = 0u64;
                while start.elapsed() < window {
                    argon
                        .hash_password_into(b"bench-password-1", &salt, &mut out)
                        .map_err(|e| e.to_string())?;
                    hashes += 1;
                }
                Ok::<_, String>(hashes)
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.join().map_err(|_| "a worker panicked")??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "argon2id m=19MiB t=2 p=1: {:.1} hashes/s on {cores} threads",
        total as f64 / elapsed
    );
    Ok(())
}

fn at_rate(cores: usize, rate: f64, seconds: f64) -> Result<(), Box<dyn std::error::Error>> {
    if !(rate > 0.0 && seconds > 0.0) {
        return Err("rate and seconds must be positive".into());
    }
    let total = (rate * seconds) as u64;
    let (queue, jobs) = mpsc::channel::<u64>();
    let jobs = Arc::new(Mutex::new(jobs));
    let workers: Vec<_> = (0..cores)
        .map(|_| {
            let jobs = jobs.clone();
            std::thread::spawn(move || {
                let argon = argon()?;
                let mut memory = vec![Block::default(); argon.params().block_count()];
                let mut out = [0u8; 32];
                let mut hashes = 0u64;
                while let Ok(Ok(i)) = jobs.lock().map(|q| q.recv()) {
                    argon
                        .hash_password_into_with_memory(
                            b"bench-password-1",
                            &i.to_le_bytes().repeat(2),
                            &mut out,
                            &mut memory,
                        )
                        .map_err(|e| e.to_string())?;
                    hashes += 1;
                }
                Ok::<_, String>(hashes)
            })
        })
        .collect();
    let start = Instant::now();
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        queue.send(i)?;
    }
    drop(queue);
    let mut done = 0;
    for worker in workers {
        done += worker.join().map_err(|_| "a worker panicked")??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "argon2id m=19MiB t=2 p=1 at a fixed rate: {done} hashes in {elapsed:.1} s \
         ({:.1}/s, target {rate}/s) on {cores} threads",
        done as f64 / elapsed
    );
    Ok(())
}
