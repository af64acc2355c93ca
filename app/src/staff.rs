//! The staff console: the list of notices, and the "add update" form that appends a timeline
//! entry and publishes it. Pages share the portal's frame.

use leptos::prelude::*;

use crate::layout::text_area;
use crate::model::{
    AuditPage, FieldProblem, Kind, NoticeEditorPage, NoticeImpactPage, NoticeSaved, NoticeUpdateForm,
    PortalChrome, Severity, StaffNoticesPage, Status,
};
use crate::portal::{message, portal_document};

/// `/staff/notices`.
pub fn notices_page(chrome: PortalChrome, page: StaffNoticesPage) -> String {
    let lang = chrome.lang;
    let s = lang.staff();
    let saved = page.saved.map(|saved| match saved {
        NoticeSaved::Published(title) => message(format!("{}{title}", s.updated), false),
        NoticeSaved::Unchanged(title) => message(format!("{}{title}", s.unchanged), false),
    });
    let rows = page
        .notices
        .into_iter()
        .map(|notice| {
            let status = notice.status.map(|st| lang.status(st)).unwrap_or("");
            let shown = notice.shown_publicly_as.map(|shown| {
                view! { " "<span class="badge shown-publicly">{s.shown_publicly_as}{lang.status(shown)}</span> }
            });
            let overrun =
                notice.past_planned_end.then(|| view! { " "<span class="badge shown-publicly">{s.past_planned_end}</span> });
            let update = notice.update_href.map(|href| view! { <a href=href>{s.add_update}</a>" " });
            let edit = view! { <a href=notice.edit_href>{s.edit}</a> };
            let impact = notice.impact_href.map(|href| view! { " "<a href=href>{s.impact}</a> });
            view! {
                <tr>
                    <td class="title"><a href=notice.public_href>{notice.title}</a></td>
                    <td>{lang.kind(notice.kind)}</td>
                    <td>{status}{shown}{overrun}</td>
                    <td><time datetime=notice.updated.rfc3339.clone()>{lang.datetime(&notice.updated)}</time></td>
                    <td>{update}{edit}{impact}</td>
                </tr>
            }
        })
        .collect_view();
    let errors = (!page.errors.is_empty()).then(|| {
        let items = page.errors.into_iter().map(|e| view! { <li><code>{e}</code></li> }).collect_view();
        view! {
            <div class="message problem" role="alert">
                <p>{s.files_with_errors}</p>
                <ul>{items}</ul>
            </div>
        }
    });
    let main = view! {
        <h1>{s.notices}</h1>
        {saved}
        {errors}
        <p><a href="/staff/notices/new" class="button">{s.new_notice}</a></p>
        <div class="table-wrap">
            <table class="notices">
                <thead>
                    <tr>
                        <th scope="col">{s.title}</th>
                        <th scope="col">{s.kind}</th>
                        <th scope="col">{s.status}</th>
                        <th scope="col">{s.last_change}</th>
                        <th scope="col"><span class="visually-hidden">{s.add_update}</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    };
    portal_document(chrome, main)
}

/// The problems about `field`, to show next to it.
fn problems_of(problems: &[FieldProblem], field: &'static str) -> impl IntoView + use<> {
    let id = format!("{field}-problems");
    let list: Vec<String> =
        problems.iter().filter(|p| p.field == Some(field)).map(|p| p.message.clone()).collect();
    (!list.is_empty()).then(|| {
        let items = list.into_iter().map(|m| view! { <li>{m}</li> }).collect_view();
        view! { <ul class="field-problems" id=id role="alert">{items}</ul> }
    })
}

/// "Not published", with every problem: those about a field link to it (where the problem is
/// shown again), the others stand alone. Nothing when there are none.
fn not_saved(lang: crate::Lang, problems: &[FieldProblem]) -> Option<AnyView> {
    (!problems.is_empty()).then(|| {
        let items = problems
            .iter()
            .map(|p| match p.field {
                Some(field) => {
                    view! { <li><a href=format!("#{field}")>{p.message.clone()}</a></li> }.into_any()
                }
                None => view! { <li>{p.message.clone()}</li> }.into_any(),
            })
            .collect_view();
        view! {
            <div class="message problem" role="alert">
                <p>{lang.staff().not_saved}</p>
                <ul>{items}</ul>
            </div>
        }
        .into_any()
    })
}

