//! The `hongdun` command line, run as a real process against a real database.
use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Dir(std::path::PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tmp() -> Dir {
    let d = std::env::temp_dir().join(format!(
        "hongdun-cli-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn hongdun(db: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hongdun"));
    cmd.arg("--db")
        .arg(db)
        .args(args)
        .env_remove("HONGDUN_DB")
        .env("HONGDUN_LOG", "warn");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        pipe.write_all(s.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tamper(db_path: &std::path::Path, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db_path.display()))
            .await
            .unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    });
}

#[test]
fn users_audit_and_backup() {
    let dir = tmp();
    let path = dir.0.join("h.db");
    let db = format!("sqlite://{}", path.display());
    let o = hongdun(&db, &["demo", "--no-serve", "--entities", "0"], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("inspector1"),
        "the demo prints its logins"
    );

    let add = [
        "user",
        "add",
        "zhangsan",
        "--unit",
        "331023-amr-food",
        "--role",
        "section_staff",
        "--password-stdin",
    ];
    let o = hongdun(&db, &add, Some("Zs-passw0rd\n"));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("added user zhangsan"));
    let o = hongdun(&db, &add, Some("Zs-passw0rd\n"));
    assert!(!o.status.success());
    assert!(text(&o).contains("username"), "{}", text(&o));
    let weak = [
        "user",
        "add",
        "lisi",
        "--unit",
        "331023-amr",
        "--role",
        "leader",
        "--password-stdin",
    ];
    let o = hongdun(&db, &weak, Some("123\n"));
    assert!(!o.status.success());
    assert!(text(&o).contains("password_weak"), "{}", text(&o));
    let o = hongdun(
        &db,
        &[
            "user",
            "add",
            "x",
            "--unit",
            "nope",
            "--role",
            "leader",
            "--password-stdin",
        ],
        Some("Aa-12345678"),
    );
    assert!(text(&o).contains("unit nope not found"), "{}", text(&o));

    let o = hongdun(&db, &["audit", "verify"], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("audit chain intact"));

    let backup = dir.0.join("backup.db");
    let o = hongdun(&db, &["backup", "--out", backup.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", text(&o));
    let o = hongdun(&db, &["backup", "--out", backup.to_str().unwrap()], None);
    assert!(text(&o).contains("exists already"), "{}", text(&o));
    // The backup is a working database: restoring is copying it back.
    let restored = format!("sqlite://{}", backup.display());
    let o = hongdun(&restored, &["audit", "verify"], None);
    assert!(o.status.success(), "{}", text(&o));

    // An edit made directly in the database is found, with the row named.
    tamper(
        &path,
        "UPDATE audit_log SET after_data = '{\"display_name\":\"x\"}' WHERE seq = 10",
    );
    let o = hongdun(&db, &["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("BROKEN at row 10 (row_altered)"),
        "{}",
        text(&o)
    );
}

#[test]
fn calendar_and_config_errors() {
    let dir = tmp();
    let db = format!("sqlite://{}", dir.0.join("c.db").display());
    let o = hongdun(
        &db,
        &["calendar", "add-working-days", "2026-09-30", "1"],
        None,
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "2026-10-08",
        "{}",
        text(&o)
    );
    let o = hongdun(
        &db,
        &["calendar", "add-working-days", "2031-01-02", "1"],
        None,
    );
    assert!(text(&o).contains("calendar_year_missing"), "{}", text(&o));

    let o = hongdun("mysql://root:hunter2@db/x", &["migrate"], None);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("unsupported database URL") && t.contains("root:***@db"),
        "{t}"
    );
    assert!(
        !t.contains("hunter2"),
        "the password must never be printed: {t}"
    );

    let o = hongdun("postgres://hd:hunter2@127.0.0.1:1/x", &["migrate"], None);
    assert!(!o.status.success());
    assert!(!text(&o).contains("hunter2"), "{}", text(&o));

    let cfg = dir.0.join("hongdun.toml");
    std::fs::write(&cfg, "bind = \"nonsense\"\n").unwrap();
    let o = hongdun(&db, &["--config", cfg.to_str().unwrap(), "migrate"], None);
    assert!(
        text(&o).contains("bind: expected HOST:PORT"),
        "{}",
        text(&o)
    );
}

#[test]
fn postgres_backup_without_pg_dump_is_a_clear_error() {
    let Ok(url) = std::env::var("HONGDUN_TEST_PG_URL") else {
        eprintln!("skipped: HONGDUN_TEST_PG_URL is not set");
        return;
    };
    let dir = tmp();
    let out = dir.0.join("x.dump");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hongdun"));
    // An empty PATH: pg_dump cannot be found.
    cmd.args(["--db", &url, "backup", "--out", out.to_str().unwrap()])
        .env("PATH", "")
        .env("HONGDUN_LOG", "warn");
    let o = cmd.output().unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("pg_dump not found"), "{}", text(&o));
}

