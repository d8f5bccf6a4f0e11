#define CAF_SUITE registry

#include "actors/registry_actor.hpp"

#include "chatrelay/json.hpp"
#include "registry_fixture.hpp"

#include <thread>

using namespace chatrelay;
using namespace chatrelay::test;
using fixture = registry_fixture;
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
  CAF_CHECK_EQUAL(msgs[0]["id"], id(1));
  CAF_CHECK(msgs[0]["ts"].get<int64_t>() > 0);
  CAF_CHECK(acked(tag));
  // The ack travels in the same batch as the publish: confirmed together
  // (the room's batch exchange gets its own publish, acking nothing).
  auto acking = std::find_if(log->batches.begin(), log->batches.end(),
                             [&](auto& b) { return b.ack_tag == tag; });
  CAF_REQUIRE(acking != log->batches.end());
  CAF_REQUIRE_EQUAL(acking->messages.size(), 1u);
  CAF_CHECK_EQUAL(acking->messages[0].exchange, "chat.room.main");
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
  CAF_CHECK_EQUAL(main_msgs[1]["id"], id(2));
  CAF_CHECK_EQUAL(json(in_room("dev", "message").at(0)["id"]), id(1));
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

CAF_TEST(the rooms online are the rooms with somebody in them) {
  auto alice = login("alice", {{"rooms", {"main", "dev"}}});
  auto bob = login("bob");
  CAF_CHECK_EQUAL(gauge("chat_relay_rooms_online"), 2);
  auto logout = [&](const char* who, const std::string& token) {
    deliver(
        delivery_source::login,
        json{{"action", "logout"}, {"login", who}, {"token", token}}.dump());
  };
  logout("alice", alice);
  CAF_CHECK_EQUAL(gauge("chat_relay_rooms_online"), 1); // bob in main
  logout("bob", bob);
  CAF_CHECK_EQUAL(gauge("chat_relay_rooms_online"), 0);
  CAF_CHECK_EQUAL(gauge("chat_relay_users_online"), 0);
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
  // The old client reads why before its queue goes (after a grace period).
  CAF_CHECK(log->deleted.empty());
  sched.advance_time(defaults::chat::replaced_queue_grace);
  sched.run();
  CAF_CHECK_EQUAL(log->deleted, std::vector<std::string>{"q.alice"});
  // Presence continues: no leave, one join.
  CAF_CHECK(in_room("main", "leave").empty());
  CAF_CHECK_EQUAL(in_room("main", "join").size(), 1u);
  CAF_CHECK_EQUAL(presence("main"), std::vector<std::string>{"alice"});
}

CAF_TEST(a replaced queue that is used again within its grace is kept) {
  login("alice");
  login("alice", {{"queue", "q.alice2"}});
  login("alice"); // back on q.alice: replaces q.alice2 in turn
  sched.advance_time(defaults::chat::replaced_queue_grace);
  sched.run();
  CAF_CHECK_EQUAL(log->deleted, std::vector<std::string>{"q.alice2"});
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
  CAF_CHECK_EQUAL(msgs[1]["id"], id(1));
  CAF_CHECK_EQUAL(msgs[2]["id"], id(2));
  CAF_CHECK(acked(tags[0]) && acked(tags[1]));
}

CAF_TEST(the welcome carries at most history - size messages) {
  registry_fixture f;
  f.count_to("alice", f.login("alice"), 5);
  f.login("bob");
  auto welcome = f.in_queue("q.bob").at(0);
  auto& hist = welcome["history"]["main"];
  CAF_REQUIRE_EQUAL(hist.size(), 3u);
  CAF_CHECK_EQUAL(hist[0]["message"], "3");
  CAF_CHECK_EQUAL(hist[2]["id"], f.id(5));
  // Each exactly the event the room's clients got live.
  auto live = f.in_room("main", "message");
  CAF_CHECK_EQUAL(hist[2], live.back());
  CAF_CHECK_EQUAL(welcome["users"]["main"], json({"alice", "bob"}));
}