/// What the linter warns of before a notice is published, under `intro` (nothing when it warns
/// of nothing), and the hidden field that publishes it as it is when the form is sent again.
fn to_confirm(
    intro: &'static str,
    warnings: Vec<String>,
    warned: String,
) -> (Option<impl IntoView + use<>>, Option<impl IntoView + use<>>) {
    let shown = (!warnings.is_empty()).then(|| {
        let items = warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view();
        view! {
            <div class="message warning" role="alert">
                <p>{intro}</p>
                <ul>{items}</ul>
            </div>
        }
    });
    let field = (!warned.is_empty()).then(|| view! { <input type="hidden" name="warned" value=warned/> });
    (shown, field)
}

/// One form field: its label, its control (whose id is `name`), and the problems about it; a
/// control with problems is marked invalid and described by them.
fn field(
    name: &'static str,
    label: impl IntoView + 'static,
    control: impl IntoView + 'static,
    problems: &[FieldProblem],
) -> AnyView {
    let invalid = problems.iter().any(|p| p.field == Some(name));
    let control = control.into_view().into_any().add_any_attr((
        leptos::attr::aria_invalid(invalid.then_some("true")),
        leptos::attr::aria_describedby(invalid.then(|| format!("{name}-problems"))),
    ));
    let problems = problems_of(problems, name);
    view! { <div class="field"><label for=name>{label}</label>{control}{problems}</div> }.into_any()
}

/// `/staff/notices/{slug}/update`: the form, with what was typed and what is wrong with it.
pub fn update_page(chrome: PortalChrome, form: NoticeUpdateForm) -> String {
    let lang = chrome.lang;
    let s = lang.staff();
    let csrf = chrome.csrf.clone();
    let summary = not_saved(lang, &form.problems);
    let conflict = form.conflict.map(|diff| conflict_section(lang, diff));
    let file_errors = file_errors_section(lang, form.file_errors);
    let options = form
        .statuses
        .iter()
        .map(|&status| {
            view! { <option value=status.as_str() selected=form.status == Some(status)>{lang.status(status)}</option> }
        })
        .collect_view();
    let keep = form.current_status.map_or(String::new(), |now| format!(" ({})", lang.status(now)));
    let keep = view! { <option value="" selected=form.status.is_none()>{s.status_unchanged}{keep}</option> };
    let (warnings, warned) = to_confirm(s.update_warnings, form.warnings, form.warned);
    let follows_plan = form.follows_plan.then(|| view! { <p class="hint">{s.follows_plan}</p> });
    let main = view! {
        <h1>{s.add_update}": "{form.title}</h1>
        {follows_plan}
        {file_errors}
        {summary}
        {warnings}
        {conflict}
        <form method="post" action=form.action class="notice-update">
            <input type="hidden" name="csrf" value=csrf/>
            <input type="hidden" name="version" value=form.version/>
            <input type="hidden" name="original" value=form.original/>
            {field("at", format!("{} ({})", s.at, form.zone), view! { <input type="datetime-local" id="at" name="at" value=form.at required/> }, &form.problems)}
            {field("status", s.status, view! { <select id="status" name="status">{keep}{options}</select> }, &form.problems)}
            {field("text", s.text, text_area("text", "text", 5, true, &form.text), &form.problems)}
            {field("text_en", s.text_en, text_area("text_en", "text_en", 5, false, &form.text_en), &form.problems)}
            {field("reason", s.reason, view! { <input type="text" id="reason" name="reason" value=form.reason/> }, &form.problems)}
            {field("reason_en", s.reason_en, view! { <input type="text" id="reason_en" name="reason_en" value=form.reason_en/> }, &form.problems)}
            {field("note", s.note, view! { <input type="text" id="note" name="note" value=form.note/> }, &form.problems)}
            {warned}
            <p><button type="submit">{s.publish}</button></p>
        </form>
    };
    portal_document(chrome, main)
}

