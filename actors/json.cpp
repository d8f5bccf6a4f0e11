#include "chatrelay/json.hpp"

#include "chatrelay/internal/protocol.hpp"

#include <nlohmann/json.hpp>

namespace chatrelay {

namespace {

event_kind kind_of(const std::string& type) {
  for (auto k : {event_kind::message, event_kind::direct, event_kind::join,
                 event_kind::leave})
    if (to_string(k) == type) return k;
  throw nlohmann::json::other_error::create(
      501, "unknown chat event type '" + type + "'", nullptr);
}

} // namespace

void to_json(nlohmann::json& j, const chat_event& ev) {
  j = nlohmann::json{{"v", protocol::version}, {"type", to_string(ev.kind)}};
  switch (ev.kind) {
  case event_kind::message:
  case event_kind::direct:
    j["id"] = ev.id;
    j["ts"] = ev.ts;
    if (ev.kind == event_kind::message)
      j["room"] = ev.room;
    else
      j["to"] = ev.to;
    j["sender"] = ev.sender;
    j["message"] = ev.text;
    if (!ev.cid.empty()) j["cid"] = ev.cid;
    break;
  case event_kind::join:
    j["room"] = ev.room;
    j["login"] = ev.sender;
    break;
  case event_kind::leave:
    j["room"] = ev.room;
    j["login"] = ev.sender;
    j["reason"] = ev.text;
    break;
  }
}

void from_json(const nlohmann::json& j, chat_event& ev) {
  ev = chat_event{};
  ev.kind = kind_of(j.at("type").get<std::string>());
  switch (ev.kind) {
  case event_kind::message:
  case event_kind::direct:
    ev.id = j.at("id").get<uint64_t>();
    ev.ts = j.at("ts").get<int64_t>();
    if (ev.kind == event_kind::message)
      ev.room = j.at("room").get<std::string>();
    else
      ev.to = j.at("to").get<std::string>();
    ev.sender = j.at("sender").get<std::string>();
    ev.text = j.at("message").get<std::string>();
    ev.cid = j.value("cid", std::string{});
    break;
  case event_kind::join:
  case event_kind::leave:
    ev.room = j.at("room").get<std::string>();
    ev.sender = j.at("login").get<std::string>();
    if (ev.kind == event_kind::leave)
      ev.text = j.at("reason").get<std::string>();
    break;
  }
}

} // namespace chatrelay
