//! The attacks against `ws-async-std` under async-std (server and client).
#![allow(clippy::disallowed_methods)] // the generated tests only call the attacks

adversarial_tests::attack_tests!(async_std_adapter, adversarial_tests::AsyncStd);
