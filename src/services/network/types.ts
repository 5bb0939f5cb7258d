// Networks keep docker's API shape (GET /networks/{id} is a projection of the record) plus what the bridge
// driver needs to find its devices again.

export interface IpamConfig { Subnet: string; Gateway: string; IPRange?: string }

export interface NetworkRecord {
  Id: string;
  Name: string;
  Created: string;
  /** bridge, or the predefined host / null. */
  Driver: 'bridge' | 'host' | 'null';
  Internal: boolean;
  Attachable: boolean;
  IPAM: { Driver: 'default'; Options: Record<string, string> | null; Config: IpamConfig[] };
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** Linux bridge devices: the first holds the gateway address; more join it as the network grows past one bridge's ports. */
  Bridges: string[];
  /** The predefined `bridge`, `host` and `none` cannot be removed. */
  Predefined?: boolean;
}

/** What a container asks of a network it belongs to (create's EndpointsConfig, connect's EndpointConfig). */
export interface EndpointConfig {
  NetworkID: string;
  Aliases?: string[];
  IPv4Address?: string;
  MacAddress?: string;
}

/** What a client asks for one network (EndpointsConfig of create, the body of connect). */
export interface EndpointRequest { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null; MacAddress?: string | null }

/** A live attachment while the container runs. */
export interface EndpointState {
  NetworkID: string;
  EndpointID: string;
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
}

export const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';
