//! The staff console through the router, on SQLite and on PostgreSQL: who may use it, "add
//! update" publishing a timeline entry at once, the refusal of a save on a version that changed
//! meanwhile (with the changes), linter errors shown next to their field with nothing written,
//! and the audit log's filters and pages.

mod common;

use axum::http::StatusCode;
use common::TestResponse;
use common::portal::*;
use statusdesk::http::HttpOptions;

const OUTAGE: &str = "/staff/notices/delivery-outage/update";
const IMPACT: &str = "/staff/notices/delivery-outage/impact";
const EDIT: &str = "/staff/notices/delivery-outage/edit";

fn outage_file(app: &PortalApp) -> String {
    std::fs::read_to_string(app.content.join("notices/delivery-outage.md")).unwrap()
}

/// What an "add update" form carries: its CSRF token, the file's version (SHA-256) and text.
struct Opened {
    csrf: String,
    version: String,
    original: String,
}

impl Opened {
    fn from_page(html: &str) -> Opened {
        Opened {
            csrf: hidden_field(html, "csrf"),
            version: hidden_field(html, "version"),
            original: hidden_field(html, "original"),
        }
    }
}

/// Opens the "add update" form of the outage notice.
async fn open_form(browser: &mut Browser) -> Opened {
    let form = browser.get(OUTAGE).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
    Opened::from_page(&form.text())
}

async fn post_update(browser: &mut Browser, opened: &Opened, at: &str, text: &str) -> TestResponse {
    let fields = [
        ("csrf", opened.csrf.as_str()),
        ("version", &opened.version),
        // As browsers post a multi-line field.
        ("original", &opened.original.replace('\n', "\r\n")),
        ("at", at),
        ("status", "monitoring"),
        ("text", text),
        ("text_en", "A fix is in place; we are watching."),
        ("note", "対処の状況を追記"),
    ];
    browser.post(OUTAGE, &fields, &[("origin", "http://portal.test")]).await
}

#[tokio::test]
async fn only_staff_reach_the_console() {
    let dir = tempfile::tempdir().unwrap();
    for url in database_urls(dir.path()).await {
        let app = PortalApp::start(&url, HttpOptions::default()).await;
        let anonymous = app.browser().get("/staff/notices").await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "{url}");
        let before = outage_file(&app);

        let mut company = app.session_for(ACME_USER).await;
        for path in ["/staff", "/staff/notices", OUTAGE, IMPACT, "/staff/audit", "/staff/anything"] {
            let response = company.get(path).await;
            assert_eq!(response.status, StatusCode::NOT_FOUND, "{url}: {path}");
            let html = response.text();
            assert!(
                html.contains("<span class=\"portal-name\">企業ポータル</span>"),
                "as if it did not exist: {html}"
            );
        }
        let csrf = company.csrf().await;
        let guessed = Opened { csrf, version: String::new(), original: before.clone() };
        let posted = post_update(&mut company, &guessed, "2021-03-01T17:00", "x").await;
        assert_eq!(posted.status, StatusCode::NOT_FOUND, "{url}");
        assert_eq!(outage_file(&app), before, "{url}: nothing written");

        let mut staff = app.session_for(STAFF_USER).await;
        let list = staff.get("/staff/notices").await;
        assert_eq!(list.status, StatusCode::OK, "{url}");
        let html = list.text();
        assert!(html.contains("メール配信の停止") && html.contains(OUTAGE), "{html}");
        assert!(html.contains("<span class=\"portal-name\">スタッフ用コンソール</span>"), "{html}");
        // The fixture's maintenance, planned for 2077, is `scheduled` as its file says.
        let row = html.split("<tr>").find(|row| row.contains("API メンテナンス")).expect("its row");
        assert!(row.contains("<td>予定</td>"), "{row}");
        assert!(!html.contains("badge shown-publicly"), "{html}");
        assert!(
            !html.contains("/staff/notices/japanese-only/update"),
            "an announcement has no status to update"
        );
        let missing = staff.get("/staff/notices/japanese-only/update").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        // An announcement takes no updates: not found, not "deleted meanwhile".
        let csrf = staff.csrf().await;
        let posted = staff
            .post(
                "/staff/notices/japanese-only/update",
                &[("csrf", csrf.as_str()), ("text", "x")],
                &[("origin", "http://portal.test")],
            )
            .await;
        assert_eq!(posted.status, StatusCode::NOT_FOUND);
        assert!(!posted.text().contains("保存していません"), "{}", posted.text());
        // Within the console, a page not found leads back to the notices, not to the portal.
        assert!(
            missing.text().contains("<a href=\"/staff/notices\">お知らせの一覧へ</a>"),
            "{}",
            missing.text()
        );

        // Staff who log in start at the console.
        let mut browser = app.browser();
        let logged_in = browser.log_in(STAFF_USER, PASSWORD).await;
        assert_eq!(header(&logged_in.headers, "location"), "/staff/notices", "{url}");
    }
}

#[tokio::test]
async fn an_update_is_appended_and_published_at_once() {
    let dir = tempfile::tempdir().unwrap();
    for url in database_urls(dir.path()).await {
        let app = PortalApp::start(&url, HttpOptions::default()).await;
        let mut staff = app.session_for(STAFF_USER).await;
        let opened = open_form(&mut staff).await;
        assert_eq!(opened.original, outage_file(&app), "{url}: the form stands on the file as it is");

        let posted =
            post_update(&mut staff, &opened, "2021-03-01T17:05", "修正を適用し、様子を見ています。").await;
        assert_eq!(posted.status, StatusCode::SEE_OTHER, "{url}: {}", posted.text());
        assert_eq!(header(&posted.headers, "location"), "/staff/notices?updated=delivery-outage");
        let file = outage_file(&app);
        assert!(file.contains("status = \"monitoring\"\nseverity"), "{file}");
        assert!(
            file.contains(
                "\n[[timeline]]\nat = 2021-03-01T17:05:00+09:00\nstatus = \"monitoring\"\ntext = \"修正を適用し、様子を見ています。\"\ntext_en = \"A fix is in place; we are watching.\"\n+++\n"
            ),
            "the entry closes the front matter: {file}"
        );
        // Published in the same step: the public pages already show it.
        let public = staff.get("/en/notices/delivery-outage").await.text();
        assert!(public.contains("A fix is in place; we are watching."), "{public}");
        let listed = staff.get("/staff/notices?updated=delivery-outage").await.text();
        assert!(listed.contains("公開しました: メール配信の停止"), "{listed}");
        assert_eq!(app.audited("notice.update").await, 1, "{url}");

        // A new version, by its author, with the note; the public page lists the versions.
        let version =
            std::fs::read_to_string(app.content.join(".revisions/delivery-outage/0002.toml")).unwrap();
        assert!(version.contains("author = \"support@statusdesk.example\""), "{version}");
        let public = staff.get("/ja/notices/delivery-outage").await.text();
        assert!(
            public.contains("このお知らせは 1 回改訂されました") && public.contains("対処の状況を追記"),
            "{public}"
        );
        let changes = staff.get("/ja/notices/delivery-outage/revisions/2").await.text();
        assert!(changes.contains("+status = \"monitoring\""), "{changes}");
        assert!(changes.contains("+text = \"修正を適用し、様子を見ています。\""), "{changes}");
    }
}

#[tokio::test]
async fn a_save_on_a_version_changed_meanwhile_is_refused_with_the_changes() {
    let dir = tempfile::tempdir().unwrap();
    for url in database_urls(dir.path()).await {
        let app = PortalApp::start(&url, HttpOptions::default()).await;
        let mut first = app.session_for(STAFF_USER).await;
        let mut second = app.session_for(STAFF_USER).await;
        let opened1 = open_form(&mut first).await;
        let opened2 = open_form(&mut second).await;
        let saved = post_update(&mut first, &opened1, "2021-03-01T17:05", "一つ目の報告").await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{url}");
        let after_first = outage_file(&app);

        let refused = post_update(&mut second, &opened2, "2021-03-01T17:06", "二つ目の報告").await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{url}");
        let html = refused.text();
        assert!(html.contains("開いた後に、このお知らせは変更されています"), "{html}");
        assert!(html.contains("+text = \"一つ目の報告\""), "the diff shows the other save: {html}");
        assert!(html.contains(">\n二つ目の報告</textarea>"), "what was typed is kept: {html}");
        assert_eq!(outage_file(&app), after_first, "{url}: never a silent overwrite");

        // Publishing again from the refused form is a deliberate choice on the new version.
        let now_on = Opened::from_page(&html);
        assert_eq!(now_on.original, after_first);
        let again = post_update(&mut second, &now_on, "2021-03-01T17:06", "二つ目の報告").await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "{url}");
        let file = outage_file(&app);
        assert!(file.contains("一つ目の報告") && file.contains("二つ目の報告"), "{file}");
    }
}

#[tokio::test]
async fn linter_errors_come_back_next_to_their_field_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    for url in database_urls(dir.path()).await {
        let app = PortalApp::start(&url, HttpOptions::default()).await;
        let mut staff = app.session_for(STAFF_USER).await;
        let opened = open_form(&mut staff).await;

        // Before the entries already there: the timeline would go back in time.
        let early = post_update(&mut staff, &opened, "2021-03-01T15:00", "早すぎる報告").await;
        assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let html = early.text();
        let at_problems = html.split("id=\"at-problems\"").nth(1).expect("problems next to the time field");
        let at_problems = at_problems.split("</ul>").next().unwrap();
        assert!(
            at_problems.contains("最新の経過より前の日時です")
                && at_problems.contains("2021年3月1日")
                && !at_problems.contains("行目"),
            "in the form's words, not the file's: {at_problems}"
        );
        assert!(html.contains(">\n早すぎる報告</textarea>"), "what was typed is kept: {html}");
        assert!(html.contains("value=\"2021-03-01T15:00\""), "{html}");
        let at = control_tag(&html, "at");
        assert!(at.contains("aria-invalid=\"true\" aria-describedby=\"at-problems\""), "{at}");
        assert!(!control_tag(&html, "text").contains("aria-invalid"), "{html}");

        // An entry tells what happened: not what has not yet.
        let ahead = post_update(&mut staff, &opened, "2099-01-01T00:00", "未来の報告").await;
        assert_eq!(ahead.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert!(field_problems(&ahead.text(), "at").contains("まだ来ていない日時です"), "{}", ahead.text());

        let garbled = post_update(&mut staff, &opened, "yesterday", "").await;
        assert_eq!(garbled.status, StatusCode::UNPROCESSABLE_ENTITY);
        let html = garbled.text();
        assert!(html.contains("id=\"at-problems\"") && html.contains("id=\"text-problems\""), "{html}");
        assert_eq!(outage_file(&app), opened.original, "{url}: nothing written");
        assert_eq!(app.audited("notice.update").await, 0);
    }
}

