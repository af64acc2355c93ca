//! The company portal through the router, on SQLite and on PostgreSQL: login, throttling,
//! sessions (rotation, logout, timeouts, disabled users), CSRF, `next=`, tenancy, staff views,
//! filters and keyset paging, the CSV export, and the portal with its database down.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::portal::*;
use statusdesk::http::HttpOptions;
use statusdesk::http::session::SessionSettings;
use statusdesk::http::throttle::{Limit, ThrottleSettings};

/// Runs `test` once per backend, each with a fresh database.
macro_rules! on_every_backend {
    ($options:expr, |$app:ident| $body:block) => {{
        let dir = tempfile::tempdir().unwrap();
        for url in database_urls(dir.path()).await {
            let $app = PortalApp::start(&url, $options).await;
            $body
        }
    }};
}

/// Form fields or headers.
type Pairs<'a> = &'a [(&'a str, &'a str)];

fn options() -> HttpOptions {
    HttpOptions::default()
}

#[tokio::test]
async fn a_company_user_logs_in_and_sees_only_its_releases() {
    on_every_backend!(options(), |app| {
        let mut browser = app.browser();
        let anonymous = browser.get("/portal?q=x").await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "{}", app.url);
        assert_eq!(header(&anonymous.headers, "location"), "/login?next=%2Fportal%3Fq%3Dx");

        let login = browser.log_in(ACME_USER, PASSWORD).await;
        assert_eq!(login.status, StatusCode::SEE_OTHER, "{}: {}", app.url, login.text());
        assert_eq!(header(&login.headers, "location"), "/portal");
        let cookie = login
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("statusdesk-session="))
            .expect("a session cookie");
        assert!(cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax"), "{cookie}");

        let portal = browser.get("/portal").await;
        assert_eq!(portal.status, StatusCode::OK);
        let html = portal.text();
        assert!(html.contains("Acme release 03"), "{html}");
        assert!(!html.contains("Bravo secret"), "another company's release never shows");
        assert_eq!(header(&portal.headers, "cache-control"), "no-store");
        assert!(!header(&portal.headers, "content-security-policy").is_empty());
        assert_eq!(html.matches("<tr class=\"attention\">").count(), 2, "releases 1 and 2 need attention");
    });
}

#[tokio::test]
async fn login_failures_look_the_same_whatever_the_reason() {
    on_every_backend!(options(), |app| {
        app.store.disable_user(ACME_COLLEAGUE, chrono::Utc::now()).await.unwrap();
        let mut answers = Vec::new();
        for (email, password) in
            [(ACME_USER, "wrong password!"), ("nobody@nowhere.example", PASSWORD), (ACME_COLLEAGUE, PASSWORD)]
        {
            let mut browser = app.browser();
            let response = browser.log_in(email, password).await;
            assert!(browser.session_cookie().is_none(), "{email}: no session");
            let csrf = hidden_field(&response.text(), "csrf");
            let body = response.text().replace(&csrf, "TOKEN").replace(email, "EMAIL");
            answers.push((response.status, body));
        }
        assert_eq!(answers[0].0, StatusCode::OK, "{}", app.url);
        assert!(answers[0].1.contains("role=\"alert\""), "{}", answers[0].1);
        assert!(
            answers.iter().all(|a| *a == answers[0]),
            "unknown user, wrong password and disabled user differ"
        );
        // A field left empty is not a failed attempt: the form says what is missing.
        for (email, password) in [("", PASSWORD), (ACME_USER, ""), ("  ", "")] {
            let mut browser = app.browser();
            let response = browser.log_in(email, password).await;
            assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}: {email:?}", app.url);
            let html = response.text();
            assert!(html.contains("メールアドレスとパスワードの両方を入力してください。"), "{html}");
            assert!(browser.session_cookie().is_none());
        }
    });
}

