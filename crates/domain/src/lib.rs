//! Vigie's domain: the types users talk about, the rules that keep them valid,
//! and who may do what. Plain Rust: no SQL, no HTTP, no clock, no files.

pub mod access;
pub mod area;
pub mod audit;
pub mod cases;
pub mod error;
pub mod i18n;
pub mod import;
pub mod password;

pub use error::{Invalid, LineError};
pub use i18n::{Lang, Msg};
