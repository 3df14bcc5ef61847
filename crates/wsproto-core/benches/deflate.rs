//! permessage-deflate throughput (placeholder, filled in below).
fn main() {}
