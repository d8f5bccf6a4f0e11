// The USER actor: one per logged-in user on the active relay.
#pragma once

#include "chatrelay/internal/actors.hpp"
#include "chatrelay/metrics.hpp"

#include <caf/actor_clock.hpp>
#include <caf/timespan.hpp>

#include <memory>
#include <string>
#include <vector>

namespace chatrelay {

/// What a user actor is told at spawn.
struct user_config {
  std::string login;
  std::string queue;
  uint64_t session = 0;
  std::vector<std::string> exchanges; ///< room exchanges to bind the queue to
  /// Room exchanges the queue may still be bound to from an earlier session
  /// (fewer rooms now): unbound before the queue is declared.
  std::vector<std::string> unbind;
  registry_actor registry;
  broker_actor broker;
  caf::timespan keepalive;
  double rate = 10;                       ///< chat messages per second
  double burst = 20;                      ///< token bucket size
  std::shared_ptr<relay_metrics> metrics; ///< may be null
};

struct user_state {
  static inline const char* name = "user";

  user_config cfg;
  caf::actor_clock::time_point last_seen;
  caf::actor_clock::time_point last_refill;
  double tokens = 0;

  /// Refills the token bucket; returns whether one message may pass.
  bool take_token(caf::actor_clock::time_point now);
};

user_actor::behavior_type user(user_actor::stateful_pointer<user_state> self,
                               user_config cfg);

} // namespace chatrelay
