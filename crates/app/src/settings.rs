//! Every setting of `lantern`, declared once.
//!
//! Each setting can be given as a command-line flag, an environment
//! variable, or a key in the configuration file (`lantern.toml`), in that
//! order of precedence, else it takes its default. `lantern settings`
//! prints the table below; docs/configuration.md is generated from it and a
//! test keeps the two equal.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

/// Declares the settings: a clap argument group, the file's shape, the
/// resolved values and the documentation table, from one list.
macro_rules! settings {
    ($(
        $(#[doc = $doc:literal])+
        $name:ident : $ty:ty = $default:expr, env = $env:literal, shown = $shown:literal;
    )*) => {
        /// Settings given on the command line or in the environment.
        #[derive(Debug, Clone, Default, clap::Args)]
        pub struct SettingArgs {
            $(
                $(#[doc = $doc])+
                #[arg(long, env = $env)]
                pub $name: Option<$ty>,
            )*
        }

        /// Settings as written in the configuration file.
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct FileSettings {
            $( $(#[doc = $doc])+ pub $name: Option<$ty>, )*
        }

        /// The resolved settings.
        #[derive(Debug, Clone)]
        pub struct Settings {
            $( $(#[doc = $doc])+ pub $name: $ty, )*
        }

        impl Settings {
            /// Flag or environment, then file, then default.
            pub fn resolve(args: &SettingArgs, file: &FileSettings) -> Settings {
                Settings {
                    $( $name: args.$name.clone().or_else(|| file.$name.clone()).unwrap_or_else(|| $default), )*
                }
            }
        }

        /// One row per setting: file key, flag (with `_` where clap uses `-`),
        /// environment variable, default, description.
        pub const TABLE: &[(&str, &str, &str, &str, &str)] = &[
            $( (
                stringify!($name),
                concat!("--", stringify!($name)),
                $env,
                $shown,
                concat!($($doc),+),
            ), )*
        ];
    };
}

settings! {
    /// Address and port the web server listens on.
    listen: String = "127.0.0.1:8080".to_string(), env = "LANTERN_LISTEN", shown = "127.0.0.1:8080";
    /// Folder for the database, keys and files; created on first start (mode 0700).
    data_dir: PathBuf = PathBuf::from("lantern-data"), env = "LANTERN_DATA_DIR", shown = "lantern-data";
    /// Database URL: `sqlite://PATH` (default: `lantern.db` in the data folder) or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    database_url: String = String::new(), env = "LANTERN_DATABASE_URL", shown = "sqlite://DATA_DIR/lantern.db";
    /// Address users reach Lantern at, for printed links (default: `http://` and the listen address).
    public_url: String = String::new(), env = "LANTERN_PUBLIC_URL", shown = "http://LISTEN";
    /// Mark cookies Secure; set when Lantern is served over HTTPS (directly or behind a proxy).
    secure_cookies: bool = false, env = "LANTERN_SECURE_COOKIES", shown = "false";
    /// Minutes without a request after which a session ends.
    session_idle_minutes: u32 = 120, env = "LANTERN_SESSION_IDLE_MINUTES", shown = "120";
    /// Hours after login after which a session ends, however active.
    session_absolute_hours: u32 = 12, env = "LANTERN_SESSION_ABSOLUTE_HOURS", shown = "12";
    /// Largest request body accepted, in bytes.
    max_body_bytes: usize = 1_048_576, env = "LANTERN_MAX_BODY_BYTES", shown = "1048576";
    /// Largest upload (a photo form) accepted, in bytes.
    max_upload_bytes: usize = 6_291_456, env = "LANTERN_MAX_UPLOAD_BYTES", shown = "6291456";
    /// Largest evidence file accepted, in bytes (streamed to storage, never held in memory).
    max_evidence_bytes: u64 = 4_294_967_296, env = "LANTERN_MAX_EVIDENCE_BYTES", shown = "4294967296";
    /// Where evidence files are kept: a folder, or `s3://BUCKET` (optionally `s3://BUCKET/PREFIX`) on an S3-compatible service.
    objects: String = String::new(), env = "LANTERN_OBJECTS", shown = "DATA_DIR/objects";
    /// Address of the S3-compatible service, e.g. `http://127.0.0.1:3900` for Garage (empty: Amazon S3).
    s3_endpoint: String = String::new(), env = "LANTERN_S3_ENDPOINT", shown = "";
    /// Region of the S3-compatible service (Garage's default is `garage`).
    s3_region: String = "us-east-1".to_string(), env = "LANTERN_S3_REGION", shown = "us-east-1";
    /// Access key id for the bucket.
    s3_access_key_id: String = String::new(), env = "LANTERN_S3_ACCESS_KEY_ID", shown = "";
    /// Secret access key for the bucket (prefer the environment variable to the file).
    s3_secret_access_key: String = String::new(), env = "LANTERN_S3_SECRET_ACCESS_KEY", shown = "";
    /// Hours the first-run setup link stays valid.
    setup_link_hours: u32 = 24, env = "LANTERN_SETUP_LINK_HOURS", shown = "24";
    /// Name of this deployment's ledger (the checkpoint origin and signing key name); make it unique, e.g. `camp-north.example.org/lantern`.
    ledger_origin: String = "lantern.local/ledger".to_string(), env = "LANTERN_LEDGER_ORIGIN", shown = "lantern.local/ledger";
    /// Seconds between checkpoints while the ledger grows.
    checkpoint_seconds: u64 = 5, env = "LANTERN_CHECKPOINT_SECONDS", shown = "5";
    /// Log filter (`info`, `debug`, `lantern_web=debug` …).
    log: String = "info".to_string(), env = "LANTERN_LOG", shown = "info";
}

/// Where the records are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by connection URL (which may hold a password).
    Postgres(String),
}

impl Settings {
    /// The database the settings point at.
    pub fn database(&self) -> anyhow::Result<Database> {
        if self.database_url.is_empty() {
            return Ok(Database::Sqlite(self.data_dir.join("lantern.db")));
        }
        if let Some(path) = self.database_url.strip_prefix("sqlite://") {
            if path.is_empty() {
                bail!("database_url: `sqlite://` needs a file path, e.g. sqlite:///var/lib/lantern/lantern.db");
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        if self.database_url.starts_with("postgres://") || self.database_url.starts_with("postgresql://") {
            return Ok(Database::Postgres(self.database_url.clone()));
        }
        // Not echoed: a mistyped URL may still hold a password.
        bail!("database_url: expected sqlite://PATH or postgres://USER@HOST:PORT/DB")
    }

    /// Where evidence objects are kept.
    pub fn objects(&self) -> anyhow::Result<lantern_vault::objects::Location> {
        use lantern_vault::objects::{Location, S3Config};
        if self.objects.is_empty() {
            return Ok(Location::Local(self.data_dir.join("objects")));
        }
        let Some(rest) = self.objects.strip_prefix("s3://") else {
            return Ok(Location::Local(PathBuf::from(&self.objects)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            bail!("objects: `s3://` needs a bucket name, e.g. s3://lantern-evidence");
        }
        if self.s3_access_key_id.is_empty() || self.s3_secret_access_key.is_empty() {
            bail!("objects: an S3 bucket needs s3_access_key_id and s3_secret_access_key");
        }
        Ok(Location::S3(S3Config {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key: self.s3_secret_access_key.clone(),
        }))
    }

    /// The base address for printed links.
    pub fn base_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.public_url.trim_end_matches('/').to_string()
        }
    }
}

/// Reads the configuration file: the given path (which must exist), or
/// `lantern.toml` in the working folder if there is one.
pub fn read_file(explicit: Option<&Path>) -> anyhow::Result<FileSettings> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = PathBuf::from("lantern.toml");
            if !p.exists() {
                return Ok(FileSettings::default());
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not a valid Lantern configuration", path.display()))
}

/// The configuration reference (docs/configuration.md), with the table.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Configuration\n\n\
         Every setting can be given as a flag, as an environment variable, or as a key in\n\
         the configuration file (`lantern.toml` in the working folder, or the file named by\n\
         `--config`), in that order of precedence; otherwise it takes its default. Unknown\n\
         keys in the file are refused. This page is printed by `lantern settings`.\n\n\
         | setting (file key) | flag | environment | default | what it does |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for (key, flag, env, default, doc) in TABLE {
        // clap spells flags in kebab case.
        let flag = flag.replace('_', "-");
        out.push_str(&format!(
            "| `{key}` | `{flag}` | `{env}` | `{default}` | {} |\n",
            doc.trim()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beats_default() {
        let file: FileSettings = toml::from_str("listen = \"0.0.0.0:9000\"\nlog = \"debug\"").unwrap();
        let args = SettingArgs {
            log: Some("warn".into()),
            ..Default::default()
        };
        let s = Settings::resolve(&args, &file);
        assert_eq!(s.listen, "0.0.0.0:9000");
        assert_eq!(s.log, "warn");
        assert_eq!(s.session_idle_minutes, 120);
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        assert!(toml::from_str::<FileSettings>("lisen = \"x\"").is_err());
    }

    #[test]
    fn database_urls() {
        let mut s = Settings::resolve(&SettingArgs::default(), &FileSettings::default());
        assert_eq!(
            s.database().unwrap(),
            Database::Sqlite(PathBuf::from("lantern-data/lantern.db"))
        );
        s.database_url = "sqlite:///tmp/x.db".into();
        assert_eq!(s.database().unwrap(), Database::Sqlite(PathBuf::from("/tmp/x.db")));
        s.database_url = "postgres://lantern:secret@127.0.0.1:5432/lantern".into();
        assert_eq!(s.database().unwrap(), Database::Postgres(s.database_url.clone()));
        s.database_url = "mysql://root:secret@x".into();
        let err = s.database().unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn documented_table_is_current() {
        let doc = include_str!("../../../docs/configuration.md");
        assert!(
            doc == markdown(),
            "docs/configuration.md is out of date: run `cargo run -- settings > docs/configuration.md`"
        );
    }
}
