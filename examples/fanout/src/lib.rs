//! Fan-out and scale-out examples (see `examples/`): `broadcast_server`
//! serves topics at `/topic/NAME`, each message published once and
//! delivered to every subscriber (across server processes with
//! `--nats URL`); `chat_node` runs the chat demo as several processes
//! sharing rooms through NATS (`scripts/chat-scaleout.sh` starts a few).
