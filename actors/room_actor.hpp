// The ROOM actor: one per room on the active relay, spawned by the registry
// on first use from the registry's copy of the room. It decides the room's
// messages (room.hpp: ids, cid de-duplication, the republish rule), keeps
// their order while a moderator decides, and publishes them through one
// function; the registry learns each stamped id back (posted_atom).
#pragma once

#include "actors/batcher.hpp"
#include "actors/room.hpp"
#include "chatrelay/internal/actors.hpp"
#include "chatrelay/metrics.hpp"

#include <memory>
#include <optional>
#include <string>

namespace chatrelay {

struct room_config {
  std::string name;
  room_exchanges exchanges;    ///< single messages, and batches
  batch_limits limits;         ///< of the batches
  std::string events_exchange; ///< replication to other relays
  std::string origin;          ///< this relay's id
  uint64_t id_floor = 0;       ///< first id of the active term
  bool replicate = false;      ///< other relays listen (see peers_atom)
  room_listener_actor registry;
  broker_actor broker;
  moderator_actor moderator; ///< may be null
  std::shared_ptr<relay_metrics> metrics;
};

struct room_state {
  static inline const char* name = "room";

  room_state(room_actor::pointer ptr) : self(ptr) {}

  room_actor::pointer self;
  room_config cfg;
  /// The room's rules and state (a copy of the registry's when spawned).
  std::optional<chatrelay::room> rules;
  /// Group commit of the room's messages for the batching clients.
  std::optional<batcher> batches;

  /// Retired: quits once no message waits for the moderator.
  bool retiring = false;

  /// The deadline the linger timer is armed for (none: no timer pending).
  std::optional<batcher::time_point> linger_armed;

  /// A message in its turn: waits behind a moderated one, else goes on.
  void post(chat_request req, ack_ref ack, bool moderate);

  /// The registry forgets the room: quit now, or once the held are done.
  void retire();

  /// The linger timer fired.
  void on_tick();

private:
  /// A room message in its turn: published again if seen, else moderated
  /// (a moderator holds the room) or stamped.
  void room_message(held_message msg);
  void moderate(chat_event ev, held_message msg);
  void resume();
  void stamp(chat_event ev, held_message msg);
  /// The one place the room's messages go out: the event to the room's
  /// exchange (and to other relays), then the delivery is acked.
  void publish(const chat_event& ev, publish_batch batch, bool replicate);
  /// Tells the registry the post is done (and what it stamped).
  void posted(const chat_event& ev, bool fresh);
  /// Publishes a batch to the batch exchange; the next one goes when the
  /// broker confirms it (or the actor gives up on it).
  void send_batch(std::optional<batcher::batch> batch);
  /// Arms the linger timer when held messages become due by time alone,
  /// once per deadline (not once per message that joins the held batch).
  void arm_linger();
};

room_actor::behavior_type
chat_room(room_actor::stateful_pointer<room_state> self, room_config cfg,
          room rules);

} // namespace chatrelay