/// The start tag of the form control whose id is `id`.
fn control_tag<'h>(html: &'h str, id: &str) -> &'h str {
    let at = html.find(&format!(" id=\"{id}\"")).expect("the control");
    let start = html[..at].rfind('<').unwrap();
    &html[start..at + html[at..].find('>').unwrap() + 1]
}

/// The rows of an audit page.
fn audit_rows(html: &str) -> usize {
    html.split("<tbody>").nth(1).map_or(0, |body| body.matches("<tr>").count())
}

#[tokio::test]
async fn the_audit_log_is_filtered_and_paged() {
    use statusdesk::store::portal::AuditEntry;
    let dir = tempfile::tempdir().unwrap();
    for url in database_urls(dir.path()).await {
        let app = PortalApp::start(&url, HttpOptions::default()).await;
        let acme = app.store.company("acme").await.unwrap().unwrap();
        let bravo = app.store.company("bravo").await.unwrap().unwrap();
        // 130 lines: every tenth an export by Acme's CEO, the rest views of Bravo by staff.
        for n in 0..130 {
            let (actor, action, company) = if n % 10 == 0 {
                (ACME_COLLEAGUE, "portal.export", &acme)
            } else {
                (STAFF_USER, "portal.view", &bravo)
            };
            let entry = AuditEntry {
                actor_id: None,
                actor: actor.into(),
                action: action.into(),
                company_id: Some(company.id),
                target: Some(format!("/portal/releases/{n}")),
                detail: None,
            };
            app.store.record_audit(&entry).await.unwrap();
        }
        let mut staff = app.session_for(STAFF_USER).await;
        let first = staff.get("/staff/audit").await;
        assert_eq!(first.status, StatusCode::OK, "{url}");
        let html = first.text();
        assert_eq!(audit_rows(&html), 100, "{url}: a page");
        assert!(html.contains("/portal/releases/129"), "newest first");
        assert!(
            html.contains("<td>スタッフによる閲覧 <code>portal.view</code></td>"),
            "named, with its code: {html}"
        );
        let older = html.split("rel=\"next\"").next().unwrap().rsplit("href=\"").next().unwrap().to_string();
        let older = older.split('"').next().unwrap().replace("&amp;", "&");
        let second = staff.get(&older).await.text();
        assert_eq!(audit_rows(&second), 30, "{url}: the rest, none twice");
        assert!(second.contains("/portal/releases/0<") && !second.contains("rel=\"next\""), "{second}");

        let exports = staff.get("/staff/audit?action=portal.export").await.text();
        assert_eq!(audit_rows(&exports), 13, "{url}");
        let by_ceo = staff.get("/staff/audit?actor=CEO%40ACME").await.text();
        assert_eq!(audit_rows(&by_ceo), 13, "{url}: any case, part of the address");
        let bravo_views = staff.get("/staff/audit?company=bravo&action=portal.view").await.text();
        assert_eq!(audit_rows(&bravo_views), 100, "{url}");
        let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d").to_string();
        let none = staff.get(&format!("/staff/audit?from={tomorrow}")).await.text();
        assert_eq!(audit_rows(&none), 0, "{url}");
        assert!(none.contains("条件に合う記録はありません。"));

        let bad = staff.get("/staff/audit?from=yesterday&company=nobody").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let html = bad.text();
        assert!(html.contains("id=\"from-problems\"") && html.contains("`yesterday`"), "{html}");
        assert!(html.contains("id=\"company-problems\"") && html.contains("`nobody`"), "{html}");
        assert!(html.contains("value=\"nobody\""), "what was typed is kept");
        let reversed = staff.get("/staff/audit?from=2021-03-02&to=2021-03-01").await;
        assert_eq!(reversed.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let to_problems = reversed.text().split("id=\"to-problems\"").nth(1).map(str::to_string);
        assert!(to_problems.is_some_and(|p| p.contains("開始日が終了日より後になっています")));
    }
}

#[tokio::test]
async fn an_entry_after_the_resolution_needs_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/portal.db", dir.path().display());
    let app = PortalApp::start(&url, HttpOptions::default()).await;
    let mut staff = app.session_for(STAFF_USER).await;
    const RESOLVED: &str = "/staff/notices/slow-api/update";
    let form = staff.get(RESOLVED).await.text();
    // News after the resolution leaves the status as it is, unless staff choose one.
    assert!(form.contains("<option value=\"\" selected>状況は変えない (解決済み)</option>"), "{form}");
    let opened = Opened::from_page(&form);
    let post = |reason: &'static str| {
        [
            ("csrf", opened.csrf.clone()),
            ("version", opened.version.clone()),
            ("original", opened.original.clone()),
            ("at", "2021-03-05T12:00".to_string()),
            ("status", String::new()),
            ("text", "原因と再発防止策を追記しました。".to_string()),
            ("text_en", "Cause and countermeasures added.".to_string()),
            ("reason", reason.to_string()),
            ("reason_en", "Cause added".to_string()),
        ]
    };
    let fields = post("");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = staff.post(RESOLVED, &pairs, &[("origin", "http://portal.test")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text();
    let reason =
        html.split("id=\"reason-problems\"").nth(1).expect("the problem is next to the reason field");
    // In the form's words, not the file's key.
    let said = reason.split("</ul>").next().unwrap();
    assert!(
        said.contains("解決した後の経過には、追記する理由を書いてください") && !said.contains("`reason`"),
        "{html}"
    );

    let fields = post("原因と再発防止策を追記");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let published = staff.post(RESOLVED, &pairs, &[("origin", "http://portal.test")]).await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.text());
    let file = std::fs::read_to_string(app.content.join("notices/slow-api.md")).unwrap();
    assert!(
        file.contains("at = 2021-03-05T12:00:00+09:00\ntext = \"原因と再発防止策を追記しました。\"\ntext_en = \"Cause and countermeasures added.\"\nreason = \"原因と再発防止策を追記\"\nreason_en = \"Cause added\"\n+++"),
        "{file}"
    );
    assert_eq!(file.matches("status = \"resolved\"").count(), 2, "no second resolution: {file}");
    let english = staff.get("/en/notices/slow-api").await.text();
    assert!(english.contains("Cause added") && !english.contains("原因と再発防止策を追記"), "{english}");
}

