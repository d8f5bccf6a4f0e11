#define CAF_SUITE pipeline

// The queue-operation pipeline without a broker: what the AMQP thread sends
// for the actors' queue requests and how it reads the broker's answers.

#include "broker/queue_pipeline.hpp"

#include "test.hpp"

#include <algorithm>
#include <map>
#include <set>

using namespace chatrelay::broker;

namespace {

using answers = std::vector<std::pair<uint64_t, bool>>;

queue_request declare(uint64_t id, std::string queue,
                      std::vector<std::string> exchanges) {
  return {queue_request::declare, id, std::move(queue), std::move(exchanges)};
}

queue_request unbind(std::string queue, std::vector<std::string> exchanges) {
  return {queue_request::unbind, 0, std::move(queue), std::move(exchanges)};
}

queue_request removal(std::string queue) {
  return {queue_request::remove, 0, std::move(queue), {}};
}

/// "kind:queue:exchange" per method, the channel left out.
std::vector<std::string> describe(const std::vector<queue_method>& ms) {
  static const char* names[] = {"open", "exchange", "queue",
                                "bind", "unbind",   "delete"};
  std::vector<std::string> out;
  for (auto& m : ms)
    out.push_back(std::string{names[m.kind]} + ":" + m.queue + ":" +
                  m.exchange);
  return out;
}

using strings = std::vector<std::string>;

struct fixture {
  queue_pipeline p{{10}, 100};

  /// Sends what is due and answers the channel.open at once.
  std::vector<queue_method> sends() {
    auto out = p.take_sends();
    if (!out.empty() && out.front().kind == queue_method::open_channel) {
      p.ok(out.front().channel);
      out.erase(out.begin());
      auto more = p.take_sends();
      out.insert(out.end(), more.begin(), more.end());
    }
    return out;
  }

