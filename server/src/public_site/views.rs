//! From loaded content to the app's view models, in one language: picks the translation, turns
//! instants into the site's local time, renders Markdown, and derives each component's state.

use chrono::{DateTime, FixedOffset, SecondsFormat, TimeZone};
use statusdesk_app::Lang;
use statusdesk_app::model::{
    Chrome, ComponentState, ComponentView, Kind, Moment, MonthGroup, NoticeListPage, NoticePage,
    NoticeSummary, PublicImpact, RevisionLink, RevisionPage, Status, StatusPage, TimelineEntryView,
    Translation,
};

use crate::content::{Content, Notice, Site, Translated, markdown, revisions};

/// How many closed notices the status page lists under "recent".
const RECENT_ON_STATUS_PAGE: usize = 5;

/// Builds the view models of one language.
pub struct Views<'a> {
    pub content: &'a Content,
    pub lang: Lang,
    pub stylesheet: &'a str,
}

impl<'a> Views<'a> {
    fn site(&self) -> &'a Site {
        &self.content.site
    }

    pub fn chrome(&self, path: &str, title: &str) -> Chrome {
        Chrome {
            lang: self.lang,
            site_name: self.site().name.get(self.lang).to_string(),
            base_url: self.site().base_url.clone(),
            path: path.to_string(),
            at_path: true,
            title: title.to_string(),
            stylesheet: self.stylesheet.to_string(),
            zone_label: zone_label(self.site()),
        }
    }

    /// The text in this language, or the main language's when there is no translation.
    fn pick<'t>(&self, text: &'t Translated) -> &'t str {
        text.get(self.lang)
    }

    /// The language `text` is shown in when the page's has no translation of it.
    fn fallback_lang(&self, text: &Translated) -> Option<&'static str> {
        let translated = self.lang == Lang::Ja || text.en.as_deref().is_some_and(|en| !en.trim().is_empty());
        (!translated).then_some(Lang::Ja.code())
    }

    /// How much of `notice` this page's language has: every piece of its text (title, body,
    /// each timeline entry and reason) translated, some of them, or none.
    fn translation(&self, notice: &Notice) -> Translation {
        let written = |t: &Option<String>| t.as_deref().is_some_and(|t| !t.trim().is_empty());
        let body = (!notice.body.ja.trim().is_empty() || written(&notice.body.en)).then_some(&notice.body);
        let entries = notice.timeline.iter().flat_map(|e| std::iter::once(&e.text).chain(&e.reason));
        let (pieces, missing) = std::iter::once(&notice.title)
            .chain(body)
            .chain(entries)
            .fold((0, 0), |(pieces, missing), text| {
                (pieces + 1, missing + usize::from(self.fallback_lang(text).is_some()))
            });
        match missing {
            0 => Translation::Complete,
            m if m == pieces => Translation::Missing,
            _ => Translation::Partial,
        }
    }

    pub fn moment(&self, t: DateTime<FixedOffset>) -> Moment {
        moment(self.site(), t)
    }

    pub fn summary(&self, notice: &Notice) -> NoticeSummary {
        NoticeSummary {
            slug: notice.slug.clone(),
            title: self.pick(&notice.title).to_string(),
            title_lang: self.fallback_lang(&notice.title),
            kind: notice.kind,
            status: notice.status,
            severity: notice.severity,
            started: notice.started_at.map(|t| self.moment(t)),
            resolved: notice.resolved_at.map(|t| self.moment(t)),
            published: self.moment(notice.published_at),
            latest_update: notice.timeline.last().map(|e| {
                let text = markdown::to_plain_text(self.pick(&e.text));
                (self.moment(e.at), text, self.fallback_lang(&e.text))
            }),
        }
    }

    pub fn status_page(&self) -> StatusPage {
        let notices = &self.content.notices;
        let components: Vec<ComponentView> = self
            .site()
            .components
            .iter()
            .map(|c| ComponentView {
                id: c.id.clone(),
                name: c.name.get(self.lang).to_string(),
                description: c.description.get(self.lang).to_string(),
                state: component_state(notices, Some(&c.id)),
            })
            .collect();
        let overall = components
            .iter()
            .map(|c| c.state)
            .chain([component_state(notices, None)])
            .max()
            .unwrap_or(ComponentState::Operational);
        let is_active = |n: &&Notice| n.is_open() && n.status != Some(Status::Scheduled);
        let is_upcoming = |n: &&Notice| n.status == Some(Status::Scheduled);
        let mut upcoming: Vec<&Notice> = notices.iter().filter(is_upcoming).collect();
        upcoming.sort_by_key(|n| n.started_at);
        // Incidents first, the worst first; then maintenance under way (newest first within each).
        let mut active: Vec<&Notice> = notices.iter().filter(is_active).collect();
        active.sort_by_key(|n| (n.kind != Kind::Incident, std::cmp::Reverse(n.severity)));
        StatusPage {
            overall,
            components,
            active: active.into_iter().map(|n| self.summary(n)).collect(),
            upcoming: upcoming.into_iter().map(|n| self.summary(n)).collect(),
            recent: notices
                .iter()
                .filter(|n| !n.is_open())
                .take(RECENT_ON_STATUS_PAGE)
                .map(|n| self.summary(n))
                .collect(),
        }
    }

    /// Page `page` (from 1) of the archive, and how many pages there are.
    pub fn notice_list_page(&self, page: usize) -> NoticeListPage {
        let per_page = self.site().notices_per_page;
        let total_pages = self.content.notices.len().div_ceil(per_page).max(1);
        let mut months: Vec<MonthGroup> = Vec::new();
        for notice in self.content.notices.iter().skip((page - 1) * per_page).take(per_page) {
            let summary = self.summary(notice);
            let local = summary.started.as_ref().unwrap_or(&summary.published).local;
            let (year, month) = (chrono::Datelike::year(&local), chrono::Datelike::month(&local));
            match months.last_mut() {
                Some(group) if group.year == year && group.month == month => group.notices.push(summary),
                _ => months.push(MonthGroup { year, month, notices: vec![summary] }),
            }
        }
        NoticeListPage { months, page, total_pages }
    }

    pub fn notice_page(&self, notice: &Notice) -> NoticePage {
        let summary = self.summary(notice);
        let body_source = self.pick(&notice.body);
        NoticePage {
            components: notice
                .components
                .iter()
                .filter_map(|id| self.site().component(id))
                .map(|c| c.name.get(self.lang).to_string())
                .collect(),
            duration_minutes: match (notice.started_at, notice.resolved_at) {
                (Some(start), Some(end)) => Some((end - start).num_minutes()),
                _ => None,
            },
            timeline: notice
                .timeline
                .iter()
                .map(|e| TimelineEntryView {
                    at: self.moment(e.at),
                    status: e.status,
                    html: markdown::render(self.pick(&e.text)),
                    reason: e.reason.as_ref().map(|r| self.pick(r).to_string()),
                    text_lang: self.fallback_lang(&e.text),
                    reason_lang: e.reason.as_ref().and_then(|r| self.fallback_lang(r)),
                })
                .collect(),
            body_html: markdown::render(body_source),
            body_lang: self.fallback_lang(&notice.body),
            translation: self.translation(notice),
            revisions: self.revision_links(notice),
            impact: self.content.figures.get(&notice.slug).map(|f| PublicImpact {
                as_of: self.moment(f.as_of.fixed_offset()),
                companies: f.companies,
                releases: f.releases,
                messages: f.messages,
            }),
            summary,
        }
    }

    /// The notice's published versions, oldest first; none when there is only the first.
    fn revision_links(&self, notice: &Notice) -> Vec<RevisionLink> {
        let revisions = self.content.revisions(&notice.slug);
        if revisions.len() < 2 {
            return Vec::new();
        }
        revisions
            .iter()
            .map(|r| RevisionLink {
                number: r.number,
                at: self.moment(r.at.fixed_offset()),
                note: r.note.clone(),
                href: format!("/{}{}", self.lang.code(), revision_path(&notice.slug, r.number)),
            })
            .collect()
    }

    /// The pages of the notice's versions, `(path, page)`, when it has more than one.
    pub fn revision_pages(&self, notice: &Notice) -> Vec<(String, RevisionPage)> {
        let all = self.revision_links(notice);
        let revisions = self.content.revisions(&notice.slug);
        // As the public reads them: without the comments staff write for each other.
        let texts: Vec<String> = revisions.iter().map(|r| revisions::public_text(&r.text)).collect();
        let title = self.pick(&notice.title).to_string();
        all.iter()
            .zip(revisions)
            .enumerate()
            .map(|(n, (link, revision))| {
                let changes = n.checked_sub(1).map(|before| {
                    similar::TextDiff::from_lines(&texts[before], &texts[n])
                        .unified_diff()
                        .context_radius(3)
                        .header(
                            &self.lang.version(revisions[before].number),
                            &self.lang.version(revision.number),
                        )
                        .to_string()
                });
                let page = RevisionPage {
                    title: title.clone(),
                    notice_href: format!("/{}/notices/{}", self.lang.code(), notice.slug),
                    revision: link.clone(),
                    changes,
                    text: texts[n].clone(),
                    all: all.clone(),
                };
                (revision_path(&notice.slug, revision.number), page)
            })
            .collect()
    }
}

