pub mod auth;
pub mod calendar;
pub mod complaint;
pub mod imports;
pub mod inspection;
pub mod public;
pub mod registry;
pub mod system;