#[tokio::test]
async fn repeated_failures_are_throttled_without_locking_the_user_out_for_good() {
    let limit = Limit {
        failures: 3,
        window: Duration::from_secs(60),
        wait: Duration::from_secs(1),
        max_wait: Duration::from_secs(2),
    };
    let throttled = HttpOptions {
        throttle: ThrottleSettings { per_account: limit, per_client: Limit { failures: 6, ..limit } },
        ..options()
    };
    on_every_backend!(throttled.clone(), |app| {
        let mut browser = app.browser();
        for _ in 0..3 {
            assert_eq!(browser.log_in(ACME_USER, "wrong password!").await.status, StatusCode::OK);
        }
        let refused = browser.log_in(ACME_USER, PASSWORD).await;
        assert_eq!(
            refused.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}: even the right password waits",
            app.url
        );
        assert_eq!(header(&refused.headers, "retry-after"), "1");
        assert!(browser.session_cookie().is_none());
        // The same for an address that does not exist: nothing tells them apart.
        let mut other = Browser::new(app.router.clone(), "192.0.2.20:1");
        for _ in 0..3 {
            other.log_in("nobody@nowhere.example", "wrong password!").await;
        }
        assert_eq!(other.log_in("nobody@nowhere.example", "x").await.status, StatusCode::TOO_MANY_REQUESTS);

        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let mut later = Browser::new(app.router.clone(), "192.0.2.30:1");
        assert_eq!(later.log_in(ACME_USER, PASSWORD).await.status, StatusCode::SEE_OTHER, "the wait ends");

        // One client trying many accounts is throttled too.
        let mut sprayer = Browser::new(app.router.clone(), "192.0.2.40:1");
        for n in 0..6 {
            sprayer.log_in(&format!("guess{n}@acme.example"), "wrong password!").await;
        }
        assert_eq!(sprayer.log_in(BRAVO_USER, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    });
}

#[tokio::test]
async fn each_login_starts_a_new_session_and_logout_ends_it_on_the_server() {
    on_every_backend!(options(), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        let first = browser.session_cookie().unwrap().clone();
        assert_eq!(browser.log_in(ACME_USER, PASSWORD).await.status, StatusCode::SEE_OTHER);
        let second = browser.session_cookie().unwrap().clone();
        assert_ne!(first, second, "{}: a new id at login", app.url);

        let mut replay = Browser::new(app.router.clone(), "192.0.2.10:1");
        replay.cookies.insert("statusdesk-session".into(), first);
        assert_eq!(replay.get("/portal").await.status, StatusCode::SEE_OTHER, "the old id is dead");

        // Typed as an address, /logout leads to the page with the logout form, logging nobody out.
        let typed = browser.get("/logout").await;
        assert_eq!(header(&typed.headers, "location"), "/portal", "{}", app.url);
        assert!(browser.session_cookie().is_some());
        let csrf = browser.csrf().await;
        let out = browser.post("/logout", &[("csrf", &csrf)], &[("origin", "http://portal.test")]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert_eq!(header(&out.headers, "location"), "/login?out=1");
        assert!(browser.session_cookie().is_none(), "the cookie is cleared");
        // A form sent afterwards (from a tab left open) says to log in again; nothing is done.
        let answer = [("csrf", csrf.as_str()), ("answer", "leave")];
        let late = browser
            .post("/portal/incidents/delivery-outage/answer", &answer, &[("origin", "http://portal.test")])
            .await;
        assert_eq!(late.status, StatusCode::FORBIDDEN);
        assert!(
            late.text().contains("<h1>もう一度ログインしてください</h1>")
                && late.text().contains("href=\"/login\"")
        );
        // Logging out again from such a tab: done already, and said so.
        let again = browser.post("/logout", &[("csrf", &csrf)], &[("origin", "http://portal.test")]).await;
        assert_eq!(header(&again.headers, "location"), "/login?out=1");
        let mut stolen = Browser::new(app.router.clone(), "192.0.2.10:1");
        stolen.cookies.insert("statusdesk-session".into(), second);
        assert_eq!(
            stolen.get("/portal").await.status,
            StatusCode::SEE_OTHER,
            "the server forgot the session"
        );
    });
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_lifetime() {
    let short = |idle, lifetime| HttpOptions {
        sessions: SessionSettings {
            idle: Duration::from_millis(idle),
            lifetime: Duration::from_millis(lifetime),
            secure: false,
        },
        ..options()
    };
    on_every_backend!(short(1_000, 60_000), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        assert_eq!(browser.get("/portal").await.status, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(1_300)).await;
        let ended = browser.get("/portal").await;
        assert_eq!(ended.status, StatusCode::SEE_OTHER, "{}: idle", app.url);
        assert!(header(&ended.headers, "location").ends_with("&ended=1"));
        let login = browser.get(header(&ended.headers, "location")).await.text();
        assert!(login.contains("role=\"status\""), "the login page says why: {login}");
    });
    on_every_backend!(short(1_000, 2_000), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        // Active all along, never idle: the lifetime still ends it.
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            assert_eq!(browser.get("/portal").await.status, StatusCode::OK, "{}", app.url);
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(browser.get("/portal").await.status, StatusCode::SEE_OTHER, "{}: lifetime", app.url);
    });
}

