// The daemon's status page: GET /status (HTML that polls /status.json).
#pragma once

namespace chatrelay::app {

/// A self-contained page (no external resources): role, broker connection,
/// peers, users and rooms online, messages and errors per second.
extern const char* const status_page_html;

} // namespace chatrelay::app
