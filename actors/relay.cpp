#include "chatrelay/relay.hpp"

#include "actors/facade_actor.hpp"
#include "actors/registry_actor.hpp"
#include "broker/amqp_client.hpp"
#include "broker/broker_actor.hpp"
#include "chatrelay/internal/logging.hpp"
#include "chatrelay/internal/relay_access.hpp"
#include "chatrelay/internal/type_ids.hpp"

#include <caf/exit_reason.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <thread>
#include <utility>

namespace chatrelay {

static_assert(
    caf::id_block::chatrelay_internal::end <= first_free_type_id,
    "the relay's type IDs overlap an embedder's (first_free_type_id)");

std::string to_string(relay_errc x) {
  switch (x) {
  case relay_errc::invalid_option:
    return "invalid_option";
  }
  return "relay_errc(" + std::to_string(static_cast<int>(x)) + ")";
}

caf::error make_error(relay_errc x, std::string context) {
  return {static_cast<uint8_t>(x), relay_error_category,
          caf::make_message(std::move(context))};
}

namespace {

/// "chatrelay: invalid_option (duplicate-login must be ...)".
std::string render_error(uint8_t code, caf::atom_value,
                         const caf::message& context) {
  auto result = "chatrelay: " + to_string(static_cast<relay_errc>(code));
  if (context.match_elements<std::string>() &&
      !context.get_as<std::string>(0).empty())
    result += " (" + context.get_as<std::string>(0) + ")";
  return result;
}

} // namespace

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::chatrelay>();
  cfg.add_message_types<caf::id_block::chatrelay_internal>();
  // Not add_error_category<relay_errc>: 0.17.6's template does not compile.
  cfg.add_error_category(relay_error_category, render_error);
}

namespace {

/// Whether the calling thread is a worker of `sched` (scheduler `Policy`).
template <class Policy>
bool is_worker_of(caf::scheduler::abstract_coordinator& sched) {
  auto co = dynamic_cast<caf::scheduler::coordinator<Policy>*>(&sched);
  if (co == nullptr) return false;
  auto me = std::this_thread::get_id();
  for (size_t i = 0; i < co->num_workers(); ++i)
    if (co->worker_by_id(i)->get_thread().get_id() == me) return true;
  return false;
}

/// Whether the calling thread may block until the relay's actors are gone:
/// not on a worker of CAF's scheduler (an actor blocking its worker may hold
/// the thread the relay needs to stop), nor under a scheduler we cannot
/// inspect (the deterministic test coordinator runs everything on one
/// thread).
bool may_wait(caf::actor_system& sys) {
  auto& sched = sys.scheduler();
  using caf::policy::work_sharing;
  using caf::policy::work_stealing;
  auto known =
      dynamic_cast<caf::scheduler::coordinator<work_stealing>*>(&sched) !=
          nullptr ||
      dynamic_cast<caf::scheduler::coordinator<work_sharing>*>(&sched) !=
          nullptr;
  return known && !is_worker_of<work_stealing>(sched) &&
         !is_worker_of<work_sharing>(sched);
}

} // namespace

relay::relay(relay&& other) noexcept
    : sys_(std::exchange(other.sys_, nullptr)),
      facade_(std::move(other.facade_)), registry_(std::move(other.registry_)),
      broker_(std::move(other.broker_)) {}

relay& relay::operator=(relay&& other) noexcept {
  if (this != &other) {
    stop();
    sys_ = std::exchange(other.sys_, nullptr);
    facade_ = std::move(other.facade_);
    registry_ = std::move(other.registry_);
    broker_ = std::move(other.broker_);
  }
  return *this;
}

relay::~relay() {
  stop();
}

void relay::stop() {
  auto sys = std::exchange(sys_, nullptr);
  if (sys == nullptr) return;
  // The registry first (it stops feeding the bridge); its link then ends the
  // bridge, and the facade follows both.
  auto facade = caf::actor_cast<caf::actor>(facade_);
  if (!may_wait(*sys)) {
    caf::anon_send_exit(registry_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(broker_, caf::exit_reason::user_shutdown);
    return;
  }
  caf::scoped_actor self{*sys};
  // An actor already gone is reported down at once.
  for (auto& a : {registry_, broker_, facade}) {
    self->monitor(a);
    self->send_exit(a, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
  }
}

caf::expected<relay> spawn_relay(caf::actor_system& sys, relay_options opts,
                                 std::shared_ptr<relay_metrics> metrics) {
  assign_default_id(opts);
  if (auto err = validate(opts); !err.empty())
    return make_error(relay_errc::invalid_option, std::move(err));
  if (!metrics) metrics = std::make_shared<relay_metrics>();
  auto broker = sys.spawn<caf::detached>(broker::broker, opts, metrics);
  auto reg = sys.spawn(registry, std::move(opts), broker, metrics);
  auto front = sys.spawn(facade, reg, broker);
  return internal::relay_access::make(sys, std::move(front),
                                      caf::actor_cast<caf::actor>(reg),
                                      caf::actor_cast<caf::actor>(broker));
}

bool set_log_level(std::string_view level) {
  return log::set_level(level);
}

} // namespace chatrelay
