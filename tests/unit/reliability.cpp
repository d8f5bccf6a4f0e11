#define CAF_SUITE reliability

// The registry's promises under faults and floods (issue 11): bindings
// follow the session's rooms, every delivery gets an answer, a moderator
// keeps one order per room, bad input never ends the registry, and memory
// stays bounded.
#include "actors/registry_actor.hpp"

#include "registry_fixture.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

using namespace chatrelay;
using namespace chatrelay::test;
using namespace std::chrono_literals;

namespace {

using ok_atom = caf::atom_constant<caf::atom("ok")>;

struct standby_fixture : registry_fixture {
  standby_fixture()
      : registry_fixture(default_options(), relay_role::standby) {}
};

/// What a moderator was asked; it answers only when the test says so
/// (a response promise is delivered from inside its own actor).
struct held_decisions {
  std::vector<chat_event> asked;
  std::vector<caf::response_promise> promises;
  caf::actor moderator;

  void answer(size_t i, bool pass) { caf::anon_send(moderator, i, pass); }
};

moderator_actor spawn_slow_moderator(caf::actor_system& sys,
                                     std::shared_ptr<held_decisions> held) {
  held->moderator =
      sys.spawn([held](caf::event_based_actor* mod_self) -> caf::behavior {
        return {
            [=](filter_atom, const chat_event& ev) {
              held->asked.push_back(ev);
              held->promises.push_back(mod_self->make_response_promise());
            },
            [=](size_t i, bool pass) { held->promises.at(i).deliver(pass); },
        };
      });
  return caf::actor_cast<moderator_actor>(held->moderator);
}

std::vector<std::string> texts(const std::vector<json>& msgs) {
  std::vector<std::string> result;
  for (auto& m : msgs)
    result.push_back(m["message"]);
  return result;
}

} // namespace

// -- bindings follow the session's rooms --------------------------------------

CAF_TEST_FIXTURE_SCOPE(binding_tests, registry_fixture)

CAF_TEST(a login again on the same queue with fewer rooms unbinds the rest) {
  login("alice", {{"rooms", {"a", "b"}}});
  login("alice", {{"rooms", {"a"}}});
  CAF_REQUIRE_EQUAL(log->unbound.size(), 1u);
  CAF_CHECK_EQUAL(log->unbound[0].queue, "q.alice");
  CAF_CHECK_EQUAL(log->unbound[0].exchanges,
                  std::vector<std::string>{"chat.room.b"});
  // Unbound before the queue is declared again (and the welcome sent).
  CAF_CHECK_EQUAL(log->ops,
                  (std::vector<std::string>{"declare q.alice", "unbind q.alice",
                                            "declare q.alice"}));
  CAF_CHECK_EQUAL(log->declared.back().exchanges,
                  std::vector<std::string>{"chat.room.a"});
}

