//! statusdesk: the status and notice site of a press-release mail service, over the same
//! delivery database the mail sender writes.
//!
//! A request flows one way: [`http`] handler → [`public_site`] index (or, for the portal and
//! staff console, the [`store`]) → view model → `statusdesk_app` component → HTML. The public site
//! is built from [`content`] ahead of time and needs no database. `ARCHITECTURE.md` has the map.

pub mod accounts;
pub mod cli;
pub mod commands;
pub mod config;
pub mod content;
pub mod csv;
pub mod delivery;
pub mod dispatch;
pub mod export;
pub mod http;
pub mod public_site;
pub mod store;
pub mod telemetry;
pub mod text;
