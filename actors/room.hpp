// One ROOM: who is in it, its ids, history, recent client ids and the order
// of its messages while a moderator decides. The room's rules live here, in
// one class without actors or I/O, so they read (and are tested) on their
// own; the registry owns one per room and publishes what it decides.
#pragma once

#include "chatrelay/internal/messages.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace chatrelay {

/// A room message waiting for its turn while the room's moderator decides
/// on an earlier one (one order per room).
struct held_message {
  chat_request req;
  publish_batch batch;
  bool moderate = true;   ///< false for an embedder's inject
  bool replicate = false; ///< other relays listen: replicate its stamp
};

/// A client id seen before in a room.
struct seen_message {
  uint64_t id = 0;
  const chat_event* event = nullptr; ///< null once out of the history
};

/// A message seen before, to be published again (see room::repeat).
struct repeated_message {
  chat_event event;
  bool restamped = false; ///< a new id: replicate it like a new message
};

/// What a session resuming or joining a room gets (see room::replay).
struct room_replay {
  /// The `message` events, rendered (each rendered once per room copy and
  /// then reused by every welcome).
  std::vector<std::string> events;
  bool complete = true; ///< nothing after `since` has left the history
};

/// The sizes a room keeps to (from the relay's options).
struct room_bounds {
  size_t history_size = 0;   ///< events kept for the welcome and resume
  size_t presence_limit = 0; ///< above this many members, no join/leave
  /// Client ids remembered for de-duplication (at least this many).
  size_t min_cid_window = 1000;
};

class room {
public:
  /// A room whose ids continue above `first_seq` (ids never repeat).
  room(room_bounds bounds, uint64_t first_seq)
      : bounds_(bounds), seq_(first_seq) {}

  // -- ids and history
  // ---------------------------------------------------------

  /// The last id issued in this room.
  uint64_t seq() const { return seq_; }

  /// Gives `ev` the room's next id (at least `id_floor`, the first id of
  /// the active term) and the time `now_ms`, and remembers it.
  chat_event stamp(chat_event ev, uint64_t id_floor, int64_t now_ms);

  /// A message stamped by another relay (replication): ids continue above
  /// it, and a cid stamped again is known by its new id.
  void replicate(const chat_event& ev);

  /// Restores one history event (a snapshot), in id order.
  void restore(const chat_event& ev) { remember(ev); }

  /// Sets the last id issued (a snapshot).
  void restore_seq(uint64_t seq) { seq_ = seq; }

  const std::deque<chat_event>& history() const { return history_; }

  /// The history after `since` (all of it without one) for a welcome.
  room_replay replay(std::optional<uint64_t> since) const;

  // -- client ids -------------------------------------------------------------

  /// A message whose (sender, cid) the room stamped before.
  std::optional<seen_message> seen(const std::string& sender,
                                   const std::string& cid) const;

  /// The republish rule for a message seen before: as it was (same id;
  /// clients drop what they already have) when it is the room's latest in
  /// this term; otherwise stamped again with a new id and the same cid, so
  /// nobody gets a lower id after a higher one. Nothing when not seen.
  std::optional<repeated_message> repeat(const chat_request& req,
                                         uint64_t id_floor, int64_t now_ms);

  /// The id each remembered "sender\ncid" was last stamped with.
  const std::unordered_map<std::string, uint64_t>& recent() const {
    return recent_;
  }

  // -- presence ---------------------------------------------------------------

  /// Counts one session of `login`; whether a join is announced (its first
  /// session, and the room not larger than the presence limit).
  bool enter(const std::string& login);

  /// Uncounts one session of `login`; whether a leave is announced (its last
  /// session, and the room not larger than the presence limit).
  bool leave(const std::string& login);

  /// Logins present -> how many of their sessions are.
  const std::map<std::string, size_t>& members() const { return members_; }

  /// The first presence-limit members (a welcome lists no more).
  std::vector<std::string> listed() const;

  // -- moderation -------------------------------------------------------------

  /// Whether a moderator is deciding on one of this room's messages.
  bool moderating() const { return moderating_; }

  void set_moderating(bool x) { moderating_ = x; }

  /// Keeps `msg` until the moderator has decided on the earlier one.
  void hold(held_message msg) { waiting_.push_back(std::move(msg)); }

  /// The next held message, while no moderator holds the room.
  std::optional<held_message> next_held();

  // -- lifetime ---------------------------------------------------------------

  /// Whether the room can be forgotten (only its last id matters).
  bool idle() const {
    return members_.empty() && !moderating_ && waiting_.empty();
  }

  uint64_t last_used = 0; ///< for forgetting the least recently used rooms

private:
  void remember(const chat_event& ev);
  /// A cid stamped again is known by its latest id.
  void replace_cid(const chat_event& ev);

  room_bounds bounds_;
  uint64_t seq_ = 0;
  std::deque<chat_event> history_;
  /// history_[i] rendered, or empty until a welcome first needs it (the
  /// room actor's copy never renders; the registry's once per event).
  mutable std::deque<std::string> rendered_;
  std::map<std::string, size_t> members_;
  /// Recently stamped client ids, "sender\ncid" -> id: a redelivered or
  /// resent message is never stamped twice (only the id is kept; the event
  /// itself lives in `history_` while it is there).
  std::unordered_map<std::string, uint64_t> recent_;
  std::deque<std::string> cid_order_;
  bool moderating_ = false;
  std::deque<held_message> waiting_;
};

} // namespace chatrelay