/// The path of a notice's version, without the language prefix.
pub fn revision_path(slug: &str, number: u32) -> String {
    format!("/notices/{slug}/revisions/{number}")
}

/// The worst state that the open notices put a component in (`None`: notices naming no
/// component, which affect the service as a whole).
fn component_state(notices: &[Notice], component: Option<&str>) -> ComponentState {
    notices
        .iter()
        .filter(|n| n.is_open())
        .filter(|n| match component {
            Some(id) => n.components.iter().any(|c| c == id),
            None => n.components.is_empty() && n.kind == Kind::Incident,
        })
        .map(|n| {
            ComponentState::from_open_notice(
                n.kind,
                n.status.expect("open notices have a status"),
                n.severity,
            )
        })
        .max()
        .unwrap_or(ComponentState::Operational)
}

/// An instant as the site's readers see it.
pub fn moment(site: &Site, t: DateTime<FixedOffset>) -> Moment {
    let local = site.time_zone.from_utc_datetime(&t.naive_utc());
    Moment {
        rfc3339: local.fixed_offset().to_rfc3339_opts(SecondsFormat::Secs, false),
        local: local.naive_local(),
        zone: local.format("%Z").to_string(),
    }
}

/// The zone as readers know it, e.g. `Asia/Tokyo (JST)`: its name and the abbreviation it
/// uses on the site's dates.
fn zone_label(site: &Site) -> String {
    let sample = site.time_zone.from_utc_datetime(&chrono::DateTime::UNIX_EPOCH.naive_utc());
    format!("{} ({})", site.time_zone.name(), sample.format("%Z"))
}