#[tokio::test]
async fn disabling_a_user_ends_its_sessions() {
    on_every_backend!(options(), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        assert!(app.store.disable_user(ACME_USER, chrono::Utc::now()).await.unwrap());
        assert_eq!(browser.get("/portal").await.status, StatusCode::SEE_OTHER, "{}", app.url);
        assert!(browser.log_in(ACME_USER, PASSWORD).await.text().contains("role=\"alert\""));
    });
}

#[tokio::test]
async fn forged_posts_are_refused_and_change_nothing() {
    on_every_backend!(options(), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        let csrf = browser.csrf().await;
        let forged: [(Pairs, Pairs); 4] = [
            (&[], &[]),
            (&[("csrf", "0000")], &[]),
            (&[("csrf", &csrf)], &[("origin", "https://evil.example")]),
            (&[("csrf", &csrf)], &[("sec-fetch-site", "cross-site")]),
        ];
        for (fields, headers) in forged {
            let response = browser.post("/logout", fields, headers).await;
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{}: {fields:?} {headers:?}", app.url);
            assert_eq!(browser.get("/portal").await.status, StatusCode::OK, "still logged in");
        }
        // The login form is protected too: its token must match the cookie it came with.
        let mut other = app.browser();
        other.get("/login").await;
        let response = other
            .post("/login", &[("email", ACME_USER), ("password", PASSWORD), ("csrf", "forged")], &[])
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN);
        assert!(other.session_cookie().is_none());
        assert!(response.text().contains("name=\"password\""), "the form comes back, with a fresh token");
    });
}

#[tokio::test]
async fn next_only_leads_to_local_paths() {
    on_every_backend!(options(), |app| {
        let target = format!("/portal/releases/{BIG_RELEASE}?status=undelivered");
        let mut browser = app.browser();
        let response = browser.log_in_with_next(ACME_USER, PASSWORD, &target).await;
        assert_eq!(header(&response.headers, "location"), target, "{}", app.url);
        for outside in ["https://evil.example/", "//evil.example/x", "/\\evil.example"] {
            let response = app.browser().log_in_with_next(ACME_USER, PASSWORD, outside).await;
            assert_eq!(header(&response.headers, "location"), "/portal", "{outside}");
        }
    });
}

#[tokio::test]
async fn another_companys_objects_are_not_found_for_every_route_and_method() {
    on_every_backend!(options(), |app| {
        let mut acme = app.browser().logged_in(ACME_USER).await;
        let csrf = acme.csrf().await;
        let missing = acme.get("/portal/releases/999999").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let before = app.store.release(2, BRAVO_RELEASES[0]).await.unwrap();
        let denied_before = app.audited("portal.denied").await;
        let mut attempts = 0;
        for id in [BRAVO_RELEASES[0].to_string(), BRAVO_RELEASES[1].to_string(), "999999".into(), "x".into()]
        {
            for path in [
                format!("/portal/releases/{id}"),
                format!("/portal/releases/{id}/recipients.csv"),
                format!("/portal/releases/{id}/redeliver"),
                format!("/portal/releases/{id}/redeliver/confirm"),
            ] {
                for with_company in [false, true] {
                    // A company user naming the other company gets nothing more.
                    let path = if with_company { format!("{path}?company=bravo") } else { path.clone() };
                    let get = acme.get(&path).await;
                    assert_eq!(get.status, StatusCode::NOT_FOUND, "{}: GET {path}", app.url);
                    assert_eq!(
                        main(&get.text()),
                        main(&missing.text()),
                        "GET {path}: the same as a missing release"
                    );
                    assert!(!get.text().contains("Bravo secret"));
                    let post =
                        acme.post(&path, &[("csrf", &csrf)], &[("origin", "http://portal.test")]).await;
                    assert_eq!(post.status, StatusCode::NOT_FOUND, "POST {path}");
                    assert_eq!(main(&post.text()), main(&missing.text()));
                    attempts += 2;
                }
            }
        }
        assert_eq!(app.audited("portal.denied").await - denied_before, attempts, "every attempt is audited");
        assert_eq!(app.store.release(2, BRAVO_RELEASES[0]).await.unwrap(), before, "nothing changed");
        // The same routes for acme's own release answer.
        assert_eq!(acme.get(&format!("/portal/releases/{BIG_RELEASE}")).await.status, StatusCode::OK);
        let own_post = acme
            .post(
                &format!("/portal/releases/{BIG_RELEASE}"),
                &[("csrf", &csrf)],
                &[("origin", "http://portal.test")],
            )
            .await;
        assert_eq!(own_post.status, StatusCode::METHOD_NOT_ALLOWED);
        for id in BRAVO_RELEASES {
            assert!(
                app.store.release_redeliveries(2, id).await.unwrap().is_empty(),
                "no request was made for bravo"
            );
        }
    });
}

