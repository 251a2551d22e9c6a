//! Protected cases: corruption denunciations, human-rights violation complaints, inspection
//! missions and civil-society monitoring findings. Each kind follows a workflow defined as data
//! ([`WorkflowDef`]), so admins can add kinds without a release; the reporter follows the case
//! with a receipt code ([`ReceiptCode`]) instead of an account; identity fields are listed so
//! storage encrypts them and exports redact them ([`IdentityPolicy`]); the public transparency
//! page only shows counts that cannot single anyone out ([`suppress`]).
//!
//! Pure: the caller supplies `now`, random bytes and keys.

pub mod builtin;
pub mod identity;
pub mod msg;
pub mod receipt;
pub mod suppression;
pub mod workflow;

pub use builtin::{builtin_workflows, denunciation, inspection_mission, monitoring_finding, violation};
pub use identity::{IdentityPolicy, REDACTED};
pub use msg::CaseMsg;
pub use receipt::{ct_eq, LockoutDecision, LockoutPolicy, LockoutState, ReceiptCode, ReceiptHash, ReceiptKey};
pub use suppression::{derivable, suppress, CountRow, MinCount, Published, PublishedTable, DEFAULT_K};
pub use workflow::{
    is_overdue, open_case, overdue_days, provided_fields, transition, Actor, Allowed, CaseError, FieldDef, Label, StateDef, TransitionDef,
    TransitionOutcome, WorkflowDef, WorkflowSpec,
};
