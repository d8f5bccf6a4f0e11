// The FACADE actor: the relay as an embedder (or a remote peer through the
// middleman) sees it. It speaks only the public relay_actor interface and
// hands each request to the registry, so nothing outside the relay can send
// the registry its internal messages (deliveries, stamps, roles, ...).
#pragma once

#include "chatrelay/internal/actors.hpp"

namespace chatrelay {

struct facade_state {
  static inline const char* name = "relay";

  registry_actor registry;
  broker_actor broker;
};

/// Watches the registry and the broker bridge: when either ends, the facade
/// goes down with the same reason, so an embedder that monitors it learns
/// that the relay failed. Exit messages sent to it are ignored (except
/// exit_reason::kill, which CAF does not let an actor trap; a killed facade
/// leaves the relay running): stop the relay with relay::stop.
relay_actor::behavior_type
facade(relay_actor::stateful_pointer<facade_state> self,
       registry_actor registry, broker_actor broker);

} // namespace chatrelay