#[tokio::test]
async fn an_incident_shows_its_impact_from_the_database_with_each_company_followed_up() {
    let dir = tempfile::tempdir().unwrap();
    for url in database_urls(dir.path()).await {
        let app = PortalApp::start(&url, HttpOptions::default()).await;
        let mut staff = app.session_for(STAFF_USER).await;
        let list = staff.get("/staff/notices").await.text();
        assert!(list.contains(IMPACT), "{url}: the list links the impact of incidents with a scope");

        // The fixture's scope: one day, sender_domain_unverified. Acme: the big release's 25 and
        // one more; Bravo: one in each of its two releases. 282 messages in the window in all.
        let acme = app.store.company("acme").await.unwrap().unwrap();
        app.store.leave_incident(acme.id, "delivery-outage", None, false, chrono::Utc::now()).await.unwrap();
        // Acme redelivers one message of the incident from its release page all the same: the
        // row counts it once it is delivered, whoever asked.
        let first_unsent = 7;
        let request = statusdesk::store::redelivery::NewRequest {
            company_id: acme.id,
            release_id: Some(BIG_RELEASE),
            requested_by: None,
            on_behalf_reason: None,
            idempotency_key: "release-page".into(),
            daily_cap: 100,
            day_started_at: chrono::Utc::now() - chrono::Duration::hours(1),
            messages: vec![first_unsent],
            incident: None,
        };
        app.store.request_redelivery(&request, chrono::Utc::now()).await.unwrap();
        let outbox = dir.path().join(format!("outbox-{}", url.len()));
        let mailer = statusdesk::dispatch::Mailer::outbox(outbox).unwrap();
        let dispatcher = statusdesk::dispatch::Dispatcher::new(app.store.clone(), mailer, Default::default());
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        dispatcher.run(stopped, true).await.unwrap();

        let page = staff.get(IMPACT).await;
        assert_eq!(page.status, StatusCode::OK, "{url}");
        let html = page.text();
        assert!(html.contains("sender_domain_unverified"), "the scope is shown: {html}");
        assert!(html.contains("<dd>28 / 282</dd>"), "{url}: {html}");
        let row = |slug: &str| {
            let start = html.find(&format!("<span class=\"slug\">{slug}</span>")).expect("a row per company");
            html[start..].split("</tr>").next().unwrap().to_string()
        };
        let acme_row = row("acme");
        assert!(acme_row.contains("pr@acme.example") && acme_row.contains(">26<"), "{acme_row}");
        assert!(acme_row.contains("再送しない"), "the company's answer: {acme_row}");
        assert!(acme_row.contains(">1 / 26<"), "redelivered since: {acme_row}");
        let bravo_row = row("bravo");
        assert!(bravo_row.contains("pr@bravo.example") && bravo_row.contains("未回答"), "{bravo_row}");
        assert!(bravo_row.contains(">0 / 2<"), "{bravo_row}");

        let without = staff.get("/staff/notices/slow-api/impact").await.text();
        assert!(without.contains("影響の範囲 ([impact]) が書かれていません"), "{without}");
        assert_eq!(staff.get("/staff/notices/nothing/impact").await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn affected_companies_are_told_once_per_version_in_their_language() {
    use statusdesk::dispatch::{DispatchSettings, Dispatcher, Mailer, NoticeSettings};
    let dir = tempfile::tempdir().unwrap();
    for url in database_urls(dir.path()).await {
        let app = PortalApp::start(&url, HttpOptions::default()).await;
        const NOTIFY: &str = "/staff/notices/delivery-outage/notify";
        let mut company = app.session_for(ACME_USER).await;
        let csrf = company.csrf().await;
        let refused = company.post(NOTIFY, &[("csrf", &csrf)], &[("origin", "http://portal.test")]).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{url}: staff only");

        let mut staff = app.session_for(STAFF_USER).await;
        let csrf = staff.csrf().await;
        let notify = async |staff: &mut Browser| {
            let told = staff.post(NOTIFY, &[("csrf", &csrf)], &[("origin", "http://portal.test")]).await;
            assert_eq!(told.status, StatusCode::SEE_OTHER, "{url}: {}", told.text());
            header(&told.headers, "location").to_string()
        };
        let before = staff.get("/staff/notices/delivery-outage/impact").await.text();
        assert!(
            before.contains("この版をまだ通知していない影響企業 2 社にメールで通知する (第 1 版)"),
            "how many, before: {before}"
        );
        assert_eq!(notify(&mut staff).await, "/staff/notices/delivery-outage/impact?notified=2", "{url}");
        assert_eq!(
            notify(&mut staff).await,
            "/staff/notices/delivery-outage/impact?notified=0",
            "{url}: never twice for the same version"
        );
        let again = staff.get("/staff/notices/delivery-outage/impact?notified=0").await.text();
        assert!(again.contains("新しく通知した企業はありません。どの企業もこの版を通知済みか"), "{again}");
        let page = staff.get("/staff/notices/delivery-outage/impact?notified=2").await.text();
        assert!(page.contains("通知メールを送信待ちに入れた企業の数: 2"), "{page}");
        let acme_row =
            page.split("<span class=\"slug\">acme</span>").nth(1).unwrap().split("</tr>").next().unwrap();
        assert!(acme_row.contains("<time"), "when it was told: {acme_row}");
        assert!(
            page.contains("影響を受けたすべての企業に、この版を通知済みです")
                && !page.contains("class=\"notify\""),
            "nobody is left to tell: {page}"
        );

        // A new version of the notice: companies may be told again, once, as an update; the list
        // says when they were told of the earlier one.
        let opened = open_form(&mut staff).await;
        assert_eq!(
            post_update(&mut staff, &opened, "2021-03-01T17:05", "原因を特定しました。").await.status,
            StatusCode::SEE_OTHER
        );
        let page = staff.get("/staff/notices/delivery-outage/impact").await.text();
        assert!(
            page.contains(
                "この版をまだ通知していない影響企業 2 社にメールで通知する（うち 2 社へは続報として）"
            ),
            "{page}"
        );
        let acme_row =
            page.split("<span class=\"slug\">acme</span>").nth(1).unwrap().split("</tr>").next().unwrap();
        assert!(acme_row.contains("<span class=\"earlier\">前の版を通知: <time"), "{acme_row}");
        assert_eq!(notify(&mut staff).await, "/staff/notices/delivery-outage/impact?notified=2", "{url}");
        // One line per company told, each time it was: filtered by the company too.
        assert_eq!(app.audited("incident.notify").await, 4);
        let log = staff.get("/staff/audit?company=acme&action=incident.notify").await.text();
        assert_eq!(log.matches("emailed to pr@acme.example").count(), 2, "{log}");
        // Version 2's email says it is an update to a company told of version 1 only.
        let acme_only = ["acme".to_string()];
        let told = |revision| app.store.incident_companies("delivery-outage", revision, &acme_only);
        assert!(told(2).await.unwrap()[0].told_before_at.is_some(), "{url}");
        assert!(told(1).await.unwrap()[0].told_before_at.is_none(), "{url}");

        // The dispatcher sends them: in the company's language, naming its releases.
        let outbox = dir.path().join(format!("outbox-{}", url.len()));
        let notices = NoticeSettings {
            from: "statusdesk <noreply@status.test>".parse().unwrap(),
            portal_url: "http://127.0.0.1:3000".into(),
            site: None,
        };
        let dispatcher = Dispatcher::new(
            app.store.clone(),
            Mailer::outbox(outbox.clone()).unwrap(),
            DispatchSettings::default(),
        )
        .with_notices(notices.clone());
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        dispatcher.run(stopped, true).await.unwrap();
        let mut sent: Vec<String> = std::fs::read_dir(&outbox)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        sent.sort();
        assert_eq!(
            sent,
            [
                "incident-delivery-outage-v1-1.eml",
                "incident-delivery-outage-v1-2.eml",
                "incident-delivery-outage-v2-1.eml",
                "incident-delivery-outage-v2-2.eml"
            ],
            "{url}"
        );
        let acme = std::fs::read_to_string(outbox.join("incident-delivery-outage-v1-1.eml")).unwrap();
        assert!(
            acme.contains("To: pr@acme.example")
                && acme.contains("Message-ID: <incident.delivery-outage.1.1@status.test>"),
            "{acme}"
        );
        assert!(acme.contains("multipart/alternative"), "{acme}");
        let again = Dispatcher::new(
            app.store.clone(),
            Mailer::outbox(outbox.clone()).unwrap(),
            DispatchSettings::default(),
        )
        .with_notices(notices);
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        again.run(stopped, true).await.unwrap();
        assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), 4, "each sent once");
    }
}

#[tokio::test]
async fn the_public_notice_shows_the_incidents_figures_as_of_when_they_were_computed() {
    let dir = tempfile::tempdir().unwrap();
    for url in database_urls(dir.path()).await {
        let app = PortalApp::start(&url, HttpOptions::default()).await;
        let before = app.browser().get("/ja/notices/delivery-outage").await.text();
        assert!(!before.contains("class=\"impact\""), "nothing computed yet");

        let refreshed = statusdesk::delivery::figures::refresh(app.store.as_ref(), &app.site).await.unwrap();
        assert_eq!(refreshed, 1, "{url}: the one incident with a scope");
        let page = app.browser().get("/ja/notices/delivery-outage").await.text();
        assert!(
            page.contains("2 社の 4 件のリリースで、28 通のメールが配信されませんでした。"),
            "{url}: {page}"
        );
        assert!(page.contains("集計時刻: "), "{page}");
        let english = app.browser().get("/en/notices/delivery-outage").await.text();
        assert!(
            english.contains("28 emails of 4 releases from 2 companies were not delivered."),
            "{english}"
        );

        // The figures are kept with the content: a site loaded without any database shows them,
        // with the time they were computed.
        let offline = statusdesk::public_site::live::LiveSite::load(&app.content).unwrap();
        let published = offline.current();
        let html =
            String::from_utf8(published.site.get("/ja/notices/delivery-outage").unwrap().identity.to_vec())
                .unwrap();
        assert!(html.contains("28 通のメール") && html.contains("集計時刻: "), "{html}");
    }
}

#[tokio::test]
async fn a_scope_is_previewed_from_the_database_then_attached_to_the_notice() {
    let dir = tempfile::tempdir().unwrap();
    for url in database_urls(dir.path()).await {
        let app = PortalApp::start(&url, HttpOptions::default()).await;
        let mut staff = app.session_for(STAFF_USER).await;
        let page = staff.get(IMPACT).await.text();
        assert!(
            page.contains("value=\"2021-03-01T00:00\"") && page.contains("value=\"2021-03-02T00:00\""),
            "{page}"
        );
        assert!(
            page.contains("<option value=\"sender_domain_unverified\" selected"),
            "the notice's scope: {page}"
        );
        assert!(!page.contains("class=\"attach\""), "nothing to attach before a preview");
        // The values offered are those of the window's undelivered messages in the database.
        let select = |name: &str| {
            let start = page.find(&format!("<select id=\"{name}\"")).expect("a select per filter");
            page[start..].split("</select>").next().unwrap().to_string()
        };
        let classes = select("error_class");
        for class in ["mailbox_full", "mailbox_unknown", "rejected_as_spam", "sender_domain_unverified"] {
            assert!(classes.contains(&format!("value=\"{class}\"")), "{class} in {classes}");
        }
        assert!(
            !classes.contains("value=\"timeout\"") && !select("route").contains("value=\"legacy\""),
            "{page}"
        );
        assert!(
            select("recipient_source").contains("value=\"import_list\"")
                && !select("recipient_source").contains("media_list")
        );
        // A window with no undelivered message yet (an incident just begun): every value.
        let empty = "from=2030-03-01T00%3A00&to=2030-03-02T00%3A00";
        let fresh = staff.get(&format!("{IMPACT}?preview=1&{empty}")).await.text();
        let classes =
            fresh.split("<select id=\"error_class\"").nth(1).unwrap().split("</select>").next().unwrap();
        assert!(
            classes.contains("value=\"timeout\"") && classes.contains("value=\"mailbox_full\""),
            "{fresh}"
        );
        // A window wholly before the incident began is said to be one before it is attached.
        let early = "from=2021-02-01T00%3A00&to=2021-02-02T00%3A00";
        let before = staff.get(&format!("{IMPACT}?preview=1&{early}")).await.text();
        let warned = before.split("class=\"message warning\"").nth(1).expect("a warning");
        assert!(
            warned.split("</ul>").next().unwrap().contains("障害の前のメールを数えることになります")
                && before.contains("class=\"attach\""),
            "{before}"
        );
        assert!(!fresh.contains("message warning"), "{fresh}");

        // Another scope, previewed: the bounced messages (25 of the big release).
        let scope = "from=2021-03-01T00%3A00&to=2021-03-02T00%3A00&route=cloud&error_class=mailbox_unknown";
        let preview = staff.get(&format!("{IMPACT}?preview=1&{scope}")).await;
        assert_eq!(preview.status, StatusCode::OK, "{url}");
        let html = preview.text();
        assert!(html.contains("<dd>25 / 282</dd>") && html.contains("mailbox_unknown"), "{url}: {html}");
        assert!(!html.contains("class=\"notify\""), "nobody is told from a preview's figures: {html}");
        assert!(page.contains("class=\"notify\""), "but from the notice's own: {page}");
        assert!(
            html.contains("<dt>エラーの種類 (error_class)</dt><dd>mailbox_unknown</dd>")
                && html.contains("<label for=\"route\">送信経路 (route)</label>"),
            "labelled in the page's language, with the file's key: {html}"
        );
        let wrong =
            staff.get(&format!("{IMPACT}?preview=1&from=2021-03-02T00%3A00&to=2021-03-01T00%3A00")).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.text().contains("id=\"to-problems\""));

        // Attach what was previewed: the form carries it with the file's version.
        let attach_form = html.split("class=\"attach\"").nth(1).expect("an attach form after a preview");
        let fields: Vec<(String, String)> = [
            "csrf",
            "version",
            "original",
            "from",
            "to",
            "route",
            "error_class",
            "recipient_source",
            "sender",
        ]
        .iter()
        .map(|name| (name.to_string(), hidden_field(attach_form, name)))
        .collect();
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let attached = staff.post(IMPACT, &pairs, &[("origin", "http://portal.test")]).await;
        assert_eq!(attached.status, StatusCode::SEE_OTHER, "{url}: {}", attached.text());
        let file = outage_file(&app);
        assert!(
            file.contains("[impact]\nfrom = 2021-03-01T00:00:00+09:00\nto = 2021-03-02T00:00:00+09:00\nroute = \"cloud\"\nerror_class = \"mailbox_unknown\"\n\n[[timeline]]"),
            "{file}"
        );
        assert_eq!(file.matches("[impact]").count(), 1);
        let public = staff.get("/ja/notices/delivery-outage").await.text();
        assert!(
            public.contains("25 通のメールが配信されませんでした") && public.contains("影響の範囲を添付"),
            "{public}"
        );
        assert_eq!(app.audited("notice.impact").await, 1);

        // The same form again stands on an old version of the file: refused, with what changed
        // since, and a form on the current version to attach again deliberately.
        let again = staff.post(IMPACT, &pairs, &[("origin", "http://portal.test")]).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{url}");
        assert_eq!(outage_file(&app), file, "nothing written");
        let html = again.text();
        let conflict = html
            .split("class=\"conflict\"")
            .nth(1)
            .unwrap_or_else(|| panic!("the changes are shown: {html}"));
        assert!(conflict.contains("開いた後に、このお知らせは変更されています"), "{conflict}");
        assert!(
            conflict.contains("-error_class = \"sender_domain_unverified\"\n+route = \"cloud\"\n+error_class = \"mailbox_unknown\""),
            "{conflict}"
        );
        let offered = html.split("class=\"attach\"").nth(1).expect("the attach form again");
        assert_ne!(hidden_field(offered, "version"), hidden_field(attach_form, "version"));
        assert_eq!(hidden_field(offered, "original"), file, "on the file as it is now");
    }
}

