// Local wrapper around CAF's test DSL (and what 0.17.6's lacks).
#pragma once

#include "chatrelay/internal/type_ids.hpp"
#include "chatrelay/relay.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/test/unit_test.hpp>

// dsl.hpp's request<T>() uses FAIL, which 0.17.6 does not define.
#define FAIL(x) CAF_FAIL(x)
#include <caf/test/dsl.hpp>

namespace chatrelay::test {

/// A config with the relay's types loaded.
struct config : caf::actor_system_config {
  config() { chatrelay::add_message_types(*this); }
};

} // namespace chatrelay::test
