// The BROKER actor: the AMQP bridge between the broker and the actors.
#pragma once

#include "chatrelay/internal/actors.hpp"
#include "chatrelay/metrics.hpp"
#include "chatrelay/options.hpp"

#include <caf/typed_response_promise.hpp>

#include <memory>
#include <unordered_map>

namespace chatrelay::broker {

class amqp_client;

struct broker_state {
  static inline const char* name = "broker";

  ~broker_state();

  std::unique_ptr<amqp_client> client;
  uint64_t next_request = 1;
  std::unordered_map<uint64_t, caf::typed_response_promise<bool>> pending;
};

/// Spawn detached: its AMQP thread is joined when it terminates.
broker_actor::behavior_type
broker(broker_actor::stateful_pointer<broker_state> self, relay_options opts,
       std::shared_ptr<relay_metrics> metrics);

} // namespace chatrelay::broker
