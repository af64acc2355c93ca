//! Markdown to safe HTML: pulldown-cmark (tables, strikethrough, task lists, heading anchors),
//! always followed by ammonia. Raw HTML in Markdown passes through pulldown-cmark untouched, so
//! nothing it emits reaches a page without being sanitised.

use std::collections::HashMap;
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

/// The largest notice file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 256 * 1024;

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    for heading in ["h2", "h3", "h4", "h5", "h6"] {
        builder.add_tag_attributes(heading, ["id"]);
    }
    // The page's title is its one `h1`: a raw `<h1>` keeps only its words.
    builder
        .rm_tags(["h1"])
        // Task-list boxes only: any `input` becomes a checkbox that cannot be ticked, no other
        // control survives.
        .add_tags(["input"])
        .add_tag_attributes("input", ["checked"])
        .set_tag_attribute_value("input", "type", "checkbox")
        .set_tag_attribute_value("input", "disabled", "")
        .add_tag_attributes("a", ["class", "aria-label"])
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("a", "class") => (value == "anchor").then_some(value.into()),
            _ => Some(value.into()),
        });
    builder
});

/// The Markdown a notice may use: footnotes stay off.
const OPTIONS: Options =
    Options::ENABLE_TABLES.union(Options::ENABLE_STRIKETHROUGH).union(Options::ENABLE_TASKLISTS);

/// Renders Markdown to sanitised HTML. Headings sit one level below where Markdown puts them
/// (`#` is an `h2`: the page's title is its `h1`), with stable ids (unique within the call) and a
/// self-link named by the heading's words, so that a reader can link to "Cause" or
/// "Countermeasures".
pub fn render(markdown: &str) -> String {
    let mut ids = HeadingIds::default();
    let mut events = Vec::new();
    let mut heading: Option<(HeadingLevel, Vec<Event>)> = None;
    for event in Parser::new_ext(markdown, OPTIONS) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, Vec::new())),
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, inner)) = heading.take() {
                    let level = HeadingLevel::try_from(level as usize + 1).unwrap_or(HeadingLevel::H6);
                    let words = plain_text(&inner);
                    let id = ids.next(&words);
                    let label =
                        words.trim().replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
                    events.push(Event::Html(CowStr::from(format!("<{level} id=\"{id}\">"))));
                    events.extend(inner);
                    events.push(Event::Html(CowStr::from(format!(
                        " <a class=\"anchor\" href=\"#{id}\" aria-label=\"{label}\">#</a></{level}>\n"
                    ))));
                }
            }
            other => match heading.as_mut() {
                Some((_, inner)) => inner.push(other),
                None => events.push(other),
            },
        }
    }
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, events.into_iter());
    SANITIZER.clean(&unsafe_html).to_string()
}

/// Markdown reduced to its words, for summaries and feeds' titles.
pub fn to_plain_text(markdown: &str) -> String {
    let events: Vec<Event> = Parser::new_ext(markdown, OPTIONS).collect();
    let text = plain_text(&events);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn plain_text(events: &[Event]) -> String {
    let mut text = String::new();
    // Inside a raw `<script>` or `<style>`: code, not words (the sanitiser drops it from pages).
    let mut in_code = false;
    for event in events {
        match event {
            Event::Html(html) | Event::InlineHtml(html) => {
                let html = html.to_ascii_lowercase();
                let has = |tag: &str| {
                    html.match_indices(tag).any(|(at, _)| {
                        html[at + tag.len()..]
                            .starts_with(|c: char| c == '>' || c == '/' || c.is_whitespace())
                    })
                };
                let (opens, closes) = (has("<script") || has("<style"), has("</script") || has("</style"));
                in_code = (in_code || opens) && !closes;
            }
            Event::Text(t) | Event::Code(t) if !in_code => text.push_str(t),
            // Every block ends a run of words: a heading or a list item does not run into the next.
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::TableCell | TagEnd::CodeBlock,
            ) => text.push(' '),
            _ => {}
        }
    }
    text
}