#[tokio::test]
async fn a_new_notice_is_previewed_in_both_languages_checked_and_published() {
    let dir = tempfile::tempdir().unwrap();
    for url in database_urls(dir.path()).await {
        let app = PortalApp::start(&url, HttpOptions::default()).await;
        let mut staff = app.session_for(STAFF_USER).await;
        let form = staff.get("/staff/notices/new").await;
        assert_eq!(form.status, StatusCode::OK, "{url}");
        let csrf = hidden_field(&form.text(), "csrf");
        let post = async |staff: &mut Browser, slug: &str, body: &str, intent: &str| {
            let fields = [
                ("csrf", csrf.as_str()),
                ("slug", slug),
                ("title", "配信の遅延"),
                ("title_en", "Delayed delivery"),
                ("kind", "incident"),
                ("status", "investigating"),
                ("severity", "major"),
                ("components", "email-delivery"),
                ("started_at", "2021-03-05T09:00"),
                ("published_at", "2021-03-05T09:10"),
                ("body", body),
                ("body_en", "Emails are **delayed**."),
                ("intent", intent),
            ];
            staff.post("/staff/notices/new", &fields, &[("origin", "http://portal.test")]).await
        };
        let path = app.content.join("notices/delayed-delivery.md");

        let preview = post(&mut staff, "delayed-delivery", "メールが**遅れて**います。", "preview").await;
        assert_eq!(preview.status, StatusCode::OK, "{url}: {}", preview.text());
        let html = preview.text();
        // Each preview is the notice as its page shows it, not a page within the page.
        assert_eq!((html.matches("<html").count(), html.matches("<main").count()), (1, 1), "{html}");
        assert_eq!(html.matches("<article class=\"notice kind-incident\">").count(), 2, "{html}");
        assert!(
            html.contains("<section lang=\"ja\" class=\"preview\">")
                && html.contains("<strong>遅れて</strong>"),
            "{html}"
        );
        assert!(
            html.contains("<section lang=\"en\" class=\"preview\">")
                && html.contains("<strong>delayed</strong>"),
            "{html}"
        );
        assert!(!path.exists(), "a preview writes nothing");
        assert!(!html.contains("class=\"message warning\""), "nothing to warn of: {html}");
        // What the linter only warns of is shown with the preview, and does not stop it.
        let untitled =
            [("csrf", csrf.as_str()), ("slug", "untitled-en"), ("title", "配信の遅延"), ("kind", "incident")];
        let mut fields = untitled.to_vec();
        fields.extend([
            ("status", "investigating"),
            ("severity", "major"),
            ("components", "email-delivery"),
            ("started_at", "2021-03-05T09:00"),
            ("published_at", "2021-03-05T09:10"),
            ("body", "遅れています。"),
            ("body_en", "Delayed."),
            ("intent", "preview"),
        ]);
        let warned = staff.post("/staff/notices/new", &fields, &[("origin", "http://portal.test")]).await;
        assert_eq!(warned.status, StatusCode::OK, "{url}");
        let html = warned.text();
        let warnings = html
            .split("class=\"message warning\"")
            .nth(1)
            .expect("the warnings")
            .split("</ul>")
            .next()
            .unwrap();
        assert!(
            warnings.contains(
                "英訳が空です（英語のページでは日本語のまま表示されます。公開はできます）: タイトル (英語)"
            ),
            "{warnings}"
        );
        // The English page says its title is not translated, not that nothing is.
        let english = html.split("<section lang=\"en\" class=\"preview\">").nth(1).expect("English preview");
        assert!(
            english.contains("Parts of this notice are available in Japanese only.")
                && !english.contains("This notice is available in Japanese only."),
            "{english}"
        );

        // A weekday that does not match its date: the body's line, next to the body, said in the
        // console's language.
        let wrong =
            post(&mut staff, "delayed-delivery", "経緯\n\n3月5日(月) から遅れています。", "publish").await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let html = wrong.text();
        let body_problems = html.split("id=\"body-problems\"").nth(1).expect("problems next to the body");
        let body_problems = body_problems.split("</ul>").next().unwrap();
        assert!(
            body_problems.contains("3 行目: `3月5日(月)`: 2021-03-05 は金曜日です（月曜日ではありません）"),
            "{html}"
        );
        staff.get("/staff/notices/new?lang=en").await;
        let english =
            post(&mut staff, "delayed-delivery", "経緯\n\n3月5日(月) から遅れています。", "publish").await;
        let html = english.text();
        let body_problems = html.split("id=\"body-problems\"").nth(1).expect("problems next to the body");
        assert!(
            body_problems.contains("line 3: `3月5日(月)`: 2021-03-05 is a Friday (金), not Monday (月)"),
            "{html}"
        );
        staff.get("/staff/notices/new?lang=ja").await;
        assert!(html.contains("3月5日(月) から遅れています。</textarea>"), "what was typed is kept");
        let bad_slug = post(&mut staff, "Delayed Delivery", "本文", "publish").await;
        assert!(bad_slug.text().contains("id=\"slug-problems\""));
        assert!(!path.exists());

        let published = post(&mut staff, "delayed-delivery", "メールが**遅れて**います。", "publish").await;
        assert_eq!(published.status, StatusCode::SEE_OTHER, "{url}: {}", published.text());
        assert!(std::fs::read_to_string(&path).unwrap().starts_with("+++\ntitle = \"配信の遅延\"\n"));
        let public = staff.get("/en/notices/delayed-delivery").await.text();
        assert!(
            public.contains("Delayed delivery") && public.contains("<strong>delayed</strong>"),
            "{public}"
        );
        let first =
            std::fs::read_to_string(app.content.join(".revisions/delayed-delivery/0001.toml")).unwrap();
        assert!(first.contains("author = \"support@statusdesk.example\""), "{first}");
        assert!(!first.contains("note ="), "a first version has no note in either language: {first}");
        assert!(!public.contains("class=\"untranslated\""), "all of it is translated: {public}");
        assert_eq!(app.audited("notice.create").await, 1);
        let again = post(&mut staff, "delayed-delivery", "本文", "publish").await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "never over another notice");
    }
}

