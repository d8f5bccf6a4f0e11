// libFuzzer target for the wire protocol parser/validator (docs/protocol.md).
//
// Feeds arbitrary bytes to protocol::parse_login_queue and protocol::parse_chat
// (the two entry points for everything a client can put on the `login` and
// `chat` queues), then renders whatever parsed (render_event, render_error,
// render_welcome, render_batch) and checks the invariants the relay relies on:
//  - nothing the parser accepts violates the documented name patterns/limits,
//  - every rejection carries a documented error code,
//  - everything rendered is valid UTF-8 JSON carrying "v":1,
//  - a batch's elements parse equal to the single renderings they frame.
// Built and run by tests/fuzz/run.sh (clang++
// -fsanitize=fuzzer,address,undefined).
#include "chatrelay/internal/protocol.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

using namespace chatrelay;
namespace proto = chatrelay::protocol;

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "INVARIANT VIOLATED: %s: %.*s\n", what,
               static_cast<int>(std::min<size_t>(detail.size(), 200)),
               detail.data());
  std::abort();
}

void check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

const std::set<std::string>& known_codes() {
  static const std::set<std::string> codes{
      "bad_json",          "bad_utf8",
      "too_large",         "missing_field",
      "bad_type",          "bad_value",
      "unknown_action",    "unsupported_version",
      "bad_login",         "bad_queue",
      "bad_room",          "bad_token",
      "not_logged_in",     "duplicate_login",
      "queue_taken",       "not_in_room",
      "unknown_recipient", "rate_limited"};
  return codes;
}

const proto::limits& lims() {
  static const proto::limits lim = [] {
    proto::limits l;
    l.max_message_size = 4096; // small, so the fuzzer reaches the boundary
    l.reserved_queues = {"login", "chat"};
    return l;
  }();
  return lim;
}

/// A rendered body must be valid UTF-8 JSON (object) with "v":1.
void check_rendered(const std::string& out) {
  check(proto::valid_utf8(out), "rendered body is not UTF-8", out);
  auto j = nlohmann::json::parse(out, nullptr, false);
  check(!j.is_discarded() && j.is_object(),
        "rendered body is not a JSON object", out);
  check(j.value("v", 0) == proto::version, "rendered body lacks v:1", out);
}

void check_rejected(const proto::rejected& r) {
  check(known_codes().count(r.error.code) == 1, "undocumented error code",
        r.error.code);
  check(!r.error.reason.empty(), "error without a reason", r.error.code);
  // What the rejection claims about its sender is only kept when valid.
  if (!r.login.empty())
    check(proto::valid_login(r.login), "rejected.login not valid", r.login);
  if (!r.queue.empty())
    check(proto::valid_queue(r.queue, lims()), "rejected.queue not valid",
          r.queue);
  check(r.cid.size() <= 64, "rejected.cid too long", r.cid);
  // The error goes back to the client: render it (with and without cid).
  check_rendered(proto::render_error(r.error, r.cid));
  check_rendered(proto::render_error(r.error));
}

/// A batch framing `event` twice (as a batching client gets it) is valid and
/// carries the single rendering unchanged.
void check_batch(const std::string& room, const std::string& event) {
  auto out = proto::render_batch(room, {event, event});
  check_rendered(out);
  auto j = nlohmann::json::parse(out);
  auto single = nlohmann::json::parse(event);
  check(j["type"] == "batch" && j["room"] == room, "batch header wrong", out);
  check(j["messages"].size() == 2 && j["messages"][0] == single &&
            j["messages"][1] == single,
        "batch element differs from the single rendering", out);
}

void check_login_queue(std::string_view body) {
  auto res = proto::parse_login_queue(body, lims());
  if (auto* r = std::get_if<proto::rejected>(&res)) {
    check_rejected(*r);
    return;
  }
  auto& req = std::get<proto::login_queue_request>(res);
  if (auto* in = std::get_if<proto::login_request>(&req)) {
    check(proto::valid_login(in->login), "accepted login not valid", in->login);
    check(proto::valid_queue(in->queue, lims()), "accepted queue not valid",
          in->queue);
    check(in->queue != "login" && in->queue != "chat",
          "reserved queue accepted", in->queue);
    check(in->queue.rfind("amq.", 0) != 0 &&
              in->queue.rfind("chat.relay.", 0) != 0,
          "reserved queue prefix accepted", in->queue);
    check(!in->rooms.empty() && in->rooms.size() <= lims().max_rooms,
          "accepted room count out of range");
    for (auto& room : in->rooms)
      check(proto::valid_room(room), "accepted room not valid", room);
    // What the relay sends back: a welcome with this login's data.
    proto::welcome w;
    w.login = in->login;
    w.token = proto::make_token();
    w.rooms = in->rooms;
    for (auto& room : in->rooms) {
      w.users[room] = {in->login};
      chat_event ev;
      ev.kind = event_kind::join;
      ev.room = room;
      ev.sender = in->login;
      w.history[room].push_back(proto::render_event(ev));
    }
    w.resumed = !in->since.empty();
    check_rendered(proto::render_welcome(w));
  } else if (auto* out = std::get_if<proto::logout_request>(&req)) {
    check(proto::valid_login(out->login), "accepted logout login not valid",
          out->login);
    check(out->token.size() <= 128, "accepted token too long");
  } else if (auto* ping = std::get_if<proto::ping_request>(&req)) {
    check(proto::valid_login(ping->login), "accepted ping login not valid",
          ping->login);
    check(ping->token.size() <= 128, "accepted token too long");
  }
}

void check_chat(std::string_view body) {
  auto res = proto::parse_chat(body, lims());
  if (auto* r = std::get_if<proto::rejected>(&res)) {
    check_rejected(*r);
    return;
  }
  auto& req = std::get<chat_request>(res);
  check(proto::valid_login(req.sender), "accepted sender not valid",
        req.sender);
  check(req.message.size() <= lims().max_message_size,
        "accepted message over the limit");
  check(proto::valid_utf8(req.message), "accepted message not UTF-8");
  check(req.room.empty() || proto::valid_room(req.room),
        "accepted room not valid", req.room);
  check(req.to.empty() || proto::valid_login(req.to),
        "accepted recipient not valid", req.to);
  check(req.cid.size() <= 64, "accepted cid too long", req.cid);
  // What the relay publishes for it: a room message and a direct message.
  chat_event ev;
  ev.kind = req.to.empty() ? event_kind::message : event_kind::direct;
  ev.id = 1;
  ev.ts = 1764358200123;
  ev.room = req.room.empty() ? lims().default_room : req.room;
  ev.sender = req.sender;
  ev.to = req.to;
  ev.text = req.message;
  ev.cid = req.cid;
  auto out = proto::render_event(ev);
  check_rendered(out);
  // The rendered message keeps the text and cid byte for byte.
  auto j = nlohmann::json::parse(out);
  check(j["message"].get<std::string>() == req.message, "text changed");
  if (!req.cid.empty())
    check(j["cid"].get<std::string>() == req.cid, "cid changed");
  check_batch(ev.room, out);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body{reinterpret_cast<const char*>(data), size};
  check_login_queue(body);
  check_chat(body);
  return 0;
}
