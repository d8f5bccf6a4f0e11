// Per-room batching (docs/protocol.md, "Batches"): a group commit of the
// room's rendered messages for the clients that asked for `batch` events.
// Pure: no actor, no clock of its own; the room actor feeds it messages,
// confirms and (with a linger) timer ticks, and publishes what it returns.
#pragma once

#include "chatrelay/defaults.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatrelay {

/// Limits of one room's batches (`relay.batch-max`, `relay.batch-max-bytes`,
/// `relay.batch-linger`; the options supply the values).
struct batch_limits {
  /// Messages per batch (at least 1).
  size_t max_messages = defaults::batch::max_messages;
  /// Bytes of rendered messages per batch; a larger message goes alone.
  size_t max_bytes = defaults::batch::max_bytes;
  /// The least time between two batches of a room (0: none). A room that
  /// has sent no batch for this long publishes at once; a busy one gathers
  /// what arrives until then, so a fast room sends fewer, fuller batches.
  std::chrono::milliseconds linger = defaults::batch::linger;
};

/// The exchanges a room publishes to, one per audience.
struct room_exchanges {
  std::string single; ///< every `message` alone: clients without batch
  std::string batch;  ///< `batch` events: clients that logged in with batch
};

/// `<prefix><room>` and `<prefix><room>.batch`: room names have no `.`, so
/// the batch exchange of one room is never the exchange of another.
room_exchanges exchanges_of(std::string_view prefix, std::string_view room);

/// Group commit for one room: a message goes out at once when nothing is
/// unconfirmed (and, with a linger, the room's last batch is at least that
/// old); what arrives meanwhile is held and forms the next batch (up to the
/// limits). Order is kept and every message is returned exactly once.
class batcher {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  /// Rendered `message` events, in order (protocol::render_batch frames them).
  using batch = std::vector<std::string>;

  explicit batcher(batch_limits limits);

  /// Takes a rendered message: returns the batch to publish now, if any.
  std::optional<batch> push(std::string event, time_point now);

  /// The batch in flight is settled (the broker confirmed it, or the actor
  /// gave up on it): returns the next batch to publish now, if any.
  std::optional<batch> confirmed(time_point now);

  /// The linger timer fired: returns the batch to publish now, if any.
  std::optional<batch> expired(time_point now);

  /// When held messages become due by time alone (linger > 0, nothing in
  /// flight, the last batch too recent): the actor arms a timer for it and
  /// then calls expired().
  std::optional<time_point> deadline() const;

  /// A batch is published and not yet confirmed.
  bool in_flight() const { return in_flight_; }

  /// Messages waiting for the next batch.
  size_t held() const { return held_.size(); }

private:
  /// Publishes the next batch when nothing is in flight and it is due.
  std::optional<batch> next(time_point now);
  bool full() const;
  batch take();

  batch_limits limits_;
  std::deque<std::string> held_;
  size_t held_bytes_ = 0;
  bool in_flight_ = false;
  /// When the last batch went out (long ago: the first goes at once).
  time_point last_sent_ = time_point::min();
};

} // namespace chatrelay
