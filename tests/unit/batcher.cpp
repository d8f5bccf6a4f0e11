#define CAF_SUITE batcher

#include "actors/batcher.hpp"

#include "test.hpp"

#include <random>

using namespace chatrelay;
using namespace std::chrono_literals;

namespace {

using batch = batcher::batch;

const batcher::time_point t0{};

batch_limits limits(size_t max_messages, size_t max_bytes,
                    std::chrono::milliseconds linger = 0ms) {
  batch_limits l;
  l.max_messages = max_messages;
  l.max_bytes = max_bytes;
  l.linger = linger;
  return l;
}

/// What a call returned to publish (batches are never empty: none = {}).
batch sent(std::optional<batch> x) {
  if (x) CAF_REQUIRE(!x->empty());
  return x ? *x : batch{};
}

/// Pushes `events` at `now`, requiring that none of them goes out.
void hold(batcher& b, std::initializer_list<const char*> events,
          batcher::time_point now = t0) {
  for (auto* ev : events)
    CAF_REQUIRE(!b.push(ev, now));
}

} // namespace

CAF_TEST(an idle room publishes a message at once as a batch of one) {
  batcher b{limits(10, 1000)};
  CAF_CHECK_EQUAL(sent(b.push("m1", t0)), batch{"m1"});
  CAF_CHECK(b.in_flight());
  CAF_CHECK_EQUAL(b.held(), 0u);
}

CAF_TEST(messages arriving while a batch is unconfirmed form the next batch) {
  batcher b{limits(10, 1000)};
  CAF_REQUIRE(b.push("m1", t0));
  hold(b, {"m2", "m3", "m4"});
  CAF_CHECK_EQUAL(b.held(), 3u);
  CAF_CHECK_EQUAL(sent(b.confirmed(t0)), (batch{"m2", "m3", "m4"}));
  CAF_CHECK(b.in_flight());
  CAF_CHECK_EQUAL(b.held(), 0u);
}

CAF_TEST(a confirm with nothing held leaves the room idle for the next one) {
  batcher b{limits(10, 1000)};
  CAF_REQUIRE(b.push("m1", t0));
  CAF_CHECK(!b.confirmed(t0));
  CAF_CHECK(!b.in_flight());
  CAF_CHECK_EQUAL(sent(b.push("m2", t0)), batch{"m2"});
}

CAF_TEST(a batch holds at most batch - max messages and the rest waits) {
  batcher b{limits(2, 1000)};
  CAF_REQUIRE(b.push("m1", t0));
  hold(b, {"m2", "m3", "m4", "m5", "m6"});
  CAF_CHECK_EQUAL(sent(b.confirmed(t0)), (batch{"m2", "m3"}));
  CAF_CHECK_EQUAL(b.held(), 3u);
  CAF_CHECK_EQUAL(sent(b.confirmed(t0)), (batch{"m4", "m5"}));
  CAF_CHECK_EQUAL(sent(b.confirmed(t0)), batch{"m6"});
  CAF_CHECK(!b.confirmed(t0));
}

CAF_TEST(a batch holds at most batch - max - bytes of messages and
         the rest waits) {
  batcher b{limits(100, 10)};
  CAF_REQUIRE(b.push("aaaa", t0));
  hold(b, {"bbbb", "cccc", "dddd"});
  CAF_CHECK_EQUAL(sent(b.confirmed(t0)),
                  (batch{"bbbb", "cccc"})); // 8 of 10 bytes
  CAF_CHECK_EQUAL(sent(b.confirmed(t0)), batch{"dddd"});
}

CAF_TEST(a message larger than batch - max - bytes goes alone) {
  batcher b{limits(100, 4)};
  CAF_CHECK_EQUAL(sent(b.push("0123456789", t0)), batch{"0123456789"});
  hold(b, {"a", "0123456789", "b"});
  CAF_CHECK_EQUAL(sent(b.confirmed(t0)), batch{"a"});
  CAF_CHECK_EQUAL(sent(b.confirmed(t0)), batch{"0123456789"});
  CAF_CHECK_EQUAL(sent(b.confirmed(t0)), batch{"b"});
}

CAF_TEST(a batch - max of zero still publishes one message per batch) {
  batcher b{limits(0, 1000)};
  CAF_CHECK_EQUAL(sent(b.push("m1", t0)), batch{"m1"});
  hold(b, {"m2", "m3"});
  CAF_CHECK_EQUAL(sent(b.confirmed(t0)), batch{"m2"});
}

CAF_TEST(without a linger there is no deadline to arm) {
  batcher b{limits(10, 1000)};
  CAF_CHECK(!b.deadline());
  CAF_REQUIRE(b.push("m1", t0));
  hold(b, {"m2"});
  CAF_CHECK(!b.deadline());
}

