#include "actors/registry_actor.hpp"

#include "actors/room_actor.hpp"
#include "actors/user_actor.hpp"
#include "chatrelay/internal/logging.hpp"
#include "chatrelay/internal/type_ids.hpp"
#include "chatrelay/json.hpp"

#include <caf/stateful_actor.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace chatrelay {

using json = nlohmann::json;

namespace {

constexpr const char* component = "registry";

/// Rooms nobody is in that are kept (with their history) before the least
/// recently used are forgotten.
constexpr size_t max_idle_rooms = 1000;

/// Events sent to one observer and not yet handled by it: past this, events
/// to that observer are dropped and counted (a slow observer must not grow
/// the relay's memory).
constexpr size_t max_observer_backlog = 1000;

/// Every relay announces itself this often on the events exchange; a peer
/// not heard from for peer_timeout is forgotten.
constexpr auto announce_period = std::chrono::seconds(5);
constexpr auto peer_timeout = 3 * announce_period;

/// What to acknowledge for delivery `d`.
ack_ref ack_of(const delivery& d) {
  return {d.tag, d.generation, d.source};
}

publish_batch acking(const delivery& d) {
  return acking(ack_of(d));
}

publish_batch acking_login(const session_entry& e) {
  return acking(
      ack_ref{e.pending_tag, e.pending_generation, delivery_source::login});
}

bool contains(const std::vector<std::string>& sorted, const std::string& x) {
  return std::binary_search(sorted.begin(), sorted.end(), x);
}

/// The exchanges a queue may be bound to (`had`: its session's, and those
/// it had yet to unbind) that a new session on the same queue is not bound
/// to (`now`): other rooms, or the other form (single or batch).
std::vector<std::string>
dropped_exchanges(const std::vector<std::string>& had,
                  const std::vector<std::string>& now) {
  std::vector<std::string> result;
  for (auto& ex : had)
    if (std::find(now.begin(), now.end(), ex) == now.end() &&
        std::find(result.begin(), result.end(), ex) == result.end())
      result.push_back(ex);
  return result;
}

// -- the events shared between relays (JSON on the events exchange) ---------

/// The first id of an active term: above every id an earlier term can have
/// issued, so ids stay unique per room (and per DM) across any failover or
/// restart, even when replication lost the last ones. Milliseconds times
/// 1000 (about 1.8e15, below 2^53 so JavaScript keeps it exact): an earlier
/// term would have had to stamp more than 1000 messages per millisecond, on
/// average, to reach it.
uint64_t term_floor() {
  return static_cast<uint64_t>(protocol::now_ms()) * 1000;
}

} // namespace

// -- entry points -------------------------------------------------------------

void registry_state::on_delivery(delivery& d) {
  switch (d.source) {
  case delivery_source::login:
    on_login_queue(d);
    break;
  case delivery_source::chat:
    on_chat(d);
    break;
  case delivery_source::events:
    on_event(d);
    break;
  }
}

void registry_state::on_role(relay_role r, uint64_t gen) {
  auto prev = role;
  role = r;
  generation = gen;
  metrics->active.Set(r == relay_role::active ? 1 : 0);
  if (r == relay_role::active && prev != relay_role::active) {
    metrics->takeovers.Increment();
    // A new term numbers above anything an earlier one issued (term_floor);
    // within the term, ids are consecutive per room.
    id_floor = std::max(id_floor, term_floor());
    direct_seq = std::max(direct_seq, id_floor - 1);
    CHATRELAY_LOG(info, component,
                  "taking over " << sessions.size()
                                 << " sessions as the active relay");
    // Re-declare every user's queue and bindings (idempotent): after a broker
    // restart or another relay's death they may be gone.
    for (auto& [queue, e] : sessions)
      spawn_user(e);
    // Every standby adopts this relay's view now: one that started while no
    // relay was active (its hello went unanswered) catches up here.
    publish_batch batch;
    batch.messages.push_back({opts.events_exchange, "", snapshot_for("*")});
    publish(std::move(batch));
  } else if (r != relay_role::active && prev == relay_role::active) {
    CHATRELAY_LOG(info, component, "no longer active (" << to_string(r) << ")");
    stop_rooms();
    std::vector<std::string> unwelcomed;
    for (auto& [queue, e] : sessions) {
      if (e.actor) self->send(e.actor, logout_atom::value, false);
      e.actor = nullptr;
      if (!e.ready) unwelcomed.push_back(queue);
    }
    // Their login deliveries were never acked: the next active relay gets
    // them again.
    for (auto& queue : unwelcomed)
      remove_session(queue);
  }
  if (r == relay_role::standby && prev == relay_role::disconnected) {
    // Ask the active relay (if any) for the shared state.
    publish_batch batch;
    batch.messages.push_back(
        {opts.events_exchange, "",
         json{{"event", "hello"}, {"origin", opts.id}}.dump()});
    publish(std::move(batch));
  }
  update_gauges();
}

