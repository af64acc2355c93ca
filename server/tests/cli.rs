//! The command line as people and scripts use it: the real binary, its exit codes and what it
//! prints.

mod common;

use std::path::Path;

use common::{Server, UNREACHABLE_DATABASE, copy_dir, fixture_site, statusdesk};

fn run(args: &[&str]) -> (i32, String, String) {
    let output = statusdesk().args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn help_explains_every_command_and_its_environment() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    for command in ["serve", "lint", "export", "migrate"] {
        assert!(out.contains(command), "{out}");
    }
    let (code, out, _) = run(&["serve", "--help"]);
    assert_eq!(code, 0);
    for env in ["STATUSDESK_ADDR", "STATUSDESK_CONTENT", "DATABASE_URL", "STATUSDESK_CONFIG", "--demo"] {
        assert!(out.contains(env), "{env} missing from: {out}");
    }
}

#[test]
fn bad_usage_is_one_line_and_exit_code_2() {
    for args in
        [&["serve", "--bogus"][..], &["serve", "--addr", "not-an-address"], &["frobnicate"], &["export"]]
    {
        let (code, out, err) = run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("statusdesk: error: "), "{err}");
    }
}

#[test]
fn lint_prints_findings_and_fails_on_errors() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures.join("site.toml"), dir.path().join("site.toml")).unwrap();
    common::copy_dir(&fixtures.join("bad-enum"), dir.path());
    let (code, out, err) = run(&["lint", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let expected = format!("{}/notices/notice.md:4: error: `status` is `fixed`", dir.path().display());
    assert!(out.lines().next().unwrap().starts_with(&expected), "{out}");
    assert_eq!(out.lines().count(), 2);

    let (code, _, err) = run(&["lint", fixture_site().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("4 notices published, 0 error(s), 2 warning(s)"), "{err}");

    let (code, _, err) = run(&["lint", "/no/such/folder"]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("/no/such/folder/site.toml:1: error: cannot read the file"), "{err}");
    // A broken `site.toml` is one line that starts with where, as every content problem does.
    std::fs::write(dir.path().join("site.toml"), "name = \"x\"\ntime_zone = Tokyo\n").unwrap();
    let (code, _, err) = run(&["lint", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    let expected =
        format!("{}/site.toml:2: error: `time_zone`: text must be in double quotes", dir.path().display());
    assert!(err.starts_with(&expected), "{err}");
}

#[test]
fn export_writes_the_site() {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("public");
    let (code, _, err) =
        run(&["export", "--out", target.to_str().unwrap(), "--content", fixture_site().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read_to_string(target.join("en/notices/slow-api/index.html")).unwrap().contains("Slow API")
    );
}

#[test]
fn migrate_creates_the_sqlite_database_and_refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/statusdesk.db", dir.path().display());
    let (code, _, err) = run(&["migrate", "--database-url", &url]);
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("nested/statusdesk.db").exists());

    // A later statusdesk migrated it further: this one must not touch it.
    let db = rusqlite_free_insert(&dir.path().join("nested/statusdesk.db"));
    assert!(db, "could mark the database as newer");
    let (code, _, err) = run(&["migrate", "--database-url", &url]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("migration 99999999 that this statusdesk does not know"), "{err}");
}

/// Records a migration this binary does not have, as a newer statusdesk would.
fn rusqlite_free_insert(path: &Path) -> bool {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99999999, 'from the future', TRUE, X'00', 0)",
        )
        .execute(&mut conn)
        .await
        .is_ok()
    })
}

#[tokio::test]
async fn migrate_works_on_postgres() {
    let Some(url) = common::postgres_database().await else {
        return;
    };
    let (code, _, err) = run(&["migrate", "--database-url", &url]);
    assert_eq!(code, 0, "{err}");
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(table.as_deref(), Some("_sqlx_migrations"));
}

