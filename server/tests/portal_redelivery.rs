//! Redelivery from the portal, through the router on SQLite and PostgreSQL: the form on a
//! release, the confirmation that states what will happen, one request per confirmation however
//! often it is sent, staff acting on a company's behalf with a reason, the daily cap, and the
//! release page following the dispatcher's progress.

mod common;

use axum::http::StatusCode;
use common::portal::*;
use statusdesk::dispatch::{DispatchSettings, Dispatcher, Mailer};
use statusdesk::http::HttpOptions;

macro_rules! on_every_backend {
    ($options:expr, |$app:ident| $body:block) => {{
        let dir = tempfile::tempdir().unwrap();
        for url in database_urls(dir.path()).await {
            let $app = PortalApp::start(&url, $options).await;
            $body
        }
    }};
}

const ORIGIN: (&str, &str) = ("origin", "http://portal.test");

/// Runs a dispatcher over the app's queue until nothing is due, sending to a file outbox.
async fn dispatch_to_outbox(app: &PortalApp) -> statusdesk::dispatch::DispatchReport {
    let outbox = tempfile::tempdir().unwrap();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let mailer = Mailer::outbox(outbox.path().to_path_buf()).unwrap();
    Dispatcher::new(app.store.clone(), mailer, DispatchSettings::default()).run(stopped, true).await.unwrap()
}

/// Every hidden field of the first form posting to `action`, in order.
fn form_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let start =
        html.find(&format!("action=\"{action}\"")).unwrap_or_else(|| panic!("no form to {action}: {html}"));
    let form = &html[start..html[start..].find("</form>").unwrap() + start];
    form.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once('"').unwrap();
            let value = rest.split_once("value=\"").unwrap().1.split('"').next().unwrap();
            (name.to_string(), value.replace("&amp;", "&"))
        })
        .collect()
}

fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test]
async fn a_company_user_confirms_a_redelivery_once_and_watches_it_complete() {
    on_every_backend!(HttpOptions::default(), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        let release = format!("/portal/releases/{BIG_RELEASE}");
        let page = browser.get(&release).await.text();
        let csrf = hidden_field(&page, "csrf");
        // Everything undelivered that the filter shows: 100 of the 250 recipients (25 each not
        // sent, bounced, deferred, failed); the bounced ones went to addresses that do not
        // exist, and are left out with the reason.
        let plan = browser
            .post(
                &format!("{release}/redeliver"),
                &[("csrf", &csrf), ("scope", "filter"), ("status", "undelivered"), ("q", "")],
                &[ORIGIN],
            )
            .await;
        assert_eq!(plan.status, StatusCode::OK, "{}: {}", app.url, plan.text());
        let confirm_page = plan.text();
        assert!(confirm_page.contains("75件の宛先に、75件のメールを再送します。"), "{confirm_page}");
        assert!(
            confirm_page.contains(
                "<li data-reason=\"address_not_found\">宛先のアドレスまたはドメインが存在しない(受信側サーバーの回答。再送しても届きません): 25</li>"
            ),
            "{confirm_page}"
        );
        assert_eq!(app.store.release_redeliveries(1, BIG_RELEASE).await.unwrap().len(), 0, "nothing yet");

        let confirm = form_fields(&confirm_page, &format!("{release}/redeliver/confirm"));
        assert!(confirm.iter().any(|(k, v)| k == "key" && v.len() >= 16), "an idempotency key: {confirm:?}");
        for _ in 0..3 {
            let done =
                browser.post(&format!("{release}/redeliver/confirm"), &pairs(&confirm), &[ORIGIN]).await;
            assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
            assert_eq!(header(&done.headers, "location"), release);
        }
        let requests = app.store.release_redeliveries(1, BIG_RELEASE).await.unwrap();
        assert_eq!(requests.len(), 1, "{}: the same confirmation three times is one request", app.url);
        assert_eq!(requests[0].by_status.get("queued"), Some(&75));
        assert!(!requests[0].on_behalf);

        // The release page shows the progress and reloads itself until it is done.
        let waiting = browser.get(&release).await.text();
        assert!(waiting.contains(r#"<meta http-equiv="refresh" content="5">"#), "{waiting}");
        assert!(waiting.contains("再送待ち: 75"));
        // Asked again, the same recipients are already being redelivered.
        let again = browser
            .post(
                &format!("{release}/redeliver"),
                &[("csrf", &csrf), ("scope", "filter"), ("status", "undelivered")],
                &[ORIGIN],
            )
            .await
            .text();
        assert!(
            again.contains("すでに再送の手続き中: 75") && again.contains("再送できる宛先がありません"),
            "{again}"
        );

        let report = dispatch_to_outbox(&app).await;
        assert_eq!(report.sent, 75);
        let finished = browser.get(&release).await.text();
        assert!(!finished.contains("http-equiv=\"refresh\""), "done: no more reloading");
        assert!(finished.contains("完了") && finished.contains("再送済み: 75"), "{finished}");
        let release_now = app.store.release(1, BIG_RELEASE).await.unwrap().unwrap();
        assert_eq!((release_now.totals.redelivered, release_now.totals.undelivered()), (75, 25));
        let audited = app.store.audit_log(&statusdesk::store::portal::AuditQuery::newest(100)).await.unwrap();
        assert!(audited.iter().any(|e| e.action == "redelivery.request"
            && e.detail.as_deref().is_some_and(|d| d.ends_with(": 75 messages"))));
    });
}

#[tokio::test]
async fn chosen_rows_are_redelivered_and_delivered_ones_are_never_resent() {
    on_every_backend!(HttpOptions::default(), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        let release = format!("/portal/releases/{BIG_RELEASE}");
        let page = browser.get(&format!("{release}?q=reader00")).await.text();
        let csrf = hidden_field(&page, "csrf");
        // reader000–005 were delivered, 006 not sent, 007 bounced, 008 deferred, 009 failed.
        let boxes: Vec<String> = page
            .split("name=\"m\" value=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().to_string())
            .collect();
        assert_eq!(boxes, ["7", "9", "10"], "{}: only undelivered rows have a box", app.url);
        let bounced = page.split("<tr").find(|row| row.contains("reader007@")).unwrap();
        assert!(
            bounced.contains("<td class=\"choose\"></td>")
                && bounced.contains("宛先のメールアドレスが存在しません"),
            "{bounced}"
        );
        // A forged form naming a delivered message (id 1), the bounced one (id 8) and another
        // company's (bravo's) too.
        let mut fields = vec![("csrf", csrf.as_str()), ("scope", "selected"), ("m", "1"), ("m", "8")];
        let bravo_message = "281";
        fields.push(("m", bravo_message));
        fields.extend(boxes.iter().map(|b| ("m", b.as_str())));
        let plan = browser.post(&format!("{release}/redeliver"), &fields, &[ORIGIN]).await.text();
        assert!(plan.contains("3件の宛先に、3件のメールを再送します。"), "{plan}");
        assert!(plan.contains("配信済み(二重に送ることはありません): 1"), "{plan}");
        assert!(plan.contains("再送しても届きません): 1"), "{plan}");
        let confirm = form_fields(&plan, &format!("{release}/redeliver/confirm"));
        browser.post(&format!("{release}/redeliver/confirm"), &pairs(&confirm), &[ORIGIN]).await;
        let requests = app.store.release_redeliveries(1, BIG_RELEASE).await.unwrap();
        assert_eq!(requests[0].by_status.get("queued"), Some(&3), "{}", app.url);
        assert!(app.store.release_redeliveries(2, 101).await.unwrap().is_empty());
        // Until they are sent, their rows say so and cannot be chosen again.
        let page = browser.get(&format!("{release}?q=reader00")).await.text();
        assert_eq!(page.matches("<span class=\"badge being-redelivered\">再送の手続き中</span>").count(), 3);
        assert!(!page.contains("name=\"m\" value=\""), "{page}");
        // With nothing there to choose the page reloads itself to follow the redelivery; where
        // rows can be chosen it does not (a reload would clear them) and says how to follow it.
        assert!(page.contains(r#"<meta http-equiv="refresh" content="5">"#), "{page}");
        let whole = browser.get(&release).await.text();
        assert!(
            whole.contains("name=\"m\" value=\"") && !whole.contains("http-equiv=\"refresh\""),
            "{whole}"
        );
        assert!(whole.contains("このページは自動では更新しません"), "{whole}");
    });
}

#[tokio::test]
async fn staff_redeliver_on_a_companys_behalf_only_with_a_reason() {
    on_every_backend!(HttpOptions::default(), |app| {
        let mut staff = app.browser().logged_in(STAFF_USER).await;
        let release = format!("/portal/releases/{BIG_RELEASE}");
        let page = staff.get(&format!("{release}?company=acme")).await.text();
        assert!(page.contains(&format!("action=\"{release}/redeliver?company=acme\"")), "{page}");
        let csrf = hidden_field(&page, "csrf");
        let plan = staff
            .post(
                &format!("{release}/redeliver?company=acme"),
                &[("csrf", &csrf), ("scope", "filter"), ("status", "not_sent")],
                &[ORIGIN],
            )
            .await
            .text();
        assert!(plan.contains("name=\"reason\""), "staff are asked why: {plan}");
        let action = format!("{release}/redeliver/confirm?company=acme");
        let confirm = form_fields(&plan, &action);
        let refused = staff.post(&action, &pairs(&confirm), &[ORIGIN]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.url);
        assert!(refused.text().contains("代理で再送する理由を入力してください"));
        // "The checked rows" with none checked says so, rather than that nothing is left.
        let none = staff
            .post(
                &format!("{release}/redeliver?company=acme"),
                &[("csrf", &csrf), ("scope", "selected")],
                &[ORIGIN],
            )
            .await;
        assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.url);
        let html = none.text();
        assert!(
            html.contains("宛先が選ばれていません。")
                && !html.contains("<form method=\"post\" action=\"/portal/releases"),
            "{html}"
        );
        // A selection the page does not make (no scope, a status the filter does not know) is
        // refused, never widened to every undelivered recipient.
        let unknown_scope = [("csrf", csrf.as_str()), ("scope", "everything")];
        let unknown_status = [("csrf", csrf.as_str()), ("scope", "filter"), ("status", "zzz")];
        for (fields, says) in [
            (&unknown_scope[..], "再送する宛先の選び方がわかりません。"),
            (&unknown_status[..], "状況 `zzz` はありません。"),
        ] {
            let refused = staff.post(&format!("{release}/redeliver?company=acme"), fields, &[ORIGIN]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.url);
            let html = refused.text();
            assert!(html.contains(says) && !html.contains("件のメールを再送します"), "{html}");
            let mut confirmed = pairs(&confirm);
            confirmed.retain(|(name, _)| !["scope", "status"].contains(name));
            confirmed.extend(fields.iter().skip(1).copied());
            confirmed.push(("reason", "by phone"));
            let refused = staff.post(&action, &confirmed, &[ORIGIN]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.url);
        }
        assert!(app.store.release_redeliveries(1, BIG_RELEASE).await.unwrap().is_empty());
        let mut too_long = pairs(&confirm);
        let essay = "理由".repeat(251);
        too_long.push(("reason", &essay));
        let refused = staff.post(&action, &too_long, &[ORIGIN]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.url);
        assert!(refused.text().contains("理由が長すぎます。500文字以内"), "{}", refused.text());
        let mut with_reason = pairs(&confirm);
        with_reason.push(("reason", "The company asked by phone after the incident"));
        let done = staff.post(&action, &with_reason, &[ORIGIN]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        assert_eq!(header(&done.headers, "location"), format!("{release}?company=acme"));
        let requests = app.store.release_redeliveries(1, BIG_RELEASE).await.unwrap();
        assert!(requests[0].on_behalf);
        assert_eq!(requests[0].by_status.get("queued"), Some(&25));
        let audited = app.store.audit_log(&statusdesk::store::portal::AuditQuery::newest(100)).await.unwrap();
        let line = audited.iter().find(|e| e.action == "redelivery.request").expect("audited");
        assert_eq!(line.actor, STAFF_USER);
        assert!(
            line.detail.as_deref().unwrap().contains("on the company's behalf: The company asked by phone")
        );
    });
}

#[tokio::test]
async fn a_request_over_the_daily_cap_is_refused_clearly() {
    let capped = HttpOptions { redelivery_daily_cap: 30, ..HttpOptions::default() };
    on_every_backend!(capped.clone(), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        let release = format!("/portal/releases/{BIG_RELEASE}");
        let csrf = browser.csrf().await;
        // Said on the confirmation already, with what may still be asked today; no form.
        let plan = browser
            .post(
                &format!("{release}/redeliver"),
                &[("csrf", &csrf), ("scope", "filter"), ("status", "undelivered")],
                &[ORIGIN],
            )
            .await;
        assert_eq!(plan.status, StatusCode::CONFLICT, "{}", app.url);
        let html = plan.text();
        assert!(
            html.contains("1日に再送できるのは30件までのため、75件の依頼は受け付けられません。宛先を30件以内ずつ選んで、日を分けて依頼してください。")
                && !html.contains("redeliver-confirm"),
            "{html}"
        );
        // The filter it was asked from, said and kept on the way back.
        assert!(html.contains("対象: まだ届いていない宛先すべて（表示中のページ以外も含みます）"), "{html}");
        assert!(html.contains(&format!("<a href=\"{release}?status=undelivered\">← 戻る</a>")), "{html}");
        // What the request would have been, never that it will be sent.
        assert!(
            html.contains("件のメールの再送です。上限を超えるため、このままでは再送できません。")
                && !html.contains("件のメールを再送します"),
            "{html}"
        );
        // Within the cap it goes through, and the rest of the day's allowance is what is left.
        let (csrf, chosen) = (csrf.as_str(), ["7", "9", "10", "17"]);
        let mut fields = vec![("csrf", csrf), ("scope", "selected")];
        fields.extend(chosen.iter().map(|m| ("m", *m)));
        let plan = browser.post(&format!("{release}/redeliver"), &fields, &[ORIGIN]).await.text();
        let confirm = form_fields(&plan, &format!("{release}/redeliver/confirm"));
        let done = browser.post(&format!("{release}/redeliver/confirm"), &pairs(&confirm), &[ORIGIN]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let over = browser
            .post(
                &format!("{release}/redeliver"),
                &[("csrf", csrf), ("scope", "filter"), ("status", "undelivered")],
                &[ORIGIN],
            )
            .await
            .text();
        assert!(over.contains("1日に再送できるのは30件までのため、71件の依頼は受け付けられません"), "{over}");
        // Within a day's cap, but beyond what is left of today's: what may still be asked.
        let page = browser.get(&format!("{release}?status=undelivered")).await.text();
        let more: Vec<&str> = page
            .split("name=\"m\" value=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap())
            .take(27)
            .collect();
        assert_eq!(more.len(), 27, "{page}");
        let mut fields = vec![("csrf", csrf), ("scope", "selected")];
        fields.extend(more.iter().map(|m| ("m", *m)));
        let plan = browser.post(&format!("{release}/redeliver"), &fields, &[ORIGIN]).await.text();
        assert!(plan.contains("本日はすでに4件の再送を依頼しており、あと26件まで依頼できます"), "{plan}");
    });
}

#[tokio::test]
async fn the_incident_question_is_answered_once_and_redeliver_sends_what_it_left_unsent() {
    on_every_backend!(HttpOptions::default(), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        let home = browser.get("/portal").await.text();
        let action = "/portal/incidents/delivery-outage/answer";
        assert!(home.contains(&format!("action=\"{action}\"")), "{}: the banner asks: {home}", app.url);
        let csrf = hidden_field(&home, "csrf");
        let bogus = browser.post(action, &[("csrf", &csrf), ("answer", "maybe")], &[ORIGIN]).await;
        assert_eq!(bogus.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bogus.text().contains("のどちらかを選んでください"), "{}", bogus.text());
        // "Redeliver" first says what will happen, and records nothing.
        let confirmation = browser.post(action, &[("csrf", &csrf), ("answer", "redeliver")], &[ORIGIN]).await;
        assert_eq!(confirmation.status, StatusCode::OK);
        let page = confirmation.text();
        assert!(page.contains("<h1>再送の確認</h1>") && page.contains("26"), "{page}");
        assert!(
            page.contains("<a href=\"/ja/notices/delivery-outage\">"),
            "the incident links to its notice"
        );
        assert!(
            page.contains(&format!("action=\"{action}\"")) && page.contains(r#"name="confirm" value="1""#)
        );
        assert!(app.store.incident_answer(1, "delivery-outage").await.unwrap().is_none(), "nothing yet");
        let confirm = [("csrf", csrf.as_str()), ("answer", "redeliver"), ("confirm", "1")];
        let answered = browser.post(action, &confirm, &[ORIGIN]).await;
        assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.text());
        assert_eq!(header(&answered.headers, "location"), "/portal");
        let answer = app.store.incident_answer(1, "delivery-outage").await.unwrap().expect("recorded");
        assert_eq!(
            (answer.answer.as_str(), answer.answered_by.as_deref(), answer.on_behalf),
            ("redeliver", Some(ACME_USER), false)
        );
        // 25 unsent on release 1 and 1 on release 2: every message the incident left unsent.
        let audit = app.store.audit_log(&statusdesk::store::portal::AuditQuery::newest(100)).await.unwrap();
        let lines: Vec<_> = audit.iter().filter(|e| e.action == "incident.answer").collect();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].detail.as_deref().unwrap().ends_with(": 26 messages)"), "{:?}", lines[0].detail);

        // Answering again changes nothing: the same answer (a second click) goes back to the
        // portal; the other one (a tab left open) is refused, saying what was answered.
        let fields = [("csrf", csrf.as_str()), ("answer", "redeliver"), ("confirm", "1")];
        assert_eq!(browser.post(action, &fields, &[ORIGIN]).await.status, StatusCode::SEE_OTHER);
        for confirm in ["", "1"] {
            let fields = [("csrf", csrf.as_str()), ("answer", "leave"), ("confirm", confirm)];
            let changed = browser.post(action, &fields, &[ORIGIN]).await;
            assert_eq!(changed.status, StatusCode::CONFLICT, "{}", app.url);
            let html = changed.text();
            assert!(
                html.contains("この障害にはすでに回答済みです（")
                    && html.contains("「未送信のメールを再送する」"),
                "{html}"
            );
        }
        assert_eq!(
            app.store.incident_answer(1, "delivery-outage").await.unwrap().unwrap().answer,
            "redeliver"
        );
        assert_eq!(
            app.store
                .audit_log(&statusdesk::store::portal::AuditQuery::newest(100))
                .await
                .unwrap()
                .iter()
                .filter(|e| e.action == "incident.answer")
                .count(),
            1
        );
        let after = browser.get("/portal").await.text();
        assert!(
            after.contains("回答済み: 未送信のメールを再送する")
                && !after.contains(&format!("action=\"{action}\""))
        );
        // The banner follows the redelivery, reloading itself until it is done.
        assert!(after.contains("<h2>再送の状況</h2>") && after.contains("再送待ち: 26"), "{after}");
        assert!(after.contains(r#"<meta http-equiv="refresh" content="5">"#));
        // Each release's page shows the incident's request too, with that release's share.
        let second = browser.get("/portal/releases/2").await.text();
        let progress = second
            .split("<h2>再送の状況</h2>")
            .nth(1)
            .expect("the request on the release")
            .split("</section>")
            .next()
            .unwrap();
        assert!(
            progress.contains(
                "障害への回答による再送（このリリースの分）: <a href=\"/ja/notices/delivery-outage\">"
            ) && progress.contains("再送待ち: 1<"),
            "{progress}"
        );

        // An incident that did not affect the company cannot be answered.
        let other = browser
            .post(
                "/portal/incidents/api-maintenance/answer",
                &[("csrf", &csrf), ("answer", "leave")],
                &[ORIGIN],
            )
            .await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
    });
}

#[tokio::test]
async fn staff_answer_for_a_company_only_with_a_reason() {
    on_every_backend!(HttpOptions::default(), |app| {
        let mut staff = app.browser().logged_in(STAFF_USER).await;
        let home = staff.get("/portal?company=bravo").await.text();
        let action = "/portal/incidents/delivery-outage/answer?company=bravo";
        assert!(home.contains(&format!("action=\"{}\"", action.replace('&', "&amp;"))), "{home}");
        let csrf = hidden_field(&home, "csrf");
        let refused = staff.post(action, &[("csrf", &csrf), ("answer", "leave")], &[ORIGIN]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.url);
        assert!(refused.text().contains("企業に代わって操作する理由を入力してください"));
        assert!(app.store.incident_answer(2, "delivery-outage").await.unwrap().is_none());
        let asked = staff
            .post(
                action,
                &[("csrf", &csrf), ("answer", "leave"), ("reason", "Bravo chose to resend by hand")],
                &[ORIGIN],
            )
            .await
            .text();
        assert!(app.store.incident_answer(2, "delivery-outage").await.unwrap().is_none());
        let confirm = form_fields(&asked, &action.replace('&', "&amp;"));
        let done = staff.post(action, &pairs(&confirm), &[ORIGIN]).await;
        assert_eq!(header(&done.headers, "location"), "/portal?company=bravo");
        let answer = app.store.incident_answer(2, "delivery-outage").await.unwrap().unwrap();
        assert_eq!((answer.answer.as_str(), answer.on_behalf), ("leave", true));
        let line = app
            .store
            .audit_log(&statusdesk::store::portal::AuditQuery::newest(100))
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.action == "incident.answer")
            .unwrap();
        assert!(line.detail.unwrap().contains("on the company's behalf: Bravo chose to resend by hand"));

        // Redelivering one of its releases anyway, staff are reminded of that answer first.
        let release = format!("/portal/releases/{}/redeliver?company=bravo", BRAVO_RELEASES[0]);
        let plan = staff.post(&release, &[("csrf", &csrf), ("scope", "filter")], &[ORIGIN]).await.text();
        assert!(
            plan.contains(
                "この企業は「メール配信の停止」で届かなかったメールを「再送しない」と回答しています"
            ),
            "{plan}"
        );
    });
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_the_dispatchers_queue() {
    on_every_backend!(HttpOptions::default(), |app| {
        let mut browser = app.session_for(ACME_USER).await;
        assert_eq!(browser.get(&format!("/portal/releases/{BIG_RELEASE}")).await.status, StatusCode::OK);
        assert_eq!(browser.get("/portal/releases/1").await.status, StatusCode::OK);
        assert_eq!(browser.get("/no/such/page").await.status, StatusCode::NOT_FOUND);
        let plan = app
            .store
            .request_redelivery(
                &statusdesk::store::redelivery::NewRequest {
                    company_id: 1,
                    release_id: Some(BIG_RELEASE),
                    requested_by: None,
                    on_behalf_reason: None,
                    idempotency_key: "metrics".into(),
                    daily_cap: 10_000,
                    day_started_at: chrono::Utc::now() - chrono::Duration::hours(1),
                    messages: (1..=BIG_RELEASE_RECIPIENTS as i64).collect(),
                    incident: None,
                },
                chrono::Utc::now() - chrono::Duration::seconds(90),
            )
            .await
            .unwrap();
        let statusdesk::store::redelivery::RequestOutcome::Created { items, .. } = plan else {
            panic!("{plan:?}")
        };

        let metrics = app.browser().get("/metrics").await;
        assert_eq!(metrics.status, StatusCode::OK);
        assert_eq!(header(&metrics.headers, "content-type"), "text/plain; version=0.0.4; charset=utf-8");
        let text = metrics.text();
        let has = |line: &str| assert!(text.lines().any(|l| l == line), "{}: {line} in\n{text}", app.url);
        has(
            "statusdesk_http_requests_total{route=\"/portal/releases/{id}\",method=\"GET\",status=\"200\"} 2",
        );
        has("statusdesk_http_requests_total{route=\"public\",method=\"GET\",status=\"404\"} 1");
        has("statusdesk_http_request_duration_seconds_count{route=\"/portal/releases/{id}\"} 2");
        has("statusdesk_database_up 1");
        has(&format!("statusdesk_redelivery_items{{status=\"queued\"}} {items}"));
        has("statusdesk_redelivery_items{status=\"sending\"} 0");
        has("statusdesk_incident_notifications_unsent 0");
        let waited: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("statusdesk_redelivery_oldest_due_seconds "))
            .expect("the queue's age")
            .parse()
            .unwrap();
        assert!((90.0..3600.0).contains(&waited), "due 90 s ago: {waited}");
    });
}

/// Once everything a "redeliver" answer asked for went out, the incident has left the company
/// nothing undelivered: its banner stays, with the answer and the finished redelivery, and staff
/// still find the company among those the incident concerned.
#[tokio::test]
async fn a_finished_incident_redelivery_stays_on_the_banner_and_with_staff() {
    on_every_backend!(HttpOptions::default(), |app| {
        let mut app = app;
        let mut browser = app.browser().logged_in(ACME_USER).await;
        let csrf = hidden_field(&browser.get("/portal").await.text(), "csrf");
        let confirm = [("csrf", csrf.as_str()), ("answer", "redeliver"), ("confirm", "1")];
        let answered = browser.post("/portal/incidents/delivery-outage/answer", &confirm, &[ORIGIN]).await;
        assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.text());
        let report = dispatch_to_outbox(&app).await;
        assert_eq!(report.sent, 26);
        // The answer sent again (back, a second click) changes nothing and says nothing is wrong.
        let again = browser.post("/portal/incidents/delivery-outage/answer", &confirm, &[ORIGIN]).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text());
        assert_eq!(header(&again.headers, "location"), "/portal");

        // At once, while the incident's figures kept for all companies are those from before the
        // redelivery; and served anew, with them computed after it.
        for restarted in [false, true] {
            if restarted {
                app.restart(HttpOptions::default()).await;
            }
            let home = app.browser().logged_in(ACME_USER).await.get("/portal").await.text();
            let banner = home.split("class=\"incident-banner\"").nth(1).expect("the banner stays");
            assert!(banner.contains("未配信のまま残っているものはありません"), "{restarted}: {banner}");
            assert!(!banner.contains("class=\"affected-releases\""), "{restarted}: {banner}");
            assert!(banner.contains("回答済み: 未送信のメールを再送する"), "{banner}");
            assert!(
                banner.contains("<strong class=\"state\">完了</strong>") && banner.contains("再送済み: 26"),
                "{banner}"
            );
            assert!(!home.contains("http-equiv=\"refresh\""), "done: no more reloading");
        }

        // Staff's list of companies incidents left with undelivered messages is computed when
        // asked: Acme has none left, Bravo its two.
        let pick = app.session_for(STAFF_USER).await.get("/portal").await.text();
        assert!(!pick.contains("/portal?company=acme") && pick.contains("/portal?company=bravo"), "{pick}");
        let impact =
            app.session_for(STAFF_USER).await.get("/staff/notices/delivery-outage/impact").await.text();
        let start = impact.find("<span class=\"slug\">acme</span>").expect("acme is still listed");
        let row = impact[start..].split("</tr>").next().unwrap();
        assert!(row.contains("再送する") && row.contains("26"), "{row}");
    });
}

