// The REGISTRY actor: the directory ((login, token) -> session and its user
// actor, room -> room actor), the duplicate-login policy, and this relay's
// replica of the state shared with other relays through the events exchange
// (sessions, presence, each room's ids and history), from which it builds
// welcomes and snapshots. It parses each delivery once; a chat message goes
// on to its session's user actor and never comes back here.
#pragma once

#include "actors/room.hpp"
#include "chatrelay/internal/actors.hpp"
#include "chatrelay/internal/protocol.hpp"
#include "chatrelay/metrics.hpp"
#include "chatrelay/options.hpp"

#include <caf/actor_clock.hpp>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace chatrelay {

/// One session: a client listening on its own queue. A login has one
/// session, or several with `duplicate-login = "allow"` (tabs).
struct session_entry {
  std::string login;
  std::string queue;
  std::string token;
  std::vector<std::string> rooms; ///< sorted
  /// Logged in with "batch": bound to the rooms' batch exchanges.
  bool batch = false;
  uint64_t session = 0; ///< local id, tells sessions apart
  user_actor actor;     ///< only on the active relay
  bool ready = false;   ///< queue declared, welcome sent
  // A login waiting for its queue: the delivery to ack once welcomed.
  uint64_t pending_tag = 0;
  uint64_t pending_generation = 0;
  std::map<std::string, uint64_t> since;
  std::set<std::string> present; ///< rooms where it counts for presence
  /// Exchanges an earlier session on this queue was bound to and this one
  /// is not: unbound before the queue is declared (until it is ready).
  std::vector<std::string> stale;
};

/// An observer and its events not yet handled (see registry_state::notify).
struct observer_entry {
  observer_actor handle;
  std::shared_ptr<size_t> in_flight = std::make_shared<size_t>(0);
};

struct registry_state {
  static inline const char* name = "registry";

  explicit registry_state(registry_actor::pointer ptr) : self(ptr) {}

  registry_actor::pointer self;
  relay_options opts;
  protocol::limits limits;
  broker_actor broker;
  std::shared_ptr<relay_metrics> metrics;
  relay_role role = relay_role::disconnected;
  uint64_t generation = 0;
  std::unordered_map<std::string, session_entry> sessions; ///< by queue
  std::unordered_map<std::string, std::vector<std::string>> logins; ///< queues
  /// This relay's copy of every room: presence, ids and history (the room
  /// actors stamp; their ids come back here, as a standby's do).
  std::map<std::string, room> rooms;
  /// The directory: room -> its actor, on the active relay.
  std::map<std::string, room_actor> room_actors;
  /// What the room actors were last told: whether other relays listen.
  bool rooms_replicate = false;
  uint64_t next_session = 1;
  uint64_t direct_seq = 0;
  /// First id of the current active term (see term_floor); 0 before any.
  uint64_t id_floor = 0;
  std::vector<observer_entry> observers;
  moderator_actor moderator; ///< may be null
  /// Other relays heard on the events exchange, and when: forgotten after
  /// `bye` or peer_timeout of silence (each relay announces itself).
  std::map<std::string, caf::actor_clock::time_point> peers;
  /// Ids of forgotten (evicted) rooms were at most this: a room created
  /// again continues above it, so ids in a room never repeat.
  uint64_t retired_seq = 0;
  uint64_t room_clock = 0;    ///< counts room uses (least recently used)
  size_t occupied_rooms = 0;  ///< rooms with a member (kept in enter/leave)
  size_t next_room_sweep = 0; ///< room count that triggers an eviction
  // Rate limit of the log lines about rejected bodies.
  static constexpr size_t max_rejection_logs = 20; ///< per second
  caf::actor_clock::time_point log_window_start;
  size_t logs_in_window = 0;
  size_t logs_suppressed = 0;

  // -- entry points -----------------------------------------------------------

  void on_delivery(delivery& d);
  void on_role(relay_role r, uint64_t gen);
  void on_ready(const std::string& login, uint64_t session, bool ok);
  void on_direct(chat_request& req, const ack_ref& ack);
  void on_posted(const std::string& room_name, const chat_event& ev,
                 bool fresh);
  void set_moderator(moderator_actor mod);
  void on_expire(const std::string& login, uint64_t session);
  void on_inject(chat_event ev);
  void on_tick();
  void subscribe(observer_actor obs);
  std::vector<std::string> presence(const std::string& room) const;

