//! One module per command.

pub mod explain;
pub mod generate;
pub mod scan;
pub mod table;
pub mod test;
pub mod validate;
