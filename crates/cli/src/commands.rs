//! One module per command.

pub mod explain;
pub mod generate;
pub mod init;
pub mod ledger;
pub mod scan;
pub mod table;
pub mod test;
pub mod validate;
