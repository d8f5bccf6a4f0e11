// The wire protocol (docs/protocol.md): the one place that parses, validates
// and renders the JSON bodies exchanged with clients and with other relays.
#pragma once

#include "chatrelay/internal/messages.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace chatrelay::protocol {

/// Protocol version carried as "v" in every body the relay emits.
constexpr int version = 1;

/// Limits and names the parser needs from the options.
struct limits {
  size_t max_message_size = 16384;
  size_t max_rooms = 16;
  std::string default_room = "main";
  std::vector<std::string> reserved_queues; ///< e.g. the login/chat queues
};

/// An error to report to a client: a stable code and a human reason.
struct error_info {
  std::string code;
  std::string reason;
};

struct login_request {
  std::string login;
  std::string queue;
  std::vector<std::string> rooms;
  std::map<std::string, uint64_t> since; ///< room -> last id seen
  /// The client asked for `batch` events instead of single `message`s.
  bool batch = false;
};

struct logout_request {
  std::string login;
  std::string token;
};

struct ping_request {
  std::string login;
  std::string token;
};

/// What a body on the login queue can ask for.
using login_queue_request =
    std::variant<login_request, logout_request, ping_request>;

/// A body that failed, with whatever it told about its sender.
struct rejected {
  error_info error;
  std::string login; ///< the claimed login, if any and valid
  std::string queue; ///< the claimed queue (login action), if valid
  std::string token; ///< the token it carried, if any
  std::string cid;
};

template <class T>
using parsed = std::variant<T, rejected>;

parsed<login_queue_request> parse_login_queue(std::string_view body,
                                              const limits& lim);

parsed<chat_request> parse_chat(std::string_view body, const limits& lim);

/// The value checks of a chat message (UTF-8, sizes, sender, room and
/// recipient names): the one function for wire input and for `inject`.
std::optional<error_info> check_chat(const chat_request& req,
                                     const limits& lim);

bool valid_utf8(std::string_view str);
bool valid_login(std::string_view str);
bool valid_room(std::string_view str);
bool valid_queue(std::string_view str, const limits& lim);

/// Renders a message/direct/join/leave event for users.
std::string render_event(const chat_event& ev);

/// A `batch` event for a room: `{"v":1,"type":"batch","room":R,
/// "messages":[...]}` whose elements are `events`, bodies already rendered
/// by render_event, copied byte for byte (no re-encoding).
std::string render_batch(std::string_view room,
                         const std::vector<std::string>& events);

std::string render_error(const error_info& err, std::string_view cid = {});

/// How a rejected message is answered (never a silent drop): the error,
/// published to `queue`, acks the delivery `ack` once confirmed.
publish_batch error_reply(const ack_ref& ack, const std::string& queue,
                          const error_info& err, std::string_view cid = {});

/// The welcome a user gets after login.
struct welcome {
  std::string login;
  std::string token;
  std::vector<std::string> rooms;
  std::map<std::string, std::vector<std::string>> users; ///< per room
  std::map<std::string, size_t> counts; ///< members online per room
  /// Per room, its `message` events already rendered (room::replay).
  std::map<std::string, std::vector<std::string>> history;
  bool resumed = false;
};

std::string render_welcome(const welcome& w);

/// Milliseconds since the epoch, as carried in "ts".
int64_t now_ms();

/// A fresh session token: 128 bits from the kernel CSPRNG (getrandom(2)),
/// as 32 lowercase hex characters.
std::string make_token();

} // namespace chatrelay::protocol
