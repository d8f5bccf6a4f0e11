#define CAF_SUITE user

#include "actors/user_actor.hpp"

#include "test.hpp"

using namespace chatrelay;
using namespace std::chrono_literals;

CAF_TEST(the token bucket allows a burst then the configured rate) {
  user_state st;
  st.cfg.rate = 2;
  st.cfg.burst = 3;
  st.tokens = 3;
  caf::actor_clock::time_point t{};
  st.last_refill = t;
  int passed = 0;
  for (int i = 0; i < 10; ++i)
    passed += st.take_token(t) ? 1 : 0;
  CAF_CHECK_EQUAL(passed, 3);
  CAF_CHECK(!st.take_token(t + 100ms));
  CAF_CHECK(st.take_token(t + 600ms)); // 0.5 s at 2/s = one token
  CAF_CHECK(!st.take_token(t + 600ms));
  // Never more than the burst, however long the pause.
  passed = 0;
  for (int i = 0; i < 10; ++i)
    passed += st.take_token(t + 1h) ? 1 : 0;
  CAF_CHECK_EQUAL(passed, 3);
}
