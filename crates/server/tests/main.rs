//! Vigie-server's integration tests, linked into one test binary (one link instead of one per
//! file: minutes and gigabytes less for every clean build). Each module is one capability's tests;
//! nextest still runs every test in its own process.

#[macro_use]
mod support;

mod analytics;
mod api;
mod authz_matrix;
mod auto_raise;
mod cases;
mod early_warning;
mod early_warning_events;
mod governance;
mod indicator_computers;
mod ingest;
mod kannel;
mod limits;
mod openrosa;
mod pyxform_forms;
mod results;
mod web;
mod web_admin;
mod web_cases;
mod web_results;
