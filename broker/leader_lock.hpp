// The exclusive-consumer leader lock: one relay at a time consumes `chat` and
// `login` (a second exclusive basic.consume is refused while the first
// lives), the others stand by and try again. This class decides when to try
// and what the relay is meanwhile. Pure: no rabbitmq-c, no CAF, so every rule
// here is unit tested (tests/unit/leader.cpp); the AMQP client does the
// consumes.
#pragma once

#include "broker/clock.hpp"

#include <cstdint>

namespace chatrelay::broker {

class leader_lock {
public:
  /// What the client should try now.
  enum class step {
    wait,          ///< nothing yet
    consume_chat,  ///< an exclusive consume of `chat`
    consume_login, ///< an exclusive consume of `login` (chat is held)
  };

  /// `failover`: how long a relay's first connection waits before it
  /// competes (a standby retries every quarter of it); `login_retry`: how
  /// often the new holder of `chat` retries `login` while the previous
  /// holder's consumer of it is still going away.
  leader_lock(duration failover, duration login_retry);

  /// A connection of `generation` (1, 2, ... per process) is up: standby.
  void connected(uint64_t generation, time_point now);

  step next(time_point now) const;

  /// How long until next() has something to do (the client's poll bound).
  duration until_next(time_point now) const;

  /// The chat consumer was granted: this relay is active from now on.
  void chat_granted();

  /// Another relay holds `chat`.
  void chat_refused(time_point now);

  void login_granted();

  /// Another relay still holds `login`.
  void login_refused(time_point now);

  /// The connection is gone (or a consumer was cancelled and the client
  /// reconnects): neither consumer is held any more.
  void lost();

  /// Holds `chat`: the relay orders the rooms.
  bool active() const { return chat_held_; }

  bool holds_login() const { return login_held_; }

private:
  duration failover_;
  duration login_retry_;
  bool connected_ = false;
  bool chat_held_ = false;
  bool login_held_ = false;
  time_point next_chat_{};
  time_point next_login_{};
};

} // namespace chatrelay::broker
