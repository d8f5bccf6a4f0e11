#define CAF_SUITE confirms

#include "broker/confirm_tracker.hpp"

#include "test.hpp"

using namespace chatrelay::broker;
using namespace std::chrono_literals;

namespace {

using tracker = confirm_tracker;

std::vector<tracker::message> msgs(std::initializer_list<const char*> bodies) {
  std::vector<tracker::message> out;
  for (auto* b : bodies)
    out.push_back({"ex", "", b});
  return out;
}

struct fixture {
  tracker t{5s};
  time_point t0 = chatrelay::broker::clock::now();

  std::vector<uint64_t> acked() {
    std::vector<uint64_t> out;
    for (auto& s : t.take_settled())
      out.push_back(s.requeue ? 1000 + s.tag : s.tag);
    return out;
  }
};

using tags = std::vector<uint64_t>;

} // namespace

CAF_TEST_FIXTURE_SCOPE(confirm_tracker_tests, fixture)

CAF_TEST(a delivery is acked only after all of its publishes) {
  CAF_CHECK_EQUAL(t.add(msgs({"a", "b", "c"}), 7, 1, t0), 1u);
  t.confirm(1, false, false, t0);
  t.confirm(3, false, false, t0);
  CAF_CHECK_EQUAL(acked(), tags{});
  t.confirm(2, false, false, t0);
  CAF_CHECK_EQUAL(acked(), tags{7});
  CAF_CHECK_EQUAL(t.in_flight(), 0u);
  CAF_CHECK_EQUAL(t.waiting(), 0u);
}

CAF_TEST(a multiple ack settles every delivery up to it) {
  t.add(msgs({"a"}), 1, 1, t0);
  t.add(msgs({"b", "c"}), 2, 1, t0);
  t.add(msgs({"d"}), 3, 1, t0);
  t.confirm(3, true, false, t0);
  CAF_CHECK_EQUAL(acked(), (tags{1, 2}));
  CAF_CHECK_EQUAL(t.in_flight(), 1u);
  t.confirm(4, true, false, t0);
  CAF_CHECK_EQUAL(acked(), tags{3});
}

CAF_TEST(deliveries settle out of order when their confirms do) {
  t.add(msgs({"a"}), 1, 1, t0);
  t.add(msgs({"b"}), 2, 5, t0);
  t.confirm(2, false, false, t0);
  auto s = t.take_settled();
  CAF_REQUIRE_EQUAL(s.size(), 1u);
  CAF_CHECK_EQUAL(s[0].tag, 2u);
  CAF_CHECK_EQUAL(s[0].channel, 5);
  CAF_CHECK_EQUAL(t.in_flight(), 2u); // seq 1 still waits at the front
}

CAF_TEST(a nack of any publish requeues the delivery) {
  t.add(msgs({"a", "b"}), 4, 1, t0);
  t.add(msgs({"c"}), 5, 1, t0);
  t.confirm(1, false, true, t0);
  CAF_CHECK_EQUAL(acked(), tags{});
  t.confirm(3, true, false, t0); // the rest is acked
  CAF_CHECK_EQUAL(acked(), (tags{1004, 5}));
}

CAF_TEST(a multiple nack requeues every delivery it covers) {
  t.add(msgs({"a"}), 1, 1, t0);
  t.add(msgs({"b"}), 2, 1, t0);
  t.confirm(2, true, true, t0);
  CAF_CHECK_EQUAL(acked(), (tags{1001, 1002}));
}

CAF_TEST(a batch without publishes settles at once and one without tag never) {
  t.add({}, 9, 1, t0);
  CAF_CHECK_EQUAL(acked(), tags{9});
  t.add(msgs({"presence"}), 0, 1, t0);
  t.confirm(1, false, false, t0);
  CAF_CHECK_EQUAL(acked(), tags{});
  CAF_CHECK_EQUAL(t.in_flight(), 0u);
}

CAF_TEST(repeated and unknown confirms are ignored) {
  t.add(msgs({"a"}), 1, 1, t0);
  t.confirm(1, false, false, t0);
  t.confirm(1, false, false, t0);
  t.confirm(0, true, false, t0);
  t.confirm(99, false, false, t0);
  CAF_CHECK_EQUAL(acked(), tags{1});
  t.add(msgs({"b"}), 2, 1, t0);
  t.confirm(99, true, false, t0); // beyond what was sent: up to the last
  CAF_CHECK_EQUAL(acked(), tags{2});
}

