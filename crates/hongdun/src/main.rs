//! `hongdun`: the one binary. `serve | demo | migrate | user | audit | backup | calendar`.
#![forbid(unsafe_code)]

mod config;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use config::{redact_url, Config, Flags};
use hongdun_app::bootstrap::BootstrapOptions;
use hongdun_app::system::UserInput;
use hongdun_app::{App, AppConfig, AppError};
use hongdun_store::{AuditChange, AuditCtx, ScopeFilter, Store};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

/// mimalloc keeps freed memory for reuse: a province-scale draw or import
/// builds and drops arrays of hundreds of megabytes, and with the system
/// allocator each one came back from the kernel as fresh pages to be zeroed
/// (a fifth of a 10M draw's time went to clearing pages).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "hongdun", version, about = "红盾 — 市场监管数字化平台")]
struct Cli {
    /// Configuration file (default: ./hongdun.toml when present, or $HONGDUN_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, global = true)]
    db: Option<String>,
    /// Log filter, e.g. info or hongdun=debug.
    #[arg(long, global = true)]
    log: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Applies migrations and serves the API and console.
    Serve {
        #[arg(long)]
        bind: Option<String>,
    },
    /// Creates a demo county (when the database has none) and serves it.
    Demo {
        /// A county (6 digits, default 天台县), a city (4) or a province (2).
        #[arg(long, default_value = "331023")]
        division: String,
        #[arg(long)]
        bind: Option<String>,
        /// Create the demo data and exit without serving.
        #[arg(long)]
        no_serve: bool,
        /// How many generated businesses the demo holds (0: none).
        #[arg(long, default_value_t = 100_000)]
        entities: u64,
        /// county (100k), city (1.815M), province (10M) or a number: instead of --entities.
        #[arg(long)]
        scale: Option<String>,
        /// The generator's seed (same seed, same demo).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Days of sunshine-kitchen heartbeats, up to today (default: a year for
        /// a county, two weeks for a city or province, whose fleets are 10–100×).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3660))]
        beat_days: Option<u32>,
    },
    /// Applies migrations and loads reference data, then exits.
    Migrate,
    /// Staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Writes a consistent copy of the database.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Loads the register from a file (CSV or XLSX); re-running an interrupted
    /// import resumes it.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Generates a jurisdiction as import-ready files (deterministic: same seed,
    /// same bytes): `gen --division 3307 --scale city --out DIR` writes
    /// entities and a year of 12315 complaints; `gen entities` one county's CSV.
    #[command(args_conflicts_with_subcommands = true)]
    Gen {
        #[command(subcommand)]
        command: Option<GenCommand>,
        #[command(flatten)]
        world: GenWorld,
    },
    /// Working-day computations on the stored holiday schedules.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Random-inspection draws (双随机).
    Draw {
        #[command(subcommand)]
        command: DrawCommand,
    },
}

