//! List benchmark (written once the translator lands).
fn main() {}
