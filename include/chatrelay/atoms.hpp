// Every atom the relay's actors exchange (at most 10 characters each).
#pragma once

#include <caf/atom.hpp>

namespace chatrelay {

#define CHATRELAY_ATOM(name, text)                                             \
  using name##_atom = caf::atom_constant<caf::atom(text)>;

CHATRELAY_ATOM(delivery, "delivery")
CHATRELAY_ATOM(publish, "publish")
CHATRELAY_ATOM(declare, "declare")
CHATRELAY_ATOM(unbind, "unbind")
CHATRELAY_ATOM(delete, "delete")
CHATRELAY_ATOM(done, "done")
CHATRELAY_ATOM(sink, "sink")
CHATRELAY_ATOM(role, "role")
CHATRELAY_ATOM(ready, "ready")
CHATRELAY_ATOM(chat, "chat")
CHATRELAY_ATOM(stamp, "stamp")
CHATRELAY_ATOM(ping, "ping")
CHATRELAY_ATOM(expire, "expire")
CHATRELAY_ATOM(logout, "logout")
CHATRELAY_ATOM(tick, "tick")
CHATRELAY_ATOM(subscribe, "subscribe")
CHATRELAY_ATOM(inject, "inject")
CHATRELAY_ATOM(presence, "presence")
CHATRELAY_ATOM(event, "event")
CHATRELAY_ATOM(status, "status")
CHATRELAY_ATOM(filter, "filter")

#undef CHATRELAY_ATOM

} // namespace chatrelay
