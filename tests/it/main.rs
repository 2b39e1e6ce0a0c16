//! Integration tests of the capsim binary and library.

mod conformance;
