//! The attacks against `ws-async-std` under smol (server and client).
#![allow(clippy::disallowed_methods)] // the generated tests only call the attacks

adversarial_tests::attack_tests!(smol_adapter, adversarial_tests::Smol);
