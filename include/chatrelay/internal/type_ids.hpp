// The relay's internal type ID block (not installed): the types only its own
// actors exchange. It follows the public block and ends below
// chatrelay::first_free_type_id (checked in relay.cpp).
#pragma once

#include "chatrelay/internal/actors.hpp"
#include "chatrelay/internal/messages.hpp"
#include "chatrelay/type_ids.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(chatrelay_internal, caf::id_block::chatrelay::end)
CAF_ADD_TYPE_ID(chatrelay_internal, (chatrelay::delivery))
CAF_ADD_TYPE_ID(chatrelay_internal, (chatrelay::outgoing))
CAF_ADD_TYPE_ID(chatrelay_internal, (chatrelay::publish_batch))
CAF_ADD_TYPE_ID(chatrelay_internal, (chatrelay::queue_binding))
CAF_ADD_TYPE_ID(chatrelay_internal, (chatrelay::chat_request))
CAF_ADD_TYPE_ID(chatrelay_internal, (chatrelay::delivery_source))
CAF_ADD_TYPE_ID(chatrelay_internal, (chatrelay::registry_actor))
CAF_ADD_TYPE_ID(chatrelay_internal, (chatrelay::user_actor))
CAF_ADD_TYPE_ID(chatrelay_internal, (chatrelay::broker_actor))
CAF_ADD_TYPE_ID(chatrelay_internal, (chatrelay::ack_ref))
CAF_ADD_TYPE_ID(chatrelay_internal, (chatrelay::room_actor))
CAF_END_TYPE_ID_BLOCK(chatrelay_internal)
