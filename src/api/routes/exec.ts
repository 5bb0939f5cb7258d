// /containers/{id}/exec and /exec/*: create, start (hijacked or detached), inspect, resize.
import { Router, qTerminalSize, sendJson, sendNoContent, readJsonBody, readUpgradeBody } from '../router.js';
import { acceptHijack } from '../server.js';
import { frame, streamContentType, STDOUT, STDERR } from '../stdcopy.js';
import type { ContainerStore } from '../../services/containers/store.js';
import type { ExecManager, ExecCreateBody } from '../../services/containers/exec.js';
import { LogFollower } from '../../services/logs/k8sfile.js';

export interface ExecRouteDeps { store: ContainerStore; execs: ExecManager }


export function registerExecRoutes(r: Router, d: ExecRouteDeps): void {
  r.post(/^\/containers\/(?<id>[^/]+)\/exec$/, async (ctx) => {
    const rec = d.store.get(ctx.params.id);
    const e = d.execs.create(rec, await readJsonBody<ExecCreateBody>(ctx.req));
    sendJson(ctx.res, 201, { Id: e.ID });
  });

  r.get(/^\/exec\/(?<id>[^/]+)\/json$/, (ctx) => {
    const e = d.execs.get(ctx.params.id);
    const { env: _env, workingDir: _wd, started: _s, ...view } = e;
    sendJson(ctx.res, 200, view);
  });

  r.post(/^\/exec\/(?<id>[^/]+)\/resize$/, (ctx) => {
    const { height, width } = qTerminalSize(ctx.query);
    d.execs.resize(d.execs.get(ctx.params.id), height, width);
    sendNoContent(ctx.res, 200);
  });

  r.post(/^\/exec\/(?<id>[^/]+)\/start$/, async (ctx) => {
    const e = d.execs.get(ctx.params.id);
    const { body, rest } = await readUpgradeBody<{ Detach?: boolean; Tty?: boolean }>(ctx);
    if (body.Detach) {
      await d.execs.start(e, false);
      ctx.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 0 });
      ctx.res.end();
      return;
    }
    const tty = e.ProcessConfig.tty;
    let started;
    try {
      started = await d.execs.start(e, true);
    } catch (err) {
      // like docker: a process that cannot start is reported in the stream, and its exit code is 126
      if (!ctx.upgrade || (err as { status?: number }).status === 409 || (err as { status?: number }).status === 404) throw err;
      const client = acceptHijack(ctx, streamContentType(tty, ctx.version));
      const msg = Buffer.from(`OCI runtime exec failed: ${(err as Error).message}\r\n`);
      client.end(tty ? msg : frame(STDOUT, msg));
      return;
    }
    const { streams, done } = started;
    if (!streams) throw new Error('exec started without streams');
    const client = acceptHijack(ctx, streamContentType(tty, ctx.version));
    client.on('error', () => client.destroy());
    if (streams.input && rest.length) streams.input.write(rest);
    if (streams.input) client.pipe(streams.input);
    else client.resume();
    const o = { stdout: e.OpenStdout, stderr: e.OpenStderr, since: 0, until: 0, tail: -1 };
    const drained = new Promise<void>((resolve) => {
      const follower = new LogFollower(streams.logPath, { ino: 0, offset: 0 }, o, (entry) => {
        if (client.destroyed) return;
        client.write(tty ? entry.data : frame(entry.stream === 'stdout' ? STDOUT : STDERR, entry.data));
      }, resolve);
      follower.start();
      client.on('close', () => { follower.stop(); resolve(); });
      // conmon has written all output to the log before it reports the exit
      void done.then(() => follower.finish(), () => follower.finish());
    });
    await drained;
    streams.socket?.destroy();
    await d.execs.cleanup(e);
    client.end();
  });
}
