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
    let written = export(&published.site, &target).unwrap();

    let mut exported = Vec::new();
    files(&target, &target, &mut exported);
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
    std::fs::create_dir_all(target.join("stale")).unwrap();
    std::fs::write(target.join("stale/old.html"), "old").unwrap();
    export(&app.site.current().site, &target).unwrap();
    assert!(!target.join("stale").exists());
    assert!(target.join("index.html").exists());
    let leftovers: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["site"], "no staging folder is left behind");
}
