//! Vigie's domain: the types users talk about, the rules that keep them valid,
//! and who may do what. Plain Rust: no SQL, no HTTP, no clock, no files.

pub mod access;
pub mod area;
pub mod audit;
pub mod budget;
pub mod cases;
pub mod early_warning;
pub mod error;
pub mod framework;
pub mod governance;
pub mod i18n;
pub mod import;
pub mod openrosa;
pub mod password;
pub mod phone;
pub mod sms;
pub mod text;

pub use error::{Invalid, LineError};
pub use i18n::{Lang, Msg};