void registry_state::on_ready(const std::string& login, uint64_t session,
                              bool ok) {
  auto* e = find_session(login, session);
  if (!e) return; // replaced or ended meanwhile
  if (ok) {
    e->stale.clear(); // unbound before the declaration
    if (!e->ready) welcome(*e);
    return;
  }
  CHATRELAY_LOG(error, component,
                "cannot declare queue '" << e->queue << "' of " << login);
  metrics->count_error("queue_unavailable");
  auto batch = acking_login(*e);
  for (auto room : std::set<std::string>{e->present})
    leave(*e, room, "logout", batch);
  if (batch.ack_tag != 0 || !batch.messages.empty()) publish(std::move(batch));
  // Without a usable queue the session ends: so does its actor.
  if (e->actor) self->send(e->actor, logout_atom::value, false);
  remove_session(e->queue);
  update_gauges();
}

void registry_state::on_direct(chat_request& req, const ack_ref& ack) {
  auto batch = acking(ack);
  auto from = queues_of(req.sender);
  if (from.empty()) {
    publish(std::move(batch)); // logged out meanwhile: drop, but ack
    return;
  }
  auto to = queues_of(req.to);
  if (to.empty()) {
    metrics->count_error("unknown_recipient");
    publish(protocol::error_reply(
        ack, from.front(),
        {"unknown_recipient", "'" + req.to + "' is not online"}, req.cid));
    return;
  }
  chat_event ev{event_kind::direct, ++direct_seq, protocol::now_ms(), "",
                req.sender,         req.to,       req.message,        req.cid};
  auto body = protocol::render_event(ev);
  // Every session of the recipient, and the sender's own for the echo.
  auto targets = to;
  for (auto& q : from)
    if (std::find(targets.begin(), targets.end(), q) == targets.end())
      targets.push_back(q);
  for (auto& q : targets)
    batch.messages.push_back({"", q, body});
  publish(std::move(batch));
  metrics->messages_out.Increment();
  notify(ev);
}

void registry_state::on_posted(const std::string& room_name,
                               const chat_event& ev, bool fresh) {
  if (ev.id == 0) return; // nothing stamped
  room_of(room_name).replicate(ev);
  if (fresh) notify(ev);
}

void registry_state::set_moderator(moderator_actor mod) {
  moderator = std::move(mod);
  for (auto& [room_name, actor] : room_actors)
    self->send(actor, filter_atom::value, moderator);
}

room_actor registry_state::room_actor_of(const std::string& room_name) {
  // The room's copy first: creating it may forget other rooms.
  auto& copy = room_of(room_name);
  auto& actor = room_actors[room_name];
  if (!actor) {
    room_config cfg;
    cfg.name = room_name;
    cfg.exchanges =
        chatrelay::exchanges_of(opts.room_exchange_prefix, room_name);
    cfg.limits.max_messages = opts.batch_max;
    cfg.limits.max_bytes = opts.batch_max_bytes;
    cfg.limits.linger = std::chrono::duration_cast<std::chrono::milliseconds>(
        opts.batch_linger);
    cfg.events_exchange = opts.events_exchange;
    cfg.origin = opts.id;
    cfg.id_floor = id_floor;
    cfg.replicate = rooms_replicate;
    cfg.registry = self;
    cfg.broker = broker;
    cfg.moderator = moderator;
    cfg.metrics = metrics;
    // The room continues from this relay's copy (ids, history, cids).
    actor = self->spawn<caf::linked>(chat_room, std::move(cfg), copy);
  }
  return actor;
}

void registry_state::stop_rooms() {
  // Their posts in flight were never acked: the next active relay gets them
  // again.
  for (auto& [room_name, actor] : room_actors) {
    self->unlink_from(actor);
    self->send_exit(actor, caf::exit_reason::user_shutdown);
  }
  room_actors.clear();
}

void registry_state::on_expire(const std::string& login, uint64_t session) {
  if (auto* e = find_session(login, session))
    end_session(e->queue, "timeout", {});
}

void registry_state::on_inject(chat_event ev) {
  if (role != relay_role::active) {
    CHATRELAY_LOG(warning, component, "inject ignored: relay not active");
    return;
  }
  chat_request req;
  req.sender = std::move(ev.sender);
  req.message = std::move(ev.text);
  req.room = ev.room.empty() ? opts.default_room : std::move(ev.room);
  req.cid = std::move(ev.cid);
  // Exactly the checks of a user's message: what passes can be rendered.
  if (auto err = protocol::check_chat(req, limits)) {
    metrics->count_error(err->code);
    CHATRELAY_LOG(warning, component,
                  "inject rejected: " << err->code << " (" << err->reason
                                      << ")");
    return;
  }
  // Not moderated, nothing to ack.
  self->send(room_actor_of(req.room), post_atom::value, std::move(req),
             ack_ref{}, false);
}

void registry_state::on_tick() {
  self->delayed_send(self, announce_period, tick_atom::value);
  if (role != relay_role::disconnected) {
    publish_batch batch;
    batch.messages.push_back(
        {opts.events_exchange, "",
         json{{"event", "here"}, {"origin", opts.id}}.dump()});
    publish(std::move(batch));
  }
  auto now = self->clock().now();
  for (auto i = peers.begin(); i != peers.end();) {
    if (now - i->second > peer_timeout) {
      CHATRELAY_LOG(info, component,
                    "relay " << i->first << " silent: forgotten");
      i = peers.erase(i);
    } else {
      ++i;
    }
  }
  sync_replication();
}

