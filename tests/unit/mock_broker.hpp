// A stand-in for the broker actor: implements the real interface, records
// what the actors asked for, and answers declarations with `declare_ok`.
#pragma once

#include "chatrelay/internal/actors.hpp"
#include "test.hpp"

#include <caf/stateful_actor.hpp>

#include <caf/typed_response_promise.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace chatrelay::test {

struct broker_log {
  std::vector<publish_batch> batches;
  std::vector<queue_binding> declared;
  std::vector<queue_binding> unbound;
  std::vector<std::string> deleted;
  /// Queue operations in the order the broker got them ("declare Q",
  /// "unbind Q").
  std::vector<std::string> ops;
  bool declare_ok = true;
  /// Publishes that wait for their confirm (confirm_atom) get it only when
  /// the mock gets `done` (the AMQP thread's report in the real broker)
  /// while this is set; at once otherwise.
  bool hold_confirms = false;
  std::vector<caf::typed_response_promise<bool>> unconfirmed;

  /// Bodies published to `routing_key` on `exchange` ("" = default).
  std::vector<std::string> bodies(const std::string& exchange,
                                  const std::string& routing_key = "") const {
    std::vector<std::string> result;
    for (auto& b : batches)
      for (auto& m : b.messages)
        if (m.exchange == exchange && m.routing_key == routing_key)
          result.push_back(m.body);
    return result;
  }

  /// Delivery tags acknowledged so far.
  std::vector<uint64_t> acked() const {
    std::vector<uint64_t> result;
    for (auto& b : batches)
      if (b.ack_tag != 0) result.push_back(b.ack_tag);
    return result;
  }
};

struct mock_broker_state {
  static inline const char* name = "mock_broker";
  std::shared_ptr<broker_log> log;
};

inline broker_actor::behavior_type
mock_broker(broker_actor::stateful_pointer<mock_broker_state> self,
            std::shared_ptr<broker_log> log) {
  self->state.log = log;
  return {
      [=](publish_atom, publish_batch& b) { log->batches.push_back(b); },
      [=](confirm_atom, publish_batch& b) {
        log->batches.push_back(b);
        auto rp = self->make_response_promise<bool>();
        if (log->hold_confirms)
          log->unconfirmed.push_back(rp);
        else
          rp.deliver(true);
        return rp;
      },
      [=](declare_atom, queue_binding& b) {
        log->ops.push_back("declare " + b.queue);
        log->declared.push_back(b);
        return log->declare_ok;
      },
      [=](unbind_atom, queue_binding& b) {
        log->ops.push_back("unbind " + b.queue);
        log->unbound.push_back(b);
      },
      [=](delete_atom, std::string& q) { log->deleted.push_back(q); },
      [=](sink_atom, registry_actor) {},
      [=](done_atom, uint64_t, bool ok) {
        // The broker confirmed (ok) or refused everything held.
        for (auto& rp : std::exchange(log->unconfirmed, {}))
          rp.deliver(ok);
      },
  };
}

} // namespace chatrelay::test
