#define CAF_SUITE room

#include "actors/room.hpp"

#include "test.hpp"

#include <nlohmann/json.hpp>

using namespace chatrelay;

namespace {

constexpr uint64_t floor_id = 1000; ///< first id of the current term
constexpr int64_t now = 42;

room_bounds small_bounds() {
  room_bounds b;
  b.history_size = 3;
  b.presence_limit = 2;
  b.min_cid_window = 5;
  return b;
}

chat_event said(const std::string& text, const std::string& cid = {}) {
  return {event_kind::message, 0, 0, "main", "alice", "", text, cid};
}

chat_request resent(const std::string& text, const std::string& cid) {
  chat_request req;
  req.sender = "alice";
  req.room = "main";
  req.message = text;
  req.cid = cid;
  return req;
}

} // namespace

CAF_TEST(ids start at the term floor then grow by one) {
  room r{small_bounds(), 0};
  CAF_CHECK_EQUAL(r.stamp(said("a"), floor_id, now).id, floor_id);
  CAF_CHECK_EQUAL(r.stamp(said("b"), floor_id, now).id, floor_id + 1);
  // A later term starts above its own floor, never below the room's ids.
  CAF_CHECK_EQUAL(r.stamp(said("c"), 5000, now).id, 5000u);
  CAF_CHECK_EQUAL(r.stamp(said("d"), 10, now).id, 5001u);
  CAF_CHECK_EQUAL(r.seq(), 5001u);
}

CAF_TEST(a room made again continues above the ids it had) {
  room r{small_bounds(), 7000};
  CAF_CHECK_EQUAL(r.stamp(said("a"), floor_id, now).id, 7001u);
}

CAF_TEST(a stamped event carries the time and stays in a bounded history) {
  room r{small_bounds(), 0};
  for (int i = 0; i < 5; ++i)
    r.stamp(said(std::to_string(i)), floor_id, now);
  CAF_REQUIRE_EQUAL(r.history().size(), 3u);
  CAF_CHECK_EQUAL(r.history().front().text, "2");
  CAF_CHECK_EQUAL(r.history().back().ts, now);
}

CAF_TEST(a resend of the latest message repeats it as it was) {
  room r{small_bounds(), 0};
  auto first = r.stamp(said("once", "c1"), floor_id, now);
  auto again = r.repeat(resent("once", "c1"), floor_id, now + 1);
  CAF_REQUIRE(again);
  CAF_CHECK(!again->restamped);
  CAF_CHECK_EQUAL(again->event.id, first.id);
  CAF_CHECK_EQUAL(again->event.ts, first.ts);
  CAF_CHECK_EQUAL(r.seq(), first.id); // nothing new was issued
}

CAF_TEST(a resend after later messages gets a new id and keeps its cid) {
  room r{small_bounds(), 0};
  r.stamp(said("a", "ca"), floor_id, now);
  r.stamp(said("b", "cb"), floor_id, now);
  auto again = r.repeat(resent("a", "ca"), floor_id, now);
  CAF_REQUIRE(again);
  CAF_CHECK(again->restamped);
  CAF_CHECK_EQUAL(again->event.id, floor_id + 2);
  CAF_CHECK_EQUAL(again->event.cid, "ca");
  CAF_CHECK_EQUAL(r.recent().at("alice\nca"), floor_id + 2);
}

CAF_TEST(a resend of a message of an earlier term gets a new id) {
  room r{small_bounds(), 0};
  auto old = r.stamp(said("a", "ca"), floor_id, now);
  auto again = r.repeat(resent("a", "ca"), 9000, now); // a new term
  CAF_REQUIRE(again);
  CAF_CHECK(again->restamped);
  CAF_CHECK_GREATER(again->event.id, old.id);
}

CAF_TEST(messages without a cid or with a new one are not repeats) {
  room r{small_bounds(), 0};
  r.stamp(said("a", "ca"), floor_id, now);
  r.stamp(said("b"), floor_id, now);
  CAF_CHECK(!r.repeat(resent("b", ""), floor_id, now));
  CAF_CHECK(!r.repeat(resent("x", "other"), floor_id, now));
  auto bob = resent("a", "ca");
  bob.sender = "bob"; // cids are per sender
  CAF_CHECK(!r.repeat(bob, floor_id, now));
}

