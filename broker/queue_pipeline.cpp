#include "broker/queue_pipeline.hpp"

#include <functional>

namespace chatrelay::broker {

queue_pipeline::queue_pipeline(std::vector<uint16_t> channels, size_t window)
    : window_(window == 0 ? 1 : window) {
  for (auto number : channels) {
    channel_state ch;
    ch.number = number;
    channels_.push_back(std::move(ch));
  }
}

void queue_pipeline::submit(queue_request req) {
  channel_of(req.queue).waiting.push_back(std::move(req));
}

std::vector<queue_method> queue_pipeline::take_sends() {
  std::vector<queue_method> out;
  for (auto& ch : channels_) {
    if (ch.state == channel_state::closed && !ch.waiting.empty()) {
      out.push_back({queue_method::open_channel, ch.number, {}, {}});
      ch.state = channel_state::opening;
    }
    if (ch.state == channel_state::open) fill(ch, out);
  }
  return out;
}

void queue_pipeline::fill(channel_state& ch, std::vector<queue_method>& out) {
  // At least one request goes whatever its size: a window smaller than one
  // request's methods must not stop the channel for good.
  while (!ch.waiting.empty() &&
         (ch.outstanding == 0 || ch.outstanding < window_)) {
    auto req = std::move(ch.waiting.front());
    ch.waiting.pop_front();
    auto n = append_methods(ch, req, out);
    ch.outstanding += n;
    ch.sent.push_back({std::move(req), n});
  }
  pop_finished(ch);
}

size_t queue_pipeline::append_methods(channel_state& ch,
                                      const queue_request& req,
                                      std::vector<queue_method>& out) {
  auto before = out.size();
  auto add = [&](queue_method::kind_type kind, const std::string& exchange) {
    out.push_back({kind, ch.number, req.queue, exchange});
  };
  switch (req.kind) {
  case queue_request::declare:
    for (auto& ex : req.exchanges)
      if (ch.exchanges.insert(ex).second)
        add(queue_method::declare_exchange, ex);
    add(queue_method::declare_queue, {});
    for (auto& ex : req.exchanges)
      add(queue_method::bind, ex);
    break;
  case queue_request::unbind:
    for (auto& ex : req.exchanges)
      add(queue_method::unbind, ex);
    break;
  case queue_request::remove:
    add(queue_method::delete_queue, {});
    break;
  }
  return out.size() - before;
}

void queue_pipeline::ok(uint16_t channel) {
  auto* ch = find(channel);
  if (!ch) return;
  if (ch->state == channel_state::opening) {
    ch->state = channel_state::open;
    return;
  }
  if (ch->sent.empty()) return; // not ours to count: ignore
  auto& front = ch->sent.front();
  if (front.remaining > 0) {
    --front.remaining;
    --ch->outstanding;
  }
  pop_finished(*ch);
}

void queue_pipeline::pop_finished(channel_state& ch) {
  // A request without methods (an unbind of no exchange) finishes with the
  // one before it.
  while (!ch.sent.empty() && ch.sent.front().remaining == 0) {
    answer(ch.sent.front().req, true);
    ch.sent.pop_front();
  }
}

void queue_pipeline::failed(uint16_t channel) {
  auto* ch = find(channel);
  if (!ch) return;
  auto opening = ch->state == channel_state::opening;
  ch->state = channel_state::closed;
  ch->outstanding = 0;
  // What was declared on the closed channel may be what failed.
  ch->exchanges.clear();
  if (opening || ch->sent.empty()) return;
  answer(ch->sent.front().req, false);
  ch->sent.pop_front();
  // The broker ignored everything after the failed method: send it again,
  // ahead of what has not been sent yet.
  while (!ch->sent.empty()) {
    ch->waiting.push_front(std::move(ch->sent.back().req));
    ch->sent.pop_back();
  }
}

void queue_pipeline::lost() {
  for (auto& ch : channels_) {
    for (auto& s : ch.sent)
      answer(s.req, false);
    for (auto& req : ch.waiting)
      answer(req, false);
    ch.sent.clear();
    ch.waiting.clear();
    ch.outstanding = 0;
    ch.exchanges.clear();
    ch.state = channel_state::closed;
  }
}

std::vector<std::pair<uint64_t, bool>> queue_pipeline::take_answers() {
  return std::exchange(answers_, {});
}

bool queue_pipeline::owns(uint16_t channel) const {
  for (auto& ch : channels_)
    if (ch.number == channel) return true;
  return false;
}

size_t queue_pipeline::pending() const {
  size_t n = 0;
  for (auto& ch : channels_)
    n += ch.sent.size() + ch.waiting.size();
  return n;
}

queue_pipeline::channel_state&
queue_pipeline::channel_of(const std::string& queue) {
  return channels_[std::hash<std::string>{}(queue) % channels_.size()];
}

queue_pipeline::channel_state* queue_pipeline::find(uint16_t channel) {
  for (auto& ch : channels_)
    if (ch.number == channel) return &ch;
  return nullptr;
}

void queue_pipeline::answer(const queue_request& req, bool ok) {
  if (req.id != 0) answers_.emplace_back(req.id, ok);
}

} // namespace chatrelay::broker
