//! The JSON API's documents (`/api/v1/...`), described in `docs/api.md`. Language-neutral:
//! every text carries both languages.

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::Serialize;
use statusdesk_app::Lang;
use statusdesk_app::model::ComponentState;

use super::views::Views;
use crate::content::{Content, Notice, Translated, markdown};

#[derive(Serialize)]
pub struct Text {
    pub ja: String,
    pub en: Option<String>,
}

impl From<&Translated> for Text {
    fn from(t: &Translated) -> Self {
        Text { ja: t.ja.clone(), en: t.en.clone() }
    }
}

#[derive(Serialize)]
pub struct StatusDocument {
    pub site: Text,
    pub overall: &'static str,
    pub components: Vec<ComponentDocument>,
    pub active: Vec<NoticeSummary>,
    pub upcoming: Vec<NoticeSummary>,
}

#[derive(Serialize)]
pub struct ComponentDocument {
    pub id: String,
    pub name: Text,
    pub description: Text,
    pub state: &'static str,
}

#[derive(Serialize)]
pub struct NoticeList {
    pub notices: Vec<NoticeSummary>,
}

#[derive(Serialize)]
pub struct NoticeSummary {
    pub slug: String,
    pub url: String,
    pub title: Text,
    pub kind: &'static str,
    pub status: Option<&'static str>,
    pub severity: Option<&'static str>,
    pub components: Vec<String>,
    pub started_at: Option<String>,
    pub resolved_at: Option<String>,
    pub published_at: String,
    pub updated_at: String,
}

#[derive(Serialize)]
pub struct NoticeDocument {
    #[serde(flatten)]
    pub summary: NoticeSummary,
    pub timeline: Vec<TimelineDocument>,
    pub body: MarkdownDocument,
}

#[derive(Serialize)]
pub struct TimelineDocument {
    pub at: String,
    pub status: Option<&'static str>,
    pub text: MarkdownDocument,
    pub reason: Option<Text>,
}

/// Markdown as written, and as rendered (sanitised HTML), in both languages.
#[derive(Serialize)]
pub struct MarkdownDocument {
    pub markdown: Text,
    pub html: Text,
}

impl From<&Translated> for MarkdownDocument {
    fn from(t: &Translated) -> Self {
        MarkdownDocument {
            markdown: t.into(),
            html: Text { ja: markdown::render(&t.ja), en: t.en.as_deref().map(markdown::render) },
        }
    }
}

fn instant(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

pub fn summary(content: &Content, notice: &Notice) -> NoticeSummary {
    NoticeSummary {
        slug: notice.slug.clone(),
        url: format!("{}/notices/{}", content.site.base_url, notice.slug),
        title: (&notice.title).into(),
        kind: notice.kind.as_str(),
        status: notice.status.map(|s| s.as_str()),
        severity: notice.severity.map(|s| s.as_str()),
        components: notice.components.clone(),
        started_at: notice.started_at.map(instant),
        resolved_at: notice.resolved_at.map(instant),
        published_at: instant(notice.published_at),
        updated_at: instant(content.updated_at(notice)),
    }
}

pub fn status(content: &Content, stylesheet: &str) -> StatusDocument {
    // States are language-neutral; any language's view computes them.
    let page = Views { content, lang: Lang::Ja, stylesheet }.status_page();
    let by_slug = |slug: &str| content.notice(slug).map(|n| summary(content, n));
    StatusDocument {
        site: Text { ja: content.site.name.ja.clone(), en: Some(content.site.name.en.clone()) },
        overall: page.overall.as_str(),
        components: content
            .site
            .components
            .iter()
            .map(|c| ComponentDocument {
                id: c.id.clone(),
                name: Text { ja: c.name.ja.clone(), en: Some(c.name.en.clone()) },
                description: Text { ja: c.description.ja.clone(), en: Some(c.description.en.clone()) },
                state: page
                    .components
                    .iter()
                    .find(|v| v.id == c.id)
                    .map_or(ComponentState::Operational, |v| v.state)
                    .as_str(),
            })
            .collect(),
        active: page.active.iter().filter_map(|n| by_slug(&n.slug)).collect(),
        upcoming: page.upcoming.iter().filter_map(|n| by_slug(&n.slug)).collect(),
    }
}

pub fn notices(content: &Content) -> NoticeList {
    NoticeList { notices: content.notices.iter().map(|n| summary(content, n)).collect() }
}

pub fn notice(content: &Content, notice: &Notice) -> NoticeDocument {
    NoticeDocument {
        summary: summary(content, notice),
        timeline: notice
            .timeline
            .iter()
            .map(|e| TimelineDocument {
                at: instant(e.at),
                status: e.status.map(|s| s.as_str()),
                text: (&e.text).into(),
                reason: e.reason.as_ref().map(Text::from),
            })
            .collect(),
        body: (&notice.body).into(),
    }
}