fn query_rows(db_path: &std::path::Path, sql: &str) -> Vec<String> {
    use sqlx::Row;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db_path.display()))
            .await
            .unwrap();
        let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).unwrap())
            .collect()
    })
}

/// Every business as one line, to compare two registers.
const REGISTER: &str = "SELECT uscc || '|' || name || '|' || kind || '|' || COALESCE(legal_rep,'') || '|' || COALESCE(address,'') \
     || '|' || COALESCE(township_code,'') || '|' || COALESCE(CAST(unit_id AS TEXT),'') || '|' || status || '|' \
     || COALESCE(established,'') || '|' || COALESCE(CAST(capital AS TEXT),'') || '|' || tags FROM entity ORDER BY uscc";

/// A generated register file of `rows` rows (2% of them bad) and two demo
/// databases with no businesses yet: (the file, "whole.db", "cut.db").
fn file_and_two_registers(
    dir: &std::path::Path,
    rows: &str,
    seed: &str,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let csv = dir.join("big.csv");
    let gen = Command::new(env!("CARGO_BIN_EXE_hongdun"))
        .args([
            "gen", "entities", "--rows", rows, "--seed", seed, "--dirty", "0.02", "--out",
        ])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(gen.status.success(), "{}", text(&gen));
    let whole = dir.join("whole.db");
    let cut = dir.join("cut.db");
    for db in [&whole, &cut] {
        let o = hongdun(
            &format!("sqlite://{}", db.display()),
            &["demo", "--no-serve", "--entities", "0"],
            None,
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    (csv, whole, cut)
}

/// The import into `cut` (interrupted, then resumed) ended as the one into
/// `whole` did: the same businesses (more than `at_least`), the same error
/// report, the same job totals.
fn assert_same_import(whole: &std::path::Path, cut: &std::path::Path, at_least: usize) {
    let a = query_rows(whole, REGISTER);
    let b = query_rows(cut, REGISTER);
    assert!(a.len() > at_least, "{}", a.len());
    assert_eq!(a.len(), b.len());
    assert!(
        a == b,
        "the resumed import differs from the uninterrupted one"
    );
    let report = "SELECT row_no || ' ' || code FROM import_error ORDER BY row_no, code";
    assert_eq!(
        query_rows(whole, report),
        query_rows(cut, report),
        "the same error report"
    );
    let totals = "SELECT rows_total || ' ' || rows_ok || ' ' || rows_failed || ' ' || status FROM import_job";
    assert_eq!(query_rows(whole, totals), query_rows(cut, totals));
}

/// Kill an import mid-way, run it again, and get exactly the state of an
/// uninterrupted run: no half batch, no row lost, no row twice.
#[test]
fn killed_import_resumes_to_the_same_state() {
    let dir = tmp();
    let (csv, whole, cut) = file_and_two_registers(&dir.0, "60000", "42");
    let o = hongdun(
        &format!("sqlite://{}", whole.display()),
        &[
            "import",
            "entities",
            csv.to_str().unwrap(),
            "--batch",
            "1000",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));

    // Start the same import and kill it once some batches are committed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_hongdun"))
        .args([
            "--db",
            &format!("sqlite://{}", cut.display()),
            "import",
            "entities",
            csv.to_str().unwrap(),
            "--batch",
            "1000",
        ])
        .env("HONGDUN_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let done = query_rows(&cut, "SELECT CAST(checkpoint_row AS TEXT) FROM import_job");
        if done
            .first()
            .is_some_and(|c| c.parse::<i64>().unwrap() >= 5000)
        {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 120,
            "the import never got going"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let job = query_rows(
        &cut,
        "SELECT status || ' ' || checkpoint_row || ' ' || inserted FROM import_job",
    );
    let parts: Vec<&str> = job[0].split(' ').collect();
    assert_eq!(parts[0], "running", "a killed import stays resumable");
    assert!(
        parts[1].parse::<i64>().unwrap() < 60_000,
        "killed before the end: {job:?}"
    );
    let count = query_rows(&cut, "SELECT CAST(COUNT(*) AS TEXT) FROM entity");
    assert_eq!(
        count[0], parts[2],
        "entities match the committed batches exactly: no half batch"
    );
    // A first load leaves the search index to one rebuild at its end: killed
    // before it, the index still waits for it.
    let pending = "SELECT value FROM store_state WHERE key = 'search_index'";
    assert_eq!(query_rows(&cut, pending), ["rebuild"]);
    assert!(query_rows(&whole, pending).is_empty());

    let o = hongdun(
        &format!("sqlite://{}", cut.display()),
        &[
            "import",
            "entities",
            csv.to_str().unwrap(),
            "--batch",
            "1000",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_same_import(&whole, &cut, 55_000);
    // The resumed import rebuilt the search index: it matches its content
    // (FTS5's own check fails on any missing or stray term) and answers a
    // two-character word as the uninterrupted run's does.
    assert!(query_rows(&cut, pending).is_empty());
    for db in [&whole, &cut] {
        query_rows(
            db,
            "INSERT INTO entity_fts (entity_fts, rank) VALUES ('integrity-check', 1) RETURNING ''",
        );
    }
    let found = "SELECT e.uscc FROM entity_fts f JOIN entity e ON e.id = f.rowid \
                 WHERE entity_fts MATCH '面馆' ORDER BY e.uscc";
    let hits = query_rows(&whole, found);
    assert!(hits.len() > 100, "{}", hits.len());
    assert_eq!(hits, query_rows(&cut, found));
}

/// `hongdun serve` on a free port, with `tmp` as its temp directory and
/// `tmp/uploads` as the directory where uploads wait; the child and the
/// address it printed.
fn serve(db: &str, tmp: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hongdun"))
        .args(["--db", db, "serve", "--bind", "127.0.0.1:0"])
        .env("HONGDUN_LOG", "warn")
        .env("TMPDIR", tmp)
        .env("HONGDUN_UPLOAD_DIR", tmp.join("uploads"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    (child, addr)
}

/// One HTTP/1.1 request (`request` is "METHOD /path"): status, headers, body.
fn http(addr: &str, request: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, String) {
    use std::io::Read as _;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{request} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let resp = String::from_utf8_lossy(&resp).into_owned();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

/// Kill the server while an uploaded import runs: started again, it resumes
/// the job from the upload it kept, after the last committed batch, and ends
/// in the state of an uninterrupted import of the same file.
#[test]
fn a_server_killed_mid_upload_resumes_the_import() {
    let dir = tmp();
    let server_tmp = dir.0.join("tmp");
    std::fs::create_dir_all(&server_tmp).unwrap();
    let (csv, whole, cut) = file_and_two_registers(&dir.0, "150000", "7");
    let o = hongdun(
        &format!("sqlite://{}", whole.display()),
        &["import", "entities", csv.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));

    let cut_url = format!("sqlite://{}", cut.display());
    let (mut server, addr) = serve(&cut_url, &server_tmp);
    let login = br#"{"username":"admin","password":"Hongdun@2026"}"#;
    let (status, head, body) = http(
        &addr,
        "POST /api/v1/auth/login",
        &[("Content-Type", "application/json")],
        login,
    );
    assert_eq!(status, 200, "{body}");
    let cookies: Vec<&str> = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.trim().split(';').next())
        .collect();
    let csrf = body
        .split("\"csrf_token\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a CSRF token")
        .to_owned();
    // An upload broken off mid-way (the client gone after 4 KiB of 20 MB)
    // leaves no file behind.
    {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        let head = format!(
            "POST /api/v1/imports/entities HTTP/1.1\r\nHost: x\r\nCookie: {}\r\n\
             x-csrf-token: {csrf}\r\nContent-Length: 20000000\r\n\r\n",
            cookies.join("; ")
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&[b'x'; 4096]).unwrap();
    }
    let uploads = server_tmp.join("uploads");
    let started = std::time::Instant::now();
    while !uploads.exists() {
        assert!(started.elapsed().as_secs() < 10, "the upload never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    while std::fs::read_dir(&uploads).unwrap().next().is_some() {
        assert!(
            started.elapsed().as_secs() < 10,
            "a broken-off upload stayed behind"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let bytes = std::fs::read(&csv).unwrap();
    let cookie = cookies.join("; ");
    let upload = || {
        http(
            &addr,
            "POST /api/v1/imports/entities?file_name=big.csv",
            &[
                ("Cookie", &cookie),
                ("x-csrf-token", &csrf),
                ("Content-Type", "application/octet-stream"),
            ],
            &bytes,
        )
    };
    let (status, _, body) = upload();
    assert_eq!(status, 202, "{body}");
    assert!(body.contains("\"id\":1,"), "{body}");
    // The same file again while it imports: the same job answers, and
    // nothing runs twice (the totals below would count rows twice).
    let (status, _, again) = upload();
    assert_eq!(status, 202, "{again}");
    assert!(again.contains("\"id\":1,"), "{again}");

    // Killed (SIGKILL) once a batch or more is committed.
    let job = "SELECT status || ' ' || checkpoint_row FROM import_job";
    let started = std::time::Instant::now();
    loop {
        let row = query_rows(&cut, job);
        if row
            .first()
            .is_some_and(|r| r.split(' ').nth(1).unwrap().parse::<i64>().unwrap() >= 10_000)
        {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 120,
            "the import never got going"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let left = query_rows(&cut, job);
    let parts: Vec<&str> = left[0].split(' ').collect();
    assert_eq!(parts[0], "running", "killed mid-way: {left:?}");
    assert!(parts[1].parse::<i64>().unwrap() < 150_000, "{left:?}");
    let sha = query_rows(&cut, "SELECT file_sha256 FROM import_job").remove(0);
    let waiting = uploads.join(format!("job-1-{sha}.upload"));
    assert!(waiting.exists(), "the upload waits under its job's name");

    // Started again, the server finishes the job by itself.
    let (mut server, _) = serve(&cut_url, &server_tmp);
    let started = std::time::Instant::now();
    loop {
        if query_rows(&cut, "SELECT status FROM import_job")[0] != "running" {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 300,
            "the import was not resumed"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert_same_import(&whole, &cut, 140_000);
    assert!(
        !waiting.exists(),
        "the upload is removed once its import is done"
    );
}

/// `serve` answers on the port it prints and stops cleanly on SIGTERM.
#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = tmp();
    let db = format!("sqlite://{}", dir.0.join("s.db").display());
    let (mut child, addr) = serve(&db, &dir.0);
    let (status, _, body) = http(&addr, "GET /healthz", &[], b"");
    assert_eq!((status, body.as_str()), (200, "ok"));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status after SIGTERM: {status}");
            break;
        }
        assert!(
            started.elapsed().as_secs() < 15,
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A city as import-ready files: same seed, same bytes; the register and the
/// 12315 export load, and a second import of the export changes nothing.
#[test]
fn gen_a_city_and_import_it() {
    let dir = tmp();
    let out = |name: &str| dir.0.join(name);
    let world = |d: &std::path::Path| {
        let o = hongdun(
            "sqlite::memory:",
            &[
                "gen",
                "--division",
                "3307",
                "--scale",
                "4000",
                "--seed",
                "9",
                "--out",
                d.to_str().unwrap(),
            ],
            None,
        );
        assert!(o.status.success(), "{}", text(&o));
        o
    };
    let o = world(&out("a"));
    assert!(text(&o).contains("businesses"), "{}", text(&o));
    world(&out("b"));
    for f in ["entities.csv", "complaints-12315.csv"] {
        assert_eq!(
            std::fs::read(out("a").join(f)).unwrap(),
            std::fs::read(out("b").join(f)).unwrap(),
            "{f} differs between two runs with one seed"
        );
    }
    let bad = hongdun(
        "sqlite::memory:",
        &[
            "gen", "--scale", "city", "--format", "xlsx", "--out", "/tmp/x",
        ],
        None,
    );
    assert!(
        !bad.status.success() && text(&bad).contains("1048575"),
        "{}",
        text(&bad)
    );

    let path = dir.0.join("city.db");
    let db = format!("sqlite://{}", path.display());
    let o = hongdun(
        &db,
        &[
            "demo",
            "--no-serve",
            "--division",
            "330782",
            "--entities",
            "0",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let entities = out("a").join("entities.csv");
    let o = hongdun(
        &db,
        &["import", "entities", entities.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let complaints = out("a").join("complaints-12315.csv");
    let o = hongdun(
        &db,
        &["import", "complaints", complaints.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let cases = query_rows(&path, "SELECT CAST(COUNT(*) AS TEXT) FROM complaint");
    assert!(cases[0].parse::<i64>().unwrap() > 100, "{}", text(&o));
    let again = hongdun(
        &db,
        &["import", "complaints", complaints.to_str().unwrap()],
        None,
    );
    assert!(text(&again).contains("新增 0"), "{}", text(&again));
    assert_eq!(
        query_rows(&path, "SELECT CAST(COUNT(*) AS TEXT) FROM complaint"),
        cases
    );
    // 义乌's businesses go to 义乌's offices; the city's others have no office here.
    let yiwu = query_rows(
        &path,
        "SELECT CAST(COUNT(*) AS TEXT) FROM entity WHERE county_code = '330782' AND unit_id IS NULL",
    );
    assert_eq!(yiwu[0], "0");
}

/// A city's demo: the city bureau over every county's bureau, offices and
/// staff; businesses spread over the counties and routed to their offices; a
/// year of inspections and complaints in each county.
#[test]
fn demo_of_a_city() {
    let dir = tmp();
    let path = dir.0.join("city.db");
    let db = format!("sqlite://{}", path.display());
    let o = hongdun(
        &db,
        &[
            "demo",
            "--no-serve",
            "--division",
            "3307",
            "--scale",
            "3000",
            "--seed",
            "4",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for login in [
        "admin",
        "leader",
        "auditor",
        "_food",
        "_inspector1",
        "_inspector2",
    ] {
        assert!(out.contains(login), "{login} not shown: {out}");
    }
    let one = |sql: &str| query_rows(&path, sql).remove(0);
    assert_eq!(
        one("SELECT CAST(COUNT(*) AS TEXT) FROM unit WHERE kind = 'bureau' AND parent_id IS NULL"),
        "1"
    );
    let counties: i64 = one(
        "SELECT CAST(COUNT(*) AS TEXT) FROM unit WHERE kind = 'bureau' AND parent_id IS NOT NULL",
    )
    .parse()
    .unwrap();
    assert!(counties >= 9, "{counties}");
    assert_eq!(one("SELECT CAST(COUNT(*) AS TEXT) FROM entity"), "3000");
    assert_eq!(
        one("SELECT CAST(COUNT(*) AS TEXT) FROM entity WHERE unit_id IS NULL"),
        "0"
    );
    let with_cases: i64 = one(
        "SELECT CAST(COUNT(DISTINCT substr(e.county_code, 1, 6)) AS TEXT) FROM complaint c \
         JOIN entity e ON e.id = c.respondent_entity_id",
    )
    .parse()
    .unwrap();
    assert!(with_cases >= 9, "complaints in every county: {with_cases}");
    let plans: i64 = one("SELECT CAST(COUNT(*) AS TEXT) FROM inspection_plan")
        .parse()
        .unwrap();
    assert_eq!(plans, counties * 4, "four quarterly plans per county");
    let again = hongdun(
        &db,
        &[
            "demo",
            "--no-serve",
            "--division",
            "3307",
            "--scale",
            "3000",
            "--seed",
            "4",
        ],
        None,
    );
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(
        one("SELECT CAST(COUNT(*) AS TEXT) FROM inspection_plan"),
        plans.to_string()
    );
}

/// The demo county comes with generated businesses, once.
#[test]
fn demo_fills_the_register_once() {
    let dir = tmp();
    let path = dir.0.join("d.db");
    let db = format!("sqlite://{}", path.display());
    let o = hongdun(&db, &["demo", "--no-serve", "--entities", "500"], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("成功 500"), "{}", text(&o));
    let again = hongdun(&db, &["demo", "--no-serve", "--entities", "500"], None);
    assert!(
        !text(&again).contains("导入任务"),
        "nothing imported the second time: {}",
        text(&again)
    );
    assert!(text(&again).contains("admin"), "the logins are shown again");
    let n = query_rows(
        &path,
        "SELECT CAST(COUNT(*) AS TEXT) FROM entity WHERE unit_id IS NOT NULL",
    );
    assert_eq!(
        n[0], "500",
        "every generated business is routed to an office"
    );
}

#[test]
fn draw_verify_says_identical_or_where_it_differs() {
    use hongdun_app::inspection::{DrawExport, EXPORT_FORMAT};
    use hongdun_core::inspection::{draw, Candidate, DrawInput, PoolInspector, Sampling};
    let input = DrawInput {
        seed: "31415926535897932384".into(),
        sampling: Sampling::Ratio {
            ratios: [("A".to_owned(), 500), ("B".to_owned(), 2000)].into(),
        },
        team_size: 2,
        candidates: (0..80)
            .map(|i| Candidate {
                id: format!("92331023MA{i:07}"),
                class: if i % 4 == 0 { "A" } else { "B" }.into(),
                grid: Some(format!("g{}", i % 3)),
            })
            .collect(),
        inspectors: (0..5)
            .map(|i| PoolInspector {
                cert_no: format!("3310230{i:04}"),
                grid: Some(format!("g{}", i % 3)),
                conflicts: Default::default(),
            })
            .collect(),
    };
    let outcome = draw(&input).unwrap();
    let export = DrawExport {
        format: EXPORT_FORMAT.into(),
        format_version: 1,
        draw_id: 1,
        kind: "plan".into(),
        plan_id: Some(1),
        plan_name: Some("测试计划".into()),
        seed_source: "typed".into(),
        drawn_at: chrono::Utc::now(),
        input,
        outcome,
    };
    let dir = tmp();
    let db = format!("sqlite://{}", dir.0.join("unused.db").display());
    let good = dir.0.join("draw-1.json");
    std::fs::write(&good, serde_json::to_vec(&export).unwrap()).unwrap();
    let out = hongdun(&db, &["draw", "verify", good.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("identical"), "{}", text(&out));

    let mut forged = export.clone();
    forged.outcome.picks[0].team.reverse();
    let bad = dir.0.join("draw-forged.json");
    std::fs::write(&bad, serde_json::to_vec(&forged).unwrap()).unwrap();
    let out = hongdun(&db, &["draw", "verify", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("第 1 个抽中对象"), "{}", text(&out));

    std::fs::write(&bad, b"{not json").unwrap();
    let out = hongdun(&db, &["draw", "verify", bad.to_str().unwrap()], None);
    assert!(!out.status.success());
    assert!(text(&out).contains("draw_export_invalid"), "{}", text(&out));
}
