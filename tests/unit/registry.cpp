#define CAF_SUITE registry

#include "actors/registry_actor.hpp"

#include "registry_fixture.hpp"

using namespace chatrelay;
using namespace chatrelay::test;
using namespace std::chrono_literals;

CAF_TEST_FIXTURE_SCOPE(registry_tests, registry_fixture)

CAF_TEST(login declares the queue then welcomes the user and announces it) {
  auto token = login("alice");
  CAF_CHECK_EQUAL(token.size(), 32u);
  CAF_REQUIRE_EQUAL(log->declared.size(), 1u);
  CAF_CHECK_EQUAL(log->declared[0].queue, "q.alice");
  CAF_CHECK_EQUAL(log->declared[0].exchanges,
                  std::vector<std::string>{"chat.room.main"});
  auto joins = in_room("main", "join");
  CAF_REQUIRE_EQUAL(joins.size(), 1u);
  CAF_CHECK_EQUAL(joins[0]["login"], "alice");
  CAF_CHECK(acked(1));
  CAF_CHECK_EQUAL(presence("main"), std::vector<std::string>{"alice"});
}

CAF_TEST(a chat message is published once to its room and then acked) {
  auto token = login("alice");
  login("bob");
  auto tag = chat({{"sender", "alice"}, {"message", "hi"}, {"token", token}});
  auto msgs = in_room("main", "message");
  CAF_REQUIRE_EQUAL(msgs.size(), 1u);
  CAF_CHECK_EQUAL(msgs[0]["sender"], "alice");
  CAF_CHECK_EQUAL(msgs[0]["message"], "hi");
  CAF_CHECK_EQUAL(msgs[0]["id"], 1);
  CAF_CHECK(msgs[0]["ts"].get<int64_t>() > 0);
  CAF_CHECK(acked(tag));
  // The ack travels in the same batch as the publish: confirmed together.
  auto& last = log->batches.back();
  CAF_CHECK_EQUAL(last.ack_tag, tag);
  CAF_CHECK_EQUAL(last.messages.size(), 1u);
}

CAF_TEST(message ids grow by one per room) {
  auto token = login("alice", {{"rooms", {"main", "dev"}}});
  for (auto room : {"main", "dev", "main"})
    chat({{"sender", "alice"},
          {"message", "x"},
          {"token", token},
          {"room", room}});
  auto main_msgs = in_room("main", "message");
  CAF_REQUIRE_EQUAL(main_msgs.size(), 2u);
  CAF_CHECK_EQUAL(main_msgs[1]["id"], 2);
  CAF_CHECK_EQUAL(json(in_room("dev", "message").at(0)["id"]), 1);
}

CAF_TEST(a chat without the session token is refused with an error) {
  login("alice");
  auto tag = chat({{"sender", "alice"}, {"message", "hi"}, {"cid", "c1"}});
  CAF_CHECK(in_room("main", "message").empty());
  auto errs = errors_in("q.alice");
  CAF_REQUIRE_EQUAL(errs.size(), 1u);
  CAF_CHECK_EQUAL(errs[0]["code"], "bad_token");
  CAF_CHECK_EQUAL(errs[0]["cid"], "c1");
  CAF_CHECK(acked(tag));
}

CAF_TEST(a wrong token is refused even when tokens are optional) {
  auto opts = default_options();
  opts.require_token = false;
  registry_fixture f{opts};
  f.login("alice");
  f.chat({{"sender", "alice"}, {"message", "seed style"}});
  f.chat({{"sender", "alice"}, {"message", "forged"}, {"token", "nope"}});
  auto msgs = f.in_room("main", "message");
  CAF_REQUIRE_EQUAL(msgs.size(), 1u);
  CAF_CHECK_EQUAL(msgs[0]["message"], "seed style");
  CAF_CHECK_EQUAL(json(f.errors_in("q.alice").at(0)["code"]), "bad_token");
}

CAF_TEST(chat from a user who is not online is acked and counted) {
  auto tag = chat({{"sender", "ghost"}, {"message", "boo"}});
  CAF_CHECK(acked(tag));
  CAF_CHECK(in_room("main", "message").empty());
}

