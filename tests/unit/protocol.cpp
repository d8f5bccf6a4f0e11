#define CAF_SUITE protocol

#include "chatrelay/internal/protocol.hpp"

#include "test.hpp"

#include <nlohmann/json.hpp>

#include <set>

using namespace chatrelay;
using namespace chatrelay::protocol;
using json = nlohmann::json;

namespace {

limits lim() {
  limits l;
  l.max_message_size = 100;
  l.reserved_queues = {"login", "chat"};
  return l;
}

std::string code_of(const parsed<chat_request>& p) {
  auto* r = std::get_if<rejected>(&p);
  return r ? r->error.code : "accepted";
}

std::string code_of(const parsed<login_queue_request>& p) {
  auto* r = std::get_if<rejected>(&p);
  return r ? r->error.code : "accepted";
}

} // namespace

CAF_TEST(the seed login body is accepted with the default room) {
  auto p = parse_login_queue(
      R"({"action":"login","login":"alice","queue":"q-1"})", lim());
  CAF_REQUIRE_EQUAL(code_of(p), "accepted");
  auto& req = std::get<login_request>(std::get<login_queue_request>(p));
  CAF_CHECK_EQUAL(req.login, "alice");
  CAF_CHECK_EQUAL(req.queue, "q-1");
  CAF_CHECK_EQUAL(req.rooms, std::vector<std::string>{"main"});
}

CAF_TEST(rooms are deduplicated and validated) {
  auto p = parse_login_queue(
      R"({"action":"login","login":"a","queue":"q","rooms":["dev","main","dev"]})",
      lim());
  CAF_REQUIRE_EQUAL(code_of(p), "accepted");
  auto& req = std::get<login_request>(std::get<login_queue_request>(p));
  CAF_CHECK_EQUAL(req.rooms, (std::vector<std::string>{"dev", "main"}));
  CAF_CHECK_EQUAL(
      code_of(parse_login_queue(
          R"({"action":"login","login":"a","queue":"q","rooms":["a b"]})",
          lim())),
      "bad_room");
}

CAF_TEST(the seed chat body is accepted without a token) {
  auto p = parse_chat(R"({"sender":"bob","message":"hi"})", lim());
  CAF_REQUIRE_EQUAL(code_of(p), "accepted");
  auto& req = std::get<chat_request>(p);
  CAF_CHECK_EQUAL(req.sender, "bob");
  CAF_CHECK_EQUAL(req.message, "hi");
  CAF_CHECK(req.token.empty());
}

CAF_TEST(bad bodies get their error codes) {
  CAF_CHECK_EQUAL(code_of(parse_chat("not json", lim())), "bad_json");
  CAF_CHECK_EQUAL(code_of(parse_chat("[1,2]", lim())), "bad_json");
  CAF_CHECK_EQUAL(code_of(parse_chat("{\"sender\":\"a\xff\"}", lim())),
                  "bad_utf8");
  CAF_CHECK_EQUAL(code_of(parse_chat(std::string(2000, ' '), lim())),
                  "too_large");
  CAF_CHECK_EQUAL(
      code_of(parse_chat(std::string(50, '[') + std::string(50, ']'), lim())),
      "bad_json");
  CAF_CHECK_EQUAL(code_of(parse_chat(R"({"sender":1,"message":"x"})", lim())),
                  "bad_type");
  CAF_CHECK_EQUAL(code_of(parse_chat(R"({"message":"x"})", lim())),
                  "missing_field");
  CAF_CHECK_EQUAL(
      code_of(parse_chat(R"({"sender":"a","message":"x","v":2})", lim())),
      "unsupported_version");
  CAF_CHECK_EQUAL(code_of(parse_chat(R"({"sender":"a","message":")" +
                                         std::string(101, 'x') + "\"}",
                                     lim())),
                  "too_large");
  CAF_CHECK_EQUAL(
      code_of(parse_login_queue(R"({"action":"dance","login":"a"})", lim())),
      "unknown_action");
}

CAF_TEST(a rejected chat still names its sender and cid) {
  auto p = parse_chat(R"({"sender":"a","cid":"c9","message":7})", lim());
  auto& r = std::get<rejected>(p);
  CAF_CHECK_EQUAL(r.error.code, "bad_type");
  CAF_CHECK_EQUAL(r.login, "a");
  CAF_CHECK_EQUAL(r.cid, "c9");
}

CAF_TEST(hostile names are refused) {
  auto l = lim();
  for (auto* q :
       {"amq.gen-x", "login", "chat", "chat.relay.x", "a b", "", "-x", "x/y"})
    if (valid_queue(q, l)) CAF_FAIL("queue name accepted: " << q);
  CAF_CHECK(!valid_queue(std::string(200, 'q'), l));
  CAF_CHECK(valid_queue("chat.user.0b7c-11ef:x_y", l));
  CAF_CHECK(!valid_login(""));
  CAF_CHECK(!valid_login(std::string(33, 'a')));
  CAF_CHECK(!valid_login("<script>"));
  CAF_CHECK(valid_login("Al.ice_-9"));
}

CAF_TEST(utf8 validation rejects overlong forms and surrogates) {
  CAF_CHECK(valid_utf8("h\xc3\xa9llo \xf0\x9f\x98\x80"));
  CAF_CHECK(!valid_utf8("\xc0\xaf"));
  CAF_CHECK(!valid_utf8("\xed\xa0\x80"));
  CAF_CHECK(!valid_utf8("\xf4\x90\x80\x80"));
  CAF_CHECK(!valid_utf8("\xe2\x82"));
}