/// The page's `<main>`: what it says, without the frame (whose language links name the path).
fn main(html: &str) -> &str {
    let start = html.find("<main>").expect("a main element");
    &html[start..html.find("</main>").expect("closed")]
}

#[tokio::test]
async fn staff_see_any_company_and_every_view_is_audited() {
    on_every_backend!(options(), |app| {
        let mut staff = app.browser().logged_in(STAFF_USER).await;
        let pick = staff.get("/portal").await.text();
        assert!(pick.contains("name=\"company\""), "{pick}");
        assert!(pick.contains("/portal?company=acme"), "the incident's companies are offered: {pick}");
        let unknown = staff.get("/portal?company=nope").await;
        assert_eq!(unknown.status, StatusCode::OK);
        assert!(unknown.text().contains("「nope」に該当する企業はありません"));
        // Part of a name, in any case, finds the one company it fits; several are offered.
        let found = staff.get("/portal?undelivered=1&company=BRAVO%20inc").await;
        assert_eq!(header(&found.headers, "location"), "/portal?company=bravo&undelivered=1", "{}", app.url);
        let several = staff.get("/portal?company=a&undelivered=1").await.text();
        assert!(
            several.contains("<h2>該当する企業</h2>")
                && several.contains("<a href=\"/portal?company=acme&amp;undelivered=1\">Acme 株式会社</a>")
                && several.contains("<a href=\"/portal?company=bravo&amp;undelivered=1\">Bravo Inc.</a>"),
            "{several}"
        );
        // A company's link, followed by staff: shown as that company's.
        let followed = staff.get("/portal/releases/101?status=sent").await;
        assert_eq!(header(&followed.headers, "location"), "/portal/releases/101?company=bravo&status=sent");
        let blank = staff.get("/portal/releases/101?company=&q=a").await;
        assert_eq!(header(&blank.headers, "location"), "/portal/releases/101?company=bravo&q=a");

        let views = app.audited("portal.view").await;
        let bravo = staff.get("/portal?company=bravo").await.text();
        assert!(bravo.contains("Bravo secret release 101"), "{}", app.url);
        assert!(bravo.contains("/portal/releases/101?company=bravo"), "links keep the company");
        assert!(!bravo.contains("Acme release"));
        let release = staff.get("/portal/releases/101?company=bravo").await;
        assert_eq!(release.status, StatusCode::OK);
        let csv = staff.get("/portal/releases/101/recipients.csv?company=bravo").await;
        assert_eq!(csv.status, StatusCode::OK);
        assert_eq!(app.audited("portal.view").await, views + 2);
        assert_eq!(app.audited("portal.export").await, 1);
        let log = app.store.audit_log(&statusdesk::store::portal::AuditQuery::newest(5)).await.unwrap();
        assert!(
            log.iter().any(|e| e.actor == STAFF_USER
                && e.target.as_deref() == Some("/portal/releases/101?company=bravo"))
        );
        // A release of another company than the one named is not found.
        assert_eq!(
            staff.get(&format!("/portal/releases/{BIG_RELEASE}?company=bravo")).await.status,
            StatusCode::NOT_FOUND
        );
        // A company user's own views are not audited as staff views.
        let mut acme = app.browser().logged_in(ACME_USER).await;
        acme.get("/portal").await;
        assert_eq!(app.audited("portal.view").await, views + 2);
    });
}

