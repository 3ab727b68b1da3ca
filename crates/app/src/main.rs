//! `lantern`: a case system for humanitarian work around closed camps.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use lantern_app::settings::{self, SettingArgs, Settings};
use lantern_domain::clock::{Clock, SystemClock};
use lantern_domain::policy::Role;
use lantern_store::AuditContext;

#[derive(Parser)]
#[command(
    name = "lantern",
    version,
    about = "Lantern: registry, tracing and evidence for closed camps."
)]
struct Cli {
    /// Configuration file (default: ./lantern.toml when present).
    #[arg(long, env = "LANTERN_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: SettingArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve {
        /// Load the synthetic demo population and demo accounts first.
        #[arg(long)]
        demo: bool,
        /// Demo population size.
        #[arg(long, default_value_t = 3000)]
        demo_people: usize,
    },
    /// The same as `serve --demo`.
    Demo {
        /// Demo population size.
        #[arg(long, default_value_t = 3000)]
        demo_people: usize,
    },
    /// Manage users from the command line.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the configuration reference (docs/configuration.md).
    Settings,
    /// The tamper-evident log.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Master keys: what each generation seals, rotation, retirement.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Match people across scripts and spellings (files in, files out).
    Match {
        #[command(subcommand)]
        command: MatchCommand,
    },
    /// Back up the deployment (records, log, keys under a passphrase) into a
    /// new folder, while the server keeps serving.
    Backup {
        /// The new folder.
        dest: PathBuf,
        /// A file whose first line is the passphrase that seals the keys
        /// (default: the LANTERN_BACKUP_PASSPHRASE environment variable).
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Restore a backup into a new data folder and an empty database, then
    /// check it (manifest, counts, log root, log audit).
    Restore {
        /// The backup folder.
        src: PathBuf,
        /// As for `backup`.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Copy the deployment into another, empty database (for example from
    /// SQLite to PostgreSQL) and check the copy.
    MigrateStore {
        /// The target database URL (`postgres://…` or `sqlite://PATH`).
        #[arg(long)]
        to: String,
        /// Also copy the evidence objects to this storage (a folder, or
        /// `s3://BUCKET[/PREFIX]` with the `s3_*` settings).
        #[arg(long)]
        objects_to: Option<String>,
    },
    /// Verify a dossier bundle or a proof file offline (no server, no
    /// database needed); the same as the stand-alone `lantern-verify`.
    Verify {
        /// A dossier bundle (`.zip`), the folder it was unpacked into, or a
        /// `.tlog-proof` file.
        file: PathBuf,
        /// The log's verifier key (`name+keyid+base64`), or a file holding
        /// it: required for a proof file; for a dossier, the key you expect.
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Subcommand)]
enum MatchCommand {
    /// For each query, the best candidates in the registry, as CSV on
    /// standard output: query_id,rank,person_id,probability.
    Batch {
        /// Registry CSV (id,name,aliases,sex,birth_date,birth_place,nationality,father_name,mother_name).
        #[arg(long)]
        registry: PathBuf,
        /// Queries CSV, same columns.
        #[arg(long)]
        queries: PathBuf,
        /// Candidates per query.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Add the score and margin columns the calibration is fitted on.
        #[arg(long)]
        features: bool,
        /// Re-estimate the field weights' m by expectation-maximisation on
        /// these queries' candidates first (needs 200 queries with fields
        /// besides names; otherwise the defaults are kept).
        #[arg(long)]
        estimate: bool,
    },
    /// Clusters of likely duplicates in a registry, as CSV on standard
    /// output: cluster_id,person_id,probability (records in clusters of
    /// two or more).
    Dedupe {
        /// Registry CSV, same columns as for batch.
        #[arg(long)]
        registry: PathBuf,
        /// Also write the uncertain pairs left for a person to review
        /// (person_id,other_id,probability) to this file.
        #[arg(long)]
        review: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// The generations held and how many values each seals, by table.
    Status,
    /// Add a generation and re-seal every protected value and the ledger
    /// signing key under it, while servers keep running.
    Rotate,
    /// Remove a generation that no value needs any more.
    Retire {
        /// The generation.
        generation: u32,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Print the verifier key (give it to whoever checks the log).
    Key,
    /// Sign a checkpoint of the log now (if it grew).
    Checkpoint,
    /// Recompute the whole tree and check it against every checkpoint and
    /// every record; exits non-zero and names each problem if any.
    Audit,
    /// Write the proof file (C2SP tlog-proof) of one entry to standard output.
    Prove {
        /// The entry's index (from 0).
        index: u64,
    },
    /// Prove that the checkpoint of size NEW extends the one of size OLD.
    Consistency {
        /// Size of the earlier checkpoint.
        old: u64,
        /// Size of the later checkpoint.
        new: u64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user and print a one-time password.
    Create {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Full name.
        #[arg(long)]
        display_name: String,
        /// Role: administrator, registrar, caseworker, interviewer,
        /// family_liaison, documenter, external_official, auditor.
        #[arg(long)]
        role: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Settings => {
            print!("{}", settings::markdown());
            return Ok(());
        }
        Command::Match {
            command:
                MatchCommand::Batch {
                    registry,
                    queries,
                    top,
                    features,
                    estimate,
                },
        } => {
            return match_batch(registry, queries, *top, *features, *estimate);
        }
        Command::Match {
            command: MatchCommand::Dedupe { registry, review },
        } => {
            return match_dedupe(registry, review.as_deref());
        }
        Command::Verify { file, key } => {
            std::process::exit(lantern_verify::main_with(file, key.as_deref()));
        }
        _ => {}
    }
    let file = settings::read_file(cli.config.as_deref())?;
    let settings = Settings::resolve(&cli.settings, &file);
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&settings.log).context("log: invalid filter")?)
        .init();
    match &cli.command {
        Command::Backup { dest, passphrase_file } => {
            let passphrase = lantern_app::backup::passphrase(passphrase_file.as_deref())?;
            let m = lantern_app::backup::backup(&settings, dest, &passphrase, time::OffsetDateTime::now_utc())?;
            println!(
                "Backup written to {}: {} people, {} audit events, log of {} entries (root {}).\n\
                 Keep the passphrase apart from the backup: without it the keys cannot be restored.",
                dest.display(),
                m.tables.get("people").copied().unwrap_or(0),
                m.tables.get("audit_events").copied().unwrap_or(0),
                m.ledger_size,
                m.ledger_root
            );
            return Ok(());
        }
        Command::Restore { src, passphrase_file } => {
            let passphrase = lantern_app::backup::passphrase(passphrase_file.as_deref())?;
            let done = lantern_app::backup::restore(&settings, src, &passphrase)?;
            return report_copy("Restored", &done);
        }
        Command::MigrateStore { to, objects_to } => {
            let done = lantern_app::backup::migrate_store(&settings, to, objects_to.as_deref())?;
            report_copy("Copied", &done)?;
            if objects_to.is_some() {
                println!("Set database_url and objects to the copies and start Lantern again.");
            } else {
                println!("Set database_url to the new database and start Lantern again.");
            }
            return Ok(());
        }
        _ => {}
    }
    // The store is synchronous (a PostgreSQL client blocks on its own
    // runtime): it is opened here, outside the async runtime, and called
    // from blocking tasks inside it.
    let (store, signer, vault, keys) = open(&settings)?;
    if let Command::Keys { command } = &cli.command {
        let dir = &settings.data_dir;
        let report = match command {
            KeysCommand::Status => lantern_app::keys::status(dir, &keys, store.as_ref())?,
            KeysCommand::Rotate => lantern_app::keys::rotate(dir, &settings.ledger_origin, &keys, store.as_ref())?,
            KeysCommand::Retire { generation } => lantern_app::keys::retire(dir, &keys, store.as_ref(), *generation)?,
        };
        print!("{report}");
        return Ok(());
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(cli.command, settings, store, signer, vault))
}

/// Prints what a restore or a move copied and what the audit of the copy found.
fn report_copy(verb: &str, done: &lantern_app::backup::Restored) -> anyhow::Result<()> {
    println!(
        "{verb} {} people, {} evidence objects, {} audit events and a log of {} entries (root {}).",
        done.census.rows("people"),
        done.census.rows("vault_objects"),
        done.census.rows("audit_events"),
        done.census.ledger_size,
        hex::encode(done.census.ledger_root)
    );
    println!(
        "Audit of the copy: {} entries, {} checkpoints and {} evidence objects checked.",
        done.audit.entries, done.audit.checkpoints, done.audit.objects
    );
    if !done.audit.clean() {
        for p in &done.audit.problems {
            println!("PROBLEM: {p}");
        }
        anyhow::bail!("{} problem(s) found in the copy", done.audit.problems.len());
    }
    Ok(())
}

/// What every command works on.
type Opened = (
    Arc<dyn lantern_store::Store>,
    lantern_ledger::note::NoteSigner,
    lantern_vault::objects::ObjectVault,
    Arc<lantern_vault::Keyring>,
);

/// Opens the data folder, the keys, the ledger signer, the store and the
/// evidence vault.
fn open(settings: &Settings) -> anyhow::Result<Opened> {
    lantern_app::prepare_data_dir(&settings.data_dir)?;
    lantern_app::refuse_new_key_for_old_records(settings)?;
    let (keys, created) = lantern_app::load_or_create_keys(&settings.data_dir)?;
    if created {
        println!(
            "A new master key was created in {}.\n\
             Back it up now, offline and apart from database backups: without it the\n\
             protected fields (documents, contacts, notes) cannot be read. See docs/operations.md.\n",
            settings.data_dir.join("keys").join("master.key").display()
        );
    }
    let signer = lantern_app::ledger::load_or_create_signer(&settings.data_dir, &keys, &settings.ledger_origin)?;
    let keys = Arc::new(keys);
    let store = lantern_app::open_store(settings, keys.clone())?;
    let vault = lantern_app::open_vault(settings, keys.clone())?;
    Ok((store, signer, vault, keys))
}

async fn run(
    command: Command,
    settings: Settings,
    store: Arc<dyn lantern_store::Store>,
    signer: lantern_ledger::note::NoteSigner,
    vault: lantern_vault::objects::ObjectVault,
) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match command {
        Command::Serve { demo, demo_people } => {
            serve(store, vault, clock, settings, signer, demo.then_some(demo_people)).await
        }
        Command::Demo { demo_people } => serve(store, vault, clock, settings, signer, Some(demo_people)).await,
        Command::Ledger { command } => ledger(command, store, vault, clock, signer).await,
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    display_name,
                    role,
                },
        } => {
            let role = Role::parse("role", &role).map_err(|_| anyhow::anyhow!("role: unknown role {role:?}"))?;
            let ctx = AuditContext::system("cli", clock.now());
            let s = store.clone();
            let password = tokio::task::spawn_blocking(move || {
                lantern_app::create_user(s.as_ref(), &username, &display_name, role, &ctx)
            })
            .await??;
            println!("User created. One-time password (shown once): {password}");
            Ok(())
        }
        Command::Settings
        | Command::Keys { .. }
        | Command::Verify { .. }
        | Command::Match { .. }
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::MigrateStore { .. } => Ok(()),
    }
}

