//! One module per command group.

pub mod connection;
pub mod plugin;
pub mod tenant;
