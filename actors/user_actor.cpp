#include "actors/user_actor.hpp"

#include "chatrelay/internal/logging.hpp"
#include "chatrelay/internal/protocol.hpp"
#include "chatrelay/internal/type_ids.hpp"

#include <caf/stateful_actor.hpp>

#include <algorithm>

namespace chatrelay {

bool user_state::take_token(caf::actor_clock::time_point now) {
  std::chrono::duration<double> elapsed = now - last_refill;
  last_refill = now;
  tokens = std::min(cfg.burst, tokens + elapsed.count() * cfg.rate);
  if (tokens < 1.0) return false;
  tokens -= 1.0;
  return true;
}

std::string user_state::room_for(const std::string& room) const {
  if (cfg.rooms.count(room.empty() ? cfg.default_room : room) > 0)
    return room.empty() ? cfg.default_room : room;
  return room.empty() && !cfg.rooms.empty() ? cfg.rooms.begin()->first
                                            : std::string{};
}

namespace {

/// The sender learns which message was rejected (protocol::error_reply).
void reject(user_actor::stateful_pointer<user_state> self, const ack_ref& ack,
            const protocol::error_info& err, const std::string& cid) {
  auto& cfg = self->state.cfg;
  if (cfg.metrics) cfg.metrics->count_error(err.code);
  self->send(cfg.broker, publish_atom::value,
             protocol::error_reply(ack, cfg.queue, err, cid));
}

void on_chat(user_actor::stateful_pointer<user_state> self, chat_request& req,
             const ack_ref& ack) {
  auto& st = self->state;
  auto now = self->clock().now();
  st.last_seen = now;
  if (req.to.empty()) {
    req.room = st.room_for(req.room);
    if (req.room.empty())
      return reject(self, ack, {"not_in_room", "not a member of this room"},
                    req.cid);
  }
  if (!st.take_token(now))
    return reject(self, ack,
                  {"rate_limited", "more than the allowed messages per second"},
                  req.cid);
  if (!req.to.empty())
    self->send(st.cfg.registry, direct_atom::value, std::move(req), ack);
  else
    self->send(st.cfg.rooms.at(req.room), post_atom::value, std::move(req), ack,
               true);
}

} // namespace

user_actor::behavior_type user(user_actor::stateful_pointer<user_state> self,
                               user_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.last_seen = st.last_refill = self->clock().now();
  st.tokens = st.cfg.burst;
  // The queue is bound to exactly the session's rooms: what an earlier
  // session on it had and this one dropped goes first (the broker runs both
  // in order, so no message of a dropped room arrives after the welcome).
  if (!st.cfg.unbind.empty())
    self->send(st.cfg.broker, unbind_atom::value,
               queue_binding{st.cfg.queue, std::move(st.cfg.unbind)});
  auto report = [self](bool ok) {
    auto& c = self->state.cfg;
    self->send(c.registry, ready_atom::value, c.login, c.session, ok);
  };
  self->request(st.cfg.broker, caf::infinite, declare_atom::value,
                queue_binding{st.cfg.queue, st.cfg.exchanges})
      .then(report, [report](caf::error&) { report(false); });
  self->delayed_send(self, st.cfg.keepalive, tick_atom::value);
  return {
      [=](chat_atom, chat_request& req, const ack_ref& ack) {
        on_chat(self, req, ack);
      },
      [=](ping_atom) { self->state.last_seen = self->clock().now(); },
      [=](tick_atom) {
        auto& s = self->state;
        auto idle = self->clock().now() - s.last_seen;
        if (idle >= s.cfg.keepalive) {
          CHATRELAY_LOG(info, "user",
                        s.cfg.login << " silent for longer than "
                                       "the keep-alive timeout");
          self->send(s.cfg.registry, expire_atom::value, s.cfg.login,
                     s.cfg.session);
          return; // the registry ends the session
        }
        self->delayed_send(self, s.cfg.keepalive - idle, tick_atom::value);
      },
      [=](logout_atom, bool delete_queue) {
        auto& c = self->state.cfg;
        if (delete_queue) self->send(c.broker, delete_atom::value, c.queue);
        self->quit();
      },
  };
}

} // namespace chatrelay