CAF_TEST(bad bodies are answered and the next good message still passes) {
  auto token = login("alice");
  deliver(delivery_source::chat, "{not json");
  chat({{"sender", "alice"}, {"message", 42}, {"token", token}});
  chat({{"sender", "alice"}, {"message", "ok"}, {"token", token}});
  auto errs = errors_in("q.alice");
  CAF_REQUIRE_EQUAL(errs.size(), 1u); // the sender of "{not json" is unknown
  CAF_CHECK_EQUAL(errs[0]["code"], "bad_type");
  CAF_CHECK_EQUAL(in_room("main", "message").size(), 1u);
}

CAF_TEST(logout announces the leave and deletes the queue) {
  auto token = login("alice");
  login("bob");
  deliver(
      delivery_source::login,
      json{{"action", "logout"}, {"login", "alice"}, {"token", token}}.dump());
  auto leaves = in_room("main", "leave");
  CAF_REQUIRE_EQUAL(leaves.size(), 1u);
  CAF_CHECK_EQUAL(leaves[0]["login"], "alice");
  CAF_CHECK_EQUAL(leaves[0]["reason"], "logout");
  CAF_CHECK_EQUAL(log->deleted, std::vector<std::string>{"q.alice"});
  CAF_CHECK_EQUAL(presence("main"), std::vector<std::string>{"bob"});
}

CAF_TEST(a logout with a wrong token changes nothing) {
  login("alice");
  deliver(
      delivery_source::login,
      json{{"action", "logout"}, {"login", "alice"}, {"token", "x"}}.dump());
  CAF_CHECK(log->deleted.empty());
  CAF_CHECK_EQUAL(presence("main"), std::vector<std::string>{"alice"});
}

CAF_TEST(a second login replaces the first session) {
  login("alice");
  auto token2 = login("alice", {{"queue", "q.alice2"}});
  CAF_CHECK_EQUAL(token2.size(), 32u);
  CAF_CHECK_EQUAL(json(errors_in("q.alice").at(0)["code"]), "duplicate_login");
  CAF_CHECK_EQUAL(log->deleted, std::vector<std::string>{"q.alice"});
  // Presence continues: no leave, one join.
  CAF_CHECK(in_room("main", "leave").empty());
  CAF_CHECK_EQUAL(in_room("main", "join").size(), 1u);
  CAF_CHECK_EQUAL(presence("main"), std::vector<std::string>{"alice"});
}

CAF_TEST(the reject policy refuses a second login) {
  auto opts = default_options();
  opts.duplicate_login = "reject";
  registry_fixture f{opts};
  f.login("alice");
  auto token2 = f.login("alice", {{"queue", "q.other"}});
  CAF_CHECK(token2.empty());
  CAF_CHECK_EQUAL(json(f.errors_in("q.other").at(0)["code"]),
                  "duplicate_login");
  CAF_CHECK(f.log->deleted.empty());
}

CAF_TEST(the allow policy keeps several sessions as one presence) {
  auto opts = default_options();
  opts.duplicate_login = "allow";
  registry_fixture f{opts};
  auto tab1 = f.login("alice");
  auto tab2 = f.login("alice", {{"queue", "q.alice.tab2"}});
  CAF_REQUIRE(!tab2.empty());
  CAF_CHECK_NOT_EQUAL(tab1, tab2);
  CAF_CHECK_EQUAL(f.in_room("main", "join").size(), 1u); // one presence
  CAF_CHECK_EQUAL(f.presence("main"), std::vector<std::string>{"alice"});
  // Either tab may speak with its own token.
  f.chat({{"sender", "alice"}, {"message", "from tab 2"}, {"token", tab2}});
  CAF_CHECK_EQUAL(f.in_room("main", "message").size(), 1u);
  // A direct message reaches both tabs.
  auto bob = f.login("bob");
  f.chat(
      {{"sender", "bob"}, {"message", "hi"}, {"to", "alice"}, {"token", bob}});
  size_t directs = 0;
  for (auto q : {"q.alice", "q.alice.tab2"})
    for (auto& j : f.in_queue(q))
      directs += j["type"] == "direct" ? 1 : 0;
  CAF_CHECK_EQUAL(directs, 2u);
  // Closing one tab keeps alice online; closing the last one leaves.
  f.deliver(
      delivery_source::login,
      json{{"action", "logout"}, {"login", "alice"}, {"token", tab1}}.dump());
  CAF_CHECK(f.in_room("main", "leave").empty());
  CAF_CHECK_EQUAL(f.log->deleted, std::vector<std::string>{"q.alice"});
  f.deliver(
      delivery_source::login,
      json{{"action", "logout"}, {"login", "alice"}, {"token", tab2}}.dump());
  CAF_CHECK_EQUAL(f.in_room("main", "leave").size(), 1u);
  CAF_CHECK_EQUAL(f.presence("main"), std::vector<std::string>{"bob"});
}

