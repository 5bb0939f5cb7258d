// A terminal in the browser (xterm.js) on a command run in the container, as `docker exec -it` runs it; the bytes
// travel over the dashboard's /console WebSocket (src/dashboard/console.ts).
import { Terminal } from '@xterm/xterm';
import { h } from './dom.js';

const COLS = 120;
const ROWS = 30;

/** The console section of a running container's page; `leave` hears when the page goes. */
export function consoleSection(id: string, leave: (fn: () => void) => void): HTMLElement {
  const cmd = h('input', { id: 'console-cmd', value: 'sh', 'aria-label': 'command' });
  const connect = h('button', { type: 'submit', class: 'primary' }, 'Connect');
  const status = h('span', { class: 'muted', id: 'console-status' });
  const screen = h('div', { id: 'console' });
  const form = h('form', { class: 'inline' }, h('label', { for: 'console-cmd' }, 'Command'), cmd, connect, status);
  let ws: WebSocket | undefined;
  let term: Terminal | undefined;
  leave(() => { ws?.close(); term?.dispose(); });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ws?.close();
    term?.dispose();
    screen.replaceChildren();
    const t = new Terminal({ cols: COLS, rows: ROWS, cursorBlink: true, fontSize: 13 });
    term = t;
    t.open(screen);
    const q = new URLSearchParams({ cmd: cmd.value.trim() || 'sh', cols: String(COLS), rows: String(ROWS) });
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/console/${id}?${q}`);
    ws = socket;
    socket.binaryType = 'arraybuffer';
    status.textContent = 'connecting…';
    socket.onopen = () => { status.textContent = 'connected'; t.focus(); };
    socket.onmessage = (e) => t.write(new Uint8Array(e.data as ArrayBuffer));
    socket.onclose = (e) => { status.textContent = `disconnected${e.reason ? `: ${e.reason}` : ''}`; };
    t.onData((data) => { if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'input', data })); });
  });
  return h('div', {}, h('div', { class: 'toolbar' }, form), screen);
}
