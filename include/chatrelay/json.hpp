// The JSON codec of chat events: the one shape a chat event has in JSON,
// the wire protocol's (docs/protocol.md). Users get it, relays replicate it,
// and an embedder prints or parses it with nlohmann::json (found by ADL):
// `nlohmann::json j = ev;`, `auto ev = j.get<chatrelay::chat_event>();`.
#pragma once

#include "chatrelay/messages.hpp"

#include <nlohmann/json_fwd.hpp>

namespace chatrelay {

/// Renders `ev` with only the fields of its kind: message (id, ts, room,
/// sender, message, cid), direct (to instead of room), join (room, login),
/// leave (room, login, reason).
void to_json(nlohmann::json& j, const chat_event& ev);

/// Reads what to_json wrote (throws nlohmann::json::exception otherwise).
void from_json(const nlohmann::json& j, chat_event& ev);

} // namespace chatrelay
