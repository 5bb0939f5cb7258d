// The subset of Engine API shapes the CLI reads and writes (v1.44 field names).
export interface PortBinding { HostIp?: string; HostPort?: string }

export interface ContainerCreateBody {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[];
  Cmd?: string[];
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number; StartInterval?: number };
  Entrypoint?: string[];
  Image: string;
  Labels?: Record<string, string>;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  StopSignal?: string;
  StopTimeout?: number;
  HostConfig: {
    Binds?: string[];
    PortBindings?: Record<string, PortBinding[]>;
    NetworkMode?: string;
    RestartPolicy?: { Name: string; MaximumRetryCount?: number };
    AutoRemove?: boolean;
    CapAdd?: string[];
    CapDrop?: string[];
    Privileged?: boolean;
    ReadonlyRootfs?: boolean;
    SecurityOpt?: string[];
    Init?: boolean;
    Runtime?: string;
    LogConfig?: { Type: string; Config: Record<string, string> };
    Memory?: number;
    MemorySwap?: number;
    NanoCpus?: number;
    CpuShares?: number;
    CpusetCpus?: string;
    PidsLimit?: number;
    Tmpfs?: Record<string, string>;
    ExtraHosts?: string[];
    Dns?: string[];
    DnsSearch?: string[];
    DnsOptions?: string[];
    ShmSize?: number;
    /** --mount, in the shape docker's CLI sends (only the fields given). */
    Mounts?: Mount[];
    /** --volumes-from, `container[:ro|rw]` as given. */
    VolumesFrom?: string[];
    VolumeDriver?: string;
    [k: string]: unknown;
  };
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointSettings> };
}

/** A HostConfig.Mounts entry (moby's mount.Mount; empty fields left out, as Go's omitempty does). */
export interface Mount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> }; Subpath?: string };
  ImageOptions?: { Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** GET /volumes/{name}, an entry of GET /volumes, the answer to POST /volumes/create. */
export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Status?: Record<string, unknown>;
  Labels: Record<string, string> | null;
  Scope: string;
  Options: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
  [k: string]: unknown;
}

/** POST /volumes/create (fields left out when empty, as docker's client sends it). */
export interface VolumeCreateBody {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Record<string, string>;
}

/** GET /volumes. */
export interface VolumeListResponse { Volumes: Volume[] | null; Warnings?: string[] | null }

/** POST /volumes/prune. */
export interface VolumePruneReport { VolumesDeleted: string[] | null; SpaceReclaimed: number }

/** What a container asks of one network: create's EndpointsConfig entries, connect's EndpointConfig. */
export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] };
  Links?: string[];
  Aliases?: string[];
  MacAddress?: string;
  DriverOpts?: Record<string, string>;
  GwPriority?: number;
}

export interface IPAMConfig { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }

/** POST /networks/create. */
export interface NetworkCreateBody {
  Name: string;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network: string };
  IPAM?: { Driver?: string; Config?: IPAMConfig[]; Options?: Record<string, string> };
  EnableIPv6?: boolean;
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

/** GET /networks and /networks/{id} (the Network definition). */
export interface NetworkInfo {
  Name: string;
  Id: string;
  Created?: string;
  Scope?: string;
  Driver?: string;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: IPAMConfig[] | null; Options?: Record<string, string> | null };
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  Containers?: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }> | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  [k: string]: unknown;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string> | null;
  State: string;
  Status: string;
  Mounts?: Array<{ Name?: string; Source?: string; Destination?: string }>;
  NetworkSettings?: { Networks?: Record<string, unknown> };
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  Image: string;
  State: { Status: string; Running: boolean; Paused: boolean; Pid: number; ExitCode: number; Error?: string; StartedAt: string; FinishedAt: string };
  Config: { Tty?: boolean; OpenStdin?: boolean; Image?: string; [k: string]: unknown };
  HostConfig: { AutoRemove?: boolean; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  SharedSize?: number;
  VirtualSize?: number;
  Labels: Record<string, string> | null;
  Containers: number;
}

export interface WaitResult { StatusCode: number; Error?: { Message?: string } | null }

export interface PruneResult { ContainersDeleted?: string[] | null; SpaceReclaimed?: number }

export interface ImageDeleteItem { Untagged?: string; Deleted?: string }

export interface TopResult { Titles: string[]; Processes: string[][] }

export interface VersionInfo {
  Platform?: { Name: string };
  Components?: Array<{ Name: string; Version: string; Details?: Record<string, string> }>;
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
  BuildTime?: string;
  Experimental?: boolean;
}

export type Filters = Record<string, string[]>;

/** GET /containers/{id}/changes: Kind 0 modified, 1 added, 2 deleted. */
export interface ContainerChange { Path: string; Kind: 0 | 1 | 2 }