/// What the edit form of the outage notice posts: its hidden fields as `form` has them, the
/// notice's own fields with `body`, the version's `note`, and the `intent`.
fn outage_edit(form: &str, body: &str, note: &str, intent: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = ["csrf", "version", "original"]
        .iter()
        .map(|name| (name.to_string(), hidden_field(form, name)))
        .collect();
    fields.extend(
        [
            ("slug", "delivery-outage"),
            ("title", "メール配信の停止"),
            ("title_en", "Email delivery stopped"),
            ("kind", "incident"),
            ("status", "identified"),
            ("severity", "critical"),
            ("components", "email-delivery"),
            ("started_at", "2021-03-01T16:18"),
            ("published_at", "2021-03-01T16:30"),
            ("body", body),
            ("body_en", "Sending has stopped since Mon, 1 March 2021 16:18."),
            ("note", note),
            ("intent", intent),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    fields
}

/// The site on a SQLite database of its own (kept while the folder lives), with a staff
/// member's session.
async fn staff_on_sqlite() -> (tempfile::TempDir, PortalApp, Browser) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_urls(dir.path()).await.remove(0);
    let app = PortalApp::start(&url, HttpOptions::default()).await;
    let staff = app.session_for(STAFF_USER).await;
    (dir, app, staff)
}

/// Posts `fields` to the outage notice's edit form, from this site.
async fn post_edit(browser: &mut Browser, fields: Vec<(String, String)>) -> TestResponse {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    browser.post(EDIT, &pairs, &[("origin", "http://portal.test")]).await
}

#[tokio::test]
async fn a_notice_is_edited_in_its_form_over_the_version_it_was_opened_on() {
    let dir = tempfile::tempdir().unwrap();
    for url in database_urls(dir.path()).await {
        let app = PortalApp::start(&url, HttpOptions::default()).await;
        let mut first = app.session_for(STAFF_USER).await;
        let mut second = app.session_for(STAFF_USER).await;
        let form1 = first.get(EDIT).await.text();
        let form2 = second.get(EDIT).await.text();
        assert!(form1.contains("value=\"メール配信の停止\"") && form1.contains("readonly"), "{form1}");
        assert!(
            form1.contains(">\n2021年3月1日(月) 16時18分から配信が止まっています。</textarea>"),
            "{form1}"
        );
        let fields =
            |form: &str, body: &str, intent: &str| outage_edit(form, body, "原因を本文に追記", intent);
        let body =
            "2021年3月1日(月) 16時18分から配信が止まっています。\n\n## 原因\n\n送信経路の設定漏れです。";
        let before = outage_file(&app);
        let preview = post_edit(&mut first, fields(&form1, body, "preview")).await;
        assert_eq!(preview.status, StatusCode::OK, "{url}: {}", preview.text());
        let shown = preview.text();
        let previews = shown.split("class=\"previews\"").nth(1).expect("a preview");
        assert!(previews.contains("<p>送信経路の設定漏れです。</p>"), "{shown}");
        assert_eq!(outage_file(&app), before, "a preview writes nothing");

        let saved = post_edit(&mut first, fields(&form1, body, "publish")).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{url}: {}", saved.text());
        let file = outage_file(&app);
        assert!(file.contains("## 原因\n\n送信経路の設定漏れです。\n\n<!-- lang: en -->"), "{file}");
        assert!(
            file.contains("[impact]\nfrom = ") && file.matches("[[timeline]]").count() == 2,
            "tables kept: {file}"
        );
        let public = first.get("/ja/notices/delivery-outage").await.text();
        assert!(
            public.contains("送信経路の設定漏れです。") && public.contains("原因を本文に追記"),
            "{public}"
        );
        assert_eq!(app.audited("notice.edit").await, 1);
        // The edit is a change readers are told of: the feed's entry is updated at it.
        let feed = first.get("/ja/feed.atom").await.text();
        let entry =
            feed.split("<entry>").find(|e| e.contains("/notices/delivery-outage<")).expect("its entry");
        let this_year =
            chrono::Utc::now().with_timezone(&chrono_tz::Asia::Tokyo).format("<updated>%Y-").to_string();
        assert!(entry.contains(&this_year), "{entry}");
        // Saving it again as it is publishes nothing and says so.
        let reopened = first.get(EDIT).await.text();
        let unchanged = post_edit(&mut first, fields(&reopened, body, "publish")).await;
        assert_eq!(unchanged.status, StatusCode::SEE_OTHER, "{url}");
        let location = header(&unchanged.headers, "location").to_string();
        assert_eq!(location, "/staff/notices?unchanged=delivery-outage");
        let list = first.get(&location).await.text();
        assert!(list.contains("変更がなかったため、新しい版は公開していません: メール配信の停止"), "{list}");
        assert_eq!(outage_file(&app), file);
        assert!(!app.content.join(".revisions/delivery-outage/0003.toml").exists(), "no new version");
        assert_eq!(app.audited("notice.edit").await, 1);

        let refused = post_edit(&mut second, fields(&form2, "別の本文", "publish")).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{url}");
        let html = refused.text();
        assert!(
            html.contains("開いた後に、このお知らせは変更されています")
                && html.contains("+送信経路の設定漏れです。"),
            "{html}"
        );
        assert!(html.contains(">\n別の本文</textarea>"), "what was typed is kept");
        assert_eq!(outage_file(&app), file, "never a silent overwrite");
    }
}

/// A notice near the largest size a file may have, in Japanese (each character three bytes,
/// each byte three once percent-encoded), is published and then edited again: the edit form
/// carries its text twice. A form beyond what any notice needs is refused with a page that says
/// so, and nothing changes.
#[tokio::test]
async fn a_long_japanese_notice_is_published_and_edited_again() {
    let (_dir, app, mut staff) = staff_on_sqlite().await;
    let publish = async |staff: &mut Browser, body: &str| {
        let form = staff.get(EDIT).await.text();
        post_edit(staff, outage_edit(&form, body, "経緯を追記", "publish")).await
    };
    // About 200 KB on disk, about 600 KB in each of the form's two copies.
    let long: String = "配信が止まった経緯を時系列で記録します。\n\n".repeat(3_300);
    let first = publish(&mut staff, &long).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text());
    let again = publish(&mut staff, &format!("{long}追記です。")).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text());
    assert!(outage_file(&app).contains("経緯を時系列で記録します。\n\n追記です。"));

    let before = outage_file(&app);
    let huge = publish(&mut staff, &"あ".repeat(800_000)).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    let html = huge.text();
    assert!(html.contains("<h1>フォームの内容が大きすぎます</h1>") && html.contains("2 MB"), "{html}");
    assert_eq!(outage_file(&app), before, "nothing changed");
}

/// A textarea's text as a browser posts it back: the one newline after the tag dropped, the
/// escapes the page uses undone.
fn textarea(html: &str, id: &str) -> String {
    let start = html.find(&format!("<textarea id=\"{id}\"")).unwrap_or_else(|| panic!("no textarea {id}"));
    let inner = html[start..].split_once('>').unwrap().1.split("</textarea>").next().unwrap();
    let inner = inner.strip_prefix('\n').unwrap_or(inner);
    inner.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// The editor shows a notice's text exactly, whatever it holds: markup that would end the field,
/// entities a browser would decode. Posting the form as opened changes nothing.
#[tokio::test]
async fn the_editor_gives_back_exactly_the_text_it_shows() {
    let (_dir, app, mut staff) = staff_on_sqlite().await;
    let body = "記号 &amp; と &lt;b&gt; と &#106;avascript: はそのまま。\n\n\
                </textarea><h1 id=\"injected\">INJECTED</h1><input name=\"title\" value=\"hijacked\">";
    let form = staff.get(EDIT).await.text();
    let published = post_edit(&mut staff, outage_edit(&form, body, "記号の例", "publish")).await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.text());
    let file = outage_file(&app);
    assert!(file.contains(body), "{file}");

    let reopened = staff.get(EDIT).await.text();
    assert!(
        !reopened.contains("<h1 id=\"injected\">")
            && !reopened.contains("<input name=\"title\" value=\"hijacked\">"),
        "{reopened}"
    );
    assert_eq!(textarea(&reopened, "body"), body);
    let saved =
        post_edit(&mut staff, outage_edit(&reopened, &textarea(&reopened, "body"), "", "publish")).await;
    assert_eq!(header(&saved.headers, "location"), "/staff/notices?unchanged=delivery-outage");
    assert_eq!(outage_file(&app), file, "opened and saved: not a character changed");

    // A file laid out by hand (a comment above a table, a blank line more) is not rewritten
    // into a new version by a save that changes nothing in the form.
    let by_hand = file.replacen("[impact]", "# The scope of the figures\n\n[impact]", 1);
    std::fs::write(app.content.join("notices/delivery-outage.md"), &by_hand).unwrap();
    app.site.reload();
    let reopened = staff.get(EDIT).await.text();
    let saved =
        post_edit(&mut staff, outage_edit(&reopened, &textarea(&reopened, "body"), "", "publish")).await;
    assert_eq!(header(&saved.headers, "location"), "/staff/notices?unchanged=delivery-outage");
    assert_eq!(outage_file(&app), by_hand, "the file as it was laid out");

    // The update form, shown again with its problems, keeps the typed text as text too.
    let opened = open_form(&mut staff).await;
    let typed = "a</textarea><h2 id=\"inj2\">INJ2</h2> &amp;";
    let refused = post_update(&mut staff, &opened, "not a time", typed).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text();
    assert!(!html.contains("<h2 id=\"inj2\">"), "{html}");
    assert_eq!(textarea(&html, "text"), typed);
}

/// The problems next to the field `id`, as text.
fn field_problems(html: &str, id: &str) -> String {
    html.split(&format!("id=\"{id}-problems\""))
        .nth(1)
        .map_or(String::new(), |rest| rest.split("</ul>").next().unwrap().to_string())
}

