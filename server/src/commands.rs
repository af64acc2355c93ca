//! What each command does, given its parsed arguments. Every failure becomes one line on
//! standard error and an exit code: 2 for bad usage or input, 1 for what went wrong while running.

use std::path::PathBuf;

use std::sync::Arc;
use std::time::Instant;

use chrono::FixedOffset;

use crate::accounts;
use crate::cli::{
    Command, CompanyAddArgs, CompanyCommand, CompanyListArgs, DatabaseArgs, DemoDataArgs, DispatchArgs,
    ExportArgs, Format, ImpactArgs, LintArgs, ServeArgs, UserAddArgs, UserCommand, UserDisableArgs,
    UserListArgs,
};
use crate::config::{
    ConfigError, DEFAULT_CONTENT, DEFAULT_DATABASE_URL, DispatchConfig, MailSettings, ServeConfig,
};
use crate::content::{self, ContentError, Level};
use crate::delivery::impact::{Impact, Scope};
use crate::delivery::replay::{Replay, ReplayOptions};
use crate::dispatch::{DispatchSettings, Dispatcher, Mailer, NoticeSettings};
use crate::http::{self, AppState, HttpOptions};
use crate::public_site::PublicSite;
use crate::public_site::live::LiveSite;
use crate::store::accounts::NewCompany;
use crate::store::portal::AuditEntry;
use crate::store::rows::NewUser;
use crate::store::{self, DatabaseMonitor, Store, StoreError};

/// A command's failure, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    #[error(transparent)]
    Mailer(#[from] crate::dispatch::mailer::MailerError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Arguments that parse but do not make sense together.
    #[error("{0}")]
    Usage(String),
    /// The linter found errors (already printed); the summary line.
    #[error("{0}")]
    LintFailed(String),
}

impl CommandError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Config(_)
            | CommandError::Content(_)
            | CommandError::Usage(_)
            | CommandError::Mailer(_) => 2,
            CommandError::Store(
                StoreError::UnsupportedUrl(_)
                | StoreError::Connect { .. }
                | StoreError::NewerSchema { .. }
                | StoreError::NotEmpty
                | StoreError::AlreadyExists(_),
            ) => 2,
            _ => 1,
        }
    }
}

pub async fn run(command: Command) -> Result<(), CommandError> {
    match command {
        Command::Serve(args) => serve(args).await,
        Command::Lint(args) => lint(args),
        Command::Export(args) => export(args),
        Command::Migrate(args) => migrate(args).await,
        Command::DemoData(args) => demo_data(args).await,
        Command::Impact(args) => impact(args).await,
        Command::Company(CompanyCommand::List(args)) => company_list(args).await,
        Command::Company(CompanyCommand::Add(args)) => company_add(args).await,
        Command::User(UserCommand::Add(args)) => user_add(args).await,
        Command::User(UserCommand::Disable(args)) => user_disable(args).await,
        Command::User(UserCommand::List(args)) => user_list(args).await,
        Command::Dispatch(args) => dispatch(args).await,
    }
}

async fn serve(args: ServeArgs) -> Result<(), CommandError> {
    let config = ServeConfig::resolve(args)?;
    let site = LiveSite::serve(&config.content)?;
    if let Err(e) = site.watch() {
        tracing::warn!(error = %e, "cannot watch the content folder; changes need a restart");
    }
    if let Err(e) = site.keep_time() {
        tracing::warn!(error = %e, "cannot start the clock; scheduled maintenance changes status at the next reload");
    }
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| CommandError::Listen { addr: config.addr, source })?;
    if config.demo {
        prepare_demo(&config.database_url).await?;
    }
    let mailer = match config.dispatch {
        true => Some((mailer(&config.mail)?, notice_settings(&config.mail, Some(site.clone())))),
        false => None,
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        http::shutdown_signal().await;
        let _ = stop.send(true);
    });
    let database = DatabaseMonitor::new(&config.database_url);
    tokio::spawn(database.clone().run());
    tokio::spawn(crate::delivery::figures::keep_fresh(database.clone(), site.clone()));
    let dispatcher = mailer.map(|(mailer, notices)| {
        let (database, stopped, settings) =
            (database.clone(), stopped.clone(), dispatch_settings(&config.mail));
        tokio::spawn(async move {
            // Waits for the database, unless the process is asked to stop first.
            let store = loop {
                if let Some(store) = database.store() {
                    break store;
                }
                if *stopped.borrow() {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            };
            let dispatcher = Dispatcher::new(store, mailer, settings).with_notices(notices);
            if let Err(e) = dispatcher.run(stopped, false).await {
                tracing::error!(error = %e, "the redelivery dispatcher stopped");
            }
        })
    });
    let options = HttpOptions {
        hsts: config.hsts,
        sessions: config.sessions,
        redelivery_daily_cap: config.redelivery_daily_cap,
        public_url: config.mail.public_url.clone(),
        ..HttpOptions::default()
    };
    crate::accounts::warm_up();
    let router = http::router(AppState::new(site, database, &options), &options);
    let mut until_stopped = stopped.clone();
    http::serve(listener, router, async move {
        let _ = until_stopped.wait_for(|stop| *stop).await;
    })
    .await?;
    if let Some(dispatcher) = dispatcher {
        // The message in flight is finished and recorded before the process ends.
        let _ = dispatcher.await;
    }
    Ok(())
}

