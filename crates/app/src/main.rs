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
    if let Command::Settings = cli.command {
        print!("{}", settings::markdown());
        return Ok(());
    }
    let file = settings::read_file(cli.config.as_deref())?;
    let settings = Settings::resolve(&cli.settings, &file);
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&settings.log).context("log: invalid filter")?)
        .init();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(cli.command, settings))
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    lantern_app::prepare_data_dir(&settings.data_dir)?;
    let (keys, created) = lantern_app::load_or_create_keys(&settings.data_dir)?;
    if created {
        println!(
            "A new master key was created in {}.\n\
             Back it up now, offline and apart from database backups: without it the\n\
             protected fields (documents, contacts, notes) cannot be read. See docs/operations.md.\n",
            settings.data_dir.join("keys").join("master.key").display()
        );
    }
    let store = lantern_app::open_store(&settings, keys)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match command {
        Command::Serve { demo, demo_people } => serve(store, clock, settings, demo.then_some(demo_people)).await,
        Command::Demo { demo_people } => serve(store, clock, settings, Some(demo_people)).await,
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
        Command::Settings => Ok(()),
    }
}

async fn serve(
    store: Arc<dyn lantern_store::Store>,
    clock: Arc<dyn Clock>,
    settings: Settings,
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
    if let Some(link) = lantern_app::setup_link(store.as_ref(), clock.as_ref(), &settings)? {
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
    let state = lantern_web::AppState::new(store, clock, lantern_app::web_config(&settings))?;
    lantern_app::serve(listener, state, shutdown_signal()).await
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
