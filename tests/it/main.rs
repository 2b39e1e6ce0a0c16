//! Integration tests of the capsim binary and library.
