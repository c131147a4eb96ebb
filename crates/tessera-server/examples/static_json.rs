//! Machine calibration for BENCHMARKS.md: the HTTP stack alone (axum on two tokio
//! workers, one static JSON body), the first of the figures measured on a 2-vCPU machine
//! when Tessera's targets were set (~127k requests/s there). Machines
//! differ: the ratio of this figure between two machines says how far Tessera's own
//! figures can be compared. Run by `benches/calibrate.sh`.

use axum::Router;
use axum::http::header;
use axum::routing::get;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18090".to_owned());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(async {
            let app = Router::new().route(
                "/",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"ok":true}"#,
                    )
                }),
            );
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            println!("ready on http://{addr}");
            axum::serve(listener, app).await
        })
}
