//! The attacks against `ws-tokio` (server and client).
#![allow(clippy::disallowed_methods)] // the generated tests only call the attacks

adversarial_tests::attack_tests!(tokio_adapter, adversarial_tests::Tokio);