void registry_state::subscribe(observer_actor obs) {
  // Watched, so an observer that quits (or a remote one whose process went
  // away) is dropped.
  self->monitor(obs);
  observers.push_back({std::move(obs)});
}

std::vector<std::string>
registry_state::presence(const std::string& room) const {
  std::vector<std::string> result;
  if (auto i = rooms.find(room); i != rooms.end())
    for (auto& [login, count] : i->second.members())
      result.push_back(login);
  return result;
}

// -- sessions -----------------------------------------------------------------

session_entry* registry_state::find_session(const std::string& login,
                                            const std::string& token) {
  auto i = logins.find(login);
  if (i == logins.end()) return nullptr;
  for (auto& queue : i->second) {
    auto& e = sessions.at(queue);
    if (token.empty() ? !opts.require_token : token == e.token) return &e;
  }
  return nullptr;
}

session_entry* registry_state::find_session(const std::string& login,
                                            uint64_t session) {
  for (auto& queue : queues_of(login))
    if (auto& e = sessions.at(queue); e.session == session) return &e;
  return nullptr;
}

std::vector<std::string>
registry_state::queues_of(const std::string& login) const {
  auto i = logins.find(login);
  return i == logins.end() ? std::vector<std::string>{} : i->second;
}

void registry_state::add_session(session_entry e) {
  logins[e.login].push_back(e.queue);
  auto queue = e.queue;
  sessions[queue] = std::move(e);
}

void registry_state::remove_session(const std::string& queue) {
  auto i = sessions.find(queue);
  if (i == sessions.end()) return;
  auto& mine = logins[i->second.login];
  mine.erase(std::remove(mine.begin(), mine.end(), queue), mine.end());
  if (mine.empty()) logins.erase(i->second.login);
  sessions.erase(i);
}

// -- presence -----------------------------------------------------------------

void registry_state::enter(session_entry& e, const std::string& room,
                           publish_batch& batch) {
  if (!e.present.insert(room).second) return;
  auto& r = room_of(room);
  occupied_rooms += r.members().empty() ? 1 : 0;
  if (!r.enter(e.login)) return; // not announced
  announce({event_kind::join, 0, 0, room, e.login, "", "", ""}, batch);
}

void registry_state::leave(session_entry& e, const std::string& room,
                           const std::string& reason, publish_batch& batch) {
  if (e.present.erase(room) == 0) return;
  auto& r = room_of(room);
  auto had_members = !r.members().empty();
  auto announced = r.leave(e.login);
  occupied_rooms -= had_members && r.members().empty() ? 1 : 0;
  if (!announced) return;
  announce({event_kind::leave, 0, 0, room, e.login, "", reason, ""}, batch);
}

void registry_state::announce(const chat_event& ev, publish_batch& batch) {
  // To both audiences: batching clients get join and leave alone too.
  auto body = protocol::render_event(ev);
  auto ex = chatrelay::exchanges_of(opts.room_exchange_prefix, ev.room);
  batch.messages.push_back({std::move(ex.single), "", body});
  batch.messages.push_back({std::move(ex.batch), "", std::move(body)});
  notify(ev);
}

// -- login queue --------------------------------------------------------------

void registry_state::on_login_queue(const delivery& d) {
  auto parsed = protocol::parse_login_queue(d.body, limits);
  if (auto* r = std::get_if<protocol::rejected>(&parsed)) {
    route_rejection(*r, d);
    return;
  }
  auto& req = std::get<protocol::login_queue_request>(parsed);
  if (auto* in = std::get_if<protocol::login_request>(&req)) {
    login(*in, d);
    return;
  }
  auto is_logout = std::holds_alternative<protocol::logout_request>(req);
  auto& who = is_logout ? std::get<protocol::logout_request>(req).login
                        : std::get<protocol::ping_request>(req).login;
  auto& token = is_logout ? std::get<protocol::logout_request>(req).token
                          : std::get<protocol::ping_request>(req).token;
  auto* e = find_session(who, token);
  if (!e) {
    // Tell a client whose session is gone (it may name its queue) to log in
    // again; never tell the real user about someone else's guess.
    auto online = logins.count(who) > 0;
    auto r = rejection(online ? "bad_token" : "not_logged_in",
                       "no session for this login and token", {});
    if (!online) r.queue = sniffed_queue(d);
    route_rejection(r, d);
    return;
  }
  if (is_logout) {
    end_session(e->queue, "logout", acking(d));
    return;
  }
  if (e->actor) self->send(e->actor, ping_atom::value);
  ack(d);
}

