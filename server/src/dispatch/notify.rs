//! The site's own emails to companies, plain text and HTML (askama templates), in the company's
//! language: the one that tells it its redelivery is done (with the counts and a link to its
//! portal), and the one staff send to tell it an incident affected it (naming its releases and
//! their undelivered emails, with links to the notice and the portal). The second is composed
//! when staff ask for it and kept in the database until the dispatcher sends it.

use std::sync::Arc;

use askama::Template;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use statusdesk_app::Lang;

use crate::public_site::live::LiveSite;
use crate::store::redelivery::{FinishedRequest, NewIncidentNotification};

/// Who the emails come from, and where the portal is.
#[derive(Clone)]
pub struct NoticeSettings {
    pub from: Mailbox,
    /// The portal's address as companies reach it, e.g. `https://status.example.jp`.
    pub portal_url: String,
    /// The published notices, to name an incident by its title; without them an incident's
    /// redelivery is told of without its name.
    pub site: Option<Arc<LiveSite>>,
}

#[derive(Template)]
#[template(path = "redelivery_done.txt")]
struct DoneText<'a> {
    ja: bool,
    company: &'a str,
    what: &'a str,
    /// Support asked for it on the company's behalf.
    on_behalf: bool,
    sent: i64,
    failed: i64,
    unknown: i64,
    link: &'a str,
}

/// The HTML of the same email: its text's fields (through `Deref`), and the subject for its
/// `<title>`.
#[derive(Template)]
#[template(path = "redelivery_done.html")]
struct DoneHtml<'a> {
    subject: &'a str,
    text: &'a DoneText<'a>,
}

impl<'a> std::ops::Deref for DoneHtml<'a> {
    type Target = DoneText<'a>;

    fn deref(&self) -> &DoneText<'a> {
        self.text
    }
}

/// One affected release, as the incident email names it: the messages the incident left
/// undelivered, and how many of them were redelivered since.
pub struct AffectedRelease {
    pub title: String,
    pub messages: i64,
    pub redelivered: i64,
}

#[derive(Template)]
#[template(path = "incident_notice.txt")]
struct IncidentText<'a> {
    ja: bool,
    company: &'a str,
    title: &'a str,
    releases: &'a [AffectedRelease],
    total: i64,
    /// Of `total`, not redelivered yet.
    left: i64,
    /// The company was told of an earlier version of the notice: the email says it is an update.
    told_before: bool,
    notice_link: &'a str,
    portal_link: &'a str,
}

/// The HTML of the same email: its text's fields (through `Deref`), and the subject for its
/// `<title>`.
#[derive(Template)]
#[template(path = "incident_notice.html")]
struct IncidentHtml<'a> {
    subject: &'a str,
    text: &'a IncidentText<'a>,
}

impl<'a> std::ops::Deref for IncidentHtml<'a> {
    type Target = IncidentText<'a>;

    fn deref(&self) -> &IncidentText<'a> {
        self.text
    }
}

/// What an incident email says to one company.
pub struct IncidentEmail<'a> {
    /// `ja` or `en`.
    pub language: &'a str,
    pub company: &'a str,
    /// The notice's title in each language (`en` when translated).
    pub title_ja: &'a str,
    pub title_en: Option<&'a str>,
    pub releases: &'a [AffectedRelease],
    /// The site's address as companies reach it, and the notice's slug.
    pub public_url: &'a str,
    pub notice_slug: &'a str,
    /// The company was told of an earlier version: the email says this one is an update (a
    /// company told for the first time gets the notice as news, whatever its version).
    pub told_before: bool,
}

/// The subject, text and HTML of an incident email.
pub fn compose_incident_email(email: &IncidentEmail) -> Result<(String, String, String), askama::Error> {
    let ja = email.language != "en";
    let title = if ja { email.title_ja } else { email.title_en.unwrap_or(email.title_ja) };
    let told_before = email.told_before;
    let subject = match (ja, told_before) {
        (true, false) => format!("【障害のお知らせ】{title}"),
        (true, true) => format!("【障害のお知らせ・続報】{title}"),
        (false, false) => format!("Incident notice: {title}"),
        (false, true) => format!("Incident notice, update: {title}"),
    };
    let base = email.public_url.trim_end_matches('/');
    let notice_link = format!("{base}/{}/notices/{}", if ja { "ja" } else { "en" }, email.notice_slug);
    let portal_link = format!("{base}/portal");
    let total = email.releases.iter().map(|r| r.messages).sum();
    let left = total - email.releases.iter().map(|r| r.redelivered).sum::<i64>();
    let (company, releases) = (email.company, email.releases);
    let (notice_link, portal_link) = (notice_link.as_str(), portal_link.as_str());
    let fields =
        IncidentText { ja, company, title, releases, total, left, told_before, notice_link, portal_link };
    let html = IncidentHtml { subject: &subject, text: &fields }.render()?;
    Ok((subject, fields.render()?, html))
}