CAF_TEST(a login again on the same queue keeps the session token) {
  auto first = login("alice");
  auto again = login("alice");
  CAF_CHECK_EQUAL(first, again);
  CAF_CHECK(log->deleted.empty());
  CAF_CHECK(errors_in("q.alice").empty());
  CAF_CHECK_EQUAL(in_room("main", "join").size(), 1u);
}

CAF_TEST(nobody can log in with the queue of another user) {
  login("alice");
  login("mallory", {{"queue", "q.alice"}});
  CAF_CHECK_EQUAL(presence("main"), std::vector<std::string>{"alice"});
  CAF_CHECK(errors_in("q.alice").empty());
}

CAF_TEST(a silent user is logged out after the keep - alive timeout) {
  login("alice");
  auto token = login("bob");
  sched.advance_time(6s);
  sched.run();
  deliver(delivery_source::login,
          json{{"action", "ping"}, {"login", "bob"}, {"token", token}}.dump());
  sched.advance_time(5s);
  sched.run();
  auto leaves = in_room("main", "leave");
  CAF_REQUIRE_EQUAL(leaves.size(), 1u);
  CAF_CHECK_EQUAL(leaves[0]["login"], "alice");
  CAF_CHECK_EQUAL(leaves[0]["reason"], "timeout");
  CAF_CHECK_EQUAL(presence("main"), std::vector<std::string>{"bob"});
  sched.advance_time(10s);
  sched.run();
  CAF_CHECK(presence("main").empty());
}

CAF_TEST(a user over the rate limit gets an error per refused message) {
  auto opts = default_options();
  opts.rate_burst = 2;
  registry_fixture f{opts};
  auto login = [&](auto name) { return f.login(name); };
  auto chat = [&](const json& body) { return f.chat(body); };
  auto in_room = [&](auto room, auto type) { return f.in_room(room, type); };
  auto errors_in = [&](auto queue) { return f.errors_in(queue); };
  auto token = login("alice");
  for (int i = 0; i < 3; ++i)
    chat({{"sender", "alice"},
          {"message", "spam"},
          {"token", token},
          {"cid", "c" + std::to_string(i)}});
  CAF_CHECK_EQUAL(in_room("main", "message").size(), 2u);
  auto errs = errors_in("q.alice");
  CAF_REQUIRE_EQUAL(errs.size(), 1u);
  CAF_CHECK_EQUAL(errs[0]["code"], "rate_limited");
  CAF_CHECK_EQUAL(errs[0]["cid"], "c2");
  f.sched.advance_time(1s); // one token back
  chat({{"sender", "alice"}, {"message", "later"}, {"token", token}});
  CAF_CHECK_EQUAL(in_room("main", "message").size(), 3u);
}