void registry_state::login(protocol::login_request& req, const delivery& d) {
  if (auto i = sessions.find(req.queue);
      i != sessions.end() && i->second.login != req.login) {
    // Never write into another user's queue.
    reject(rejection("queue_taken", "queue belongs to another user", {}), d,
           {});
    return;
  }
  auto mine = queues_of(req.login);
  bool same_queue =
      std::find(mine.begin(), mine.end(), req.queue) != mine.end();
  if (!mine.empty() && !same_queue) {
    if (opts.duplicate_login == "reject") {
      reject_login(req.queue,
                   {"duplicate_login", "'" + req.login + "' is already online"},
                   d);
      return;
    }
    if (opts.duplicate_login == "allow") {
      start_session(req, d, {});
      return;
    }
  }
  if (mine.empty()) {
    start_session(req, d, {});
    return;
  }
  // Replace: the new session takes over the login's sessions (all of them,
  // or just the one on the same queue under "allow"); presence continues in
  // the rooms it keeps, without leave/join noise.
  std::vector<std::string> replaced;
  if (same_queue)
    replaced.push_back(req.queue);
  else
    replaced = mine;
  publish_batch batch;
  std::set<std::string> kept;
  std::string token;
  std::vector<std::string> stale;
  for (auto& queue : replaced) {
    auto& old = sessions.at(queue);
    for (auto room : std::set<std::string>{old.present}) {
      if (contains(req.rooms, room) && kept.count(room) == 0) {
        // Hand the presence over to the new session.
        old.present.erase(room);
        kept.insert(room);
      } else {
        leave(old, room, "replaced", batch);
      }
    }
    if (queue == req.queue) {
      // The same queue is the same client coming back (a reconnect, or a
      // login redelivered after a broker failure): its token stays valid,
      // and the rooms it no longer names must stop reaching its queue.
      token = old.token;
      stale = dropped(old, exchanges_for(req.rooms, req.batch));
    } else {
      batch.messages.push_back(
          {"", queue,
           protocol::render_error(
               {"duplicate_login",
                "this session was replaced by a new login"})});
    }
    if (old.pending_tag != 0) { // that login never got its welcome: ack it
      auto ack_old = acking_login(old);
      publish(std::move(ack_old));
    }
    if (old.actor) {
      // A replaced client is alive and must read its duplicate_login before
      // its queue goes: deleting it at once raced the error (publish and
      // delete run on different channels), and the client, seeing its queue
      // gone, logged in again and replaced the new session in turn.
      self->send(old.actor, logout_atom::value, false);
      if (queue != req.queue) {
        // Nothing of the rooms reaches it meanwhile.
        self->send(broker, unbind_atom::value,
                   queue_binding{queue, exchanges_of(old)});
        self->delayed_send(self, defaults::chat::replaced_queue_grace,
                           delete_atom::value, queue);
      }
    }
    remove_session(queue);
    metrics->logouts.Increment();
  }
  publish(std::move(batch));
  start_session(req, d, std::move(kept), std::move(token), std::move(stale));
}

void registry_state::start_session(protocol::login_request& req,
                                   const delivery& d,
                                   std::set<std::string> present,
                                   std::string token,
                                   std::vector<std::string> stale) {
  session_entry e;
  e.login = req.login;
  e.queue = req.queue;
  e.token = token.empty() ? protocol::make_token() : std::move(token);
  e.rooms = std::move(req.rooms);
  e.batch = req.batch;
  e.session = next_session++;
  e.pending_tag = d.tag;
  e.pending_generation = d.generation;
  e.since = std::move(req.since);
  e.present = std::move(present);
  e.stale = std::move(stale);
  auto queue = e.queue;
  add_session(std::move(e));
  spawn_user(sessions.at(queue));
  update_gauges();
}

void registry_state::welcome(session_entry& e) {
  auto batch = acking_login(e);
  for (auto& room : e.rooms)
    enter(e, room, batch);
  protocol::welcome w;
  w.login = e.login;
  w.token = e.token;
  w.rooms = e.rooms;
  w.resumed = !e.since.empty();
  for (auto& room_name : e.rooms) {
    auto& r = room_of(room_name);
    w.users[room_name] = r.listed();
    w.counts[room_name] = r.members().size();
    // Resume: replay what came after `since`, if history still holds it.
    auto since = e.since.find(room_name);
    auto replay = r.replay(since == e.since.end()
                               ? std::nullopt
                               : std::optional<uint64_t>{since->second});
    w.resumed = w.resumed && since != e.since.end() && replay.complete;
    w.history[room_name] = std::move(replay.events);
  }
  // The welcome goes first: a client learns its token before any event.
  batch.messages.insert(batch.messages.begin(),
                        outgoing{"", e.queue, protocol::render_welcome(w)});
  replicate(batch, json{{"event", "login"},
                        {"origin", opts.id},
                        {"login", e.login},
                        {"queue", e.queue},
                        {"token", e.token},
                        {"rooms", e.rooms},
                        {"batch", e.batch}}
                       .dump());
  publish(std::move(batch));
  e.ready = true;
  e.pending_tag = 0;
  e.since.clear();
  metrics->logins.Increment();
  CHATRELAY_LOG(info, component,
                e.login << " online (queue " << e.queue << ", "
                        << e.rooms.size() << " rooms)");
  update_gauges();
}

