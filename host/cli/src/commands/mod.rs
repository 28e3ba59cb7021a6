//! One module per command group.

pub mod connection;
pub mod lookup;
pub mod plugin;
pub mod records;
pub mod runs;
pub mod scaffold;
pub mod scheme;
pub mod serve;
pub mod tenant;
