//! Every adapter scenario on tokio.
adapter_scenarios::scenarios!(adapter_scenarios::Tokio);