/// The mailer `mail` describes: SMTP to the relay, or the outbox folder.
fn mailer(mail: &MailSettings) -> Result<Mailer, CommandError> {
    let timeout = (mail.lease / 2).min(std::time::Duration::from_secs(60));
    Ok(match &mail.smtp_url {
        Some(url) => Mailer::smtp(url, mail.smtp_connections, timeout)?,
        None => Mailer::outbox(mail.outbox.clone())?,
    })
}

fn dispatch_settings(mail: &MailSettings) -> DispatchSettings {
    DispatchSettings { lease: mail.lease, in_flight: mail.in_flight.into(), ..DispatchSettings::default() }
}

/// Who the site's own emails come from, the portal they link to, and the notices they name.
fn notice_settings(mail: &MailSettings, site: Option<Arc<LiveSite>>) -> NoticeSettings {
    NoticeSettings { from: mail.mail_from.clone(), portal_url: mail.public_url.clone(), site }
}

async fn dispatch(args: DispatchArgs) -> Result<(), CommandError> {
    let until_idle = args.until_idle;
    // The notices, to name an incident in its redelivery's completion email; read once.
    let site = match LiveSite::load(&content_dir(args.content.clone())) {
        Ok(site) => Some(site),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the content folder; incidents are not named in emails");
            None
        }
    };
    let config = DispatchConfig::resolve(args)?;
    let store = open(&DatabaseArgs { database_url: config.database_url }).await?;
    let mailer = mailer(&config.mail)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        http::shutdown_signal().await;
        let _ = stop.send(true);
    });
    let dispatcher = Dispatcher::new(store, mailer, dispatch_settings(&config.mail))
        .with_notices(notice_settings(&config.mail, site));
    let report = dispatcher.run(stopped, until_idle).await?;
    eprintln!(
        "dispatch: {} sent, {} deferred, {} failed, {} unknown; taken back from stopped dispatchers: {} unknown",
        report.sent, report.deferred, report.failed, report.unknown, report.taken_back_unknown
    );
    Ok(())
}

/// Demo mode: the replay at a laptop-friendly scale (loaded once), and logins to try the portal
/// and the staff console with, printed for the person at the terminal.
async fn prepare_demo(url: &str) -> Result<(), CommandError> {
    let store = store::connect(url).await?;
    store.migrate().await?;
    if !store.has_delivery_data().await? {
        eprintln!("Loading the demo data (the reference-incident replay at scale {DEMO_SCALE})...");
        let options = ReplayOptions { scale: DEMO_SCALE, seed: DEMO_SEED };
        eprintln!("{}", load_replay(store.as_ref(), options, false).await?);
    }
    eprintln!("Demo logins ({}):", store::redact(url));
    for login in crate::accounts::ensure_demo_logins(store.as_ref()).await? {
        eprintln!("  {:<40} password: {:<24} {}", login.email, login.password, login.who);
    }
    Ok(())
}

/// Scale and seed of the data `serve --demo` loads.
const DEMO_SCALE: f64 = 0.01;
const DEMO_SEED: u64 = 20_210_301;

fn content_dir(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(|| PathBuf::from(DEFAULT_CONTENT))
}

fn lint(args: LintArgs) -> Result<(), CommandError> {
    let dir = content_dir(args.dir);
    let content = content::load(&dir, None)?;
    for finding in &content.findings {
        println!("{finding}");
    }
    let errors = content.errors().count();
    let warnings = content.findings.iter().filter(|f| f.level == Level::Warning).count();
    let summary = format!(
        "{}: {} notices published, {errors} error(s), {warnings} warning(s)",
        dir.display(),
        content.notices.len()
    );
    if errors > 0 {
        return Err(CommandError::LintFailed(summary));
    }
    eprintln!("{summary}");
    Ok(())
}

fn export(args: ExportArgs) -> Result<(), CommandError> {
    let dir = content_dir(args.content);
    let content = content::load(&dir, None)?;
    for finding in &content.findings {
        eprintln!("{finding}");
    }
    let site = PublicSite::build(&content, chrono::Utc::now());
    let files = crate::export::export(&site, &dir, &args.out)?;
    eprintln!("{}: {files} files, {} notices", args.out.display(), site.notices);
    Ok(())
}

