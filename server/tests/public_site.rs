//! The public site through the whole router: pages, languages, caching, encodings, headers,
//! the JSON API, the feed and the health endpoints, with the database unreachable throughout.

mod common;

use std::io::Read;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestApp;
use statusdesk::http::HttpOptions;

#[tokio::test]
async fn status_page_shows_components_from_open_notices() {
    let app = TestApp::new();
    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.starts_with("<!DOCTYPE html><html lang=\"ja\">"), "{html}");
    // The open critical incident puts email delivery in a major outage; the API is fine.
    assert!(html.contains(r#"<span class="component-name">メール配信</span><span class="state state-major_outage">重大な障害</span>"#), "{html}");
    assert!(
        html.contains(
            r#"<span class="component-name">API</span><span class="state state-operational">正常</span>"#
        ),
        "{html}"
    );
    let active = html.find("対応中の障害").unwrap();
    let upcoming = html.find("予定されているメンテナンス").unwrap();
    let recent = html.find("最近のお知らせ").unwrap();
    assert!(active < upcoming && upcoming < recent);
    assert!(html[active..upcoming].contains("/ja/notices/delivery-outage"));
    assert!(html[upcoming..recent].contains("/ja/notices/api-maintenance"));
    assert!(html[recent..].contains("/ja/notices/slow-api"));
}

#[tokio::test]
async fn notice_page_has_facts_timeline_and_computed_weekdays() {
    let app = TestApp::new();
    let ja = app.get("/ja/notices/delivery-outage").await.text();
    assert!(
        ja.contains(r#"<time datetime="2021-03-01T16:18:00+09:00">2021年3月1日(月) 16:18 JST</time>"#),
        "{ja}"
    );
    assert!(ja.contains("原因を<strong>特定</strong>しました。"), "{ja}");
    let en = app.get("/en/notices/delivery-outage").await.text();
    assert!(
        en.contains(r#"<time datetime="2021-03-01T16:35:00+09:00">Mon, 1 Mar 2021 16:35 JST</time>"#),
        "{en}"
    );
    assert!(en.contains("Email delivery stopped"));
    assert!(en.contains("Critical"));

    let maintenance = app.get("/en/notices/api-maintenance").await.text();
    assert!(
        maintenance.contains("<dt>Scheduled start</dt>") && maintenance.contains("<dt>Scheduled end</dt>"),
        "{maintenance}"
    );
    assert!(maintenance.contains("2 hours"), "{maintenance}");
}

#[tokio::test]
async fn untranslated_notices_fall_back_to_japanese_and_say_so() {
    let app = TestApp::new();
    let html = app.get("/en/notices/japanese-only").await.text();
    assert!(html.contains("日本語だけのお知らせ"));
    assert!(html.contains("This notice is available in Japanese only."));
    assert!(html.contains("<div lang=\"ja\" class=\"markdown\">"), "the Japanese body says so: {html}");
    assert!(!html.contains("<script>alert"), "raw script in the body must be removed: {html}");
    assert!(html.contains("<h1 lang=\"ja\">日本語だけのお知らせ</h1>"), "and so does its title: {html}");
    let translated = app.get("/en/notices/slow-api").await.text();
    assert!(!translated.contains("<div lang=\"ja\"") && !translated.contains("<h1 lang="), "{translated}");
    // In lists too: a screen reader reads the Japanese title as Japanese.
    let list = app.get("/en/notices/page/2").await.text();
    assert!(list.contains("<title>All notices (Page 2) | Test Status</title>"), "each page its own title");
    assert!(list.contains("<h3 lang=\"ja\"><a href=\"/en/notices/japanese-only\">"), "{list}");
    assert!(list.contains("<h3><a href=\"/en/notices/slow-api\">"), "{list}");
}

#[tokio::test]
async fn language_comes_from_prefix_then_query_then_cookie_then_accept_language() {
    let app = TestApp::new();
    let lang_of = |html: String| html[..60].contains("lang=\"en\"");
    assert!(!lang_of(app.get("/notices").await.text()), "default is Japanese");
    assert!(lang_of(app.request("/notices", &[("accept-language", "en-GB,en;q=0.9,ja;q=0.5")]).await.text()));
    assert!(!lang_of(
        app.request("/notices", &[("accept-language", "en"), ("cookie", "lang=ja")]).await.text()
    ));
    assert!(lang_of(app.request("/notices?lang=en", &[("cookie", "lang=ja")]).await.text()));
    assert!(!lang_of(app.request("/ja/notices", &[("cookie", "lang=en")]).await.text()), "a prefix wins");

    let switched = app.get("/notices?lang=en").await;
    assert_eq!(switched.header("set-cookie"), Some("lang=en; Path=/; Max-Age=31536000; SameSite=Lax"));
    assert_eq!(app.get("/notices").await.header("vary"), Some("Accept-Encoding, Accept-Language, Cookie"));
    assert_eq!(app.get("/en/notices").await.header("vary"), Some("Accept-Encoding"));
}

#[tokio::test]
async fn every_page_has_a_language_switch_to_the_same_page() {
    let app = TestApp::new();
    for path in ["/ja/", "/ja/notices", "/ja/notices/slow-api", "/ja/no-such-page"] {
        let html = app.get(path).await.text();
        let unprefixed = &path[3..];
        let switch = format!(r#"<a href="/en{unprefixed}?lang=en" hreflang="en" lang="en">English</a>"#);
        let switch = if path.contains("no-such") { r#"<a href="/en/?lang=en""#.to_string() } else { switch };
        assert!(html.contains(&switch), "{path}: {html}");
    }
}

#[tokio::test]
async fn notices_are_paginated_and_grouped_by_month() {
    let app = TestApp::new();
    let first = app.get("/en/notices").await.text();
    assert!(first.contains("<h2>March 2021</h2>"), "{first}");
    assert!(first.contains("Page 1 / 2"), "{first}");
    assert!(first.contains(r#"<a rel="next" href="/en/notices/page/2">"#), "{first}");
    // Newest first: the scheduled maintenance (27 March) before the outage (1 March).
    assert!(first.find("api-maintenance").unwrap() < first.find("delivery-outage").unwrap());

    let by_query = app.get("/en/notices?page=2").await;
    let by_path = app.get("/en/notices/page/2").await;
    assert_eq!(by_query.status, StatusCode::OK);
    assert_eq!(by_query.body, by_path.body);
    let second = by_path.text();
    assert!(
        second.contains("<h2>January 2021</h2>") && second.contains("<h2>December 2020</h2>"),
        "{second}"
    );
    assert!(second.contains(r#"<a rel="prev" href="/en/notices">"#), "{second}");

    for bad in ["/en/notices?page=3", "/en/notices?page=0", "/en/notices?page=x", "/en/notices/page/1"] {
        assert_eq!(app.get(bad).await.status, StatusCode::NOT_FOUND, "{bad}");
    }
}

#[tokio::test]
async fn unknown_paths_get_a_real_404_page_in_the_readers_language() {
    let app = TestApp::new();
    let ja = app.get("/no/such/page").await;
    assert_eq!(ja.status, StatusCode::NOT_FOUND);
    assert!(ja.text().contains("ページが見つかりません"));
    let en = app.request("/notices/no-such-notice", &[("accept-language", "en")]).await;
    assert_eq!(en.status, StatusCode::NOT_FOUND);
    assert!(en.text().contains("Page not found"));
    assert_eq!(app.get("/en/api/v1/status.json").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn conditional_get_answers_304() {
    let app = TestApp::new();
    let page = app.get("/en/notices/slow-api").await;
    let etag = page.header("etag").unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    assert_eq!(page.header("cache-control"), Some("public, max-age=30"));
    let again = app.request("/en/notices/slow-api", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let weak =
        app.request("/en/notices/slow-api", &[("if-none-match", &format!("\"other\", W/{etag}"))]).await;
    assert_eq!(weak.status, StatusCode::NOT_MODIFIED);
    let stale = app.request("/en/notices/slow-api", &[("if-none-match", "\"stale\"")]).await;
    assert_eq!(stale.status, StatusCode::OK);
    // Another language is another representation with its own validator.
    assert_ne!(app.get("/ja/notices/slow-api").await.header("etag"), Some(etag.as_str()));
}

#[tokio::test]
async fn bodies_come_compressed_when_accepted() {
    let app = TestApp::new();
    let plain = app.get("/en/").await;
    assert_eq!(plain.header("content-encoding"), None);

    let gzip = app.request("/en/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gzip.body[..]).read_to_end(&mut unzipped).unwrap();
    assert_eq!(unzipped, plain.body);

    let br = app.request("/en/", &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(br.header("content-encoding"), Some("br"));
    let mut unbrotlied = Vec::new();
    brotli::Decompressor::new(&br.body[..], 4096).read_to_end(&mut unbrotlied).unwrap();
    assert_eq!(unbrotlied, plain.body);
    assert!(br.body.len() < plain.body.len() / 2);
    // Each encoding is its own representation, with its own validator (RFC 9110, 8.8.3), and
    // is revalidated with it.
    let tags = [plain.header("etag").unwrap(), gzip.header("etag").unwrap(), br.header("etag").unwrap()];
    assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2], "{tags:?}");
    let again = app.request("/en/", &[("accept-encoding", "gzip"), ("if-none-match", tags[1])]).await;
    assert_eq!(again.status, axum::http::StatusCode::NOT_MODIFIED);
    assert_eq!(again.header("etag"), Some(tags[1]));
    let other = app.request("/en/", &[("accept-encoding", "br"), ("if-none-match", tags[1])]).await;
    assert_eq!(other.status, axum::http::StatusCode::OK, "a gzip validator does not stand for brotli");
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let app = TestApp::new();
    for path in ["/", "/en/notices/slow-api", "/api/v1/status.json", "/missing", "/healthz", "/readyz"] {
        let response = app.get(path).await;
        let csp = response.header("content-security-policy").unwrap_or_else(|| panic!("{path}: no CSP"));
        for directive in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(response.header("referrer-policy"), Some("strict-origin-when-cross-origin"), "{path}");
        assert_eq!(response.header("strict-transport-security"), None, "{path}: HSTS only when configured");
    }
    let tls = TestApp::with_options(&HttpOptions { hsts: true, ..HttpOptions::default() });
    assert!(tls.get("/").await.header("strict-transport-security").unwrap().starts_with("max-age="));
}

#[tokio::test]
async fn only_get_and_head_are_allowed_on_public_pages() {
    let app = TestApp::new();
    let post = app.send(Request::post("/").body(Body::empty()).unwrap()).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    let head = app.send(Request::head("/en/").body(Body::empty()).unwrap()).await;
    assert_eq!(head.status, StatusCode::OK);
}

#[tokio::test]
async fn stylesheet_is_served_and_versioned() {
    let app = TestApp::new();
    let html = app.get("/en/").await.text();
    let start = html.find("/style/site.css?v=").unwrap();
    let href = &html[start..html[start..].find('"').unwrap() + start];
    let css = app.get(href).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(css.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert!(css.text().contains("prefers-color-scheme: dark"));
}

#[tokio::test]
async fn json_api_describes_status_and_notices() {
    let app = TestApp::new();
    let response = app.get("/api/v1/status.json").await;
    assert_eq!(response.header("access-control-allow-origin"), Some("*"), "readable by other sites' pages");
    assert_eq!(app.get("/en/notices/slow-api").await.header("access-control-allow-origin"), None);
    let status: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(status["overall"], "major_outage");
    assert_eq!(status["components"][0]["id"], "email-delivery");
    assert_eq!(status["components"][0]["state"], "major_outage");
    assert_eq!(status["components"][1]["state"], "operational");
    assert_eq!(status["active"][0]["slug"], "delivery-outage");
    assert_eq!(status["upcoming"][0]["slug"], "api-maintenance");

    let list = app.get("/api/v1/notices.json").await;
    assert_eq!(list.header("content-type"), Some("application/json"));
    let list: serde_json::Value = serde_json::from_slice(&list.body).unwrap();
    let slugs: Vec<&str> =
        list["notices"].as_array().unwrap().iter().map(|n| n["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["api-maintenance", "delivery-outage", "slow-api", "japanese-only"]);

    let notice: serde_json::Value =
        serde_json::from_slice(&app.get("/api/v1/notices/delivery-outage.json").await.body).unwrap();
    assert_eq!(notice["title"]["en"], "Email delivery stopped");
    assert_eq!(notice["status"], "identified");
    assert_eq!(notice["severity"], "critical");
    assert_eq!(notice["started_at"], "2021-03-01T16:18:00+09:00");
    assert_eq!(notice["resolved_at"], serde_json::Value::Null);
    assert_eq!(notice["updated_at"], "2021-03-01T16:35:00+09:00");
    assert_eq!(notice["url"], "https://status.test/notices/delivery-outage");
    assert_eq!(
        notice["timeline"][1]["text"]["html"]["en"],
        "<p>The cause is <strong>identified</strong>.</p>\n"
    );
    // An unknown document is a 404 its clients can parse.
    let missing = app.get("/api/v1/notices/nope.json").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.header("content-type").unwrap().starts_with("application/json"));
    let error: serde_json::Value = serde_json::from_slice(&missing.body).unwrap();
    assert_eq!(error["error"], "not_found");
}

#[tokio::test]
async fn the_feed_is_valid_atom_with_one_entry_per_notice() {
    let app = TestApp::new();
    let feed = app.get("/en/feed.atom").await;
    assert_eq!(feed.header("content-type"), Some("application/atom+xml; charset=utf-8"));
    let xml = feed.text();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut depth, mut entries, mut seen) = (0usize, 0usize, Vec::new());
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if depth == 0 {
                    assert_eq!(name, "feed");
                    assert!(
                        e.attributes().any(|a| a.unwrap().value.as_ref() == b"http://www.w3.org/2005/Atom")
                    );
                }
                if name == "entry" {
                    entries += 1;
                }
                if depth <= 2 {
                    seen.push(name);
                }
                depth += 1;
            }
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(entries, 4);
    for required in ["id", "title", "updated", "author", "published", "content", "summary"] {
        assert!(seen.iter().any(|s| s == required), "missing <{required}>");
    }
    // Markdown HTML travels escaped inside <content type="html">.
    let contents: Vec<String> = xml
        .split(r#"<content type="html">"#)
        .skip(1)
        .map(|rest| {
            quick_xml::escape::unescape(&rest[..rest.find("</content>").unwrap()]).unwrap().into_owned()
        })
        .collect();
    assert!(contents.iter().any(|c| c.contains("The cause is <strong>identified</strong>.")), "{contents:?}");
    assert!(xml.contains("<id>https://status.test/en/notices/delivery-outage</id>"));
    assert!(
        xml.contains("  <updated>2021-03-15T12:00:00+09:00</updated>"),
        "the newest change of any notice: {xml}"
    );
}

#[tokio::test]
async fn public_pages_and_readiness_do_not_need_the_database() {
    let app = TestApp::new();
    tokio::spawn(app.database.clone().run());
    // Wait (bounded) until the monitor has tried and failed at least once.
    for _ in 0..100 {
        if app.database.state().checked_at.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    let ready: serde_json::Value = serde_json::from_slice(&ready.body).unwrap();
    assert_eq!(ready["content"]["loaded"], true);
    assert_eq!(ready["content"]["notices"], 4);
    assert_eq!(ready["database"]["reachable"], false);
    assert!(ready["database"]["error"].as_str().unwrap().contains("cannot connect"), "{ready}");
    for path in ["/", "/notices", "/en/notices/slow-api", "/api/v1/status.json", "/feed.atom"] {
        assert_eq!(app.get(path).await.status, StatusCode::OK, "{path}");
    }
    assert_eq!(app.get("/healthz").await.text(), "ok\n");
}

#[tokio::test]
async fn the_status_page_says_how_bad_and_names_the_worst_first() {
    let app = TestApp::new();
    // Maintenance under way, newer than the critical incident.
    let maintenance = "+++\ntitle = \"DB保守\"\ntitle_en = \"Database maintenance\"\nkind = \"maintenance\"\nstatus = \"in_progress\"\nstarted_at = 2021-03-02T01:00:00+09:00\nresolved_at = 2021-03-02T03:00:00+09:00\npublished_at = 2021-02-25T10:00:00+09:00\n+++\n\n本文\n\n<!-- lang: en -->\n\nText\n";
    std::fs::write(app.content.join("notices/db-maintenance.md"), maintenance).unwrap();
    app.site.reload();
    let html = app.get("/en/").await.text();
    assert!(html.contains("<h1>Major outage in progress</h1>"), "{html}");
    let at =
        |slug: &str| html.find(&format!("/en/notices/{slug}\"")).unwrap_or_else(|| panic!("{slug}: {html}"));
    assert!(at("delivery-outage") < at("db-maintenance"), "the critical incident first: {html}");
}

#[tokio::test]
async fn a_feed_entry_links_its_sections_on_the_notice_page() {
    let app = TestApp::new();
    let path = app.content.join("notices/slow-api.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let with_heading = text.replacen(
        "<!-- lang: en -->\n",
        "<!-- lang: en -->\n\n## Cause\n\nSee [the cause](#cause).\n",
        1,
    );
    assert_ne!(with_heading, text, "the fixture has an English body");
    std::fs::write(&path, with_heading).unwrap();
    app.site.reload();
    let xml = app.get("/en/feed.atom").await.text();
    let section = "href=&#34;https://status.test/en/notices/slow-api#cause&#34;";
    assert_eq!(xml.matches(section).count(), 2, "the heading's link and the text's: {xml}");
    assert!(!xml.contains("href=&#34;#"), "{xml}");
}

/// A maintenance notice whose file still says `scheduled`, planned from `start` to `end`.
fn scheduled_maintenance(start: chrono::DateTime<chrono::Utc>, end: chrono::DateTime<chrono::Utc>) -> String {
    let jst = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap())
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };
    format!(
        "+++\ntitle = \"経路の切り替え\"\ntitle_en = \"Route switch\"\nkind = \"maintenance\"\nstatus = \"scheduled\"\n\
         components = [\"api\"]\nstarted_at = {}\nresolved_at = {}\npublished_at = {}\n+++\n\n切り替えます。\n",
        jst(start),
        jst(end),
        jst(start - chrono::Duration::days(7)),
    )
}

#[tokio::test]
async fn a_maintenance_left_scheduled_follows_its_plan_on_the_public_site() {
    let app = TestApp::new();
    let now = chrono::Utc::now();
    let hours = chrono::Duration::hours;
    let notices = app.content.join("notices");
    std::fs::write(notices.join("route-switch.md"), scheduled_maintenance(now - hours(1), now + hours(1)))
        .unwrap();
    std::fs::write(notices.join("old-switch.md"), scheduled_maintenance(now - hours(5), now - hours(3)))
        .unwrap();
    app.site.reload();

    // Under way from its start: with the active notices, its component under maintenance.
    let html = app.get("/en/").await.text();
    let [active, upcoming, recent] =
        ["Active incidents and maintenance", "Scheduled maintenance", "Recent notices"]
            .map(|heading| html.find(&format!("<h2>{heading}</h2>")).unwrap());
    assert!(html[active..upcoming].contains("/en/notices/route-switch"), "{html}");
    assert!(
        !html[upcoming..recent].contains("route-switch") && !html[upcoming..recent].contains("old-switch")
    );
    assert!(html.contains(r#"<span class="component-name">API</span><span class="state state-maintenance">Under maintenance</span>"#), "{html}");
    // Completed at its planned end, with the notices that are over.
    assert!(html[recent..].contains("/en/notices/old-switch"), "{html}");
    // The one still ahead stays upcoming.
    assert!(html[upcoming..recent].contains("/en/notices/api-maintenance"), "{html}");

    let page = app.get("/en/notices/route-switch").await.text();
    assert!(page.contains(r#"<span class="badge status-in_progress">In progress</span>"#), "{page}");
    assert!(page.contains("<dt>Started</dt>") && page.contains("<dt>Scheduled end</dt>"), "{page}");
    assert!(page.contains("Shown as in progress from its planned start."), "the timeline says when: {page}");
    let page = app.get("/en/notices/old-switch").await.text();
    assert!(page.contains(r#"<span class="badge status-completed">Completed</span>"#), "{page}");
    assert!(
        page.contains("Shown as in progress from its planned start.")
            && page.contains("Shown as completed at its planned end."),
        "{page}"
    );
    assert!(page.contains("<dt>Ended</dt>"), "{page}");

    let status: serde_json::Value =
        serde_json::from_slice(&app.get("/api/v1/status.json").await.body).unwrap();
    assert_eq!(status["components"][1]["state"], "maintenance");
    let notice: serde_json::Value =
        serde_json::from_slice(&app.get("/api/v1/notices/route-switch.json").await.body).unwrap();
    assert_eq!(notice["status"], "in_progress");
    let started = chrono::DateTime::parse_from_rfc3339(notice["updated_at"].as_str().unwrap()).unwrap();
    assert_eq!(started.timestamp(), (now - hours(1)).timestamp(), "updated when it started: {notice}");

    // The file itself is left as staff wrote it.
    assert!(
        std::fs::read_to_string(notices.join("route-switch.md")).unwrap().contains("status = \"scheduled\"")
    );
    assert_eq!(
        app.site.current().content.notice("route-switch").unwrap().status,
        Some(statusdesk_app::model::Status::Scheduled)
    );
}
