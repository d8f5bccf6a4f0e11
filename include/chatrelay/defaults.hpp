// Default values of every relay option: the config file, the flags and the
// docs all quote these.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace chatrelay::defaults {

using namespace std::chrono_literals;

namespace amqp {
constexpr const char* host = "127.0.0.1";
constexpr uint16_t port = 5672;
constexpr const char* vhost = "/";
constexpr const char* user = "guest";
constexpr const char* password = "guest";
constexpr auto heartbeat = 10s;
/// Deliveries of `login`/`chat` in flight (AMQP prefetch): bounds memory.
constexpr size_t max_in_flight = 1024;
/// The longest a publish waits for the broker's confirm before the relay
/// reopens its publish channel and sends the unconfirmed again.
constexpr auto confirm_timeout = 5s;
/// Commands (publish batches, queue operations) queued for the AMQP thread,
/// and publish batches held while the broker blocks publishing: past this,
/// the broker actor waits (back-pressure, nothing dropped).
constexpr size_t max_commands = 4096;
/// Events (relay state) the events consumer takes unacknowledged.
constexpr size_t events_prefetch = 256;
/// First and last delay between connection attempts.
constexpr auto min_backoff = 100ms;
constexpr auto max_backoff = 5s;
} // namespace amqp

namespace topology {
constexpr const char* login_queue = "login";
constexpr const char* chat_queue = "chat";
constexpr const char* events_exchange = "chat.relay.events";
constexpr const char* room_exchange_prefix = "chat.room.";
constexpr auto queue_expiry = 300s;
/// Type of the user queues the relay declares: "classic" or "quorum".
constexpr const char* user_queue_type = "classic";
/// What the relay publishes to users: "persistent" (written to disk in
/// durable user queues) or "transient" (held in memory; a client that
/// resumes with `since` gets what a broker crash lost from history).
constexpr const char* deliveries = "persistent";
} // namespace topology

namespace chat {
constexpr const char* default_room = "main";
/// A session replaced by a login elsewhere keeps its queue this long, so its
/// client reads the `duplicate_login` error (and stops) before the queue goes.
constexpr auto replaced_queue_grace = 2s;
constexpr size_t history_size = 100;
/// Presence is broadcast in rooms up to this size: every join/leave costs one
/// delivery per member, so larger rooms would grow quadratically.
constexpr size_t presence_limit = 100;
constexpr auto keepalive_timeout = 60s;
constexpr size_t max_message_size = 16384;
constexpr size_t rate_limit = 10; // messages per second
constexpr size_t rate_burst = 20;
constexpr bool require_token = true;
constexpr const char* duplicate_login = "replace";
constexpr size_t max_rooms_per_user = 16;
} // namespace chat

namespace cluster {
constexpr auto failover = 2s;
} // namespace cluster

/// Per-room batching: a batch holds at most this many messages and bytes,
/// and a room sends its batches at least `linger` apart (a quiet room
/// publishes at once; 0: whenever the broker has confirmed the last one).
namespace batch {
constexpr size_t max_messages = 64;
constexpr size_t max_bytes = 65536;
/// 10 ms: fewer, fuller batch frames at a few hundred msg/s per room (the
/// broker's and the browsers' cost is per frame); single (seed) messages
/// never wait (bench/results/LATEST.md).
constexpr auto linger = 10ms;
} // namespace batch

// The daemon's own options (app/config.hpp), not the embeddable relay's.

namespace http {
constexpr const char* address = "127.0.0.1:8080";
/// Empty: found next to the installed daemon or in its build tree.
constexpr const char* web_root = "";
constexpr const char* web_stomp_url = "ws://127.0.0.1:15674/ws";
constexpr const char* web_user = "chat-web";
constexpr const char* web_password = "chat-web";
} // namespace http

constexpr const char* log_level = "info";
constexpr const char* log_format = "text";

/// The daemon's middleman port for the registry (docs/embedding.md).
namespace remote {
constexpr uint16_t port = 0; ///< 0 = not published
constexpr const char* host = "127.0.0.1";
} // namespace remote

} // namespace chatrelay::defaults