async fn migrate(args: DatabaseArgs) -> Result<(), CommandError> {
    let url = database_url(&args);
    let store = store::connect(&url).await?;
    let applied = store.migrate().await?;
    eprintln!("{}: {applied} migration(s) applied", store::redact(&url));
    Ok(())
}

fn database_url(args: &DatabaseArgs) -> String {
    args.database_url.clone().unwrap_or_else(|| DEFAULT_DATABASE_URL.into())
}

/// Connects and brings the schema up to date, as every command that uses the database does.
async fn open(args: &DatabaseArgs) -> Result<Arc<dyn Store>, CommandError> {
    let store = store::connect(&database_url(args)).await?;
    store.migrate().await?;
    Ok(store)
}

async fn demo_data(args: DemoDataArgs) -> Result<(), CommandError> {
    let store = open(&args.database).await?;
    let options = ReplayOptions { scale: args.scale, seed: args.seed };
    let report = load_replay(store.as_ref(), options, args.replace).await?;
    eprintln!("{report}");
    Ok(())
}

/// Loads the replay into `store` with a progress bar; returns a one-line report.
pub async fn load_replay(
    store: &dyn Store,
    options: ReplayOptions,
    replace: bool,
) -> Result<String, CommandError> {
    if store.has_delivery_data().await? {
        if !replace {
            return Err(StoreError::NotEmpty.into());
        }
        store.clear_delivery_data().await?;
    }
    let replay = Replay::new(options);
    let messages = replay.total_messages as u64;
    let bar = indicatif::ProgressBar::new(messages).with_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} messages ({per_sec})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let generator = tokio::task::spawn_blocking(move || {
        for batch in replay {
            if sender.blocking_send(batch).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let progress_bar = bar.clone();
    let rows = store.bulk_load(receiver, &move |n| progress_bar.set_position(n)).await?;
    generator.await.map_err(|e| CommandError::Io(std::io::Error::other(e)))?;
    // The replay's releases keep their content, so that they can be redelivered.
    store.fill_missing_release_contents().await?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    Ok(format!(
        "{}: {} rows ({} messages) in {seconds:.1} s, {:.0} rows/s; scale {}, seed {}",
        store.backend(),
        thousands(rows as i64),
        thousands(messages as i64),
        rows as f64 / seconds,
        options.scale,
        options.seed
    ))
}

async fn impact(args: ImpactArgs) -> Result<(), CommandError> {
    if args.to <= args.from {
        return Err(CommandError::Usage(format!(
            "--to ({}) must be after --from ({})",
            jst(args.to),
            jst(args.from)
        )));
    }
    let store = open(&args.database).await?;
    if let Some(slug) = &args.company
        && !store.company_exists(slug).await?
    {
        return Err(CommandError::Usage(format!(
            "--company: there is no company `{slug}`; `statusdesk company list` shows them"
        )));
    }
    let scope = Scope {
        from: args.from,
        to: args.to,
        route: args.route,
        error_class: args.error_class,
        recipient_source: args.recipient_source,
        sender: args.sender,
        company: args.company,
    };
    let impact = store.impact(&scope, &args.buckets.unwrap_or_default()).await?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&impact).expect("serialisable")),
        Format::Csv => {
            println!("company,name,releases,messages");
            for c in &impact.per_company {
                println!(
                    "{},{},{},{}",
                    crate::csv::field(&c.company),
                    crate::csv::field(&c.name),
                    c.releases,
                    c.messages
                );
            }
        }
        Format::Table => print!("{}", impact_table(&impact)),
    }
    Ok(())
}

fn impact_table(impact: &Impact) -> String {
    let mut out = format!("window     {} – {}\n", jst(impact.scope.from), jst(impact.scope.to));
    out += &format!("companies  {}\n", thousands(impact.companies));
    out += &format!("releases   {}\n", thousands(impact.releases));
    out += &format!(
        "messages   {} of {} in the window ({:.3} %)\n",
        thousands(impact.messages),
        thousands(impact.total_messages),
        impact.share * 100.0
    );
    if let (Some(min), Some(max)) = (impact.min_per_release, impact.max_per_release) {
        out += &format!("per release  min {min}, max {max}\n");
    }
    out += "\nundelivered per release   releases\n";
    for bucket in &impact.histogram {
        out += &format!("  {:<22} {:>8}\n", bucket.to_string(), bucket.releases);
    }
    out += "\ncompany                                  releases  messages\n";
    for c in &impact.per_company {
        out += &format!("  {:<38} {:>8}  {:>8}\n", c.company, c.releases, c.messages);
    }
    out
}

