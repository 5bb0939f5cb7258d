// docker's --pid, --ipc, --uts and --cgroupns modes: a namespace of the container's own (the default), the host's, or another
// running container's. The network mode has its own home (services/network); this is the rest.
import type { CgroupLayout } from '../../sys/cgroups.js';
import type { NamespaceChoice } from '../runtime/spec.js';
import { shmPath } from './rootfs.js';
import { badRequest, conflict } from '../../util/errors.js';
import type { ContainerRecord, HostConfig } from './types.js';

export interface SharedNamespaces {
  pid?: NamespaceChoice;
  ipc?: NamespaceChoice;
  uts?: NamespaceChoice;
  /** What /dev/shm binds when the IPC namespace is not the container's own (the host's, another container's). */
  shmSource?: string;
  /** --ipc shareable: its /dev/shm is a tmpfs on the host side that others may bind (mounted by the start). */
  shareableShm?: boolean;
}

const IPC_OWN = ['', 'private', 'shareable', 'none'];
const containerRef = (mode: string) => (mode.startsWith('container:') ? mode.slice('container:'.length) : undefined);

/** Refuse modes docker does not know, at create, before anything is made. */
export function validateNamespaceModes(h: HostConfig): void {
  const pid = h.PidMode ?? '';
  if (pid && pid !== 'host' && !containerRef(pid)) throw badRequest(`invalid PID mode: ${pid}`);
  const ipc = h.IpcMode ?? '';
  if (!IPC_OWN.includes(ipc) && ipc !== 'host' && !containerRef(ipc)) throw badRequest(`invalid IPC mode: ${ipc}`);
  const uts = h.UTSMode ?? '';
  if (uts && uts !== 'host') throw badRequest(`invalid UTS mode: ${uts}`);
  const cgroupns = h.CgroupnsMode ?? '';
  if (cgroupns && cgroupns !== 'private' && cgroupns !== 'host') throw badRequest(`invalid cgroup namespace mode: ${cgroupns}`);
  // a parent is a path inside each hierarchy: nothing may lead out of it
  if (h.CgroupParent && (h.CgroupParent.split('/').includes('..') || /[\0\n]/.test(h.CgroupParent))) throw badRequest(`invalid cgroup parent: ${h.CgroupParent}`);
}

/** Whether a container gets a cgroup namespace of its own: as asked, else as docker's default for the host. */
export function ownCgroupNamespace(h: HostConfig, layout: CgroupLayout): boolean {
  return h.CgroupnsMode ? h.CgroupnsMode === 'private' : layout === 'v2';
}

/**
 * The namespaces a start joins instead of making its own. A container named in a mode must be running (its
 * namespaces are its init's); `find` looks a container up by name or ID.
 */
export function sharedNamespaces(rec: ContainerRecord, find: (ref: string) => ContainerRecord | undefined, dirOf: (id: string) => string): SharedNamespaces {
  const h = rec.HostConfig;
  const out: SharedNamespaces = {};
  /** The running container a mode names (its namespaces are its init's). */
  const running = (ref: string, what: string): ContainerRecord => {
    const other = find(ref);
    if (!other || other.State.Status !== 'running' || !other.State.Pid) throw conflict(`cannot join ${what} namespace of a non running container: ${other?.Id ?? ref}`);
    if (other.Id === rec.Id) throw badRequest(`cannot join own ${what} namespace`);
    return other;
  };
  const pid = h.PidMode ?? '';
  const pidRef = containerRef(pid);
  if (pid === 'host') out.pid = false;
  else if (pidRef) out.pid = `/proc/${running(pidRef, 'PID').State.Pid}/ns/pid`;
  const ipc = h.IpcMode ?? '';
  if (ipc === 'shareable') out.shareableShm = true;
  const donorRef = containerRef(ipc);
  if (ipc === 'host') {
    out.ipc = false;
    out.shmSource = '/dev/shm';
  } else if (donorRef) {
    const donor = running(donorRef, 'IPC');
    const mode = donor.HostConfig.IpcMode ?? '';
    if (mode === 'host') {
      out.ipc = false;
      out.shmSource = '/dev/shm';
    } else if (mode === 'shareable') {
      out.ipc = `/proc/${donor.State.Pid}/ns/ipc`;
      out.shmSource = shmPath(dirOf(donor.Id));
    } else {
      throw badRequest('non-shareable IPC (hint: use IpcMode:shareable for the donor container)');
    }
  }
  if ((h.UTSMode ?? '') === 'host') out.uts = false;
  return out;
}
