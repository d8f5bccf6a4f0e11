// The public data of the relay: what its facade (relay_actor) and an
// embedder's observers and moderators exchange, also across processes
// through CAF's middleman. Registered in type_ids.hpp. The types that only
// travel between the relay's own actors are in internal/messages.hpp.
#pragma once

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace chatrelay {

/// What the broker bridge is to this relay right now.
enum class relay_role : uint8_t {
  disconnected, ///< no broker connection
  standby,      ///< connected, another relay consumes login/chat
  active,       ///< connected and the exclusive consumer of login/chat
};

std::string to_string(relay_role x);

/// What an observer of the relay sees.
enum class event_kind : uint8_t { message, direct, join, leave };

std::string to_string(event_kind x);

/// One chat event, as published to users (and to observers).
struct chat_event {
  event_kind kind = event_kind::message;
  uint64_t id = 0; ///< per-room sequence number (0 for join/leave)
  int64_t ts = 0;  ///< milliseconds since the epoch
  std::string room;
  std::string sender; ///< login of the author (or of the user joining)
  std::string to;     ///< recipient of a direct message
  std::string text;   ///< message text, or leave reason
  std::string cid;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_event& x) {
  return f(caf::meta::type_name("chat_event"), x.kind, x.id, x.ts, x.room,
           x.sender, x.to, x.text, x.cid);
}

/// Who is online in a room: the relay's answer to presence.
struct room_users {
  std::string room;
  std::vector<std::string> logins; ///< sorted
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, room_users& x) {
  return f(caf::meta::type_name("room_users"), x.room, x.logins);
}

} // namespace chatrelay
