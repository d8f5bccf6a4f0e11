#include "broker/leader_lock.hpp"

#include <algorithm>

namespace chatrelay::broker {

leader_lock::leader_lock(duration failover, duration login_retry)
    : failover_(failover), login_retry_(login_retry) {}

void leader_lock::connected(uint64_t generation, time_point now) {
  connected_ = true;
  chat_held_ = login_held_ = false;
  // A relay's first connection knows no sessions yet: it waits one failover
  // period before competing, so the active relay's snapshot (its hello asked
  // for one) can reach it, and a caught-up standby wins a takeover in that
  // window instead of this empty replica (whose snapshot would then wipe the
  // standbys' state). Later connections keep their state and compete at once.
  next_chat_ = generation <= 1 ? now + failover_ : now;
}

leader_lock::step leader_lock::next(time_point now) const {
  if (!connected_) return step::wait;
  if (!chat_held_) return now >= next_chat_ ? step::consume_chat : step::wait;
  if (!login_held_ && now >= next_login_) return step::consume_login;
  return step::wait;
}

duration leader_lock::until_next(time_point now) const {
  if (!connected_ || (chat_held_ && login_held_)) return duration::max();
  auto at = chat_held_ ? next_login_ : next_chat_;
  return std::max(duration::zero(), at - now);
}

void leader_lock::chat_granted() {
  chat_held_ = true;
  next_login_ = time_point{}; // login at once
}

void leader_lock::chat_refused(time_point now) {
  next_chat_ = now + failover_ / 4;
}

void leader_lock::login_granted() {
  login_held_ = true;
}

void leader_lock::login_refused(time_point now) {
  next_login_ = now + login_retry_;
}

void leader_lock::lost() {
  connected_ = chat_held_ = login_held_ = false;
}

} // namespace chatrelay::broker
