#define CAF_SUITE amqp_client

// The AMQP client's own thread against a broker address nobody listens on:
// what must hold whatever the broker does (issue 11.7, 11.8). What needs a
// broker that answers is covered by the integration suites.

#include "broker/amqp_client.hpp"

#include "test.hpp"

#include <atomic>
#include <chrono>
#include <thread>

using namespace chatrelay;
using namespace chatrelay::broker;
using namespace std::chrono_literals;

namespace {

relay_options unreachable() {
  relay_options o;
  o.id = "client-under-test";
  o.amqp_addresses = {"127.0.0.1:1"}; // connection refused at once
  return o;
}

struct counters {
  std::atomic<int> roles{0};
  std::atomic<int> answered{0};
  std::atomic<int> answered_ok{0};
};

client_callbacks callbacks(std::shared_ptr<counters> c, bool throw_once) {
  client_callbacks cb;
  cb.on_delivery = [](delivery) {};
  cb.on_role = [c, throw_once](relay_role, uint64_t) {
    if (c->roles++ == 0 && throw_once)
      throw std::runtime_error("a callback failed");
  };
  cb.on_done = [c](uint64_t, bool ok) {
    ++c->answered;
    if (ok) ++c->answered_ok;
  };
  return cb;
}

/// Waits up to `limit` for `pred`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

} // namespace

CAF_TEST(an exception other than a lost connection does not end the process) {
  auto c = std::make_shared<counters>();
  amqp_client s{unreachable(), std::make_shared<relay_metrics>(),
                callbacks(c, true)};
  s.start();
  // The first report throws; the thread logs it and keeps trying.
  CAF_CHECK(eventually([&] { return c->roles >= 3; }));
  s.stop();
}

CAF_TEST(every declaration and confirm request is answered when the broker
             cannot be reached) {
  auto c = std::make_shared<counters>();
  amqp_client s{unreachable(), std::make_shared<relay_metrics>(),
                callbacks(c, false)};
  s.start();
  for (uint64_t id = 1; id <= 3; ++id)
    s.submit(declare_cmd{id, queue_binding{"q", {}}});
  // A room's batch waits for its confirm without a timeout.
  publish_batch batch;
  batch.messages.push_back({"chat.room.main.batch", "", "{}"});
  batch.confirm_request = 4;
  s.submit(std::move(batch));
  CAF_CHECK(eventually([&] { return c->answered == 4; }));
  CAF_CHECK_EQUAL(c->answered_ok.load(), 0);
  s.stop();
}

CAF_TEST(a full command queue makes submit wait and loses nothing) {
  auto c = std::make_shared<counters>();
  amqp_client s{unreachable(), std::make_shared<relay_metrics>(),
                callbacks(c, false), 2};
  s.start();
  size_t most = 0;
  for (uint64_t id = 1; id <= 20; ++id) {
    s.submit(declare_cmd{id, queue_binding{"q", {}}});
    most = std::max(most, s.queued());
  }
  CAF_CHECK_LESS_OR_EQUAL(most, 2u);
  CAF_CHECK(eventually([&] { return c->answered == 20; }, 30s));
  s.stop();
}

CAF_TEST(stop wakes a submit that waits for room) {
  auto c = std::make_shared<counters>();
  amqp_client s{unreachable(), std::make_shared<relay_metrics>(),
                callbacks(c, false), 1};
  // Not started: nothing drains the queue.
  s.submit(declare_cmd{1, queue_binding{"q", {}}});
  std::atomic<bool> returned{false};
  std::thread waiter{[&] {
    s.submit(declare_cmd{2, queue_binding{"q", {}}});
    returned = true;
  }};
  std::this_thread::sleep_for(50ms);
  CAF_CHECK(!returned);
  s.stop();
  waiter.join();
  CAF_CHECK(returned);
}
