// Docker's human sizes: "512m", "1g", "100000" (bytes), "1.5GB".
export function parseBytes(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?\s*$/i.exec(s);
  if (!m) throw new Error(`invalid size: '${s}'`);
  const mult: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.floor(parseFloat(m[1]) * mult[m[2].toLowerCase()]);
}

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

function scaled(n: number, base: number, units: string[], precision: number): string {
  let i = 0;
  let v = n;
  while (v >= base && i < units.length - 1) { v /= base; i++; }
  return `${Number(v.toPrecision(precision))}${units[i]}`;
}

/** Docker's CLI formatting of sizes (go-units HumanSize: decimal units, 3 significant digits). */
export const humanSize = (n: number): string => scaled(n, 1000, DECIMAL, 3);
/** go-units HumanSizeWithPrecision. */
export const humanSizePrec = (n: number, precision: number): string => scaled(n, 1000, DECIMAL, precision);
/** go-units BytesSize (binary units, 4 significant digits): "608KiB", "23.54GiB". */
export const bytesSize = (n: number): string => scaled(n, 1024, BINARY, 4);

/** "3 minutes ago"-style durations as docker prints them. */
export function humanDuration(fractionalSeconds: number): string {
  const seconds = Math.floor(fractionalSeconds); // whole seconds, like go-units (1.5 s is "1 second")
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${Math.floor(seconds)} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(seconds / 3600);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

const durUnits: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Go's time.ParseDuration, in seconds; undefined when it is not a duration. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(s);
  if (!m) return s === '0' ? 0 : undefined;
  let total = 0;
  for (const part of s.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += parseFloat(part[1]) * durUnits[part[2]];
  return m[1] === '-' ? -total : total;
}
