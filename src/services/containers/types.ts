// Container records keep docker's API shapes (Config, HostConfig) so inspect is a projection, not a translation.
import type { ImageRunConfig } from '../images/types.js';
import type { EndpointConfig, EndpointState } from '../network/types.js';

export interface ContainerConfig extends ImageRunConfig {
  Hostname?: string;
  Domainname?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Image?: string;
  NetworkDisabled?: boolean;
  StopTimeout?: number;
  ArgsEscaped?: boolean;
}

export interface RestartPolicy { Name: '' | 'no' | 'always' | 'on-failure' | 'unless-stopped'; MaximumRetryCount?: number }

/** A block device's limit: bytes or operations per second. */
export interface ThrottleDevice { Path: string; Rate: number }

export interface HostConfig {
  Binds?: string[] | null;
  NetworkMode?: string;
  /** '' (its own), 'host' or 'container:<name|id>' */
  PidMode?: string;
  /** '', 'private', 'shareable', 'none', 'host' or 'container:<name|id>' */
  IpcMode?: string;
  /** '' (its own) or 'host' */
  UTSMode?: string;
  /** '' (the daemon's default: private on cgroup v2, host on v1), 'private' or 'host' */
  CgroupnsMode?: string;
  /** --cgroup-parent: the cgroup under which the container's own is made (default /tugboat) */
  CgroupParent?: string;
  /** --group-add: group names (of the container's /etc/group) or IDs */
  GroupAdd?: string[] | null;
  /** --link: "name[:alias]" */
  Links?: string[] | null;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  Init?: boolean | null;
  Runtime?: string;
  LogConfig?: { Type: string; Config: Record<string, string> };
  // resources
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  OomKillDisable?: boolean | null;
  ShmSize?: number;
  Tmpfs?: Record<string, string> | null;
  Devices?: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }> | null;
  DeviceCgroupRules?: string[] | null;
  /** OCI annotations for the runtime (docker run --annotation). */
  Annotations?: Record<string, string> | null;
  UsernsMode?: string;
  StorageOpt?: Record<string, string> | null;
  Isolation?: string;
  DeviceRequests?: unknown[] | null;
  BlkioWeight?: number;
  BlkioWeightDevice?: Array<{ Path: string; Weight: number }> | null;
  BlkioDeviceReadBps?: ThrottleDevice[] | null;
  BlkioDeviceWriteBps?: ThrottleDevice[] | null;
  BlkioDeviceReadIOps?: ThrottleDevice[] | null;
  BlkioDeviceWriteIOps?: ThrottleDevice[] | null;
  Sysctls?: Record<string, string> | null;
  Ulimits?: Array<{ Name: string; Soft: number; Hard: number }> | null;
  [k: string]: unknown;
}

export type Status = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  Status: Status;
  Pid: number;
  ExitCode: number;
  Error: string;
  OOMKilled: boolean;
  StartedAt: string;
  FinishedAt: string;
  /** conmon's pid, so a restarted daemon can find the supervisor. */
  ConmonPid?: number;
  Health?: HealthState;
}

export interface HealthResult { Start: string; End: string; ExitCode: number; Output: string }

export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: HealthResult[];
}


export interface ContainerRecord {
  Id: string;
  Name: string; // without leading "/"
  Created: string;
  Path: string;
  Args: string[];
  Image: string; // image ID
  Config: ContainerConfig;
  HostConfig: HostConfig;
  State: ContainerState;
  RestartCount: number;
  /** Set when the user stopped it, so unless-stopped does not come back after a daemon restart. */
  ManuallyStopped?: boolean;
  LogPath: string;
  Driver: 'overlay2';
  /** Volumes, bind mounts and tmpfs it gets, in docker's inspect shape (Source is the host path; '' for tmpfs). */
  Mounts?: MountPoint[];
  /** The networks it belongs to, by name (create's EndpointsConfig, then connect/disconnect). */
  Networks?: Record<string, EndpointConfig>;
  /** While it runs: its namespace, addresses and published ports. */
  NetworkSettings?: NetworkState;
}

export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** The volume's name (volumes only). */
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  /** What was asked, e.g. "ro", "z", "" (docker shows it as given). */
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** tmpfs: mount options (size=…, mode=…). */
  TmpfsOptions?: string[];
  /** An anonymous volume (from the image's VOLUME or -v /path): `rm -v` removes it. */
  Anonymous?: boolean;
}

export interface NetworkState {
  /** The network namespace it runs in; '' for the host's (or a fresh one of runc's, for none). */
  SandboxKey: string;
  Ports: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  /** Live endpoints by network name. */
  Endpoints: Record<string, EndpointState>;
  /** What its resolv.conf lists: the embedded DNS on its network's gateway, or upstream servers. */
  Nameservers: string[];
  /** The address `--add-host NAME:host-gateway` stands for. */
  HostGateway: string;
  /** container:<id> mode: the container whose namespace and /etc files it shares. */
  SharedWith?: string;
}
