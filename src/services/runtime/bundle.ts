// Writes a container's OCI config.json from its record (the spec builder does the policy).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import { buildSpec } from './spec.js';
import { processEnv } from '../containers/environment.js';
import { ownCgroupNamespace } from '../containers/namespaces.js';
import { cgroupLayout, swapAccounting } from '../../sys/cgroups.js';
import type { SpecRequest } from '../containers/supervisor.js';

const INIT_CANDIDATES = ['/usr/bin/tini-static', '/usr/bin/docker-init'];

export function makeSpecWriter(): (bundle: string, req: SpecRequest) => Promise<void> {
  const initPath = INIT_CANDIDATES.find((p) => existsSync(p));
  const layout = cgroupLayout();
  const swap = swapAccounting();
  return async (bundle, { rec, rootfs, user, etcMounts, cgroupsPath, netnsPath, mounts, shared = {}, linkEnv }) => {
    const nm = rec.HostConfig.NetworkMode ?? 'default';
    // a network's namespace is made before the container (CNI sets it up); host shares ours; none gets its own
    const net = nm === 'host' ? false : netnsPath || true;
    if (rec.HostConfig.Init && !initPath) throw new Error('--init needs tini (apt-get install tini)');
    const spec = buildSpec({
      id: rec.Id,
      rootfs,
      args: [rec.Path, ...rec.Args],
      env: processEnv({ hostname: rec.Config.Hostname ?? '', tty: !!rec.Config.Tty, linkEnv, env: rec.Config.Env ?? [], home: user.home }),
      cwd: rec.Config.WorkingDir || '/',
      user,
      tty: !!rec.Config.Tty,
      hostname: rec.Config.Hostname,
      domainname: rec.Config.Domainname,
      hostConfig: rec.HostConfig,
      cgroupsPath,
      etcMounts,
      // another's IPC namespace comes with its /dev/shm
      mounts: shared.shmSource ? [...(mounts ?? []), { destination: '/dev/shm', type: 'bind', source: shared.shmSource, options: ['rbind', 'rprivate'] }] : mounts,
      initPath,
      namespaces: { net, netIsPrivate: nm !== 'host' && !nm.startsWith('container:'), cgroup: ownCgroupNamespace(rec.HostConfig, layout), pid: shared.pid, ipc: shared.ipc, uts: shared.uts },
      swapAccounting: swap,
      annotations: rec.HostConfig.Annotations ?? undefined,
    });
    // written anew at every start: nothing to gain from syncing it to disk
    await writeFileAtomic(join(bundle, 'config.json'), JSON.stringify(spec), false);
  };
}
