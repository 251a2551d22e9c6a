//! The `vigie` binary's end-to-end tests, linked into one test binary (see
//! crates/server/tests/main.rs for why). Each module drives the binary as an operator would.

#[path = "../../server/tests/support/mod.rs"]
#[macro_use]
mod support;

mod alert_facts;
mod cli;
mod crash;
mod ew_cli;
mod governance_import;
mod results_import;
mod scaleout;
mod security;
