// Unpacks layers on worker threads (apply-worker.ts), one layer per worker: a pull's layers are inflated, hashed
// and written on every core at once, and the daemon's event loop only forwards bytes. Idle workers are kept a
// while for the next layer (a build or a pull has several), then end.
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LayerError, type ApplyLimits, type ApplyResult } from './apply.js';
import type { FromWorker, LayerCompression, ToWorker } from './apply-protocol.js';
import { noteActivity } from '../../sys/memory.js';

/** Bytes handed to a worker and not yet taken: input pauses above HIGH and resumes below LOW. */
const HIGH = 8 << 20;
const LOW = 2 << 20;
// long enough for the next layer of a pull or the next step of a build; an idle daemon holds no worker
const IDLE_MS = 5_000;
const MAX_IDLE = 4;

/** A worker running apply-worker: the bundle beside the daemon's, or the TypeScript source through tsx (tests). */
function spawnWorker(): Worker {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return new Worker(join(dirname(here), 'apply-worker.js'));
  // require() resolves tsx's CommonJS build of its API; the worker imports the ES module beside it
  const api = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = pathToFileURL(join(dirname(here), 'apply-worker.ts')).href;
  return new Worker(`import(${JSON.stringify(api)}).then((t) => t.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`, { eval: true });
}

interface IdleWorker { worker: Worker; timer: NodeJS.Timeout; forget: () => void }

export class ApplyPool {
  private readonly idle: IdleWorker[] = [];

  /** Unpack the tar `input` (compressed when `compression` says so) into the fresh directory `dest`. */
  apply(dest: string, input: Readable, limits: ApplyLimits, compression?: LayerCompression): Promise<ApplyResult> {
    const worker = this.take();
    const send = (m: ToWorker) => worker.postMessage(m);
    return new Promise<ApplyResult>((resolve, reject) => {
      let inflight = 0;
      let inputError: Error | undefined;
      let inputDone = false;
      const onMessage = (m: FromWorker) => {
        if (m.type === 'ack') {
          inflight -= m.bytes;
          if (inflight < LOW && input.isPaused() && !inputDone) input.resume();
          return;
        }
        finish(true);
        if (m.type === 'done') resolve(m.result);
        // the input's own error (a digest or size check, a broken download) is the one to report
        else reject(inputError ?? (m.layer ? new LayerError(m.message) : new Error(m.message)));
      };
      const onDeath = (e: unknown) => {
        finish(false);
        reject(inputError ?? new Error(`layer unpacking failed: ${e instanceof Error ? e.message : `worker exited (${String(e)})`}`));
      };
      const onData = (chunk: Buffer) => {
        inflight += chunk.length;
        send({ type: 'data', chunk });
        if (inflight > HIGH) input.pause();
      };
      const onEnd = () => { inputDone = true; send({ type: 'end' }); };
      const onError = (e: Error) => { inputDone = true; inputError = e; send({ type: 'abort', message: e.message }); };
      const onClose = () => { if (!inputDone) onError(new Error('layer stream closed before its end')); };
      const finish = (reusable: boolean) => {
        worker.off('message', onMessage);
        worker.off('error', onDeath);
        worker.off('exit', onDeath);
        input.off('data', onData);
        input.off('end', onEnd);
        input.off('error', onError);
        input.off('close', onClose);
        if (!inputDone) input.destroy();
        if (reusable) this.release(worker);
        else void worker.terminate();
      };
      worker.on('message', onMessage);
      worker.on('error', onDeath);
      worker.on('exit', onDeath);
      send({ type: 'start', dest, limits, compression });
      input.on('data', onData);
      input.on('end', onEnd);
      input.on('error', onError);
      input.on('close', onClose);
    });
  }

  private take(): Worker {
    const kept = this.idle.pop();
    if (kept) {
      clearTimeout(kept.timer);
      kept.worker.off('exit', kept.forget);
      kept.worker.ref();
      return kept.worker;
    }
    return spawnWorker();
  }

  private release(worker: Worker): void {
    if (this.idle.length >= MAX_IDLE) { void worker.terminate(); return; }
    // an idle worker never keeps the process alive, and one that dies idle is forgotten
    worker.unref();
    const forget = () => {
      const i = this.idle.indexOf(entry);
      if (i >= 0) this.idle.splice(i, 1);
    };
    worker.once('exit', forget);
    const entry: IdleWorker = {
      worker,
      forget,
      timer: setTimeout(() => { forget(); void worker.terminate().then(noteActivity); }, IDLE_MS).unref(),
    };
    this.idle.push(entry);
  }
}
