//! Evidence objects: streamed in, hashed and encrypted on the way, kept in
//! a local folder or an S3-compatible bucket through the `object_store`
//! interface, streamed out again only after each piece is authenticated.
//!
//! Ingestion never holds a whole file: plaintext is cut into chunks, a
//! batch of chunks is hashed (SHA-256 of the original, the evidence's
//! identity) on one thread while it is sealed ([`crate::stream`]) on
//! another, and the sealed bytes go out as the parts of a multipart upload.
//! Memory stays near `PART × (MAX_PARTS_IN_FLIGHT + 1)` whatever the size.
//! An upload that fails or is refused is aborted, so no partial object is
//! ever visible; an object becomes part of the record only when the store
//! commits the catalogue row that names it.
//!
//! Objects are stored under random names, not under their hash: the bucket
//! then reveals nothing about its contents, not even which files are equal.
//! Identical contents are still stored once: the catalogue (in the database)
//! knows each object's SHA-256 and points a second upload of the same file
//! at the first object, and the second copy is deleted.
//!
//! Each object is sealed under its own random data key; the data key is
//! kept in the catalogue wrapped by the keyring (purpose
//! [`DATA_KEY_PURPOSE`], bound to the object's name), so rotating the
//! master key re-wraps 32-byte keys, never the objects.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::stream::{self, Opener, Sealer, CHUNK};
use crate::{random_bytes, Keyring, VaultError};

/// The keyring purpose of wrapped data keys.
pub const DATA_KEY_PURPOSE: &str = "vault object key";
/// Bytes per part of a multipart upload (S3 requires at least 5 MiB).
pub const PART: usize = 8 * 1024 * 1024;
/// Parts uploaded at once.
const MAX_PARTS_IN_FLIGHT: usize = 2;
/// Chunks hashed and sealed together, so the two threads get work worth
/// starting for.
const BATCH_CHUNKS: usize = 16;
/// Where objects live inside the bucket or folder.
const PREFIX: &str = "objects";

/// Why an object could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// The upload is larger than allowed; nothing was kept.
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The sender's stream broke off; nothing was kept.
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    /// The object storage failed or is unreachable.
    #[error("object storage: {0}")]
    Storage(#[from] object_store::Error),
    /// Keys, or the object's authentication.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The object opened, but its content is not the recorded content.
    #[error("object {name}: its content's SHA-256 is {found}, the record says {expected}")]
    HashMismatch {
        /// The object.
        name: String,
        /// The recorded SHA-256 (hex).
        expected: String,
        /// The SHA-256 of what is stored (hex).
        found: String,
    },
    /// A worker thread failed.
    #[error("internal: {0}")]
    Internal(String),
}

/// What ingesting one file produced, for the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    /// The object's name in the storage.
    pub name: String,
    /// SHA-256 of the original content.
    pub sha256: [u8; 32],
    /// Bytes of original content.
    pub size: u64,
    /// The object's data key, wrapped by the keyring.
    pub wrapped_key: Vec<u8>,
}

/// Where objects are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A folder on this machine.
    Local(std::path::PathBuf),
    /// An S3-compatible bucket.
    S3(S3Config),
}

/// How to reach an S3-compatible bucket.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// The bucket's name.
    pub bucket: String,
    /// A folder inside the bucket (empty: the top), so several deployments
    /// (or test servers) can share one bucket.
    pub prefix: String,
    /// The service's address, e.g. `http://127.0.0.1:3900` (empty: AWS).
    pub endpoint: String,
    /// The region (Garage's default is `garage`).
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The evidence vault: objects and the keys that open them.
#[derive(Clone)]
pub struct ObjectVault {
    store: Arc<dyn ObjectStore>,
    keys: Arc<Keyring>,
    describe: String,
    /// The folder, for a local vault.
    local: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for ObjectVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectVault").field("at", &self.describe).finish()
    }
}

/// The hex form of a SHA-256.
pub fn hex_hash(h: &[u8; 32]) -> String {
    hex::encode(h)
}

/// A SHA-256 from its hex form (as the catalogue keeps it), if it is one.
pub fn hash_from_hex(text: &str) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