#[derive(Subcommand)]
enum DrawCommand {
    /// Re-derives a published draw from its export (draw-N.json) and says
    /// whether it is identical; exits 1 when it differs. Needs no database.
    Verify { file: PathBuf },
    /// Runs the draw of a plan in draft (as the server would, recorded as done
    /// from the command line): for province-scale plans, which take longer than
    /// an HTTP request may. Without --seed the operating system's seed is used
    /// and printed.
    Run {
        #[arg(long)]
        plan: i64,
        #[arg(long)]
        seed: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Adds a user; the password is read from standard input.
    Add {
        name: String,
        /// Unit code, e.g. 331023-amr.
        #[arg(long)]
        unit: String,
        /// Role code: admin, leader, section_staff, inspector, auditor or a custom one.
        #[arg(long)]
        role: Vec<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Sets a user's password, read from standard input.
    Passwd {
        name: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Entities (经营主体): CSV in UTF-8 or GBK, or XLSX, with Chinese or English headers.
    Entities {
        file: PathBuf,
        /// Reject rows whose credit code fails its check character (the default).
        #[arg(long, conflicts_with = "lenient")]
        strict: bool,
        /// Keep such rows, flagged as warnings in the report.
        #[arg(long)]
        lenient: bool,
        /// Rows per committed batch.
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
        /// Where to write the error report (default: FILE.errors.csv).
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Complaints and reports exported by the national 12315 platform (CSV or
    /// XLSX); rows already imported (same 12315 number) are skipped.
    Complaints {
        file: PathBuf,
        /// The staff account the cases are entered as (its scope routes them).
        #[arg(long, default_value = "admin")]
        user: String,
    },
}

#[derive(clap::Args)]
struct GenWorld {
    /// A province (2 digits), city (4) or county (6) division code; default 天台县.
    #[arg(long, default_value = "331023")]
    division: String,
    /// county (~100k businesses), city (1.815M), province (10M) or a number.
    #[arg(long, default_value = "county")]
    scale: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// csv or xlsx (XLSX holds at most 1,048,575 rows).
    #[arg(long, default_value = "csv")]
    format: String,
    /// Share of entity rows made bad on purpose, as real exports have them (0–1).
    #[arg(long, default_value_t = 0.0)]
    dirty: f64,
    /// utf8 or gbk (CSV only).
    #[arg(long, default_value = "utf8")]
    encoding: String,
    /// The directory to write into.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn parse_encoding(encoding: &str) -> anyhow::Result<bool> {
    Ok(match encoding {
        "utf8" | "utf-8" => false,
        "gbk" | "GBK" | "gb18030" => true,
        other => bail!("--encoding must be utf8 or gbk, not {other}"),
    })
}

#[derive(Subcommand)]
enum GenCommand {
    /// Businesses of one county as an import-ready CSV.
    Entities {
        /// County division code (6 digits); default 天台县.
        #[arg(long, default_value = "331023")]
        division: String,
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Share of rows made bad on purpose, as real exports have them (0–1).
        #[arg(long, default_value_t = 0.0)]
        dirty: f64,
        /// utf8 or gbk.
        #[arg(long, default_value = "utf8")]
        encoding: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recomputes the hash chain and reports the first broken link.
    Verify,
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// The N-th working day after FROM.
    AddWorkingDays { from: String, days: u32 },
}

async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(
            hongdun_store_sqlite::SqliteStore::connect(url)
                .await
                .with_context(|| format!("opening {url}"))?,
        )
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(
            hongdun_store_pg::PgStore::connect(url)
                .await
                .with_context(|| format!("connecting to {}", redact_url(url)))?,
        )
    } else {
        bail!(
            "unsupported database URL {}: use sqlite://PATH or postgres://…",
            redact_url(url)
        );
    };
    Ok(store)
}

async fn open_app(cfg: &Config) -> anyhow::Result<Arc<App>> {
    let store = open_store(&cfg.db).await?;
    let app = App::new(
        store,
        AppConfig {
            session_hours: cfg.session_hours,
            lockout_threshold: cfg.lockout_threshold,
            lockout_minutes: cfg.lockout_minutes,
        },
    );
    app.bootstrap(&BootstrapOptions::default())
        .await
        .map_err(app_err)?;
    Ok(Arc::new(app))
}

fn app_err(e: AppError) -> anyhow::Error {
    let mut msg = format!("{} ({})", e.message_zh(), e.code());
    for f in e.fields() {
        msg.push_str(&format!("\n  - {}: {} ({})", f.field, f.message, f.code));
    }
    anyhow::anyhow!(msg)
}

fn read_password() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let pw = s.trim_end_matches(['\n', '\r']).to_owned();
    if pw.is_empty() {
        bail!("no password on standard input");
    }
    Ok(pw)
}

async fn serve(app: Arc<App>, cfg: &Config, bind: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, db = %redact_url(&cfg.db), "serving");
    println!("红盾 Hongdun listening on http://{addr}/  (API explorer: http://{addr}/api/docs)");
    let state = hongdun_http::AppState {
        app: app.clone(),
        http: Arc::new(hongdun_http::HttpConfig {
            cookie_secure: cfg.cookie_secure,
            trust_forwarded_for: cfg.trust_forwarded_for,
            public_rate_per_minute: cfg.public_rate_per_minute,
            public_url: cfg.public_url.clone(),
            upload_dir: cfg
                .upload_dir
                .clone()
                .unwrap_or_else(hongdun_http::default_upload_dir),
            ..Default::default()
        }),
        metrics: Default::default(),
    };
    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("installing the SIGTERM handler");
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down: finishing in-flight requests");
    };
    hongdun_http::serve(listener, state, shutdown).await?;
    app.store().close().await;
    Ok(())
}

async fn backup(app: &App, cfg: &Config, out: &std::path::Path) -> anyhow::Result<()> {
    if out.exists() {
        bail!("{} exists already: choose a new file name", out.display());
    }
    let shown = out.display().to_string();
    if app.store().backend() == "sqlite" {
        app.store()
            .backup_to(&shown)
            .await
            .map_err(|e| anyhow::anyhow!("backup failed: {e}"))?;
    } else {
        let status = tokio::process::Command::new("pg_dump")
            .arg("--format=custom")
            .arg("--file")
            .arg(out)
            .arg(&cfg.db)
            .status()
            .await;
        match status {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "pg_dump not found: install the PostgreSQL client tools (Debian: apt-get install postgresql-client) \
                 or back up with your database's own tools"
            ),
            Err(e) => bail!("running pg_dump: {e}"),
            Ok(s) if !s.success() => bail!("pg_dump failed ({s})"),
            Ok(_) => {}
        }
    }
    let meta = serde_json::json!({ "file": shown, "backend": app.store().backend() });
    app.record(
        &AuditCtx::system("cli"),
        AuditChange::new::<(), _>("system.backup", "database", "*", None, Some(&meta)),
    )
    .await
    .map_err(app_err)?;
    println!("backup written to {shown}");
    Ok(())
}

