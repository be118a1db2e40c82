//! stub
pub mod matcher;
pub mod parse;
pub mod vars;
