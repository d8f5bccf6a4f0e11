#define CAF_SUITE leader

// The exclusive-consumer leader lock without a broker: when a relay competes
// for `chat` and `login`, and what it is meanwhile.

#include "broker/leader_lock.hpp"

#include "test.hpp"

using namespace chatrelay::broker;
using namespace std::chrono_literals;

namespace {

using step = leader_lock::step;

struct fixture {
  leader_lock lock{4s, 50ms};
  time_point t0 = chatrelay::broker::clock::now();
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(leader_tests, fixture)

CAF_TEST(nothing is tried before a connection is up) {
  CAF_CHECK(lock.next(t0) == step::wait);
  CAF_CHECK(lock.until_next(t0) == duration::max());
  CAF_CHECK(!lock.active());
}

CAF_TEST(a first connection waits one failover period before competing) {
  lock.connected(1, t0);
  CAF_CHECK(lock.next(t0) == step::wait);
  CAF_CHECK(lock.next(t0 + 3999ms) == step::wait);
  CAF_CHECK(lock.until_next(t0 + 1s) == 3s);
  CAF_CHECK(lock.next(t0 + 4s) == step::consume_chat);
  CAF_CHECK(!lock.active());
}

CAF_TEST(a later connection competes at once) {
  lock.connected(2, t0);
  CAF_CHECK(lock.next(t0) == step::consume_chat);
  CAF_CHECK(lock.until_next(t0) == 0s);
}

CAF_TEST(a standby whose consume is refused retries every quarter failover) {
  lock.connected(2, t0);
  lock.chat_refused(t0);
  CAF_CHECK(!lock.active());
  CAF_CHECK(lock.next(t0 + 999ms) == step::wait);
  CAF_CHECK(lock.until_next(t0) == 1s);
  CAF_CHECK(lock.next(t0 + 1s) == step::consume_chat);
}

CAF_TEST(the holder of chat is active and takes login at once) {
  lock.connected(2, t0);
  lock.chat_granted();
  CAF_CHECK(lock.active());
  CAF_CHECK(lock.next(t0) == step::consume_login);
  lock.login_granted();
  CAF_CHECK(lock.holds_login());
  CAF_CHECK(lock.next(t0 + 1h) == step::wait);
  CAF_CHECK(lock.until_next(t0) == duration::max());
}

CAF_TEST(a refused login is retried soon and the relay stays active) {
  lock.connected(2, t0);
  lock.chat_granted();
  lock.login_refused(t0); // the previous holder is still going away
  CAF_CHECK(lock.active());
  CAF_CHECK(lock.next(t0 + 49ms) == step::wait);
  CAF_CHECK(lock.until_next(t0 + 10ms) == 40ms);
  CAF_CHECK(lock.next(t0 + 50ms) == step::consume_login);
}

CAF_TEST(a lost connection or a cancel drops both consumers) {
  lock.connected(1, t0);
  lock.chat_granted();
  lock.login_granted();
  lock.lost();
  CAF_CHECK(!lock.active());
  CAF_CHECK(!lock.holds_login());
  CAF_CHECK(lock.next(t0 + 1h) == step::wait);
  // The reconnection keeps its state: no failover wait this time.
  lock.connected(2, t0 + 1h);
  CAF_CHECK(lock.next(t0 + 1h) == step::consume_chat);
}

CAF_TEST_FIXTURE_SCOPE_END()