CAF_TEST(resume replays what was missed and says whether it could) {
  registry_fixture f;
  f.count_to("alice", f.login("alice"), 5);
  f.login("bob", {{"since", {{"main", f.id(3)}}}});
  auto w = f.in_queue("q.bob").at(0);
  CAF_CHECK_EQUAL(w["resumed"], true);
  CAF_REQUIRE_EQUAL(w["history"]["main"].size(), 2u);
  CAF_CHECK_EQUAL(w["history"]["main"][0]["id"], f.id(4));
  f.login("carol", {{"since", {{"main", f.id(1)}}}}); // 2 fell out
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
  CAF_CHECK_EQUAL(msgs[0]["id"], id(1)); // the dropped one got no id
  CAF_CHECK(acked(dropped));
  caf::anon_send_exit(mod, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- ids across terms (issue 15.2, 15.3, 11.3) --------------------------------

namespace {

uint64_t floor_now() {
  return static_cast<uint64_t>(protocol::now_ms()) * 1000;
}

/// What another (active) relay announces on the events exchange.
void from_peer(fixture& f, json event) {
  event["origin"] = "the-other-relay";
  f.deliver(delivery_source::events, event.dump());
}

json peer_message(uint64_t id, const std::string& cid) {
  chat_event ev{event_kind::message, id, 1, "main", "alice", "",
                "from the old term", cid};
  return {{"event", "message"}, {"message", ev}}; // the codec's shape
}

/// A standby that learned alice's session and message `id` (cid "old")
/// from the active relay, then takes over.
void take_over_after(fixture& f, uint64_t id) {
  from_peer(f, {{"event", "login"},
                {"login", "alice"},
                {"queue", "q.alice"},
                {"token", "tok"},
                {"rooms", {"main"}}});
  from_peer(f, peer_message(id, "old"));
  caf::anon_send(f.reg, role_atom::value, relay_role::active, uint64_t{2});
  f.sched.run();
}

std::vector<uint64_t> ids_of(const std::vector<json>& msgs) {
  std::vector<uint64_t> out;
  for (auto& m : msgs)
    out.push_back(m["id"].get<uint64_t>());
  return out;
}

bool increasing(const std::vector<uint64_t>& ids) {
  for (size_t i = 1; i < ids.size(); ++i)
    if (ids[i] <= ids[i - 1]) return false;
  return true;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(registry_id_tests, fixture)

CAF_TEST(ids of a term start at a time floor that JavaScript keeps exact) {
  auto before = floor_now();
  fixture f;
  auto token = f.login("alice");
  for (int i = 0; i < 3; ++i)
    f.chat({{"sender", "alice"}, {"message", "x"}, {"token", token}});
  auto ids = ids_of(f.in_room("main", "message"));
  CAF_REQUIRE_EQUAL(ids.size(), 3u);
  CAF_CHECK_GREATER_OR_EQUAL(ids[0], before);
  CAF_CHECK_LESS_OR_EQUAL(ids[0], floor_now());
  CAF_CHECK_LESS(ids[2], uint64_t{1} << 53);
  CAF_CHECK_EQUAL(ids[1], ids[0] + 1); // consecutive within a term
  CAF_CHECK_EQUAL(ids[2], ids[0] + 2);
}

CAF_TEST(a takeover numbers above ids that replication never carried) {
  // The old active relay stamped 1..601 but only 600 reached this standby.
  fixture f{default_options(), relay_role::standby};
  auto floor = floor_now();
  take_over_after(f, 600);
  f.chat({{"sender", "alice"}, {"message", "new"}, {"token", "tok"}});
  auto ids = ids_of(f.in_room("main", "message"));
  CAF_REQUIRE_EQUAL(ids.size(), 1u);
  CAF_CHECK_GREATER_OR_EQUAL(ids[0], floor);
  CAF_CHECK_GREATER(ids[0], 601u);
}

CAF_TEST(a redelivered chat numbered by the old term gets a new higher id) {
  fixture f{default_options(), relay_role::standby};
  take_over_after(f, 600);
  f.chat({{"sender", "alice"}, {"message", "new"}, {"token", "tok"}});
  // The old term's chat comes back (redelivered: its ack was lost).
  auto tag = f.chat({{"sender", "alice"},
                     {"message", "from the old term"},
                     {"token", "tok"},
                     {"cid", "old"}});
  auto msgs = f.in_room("main", "message");
  CAF_REQUIRE_EQUAL(msgs.size(), 2u);
  CAF_CHECK_EQUAL(msgs[1]["cid"], "old");
  CAF_CHECK_EQUAL(msgs[1]["message"], "from the old term");
  CAF_CHECK(increasing(ids_of(msgs)));
  CAF_CHECK(f.acked(tag));
  CAF_CHECK_EQUAL(f.metrics->restamped.Value(), 1.0);
  // Stamped once more, not again: its latest id is the room's latest.
  f.chat({{"sender", "alice"},
          {"message", "from the old term"},
          {"token", "tok"},
          {"cid", "old"}});
  auto again = f.in_room("main", "message");
  CAF_REQUIRE_EQUAL(again.size(), 3u);
  CAF_CHECK_EQUAL(again[2], again[1]);
  CAF_CHECK_EQUAL(f.metrics->restamped.Value(), 1.0);
}

CAF_TEST(a resend after later messages goes out with a new id and its cid) {
  auto token = login("alice");
  chat({{"sender", "alice"}, {"message", "a"}, {"token", token}, {"cid", "a"}});
  chat({{"sender", "alice"}, {"message", "b"}, {"token", token}, {"cid", "b"}});
  chat({{"sender", "alice"}, {"message", "a"}, {"token", token}, {"cid", "a"}});
  auto msgs = in_room("main", "message");
  CAF_REQUIRE_EQUAL(msgs.size(), 3u);
  CAF_CHECK_EQUAL(ids_of(msgs), (std::vector<uint64_t>{id(1), id(2), id(3)}));
  CAF_CHECK_EQUAL(msgs[2]["cid"], "a");
  // The history and the cid window know it by its new id.
  auto& room = state().rooms.at("main");
  CAF_CHECK_EQUAL(room.recent().at("alice\na"), id(3));
}

CAF_TEST(a standby learns the new id of a re - stamped cid) {
  fixture f{default_options(), relay_role::standby};
  from_peer(f, peer_message(10, "c"));
  from_peer(f, peer_message(12, "c")); // stamped again by the active relay
  auto& room = f.state().rooms.at("main");
  CAF_CHECK_EQUAL(room.recent().at("alice\nc"), 12u);
  CAF_CHECK_EQUAL(room.seq(), 12u);
}

CAF_TEST(direct message ids start at the floor and grow across terms) {
  // alice and bob log in (again), alice sends bob `n` direct messages;
  // returns the ids of every direct message bob has received so far.
  auto talk = [](fixture& f, int n) {
    auto token = f.login("alice");
    f.login("bob");
    for (int i = 0; i < n; ++i)
      f.chat({{"sender", "alice"},
              {"message", "psst"},
              {"to", "bob"},
              {"token", token}});
    std::vector<uint64_t> out;
    for (auto& j : f.in_queue("q.bob"))
      if (j["type"] == "direct") out.push_back(j["id"].get<uint64_t>());
    return out;
  };
  auto before = floor_now();
  std::vector<uint64_t> first;
  {
    fixture f;
    first = talk(f, 2);
    CAF_REQUIRE_EQUAL(first.size(), 2u);
    CAF_CHECK_GREATER_OR_EQUAL(first[0], before);
    CAF_CHECK_EQUAL(first[1], first[0] + 1);
    // The same relay active again (a reconnect): above its last DM.
    caf::anon_send(f.reg, role_atom::value, relay_role::standby, uint64_t{2});
    caf::anon_send(f.reg, role_atom::value, relay_role::active, uint64_t{3});
    f.sched.run();
    auto all = talk(f, 1);
    CAF_REQUIRE_EQUAL(all.size(), 3u);
    CAF_CHECK(increasing(all));
  }
  // A new relay process (the old one was killed: nothing replicated).
  std::this_thread::sleep_for(2ms);
  fixture g;
  auto later = talk(g, 1);
  CAF_REQUIRE_EQUAL(later.size(), 1u);
  CAF_CHECK_GREATER(later[0], first[1]);
}

CAF_TEST_FIXTURE_SCOPE_END()
