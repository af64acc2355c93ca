//! The email that tells a company its redelivery is done: plain text and HTML (askama
//! templates), in the company's language, with the counts and a link to its portal.

use askama::Template;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

use crate::store::redelivery::FinishedRequest;

/// Who the emails come from, and where the portal is.
#[derive(Clone, Debug)]
pub struct NoticeSettings {
    pub from: Mailbox,
    /// The portal's address as companies reach it, e.g. `https://status.example.jp`.
    pub portal_url: String,
}

#[derive(Template)]
#[template(path = "redelivery_done.txt")]
struct DoneText<'a> {
    ja: bool,
    company: &'a str,
    what: &'a str,
    sent: i64,
    failed: i64,
    unknown: i64,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "redelivery_done.html")]
struct DoneHtml<'a> {
    ja: bool,
    subject: &'a str,
    company: &'a str,
    what: &'a str,
    sent: i64,
    failed: i64,
    unknown: i64,
    link: &'a str,
}

/// The completion email of `request`; `None` when its contact address is not an address.
pub fn completion_email(request: &FinishedRequest, settings: &NoticeSettings) -> Option<Message> {
    let ja = request.language != "en";
    let what = match (&request.release_title, &request.incident) {
        (Some(title), _) if ja => format!("「{title}」"),
        (Some(title), _) => format!("\u{201c}{title}\u{201d}"),
        (None, Some(_)) if ja => "障害で送信されなかったメール".to_string(),
        (None, _) if ja => "ご依頼のメール".to_string(),
        (None, Some(_)) => "the messages the incident left unsent".to_string(),
        (None, None) => "your messages".to_string(),
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
    let text = DoneText { ja, company, what: &what, sent, failed, unknown, link: &link }.render().ok()?;
    let html = DoneHtml { ja, subject: &subject, company, what: &what, sent, failed, unknown, link: &link }
        .render()
        .ok()?;
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
    fn names_are_escaped_in_html_and_plain_in_text() {
        let (company, what, link) =
            ("Acme <PR>", "\u{201c}Spring & summer\u{201d}", "https://status.test/portal");
        let html = DoneHtml { ja: false, subject: "s", company, what, sent: 1, failed: 0, unknown: 2, link }
            .render()
            .unwrap();
        assert!(html.contains("Dear Acme &#60;PR&#62;,") || html.contains("Dear Acme &lt;PR&gt;,"), "{html}");
        assert!(html.contains("may have arrived"), "unknown outcomes are explained");
        let text =
            DoneText { ja: true, company, what, sent: 1, failed: 0, unknown: 0, link }.render().unwrap();
        assert!(text.starts_with("Acme <PR> ご担当者様") && !text.contains("届いている可能性"), "{text}");
    }
}
