//! `statusdesk export` writes, for every URL of the public site, exactly the bytes the server
//! sends for it.

mod common;

use std::path::Path;

use axum::http::StatusCode;
use common::TestApp;
use statusdesk::export::export;

fn files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(root, &path, out);
        } else {
            out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
        }
    }
}

#[tokio::test]
async fn exported_files_are_byte_for_byte_what_the_server_serves() {
    let app = TestApp::new();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("site");
    let published = app.site.current();
    let written = export(&published.site, &app.content, &target).unwrap();

    let mut exported = Vec::new();
    files(&target, &target, &mut exported);
    let marker = exported.iter().position(|f| f == ".statusdesk-export").expect("the export is marked");
    exported.remove(marker);
    assert_eq!(exported.len(), written);
    for required in [
        "index.html",
        "ja/index.html",
        "en/index.html",
        "en/notices/index.html",
        "en/notices/page/2/index.html",
        "en/notices/delivery-outage/index.html",
        "notices/delivery-outage/index.html",
        "en/feed.atom",
        "feed.atom",
        "api/v1/status.json",
        "api/v1/notices/slow-api.json",
        "style/site.css",
        "404.html",
        "en/404.html",
    ] {
        assert!(exported.iter().any(|f| f == required), "{required} missing from {exported:?}");
    }
    for file in &exported {
        let url = match file.as_str() {
            "404.html" => "/missing".to_string(),
            f if f.ends_with("/404.html") => format!("/{}/missing", &f[..2]),
            f => format!("/{}", f.trim_end_matches("index.html")),
        };
        let response = app.get(&url).await;
        let expected = if file.ends_with("404.html") { StatusCode::NOT_FOUND } else { StatusCode::OK };
        assert_eq!(response.status, expected, "{url}");
        let bytes = std::fs::read(target.join(file)).unwrap();
        assert!(bytes == response.body, "{file} differs from GET {url}");
    }
}

#[tokio::test]
async fn an_export_replaces_the_previous_one_whole() {
    let app = TestApp::new();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("site");
    export(&app.site.current().site, &app.content, &target).unwrap();
    std::fs::create_dir_all(target.join("stale")).unwrap();
    std::fs::write(target.join("stale/old.html"), "old").unwrap();
    export(&app.site.current().site, &app.content, &target).unwrap();
    assert!(!target.join("stale").exists());
    assert!(target.join("index.html").exists());
    let leftovers: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["site"], "no staging folder is left behind");
}

#[tokio::test]
async fn an_export_never_replaces_a_folder_it_did_not_write() {
    let app = TestApp::new();
    let site = &app.site.current().site;
    let out = tempfile::tempdir().unwrap();
    let kept = out.path().join("documents");
    std::fs::create_dir_all(&kept).unwrap();
    std::fs::write(kept.join("important.txt"), "keep").unwrap();
    let refused = export(site, &app.content, &kept).unwrap_err();
    assert!(refused.to_string().contains("holds files that an export did not write"), "{refused}");
    assert_eq!(std::fs::read_to_string(kept.join("important.txt")).unwrap(), "keep");

    // The content folder, a folder in it, or one holding it: refused, whatever they hold.
    let notices = app.content.join("notices");
    let holding = app.content.parent().unwrap().to_path_buf();
    // Named the long way round: through a folder not made yet, or a link.
    let round_about = holding.join("not-yet").join("..").join("content");
    let link = out.path().join("link-to-content");
    std::os::unix::fs::symlink(&app.content, &link).unwrap();
    let targets =
        [app.content.clone(), notices.clone(), app.content.join("site-export"), holding, round_about, link];
    for target in targets {
        let refused = export(site, &app.content, &target).unwrap_err();
        assert!(refused.to_string().contains("would replace the content folder"), "{refused}");
    }
    assert!(notices.join("delivery-outage.md").exists());
    assert!(!app.content.join("site-export").exists());
    assert!(!app.content.parent().unwrap().join("not-yet").exists(), "nothing made for a refused export");

    // An empty folder is taken.
    let empty = out.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    export(site, &app.content, &empty).unwrap();
    assert!(empty.join("index.html").exists());
}

