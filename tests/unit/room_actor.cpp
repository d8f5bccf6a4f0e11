#define CAF_SUITE room_actor

#include "actors/room_actor.hpp"

#include "registry_fixture.hpp"

using namespace chatrelay;
using namespace chatrelay::test;

namespace {

/// The group commit alone: batches are not paced (relay.batch-linger 0; the
/// linger has tests of its own in unit.batcher).
relay_options group_commit_options() {
  auto o = default_options();
  o.batch_linger = caf::timespan{0};
  return o;
}

struct room_fixture : registry_fixture {
  explicit room_fixture(relay_options opts = group_commit_options())
      : registry_fixture(std::move(opts)) {}

  /// The `batch` events published to a room's batch exchange.
  std::vector<json> batches_in(const std::string& room) {
    std::vector<json> result;
    for (auto& j : parse_all(log->bodies("chat.room." + room + ".batch")))
      if (j["type"] == "batch") result.push_back(j);
    return result;
  }

  /// The broker confirms the publishes it holds.
  void confirm() {
    caf::anon_send(broker, done_atom::value, uint64_t{0}, true);
    sched.run();
  }

  /// The chat messages the room actors replicated to other relays.
  size_t replicated() {
    size_t n = 0;
    for (auto& j : parse_all(log->bodies("chat.relay.events")))
      n += j["event"] == "message" ? 1 : 0;
    return n;
  }

