//! Every adapter scenario on async-std.
adapter_scenarios::scenarios!(adapter_scenarios::AsyncStd);
