#include "chatrelay/internal/protocol.hpp"

#include "chatrelay/json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <system_error>

#include <sys/random.h>

namespace chatrelay {

namespace {

/// The name of enum value `x`: `names` lists them in declaration order.
template <class Enum, size_t N>
std::string name_of(Enum x, const char* const (&names)[N]) {
  auto i = static_cast<size_t>(x);
  return i < N ? names[i] : "?";
}

} // namespace

std::string to_string(delivery_source x) {
  static constexpr const char* names[] = {"login", "chat", "events"};
  return name_of(x, names);
}

std::string to_string(relay_role x) {
  static constexpr const char* names[] = {"disconnected", "standby", "active"};
  return name_of(x, names);
}

std::string to_string(event_kind x) {
  static constexpr const char* names[] = {"message", "direct", "join", "leave"};
  return name_of(x, names);
}

} // namespace chatrelay

namespace chatrelay::protocol {

using json = nlohmann::json;

namespace {

/// Bodies may carry this much envelope around the message text.
constexpr size_t envelope_allowance = 1024;

/// Deeper JSON than this is refused before parsing (no client needs it).
constexpr int max_depth = 16;

constexpr size_t max_cid_size = 64;
constexpr size_t max_token_size = 128;

/// Random bytes in a session token (128 bits).
constexpr size_t token_bytes = 16;

rejected fail(std::string code, std::string reason) {
  rejected r;
  r.error = {std::move(code), std::move(reason)};
  return r;
}

bool in_set(std::string_view str, bool (*pred)(char)) {
  return std::all_of(str.begin(), str.end(), pred);
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/// At most `n` bytes of `str` for an error's reason, cut before a UTF-8
/// continuation byte: a character cut in half would make the error itself
/// invalid UTF-8 (found by the fuzzer).
std::string clip(std::string_view str, size_t n) {
  if (str.size() <= n) return std::string{str};
  while (n > 0 && (static_cast<unsigned char>(str[n]) & 0xC0) == 0x80)
    --n;
  return std::string{str.substr(0, n)};
}

bool starts_with(std::string_view str, std::string_view prefix) {
  return str.substr(0, prefix.size()) == prefix;
}

/// Cheap pre-scan: refuses nesting deeper than max_depth.
bool depth_ok(std::string_view body) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

/// Size, encoding and syntax checks shared by both queues.
std::variant<json, rejected> parse_object(std::string_view body,
                                          const limits& lim) {
  if (body.size() > lim.max_message_size + envelope_allowance)
    return fail("too_large", "body of " + std::to_string(body.size()) +
                                 " bytes exceeds the limit");
  if (!valid_utf8(body)) return fail("bad_utf8", "body is not valid UTF-8");
  if (!depth_ok(body)) return fail("bad_json", "JSON nested too deeply");
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded()) return fail("bad_json", "body is not valid JSON");
  if (!doc.is_object()) return fail("bad_json", "body is not a JSON object");
  return doc;
}

/// Reads a string field; `required` decides whether absence is an error.
std::optional<rejected> get_string(const json& doc, const char* key,
                                   std::string& out, bool required) {
  auto i = doc.find(key);
  if (i == doc.end() || i->is_null()) {
    if (required)
      return fail("missing_field",
                  std::string{"field '"} + key + "' is required");
    return std::nullopt;
  }
  if (!i->is_string())
    return fail("bad_type",
                std::string{"field '"} + key + "' must be a string");
  out = i->get<std::string>();
  return std::nullopt;
}

/// Reads an optional boolean field (absent or null leaves `out` alone).
std::optional<rejected> get_bool(const json& doc, const char* key, bool& out) {
  auto i = doc.find(key);
  if (i == doc.end() || i->is_null()) return std::nullopt;
  if (!i->is_boolean())
    return fail("bad_type",
                std::string{"field '"} + key + "' must be true or false");
  out = i->get<bool>();
  return std::nullopt;
}

std::optional<rejected> read_rooms(const json& doc, const limits& lim,
                                   std::vector<std::string>& rooms) {
  if (auto i = doc.find("rooms"); i != doc.end() && !i->is_null()) {
    if (!i->is_array())
      return fail("bad_type", "field 'rooms' must be an array of strings");
    if (i->size() > lim.max_rooms)
      return fail("bad_value", "at most " + std::to_string(lim.max_rooms) +
                                   " rooms per user");
    for (auto& r : *i) {
      if (!r.is_string())
        return fail("bad_type", "field 'rooms' must be an array of strings");
      rooms.push_back(r.get<std::string>());
    }
  } else {
    std::string room;
    if (auto err = get_string(doc, "room", room, false)) return err;
    if (!room.empty()) rooms.push_back(room);
  }
  if (rooms.empty()) rooms.push_back(lim.default_room);
  for (auto& r : rooms)
    if (!valid_room(r))
      return fail("bad_room", "room name '" + clip(r, 64) + "' is not valid");
  std::sort(rooms.begin(), rooms.end());
  rooms.erase(std::unique(rooms.begin(), rooms.end()), rooms.end());
  return std::nullopt;
}

std::optional<rejected> read_since(const json& doc,
                                   std::map<std::string, uint64_t>& since) {
  auto i = doc.find("since");
  if (i == doc.end() || i->is_null()) return std::nullopt;
  if (!i->is_object())
    return fail("bad_type", "field 'since' must map rooms to message ids");
  for (auto& [room, id] : i->items()) {
    if (!id.is_number_unsigned())
      return fail("bad_type", "field 'since' must map rooms to message ids");
    since[room] = id.get<uint64_t>();
  }
  return std::nullopt;
}

/// Parses the fields every login-queue action shares (login, token).
std::optional<rejected> read_identity(const json& doc, std::string& login,
                                      std::string* token) {
  if (auto err = get_string(doc, "login", login, true)) return err;
  if (!valid_login(login))
    return fail("bad_login", "login must match [A-Za-z0-9_.-]{1,32}");
  if (token) {
    if (auto err = get_string(doc, "token", *token, false)) return err;
    if (token->size() > max_token_size)
      return fail("bad_token", "token too long");
  }
  return std::nullopt;
}

/// Whatever a body tells about its sender, read leniently first so that
/// every later error can be reported to that sender.
rejected sniff(const json& doc, const char* sender_key, const limits& lim) {
  rejected who;
  auto str = [&](const char* key) -> std::string {
    auto i = doc.find(key);
    return i != doc.end() && i->is_string() ? i->get<std::string>()
                                            : std::string{};
  };
  if (auto login = str(sender_key); valid_login(login)) who.login = login;
  if (auto queue = str("queue"); valid_queue(queue, lim)) who.queue = queue;
  if (auto token = str("token"); token.size() <= max_token_size)
    who.token = token;
  if (auto cid = str("cid"); cid.size() <= max_cid_size) who.cid = cid;
  return who;
}

/// Fills in what is known about the sender.
rejected about(rejected err, const rejected& who) {
  err.login = who.login;
  err.queue = who.queue;
  err.token = who.token;
  err.cid = who.cid;
  return err;
}

std::optional<rejected> check_version(const json& doc) {
  auto v = doc.find("v");
  if (v == doc.end() ||
      (v->is_number_integer() && v->get<int64_t>() == version))
    return std::nullopt;
  return fail("unsupported_version",
              "protocol version " + clip(v->dump(), 16) + " is not supported");
}

parsed<login_queue_request> parse_login_action(const json& doc,
                                               const limits& lim) {
  auto who = sniff(doc, "login", lim);
  auto failed = [&](rejected err) { return about(std::move(err), who); };
  if (auto err = check_version(doc)) return failed(*err);
  std::string action;
  if (auto err = get_string(doc, "action", action, true)) return failed(*err);
  if (action == "login") {
    login_request req;
    if (auto err = read_identity(doc, req.login, nullptr)) return failed(*err);
    if (auto err = get_string(doc, "queue", req.queue, true))
      return failed(*err);
    if (!valid_queue(req.queue, lim))
      return failed(fail("bad_queue", "queue name is not allowed"));
    if (auto err = read_rooms(doc, lim, req.rooms)) return failed(*err);
    if (auto err = read_since(doc, req.since)) return failed(*err);
    if (auto err = get_bool(doc, "batch", req.batch)) return failed(*err);
    return login_queue_request{std::move(req)};
  }
  if (action == "logout" || action == "ping") {
    std::string login, token;
    if (auto err = read_identity(doc, login, &token)) return failed(*err);
    if (action == "logout")
      return login_queue_request{logout_request{login, token}};
    return login_queue_request{ping_request{login, token}};
  }
  return failed(
      fail("unknown_action", "unknown action '" + clip(action, 32) + "'"));
}

} // namespace

bool valid_utf8(std::string_view str) {
  auto* p = reinterpret_cast<const unsigned char*>(str.data());
  auto* end = p + str.size();
  while (p < end) {
    unsigned char c = *p;
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++p;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) <= n) return false;
    for (size_t i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
        (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += n + 1;
  }
  return true;
}

bool valid_login(std::string_view str) {
  return !str.empty() && str.size() <= 32 &&
         in_set(str, [](char c) { return name_char(c) || c == '.'; });
}

bool valid_room(std::string_view str) {
  return !str.empty() && str.size() <= 32 && in_set(str, name_char);
}

bool valid_queue(std::string_view str, const limits& lim) {
  if (str.empty() || str.size() > 128 || !name_char(str[0]) || str[0] == '-' ||
      str[0] == '_')
    return false;
  if (!in_set(str, [](char c) { return name_char(c) || c == '.' || c == ':'; }))
    return false;
  if (starts_with(str, "amq.") || starts_with(str, "chat.relay.")) return false;
  return std::find(lim.reserved_queues.begin(), lim.reserved_queues.end(),
                   str) == lim.reserved_queues.end();
}

parsed<login_queue_request> parse_login_queue(std::string_view body,
                                              const limits& lim) {
  auto obj = parse_object(body, lim);
  if (auto* err = std::get_if<rejected>(&obj)) return *err;
  return parse_login_action(std::get<json>(obj), lim);
}

parsed<chat_request> parse_chat(std::string_view body, const limits& lim) {
  auto obj = parse_object(body, lim);
  if (auto* err = std::get_if<rejected>(&obj)) return *err;
  auto& doc = std::get<json>(obj);
  auto who = sniff(doc, "sender", lim);
  who.queue.clear(); // a chat names no queue of its own
  auto failed = [&](rejected err) { return about(std::move(err), who); };
  if (auto err = check_version(doc)) return failed(*err);
  chat_request req;
  if (auto err = get_string(doc, "sender", req.sender, true))
    return failed(*err);
  if (auto err = get_string(doc, "cid", req.cid, false)) return failed(*err);
  if (doc.contains("cid") && req.cid.empty())
    return failed(fail("bad_value", "cid must be 1 to 64 characters"));
  if (auto err = get_string(doc, "message", req.message, true))
    return failed(*err);
  if (auto err = get_string(doc, "token", req.token, false))
    return failed(*err);
  if (auto err = get_string(doc, "room", req.room, false)) return failed(*err);
  if (auto err = get_string(doc, "to", req.to, false)) return failed(*err);
  if (auto err = check_chat(req, lim))
    return failed(fail(err->code, err->reason));
  return req;
}

std::optional<error_info> check_chat(const chat_request& req,
                                     const limits& lim) {
  // Wire bodies were checked for UTF-8 as a whole; an embedder's inject was
  // not, and one bad byte would make every later JSON dump throw.
  for (auto* field : {&req.sender, &req.message, &req.cid, &req.room, &req.to})
    if (!valid_utf8(*field))
      return error_info{"bad_utf8", "a field is not valid UTF-8"};
  if (!valid_login(req.sender))
    return error_info{"bad_login", "sender must be a valid login"};
  if (req.cid.size() > max_cid_size)
    return error_info{"bad_value", "cid must be 1 to 64 characters"};
  if (req.message.size() > lim.max_message_size)
    return error_info{"too_large", "message of " +
                                       std::to_string(req.message.size()) +
                                       " bytes exceeds the limit of " +
                                       std::to_string(lim.max_message_size)};
  if (req.token.size() > max_token_size)
    return error_info{"bad_token", "token too long"};
  if (!req.room.empty() && !valid_room(req.room))
    return error_info{"bad_room", "room name is not valid"};
  if (!req.to.empty() && !valid_login(req.to))
    return error_info{"bad_login", "recipient must be a valid login"};
  return std::nullopt;
}

namespace {

/// Appends `[a,b,...]` of JSON texts already rendered (no encode again).
void append_array(std::string& out, const std::vector<std::string>& items) {
  size_t size = out.size() + items.size() + 2;
  for (auto& x : items)
    size += x.size();
  out.reserve(size);
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += items[i];
  }
  out += ']';
}

} // namespace

