#define CAF_SUITE embedding

// The embedding API as a program uses it: observe, inject, presence, status
// and stop through the registry's typed interface (deterministic, with the
// mock broker), and spawn_relay and the relay handle on a real actor system.
#include "chatrelay/relay.hpp"

#include "actors/facade_actor.hpp"
#include "actors/registry_actor.hpp"
#include "chatrelay/internal/logging.hpp"
#include "chatrelay/internal/relay_access.hpp"
#include "mock_broker.hpp"
#include "test.hpp"

#include <caf/scoped_actor.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <thread>

// An embedder's own type ID block, as docs/embedding.md shows it: it starts at
// first_free_type_id and may register standard types. Before, the relay's
// public block registered std::vector<std::string> too, and this did not
// compile (redefinition of caf::type_id<std::vector<std::string>>).
CAF_BEGIN_TYPE_ID_BLOCK(embedder_test, ::chatrelay::first_free_type_id)
CAF_ADD_TYPE_ID(embedder_test, (std::vector<std::string>))
CAF_END_TYPE_ID_BLOCK(embedder_test)

using namespace chatrelay;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// What a test observer has seen.
struct seen_events {
  std::vector<chat_event> events;

  std::vector<chat_event> of(event_kind kind) const {
    std::vector<chat_event> result;
    for (auto& ev : events)
      if (ev.kind == kind) result.push_back(ev);
    return result;
  }
};

observer_actor::behavior_type recorder(observer_actor::pointer,
                                       std::shared_ptr<seen_events> seen) {
  return {
      [=](event_atom, const chat_event& ev) { seen->events.push_back(ev); }};
}

struct fixture : test_coordinator_fixture<test::config> {
  std::shared_ptr<test::broker_log> log = std::make_shared<test::broker_log>();
  std::shared_ptr<relay_metrics> metrics = std::make_shared<relay_metrics>();
  std::shared_ptr<seen_events> seen = std::make_shared<seen_events>();
  broker_actor broker;
  registry_actor reg;
  observer_actor observer;
  uint64_t next_tag = 1;

  fixture() {
    relay_options opts;
    opts.id = "embedded";
    opts.rate_burst = 100;
    broker = sys.spawn(test::mock_broker, log);
    reg = sys.spawn(registry, opts, broker, metrics);
    observer = sys.spawn(recorder, seen);
    sched.run();
    caf::anon_send(reg, role_atom::value, relay_role::active, uint64_t{1});
    caf::anon_send(reg, subscribe_atom::value, observer);
    sched.run();
  }

