//! The `capsim` command line.

fn main() {}