CAF_TEST(with a linger a quiet room still publishes at once) {
  batcher b{limits(10, 1000, 5ms)};
  CAF_CHECK_EQUAL(sent(b.push("m1", t0)), batch{"m1"});
  CAF_REQUIRE(!b.confirmed(t0 + 1ms));
  // Quiet for longer than the linger: no wait either.
  CAF_CHECK_EQUAL(sent(b.push("m2", t0 + 9ms)), batch{"m2"});
}

CAF_TEST(
    with a linger a busy room sends its next batch a linger after the last) {
  batcher b{limits(10, 1000, 5ms)};
  CAF_REQUIRE(b.push("m1", t0));
  hold(b, {"m2"}, t0 + 1ms);
  CAF_CHECK(!b.deadline()); // in flight: the confirm decides
  // Confirmed before the last batch is a linger old: the held wait for it.
  CAF_CHECK(!b.confirmed(t0 + 2ms));
  CAF_CHECK(b.deadline() == t0 + 5ms);
  hold(b, {"m3"}, t0 + 3ms);
  CAF_CHECK(!b.expired(t0 + 4ms));
  CAF_CHECK_EQUAL(sent(b.expired(t0 + 5ms)), (batch{"m2", "m3"}));
  CAF_CHECK(!b.deadline());
  // Confirmed after a linger: what is held goes at once.
  hold(b, {"m4"}, t0 + 6ms);
  CAF_CHECK_EQUAL(sent(b.confirmed(t0 + 12ms)), batch{"m4"});
}

CAF_TEST(with a linger a full batch goes before its deadline) {
  batcher b{limits(3, 1000, 50ms)};
  CAF_REQUIRE(b.push("m0", t0));
  CAF_REQUIRE(!b.confirmed(t0));
  hold(b, {"m1", "m2"});
  CAF_CHECK_EQUAL(sent(b.push("m3", t0 + 1ms)), (batch{"m1", "m2", "m3"}));
  batcher by_bytes{limits(100, 4, 50ms)};
  CAF_REQUIRE(by_bytes.push("x", t0));
  CAF_REQUIRE(!by_bytes.confirmed(t0));
  hold(by_bytes, {"ab"});
  CAF_CHECK_EQUAL(sent(by_bytes.push("cd", t0 + 1ms)), (batch{"ab", "cd"}));
}

CAF_TEST(a timer that fires while a batch is in flight publishes nothing) {
  batcher b{limits(10, 1000, 5ms)};
  CAF_REQUIRE(b.push("m1", t0));
  hold(b, {"m2"}, t0 + 1ms);
  CAF_CHECK(!b.expired(t0 + 100ms));
  CAF_CHECK_EQUAL(sent(b.confirmed(t0 + 100ms)), batch{"m2"});
}

CAF_TEST(any mix of pushes confirms and timers keeps order without loss or
         duplicates) {
  std::mt19937 rng{42};
  for (auto linger : {0ms, 3ms}) {
    batcher b{limits(7, 40, linger)};
    std::vector<std::string> out;
    auto publish = [&](std::optional<batch> x) {
      if (!x) return;
      CAF_REQUIRE(!x->empty());
      CAF_REQUIRE_LESS_OR_EQUAL(x->size(), 7u);
      out.insert(out.end(), x->begin(), x->end());
    };
    auto now = t0;
    int pushed = 0;
    for (int step = 0; step < 20000; ++step) {
      now += std::chrono::microseconds{rng() % 2000};
      switch (rng() % 3) {
      case 0:
        publish(b.push(std::to_string(pushed++) + std::string(rng() % 12, 'x'),
                       now));
        break;
      case 1:
        if (b.in_flight()) publish(b.confirmed(now));
        break;
      default:
        if (auto d = b.deadline(); d && *d <= now) publish(b.expired(now));
      }
    }
    while (b.in_flight() || b.held() > 0) { // drain
      now += 1s;
      publish(b.in_flight() ? b.confirmed(now) : b.expired(now));
    }
    CAF_REQUIRE_EQUAL(out.size(), static_cast<size_t>(pushed));
    for (int i = 0; i < pushed; ++i)
      CAF_REQUIRE_EQUAL(out[i].substr(0, out[i].find('x')), std::to_string(i));
  }
}

CAF_TEST(single messages and batches go to two exchanges per room) {
  auto ex = exchanges_of("chat.room.", "main");
  CAF_CHECK_EQUAL(ex.single, "chat.room.main");
  CAF_CHECK_EQUAL(ex.batch, "chat.room.main.batch");
  CAF_CHECK_EQUAL(exchanges_of("x-", "dev").batch, "x-dev.batch");
}
