//! `content/site.toml`: the site's name, address, time zone, languages and the service
//! components shown on the status page.

use std::path::Path;

use chrono_tz::Tz;
use serde::Deserialize;
use statusdesk_app::Lang;

use super::finding::{Findings, line_of};

/// A text in the site's main language (Japanese) and its English translation.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub ja: String,
    pub en: String,
}

impl Localized {
    pub fn get(&self, lang: Lang) -> &str {
        lang.pick(&self.ja, &self.en)
    }
}

/// A part of the service whose state the status page shows.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub id: String,
    pub name: Localized,
    pub description: Localized,
}

/// The validated contents of `site.toml`.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub name: Localized,
    pub base_url: String,
    pub time_zone: Tz,
    /// Published languages; the first is the default.
    pub languages: Vec<Lang>,
    pub notices_per_page: usize,
    pub components: Vec<Component>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    name: Localized,
    base_url: String,
    time_zone: toml::Spanned<String>,
    languages: toml::Spanned<Vec<String>>,
    #[serde(default = "default_per_page")]
    notices_per_page: usize,
    #[serde(default)]
    components: Vec<toml::Spanned<Component>>,
}

fn default_per_page() -> usize {
    20
}

impl Site {
    /// Parses `site.toml`; every problem is reported into `findings` with its line.
    pub fn parse(source: &str, findings: &mut Findings) -> Option<Site> {
        let raw: RawSite = match toml::from_str(source) {
            Ok(raw) => raw,
            Err(e) => {
                let (line, problem) = super::finding::toml_problem(source, &e, ("", ""));
                findings.error(line, problem);
                return None;
            }
        };
        let time_zone = match raw.time_zone.get_ref().parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                let line = line_of(source, raw.time_zone.span().start);
                let zone = raw.time_zone.get_ref();
                findings.error(
                    line,
                    Localized {
                        en: format!("unknown time zone `{zone}`; use an IANA name such as `Asia/Tokyo`"),
                        ja: format!("タイムゾーン `{zone}` はありません。`Asia/Tokyo` のような IANA のタイムゾーン名を書いてください"),
                    },
                );
                None
            }
        };
        let languages_line = line_of(source, raw.languages.span().start);
        let mut languages = Vec::new();
        for code in raw.languages.get_ref() {
            match Lang::from_code(code) {
                Some(lang) if !languages.contains(&lang) => languages.push(lang),
                Some(_) => findings.error(
                    languages_line,
                    Localized {
                        en: format!("language `{code}` is listed twice"),
                        ja: format!("言語 `{code}` が二度書かれています"),
                    },
                ),
                None => findings.error(
                    languages_line,
                    Localized {
                        en: format!("unknown language `{code}`; the site speaks `ja` and `en`"),
                        ja: format!("言語 `{code}` はありません。使えるのは `ja` と `en` です"),
                    },
                ),
            }
        }
        if languages.is_empty() {
            findings.error(
                languages_line,
                Localized {
                    en: "`languages` needs at least one of `ja`, `en`".into(),
                    ja: "`languages` には `ja` か `en` を一つ以上書いてください".into(),
                },
            );
        }
        if raw.notices_per_page == 0 {
            findings.error(
                1,
                Localized {
                    en: "`notices_per_page` must be at least 1".into(),
                    ja: "`notices_per_page` は 1 以上にしてください".into(),
                },
            );
        }
        let mut components: Vec<Component> = Vec::new();
        for component in raw.components {
            let line = line_of(source, component.span().start);
            let component = component.into_inner();
            if !is_identifier(&component.id) {
                let id = &component.id;
                findings.error(
                    line,
                    Localized {
                        en: format!("component id `{id}` must be lowercase letters, digits and `-`"),
                        ja: format!("コンポーネントの id `{id}` に使えるのは英小文字、数字、`-` だけです"),
                    },
                );
            } else if components.iter().any(|c| c.id == component.id) {
                let id = &component.id;
                findings.error(
                    line,
                    Localized {
                        en: format!("component id `{id}` is used twice"),
                        ja: format!("コンポーネントの id `{id}` が二度使われています"),
                    },
                );
            } else {
                components.push(component);
            }
        }
        if findings.has_errors() {
            return None;
        }
        Some(Site {
            name: raw.name,
            base_url: raw.base_url.trim_end_matches('/').to_string(),
            time_zone: time_zone?,
            languages,
            notices_per_page: raw.notices_per_page,
            components,
        })
    }

    pub fn default_lang(&self) -> Lang {
        self.languages[0]
    }

    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.id == id)
    }

    /// Reads and parses `dir/site.toml`.
    pub fn load(dir: &Path, findings: &mut Findings) -> Option<Site> {
        match super::read_text(&dir.join("site.toml")) {
            Ok(source) => Site::parse(&source, findings),
            Err((line, problem)) => {
                findings.error(line, problem);
                None
            }
        }
    }
}

/// Lowercase ASCII letters, digits and `-`, starting with a letter or digit.
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
