//! Plain text shared by messages and tables: the one "did you mean" rule (`suggest`) and
//! aligned columns for the terminal (`table`).
//!
//! Use these wherever capsim words something for people, so that every suggestion is chosen,
//! and every table laid out, the same way. This module imports nothing from the rest of the
//! crate and decides nothing about what it is given.

pub mod suggest;
pub mod table;
