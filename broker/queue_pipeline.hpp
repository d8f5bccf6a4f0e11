// The queue-operation pipeline: user-queue declares, binds, unbinds and
// deletes, sent on channels of their own without the AMQP thread ever
// waiting for an answer. Pure: no rabbitmq-c, no CAF, so every rule here is
// unit tested (tests/unit/pipeline.cpp). The client sends what take_sends()
// returns and reports each reply with ok() / failed().
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace chatrelay::broker {

/// One AMQP method of a queue operation, for the client to send. Every one
/// of them is answered by the broker (declare-ok, bind-ok, ...) or, on an
/// error, by a channel.close that voids the rest of the channel's methods.
struct queue_method {
  enum kind_type : uint8_t {
    open_channel,     ///< channel.open
    declare_exchange, ///< exchange.declare (fanout, durable)
    declare_queue,    ///< queue.declare (a user queue)
    bind,             ///< queue.bind
    unbind,           ///< queue.unbind
    delete_queue,     ///< queue.delete
  };
  kind_type kind;
  uint16_t channel;
  std::string queue;
  std::string exchange;
};

/// A request of the actors: declare `queue` bound to `exchanges`, unbind it
/// from them, or delete it.
struct queue_request {
  enum kind_type : uint8_t { declare, unbind, remove };
  kind_type kind;
  uint64_t id; ///< answered by take_answers() when not 0
  std::string queue;
  std::vector<std::string> exchanges;
};

class queue_pipeline {
public:
  /// `channels`: channel numbers of its own; a queue always uses the same
  /// one, so the operations on one queue run in the order submitted.
  /// `window`: methods awaiting their answer per channel.
  queue_pipeline(std::vector<uint16_t> channels, size_t window);

  /// Queues a request; it is sent by the next take_sends().
  void submit(queue_request req);

  /// The methods to send now, in order.
  std::vector<queue_method> take_sends();

  /// The broker answered the oldest method awaiting an answer on `channel`.
  void ok(uint16_t channel);

  /// The broker closed `channel` (the client has sent close-ok): its oldest
  /// method failed and the broker dropped the ones after it. The request of
  /// the failed method is answered false; the requests after it are sent
  /// again, unchanged, on the channel reopened.
  void failed(uint16_t channel);

  /// The connection is gone: every request not yet answered is answered
  /// false (its requester may wait without a timeout), none is kept, and
  /// every channel must be opened again.
  void lost();

  /// (id, ok) of the requests finished since the last call, in order.
  std::vector<std::pair<uint64_t, bool>> take_answers();

  /// True if `channel` is one of the pipeline's.
  bool owns(uint16_t channel) const;

  /// Requests neither answered nor dropped.
  size_t pending() const;

private:
  struct sent_request {
    queue_request req;
    size_t remaining; ///< its methods not answered yet
  };

  struct channel_state {
    uint16_t number;
    enum { closed, opening, open } state = closed;
    std::deque<queue_request> waiting; ///< not sent yet
    std::deque<sent_request> sent;     ///< sent, in order
    size_t outstanding = 0;            ///< methods awaiting an answer
    /// Exchanges declared on this channel: a bind that follows on the same
    /// channel finds them (the broker runs one channel's methods in order).
    std::unordered_set<std::string> exchanges;
  };

  channel_state& channel_of(const std::string& queue);
  channel_state* find(uint16_t channel);
  void fill(channel_state& ch, std::vector<queue_method>& out);
  size_t append_methods(channel_state& ch, const queue_request& req,
                        std::vector<queue_method>& out);
  void pop_finished(channel_state& ch);
  void answer(const queue_request& req, bool ok);

  std::vector<channel_state> channels_;
  size_t window_;
  std::vector<std::pair<uint64_t, bool>> answers_;
};

} // namespace chatrelay::broker
