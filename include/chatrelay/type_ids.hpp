// The relay's public type ID block: the types of its public interface
// (relay_actor, observers, moderators), which also travel across processes
// through CAF's middleman. Register it, and the relay's internal block, with
// chatrelay::add_message_types(cfg) (relay.hpp).
#pragma once

#include "chatrelay/actors.hpp"
#include "chatrelay/messages.hpp"

#include <caf/type_id.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(chatrelay, caf::first_custom_type_id)
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::chat_event))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::relay_role))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::event_kind))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::room_users))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::observer_actor))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::moderator_actor))
CAF_ADD_TYPE_ID(chatrelay, (chatrelay::relay_actor))
CAF_END_TYPE_ID_BLOCK(chatrelay)

namespace chatrelay {

/// The value of `middleman.app-identifiers` for processes that talk to the
/// relay's actors over CAF's middleman. It names the version of the typed
/// interfaces and of the type ID blocks: bump it whenever either changes
/// incompatibly, so that old and new peers refuse each other.
/// v3: public and internal type ID blocks.
/// v4: presence answers room_users (no std::vector<std::string> in the block:
/// it clashed with an embedder's own block).
constexpr const char* app_identifier = "chat-relay-v4";

/// The relay's type IDs (public and internal blocks) lie below this one: an
/// embedder's own type ID block starts here.
constexpr caf::type_id_t first_free_type_id = caf::first_custom_type_id + 64;

} // namespace chatrelay
