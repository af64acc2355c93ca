//! The frame around every page: document head, header with navigation and the language
//! switch, footer. Also the small pieces that many pages share.

use leptos::prelude::*;

use crate::i18n::Lang;
use crate::model::{Chrome, ComponentState, Moment, NoticeSummary, Severity, Status};

/// A link to `path` (unprefixed) in the page's language.
pub fn href(lang: Lang, path: &str) -> String {
    format!("/{}{}", lang.code(), path)
}

/// A `<textarea>` that gives back `text` exactly when its form is posted ([`textarea_html`]).
pub fn text_area(
    id: &'static str,
    name: &'static str,
    rows: u32,
    required: bool,
    text: &str,
) -> impl IntoView + use<> {
    view! { <textarea id=id name=name rows=rows.to_string() required=required inner_html=textarea_html(text)></textarea> }
}

/// A text shown to be copied, not sent: a read-only `<textarea>` of as many rows as it has lines
/// (2 to 20).
pub fn copyable_text(id: String, text: &str) -> impl IntoView + use<> {
    let rows = (text.lines().count() + 1).clamp(2, 20).to_string();
    view! { <textarea id=id readonly rows=rows inner_html=textarea_html(text)></textarea> }
}

/// `text` as a `<textarea>`'s content. Leptos writes a textarea's children as they are, so the
/// text is escaped here (else `</textarea>` in it would end the field, and `&amp;` would come
/// back as `&`); and it starts on a new line, which the HTML parser drops, so that a text
/// starting with one keeps it.
fn textarea_html(text: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!("\n{escaped}")
}

/// Renders a complete HTML document: `<!DOCTYPE html>` and the frame around `main`.
pub fn document(chrome: Chrome, main: impl IntoView + 'static) -> String {
    let lang = chrome.lang;
    let t = lang.text();
    let title = format!("{} | {}", chrome.title, chrome.site_name);
    // Absolute, as search engines want them; the unprefixed address negotiates the language.
    // The 404 is at no address of its own: it names none.
    let base = chrome.base_url.as_str();
    let links = chrome.at_path.then(|| {
        let alternates = Lang::ALL
            .iter()
            .map(|&other| {
                view! { <link rel="alternate" hreflang=other.code() href=format!("{base}{}", href(other, &chrome.path))/> }
            })
            .collect_view();
        view! {
            <link rel="canonical" href=format!("{base}{}", href(lang, &chrome.path))/>
            {alternates}
            <link rel="alternate" hreflang="x-default" href=format!("{base}{}", chrome.path)/>
        }
    });
    let current = |path: &str| (chrome.at_path && chrome.path == path).then_some("page");
    let switch = Lang::ALL
        .iter()
        .map(|&other| {
            if other == lang {
                view! { <strong aria-current="true">{other.native_name()}</strong> }.into_any()
            } else {
                let link = format!("{}?lang={}", href(other, &chrome.path), other.code());
                view! { <a href=link hreflang=other.code() lang=other.code()>{other.native_name()}</a> }
                    .into_any()
            }
        })
        .collect_view();
    let html = view! {
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>{title}</title>
                <link rel="stylesheet" href=chrome.stylesheet.clone()/>
                <link rel="alternate" type="application/atom+xml" title=t.feed href=href(lang, "/feed.atom")/>
                {links}
            </head>
            <body>
                <a class="skip-link" href="#main">{t.skip_to_main}</a>
                <header class="site-header">
                    <a class="site-name" href=href(lang, "/")>{chrome.site_name.clone()}</a>
                    <nav aria-label=t.language class="lang-switch">{switch}</nav>
                    <nav aria-label=t.site_nav class="site-nav">
                        <a href=href(lang, "/") aria-current=current("/")>{t.status}</a>
                        <a href=href(lang, "/notices") aria-current=current("/notices")>{t.notices}</a>
                    </nav>
                </header>
                <main id="main">{main}</main>
                <footer class="site-footer">
                    <p>{format!("{}: {}", t.times_in, chrome.zone_label)}</p>
                    <p>
                        <a href=href(lang, "/feed.atom")>{t.feed}</a>
                        " · "
                        <a href="/api/v1/status.json">{t.api}</a>
                    </p>
                </footer>
            </body>
        </html>
    };
    // Leptos marks list and optional positions with empty comments (`<!>`) for hydration; the
    // pages are never hydrated, so they go. Text and sanitised HTML can never contain one.
    format!("<!DOCTYPE html>{}", html.to_html().replace("<!>", ""))
}

/// `<time>` with the machine-readable instant and the local time in words.
pub fn time(lang: Lang, moment: &Moment) -> impl IntoView + use<> {
    view! { <time datetime=moment.rfc3339.clone()>{lang.datetime(moment)}</time> }
}

pub fn status_badge(lang: Lang, status: Status) -> impl IntoView + use<> {
    view! { <span class=format!("badge status-{}", status.as_str())>{lang.status(status)}</span> }
}

pub fn severity_badge(lang: Lang, severity: Severity) -> impl IntoView + use<> {
    view! { <span class=format!("badge severity-{}", severity.as_str())>{lang.severity(severity)}</span> }
}

pub fn state_badge(lang: Lang, state: ComponentState) -> impl IntoView + use<> {
    view! { <span class=format!("state state-{}", state.as_str())>{lang.component_state(state)}</span> }
}

/// A notice in a list: title, badges, times and its latest update.
pub fn notice_card(lang: Lang, notice: NoticeSummary) -> impl IntoView + use<> {
    let t = lang.text();
    let latest = notice.latest_update.clone().map(|(at, text, text_lang)| {
        let text = match text_lang {
            Some(text_lang) => view! { <span lang=text_lang>{text}</span> }.into_any(),
            None => text.into_any(),
        };
        view! {
            <p class="latest">
                <span class="label">{t.latest}</span>" "{time(lang, &at)}" "{text}
            </p>
        }
    });
    let when = notice.started.clone().unwrap_or_else(|| notice.published.clone());
    view! {
        <article class=format!("notice-card kind-{}", notice.kind.as_str())>
            <h3 lang=notice.title_lang><a href=href(lang, &format!("/notices/{}", notice.slug))>{notice.title.clone()}</a></h3>
            <p class="meta">
                <span class="badge kind">{lang.kind(notice.kind)}</span>" "
                {notice.status.map(|s| status_badge(lang, s))}" "
                {notice.severity.map(|s| severity_badge(lang, s))}" "
                {time(lang, &when)}
            </p>
            {latest}
        </article>
    }
}