CAF_TEST(the cid window is bounded and outlives the history) {
  room r{small_bounds(), 0}; // window max(5, 3)
  for (int i = 0; i < 8; ++i)
    r.stamp(said("m", "c" + std::to_string(i)), floor_id, now);
  CAF_CHECK_EQUAL(r.recent().size(), 5u);
  CAF_CHECK(!r.seen("alice", "c2"));
  auto c3 = r.seen("alice", "c3");
  CAF_REQUIRE(c3);
  CAF_CHECK(c3->event == nullptr); // left the history, id kept
  auto c7 = r.seen("alice", "c7");
  CAF_REQUIRE(c7);
  CAF_CHECK(c7->event != nullptr);
}

CAF_TEST(a replicated message raises the ids and is known by its cid) {
  room r{small_bounds(), 0};
  auto ev = said("a", "ca");
  ev.id = 12;
  r.replicate(ev);
  ev.id = 15; // stamped again by the active relay
  r.replicate(ev);
  CAF_CHECK_EQUAL(r.seq(), 15u);
  CAF_CHECK_EQUAL(r.recent().at("alice\nca"), 15u);
}

CAF_TEST(a replay without since is the whole history) {
  room r{small_bounds(), 0};
  for (int i = 0; i < 2; ++i)
    r.stamp(said("m"), floor_id, now);
  auto all = r.replay(std::nullopt);
  CAF_CHECK_EQUAL(all.events.size(), 2u);
}

CAF_TEST(a resume replays what came after since and says if it is complete) {
  room r{small_bounds(), 0};
  for (int i = 0; i < 5; ++i)
    r.stamp(said(std::to_string(i)), floor_id, now); // history: ids +2..+4
  auto rest = r.replay(floor_id + 2);
  CAF_CHECK(rest.complete);
  CAF_REQUIRE_EQUAL(rest.events.size(), 2u);
  auto first = nlohmann::json::parse(rest.events.front());
  CAF_CHECK_EQUAL(first["id"], floor_id + 3);
  auto gap = r.replay(floor_id); // +1 has left the history
  CAF_CHECK(!gap.complete);
  CAF_CHECK_EQUAL(gap.events.size(), 3u);
  auto nothing_new = r.replay(floor_id + 4);
  CAF_CHECK(nothing_new.complete);
  CAF_CHECK(nothing_new.events.empty());
}

CAF_TEST(presence counts sessions and announces first join and last leave) {
  room r{small_bounds(), 0};
  CAF_CHECK(r.enter("alice"));
  CAF_CHECK(!r.enter("alice")); // a second tab
  CAF_CHECK(!r.leave("alice"));
  CAF_CHECK_EQUAL(r.members().count("alice"), 1u);
  CAF_CHECK(r.leave("alice"));
  CAF_CHECK(r.members().empty());
  CAF_CHECK(!r.leave("alice")); // not there
}

CAF_TEST(a room above the presence limit announces nobody) {
  room r{small_bounds(), 0}; // presence limit 2
  CAF_CHECK(r.enter("a"));
  CAF_CHECK(r.enter("b"));
  CAF_CHECK(!r.enter("c"));
  CAF_CHECK_EQUAL(r.listed(), (std::vector<std::string>{"a", "b"}));
  CAF_CHECK(!r.leave("c")); // still at the limit after it
  CAF_CHECK(r.leave("b"));
}

CAF_TEST(messages held during moderation come back in order after it) {
  room r{small_bounds(), 0};
  r.set_moderating(true);
  r.hold({resent("1", ""), {}, true});
  r.hold({resent("2", ""), {}, true});
  CAF_CHECK(!r.idle());
  CAF_CHECK(!r.next_held()); // the moderator still decides
  r.set_moderating(false);
  // Kept in locals: CAF_CHECK_EQUAL would outlive a temporary's member.
  auto first = r.next_held();
  auto second = r.next_held();
  CAF_REQUIRE(first && second);
  CAF_CHECK_EQUAL(first->req.message, "1");
  CAF_CHECK_EQUAL(second->req.message, "2");
  CAF_CHECK(!r.next_held());
  CAF_CHECK(r.idle());
}
