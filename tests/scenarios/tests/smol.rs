//! Every adapter scenario on smol.
adapter_scenarios::scenarios!(adapter_scenarios::Smol);
