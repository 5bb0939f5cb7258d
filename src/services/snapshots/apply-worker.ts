// Worker thread (dist/apply-worker.js): unpacks the layers the daemon hands it, one at a time, so that inflating,
// hashing, tar parsing and the file system calls of several layers run on several cores, off the daemon's loop.
import { PassThrough, type Readable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { decoderFor } from '../images/decompress.js';
import { applyTar, LayerError } from './apply.js';
import type { FromWorker, ToWorker } from './apply-protocol.js';

const port = parentPort;
if (!port) throw new Error('apply-worker runs as a worker thread');
const post = (m: FromWorker) => port.postMessage(m);

let source: PassThrough | undefined;

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'start': {
      const input = new PassThrough({ highWaterMark: 1 << 20 });
      source = input;
      let tar: Readable = input;
      const decoder = m.compression ? decoderFor(m.compression) : undefined;
      if (decoder) {
        input.on('error', (e) => decoder.destroy(e));
        tar = input.pipe(decoder);
      }
      applyTar(m.dest, tar, m.limits).then(
        (result) => post({ type: 'done', result }),
        (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e), layer: e instanceof LayerError }),
      ).finally(() => { if (source === input) source = undefined; });
      break;
    }
    case 'data': {
      const bytes = m.chunk.byteLength;
      // acknowledged when the unpacker has taken it, so the daemon never holds more than a few MiB in flight
      source?.write(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, bytes), (e) => { if (!e) post({ type: 'ack', bytes }); });
      break;
    }
    case 'end':
      source?.end();
      break;
    case 'abort':
      source?.destroy(new Error(m.message));
      break;
  }
});
