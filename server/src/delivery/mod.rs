//! The delivery side: what the mail sender's data says. [`impact`] turns an incident's scope
//! into figures; [`incidents`] keeps those figures per published incident for the portal;
//! [`replay`] generates the reference-incident dataset for demos, tests and benchmarks.

pub mod figures;
pub mod impact;
pub mod incidents;
pub mod replay;
