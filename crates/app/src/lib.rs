//! The `lantern` program: opens the data folder, the keys and the store,
//! and serves the web application. The binary (`main.rs`) only parses the
//! command line and calls into here; the testkit uses the same functions to
//! start real servers in tests.

pub mod backup;
pub mod demo;
pub mod keys;
pub mod ledger;
pub mod settings;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use lantern_domain::clock::Clock;
use lantern_domain::policy::Role;
use lantern_domain::user::{UiLanguage, Username};
use lantern_store::{AuditContext, NewUser, Store};
use lantern_store_sql::{Backend, SqlStore};
use lantern_vault::objects::ObjectVault;
use lantern_vault::Keyring;
use lantern_web::security::{hash_password, random_token, token_hash};
use lantern_web::{AppState, WebConfig};
use settings::Settings;

/// Creates the data folder (owner-only) if needed.
pub fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join("keys")).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for d in [dir.to_path_buf(), dir.join("keys")] {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("restricting {}", d.display()))?;
        }
    }
    Ok(())
}

/// Loads the master keys, creating them on first start. The second value
/// is true when they were just created (the operator must back them up).
pub fn load_or_create_keys(dir: &Path) -> anyhow::Result<(Keyring, bool)> {
    let path = dir.join("keys").join("master.key");
    if path.exists() {
        return Ok((Keyring::load(&path)?, false));
    }
    Keyring::generate()?.save(&path)?;
    // Loaded back from the file, so that it follows rotations made by
    // `lantern keys rotate` in another process.
    Ok((Keyring::load(&path)?, true))
}

/// Refuses to go on when the key file is missing but the database already
/// holds records: a new key would open none of their protected values. The
/// operator must put the key file back (docs/operations.md, "Recovery").
pub fn refuse_new_key_for_old_records(settings: &Settings) -> anyhow::Result<()> {
    let path = settings.data_dir.join("keys").join("master.key");
    if path.exists() {
        return Ok(());
    }
    let records = lantern_store_sql::copy::census(&Engine::open(&settings.database()?)?)?.ledger_size;
    if records > 0 {
        anyhow::bail!(
            "{} is missing, but the database already holds records (a log of {records} entries). \
             No new key was created: it could open none of their protected values. Put the key file back \
             (see docs/operations.md, \"Recovery\").",
            path.display()
        );
    }
    Ok(())
}

/// The database engine a deployment runs on.
#[derive(Debug)]
pub enum Engine {
    /// The embedded SQLite file.
    Sqlite(lantern_store_sqlite::Sqlite),
    /// A PostgreSQL database.
    Postgres(lantern_store_postgres::Postgres),
}

impl Engine {
    /// Opens (creating and migrating if needed) the database named.
    pub fn open(database: &settings::Database) -> anyhow::Result<Self> {
        Ok(match database {
            settings::Database::Sqlite(path) => Engine::Sqlite(
                lantern_store_sqlite::Sqlite::open(path).with_context(|| format!("opening {}", path.display()))?,
            ),
            // The URL is not repeated: it may hold a password.
            settings::Database::Postgres(url) => Engine::Postgres(
                lantern_store_postgres::Postgres::connect(url).context("opening the PostgreSQL database")?,
            ),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            Engine::Sqlite(_) => "sqlite",
            Engine::Postgres(_) => "postgres",
        }
    }
}

impl Backend for Engine {
    fn write<T>(
        &self,
        f: impl FnOnce(&dyn lantern_store_sql::Conn) -> lantern_store::StoreResult<T>,
    ) -> lantern_store::StoreResult<T> {
        match self {
            Engine::Sqlite(db) => db.write(f),
            Engine::Postgres(db) => db.write(f),
        }
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&dyn lantern_store_sql::Conn) -> lantern_store::StoreResult<T>,
    ) -> lantern_store::StoreResult<T> {
        match self {
            Engine::Sqlite(db) => db.read(f),
            Engine::Postgres(db) => db.read(f),
        }
    }

    fn analyze(&self) -> lantern_store::StoreResult<()> {
        match self {
            Engine::Sqlite(db) => db.analyze(),
            Engine::Postgres(db) => db.analyze(),
        }
    }
}

/// Opens the store the settings name, creating and migrating it if needed.
pub fn open_store(settings: &Settings, keys: Arc<Keyring>) -> anyhow::Result<Arc<dyn Store>> {
    let engine = Engine::open(&settings.database()?)?;
    Ok(Arc::new(SqlStore::new(engine, keys)?))
}