/// Hands out heading ids: the heading's words joined by `-`, numbered when repeated.
#[derive(Default)]
struct HeadingIds(HashMap<String, usize>);

impl HeadingIds {
    fn next(&mut self, heading: &str) -> String {
        let words: Vec<String> = heading
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        let base = if words.is_empty() { "section".to_string() } else { words.join("-") };
        let seen = self.0.entry(base.clone()).or_insert(0);
        *seen += 1;
        if *seen == 1 { base } else { format!("{base}-{seen}") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_strikethrough_and_task_lists_render() {
        let html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~\n\n- [x] done\n- [ ] open\n");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<del>old</del>"), "{html}");
        // The sanitiser writes an element's attributes in no fixed order.
        let inputs = |html: &str| -> Vec<String> {
            html.split("<input").skip(1).map(|rest| rest.split('>').next().unwrap().to_string()).collect()
        };
        let boxes = inputs(&html);
        assert_eq!(boxes.len(), 2, "{html}");
        assert!(boxes[0].contains("checked") && !boxes[1].contains("checked"), "{html}");
        // A control typed as raw HTML is a checkbox too, and none can be ticked: no text field
        // survives.
        let raw = render("<input name=\"q\" value=\"x\"> <input type=\"text\">");
        let controls = inputs(&raw);
        assert_eq!(controls.len(), 2, "{raw}");
        for attributes in boxes.iter().chain(&controls) {
            let mut names: Vec<&str> =
                attributes.split_whitespace().filter(|a| *a != "checked=\"\"").collect();
            names.sort();
            assert_eq!(names, ["disabled=\"\"", "type=\"checkbox\""], "{html}{raw}");
        }
    }

    #[test]
    fn headings_get_unique_anchors() {
        let html =
            render("## 原因\n\ntext\n\n## Cause and fix\n\n## Cause and fix\n\n# Top\n\n###### Deep\n");
        assert!(
            html.contains(
                r##"<h3 id="原因">原因 <a class="anchor" href="#原因" aria-label="原因" rel="noopener noreferrer">#</a></h3>"##
            ),
            "{html}"
        );
        assert!(html.contains(r#"<h2 id="top">"#) && html.contains(r#"<h6 id="deep">"#), "{html}");
        assert!(!render("<h1>raw</h1>").contains("<h1"), "the page's title is its only h1");
        assert!(html.contains(r#"id="cause-and-fix""#), "{html}");
        assert!(html.contains(r#"id="cause-and-fix-2""#), "{html}");
        let quoted = render("## \"A\" & <b>B</b>\n");
        assert!(quoted.contains(r#"aria-label="&quot;A&quot; &amp; B""#), "{quoted}");
    }

    #[test]
    fn scripts_handlers_and_dangerous_urls_are_removed() {
        let html = render(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[a](javascript:alert(1)) [b](data:text/html,x)\n\n<input type=text value=x>",
        );
        for bad in ["<script", "onerror", "javascript:", "data:", "type=\"text\""] {
            assert!(!html.contains(bad), "{bad} survived: {html}");
        }
    }

    #[test]
    fn plain_text_keeps_words_only() {
        assert_eq!(
            to_plain_text("**Sending** is back to *normal*.\nSee [notice](/x)."),
            "Sending is back to normal. See notice."
        );
        assert_eq!(
            to_plain_text(
                "English body <script>alert('en')</script> and <STYLE>p{}</STYLE>more.\n\n<script>\nx()\n</script>\n\nEnd."
            ),
            "English body and more. End."
        );
        assert_eq!(to_plain_text("<styled>kept</styled> words"), "kept words", "only those two tags");
        assert_eq!(
            to_plain_text("## 影響\n\n- 配信\n- API\n\n| a | b |\n|---|---|\n| 1 | 2 |"),
            "影響 配信 API a b 1 2",
            "blocks do not run together"
        );
    }
}
