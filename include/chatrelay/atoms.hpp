// The atoms of the relay's public interface (relay_actor, observers,
// moderators); at most 10 characters each. The atoms only the relay's own
// actors exchange are in internal/atoms.hpp.
#pragma once

#include <caf/atom.hpp>

#define CHATRELAY_ATOM(name, text)                                             \
  using name##_atom = caf::atom_constant<caf::atom(text)>;

namespace chatrelay {

CHATRELAY_ATOM(subscribe, "subscribe")
CHATRELAY_ATOM(inject, "inject")
CHATRELAY_ATOM(presence, "presence")
CHATRELAY_ATOM(event, "event")
CHATRELAY_ATOM(status, "status")
CHATRELAY_ATOM(filter, "filter")

} // namespace chatrelay