void registry_state::end_session(const std::string& queue,
                                 const std::string& reason,
                                 publish_batch batch) {
  auto i = sessions.find(queue);
  if (i == sessions.end()) return;
  auto& e = i->second;
  for (auto room : std::set<std::string>{e.present})
    leave(e, room, reason, batch);
  replicate(batch, json{{"event", "logout"},
                        {"origin", opts.id},
                        {"login", e.login},
                        {"queue", queue}}
                       .dump());
  if (e.actor) self->send(e.actor, logout_atom::value, true);
  publish(std::move(batch));
  CHATRELAY_LOG(info, component, e.login << " offline (" << reason << ")");
  remove_session(queue);
  metrics->logouts.Increment();
  update_gauges();
}

void registry_state::reject_login(const std::string& queue,
                                  const protocol::error_info& err,
                                  const delivery& d) {
  // The queue may not exist yet: declare it (unbound, expiring) so the client
  // sees why its login failed.
  metrics->count_error(err.code);
  CHATRELAY_LOG(info, component, "login rejected: " << err.reason);
  auto batch = protocol::error_reply(ack_of(d), queue, err);
  self->request(broker, caf::infinite, declare_atom::value,
                queue_binding{queue, {}})
      .then([this, batch](bool) mutable { publish(std::move(batch)); },
            [this, batch](caf::error&) mutable { publish(std::move(batch)); });
}

// -- chat queue ---------------------------------------------------------------

void registry_state::on_chat(const delivery& d) {
  metrics->messages_in.Increment();
  auto parsed = protocol::parse_chat(d.body, limits);
  if (auto* r = std::get_if<protocol::rejected>(&parsed)) {
    route_rejection(*r, d);
    return;
  }
  auto& req = std::get<chat_request>(parsed);
  auto mine = queues_of(req.sender);
  if (mine.empty()) {
    reject(rejection("not_logged_in", "'" + req.sender + "' is not online",
                     req.cid),
           d, {});
    return;
  }
  // The session is found by its login and token: a message that names no
  // session of the sender never reaches one.
  auto* e = find_session(req.sender, req.token);
  if (!e) {
    reject(rejection("bad_token", "missing or wrong session token", req.cid), d,
           mine.front());
    return;
  }
  if (!e->actor) {
    // No user actor (not active: a delivery from a connection that is no
    // longer the consumer). Never leave a delivery without an answer: ack
    // it and tell the sender to send it again, like a relay that is busy.
    CHATRELAY_LOG(warning, component, "chat while not active; rejected");
    reject(rejection("unavailable", "the relay is not ready; send it again",
                     req.cid),
           d, e->queue);
    return;
  }
  // From here on the session decides (room, rate limit, answer).
  self->send(e->actor, chat_atom::value, std::move(req), ack_of(d));
}

// -- replication --------------------------------------------------------------

void registry_state::on_event(const delivery& d) {
  json j = json::parse(d.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("event") ||
      !j.contains("origin"))
    return;
  try {
    auto origin = j.at("origin").get<std::string>();
    if (origin == opts.id) return;
    auto event = j.at("event").get<std::string>();
    heard(origin);
    if (event == "hello") {
      publish_batch batch;
      batch.messages.push_back(
          {opts.events_exchange, "",
           role == relay_role::active
               ? snapshot_for(origin)
               : json{{"event", "here"}, {"origin", opts.id}}.dump()});
      publish(std::move(batch));
    } else if (event == "here") {
      // Heard: nothing else to do.
    } else if (event == "bye") {
      peers.erase(origin);
    } else if (role == relay_role::active) {
      // The active relay is the source of the state; ignore stale echoes.
    } else if (event == "login") {
      apply_login(j.at("login"), j.at("queue"), j.at("token"),
                  j.at("rooms").get<std::vector<std::string>>(),
                  j.value("batch", false));
    } else if (event == "logout") {
      publish_batch ignored; // a standby announces nothing
      auto queue = j.at("queue").get<std::string>();
      if (auto i = sessions.find(queue); i != sessions.end()) {
        for (auto room : std::set<std::string>{i->second.present})
          leave(i->second, room, "logout", ignored);
        remove_session(queue);
      }
    } else if (event == "message") {
      auto ev = j.at("message").get<chat_event>();
      room_of(ev.room).replicate(ev);
    } else if (event == "snapshot") {
      auto target = j.at("for").get<std::string>();
      if (target == opts.id || target == "*") apply_snapshot(d.body);
    }
  } catch (const std::exception& e) {
    CHATRELAY_LOG(warning, component, "bad relay event ignored: " << e.what());
  }
  sync_replication();
  update_gauges();
}

void registry_state::replicate(publish_batch& batch, std::string event_body) {
  // Without peers nobody listens: skip the extra publish on the hot path.
  if (!peers.empty())
    batch.messages.push_back({opts.events_exchange, "", std::move(event_body)});
}

