//! What a person sees, in real headless Chromium driven through WebDriver (chromedriver):
//! the status page, the language switch, a notice; a company user of the demo logging in to the
//! portal, opening the release the incident hit hardest, filtering it and downloading the CSV.
//! Screenshots are kept under `target/test-artifacts/`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Server, UNREACHABLE_DATABASE, free_port};
use fantoccini::{Client, ClientBuilder, Locator};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver, and the profile folder of the Chromium it starts: when the test ends, passed or
/// not, both go, and so does every Chromium process started with that profile.
struct Driver {
    process: Child,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let profile = format!("--user-data-dir={}", self.profile.path().display());
        let _ = Command::new("pkill").args(["-KILL", "-f", "--", &profile]).status();
    }
}

/// A copy of the site's own `content/` in `dir` (the server records versions into its folder).
fn shipped_content(dir: &Path) -> std::path::PathBuf {
    let content = dir.join("content");
    common::copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../content"), &content);
    content
}

/// `serve --demo` over a copy of the site's content and a fresh SQLite database, in `work`.
struct Demo {
    server: Server,
    database_url: String,
    work: tempfile::TempDir,
}

impl Demo {
    fn start() -> Demo {
        let work = tempfile::tempdir().unwrap();
        let database_url = format!("sqlite://{}/demo.db", work.path().display());
        let content = shipped_content(work.path());
        let server = Server::start_demo(&content, &database_url, &work.path().join("outbox"));
        Demo { server, database_url, work }
    }

    fn base(&self) -> String {
        format!("http://{}", self.server.addr)
    }
}

/// Starts chromedriver and a headless Chromium session that saves downloads into `downloads`,
/// or `None` where they are not installed (in CI their absence is a failure: `.ci/run` installs
/// them).
async fn browser(downloads: &Path) -> Option<(Driver, Client)> {
    if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
        assert!(
            !common::must_run_everything(),
            "chromium and chromium-driver must be installed where every test must run"
        );
        eprintln!("chromium or chromedriver missing: the browser test did not run");
        return None;
    }
    let port = free_port();
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver {
        process: Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
        profile,
    };
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1000,1400", "--lang=ja",
                format!("--user-data-dir={}", driver.profile.path().display()),
            ],
            "prefs": {
                "intl.accept_languages": "ja",
                "download.default_directory": downloads,
                "download.prompt_for_download": false
            }
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    for _ in 0..100 {
        match ClientBuilder::new(connector.clone())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return Some((driver, client)),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("chromedriver did not accept a session on port {port}");
}