  void say(const std::string& token, const std::string& text) {
    chat({{"sender", "alice"},
          {"message", text},
          {"token", token},
          {"cid", "c-" + text}});
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(room_actor_tests, room_fixture)

CAF_TEST(
    a batching session is bound to the batch exchange and others are not ) {
  login("alice", {{"batch", true}});
  login("bob");
  CAF_REQUIRE_EQUAL(log->declared.size(), 2u);
  CAF_CHECK_EQUAL(log->declared[0].exchanges,
                  std::vector<std::string>{"chat.room.main.batch"});
  CAF_CHECK_EQUAL(log->declared[1].exchanges,
                  std::vector<std::string>{"chat.room.main"});
  // Join and leave reach both audiences, alone.
  CAF_CHECK_EQUAL(in_room("main", "join").size(), 2u);
  auto joins = parse_all(log->bodies("chat.room.main.batch"));
  CAF_REQUIRE_EQUAL(joins.size(), 2u);
  CAF_CHECK_EQUAL(joins[1]["type"], "join");
  CAF_CHECK_EQUAL(joins[1]["login"], "bob");
}

CAF_TEST(messages while a batch is unconfirmed go out as one batch in order) {
  auto token = login("alice", {{"batch", true}});
  login("bob");
  log->hold_confirms = true;
  for (auto text : {"one", "two", "three"})
    say(token, text);
  // An idle room publishes at once: a batch of one; the rest waits for its
  // confirm. Single messages never wait.
  auto singles = in_room("main", "message");
  CAF_REQUIRE_EQUAL(singles.size(), 3u);
  auto frames = batches_in("main");
  CAF_REQUIRE_EQUAL(frames.size(), 1u);
  CAF_CHECK_EQUAL(frames[0]["messages"].size(), 1u);
  confirm();
  frames = batches_in("main");
  CAF_REQUIRE_EQUAL(frames.size(), 2u);
  CAF_CHECK_EQUAL(frames[1]["type"], "batch");
  CAF_CHECK_EQUAL(frames[1]["room"], "main");
  // Every message exactly once, in order, each element exactly the single
  // message event (same id).
  std::vector<json> batched;
  for (auto& f : frames)
    for (auto& m : f["messages"])
      batched.push_back(m);
  CAF_REQUIRE_EQUAL(batched.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    CAF_CHECK_EQUAL(batched[i], singles[i]);
    CAF_CHECK_EQUAL(batched[i]["id"], id(i + 1));
  }
  // Nothing left: the last batch's confirm sends nothing more.
  confirm();
  CAF_CHECK_EQUAL(batches_in("main").size(), 2u);
}

CAF_TEST(a resent message is published again and never batched twice) {
  auto token = login("alice", {{"batch", true}});
  say(token, "one");
  say(token, "one"); // the same cid: the republish rule, same id
  auto singles = in_room("main", "message");
  CAF_REQUIRE_EQUAL(singles.size(), 2u);
  CAF_CHECK_EQUAL(singles[0]["id"], singles[1]["id"]);
  std::vector<uint64_t> ids;
  for (auto& f : batches_in("main"))
    for (auto& m : f["messages"])
      ids.push_back(m["id"]);
  // Republished as it was: clients drop what they already have by id.
  CAF_CHECK_EQUAL(ids, (std::vector<uint64_t>{id(1), id(1)}));
}

CAF_TEST(the registry keeps a copy of every id the room actor stamps) {
  auto token = login("alice");
  say(token, "one");
  say(token, "two");
  auto& copy = state().rooms.at("main");
  CAF_CHECK_EQUAL(copy.seq(), id(2));
  CAF_CHECK_EQUAL(copy.history().size(), 2u);
  // A late login's welcome replays them from that copy.
  login("bob");
  auto welcome = in_queue("q.bob").at(0);
  CAF_CHECK_EQUAL(welcome["history"]["main"].size(), 2u);
}

CAF_TEST(a room replicates its messages exactly while other relays listen) {
  auto token = login("alice"); // the room's actor starts: nobody listens
  say(token, "alone");
  CAF_CHECK_EQUAL(replicated(), 0u);
  event({{"event", "here"}, {"origin", "relay-b"}});
  say(token, "heard");
  CAF_CHECK_EQUAL(replicated(), 1u);
  event({{"event", "bye"}, {"origin", "relay-b"}});
  say(token, "alone again");
  CAF_CHECK_EQUAL(replicated(), 1u);
  CAF_CHECK_EQUAL(in_room("main", "message").size(), 3u);
}

CAF_TEST(a retired room publishes and acks what was posted before it quits) {
  auto token = login("alice");
  auto room = state().room_actors.at("main");
  self->monitor(room);
  // Two posts and the retirement in the room's mailbox, in this order.
  caf::anon_send(room, post_atom::value,
                 chat_request{"alice", "one", token, "main", "", "c1"},
                 ack_ref{41, 1, delivery_source::chat}, true);
  caf::anon_send(room, post_atom::value,
                 chat_request{"alice", "two", token, "main", "", "c2"},
                 ack_ref{42, 1, delivery_source::chat}, true);
  caf::anon_send(room, retire_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(in_room("main", "message").size(), 2u);
  CAF_CHECK(acked(41) && acked(42));
  bool down = false;
  self->receive([&](const caf::down_msg& m) { down = m.source == room; },
                caf::after(std::chrono::seconds(0)) >> [] {});
  CAF_CHECK(down);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

/// The relay's defaults, linger included.
struct paced_fixture : room_fixture {
  paced_fixture() : room_fixture(default_options()) {}
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(room_pacing_tests, paced_fixture)

CAF_TEST(with the default linger a quiet room publishes at once and a busy one
             paces its batches) {
  auto token = login("alice", {{"batch", true}});
  login("bob");
  say(token, "one");
  CAF_CHECK_EQUAL(batches_in("main").size(), 1u); // quiet: at once
  say(token, "two");
  say(token, "three");
  // Busy (confirmed, but the last batch is younger than the linger): the
  // two wait and go as one. Single messages never wait.
  CAF_CHECK_EQUAL(batches_in("main").size(), 1u);
  CAF_CHECK_EQUAL(in_room("main", "message").size(), 3u);
  sched.advance_time(
      std::chrono::duration_cast<caf::timespan>(defaults::batch::linger));
  sched.run();
  auto frames = batches_in("main");
  CAF_REQUIRE_EQUAL(frames.size(), 2u);
  CAF_CHECK_EQUAL(frames[1]["messages"].size(), 2u);
}

CAF_TEST(a busy room arms one linger timer per batch not one per message) {
  auto token = login("alice", {{"batch", true}});
  say(token, "one"); // quiet: at once
  say(token, "two"); // held: the timer is armed
  auto pending = sched.clock().schedule().size();
  say(token, "three");
  say(token, "four");
  CAF_CHECK_EQUAL(sched.clock().schedule().size(), pending);
  sched.advance_time(
      std::chrono::duration_cast<caf::timespan>(defaults::batch::linger));
  sched.run();
  auto frames = batches_in("main");
  CAF_REQUIRE_EQUAL(frames.size(), 2u);
  CAF_CHECK_EQUAL(frames[1]["messages"].size(), 3u);
}

CAF_TEST_FIXTURE_SCOPE_END()