void registry_state::apply_login(const std::string& login,
                                 const std::string& queue,
                                 const std::string& token,
                                 std::vector<std::string> user_rooms,
                                 bool batch) {
  publish_batch ignored; // a standby announces nothing
  session_entry e;
  e.rooms = std::move(user_rooms);
  e.batch = batch;
  std::sort(e.rooms.begin(), e.rooms.end());
  if (auto i = sessions.find(queue); i != sessions.end()) {
    // Should this relay take over before the queue is declared again, the
    // rooms the earlier session had are unbound.
    e.stale = dropped(i->second, exchanges_of(e));
    for (auto room : std::set<std::string>{i->second.present})
      leave(i->second, room, "replaced", ignored);
    remove_session(queue);
  }
  e.login = login;
  e.queue = queue;
  e.token = token;
  e.session = next_session++;
  e.ready = true;
  add_session(std::move(e));
  auto& added = sessions.at(queue);
  for (auto& room : added.rooms)
    enter(added, room, ignored);
}

std::string registry_state::snapshot_for(const std::string& relay) const {
  json sessions_json = json::array();
  for (auto& [queue, e] : sessions)
    if (e.ready)
      sessions_json.push_back({{"login", e.login},
                               {"queue", queue},
                               {"token", e.token},
                               {"rooms", e.rooms},
                               {"batch", e.batch}});
  json rooms_json = json::object();
  for (auto& [room_name, r] : rooms) {
    json hist = json::array();
    for (auto& ev : r.history())
      hist.push_back(ev);
    rooms_json[room_name] = {{"seq", r.seq()}, {"history", hist}};
  }
  return json{{"event", "snapshot"}, {"origin", opts.id},
              {"for", relay},        {"sessions", sessions_json},
              {"rooms", rooms_json}, {"retired_seq", retired_seq}}
      .dump();
}

void registry_state::apply_snapshot(const std::string& body) {
  // Everything is read before anything changes: a bad snapshot (an
  // exception) leaves the current replica as it was.
  struct room_copy {
    uint64_t seq;
    std::vector<chat_event> history;
  };
  struct session_copy {
    std::string login, queue, token;
    std::vector<std::string> rooms;
    bool batch;
  };
  auto j = json::parse(body);
  std::map<std::string, room_copy> new_rooms;
  for (auto& [room_name, r] : j.at("rooms").items()) {
    auto& room = new_rooms[room_name];
    room.seq = r.at("seq").get<uint64_t>();
    for (auto& ev : r.at("history"))
      room.history.push_back(ev.get<chat_event>());
  }
  std::vector<session_copy> new_sessions;
  for (auto& x : j.at("sessions"))
    new_sessions.push_back({x.at("login"), x.at("queue"), x.at("token"),
                            x.at("rooms").get<std::vector<std::string>>(),
                            x.value("batch", false)});
  auto retired = j.value("retired_seq", uint64_t{0});
  // Queues this replica knew with more rooms keep them to unbind.
  auto old_sessions = std::move(sessions);
  sessions.clear();
  logins.clear();
  rooms.clear();
  occupied_rooms = 0;
  retired_seq = std::max(retired_seq, retired);
  for (auto& [room_name, copy] : new_rooms) {
    auto& r = room_of(room_name);
    r.restore_seq(copy.seq);
    for (auto& ev : copy.history)
      r.restore(ev);
  }
  for (auto& x : new_sessions) {
    apply_login(x.login, x.queue, x.token, x.rooms, x.batch);
    if (auto old = old_sessions.find(x.queue); old != old_sessions.end()) {
      auto& e = sessions.at(x.queue);
      e.stale = dropped(old->second, exchanges_of(e));
    }
  }
  CHATRELAY_LOG(info, component,
                "caught up: " << sessions.size() << " sessions, "
                              << rooms.size() << " rooms");
}

void registry_state::heard(const std::string& peer) {
  peers[peer] = self->clock().now();
}

void registry_state::sync_replication() {
  // Without peers nobody listens: the rooms skip the extra publish.
  if (rooms_replicate == !peers.empty()) return;
  rooms_replicate = !peers.empty();
  for (auto& [room_name, actor] : room_actors)
    self->send(actor, peers_atom::value, rooms_replicate);
}

// -- helpers ------------------------------------------------------------------

void registry_state::spawn_user(session_entry& e) {
  if (role != relay_role::active) return; // a standby only mirrors the state
  user_config cfg;
  cfg.login = e.login;
  cfg.queue = e.queue;
  cfg.session = e.session;
  for (auto& room : e.rooms)
    cfg.rooms.emplace(room, room_actor_of(room));
  cfg.default_room = opts.default_room;
  cfg.exchanges = exchanges_of(e);
  cfg.unbind = e.stale;
  cfg.registry = self;
  cfg.broker = broker;
  cfg.keepalive = opts.keepalive_timeout;
  cfg.rate = static_cast<double>(opts.rate_limit);
  cfg.burst = static_cast<double>(opts.rate_burst);
  cfg.metrics = metrics;
  e.actor = self->spawn<caf::linked>(user, std::move(cfg));
}