#[tokio::test]
async fn releases_are_searched_filtered_and_paged_by_keyset() {
    on_every_backend!(options(), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        let ids = |html: &str| -> Vec<i64> {
            html.split("href=\"/portal/releases/")
                .skip(1)
                .filter_map(|rest| rest.split('"').next()?.parse().ok())
                .collect()
        };
        let first = browser.get("/portal").await.text();
        // The incident banner comes first (releases 1 and 2 are affected); then the list.
        let banner_end = first.find("class=\"releases\"").unwrap();
        let listed = ids(&first[banner_end..]);
        assert_eq!(listed, (1..=25).collect::<Vec<_>>(), "{}: newest first", app.url);
        assert!(first[..banner_end].contains("incident-banner"), "the incident's banner");
        assert!(
            first[..banner_end].contains("/en/notices/delivery-outage")
                || first[..banner_end].contains("/ja/notices/delivery-outage")
        );

        let older = hidden_link(&first, "next");
        let second = browser.get(&older).await.text();
        let second_ids = ids(&second[second.find("class=\"releases\"").unwrap()..]);
        assert_eq!(second_ids, (26..=30).collect::<Vec<_>>());
        assert!(!second.contains("rel=\"next\""), "no page after the last");
        let back = browser.get(&hidden_link(&second, "prev")).await.text();
        assert_eq!(
            ids(&back[back.find("class=\"releases\"").unwrap()..]),
            listed,
            "newer leads back to the same page"
        );

        let search = browser.get("/portal?q=RELEASE+0").await.text();
        assert_eq!(
            ids(&search[search.find("class=\"releases\"").unwrap()..]),
            (1..=9).filter(|&i| i != 2).collect::<Vec<_>>()
        );
        // Typed full-width, as an input method may: the same search.
        let wide = browser.get(&format!("/portal?q={}", encode_query("ＲＥＬＥＡＳＥ　０"))).await.text();
        assert_eq!(
            ids(&wide[wide.find("class=\"releases\"").unwrap()..]),
            ids(&search[search.find("class=\"releases\"").unwrap()..])
        );
        let undelivered = browser.get("/portal?undelivered=1").await.text();
        assert_eq!(ids(&undelivered[undelivered.find("class=\"releases\"").unwrap()..]), vec![1, 2]);
        // Release n was sent at 12:00 JST on 1 March minus (n - 1) days.
        let window = browser.get("/portal?from=2021-02-25&to=2021-02-26").await.text();
        assert_eq!(
            ids(&window[window.find("class=\"releases\"").unwrap()..]),
            vec![4, 5],
            "both days included"
        );
        let typo = browser.get("/portal?to=March").await.text();
        assert!(
            typo.contains("送信日(まで): 日付は 2021-03-01 のように年-月-日で入力してください: March"),
            "{typo}"
        );
        let bad = browser.get("/portal?from=2021-02-30").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let html = bad.text();
        assert!(
            html.contains("送信日(から): その日付はありません（日の数を確かめてください）: 2021-02-30"),
            "{html}"
        );
        assert!(!html.contains(r#"name="to" value="" aria-invalid"#), "the other field is fine: {html}");
        // Full-width digits, as an input method types them, are the same date.
        let wide =
            browser.get(&format!("/portal?from={}&to=2021-02-26", "２０２１－０２－２５")).await.text();
        assert_eq!(ids(&wide[wide.find("class=\"releases\"").unwrap()..]), vec![4, 5]);
        let reversed = browser.get("/portal?from=2021-02-26&to=2021-02-25").await;
        assert_eq!(reversed.status, StatusCode::UNPROCESSABLE_ENTITY);
        let html = reversed.text();
        let problem = html.split("id=\"filter-problem\"").nth(1).expect("the problem, with its id");
        assert!(
            problem
                .split("</p>")
                .next()
                .unwrap()
                .contains("開始日が終了日より後になっているため、日付の条件を外して表示しています。"),
            "{html}"
        );
        assert!(html.contains("aria-describedby=\"filter-problem\""), "tied to the dates: {html}");
        // The releases are listed without the dates, not as if none matched.
        assert!(ids(&html[html.find("class=\"releases\"").unwrap()..]).len() > 2, "{html}");
        let one_day = browser.get("/portal?from=2021-02-26&to=2021-02-26").await;
        assert_eq!(one_day.status, StatusCode::OK, "a single day is a window");
    });
}

/// The `href` of the pager link with `rel` (`prev`: newer, `next`: older).
fn hidden_link(html: &str, rel: &str) -> String {
    let marker = format!("rel=\"{rel}\" href=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no rel={rel} link")) + marker.len();
    html[start..].split('"').next().unwrap().replace("&amp;", "&")
}