CAF_TEST(a resent client id is stamped once and published again as it was) {
  auto token = login("alice");
  std::vector<uint64_t> tags;
  for (int i = 0; i < 2; ++i)
    tags.push_back(chat({{"sender", "alice"},
                         {"message", "once"},
                         {"token", token},
                         {"cid", "same"}}));
  chat({{"sender", "alice"}, {"message", "next"}, {"token", token}});
  auto msgs = in_room("main", "message");
  CAF_REQUIRE_EQUAL(msgs.size(), 3u);
  // The resend repeats id 1 (clients drop it by id or cid; a redelivery after
  // a broker failure needs it when the first publish was lost).
  CAF_CHECK_EQUAL(msgs[0], msgs[1]);
  CAF_CHECK_EQUAL(msgs[1]["id"], 1);
  CAF_CHECK_EQUAL(msgs[2]["id"], 2);
  CAF_CHECK(acked(tags[0]) && acked(tags[1]));
}

CAF_TEST(the welcome carries at most history - size messages) {
  registry_fixture f;
  auto token = f.login("alice");
  for (int i = 1; i <= 5; ++i)
    f.chat({{"sender", "alice"},
            {"message", std::to_string(i)},
            {"token", token}});
  f.login("bob");
  auto welcome = f.in_queue("q.bob").at(0);
  auto& hist = welcome["history"]["main"];
  CAF_REQUIRE_EQUAL(hist.size(), 3u);
  CAF_CHECK_EQUAL(hist[0]["message"], "3");
  CAF_CHECK_EQUAL(hist[2]["id"], 5);
  CAF_CHECK_EQUAL(welcome["users"]["main"], json({"alice", "bob"}));
}

CAF_TEST(resume replays what was missed and says whether it could) {
  registry_fixture f;
  auto token = f.login("alice");
  for (int i = 1; i <= 5; ++i)
    f.chat({{"sender", "alice"},
            {"message", std::to_string(i)},
            {"token", token}});
  f.login("bob", {{"since", {{"main", 3}}}});
  auto w = f.in_queue("q.bob").at(0);
  CAF_CHECK_EQUAL(w["resumed"], true);
  CAF_REQUIRE_EQUAL(w["history"]["main"].size(), 2u);
  CAF_CHECK_EQUAL(w["history"]["main"][0]["id"], 4);
  f.login("carol", {{"since", {{"main", 1}}}}); // 2 fell out of history
  auto w2 = f.in_queue("q.carol").at(0);
  CAF_CHECK_EQUAL(w2["resumed"], false);
  CAF_CHECK_EQUAL(w2["history"]["main"].size(), 3u);
}

CAF_TEST(a direct message reaches the recipient and the sender only) {
  auto token = login("alice");
  login("bob");
  login("carol");
  chat({{"sender", "alice"},
        {"message", "psst"},
        {"to", "bob"},
        {"token", token}});
  auto direct_in = [&](const std::string& q) {
    size_t n = 0;
    for (auto& j : in_queue(q))
      n += j["type"] == "direct" ? 1 : 0;
    return n;
  };
  CAF_CHECK_EQUAL(direct_in("q.bob"), 1u);
  CAF_CHECK_EQUAL(direct_in("q.alice"), 1u);
  CAF_CHECK_EQUAL(direct_in("q.carol"), 0u);
  CAF_CHECK(in_room("main", "message").empty());
  chat({{"sender", "alice"},
        {"message", "?"},
        {"to", "dave"},
        {"token", token}});
  CAF_CHECK_EQUAL(json(errors_in("q.alice").at(0)["code"]),
                  "unknown_recipient");
}

CAF_TEST(chat to a room the sender is not in is refused) {
  auto token = login("alice");
  chat({{"sender", "alice"},
        {"message", "x"},
        {"room", "dev"},
        {"token", token}});
  CAF_CHECK_EQUAL(json(errors_in("q.alice").at(0)["code"]), "not_in_room");
  CAF_CHECK(in_room("dev", "message").empty());
}