  ~fixture() {
    caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(broker, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(observer, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void deliver(delivery_source src, const json& body) {
    caf::anon_send(reg, delivery_atom::value,
                   delivery{src, next_tag++, 1, false, body.dump()});
    sched.run();
  }

  /// Logs `name` in to `rooms`; returns the session token.
  std::string login(const std::string& name,
                    std::vector<std::string> rooms = {"main"}) {
    deliver(delivery_source::login, {{"action", "login"},
                                     {"login", name},
                                     {"queue", "q." + name},
                                     {"rooms", rooms}});
    for (auto& body : log->bodies("", "q." + name)) {
      auto j = json::parse(body);
      if (j["type"] == "welcome") return j["token"];
    }
    CAF_FAIL("no welcome for " << name);
    return {};
  }

  void logout(const std::string& name, const std::string& token) {
    deliver(delivery_source::login,
            {{"action", "logout"}, {"login", name}, {"token", token}});
  }

  void speak(chat_event ev) {
    caf::anon_send(reg, inject_atom::value, std::move(ev));
    sched.run();
  }

  /// Room messages published to the broker, as JSON.
  std::vector<json> published(const std::string& room) {
    std::vector<json> result;
    for (auto& body : log->bodies("chat.room." + room)) {
      auto j = json::parse(body);
      if (j["type"] == "message") result.push_back(j);
    }
    return result;
  }

  std::vector<std::string> presence(const std::string& room) {
    std::vector<std::string> result;
    self->send(reg, presence_atom::value, room);
    sched.run();
    self->receive([&](std::vector<std::string>& xs) { result = xs; },
                  caf::after(0s) >> [] { CAF_FAIL("no presence reply"); });
    return result;
  }

  /// The first message id of the active term (ids start at a time floor).
  uint64_t id0() {
    return deref<registry_actor::stateful_base<registry_state>>(reg)
        .state.id_floor;
  }

  relay_role status() {
    auto result = relay_role::disconnected;
    self->send(reg, status_atom::value);
    sched.run();
    self->receive([&](relay_role r) { result = r; },
                  caf::after(0s) >> [] { CAF_FAIL("no status reply"); });
    return result;
  }
};

chat_event say(std::string room, std::string sender, std::string text) {
  chat_event ev;
  ev.room = std::move(room);
  ev.sender = std::move(sender);
  ev.text = std::move(text);
  return ev;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(embedding_tests, fixture)

CAF_TEST(an observer sees every login message and logout in order) {
  auto token = login("alice");
  deliver(delivery_source::chat,
          {{"sender", "alice"}, {"message", "hi"}, {"token", token}});
  logout("alice", token);
  CAF_REQUIRE_EQUAL(seen->events.size(), 3u);
  CAF_CHECK_EQUAL(seen->events[0].kind, event_kind::join);
  CAF_CHECK_EQUAL(seen->events[0].sender, "alice");
  CAF_CHECK_EQUAL(seen->events[1].kind, event_kind::message);
  CAF_CHECK_EQUAL(seen->events[1].text, "hi");
  CAF_CHECK_EQUAL(seen->events[1].id, id0());
  CAF_CHECK(seen->events[1].ts > 0);
  CAF_CHECK_EQUAL(seen->events[2].kind, event_kind::leave);
  CAF_CHECK_EQUAL(seen->events[2].text, "logout");
}

CAF_TEST(every subscribed observer gets each event once) {
  auto second = std::make_shared<seen_events>();
  auto other = sys.spawn(recorder, second);
  caf::anon_send(reg, subscribe_atom::value, other);
  sched.run();
  login("alice");
  CAF_CHECK_EQUAL(seen->events.size(), 1u);
  CAF_CHECK_EQUAL(second->events.size(), 1u);
  caf::anon_send_exit(other, caf::exit_reason::user_shutdown);
  sched.run();
}

CAF_TEST(an injected message is stamped and published to its room) {
  login("alice");
  speak(say("main", "bot", "beep"));
  auto msgs = published("main");
  CAF_REQUIRE_EQUAL(msgs.size(), 1u);
  CAF_CHECK_EQUAL(msgs[0]["sender"], "bot");
  CAF_CHECK_EQUAL(msgs[0]["message"], "beep");
  CAF_CHECK_EQUAL(msgs[0]["id"], id0());
  // Observers (e.g. the bot itself) see it too, stamped.
  auto ev = seen->of(event_kind::message);
  CAF_REQUIRE_EQUAL(ev.size(), 1u);
  CAF_CHECK_EQUAL(ev[0].id, id0());
}

CAF_TEST(an injected message without a room goes to the default room) {
  speak(say("", "bot", "to nowhere"));
  CAF_CHECK_EQUAL(published("main").size(), 1u);
  // Checked like a user's message: an invalid room name is refused.
  speak(say("bad room!", "bot", "to a bad name"));
  CAF_CHECK_EQUAL(published("main").size(), 1u);
}

CAF_TEST(the facade answers the public interface) {
  auto relay = sys.spawn(facade, reg, broker);
  sched.run();
  login("alice");
  self->send(relay, presence_atom::value, std::string{"main"});
  sched.run();
  self->receive(
      [](room_users& users) {
        CAF_CHECK_EQUAL(users.room, "main");
        CAF_CHECK_EQUAL(users.logins, std::vector<std::string>{"alice"});
      },
      caf::after(0s) >> [] { CAF_FAIL("no presence reply"); });
  self->send(relay, status_atom::value);
  sched.run();
  self->receive([](relay_role r) { CAF_CHECK_EQUAL(r, relay_role::active); },
                caf::after(0s) >> [] { CAF_FAIL("no status reply"); });
  caf::anon_send(relay, inject_atom::value, say("main", "bot", "via facade"));
  sched.run();
  auto msgs = published("main");
  CAF_REQUIRE_EQUAL(msgs.size(), 1u);
  CAF_CHECK_EQUAL(msgs[0]["message"], "via facade");
}

CAF_TEST(the facade ignores internal messages of the registry) {
  auto relay = sys.spawn(facade, reg, broker);
  sched.run();
  auto token = login("alice");
  auto batches = log->batches.size();
  // What a remote peer could send through the published handle, typed or
  // not: none of it reaches the registry.
  auto untyped = caf::actor_cast<caf::actor>(relay);
  chat_request forged{"mallory", "forged", "", "main", "", "c1"};
  caf::anon_send(untyped, direct_atom::value, forged,
                 ack_ref{7, 1, delivery_source::chat});
  caf::anon_send(
      untyped, delivery_atom::value,
      delivery{
          delivery_source::chat, 8, 1, false,
          json{{"sender", "alice"}, {"message", "forged"}, {"token", token}}
              .dump()});
  caf::anon_send(untyped, expire_atom::value, std::string{"alice"},
                 uint64_t{1});
  caf::anon_send(untyped, role_atom::value, relay_role::standby, uint64_t{9});
  caf::anon_send_exit(untyped, caf::exit_reason::user_shutdown);
  sched.run();
  CAF_CHECK_EQUAL(log->batches.size(), batches); // nothing stamped or acked
  CAF_CHECK(published("main").empty());
  CAF_CHECK_EQUAL(presence("main"), std::vector<std::string>{"alice"});
  CAF_CHECK_EQUAL(status(), relay_role::active);
  // The facade is still there and answers.
  self->send(relay, status_atom::value);
  sched.run();
  self->receive([](relay_role r) { CAF_CHECK_EQUAL(r, relay_role::active); },
                caf::after(0s) >> [] { CAF_FAIL("the facade is gone"); });
}

CAF_TEST(a killed facade leaves the relay running) {
  // exit_reason::kill cannot be trapped: a remote peer could send it.
  auto relay = sys.spawn(facade, reg, broker);
  sched.run();
  caf::anon_send_exit(relay, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK_EQUAL(status(), relay_role::active);
}

CAF_TEST(the facade goes down when the registry fails) {
  auto relay = sys.spawn(facade, reg, broker);
  sched.run();
  self->monitor(relay);
  self->monitor(broker);
  caf::anon_send_exit(reg, caf::exit_reason::kill);
  sched.run();
  size_t downs = 0;
  for (int i = 0; i < 2; ++i)
    self->receive(
        [&](const caf::down_msg& down) {
          ++downs;
          CAF_CHECK_EQUAL(down.reason, caf::exit_reason::kill);
        },
        caf::after(0s) >> [] {});
  CAF_CHECK_EQUAL(downs, 2u); // the facade and the broker bridge
}

CAF_TEST(an injected message bypasses the moderator) {
  auto mod =
      sys.spawn([](moderator_actor::pointer) -> moderator_actor::behavior_type {
        return {[](filter_atom, const chat_event&) { return false; }};
      });
  caf::anon_send(reg, filter_atom::value, mod);
  sched.run();
  auto token = login("alice");
  deliver(delivery_source::chat,
          {{"sender", "alice"}, {"message", "dropped"}, {"token", token}});
  speak(say("main", "system", "announcement"));
  auto msgs = published("main");
  CAF_REQUIRE_EQUAL(msgs.size(), 1u);
  CAF_CHECK_EQUAL(msgs[0]["message"], "announcement");
  caf::anon_send_exit(mod, caf::exit_reason::user_shutdown);
  sched.run();
}

CAF_TEST(a standby relay ignores injected messages) {
  caf::anon_send(reg, role_atom::value, relay_role::standby, uint64_t{2});
  sched.run();
  speak(say("main", "bot", "lost"));
  CAF_CHECK(published("main").empty());
  CAF_CHECK(seen->of(event_kind::message).empty());
}

CAF_TEST(presence lists the users online in a room) {
  login("alice", {"main", "dev"});
  auto token = login("bob");
  CAF_CHECK_EQUAL(presence("main"), (std::vector<std::string>{"alice", "bob"}));
  CAF_CHECK_EQUAL(presence("dev"), std::vector<std::string>{"alice"});
  CAF_CHECK(presence("nowhere").empty());
  logout("bob", token);
  CAF_CHECK_EQUAL(presence("main"), std::vector<std::string>{"alice"});
}

CAF_TEST(status follows the broker bridge role) {
  CAF_CHECK_EQUAL(status(), relay_role::active);
  caf::anon_send(reg, role_atom::value, relay_role::standby, uint64_t{2});
  sched.run();
  CAF_CHECK_EQUAL(status(), relay_role::standby);
  caf::anon_send(reg, role_atom::value, relay_role::disconnected, uint64_t{2});
  sched.run();
  CAF_CHECK_EQUAL(status(), relay_role::disconnected);
}

CAF_TEST(an exit stops the registry and leaves the observers alone) {
  self->monitor(reg);
  self->monitor(observer);
  caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
  sched.run();
  bool registry_down = false;
  self->receive(
      [&](const caf::down_msg& down) {
        registry_down = down.source == reg.address();
        CAF_CHECK_EQUAL(down.reason, caf::exit_reason::user_shutdown);
      },
      caf::after(0s) >> [] { CAF_FAIL("the registry did not stop"); });
  CAF_CHECK(registry_down);
  // The observer belongs to the embedding program: it is still there.
  self->receive([](const caf::down_msg&) { CAF_FAIL("observer stopped"); },
                caf::after(0s) >> [] {});
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

/// Options of a relay whose broker is unreachable: it stays disconnected.
relay_options unreachable_broker() {
  relay_options opts;
  opts.amqp_port = 1;      // nothing listens there
  log::set_level("error"); // quiet: unreachable on purpose
  return opts;
}

/// A relay spawned by spawn_relay (fails the test if it refused).
relay spawn_or_fail(caf::actor_system& sys, relay_options opts) {
  auto result = spawn_relay(sys, std::move(opts));
  if (!result) CAF_FAIL("spawn_relay: " << sys.render(result.error()));
  return std::move(*result);
}

using internal::relay_access;

} // namespace

// spawn_relay and the relay handle on a real (threaded) actor system: no
// broker is reachable, so the relay stays disconnected until it is stopped.
CAF_TEST(stop ends a relay that never reached its broker) {
  test::config cfg;
  caf::actor_system sys{cfg};
  auto relay = spawn_or_fail(sys, unreachable_broker());
  CAF_REQUIRE(relay);
  auto facade = relay.facade();
  CAF_REQUIRE(facade);
  CAF_REQUIRE(relay_access::registry(relay));
  CAF_REQUIRE(relay_access::broker(relay));
  caf::scoped_actor self{sys};
  self->request(facade, 2s, status_atom::value)
      .receive(
          [](relay_role r) { CAF_CHECK_EQUAL(r, relay_role::disconnected); },
          [](const caf::error& err) { CAF_FAIL("no status: " << err); });
  auto start = std::chrono::steady_clock::now();
  relay.stop();
  CAF_CHECK(std::chrono::steady_clock::now() - start < 3s);
  CAF_CHECK(!relay);
  relay.stop(); // idempotent
  // All actors are gone: a request fails at once.
  self->request(facade, 1s, status_atom::value)
      .receive([](relay_role) { CAF_FAIL("registry still answers"); },
               [](const caf::error&) {});
  chatrelay::log::set_level("info");
}

// A relay whose registry fails ends as a whole, and its owner learns it
// from the facade: the broker bridge ends too (its connection closes, so
// another relay takes over).
CAF_TEST(a failed registry ends the relay and its owner learns it) {
  test::config cfg;
  caf::actor_system sys{cfg};
  auto relay = spawn_or_fail(sys, unreachable_broker());
  caf::scoped_actor self{sys};
  self->monitor(relay.facade());
  self->monitor(relay_access::broker(relay));
  self->send_exit(relay_access::registry(relay), caf::exit_reason::kill);
  std::vector<caf::actor_addr> down;
  for (int i = 0; i < 2; ++i)
    self->receive(
        [&](const caf::down_msg& msg) {
          down.push_back(msg.source);
          CAF_CHECK_EQUAL(msg.reason, caf::exit_reason::kill);
        },
        caf::after(5s) >> [] { CAF_FAIL("the relay did not end"); });
  CAF_CHECK_EQUAL(down.size(), 2u);
  auto start = std::chrono::steady_clock::now();
  relay.stop(); // returns at once: everything is gone
  CAF_CHECK(std::chrono::steady_clock::now() - start < 1s);
  chatrelay::log::set_level("info");
}

CAF_TEST(spawn_relay refuses an invalid option by name) {
  test::config cfg;
  caf::actor_system sys{cfg};
  relay_options opts;
  opts.duplicate_login = "sometimes";
  auto relay = spawn_relay(sys, opts);
  CAF_REQUIRE(!relay);
  CAF_CHECK_EQUAL(relay.error(), make_error(relay_errc::invalid_option));
  CAF_CHECK_EQUAL(relay.error().category(), relay_error_category);
  // Rendered by name, with the option (the category is registered).
  auto text = sys.render(relay.error());
  CAF_CHECK(text.find("invalid_option") != std::string::npos);
  CAF_CHECK(text.find("duplicate-login") != std::string::npos);
}

// Stopping the relay from inside an actor of the embedding program (e.g. a
// bot told to shut down): with one scheduler thread, a stop that blocks that
// thread waiting for the relay's actors would never see them end.
CAF_TEST(stopping the relay from inside an actor does not deadlock) {
  using stop_atom = caf::atom_constant<caf::atom("stop")>;
  test::config cfg;
  cfg.set("scheduler.max-threads", 1);
  caf::actor_system sys{cfg};
  auto relay = std::make_shared<chatrelay::relay>(
      spawn_or_fail(sys, unreachable_broker()));
  caf::scoped_actor self{sys};
  self->monitor(relay->facade());
  auto stopper = sys.spawn([relay](caf::event_based_actor*) {
    return caf::behavior{[relay](stop_atom) { relay->stop(); }};
  });
  self->send(stopper, stop_atom::value);
  self->receive(
      [](const caf::down_msg& down) {
        CAF_CHECK_EQUAL(down.reason, caf::exit_reason::user_shutdown);
      },
      caf::after(5s) >> [] { CAF_FAIL("the relay did not stop"); });
  self->send_exit(stopper, caf::exit_reason::user_shutdown);
  chatrelay::log::set_level("info");
}

// A program that never stops its relay: the handle stops it when it goes out
// of scope, so the actor system's destructor (which waits for every actor)
// returns. Run on a thread of its own to bound a hang.
CAF_TEST(an actor system whose relay was never stopped still ends) {
  auto spawned = std::make_shared<std::promise<bool>>();
  auto ended = spawned->get_future();
  std::thread{[spawned] {
    bool ok = false;
    {
      test::config cfg;
      caf::actor_system sys{cfg};
      auto relay = spawn_relay(sys, unreachable_broker());
      ok = static_cast<bool>(relay);
    } // no stop: ~relay, then ~actor_system
    spawned->set_value(ok);
  }}.detach();
  CAF_REQUIRE_EQUAL(ended.wait_for(10s), std::future_status::ready);
  CAF_CHECK(ended.get());
  chatrelay::log::set_level("info");
}

// The embedder's block above and the relay's blocks in one actor system: the
// relay's type IDs end below first_free_type_id, and presence answers with
// the relay's own room_users.
CAF_TEST(an embedder type ID block lives beside the relay blocks) {
  CAF_CHECK(caf::id_block::chatrelay::end <= first_free_type_id);
  CAF_CHECK_EQUAL(caf::type_id<std::vector<std::string>>::value,
                  first_free_type_id);
  test::config cfg;
  cfg.add_message_types<caf::id_block::embedder_test>();
  caf::actor_system sys{cfg};
  auto relay = spawn_or_fail(sys, unreachable_broker());
  caf::scoped_actor self{sys};
  self->request(relay.facade(), 2s, presence_atom::value, std::string{"main"})
      .receive(
          [](const room_users& users) {
            CAF_CHECK_EQUAL(users.room, "main");
            CAF_CHECK(users.logins.empty());
          },
          [](const caf::error& err) { CAF_FAIL("no presence: " << err); });
  chatrelay::log::set_level("info");
}

CAF_TEST(an embedder sets the log level by name) {
  CAF_CHECK(chatrelay::set_log_level("warning"));
  CAF_CHECK(!chatrelay::log::enabled(chatrelay::log::level::info));
  CAF_CHECK(chatrelay::log::enabled(chatrelay::log::level::warning));
  CAF_CHECK(!chatrelay::set_log_level("loud"));
  CAF_CHECK(chatrelay::log::enabled(chatrelay::log::level::warning));
  CAF_CHECK(chatrelay::set_log_level("info"));
}
