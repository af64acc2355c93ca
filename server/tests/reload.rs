//! Content changes reach the site without a restart, and a broken file never takes it down:
//! the last good version keeps serving.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::TestApp;

/// Polls `check` until it holds, for at most ten seconds.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

const NEW_NOTICE: &str = r#"+++
title = "新しいお知らせ"
title_en = "A new notice"
kind = "announcement"
published_at = 2021-04-01T10:00:00+09:00
+++

本文。

<!-- lang: en -->

Body.
"#;

#[tokio::test]
async fn changes_are_published_and_broken_files_keep_their_last_good_version() {
    let app = TestApp::new();
    app.site.watch().unwrap();
    let notices = app.content.join("notices");

    std::fs::write(notices.join("new-notice.md"), NEW_NOTICE).unwrap();
    eventually("the new notice is served", async || {
        app.get("/en/notices/new-notice").await.status == StatusCode::OK
    })
    .await;
    assert!(app.get("/en/notices/new-notice").await.text().contains("A new notice"));

    // Break the file: the published version stays, and the error is recorded.
    let broken = NEW_NOTICE.replace("kind = \"announcement\"", "kind = \"rumour\"");
    std::fs::write(notices.join("new-notice.md"), &broken).unwrap();
    eventually("the broken edit is seen", async || app.site.current().site.errors == 1).await;
    let current = app.site.current();
    let finding = current.content.errors().next().unwrap().to_string();
    assert!(finding.ends_with("new-notice.md:4: error: `kind` is `rumour`; expected one of `incident`, `maintenance`, `announcement`"), "{finding}");
    assert!(app.get("/en/notices/new-notice").await.text().contains("A new notice"));

    // Fix it with a new title: the fix is published.
    std::fs::write(notices.join("new-notice.md"), NEW_NOTICE.replace("A new notice", "A fixed notice"))
        .unwrap();
    eventually("the fix is served", async || {
        app.get("/en/notices/new-notice").await.text().contains("A fixed notice")
    })
    .await;
    assert_eq!(app.site.current().site.errors, 0);

    // Deleting a file unpublishes it.
    std::fs::remove_file(notices.join("new-notice.md")).unwrap();
    eventually("the deleted notice is gone", async || {
        app.get("/en/notices/new-notice").await.status == StatusCode::NOT_FOUND
    })
    .await;
}

#[tokio::test]
async fn a_broken_site_toml_keeps_the_last_good_site() {
    let app = TestApp::new();
    std::fs::write(app.content.join("site.toml"), "name = [").unwrap();
    app.site.reload();
    let current = app.site.current();
    assert!(
        current.content.errors().any(|f| f.to_string().contains("site.toml:1: error:")),
        "{:?}",
        current.content.findings
    );
    assert_eq!(app.get("/").await.status, StatusCode::OK);
    assert!(app.get("/en/").await.text().contains("Test Status"));
}

#[tokio::test]
async fn a_change_made_to_the_file_is_recorded_as_a_version_once_and_only_when_it_publishes() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    common::copy_dir(&common::fixture_site(), &content);
    let site = statusdesk::public_site::live::LiveSite::serve(&content).unwrap();
    let versions = |site: &statusdesk::public_site::live::LiveSite| {
        site.current().content.revisions("slow-api").to_vec()
    };
    let first = versions(&site);
    assert_eq!(first.len(), 1, "the published text is the first version");
    assert_eq!(first[0].author, "file");

    // As a change made in git would arrive: the file changes, the site reloads.
    let path = content.join("notices/slow-api.md");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("+++\n\n", "+++\n\nA line added in git.\n\n")).unwrap();
    site.reload();
    let now = versions(&site);
    assert_eq!(now.len(), 2);
    assert!(now[1].text.contains("A line added in git."));
    site.reload();
    assert_eq!(versions(&site).len(), 2, "an unchanged file is not recorded again");

    // A broken file is not published, so it is not a version either.
    std::fs::write(&path, "+++\nbroken\n").unwrap();
    site.reload();
    assert_eq!(versions(&site).len(), 2);

    // The public notice page lists the versions; each has its page with the changes.
    let published = site.current();
    let page = published.site.get("/en/notices/slow-api").expect("the notice page");
    let html = String::from_utf8(page.identity.to_vec()).unwrap();
    assert!(html.contains("Revised once") && html.contains("/en/notices/slow-api/revisions/2"), "{html}");
    let version = published.site.get("/en/notices/slow-api/revisions/2").expect("the version's page");
    let html = String::from_utf8(version.identity.to_vec()).unwrap();
    assert!(html.contains("+A line added in git."), "{html}");
}

#[tokio::test]
async fn a_scheduled_maintenance_is_under_way_on_the_site_when_its_time_comes() {
    let app = TestApp::new();
    let jst = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap())
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };
    let start = chrono::Utc::now() + chrono::Duration::seconds(6);
    let notice = format!(
        "+++\ntitle = \"経路の切り替え\"\nkind = \"maintenance\"\nstatus = \"scheduled\"\ncomponents = [\"api\"]\n\
         started_at = {}\nresolved_at = {}\npublished_at = {}\n+++\n\n切り替えます。\n",
        jst(start),
        jst(start + chrono::Duration::hours(1)),
        jst(start - chrono::Duration::days(1)),
    );
    std::fs::write(app.content.join("notices/route-switch.md"), notice).unwrap();
    app.site.reload();
    app.site.keep_time().unwrap();
    let badge = async || {
        let page = app.get("/en/notices/route-switch").await.text();
        page.split("class=\"badge status-").nth(1).map(|b| b.split('"').next().unwrap().to_string())
    };
    assert_eq!(badge().await.as_deref(), Some("scheduled"), "not started yet");
    eventually("the maintenance is under way", async || badge().await.as_deref() == Some("in_progress"))
        .await;
    let status = app.get("/en/").await.text();
    assert!(status.contains("state-maintenance\">Under maintenance"), "{status}");
}
