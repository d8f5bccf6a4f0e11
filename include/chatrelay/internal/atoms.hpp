// The atoms only the relay's own actors exchange (not installed).
#pragma once

#include "chatrelay/atoms.hpp"

namespace chatrelay {

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
CHATRELAY_ATOM(direct, "direct")
CHATRELAY_ATOM(ping, "ping")
CHATRELAY_ATOM(expire, "expire")
CHATRELAY_ATOM(logout, "logout")
CHATRELAY_ATOM(tick, "tick")
CHATRELAY_ATOM(post, "post")
CHATRELAY_ATOM(posted, "posted")
CHATRELAY_ATOM(confirm, "confirm")
CHATRELAY_ATOM(peers, "peers")
CHATRELAY_ATOM(retire, "retire")

} // namespace chatrelay
