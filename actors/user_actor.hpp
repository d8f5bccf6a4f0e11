// The USER actor: one per session on the active relay. The registry finds a
// chat message's session (login and token) and hands it here; from then on
// the session decides: which room (or that it is a direct message), whether
// the rate limit lets it through, and the answer the sender gets.
#pragma once

#include "chatrelay/internal/actors.hpp"
#include "chatrelay/metrics.hpp"

#include <caf/actor_clock.hpp>
#include <caf/timespan.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace chatrelay {

/// What a user actor is told at spawn.
struct user_config {
  std::string login;
  std::string queue;
  uint64_t session = 0;
  /// The session's rooms and their actors: where its messages go.
  std::map<std::string, room_actor> rooms;
  /// The room a message naming none goes to, when the session is in it
  /// (else its first room): the seed's clients name no room.
  std::string default_room;
  std::vector<std::string> exchanges; ///< room exchanges to bind the queue to
  /// Room exchanges the queue may still be bound to from an earlier session
  /// (fewer rooms now): unbound before the queue is declared.
  std::vector<std::string> unbind;
  session_listener_actor registry;
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

  /// The room a message naming `room` goes to (none named: the default
  /// room if the session is in it, else its first); empty when the session
  /// is not in that room.
  std::string room_for(const std::string& room) const;
};

user_actor::behavior_type user(user_actor::stateful_pointer<user_state> self,
                               user_config cfg);

} // namespace chatrelay