/// Fills the demo county with `n` generated businesses (seed 1), resuming or
/// topping up an earlier run; skipped when the register already holds them.
async fn demo_entities(app: &App, division: &str, n: u64, seed: u64) -> anyhow::Result<()> {
    use hongdun_app::gen::world::{plan, write_world, Format, Scale, WorldOptions};
    let have = app
        .store()
        .search_entities(&ScopeFilter::All, &Default::default())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .total;
    if n == 0 || have >= n as i64 {
        return Ok(());
    }
    let dir = std::env::temp_dir().join(format!("hongdun-demo-{division}-{n}-{seed}"));
    let opts = WorldOptions {
        division: division.to_owned(),
        scale: Scale::Rows(n),
        seed,
        dirty: 0.0,
        gbk: false,
        format: Format::Csv,
    };
    write_world(&opts, &dir).map_err(|e| anyhow::anyhow!(e))?;
    println!("生成并导入 {n} 个演示经营主体……");
    import_entities(app, &dir.join("entities.csv"), false, 10_000, None).await?;
    let _ = std::fs::remove_dir_all(&dir);
    let mut licences = 0;
    for c in plan(division, n).map_err(|e| anyhow::anyhow!(e))? {
        licences += app
            .load_demo_licences(&c.code, c.rows, seed)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    println!("登记 {licences} 张食品经营/生产许可证");
    Ok(())
}

/// A year of random inspections and hazards, and of complaints, reports and
/// enquiries at the county rate (2,833 for 100,000 businesses), in every
/// county of the demo (once each).
async fn demo_years(
    app: &App,
    division: &str,
    entities: u64,
    seed: u64,
    beat_days: u32,
) -> anyhow::Result<()> {
    use hongdun_app::gen::complaints::CASES_PER_YEAR;
    let (mut tasks, mut hazards, mut cases, mut merged, mut closed, mut recovered) =
        (0, 0, 0, 0, 0, 0);
    let mut food = hongdun_app::demo::FoodDemo::default();
    let mut checks = hongdun_app::demo::FoodChecksDemo::default();
    for c in hongdun_app::gen::world::plan(division, entities).map_err(|e| anyhow::anyhow!(e))? {
        let (t, h) = app
            .load_demo_inspections(&c.code, seed)
            .await
            .map_err(app_err)?;
        tasks += t;
        hazards += h;
        let n = (CASES_PER_YEAR as u64 * c.rows / 100_000).clamp(20, CASES_PER_YEAR as u64);
        let year = app
            .load_demo_complaints(&c.code, "admin", seed, n as usize)
            .await
            .map_err(app_err)?;
        cases += year.cases;
        merged += year.merged;
        let k = (hongdun_app::demo::KITCHENS_PER_100K * c.rows / 100_000).clamp(5, 765);
        let f = app
            .load_demo_food(&c.code, "admin", seed, k as usize, beat_days)
            .await
            .map_err(app_err)?;
        food.kitchens += f.kitchens;
        food.cameras += f.cameras;
        food.seals += f.seals;
        food.bound += f.bound;
        food.broken += f.broken;
        let samples = (hongdun_app::demo::SAMPLES_PER_100K * c.rows / 100_000).clamp(30, 6_000);
        let fc = app
            .load_demo_food_checks(&c.code, "admin", seed, samples as usize)
            .await
            .map_err(app_err)?;
        checks.alerts += fc.alerts;
        checks.confirmed += fc.confirmed;
        checks.dismissed += fc.dismissed;
        checks.samples += fc.samples;
        checks.failed += fc.failed;
        closed += year.closed;
        recovered += year.recovered;
    }
    if tasks > 0 {
        println!("生成一年的双随机抽查：{tasks} 次检查，{hazards} 条隐患");
    }
    if food.kitchens > 0 {
        println!(
            "生成阳光厨房 {} 家（摄像头 {} 路，近 {} 天心跳），食安封签 {} 枚（绑定订单 {} 枚，消费者报告破损 {} 枚）",
            food.kitchens,
            food.cameras,
            beat_days,
            food.seals,
            food.bound,
            food.broken
        );
    }
    if checks.alerts > 0 || checks.samples > 0 {
        println!(
            "生成一年的 AI 抓拍预警 {} 条（确认 {}，误报排除 {}），食品抽检 {} 批次（不合格 {}）",
            checks.alerts, checks.confirmed, checks.dismissed, checks.samples, checks.failed
        );
    }
    if cases > 0 {
        println!(
            "生成一年的投诉举报：{cases} 件（合并重复 {merged} 件），办结 {closed} 件，挽回损失 {:.2} 万元",
            recovered as f64 / 1_000_000.0
        );
    }
    Ok(())
}

async fn import_entities(
    app: &App,
    file: &std::path::Path,
    lenient: bool,
    batch: usize,
    report: Option<PathBuf>,
) -> anyhow::Result<()> {
    use hongdun_app::import::ImportOptions;
    use hongdun_app::registry::CheckMode;
    let total = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {msg} ({elapsed}, 剩余 {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let opts = ImportOptions {
        mode: if lenient {
            CheckMode::Lenient
        } else {
            CheckMode::Strict
        },
        batch_rows: batch,
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let progress = |p: &hongdun_app::import::Progress| {
        bar.set_position(p.bytes);
        bar.set_message(format!("{} 行", p.rows));
    };
    let job = app
        .import_entities(&AuditCtx::system("cli"), file, &opts, &progress)
        .await
        .map_err(app_err)?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "导入任务 #{}（{}）：{} 行，成功 {}（新增 {}，更新 {}），失败 {}，警告 {}；{:.1} 秒",
        job.id,
        job.status,
        job.rows_total,
        job.rows_ok,
        job.inserted,
        job.updated,
        job.rows_failed,
        job.rows_warned,
        secs
    );
    if let Some(m) = &job.message {
        println!("  {m}");
    }
    if job.rows_failed + job.rows_warned > 0 || job.status == "failed" {
        let path = report.unwrap_or_else(|| {
            let mut p = file.as_os_str().to_owned();
            p.push(".errors.csv");
            PathBuf::from(p)
        });
        std::fs::write(&path, app.import_report_csv(job.id).await.map_err(app_err)?)?;
        println!("  错误报告：{}", path.display());
    }
    if job.status == "failed" {
        std::process::exit(3);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut flags = Flags {
        db: cli.db.clone(),
        bind: None,
        log: cli.log.clone(),
    };
    match &cli.command {
        Command::Serve { bind } | Command::Demo { bind, .. } => flags.bind = bind.clone(),
        _ => {}
    }
    // The demo keeps its own database unless told otherwise.
    if matches!(cli.command, Command::Demo { .. })
        && flags.db.is_none()
        && std::env::var_os("HONGDUN_DB").is_none()
    {
        flags.db = Some("sqlite://hongdun-demo.db".into());
    }
    let cfg = Config::load(cli.config.as_deref(), &flags)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cfg.log).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Migrate => {
            let app = open_app(&cfg).await?;
            println!(
                "migrated {} ({})",
                redact_url(&cfg.db),
                app.store().backend()
            );
        }
        Command::Serve { .. } => {
            let app = open_app(&cfg).await?;
            serve(app, &cfg, &cfg.bind).await?;
        }
        Command::Demo {
            division,
            no_serve,
            entities,
            scale,
            seed,
            beat_days,
            ..
        } => {
            let entities = match scale {
                Some(s) => hongdun_app::gen::world::Scale::parse(&s)
                    .map_err(|e| anyhow::anyhow!(e))?
                    .rows(),
                None => entities,
            };
            let beat_days = beat_days.unwrap_or(if division.len() == 6 {
                hongdun_app::demo::DEMO_BEAT_DAYS
            } else {
                hongdun_app::demo::REGION_BEAT_DAYS
            });
            let app = open_app(&cfg).await?;
            let (logins, _) = app.create_demo_region(&division).await.map_err(app_err)?;
            demo_entities(&app, &division, entities, seed).await?;
            if entities > 0 {
                demo_years(&app, &division, entities, seed, beat_days).await?;
            }
            let url = format!("http://{}/", cfg.bind);
            println!("\n红盾 Hongdun 演示 — {}", redact_url(&cfg.db));
            if logins.is_empty() {
                println!(
                    "  演示县已存在。登录：admin、leader、food、auditor、inspector1、inspector2，密码 {}（如未修改）",
                    hongdun_app::demo::DEMO_PASSWORD
                );
            }
            for l in &logins {
                println!(
                    "  登录  {:<12} 密码 {:<14} 角色 {:<14} {}",
                    l.username, l.password, l.role, l.unit
                );
            }
            if no_serve {
                return Ok(());
            }
            println!("  打开  {url}\n");
            serve(app, &cfg, &cfg.bind).await?;
        }
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    unit,
                    role,
                    display_name,
                    ..
                },
        } => {
            let app = open_app(&cfg).await?;
            let unit = app
                .store()
                .find_unit_by_code(&unit)
                .await
                .with_context(|| format!("unit {unit} not found"))?;
            let password = read_password()?;
            let input = UserInput {
                display_name: display_name.unwrap_or_else(|| name.clone()),
                username: name,
                unit_id: unit.id,
                phone: None,
                cert_no: None,
                password,
                role_codes: role,
            };
            let user = app
                .create_user_as(&AuditCtx::system("cli"), &ScopeFilter::All, &input)
                .await
                .map_err(app_err)?;
            println!(
                "added user {} (id {}) in {}",
                user.username, user.id, unit.name
            );
        }
        Command::User {
            command: UserCommand::Passwd { name, .. },
        } => {
            let app = open_app(&cfg).await?;
            let password = read_password()?;
            app.set_password_cli(&name, &password)
                .await
                .map_err(app_err)?;
            println!("password set for {name}");
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let app = open_app(&cfg).await?;
            let r = app.verify_audit().await.map_err(app_err)?;
            match r.first_broken {
                None => println!("audit chain intact: {} rows verified", r.rows_checked),
                Some(b) => {
                    eprintln!(
                        "audit chain BROKEN at row {} ({}): {}",
                        b.seq, b.code, b.message
                    );
                    eprintln!("{} rows verified before the break", r.rows_checked);
                    std::process::exit(2);
                }
            }
        }
        Command::Backup { out } => {
            // Fail before touching the database when the tool is missing.
            if !cfg.db.starts_with("sqlite:")
                && std::process::Command::new("pg_dump")
                    .arg("--version")
                    .output()
                    .is_err()
            {
                bail!(
                    "pg_dump not found: install the PostgreSQL client tools (Debian: apt-get install postgresql-client) \
                     or back up with your database's own tools"
                );
            }
            let app = open_app(&cfg).await?;
            backup(&app, &cfg, &out).await?;
        }
        Command::Gen {
            command: None,
            world,
        } => {
            use hongdun_app::gen::world::{write_world, Format, Scale, WorldOptions};
            let Some(out) = world.out else {
                bail!("--out DIR is required");
            };
            if !(0.0..=1.0).contains(&world.dirty) {
                bail!("--dirty must be between 0 and 1");
            }
            let opts = WorldOptions {
                division: world.division,
                scale: Scale::parse(&world.scale).map_err(|e| anyhow::anyhow!(e))?,
                seed: world.seed,
                dirty: world.dirty,
                gbk: parse_encoding(&world.encoding)?,
                format: match world.format.as_str() {
                    "csv" => Format::Csv,
                    "xlsx" => Format::Xlsx,
                    other => bail!("--format must be csv or xlsx, not {other}"),
                },
            };
            let started = std::time::Instant::now();
            let sum = write_world(&opts, &out).map_err(|e| anyhow::anyhow!(e))?;
            println!(
                "{} counties: {} businesses ({} dirty), {} complaints of {} in {:.1} s",
                sum.counties,
                sum.entities,
                sum.dirty,
                sum.complaints,
                hongdun_app::gen::world::COMPLAINT_YEAR,
                started.elapsed().as_secs_f64()
            );
            for f in &sum.files {
                println!("  {}", f.display());
            }
            return Ok(());
        }
        Command::Gen {
            command:
                Some(GenCommand::Entities {
                    division,
                    rows,
                    seed,
                    dirty,
                    encoding,
                    out,
                }),
            ..
        } => {
            use hongdun_app::gen::entities::{write_csv, GenOptions};
            if !(0.0..=1.0).contains(&dirty) {
                bail!("--dirty must be between 0 and 1");
            }
            let gbk = parse_encoding(&encoding)?;
            let opts = GenOptions {
                county: division,
                rows,
                seed,
                dirty,
                gbk,
            };
            let file = std::fs::File::create(&out)
                .with_context(|| format!("creating {}", out.display()))?;
            let started = std::time::Instant::now();
            let (n, bad) = write_csv(&opts, file).map_err(|e| anyhow::anyhow!(e))?;
            println!(
                "{n} rows ({bad} dirty) written to {} in {:.1} s",
                out.display(),
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        Command::Import {
            command:
                ImportCommand::Entities {
                    file,
                    strict: _,
                    lenient,
                    batch,
                    report,
                },
        } => {
            let app = open_app(&cfg).await?;
            import_entities(&app, &file, lenient, batch, report).await?;
        }
        Command::Import {
            command: ImportCommand::Complaints { file, user },
        } => {
            let app = open_app(&cfg).await?;
            let p = app.principal_of(&user).await.map_err(app_err)?;
            let r = app.import_cases(&p, &file).await.map_err(app_err)?;
            println!(
                "{} 行：新增 {}，合并 {}，已导入跳过 {}，失败 {}",
                r.rows, r.created, r.merged, r.skipped, r.failed
            );
            for e in r.errors.iter().take(50) {
                println!(
                    "  第 {} 行 {}：{}（{}）",
                    e.row_no, e.column, e.message, e.code
                );
            }
            if r.failed > 0 || (r.rows == 0 && !r.errors.is_empty()) {
                std::process::exit(1);
            }
        }
        Command::Calendar {
            command: CalendarCommand::AddWorkingDays { from, days },
        } => {
            let app = open_app(&cfg).await?;
            let from =
                hongdun_core::calendar::parse_date(&from).context("FROM must be YYYY-MM-DD")?;
            let due = app.add_working_days(from, days).await.map_err(app_err)?;
            println!("{due}");
        }
        Command::Draw {
            command: DrawCommand::Run { plan, seed },
        } => {
            let app = open_app(&cfg).await?;
            let started = std::time::Instant::now();
            let d = app
                .draw_plan_cli(plan, seed.as_deref())
                .await
                .map_err(app_err)?;
            println!(
                "抽取完成：计划 {plan}，名录 {} 户（SHA-256 {}），种子 {}（{}），用时 {:.2} 秒",
                d.candidates_count,
                d.candidates_sha256,
                d.seed,
                d.seed_source,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Draw {
            command: DrawCommand::Verify { file },
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let report = hongdun_app::inspection::verify_draw_export(&bytes).map_err(app_err)?;
            println!(
                "名录对象 {} 个，抽中 {} 个",
                report.candidates, report.picks
            );
            println!("种子 SHA-256  {}", report.seed_hash);
            println!("名录 SHA-256  {}", report.candidates_sha256);
            if report.identical {
                println!("一致：按公布的种子、名录和算法重新抽取，结果完全相同 (identical)");
            } else {
                println!("不一致：公布的结果与重新抽取的结果不同 (differs)");
                for d in &report.differences {
                    println!("  - {d}");
                }
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
