#define CAF_SUITE user

// The user actor as a specification: one session, alone with a broker, two
// room actors and the registry (stand-ins that record what they are told).

#include "actors/user_actor.hpp"

#include "mock_broker.hpp"
#include "test.hpp"

#include <nlohmann/json.hpp>

using namespace chatrelay;
using namespace chatrelay::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// What the room actors and the registry were told.
struct told_log {
  struct post {
    std::string room_actor; ///< which stand-in got it
    chat_request req;
    ack_ref ack;
    bool moderate;
  };
  std::vector<post> posts;
  std::vector<chat_request> directs;
  std::vector<ack_ref> direct_acks;
  std::vector<bool> ready;
  std::vector<std::string> expired;
};

room_actor::behavior_type recording_room(room_actor::pointer self,
                                         std::string name,
                                         std::shared_ptr<told_log> log) {
  return {
      [=](post_atom, chat_request& req, ack_ref ack, bool moderate) {
        log->posts.push_back({name, std::move(req), ack, moderate});
      },
      [](peers_atom, bool) {},
      [](filter_atom, moderator_actor&) {},
      [=](retire_atom) { self->quit(); },
      [](tick_atom) {},
  };
}

session_listener_actor::behavior_type
recording_registry(std::shared_ptr<told_log> log) {
  return {
      [=](ready_atom, const std::string&, uint64_t, bool ok) {
        log->ready.push_back(ok);
      },
      [=](expire_atom, const std::string& login, uint64_t) {
        log->expired.push_back(login);
      },
      [=](direct_atom, chat_request& req, const ack_ref& ack) {
        log->directs.push_back(std::move(req));
        log->direct_acks.push_back(ack);
      },
  };
}

struct user_fixture : test_coordinator_fixture<test::config> {
  std::shared_ptr<broker_log> broker_calls = std::make_shared<broker_log>();
  std::shared_ptr<told_log> told = std::make_shared<told_log>();
  broker_actor broker = sys.spawn(mock_broker, broker_calls);
  session_listener_actor registry = sys.spawn(recording_registry, told);
  user_actor alice;
  std::vector<room_actor> room_stubs; ///< every stand-in spawned
  uint64_t next_tag = 1;

  /// alice's session in `names` ("main" is the default room).
  user_config config(std::vector<std::string> names = {"main", "dev"}) {
    user_config c;
    c.login = "alice";
    c.queue = "q.alice";
    c.session = 1;
    for (auto& room : names) {
      room_stubs.push_back(sys.spawn(recording_room, room, told));
      c.rooms.emplace(room, room_stubs.back());
      c.exchanges.push_back("chat.room." + room);
    }
    c.default_room = "main";
    c.registry = registry;
    c.broker = broker;
    c.keepalive = 10s;
    c.rate = 1;
    c.burst = 3;
    return c;
  }

  void start(user_config session) {
    alice = sys.spawn(user, std::move(session));
    sched.run();
  }

  user_fixture() { start(config()); }

  ~user_fixture() {
    std::vector<caf::actor> all{caf::actor_cast<caf::actor>(alice),
                                caf::actor_cast<caf::actor>(broker),
                                caf::actor_cast<caf::actor>(registry)};
    for (auto& r : room_stubs)
      all.push_back(caf::actor_cast<caf::actor>(r));
    for (auto& h : all)
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// Hands alice a chat message; returns the delivery tag to ack.
  uint64_t chat(std::string room, std::string text, std::string to = {}) {
    auto tag = next_tag++;
    chat_request req{"alice",       std::move(text),
                     "token",       std::move(room),
                     std::move(to), "c" + std::to_string(tag)};
    caf::anon_send(alice, chat_atom::value, std::move(req),
                   ack_ref{tag, 1, delivery_source::chat});
    sched.run();
    return tag;
  }

  /// The errors published to alice's queue, and the tag each batch acked.
  std::vector<std::pair<std::string, uint64_t>> refusals() {
    std::vector<std::pair<std::string, uint64_t>> result;
    for (auto& b : broker_calls->batches)
      for (auto& m : b.messages)
        if (m.routing_key == "q.alice")
          result.emplace_back(json::parse(m.body)["code"], b.ack_tag);
    return result;
  }
};

} // namespace

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

CAF_TEST_FIXTURE_SCOPE(user_tests, user_fixture)

CAF_TEST(a session binds its queue to exactly its rooms and reports ready) {
  CAF_REQUIRE_EQUAL(broker_calls->declared.size(), 1u);
  CAF_CHECK_EQUAL(broker_calls->declared[0].queue, "q.alice");
  CAF_CHECK_EQUAL(
      broker_calls->declared[0].exchanges,
      (std::vector<std::string>{"chat.room.main", "chat.room.dev"}));
  CAF_CHECK_EQUAL(told->ready, std::vector<bool>{true});
}