CAF_TEST(a delivered message keeps the seed fields) {
  chat_event ev{event_kind::message, 7, 123, "main", "alice", "", "hi", "c1"};
  auto j = json::parse(render_event(ev));
  CAF_CHECK_EQUAL(j["type"], "message");
  CAF_CHECK_EQUAL(j["sender"], "alice");
  CAF_CHECK_EQUAL(j["message"], "hi");
  CAF_CHECK_EQUAL(j["id"], 7);
  CAF_CHECK_EQUAL(j["room"], "main");
  CAF_CHECK_EQUAL(j["cid"], "c1");
  CAF_CHECK_EQUAL(j["v"], version);
}

CAF_TEST(session tokens are 128 random bits in hex and never repeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    auto t = make_token();
    CAF_REQUIRE_EQUAL(t.size(), 32u);
    CAF_REQUIRE(t.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(t);
  }
  CAF_CHECK_EQUAL(seen.size(), 10000u);
}

CAF_TEST(inject and wire input share one check) {
  chat_request ok{"bot", "hi", "", "main", "", ""};
  CAF_CHECK(!check_chat(ok, lim()));
  auto bad = [&](chat_request r) {
    auto err = check_chat(r, lim());
    return err ? err->code : std::string{"accepted"};
  };
  CAF_CHECK_EQUAL(bad({"bot", "a\xff", "", "main", "", ""}), "bad_utf8");
  CAF_CHECK_EQUAL(bad({"b\xc3", "hi", "", "main", "", ""}), "bad_utf8");
  CAF_CHECK_EQUAL(bad({"bot", "hi", "", "a b", "", ""}), "bad_room");
  CAF_CHECK_EQUAL(bad({"<x>", "hi", "", "main", "", ""}), "bad_login");
  CAF_CHECK_EQUAL(bad({"bot", std::string(101, 'x'), "", "main", "", ""}),
                  "too_large");
  CAF_CHECK_EQUAL(bad({"bot", "hi", "", "main", "", std::string(65, 'c')}),
                  "bad_value");
}

namespace {

login_request login_of(std::string_view body) {
  auto p = parse_login_queue(body, lim());
  CAF_REQUIRE_EQUAL(code_of(p), "accepted");
  return std::get<login_request>(std::get<login_queue_request>(p));
}

} // namespace

CAF_TEST(a login asks for batches with batch true and gets singles otherwise) {
  CAF_CHECK(!login_of(R"({"action":"login","login":"a","queue":"q"})").batch);
  CAF_CHECK(
      login_of(R"({"action":"login","login":"a","queue":"q","batch":true})")
          .batch);
  CAF_CHECK(
      !login_of(R"({"action":"login","login":"a","queue":"q","batch":false})")
           .batch);
  CAF_CHECK(
      !login_of(R"({"action":"login","login":"a","queue":"q","batch":null})")
           .batch);
}

CAF_TEST(a login with a batch that is not a boolean is refused as bad_type) {
  for (auto* value : {R"("true")", "1", "0", "[]", "{}"}) {
    auto p = parse_login_queue(
        std::string{R"({"action":"login","login":"a","queue":"q","batch":)"} +
            value + "}",
        lim());
    CAF_CHECK_EQUAL(code_of(p), "bad_type");
    if (auto* r = std::get_if<rejected>(&p)) // still answerable
      CAF_CHECK_EQUAL(r->queue, "q");
  }
}

CAF_TEST(each element of a batch parses equal to its single rendering) {
  std::vector<chat_event> evs{
      {event_kind::message, 7, 123, "main", "alice", "", "hi", "c1"},
      {event_kind::message, 8, 124, "main", "bob", "", "\"q\" \\ \xc3\xa9\n",
       ""},
      {event_kind::message, 9, 125, "main", "eve", "", "</script>", "c2"}};
  std::vector<std::string> rendered;
  for (auto& ev : evs)
    rendered.push_back(render_event(ev));
  auto out = render_batch("main", rendered);
  auto j = json::parse(out);
  CAF_CHECK_EQUAL(j["v"], version);
  CAF_CHECK_EQUAL(j["type"], "batch");
  CAF_CHECK_EQUAL(j["room"], "main");
  CAF_REQUIRE_EQUAL(j["messages"].size(), evs.size());
  for (size_t i = 0; i < evs.size(); ++i)
    CAF_CHECK_EQUAL(j["messages"][i], json::parse(rendered[i]));
  // The elements are the rendered bytes themselves, in order.
  auto expected = std::string{R"({"v":1,"type":"batch","room":"main",)"} +
                  R"("messages":[)" + rendered[0] + "," + rendered[1] + "," +
                  rendered[2] + "]}";
  CAF_CHECK_EQUAL(out, expected);
}

CAF_TEST(a batch of one message and an empty batch are valid json) {
  chat_event ev{event_kind::message, 1, 2, "r-1", "a", "", "x", ""};
  auto one = json::parse(render_batch("r-1", {render_event(ev)}));
  CAF_CHECK_EQUAL(one["messages"].size(), 1u);
  CAF_CHECK_EQUAL(one["room"], "r-1");
  auto none = json::parse(render_batch("r-1", {}));
  CAF_CHECK(none["messages"].is_array());
  CAF_CHECK(none["messages"].empty());
}

CAF_TEST(an error quoting a long name never cuts a character in half) {
  // 31 ASCII bytes, then a 2-byte character across the 32-byte quote limit.
  std::string action(31, 'a');
  action += "\xc4\xbc";
  action += "tail";
  auto res =
      parse_login_queue(R"({"v":1,"action":")" + action + R"("})", lim());
  auto* r = std::get_if<rejected>(&res);
  CAF_REQUIRE(r != nullptr);
  CAF_CHECK_EQUAL(r->error.code, "unknown_action");
  CAF_CHECK(valid_utf8(r->error.reason));
  CAF_CHECK(valid_utf8(render_error(r->error)));
}
