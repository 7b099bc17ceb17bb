//! One module per command.

pub mod accounts;
pub mod certify;
pub mod datacenter;
pub mod explain;
pub mod generate;
pub mod grants;
pub mod held;
pub mod import;
pub mod init;
pub mod ledger;
pub mod personnel;
pub mod report;
pub mod request;
pub mod review;
pub mod scan;
pub mod serve;
pub mod table;
pub mod test;
pub mod users;
pub mod validate;