#[tokio::test]
async fn recipients_are_filtered_searched_and_paged() {
    on_every_backend!(options(), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        let addresses = |html: &str| -> Vec<String> {
            html.split("<td class=\"address\">")
                .skip(1)
                .map(|rest| rest.split('<').next().unwrap().to_string())
                .collect()
        };
        let base = format!("/portal/releases/{BIG_RELEASE}");
        let page = browser.get(&base).await.text();
        assert!(page.contains("554 5.7.1 Sending domain is not verified"), "the reply in full");
        let mut seen = addresses(&page);
        assert_eq!(seen.len(), 100, "{}", app.url);
        let mut html = page;
        while html.contains("rel=\"next\"") {
            html = browser.get(&hidden_link(&html, "next")).await.text();
            seen.extend(addresses(&html));
        }
        let expected: Vec<String> =
            (0..BIG_RELEASE_RECIPIENTS).map(|n| format!("reader{n:03}@media.example")).collect();
        assert_eq!(seen, expected, "every recipient once, in address order");
        // A link kept past the end says where the list ends, not that nothing matches.
        let past = browser.get(&format!("{base}?after=zzz%40media.example")).await.text();
        assert!(
            addresses(&past).is_empty() && past.contains("一覧はこのページより前で終わっています"),
            "{past}"
        );
        assert!(past.contains("class=\"first\""), "with the way back: {past}");

        let undelivered = browser.get(&format!("{base}?status=undelivered")).await.text();
        assert_eq!(addresses(&undelivered).len(), 100);
        assert!(
            undelivered.contains("data-status=\"not_sent\"") && !undelivered.contains("data-status=\"sent\"")
        );
        let bounced = browser.get(&format!("{base}?status=bounced")).await.text();
        assert_eq!(addresses(&bounced).len(), 25);
        assert!(bounced.contains("<option value=\"bounced\" selected"), "the filter is kept");
        let search = browser.get(&format!("{base}?q=READER00")).await.text();
        assert_eq!(
            addresses(&search),
            (0..10).map(|n| format!("reader{n:03}@media.example")).collect::<Vec<_>>()
        );
        let wide = browser.get(&format!("{base}?q={}", encode_query("ＲＥＡＤＥＲ００"))).await.text();
        assert_eq!(addresses(&wide), addresses(&search), "full-width, as typed by an input method");
        // A status that is none is said so, on the page and for the export.
        let unknown = browser.get(&format!("{base}?status=bogus")).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unknown.text().contains("状況 `bogus` はありません"), "{}", unknown.text());
        let csv = browser.get(&format!("{base}/recipients.csv?status=bogus")).await;
        assert_eq!(csv.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(csv.text().contains("`bogus`"));
        let wildcard = browser.get(&format!("{base}?q=%25")).await.text();
        assert!(addresses(&wildcard).is_empty(), "% is a character, not a wildcard");
        // An address the page cannot read gets the portal's page saying so, not the framework's.
        let twice = browser.get(&format!("{base}?status=undelivered&status=sent")).await;
        assert_eq!(twice.status, StatusCode::BAD_REQUEST);
        assert_eq!(header(&twice.headers, "content-type"), "text/html; charset=utf-8");
        let html = twice.text();
        assert!(
            html.contains("<h1>リクエストを読み取れませんでした</h1>") && html.contains("duplicate field"),
            "{html}"
        );
        // And so does a form that is not a form.
        let csrf = browser.csrf().await;
        let request = axum::http::Request::post(format!("{base}/redeliver"))
            .header("content-type", "text/plain")
            .header("origin", "http://portal.test")
            .body(axum::body::Body::from(format!("csrf={csrf}&scope=filter")))
            .unwrap();
        let not_a_form = browser.send(request).await;
        assert_eq!(not_a_form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(not_a_form.text().contains("<h1>リクエストを読み取れませんでした</h1>"));
    });
}

