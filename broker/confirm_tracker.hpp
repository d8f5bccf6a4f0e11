// Publisher confirms of one channel, the deliveries waiting on them, and the
// deadline that turns a confirm which never comes into a recovery. Pure: no
// rabbitmq-c, no CAF, so every rule here is unit tested (tests/unit/confirms).
#pragma once

#include "broker/clock.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace chatrelay::broker {

class confirm_tracker {
public:
  /// A publish, kept until confirmed so that it can be sent again.
  struct message {
    std::string exchange;
    std::string routing_key;
    std::string body;
  };

  /// A delivery whose publishes are all settled: ack it, or (when the broker
  /// refused one of them) reject it with requeue.
  struct settlement {
    uint64_t tag;
    uint16_t channel; ///< the channel the delivery came on
    bool requeue;
  };

  /// `deadline`: the longest a publish may wait for its confirm.
  explicit confirm_tracker(duration deadline);

  /// Registers the messages of one batch, about to be published in this
  /// order; the delivery `tag` (0 = none) on `channel` is settled once they
  /// are all confirmed. Returns the sequence number of the first message.
  uint64_t add(std::vector<message> messages, uint64_t tag, uint16_t channel,
               time_point now);

  /// A basic.ack (nack = false) or basic.nack of the broker.
  void confirm(uint64_t seq, bool multiple, bool nack, time_point now);

  /// Deliveries settled since the last call, in the order they settled.
  std::vector<settlement> take_settled();

  /// True when publishes wait and the broker has confirmed nothing for the
  /// deadline (a broker that confirms is alive, only slow: flat out, confirms
  /// queue behind seconds of deliveries), or when the oldest unconfirmed
  /// publish waited `max_wait_factor` deadlines (a single lost confirm).
  bool overdue(time_point now) const;

  static constexpr int max_wait_factor = 10;

  /// For a fresh channel (sequence numbers start at 1 again): every
  /// unconfirmed publish, in order, to be published again now. They keep
  /// their deliveries; `stalled()` holds until all of them are confirmed.
  std::vector<message> restart(time_point now);

  /// True while publishes sent again by restart() await their confirm.
  bool stalled() const { return resent_ > 0; }

  /// Publishes awaiting their confirm.
  size_t in_flight() const { return pubs_.size(); }

  /// Deliveries waiting for their publishes.
  size_t waiting() const { return deliveries_.size(); }

  /// Called with the time each confirm took (metrics).
  std::function<void(duration)> on_latency;

private:
  struct publish {
    message msg;
    time_point sent;
    uint64_t delivery; ///< key in deliveries_, 0 = none
    bool done = false;
    bool resent = false;
  };

  struct delivery {
    uint64_t tag;
    uint16_t channel;
    size_t outstanding;
    bool nacked = false;
  };

  void mark(publish& p, bool nack, time_point now);
  void pop_done();

  duration deadline_;
  uint64_t base_ = 1; ///< sequence number of pubs_.front()
  std::deque<publish> pubs_;
  uint64_t next_delivery_ = 1;
  std::map<uint64_t, delivery> deliveries_; ///< settled in any order
  std::vector<settlement> settled_;
  size_t resent_ = 0;
  /// When the broker last confirmed anything (long ago: never).
  time_point last_confirm_ = time_point::min();
};

} // namespace chatrelay::broker
