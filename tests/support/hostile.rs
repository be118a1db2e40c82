//! Raw-TCP servers that send exactly the bytes a test needs (bad Accept, masked frames, ...).