async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// The visible text of the first element matching `css`.
async fn text(client: &Client, css: &str) -> String {
    client.find(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

async fn click(client: &Client, css: &str) {
    client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

/// How wide the page's content is, in CSS pixels.
async fn content_width(client: &Client) -> u64 {
    let width = client.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap();
    width.as_u64().unwrap()
}

#[tokio::test]
async fn a_reader_checks_the_status_switches_language_and_reads_a_notice() {
    let downloads = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(downloads.path()).await else {
        return;
    };
    let copy = tempfile::tempdir().unwrap();
    let content = shipped_content(copy.path());
    let server = Server::start(&content, UNREACHABLE_DATABASE);
    let base = format!("http://{}", server.addr);

    // A Japanese browser gets the Japanese status page.
    client.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(text(&client, ".overall h1").await, "すべてのサービスは正常に稼働しています");
    assert_eq!(client.find_all(Locator::Css(".component-name")).await.unwrap().len(), 4);
    screenshot(&client, "status-ja").await;

    // The switch leads to the English page, and the choice sticks for unprefixed URLs.
    click(&client, ".lang-switch a[hreflang=en]").await;
    assert_eq!(text(&client, ".overall h1").await, "All systems operational");
    client.goto(&format!("{base}/notices")).await.unwrap();
    assert_eq!(text(&client, "main h1").await, "All notices");

    // The reference incident, opened from the list.
    click(&client, "a[href='/en/notices/2021-02-unsent-import-list-mail']").await;
    assert_eq!(text(&client, "article h1").await, "Some emails to imported recipient lists were not sent");
    let first = client.find(Locator::Css(".timeline li time")).await.unwrap();
    assert_eq!(first.text().await.unwrap(), "Wed, 24 Feb 2021 21:00 JST");
    assert_eq!(first.attr("datetime").await.unwrap().as_deref(), Some("2021-02-24T21:00:00+09:00"));
    assert!(text(&client, ".facts").await.contains("4 days 20 hours 35 minutes"));
    assert!(text(&client, ".markdown table").await.contains("76–148"));
    screenshot(&client, "notice-en").await;

    // On a 360 px phone nothing overflows sideways.
    client.set_window_size(360, 800).await.unwrap();
    for path in ["/ja/", "/ja/notices/2021-02-unsent-import-list-mail", "/en/notices"] {
        client.goto(&format!("{base}{path}")).await.unwrap();
        let viewport = client.execute("return window.innerWidth", vec![]).await.unwrap().as_u64().unwrap();
        assert!(content_width(&client).await <= viewport, "{path} is wider than the {viewport} px screen");
    }
    screenshot(&client, "notices-en-phone").await;

    client.close().await.unwrap();
}

/// The address and password of the demo's company user, from `statusdesk user list`.
fn demo_company_user(database_url: &str) -> String {
    let output = common::statusdesk()
        .args(["user", "list", "--format", "csv", "--database-url", database_url])
        .output()
        .unwrap();
    let list = String::from_utf8(output.stdout).unwrap();
    let line = list.lines().skip(1).find(|l| l.contains(",company,")).expect("a demo company user");
    line.split(',').next().unwrap().to_string()
}

/// Fills the login form on the current page with the demo company password and submits it,
/// keeping a screenshot of the filled form; waits for the portal.
async fn log_in(client: &Client, base: &str, email: &str, shot: &str) {
    log_in_with(client, base, email, "demo-company-password", shot, "/portal").await;
}

/// Logs the demo staff member in; waits for the console, where staff start.
async fn log_in_as_staff(client: &Client, base: &str, shot: &str) {
    log_in_with(client, base, "staff@demo.example", "demo-staff-password", shot, "/staff/notices").await;
}

/// [`log_in`] with another password, waiting for the page at `landing`.
async fn log_in_with(client: &Client, base: &str, email: &str, password: &str, shot: &str, landing: &str) {
    client.find(Locator::Css("input[name=email]")).await.unwrap().send_keys(email).await.unwrap();
    let field = client.find(Locator::Css("input[name=password]")).await.unwrap();
    field.send_keys(password).await.unwrap();
    screenshot(client, shot).await;
    click(client, "form.login button[type=submit]").await;
    client.wait().for_url(&format!("{base}{landing}").parse().unwrap()).await.unwrap();
}

/// The release of the incident banner with the most undelivered messages: (count, link).
async fn hardest_release(client: &Client) -> (i64, String) {
    let mut hardest = (0, String::new());
    for item in client.find_all(Locator::Css(".incident-banner li")).await.unwrap() {
        let count = item.find(Locator::Css(".count")).await.unwrap().text().await.unwrap();
        let count: i64 = count.chars().filter(char::is_ascii_digit).collect::<String>().parse().unwrap();
        let href = item.find(Locator::Css("a")).await.unwrap().attr("href").await.unwrap().unwrap();
        if count > hardest.0 {
            hardest = (count, href);
        }
    }
    hardest
}

#[tokio::test]
async fn a_company_user_finds_the_undelivered_messages_and_downloads_them() {
    let downloads = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(downloads.path()).await else {
        return;
    };
    let demo = Demo::start();
    let (base, email) = (demo.base(), demo_company_user(&demo.database_url));

    // The portal sends a visitor to the login form, and back after logging in.
    client.goto(&format!("{base}/portal")).await.unwrap();
    assert!(client.current_url().await.unwrap().path().ends_with("/login"));
    log_in(&client, &base, &email, "portal-login").await;

    // The banner names the incident and its releases; open the one it hit hardest.
    let banner = text(&client, ".incident-banner").await;
    assert!(
        banner.contains("インポートリスト宛てのメールの一部が配信されていなかった件について"),
        "{banner}"
    );
    screenshot(&client, "portal-home").await;
    let hardest = hardest_release(&client).await;
    assert_eq!(hardest.0, 148, "the reference incident's largest release");
    client.goto(&format!("{base}{}", hardest.1)).await.unwrap();

    // Only the undelivered recipients, then their CSV.
    let status = client.find(Locator::Css("select[name=status]")).await.unwrap();
    status.select_by_value("undelivered").await.unwrap();
    click(&client, "form.recipient-filter button[type=submit]").await;
    for _ in 0..50 {
        if client.current_url().await.unwrap().query().unwrap_or("").contains("status=undelivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(client.current_url().await.unwrap().query().unwrap_or("").contains("status=undelivered"));
    let rows = client.find_all(Locator::Css("table.recipients tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 100, "the first page of 148");
    for row in &rows {
        assert_ne!(row.attr("data-status").await.unwrap().as_deref(), Some("sent"));
    }
    screenshot(&client, "portal-release-undelivered").await;
    click(&client, "a.csv").await;
    let file =
        downloads.path().join(format!("release-{}-recipients.csv", hardest.1.rsplit('/').next().unwrap()));
    for _ in 0..100 {
        if file.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let csv = std::fs::read_to_string(&file).expect("the CSV was downloaded");
    assert!(csv.starts_with('\u{feff}'), "with a byte-order mark");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.iter().filter(|l| l.contains(",not_sent,")).count(), 148, "every unsent message");
    assert!(!lines.iter().any(|l| l.contains(",sent,")), "and nothing that was delivered");

    client.close().await.unwrap();
}

#[tokio::test]
async fn a_company_user_redelivers_the_unsent_messages_and_sees_them_sent() {
    let downloads = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(downloads.path()).await else {
        return;
    };
    let demo = Demo::start();
    let (base, email) = (demo.base(), demo_company_user(&demo.database_url));
    let outbox = demo.work.path().join("outbox");

    client.goto(&format!("{base}/login")).await.unwrap();
    log_in(&client, &base, &email, "portal-login-again").await;

    // The release the incident hit hardest, its unsent messages only.
    let hardest = hardest_release(&client).await;
    client.goto(&format!("{base}{}?status=not_sent", hardest.1)).await.unwrap();
    click(&client, "form.redeliver button[value=filter]").await;
    let summary = client.wait().for_element(Locator::Css("p.summary")).await.unwrap().text().await.unwrap();
    assert_eq!(summary, "148件の宛先に、148件のメールを再送します。");
    screenshot(&client, "redeliver-confirm").await;
    click(&client, "form.redeliver-confirm button[type=submit]").await;

    // The page follows the dispatcher by itself until every message is sent. It reloads itself
    // meanwhile, so a section found just before a reload is gone when read: look again.
    let mut progress = String::new();
    for _ in 0..60 {
        if let Ok(section) = client.find(Locator::Css("section.redeliveries")).await {
            if let Ok(text) = section.text().await {
                progress = text;
            }
            if progress.contains("完了") {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(progress.contains("完了") && progress.contains("再送済み: 148"), "{progress}");
    screenshot(&client, "redeliver-done").await;
    client.goto(&format!("{base}{}?status=not_sent", hardest.1)).await.unwrap();
    let remaining = client.find_all(Locator::Css("table.recipients tbody tr")).await.unwrap();
    assert!(remaining.is_empty(), "no unsent recipient is left on the filtered page");
    assert_eq!(
        std::fs::read_dir(outbox)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with("-g1.eml"))
            .count(),
        148
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn staff_add_the_cause_to_the_incident_and_readers_see_it_with_its_revision() {
    let downloads = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(downloads.path()).await else {
        return;
    };
    let demo = Demo::start();
    let base = demo.base();
    const INCIDENT: &str = "2021-02-unsent-import-list-mail";

    client.goto(&format!("{base}/login")).await.unwrap();
    log_in_as_staff(&client, &base, "staff-login").await;

    // The incident's impact, computed from the replay for the notice's scope.
    click(&client, &format!("a[href='/staff/notices/{INCIDENT}/impact']")).await;
    let figures = client.wait().for_element(Locator::Css("main dl.facts + p.as-of + dl.facts")).await;
    let figures = match figures {
        Ok(found) => found.text().await.unwrap(),
        Err(_) => text(&client, "main").await,
    };
    for figure in ["企業\n117", "リリース\n228", "未配信のメール\n2,310 / "] {
        assert!(figures.contains(figure), "{figure:?} in {figures}");
    }
    let affected = client.find_all(Locator::Css("table.affected tbody tr")).await.unwrap();
    assert_eq!(affected.len(), 117, "one row per affected company");
    screenshot(&client, "staff-impact").await;

    // Tell them: one email each, in its language, sent by the demo's dispatcher.
    click(&client, "form.notify button[type=submit]").await;
    let told = client.wait().for_element(Locator::Css("p.message.info")).await.unwrap().text().await.unwrap();
    assert_eq!(told, "通知メールを送信待ちに入れた企業の数: 117");
    let outbox = demo.work.path().join("outbox");
    let emails = || {
        std::fs::read_dir(&outbox).map_or(0, |files| {
            files
                .filter(|f| f.as_ref().unwrap().file_name().to_string_lossy().starts_with("incident-"))
                .count()
        })
    };
    for _ in 0..100 {
        if emails() == 117 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(emails(), 117, "every affected company was emailed once");
    client.goto(&format!("{base}/staff/notices")).await.unwrap();
    click(&client, &format!("a[href='/staff/notices/{INCIDENT}/update']")).await;

    // The incident is resolved: the cause comes as an entry after it, with its reason and a
    // note for the new version. The time stays at its default, now.
    client.wait().for_element(Locator::Css("form.notice-update")).await.unwrap();
    let field = |name: &'static str| client.find(Locator::Css(name));
    field("textarea[name=text]")
        .await
        .unwrap()
        .send_keys("原因は送信経路の切り替え時の設定漏れでした。再発防止策を実施しました。")
        .await
        .unwrap();
    field("textarea[name=text_en]")
        .await
        .unwrap()
        .send_keys("The cause was a setting missed when the route changed.")
        .await
        .unwrap();
    field("input[name=reason]").await.unwrap().send_keys("原因と再発防止策を追記").await.unwrap();
    field("input[name=note]").await.unwrap().send_keys("原因と対策を追記").await.unwrap();
    screenshot(&client, "staff-add-update").await;
    click(&client, "form.notice-update button[type=submit]").await;
    let Ok(confirmed) = client.wait().for_element(Locator::Css("p.message.info")).await else {
        panic!("not published: {}", text(&client, "main").await);
    };
    let confirmed = confirmed.text().await.unwrap();
    assert!(confirmed.starts_with("公開しました: "), "{confirmed}");

    // Readers see the entry at once, that the notice was revised, and what changed.
    client.goto(&format!("{base}/ja/notices/{INCIDENT}")).await.unwrap();
    let notice = text(&client, "article.notice").await;
    assert!(notice.contains("原因は送信経路の切り替え時の設定漏れでした。"), "{notice}");
    assert!(
        notice.contains("このお知らせは 1 回改訂されました") && notice.contains("原因と対策を追記"),
        "{notice}"
    );
    screenshot(&client, "notice-revised").await;
    click(&client, &format!("a[href='/ja/notices/{INCIDENT}/revisions/2']")).await;
    let changes = client.wait().for_element(Locator::Css("pre.diff")).await.unwrap().text().await.unwrap();
    assert!(changes.contains("+reason = \"原因と再発防止策を追記\""), "{changes}");
    client.close().await.unwrap();
}

/// Types `text` into the field `css` of the current page.
async fn type_into(client: &Client, css: &str, text: &str) {
    client.find(Locator::Css(css)).await.unwrap().send_keys(text).await.unwrap();
}

/// Submits with the button `css` and waits for the confirmation the next page shows.
async fn submit_and_confirm(client: &Client, css: &str) -> String {
    let before = client.current_url().await.unwrap();
    click(client, css).await;
    for _ in 0..100 {
        if client.current_url().await.unwrap() != before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    match client.wait().for_element(Locator::Css("p.message.info")).await {
        Ok(confirmed) => confirmed.text().await.unwrap(),
        Err(_) => panic!("not confirmed: {}", text(client, "main").await),
    }
}

#[tokio::test]
async fn staff_run_an_incidents_whole_communication_from_the_browser() {
    let downloads = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(downloads.path()).await else {
        return;
    };
    let demo = Demo::start();
    let base = demo.base();
    const SLUG: &str = "import-list-mail-unsent";
    client.goto(&format!("{base}/login")).await.unwrap();
    log_in_as_staff(&client, &base, "staff-login-whole").await;

    // 1. The first notice: every field in a form, previewed, then published.
    click(&client, "a[href='/staff/notices/new']").await;
    client.wait().for_element(Locator::Css("form.notice-editor")).await.unwrap();
    type_into(&client, "#slug", SLUG).await;
    type_into(&client, "#title", "インポートリスト宛てのメールの一部が配信されていません").await;
    type_into(&client, "#title_en", "Some emails to import lists are not delivered").await;
    // How bad it is, chosen (the status is an incident's first, "investigating", unless chosen).
    client.find(Locator::Css("#severity")).await.unwrap().select_by_value("major").await.unwrap();
    click(&client, "input[name=components][value=email-delivery]").await;
    type_into(&client, "#body", "一部のメールが配信されていないことを確認し、調査しています。").await;
    type_into(&client, "#body_en", "Some emails are not being delivered; we are investigating.").await;
    click(&client, "button[name=intent][value=preview]").await;
    let preview =
        client.wait().for_element(Locator::Css("section.previews")).await.unwrap().text().await.unwrap();
    assert!(preview.contains("Some emails to import lists are not delivered"), "{preview}");
    screenshot(&client, "staff-new-notice-preview").await;
    let published = submit_and_confirm(&client, "button[name=intent][value=publish]").await;
    assert!(published.starts_with("公開しました: "), "{published}");

    // 2. An update.
    click(&client, &format!("a[href='/staff/notices/{SLUG}/update']")).await;
    client.wait().for_element(Locator::Css("form.notice-update")).await.unwrap();
    client
        .find(Locator::Css("select[name=status]"))
        .await
        .unwrap()
        .select_by_value("identified")
        .await
        .unwrap();
    type_into(&client, "textarea[name=text]", "原因を特定しました。送信経路の設定を修正しています。").await;
    submit_and_confirm(&client, "form.notice-update button[type=submit]").await;

    // 3. The impact: the window typed and computed; then an error class among those the
    // database has in that window; computed again, then attached to the notice.
    client.goto(&format!("{base}/staff/notices/{SLUG}/impact")).await.unwrap();
    client
        .execute(
            "document.getElementById('from').value = '2021-02-24T21:00';
             document.getElementById('to').value = '2021-03-01T17:35';",
            vec![],
        )
        .await
        .unwrap();
    submit_and_confirm(&client, "form.scope button[type=submit]").await;
    client
        .find(Locator::Css("select[name=error_class]"))
        .await
        .unwrap()
        .select_by_value("sender_domain_unverified")
        .await
        .unwrap();
    let computed = submit_and_confirm(&client, "form.scope button[type=submit]").await;
    assert!(computed.contains("入力した範囲"), "{computed}");
    let figures = text(&client, "main").await;
    assert!(figures.contains("企業\n117") && figures.contains("2,310 / "), "{figures}");
    let attached = submit_and_confirm(&client, "form.attach button[type=submit]").await;
    assert_eq!(attached, "範囲をお知らせに添付しました。");

    // 4. Every affected company told, once.
    let told = submit_and_confirm(&client, "form.notify button[type=submit]").await;
    assert_eq!(told, "通知メールを送信待ちに入れた企業の数: 117");

    // 5. The later version: cause and countermeasures, resolved.
    client.goto(&format!("{base}/staff/notices/{SLUG}/update")).await.unwrap();
    client
        .find(Locator::Css("select[name=status]"))
        .await
        .unwrap()
        .select_by_value("resolved")
        .await
        .unwrap();
    type_into(
        &client,
        "textarea[name=text]",
        "原因: 送信経路の切り替え時の設定漏れ。対策: 切り替え手順に確認を追加しました。",
    )
    .await;
    type_into(&client, "input[name=note]", "原因と対策を追記").await;
    submit_and_confirm(&client, "form.notice-update button[type=submit]").await;

    // Readers see all of it; every step is in the audit log.
    client.goto(&format!("{base}/ja/notices/{SLUG}")).await.unwrap();
    let notice = text(&client, "article.notice").await;
    for expected in [
        "117 社の 228 件のリリースで、2,310 通のメールが配信されませんでした。",
        "原因を特定しました。",
        "対策: 切り替え手順に確認を追加しました。",
        "このお知らせは 3 回改訂されました",
        "原因と対策を追記",
    ] {
        assert!(notice.contains(expected), "{expected:?} in {notice}");
    }
    screenshot(&client, "notice-whole-communication").await;
    // Each step is in the audit log; telling the companies, once per company.
    for action in ["notice.create", "notice.update", "notice.impact", "incident.notify"] {
        client.goto(&format!("{base}/staff/audit?action={action}")).await.unwrap();
        let audit = text(&client, "table.audit").await;
        assert!(audit.contains(action), "{action} in {audit}");
    }
    client.close().await.unwrap();
}