/// Each mistake in the new-notice form is said once, next to its field, in the form's words;
/// the summary above the form lists them all, each linked to its field.
#[tokio::test]
async fn the_new_notice_form_says_each_mistake_once_next_to_its_field() {
    let (_dir, app, mut staff) = staff_on_sqlite().await;
    let csrf = hidden_field(&staff.get("/staff/notices/new").await.text(), "csrf");
    let post = async |staff: &mut Browser, changes: &[(&str, &str)]| {
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("slug", "form-check"),
            ("title", "配信の遅延"),
            ("title_en", "Delayed delivery"),
            ("kind", "incident"),
            ("status", "investigating"),
            ("severity", "major"),
            ("started_at", "2021-03-05T09:00"),
            ("published_at", "2021-03-05T09:10"),
            ("body", "遅れています。"),
            ("body_en", "Delayed."),
            ("intent", "publish"),
        ];
        for (name, value) in changes {
            fields.iter_mut().find(|(k, _)| k == name).unwrap().1 = value;
        }
        let response = staff.post("/staff/notices/new", &fields, &[("origin", "http://portal.test")]).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{changes:?}: {}", response.text());
        response.text()
    };

    let html = post(&mut staff, &[("started_at", "2021-02-30T10:00")]).await;
    let started = field_problems(&html, "started_at");
    assert!(started.contains("`2021-02-30T10:00`") && started.matches("<li>").count() == 1, "{started}");
    assert!(!html.contains("`started_at` がありません"), "not again in the linter's words: {html}");
    let summary = html.split("class=\"message problem\"").nth(1).unwrap().split("</div>").next().unwrap();
    assert!(summary.contains("<a href=\"#started_at\">その日時はありません。"), "{summary}");
    let html = post(&mut staff, &[("started_at", "March 5")]).await;
    assert!(field_problems(&html, "started_at").contains("日時は 2021-03-01T17:35 の形で入力してください"));

    // A maintenance's start is its plan: never assumed (an incident's is its publication).
    let planned = [("kind", "maintenance"), ("status", "scheduled"), ("severity", ""), ("started_at", "")];
    let html = post(&mut staff, &planned).await;
    // A field left empty is asked for in the form's words, by its label.
    let started = field_problems(&html, "started_at");
    assert!(
        started.contains("入力・選択してください（必須）: 発生・開始日時")
            && !started.contains("がありません"),
        "{html}"
    );
    // So is a title left blank: the form's words, not the file's.
    let html = post(&mut staff, &[("title", " ")]).await;
    let title = field_problems(&html, "title");
    assert!(title.contains("入力・選択してください（必須）: ") && !title.contains("が空です"), "{html}");

    let html = post(&mut staff, &[("published_at", "")]).await;
    assert!(
        field_problems(&html, "published_at")
            .contains("日時を 2021-03-01T17:35 の形で入力してください（必須）")
    );

    let html = post(&mut staff, &[("body", "日本語\n<!-- lang: en -->\nEnglish")]).await;
    assert!(field_problems(&html, "body").contains("本文の言語の区切りの行は書けません"), "{html}");

    let html = post(&mut staff, &[("slug", "")]).await;
    let slug = field_problems(&html, "slug");
    assert!(slug.contains("識別名を入力してください") && slug.matches("<li>").count() == 1, "{slug}");
    assert!(!html.contains(".md"), "no file name in the messages: {html}");
    let html = post(&mut staff, &[("slug", "-leading")]).await;
    let slug = field_problems(&html, "slug");
    assert!(
        slug.contains("英小文字か数字から書いてください: `-leading`") && slug.matches("<li>").count() == 1,
        "{slug}"
    );
    let long = "a".repeat(300);
    let html = post(&mut staff, &[("slug", &long)]).await;
    assert!(field_problems(&html, "slug").contains("識別名は 80 文字までにしてください（いまは 300 文字）"));
    assert!(!app.content.join("notices/form-check.md").exists(), "nothing written");

    // The components are a group named by its legend, which the label no longer points past.
    assert!(html.contains("<fieldset id=\"components\" class=\"choices\"><legend>"), "{html}");
    assert!(!html.contains("<label for=\"components\">"));
    // A field's problems are a list, which a paragraph cannot hold.
    assert!(
        html.contains("<div class=\"field\"><label for=\"slug\">") && !html.contains("<p><label"),
        "{html}"
    );
}

/// An update the linter only warns of (an entry dated before the maintenance starts) is shown
/// with the warning first, unpublished; sent again as it is, it is published.
#[tokio::test]
async fn an_update_the_linter_warns_of_is_published_only_when_sent_again() {
    let (_dir, app, mut staff) = staff_on_sqlite().await;
    const MAINTENANCE: &str = "/staff/notices/api-maintenance/update";
    let path = app.content.join("notices/api-maintenance.md");
    let before = std::fs::read_to_string(&path).unwrap();
    // The form as opened, with `entry` typed into it.
    let post = async |staff: &mut Browser, entry: &[(&str, &str)]| {
        let opened = Opened::from_page(&staff.get(MAINTENANCE).await.text());
        let mut fields = vec![
            ("csrf", opened.csrf.as_str()),
            ("version", &opened.version),
            ("original", &opened.original),
        ];
        fields.extend_from_slice(entry);
        staff.post(MAINTENANCE, &fields, &[("origin", "http://portal.test")]).await
    };
    // A year far from the notice's dates: a warning, not an error.
    let early = [("at", "2021-03-26T12:00"), ("status", ""), ("text", "2012年3月27日に前倒しします。")];
    let warned = post(&mut staff, &early).await;
    assert_eq!(warned.status, StatusCode::OK);
    let html = warned.text();
    let box_ =
        html.split("class=\"message warning\"").nth(1).expect("the warnings").split("</div>").next().unwrap();
    assert!(box_.contains("まだ公開していません") && box_.contains("年の誤記ではありませんか"), "{box_}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before, "nothing written yet");

    let token = hidden_field(&html, "warned");
    let published = post(&mut staff, &[&early[..], &[("warned", token.as_str())]].concat()).await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.text());
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(
        file.contains("at = 2021-03-26T12:00:00+09:00\ntext = \"2012年3月27日に前倒しします。\"\n+++"),
        "{file}"
    );
    assert!(file.contains("status = \"scheduled\""), "the status stays: {file}");

    // A missing English text is no reason to stop or to warn: the form marks it optional. (The
    // year is the one warning; an entry before a maintenance's planned start, in 2077, is none.)
    let start =
        [("at", "2021-03-27T01:00"), ("status", "in_progress"), ("text", "2012年3月27日に開始しました。")];
    let warned = post(&mut staff, &start).await.text();
    let box_ = warned
        .split("class=\"message warning\"")
        .nth(1)
        .expect("the warnings")
        .split("</div>")
        .next()
        .unwrap();
    assert_eq!(box_.matches("<li>").count(), 1, "{box_}");
    assert!(box_.contains("年の誤記ではありませんか"), "{box_}");
    let token = hidden_field(&warned, "warned");
    let started = post(&mut staff, &[&start[..], &[("warned", token.as_str())]].concat()).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text());
}

/// The value selected in the `<select id="{id}">` of `html`.
fn selected(html: &str, id: &str) -> String {
    let select =
        html.split(&format!("<select id=\"{id}\"")).nth(1).unwrap().split("</select>").next().unwrap();
    let option =
        select.split("<option").find(|o| o.contains(" selected")).unwrap_or_else(|| panic!("{select}"));
    option.split("value=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
}

/// A save refused because the notice changed meanwhile comes back with the writer's own changes
/// over the notice as it is now: sent again, it undoes nothing the other change did.
#[tokio::test]
async fn a_save_after_a_conflict_keeps_what_the_other_change_did() {
    let (_dir, app, mut writer) = staff_on_sqlite().await;
    let mut other = app.session_for(STAFF_USER).await;
    let form = writer.get(EDIT).await.text();
    assert_eq!(selected(&form, "status"), "identified");

    // Meanwhile: an update moves the incident to "monitoring".
    let opened = open_form(&mut other).await;
    let updated =
        post_update(&mut other, &opened, "2021-03-01T18:00", "修正を適用し、様子を見ています。").await;
    assert_eq!(updated.status, StatusCode::SEE_OTHER);

    let body = "2021年3月1日(月) 16時18分から配信が止まっています。\n\n原因を調べています。";
    let refused = post_edit(&mut writer, outage_edit(&form, body, "本文に追記", "publish")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let again = refused.text();
    assert_eq!(
        selected(&again, "status"),
        "monitoring",
        "the other change's status, untouched by the writer"
    );
    assert_eq!(textarea(&again, "body"), body, "the writer's own change kept");

    let mut fields = outage_edit(&again, &textarea(&again, "body"), "本文に追記", "publish");
    fields.iter_mut().find(|(k, _)| k == "status").unwrap().1 = selected(&again, "status");
    let saved = post_edit(&mut writer, fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let file = outage_file(&app);
    assert!(file.contains("status = \"monitoring\"\n") && file.contains("原因を調べています。"), "{file}");
    assert!(file.contains("text = \"修正を適用し、様子を見ています。\""), "{file}");
}

/// An edit the linter only warns of (a status the timeline does not say) is shown with the
/// warning first, unpublished; sent again as it is, it is published.
#[tokio::test]
async fn an_edit_the_linter_warns_of_is_published_only_when_sent_again() {
    let (_dir, app, mut staff) = staff_on_sqlite().await;
    let form = staff.get(EDIT).await.text();
    let mut fields = outage_edit(&form, &textarea(&form, "body"), "", "publish");
    fields.iter_mut().find(|(k, _)| k == "status").unwrap().1 = "monitoring".into();
    let before = outage_file(&app);
    let warned = post_edit(&mut staff, fields.clone()).await;
    assert_eq!(warned.status, StatusCode::OK);
    let html = warned.text();
    let box_ =
        html.split("class=\"message warning\"").nth(1).expect("the warnings").split("</div>").next().unwrap();
    assert!(box_.contains("まだ公開していません") && box_.contains("`monitoring`"), "{box_}");
    assert_eq!(outage_file(&app), before, "nothing written yet");

    fields.push(("warned".into(), hidden_field(&html, "warned")));
    let published = post_edit(&mut staff, fields).await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.text());
    assert!(outage_file(&app).contains("status = \"monitoring\"\n"));
}

#[tokio::test]
async fn the_notice_list_names_the_files_that_are_not_published_as_they_stand() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_urls(dir.path()).await.remove(0);
    let app = PortalApp::start(&url, HttpOptions::default()).await;
    std::fs::write(
        app.content.join("notices/broken.md"),
        "+++\ntitle = \"壊れた\"\nkind = \"rumour\"\n+++\n",
    )
    .unwrap();
    app.site.reload();
    let mut staff = app.session_for(STAFF_USER).await;
    let list = staff.get("/staff/notices").await.text();
    assert!(list.contains("次のファイルにエラーがあるため、書かれたままでは公開されていません"), "{list}");
    assert!(list.contains("notices/broken.md:3: エラー: "), "{list}");
}

/// A notice whose file was broken on disk: its forms show the published version and say what
/// is wrong with the file, where, before anything is typed.
#[tokio::test]
async fn the_forms_of_a_notice_broken_on_disk_say_where_the_file_is_wrong() {
    let (_dir, app, mut staff) = staff_on_sqlite().await;
    let file = app.content.join("notices/delivery-outage.md");
    let broken = outage_file(&app).replacen("severity = \"critical\"", "severity = \"majr\"", 1);
    assert_ne!(broken, outage_file(&app), "the fixture has the line");
    std::fs::write(&file, broken).unwrap();
    app.site.reload();
    for form in [OUTAGE, EDIT] {
        let html = staff.get(form).await.text();
        let section = html.split("class=\"file-errors\">").nth(1).unwrap_or_else(|| panic!("{form}: {html}"));
        assert!(
            section.contains("<h2>このお知らせのファイルにエラーがあります</h2>")
                && section.contains("notices/delivery-outage.md:")
                && section.contains("majr"),
            "{form}: {section}"
        );
    }
    assert!(!staff.get("/staff/notices/new").await.text().contains("file-errors"));
}

/// A maintenance called off before it began is cancelled, its planned times kept; one cannot
/// be completed before its planned start, and the form says what to do instead.
#[tokio::test]
async fn a_maintenance_called_off_is_cancelled_not_completed() {
    let (_dir, app, mut staff) = staff_on_sqlite().await;
    const UPDATE: &str = "/staff/notices/api-maintenance/update";
    let form = staff.get(UPDATE).await.text();
    assert!(form.contains("<option value=\"cancelled\">中止</option>"), "{form}");
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Tokyo).format("%Y-%m-%dT%H:%M").to_string();
    // `warned`: the linter's warnings, seen and accepted.
    let post_warned = async |staff: &mut Browser, status: &str, warned: &str| {
        let form = staff.get(UPDATE).await.text();
        let fields = [
            ("csrf", hidden_field(&form, "csrf")),
            ("version", hidden_field(&form, "version")),
            ("original", hidden_field(&form, "original")),
            ("at", now.clone()),
            ("status", status.to_string()),
            ("text", "このメンテナンスは取りやめました。".to_string()),
            ("text_en", "This maintenance has been called off.".to_string()),
            ("warned", warned.to_string()),
        ];
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        staff.post(UPDATE, &pairs, &[("origin", "http://portal.test")]).await
    };
    let post = async |staff: &mut Browser, status: &str| post_warned(staff, status, "").await;
    let file = || std::fs::read_to_string(app.content.join("notices/api-maintenance.md")).unwrap();
    let before = file();
    let completed = post(&mut staff, "completed").await;
    assert_eq!(completed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        field_problems(&completed.text(), "status").contains("予定の開始時刻より前に「完了」にはできません"),
        "{}",
        completed.text()
    );
    assert_eq!(file(), before, "nothing written");
    let cancelled = post(&mut staff, "cancelled").await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER, "{}", cancelled.text());
    let text = file();
    assert!(
        text.contains("status = \"cancelled\"")
            && text.contains("started_at = 2077-03-27T01:00:00+09:00")
            && text.contains("resolved_at = 2077-03-27T03:00:00+09:00"),
        "the plan kept: {text}"
    );
    let public = app.browser().get("/ja/notices/api-maintenance").await.text();
    assert!(public.contains("status-cancelled\">中止</span>") && public.contains("終了予定"), "{public}");
    let facts = public.split("<dl").nth(1).unwrap().split("</dl>").next().unwrap();
    assert!(
        facts.contains("開始予定") && !facts.contains("<dt>期間</dt>"),
        "as planned, never under way: {facts}"
    );
    let home = app.browser().get("/ja/").await.text();
    assert!(!home.contains("<section class=\"upcoming\">"), "no longer upcoming: {home}");

    // One that went ahead after all (started early, say) is completed, never cancelled.
    assert_eq!(post(&mut staff, "in_progress").await.status, StatusCode::SEE_OTHER);
    let refused = post(&mut staff, "cancelled").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_problems(&refused.text(), "status").contains("「中止」にできません"), "{}", refused.text());
    // Its body names the planned day, far from now: the linter's warning, accepted.
    let warned = post(&mut staff, "completed").await.text();
    assert!(warned.contains("`Sat 27 Mar 2077`"), "{warned}");
    let done = post_warned(&mut staff, "completed", &hidden_field(&warned, "warned")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "done early: {}", done.text());
    let text = file();
    assert!(text.contains(&format!("started_at = {now}:00+09:00")), "it began when it did: {text}");

    // Nor one that readers are shown under way because its planned start has passed.
    let under_way = "+++\ntitle = \"DB 移行\"\ntitle_en = \"DB move\"\nkind = \"maintenance\"\nstatus = \"scheduled\"\ncomponents = [\"api\"]\nstarted_at = 2021-03-20T01:00:00+09:00\nresolved_at = 2099-03-20T03:00:00+09:00\npublished_at = 2021-03-15T12:00:00+09:00\n+++\n\n移行します。\n\n<!-- lang: en -->\n\nMoving.\n";
    std::fs::write(app.content.join("notices/db-move.md"), under_way).unwrap();
    app.site.reload();
    let form = staff.get("/staff/notices/db-move/update").await.text();
    let fields = [
        ("csrf", hidden_field(&form, "csrf")),
        ("version", hidden_field(&form, "version")),
        ("original", hidden_field(&form, "original")),
        ("at", now.clone()),
        ("status", "cancelled".to_string()),
        ("text", "取りやめます。".to_string()),
    ];
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused =
        staff.post("/staff/notices/db-move/update", &pairs, &[("origin", "http://portal.test")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text());
    assert!(field_problems(&refused.text(), "status").contains("「中止」にできません"));
}