void registry_state::publish(publish_batch batch) {
  self->send(broker, publish_atom::value, std::move(batch));
}

void registry_state::ack(const delivery& d) {
  publish(acking(d));
}

void registry_state::reject(const protocol::rejected& r, const delivery& d,
                            const std::string& queue) {
  metrics->count_error(r.error.code);
  // One line per rejected body, but a flood must not flood the log: past
  // max_rejection_logs per second only a count is logged.
  auto now = self->clock().now();
  if (now - log_window_start >= std::chrono::seconds(1)) {
    if (logs_suppressed > 0)
      CHATRELAY_LOG(warning, component,
                    logs_suppressed << " more rejected bodies not logged "
                                       "(see chat_relay_errors_total)");
    log_window_start = now;
    logs_in_window = logs_suppressed = 0;
  }
  if (logs_in_window++ < max_rejection_logs)
    CHATRELAY_LOG(info, component,
                  "rejected " << to_string(d.source) << " body: "
                              << r.error.code << " (" << r.error.reason << ")");
  else
    ++logs_suppressed;
  publish(queue.empty()
              ? acking(d)
              : protocol::error_reply(ack_of(d), queue, r.error, r.cid));
}

protocol::rejected registry_state::rejection(std::string code,
                                             std::string reason,
                                             std::string cid) {
  protocol::rejected r;
  r.error = {std::move(code), std::move(reason)};
  r.cid = std::move(cid);
  return r;
}

std::string registry_state::sniffed_queue(const delivery& d) const {
  auto j = json::parse(d.body, nullptr, false);
  if (!j.is_object() || !j.contains("queue") || !j["queue"].is_string())
    return {};
  auto queue = j["queue"].get<std::string>();
  return protocol::valid_queue(queue, limits) ? queue : std::string{};
}

void registry_state::route_rejection(const protocol::rejected& r,
                                     const delivery& d) {
  // A queue the body names comes first (a login whose client listens there),
  // as long as nobody else owns it; then the queue of the online sender.
  if (!r.queue.empty()) {
    auto i = sessions.find(r.queue);
    if (i == sessions.end()) {
      reject_login(r.queue, r.error, d);
      return;
    }
    if (i->second.login == r.login) {
      reject(r, d, r.queue);
      return;
    }
  }
  auto mine = queues_of(r.login);
  if (auto* e = find_session(r.login, r.token))
    reject(r, d, e->queue);
  else
    reject(r, d, mine.empty() ? std::string{} : mine.front());
}

void registry_state::notify(const chat_event& ev) {
  // Each event is a request: its (empty) reply says the observer handled
  // it. An observer with max_observer_backlog events unhandled misses the
  // next ones (counted) instead of piling them up in memory.
  for (auto& obs : observers) {
    if (*obs.in_flight >= max_observer_backlog) {
      metrics->count_error("observer_behind");
      continue;
    }
    ++*obs.in_flight;
    auto in_flight = obs.in_flight;
    self->request(obs.handle, caf::infinite, event_atom::value, ev)
        .then([in_flight] { --*in_flight; },
              [in_flight](caf::error&) { --*in_flight; });
  }
}

std::vector<std::string>
registry_state::exchanges_for(const std::vector<std::string>& room_names,
                              bool batch) const {
  std::vector<std::string> result;
  for (auto& room : room_names) {
    auto ex = chatrelay::exchanges_of(opts.room_exchange_prefix, room);
    result.push_back(batch ? std::move(ex.batch) : std::move(ex.single));
  }
  return result;
}

std::vector<std::string>
registry_state::exchanges_of(const session_entry& e) const {
  return exchanges_for(e.rooms, e.batch);
}

std::vector<std::string>
registry_state::dropped(const session_entry& old,
                        const std::vector<std::string>& now) const {
  auto had = exchanges_of(old);
  had.insert(had.end(), old.stale.begin(), old.stale.end());
  return dropped_exchanges(had, now);
}

void registry_state::update_gauges() {
  metrics->users_online.Set(static_cast<double>(logins.size()));
  metrics->peers.Set(static_cast<double>(peers.size()));
  metrics->rooms_online.Set(static_cast<double>(occupied_rooms));
}

void registry_state::on_exception(const char* what, const std::exception& e) {
  metrics->count_error("internal");
  CHATRELAY_LOG(error, component,
                "error in " << what << " (ignored): " << e.what());
}

room& registry_state::room_of(const std::string& room_name) {
  auto i = rooms.find(room_name);
  if (i == rooms.end()) {
    room_bounds bounds;
    bounds.history_size = opts.history_size;
    bounds.presence_limit = opts.presence_limit;
    i = rooms.emplace(room_name, room{bounds, retired_seq}).first;
    i->second.last_used = ++room_clock; // the newest: never evicted here
    if (rooms.size() > std::max(next_room_sweep, max_idle_rooms)) {
      evict_rooms();
      i = rooms.find(room_name);
    }
  }
  i->second.last_used = ++room_clock;
  return i->second;
}