CAF_TEST(what an earlier session on the queue had is unbound first) {
  auto session = config({"main"});
  session.unbind = {"chat.room.old"};
  start(std::move(session));
  CAF_CHECK_EQUAL(broker_calls->ops,
                  (std::vector<std::string>{"declare q.alice", "unbind q.alice",
                                            "declare q.alice"}));
  CAF_CHECK_EQUAL(broker_calls->unbound.at(0).exchanges,
                  std::vector<std::string>{"chat.room.old"});
}

CAF_TEST(a queue that cannot be declared is reported) {
  broker_calls->declare_ok = false;
  start(config());
  CAF_CHECK_EQUAL(told->ready, (std::vector<bool>{true, false}));
}

CAF_TEST(a message goes to the room it names with what to ack) {
  auto tag = chat("dev", "hi");
  CAF_REQUIRE_EQUAL(told->posts.size(), 1u);
  auto& p = told->posts[0];
  CAF_CHECK_EQUAL(p.room_actor, "dev");
  CAF_CHECK_EQUAL(p.req.room, "dev");
  CAF_CHECK_EQUAL(p.req.message, "hi");
  CAF_CHECK_EQUAL(p.ack.tag, tag);
  CAF_CHECK(p.moderate);
  // The room publishes and acks it: the user actor publishes nothing.
  CAF_CHECK(broker_calls->batches.empty());
}

CAF_TEST(a message naming no room goes to the default room) {
  chat("", "seed style");
  CAF_REQUIRE_EQUAL(told->posts.size(), 1u);
  CAF_CHECK_EQUAL(told->posts[0].room_actor, "main");
  CAF_CHECK_EQUAL(told->posts[0].req.room, "main");
}

CAF_TEST(without the default room a message naming none goes to the first) {
  start(config({"ops", "dev"}));
  chat("", "hi");
  CAF_REQUIRE_EQUAL(told->posts.size(), 1u);
  CAF_CHECK_EQUAL(told->posts[0].room_actor, "dev"); // rooms are sorted
}

CAF_TEST(a message to a room the session is not in is refused and acked) {
  auto tag = chat("elsewhere", "hi");
  CAF_CHECK(told->posts.empty());
  auto refused = refusals();
  CAF_REQUIRE_EQUAL(refused.size(), 1u);
  CAF_CHECK_EQUAL(refused[0].first, "not_in_room");
  CAF_CHECK_EQUAL(refused[0].second, tag); // the answer acks the delivery
}

CAF_TEST(past the burst each message is refused and acked then the rate) {
  for (int i = 0; i < 5; ++i)
    chat("main", "x");
  CAF_CHECK_EQUAL(told->posts.size(), 3u); // the burst
  auto refused = refusals();
  CAF_REQUIRE_EQUAL(refused.size(), 2u);
  CAF_CHECK_EQUAL(refused[0],
                  std::make_pair(std::string{"rate_limited"}, uint64_t{4}));
  CAF_CHECK_EQUAL(refused[1].second, 5u);
  sched.advance_time(1s); // one more token at 1 per second
  sched.run();
  chat("main", "y");
  CAF_CHECK_EQUAL(told->posts.size(), 4u);
}

CAF_TEST(a direct message goes to the registry with what to ack) {
  auto tag = chat("", "psst", "bob");
  CAF_CHECK(told->posts.empty());
  CAF_REQUIRE_EQUAL(told->directs.size(), 1u);
  CAF_CHECK_EQUAL(told->directs[0].to, "bob");
  CAF_CHECK_EQUAL(told->direct_acks[0].tag, tag);
}

CAF_TEST(direct messages count against the rate limit too) {
  for (int i = 0; i < 4; ++i)
    chat("", "psst", "bob");
  CAF_CHECK_EQUAL(told->directs.size(), 3u);
  CAF_CHECK_EQUAL(refusals().size(), 1u);
}

CAF_TEST(a silent session expires and a ping or a chat keeps it alive) {
  sched.advance_time(6s);
  sched.run();
  caf::anon_send(alice, ping_atom::value);
  sched.run();
  sched.advance_time(6s);
  sched.run();
  chat("main", "still here");
  sched.advance_time(6s);
  sched.run();
  CAF_CHECK(told->expired.empty());
  sched.advance_time(5s);
  sched.run();
  CAF_CHECK_EQUAL(told->expired, std::vector<std::string>{"alice"});
}

CAF_TEST(a logout deletes the queue or keeps it as told) {
  caf::anon_send(alice, logout_atom::value, false);
  sched.run();
  CAF_CHECK(broker_calls->deleted.empty());
  start(config());
  caf::anon_send(alice, logout_atom::value, true);
  sched.run();
  CAF_CHECK_EQUAL(broker_calls->deleted, std::vector<std::string>{"q.alice"});
}

CAF_TEST_FIXTURE_SCOPE_END()
