//! Validation errors: which field, and what is wrong with it, in words a person can read.

use crate::i18n::Msg;
use serde::Serialize;

/// A value that failed validation. `field` names the input at fault (JSON pointer-like path or column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("invalid {field}: {msg:?}")]
pub struct Invalid {
    pub field: String,
    pub msg: Msg,
}

impl Invalid {
    pub fn new(field: impl Into<String>, msg: Msg) -> Self {
        Invalid { field: field.into(), msg }
    }
}

/// An error in an imported file, with the line (1-based, header = line 1 for CSV) where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: usize,
    pub field: String,
    pub msg: Msg,
}
