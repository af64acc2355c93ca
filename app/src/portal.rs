//! The company portal: login, the company's releases with their delivery results, one
//! release's recipients, the staff's company choice, and the portal's error pages.
//!
//! Every page is a complete HTML document rendered from its view model. The portal is never
//! indexed (`noindex`), needs no script, and every form is a plain GET or POST; the ones that
//! post carry the session's CSRF token.

use leptos::prelude::*;

use crate::i18n::Lang;
use crate::layout::{copyable_text, text_area, time};
use crate::model::{
    DeliveryStatus, IncidentAnswerView, IncidentBanner, LeaveConfirmPage, LoginNotice, LoginPage, Moment,
    Pager, PortalChrome, PortalHomePage, RecipientView, RedeliverConfirmPage, RedeliveryProgress,
    ReleasePage, ReleaseRowView, StaffPickPage,
};

/// Renders a complete portal document: `<!DOCTYPE html>` and the frame around `main`.
pub(crate) fn portal_document(chrome: PortalChrome, main: impl IntoView + 'static) -> String {
    let lang = chrome.lang;
    let p = lang.portal();
    let title = format!("{} | {}", chrome.title, chrome.site_name);
    let section = if chrome.staff_console { lang.staff().console } else { p.portal };
    let switch = chrome
        .languages
        .into_iter()
        .map(|(other, link)| {
            if other == lang {
                view! { <strong aria-current="true">{other.native_name()}</strong> }.into_any()
            } else {
                view! { <a href=link hreflang=other.code() lang=other.code()>{other.native_name()}</a> }
                    .into_any()
            }
        })
        .collect_view();
    let user = (!chrome.user_email.is_empty()).then(|| {
        let staff = chrome.staff.then(|| view! { <span class="badge staff">{p.staff}</span>" " });
        let company = chrome.company.map(|c| view! { <strong class="company">{c.name}</strong>" " });
        view! {
            <div class="portal-user">
                <p class="account">
                    {staff}
                    {company}
                    <span class="email">
                        <span class="visually-hidden">{p.signed_in_as}": "</span>
                        {chrome.user_email}
                    </span>
                </p>
                <nav class="site-nav">
                    <a href=chrome.home_href>{p.releases}</a>
                    {chrome.staff.then(|| view! {
                        " "<a href="/staff/notices">{lang.staff().notices}</a>
                        " "<a href="/staff/audit">{lang.staff().audit}</a>
                    })}
                </nav>
                <form method="post" action="/logout" class="logout">
                    <input type="hidden" name="csrf" value=chrome.csrf/>
                    <button type="submit">{p.logout}</button>
                </form>
            </div>
        }
    });
    let html = view! {
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="robots" content="noindex"/>
                {chrome.refresh_seconds.map(|s| view! { <meta http-equiv="refresh" content=s.to_string()/> })}
                <title>{title}</title>
                <link rel="stylesheet" href=chrome.stylesheet/>
            </head>
            <body class="portal">
                <header class="site-header portal-header">
                    <a class="site-name" href="/">{chrome.site_name}</a>
                    <span class="portal-name">{section}</span>
                    <nav aria-label=lang.text().language class="lang-switch">{switch}</nav>
                    {user}
                </header>
                <main>{main}</main>
                <footer class="site-footer">
                    <p><a href="/">{p.status_page}</a></p>
                </footer>
            </body>
        </html>
    };
    // As in `layout::document`: the hydration markers go, nothing is ever hydrated.
    format!("<!DOCTYPE html>{}", html.to_html().replace("<!>", ""))
}

/// `<nav class="pagination">` with the links that exist; nothing when there are none.
fn pager(lang: Lang, pager: Pager) -> Option<impl IntoView + use<>> {
    let p = lang.portal();
    if pager.first.is_none() && pager.newer.is_none() && pager.older.is_none() {
        return None;
    }
    let first = pager.first.map(|h| view! { <a class="first" href=h>{p.first_page}</a> });
    let newer = pager.newer.map(|h| view! { <a rel="prev" href=h>"← "{p.newer}</a> });
    let older = pager.older.map(|h| view! { <a rel="next" href=h>{p.older}" →"</a> });
    Some(view! { <nav class="pagination">{first}{newer}{older}</nav> })
}

/// A local time, or a dash when there is none.
fn time_or_dash(lang: Lang, moment: Option<&Moment>) -> AnyView {
    match moment {
        Some(m) => time(lang, m).into_any(),
        None => "—".into_any(),
    }
}

/// A count in a table cell; `flag` marks a count of undelivered messages above zero.
fn count_cell(lang: Lang, n: i64, flag: bool, label: &'static str) -> impl IntoView + use<> {
    let class = match (flag, n) {
        (true, 1..) => "num nonzero",
        (_, 0) => "num zero",
        _ => "num",
    };
    // A narrow screen shows each row as a card, every count named by its column (`data-label`).
    view! { <td class=class data-label=label>{lang.number(n)}</td> }
}

/// A message box: `role="alert"` for problems, `role="status"` for information.
pub(crate) fn message(text: String, problem: bool) -> AnyView {
    if problem {
        view! { <p class="message problem" role="alert">{text}</p> }.into_any()
    } else {
        view! { <p class="message info" role="status">{text}</p> }.into_any()
    }
}

/// The hidden `company` field of a staff member's GET form.
fn company_field(slug: Option<String>) -> Option<impl IntoView + use<>> {
    slug.map(|slug| view! { <input type="hidden" name="company" value=slug/> })
}

/// A delivery status as a badge, e.g. `<span class="badge delivery delivery-bounced">`.
fn delivery_badge(lang: Lang, status: DeliveryStatus) -> impl IntoView + use<> {
    view! {
        <span class=format!("badge delivery delivery-{}", status.as_str())>
            {lang.delivery_status(status)}
        </span>
    }
}

/// `/login`: the login form, with the reason it is shown again, if any.
pub fn login_page(chrome: PortalChrome, page: LoginPage) -> String {
    let lang = chrome.lang;
    let p = lang.portal();
    let notice = page.notice.map(|notice| match notice {
        LoginNotice::Invalid => message(p.login_invalid.into(), true),
        LoginNotice::Incomplete => message(p.login_incomplete.into(), true),
        LoginNotice::Throttled { minutes } => message(lang.login_throttled(minutes), true),
        LoginNotice::FormExpired => message(p.form_expired.into(), true),
        LoginNotice::SessionEnded => message(p.session_ended.into(), false),
        LoginNotice::LoggedOut => message(p.logged_out.into(), false),
    });
    let next = (!page.next.is_empty()).then(|| view! { <input type="hidden" name="next" value=page.next/> });
    let main = view! {
        <section class="login-box">
            <h1>{p.login_title}</h1>
            {notice}
            <p>{p.login_intro}</p>
            <form method="post" action="/login" class="login">
                <input type="hidden" name="csrf" value=page.csrf/>
                {next}
                <p class="field">
                    <label for="email">{p.email}</label>
                    <input
                        id="email"
                        type="email"
                        name="email"
                        autocomplete="username"
                        required
                        value=page.email
                    />
                </p>
                <p class="field">
                    <label for="password">{p.password}</label>
                    <input
                        id="password"
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                    />
                </p>
                <p class="actions"><button type="submit">{p.login_button}</button></p>
            </form>
        </section>
    };
    portal_document(chrome, main)
}