CAF_TEST(the deadline runs from the oldest publish or the last confirm) {
  t.add(msgs({"a"}), 1, 1, t0);
  t.add(msgs({"b"}), 2, 1, t0 + 3s);
  CAF_CHECK(!t.overdue(t0 + 4s));
  CAF_CHECK(t.overdue(t0 + 5s)); // nothing confirmed since a was sent
  t.confirm(1, false, false, t0 + 5s);
  CAF_CHECK(!t.overdue(t0 + 8s)); // b waits 5 s, but the broker confirms
  CAF_CHECK(t.overdue(t0 + 10s)); // silent for 5 s
  t.confirm(2, false, false, t0 + 10s);
  CAF_CHECK(!t.overdue(t0 + 60s)); // nothing waits
}

CAF_TEST(a slow broker that keeps confirming is not overdue) {
  // Flat out, confirms fall ever further behind the publishes (here up to
  // 20 s), but they keep coming.
  for (uint64_t tag = 1; tag <= 30; ++tag)
    t.add(msgs({"x"}), tag, 1, t0 + std::chrono::seconds(tag - 1));
  for (uint64_t seq = 1; seq <= 30; ++seq) {
    auto now = t0 + 3s + std::chrono::milliseconds(1500 * seq);
    CAF_CHECK(!t.overdue(now));
    t.confirm(seq, false, false, now);
  }
  CAF_CHECK_EQUAL(acked().size(), 30u);
}

CAF_TEST(a confirm that never comes does not hold later deliveries) {
  t.add(msgs({"stuck"}), 1, 1, t0);
  for (uint64_t tag = 2; tag <= 100; ++tag)
    t.add(msgs({"x"}), tag, 1, t0);
  t.confirm(100, false, false, t0);
  for (uint64_t seq = 2; seq < 100; ++seq)
    t.confirm(seq, false, false, t0);
  CAF_CHECK_EQUAL(acked().size(), 99u);
  CAF_CHECK_EQUAL(t.waiting(), 1u);
  CAF_CHECK(t.overdue(t0 + 5s));
  // Even while the broker confirms others, one confirm missing for ten
  // deadlines is overdue.
  for (uint64_t s = 1; s <= 50; ++s) {
    auto now = t0 + std::chrono::seconds(s);
    t.add(msgs({"y"}), 100 + s, 1, now);
    t.confirm(100 + s, false, false, now);
    CAF_CHECK_EQUAL(t.overdue(now), s >= 50);
  }
}

CAF_TEST(restart resends the unconfirmed in order with new sequence numbers) {
  t.add(msgs({"a", "b"}), 1, 1, t0);
  t.add(msgs({"c"}), 2, 1, t0);
  t.add(msgs({"d"}), 0, 1, t0);
  t.confirm(1, false, false, t0);
  t.confirm(3, false, false, t0);
  CAF_CHECK_EQUAL(acked(), tags{2});
  CAF_CHECK(t.overdue(t0 + 5s));
  auto again = t.restart(t0 + 5s);
  CAF_REQUIRE_EQUAL(again.size(), 2u);
  CAF_CHECK_EQUAL(again[0].body, "b");
  CAF_CHECK_EQUAL(again[1].body, "d");
  CAF_CHECK(t.stalled());
  CAF_CHECK(!t.overdue(t0 + 6s)); // the clock starts again
  // New publishes follow the resent ones on the new channel.
  CAF_CHECK_EQUAL(t.add(msgs({"e"}), 3, 1, t0 + 6s), 3u);
  t.confirm(1, false, false, t0 + 6s); // "b": delivery 1 complete
  CAF_CHECK_EQUAL(acked(), tags{1});
  CAF_CHECK(t.stalled());
  t.confirm(3, true, false, t0 + 6s);
  CAF_CHECK_EQUAL(acked(), tags{3});
  CAF_CHECK(!t.stalled());
  CAF_CHECK_EQUAL(t.in_flight(), 0u);
}

CAF_TEST(a restart that times out again is still overdue) {
  t.add(msgs({"a"}), 1, 1, t0);
  t.restart(t0 + 5s);
  CAF_CHECK(t.stalled());
  CAF_CHECK(t.overdue(t0 + 10s)); // the caller escalates (reconnects)
}

CAF_TEST(confirm latencies are reported) {
  std::vector<duration> seen;
  t.on_latency = [&](duration d) { seen.push_back(d); };
  t.add(msgs({"a", "b"}), 1, 1, t0);
  t.confirm(2, true, false, t0 + 3ms);
  CAF_REQUIRE_EQUAL(seen.size(), 2u);
  CAF_CHECK(seen[0] == 3ms);
}

CAF_TEST_FIXTURE_SCOPE_END()
