#include "actors/registry_actor.hpp"

#include "actors/user_actor.hpp"
#include "chatrelay/logging.hpp"
#include "chatrelay/type_ids.hpp"

#include <caf/stateful_actor.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace chatrelay {

using json = nlohmann::json;

namespace {

constexpr const char* component = "registry";

/// Client ids remembered per room for de-duplication (at least).
constexpr size_t min_cid_window = 1000;

publish_batch acking(const delivery& d) {
  publish_batch batch;
  batch.ack_tag = d.tag;
  batch.generation = d.generation;
  batch.ack_source = d.source;
  return batch;
}

// -- the events shared between relays (JSON on the events exchange) ---------

json event_to_json(const chat_event& ev) {
  return json{{"kind", static_cast<int>(ev.kind)},
              {"id", ev.id},
              {"ts", ev.ts},
              {"room", ev.room},
              {"sender", ev.sender},
              {"to", ev.to},
              {"text", ev.text},
              {"cid", ev.cid}};
}

chat_event event_from_json(const json& j) {
  chat_event ev;
  ev.kind = static_cast<event_kind>(j.at("kind").get<int>());
  ev.id = j.at("id").get<uint64_t>();
  ev.ts = j.at("ts").get<int64_t>();
  ev.room = j.at("room").get<std::string>();
  ev.sender = j.at("sender").get<std::string>();
  ev.to = j.at("to").get<std::string>();
  ev.text = j.at("text").get<std::string>();
  ev.cid = j.at("cid").get<std::string>();
  return ev;
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
    CHATRELAY_LOG(info, component,
                  "taking over " << users.size()
                                 << " users as the active "
                                    "relay");
    // Re-declare every user's queue and bindings (idempotent): after a broker
    // restart or another relay's death they may be gone.
    for (auto& [login, e] : users)
      spawn_user(e);
  } else if (r != relay_role::active && prev == relay_role::active) {
    CHATRELAY_LOG(info, component, "no longer active (" << to_string(r) << ")");
    std::vector<std::string> unwelcomed;
    for (auto& [login, e] : users) {
      if (e.actor) self->send(e.actor, logout_atom::value, false);
      e.actor = nullptr;
      if (!e.ready) unwelcomed.push_back(login);
    }
    // Their login deliveries were never acked: the next active relay gets
    // them again.
    for (auto& login : unwelcomed) {
      queue_owner.erase(users[login].queue);
      users.erase(login);
    }
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
  auto i = users.find(login);
  if (i == users.end() || i->second.session != session)
    return; // replaced or ended meanwhile
  auto& e = i->second;
  if (!ok) {
    CHATRELAY_LOG(error, component,
                  "cannot declare queue '" << e.queue << "' of " << login);
    metrics->count_error("queue_unavailable");
    if (e.pending_tag != 0) {
      publish_batch batch;
      batch.ack_tag = e.pending_tag;
      batch.generation = e.pending_generation;
      batch.ack_source = delivery_source::login;
      publish(std::move(batch));
    }
    for (auto& room : e.announced)
      rooms[room].members.erase(login);
    queue_owner.erase(e.queue);
    users.erase(i);
    update_gauges();
    return;
  }
  if (!e.ready) welcome(e);
}

void registry_state::on_stamp(chat_request& req, uint64_t tag, uint64_t gen) {
  auto batch = publish_batch{};
  batch.ack_tag = tag;
  batch.generation = gen;
  batch.ack_source = delivery_source::chat;
  auto sender = users.find(req.sender);
  if (sender == users.end()) {
    publish(std::move(batch)); // logged out meanwhile: drop, but ack
    return;
  }
  if (!req.to.empty()) {
    auto to = users.find(req.to);
    if (to == users.end()) {
      metrics->count_error("unknown_recipient");
      batch.messages.push_back(
          {"", sender->second.queue,
           protocol::render_error(
               {"unknown_recipient", "'" + req.to + "' is not online"},
               req.cid)});
      publish(std::move(batch));
      return;
    }
    chat_event ev{
        event_kind::direct, ++direct_seq, protocol::now_ms(), "",
        req.sender,         req.to,       req.message,        req.cid};
    auto body = protocol::render_event(ev);
    batch.messages.push_back({"", to->second.queue, body});
    if (to->second.queue != sender->second.queue)
      batch.messages.push_back({"", sender->second.queue, std::move(body)});
    publish(std::move(batch));
    metrics->messages_out.Increment();
    notify(ev);
    return;
  }
  auto& room = rooms[req.room];
  if (seen_cid(room, req.sender, req.cid)) {
    CHATRELAY_LOG(debug, component,
                  "dropping duplicate cid " << req.cid << " of " << req.sender);
    publish(std::move(batch));
    return;
  }
  chat_event ev{event_kind::message,
                0,
                0,
                req.room,
                req.sender,
                "",
                std::move(req.message),
                std::move(req.cid)};
  if (!moderator) {
    broadcast(std::move(ev), std::move(batch));
    return;
  }
  // A moderator (embedding) decides before the message is stamped; the
  // delivery stays unacked until then.
  self->request(moderator, std::chrono::seconds(2), filter_atom::value, ev)
      .then(
          [this, ev, batch](bool pass) mutable {
            if (pass) {
              broadcast(std::move(ev), std::move(batch));
              return;
            }
            metrics->count_error("moderated");
            publish(std::move(batch));
          },
          [this, ev, batch](caf::error& err) mutable {
            // Fail open: a broken moderator must not stop the chat.
            CHATRELAY_LOG(warning, component,
                          "moderator failed: " << caf::to_string(err));
            broadcast(std::move(ev), std::move(batch));
          });
}

void registry_state::broadcast(chat_event ev, publish_batch batch) {
  auto stamped = stamp(std::move(ev));
  batch.messages.push_back(
      {room_exchange(stamped.room), "", protocol::render_event(stamped)});
  replicate(batch, json{{"event", "message"},
                        {"origin", opts.id},
                        {"message", event_to_json(stamped)}}
                       .dump());
  publish(std::move(batch));
  metrics->messages_out.Increment();
  notify(stamped);
}

void registry_state::on_expire(const std::string& login, uint64_t session) {
  auto i = users.find(login);
  if (i == users.end() || i->second.session != session) return;
  end_session(login, "timeout", {});
}

void registry_state::on_inject(chat_event ev) {
  if (role != relay_role::active) {
    CHATRELAY_LOG(warning, component, "inject ignored: relay not active");
    return;
  }
  if (ev.room.empty() || !protocol::valid_room(ev.room))
    ev.room = opts.default_room;
  ev.kind = event_kind::message;
  broadcast(std::move(ev), {});
}

std::vector<std::string>
registry_state::presence(const std::string& room) const {
  auto i = rooms.find(room);
  if (i == rooms.end()) return {};
  return {i->second.members.begin(), i->second.members.end()};
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
  auto i = users.find(who);
  if (i == users.end() || !token_ok(i->second, token)) {
    // Tell a client whose session is gone (it may name its queue) to log in
    // again; never tell the real user about someone else's guess.
    auto r = refusal(i == users.end() ? "not_logged_in" : "bad_token",
                     "no session for this login and token", {});
    if (i == users.end()) r.queue = sniffed_queue(d);
    route_rejection(r, d);
    return;
  }
  if (is_logout) {
    end_session(who, "logout", acking(d));
    return;
  }
  if (i->second.actor) self->send(i->second.actor, ping_atom::value);
  ack(d);
}

void registry_state::login(protocol::login_request& req, const delivery& d) {
  auto owner = queue_owner.find(req.queue);
  if (owner != queue_owner.end() && owner->second != req.login) {
    // Never write into another user's queue.
    reject(refusal("queue_taken", "queue belongs to another user", {}), d, {});
    return;
  }
  auto i = users.find(req.login);
  if (i == users.end()) {
    start_session(req, d, {});
    return;
  }
  auto& old = i->second;
  if (opts.duplicate_login == "reject" && old.queue != req.queue) {
    reject_login(req.queue,
                 {"duplicate_login", "'" + req.login + "' is already online"},
                 d);
    return;
  }
  // Replace: the new session takes over; presence continues in the rooms
  // both sessions share, without leave/join noise.
  publish_batch batch;
  std::set<std::string> kept;
  for (auto& room : old.announced) {
    if (std::binary_search(req.rooms.begin(), req.rooms.end(), room)) {
      kept.insert(room);
      continue;
    }
    rooms[room].members.erase(old.login);
    chat_event ev{event_kind::leave, 0, 0, room, old.login, "", "replaced", ""};
    batch.messages.push_back(
        {room_exchange(room), "", protocol::render_event(ev)});
    notify(ev);
  }
  bool new_queue = old.queue != req.queue;
  if (new_queue) {
    batch.messages.push_back(
        {"", old.queue,
         protocol::render_error(
             {"duplicate_login", "this session was replaced by a new login"})});
    queue_owner.erase(old.queue);
  }
  if (old.pending_tag != 0) { // the old login never got its welcome
    batch.ack_tag = old.pending_tag;
    batch.generation = old.pending_generation;
    batch.ack_source = delivery_source::login;
  }
  if (old.actor) self->send(old.actor, logout_atom::value, new_queue);
  publish(std::move(batch));
  // The same queue is the same client coming back (a reconnect, or a login
  // redelivered after a broker failure): its session token stays valid.
  auto token = new_queue ? std::string{} : old.token;
  users.erase(i);
  metrics->logouts.Increment();
  start_session(req, d, std::move(kept), std::move(token));
}

void registry_state::start_session(protocol::login_request& req,
                                   const delivery& d,
                                   std::set<std::string> announced,
                                   std::string token) {
  session_entry e;
  e.login = req.login;
  e.queue = req.queue;
  e.token = token.empty() ? protocol::make_token() : std::move(token);
  e.rooms = std::move(req.rooms);
  e.session = next_session++;
  e.pending_tag = d.tag;
  e.pending_generation = d.generation;
  e.since = std::move(req.since);
  e.announced = std::move(announced);
  queue_owner[e.queue] = e.login;
  auto& entry = users[e.login] = std::move(e);
  spawn_user(entry);
  update_gauges();
}

void registry_state::welcome(session_entry& e) {
  protocol::welcome w;
  w.login = e.login;
  w.token = e.token;
  w.rooms = e.rooms;
  w.resumed = !e.since.empty();
  publish_batch batch;
  batch.ack_tag = e.pending_tag;
  batch.generation = e.pending_generation;
  batch.ack_source = delivery_source::login;
  std::vector<chat_event> joins;
  for (auto& room_name : e.rooms) {
    auto& room = rooms[room_name];
    if (room.members.insert(e.login).second) {
      joins.push_back({event_kind::join, 0, 0, room_name, e.login, "", "", ""});
      e.announced.insert(room_name);
    }
    w.users[room_name] = {room.members.begin(), room.members.end()};
    auto& hist = w.history[room_name];
    auto since = e.since.find(room_name);
    if (since == e.since.end()) {
      w.resumed = false;
      hist.assign(room.history.begin(), room.history.end());
      continue;
    }
    // Resume: replay what came after `since`, if history still holds it.
    auto last_seen = since->second;
    bool covered =
        last_seen >= room.seq ||
        (!room.history.empty() && room.history.front().id <= last_seen + 1);
    w.resumed = w.resumed && covered;
    for (auto& ev : room.history)
      if (ev.id > last_seen) hist.push_back(ev);
  }
  batch.messages.push_back({"", e.queue, protocol::render_welcome(w)});
  for (auto& ev : joins) {
    batch.messages.push_back(
        {room_exchange(ev.room), "", protocol::render_event(ev)});
    notify(ev);
  }
  replicate(batch, json{{"event", "login"},
                        {"origin", opts.id},
                        {"login", e.login},
                        {"queue", e.queue},
                        {"token", e.token},
                        {"rooms", e.rooms}}
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

void registry_state::end_session(const std::string& login,
                                 const std::string& reason,
                                 publish_batch batch) {
  auto i = users.find(login);
  if (i == users.end()) return;
  auto& e = i->second;
  for (auto& room : e.announced) {
    rooms[room].members.erase(login);
    chat_event ev{event_kind::leave, 0, 0, room, login, "", reason, ""};
    batch.messages.push_back(
        {room_exchange(room), "", protocol::render_event(ev)});
    notify(ev);
  }
  replicate(
      batch,
      json{{"event", "logout"}, {"origin", opts.id}, {"login", login}}.dump());
  if (e.actor) self->send(e.actor, logout_atom::value, true);
  publish(std::move(batch));
  queue_owner.erase(e.queue);
  users.erase(i);
  metrics->logouts.Increment();
  CHATRELAY_LOG(info, component, login << " offline (" << reason << ")");
  update_gauges();
}

void registry_state::reject_login(const std::string& queue,
                                  const protocol::error_info& err,
                                  const delivery& d) {
  // The queue may not exist yet: declare it (unbound, expiring) so the client
  // sees why its login failed.
  metrics->count_error(err.code);
  CHATRELAY_LOG(info, component, "login refused: " << err.reason);
  auto batch = acking(d);
  batch.messages.push_back({"", queue, protocol::render_error(err)});
  self->request(broker, caf::infinite, declare_atom::value,
                queue_binding{queue, {}})
      .then([this, batch](bool) mutable { publish(std::move(batch)); },
            [this, batch](caf::error&) mutable { publish(std::move(batch)); });
}

bool registry_state::token_ok(const session_entry& e,
                              const std::string& token) const {
  if (token.empty()) return !opts.require_token;
  return token == e.token;
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
  auto i = users.find(req.sender);
  if (i == users.end()) {
    reject(
        refusal("not_logged_in", "'" + req.sender + "' is not online", req.cid),
        d, {});
    return;
  }
  auto& e = i->second;
  auto fail = [&](const char* code, std::string reason) {
    reject(refusal(code, std::move(reason), req.cid), d, e.queue);
  };
  if (!token_ok(e, req.token))
    return fail("bad_token", "missing or wrong session token");
  if (!req.to.empty()) {
    if (users.count(req.to) == 0)
      return fail("unknown_recipient", "'" + req.to + "' is not online");
  } else {
    req.room = resolve_room(e, req.room);
    if (req.room.empty())
      return fail("not_in_room", "not a member of this room");
  }
  if (!e.actor) { // not active (cannot happen while consuming): let it retry
    CHATRELAY_LOG(warning, component, "chat while not active; ignored");
    return;
  }
  self->send(e.actor, chat_atom::value, std::move(req), d.tag, d.generation);
}

std::string registry_state::resolve_room(const session_entry& e,
                                         const std::string& room) const {
  if (room.empty()) {
    // The seed's clients name no room: their first room, preferring the
    // default one.
    if (std::binary_search(e.rooms.begin(), e.rooms.end(), opts.default_room))
      return opts.default_room;
    return e.rooms.front();
  }
  return std::binary_search(e.rooms.begin(), e.rooms.end(), room)
             ? room
             : std::string{};
}

chat_event registry_state::stamp(chat_event ev) {
  auto& r = rooms[ev.room];
  ev.id = ++r.seq;
  ev.ts = protocol::now_ms();
  remember(r, ev);
  return ev;
}

bool registry_state::seen_cid(room_state& r, const std::string& sender,
                              const std::string& cid) const {
  return !cid.empty() && r.recent_cids.count(sender + '\n' + cid) > 0;
}

void registry_state::remember(room_state& r, const chat_event& ev) {
  if (opts.history_size > 0) {
    r.history.push_back(ev);
    while (r.history.size() > opts.history_size)
      r.history.pop_front();
  }
  if (ev.cid.empty()) return;
  auto key = ev.sender + '\n' + ev.cid;
  if (r.recent_cids.insert(key).second) r.cid_order.push_back(std::move(key));
  while (r.cid_order.size() > std::max(min_cid_window, opts.history_size)) {
    r.recent_cids.erase(r.cid_order.front());
    r.cid_order.pop_front();
  }
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
    if (event == "hello") {
      peers.insert(origin);
      publish_batch batch;
      batch.messages.push_back(
          {opts.events_exchange, "",
           role == relay_role::active
               ? snapshot_for(origin)
               : json{{"event", "here"}, {"origin", opts.id}}.dump()});
      publish(std::move(batch));
    } else if (event == "here") {
      peers.insert(origin);
    } else if (event == "bye") {
      peers.erase(origin);
    } else if (role == relay_role::active) {
      // The active relay is the source of the state; ignore stale echoes.
    } else if (event == "login") {
      peers.insert(origin);
      apply_login(j.at("login"), j.at("queue"), j.at("token"),
                  j.at("rooms").get<std::vector<std::string>>());
    } else if (event == "logout") {
      apply_logout(j.at("login"));
    } else if (event == "message") {
      auto ev = event_from_json(j.at("message"));
      auto& r = rooms[ev.room];
      r.seq = std::max(r.seq, ev.id);
      remember(r, ev);
    } else if (event == "snapshot") {
      peers.insert(origin);
      if (j.at("for").get<std::string>() == opts.id) apply_snapshot(d.body);
    }
  } catch (const std::exception& e) {
    CHATRELAY_LOG(warning, component, "bad relay event ignored: " << e.what());
  }
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
                                 std::vector<std::string> user_rooms) {
  apply_logout(login);
  session_entry e;
  e.login = login;
  e.queue = queue;
  e.token = token;
  e.rooms = std::move(user_rooms);
  std::sort(e.rooms.begin(), e.rooms.end());
  e.session = next_session++;
  e.ready = true;
  for (auto& room : e.rooms) {
    rooms[room].members.insert(login);
    e.announced.insert(room);
  }
  queue_owner[queue] = login;
  users[login] = std::move(e);
}

void registry_state::apply_logout(const std::string& login) {
  auto i = users.find(login);
  if (i == users.end()) return;
  for (auto& room : i->second.announced)
    rooms[room].members.erase(login);
  queue_owner.erase(i->second.queue);
  users.erase(i);
}

std::string registry_state::snapshot_for(const std::string& relay) const {
  json users_json = json::array();
  for (auto& [login, e] : users)
    if (e.ready)
      users_json.push_back({{"login", login},
                            {"queue", e.queue},
                            {"token", e.token},
                            {"rooms", e.rooms}});
  json rooms_json = json::object();
  for (auto& [room_name, r] : rooms) {
    json hist = json::array();
    for (auto& ev : r.history)
      hist.push_back(event_to_json(ev));
    rooms_json[room_name] = {{"seq", r.seq}, {"history", hist}};
  }
  return json{{"event", "snapshot"},
              {"origin", opts.id},
              {"for", relay},
              {"users", users_json},
              {"rooms", rooms_json}}
      .dump();
}

void registry_state::apply_snapshot(const std::string& body) {
  auto j = json::parse(body);
  users.clear();
  queue_owner.clear();
  rooms.clear();
  for (auto& [room_name, r] : j.at("rooms").items()) {
    auto& room = rooms[room_name];
    room.seq = r.at("seq").get<uint64_t>();
    for (auto& ev : r.at("history"))
      remember(room, event_from_json(ev));
  }
  for (auto& u : j.at("users"))
    apply_login(u.at("login"), u.at("queue"), u.at("token"),
                u.at("rooms").get<std::vector<std::string>>());
  CHATRELAY_LOG(info, component,
                "caught up: " << users.size() << " users, " << rooms.size()
                              << " rooms");
}

// -- helpers ------------------------------------------------------------------

void registry_state::spawn_user(session_entry& e) {
  if (role != relay_role::active) return; // a standby only mirrors the state
  user_config cfg;
  cfg.login = e.login;
  cfg.queue = e.queue;
  cfg.session = e.session;
  cfg.exchanges = exchanges_of(e);
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
  CHATRELAY_LOG(info, component,
                "rejected " << to_string(d.source) << " body: " << r.error.code
                            << " (" << r.error.reason << ")");
  auto batch = acking(d);
  if (!queue.empty())
    batch.messages.push_back(
        {"", queue, protocol::render_error(r.error, r.cid)});
  publish(std::move(batch));
}

protocol::rejected registry_state::refusal(std::string code, std::string reason,
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
    auto owner = queue_owner.find(r.queue);
    if (owner == queue_owner.end()) {
      reject_login(r.queue, r.error, d);
      return;
    }
    if (owner->second == r.login) {
      reject(r, d, r.queue);
      return;
    }
  }
  auto i = users.find(r.login);
  reject(r, d, i == users.end() ? std::string{} : i->second.queue);
}

void registry_state::notify(const chat_event& ev) {
  for (auto& obs : observers)
    self->send(obs, event_atom::value, ev);
}

std::string registry_state::room_exchange(const std::string& room) const {
  return opts.room_exchange_prefix + room;
}

std::vector<std::string>
registry_state::exchanges_of(const session_entry& e) const {
  std::vector<std::string> result;
  for (auto& room : e.rooms)
    result.push_back(room_exchange(room));
  return result;
}

void registry_state::update_gauges() {
  metrics->users_online.Set(static_cast<double>(users.size()));
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
  return {
      [=](delivery_atom, delivery& d) { self->state.on_delivery(d); },
      [=](role_atom, relay_role r, uint64_t gen) {
        self->state.on_role(r, gen);
      },
      [=](ready_atom, const std::string& login, uint64_t session, bool ok) {
        self->state.on_ready(login, session, ok);
      },
      [=](stamp_atom, chat_request& req, uint64_t tag, uint64_t gen) {
        self->state.on_stamp(req, tag, gen);
      },
      [=](expire_atom, const std::string& login, uint64_t session) {
        self->state.on_expire(login, session);
      },
      [=](subscribe_atom, observer_actor& obs) {
        self->state.observers.push_back(std::move(obs));
      },
      [=](inject_atom, chat_event& ev) {
        self->state.on_inject(std::move(ev));
      },
      [=](filter_atom, moderator_actor& mod) {
        self->state.moderator = std::move(mod);
      },
      [=](presence_atom, const std::string& room) {
        return self->state.presence(room);
      },
      [=](status_atom) { return self->state.role; },
  };
}

} // namespace chatrelay