std::string render_event(const chat_event& ev) {
  return json(ev).dump(); // the codec (chatrelay/json.hpp)
}

std::string render_batch(std::string_view room,
                         const std::vector<std::string>& events) {
  // The events are rendered once per message and shared by both audiences:
  // a batch only frames them, so it costs a copy, not a JSON encode.
  auto out = R"({"v":)" + std::to_string(version) +
             R"(,"type":"batch","room":)" + json(room).dump() +
             R"(,"messages":)";
  append_array(out, events);
  out += '}';
  return out;
}

std::string render_error(const error_info& err, std::string_view cid) {
  json j{{"v", version},
         {"type", "error"},
         {"code", err.code},
         {"reason", err.reason}};
  if (!cid.empty()) j["cid"] = cid;
  // Never throw on what a client sent: a bad byte becomes U+FFFD.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

publish_batch error_reply(const ack_ref& ack, const std::string& queue,
                          const error_info& err, std::string_view cid) {
  auto batch = acking(ack);
  batch.messages.push_back({"", queue, render_error(err, cid)});
  return batch;
}

std::string render_welcome(const welcome& w) {
  json j{{"v", version},       {"type", "welcome"},   {"login", w.login},
         {"token", w.token},   {"rooms", w.rooms},    {"users", w.users},
         {"counts", w.counts}, {"resumed", w.resumed}};
  // The history is spliced in as rendered: a welcome encodes no event again.
  auto out = j.dump();
  out.pop_back(); // the closing brace
  out += R"(,"history":{)";
  bool first_room = true;
  for (auto& [room, events] : w.history) {
    if (!first_room) out += ',';
    first_room = false;
    out += json(room).dump();
    out += ':';
    append_array(out, events);
  }
  out += "}}";
  return out;
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

std::string make_token() {
  // Tokens are the only thing that stops one user speaking as another, so
  // they come from the kernel's CSPRNG: getrandom(2) never returns
  // predictable bytes (it blocks only until the pool is first seeded, at
  // boot), while a seeded std::mt19937_64 has 2^32 streams and an output
  // that can be inverted.
  unsigned char bits[token_bytes];
  size_t filled = 0;
  while (filled < sizeof(bits)) {
    auto n = ::getrandom(bits + filled, sizeof(bits) - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    filled += static_cast<size_t>(n);
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof(bits));
  for (auto b : bits) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 0xF]);
  }
  return out;
}

} // namespace chatrelay::protocol
