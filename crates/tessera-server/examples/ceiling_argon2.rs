//! Machine calibration for BENCHMARKS.md: Argon2id at m=19 MiB, t=2, p=1 (the argon2
//! crate, one hash at a time on each of the machine's cores) for 10 s, the ceiling of
//! ../shared/spec/architecture.md's measurements (~85 hashes/s on both cores of the
//! machine the targets were set on), which "password sign-ins ≥ 70/s (≈ 80 % of the
//! Argon2 ceiling)" refers to. Run by `benches/calibrate.sh`.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let window = Duration::from_secs(10);
    let start = Instant::now();
    let workers: Vec<_> = (0..cores)
        .map(|i| {
            std::thread::spawn(move || {
                let params = Params::new(19 * 1024, 2, 1, Some(32)).map_err(|e| e.to_string())?;
                let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
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