  void ok_times(size_t n) {
    for (size_t i = 0; i < n; ++i)
      p.ok(10);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(pipeline_tests, fixture)

CAF_TEST(a channel is opened before its first operation and only once) {
  p.submit(declare(1, "q", {}));
  auto first = p.take_sends();
  CAF_CHECK_EQUAL(describe(first), strings{"open::"});
  CAF_CHECK(p.take_sends().empty()); // nothing goes before open-ok
  p.ok(10);
  CAF_CHECK_EQUAL(describe(p.take_sends()), strings{"queue:q:"});
  p.submit(declare(2, "r", {}));
  CAF_CHECK_EQUAL(describe(p.take_sends()), strings{"queue:r:"});
}

CAF_TEST(a declaration declares its exchanges then the queue then binds) {
  p.submit(declare(1, "q", {"room.a", "room.b"}));
  CAF_CHECK_EQUAL(describe(sends()),
                  (strings{"exchange:q:room.a", "exchange:q:room.b",
                           "queue:q:", "bind:q:room.a", "bind:q:room.b"}));
}

CAF_TEST(an exchange is declared once per channel) {
  p.submit(declare(1, "q", {"room.a"}));
  p.submit(declare(2, "r", {"room.a"}));
  CAF_CHECK_EQUAL(describe(sends()),
                  (strings{"exchange:q:room.a", "queue:q:", "bind:q:room.a",
                           "queue:r:", "bind:r:room.a"}));
}

CAF_TEST(many requests go out without waiting for any answer) {
  for (uint64_t id = 1; id <= 50; ++id)
    p.submit(declare(id, "q" + std::to_string(id), {}));
  CAF_CHECK_EQUAL(sends().size(), 50u);
  CAF_CHECK(p.take_answers().empty());
  ok_times(50);
  auto a = p.take_answers();
  CAF_REQUIRE_EQUAL(a.size(), 50u);
  CAF_CHECK_EQUAL(a.front(), std::make_pair(uint64_t{1}, true));
  CAF_CHECK_EQUAL(a.back(), std::make_pair(uint64_t{50}, true));
}

CAF_TEST(a declaration is answered only after its last bind is) {
  p.submit(declare(7, "q", {"room.a"}));
  CAF_CHECK_EQUAL(sends().size(), 3u);
  ok_times(2);
  CAF_CHECK(p.take_answers().empty());
  ok_times(1);
  CAF_CHECK_EQUAL(p.take_answers(), (answers{{7, true}}));
  CAF_CHECK_EQUAL(p.pending(), 0u);
}

CAF_TEST(unbinds and deletes are sent without an answer to anyone) {
  p.submit(unbind("q", {"room.a", "room.b"}));
  p.submit(removal("q"));
  CAF_CHECK_EQUAL(describe(sends()),
                  (strings{"unbind:q:room.a", "unbind:q:room.b", "delete:q:"}));
  ok_times(3);
  CAF_CHECK(p.take_answers().empty());
  CAF_CHECK_EQUAL(p.pending(), 0u);
}

CAF_TEST(an unbind of no exchange finishes with the request before it) {
  p.submit(declare(1, "q", {}));
  p.submit(unbind("q", {}));
  p.submit(declare(2, "q", {}));
  CAF_CHECK_EQUAL(describe(sends()), (strings{"queue:q:", "queue:q:"}));
  ok_times(1);
  CAF_CHECK_EQUAL(p.take_answers(), (answers{{1, true}}));
  CAF_CHECK_EQUAL(p.pending(), 1u);
  ok_times(1);
  CAF_CHECK_EQUAL(p.take_answers(), (answers{{2, true}}));
}

CAF_TEST(a failed method fails its request and redoes the ones after it) {
  p.submit(declare(1, "a", {}));
  p.submit(declare(2, "b", {"room.x"}));
  p.submit(declare(3, "c", {"room.x"}));
  p.submit(declare(4, "d", {}));
  CAF_CHECK_EQUAL(sends().size(), 7u);
  ok_times(3);  // a, exchange room.x, queue b
  p.failed(10); // bind b room.x fails; c and d were dropped
  CAF_CHECK_EQUAL(p.take_answers(), (answers{{1, true}, {2, false}}));
  // c and d again, exactly once each, after the channel is reopened (and
  // room.x declared again: the failure may have been its declaration).
  CAF_CHECK_EQUAL(
      describe(sends()),
      (strings{"exchange:c:room.x", "queue:c:", "bind:c:room.x", "queue:d:"}));
  ok_times(4);
  CAF_CHECK_EQUAL(p.take_answers(), (answers{{3, true}, {4, true}}));
  CAF_CHECK_EQUAL(p.pending(), 0u);
}

CAF_TEST(a failure keeps the order of the operations on one queue) {
  p.submit(unbind("q", {"room.a"}));
  p.submit(declare(1, "q", {"room.b"}));
  CAF_CHECK_EQUAL(sends().size(), 4u);
  p.failed(10); // the unbind: nothing to answer, the declaration goes again
  CAF_CHECK(p.take_answers().empty());
  CAF_CHECK_EQUAL(describe(sends()),
                  (strings{"exchange:q:room.b", "queue:q:", "bind:q:room.b"}));
}

CAF_TEST(every request is answered false once when the connection drops) {
  p.submit(declare(1, "a", {}));
  p.submit(declare(2, "b", {}));
  sends();
  ok_times(1);
  p.submit(declare(3, "c", {}));
  p.lost();
  CAF_CHECK_EQUAL(p.take_answers(),
                  (answers{{1, true}, {2, false}, {3, false}}));
  CAF_CHECK_EQUAL(p.pending(), 0u);
  p.lost();
  CAF_CHECK(p.take_answers().empty());
}

CAF_TEST(after a lost connection the channel is opened and declared anew) {
  p.submit(declare(1, "a", {"room.a"}));
  sends();
  ok_times(3);
  p.lost();
  p.submit(declare(2, "b", {"room.a"}));
  CAF_CHECK_EQUAL(describe(p.take_sends()), strings{"open::"});
  p.ok(10);
  CAF_CHECK_EQUAL(describe(p.take_sends()),
                  (strings{"exchange:b:room.a", "queue:b:", "bind:b:room.a"}));
}

CAF_TEST(the window bounds the methods awaiting an answer) {
  queue_pipeline small{{10}, 2};
  for (uint64_t id = 1; id <= 3; ++id)
    small.submit(declare(id, "q" + std::to_string(id), {}));
  CAF_CHECK_EQUAL(small.take_sends().size(), 1u); // open
  small.ok(10);
  CAF_CHECK_EQUAL(small.take_sends().size(), 2u);
  CAF_CHECK(small.take_sends().empty());
  small.ok(10);
  CAF_CHECK_EQUAL(small.take_sends().size(), 1u);
}

CAF_TEST(a request larger than the window still goes alone) {
  queue_pipeline small{{10}, 1};
  small.submit(declare(1, "q", {"a", "b"}));
  small.take_sends();
  small.ok(10);
  CAF_CHECK_EQUAL(small.take_sends().size(), 5u);
}

CAF_TEST(one queue always uses one channel and queues spread over all) {
  queue_pipeline many{{10, 11, 12, 13}, 100};
  std::vector<uint16_t> used;
  for (int i = 0; i < 40; ++i) {
    many.submit(declare(0, "q" + std::to_string(i), {}));
    many.submit(removal("q" + std::to_string(i)));
  }
  auto out = many.take_sends();
  CAF_CHECK_EQUAL(out.size(), 4u); // four channels to open
  for (auto ch : {10, 11, 12, 13})
    many.ok(static_cast<uint16_t>(ch));
  std::map<std::string, std::set<uint16_t>> by_queue;
  for (auto& m : many.take_sends()) {
    used.push_back(m.channel);
    by_queue[m.queue].insert(m.channel);
    CAF_CHECK(many.owns(m.channel));
  }
  CAF_CHECK_EQUAL(used.size(), 80u);
  for (auto& [queue, channels] : by_queue)
    CAF_CHECK_EQUAL(channels.size(), 1u);
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  CAF_CHECK_EQUAL(used.size(), 4u);
  CAF_CHECK(!many.owns(3));
}

CAF_TEST_FIXTURE_SCOPE_END()