CAF_TEST(a standby mirrors logins and takes over their queues) {
  registry_fixture f{default_options(), relay_role::standby};
  json ev{{"event", "login"},   {"origin", "other"}, {"login", "alice"},
          {"queue", "q.alice"}, {"token", "t0k"},    {"rooms", {"main"}}};
  f.deliver(delivery_source::events, ev.dump());
  CAF_CHECK_EQUAL(f.presence("main"), std::vector<std::string>{"alice"});
  CAF_CHECK(f.log->declared.empty()); // a standby touches no queue
  caf::anon_send(f.reg, role_atom::value, relay_role::active, uint64_t{2});
  f.sched.run();
  CAF_REQUIRE_EQUAL(f.log->declared.size(), 1u);
  CAF_CHECK_EQUAL(f.log->declared[0].queue, "q.alice");
  // The mirrored token is honoured after the takeover.
  f.chat({{"sender", "alice"}, {"message", "still here"}, {"token", "t0k"}});
  CAF_CHECK_EQUAL(f.in_room("main", "message").size(), 1u);
}

CAF_TEST(a new active relay hands its state to every standby) {
  login("alice");
  // Becoming active again (e.g. after a reconnect) broadcasts a snapshot.
  caf::anon_send(reg, role_atom::value, relay_role::disconnected, uint64_t{1});
  caf::anon_send(reg, role_atom::value, relay_role::active, uint64_t{2});
  sched.run();
  auto events = parse_all(log->bodies("chat.relay.events"));
  auto snap = std::find_if(events.rbegin(), events.rend(), [](const json& j) {
    return j["event"] == "snapshot";
  });
  CAF_REQUIRE(snap != events.rend());
  CAF_CHECK_EQUAL((*snap)["for"], "*");
  // A standby that missed everything adopts it.
  registry_fixture standby{default_options(), relay_role::standby};
  (*snap)["origin"] = "other";
  standby.deliver(delivery_source::events, snap->dump());
  CAF_CHECK_EQUAL(standby.presence("main"), std::vector<std::string>{"alice"});
}

CAF_TEST(an observer sees every chat event) {
  std::vector<chat_event> seen;
  auto obs =
      sys.spawn([&](observer_actor::pointer) -> observer_actor::behavior_type {
        return {[&](event_atom, const chat_event& ev) { seen.push_back(ev); }};
      });
  caf::anon_send(reg, subscribe_atom::value, obs);
  sched.run();
  auto token = login("alice");
  chat({{"sender", "alice"}, {"message", "hi"}, {"token", token}});
  caf::anon_send(
      reg, inject_atom::value,
      chat_event{event_kind::message, 0, 0, "main", "bot", "", "beep", ""});
  sched.run();
  CAF_REQUIRE_EQUAL(seen.size(), 3u);
  CAF_CHECK_EQUAL(seen[0].kind, event_kind::join);
  CAF_CHECK_EQUAL(seen[1].text, "hi");
  CAF_CHECK_EQUAL(seen[2].sender, "bot");
  CAF_CHECK_EQUAL(in_room("main", "message").size(), 2u);
  // An observer that quits is dropped: nothing is sent to it any more.
  caf::anon_send_exit(obs, caf::exit_reason::user_shutdown);
  sched.run();
  CAF_CHECK(deref<registry_actor::stateful_base<registry_state>>(reg)
                .state.observers.empty());
}

CAF_TEST(a moderator decides before a message is stamped) {
  auto mod =
      sys.spawn([](moderator_actor::pointer) -> moderator_actor::behavior_type {
        return {[](filter_atom, const chat_event& ev) {
          return ev.text.find("spam") == std::string::npos;
        }};
      });
  caf::anon_send(reg, filter_atom::value, mod);
  sched.run();
  auto token = login("alice");
  auto dropped =
      chat({{"sender", "alice"}, {"message", "buy spam"}, {"token", token}});
  chat({{"sender", "alice"}, {"message", "hello"}, {"token", token}});
  auto msgs = in_room("main", "message");
  CAF_REQUIRE_EQUAL(msgs.size(), 1u);
  CAF_CHECK_EQUAL(msgs[0]["message"], "hello");
  CAF_CHECK_EQUAL(msgs[0]["id"], 1); // the dropped one got no id
  CAF_CHECK(acked(dropped));
  caf::anon_send_exit(mod, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