#[tokio::test]
async fn the_csv_export_quotes_what_needs_quoting_and_matches_the_filter() {
    on_every_backend!(options(), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        let csv = browser.get(&format!("/portal/releases/{AWKWARD_RELEASE}/recipients.csv")).await;
        assert_eq!(csv.status, StatusCode::OK, "{}", app.url);
        assert_eq!(header(&csv.headers, "content-type"), "text/csv; charset=utf-8");
        assert!(
            header(&csv.headers, "content-disposition")
                .starts_with("attachment; filename=\"release-2-recipients.csv\"")
        );
        assert!(csv.body.starts_with("\u{feff}".as_bytes()), "UTF-8 with a byte-order mark");
        let text = csv.text();
        let rows = parse_csv(text.trim_start_matches('\u{feff}'));
        assert_eq!(rows.len(), 3, "heading and two recipients: {text}");
        assert_eq!(rows[0][0], "リリースID", "headings in the reader's language");
        let awkward = rows.iter().find(|r| r[2] == AWKWARD_ADDRESS).expect("the quoted address survives");
        assert_eq!(awkward[1], AWKWARD_TITLE, "the title with comma, quotes and newline survives");
        assert_eq!(awkward[3], "sent");

        let big = browser
            .get(&format!("/portal/releases/{BIG_RELEASE}/recipients.csv?status=deferred"))
            .await
            .text();
        let rows = parse_csv(big.trim_start_matches('\u{feff}'));
        assert_eq!(rows.len(), 1 + 25);
        assert!(rows[1][11].starts_with("'=HYPERLINK"), "a formula in a reply stays text: {:?}", rows[1]);
        let all = browser.get(&format!("/portal/releases/{BIG_RELEASE}/recipients.csv")).await.text();
        assert_eq!(parse_csv(all.trim_start_matches('\u{feff}')).len(), 1 + BIG_RELEASE_RECIPIENTS);
    });
}

/// A minimal RFC 4180 reader for checking the export: quoted fields, doubled quotes, CRLF.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[tokio::test]
async fn with_the_database_down_the_portal_says_so_and_the_public_site_serves() {
    let app = common::TestApp::new();
    let portal = app.request("/portal", &[("accept-language", "en")]).await;
    assert_eq!(portal.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(portal.text().contains("lang=\"en\""), "{}", portal.text());
    assert_eq!(portal.header("retry-after"), Some("30"));
    let japanese = app.request("/portal/releases/1", &[("accept-language", "ja")]).await;
    assert_eq!(japanese.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(japanese.text().contains("lang=\"ja\""));
    assert_eq!(app.get("/").await.status, StatusCode::OK);
    assert_eq!(app.get("/ja/notices").await.status, StatusCode::OK);
    assert_eq!(app.get("/login").await.status, StatusCode::OK, "the form itself needs no database");
}

#[tokio::test]
async fn over_https_the_session_cookie_is_secure_and_host_prefixed() {
    let https = HttpOptions { hsts: true, ..options() };
    on_every_backend!(https.clone(), |app| {
        let mut browser = app.browser();
        let form = browser.get("/login").await;
        let login_cookie = header(&form.headers, "set-cookie").to_string();
        assert!(
            login_cookie.starts_with("__Host-statusdesk-login=") && login_cookie.ends_with("; Secure"),
            "{login_cookie}"
        );
        let csrf = hidden_field(&form.text(), "csrf");
        let fields = [("email", ACME_USER), ("password", PASSWORD), ("csrf", csrf.as_str())];
        // Over HTTPS a form posted from the plain-HTTP origin is another site's.
        let plain = browser.post("/login", &fields, &[("origin", "http://portal.test")]).await;
        assert_eq!(plain.status, StatusCode::FORBIDDEN, "{}", app.url);
        let csrf = hidden_field(&plain.text(), "csrf");
        let fields = [("email", ACME_USER), ("password", PASSWORD), ("csrf", csrf.as_str())];
        let response = browser.post("/login", &fields, &[("origin", "https://portal.test")]).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER);
        let session = response
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|c| c.starts_with("__Host-statusdesk-session="))
            .expect("the session cookie")
            .to_string();
        assert!(session.ends_with("; Path=/; HttpOnly; SameSite=Lax; Secure"), "{session}");
        assert_eq!(browser.get("/portal").await.status, StatusCode::OK);
        assert!(
            header(&browser.get("/portal").await.headers, "strict-transport-security").contains("max-age=")
        );
    });
}

#[tokio::test]
async fn public_pages_never_touch_the_session() {
    on_every_backend!(options(), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        for path in ["/", "/ja/notices", "/api/v1/status.json", "/feed.atom"] {
            let response = browser.get(path).await;
            assert_eq!(response.status, StatusCode::OK, "{path}");
            assert!(response.headers.get("set-cookie").is_none(), "{path} sets no cookie");
            assert!(!response.text().contains(ACME_USER), "{path} is the same for everyone");
        }
    });
}

/// `text` percent-encoded for a query string.
fn encode_query(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}
