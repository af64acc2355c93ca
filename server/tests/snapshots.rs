//! Snapshots of the rendered public pages (insta). A change to a page shows up as a reviewable
//! diff; `cargo insta review` accepts it. The stylesheet's version is redacted, and tags are put
//! on their own lines so that diffs read well.

mod common;

use common::TestApp;
use regex::Regex;

async fn page(app: &TestApp, path: &str) -> String {
    let html = app.get(path).await.text();
    let version = Regex::new(r"site\.css\?v=[0-9a-f]+").unwrap();
    version.replace_all(&html, "site.css?v=[version]").replace("><", ">\n<")
}

#[tokio::test]
async fn status_page_ja() {
    let app = TestApp::new();
    insta::assert_snapshot!(page(&app, "/ja/").await);
}

#[tokio::test]
async fn notice_page_en() {
    let app = TestApp::new();
    insta::assert_snapshot!(page(&app, "/en/notices/delivery-outage").await);
}

#[tokio::test]
async fn notice_list_en() {
    let app = TestApp::new();
    insta::assert_snapshot!(page(&app, "/en/notices").await);
}

#[tokio::test]
async fn not_found_ja() {
    let app = TestApp::new();
    insta::assert_snapshot!(page(&app, "/nowhere").await);
}
