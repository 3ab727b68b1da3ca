//! `lantern backup`, `lantern restore` and `lantern migrate-store`.
//!
//! A backup is a folder:
//!
//! - `records.db`: every record, the audit trail and the log, copied from one
//!   consistent snapshot of the running deployment's database (SQLite or
//!   PostgreSQL) into an SQLite file with Lantern's schema. Live secrets
//!   (sessions, the first-run setup token) are left out. Protected fields
//!   stay sealed under the master key, as in the database.
//! - `keys.enc`: the files of `DATA_DIR/keys` (the master key, the sealed
//!   ledger signing key), sealed under a passphrase
//!   ([`lantern_vault::passphrase`]), so the folder can be stored away from
//!   the machine.
//! - `objects/`: every evidence object the snapshot's catalogue names, copied
//!   as stored (sealed; their keys are in the catalogue, under the master
//!   key), whether the deployment keeps them in a folder or on S3.
//! - `manifest.json`: the format, when and from what it was made, the row
//!   count of every table, the log's size and root, and the SHA-256 of every
//!   file and object. A restore checks all of it, copies the objects to the
//!   restored deployment's storage and reads each one back against its
//!   recorded hash.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use base64::Engine as _;
use lantern_store_sql::copy::{census, copy_records, Census};
use lantern_store_sql::SqlStore;
use lantern_vault::objects::{Location, ObjectVault};
use lantern_vault::Keyring;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::settings::{Database, Settings};
use crate::{ledger, prepare_data_dir, Engine};

/// The format a backup's manifest declares (2 added `objects/`).
pub const FORMAT: &str = "lantern-backup/2";
/// Formats a restore reads.
const READS: &[&str] = &["lantern-backup/1", FORMAT];
const OBJECTS: &str = "objects";
const RECORDS: &str = "records.db";
const KEYS: &str = "keys.enc";
const MANIFEST: &str = "manifest.json";
/// Tables made from other rows by the version that writes them (people's
/// words, by the search key of their names), which a newer version's
/// migration may make again differently: schema 24 spells ı, ł and the
/// like in ASCII, so two words of one person may become one. A restore
/// opens (and so migrates) the backup before counting its rows, and does
/// not hold these to the manifest's count; the copy is still checked
/// against the backup as migrated.
const DERIVED: &[&str] = &["name_tokens"];
/// Shortest passphrase accepted for a new backup.
pub const MIN_PASSPHRASE: usize = 12;

/// What a backup holds, as written in its `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// When the snapshot was taken (RFC 3339).
    pub created_at: String,
    /// The engine it was taken from (`sqlite`, `postgres`).
    pub source: String,
    /// The ledger origin (the signing key is bound to it).
    pub ledger_origin: String,
    /// Rows per table.
    pub tables: BTreeMap<String, u64>,
    /// Entries in the log.
    pub ledger_size: u64,
    /// The log's root at that size (hex).
    pub ledger_root: String,
    /// SHA-256 (hex) of each file of the backup.
    pub files: BTreeMap<String, String>,
    /// SHA-256 (hex) of each evidence object as stored (sealed), by name.
    #[serde(default)]
    pub objects: BTreeMap<String, String>,
}

impl Manifest {
    fn matches(&self, census: &Census) -> Vec<String> {
        let mut out = Vec::new();
        for (table, rows) in &census.tables {
            if DERIVED.contains(&table.as_str()) {
                continue;
            }
            let said = self.tables.get(table).copied().unwrap_or(0);
            if said != *rows {
                out.push(format!("{table}: {rows} rows, the manifest says {said}"));
            }
        }
        if self.ledger_size != census.ledger_size || self.ledger_root != hex::encode(census.ledger_root) {
            out.push(format!(
                "log: {} entries with root {}, the manifest says {} with root {}",
                census.ledger_size,
                hex::encode(census.ledger_root),
                self.ledger_size,
                self.ledger_root
            ));
        }
        out
    }
}

