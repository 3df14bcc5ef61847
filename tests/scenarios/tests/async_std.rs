//! Every adapter scenario on async_std.
adapter_scenarios::scenarios!(adapter_scenarios::AsyncStd);
