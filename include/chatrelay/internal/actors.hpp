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

/// The REGISTRY actor: login -> user actor, room -> room actor (spawned on
/// first use), presence, a copy of every room's ids and history (for
/// welcomes, snapshots and standbys) and the state shared with other relays.
/// Internal: only the facade (relay_actor) is handed out.
using registry_actor = relay_requests::extend<
    // Who is online in a room, sorted (the facade answers it as room_users).
    caf::replies_to<presence_atom, std::string>::with<std::vector<std::string>>,
    // A delivery from the broker bridge (login, chat or relay events).
    caf::reacts_to<delivery_atom, delivery>,
    // The broker bridge's role changed; `generation` names the connection.
    caf::reacts_to<role_atom, relay_role, uint64_t>,
    // A user actor finished declaring its queue (session id, success).
    caf::reacts_to<ready_atom, std::string, uint64_t, bool>,
    // A user actor let a chat message through its rate limit.
    caf::reacts_to<stamp_atom, chat_request, uint64_t, uint64_t>,
    // A room actor finished a post (room, the event it stamped, id 0 for
    // none; whether it is a new message observers see).
    caf::reacts_to<posted_atom, std::string, chat_event, bool>,
    // A user actor's keep-alive ran out (login, session id).
    caf::reacts_to<expire_atom, std::string, uint64_t>,
    // The grace of a replaced session's queue is over: delete it unless a
    // session uses it again.
    caf::reacts_to<delete_atom, std::string>,
    // Periodic: announce this relay to the others, forget silent ones.
    caf::reacts_to<tick_atom>>;

/// The USER actor: one per logged-in user on the active relay; owns the
/// user's queue, keep-alive timer and rate limit.
using user_actor = caf::typed_actor<
    // A chat message from this user (token already checked), delivery tag.
    caf::reacts_to<chat_atom, chat_request, uint64_t, uint64_t>,
    // The user is alive.
    caf::reacts_to<ping_atom>,
    // The user's rooms changed (re-login): the room exchanges to be bound to.
    caf::reacts_to<declare_atom, std::vector<std::string>>,
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

/// A ROOM actor: one per room on the active relay. Stamps the room's
/// messages (ids, cid de-duplication, the republish rule), keeps their order
/// while a moderator decides, and publishes them through one function.
using room_actor = caf::typed_actor<
    // A room message (token and membership checked), what to ack once it
    // is published, whether the moderator decides on it (false for an
    // inject) and whether other relays listen (replicate it).
    caf::reacts_to<post_atom, chat_request, ack_ref, bool, bool>,
    // The embedder's moderator changed (null: none).
    caf::reacts_to<filter_atom, moderator_actor>,
    // The linger of the room's held batch may be over.
    caf::reacts_to<tick_atom>>;

} // namespace chatrelay
