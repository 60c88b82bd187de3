pub mod auth;
pub mod calendar;
pub mod system;
