//! Evidence ingestion throughput: prints numbers, asserts nothing.
//!
//! Writes a file of `MIB` mebibytes (default 1024), times `sha256sum` on it,
//! then ingests it into a local vault folder (SHA-256 and XChaCha20-Poly1305
//! on two threads, sealed parts written to disk) and reads it back, and
//! prints both throughputs, their ratio and the process's peak resident
//! memory (`VmHWM`).
//!
//! ```sh
//! cargo run --release -p lantern-vault --example ingest -- 1024 [DIR]
//! ```

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use lantern_vault::objects::{Location, ObjectVault};

const PIECE: usize = 256 * 1024;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().map_or(1024, |a| a.parse().expect("size in MiB"));
    let base = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("lantern-ingest-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("folder");
    let file = dir.join("evidence.bin");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file).expect("file"));
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..mib {
            for chunk in block.chunks_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                chunk.copy_from_slice(&state.to_le_bytes());
            }
            f.write_all(&block).expect("write");
        }
    }
    let bytes = (mib as f64) * 1024.0 * 1024.0;
    // Warm the page cache for both readers alike.
    let _ = std::process::Command::new("cat")
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .status();

    let t = Instant::now();
    let out = std::process::Command::new("sha256sum")
        .arg(&file)
        .output()
        .expect("sha256sum");
    let sha_secs = t.elapsed().as_secs_f64();
    let reference = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();

    let keys = Arc::new(lantern_vault::Keyring::generate().expect("keys"));
    let vault = ObjectVault::open(&Location::Local(dir.join("objects")), keys).expect("vault");
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(4);
    let reader_file = file.clone();
    let t = Instant::now();
    std::thread::spawn(move || {
        let mut f = std::fs::File::open(reader_file).expect("open");
        loop {
            let mut buf = vec![0u8; PIECE];
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(bytes::Bytes::from(buf))).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    let ingested = vault.ingest(body, u64::MAX).await.expect("ingest");
    let ingest_secs = t.elapsed().as_secs_f64();
    assert_eq!(
        lantern_vault::objects::hex_hash(&ingested.sha256),
        reference,
        "hashes differ"
    );

    let t = Instant::now();
    let mut read = vault
        .read(&ingested.name, &ingested.wrapped_key, ingested.sha256)
        .await
        .expect("read");
    let mut n = 0u64;
    while let Some(piece) = read.next().await {
        n += piece.expect("piece").len() as u64;
    }
    let read_secs = t.elapsed().as_secs_f64();
    assert_eq!(n, ingested.size);

    let mbs = |secs: f64| bytes / secs / 1e6;
    println!("file: {mib} MiB");
    println!("sha256sum:               {:.2} s, {:.0} MB/s", sha_secs, mbs(sha_secs));
    println!(
        "ingest (hash + seal + write): {:.2} s, {:.0} MB/s = {:.0} % of sha256sum",
        ingest_secs,
        mbs(ingest_secs),
        100.0 * sha_secs / ingest_secs
    );
    println!(
        "read back (open + hash):  {:.2} s, {:.0} MB/s",
        read_secs,
        mbs(read_secs)
    );
    println!("peak resident memory: {:.1} MiB", peak_rss_kib() as f64 / 1024.0);
    std::fs::remove_dir_all(&dir).expect("clean up");
}
