//! statusdesk's views. Every page is a pure function from a view model ([`model`]) to HTML,
//! rendered on the server with Leptos; nothing here knows of HTTP, databases or files, and no
//! page needs JavaScript.

pub mod i18n;
pub mod layout;
pub mod model;
pub mod pages;
pub mod portal;
pub mod staff;

pub use i18n::Lang;