async fn company_list(args: CompanyListArgs) -> Result<(), CommandError> {
    let store = open(&args.database).await?;
    let companies = store.company_summaries().await?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&companies).expect("serialisable")),
        Format::Csv => {
            println!("slug,name,releases,messages,undelivered");
            for c in &companies {
                println!(
                    "{},{},{},{},{}",
                    crate::csv::field(&c.slug),
                    crate::csv::field(&c.name),
                    c.releases,
                    c.messages,
                    c.undelivered
                );
            }
        }
        Format::Table => {
            println!("{:<32} {:>9} {:>11} {:>12}  name", "slug", "releases", "messages", "undelivered");
            for c in &companies {
                println!(
                    "{:<32} {:>9} {:>11} {:>12}  {}",
                    c.slug,
                    thousands(c.releases),
                    thousands(c.messages),
                    thousands(c.undelivered),
                    c.name
                );
            }
        }
    }
    Ok(())
}

async fn company_add(args: CompanyAddArgs) -> Result<(), CommandError> {
    let store = open(&args.database).await?;
    let company = NewCompany {
        slug: args.slug,
        name: args.name.trim().to_string(),
        language: args.language,
        contact_email: args.contact_email,
    };
    if company.name.is_empty() {
        return Err(CommandError::Usage("--name: the company needs a name".into()));
    }
    store.add_company(&company).await?;
    eprintln!("company `{}` ({}) created", company.slug, company.name);
    Ok(())
}

async fn user_add(args: UserAddArgs) -> Result<(), CommandError> {
    let store = open(&args.database).await?;
    if let Some(slug) = &args.company
        && store.company(slug).await?.is_none()
    {
        return Err(CommandError::Usage(format!(
            "--company: there is no company `{slug}`; create it with `statusdesk company add`"
        )));
    }
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.strip_suffix('\n').unwrap_or(&password);
    let password = password.strip_suffix('\r').unwrap_or(password).to_string();
    accounts::check_password(&password).map_err(|e| CommandError::Usage(format!("standard input: {e}")))?;
    let user = NewUser { company: args.company, email: args.email, name: args.name };
    let hash = accounts::hash_password(password).await;
    store.add_user(&user, &hash).await?;
    let role = user.company.as_deref().map_or("staff".to_string(), |c| format!("a user of `{c}`"));
    eprintln!("user {} created: {role}", user.email);
    Ok(())
}

async fn user_disable(args: UserDisableArgs) -> Result<(), CommandError> {
    let store = open(&args.database).await?;
    if !store.disable_user(&args.email, chrono::Utc::now()).await? {
        return Err(CommandError::Usage(format!("--email: there is no user `{}`", args.email)));
    }
    store
        .record_audit(&AuditEntry {
            actor_id: None,
            actor: "cli".into(),
            action: "user.disable".into(),
            company_id: None,
            target: Some(args.email.clone()),
            detail: None,
        })
        .await?;
    eprintln!("user {} disabled; its sessions have ended", args.email);
    Ok(())
}

/// A user as `user list` prints it.
#[derive(serde::Serialize)]
struct UserLine {
    email: String,
    name: String,
    company: Option<String>,
    role: &'static str,
    disabled: bool,
    created_at: String,
}

async fn user_list(args: UserListArgs) -> Result<(), CommandError> {
    let store = open(&args.database).await?;
    let users: Vec<UserLine> = store
        .users()
        .await?
        .into_iter()
        .map(|u| UserLine {
            role: if u.is_staff() { "staff" } else { "company" },
            company: u.company.map(|c| c.slug),
            disabled: u.disabled_at.is_some(),
            created_at: jst(u.created_at),
            email: u.email,
            name: u.name,
        })
        .collect();
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&users).expect("serialisable")),
        Format::Csv => {
            println!("email,name,company,role,disabled,created_at");
            for u in &users {
                let company = u.company.as_deref().unwrap_or("");
                println!(
                    "{},{},{},{},{},{}",
                    crate::csv::field(&u.email),
                    crate::csv::field(&u.name),
                    crate::csv::field(company),
                    u.role,
                    u.disabled,
                    u.created_at
                );
            }
        }
        Format::Table => {
            println!("{:<40} {:<8} {:<32} {:<9} name", "email", "role", "company", "state");
            for u in &users {
                let state = if u.disabled { "disabled" } else { "active" };
                let company = u.company.as_deref().unwrap_or("-");
                println!("{:<40} {:<8} {:<32} {:<9} {}", u.email, u.role, company, state, u.name);
            }
        }
    }
    Ok(())
}

/// `14012784` as `14,012,784`.
fn thousands(n: i64) -> String {
    statusdesk_app::Lang::En.number(n)
}

/// A time as the service's people read it: in Japan, with its offset.
fn jst(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&FixedOffset::east_opt(9 * 3600).expect("valid offset")).to_rfc3339()
}