impl ObjectVault {
    /// A vault over the given location; a local folder is created if missing.
    pub fn open(location: &Location, keys: Arc<Keyring>) -> Result<Self, ObjectError> {
        let local = match location {
            Location::Local(dir) => Some(dir.clone()),
            Location::S3(_) => None,
        };
        let (store, describe): (Arc<dyn ObjectStore>, String) = match location {
            Location::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    ObjectError::Storage(object_store::Error::Generic {
                        store: "local folder",
                        source: Box::new(e),
                    })
                })?;
                (
                    Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?),
                    dir.display().to_string(),
                )
            }
            Location::S3(c) => {
                // A few quick retries, then a clear failure: an upload must
                // not hang for minutes when the storage is gone.
                let retry = object_store::RetryConfig {
                    max_retries: 3,
                    retry_timeout: std::time::Duration::from_secs(20),
                    ..Default::default()
                };
                let options = object_store::ClientOptions::new()
                    .with_connect_timeout(std::time::Duration::from_secs(5))
                    .with_timeout(std::time::Duration::from_secs(120));
                let mut b = object_store::aws::AmazonS3Builder::new()
                    .with_retry(retry)
                    .with_client_options(options)
                    .with_bucket_name(&c.bucket)
                    .with_region(&c.region)
                    .with_access_key_id(&c.access_key_id)
                    .with_secret_access_key(&c.secret_access_key);
                if !c.endpoint.is_empty() {
                    // Self-hosted services (Garage, MinIO) answer path-style
                    // requests; plain HTTP only when the endpoint says so.
                    b = b
                        .with_endpoint(&c.endpoint)
                        .with_virtual_hosted_style_request(false)
                        .with_allow_http(c.endpoint.starts_with("http://"));
                }
                let s3 = b.build()?;
                let describe = format!("s3://{}/{}", c.bucket, c.prefix);
                if c.prefix.is_empty() {
                    (Arc::new(s3), describe)
                } else {
                    (
                        Arc::new(object_store::prefix::PrefixStore::new(s3, c.prefix.as_str())),
                        describe,
                    )
                }
            }
        };
        Ok(ObjectVault {
            store,
            keys,
            describe,
            local,
        })
    }

    /// Where the objects are, for messages.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    fn path(name: &str) -> ObjectPath {
        ObjectPath::from(format!("{PREFIX}/{}/{name}", &name[..2.min(name.len())]))
    }

    /// Streams a file in: hashes and seals it, stores it as a new object.
    /// Refuses more than `limit` bytes. On any failure the partial upload is
    /// aborted.
    pub async fn ingest<S, E>(&self, body: S, limit: u64) -> Result<Ingested, ObjectError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let mut raw = [0u8; 16];
        random_bytes(&mut raw)?;
        let name = hex::encode(raw);
        let path = Self::path(&name);
        let upload = self.store.put_multipart(&path).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        match self.ingest_into(&mut writer, body, limit, &name).await {
            Ok(ingested) => {
                writer.finish().await?;
                Ok(ingested)
            }
            Err(e) => {
                // The original error matters more than a failed abort.
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    async fn ingest_into<S, E>(
        &self,
        writer: &mut WriteMultipart,
        body: S,
        limit: u64,
        name: &str,
    ) -> Result<Ingested, ObjectError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let key = stream::new_data_key()?;
        let sealer = Arc::new(Sealer::new(&key)?);
        writer.write(sealer.header());
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut index: u32 = 0;
        let mut batch: Vec<u8> = Vec::with_capacity(BATCH_CHUNKS * CHUNK);
        let mut body = std::pin::pin!(body);
        while let Some(piece) = body.next().await {
            let piece = piece.map_err(|e| ObjectError::Interrupted(e.to_string()))?;
            size += piece.len() as u64;
            if size > limit {
                return Err(ObjectError::TooLarge { limit });
            }
            let mut rest = &piece[..];
            while !rest.is_empty() {
                // A full batch is sealed only once more bytes are known to
                // follow it: the final chunk must carry the last flag.
                if batch.len() == BATCH_CHUNKS * CHUNK {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_CHUNKS * CHUNK));
                    let (h, sealed) = seal_batch(sealer.clone(), hasher, full, index, false).await?;
                    hasher = h;
                    index += BATCH_CHUNKS as u32;
                    writer.wait_for_capacity(MAX_PARTS_IN_FLIGHT).await?;
                    writer.put(sealed);
                }
                let take = (BATCH_CHUNKS * CHUNK - batch.len()).min(rest.len());
                batch.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
            }
        }
        let (h, sealed) = seal_batch(sealer, hasher, batch, index, true).await?;
        writer.put(sealed);
        let sha256: [u8; 32] = h.finalize().into();
        let wrapped_key = self
            .keys
            .seal(DATA_KEY_PURPOSE, &format!("object/{name}"), key.as_ref())?;
        Ok(Ingested {
            name: name.to_string(),
            sha256,
            size,
            wrapped_key,
        })
    }

    fn data_key(&self, name: &str, wrapped_key: &[u8]) -> Result<Zeroizing<[u8; 32]>, ObjectError> {
        let key = self
            .keys
            .open(DATA_KEY_PURPOSE, &format!("object/{name}"), wrapped_key)?;
        let key: [u8; 32] = key.as_slice().try_into().map_err(|_| VaultError::Malformed)?;
        Ok(Zeroizing::new(key))
    }

    /// Streams an object's original content out. Every piece is
    /// authenticated before it is yielded; the stream ends with an error if
    /// the object was altered or its content is not `sha256`.
    pub async fn read(
        &self,
        name: &str,
        wrapped_key: &[u8],
        sha256: [u8; 32],
    ) -> Result<BoxStream<'static, Result<Bytes, ObjectError>>, ObjectError> {
        let key = self.data_key(name, wrapped_key)?;
        let stored = self.store.get(&Self::path(name)).await?.into_stream();
        let state = ReadState {
            stored,
            opener: Opener::new(key),
            hasher: Sha256::new(),
            name: name.to_string(),
            expected: sha256,
            done: false,
        };
        Ok(futures_util::stream::unfold(state, |mut s| async move {
            if s.done {
                return None;
            }
            let item = s.next_piece().await;
            if item.is_err() {
                s.done = true;
            }
            match item {
                Ok(Some(bytes)) => Some((Ok(bytes), s)),
                Ok(None) => None,
                Err(e) => Some((Err(e), s)),
            }
        })
        .boxed())
    }

    /// Reads a whole object and checks it against the recorded SHA-256;
    /// returns the size of its content.
    pub async fn check(&self, name: &str, wrapped_key: &[u8], sha256: [u8; 32]) -> Result<u64, ObjectError> {
        let mut s = self.read(name, wrapped_key, sha256).await?;
        let mut size = 0u64;
        while let Some(piece) = s.next().await {
            size += piece?.len() as u64;
        }
        Ok(size)
    }

    /// Deletes an object (a second copy of content already stored, or an
    /// object no record came to name).
    pub async fn delete(&self, name: &str) -> Result<(), ObjectError> {
        match self.store.delete(&Self::path(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the parts of uploads that were never completed (a process
    /// killed mid-upload) and are older than `older_than`; returns how many.
    /// They are never visible as objects. In a local folder they are files
    /// beside the objects (`NAME#N`); an S3 service keeps them as incomplete
    /// multipart uploads, which the bucket's own cleanup removes (see
    /// docs/operations.md).
    pub fn sweep_partial(&self, older_than: std::time::Duration) -> std::io::Result<usize> {
        fn walk(dir: &std::path::Path, older_than: std::time::Duration, n: &mut usize) -> std::io::Result<()> {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return Ok(());
            };
            for entry in entries {
                let entry = entry?;
                let path = entry.path();
                if entry.file_type()?.is_dir() {
                    walk(&path, older_than, n)?;
                } else if entry.file_name().to_string_lossy().contains('#') {
                    let age = entry.metadata()?.modified()?.elapsed().unwrap_or_default();
                    if age >= older_than {
                        std::fs::remove_file(&path)?;
                        *n += 1;
                    }
                }
            }
            Ok(())
        }
        let mut n = 0;
        if let Some(dir) = &self.local {
            walk(&dir.join(PREFIX), older_than, &mut n)?;
        }
        Ok(n)
    }

    /// Every stored object's name and when it was last written.
    pub async fn list(&self) -> Result<Vec<(String, time::OffsetDateTime)>, ObjectError> {
        let mut out = Vec::new();
        let mut listing = self.store.list(Some(&ObjectPath::from(PREFIX)));
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if let Some(name) = meta.location.filename() {
                let at = time::OffsetDateTime::from_unix_timestamp(meta.last_modified.timestamp())
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                out.push((name.to_string(), at));
            }
        }
        Ok(out)
    }

    /// Stores bytes already sealed under `name`, replacing what is there
    /// (tests use it to alter an object).
    pub async fn put_sealed(&self, name: &str, sealed: Bytes) -> Result<(), ObjectError> {
        self.store.put(&Self::path(name), PutPayload::from(sealed)).await?;
        Ok(())
    }

    /// Copies the object `name` from `source` as it is stored (sealed; the
    /// keys stay in the catalogue), streaming, and returns the SHA-256 (hex)
    /// of the sealed bytes, so a backup can list and a restore check them.
    pub async fn copy_from(&self, source: &ObjectVault, name: &str) -> Result<String, ObjectError> {
        let mut from = source.store.get(&Self::path(name)).await?.into_stream();
        let upload = self.store.put_multipart(&Self::path(name)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut hasher = Sha256::new();
        let copied: Result<(), ObjectError> = async {
            while let Some(piece) = from.next().await {
                let piece = piece?;
                hasher.update(&piece);
                writer.wait_for_capacity(MAX_PARTS_IN_FLIGHT).await?;
                writer.put(piece);
            }
            Ok(())
        }
        .await;
        match copied {
            Ok(()) => {
                writer.finish().await?;
                Ok(hex::encode(hasher.finalize()))
            }
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    /// The SHA-256 (hex) of an object's sealed bytes.
    pub async fn sealed_hash(&self, name: &str) -> Result<String, ObjectError> {
        let mut s = self.store.get(&Self::path(name)).await?.into_stream();
        let mut hasher = Sha256::new();
        while let Some(piece) = s.next().await {
            hasher.update(&piece?);
        }
        Ok(hex::encode(hasher.finalize()))
    }

    /// An object's stored (sealed) bytes, as they are.
    pub async fn get_sealed(&self, name: &str) -> Result<BoxStream<'static, Result<Bytes, ObjectError>>, ObjectError> {
        let s = self.store.get(&Self::path(name)).await?.into_stream();
        Ok(s.map(|r| r.map_err(ObjectError::from)).boxed())
    }
}

/// Hashes and seals one batch on two threads at once.
async fn seal_batch(
    sealer: Arc<Sealer>,
    mut hasher: Sha256,
    plain: Vec<u8>,
    first: u32,
    last: bool,
) -> Result<(Sha256, Bytes), ObjectError> {
    tokio::task::spawn_blocking(move || {
        std::thread::scope(|s| {
            let hashing = s.spawn(|| {
                hasher.update(&plain);
                hasher
            });
            let mut out = Vec::with_capacity(plain.len() + (plain.len() / CHUNK + 1) * stream::TAG);
            let mut chunks: Vec<&[u8]> = plain.chunks(CHUNK).collect();
            if last && (plain.is_empty() || plain.len().is_multiple_of(CHUNK)) {
                // The last chunk must exist to carry the flag, even empty.
                chunks.push(&[]);
            }
            let n = chunks.len();
            let mut buf = Vec::with_capacity(CHUNK + stream::TAG);
            for (i, c) in chunks.into_iter().enumerate() {
                buf.clear();
                buf.extend_from_slice(c);
                sealer.seal(first + i as u32, last && i + 1 == n, &mut buf)?;
                out.extend_from_slice(&buf);
            }
            let hasher = hashing
                .join()
                .map_err(|_| ObjectError::Internal("hashing thread failed".into()))?;
            Ok((hasher, Bytes::from(out)))
        })
    })
    .await
    .map_err(|e| ObjectError::Internal(e.to_string()))?
}

struct ReadState {
    stored: BoxStream<'static, object_store::Result<Bytes>>,
    opener: Opener,
    hasher: Sha256,
    name: String,
    expected: [u8; 32],
    done: bool,
}

impl ReadState {
    async fn next_piece(&mut self) -> Result<Option<Bytes>, ObjectError> {
        loop {
            match self.stored.next().await {
                Some(piece) => {
                    let plain = self.opener.push(&piece?)?;
                    if !plain.is_empty() {
                        self.hasher.update(&plain);
                        return Ok(Some(Bytes::from(plain)));
                    }
                }
                None => {
                    let plain = self.opener.finish()?;
                    self.hasher.update(&plain);
                    self.done = true;
                    let found: [u8; 32] = std::mem::take(&mut self.hasher).finalize().into();
                    if found != self.expected {
                        return Err(ObjectError::HashMismatch {
                            name: self.name.clone(),
                            expected: hex_hash(&self.expected),
                            found: hex_hash(&found),
                        });
                    }
                    return Ok((!plain.is_empty()).then(|| Bytes::from(plain)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> (ObjectVault, std::path::PathBuf) {
        let mut r = [0u8; 6];
        random_bytes(&mut r).unwrap();
        let dir = std::env::temp_dir().join(format!("lantern-objects-{}", hex::encode(r)));
        let keys = Arc::new(Keyring::generate().unwrap());
        (ObjectVault::open(&Location::Local(dir.clone()), keys).unwrap(), dir)
    }

    fn pieces(data: &[u8], size: usize) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send {
        let v: Vec<Result<Bytes, std::convert::Infallible>> = data
            .chunks(size.max(1))
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        futures_util::stream::iter(v)
    }

    async fn read_all(v: &ObjectVault, i: &Ingested) -> Result<Vec<u8>, ObjectError> {
        let mut s = v.read(&i.name, &i.wrapped_key, i.sha256).await?;
        let mut out = Vec::new();
        while let Some(p) = s.next().await {
            out.extend_from_slice(&p?);
        }
        Ok(out)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ingests_reads_and_hashes_whatever_the_size_and_pieces() {
        let (v, dir) = vault();
        for (len, piece) in [
            (0usize, 1usize),
            (5, 2),
            (CHUNK * BATCH_CHUNKS, 1000),
            (CHUNK * BATCH_CHUNKS + 1, CHUNK * BATCH_CHUNKS),
            (PART + 12345, 300_000),
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            let i = v.ingest(pieces(&data, piece), u64::MAX).await.unwrap();
            assert_eq!(i.size, len as u64);
            assert_eq!(i.sha256, <[u8; 32]>::from(Sha256::digest(&data)), "length {len}");
            assert_eq!(read_all(&v, &i).await.unwrap(), data, "length {len}");
            let on_disk = std::fs::read(dir.join(ObjectVault::path(&i.name).as_ref())).unwrap();
            assert_eq!(on_disk.len() as u64, stream::sealed_len(len as u64));
            if len > 64 {
                assert!(!on_disk.windows(64).any(|w| w == &data[..64]), "plaintext stored");
            }
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_too_large_and_interrupted_uploads_and_keeps_nothing() {
        let (v, dir) = vault();
        let data = vec![1u8; 3 * CHUNK];
        let err = v.ingest(pieces(&data, 10_000), 2 * CHUNK as u64).await.unwrap_err();
        assert!(matches!(err, ObjectError::TooLarge { limit } if limit == 2 * CHUNK as u64));
        let broken = futures_util::stream::iter(vec![Ok(Bytes::from_static(b"abc")), Err("connection reset")]);
        let err = v.ingest(broken, u64::MAX).await.unwrap_err();
        assert!(matches!(err, ObjectError::Interrupted(ref m) if m.contains("connection reset")));
        assert!(v.list().await.unwrap().is_empty(), "a refused upload left an object");
        let leftovers: Vec<_> = walk(&dir);
        assert!(leftovers.is_empty(), "partial files left: {leftovers:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                if e.path().is_dir() {
                    out.extend(walk(&e.path()));
                } else {
                    out.push(e.path());
                }
            }
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn detects_a_flipped_byte_a_wrong_hash_and_a_foreign_key() {
        let (v, dir) = vault();
        let data: Vec<u8> = (0..(CHUNK * 3)).map(|i| (i % 7) as u8).collect();
        let i = v.ingest(pieces(&data, 50_000), u64::MAX).await.unwrap();
        assert_eq!(
            v.check(&i.name, &i.wrapped_key, i.sha256).await.unwrap(),
            data.len() as u64
        );
        let mut wrong = i.sha256;
        wrong[0] ^= 1;
        assert!(matches!(
            v.check(&i.name, &i.wrapped_key, wrong).await,
            Err(ObjectError::HashMismatch { .. })
        ));
        let file = dir.join(ObjectVault::path(&i.name).as_ref());
        let mut bytes = std::fs::read(&file).unwrap();
        bytes[stream::HEADER + CHUNK + 100] ^= 0x01;
        std::fs::write(&file, &bytes).unwrap();
        assert!(matches!(
            v.check(&i.name, &i.wrapped_key, i.sha256).await,
            Err(ObjectError::Vault(VaultError::Tampered))
        ));
        let j = v.ingest(pieces(b"other", 5), u64::MAX).await.unwrap();
        // Another object's wrapped key is bound to that object's name.
        assert!(v.check(&i.name, &j.wrapped_key, i.sha256).await.is_err());
        v.delete(&i.name).await.unwrap();
        v.delete(&i.name).await.unwrap();
        assert_eq!(v.list().await.unwrap().len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// The S3-compatible server of `scripts/lib/garage.sh` (run by
    /// scripts/test.sh with `--include-ignored`).
    fn s3_vault() -> ObjectVault {
        let var = |k: &str| {
            std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set (start Garage: scripts/lib/garage.sh)"))
        };
        let mut r = [0u8; 6];
        random_bytes(&mut r).unwrap();
        let location = Location::S3(S3Config {
            bucket: var("LANTERN_TEST_S3_BUCKET"),
            prefix: format!("vault-test-{}", hex::encode(r)),
            endpoint: var("LANTERN_TEST_S3_ENDPOINT"),
            region: var("LANTERN_TEST_S3_REGION"),
            access_key_id: var("LANTERN_TEST_S3_KEY_ID"),
            secret_access_key: var("LANTERN_TEST_S3_SECRET"),
        });
        ObjectVault::open(&location, Arc::new(Keyring::generate().unwrap())).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs an S3-compatible server (scripts/test.sh starts Garage)"]
    async fn on_s3_multipart_objects_round_trip_and_a_rewritten_object_is_caught() {
        let v = s3_vault();
        let data: Vec<u8> = (0..(PART * 2 + 777)).map(|i| (i % 241) as u8).collect();
        let i = v.ingest(pieces(&data, 256 * 1024), u64::MAX).await.unwrap();
        assert_eq!(read_all(&v, &i).await.unwrap(), data);
        assert_eq!(v.list().await.unwrap().len(), 1);
        let err = v.ingest(pieces(&data, 256 * 1024), PART as u64).await.unwrap_err();
        assert!(matches!(err, ObjectError::TooLarge { .. }));
        assert_eq!(v.list().await.unwrap().len(), 1, "a refused upload is visible");
        let mut sealed = Vec::new();
        let mut s = v.get_sealed(&i.name).await.unwrap();
        while let Some(p) = s.next().await {
            sealed.extend_from_slice(&p.unwrap());
        }
        sealed[PART + 5] ^= 0x80;
        v.put_sealed(&i.name, Bytes::from(sealed)).await.unwrap();
        assert!(matches!(
            v.check(&i.name, &i.wrapped_key, i.sha256).await,
            Err(ObjectError::Vault(VaultError::Tampered))
        ));
        v.delete(&i.name).await.unwrap();
        assert!(v.list().await.unwrap().is_empty());
    }
}