/// Where the passphrase comes from: a file's first line, or the
/// environment variable `LANTERN_BACKUP_PASSPHRASE`.
pub fn passphrase(file: Option<&Path>) -> anyhow::Result<String> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        None => std::env::var("LANTERN_BACKUP_PASSPHRASE").map_err(|_| {
            anyhow::anyhow!("give the backup passphrase with --passphrase-file FILE or LANTERN_BACKUP_PASSPHRASE")
        })?,
    };
    Ok(text.lines().next().unwrap_or("").to_string())
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Takes a backup of the deployment `settings` describe into the new folder
/// `dest`, while the server may keep serving. The folder appears whole or
/// not at all (it is written as `DEST.partial` and renamed).
pub fn backup(settings: &Settings, dest: &Path, passphrase: &str, now: OffsetDateTime) -> anyhow::Result<Manifest> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        bail!("the backup passphrase must have at least {MIN_PASSPHRASE} characters");
    }
    if dest.exists() {
        bail!("{} already exists; a backup goes into a new folder", dest.display());
    }
    let key_dir = settings.data_dir.join("keys");
    if !key_dir.join("master.key").exists() {
        bail!(
            "no master key in {}: is this the deployment's data folder?",
            key_dir.display()
        );
    }
    let partial = PathBuf::from(format!("{}.partial", dest.display()));
    if partial.exists() {
        // Left by an interrupted backup: never a complete one.
        std::fs::remove_dir_all(&partial).with_context(|| format!("removing {}", partial.display()))?;
    }
    prepare_data_dir(&partial)?;
    std::fs::remove_dir(partial.join("keys"))?;

    let source = Engine::open(&settings.database()?)?;
    let copied = {
        let target = lantern_store_sqlite::Sqlite::open(&partial.join(RECORDS))?;
        copy_records(&source, &target).context("copying the records")?
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let records = partial.join(RECORDS);
        std::fs::set_permissions(&records, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", records.display()))?;
    }

    let keys = Arc::new(Keyring::load(&key_dir.join("master.key"))?);
    let names = {
        let snapshot = lantern_store_sqlite::Sqlite::open(&partial.join(RECORDS))?;
        object_names(&snapshot)?
    };
    let objects = block_on(copy_objects(
        &crate::open_vault(settings, keys.clone())?,
        &local_vault(&partial.join(OBJECTS), keys)?,
        &names,
    ))
    .context("copying the evidence objects")?;

    let mut bundle = BTreeMap::new();
    for entry in std::fs::read_dir(&key_dir).with_context(|| format!("reading {}", key_dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            let name = entry.file_name().to_string_lossy().to_string();
            let bytes = std::fs::read(entry.path())?;
            bundle.insert(name, base64::engine::general_purpose::STANDARD.encode(bytes));
        }
    }
    let sealed = lantern_vault::passphrase::seal(passphrase, &serde_json::to_vec(&bundle)?)?;
    ledger::write_private(&partial.join(KEYS), &sealed)?;

    let mut files = BTreeMap::new();
    for name in [RECORDS, KEYS] {
        files.insert(name.to_string(), sha256_file(&partial.join(name))?);
    }
    let manifest = Manifest {
        format: FORMAT.to_string(),
        created_at: now.format(&time::format_description::well_known::Rfc3339)?,
        source: source.kind().to_string(),
        ledger_origin: settings.ledger_origin.clone(),
        tables: copied.tables.iter().cloned().collect(),
        ledger_size: copied.ledger_size,
        ledger_root: hex::encode(copied.ledger_root),
        files,
        objects,
    };
    ledger::write_private(&partial.join(MANIFEST), &serde_json::to_vec_pretty(&manifest)?)?;
    std::fs::rename(&partial, dest).with_context(|| format!("creating {}", dest.display()))?;
    Ok(manifest)
}

/// What a restore or a move found once done.
#[derive(Debug)]
pub struct Restored {
    /// What was copied.
    pub census: Census,
    /// The log audit of the result (entries, checkpoints, every record).
    pub audit: ledger::AuditReport,
}