/// A company that chose to leave an incident's unsent messages is reminded of it when it
/// redelivers a release that incident touched, and not for any other release.
#[tokio::test]
async fn a_leave_answer_is_recalled_only_for_the_releases_its_incident_touched() {
    on_every_backend!(HttpOptions::default(), |app| {
        let mut browser = app.browser().logged_in(ACME_USER).await;
        let csrf = hidden_field(&browser.get("/portal").await.text(), "csrf");
        let action = "/portal/incidents/delivery-outage/answer";
        // Said first what it means, with nothing recorded; then recorded once confirmed.
        let asked = browser.post(action, &[("csrf", &csrf), ("answer", "leave")], &[ORIGIN]).await;
        assert_eq!(asked.status, StatusCode::OK, "{}", app.url);
        let html = asked.text();
        assert!(
            html.contains("この障害で届かなかった26件のメールを、この回答では再送しません。")
                && html.contains("各リリースのページで宛先を選んで再送を依頼できます"),
            "{html}"
        );
        assert!(app.store.incident_answer(1, "delivery-outage").await.unwrap().is_none(), "{}", app.url);
        let confirm = form_fields(&html, action);
        let left = browser.post(action, &pairs(&confirm), &[ORIGIN]).await;
        assert_eq!(left.status, StatusCode::SEE_OTHER, "{}", left.text());
        assert_eq!(app.store.incident_answer(1, "delivery-outage").await.unwrap().unwrap().answer, "leave");
        let plan = async |browser: &mut Browser, release: i64| {
            let action = format!("/portal/releases/{release}/redeliver");
            browser.post(&action, &[("csrf", &csrf), ("scope", "filter")], &[ORIGIN]).await.text()
        };
        let reminder = "「メール配信の停止」で届かなかったメールは「再送しない」とご回答いただいています";
        assert!(plan(&mut browser, 1).await.contains(reminder), "{}: release 1 was touched", app.url);
        let other = plan(&mut browser, 3).await;
        assert!(
            other.contains("<h1>再送の確認</h1>") && !other.contains(reminder),
            "{}: release 3 was not",
            app.url
        );
    });
}