CAF_TEST(a login again with the same rooms unbinds nothing) {
  login("alice", {{"rooms", {"a", "b"}}});
  login("alice", {{"rooms", {"b", "a"}}});
  CAF_CHECK(log->unbound.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST_FIXTURE_SCOPE(standby_tests, standby_fixture)

CAF_TEST(a standby that takes over unbinds the rooms a session dropped) {
  event({{"event", "login"},
         {"login", "alice"},
         {"queue", "q.alice"},
         {"token", "t1"},
         {"rooms", {"a", "b"}}});
  event({{"event", "login"},
         {"login", "alice"},
         {"queue", "q.alice"},
         {"token", "t1"},
         {"rooms", {"a"}}});
  CAF_CHECK(log->unbound.empty()); // a standby touches no queue
  caf::anon_send(reg, role_atom::value, relay_role::active, uint64_t{2});
  sched.run();
  CAF_REQUIRE_EQUAL(log->unbound.size(), 1u);
  CAF_CHECK_EQUAL(log->unbound[0].exchanges,
                  std::vector<std::string>{"chat.room.b"});
  CAF_CHECK_EQUAL(log->declared.back().exchanges,
                  std::vector<std::string>{"chat.room.a"});
}

CAF_TEST(a chat for a session without an actor is acked with an error) {
  event({{"event", "login"},
         {"login", "alice"},
         {"queue", "q.alice"},
         {"token", "t1"},
         {"rooms", {"main"}}});
  auto tag = chat({{"sender", "alice"}, {"message", "hi"}, {"token", "t1"}});
  CAF_CHECK(acked(tag));
  auto errors = errors_in("q.alice");
  CAF_REQUIRE_EQUAL(errors.size(), 1u);
  CAF_CHECK_EQUAL(errors[0]["code"], "unavailable");
}

CAF_TEST(a bad snapshot leaves the replica as it was) {
  event({{"event", "login"},
         {"login", "alice"},
         {"queue", "q.alice"},
         {"token", "t1"},
         {"rooms", {"main"}}});
  event({{"event", "snapshot"},
         {"for", "*"},
         {"rooms", {{"main", {{"seq", 5}, {"history", json::array()}}}}},
         {"sessions",
          {{{"login", "bob"},
            {"queue", "q.bob"},
            {"token", "t2"},
            {"rooms", {"main"}}},
           {{"login", "carol"}}}}}); // no queue: the snapshot is bad
  CAF_CHECK_EQUAL(presence("main"), std::vector<std::string>{"alice"});
  CAF_CHECK_EQUAL(state().sessions.size(), 1u);
  CAF_CHECK_EQUAL(state().rooms.at("main").seq(), 0u);
}

CAF_TEST(peers not heard from are forgotten) {
  event({{"event", "here"}, {"origin", "relay-b"}});
  event({{"event", "here"}, {"origin", "relay-c"}});
  CAF_CHECK_EQUAL(state().peers.size(), 2u);
  for (int i = 0; i < 3; ++i) {
    sched.advance_time(5s);
    sched.run();
    event({{"event", "here"}, {"origin", "relay-b"}}); // b keeps talking
  }
  sched.advance_time(5s);
  sched.run();
  CAF_REQUIRE_EQUAL(state().peers.size(), 1u);
  CAF_CHECK_EQUAL(state().peers.begin()->first, "relay-b");
  event({{"event", "bye"}, {"origin", "relay-b"}});
  CAF_CHECK(state().peers.empty());
  // Each relay announces itself, so the others keep it.
  auto here = log->bodies("chat.relay.events");
  CAF_CHECK(std::any_of(here.begin(), here.end(), [](const std::string& b) {
    return json::parse(b)["event"] == "here";
  }));
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- every delivery gets an answer; failed queues stop their actor ------------

CAF_TEST_FIXTURE_SCOPE(answer_tests, registry_fixture)

CAF_TEST(a queue that cannot be declared stops its user actor) {
  auto before = sys.registry().running();
  log->declare_ok = false;
  login("alice");
  CAF_CHECK(state().sessions.empty());
  // Only the room's actor is left: rooms outlive their sessions.
  CAF_CHECK_EQUAL(state().room_actors.size(), 1u);
  CAF_CHECK_EQUAL(sys.registry().running(), before + 1);
}

// -- moderation keeps one order per room --------------------------------------

CAF_TEST(later messages of a room wait for the moderator other rooms do not) {
  auto held = std::make_shared<held_decisions>();
  auto mod = spawn_slow_moderator(sys, held);
  caf::anon_send(reg, filter_atom::value, mod);
  sched.run();
  auto token = login("alice", {{"rooms", {"a", "b"}}});
  chat({{"sender", "alice"},
        {"room", "a"},
        {"message", "a1"},
        {"token", token}});
  chat({{"sender", "alice"},
        {"room", "a"},
        {"message", "a2"},
        {"token", token}});
  chat({{"sender", "alice"},
        {"room", "b"},
        {"message", "b1"},
        {"token", token}});
  // a2 waits behind a1; b is not held up by a.
  CAF_REQUIRE_EQUAL(held->asked.size(), 2u);
  CAF_CHECK_EQUAL(held->asked[0].text, "a1");
  CAF_CHECK_EQUAL(held->asked[1].text, "b1");
  held->answer(1, true); // out of order: b first
  sched.run();
  CAF_CHECK_EQUAL(texts(in_room("b", "message")),
                  std::vector<std::string>{"b1"});
  CAF_CHECK(in_room("a", "message").empty());
  held->answer(0, true);
  sched.run();
  CAF_REQUIRE_EQUAL(held->asked.size(), 3u);
  CAF_CHECK_EQUAL(held->asked[2].text, "a2");
  held->answer(2, true);
  sched.run();
  auto a = in_room("a", "message");
  CAF_CHECK_EQUAL(texts(a), (std::vector<std::string>{"a1", "a2"}));
  CAF_CHECK_EQUAL(a[0]["id"], id(1));
  CAF_CHECK_EQUAL(a[1]["id"], id(2));
  caf::anon_send_exit(mod, caf::exit_reason::user_shutdown);
}

CAF_TEST(a redelivery during moderation is stamped once) {
  auto held = std::make_shared<held_decisions>();
  auto mod = spawn_slow_moderator(sys, held);
  caf::anon_send(reg, filter_atom::value, mod);
  sched.run();
  auto token = login("alice");
  json body{
      {"sender", "alice"}, {"message", "hi"}, {"cid", "c1"}, {"token", token}};
  auto first = chat(body);
  auto again = chat(body); // redelivered while the moderator decides
  CAF_REQUIRE_EQUAL(held->asked.size(), 1u);
  held->answer(0, true);
  sched.run();
  CAF_CHECK_EQUAL(held->asked.size(), 1u); // not asked twice
  auto msgs = in_room("main", "message");
  CAF_REQUIRE_EQUAL(msgs.size(), 2u); // published again, same id
  CAF_CHECK_EQUAL(msgs[0]["id"], id(1));
  CAF_CHECK_EQUAL(msgs[1]["id"], id(1));
  CAF_CHECK_EQUAL(state().rooms.at("main").seq(), id(1));
  CAF_CHECK(acked(first));
  CAF_CHECK(acked(again));
  caf::anon_send_exit(mod, caf::exit_reason::user_shutdown);
}

CAF_TEST(a moderator that never answers lets the room go on after 2 s) {
  auto held = std::make_shared<held_decisions>();
  auto mod = spawn_slow_moderator(sys, held);
  caf::anon_send(reg, filter_atom::value, mod);
  sched.run();
  auto token = login("alice");
  chat({{"sender", "alice"}, {"message", "m1"}, {"token", token}});
  chat({{"sender", "alice"}, {"message", "m2"}, {"token", token}});
  CAF_CHECK(in_room("main", "message").empty());
  sched.advance_time(2s); // m1 times out: fails open
  sched.run();
  CAF_CHECK_EQUAL(texts(in_room("main", "message")),
                  std::vector<std::string>{"m1"});
  held->answer(0, false); // too late: ignored
  sched.advance_time(2s);
  sched.run();
  auto msgs = in_room("main", "message");
  CAF_CHECK_EQUAL(texts(msgs), (std::vector<std::string>{"m1", "m2"}));
  CAF_CHECK_EQUAL(msgs.back()["id"], id(2));
  caf::anon_send_exit(mod, caf::exit_reason::user_shutdown);
}

// -- bad input never ends the registry ----------------------------------------

CAF_TEST(an inject with invalid utf8 is refused and the registry serves on) {
  login("alice");
  caf::anon_send(
      reg, inject_atom::value,
      chat_event{event_kind::message, 0, 0, "main", "bot", "", "a\xff", ""});
  caf::anon_send(
      reg, inject_atom::value,
      chat_event{event_kind::message, 0, 0, "main", "b\xc3", "", "text", ""});
  caf::anon_send(reg, inject_atom::value,
                 chat_event{event_kind::message, 0, 0, "bad room!", "bot", "",
                            "text", ""});
  sched.run();
  CAF_CHECK(in_room("main", "message").empty());
  CAF_CHECK_EQUAL(errors("bad_utf8"), 2.0);
  CAF_CHECK_EQUAL(errors("bad_room"), 1.0);
  CAF_CHECK_EQUAL(presence("main"), std::vector<std::string>{"alice"});
  caf::anon_send(
      reg, inject_atom::value,
      chat_event{event_kind::message, 0, 0, "main", "bot", "", "fine", ""});
  sched.run();
  CAF_CHECK_EQUAL(texts(in_room("main", "message")),
                  std::vector<std::string>{"fine"});
}

// -- memory stays bounded -----------------------------------------------------

CAF_TEST(rooms nobody is in are forgotten beyond a bound and ids never repeat) {
  auto say = [&](const std::string& room) {
    caf::anon_send(
        reg, inject_atom::value,
        chat_event{event_kind::message, 0, 0, room, "bot", "", "x", ""});
  };
  say("r0");
  say("r0");
  sched.run();
  auto first = in_room("r0", "message");
  CAF_REQUIRE_EQUAL(first.size(), 2u);
  CAF_CHECK_EQUAL(first.back()["id"], id(2));
  for (int i = 1; i <= 5000; ++i) {
    say("r" + std::to_string(i));
    if (i % 500 == 0) sched.run();
  }
  sched.run();
  CAF_CHECK_LESS_OR_EQUAL(state().rooms.size(), 2001u);
  CAF_CHECK_EQUAL(state().rooms.count("r0"), 0u); // forgotten
  say("r0");
  sched.run();
  auto again = in_room("r0", "message");
  CAF_REQUIRE_EQUAL(again.size(), 3u);
  CAF_CHECK_GREATER(again.back()["id"].get<uint64_t>(), id(2));
}

CAF_TEST(the cid window keeps ids and only events still in history) {
  auto token = login("alice"); // history-size 3
  for (int i = 0; i < 10; ++i)
    chat({{"sender", "alice"},
          {"message", "m" + std::to_string(i)},
          {"cid", "c" + std::to_string(i)},
          {"token", token}});
  auto& room = state().rooms.at("main");
  CAF_CHECK_EQUAL(room.history().size(), 3u);
  CAF_CHECK_EQUAL(room.recent().size(), 10u);
  auto published = in_room("main", "message").size();
  // The latest one: published again as it was, with its id.
  chat({{"sender", "alice"},
        {"message", "m9"},
        {"cid", "c9"},
        {"token", token}});
  auto msgs = in_room("main", "message");
  CAF_REQUIRE_EQUAL(msgs.size(), published + 1);
  CAF_CHECK_EQUAL(msgs.back()["id"], id(10));
  CAF_CHECK_EQUAL(room.seq(), id(10));
  // An old cid whose event left history: never dropped (its first publish
  // may be what was lost), but stamped again above the room's latest id,
  // with the same cid, so nobody gets a lower id after a higher one.
  auto old = chat({{"sender", "alice"},
                   {"message", "m0"},
                   {"cid", "c0"},
                   {"token", token}});
  CAF_CHECK(acked(old));
  msgs = in_room("main", "message");
  CAF_REQUIRE_EQUAL(msgs.size(), published + 2);
  CAF_CHECK_EQUAL(msgs.back()["id"], id(11));
  CAF_CHECK_EQUAL(msgs.back()["cid"], "c0");
  CAF_CHECK_EQUAL(msgs.back()["message"], "m0");
  CAF_CHECK_EQUAL(room.recent().size(), 10u);
  CAF_CHECK_EQUAL(room.recent().at("alice\nc0"), id(11));
}

CAF_TEST(an observer that does not keep up misses events instead of growing) {
  // An observer that never finishes an event (it keeps each as a promise).
  auto stuck = std::make_shared<std::vector<caf::response_promise>>();
  auto obs =
      sys.spawn([stuck](caf::event_based_actor* obs_self) -> caf::behavior {
        return {
            [=](event_atom, const chat_event&) {
              stuck->push_back(obs_self->make_response_promise());
            },
            [=](ok_atom) { // catch up
              for (auto& rp : *stuck)
                rp.deliver(caf::unit);
            },
        };
      });
  caf::anon_send(reg, subscribe_atom::value,
                 caf::actor_cast<observer_actor>(obs));
  sched.run();
  for (int i = 0; i < 1500; ++i) {
    caf::anon_send(
        reg, inject_atom::value,
        chat_event{event_kind::message, 0, 0, "main", "bot", "", "x", ""});
    if (i % 100 == 0) sched.run();
  }
  sched.run();
  CAF_CHECK_EQUAL(stuck->size(), 1000u);
  CAF_CHECK_EQUAL(in_room("main", "message").size(), 1500u);
  CAF_CHECK_EQUAL(errors("observer_behind"), 500.0);
  // Once it catches up, it gets events again.
  caf::anon_send(obs, ok_atom::value);
  sched.run();
  caf::anon_send(
      reg, inject_atom::value,
      chat_event{event_kind::message, 0, 0, "main", "bot", "", "x", ""});
  sched.run();
  CAF_CHECK_EQUAL(stuck->size(), 1001u);
  caf::anon_send_exit(obs, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