/// A maintenance left `scheduled` after its planned time: the public site follows the plan, and
/// the list tells staff what readers see.
#[tokio::test]
async fn staff_see_what_readers_are_shown_of_a_maintenance_past_its_planned_time() {
    let (_dir, app, mut staff) = staff_on_sqlite().await;
    let jst = |hours: i64| {
        (chrono::Utc::now() + chrono::Duration::hours(hours))
            .with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap())
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };
    let maintenance = |title: &str, start: i64, end: i64| {
        format!(
            "+++\ntitle = \"{title}\"\nkind = \"maintenance\"\nstatus = \"scheduled\"\nstarted_at = {}\n\
             resolved_at = {}\npublished_at = {}\n+++\n\n本文。\n",
            jst(start),
            jst(end),
            jst(-48)
        )
    };
    let notices = app.content.join("notices");
    std::fs::write(notices.join("under-way.md"), maintenance("作業中の切り替え", -1, 1)).unwrap();
    std::fs::write(notices.join("over.md"), maintenance("終わった切り替え", -5, -3)).unwrap();
    let overrun =
        maintenance("長引く切り替え", -5, -1).replace("status = \"scheduled\"", "status = \"in_progress\"");
    std::fs::write(notices.join("overrun.md"), overrun).unwrap();
    app.site.reload();

    let html = staff.get("/staff/notices").await.text();
    let row = |title: &str| html.split("<tr>").find(|row| row.contains(title)).expect("its row").to_string();
    assert!(
        row("作業中の切り替え")
            .contains("<td>予定 <span class=\"badge shown-publicly\">予定の時刻を過ぎたため、公開ページでの表示: 実施中</span></td>"),
        "{html}"
    );
    assert!(row("終わった切り替え").contains("公開ページでの表示: 完了</span>"), "{html}");
    assert!(
        row("長引く切り替え").contains("予定の終了時刻を過ぎています"),
        "still under way, as staff set: {html}"
    );
    assert!(!row("API メンテナンス").contains("badge shown-publicly"), "planned for 2077: {html}");
    let update = staff.get("/staff/notices/under-way/update").await.text();
    assert!(update.contains("<p class=\"hint\">このメンテナンスの状況は「予定」のままなので"), "{update}");
    // The form starts from what readers see: an entry sent as it is keeps it under way.
    assert!(update.contains("<option value=\"in_progress\" selected>実施中</option>"), "{update}");
    assert!(update.contains("状況は変えない (実施中)"), "{update}");
    let public = app.browser().get("/ja/notices/under-way").await.text();
    assert!(public.contains("<span class=\"badge status-in_progress\">実施中</span>"), "{public}");
}

/// An incident that comes back after it was resolved is reopened from "add update": open again
/// on the public site, its resolution kept in the timeline.
#[tokio::test]
async fn an_update_reopens_a_resolved_incident() {
    let (_dir, app, mut staff) = staff_on_sqlite().await;
    const SLOW_API: &str = "/staff/notices/slow-api/update";
    let opened = Opened::from_page(&staff.get(SLOW_API).await.text());
    let fields = [
        ("csrf", opened.csrf.as_str()),
        ("version", &opened.version),
        ("original", &opened.original),
        ("at", "2021-01-19T13:00"),
        ("status", "investigating"),
        ("text", "再び遅延しています。"),
        ("note", "再発"),
    ];
    let posted = staff.post(SLOW_API, &fields, &[("origin", "http://portal.test")]).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.text());
    let file = std::fs::read_to_string(app.content.join("notices/slow-api.md")).unwrap();
    assert!(file.contains("status = \"investigating\"\nseverity") && !file.contains("resolved_at"), "{file}");
    let status = app.browser().get("/en/").await.text();
    let active = status.split("<h2>Recent notices</h2>").next().unwrap();
    assert!(active.contains("/en/notices/slow-api"), "{status}");
    let page = app.browser().get("/en/notices/slow-api").await.text();
    assert!(page.contains("status-investigating") && page.contains("Resolved."), "{page}");
}