/// Restores the backup in `src` into the deployment `settings` describe:
/// its data folder must have no keys yet and its database must be empty.
/// Checks the files against the manifest, the records against the
/// manifest's counts and log root, and audits the log of the result.
pub fn restore(settings: &Settings, src: &Path, passphrase: &str) -> anyhow::Result<Restored> {
    let manifest_path = src.join(MANIFEST);
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(&manifest_path).with_context(|| format!("reading {}", manifest_path.display()))?,
    )
    .with_context(|| format!("{} is not a Lantern backup manifest", manifest_path.display()))?;
    if !READS.contains(&manifest.format.as_str()) {
        bail!(
            "{}: format {:?}, this Lantern reads {}",
            manifest_path.display(),
            manifest.format,
            READS.join(" and ")
        );
    }
    for name in [RECORDS, KEYS] {
        let expected = manifest.files.get(name).map(String::as_str).unwrap_or("");
        if sha256_file(&src.join(name))? != expected {
            bail!("{name} does not match the manifest: the backup is damaged or was altered (nothing was restored)");
        }
    }
    // Objects are checked before anything is written; the vault over the
    // backup folder only reads sealed bytes, so any key will do here.
    let backed_up = local_vault(&src.join(OBJECTS), Arc::new(Keyring::generate()?))?;
    let found = block_on(async {
        let mut found = BTreeMap::new();
        for name in manifest.objects.keys() {
            found.insert(name.clone(), backed_up.sealed_hash(name).await.ok());
        }
        found
    });
    for (name, hash) in &manifest.objects {
        if found.get(name).cloned().flatten().as_ref() != Some(hash) {
            bail!("evidence object {name} is missing or does not match the manifest: the backup is damaged or was altered (nothing was restored)");
        }
    }
    if manifest.ledger_origin != settings.ledger_origin {
        bail!(
            "the backup's ledger origin is {:?} but ledger_origin is {:?}; set it to the backup's (nothing was restored)",
            manifest.ledger_origin,
            settings.ledger_origin
        );
    }
    let sealed = std::fs::read(src.join(KEYS))?;
    let plain = lantern_vault::passphrase::open(passphrase, &sealed)
        .map_err(|_| anyhow::anyhow!("the passphrase does not open keys.enc (nothing was restored)"))?;
    let bundle: BTreeMap<String, String> = serde_json::from_slice(&plain).context("keys.enc holds no key files")?;

    let key_dir = settings.data_dir.join("keys");
    if key_dir.join("master.key").exists() {
        bail!(
            "{} already has a master key; restore into a new data folder (nothing was restored)",
            key_dir.display()
        );
    }
    prepare_data_dir(&settings.data_dir)?;

    // The backup is opened from a copy: opening migrates an older backup's
    // schema, and the backup itself stays as it was.
    let work = settings.data_dir.join(".restore-records.db");
    let _ = std::fs::remove_file(&work);
    std::fs::copy(src.join(RECORDS), &work).context("copying records.db")?;
    let result = (|| {
        let source = lantern_store_sqlite::Sqlite::open(&work)?;
        let differences = manifest.matches(&census(&source)?);
        if !differences.is_empty() {
            bail!(
                "records.db does not hold what the manifest says: {}",
                differences.join("; ")
            );
        }
        let listed: Vec<String> = manifest.objects.keys().cloned().collect();
        if object_names(&source)? != listed {
            bail!("records.db catalogues other evidence objects than the manifest lists");
        }
        let target = Engine::open(&settings.database()?)?;
        let census = copy_records(&source, &target).context("copying the records")?;
        Ok((census, target))
    })();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", work.display()));
    }
    let (census, target) = result?;

    for (name, b64) in &bundle {
        if name.contains('/') || name.starts_with('.') {
            bail!("keys.enc names a file {name:?} outside the key folder");
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .context("keys.enc is damaged")?;
        ledger::write_private(&key_dir.join(name), &bytes)?;
    }
    let keys = Arc::new(Keyring::load(&key_dir.join("master.key"))?);
    let vault = crate::open_vault(settings, keys)?;
    let names: Vec<String> = manifest.objects.keys().cloned().collect();
    let copied = block_on(copy_objects(&backed_up, &vault, &names)).context("copying the evidence objects")?;
    for (name, hash) in &manifest.objects {
        if copied.get(name) != Some(hash) {
            bail!("evidence object {name} changed while it was copied from the backup");
        }
    }
    let audit = audit_store(settings, target, &vault)?;
    Ok(Restored { census, audit })
}

