//! The public pages: status overview, the notice archive, one notice with its versions, and "not
//! found".
//! Each is a pure function from its view model to a complete HTML document.

use leptos::prelude::*;

use crate::Lang;
use crate::layout::{document, href, notice_card, severity_badge, state_badge, status_badge, time};
use crate::model::{
    Chrome, Kind, NoticeListPage, NoticePage, RevisionLink, RevisionPage, Status, StatusPage, Translation,
};

/// `/`: every component's state, then active, upcoming and recent notices.
pub fn status_page(chrome: Chrome, page: StatusPage) -> String {
    let lang = chrome.lang;
    let t = lang.text();
    let components = page
        .components
        .into_iter()
        .map(|c| {
            view! {
                <li class="component">
                    <span class="component-name">{c.name}</span>
                    {state_badge(lang, c.state)}
                    <span class="component-description">{c.description}</span>
                </li>
            }
        })
        .collect_view();
    let active = if page.active.is_empty() {
        view! { <p class="empty">{t.no_active}</p> }.into_any()
    } else {
        page.active.into_iter().map(|n| notice_card(lang, n)).collect_view().into_any()
    };
    let upcoming = (!page.upcoming.is_empty()).then(|| {
        view! {
            <section class="upcoming">
                <h2>{t.upcoming}</h2>
                {page.upcoming.into_iter().map(|n| notice_card(lang, n)).collect_view()}
            </section>
        }
    });
    let recent = page.recent.into_iter().map(|n| notice_card(lang, n)).collect_view();
    let main = view! {
        <section class=format!("overall state-{}", page.overall.as_str())>
            <h1>{lang.overall(page.overall)}</h1>
        </section>
        <section class="components">
            <h2>{t.components}</h2>
            <ul class="component-list">{components}</ul>
        </section>
        <section class="active">
            <h2>{t.active}</h2>
            {active}
        </section>
        {upcoming}
        <section class="recent">
            <h2>{t.recent}</h2>
            {recent}
            <p class="more"><a href=href(lang, "/notices")>{t.all_notices}" →"</a></p>
        </section>
    };
    document(chrome, main)
}

/// `/notices`: one page of every notice, newest first, grouped by month.
pub fn notice_list_page(chrome: Chrome, page: NoticeListPage) -> String {
    let lang = chrome.lang;
    let t = lang.text();
    let months = if page.months.is_empty() {
        view! { <p class="empty">{t.no_notices}</p> }.into_any()
    } else {
        page.months
            .into_iter()
            .map(|group| {
                view! {
                    <section class="month">
                        <h2>{lang.month(group.year, group.month)}</h2>
                        {group.notices.into_iter().map(|n| notice_card(lang, n)).collect_view()}
                    </section>
                }
            })
            .collect_view()
            .into_any()
    };
    let page_link = |n: usize| {
        if n == 1 { href(lang, "/notices") } else { href(lang, &format!("/notices/page/{n}")) }
    };
    let newer =
        (page.page > 1).then(|| view! { <a rel="prev" href=page_link(page.page - 1)>"← "{t.previous}</a> });
    let older = (page.page < page.total_pages)
        .then(|| view! { <a rel="next" href=page_link(page.page + 1)>{t.next}" →"</a> });
    let main = view! {
        <h1>{t.notices}</h1>
        {months}
        <nav class="pagination">
            {newer}
            <span class="page-number">{format!("{} {} / {}", t.page, page.page, page.total_pages.max(1))}</span>
            {older}
        </nav>
    };
    document(chrome, main)
}

/// `/notices/{slug}`: the notice with its facts, timeline and body.
pub fn notice_page(chrome: Chrome, page: NoticePage) -> String {
    let lang = chrome.lang;
    document(chrome, notice_main(lang, page))
}

/// A notice as its page shows it, without the page around it: the staff editor's preview.
pub fn notice_article(lang: Lang, page: NoticePage) -> String {
    notice_main(lang, page).to_html()
}

