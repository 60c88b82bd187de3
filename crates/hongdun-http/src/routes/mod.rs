pub mod auth;
pub mod calendar;
pub mod imports;
pub mod public;
pub mod registry;
pub mod system;
