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

user_actor::behavior_type user(user_actor::stateful_pointer<user_state> self,
                               user_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.last_seen = st.last_refill = self->clock().now();
  st.tokens = st.cfg.burst;
  // Tells the registry whether the queue is usable.
  auto report = [self](bool ok) {
    auto& c = self->state.cfg;
    self->send(c.registry, ready_atom::value, c.login, c.session, ok);
  };
  auto declare = [self, report](std::vector<std::string> exchanges) {
    auto& c = self->state.cfg;
    self->request(c.broker, caf::infinite, declare_atom::value,
                  queue_binding{c.queue, std::move(exchanges)})
        .then(report, [report](caf::error&) { report(false); });
  };
  // The queue is bound to exactly the session's rooms: what an earlier
  // session on it had and this one dropped goes first (the broker runs both
  // in order, so no message of a dropped room arrives after the welcome).
  if (!st.cfg.unbind.empty())
    self->send(st.cfg.broker, unbind_atom::value,
               queue_binding{st.cfg.queue, std::move(st.cfg.unbind)});
  declare(st.cfg.exchanges);
  self->delayed_send(self, st.cfg.keepalive, tick_atom::value);
  return {
      [=](chat_atom, chat_request& req, uint64_t tag, uint64_t generation) {
        auto& s = self->state;
        auto now = self->clock().now();
        s.last_seen = now;
        if (!s.take_token(now)) {
          // Never a silent drop: the sender learns which message was refused.
          if (s.cfg.metrics) s.cfg.metrics->count_error("rate_limited");
          publish_batch batch;
          batch.messages.push_back(
              {"", s.cfg.queue,
               protocol::render_error(
                   {"rate_limited",
                    "more than the allowed messages per second"},
                   req.cid)});
          batch.ack_tag = tag;
          batch.generation = generation;
          self->send(s.cfg.broker, publish_atom::value, std::move(batch));
          return;
        }
        self->send(s.cfg.registry, stamp_atom::value, std::move(req), tag,
                   generation);
      },
      [=](ping_atom) { self->state.last_seen = self->clock().now(); },
      [=](declare_atom, std::vector<std::string>& exchanges) {
        auto& c = self->state.cfg;
        std::vector<std::string> gone;
        for (auto& ex : c.exchanges)
          if (std::find(exchanges.begin(), exchanges.end(), ex) ==
              exchanges.end())
            gone.push_back(ex);
        if (!gone.empty())
          self->send(c.broker, unbind_atom::value,
                     queue_binding{c.queue, std::move(gone)});
        c.exchanges = exchanges;
        declare(std::move(exchanges));
      },
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