  /// Runs a handler; an exception (a bad event, JSON that cannot be
  /// rendered) is logged and counted instead of killing the registry.
  template <class F>
  void guarded(const char* what, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      on_exception(what, e);
    }
  }

  /// The room, created (above retired_seq) when new.
  room& room_of(const std::string& room_name);

private:
  // -- sessions ---------------------------------------------------------------

  /// The session of `login` that `token` identifies; without a token (only
  /// accepted when tokens are optional) its first session.
  session_entry* find_session(const std::string& login,
                              const std::string& token);
  session_entry* find_session(const std::string& login, uint64_t session);
  /// The queues of every session of `login`.
  std::vector<std::string> queues_of(const std::string& login) const;
  void add_session(session_entry e);
  void remove_session(const std::string& queue);

  // -- presence ---------------------------------------------------------------

  /// Counts the session in `room`; announces a join when it is the first.
  void enter(session_entry& e, const std::string& room, publish_batch& batch);
  /// Uncounts it; announces a leave when it was the last.
  void leave(session_entry& e, const std::string& room,
             const std::string& reason, publish_batch& batch);
  /// A join or leave to the room's clients and the observers.
  void announce(const chat_event& ev, publish_batch& batch);

  // -- login queue ------------------------------------------------------------

  void on_login_queue(const delivery& d);
  void login(protocol::login_request& req, const delivery& d);
  void start_session(protocol::login_request& req, const delivery& d,
                     std::set<std::string> present, std::string token = {},
                     std::vector<std::string> stale = {});
  void welcome(session_entry& e);
  void end_session(const std::string& queue, const std::string& reason,
                   publish_batch batch);
  void reject_login(const std::string& queue, const protocol::error_info& err,
                    const delivery& d);

  // -- chat queue -------------------------------------------------------------

  /// Finds the chat message's session and hands the message to its user
  /// actor, or answers for a session that is not there.
  void on_chat(const delivery& d);
  room_actor room_actor_of(const std::string& room_name);
  /// Ends the room actors (this relay is no longer active).
  void stop_rooms();
  void evict_rooms();
  /// The rooms that sessions not yet welcomed name: their user actors hold
  /// the rooms' actors, so the rooms stay.
  std::set<std::string> awaited_rooms() const;
  /// Tells the room actors whether other relays listen, when that changed.
  void sync_replication();

  // -- replication ------------------------------------------------------------

  void on_event(const delivery& d);
  void replicate(publish_batch& batch, std::string event_body);
  void apply_login(const std::string& login, const std::string& queue,
                   const std::string& token, std::vector<std::string> rooms,
                   bool batch);
  std::string snapshot_for(const std::string& relay) const;
  void apply_snapshot(const std::string& body);
  void heard(const std::string& peer);

  // -- helpers ----------------------------------------------------------------

  void spawn_user(session_entry& e);
  void publish(publish_batch batch);
  void ack(const delivery& d);
  void reject(const protocol::rejected& r, const delivery& d,
              const std::string& queue);
  void route_rejection(const protocol::rejected& r, const delivery& d);
  static protocol::rejected rejection(std::string code, std::string reason,
                                      std::string cid);
  std::string sniffed_queue(const delivery& d) const;
  void notify(const chat_event& ev);
  /// The exchanges a session in `room_names` is bound to: each room's single
  /// exchange, or its batch exchange for a batching client.
  std::vector<std::string>
  exchanges_for(const std::vector<std::string>& room_names, bool batch) const;
  std::vector<std::string> exchanges_of(const session_entry& e) const;
  /// What the queue of `old` must be unbound from for a new session on it
  /// bound to `now`.
  std::vector<std::string> dropped(const session_entry& old,
                                   const std::vector<std::string>& now) const;
  void update_gauges();
  void on_exception(const char* what, const std::exception& e);
};

registry_actor::behavior_type
registry(registry_actor::stateful_pointer<registry_state> self,
         relay_options opts, broker_actor broker,
         std::shared_ptr<relay_metrics> metrics);

} // namespace chatrelay
