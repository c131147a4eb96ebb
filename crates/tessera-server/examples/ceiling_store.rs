//! Machine calibration for BENCHMARKS.md: the refresh-rotation-like transaction that was
//! measured on a 2-vCPU machine when Tessera's targets were set (UPDATE the old token +
//! INSERT the new one), as fast as each store takes it with nothing else in the way, 64
//! callers for 10 s:
//! - `sqlite <dir>`: rusqlite on one writer thread committing each batch of waiting
//!   requests in one transaction, WAL, `synchronous=FULL`, each caller answered after its
//!   commit (16.2k/s on the machine the targets were set on, which "≥ 10,000 rotations/s
//!   on SQLite" refers to);
//! - `postgres <url>`: sqlx, a pool of 16, BEGIN/UPDATE/INSERT/COMMIT (4.8k/s there, for
//!   "≥ 4,000/s on PostgreSQL").
//!
//! Nothing here is Tessera's code. Run by `benches/calibrate.sh`.

// A stand-alone measure of the machine, outside Tessera: no injected randomness to use.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

const CALLERS: usize = 64;
const SECONDS: u64 = 10;

/// About the size of a stored refresh token's document.
fn document(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","client_id":"web","user":"{}","scopes":["openid","read"],"session":"{}","family":"{}","padding":"{}"}}"#,
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        "x".repeat(120)
    )
}

type Rotation = (String, String, oneshot::Sender<()>);

fn sqlite_writer(
    path: std::path::PathBuf,
    mut queue: mpsc::Receiver<Rotation>,
) -> rusqlite::Result<()> {
    let mut db = rusqlite::Connection::open(path)?;
    db.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, doc TEXT NOT NULL, revoked INTEGER NOT NULL);",
    )?;
    let mut batch = Vec::new();
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while let Ok(more) = queue.try_recv() {
            batch.push(more);
        }
        let tx = db.transaction()?;
        for (old, new, _) in &batch {
            tx.execute("UPDATE tokens SET revoked = 1 WHERE id = ?1", [old])?;
            tx.execute(
                "INSERT INTO tokens (id, doc, revoked) VALUES (?1, ?2, 0)",
                [new, &document(new)],
            )?;
        }
        tx.commit()?;
        for (_, _, done) in batch.drain(..) {
            let _ = done.send(());
        }
    }
    Ok(())
}

async fn sqlite(dir: String) -> Result<u64, Box<dyn std::error::Error>> {
    let path = std::path::Path::new(&dir).join("ceiling.db");
    let _ = std::fs::remove_file(&path);
    let (tx, rx) = mpsc::channel::<Rotation>(CALLERS * 2);
    let writer = std::thread::spawn(move || sqlite_writer(path, rx));
    let count = run(move |old, new| {
        let tx = tx.clone();
        async move {
            let (done, wait) = oneshot::channel();
            tx.send((old, new, done)).await.map_err(|e| e.to_string())?;
            wait.await.map_err(|e| e.to_string())
        }
    })
    .await?;
    writer.join().map_err(|_| "the writer panicked")??;
    Ok(count)
}

async fn postgres(url: String) -> Result<u64, Box<dyn std::error::Error>> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .connect(&url)
        .await?;
    sqlx::query("DROP TABLE IF EXISTS ceiling_tokens")
        .execute(&pool)
        .await?;
    sqlx::query(
        "CREATE TABLE ceiling_tokens (id TEXT PRIMARY KEY, doc TEXT NOT NULL, revoked BOOLEAN NOT NULL)",
    )
    .execute(&pool)
    .await?;
    let shared = pool.clone();
    let count = run(move |old, new| {
        let pool = shared.clone();
        async move {
            let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
            sqlx::query("UPDATE ceiling_tokens SET revoked = true WHERE id = $1")
                .bind(&old)
                .execute(&mut *tx)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::query("INSERT INTO ceiling_tokens (id, doc, revoked) VALUES ($1, $2, false)")
                .bind(&new)
                .bind(document(&new))
                .execute(&mut *tx)
                .await
                .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())
        }
    })
    .await?;
    sqlx::query("DROP TABLE ceiling_tokens")
        .execute(&pool)
        .await?;
    Ok(count)
}

/// `CALLERS` loops of rotations for `SECONDS`; returns how many completed in that time.
async fn run<F, Fut>(rotate: F) -> Result<u64, String>
where
    F: Fn(String, String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut callers = Vec::new();
    for _ in 0..CALLERS {
        let (rotate, done, stop) = (rotate.clone(), done.clone(), stop.clone());
        callers.push(tokio::spawn(async move {
            // The first rotation inserts the caller's first token (its UPDATE finds none).
            let mut current = uuid::Uuid::new_v4().to_string();
            while !stop.load(Ordering::Relaxed) {
                let next = uuid::Uuid::new_v4().to_string();
                rotate(current, next.clone()).await?;
                done.fetch_add(1, Ordering::Relaxed);
                current = next;
            }
            Ok::<_, String>(())
        }));
    }
    // Let every caller start, then count a fixed window.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (start, before) = (Instant::now(), done.load(Ordering::Relaxed));
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    let counted = done.load(Ordering::Relaxed) - before;
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for caller in callers {
        caller.await.map_err(|e| e.to_string())??;
    }
    Ok((counted as f64 / elapsed) as u64)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mode, target) = (
        args.next().unwrap_or_default(),
        args.next().unwrap_or_default(),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let per_second = match mode.as_str() {
        "sqlite" => runtime.block_on(sqlite(target))?,
        "postgres" => runtime.block_on(postgres(target))?,
        _ => return Err("usage: ceiling_store sqlite <dir> | postgres <url>".into()),
    };
    println!("{mode}: {per_second} rotation-like transactions/s ({CALLERS} callers, {SECONDS} s)");
    Ok(())
}
