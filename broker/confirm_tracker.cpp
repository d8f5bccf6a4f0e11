#include "broker/confirm_tracker.hpp"

#include <algorithm>
#include <utility>

namespace chatrelay::broker {

confirm_tracker::confirm_tracker(duration deadline) : deadline_(deadline) {}

uint64_t confirm_tracker::add(std::vector<message> messages, uint64_t tag,
                              uint16_t channel, time_point now) {
  auto first = base_ + pubs_.size();
  uint64_t owner = 0;
  if (tag != 0) {
    if (messages.empty()) { // nothing to wait for
      settled_.push_back({tag, channel, false});
      return first;
    }
    owner = next_delivery_++;
    deliveries_.emplace(owner, delivery{tag, channel, messages.size()});
  }
  for (auto& msg : messages)
    pubs_.push_back({std::move(msg), now, owner});
  return first;
}

void confirm_tracker::confirm(uint64_t seq, bool multiple, bool nack,
                              time_point now) {
  last_confirm_ = now;     // the broker is alive and confirming
  if (seq < base_) return; // a confirm of an earlier channel, or repeated
  auto last = std::min<uint64_t>(seq - base_, pubs_.size());
  if (!multiple) {
    if (last < pubs_.size()) mark(pubs_[last], nack, now);
  } else {
    // `multiple` confirms everything up to and including seq.
    for (uint64_t i = 0; i <= last && i < pubs_.size(); ++i)
      mark(pubs_[i], nack, now);
  }
  pop_done();
}

void confirm_tracker::mark(publish& p, bool nack, time_point now) {
  if (p.done) return;
  p.done = true;
  if (on_latency) on_latency(now - p.sent);
  if (p.resent) --resent_;
  if (p.delivery == 0) return;
  auto i = deliveries_.find(p.delivery);
  auto& d = i->second;
  d.nacked = d.nacked || nack;
  if (--d.outstanding > 0) return;
  settled_.push_back({d.tag, d.channel, d.nacked});
  deliveries_.erase(i);
}

void confirm_tracker::pop_done() {
  while (!pubs_.empty() && pubs_.front().done) {
    pubs_.pop_front();
    ++base_;
  }
}

std::vector<confirm_tracker::settlement> confirm_tracker::take_settled() {
  return std::exchange(settled_, {});
}

bool confirm_tracker::overdue(time_point now) const {
  if (pubs_.empty()) return false;
  // Sequence numbers follow sending order and confirmed publishes leave the
  // front: the front is the oldest that waits.
  auto oldest = pubs_.front().sent;
  return now - std::max(oldest, last_confirm_) >= deadline_ ||
         now - oldest >= max_wait_factor * deadline_;
}

std::vector<confirm_tracker::message> confirm_tracker::restart(time_point now) {
  std::deque<publish> again;
  std::vector<message> out;
  for (auto& p : pubs_) {
    if (p.done) continue;
    out.push_back(p.msg);
    p.sent = now;
    p.resent = true;
    again.push_back(std::move(p));
  }
  pubs_ = std::move(again);
  base_ = 1;
  resent_ = pubs_.size();
  return out;
}

} // namespace chatrelay::broker
