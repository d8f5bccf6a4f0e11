// The relay's public actor interfaces: what an embedder may talk to (the
// relay's facade) and implement (observers, moderators). The interfaces of
// the relay's own actors are in internal/actors.hpp.
#pragma once

#include "chatrelay/atoms.hpp"
#include "chatrelay/messages.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <string>

namespace chatrelay {

/// The OBSERVER interface: receives every chat event of the relay (embedding).
using observer_actor = caf::typed_actor<caf::reacts_to<event_atom, chat_event>>;

/// The MODERATOR interface: decides whether a room message is broadcast
/// (true) or dropped (false), before it gets an id (embedding).
using moderator_actor =
    caf::typed_actor<caf::replies_to<filter_atom, chat_event>::with<bool>>;

/// The part of the relay interface that the facade hands on to the relay's
/// registry as it is.
using relay_requests = caf::typed_actor<
    // Observe every chat event.
    caf::reacts_to<subscribe_atom, observer_actor>,
    // Speak in a room (kind message; room, sender, text, cid used).
    caf::reacts_to<inject_atom, chat_event>,
    // Install the moderator (a null handle removes it).
    caf::reacts_to<filter_atom, moderator_actor>,
    // This relay's role.
    caf::replies_to<status_atom>::with<relay_role>>;

/// The RELAY interface: everything an embedder (in process or through the
/// middleman) may ask of a running relay, and nothing else. spawn_relay
/// returns it, the daemon publishes it (relay.remote-port).
using relay_actor = relay_requests::extend<
    // Who is online in a room.
    caf::replies_to<presence_atom, std::string>::with<room_users>>;

} // namespace chatrelay
