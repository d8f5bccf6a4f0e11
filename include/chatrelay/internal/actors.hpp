// The typed interfaces of the relay's own actors (not installed): read this
// file with chatrelay/actors.hpp to know every message the relay's actors
// can exchange.
#pragma once

#include "chatrelay/actors.hpp"
#include "chatrelay/internal/atoms.hpp"
#include "chatrelay/internal/messages.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace chatrelay {

/// What a USER actor tells the registry about its session.
using session_listener_actor = caf::typed_actor<
    // The session's queue is declared and bound (login, session id,
    // success): the registry welcomes the user, or ends the session.
    caf::reacts_to<ready_atom, std::string, uint64_t, bool>,
    // The user's keep-alive ran out (login, session id).
    caf::reacts_to<expire_atom, std::string, uint64_t>,
    // A direct message the user may send (rate limit passed): the registry
    // knows where the recipient is, numbers it and publishes it.
    caf::reacts_to<direct_atom, chat_request, ack_ref>>;

/// What a ROOM actor tells the registry.
using room_listener_actor = caf::typed_actor<
    // A post is done (room, the event it stamped, id 0 for none; whether it
    // is a new message observers see): the registry's copy learns the id.
    caf::reacts_to<posted_atom, std::string, chat_event, bool>>;

/// The REGISTRY actor: the directory (login -> its sessions and their user
/// actors, room -> its room actor), the duplicate-login policy, presence and
/// a copy of every room's ids and history (for welcomes, snapshots and
/// standbys), and the state shared with other relays. Internal: only the
/// facade (relay_actor) is handed out.
using registry_actor = relay_requests::
    extend_with<session_listener_actor, room_listener_actor>::extend<
        // Who is online in a room, sorted (the facade answers it as
        // room_users).
        caf::replies_to<presence_atom,
                        std::string>::with<std::vector<std::string>>,
        // A delivery from the broker bridge (login, chat or relay
        // events).
        caf::reacts_to<delivery_atom, delivery>,
        // The broker bridge's role changed; `generation` names the
        // connection.
        caf::reacts_to<role_atom, relay_role, uint64_t>,
        // The grace of a replaced session's queue is over: delete it
        // unless a session uses it again.
        caf::reacts_to<delete_atom, std::string>,
        // Periodic: announce this relay to the others, forget silent
        // ones.
        caf::reacts_to<tick_atom>>;

/// A ROOM actor: one per room on the active relay. Stamps the room's
/// messages (ids, cid de-duplication, the republish rule), keeps their order
/// while a moderator decides, and publishes them through one function.
using room_actor = caf::typed_actor<
    // A room message (its sender's session checked), what to ack once it is
    // published, and whether the moderator decides on it (false for an
    // inject).
    caf::reacts_to<post_atom, chat_request, ack_ref, bool>,
    // Whether other relays listen (then stamped messages are replicated).
    caf::reacts_to<peers_atom, bool>,
    // The embedder's moderator changed (null: none).
    caf::reacts_to<filter_atom, moderator_actor>,
    // The room is forgotten: quit once the posts before this are done.
    caf::reacts_to<retire_atom>,
    // The linger of the room's held batch may be over.
    caf::reacts_to<tick_atom>>;

/// The USER actor: one per session on the active relay. Owns what the
/// session does after the registry found it by login and token: its queue
/// and bindings (exactly its rooms), keep-alive, rate limit, which room a
/// message goes to (or that it is a direct message), and the answer to
/// every message it was handed (posted, forwarded or rejected and acked).
using user_actor = caf::typed_actor<
    // A chat message of this session and the delivery to ack.
    caf::reacts_to<chat_atom, chat_request, ack_ref>,
    // The user is alive.
    caf::reacts_to<ping_atom>,
    // Keep-alive check.
    caf::reacts_to<tick_atom>,
    // The session ended: delete the queue (true) or keep it (false), then quit.
    caf::reacts_to<logout_atom, bool>>;

/// The BROKER actor: the AMQP bridge (rabbitmq-c behind it).
using broker_actor = caf::typed_actor<
    // Publish a batch, then ack its delivery once all are confirmed.
    caf::reacts_to<publish_atom, publish_batch>,
    // Publish a batch (nothing to ack); the reply says when the broker has
    // confirmed all of it (false: refused, or the connection was lost).
    caf::replies_to<confirm_atom, publish_batch>::with<bool>,
    // Declare a user queue and bind it to exactly these exchanges.
    caf::replies_to<declare_atom, queue_binding>::with<bool>,
    // Unbind a user queue from exchanges.
    caf::reacts_to<unbind_atom, queue_binding>,
    // Delete a user queue.
    caf::reacts_to<delete_atom, std::string>,
    // Where deliveries and role changes go.
    caf::reacts_to<sink_atom, registry_actor>,
    // Internal: the AMQP thread finished request `id` (success).
    caf::reacts_to<done_atom, uint64_t, bool>>;

} // namespace chatrelay
