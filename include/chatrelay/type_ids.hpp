// The relay's type ID block: every message type and handle that travels
// between its actors (also across processes through CAF's middleman).
#pragma once

#include "chatrelay/actors.hpp"
#include "chatrelay/messages.hpp"

#include <caf/type_id.hpp>

#include <map>
#include <string>
#include <vector>

CAF_BEGIN_TYPE_ID_BLOCK(chatrelay, caf::first_custom_type_id)
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::delivery))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::outgoing))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::publish_batch))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::queue_binding))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::chat_request))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::chat_event))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::delivery_source))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::relay_role))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::event_kind))
CAF_ADD_TYPE_ID(chatrelay, (std::vector<std::string>))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::observer_actor))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::registry_actor))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::user_actor))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::broker_actor))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::relay_actor))
CAF_END_TYPE_ID_BLOCK(chatrelay)

namespace chatrelay {

/// The value of `middleman.app-identifiers` for processes that talk to the
/// relay's actors over CAF's middleman. It names the version of the typed
/// interfaces and of the type ID block above: bump it whenever either
/// changes incompatibly, so that old and new peers refuse each other.
/// v2: the relay is reached through its facade (relay_actor), not the
/// registry.
constexpr const char* app_identifier = "chat-relay-v2";

} // namespace chatrelay