/// `lantern match batch`: reads both files, reports refused rows on
/// standard error with their line, matches the rest, and fails at the end if
/// any row was refused.
fn match_batch(
    registry: &std::path::Path,
    queries: &std::path::Path,
    top: usize,
    features: bool,
    estimate: bool,
) -> anyhow::Result<()> {
    use lantern_matching::batch;
    let (mut matcher, refused_registry) = read_matcher(registry)?;
    let (queries, refused_queries) = read_rows(queries)?;
    let refused = refused_registry + refused_queries;
    if estimate && !batch::estimate(&mut matcher, &queries) {
        eprintln!(
            "--estimate: fewer than {} queries give fields besides names; the default weights are kept",
            batch::ESTIMATE_FROM
        );
    }
    to_stdout(|out| batch::write_results(&matcher, &queries, top, features, out))?;
    if refused > 0 {
        anyhow::bail!("{refused} row(s) refused");
    }
    Ok(())
}

/// Writes to standard output. A reader that stops reading (`lantern match
/// batch … | head`) ends the output, as it ends a Unix tool's, without an
/// error: Rust ignores SIGPIPE, so the write fails with `BrokenPipe`
/// instead of the process being killed.
fn to_stdout(
    write: impl FnOnce(std::io::BufWriter<std::io::StdoutLock<'static>>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    match write(std::io::BufWriter::new(std::io::stdout().lock())) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Reads a batch CSV file, printing its refused rows; returns the good
/// rows and how many were refused.
fn read_rows(path: &std::path::Path) -> anyhow::Result<(Vec<lantern_matching::batch::Row>, usize)> {
    read_batch(path, lantern_matching::batch::read)
}

/// Reads a registry file into a matcher row by row (see
/// [`lantern_matching::batch::read_matcher`]), printing its refused rows;
/// returns the matcher and how many rows were refused.
fn read_matcher(path: &std::path::Path) -> anyhow::Result<(lantern_matching::Matcher, usize)> {
    read_batch(path, lantern_matching::batch::read_matcher)
}

fn read_batch<T>(
    path: &std::path::Path,
    read: impl FnOnce(std::fs::File) -> Result<(T, Vec<lantern_matching::batch::RowError>), String>,
) -> anyhow::Result<(T, usize)> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let (read, errors) = read(file).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    for e in &errors {
        eprintln!("{}: line {}: {}", path.display(), e.line, e.reason);
    }
    Ok((read, errors.len()))
}

fn match_dedupe(registry: &std::path::Path, review: Option<&std::path::Path>) -> anyhow::Result<()> {
    use lantern_matching::batch;
    let (matcher, refused) = read_matcher(registry)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let outcome = lantern_matching::dedupe::dedupe(&matcher, threads);
    to_stdout(|out| batch::write_clusters(&outcome, out))?;
    if let Some(path) = review {
        let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        batch::write_review(&outcome, std::io::BufWriter::new(file))?;
    }
    if refused > 0 {
        anyhow::bail!("{refused} row(s) refused");
    }
    Ok(())
}

async fn ledger(
    command: LedgerCommand,
    store: Arc<dyn lantern_store::Store>,
    vault: lantern_vault::objects::ObjectVault,
    clock: Arc<dyn Clock>,
    signer: lantern_ledger::note::NoteSigner,
) -> anyhow::Result<()> {
    match command {
        LedgerCommand::Key => println!("{}", signer.verifier_key()),
        LedgerCommand::Checkpoint => {
            let made = tokio::task::spawn_blocking(move || {
                lantern_store::sign_checkpoint(store.as_ref(), &signer, clock.now())
            })
            .await??;
            match made {
                Some(c) => print!("{}", c.note),
                None => println!("The log has not grown since the last checkpoint."),
            }
        }
        LedgerCommand::Prove { index } => {
            let text = tokio::task::spawn_blocking(move || {
                lantern_app::ledger::prove(store.as_ref(), &signer, clock.as_ref(), index)
            })
            .await??;
            print!("{text}");
        }
        LedgerCommand::Consistency { old, new } => {
            let text = tokio::task::spawn_blocking(move || lantern_app::ledger::consistency(store.as_ref(), old, new))
                .await??;
            print!("{text}");
        }
        LedgerCommand::Audit => {
            let verifier = lantern_ledger::note::NoteVerifier::parse(&signer.verifier_key())?;
            let s = store.clone();
            let mut report =
                tokio::task::spawn_blocking(move || lantern_app::ledger::audit(s.as_ref(), &verifier)).await??;
            lantern_app::ledger::check_objects(store, &vault, &mut report).await?;
            println!(
                "Checked {} entries, {} checkpoints, every record against its latest entry, and {} evidence objects against their recorded hashes.",
                report.entries, report.checkpoints, report.objects
            );
            if report.clean() {
                println!("No problem found.");
            } else {
                for p in &report.problems {
                    println!("PROBLEM: {p}");
                }
                anyhow::bail!("{} problem(s) found", report.problems.len());
            }
        }
    }
    Ok(())
}

async fn serve(
    store: Arc<dyn lantern_store::Store>,
    vault: lantern_vault::objects::ObjectVault,
    clock: Arc<dyn Clock>,
    settings: Settings,
    signer: lantern_ledger::note::NoteSigner,
    demo: Option<usize>,
) -> anyhow::Result<()> {
    if let Some(people) = demo {
        let (s, c) = (store.clone(), clock.clone());
        let accounts =
            tokio::task::spawn_blocking(move || lantern_app::load_demo(s.as_ref(), c.as_ref(), people)).await??;
        if !accounts.is_empty() {
            println!("Demo accounts (passwords are shown once; synthetic data only):");
            for (name, password) in &accounts {
                println!("  {name:<20} {password}");
            }
            println!();
        }
    }
    let (s, c, set) = (store.clone(), clock.clone(), settings.clone());
    let link = tokio::task::spawn_blocking(move || lantern_app::setup_link(s.as_ref(), c.as_ref(), &set)).await??;
    if let Some(link) = link {
        println!(
            "No users yet. Create the first administrator within {} hours at:\n  {link}\n",
            settings.setup_link_hours
        );
    }
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("listen: cannot bind {}", settings.listen))?;
    let bound = listener.local_addr()?;
    println!("Lantern is listening on http://{bound}");
    if !settings.public_url.is_empty() {
        println!("Users reach it at {}", settings.base_url());
    }
    println!("Ledger verifier key: {}", signer.verifier_key());
    let signer = Arc::new(signer);
    spawn_checkpointer(store.clone(), clock.clone(), &settings, signer.clone());
    let swept = lantern_app::sweep_objects(store.clone(), &vault, clock.now())
        .await
        .with_context(|| format!("evidence storage {}", vault.describe()))?;
    if swept > 0 {
        println!("Deleted {swept} stored object(s) that no record names (interrupted uploads).");
    }
    let config = lantern_app::web_config(&settings);
    let state = tokio::task::spawn_blocking(move || lantern_web::AppState::new(store, vault, clock, config)).await??;
    state.set_signer(signer);
    // The search index fills in the background so a large registry does
    // not hold the start back; searches say when it is not complete yet.
    let indexing = state.clone();
    tokio::spawn(async move {
        if let Err(e) = indexing.build_search_index().await {
            tracing::error!("search index not built: {e}");
        }
    });
    lantern_app::serve(listener, state, shutdown_signal()).await
}

/// Signs a checkpoint every few seconds while the log grows.
fn spawn_checkpointer(
    store: Arc<dyn lantern_store::Store>,
    clock: Arc<dyn Clock>,
    settings: &Settings,
    signer: Arc<lantern_ledger::note::NoteSigner>,
) {
    let every = std::time::Duration::from_secs(settings.checkpoint_seconds.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let (s, now, k) = (store.clone(), clock.now(), signer.clone());
            match tokio::task::spawn_blocking(move || lantern_store::sign_checkpoint(s.as_ref(), &k, now)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!("checkpoint: {e:#}"),
                Err(e) => tracing::error!("checkpoint task: {e}"),
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
