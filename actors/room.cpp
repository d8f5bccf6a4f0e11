#include "actors/room.hpp"

#include "chatrelay/internal/protocol.hpp"

#include <algorithm>

namespace chatrelay {

// -- ids and history ----------------------------------------------------------

chat_event room::stamp(chat_event ev, uint64_t id_floor, int64_t now_ms) {
  seq_ = std::max(seq_ + 1, id_floor);
  ev.id = seq_;
  ev.ts = now_ms;
  remember(ev);
  replace_cid(ev);
  return ev;
}

void room::replicate(const chat_event& ev) {
  seq_ = std::max(seq_, ev.id);
  remember(ev);
  replace_cid(ev);
}

room_replay room::replay(std::optional<uint64_t> since) const {
  room_replay result;
  // Complete when the history still starts right after `since` (or nothing
  // came after it).
  if (since)
    result.complete = *since >= seq_ ||
                      (!history_.empty() && history_.front().id <= *since + 1);
  for (size_t i = 0; i < history_.size(); ++i) {
    if (since && history_[i].id <= *since) continue;
    if (rendered_[i].empty())
      rendered_[i] = protocol::render_event(history_[i]);
    result.events.push_back(rendered_[i]);
  }
  return result;
}

void room::remember(const chat_event& ev) {
  if (bounds_.history_size > 0) {
    history_.push_back(ev);
    rendered_.emplace_back();
    while (history_.size() > bounds_.history_size) {
      history_.pop_front();
      rendered_.pop_front();
    }
  }
  if (ev.cid.empty()) return;
  auto key = ev.sender + '\n' + ev.cid;
  if (recent_.emplace(key, ev.id).second) cid_order_.push_back(std::move(key));
  auto window = std::max(bounds_.min_cid_window, bounds_.history_size);
  while (cid_order_.size() > window) {
    recent_.erase(cid_order_.front());
    cid_order_.pop_front();
  }
}

void room::replace_cid(const chat_event& ev) {
  if (ev.cid.empty()) return;
  if (auto i = recent_.find(ev.sender + '\n' + ev.cid); i != recent_.end())
    i->second = ev.id;
}

// -- client ids ---------------------------------------------------------------

std::optional<seen_message> room::seen(const std::string& sender,
                                       const std::string& cid) const {
  if (cid.empty()) return std::nullopt;
  auto i = recent_.find(sender + '\n' + cid);
  if (i == recent_.end()) return std::nullopt;
  seen_message result{i->second, nullptr};
  // History is in id order: the event is there while history holds it.
  auto h = std::lower_bound(
      history_.begin(), history_.end(), result.id,
      [](const chat_event& ev, uint64_t id) { return ev.id < id; });
  if (h != history_.end() && h->id == result.id) result.event = &*h;
  return result;
}

std::optional<repeated_message>
room::repeat(const chat_request& req, uint64_t id_floor, int64_t now_ms) {
  auto s = seen(req.sender, req.cid);
  if (!s) return std::nullopt;
  // "Latest" also means of this term: an id below the floor was issued by
  // an earlier term, and a message stamped since may have been lost with it.
  bool latest = s->event && s->id == seq_ && s->id >= id_floor;
  if (latest) return repeated_message{*s->event, false};
  chat_event again{event_kind::message, 0,  0,           req.room,
                   req.sender,          "", req.message, req.cid};
  return repeated_message{stamp(std::move(again), id_floor, now_ms), true};
}

// -- presence -----------------------------------------------------------------

bool room::enter(const std::string& login) {
  if (++members_[login] > 1)
    return false; // another session of the same login is already there
  return members_.size() <= bounds_.presence_limit; // else a large room
}

bool room::leave(const std::string& login) {
  auto i = members_.find(login);
  if (i == members_.end() || --i->second > 0)
    return false; // the login is still there through another session
  members_.erase(i);
  return members_.size() < bounds_.presence_limit; // else a large room
}

std::vector<std::string> room::listed() const {
  std::vector<std::string> result;
  for (auto& [login, count] : members_) {
    if (result.size() >= bounds_.presence_limit) break;
    result.push_back(login);
  }
  return result;
}

// -- moderation ---------------------------------------------------------------

std::optional<held_message> room::next_held() {
  if (moderating_ || waiting_.empty()) return std::nullopt;
  auto next = std::move(waiting_.front());
  waiting_.pop_front();
  return next;
}

} // namespace chatrelay
