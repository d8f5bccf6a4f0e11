#include "actors/room_actor.hpp"

#include "chatrelay/internal/logging.hpp"
#include "chatrelay/internal/protocol.hpp"
#include "chatrelay/internal/type_ids.hpp"
#include "chatrelay/json.hpp"

#include <caf/stateful_actor.hpp>

#include <nlohmann/json.hpp>

namespace chatrelay {

namespace {

constexpr const char* component = "room";

/// How long a moderator may take before its room's message passes.
constexpr auto moderator_timeout = std::chrono::seconds(2);

/// The replication event of a stamped chat message.
std::string message_event(const std::string& origin, const chat_event& ev) {
  return nlohmann::json{
      {"event", "message"}, {"origin", origin}, {"message", ev}}
      .dump();
}

} // namespace

void room_state::post(chat_request req, ack_ref ack, bool moderate) {
  held_message msg{std::move(req), acking(ack), moderate, cfg.replicate};
  // One order per room: wait behind the message being moderated (a
  // redelivery of that very message too: its cid is settled first).
  if (rules->moderating())
    rules->hold(std::move(msg));
  else
    room_message(std::move(msg));
}

void room_state::room_message(held_message msg) {
  auto& req = msg.req;
  if (auto again = rules->repeat(req, cfg.id_floor, protocol::now_ms())) {
    // Seen before: a client's resend, or a redelivery after a failure that
    // may have lost the first publish. Published again, never as a new
    // message (room::repeat says with which id).
    CHATRELAY_LOG(debug, component,
                  "republishing cid " << req.cid << " of " << req.sender
                                      << " as id " << again->event.id);
    if (again->restamped) cfg.metrics->restamped.Increment();
    posted(again->restamped ? again->event : chat_event{}, false);
    publish(again->event, std::move(msg.batch),
            again->restamped && msg.replicate);
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
  if (!cfg.moderator || !msg.moderate) {
    stamp(std::move(ev), std::move(msg));
    return;
  }
  moderate(std::move(ev), std::move(msg));
}

void room_state::moderate(chat_event ev, held_message msg) {
  // A moderator (embedding) decides before the message is stamped; the
  // delivery stays unacked and the room's later messages wait until then.
  rules->set_moderating(true);
  auto decided = [this, ev, msg](bool pass) mutable {
    try {
      if (pass) {
        stamp(std::move(ev), std::move(msg));
      } else {
        cfg.metrics->count_error("moderated");
        posted({}, false);
        self->send(cfg.broker, publish_atom::value, std::move(msg.batch));
      }
    } catch (const std::exception& e) {
      cfg.metrics->count_error("internal");
      CHATRELAY_LOG(error, component, "moderated message: " << e.what());
    }
    resume();
  };
  self->request(cfg.moderator, moderator_timeout, filter_atom::value, ev)
      .then([decided](bool pass) mutable { decided(pass); },
            [decided](caf::error& err) mutable {
              // Fail open: a broken moderator must not stop the chat.
              CHATRELAY_LOG(warning, component,
                            "moderator failed: " << caf::to_string(err));
              decided(true);
            });
}

void room_state::resume() {
  rules->set_moderating(false);
  while (auto next = rules->next_held())
    room_message(std::move(*next));
  if (retiring && !rules->moderating()) self->quit();
}

void room_state::retire() {
  // Everything posted before the retirement is in the mailbox before it;
  // only a message waiting for the moderator is left to finish.
  retiring = true;
  if (!rules->moderating()) self->quit();
}

void room_state::stamp(chat_event ev, held_message msg) {
  auto stamped = rules->stamp(std::move(ev), cfg.id_floor, protocol::now_ms());
  posted(stamped, true);
  publish(stamped, std::move(msg.batch), msg.replicate);
  cfg.metrics->messages_out.Increment();
}

void room_state::publish(const chat_event& ev, publish_batch batch,
                         bool replicate) {
  // Rendered once: alone for the single exchange, and (byte for byte) in a
  // batch for the batch exchange.
  auto body = protocol::render_event(ev);
  batch.messages.push_back({cfg.exchanges.single, "", body});
  // Without peers nobody listens: no extra publish on the hot path.
  if (replicate)
    batch.messages.push_back(
        {cfg.events_exchange, "", message_event(cfg.origin, ev)});
  // The delivery is acked with the single publish: a batch that is lost
  // (never confirmed) is caught up by resume, like any lost delivery.
  self->send(cfg.broker, publish_atom::value, std::move(batch));
  send_batch(batches->push(std::move(body), self->clock().now()));
  arm_linger();
}

void room_state::send_batch(std::optional<batcher::batch> events) {
  if (!events) return;
  publish_batch batch;
  batch.messages.push_back(
      {cfg.exchanges.batch, "", protocol::render_batch(cfg.name, *events)});
  auto settled = [this] {
    send_batch(batches->confirmed(self->clock().now()));
    arm_linger();
  };
  // No timeout (a timer per batch would wake CAF's clock thread for every
  // one): the broker answers every confirm request, false when the
  // connection is lost, and a broker actor that dies fails the request.
  self->request(cfg.broker, caf::infinite, confirm_atom::value,
                std::move(batch))
      .then([settled](bool) { settled(); },
            [settled](caf::error&) {
              // The broker actor is gone: the next batch goes on.
              settled();
            });
}

void room_state::arm_linger() {
  if (auto due = batches->deadline(); due && due != linger_armed) {
    linger_armed = due;
    auto wait = *due - self->clock().now();
    self->delayed_send(self, std::max(wait, batcher::clock::duration::zero()),
                       tick_atom::value);
  }
}

void room_state::on_tick() {
  linger_armed.reset();
  send_batch(batches->expired(self->clock().now()));
  arm_linger();
}

void room_state::posted(const chat_event& ev, bool fresh) {
  // Sent before the publish: the registry's copy of the room has the id
  // before any queue bound after this publish can be welcomed.
  self->send(cfg.registry, posted_atom::value, cfg.name, ev, fresh);
}

room_actor::behavior_type
chat_room(room_actor::stateful_pointer<room_state> self, room_config cfg,
          room rules) {
  self->state.cfg = std::move(cfg);
  self->state.rules.emplace(std::move(rules));
  self->state.batches.emplace(self->state.cfg.limits);
  return {
      [=](post_atom, chat_request& req, ack_ref ack, bool moderate) {
        try {
          self->state.post(std::move(req), ack, moderate);
        } catch (const std::exception& e) {
          // A message that cannot be rendered must not end the room.
          self->state.cfg.metrics->count_error("internal");
          CHATRELAY_LOG(error, component, "room message: " << e.what());
        }
      },
      [=](filter_atom, moderator_actor& mod) {
        self->state.cfg.moderator = std::move(mod);
      },
      [=](peers_atom, bool listening) {
        self->state.cfg.replicate = listening;
      },
      [=](retire_atom) { self->state.retire(); },
      [=](tick_atom) { self->state.on_tick(); },
  };
}

} // namespace chatrelay
