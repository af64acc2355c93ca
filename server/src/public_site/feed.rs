//! The Atom feed of notices, one per language, rendered with askama. Each notice is an entry
//! whose `updated` moves with every timeline update, so feed readers show updates too.

use askama::Template;
use chrono::SecondsFormat;
use statusdesk_app::Lang;

use super::views::Views;
use crate::content::{Content, markdown};

#[derive(Template)]
#[template(path = "feed.xml")]
struct Feed<'a> {
    lang: &'a str,
    title: String,
    self_url: String,
    site_url: String,
    updated: String,
    entries: Vec<Entry>,
}

struct Entry {
    id: String,
    title: String,
    url: String,
    kind: &'static str,
    published: String,
    updated: String,
    summary: String,
    content_html: String,
}

/// Renders the feed of `lang`.
pub fn render(content: &Content, lang: Lang, stylesheet: &str) -> String {
    let views = Views { content, lang, stylesheet };
    let base = &content.site.base_url;
    let t = lang.text();
    let entries: Vec<Entry> = content
        .notices
        .iter()
        .map(|notice| {
            let page = views.notice_page(notice);
            let mut html = String::new();
            for entry in &page.timeline {
                let status = entry.status.map(|s| format!(" [{}]", lang.status(s))).unwrap_or_default();
                html.push_str(&format!(
                    "<p><strong>{}{status}</strong></p>{}",
                    lang.datetime(&entry.at),
                    entry.html
                ));
            }
            html.push_str(&page.body_html);
            let url = format!("{base}/{}/notices/{}", lang.code(), notice.slug);
            // A link to a section (`#cause`) leads to it on the notice's page, not in the reader.
            let html = html.replace("href=\"#", &format!("href=\"{url}#"));
            let summary = match &page.summary.latest_update {
                Some((at, text, _)) => format!("{} {}: {text}", t.latest, lang.datetime(at)),
                None => markdown::to_plain_text(
                    lang.pick(&notice.body.ja, notice.body.en.as_deref().unwrap_or(&notice.body.ja)),
                ),
            };
            Entry {
                id: url.clone(),
                title: format!("[{}] {}", lang.kind(notice.kind), page.summary.title),
                url,
                kind: notice.kind.as_str(),
                published: notice.published_at.to_rfc3339_opts(SecondsFormat::Secs, false),
                updated: content.updated_at(notice).to_rfc3339_opts(SecondsFormat::Secs, false),
                summary,
                content_html: html,
            }
        })
        .collect();
    let updated = content.notices.iter().map(|n| content.updated_at(n)).max().map_or_else(
        || "1970-01-01T00:00:00Z".to_string(),
        |t| t.to_rfc3339_opts(SecondsFormat::Secs, false),
    );
    Feed {
        lang: lang.code(),
        title: content.site.name.get(lang).to_string(),
        self_url: format!("{base}/{}/feed.atom", lang.code()),
        site_url: format!("{base}/{}/", lang.code()),
        updated,
        entries,
    }
    .render()
    .expect("the feed template renders any data")
}
