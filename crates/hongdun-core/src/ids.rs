//! Typed ids so a unit id can never be passed where a user id is expected.
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub i64);
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { self.0.fmt(f) }
        }
    )*};
}

id_type!(
    /// A unit of the organisation tree (bureau, section, office, grid).
    UnitId,
    /// A staff or machine-client owner account.
    UserId,
    /// A role: a set of permissions plus a data scope.
    RoleId,
    /// An API token for a machine client.
    TokenId,
);
