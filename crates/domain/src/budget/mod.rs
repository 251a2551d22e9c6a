//! Budgets of programmes: exact money, budget tables with computed cost lines, reconciliation
//! against the signed document, and variance reports (apportionment vs expenditure).

pub mod execution;
pub mod money;
pub mod table;
pub mod variance;
#[cfg(test)]
mod seed_tests;

pub use money::{Currency, Dec, ExchangeRate, Money, MoneyError, NumberStyle, Ratio, Rounded, RoundingMode};
