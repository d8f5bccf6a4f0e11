#include "app/status_page.hpp"

namespace chatrelay::app {

const char* const status_page_html = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chat-relayd status</title>
<style>
  :root { color-scheme: light dark; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; }
  body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5rem; max-width: 46rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  .sub { opacity: .7; margin-bottom: 1rem; }
  .badge { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; color: #fff; font-weight: 600; }
  .active { background: var(--ok); } .standby { background: var(--warn); } .disconnected, .unreachable { background: var(--bad); }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #8884; }
  th { font-weight: 500; width: 45%; }
  td { font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>chat-relayd <span id="role" class="badge unreachable" data-testid="role">…</span></h1>
<div class="sub"><span id="relay" data-testid="relay"></span> · <span id="version"></span> · up <span id="uptime"></span></div>
<table>
  <tr><th>Broker</th><td id="broker" data-testid="broker"></td></tr>
  <tr><th>Other relays (peers)</th><td id="peers" data-testid="peers"></td></tr>
  <tr><th>Users online</th><td id="users" data-testid="users"></td></tr>
  <tr><th>Rooms online</th><td id="rooms" data-testid="rooms"></td></tr>
  <tr><th>Messages in / s</th><td id="in-rate" data-testid="in-rate"></td></tr>
  <tr><th>Messages out / s</th><td id="out-rate" data-testid="out-rate"></td></tr>
  <tr><th>Errors / s</th><td id="error-rate" data-testid="error-rate"></td></tr>
  <tr><th>Messages in / out / errors (total)</th><td id="totals" data-testid="totals"></td></tr>
  <tr><th>Publishes awaiting confirm</th><td id="in-flight"></td></tr>
</table>
<p class="sub">Updated every second from <a href="status.json">status.json</a> · <a href="metrics">metrics</a></p>
<script>
const $ = (id) => document.getElementById(id);
const fmt = (x) => (Math.round(x * 10) / 10).toString();
function duration(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}min` : `${m}min ${Math.floor(s % 60)}s`;
}
function show(s) {
  const role = $('role');
  role.textContent = s.role;
  role.className = 'badge ' + s.role;
  role.dataset.role = s.role;
  $('relay').textContent = s.relay;
  $('version').textContent = s.version;
  $('uptime').textContent = duration(s.uptime_s);
  const b = s.broker;
  $('broker').textContent = (b.connected ? 'connected' : 'disconnected') + ' · ' + b.addresses.join(', ') +
    ' · ' + b.reconnects + ' reconnects';
  $('peers').textContent = s.peers;
  $('users').textContent = s.users_online;
  $('rooms').textContent = s.rooms_online;
  $('in-rate').textContent = fmt(s.messages.in_per_s);
  $('out-rate').textContent = fmt(s.messages.out_per_s);
  $('error-rate').textContent = fmt(s.errors.per_s);
  $('totals').textContent = `${s.messages.in_total} / ${s.messages.out_total} / ${s.errors.total}`;
  $('in-flight').textContent = b.in_flight;
}
async function poll() {
  try {
    const r = await fetch('status.json', { cache: 'no-store' });
    show(await r.json());
  } catch {
    $('role').textContent = 'unreachable';
    $('role').className = 'badge unreachable';
    $('role').dataset.role = 'unreachable';
  }
  setTimeout(poll, 1000);
}
poll();
</script>
</body>
</html>
)html";

} // namespace chatrelay::app
