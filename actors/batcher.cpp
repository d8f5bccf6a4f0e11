#include "actors/batcher.hpp"

#include <algorithm>

namespace chatrelay {

room_exchanges exchanges_of(std::string_view prefix, std::string_view room) {
  std::string single{prefix};
  single += room;
  return {single, single + ".batch"};
}

batcher::batcher(batch_limits limits) : limits_(limits) {
  limits_.max_messages = std::max<size_t>(limits_.max_messages, 1);
}

std::optional<batcher::batch> batcher::push(std::string event, time_point now) {
  held_bytes_ += event.size();
  held_.push_back(std::move(event));
  return next(now);
}

std::optional<batcher::batch> batcher::confirmed(time_point now) {
  in_flight_ = false;
  return next(now);
}

std::optional<batcher::batch> batcher::expired(time_point now) {
  return next(now);
}

std::optional<batcher::time_point> batcher::deadline() const {
  if (in_flight_ || held_.empty() || limits_.linger.count() <= 0 || full())
    return std::nullopt;
  return last_sent_ + limits_.linger;
}

std::optional<batcher::batch> batcher::next(time_point now) {
  if (in_flight_ || held_.empty()) return std::nullopt;
  // With a linger, a batch that is not full waits until the room's last
  // batch is that old; a room quiet for as long publishes at once.
  if (!full() && now < last_sent_ + limits_.linger) return std::nullopt;
  in_flight_ = true;
  last_sent_ = now;
  return take();
}

bool batcher::full() const {
  return held_.size() >= limits_.max_messages ||
         held_bytes_ >= limits_.max_bytes;
}

batcher::batch batcher::take() {
  batch out;
  size_t bytes = 0;
  // The first message always goes (a message over the byte limit goes
  // alone); the rest only while both limits hold.
  while (!held_.empty() && out.size() < limits_.max_messages &&
         (out.empty() || bytes + held_.front().size() <= limits_.max_bytes)) {
    bytes += held_.front().size();
    out.push_back(std::move(held_.front()));
    held_.pop_front();
  }
  held_bytes_ -= bytes;
  return out;
}

} // namespace chatrelay