/// One incident's banner: the notice, how many messages it kept from the company's
/// recipients, and the releases they belong to.
fn incident_banner(lang: Lang, banner: IncidentBanner) -> impl IntoView + use<> {
    let p = lang.portal();
    let releases = banner
        .releases
        .into_iter()
        .map(|r| {
            view! {
                <li>
                    <a href=r.href>{r.title}</a>" "
                    <span class="count">{lang.messages(r.messages)}</span>
                </li>
            }
        })
        .collect_view();
    let undelivered = if banner.messages > 0 {
        view! {
            <p>{lang.incident_messages(banner.messages)}</p>
            <ul class="affected-releases">{releases}</ul>
        }
        .into_any()
    } else {
        view! { <p>{p.incident_none_left}</p> }.into_any()
    };
    view! {
        <section class="incident-banner">
            <p class="banner-label">{p.incident_heading}</p>
            <h2><a href=banner.notice_href>{banner.title}</a></h2>
            {undelivered}
            {incident_question(lang, banner.answer, banner.answer_action, banner.csrf, banner.needs_reason, banner.error)}
            // The portal's home reloads itself while the banner's redelivery runs.
            {redelivery_progress(lang, banner.redelivery.into_iter().collect(), true)}
        </section>
    }
}

/// The incident's question — redeliver the unsent messages, or leave them — or its answer.
fn incident_question(
    lang: Lang,
    answer: Option<IncidentAnswerView>,
    action: String,
    csrf: String,
    needs_reason: bool,
    error: Option<String>,
) -> AnyView {
    let r = lang.redelivery();
    let error = error.map(|e| view! { <p class="notice error" role="alert">{e}</p> });
    if let Some(answer) = answer {
        let said = if answer.redeliver { r.answered_redeliver } else { r.answered_leave };
        let by = answer.by.map(|by| view! { " "<span class="by">{by}</span> });
        let behalf = answer.on_behalf.then(|| view! { " "<span class="badge staff">{r.on_behalf}</span> });
        return view! {
            {error}
            <p class="incident-answer answered">
                <strong>{said}</strong>" ("{time(lang, &answer.at)}{by}")"{behalf}
            </p>
        }
        .into_any();
    }
    let reason = needs_reason.then(|| {
        view! {
            <p class="field">
                <label for="incident-reason">{r.reason_label}</label>
                {text_area("incident-reason", "reason", 2, true, "")}
            </p>
        }
    });
    view! {
        <form method="post" action=action class="incident-answer">
            <input type="hidden" name="csrf" value=csrf/>
            <p class="question">{r.question}</p>
            {error}
            {reason}
            <p class="actions">
                <button type="submit" name="answer" value="redeliver">{r.answer_redeliver}</button>" "
                <button type="submit" name="answer" value="leave" class="secondary">{r.answer_leave}</button>
            </p>
        </form>
    }
    .into_any()
}

/// One release in the list; rows with undelivered messages are marked in words as well as
/// by colour.
fn release_row(lang: Lang, row: ReleaseRowView) -> AnyView {
    let p = lang.portal();
    let t = row.totals;
    let attention = t.undelivered() > 0;
    let mark = attention.then(|| view! { " "<span class="badge attention-mark">{p.needs_attention}</span> });
    let cells = view! {
        <td class="title"><a href=row.href>{row.title}</a>{mark}</td>
        <td class="sent-at" data-label=p.sent_at>{time_or_dash(lang, row.sent_at.as_ref())}</td>
        {count_cell(lang, t.sent, false, lang.delivery_status(DeliveryStatus::Sent))}
        {count_cell(lang, t.redelivered, false, p.redelivered_total)}
        {count_cell(lang, t.deferred, true, lang.delivery_status(DeliveryStatus::Deferred))}
        {count_cell(lang, t.bounced, true, lang.delivery_status(DeliveryStatus::Bounced))}
        {count_cell(lang, t.failed, true, lang.delivery_status(DeliveryStatus::Failed))}
        {count_cell(lang, t.not_sent, true, lang.delivery_status(DeliveryStatus::NotSent))}
        {count_cell(lang, t.unknown, true, lang.delivery_status(DeliveryStatus::Unknown))}
        {count_cell(lang, t.messages(), false, p.total)}
    };
    if attention {
        view! { <tr class="attention">{cells}</tr> }.into_any()
    } else {
        view! { <tr>{cells}</tr> }.into_any()
    }
}

