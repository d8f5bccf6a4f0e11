// The embedding API: spawn the relay's actors into an existing actor_system
// and hold them through one RAII handle.
#pragma once

#include "chatrelay/actors.hpp"
#include "chatrelay/metrics.hpp"
#include "chatrelay/options.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace chatrelay {

/// The relay's own errors, in the error category relay_error_category.
enum class relay_errc : uint8_t {
  /// An option of relay_options is invalid (the context names it).
  invalid_option = 1,
};

std::string to_string(relay_errc x);

/// The category of relay_errc errors (registered by add_message_types, so
/// that `actor_system::render` prints them by name).
constexpr caf::atom_value relay_error_category = caf::atom("chatrelay");

/// A relay error; `context` says what went wrong (e.g. which option).
caf::error make_error(relay_errc x, std::string context = {});

/// Registers everything the relay needs in an actor system's config: its
/// type ID blocks (the public `caf::id_block::chatrelay` and the relay's
/// internal one) and its error category. Call it once, before the actor
/// system starts; start your own type ID block at first_free_type_id
/// (type_ids.hpp).
void add_message_types(caf::actor_system_config& cfg);

namespace internal {
struct relay_access;
} // namespace internal

/// A running relay (move-only): the handle to its public interface, and the
/// owner of its actors. Destroying it (or stop()) stops the relay, so a
/// program that forgets to stop it still exits: declare it after the
/// actor_system (it must not outlive the system).
class relay {
public:
  /// An empty handle (no relay).
  relay() = default;
  relay(relay&& other) noexcept;
  relay& operator=(relay&& other) noexcept;
  relay(const relay&) = delete;
  relay& operator=(const relay&) = delete;

  /// Stops the relay (see stop()).
  ~relay();

  /// The relay's public interface (observe, inject, moderate, presence,
  /// status): the one handle to use and to publish. Monitor it: it goes
  /// down, with the failing actor's exit reason, when the relay fails, and
  /// with exit_reason::user_shutdown when it was stopped.
  const relay_actor& facade() const noexcept { return facade_; }

  /// Whether this handle holds a relay that was not stopped through it.
  explicit operator bool() const noexcept { return sys_ != nullptr; }

  /// Stops the relay: exits its actors (unacknowledged deliveries go back to
  /// the broker). Called from a thread that is not one of CAF's scheduler
  /// threads (main, say), it waits until they are gone (the AMQP thread is
  /// joined); called from inside an actor, it returns at once (waiting there
  /// could take the very thread the relay needs to stop): monitor facade()
  /// to learn when the relay is gone. Returns at once for a relay that
  /// already failed, or was stopped. Idempotent.
  void stop();

private:
  friend struct internal::relay_access;

  caf::actor_system* sys_ = nullptr;
  relay_actor facade_;
  caf::actor registry_; ///< internal: states, sessions, rooms
  caf::actor broker_;   ///< internal: the AMQP bridge
};

/// Spawns the broker bridge, the registry and their facade; the relay
/// connects and serves at once. Requires add_message_types(cfg) on the
/// system's config. The registry and the bridge are linked: should either
/// fail, both end (the broker connection closes, so another relay takes
/// over), and the facade follows with the same exit reason: monitor it to
/// learn of it.
/// @returns the relay, or relay_errc::invalid_option naming a bad option.
caf::expected<relay>
spawn_relay(caf::actor_system& sys, relay_options opts,
            std::shared_ptr<relay_metrics> metrics = nullptr);

/// Sets the least severe level the relay logs to stderr, process-wide:
/// "debug", "info" (the default), "warning" or "error"; returns false for
/// any other name. (The daemon sets it from `relay.log-level`.)
bool set_log_level(std::string_view level);

} // namespace chatrelay