/// `/staff/audit`: the filter form and the lines it finds.
pub fn audit_page(chrome: PortalChrome, page: AuditPage) -> String {
    let lang = chrome.lang;
    let s = lang.staff();
    let f = page.filter;
    let options =
        f.actions.iter().map(|&a| view! { <option value=a>{lang.audit_action(a)}</option> }).collect_view();
    let lines = if page.rows.is_empty() {
        view! { <p class="empty">{s.no_lines}</p> }.into_any()
    } else {
        let rows = page
            .rows
            .into_iter()
            .map(|row| {
                view! {
                    <tr>
                        <td><time datetime=row.at.rfc3339.clone()>{lang.datetime(&row.at)}</time></td>
                        <td>{row.actor}</td>
                        <td>{(!lang.audit_action(&row.action).is_empty()).then(|| format!("{} ", lang.audit_action(&row.action)))}<code>{row.action.clone()}</code></td>
                        <td>{row.company}</td>
                        <td class="target">{row.target}</td>
                        <td>{row.detail}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="audit">
                    <thead>
                        <tr>
                            <th scope="col">{s.at}</th>
                            <th scope="col">{s.actor}</th>
                            <th scope="col">{s.action}</th>
                            <th scope="col">{s.company}</th>
                            <th scope="col">{s.target}</th>
                            <th scope="col">{s.detail}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let older =
        page.older_href.map(|href| view! { <p class="pager"><a href=href rel="next">{s.older}</a></p> });
    let main = view! {
        <h1>{s.audit}</h1>
        <form method="get" action="/staff/audit" class="filters">
            {field("actor", s.actor, view! { <input type="search" id="actor" name="actor" value=f.actor/> }, &page.problems)}
            {field("action", s.action, view! {
                <input type="search" id="action" name="action" value=f.action list="actions"/>
                <datalist id="actions">{options}</datalist>
            }, &page.problems)}
            {field("company", s.company, view! { <input type="search" id="company" name="company" value=f.company/> }, &page.problems)}
            {field("from", s.from, view! { <input type="date" id="from" name="from" value=f.from/> }, &page.problems)}
            {field("to", s.to, view! { <input type="date" id="to" name="to" value=f.to/> }, &page.problems)}
            <p><button type="submit">{s.filter}</button></p>
        </form>
        {lines}
        {older}
    };
    portal_document(chrome, main)
}

/// The errors in the notice's file on disk, which the form cannot save over.
fn file_errors_section(lang: crate::Lang, errors: Vec<String>) -> Option<impl IntoView> {
    let s = lang.staff();
    (!errors.is_empty()).then(|| {
        let items = errors.into_iter().map(|e| view! { <li><code>{e}</code></li> }).collect_view();
        view! {
            <section class="file-errors" role="alert">
                <h2>{s.file_broken}</h2>
                <p>{s.file_broken_help}</p>
                <ul>{items}</ul>
            </section>
        }
    })
}

/// A save refused because the notice changed since its form was opened: the changes, as a diff.
fn conflict_section(lang: crate::Lang, diff: String) -> impl IntoView {
    let s = lang.staff();
    view! {
        <section class="conflict" role="alert">
            <h2>{s.conflict}</h2>
            <p>{s.conflict_help}</p>
            <pre class="diff">{diff}</pre>
        </section>
    }
}

/// `/staff/notices/{slug}/impact`: the scope, the figures and the affected companies.
pub fn impact_page(chrome: PortalChrome, page: NoticeImpactPage) -> String {
    let lang = chrome.lang;
    let s = lang.staff();
    // Someone with a contact address is left to tell of this version (the figures list every
    // affected company; one without an address cannot be told). The figures of a scope being
    // previewed are not the notice's: nobody is told from them.
    let previewing = page.editor.as_ref().is_some_and(|e| e.previewing);
    let figures = page.figures.as_ref().filter(|_| !previewing);
    // Of those, the ones told of an earlier version: theirs is an update.
    let untold: Vec<bool> = figures
        .map(|f| {
            let untold = f.affected.iter().filter(|c| c.notified.is_none() && c.contact.is_some());
            untold.map(|c| c.told_before.is_some()).collect()
        })
        .unwrap_or_default();
    let to_tell = untold.len();
    let updates = untold.iter().filter(|&&told_before| told_before).count();
    let can_notify = to_tell > 0;
    let all_told = figures.is_some_and(|f| !f.affected.is_empty()) && !can_notify;
    let scope = if page.scope.is_empty() {
        view! { <p class="empty">{s.no_scope}</p> }.into_any()
    } else {
        let rows = page
            .scope
            .into_iter()
            .map(|(key, value)| view! { <dt>{key}</dt><dd>{value}</dd> })
            .collect_view();
        view! { <dl class="facts">{rows}</dl> }.into_any()
    };
    let figures = page.figures.map(|f| {
        let fact = |label: &'static str, value: String| view! { <dt>{label}</dt><dd>{value}</dd> };
        let histogram = f
            .histogram
            .into_iter()
            .map(|(range, releases)| view! { <tr><td>{range}</td><td class="num">{lang.number(releases)}</td></tr> })
            .collect_view();
        let companies = f
            .affected
            .into_iter()
            .map(|c| {
                let answer = match c.answer.as_deref() {
                    Some("redeliver") => s.answer_redeliver,
                    Some(_) => s.answer_leave,
                    None => s.not_answered,
                };
                let redelivered = format!("{} / {}", lang.number(c.redelivered), lang.number(c.messages));
                let notified = match (c.notified, c.told_before) {
                    (Some(m), _) => Some(view! { <time datetime=m.rfc3339.clone()>{lang.datetime(&m)}</time> }.into_any()),
                    (None, Some(m)) => Some(
                        view! {
                            <span class="earlier">
                                {s.told_earlier}<time datetime=m.rfc3339.clone()>{lang.datetime(&m)}</time>
                            </span>
                        }
                        .into_any(),
                    ),
                    (None, None) => None,
                };
                view! {
                    <tr>
                        <td><a href=c.portal_href>{c.name}</a>" "<span class="slug">{c.slug}</span></td>
                        <td>{c.contact}</td>
                        <td class="num">{lang.number(c.releases)}</td>
                        <td class="num">{lang.number(c.messages)}</td>
                        <td>{answer}</td>
                        <td class="num">{redelivered}</td>
                        <td>{notified}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <p class="as-of">{s.as_of}<time datetime=f.as_of.rfc3339.clone()>{lang.datetime(&f.as_of)}</time></p>
            <dl class="facts">
                {fact(s.companies, lang.number(f.companies))}
                {fact(s.releases, lang.number(f.releases))}
                {fact(s.undelivered, format!("{} / {}", lang.number(f.messages), lang.number(f.total_messages)))}
                {fact(s.share, format!("{:.4} %", f.share * 100.0))}
                {f.per_release.map(|(min, max)| fact(s.per_release, format!("{min}–{max}")))}
            </dl>
            <h2>{s.histogram}</h2>
            <table class="histogram"><tbody>{histogram}</tbody></table>
            <h2>{s.affected}</h2>
            <div class="table-wrap">
                <table class="affected">
                    <thead>
                        <tr>
                            <th scope="col">{s.companies}</th>
                            <th scope="col">{s.contact}</th>
                            <th scope="col" class="num">{s.releases}</th>
                            <th scope="col" class="num">{s.undelivered}</th>
                            <th scope="col">{s.answer}</th>
                            <th scope="col" class="num">{s.redelivered}</th>
                            <th scope="col">{s.notified}" ("{lang.version(page.version)}")"</th>
                        </tr>
                    </thead>
                    <tbody>{companies}</tbody>
                </table>
            </div>
        }
    });
    let notified = page.notified.map(|n| match n {
        0 => message(s.none_notified.to_string(), false),
        n => message(format!("{}{}", s.notified_count, lang.number(n as i64)), false),
    });
    let notify = match (can_notify, all_told) {
        (true, _) => Some(
            view! {
                <form method="post" action=page.notify_action class="notify">
                    <input type="hidden" name="csrf" value=chrome.csrf.clone()/>
                    <button type="submit">{lang.notify_button(to_tell, updates)}" ("{lang.version(page.version)}")"</button>
                </form>
            }
            .into_any(),
        ),
        (false, true) => {
            Some(view! { <p class="all-told">{s.all_told}" ("{lang.version(page.version)}")"</p> }.into_any())
        }
        (false, false) => None,
    };
    let editor = page.editor.map(|e| {
        let previewing = e.previewing.then(|| message(s.previewing.to_string(), false));
        let conflict = e.conflict.map(|diff| conflict_section(lang, diff));
        // What was previewed, and only that, can be attached.
        let attach = (e.previewing && e.problems.is_empty()).then(|| {
            let chosen = e
                .filters
                .iter()
                .map(|(key, chosen, _)| view! { <input type="hidden" name=*key value=chosen.clone()/> })
                .collect_view();
            let warnings = (!e.warnings.is_empty()).then(|| {
                let items = e.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view();
                view! { <ul class="message warning" role="status">{items}</ul> }
            });
            view! {
                {warnings}
                <form method="post" action=e.attach_action.clone() class="attach">
                    <input type="hidden" name="csrf" value=chrome.csrf.clone()/>
                    <input type="hidden" name="version" value=e.version.clone()/>
                    <input type="hidden" name="original" value=e.original.clone()/>
                    <input type="hidden" name="from" value=e.from.clone()/>
                    <input type="hidden" name="to" value=e.to.clone()/>
                    {chosen}
                    <button type="submit">{s.attach}</button>
                </form>
            }
        });
        let filters = e
            .filters
            .into_iter()
            .map(|(key, chosen, offered)| {
                let options = offered
                    .into_iter()
                    .map(|value| {
                        let selected = value == chosen;
                        view! { <option value=value.clone() selected=selected>{value.clone()}</option> }
                    })
                    .collect_view();
                let control = view! {
                    <select id=key name=key>
                        <option value="">{s.any}</option>
                        {options}
                    </select>
                };
                field(key, lang.scope_key(key), control, &e.problems)
            })
            .collect_view();
        let general: Vec<String> = e.problems.iter().filter(|p| p.field.is_none()).map(|p| p.message.clone()).collect();
        let general = (!general.is_empty()).then(|| {
            let items = general.into_iter().map(|m| view! { <li>{m}</li> }).collect_view();
            view! { <ul class="message problem" role="alert">{items}</ul> }
        });
        let from = format!("{}, {}", lang.scope_key("from"), e.zone);
        let to = format!("{}, {}", lang.scope_key("to"), e.zone);
        view! {
            <section class="scope-editor">
                <h2>{s.scope_editor}</h2>
                {conflict}
                {previewing}
                {general}
                <form method="get" action="" class="scope notice-update">
                    <input type="hidden" name="preview" value="1"/>
                    {field("from", from.clone(), view! { <input type="datetime-local" id="from" name="from" value=e.from.clone() required/> }, &e.problems)}
                    {field("to", to.clone(), view! { <input type="datetime-local" id="to" name="to" value=e.to.clone() required/> }, &e.problems)}
                    {filters}
                    <p><button type="submit">{s.preview}</button></p>
                </form>
                {attach}
            </section>
        }
    });
    let attached = page.attached.then(|| message(s.attached.to_string(), false));
    let main = view! {
        <h1>{s.impact}": "{page.title}</h1>
        {attached}
        {notified}
        <h2>{s.scope}</h2>
        {scope}
        {figures}
        {notify}
        {editor}
    };
    portal_document(chrome, main)
}

/// `/staff/notices/new`: the notice's fields, each problem next to its field, and the preview
/// in each language.
pub fn editor_page(chrome: PortalChrome, page: NoticeEditorPage) -> String {
    let lang = chrome.lang;
    let s = lang.staff();
    let problems = &page.problems;
    let summary = not_saved(lang, problems);
    let choice = |name: &'static str, chosen: &str, values: Vec<(String, String)>, optional: bool| {
        let none = optional.then(|| view! { <option value="">{s.none}</option> });
        let options = values
            .into_iter()
            .map(|(value, label)| {
                let selected = value == chosen;
                view! { <option value=value selected=selected>{label}</option> }
            })
            .collect_view();
        view! { <select id=name name=name>{none}{options}</select> }
    };
    let kinds = Kind::ALL.iter().map(|&k| (k.as_str().to_string(), lang.kind(k).to_string())).collect();
    let statuses =
        Status::ALL.iter().map(|&st| (st.as_str().to_string(), lang.status(st).to_string())).collect();
    let severities =
        Severity::ALL.iter().map(|&v| (v.as_str().to_string(), lang.severity(v).to_string())).collect();
    let components = page
        .components
        .into_iter()
        .map(|(id, name, checked)| {
            view! { <label class="choice"><input type="checkbox" name="components" value=id checked=checked/>" "{name}</label> }
        })
        .collect_view();
    let preview = (!page.preview.is_empty()).then(|| {
        let versions = page
            .preview
            .into_iter()
            .map(|(language, html)| {
                view! {
                    <section class="preview" lang=language.code()>
                        <h3>{language.native_name()}</h3>
                        <div inner_html=html></div>
                    </section>
                }
            })
            .collect_view();
        let warnings = (!page.warnings.is_empty()).then(|| {
            let items = page.warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view();
            view! {
                <div class="message warning">
                    <p>{s.preview_warnings}</p>
                    <ul>{items}</ul>
                </div>
            }
        });
        view! {
            <section class="previews">
                <h2>{s.preview_title}</h2>
                {warnings}
                {versions}
            </section>
        }
    });
    let zone = page.zone.clone();
    let conflict = page.conflict.map(|diff| conflict_section(lang, diff));
    let file_errors = file_errors_section(lang, page.file_errors);
    let slug = if page.slug_fixed {
        view! { <input type="text" id="slug" name="slug" value=page.slug readonly/> }.into_any()
    } else {
        view! { <input type="text" id="slug" name="slug" value=page.slug required/> }.into_any()
    };
    let note = page.slug_fixed.then(|| {
        field("note", s.note, view! { <input type="text" id="note" name="note" value=page.note/> }, problems)
    });
    let (publish_warnings, warned) = to_confirm(s.publish_warnings, page.publish_warnings, page.warned);
    // A new notice's status may be left to its kind.
    let status_label =
        if page.slug_fixed { s.status.to_string() } else { format!("{} ({})", s.status, s.status_by_kind) };
    let main = view! {
        <h1>{page.heading}</h1>
        {file_errors}
        {summary}
        {publish_warnings}
        {conflict}
        <form method="post" action=page.action class="notice-update notice-editor">
            <input type="hidden" name="csrf" value=chrome.csrf.clone()/>
            {warned}
            <input type="hidden" name="version" value=page.version/>
            <input type="hidden" name="original" value=page.original/>
            {field("slug", s.slug, slug, problems)}
            {field("title", s.title, view! { <input type="text" id="title" name="title" value=page.title required/> }, problems)}
            {field("title_en", s.title_en, view! { <input type="text" id="title_en" name="title_en" value=page.title_en/> }, problems)}
            {field("kind", s.kind, choice("kind", &page.kind, kinds, false), problems)}
            {field("status", status_label, choice("status", &page.status, statuses, true), problems)}
            {field("severity", s.severity, choice("severity", &page.severity, severities, true), problems)}
            <fieldset id="components" class="choices">
                <legend>{s.components}</legend>
                {components}
                {problems_of(problems, "components")}
            </fieldset>
            {field("started_at", format!("{} ({zone})", s.started_at), view! { <input type="datetime-local" id="started_at" name="started_at" value=page.started_at/> }, problems)}
            {field("resolved_at", format!("{} ({zone})", s.resolved_at), view! { <input type="datetime-local" id="resolved_at" name="resolved_at" value=page.resolved_at/> }, problems)}
            {field("published_at", format!("{} ({zone})", s.published_at), view! { <input type="datetime-local" id="published_at" name="published_at" value=page.published_at required/> }, problems)}
            {field("body", s.body, text_area("body", "body", 12, false, &page.body), problems)}
            {field("body_en", s.body_en, text_area("body_en", "body_en", 12, false, &page.body_en), problems)}
            {note}
            <p>
                <button type="submit" name="intent" value="preview">{s.show_preview}</button>
                " "
                <button type="submit" name="intent" value="publish">{s.publish_notice}</button>
            </p>
        </form>
        {preview}
    };
    portal_document(chrome, main)
}