/// An update typed while the session ran out (or sent from a form opened before logging in
/// again) is not saved, and comes back to be copied; from another site, nothing is echoed.
#[tokio::test]
async fn what_staff_typed_comes_back_when_their_session_ended_before_saving() {
    let (_dir, app, mut staff) = staff_on_sqlite().await;
    let before = outage_file(&app);
    let opened = open_form(&mut staff).await;
    let typed = "配信を再開しました。\n残りのメールを送信しています。";
    let fields = |opened: &Opened| {
        vec![
            ("csrf".to_string(), opened.csrf.clone()),
            ("version".to_string(), opened.version.clone()),
            ("original".to_string(), opened.original.clone()),
            ("at".to_string(), "2021-03-01T17:00".to_string()),
            ("text".to_string(), typed.to_string()),
        ]
    };
    let post = async |browser: &mut Browser, origin: &str, fields: Vec<(String, String)>| {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        browser.post(OUTAGE, &pairs, &[("origin", origin)]).await
    };
    let given_back = |response: &TestResponse| {
        let html = response.text();
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{html}");
        assert!(html.contains("<h1>保存していません</h1>"), "{html}");
        assert!(html.contains("<span class=\"portal-name\">スタッフ用コンソール</span>"), "{html}");
        assert!(html.contains("<label for=\"typed-1\">本文 (日本語) <code>text</code></label>"), "{html}");
        assert!(
            html.contains(&format!(
                "<code>text</code></label><textarea id=\"typed-1\" readonly rows=\"3\">\n{typed}</textarea>"
            )),
            "{html}"
        );
        assert!(
            !html.contains(&opened.csrf) && !html.contains("<code>original</code>"),
            "only what was typed: {html}"
        );
        assert!(html.contains(&format!("<a href=\"{OUTAGE}\">フォームを開き直す</a>")), "{html}");
    };

    // Logged in again meanwhile (elsewhere): the form's token is the old session's.
    let mut again = app.session_for(STAFF_USER).await;
    given_back(&post(&mut again, "http://portal.test", fields(&opened)).await);
    // The session is gone altogether.
    let mut ended = app.browser();
    given_back(&post(&mut ended, "http://portal.test", fields(&opened)).await);
    // From another site, or from a client that does not say where from: the plain refusal,
    // nothing of the form echoed.
    let forged = post(&mut ended, "http://evil.test", fields(&opened)).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!forged.text().contains("配信を再開しました"), "{}", forged.text());
    let pairs: Vec<(String, String)> = fields(&opened);
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let unsaid = ended.post(OUTAGE, &pairs, &[]).await;
    assert_eq!(unsaid.status, StatusCode::FORBIDDEN);
    assert!(!unsaid.text().contains("配信を再開しました"), "{}", unsaid.text());
    assert_eq!(outage_file(&app), before, "nothing written");

    // The new-notice form: what was typed, not the button that sent it.
    let new_notice =
        [("csrf", "stale"), ("slug", "late-news"), ("title", "遅れたお知らせ"), ("intent", "publish")];
    let refused = ended.post("/staff/notices/new", &new_notice, &[("origin", "http://portal.test")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let html = refused.text();
    assert!(html.contains(">\n遅れたお知らせ</textarea>") && !html.contains("<code>intent</code>"), "{html}");
    // Anything else refused from this site is not read back: the plain refusal.
    let logout =
        ended.post("/logout", &[("csrf", "stale"), ("note", "x")], &[("origin", "http://portal.test")]).await;
    assert!(!logout.text().contains("保存していません"), "{}", logout.text());
}

/// While the database (which keeps the sessions) is down, a staff form sent is not saved, and
/// what was typed comes back with a 503 that says so.
#[tokio::test]
async fn what_staff_typed_comes_back_while_the_database_is_down() {
    let app = common::TestApp::new();
    let body = "csrf=x&version=v&at=2021-03-01T17%3A00&text=%E5%BE%A9%E6%97%A7%E3%81%97%E3%81%BE%E3%81%97%E3%81%9F%3Cscript%3E";
    let request = |origin: &str| {
        axum::http::Request::post(OUTAGE)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("host", "portal.test")
            .header("origin", origin)
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let down = app.send(request("http://portal.test")).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.header("retry-after"), Some("30"));
    let html = down.text();
    assert!(html.contains("データベースに接続できないため、保存も公開もしていません"), "{html}");
    assert!(html.contains(">\n復旧しました&lt;script&gt;</textarea>"), "escaped: {html}");
    let forged = app.send(request("http://evil.test")).await;
    assert_eq!(forged.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!forged.text().contains("復旧しました"), "{}", forged.text());
}

/// A notice whose file was deleted while its form was open: an update or an edit sent then saves
/// nothing, creates no file, and gives back what was typed, with the way to a new notice.
#[tokio::test]
async fn what_staff_typed_comes_back_when_the_notice_was_deleted_meanwhile() {
    let (_dir, app, mut staff) = staff_on_sqlite().await;
    let opened = open_form(&mut staff).await;
    let edit_form = staff.get(EDIT).await.text();
    let file = app.content.join("notices/delivery-outage.md");
    std::fs::remove_file(&file).unwrap();
    app.site.reload();
    let given_back = |response: TestResponse, typed: &str| {
        let html = response.text();
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{html}");
        assert!(html.contains("<h1>保存していません</h1>"), "{html}");
        assert!(html.contains("ファイルが削除されたか名前が変わったため、もう公開されていません"), "{html}");
        assert!(html.contains(&format!(">\n{typed}</textarea>")), "{html}");
        assert!(html.contains("<a href=\"/staff/notices/new\">新しいお知らせを書く</a>"), "{html}");
        assert!(!html.contains("<code>version</code>") && !html.contains("<code>csrf</code>"), "{html}");
    };
    given_back(
        post_update(&mut staff, &opened, "2021-03-01T17:00", "復旧作業中です。").await,
        "復旧作業中です。",
    );
    let body = "配信が止まっています。\n\n## 原因\n\n調査中です。";
    given_back(post_edit(&mut staff, outage_edit(&edit_form, body, "原因を追記", "publish")).await, body);
    assert!(!file.exists(), "no file written back");
    assert_eq!(app.audited("notice.update").await + app.audited("notice.edit").await, 0);
}

/// The new-notice form presets nothing that only some kinds have: an announcement goes out as
/// typed, an incident starts "investigating" when it is published unless told otherwise, and
/// what only a person can say (an incident's severity, a maintenance's planned start) is asked.
#[tokio::test]
async fn a_new_notice_takes_what_its_kind_needs() {
    let (_dir, app, mut staff) = staff_on_sqlite().await;
    let form = staff.get("/staff/notices/new").await.text();
    for field in ["status", "severity"] {
        let select =
            form.split(&format!("<select id=\"{field}\"")).nth(1).unwrap().split("</select>").next().unwrap();
        assert!(!select.contains("selected"), "{field} is not preset: {select}");
    }
    assert!(
        form.contains("<input type=\"datetime-local\" id=\"started_at\" name=\"started_at\" value=\"\""),
        "{form}"
    );
    let csrf = hidden_field(&form, "csrf");
    let post = async |staff: &mut Browser, slug: &str, kind: &str, extra: &[(&str, &str)]| {
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("slug", slug),
            ("title", "お知らせ"),
            ("title_en", "Notice"),
            ("kind", kind),
            ("status", ""),
            ("severity", ""),
            ("started_at", ""),
            ("resolved_at", ""),
            ("published_at", "2021-03-05T09:10"),
            ("body", "本文。"),
            ("body_en", "Body."),
            ("intent", "publish"),
        ];
        for (name, value) in extra {
            fields.retain(|(k, _)| k != name);
            fields.push((name, value));
        }
        staff.post("/staff/notices/new", &fields, &[("origin", "http://portal.test")]).await
    };
    let file = |slug: &str| std::fs::read_to_string(app.content.join(format!("notices/{slug}.md"))).unwrap();

    let announced = post(&mut staff, "new-api-docs", "announcement", &[]).await;
    assert_eq!(announced.status, StatusCode::SEE_OTHER, "{}", announced.text());
    let text = file("new-api-docs");
    assert!(!text.contains("status") && !text.contains("severity") && !text.contains("started_at"), "{text}");

    let unsure = post(&mut staff, "slow-mail", "incident", &[]).await;
    assert_eq!(unsure.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = unsure.text();
    assert!(
        field_problems(&html, "severity").contains("入力・選択してください（必須）: 影響度"),
        "the severity is asked for: {html}"
    );
    assert!(!app.content.join("notices/slow-mail.md").exists());
    let incident = post(&mut staff, "slow-mail", "incident", &[("severity", "minor")]).await;
    assert_eq!(incident.status, StatusCode::SEE_OTHER, "{}", incident.text());
    let text = file("slow-mail");
    assert!(
        text.contains("status = \"investigating\"")
            && text.contains("started_at = 2021-03-05T09:10:00+09:00"),
        "{text}"
    );

    let planned = post(&mut staff, "db-upgrade", "maintenance", &[]).await;
    assert_eq!(planned.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        planned.text().contains("id=\"started_at-problems\""),
        "the planned start is asked for: {}",
        planned.text()
    );
    // Previewed as readers will see it now: its planned start is past, so it is under way.
    let started = [("started_at", "2021-03-20T01:00"), ("intent", "preview")];
    let preview = post(&mut staff, "db-upgrade", "maintenance", &started).await.text();
    assert!(preview.contains("<span class=\"badge status-in_progress\">実施中</span>"), "{preview}");
    // No English body yet: said by the form's field, not by the file's marker line.
    let untranslated = [("started_at", "2021-03-20T01:00"), ("body_en", ""), ("intent", "preview")];
    let preview = post(&mut staff, "db-upgrade", "maintenance", &untranslated).await.text();
    assert!(
        preview.contains("英訳が空です（英語のページでは日本語のまま表示されます。公開はできます）: 本文"),
        "{preview}"
    );
    assert!(!preview.contains("lang: en"), "{preview}");
    let planned = post(&mut staff, "db-upgrade", "maintenance", &[("started_at", "2021-03-20T01:00")]).await;
    assert_eq!(planned.status, StatusCode::SEE_OTHER, "{}", planned.text());
    assert!(file("db-upgrade").contains("status = \"scheduled\""));

    // An incident written up after it ended: its start is asked for, not taken from its publication.
    let past = [("severity", "minor"), ("status", "resolved"), ("resolved_at", "2021-03-04T18:00")];
    let html = post(&mut staff, "past-outage", "incident", &past).await.text();
    assert!(html.contains("id=\"started_at-problems\""), "{html}");
    assert!(!html.contains("`resolved_at`（"), "nothing said of a start never typed: {html}");
    assert!(form.contains("状況 (空欄なら、障害は「調査中」、メンテナンスは「予定」)"), "{form}");

    // What has happened is not ahead of now: a publication (a mistyped year), an incident's
    // start and end. A maintenance planned ahead is its plan.
    let ahead = (chrono::Utc::now() + chrono::Duration::days(30)).with_timezone(&chrono_tz::Asia::Tokyo);
    let ahead = ahead.format("%Y-%m-%dT%H:%M").to_string();
    let refused = post(&mut staff, "from-the-future", "announcement", &[("published_at", &ahead)]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        field_problems(&refused.text(), "published_at").contains("予約公開はできません"),
        "{}",
        refused.text()
    );
    let incident =
        [("severity", "minor"), ("started_at", ahead.as_str()), ("published_at", "2021-03-05T09:10")];
    let refused = post(&mut staff, "from-the-future", "incident", &incident).await.text();
    assert!(field_problems(&refused, "started_at").contains("まだ来ていない日時です"), "{refused}");
    assert!(!app.content.join("notices/from-the-future.md").exists());
    let planned = post(&mut staff, "later-upgrade", "maintenance", &[("started_at", &ahead)]).await;
    assert_eq!(planned.status, StatusCode::SEE_OTHER, "{}", planned.text());
}
