// The data that travels only between the relay's own actors (not
// installed). Registered in internal/type_ids.hpp.
#pragma once

#include "chatrelay/messages.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace chatrelay {

/// Where a delivery from the broker came from.
enum class delivery_source : uint8_t { login, chat, events };

std::string to_string(delivery_source x);

/// One AMQP delivery, turned into an actor message by the broker bridge.
struct delivery {
  delivery_source source = delivery_source::chat;
  uint64_t tag = 0;        ///< AMQP delivery tag (0 for no-ack consumers)
  uint64_t generation = 0; ///< connection generation the tag belongs to
  bool redelivered = false;
  std::string body;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delivery& x) {
  return f(caf::meta::type_name("delivery"), x.source, x.tag, x.generation,
           x.redelivered, x.body);
}

/// One message to publish.
struct outgoing {
  std::string exchange; ///< empty = the default exchange
  std::string routing_key;
  std::string body;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outgoing& x) {
  return f(caf::meta::type_name("outgoing"), x.exchange, x.routing_key, x.body);
}

/// Messages published together; the delivery `ack_tag` (if not 0) is
/// acknowledged only once the broker has confirmed all of them, so a relay
/// that dies in between leaves the delivery to be redelivered.
struct publish_batch {
  std::vector<outgoing> messages;
  uint64_t ack_tag = 0;
  uint64_t generation = 0;
  delivery_source ack_source = delivery_source::chat; ///< queue of ack_tag
  /// Not 0: the broker reports done(confirm_request, ok) once all of them
  /// are confirmed (a publish that waits for its confirm, see confirm_atom).
  uint64_t confirm_request = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publish_batch& x) {
  return f(caf::meta::type_name("publish_batch"), x.messages, x.ack_tag,
           x.generation, x.ack_source, x.confirm_request);
}

/// A user's queue and the room exchanges it is bound to.
struct queue_binding {
  std::string queue;
  std::vector<std::string> exchanges;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, queue_binding& x) {
  return f(caf::meta::type_name("queue_binding"), x.queue, x.exchanges);
}

/// A validated chat message on its way to being stamped and broadcast.
struct chat_request {
  std::string sender;
  std::string message;
  std::string token; ///< empty when the client sent none
  std::string room;  ///< empty = the sender's first room
  std::string to;    ///< non-empty = direct message
  std::string cid;   ///< client message id, may be empty
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_request& x) {
  return f(caf::meta::type_name("chat_request"), x.sender, x.message, x.token,
           x.room, x.to, x.cid);
}

/// What to acknowledge once a message's publishes are confirmed: the
/// delivery it came in (tag 0: nothing, e.g. an embedder's inject). Carried
/// with a message along its path instead of hand-built publish batches.
struct ack_ref {
  uint64_t tag = 0;
  uint64_t generation = 0;
  delivery_source source = delivery_source::chat;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ack_ref& x) {
  return f(caf::meta::type_name("ack_ref"), x.tag, x.generation, x.source);
}

/// An empty batch that acknowledges `a` once published.
inline publish_batch acking(const ack_ref& a) {
  publish_batch batch;
  batch.ack_tag = a.tag;
  batch.generation = a.generation;
  batch.ack_source = a.source;
  return batch;
}

} // namespace chatrelay
