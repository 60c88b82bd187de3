//! The Hongdun domain: typed ids, parsed newtypes and pure rules.
//!
//! Nothing here does IO or knows HTTP, SQL or a JSON library: every rule can be
//! tested with plain values, and every other crate builds on these types.
#![forbid(unsafe_code)]

/// A string-coded enum with a zh-CN label per variant: `ALL`, `as_str`,
/// `label_zh`, and `parse` (the code or the Chinese label). Defined before the
/// modules so each can use it.
macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal / $zh:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name { $($(#[$vm])* $v),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $s),* } }
            pub fn label_zh(self) -> &'static str { match self { $($name::$v => $zh),* } }
            /// Accepts the code or the Chinese label.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.as_str() == s || v.label_zh() == s)
            }
        }
    };
}

pub mod alert;
pub mod audit;
pub mod calendar;
pub mod candidate_set;
pub mod complaint;
pub mod division;
pub mod food_sample;
pub mod ids;
pub mod inspection;
pub mod kitchen;
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