/// Opens the evidence vault the settings name (creating a local folder).
pub fn open_vault(settings: &Settings, keys: Arc<Keyring>) -> anyhow::Result<ObjectVault> {
    let location = settings.objects()?;
    ObjectVault::open(&location, keys).context("opening the evidence storage")
}

/// Objects no record names, older than this, are deleted at start: an
/// upload interrupted between storing and recording leaves one.
pub const SWEEP_AFTER: time::Duration = time::Duration::hours(24);

/// Deletes stored objects that no catalogue row names, and parts of
/// uploads never completed, older than [`SWEEP_AFTER`]; returns how many. Younger ones may belong to an
/// upload still being recorded (by this or another server).
pub async fn sweep_objects(
    store: Arc<dyn Store>,
    vault: &ObjectVault,
    now: time::OffsetDateTime,
) -> anyhow::Result<usize> {
    let known: std::collections::HashSet<String> = tokio::task::spawn_blocking(move || store.vault_objects())
        .await??
        .into_iter()
        .map(|o| o.name)
        .collect();
    let mut swept = vault.sweep_partial(std::time::Duration::from_secs(SWEEP_AFTER.whole_seconds() as u64))?;
    for (name, at) in vault.list().await? {
        if !known.contains(&name) && now - at > SWEEP_AFTER {
            vault.delete(&name).await?;
            swept += 1;
        }
    }
    Ok(swept)
}

/// The web layer's settings from Lantern's.
pub fn web_config(settings: &Settings) -> WebConfig {
    WebConfig {
        secure_cookies: settings.secure_cookies,
        session_idle: time::Duration::minutes(i64::from(settings.session_idle_minutes)),
        session_absolute: time::Duration::hours(i64::from(settings.session_absolute_hours)),
        max_body: settings.max_body_bytes,
        max_upload: settings.max_upload_bytes,
        max_evidence: settings.max_evidence_bytes,
        ..WebConfig::default()
    }
}

/// A random password for a new account, shown once (about 120 bits).
pub fn one_time_password() -> String {
    random_token()[..20].to_string()
}

/// Creates a user with a fresh one-time password; returns the password.
pub fn create_user(
    store: &dyn Store,
    username: &str,
    display_name: &str,
    role: Role,
    ctx: &AuditContext,
) -> anyhow::Result<String> {
    let password = one_time_password();
    let user = NewUser {
        username: Username::parse("username", username)?,
        display_name: display_name.to_string(),
        role,
        language: UiLanguage::En,
        password_hash: hash_password(&password).map_err(anyhow::Error::msg)?,
        must_change_password: true,
    };
    store.create_user(user, ctx)?;
    Ok(password)
}

/// Loads the demo population and one user per role, unless people exist
/// already. Returns the demo accounts' (login, password) pairs.
pub fn load_demo(store: &dyn Store, clock: &dyn Clock, people: usize) -> anyhow::Result<Vec<(String, String)>> {
    let ctx = AuditContext::system("demo", clock.now());
    if store.stats()?.people > 0 {
        return Ok(Vec::new());
    }
    let summary = demo::load(store, people, 7, &ctx)?;
    tracing::info!(
        people = summary.people,
        households = summary.households,
        links = summary.links,
        cases = summary.cases,
        "demo population loaded"
    );
    let mut accounts = Vec::new();
    for role in Role::ALL {
        let name = role.code().replace('_', "-");
        if store.user_credentials(&name)?.is_some() {
            continue;
        }
        let display = format!("Demo {}", role.code().replace('_', " "));
        let password = create_user(store, &name, &display, *role, &ctx)?;
        accounts.push((name, password));
    }
    let official = store
        .user_credentials(&Role::ExternalOfficial.code().replace('_', "-"))?
        .map(|c| c.user.id);
    demo::testimonies(store, official, &ctx)?;
    Ok(accounts)
}

/// With no user yet, records a one-time setup token and returns the link.
pub fn setup_link(store: &dyn Store, clock: &dyn Clock, settings: &Settings) -> anyhow::Result<Option<String>> {
    if store.user_count()? > 0 {
        return Ok(None);
    }
    let token = random_token();
    let expires = clock.now() + time::Duration::hours(i64::from(settings.setup_link_hours));
    store.create_setup_token(&token_hash(&token), expires)?;
    Ok(Some(format!("{}/setup?token={token}", settings.base_url())))
}

/// Serves the application on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = lantern_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