/// The queued incident email as a message; `None` when its address is not an address.
pub fn incident_message(
    notification: &NewIncidentNotification,
    settings: &NoticeSettings,
) -> Option<Message> {
    let to: Mailbox = notification.to_address.parse().ok()?;
    let domain = settings.from.email.domain().to_string();
    let n = notification;
    Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(n.subject.clone())
        .message_id(Some(format!("<incident.{}.{}.{}@{domain}>", n.notice_slug, n.revision, n.company_id)))
        .multipart(MultiPart::alternative_plain_html(n.body_text.clone(), n.body_html.clone()))
        .ok()
}

/// The completion email of `request`; `None` when its contact address is not an address.
pub fn completion_email(request: &FinishedRequest, settings: &NoticeSettings) -> Option<Message> {
    let ja = request.language != "en";
    let incident_title = request.incident.as_deref().and_then(|slug| {
        let published = settings.site.as_ref()?.current();
        let title = published.content.notice(slug)?.title.get(if ja { Lang::Ja } else { Lang::En });
        Some(title.to_string())
    });
    let what = match (&request.release_title, &request.incident, incident_title) {
        (Some(title), _, _) if ja => format!("「{title}」"),
        (Some(title), _, _) => format!("\u{201c}{title}\u{201d}"),
        (None, Some(_), Some(incident)) if ja => format!("「{incident}」で送信されなかったメール"),
        (None, Some(_), Some(incident)) => format!("the messages \u{201c}{incident}\u{201d} left unsent"),
        (None, Some(_), None) if ja => "障害で送信されなかったメール".to_string(),
        (None, _, _) if ja => "ご依頼のメール".to_string(),
        (None, Some(_), None) => "the messages the incident left unsent".to_string(),
        (None, None, _) => "your messages".to_string(),
    };
    let subject = if ja {
        format!("再送が完了しました: {what}")
    } else {
        format!("Redelivery complete: {what}")
    };
    let base = settings.portal_url.trim_end_matches('/');
    let link = match request.release_id {
        Some(id) => format!("{base}/portal/releases/{id}"),
        None => format!("{base}/portal"),
    };
    let (company, sent, failed, unknown) =
        (request.company_name.as_str(), request.sent, request.failed, request.unknown);
    let (what, on_behalf, link) = (what.as_str(), request.on_behalf, link.as_str());
    let fields = DoneText { ja, company, what, on_behalf, sent, failed, unknown, link };
    let (text, html) = (fields.render().ok()?, DoneHtml { subject: &subject, text: &fields }.render().ok()?);
    let to: Mailbox = request.contact_email.parse().ok()?;
    let domain = settings.from.email.domain().to_string();
    Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<redelivery-done.{}@{domain}>", request.id)))
        .multipart(MultiPart::alternative_plain_html(text, html))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(language: &str) -> FinishedRequest {
        FinishedRequest {
            id: 7,
            company_name: "Acme <PR>".into(),
            language: language.into(),
            contact_email: "pr@acme.test".into(),
            release_id: Some(3),
            release_title: Some("Spring & summer".into()),
            incident: None,
            on_behalf: true,
            sent: 145,
            failed: 1,
            unknown: 2,
        }
    }

    #[test]
    fn the_email_speaks_the_companys_language_in_text_and_html() {
        let settings = NoticeSettings {
            from: "statusdesk <noreply@status.test>".parse().unwrap(),
            portal_url: "https://status.test/".into(),
            site: None,
        };
        let ja = String::from_utf8(completion_email(&request("ja"), &settings).unwrap().formatted()).unwrap();
        assert!(ja.contains("Content-Type: multipart/alternative"), "{ja}");
        assert!(ja.contains("Content-Type: text/plain") && ja.contains("Content-Type: text/html"));
        assert!(ja.contains("Message-ID: <redelivery-done.7@status.test>"));
        let en = completion_email(&request("en"), &settings).unwrap();
        let body = String::from_utf8(en.formatted()).unwrap();
        assert!(body.contains("Subject: Redelivery complete:"), "{body}");
        assert!(body.contains("https://status.test/portal/releases/3"));
    }

    #[test]
    fn an_incidents_redelivery_is_named_by_its_notice_when_the_site_is_known() {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/site");
        let site = LiveSite::load(&fixture).unwrap();
        let settings = |site| NoticeSettings {
            from: "statusdesk <noreply@status.test>".parse().unwrap(),
            portal_url: "https://status.test".into(),
            site,
        };
        let incident = |language| FinishedRequest {
            release_id: None,
            release_title: None,
            incident: Some("delivery-outage".into()),
            ..request(language)
        };
        let subject = |request: &FinishedRequest, settings: &NoticeSettings| {
            completion_email(request, settings).unwrap().headers().get_raw("Subject").unwrap().to_string()
        };
        let named = settings(Some(site));
        assert_eq!(
            subject(&incident("en"), &named),
            "Redelivery complete: the messages \u{201c}Email delivery stopped\u{201d} left unsent"
        );
        assert_eq!(
            subject(&incident("ja"), &named),
            "再送が完了しました: 「メール配信の停止」で送信されなかったメール"
        );
        // Without the site (or a notice gone since), it is still told, without the name.
        assert_eq!(
            subject(&incident("en"), &settings(None)),
            "Redelivery complete: the messages the incident left unsent"
        );
    }

    #[test]
    fn the_incident_email_names_the_companys_releases_in_its_language() {
        let releases = [
            AffectedRelease { title: "春の新製品".into(), messages: 148, redelivered: 0 },
            AffectedRelease { title: "Q&A <day>".into(), messages: 7, redelivered: 2 },
        ];
        let email = |language, releases| IncidentEmail {
            language,
            company: "東雲商事株式会社",
            title_ja: "メールの一部が配信されていなかった件",
            title_en: Some("Some emails were not delivered"),
            releases,
            public_url: "https://status.test/",
            notice_slug: "2021-02-unsent",
            told_before: false,
        };
        let (subject, text, html) = compose_incident_email(&email("ja", &releases)).unwrap();
        assert_eq!(subject, "【障害のお知らせ】メールの一部が配信されていなかった件");
        assert!(text.starts_with("東雲商事株式会社 ご担当者様"), "{text}");
        assert!(
            text.contains("- 春の新製品: 配信されなかったメール 148 件\n- Q&A <day>: 配信されなかったメール 7 件（うち 2 件は再送済み）"),
            "{text}"
        );
        assert!(
            text.contains("合計 155 件") && text.contains("https://status.test/ja/notices/2021-02-unsent")
        );
        assert!(text.contains("まだ届いていない 153 件の宛先の確認と、再送のご依頼はポータルから"), "{text}");
        assert!(html.contains("Q&#38;A &#60;day&#62;") || html.contains("Q&amp;A &lt;day&gt;"), "{html}");
        let (subject, text, _) = compose_incident_email(&email("en", &releases)).unwrap();
        assert_eq!(subject, "Incident notice: Some emails were not delivered");
        assert!(
            text.contains(
                "- 春の新製品: 148 not delivered\n- Q&A <day>: 7 not delivered (2 of them redelivered since)"
            ) && text.contains("https://status.test/portal"),
            "{text}"
        );

        // A later version is an update, to a company told of an earlier one; the notice's
        // version numbers stay the site's own.
        let update = IncidentEmail { told_before: true, ..email("ja", &releases) };
        let (subject, text, html) = compose_incident_email(&update).unwrap();
        assert_eq!(subject, "【障害のお知らせ・続報】メールの一部が配信されていなかった件");
        assert!(
            text.contains("このお知らせを更新しました。原因と対応の最新の経過は、下記のページに"),
            "{text}"
        );
        assert!(html.contains("このお知らせを更新しました。"), "{html}");
        assert!(!text.contains("版") && !subject.contains("版"), "{text}");
        let update = IncidentEmail { told_before: true, ..email("en", &releases) };
        let (subject, text, _) = compose_incident_email(&update).unwrap();
        assert_eq!(subject, "Incident notice, update: Some emails were not delivered");
        assert!(text.contains("This notice has been updated: the page below"), "{text}");
        // A company told for the first time gets it as news, whatever the version.
        let first = email("en", &releases);
        let (subject, text, html) = compose_incident_email(&first).unwrap();
        assert_eq!(subject, "Incident notice: Some emails were not delivered");
        assert!(!text.contains("updated") && !html.contains("updated"), "{text}");

        // All of them redelivered already: the email says so and asks for nothing.
        let done = [AffectedRelease { title: "春の新製品".into(), messages: 148, redelivered: 148 }];
        let (_, text, html) = compose_incident_email(&email("ja", &done)).unwrap();
        assert!(text.contains("いずれもすでに再送しました") && !text.contains("再送のご依頼"), "{text}");
        assert!(html.contains("いずれもすでに再送しました") && !html.contains("再送のご依頼"), "{html}");
        let (_, text, _) = compose_incident_email(&email("en", &done)).unwrap();
        assert!(
            text.contains("All of them have been redelivered since") && !text.contains("ask for"),
            "{text}"
        );
    }

    #[test]
    fn names_are_escaped_in_html_and_plain_in_text() {
        let (company, what, link) =
            ("Acme <PR>", "\u{201c}Spring & summer\u{201d}", "https://status.test/portal");
        let fields =
            DoneText { ja: false, company, what, on_behalf: false, sent: 1, failed: 0, unknown: 2, link };
        let html = DoneHtml { subject: "s", text: &fields }.render().unwrap();
        assert!(html.contains("Dear Acme &#60;PR&#62;,") || html.contains("Dear Acme &lt;PR&gt;,"), "{html}");
        assert!(html.contains("may have arrived"), "unknown outcomes are explained");
        let text =
            DoneText { ja: true, company, what, on_behalf: false, sent: 1, failed: 0, unknown: 0, link }
                .render()
                .unwrap();
        assert!(text.starts_with("Acme <PR> ご担当者様") && !text.contains("届いている可能性"), "{text}");
        assert!(!text.contains("サポート担当"), "{text}");
        let behalf =
            DoneText { ja: true, company, what, on_behalf: true, sent: 1, failed: 0, unknown: 0, link };
        let text = behalf.render().unwrap();
        assert!(text.contains("この再送は、サポート担当が貴社に代わってご依頼したものです。"), "{text}");
    }
}
