pub mod auth;
pub mod calendar;
pub mod registry;
pub mod system;
