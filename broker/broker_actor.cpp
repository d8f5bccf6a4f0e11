#include "broker/broker_actor.hpp"

#include "broker/amqp_client.hpp"
#include "chatrelay/internal/type_ids.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

namespace chatrelay::broker {

broker_state::~broker_state() = default;

broker_actor::behavior_type
broker(broker_actor::stateful_pointer<broker_state> self, relay_options opts,
       std::shared_ptr<relay_metrics> metrics) {
  auto submit = [self](command cmd) {
    if (self->state.client) self->state.client->submit(std::move(cmd));
  };
  return {
      [=](publish_atom, publish_batch& batch) { submit(std::move(batch)); },
      [=](confirm_atom, publish_batch& batch) {
        auto rp = self->make_response_promise<bool>();
        if (!self->state.client) {
          rp.deliver(false);
          return rp;
        }
        batch.confirm_request = self->state.next_request++;
        self->state.pending.emplace(batch.confirm_request, rp);
        submit(std::move(batch));
        return rp;
      },
      [=](declare_atom, queue_binding& binding) {
        auto rp = self->make_response_promise<bool>();
        if (!self->state.client) {
          rp.deliver(false);
          return rp;
        }
        auto id = self->state.next_request++;
        self->state.pending.emplace(id, rp);
        submit(declare_cmd{id, std::move(binding)});
        return rp;
      },
      [=](unbind_atom, queue_binding& binding) {
        submit(unbind_cmd{std::move(binding)});
      },
      [=](delete_atom, std::string& queue) {
        submit(delete_cmd{std::move(queue)});
      },
      [=](done_atom, uint64_t id, bool ok) {
        auto i = self->state.pending.find(id);
        if (i == self->state.pending.end()) return;
        i->second.deliver(ok);
        self->state.pending.erase(i);
      },
      [=](sink_atom, registry_actor sink) {
        if (self->state.client) return; // the sink is set once
        auto me = caf::actor_cast<broker_actor>(self);
        client_callbacks cb;
        cb.on_delivery = [sink](delivery d) {
          caf::anon_send(sink, delivery_atom::value, std::move(d));
        };
        cb.on_role = [sink](relay_role role, uint64_t generation) {
          caf::anon_send(sink, role_atom::value, role, generation);
        };
        cb.on_done = [me](uint64_t id, bool ok) {
          caf::anon_send(me, done_atom::value, id, ok);
        };
        self->state.client =
            std::make_unique<amqp_client>(opts, metrics, std::move(cb));
        self->state.client->start();
      },
  };
}

} // namespace chatrelay::broker