std::set<std::string> registry_state::awaited_rooms() const {
  std::set<std::string> result;
  for (auto& [queue, e] : sessions)
    if (!e.ready) result.insert(e.rooms.begin(), e.rooms.end());
  return result;
}

void registry_state::evict_rooms() {
  // Forget the least recently used idle rooms beyond max_idle_rooms. Runs
  // once per max_idle_rooms new rooms, so each costs O(log n) on average.
  std::vector<std::pair<uint64_t, std::string>> idle;
  auto awaited = awaited_rooms();
  for (auto& [room_name, r] : rooms)
    if (r.idle() && awaited.count(room_name) == 0)
      idle.emplace_back(r.last_used, room_name);
  if (idle.size() > max_idle_rooms) {
    auto excess = idle.size() - max_idle_rooms;
    std::nth_element(idle.begin(), idle.begin() + excess, idle.end());
    for (size_t k = 0; k < excess; ++k) {
      auto r = rooms.find(idle[k].second);
      retired_seq = std::max(retired_seq, r->second.seq());
      if (auto a = room_actors.find(r->first); a != room_actors.end()) {
        // After the posts already sent to it (the mailbox keeps their
        // order): each is published and acked before the room quits.
        self->unlink_from(a->second);
        self->send(a->second, retire_atom::value);
        room_actors.erase(a);
      }
      rooms.erase(r);
    }
  }
  next_room_sweep = rooms.size() + max_idle_rooms;
}

// -- behavior -----------------------------------------------------------------

registry_actor::behavior_type
registry(registry_actor::stateful_pointer<registry_state> self,
         relay_options opts, broker_actor broker,
         std::shared_ptr<relay_metrics> metrics) {
  auto& st = self->state;
  st.limits.max_message_size = opts.max_message_size;
  st.limits.default_room = opts.default_room;
  st.limits.max_rooms = defaults::chat::max_rooms_per_user;
  // The seed names are reserved even when this relay uses others: a shared
  // broker may serve seed clients too.
  st.limits.reserved_queues = {opts.login_queue, opts.chat_queue,
                               defaults::topology::login_queue,
                               defaults::topology::chat_queue};
  st.opts = std::move(opts);
  st.broker = std::move(broker);
  st.metrics = std::move(metrics);
  self->send(st.broker, sink_atom::value,
             caf::actor_cast<registry_actor>(self));
  // The relay cannot run without either: should one fail, the link ends the
  // other (the bridge's end closes the broker connection, so a standby
  // takes over instead of a dead registry holding the exclusive consumer).
  self->link_to(st.broker);
  self->set_down_handler([self](const caf::down_msg& down) {
    auto& obs = self->state.observers;
    obs.erase(std::remove_if(obs.begin(), obs.end(),
                             [&](const observer_entry& o) {
                               return o.handle.address() == down.source;
                             }),
              obs.end());
    auto& mod = self->state.moderator;
    if (mod && mod.address() == down.source) {
      CHATRELAY_LOG(warning, component, "moderator gone; messages pass");
      self->state.set_moderator(moderator_actor{});
    }
  });
  self->delayed_send(self, announce_period, tick_atom::value);
  // Every handler that reads input runs guarded: nothing a peer, a client or
  // an embedder sends may end the registry (and with it the relay).
  return {
      [=](delivery_atom, delivery& d) {
        self->state.guarded("delivery", [&] { self->state.on_delivery(d); });
      },
      [=](role_atom, relay_role r, uint64_t gen) {
        self->state.guarded("role change",
                            [&] { self->state.on_role(r, gen); });
      },
      [=](ready_atom, const std::string& login, uint64_t session, bool ok) {
        self->state.guarded("queue ready",
                            [&] { self->state.on_ready(login, session, ok); });
      },
      [=](direct_atom, chat_request& req, const ack_ref& ack) {
        self->state.guarded("direct message",
                            [&] { self->state.on_direct(req, ack); });
      },
      [=](delete_atom, const std::string& queue) {
        if (self->state.sessions.count(queue) == 0)
          self->send(self->state.broker, delete_atom::value, queue);
      },
      [=](expire_atom, const std::string& login, uint64_t session) {
        self->state.guarded("keep-alive",
                            [&] { self->state.on_expire(login, session); });
      },
      [=](tick_atom) {
        self->state.guarded("announce", [&] { self->state.on_tick(); });
      },
      [=](subscribe_atom, observer_actor& obs) {
        self->state.subscribe(std::move(obs));
      },
      [=](inject_atom, chat_event& ev) {
        self->state.guarded("inject",
                            [&] { self->state.on_inject(std::move(ev)); });
      },
      [=](filter_atom, moderator_actor& mod) {
        if (mod) self->monitor(mod);
        self->state.set_moderator(std::move(mod));
      },
      [=](posted_atom, const std::string& room_name, const chat_event& ev,
          bool fresh) {
        self->state.guarded("posted message", [&] {
          self->state.on_posted(room_name, ev, fresh);
        });
      },
      [=](presence_atom, const std::string& room) {
        return self->state.presence(room);
      },
      [=](status_atom) { return self->state.role; },
  };
}

} // namespace chatrelay