/// What a notice's page holds in its `main`.
fn notice_main(lang: Lang, page: NoticePage) -> impl IntoView + use<> {
    let t = lang.text();
    let n = page.summary;
    let is_maintenance = n.kind == Kind::Maintenance;
    // A maintenance names its times as planned until it has started (its start) or ended; one
    // called off keeps them as planned, and lasted no time.
    let called_off = n.status == Some(Status::Cancelled);
    let planned_start = is_maintenance && matches!(n.status, Some(Status::Scheduled | Status::Cancelled));
    let start_label = if planned_start { t.scheduled_start } else { t.started };
    let end_label =
        if is_maintenance && !n.status.is_some_and(|s| s.ended()) { t.scheduled_end } else { t.ended };
    let fact = |label: &'static str, value: AnyView| view! { <dt>{label}</dt><dd>{value}</dd> };
    let facts = view! {
        {fact(t.kind, lang.kind(n.kind).into_any())}
        {n.status.map(|s| fact(t.state, status_badge(lang, s).into_any()))}
        {n.severity.map(|s| fact(t.severity, severity_badge(lang, s).into_any()))}
        {(!page.components.is_empty()).then(|| fact(t.affected, page.components.join(", ").into_any()))}
        {n.started.as_ref().map(|m| fact(start_label, time(lang, m).into_any()))}
        {n.resolved.as_ref().map(|m| fact(end_label, time(lang, m).into_any()))}
        {page.duration_minutes.filter(|_| !called_off).map(|m| fact(t.duration, lang.duration(m).into_any()))}
        {fact(t.published, time(lang, &n.published).into_any())}
    };
    let timeline = (!page.timeline.is_empty()).then(|| {
        let entries = page
            .timeline
            .into_iter()
            .map(|e| {
                let reason_lang = e.reason_lang;
                let reason = e.reason.map(|r| {
                    view! { <p class="reason"><span class="label">{t.after_resolution}</span>" "<span lang=reason_lang>{r}</span></p> }
                });
                view! {
                    <li>
                        <p class="when">{time(lang, &e.at)}" "{e.status.map(|s| status_badge(lang, s))}</p>
                        {reason}
                        <div class="entry-text" lang=e.text_lang inner_html=e.html></div>
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="timeline">
                <h2>{t.timeline}</h2>
                <ol>{entries}</ol>
            </section>
        }
    });
    let body = (!page.body_html.is_empty()).then(|| {
        view! {
            <section class="body">
                <h2>{t.details}</h2>
                <div class="markdown" lang=page.body_lang inner_html=page.body_html></div>
            </section>
        }
    });
    let untranslated = match page.translation {
        Translation::Complete => None,
        Translation::Partial => Some(t.partly_untranslated),
        Translation::Missing => Some(t.untranslated),
    }
    .map(|text| view! { <p class="untranslated">{text}</p> });
    let impact = page.impact.map(|i| {
        let (heading, summary) = lang.impact_summary(i.companies, i.releases, i.messages);
        view! {
            <section class="impact">
                <h2>{heading}</h2>
                <p>{summary}</p>
                <p class="as-of">{lang.as_of()}{time(lang, &i.as_of)}</p>
            </section>
        }
    });
    let revisions = (page.revisions.len() > 1).then(|| {
        view! {
            <section class="revisions">
                <h2>{lang.revised(page.revisions.len() - 1)}</h2>
                {revision_list(lang, page.revisions, None)}
            </section>
        }
    });
    let main = view! {
        <article class=format!("notice kind-{}", n.kind.as_str())>
            <h1 lang=n.title_lang>{n.title.clone()}</h1>
            {untranslated}
            <dl class="facts">{facts}</dl>
            {impact}
            {timeline}
            {body}
            {revisions}
        </article>
        <p class="more"><a href=href(lang, "/notices")>{t.all_notices}</a></p>
    };
    main
}

/// A notice's versions, each linked (but `current`), with its time and note.
fn revision_list(lang: Lang, revisions: Vec<RevisionLink>, current: Option<u32>) -> impl IntoView {
    let items = revisions
        .into_iter()
        .map(|r| {
            let name = lang.version(r.number);
            let name = if current == Some(r.number) {
                view! { <strong aria-current="page">{name}</strong> }.into_any()
            } else {
                view! { <a href=r.href>{name}</a> }.into_any()
            };
            view! { <li>{name}" "{time(lang, &r.at)}{r.note.map(|n| view! { " — "<span class="note">{n}</span> })}</li> }
        })
        .collect_view();
    view! { <ol class="revision-list">{items}</ol> }
}

/// One published version of a notice: its changes from the version before, and its text.
pub fn revision_page(chrome: Chrome, page: RevisionPage) -> String {
    let lang = chrome.lang;
    let [changes_label, text_label, list_label, current_label] = lang.version_labels();
    let number = page.revision.number;
    let changes = page.changes.map(|diff| {
        view! {
            <section class="changes">
                <h2>{changes_label}</h2>
                <pre class="diff">{diff}</pre>
            </section>
        }
    });
    let main = view! {
        <article class="revision">
            <h1>{page.title}": "{lang.version(number)}</h1>
            <p class="when">{time(lang, &page.revision.at)}{page.revision.note.map(|n| view! { " — "<span class="note">{n}</span> })}</p>
            {changes}
            <section class="source">
                <h2>{text_label}</h2>
                <pre>{page.text}</pre>
            </section>
            <section class="revisions">
                <h2>{list_label}</h2>
                {revision_list(lang, page.all, Some(number))}
            </section>
        </article>
        <p class="more"><a href=page.notice_href>{current_label}</a></p>
    };
    document(chrome, main)
}

/// The page for any path that does not exist.
pub fn not_found_page(chrome: Chrome) -> String {
    let lang = chrome.lang;
    let t = lang.text();
    let main = view! {
        <h1>{t.not_found_title}</h1>
        <p>{t.not_found_body}</p>
        <p><a href=href(lang, "/")>{t.back_home}</a></p>
    };
    document(chrome, main)
}