#[test]
fn database_problems_are_one_line_with_exit_code_2() {
    for url in ["mysql://localhost/x", UNREACHABLE_DATABASE] {
        let (code, _, err) = run(&["migrate", "--database-url", url]);
        assert_eq!(code, 2, "{url}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let (_, _, err) = run(&["migrate", "--database-url", "postgres://app:s3cret@127.0.0.1:9/x"]);
    assert!(!err.contains("s3cret"), "the password must never print: {err}");
}

#[test]
fn serve_starts_and_serves_the_public_site_without_its_database() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    copy_dir(&fixture_site(), &content);
    let server = Server::start(&content, UNREACHABLE_DATABASE);
    let (status, body) = server.get("/en/notices/slow-api").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("Slow API"));
    let (status, body) = server.get("/readyz").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains(r#""reachable":false"#), "{body}");
    // The figures say so too, without the queue the database would have given.
    let (status, body) = server.get("/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(body.lines().any(|l| l == "statusdesk_database_up 0"), "{body}");
    assert!(
        body.contains("statusdesk_http_requests_total{route=\"public\",method=\"GET\",status=\"200\"} 1"),
        "{body}"
    );
    assert!(!body.contains("statusdesk_redelivery_items"), "{body}");
}

#[test]
fn serve_stops_on_sigterm_while_its_database_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    copy_dir(&fixture_site(), &content);
    let outbox = dir.path().join("outbox");
    // With its dispatcher, which waits for the database that never answers.
    let mut server =
        Server::start_with(&content, UNREACHABLE_DATABASE, &["--outbox", outbox.to_str().unwrap()]);
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut exited = None;
    for _ in 0..300 {
        exited = server.child.try_wait().unwrap();
        if exited.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let status = exited.expect("serve ends on SIGTERM without its database");
    assert!(status.success(), "{status}");
}

#[test]
fn serve_reads_a_configuration_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("statusdesk.toml");
    std::fs::write(&config, "addr = 12\n").unwrap();
    let (code, _, err) = run(&["serve", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("statusdesk.toml:1: invalid type: integer `12`, expected socket address"), "{err}");
}

#[test]
fn demo_data_impact_and_company_list_work_together() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/replay.db", dir.path().display());
    let (code, _, err) = run(&["demo-data", "--scale", "0.0005", "--seed", "3", "--database-url", &url]);
    assert_eq!(code, 0, "{err}");
    assert!(err.starts_with("sqlite: ") && err.contains(" rows ("), "{err}");

    let (code, _, err) = run(&["demo-data", "--scale", "0.0005", "--database-url", &url]);
    assert_eq!(code, 2, "a second load must not mix with the first: {err}");
    assert!(
        err.contains("already holds delivery data; load into an empty database, or pass --replace"),
        "{err}"
    );

    let window = ["--from", "2021-02-24T21:00:00+09:00", "--to", "2021-03-01T17:35:00+09:00"];
    let mut args = vec!["impact", "--database-url", &url, "--error-class", "sender_domain_unverified"];
    args.extend(window);
    let (code, out, err) = run(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(code, 0, "{err}");
    let impact: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (impact["companies"].as_i64(), impact["releases"].as_i64(), impact["messages"].as_i64()),
        (Some(117), Some(228), Some(2310))
    );
    let histogram: Vec<i64> =
        impact["histogram"].as_array().unwrap().iter().map(|b| b["releases"].as_i64().unwrap()).collect();
    assert_eq!(histogram, [116, 42, 54, 11, 4, 1]);
    for field in ["total_messages", "share", "min_per_release", "max_per_release", "per_company"] {
        assert!(impact.get(field).is_some(), "JSON lacks {field}");
    }

    let (code, out, _) = run(&args);
    assert_eq!(code, 0);
    assert!(out.contains("companies  117\nreleases   228\nmessages   2,310 of "), "{out}");
    let (code, out, _) = run(&[&args[..], &["--format", "csv"]].concat());
    assert_eq!(code, 0);
    assert_eq!(out.lines().next(), Some("company,name,releases,messages"));
    assert_eq!(out.lines().count(), 118);

    let (code, _, err) = run(&[&args[..], &["--company", "no-such-company"]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("there is no company `no-such-company`"), "{err}");

    // Served over that database, the incident's figures are up once the database answers, not
    // only at the first refresh minutes later.
    let content = dir.path().join("content");
    copy_dir(&fixture_site(), &content);
    let server = Server::start(&content, &url);
    let figures = (0..300).find_map(|_| {
        let (_, html) = server.get("/en/notices/delivery-outage").unwrap();
        if html.contains("class=\"impact\"") {
            return Some(html);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        None
    });
    assert!(figures.is_some(), "no figures 30 s after the start");
    drop(server);

    let (code, out, _) = run(&["company", "list", "--database-url", &url, "--format", "json"]);
    assert_eq!(code, 0);
    let companies: serde_json::Value = serde_json::from_str(&out).unwrap();
    let companies = companies.as_array().unwrap();
    assert!(companies.len() >= 200, "thousands at scale 1, at least 200 at any scale");
    for field in ["slug", "name", "releases", "messages", "undelivered"] {
        assert!(companies[0].get(field).is_some(), "{field}");
    }
}

#[test]
fn impact_rejects_bad_input_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/empty.db", dir.path().display());
    let cases: [(&[&str], &str); 5] = [
        (&["--from", "2021-02-24T21:00:00", "--to", "2021-03-01T17:35:00+09:00"], "has no UTC offset"),
        (&["--from", "yesterday", "--to", "2021-03-01T17:35:00+09:00"], "is not an RFC 3339 time"),
        (
            &["--from", "2021-03-01T17:35:00+09:00", "--to", "2021-02-24T21:00:00+09:00"],
            "--to (2021-02-24T21:00:00+09:00) must be after --from",
        ),
        (
            &[
                "--from",
                "2021-02-24T21:00:00+09:00",
                "--to",
                "2021-03-01T17:35:00+09:00",
                "--buckets",
                "1-5,7-",
            ],
            "should start at 6",
        ),
        (
            &[
                "--from",
                "2021-02-24T21:00:00+09:00",
                "--to",
                "2021-03-01T17:35:00+09:00",
                "--error-class",
                "gremlins",
            ],
            "invalid value 'gremlins'",
        ),
    ];
    for (args, says) in cases {
        let (code, out, err) = run(&[&["impact", "--database-url", &url][..], args].concat());
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert!(!dir.path().join("empty.db").exists(), "nothing is written for bad input");
}

/// Runs `statusdesk` with `input` on standard input.
fn run_with_input(args: &[&str], input: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = statusdesk()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn companies_and_users_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/accounts.db", dir.path().display());
    let db = ["--database-url", url.as_str()];
    let with_db = |args: &[&'static str]| [args, &db[..]].concat();

    let (code, _, err) = run(&with_db(&["company", "add", "--slug", "acme-pr", "--name", "Acme PR"]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&with_db(&["company", "add", "--slug", "acme-pr", "--name", "Again"]));
    assert_eq!(
        (code, err.trim()),
        (2, "statusdesk: error: a company with the slug `acme-pr` already exists")
    );
    let (code, _, err) = run(&with_db(&["company", "add", "--slug", "Acme PR", "--name", "x"]));
    assert_eq!(code, 2);
    assert!(err.contains("not a slug"), "{err}");

    let add = |email: &'static str, role: &[&'static str]| {
        [&["user", "add", "--email", email, "--password-stdin"][..], role, &db[..]].concat()
    };
    let (code, _, err) =
        run_with_input(&add("pr@acme.example", &["--company", "acme-pr"]), "correct horse battery\n");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run_with_input(
        &add("staff@statusdesk.example", &["--staff", "--name", "Support"]),
        "a long staff secret\n",
    );
    assert_eq!(code, 0, "{err}");
    for (password, says) in [
        ("short\n", "at least 8 characters, this one has 5"),
        ("password1\n", "one of the 1,000 most common passwords"),
        (&*format!("{}\n", "x".repeat(129)), "at most 128 characters"),
    ] {
        let (code, _, err) = run_with_input(&add("new@acme.example", &["--company", "acme-pr"]), password);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(says) && err.starts_with("statusdesk: error: standard input: "), "{err}");
    }
    let (code, _, err) =
        run_with_input(&add("PR@acme.example", &["--company", "acme-pr"]), "another good one\n");
    assert_eq!(
        (code, err.trim()),
        (2, "statusdesk: error: a user with the address `PR@acme.example` already exists")
    );
    let (code, _, err) = run_with_input(&add("x@acme.example", &["--company", "nope"]), "another good one\n");
    assert_eq!(code, 2);
    assert!(err.contains("there is no company `nope`"), "{err}");
    let (code, _, err) = run(&with_db(&["user", "add", "--email", "y@acme.example", "--password-stdin"]));
    assert_eq!(code, 2, "--company or --staff is required: {err}");

    let (code, out, _) = run(&with_db(&["user", "list", "--format", "csv"]));
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "email,name,company,role,disabled,created_at");
    assert!(lines[1].starts_with("staff@statusdesk.example,Support,,staff,false,"), "staff first: {out}");
    assert!(lines[2].starts_with("pr@acme.example,,acme-pr,company,false,"), "{out}");
    assert_eq!(lines.len(), 3, "refused users were not created: {out}");

    let (code, _, err) = run(&with_db(&["user", "disable", "--email", "PR@ACME.EXAMPLE"]));
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run(&with_db(&["user", "list"]));
    assert!(out.lines().any(|l| l.starts_with("pr@acme.example") && l.contains("disabled")), "{out}");
    let (code, _, err) = run(&with_db(&["user", "disable", "--email", "ghost@acme.example"]));
    assert_eq!((code, err.trim()), (2, "statusdesk: error: --email: there is no user `ghost@acme.example`"));
}
