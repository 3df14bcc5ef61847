//! `axum_echo` as a process: its connection cap (503 with `Retry-After`
//! beyond `--max-connections`) and its graceful shutdown on Ctrl-C
//! (sessions closed with 1001, the report printed, exit status 0).

#[tokio::test]
async fn the_cap_and_ctrl_c() {
    let binary = test_support::process::example_binary(
        env!("CARGO"),
        env!("CARGO_MANIFEST_DIR"),
        "axum_echo",
    );
    test_support::example_servers::cap_then_ctrl_c(&binary, "/ws").await;
}