/// The names of the objects a database catalogues, in order.
fn object_names<B: lantern_store_sql::Backend>(db: &B) -> anyhow::Result<Vec<String>> {
    Ok(db.read(|tx| {
        tx.query("SELECT name FROM vault_objects ORDER BY name", &[])?
            .iter()
            .map(|r| r.get::<String>(0))
            .collect()
    })?)
}

/// A vault over a local folder.
fn local_vault(dir: &Path, keys: Arc<Keyring>) -> anyhow::Result<ObjectVault> {
    Ok(ObjectVault::open(&Location::Local(dir.to_path_buf()), keys)?)
}

/// Copies objects as stored; returns the SHA-256 of each as copied.
async fn copy_objects(
    from: &ObjectVault,
    to: &ObjectVault,
    names: &[String],
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for name in names {
        let hash = to
            .copy_from(from, name)
            .await
            .with_context(|| format!("object {name} from {} to {}", from.describe(), to.describe()))?;
        out.insert(name.clone(), hash);
    }
    Ok(out)
}

/// Runs async vault work from these synchronous commands (they run before
/// and outside the server's runtime).
fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the evidence storage")
        .block_on(f)
}

/// Opens the store on `engine` with the deployment's keys, audits its log
/// and reads every evidence object in `vault` back against its record.
fn audit_store(settings: &Settings, engine: Engine, vault: &ObjectVault) -> anyhow::Result<ledger::AuditReport> {
    let keys = Keyring::load(&settings.data_dir.join("keys").join("master.key"))?;
    let signer = ledger::load_or_create_signer(&settings.data_dir, &keys, &settings.ledger_origin)?;
    let store: Arc<dyn lantern_store::Store> = Arc::new(SqlStore::new(engine, Arc::new(keys))?);
    let verifier = lantern_ledger::note::NoteVerifier::parse(&signer.verifier_key())?;
    let mut report = ledger::audit(store.as_ref(), &verifier)?;
    block_on(ledger::check_objects(store, vault, &mut report))?;
    Ok(report)
}

/// Copies the deployment `settings` describe into the empty database at
/// `to` (for example from SQLite to PostgreSQL) and, when `objects_to` is
/// given, its evidence objects to that storage (for example a local folder
/// to an S3 bucket, with the `s3_*` settings); then audits the copy and
/// reads every object back. The data folder (keys) stays as it is; point
/// `database_url` (and `objects`) at the copies after.
pub fn migrate_store(settings: &Settings, to: &str, objects_to: Option<&str>) -> anyhow::Result<Restored> {
    let mut target_settings = settings.clone();
    target_settings.database_url = to.to_string();
    let (from, to) = (settings.database()?, target_settings.database()?);
    if from == to {
        bail!("--to names the database Lantern already uses");
    }
    if let (Database::Sqlite(a), Database::Sqlite(b)) = (&from, &to) {
        if b.exists() && std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok() {
            bail!("--to names the database Lantern already uses");
        }
    }
    let keys = Arc::new(Keyring::load(&settings.data_dir.join("keys").join("master.key"))?);
    let vault = crate::open_vault(settings, keys.clone())?;
    let target_vault = match objects_to {
        Some(location) => {
            target_settings.objects = location.to_string();
            if target_settings.objects()? == settings.objects()? {
                bail!("--objects-to names the storage Lantern already uses");
            }
            Some(crate::open_vault(&target_settings, keys)?)
        }
        None => None,
    };
    let source = Engine::open(&from)?;
    let target = Engine::open(&to)?;
    let census = copy_records(&source, &target).context("copying the records")?;
    let vault = match target_vault {
        Some(target_vault) => {
            let names = object_names(&target)?;
            block_on(copy_objects(&vault, &target_vault, &names)).context("copying the evidence objects")?;
            target_vault
        }
        None => vault,
    };
    let audit = audit_store(settings, target, &vault)?;
    Ok(Restored { census, audit })
}
