//! The Hongdun domain: typed ids, parsed newtypes and pure rules.
//!
//! Nothing here does IO or knows HTTP, SQL or a JSON library: every rule can be
//! tested with plain values, and every other crate builds on these types.
#![forbid(unsafe_code)]

pub mod audit;
pub mod calendar;
pub mod complaint;
pub mod division;
pub mod ids;
pub mod inspection;
pub mod privacy;
pub mod registry;
pub mod sampling;
pub mod seal;
pub mod system;

/// Every domain error carries a stable machine code (what the API and console
/// switch on) and a zh-CN message for people.
pub trait Coded {
    fn code(&self) -> &'static str;
    fn message_zh(&self) -> String;
}
