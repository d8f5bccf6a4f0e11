#define CAF_SUITE codec

#include "chatrelay/json.hpp"

#include "chatrelay/internal/protocol.hpp"
#include "test.hpp"

#include <nlohmann/json.hpp>

using namespace chatrelay;
using json = nlohmann::json;

namespace {

bool same(const chat_event& a, const chat_event& b) {
  return a.kind == b.kind && a.id == b.id && a.ts == b.ts && a.room == b.room &&
         a.sender == b.sender && a.to == b.to && a.text == b.text &&
         a.cid == b.cid;
}

/// Whether reading `j` as an event is refused.
bool refused(const json& j) {
  try {
    j.get<chat_event>();
    return false;
  } catch (const nlohmann::json::exception&) {
    return true;
  }
}

} // namespace

CAF_TEST(every kind of event reads back as it was written) {
  std::vector<chat_event> events{
      {event_kind::message, 7, 1700, "main", "alice", "", "hi", "c1"},
      {event_kind::message, 8, 1701, "main", "alice", "", "no cid", ""},
      {event_kind::direct, 9, 1702, "", "alice", "bob", "psst", "c2"},
      {event_kind::join, 0, 0, "main", "bob", "", "", ""},
      {event_kind::leave, 0, 0, "main", "bob", "", "timeout", ""},
  };
  for (auto& ev : events) {
    json j = ev;
    auto back = j.get<chat_event>();
    if (!same(back, ev)) CAF_FAIL("read back differently: " << j.dump());
  }
}

CAF_TEST(an event has the wire protocol shape users read) {
  json msg =
      chat_event{event_kind::message, 7, 1700, "main", "alice", "", "hi", "c1"};
  CAF_CHECK_EQUAL(msg, json({{"v", protocol::version},
                             {"type", "message"},
                             {"id", 7},
                             {"ts", 1700},
                             {"room", "main"},
                             {"sender", "alice"},
                             {"message", "hi"},
                             {"cid", "c1"}}));
  json leave =
      chat_event{event_kind::leave, 0, 0, "main", "bob", "", "logout", ""};
  CAF_CHECK_EQUAL(leave, json({{"v", protocol::version},
                               {"type", "leave"},
                               {"room", "main"},
                               {"login", "bob"},
                               {"reason", "logout"}}));
  CAF_CHECK_EQUAL(protocol::render_event(leave.get<chat_event>()),
                  leave.dump());
}

CAF_TEST(an unknown type or a missing field is refused) {
  CAF_CHECK(refused({{"type", "shout"}, {"room", "main"}}));
  CAF_CHECK(refused({{"type", "message"}, {"room", "main"}}));
  CAF_CHECK(!refused(json(chat_event{})));
}