/// `/portal`: incidents that affected the company, the filter form, the company's releases
/// with their delivery totals, and the pager.
pub fn portal_home_page(chrome: PortalChrome, page: PortalHomePage) -> String {
    let lang = chrome.lang;
    let p = lang.portal();
    let f = page.filter;
    let filtered = !f.q.is_empty() || !f.from.is_empty() || !f.to.is_empty() || f.undelivered_only;
    let banners = page.banners.into_iter().map(|b| incident_banner(lang, b)).collect_view();
    let clear =
        filtered.then(|| view! { " "<a class="clear" href=chrome.home_href.clone()>{p.clear_filter}</a> });
    // A date the filter could not take: said above the form, and tied to both date fields.
    let invalid = |field: &str| f.invalid.contains(&field).then_some("true");
    let described = |field: &str| f.invalid.contains(&field).then_some("filter-problem");
    let error =
        f.error.map(|e| view! { <p class="message problem" role="alert" id="filter-problem">{e}</p> });
    let releases = if page.releases.is_empty() {
        let empty = if page.pager.first.is_some() {
            p.past_the_end
        } else if filtered {
            p.no_matching_releases
        } else {
            p.no_releases
        };
        view! { <p class="empty">{empty}</p> }.into_any()
    } else {
        let rows = page.releases.into_iter().map(|r| release_row(lang, r)).collect_view();
        view! {
            <div class="table-wrap">
                <table class="releases">
                    <thead>
                        <tr>
                            <th scope="col">{p.title}</th>
                            <th scope="col">{p.sent_at}</th>
                            <th scope="col" class="num">{lang.delivery_status(DeliveryStatus::Sent)}</th>
                            <th scope="col" class="num">{p.redelivered_total}</th>
                            <th scope="col" class="num">{lang.delivery_status(DeliveryStatus::Deferred)}</th>
                            <th scope="col" class="num">{lang.delivery_status(DeliveryStatus::Bounced)}</th>
                            <th scope="col" class="num">{lang.delivery_status(DeliveryStatus::Failed)}</th>
                            <th scope="col" class="num">{lang.delivery_status(DeliveryStatus::NotSent)}</th>
                            <th scope="col" class="num">{lang.delivery_status(DeliveryStatus::Unknown)}</th>
                            <th scope="col" class="num">{p.total}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let main = view! {
        <h1>{p.releases}</h1>
        {banners}
        {error}
        <form method="get" action="/portal" class="release-filter">
            {company_field(f.company_slug)}
            <p class="field">
                <label for="q">{p.title_words}</label>
                <input id="q" type="search" name="q" value=f.q/>
            </p>
            <p class="field">
                <label for="from">{p.sent_from}</label>
                <input id="from" type="date" name="from" value=f.from aria-invalid=invalid("from") aria-describedby=described("from")/>
            </p>
            <p class="field">
                <label for="to">{p.sent_to}</label>
                <input id="to" type="date" name="to" value=f.to aria-invalid=invalid("to") aria-describedby=described("to")/>
            </p>
            <p class="field check">
                <input
                    id="undelivered"
                    type="checkbox"
                    name="undelivered"
                    value="1"
                    checked=f.undelivered_only
                />
                <label for="undelivered">{p.undelivered_only}</label>
            </p>
            <p class="actions"><button type="submit">{p.apply_filter}</button>{clear}</p>
        </form>
        {releases}
        {pager(lang, page.pager)}
    };
    portal_document(chrome, main)
}

/// `/portal` for staff before a company is chosen: the slug form and the companies that known
/// incidents affected.
pub fn staff_pick_page(chrome: PortalChrome, page: StaffPickPage) -> String {
    let lang = chrome.lang;
    let p = lang.portal();
    let unknown = match (page.unknown_slug.as_deref(), page.matches.is_empty()) {
        (Some(typed), true) => Some(message(lang.unknown_company(typed), true)),
        _ => None,
    };
    let matches = (!page.matches.is_empty()).then(|| {
        let items = page
            .matches
            .into_iter()
            .map(|(company, link)| {
                view! { <li><a href=link>{company.name}</a>" "<span class="slug">{company.slug}</span></li> }
            })
            .collect_view();
        let more = page.more_matches.then(|| view! { <p class="hint">{p.more_matches}</p> });
        view! {
            <section class="company-matches">
                <h2>{p.company_matches}</h2>
                <ul>{items}</ul>
                {more}
            </section>
        }
    });
    let affected = if page.affected.is_empty() {
        view! { <p class="empty">{p.no_affected}</p> }.into_any()
    } else {
        let rows = page
            .affected
            .into_iter()
            .map(|(company, link, undelivered)| {
                view! {
                    <tr>
                        <td class="company">
                            <a href=link>{company.name}</a>" "
                            <span class="slug">{company.slug}</span>
                        </td>
                        {count_cell(lang, undelivered, true, p.undelivered)}
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="companies">
                    <thead>
                        <tr>
                            <th scope="col">{p.company}</th>
                            <th scope="col" class="num">{p.undelivered}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let main = view! {
        <h1>{p.pick_title}</h1>
        {unknown}
        <form method="get" action="/portal" class="company-pick">
            <p class="hint">{p.pick_intro}</p>
            <p class="field">
                <label for="company">{p.company_slug}</label>
                <input
                    id="company"
                    type="text"
                    name="company"
                    required
                    autocomplete="off"
                    spellcheck="false"
                    value=page.unknown_slug.unwrap_or_default()
                />
            </p>
            <p class="actions"><button type="submit">{p.show}</button></p>
        </form>
        {matches}
        <section class="affected-companies">
            <h2>{p.affected_companies}</h2>
            {affected}
        </section>
    };
    portal_document(chrome, main)
}

/// One recipient: address, status, attempts, last attempt, and why it was not delivered
/// (in words, then the receiving server's reply as it was).
fn recipient_row(lang: Lang, r: RecipientView) -> impl IntoView + use<> {
    let p = lang.portal();
    let choosable = r.choosable();
    let redelivered =
        r.redelivered.then(|| view! { " "<span class="badge redelivered">{p.redelivered}</span> });
    let being_redelivered = r
        .being_redelivered
        .then(|| view! { " "<span class="badge being-redelivered">{p.being_redelivered}</span> });
    let reason =
        r.reason.map(|reason| view! { <span class="reason-text">{lang.failure_reason(reason)}</span> });
    let reply = r.smtp_reply.map(|reply| view! { <code class="smtp-reply">{reply}</code> });
    // The boxes belong to the redelivery form by its id.
    let choose = choosable.then(|| {
        let label = format!("{}: {}", lang.redelivery().select, r.address);
        view! { <input type="checkbox" name="m" value=r.message_id.to_string() form="redeliver" aria-label=label/> }
    });
    view! {
        <tr data-status=r.status.as_str()>
            <td class="choose">{choose}</td>
            <td class="address">{r.address}</td>
            <td class="status">{delivery_badge(lang, r.status)}{redelivered}{being_redelivered}</td>
            <td class="num">{lang.number(i64::from(r.attempts))}</td>
            <td class="last-attempt">{time_or_dash(lang, r.last_attempt.as_ref())}</td>
            <td class="reason">{reason}{reply}</td>
        </tr>
    }
}

/// `/portal/releases/{id}`: the release's facts and totals, then its recipients, filtered,
/// with the CSV export of the same selection.
pub fn release_page(chrome: PortalChrome, page: ReleasePage) -> String {
    let lang = chrome.lang;
    let refreshing = chrome.refresh_seconds.is_some();
    let p = lang.portal();
    let release = page.release;
    let t = release.totals;
    let sender_kind = if release.sender_is_default { p.default_sender } else { p.own_sender };
    let total_row = |label: &'static str, n: i64| {
        view! { <tr><th scope="row">{label}</th><td class="num">{lang.number(n)}</td></tr> }
    };
    let totals = view! {
        {total_row(lang.delivery_status(DeliveryStatus::Sent), t.sent)}
        {total_row(p.redelivered_total, t.redelivered)}
        {total_row(lang.delivery_status(DeliveryStatus::Queued), t.queued)}
        {total_row(lang.delivery_status(DeliveryStatus::Deferred), t.deferred)}
        {total_row(lang.delivery_status(DeliveryStatus::Bounced), t.bounced)}
        {total_row(lang.delivery_status(DeliveryStatus::Failed), t.failed)}
        {total_row(lang.delivery_status(DeliveryStatus::NotSent), t.not_sent)}
        {total_row(lang.delivery_status(DeliveryStatus::Unknown), t.unknown)}
    };
    let f = page.filter;
    let option = |value: &'static str, label: &'static str| {
        view! { <option value=value selected={f.status == value}>{label}</option> }
    };
    let options = view! {
        {option("", p.all)}
        {option("undelivered", p.undelivered_only_option)}
        {DeliveryStatus::ALL.iter().map(|&s| option(s.as_str(), lang.delivery_status(s))).collect_view()}
    };
    // The filter's button only when the filter can show undelivered recipients at all.
    let delivered_only = DeliveryStatus::from_keyword(&f.status).is_some_and(|s| !s.is_undelivered());
    let choices = Choices {
        rows: page.recipients.iter().any(RecipientView::choosable),
        undelivered: t.undelivered() > 0 && page.matching > 0 && !delivered_only,
    };
    let recipients = if page.recipients.is_empty() {
        let empty = if page.pager.first.is_some() { p.past_the_end } else { p.no_recipients };
        view! { <p class="empty">{empty}</p> }.into_any()
    } else {
        let rows = page.recipients.into_iter().map(|r| recipient_row(lang, r)).collect_view();
        view! {
            <div class="table-wrap">
                <table class="recipients">
                    <thead>
                        <tr>
                            <th scope="col"><span class="visually-hidden">{lang.redelivery().select}</span></th>
                            <th scope="col">{p.address}</th>
                            <th scope="col">{p.status}</th>
                            <th scope="col" class="num">{p.attempts}</th>
                            <th scope="col">{p.last_attempt}</th>
                            <th scope="col">{p.reason}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let main = view! {
        <article class="release">
            <h1>{release.title}</h1>
            <dl class="facts">
                <dt>{p.sender}</dt>
                <dd>
                    <span class="sender-address">{release.sender_address}</span>" "
                    <span class="sender-kind">{format!("({sender_kind})")}</span>
                </dd>
                <dt>{p.recipient_source}</dt>
                <dd>{lang.recipient_source(&release.recipient_source).to_owned()}</dd>
                <dt>{p.sent_at}</dt>
                <dd>{time_or_dash(lang, release.sent_at.as_ref())}</dd>
            </dl>
            <section class="results">
                <h2>{p.results}</h2>
                <table class="totals">
                    <tbody>{totals}</tbody>
                    <tfoot>{total_row(p.total, t.messages())}</tfoot>
                </table>
            </section>
            {redelivery_progress(lang, page.redeliveries, refreshing)}
            <section class="recipient-list">
                <h2>{p.recipients}</h2>
                {f.error.clone().map(|e| message(e, true))}
                <form method="get" class="recipient-filter">
                    {company_field(f.company_slug.clone())}
                    <p class="field">
                        <label for="status">{p.status}</label>
                        <select id="status" name="status">{options}</select>
                    </p>
                    <p class="field">
                        <label for="q">{p.address_part}</label>
                        <input id="q" type="search" name="q" value=f.q.clone()/>
                    </p>
                    <p class="actions"><button type="submit">{p.apply_filter}</button></p>
                </form>
                <p class="count">
                    {lang.matching_recipients(page.matching)}" "
                    <a class="csv" href=page.csv_href download>{p.csv}</a>
                </p>
                {redeliver_form(lang, &page.redeliver_action, &page.csrf, (&f.status, &f.q), choices)}
                {recipients}
                {pager(lang, page.pager)}
            </section>
        </article>
        <p class="more"><a href=chrome.home_href.clone()>"← "{p.back_to_releases}</a></p>
    };
    portal_document(chrome, main)
}

/// What the redelivery form can offer: rows on the page to check, undelivered recipients in the
/// release for a filter to take.
#[derive(Clone, Copy)]
struct Choices {
    rows: bool,
    undelivered: bool,
}

/// The redelivery form: its checkboxes are in the recipient table (`form="redeliver"`); its two
/// buttons redeliver the chosen rows, or every undelivered recipient of the current filter. Only
/// what there is to redeliver is offered; nothing at all when the release has nothing left.
fn redeliver_form(
    lang: Lang,
    action: &str,
    csrf: &str,
    (status, q): (&str, &str),
    choices: Choices,
) -> Option<impl IntoView + use<>> {
    let r = lang.redelivery();
    let selected = choices.rows.then(
        || view! { <button type="submit" name="scope" value="selected">{r.selected_button}</button>" " },
    );
    choices.undelivered.then(|| view! {
        <form id="redeliver" method="post" action=action.to_string() class="redeliver">
            <input type="hidden" name="csrf" value=csrf.to_string()/>
            <input type="hidden" name="status" value=status.to_string()/>
            <input type="hidden" name="q" value=q.to_string()/>
            <p class="hint">{r.intro}</p>
            <p class="actions">
                {selected}
                <button type="submit" name="scope" value="filter" class="secondary">{r.filter_button}</button>
            </p>
        </form>
    })
}

/// The progress of each redelivery request; while one runs on a page that does not reload
/// itself (`reloads_itself` false: rows there can be chosen), how to see the latest.
fn redelivery_progress(
    lang: Lang,
    requests: Vec<RedeliveryProgress>,
    reloads_itself: bool,
) -> impl IntoView + use<> {
    let r = lang.redelivery();
    let reload = (!reloads_itself && requests.iter().any(|q| !q.done))
        .then(|| view! { <p class="reload-hint">{r.reload_hint}</p> });
    (!requests.is_empty()).then(|| {
        let items = requests
            .into_iter()
            .map(|q| {
                let state = if q.done { r.done } else { r.in_progress };
                let behalf = q.on_behalf.then(|| view! { " "<span class="badge staff">{r.on_behalf}</span> });
                let incident = q.incident.map(|(title, href)| {
                    view! { <p class="incident">{r.for_incident}<a href=href>{title}</a></p> }
                });
                let count = |label: &'static str, n: i64, class: &'static str| {
                    view! { <li class=class>{label}": "{lang.number(n)}</li> }
                };
                view! {
                    <li class=if q.done { "request done" } else { "request in-progress" }>
                        <p>{time(lang, &q.requested_at)}" — "<strong class="state">{state}</strong>{behalf}</p>
                        {incident}
                        <ul class="counts">
                            {count(r.queued, q.queued, "queued")}
                            {count(r.sent, q.sent, "sent")}
                            {count(r.failed, q.failed, "failed")}
                            {count(r.unknown, q.unknown, "unknown")}
                        </ul>
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="redeliveries" aria-live="polite">
                <h2>{r.progress_heading}</h2>
                <ul>{items}</ul>
                {reload}
            </section>
        }
    })
}

/// The confirmation of a redelivery: how many messages go to how many recipients, what is left
/// out and why; for staff, the reason they act on the company's behalf.
pub fn redeliver_confirm_page(chrome: PortalChrome, page: RedeliverConfirmPage) -> String {
    let lang = chrome.lang;
    let r = lang.redelivery();
    let skipped = (!page.skipped.is_empty()).then(|| {
        let rows = page
            .skipped
            .iter()
            .map(|(reason, n)| {
                view! { <li data-reason=reason.as_str()>{lang.skip_reason(*reason)}": "{lang.number(*n)}</li> }
            })
            .collect_view();
        view! {
            <section class="skipped">
                <h2>{r.skipped_heading}</h2>
                <ul>{rows}</ul>
            </section>
        }
    });
    let error = page.error.clone().map(|e| view! { <p class="notice error" role="alert">{e}</p> });
    let declined = page
        .declined
        .iter()
        .map(|(title, at)| {
            message(lang.declined_incident(title, &lang.datetime(at), !page.needs_reason), false)
        })
        .collect_view();
    let form = (page.messages > 0 && !page.over_quota).then(|| {
        let hidden = page
            .hidden
            .iter()
            .map(|(name, value)| view! { <input type="hidden" name=name.clone() value=value.clone()/> })
            .collect_view();
        let reason = page.needs_reason.then(|| {
            view! {
                <p class="field">
                    <label for="reason">{r.reason_label}</label>
                    {text_area("reason", "reason", 3, true, &page.reason)}
                </p>
            }
        });
        view! {
            <form method="post" action=page.confirm_action.clone() class="redeliver-confirm">
                {hidden}
                {reason}
                <p class="actions"><button type="submit">{r.confirm_button}</button></p>
            </form>
        }
    });
    let summary = match page.messages {
        0 => r.nothing.to_string(),
        n if page.over_quota => lang.redelivery_over_quota_size(n),
        n => lang.redelivery_summary(n),
    };
    let selection = page.selection.clone().map(|s| view! { <p class="selection">{s}</p> });
    let main = view! {
        <h1>{r.confirm_title}</h1>
        <p class="release-name"><a href=page.title_href.clone()>{page.title.clone()}</a></p>
        {error}
        {declined}
        {selection}
        <p class="summary"><strong>{summary}</strong></p>
        {skipped}
        {form}
        <p class="more"><a href=page.back_href.clone()>"← "{r.back}</a></p>
    };
    portal_document(chrome, main)
}

/// The confirmation of "leave them": nothing of the incident's is redelivered for this answer,
/// it cannot be changed, and each release can still be redelivered from its own page.
pub fn leave_confirm_page(chrome: PortalChrome, page: LeaveConfirmPage) -> String {
    let lang = chrome.lang;
    let r = lang.redelivery();
    let hidden = page
        .hidden
        .iter()
        .map(|(name, value)| view! { <input type="hidden" name=name.clone() value=value.clone()/> })
        .collect_view();
    let main = view! {
        <h1>{r.leave_title}</h1>
        <p class="release-name"><a href=page.title_href.clone()>{page.title.clone()}</a></p>
        <p class="summary"><strong>{lang.leave_summary(page.messages)}</strong></p>
        <p>{r.leave_final}</p>
        <form method="post" action=page.confirm_action.clone() class="leave-confirm">
            {hidden}
            <p class="actions"><button type="submit">{r.leave_button}</button></p>
        </form>
        <p class="more"><a href=page.back_href.clone()>"← "{r.back}</a></p>
    };
    portal_document(chrome, main)
}

/// A page that says one thing: its title, its text (and a technical detail, if any), and a
/// link onwards.
fn plain_page(
    chrome: PortalChrome,
    title: &'static str,
    text: Vec<&'static str>,
    detail: Option<String>,
    onwards: (String, &'static str),
) -> String {
    let text = text.into_iter().map(|t| view! { <p>{t}</p> }).collect_view();
    let detail = detail.map(|d| view! { <p class="detail"><code>{d}</code></p> });
    let main = view! {
        <h1>{title}</h1>
        {text}
        {detail}
        <p class="more"><a href=onwards.0>{onwards.1}</a></p>
    };
    portal_document(chrome, main)
}

/// The portal's 404: the same words whether the thing belongs to another company or does not
/// exist at all.
pub fn portal_not_found_page(chrome: PortalChrome) -> String {
    let p = chrome.lang.portal();
    let body = if chrome.staff_console { chrome.lang.staff().not_found_body } else { p.not_found_body };
    let home = way_home(&chrome, p.back_to_releases);
    plain_page(chrome, p.not_found_title, vec![body], None, home)
}

/// The link back to where this part of the site starts: the company's releases, or the staff
/// console's notices (`portal`: the portal's words for it).
fn way_home(chrome: &PortalChrome, portal: &'static str) -> (String, &'static str) {
    match chrome.staff_console {
        true => ("/staff/notices".into(), chrome.lang.staff().console_top),
        false => (chrome.home_href.clone(), portal),
    }
}

/// The portal's 503: the delivery database cannot be reached; the public status page, which
/// needs no database, keeps working.
pub fn unavailable_page(chrome: PortalChrome) -> String {
    let p = chrome.lang.portal();
    let text = vec![p.unavailable_body, p.unavailable_status];
    plain_page(chrome, p.unavailable_title, text, None, ("/".into(), p.status_page))
}

/// The 403 for a form that failed the CSRF check: it expired or came from another site.
pub fn forbidden_page(chrome: PortalChrome) -> String {
    let p = chrome.lang.portal();
    let home = way_home(&chrome, p.portal_top);
    plain_page(chrome, p.forbidden_title, vec![p.forbidden_body], None, home)
}

/// The 403 for a form sent when its session had ended: nothing was done; log in again.
pub fn logged_out_page(chrome: PortalChrome) -> String {
    let p = chrome.lang.portal();
    plain_page(chrome, p.logged_out_title, vec![p.logged_out_body], None, ("/login".into(), p.log_in_again))
}

/// The 400 (or 415) for an address or a form whose values cannot be read, with what could not
/// be read. Nothing was changed.
pub fn bad_request_page(chrome: PortalChrome, detail: String) -> String {
    let p = chrome.lang.portal();
    let home = way_home(&chrome, p.portal_top);
    plain_page(chrome, p.bad_request_title, vec![p.bad_request_body], Some(detail), home)
}

/// A staff form refused before it was read (`why`: the session ended, the database is down):
/// nothing was saved, and what was typed is given back, field by field (name, value), to copy
/// into the form opened again at `form_href`.
pub fn unsaved_form_page(
    chrome: PortalChrome,
    why: &'static str,
    typed: Vec<(String, String)>,
    (form_href, reopen): (String, &'static str),
) -> String {
    let p = chrome.lang.portal();
    let fields = typed
        .into_iter()
        .enumerate()
        .map(|(n, (name, value))| {
            let id = format!("typed-{n}");
            let label = match chrome.lang.staff().field_label(&name) {
                Some(label) => view! { {label}" "<code>{name}</code> }.into_any(),
                None => view! { <code>{name}</code> }.into_any(),
            };
            view! {
                <label for=id.clone()>{label}</label>
                {copyable_text(id, &value)}
            }
        })
        .collect_view();
    let main = view! {
        <h1>{p.unsaved_title}</h1>
        <p>{why}</p>
        <div class="unsaved-fields">{fields}</div>
        <p class="more"><a href=form_href>{reopen}</a></p>
    };
    portal_document(chrome, main)
}

/// The 413 for a form over the size a POST may carry. Nothing was changed.
pub fn too_large_page(chrome: PortalChrome) -> String {
    let p = chrome.lang.portal();
    let home = way_home(&chrome, p.portal_top);
    plain_page(chrome, p.too_large_title, vec![p.too_large_body], None, home)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::model::{
        AffectedRelease, CompanyRef, FailureReason, RecipientFilterView, RedeliveryProgress,
        ReleaseFilterView, ReleaseView, SkipReason, Totals,
    };

    fn chrome(lang: Lang) -> PortalChrome {
        PortalChrome {
            lang,
            site_name: "statusdesk".into(),
            stylesheet: "/style/site.css?v=1".into(),
            title: "Releases".into(),
            user_email: "pr@example.co.jp".into(),
            staff: false,
            company: Some(CompanyRef { slug: "acme".into(), name: "Acme & Co.".into() }),
            csrf: "tok-123".into(),
            languages: vec![(Lang::Ja, "/portal?lang=ja".into()), (Lang::En, "/portal?lang=en".into())],
            home_href: "/portal".into(),
            staff_console: false,
            refresh_seconds: None,
        }
    }

    fn logged_out(lang: Lang) -> PortalChrome {
        PortalChrome { user_email: String::new(), company: None, ..chrome(lang) }
    }

    fn moment() -> Moment {
        Moment {
            rfc3339: "2021-03-01T17:35:00+09:00".into(),
            local: NaiveDate::from_ymd_opt(2021, 3, 1).unwrap().and_hms_opt(17, 35, 0).unwrap(),
            zone: "JST".into(),
        }
    }

    fn row(id: i64, title: &str, totals: Totals) -> ReleaseRowView {
        ReleaseRowView {
            id,
            title: title.into(),
            href: format!("/portal/releases/{id}"),
            sent_at: Some(moment()),
            totals,
        }
    }

    fn home(releases: Vec<ReleaseRowView>, pager: Pager) -> PortalHomePage {
        PortalHomePage { banners: Vec::new(), filter: ReleaseFilterView::default(), releases, pager }
    }

    fn release_page_with(status: &str, recipients: Vec<RecipientView>) -> ReleasePage {
        ReleasePage {
            release: ReleaseView {
                id: 7,
                title: "<script>alert(1)</script> launch".into(),
                sender_address: "news@pr.example.com".into(),
                sender_is_default: true,
                recipient_source: "media_list".into(),
                sent_at: Some(moment()),
                totals: Totals { sent: 14_012_784, bounced: 2, ..Totals::default() },
            },
            filter: RecipientFilterView {
                status: status.into(),
                q: String::new(),
                company_slug: None,
                error: None,
            },
            matching: recipients.len() as i64,
            recipients,
            pager: Pager::default(),
            csv_href: "/portal/releases/7/recipients.csv".into(),
            redeliver_action: "/portal/releases/7/redeliver".into(),
            csrf: "tok-123".into(),
            redeliveries: Vec::new(),
        }
    }

    fn bounced(address: &str) -> RecipientView {
        RecipientView {
            message_id: 41,
            address: address.into(),
            status: DeliveryStatus::Bounced,
            redelivered: true,
            being_redelivered: false,
            attempts: 3,
            last_attempt: Some(moment()),
            reason: Some(FailureReason::SenderDomainUnverified),
            smtp_reply: Some("554 5.7.1 Sender domain not verified <x>".into()),
        }
    }

    #[test]
    fn login_form_posts_email_password_and_token_to_login() {
        let html = login_page(
            logged_out(Lang::En),
            LoginPage { notice: None, email: "a@b.jp".into(), csrf: "tok-9".into(), next: String::new() },
        );
        assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\">"));
        assert!(html.contains(r#"<meta name="robots" content="noindex">"#));
        assert!(html.contains(r#"<form method="post" action="/login" class="login">"#));
        assert!(html.contains(r#"<input type="hidden" name="csrf" value="tok-9">"#));
        assert!(
            html.contains(r#"type="email" name="email" autocomplete="username" required value="a@b.jp""#)
        );
        assert!(html.contains(r#"type="password" name="password" autocomplete="current-password" required"#));
        assert!(!html.contains("minlength"));
        assert!(!html.contains(r#"name="next""#), "no next field when there is nowhere to go");
        assert!(!html.contains("action=\"/logout\""), "nobody is logged in");
        assert!(!html.contains("role=\"alert\""));
        assert!(!html.contains("<!>"));
    }

    #[test]
    fn login_notices_name_the_wait_and_keep_next() {
        let page = |notice| LoginPage {
            notice: Some(notice),
            email: String::new(),
            csrf: "t".into(),
            next: "/portal/releases/7".into(),
        };
        let html = login_page(logged_out(Lang::Ja), page(LoginNotice::Throttled { minutes: 15 }));
        assert!(html.contains(r#"role="alert""#));
        assert!(html.contains("15分"));
        assert!(html.contains(r#"<input type="hidden" name="next" value="/portal/releases/7">"#));
        let html = login_page(logged_out(Lang::En), page(LoginNotice::LoggedOut));
        assert!(html.contains(r#"role="status""#) && !html.contains(r#"role="alert""#));
        let html = login_page(logged_out(Lang::En), page(LoginNotice::FormExpired));
        assert!(html.contains(r#"role="alert""#));
    }

    #[test]
    fn logout_form_carries_the_session_token() {
        let html = portal_home_page(chrome(Lang::Ja), home(Vec::new(), Pager::default()));
        assert!(html.contains(
            r#"<form method="post" action="/logout" class="logout"><input type="hidden" name="csrf" value="tok-123">"#
        ));
        assert!(html.contains("pr@example.co.jp"));
        assert!(html.contains("Acme &amp; Co."));
        assert!(html.contains(r#"<strong aria-current="true">日本語</strong>"#));
        assert!(html.contains(r#"<a href="/portal?lang=en" hreflang="en" lang="en">English</a>"#));
    }

    #[test]
    fn staff_see_their_label_beside_the_company() {
        let html = portal_home_page(
            PortalChrome { staff: true, ..chrome(Lang::En) },
            home(Vec::new(), Pager::default()),
        );
        assert!(html.contains(r#"<span class="badge staff">Staff</span>"#));
        assert!(html.contains("Acme &amp; Co."));
    }

    #[test]
    fn only_rows_with_undelivered_messages_need_attention() {
        let clean = Totals { sent: 1200, redelivered: 3, ..Totals::default() };
        let troubled = Totals { sent: 10, bounced: 4, ..Totals::default() };
        let html = portal_home_page(
            chrome(Lang::En),
            home(vec![row(1, "Clean", clean), row(2, "Troubled", troubled)], Pager::default()),
        );
        assert_eq!(html.matches(r#"<tr class="attention">"#).count(), 1);
        assert_eq!(html.matches("Needs attention").count(), 1);
        let troubled_row = &html[html.find(r#"<tr class="attention">"#).unwrap()..];
        assert!(troubled_row.contains("Troubled"));
        assert!(html.contains(r#"<td data-label="Sent" class="num">1,200</td>"#), "{html}");
        assert!(
            html.contains(r#"<td data-label="Total" class="num">1,203</td>"#),
            "the total counts every message"
        );
        // Each count named, for the cards a narrow screen shows; zeros marked to be left out there.
        assert!(html.contains(r#"<td data-label="Bounced" class="num nonzero">4</td>"#), "{html}");
        assert!(html.contains(r#"<td data-label="Failed" class="num zero">0</td>"#), "{html}");

        let html = portal_home_page(chrome(Lang::En), home(vec![row(1, "Clean", clean)], Pager::default()));
        assert!(!html.contains(r#"class="attention""#));
        assert!(html.contains(r#"<div class="table-wrap"><table class="releases">"#));
    }

    #[test]
    fn titles_and_addresses_are_escaped() {
        let html = portal_home_page(
            chrome(Lang::Ja),
            home(vec![row(1, "<script>alert(1)</script>", Totals::default())], Pager::default()),
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>"));

        let html =
            release_page(chrome(Lang::En), release_page_with("", vec![bounced("<script>\"x\"@example.com")]));
        assert!(html.contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt; launch</h1>"));
        assert!(html.contains(r#"<td class="address">&lt;script&gt;"x"@example.com</td>"#));
        assert!(html.contains("554 5.7.1 Sender domain not verified &lt;x&gt;"));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn home_page_shows_banners_filter_and_empty_states() {
        let page = PortalHomePage {
            banners: vec![IncidentBanner {
                title: "Mail delay".into(),
                notice_href: "/en/notices/mail-delay".into(),
                releases: vec![AffectedRelease {
                    title: "Spring launch".into(),
                    href: "/portal/releases/7".into(),
                    messages: 14_012,
                }],
                messages: 14_012,
                answer: None,
                redelivery: None,
                answer_action: "/portal/incidents/mail-delay/answer".into(),
                csrf: "tok-123".into(),
                needs_reason: false,
                error: None,
            }],
            filter: ReleaseFilterView {
                q: "launch".into(),
                from: "2021-03-01".into(),
                to: String::new(),
                undelivered_only: true,
                error: Some("The end date is not a date.".into()),
                invalid: vec!["to"],
                company_slug: Some("acme".into()),
            },
            releases: Vec::new(),
            pager: Pager::default(),
        };
        let html = portal_home_page(chrome(Lang::En), page);
        let banner = html.find(r#"<section class="incident-banner">"#).unwrap();
        assert!(banner < html.find("release-filter").unwrap());
        assert!(html.contains(r#"<a href="/en/notices/mail-delay">Mail delay</a>"#));
        assert!(html.contains(
            r#"<a href="/portal/releases/7">Spring launch</a> <span class="count">14,012 messages</span>"#
        ));
        assert!(html.contains(r#"<form method="get" action="/portal" class="release-filter""#));
        assert!(html.contains(r#"<input type="hidden" name="company" value="acme">"#));
        assert!(html.contains(r#"type="search" name="q" value="launch""#));
        assert!(html.contains(r#"type="date" name="from" value="2021-03-01""#));
        assert!(html.contains(r#"name="undelivered" value="1" checked"#));
        assert!(html.contains("The end date is not a date."));
        assert!(
            html.contains(r#"name="to" value="" aria-invalid="true" aria-describedby="filter-problem""#)
                && !html.contains(r#"value="2021-03-01" aria-invalid"#),
            "only the field at fault: {html}"
        );
        assert!(html.contains("No releases match these filters."));
        assert!(!html.contains("<table"));
        assert!(!html.contains("pagination"));
    }

    #[test]
    fn an_answered_banner_shows_the_redelivery_once_nothing_is_left_undelivered() {
        let banner = IncidentBanner {
            title: "Mail delay".into(),
            notice_href: "/ja/notices/mail-delay".into(),
            releases: Vec::new(),
            messages: 0,
            answer: Some(IncidentAnswerView { redeliver: true, at: moment(), by: None, on_behalf: false }),
            redelivery: Some(RedeliveryProgress {
                requested_at: moment(),
                on_behalf: false,
                incident: None,
                done: true,
                queued: 0,
                sent: 153,
                failed: 2,
                unknown: 0,
            }),
            answer_action: "/portal/incidents/mail-delay/answer".into(),
            csrf: "tok-123".into(),
            needs_reason: false,
            error: None,
        };
        let html = portal_home_page(
            chrome(Lang::Ja),
            PortalHomePage { banners: vec![banner], ..home(Vec::new(), Pager::default()) },
        );
        assert!(
            html.contains("未配信のまま残っているものはありません") && !html.contains("affected-releases"),
            "{html}"
        );
        assert!(html.contains("再送済み: 153") && html.contains("再送失敗: 2"), "{html}");
        assert!(!html.contains(r#"name="answer""#), "answered: no question: {html}");
    }

    #[test]
    fn pager_renders_only_the_links_that_exist() {
        let older_only = Pager { first: None, newer: None, older: Some("/portal?before=5".into()) };
        let html = portal_home_page(chrome(Lang::En), home(Vec::new(), older_only));
        assert!(html.contains(r#"<nav class="pagination"><a rel="next" href="/portal?before=5">"#));
        assert!(!html.contains(r#"rel="prev""#));
        assert!(!html.contains(r#"class="first""#));

        let all = Pager {
            first: Some("/portal".into()),
            newer: Some("/portal?after=9".into()),
            older: Some("/portal?before=3".into()),
        };
        let html = portal_home_page(chrome(Lang::Ja), home(Vec::new(), all));
        assert!(html.contains(r#"<a href="/portal" class="first">最初のページ</a>"#));
        assert!(html.contains(r#"<a rel="prev" href="/portal?after=9">"#));
        assert!(html.contains(r#"<a rel="next" href="/portal?before=3">"#));
    }

    #[test]
    fn status_select_keeps_the_chosen_status() {
        let html =
            release_page(chrome(Lang::En), release_page_with("bounced", vec![bounced("a@example.com")]));
        assert!(html.contains(r#"<option value="bounced" selected>Bounced</option>"#));
        assert_eq!(html.matches(" selected>").count(), 1);
        assert!(html.contains(r#"<option value="undelivered">"#));
        for status in DeliveryStatus::ALL {
            assert!(html.contains(&format!(r#"<option value="{}""#, status.as_str())));
        }

        let html = release_page(chrome(Lang::En), release_page_with("", Vec::new()));
        assert!(html.contains(r#"<option value="" selected>All</option>"#));
        assert_eq!(html.matches(" selected>").count(), 1);
        assert!(html.contains("No recipients match these filters."));
    }

    #[test]
    fn release_page_explains_each_recipient() {
        let mut page = release_page_with("undelivered", vec![bounced("a@example.com")]);
        page.filter.company_slug = Some("acme".into());
        let html = release_page(chrome(Lang::Ja), page);
        assert!(html.contains("news@pr.example.com"));
        assert!(html.contains("サービス標準の送信元"));
        assert!(html.contains("当サービスの媒体リスト"));
        assert!(html.contains("14,012,784"));
        assert!(html.contains(r#"<form method="get" class="recipient-filter""#));
        assert!(html.contains(r#"<input type="hidden" name="company" value="acme">"#));
        assert!(html.contains(r#"<a href="/portal/releases/7/recipients.csv" download class="csv">"#));
        assert!(html.contains("条件に一致する宛先: 1件"));
        assert!(html.contains(r#"<tr data-status="bounced">"#));
        assert!(html.contains(r#"<span class="badge delivery delivery-bounced">差し戻し(バウンス)</span>"#));
        assert!(html.contains(r#"<span class="badge redelivered">再送</span>"#));
        assert!(html.contains("送信元ドメインが認証されていなかったため送信されませんでした"));
        assert!(html.contains(r#"<code class="smtp-reply">554 5.7.1"#));
        assert!(
            html.contains(r#"<time datetime="2021-03-01T17:35:00+09:00">2021年3月1日(月) 17:35 JST</time>"#)
        );
        assert!(html.contains(r#"<p class="more"><a href="/portal">"#));
    }

    #[test]
    fn staff_pick_names_the_unknown_slug_and_lists_affected_companies() {
        let page = StaffPickPage {
            unknown_slug: Some("<nope>".into()),
            matches: Vec::new(),
            more_matches: false,
            affected: vec![(
                CompanyRef { slug: "acme".into(), name: "Acme".into() },
                "/portal?company=acme".into(),
                1234,
            )],
        };
        let staff = PortalChrome { staff: true, company: None, ..chrome(Lang::En) };
        let html = staff_pick_page(staff.clone(), page.clone());
        assert!(html.contains("No company's name or slug contains “&lt;nope&gt;”."));
        assert!(html.contains(r#"<form method="get" action="/portal" class="company-pick">"#));
        assert!(html.contains(r#"name="company""#));
        assert!(html.contains(r#"<a href="/portal?company=acme">Acme</a>"#));
        assert!(html.contains(r#"<td data-label="Undelivered" class="num nonzero">1,234</td>"#), "{html}");
        // Several companies fit what was typed: offered, not refused.
        let several = vec![
            (CompanyRef { slug: "acme".into(), name: "Acme".into() }, "/portal?company=acme".into()),
            (
                CompanyRef { slug: "acme-west".into(), name: "Acme West".into() },
                "/portal?company=acme-west".into(),
            ),
        ];
        let html = staff_pick_page(
            staff,
            StaffPickPage { unknown_slug: Some("acme".into()), matches: several, more_matches: true, ..page },
        );
        assert!(html.contains("More companies match: type more of the name or slug."), "{html}");
        assert!(!html.contains("No company") && html.contains("<h2>Matching companies</h2>"), "{html}");
        assert!(html.contains(r#"<li><a href="/portal?company=acme-west">Acme West</a> <span class="slug">acme-west</span></li>"#), "{html}");
    }

    #[test]
    fn error_pages_say_what_to_do() {
        let html = unavailable_page(chrome(Lang::En));
        assert!(html.contains("try again in a few minutes"));
        assert!(html.contains(r#"<p class="more"><a href="/">Public status page</a></p>"#));
        let html = forbidden_page(chrome(Lang::Ja));
        assert!(html.contains("再読み込み"));
        let html = too_large_page(chrome(Lang::En));
        assert!(html.contains("over 2 MB") && html.contains("nothing was saved"));
        let html = portal_not_found_page(chrome(Lang::En));
        assert!(html.contains("<h1>Page not found</h1>"));
        for html in [unavailable_page(chrome(Lang::Ja)), forbidden_page(logged_out(Lang::En))] {
            assert!(html.starts_with("<!DOCTYPE html>") && !html.contains("<!>"));
        }
    }

    #[test]
    fn undelivered_rows_can_be_chosen_for_the_redelivery_form() {
        let mut sent = bounced("ok@media.jp");
        sent.status = DeliveryStatus::Sent;
        sent.message_id = 42;
        let html = release_page(
            chrome(Lang::En),
            release_page_with("", vec![bounced("gone@media.jp"), sent.clone()]),
        );
        assert!(
            html.contains(r#"<form id="redeliver" method="post" action="/portal/releases/7/redeliver""#),
            "{html}"
        );
        assert!(html.contains(r#"<input type="hidden" name="csrf" value="tok-123">"#));
        assert!(html.contains(r#"name="m" value="41" form="redeliver""#), "the bounced row has a box");
        assert!(!html.contains(r#"value="42" form="redeliver""#), "the delivered row has none");
        assert!(!html.contains("http-equiv=\"refresh\""), "nothing in progress: no reload");
        assert!(html.contains(r#"value="selected""#) && html.contains(r#"value="filter""#), "{html}");

        // Rows on the page that cannot be chosen: only the filter's button.
        let html = release_page(chrome(Lang::En), release_page_with("", vec![sent.clone()]));
        assert!(!html.contains(r#"value="selected""#) && html.contains(r#"value="filter""#), "{html}");
        // A filter that shows only delivered recipients, or none at all: nothing for it to take.
        let html = release_page(chrome(Lang::En), release_page_with("sent", vec![sent.clone()]));
        assert!(!html.contains(r#"id="redeliver""#), "{html}");
        let html = release_page(chrome(Lang::En), release_page_with("bounced", Vec::new()));
        assert!(!html.contains(r#"id="redeliver""#), "{html}");
        // Nothing undelivered in the release: nothing offered.
        let mut delivered = release_page_with("", vec![sent]);
        delivered.release.totals = Totals { sent: 10, ..Totals::default() };
        let html = release_page(chrome(Lang::En), delivered);
        assert!(!html.contains(r#"id="redeliver""#), "{html}");
    }

    #[test]
    fn progress_reloads_the_page_while_a_redelivery_runs() {
        let mut page = release_page_with("", Vec::new());
        page.redeliveries = vec![RedeliveryProgress {
            requested_at: moment(),
            on_behalf: true,
            incident: None,
            done: false,
            queued: 3,
            sent: 145,
            failed: 0,
            unknown: 0,
        }];
        let html = release_page(PortalChrome { refresh_seconds: Some(5), ..chrome(Lang::Ja) }, page);
        assert!(html.contains(r#"<meta http-equiv="refresh" content="5">"#), "{html}");
        assert!(html.contains("再送済み: 145") && html.contains("再送中") && html.contains("代理"));
    }

    #[test]
    fn the_confirmation_states_what_will_happen_and_asks_staff_why() {
        let page = RedeliverConfirmPage {
            title: "Launch".into(),
            title_href: "/portal/releases/7".into(),
            back_href: "/portal/releases/7?status=bounced".into(),
            selection: Some(Lang::En.redelivery_selection(None, Some("bounced"), "editor")),
            declined: Vec::new(),
            messages: 148,
            skipped: vec![(SkipReason::Delivered, 493), (SkipReason::OutcomeUnknown, 2)],
            confirm_action: "/portal/releases/7/redeliver/confirm".into(),
            hidden: vec![("key".into(), "k-1".into()), ("m".into(), "5".into())],
            needs_reason: true,
            reason: String::new(),
            error: None,
            over_quota: false,
        };
        let html = redeliver_confirm_page(chrome(Lang::En), page.clone());
        assert!(html.contains("148 messages will be sent again, to 148 recipients."), "{html}");
        assert!(
            html.contains("Recipients: every undelivered one with the status “bounced” whose address contains “editor”, on every page"),
            "{html}"
        );
        assert!(html.contains(r#"<a href="/portal/releases/7?status=bounced">← Back</a>"#), "{html}");
        assert!(html.contains("already delivered (never sent twice): 493"));
        assert!(html.contains("outcome unknown (it may have arrived: a person decides): 2"));
        assert!(html.contains(r#"<input type="hidden" name="key" value="k-1">"#));
        assert!(html.contains(r#"<textarea id="reason" name="reason" rows="3" required"#), "{html}");
        let refused = redeliver_confirm_page(
            chrome(Lang::En),
            RedeliverConfirmPage { error: Some("over the limit".into()), over_quota: true, ..page.clone() },
        );
        assert!(
            refused.contains("over the limit") && !refused.contains("redeliver-confirm"),
            "no form when over the cap"
        );
        assert!(
            refused.contains("This request is for 148 messages: over the limit")
                && !refused.contains("will be sent again"),
            "{refused}"
        );
        let correctable = redeliver_confirm_page(
            chrome(Lang::En),
            RedeliverConfirmPage { error: Some("give a reason".into()), ..page },
        );
        assert!(correctable.contains("give a reason") && correctable.contains("redeliver-confirm"));
    }
}