/// The fixture's `delivery-outage` notice recorded as published: its file and text.
fn published_outage(app: &TestApp) -> (std::path::PathBuf, String) {
    let path = app.content.join("notices/delivery-outage.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let now = chrono::Utc::now();
    statusdesk::content::revisions::record(&app.content, "delivery-outage", &text, "staff", None, now)
        .unwrap();
    (path, text)
}

#[tokio::test]
async fn a_notice_broken_since_it_was_published_is_exported_as_last_published() {
    let app = TestApp::new();
    let (path, published) = published_outage(&app);
    std::fs::write(&path, published.replace("kind = \"incident\"", "kind = \"incidnt\"")).unwrap();

    let content = statusdesk::content::load(&app.content, None).unwrap();
    assert!(content.findings.iter().any(|f| f.path == path), "the error is still reported");
    let site = statusdesk::public_site::PublicSite::build(&content, chrono::Utc::now());
    let out = tempfile::tempdir().unwrap();
    export(&site, &app.content, &out.path().join("site")).unwrap();
    let page = std::fs::read_to_string(out.path().join("site/en/notices/delivery-outage/index.html"));
    assert!(page.is_ok(), "the notice stays in the fallback site as last published");

    // Without a recorded version there is nothing to fall back on: the notice is left out.
    std::fs::remove_dir_all(app.content.join(".revisions")).unwrap();
    let content = statusdesk::content::load(&app.content, None).unwrap();
    assert!(content.notice("delivery-outage").is_none());
}

#[tokio::test]
async fn a_valid_file_is_never_displaced_by_a_broken_ones_last_version() {
    let app = TestApp::new();
    let (valid, text) = published_outage(&app);
    // A broken file of the same name in a folder sorted first, setting a slug of its own.
    let other = app.content.join("notices/a-folder/delivery-outage.md");
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    let broken = text
        .replacen("+++\n", "+++\nslug = \"other-outage\"\n", 1)
        .replace("kind = \"incident\"", "kind = \"x\"");
    std::fs::write(&other, broken).unwrap();

    let content = statusdesk::content::load(&app.content, None).unwrap();
    assert_eq!(content.notice("delivery-outage").expect("published").path, valid);
    assert!(content.findings.iter().all(|f| f.path != valid), "{:?}", content.findings);
}

/// The fixture's outage notice moved to `notices/2021-outage.md`, setting its own slug
/// (`custom-outage`), and recorded as published: the app, the file and its text.
fn published_with_its_own_slug() -> (TestApp, std::path::PathBuf, String) {
    let app = TestApp::new();
    let (path, text) = published_outage(&app);
    std::fs::remove_file(&path).unwrap();
    let own = app.content.join("notices/2021-outage.md");
    let published = text.replacen("+++\n", "+++\nslug = \"custom-outage\"\n", 1);
    std::fs::write(&own, &published).unwrap();
    let now = chrono::Utc::now();
    statusdesk::content::revisions::record(&app.content, "custom-outage", &published, "staff", None, now)
        .unwrap();
    (app, own, published)
}

#[tokio::test]
async fn a_broken_file_that_sets_its_own_slug_falls_back_to_that_slugs_last_version() {
    let (app, own, published) = published_with_its_own_slug();
    std::fs::write(&own, published.replace("kind = \"incident\"", "kind = \"incidnt\"")).unwrap();

    let content = statusdesk::content::load(&app.content, None).unwrap();
    assert!(content.findings.iter().any(|f| f.path == own), "the error is still reported");
    let kept = content.notice("custom-outage").expect("kept as last published");
    assert_eq!((kept.path.as_path(), kept.source.as_str()), (own.as_path(), published.as_str()));
}

#[tokio::test]
async fn a_file_saved_in_another_encoding_keeps_its_own_slugs_last_version() {
    let (app, own, published) = published_with_its_own_slug();
    // Saved again as Shift_JIS, say: the bytes of 「あ」 are not UTF-8.
    std::fs::write(&own, [published.as_bytes(), b"\n\x82\xa0\n"].concat()).unwrap();

    let content = statusdesk::content::load(&app.content, None).unwrap();
    let finding = content.findings.iter().find(|f| f.path == own).expect("the error is reported").to_string();
    assert!(finding.contains("not valid UTF-8"), "{finding}");
    assert_eq!(content.notice("custom-outage").expect("kept as last published").source, published);
}
