// The command tree: docker's command names and flags. Only commander is loaded up front; each command
// group's module is imported when one of its commands runs.
import { Command, CommanderError, Option } from 'commander';
import { err } from './output.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export interface Globals { host?: string; debug?: boolean; logLevel?: string }

/** `tug container run` → "tug container run"; used in usage hints. */
function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Arguments count messages like docker's ("requires at least 1 argument"). */
function argsHint(cmd: Command): string {
  const reg = cmd.registeredArguments;
  const required = reg.filter((a) => a.required).length;
  const variadic = reg.some((a) => a.variadic);
  const name = fullName(cmd);
  if (!variadic && required === reg.length) return `'${name}' requires exactly ${required} argument${required === 1 ? '' : 's'}`;
  if (required) return `'${name}' requires at least ${required} argument${required === 1 ? '' : 's'}`;
  return `'${name}' accepts no arguments`;
}

function usageBlock(cmd: Command): string {
  return `Usage:  ${fullName(cmd)} ${cmd.usage()}`;
}

function onCommanderError(cmd: Command, failure: CommanderError): never {
  if (failure.code === 'commander.helpDisplayed' || failure.code === 'commander.help' || failure.code === 'commander.version') process.exit(0);
  const name = fullName(cmd);
  let msg = failure.message.replace(/^error: /, '');
  let code = 125;
  let hint = `Run '${name} --help' for more information`;
  let body = `${msg}\n\n${usageBlock(cmd)}`;
  switch (failure.code) {
    case 'commander.unknownOption': {
      const m = /'([^']+)'/.exec(msg);
      const flag = m ? m[1] : msg;
      msg = flag.startsWith('--') ? `unknown flag: ${flag}` : `unknown shorthand flag: '${flag.slice(1, 2)}' in ${flag}`;
      body = `${msg}\n\n${usageBlock(cmd)}`;
      break;
    }
    case 'commander.optionMissingArgument': {
      const m = /option '([^']+)'/.exec(msg);
      const flag = (m ? m[1] : '').split(/[ ,]+/).filter((x) => x.startsWith('-')).pop() ?? '';
      body = `flag needs an argument: ${flag.startsWith('--') ? `--${flag.slice(2)}` : `'${flag.slice(1)}' in ${flag}`}\n\n${usageBlock(cmd)}`;
      break;
    }
    case 'commander.invalidArgument':
      body = `${msg}\n\n${usageBlock(cmd)}`;
      break;
    case 'commander.missingArgument':
    case 'commander.excessArguments':
      code = 1;
      hint = `See '${name} --help' for more information`;
      body = `tug: ${argsHint(cmd)}\n\n${usageBlock(cmd)}`;
      break;
    case 'commander.unknownCommand': {
      const m = /'([^']+)'/.exec(msg);
      err(`tug: unknown command: ${name} ${m ? m[1] : ''}\n\nRun '${name} --help' for more information\n`);
      process.exit(1);
    }
  }
  err(`${body}\n\n${hint}\n`);
  process.exit(code);
}

type Action = (cmd: Command, args: unknown[]) => Promise<void>;

/** Run an action with the CLI's error handling: docker's messages and exit codes. */
function act(fn: Action) {
  return async (...a: unknown[]) => {
    const cmd = a[a.length - 1] as Command;
    const args = a.slice(0, -2);
    try {
      await fn(cmd, args);
    } catch (e) {
      const { reportError } = await import('./run-error.js');
      process.exit(reportError(e, fullName(cmd), cmd.name() === 'run', usageBlock(cmd)));
    }
  };
}

export function globals(cmd: Command): Globals {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.opts() as Globals;
}

const container = () => import('./container.js');
const image = () => import('./image.js');
const system = () => import('./system.js');
const disk = () => import('./disk.js');
const registry = () => import('./registry.js');
const network = () => import('./network.js');
const commits = () => import('./commit.js');

/** A hidden second name for a repeatable flag (docker's --net for --network): its values join the other flag's, in order. */
function aliasFlag(c: Command, flag: string, target: string): Command {
  c.addOption(new Option(`--${flag} <value>`).hideHelp());
  c.on(`option:${flag}`, (v: string) => c.setOptionValueWithSource(target, collect(v, c.getOptionValue(target) as string[] | undefined), 'cli'));
  return c;
}

/** The limits `run`, `create` and `update` share (read by runopts' resourceFlags). */
function resourceOptions(c: Command): Command {
  return c
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--cpus <decimal>', 'Number of CPUs')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota')
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable');
}

function runFlags(c: Command): Command {
  resourceOptions(c);
  aliasFlag(c, 'net', 'network');
  aliasFlag(c, 'net-alias', 'networkAlias');
  aliasFlag(c, 'dns-opt', 'dnsOption');
  return c
    .helpOption('--help', 'Print usage')
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits')
    .option('--name <string>', 'Assign a name to the container')
    .option('-e, --env <list>', 'Set environment variables', collect)
    .option('--env-file <list>', 'Read in a file of environment variables', collect)
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image')
    .option('-h, --hostname <string>', 'Container host name')
    .option('-l, --label <list>', 'Set meta data on a container', collect)
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-a, --attach <list>', 'Attach to STDIN, STDOUT or STDERR', collect)
    .option('--cap-add <list>', 'Add Linux capabilities', collect)
    .option('--cap-drop <list>', 'Drop Linux capabilities', collect)
    .option('--privileged', 'Give extended privileges to this container')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--security-opt <list>', 'Security Options', collect)
    .option('--restart <string>', 'Restart policy to apply when a container exits', undefined)
    .option('--runtime <string>', 'Runtime to use for this container')
    .option('--log-driver <string>', 'Logging driver for the container')
    .option('--log-opt <list>', 'Log driver options', collect)
    .option('--stop-signal <string>', 'Signal to stop the container')
    .option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container')
    .option('-p, --publish <list>', "Publish a container's port(s) to the host", collect)
    .option('-P, --publish-all', 'Publish all exposed ports to random ports')
    .option('--expose <list>', 'Expose a port or a range of ports', collect)
    .option('-v, --volume <list>', 'Bind mount a volume', collect)
    .option('--mount <mount>', 'Attach a filesystem mount to the container', collect)
    .option('--volumes-from <list>', 'Mount volumes from the specified container(s)', collect)
    .option('--volume-driver <string>', 'Optional volume driver for the container')
    .option('--network <network>', 'Connect a container to a network', collect)
    .option('--network-alias <list>', 'Add network-scoped alias for the container', collect)
    .option('--ip <ip>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--mac-address <string>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)')
    .option('--ip6 <ip>', 'IPv6 address (e.g., 2001:db8::33)')
    .option('--tmpfs <list>', 'Mount a tmpfs directory', collect)
    .option('--sysctl <map>', 'Sysctl options', collect)
    .option('--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)', collect)
    .option('--dns <list>', 'Set custom DNS servers', collect)
    .option('--dns-option <list>', 'Set DNS options', collect)
    .option('--dns-search <list>', 'Set custom DNS search domains', collect)
    .option('--group-add <list>', 'Add additional groups to join', collect)
    .option('--pid <string>', 'PID namespace to use')
    .option('--ipc <string>', 'IPC mode to use')
    .option('--uts <string>', 'UTS namespace to use')
    .option('--cgroupns <string>', 'Cgroup namespace to use (host|private)')
    .option('--blkio-weight-device <list>', 'Block IO weight (relative device weight)', collect)
    .option('--device-read-bps <list>', 'Limit read rate (bytes per second) from a device', collect)
    .option('--device-write-bps <list>', 'Limit write rate (bytes per second) to a device', collect)
    .option('--device-read-iops <list>', 'Limit read rate (IO per second) from a device', collect)
    .option('--device-write-iops <list>', 'Limit write rate (IO per second) to a device', collect)
    .option('--cgroup-parent <string>', 'Optional parent cgroup for the container')
    .option('--label-file <list>', 'Read in a line delimited file of labels', collect)
    .option('--link <list>', 'Add link to another container', collect)
    .option('--ulimit <ulimit>', 'Ulimit options', collect)
    .option('--device <list>', 'Add a host device to the container', collect)
    .option('--device-cgroup-rule <list>', 'Add a rule to the cgroup allowed devices list', collect)
    .option('--annotation <map>', 'Add an annotation to the container (passed through to the OCI runtime)', collect)
    .option('--userns <string>', 'User namespace to use')
    .option('--storage-opt <list>', 'Storage driver options for the container', collect)
    .option('--isolation <string>', 'Container isolation technology')
    .option('--gpus <gpu-request>', 'GPU devices to add to the container ("all" to pass all GPUs)')
    .option('--cidfile <string>', 'Write the container ID to the file')
    .option('--memory-swappiness <int>', 'Tune container memory swappiness (0 to 100)')
    .option('--oom-kill-disable', 'Disable OOM Killer')
    .option('--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)")
    .option('--domainname <string>', 'Container NIS domain name')
    .option('--shm-size <bytes>', 'Size of /dev/shm')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('--pull <string>', 'Pull image before running ("always", "missing", "never")', 'missing')
    .option('-q, --quiet', 'Suppress the pull output')
    .option('--health-cmd <string>', 'Command to run to check health')
    .option('--health-interval <duration>', 'Time between running the check (ms|s|m|h) (default 0s)')
    .option('--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)')
    .option('--health-retries <int>', 'Consecutive failures needed to report unhealthy')
    .option('--health-start-period <duration>', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)')
    .option('--health-start-interval <duration>', 'Time between running the check during the start period (ms|s|m|h) (default 0s)')
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .option('--sig-proxy', 'Proxy received signals to the process', true)
    .addOption(new Option('--no-sig-proxy').hideHelp())
    .passThroughOptions()
    .argument('<image>')
    .argument('[command...]');
}

type Def = (parent: Command, name: string, aliases?: string[]) => Command;

const defs: Record<string, Def> = {
  run: (p, n) => runFlags(p.command(n).description('Create and run a new container from an image').usage('[OPTIONS] IMAGE [COMMAND] [ARG...]'))
    .action(act(async (cmd, [img, rest]) => (await container()).run(cmd, img as string, rest as string[]))),
  create: (p, n) => runFlags(p.command(n).description('Create a new container').usage('[OPTIONS] IMAGE [COMMAND] [ARG...]'))
    .action(act(async (cmd, [img, rest]) => (await container()).create(cmd, img as string, rest as string[]))),
  start: (p, n) => p.command(n).description('Start one or more stopped containers').usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .option('-a, --attach', 'Attach STDOUT/STDERR and forward signals')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .option('-i, --interactive', "Attach container's STDIN")
    .argument('<container...>')
    .action(act(async (cmd, [ids]) => (await container()).start(cmd, ids as string[]))),
  attach: (p, n) => p.command(n).description("Attach local standard input, output, and error streams to a running container").usage('[OPTIONS] CONTAINER')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .option('--no-stdin', 'Do not attach STDIN')
    .option('--sig-proxy', 'Proxy all received signals to the process', true)
    .addOption(new Option('--no-sig-proxy').hideHelp())
    .argument('<container>')
    .action(act(async (cmd, [id]) => (await container()).attach(cmd, id as string))),
  ps: (p, n, aliases = []) => p.command(n).aliases(aliases).description('List containers').usage('[OPTIONS]')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <string>', 'Format output using a custom template')
    .option('-n, --last <int>', 'Show n last created containers (includes all states)', '-1')
    .option('-l, --latest', 'Show the latest created container (includes all states)')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only display container IDs')
    .option('-s, --size', 'Display total file sizes')
    .action(act(async (cmd) => (await container()).ps(cmd))),
  logs: (p, n) => p.command(n).description('Fetch the logs of a container').usage('[OPTIONS] CONTAINER')
    .option('--details', 'Show extra details provided to logs')
    .option('-f, --follow', 'Follow log output')
    .option('--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--until <string>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .argument('<container>')
    .action(act(async (cmd, [id]) => (await container()).logs(cmd, id as string))),
  stop: (p, n) => p.command(n).description('Stop one or more running containers').usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .option('-s, --signal <string>', 'Signal to send to the container')
    .option('-t, --timeout <int>', 'Seconds to wait before killing the container')
    .addOption(new Option('--time <int>').hideHelp())
    .argument('<container...>')
    .action(act(async (cmd, [ids]) => (await container()).stop(cmd, ids as string[], 'stop'))),
  restart: (p, n) => p.command(n).description('Restart one or more containers').usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .option('-s, --signal <string>', 'Signal to send to the container')
    .option('-t, --timeout <int>', 'Seconds to wait before killing the container')
    .addOption(new Option('--time <int>').hideHelp())
    .argument('<container...>')
    .action(act(async (cmd, [ids]) => (await container()).stop(cmd, ids as string[], 'restart'))),
  kill: (p, n) => p.command(n).description('Kill one or more running containers').usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .option('-s, --signal <string>', 'Signal to send to the container')
    .argument('<container...>')
    .action(act(async (cmd, [ids]) => (await container()).kill(cmd, ids as string[]))),
  rm: (p, n, aliases = []) => p.command(n).aliases(aliases).description('Remove one or more containers').usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
    .option('-l, --link', 'Remove the specified link')
    .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
    .argument('<container...>')
    .action(act(async (cmd, [ids]) => (await container()).rm(cmd, ids as string[]))),
  wait: (p, n) => p.command(n).description('Block until one or more containers stop, then print their exit codes').usage('CONTAINER [CONTAINER...]')
    .argument('<container...>')
    .action(act(async (cmd, [ids]) => (await container()).wait(cmd, ids as string[]))),
  rename: (p, n) => p.command(n).description('Rename a container').usage('CONTAINER NEW_NAME')
    .argument('<container>').argument('<new_name>')
    .action(act(async (cmd, [id, name]) => (await container()).rename(cmd, id as string, name as string))),
  top: (p, n) => p.command(n).description('Display the running processes of a container').usage('CONTAINER [ps OPTIONS]')
    .passThroughOptions()
    .argument('<container>').argument('[ps_args...]')
    .action(act(async (cmd, [id, psArgs]) => (await container()).top(cmd, id as string, psArgs as string[]))),
  update: (p, n) => resourceOptions(p.command(n).description('Update configuration of one or more containers').usage('[OPTIONS] CONTAINER [CONTAINER...]'))
    .option('--restart <string>', 'Restart policy to apply when a container exits')
    .argument('<containers...>')
    .action(act(async (cmd, [ids]) => (await container()).update(cmd, ids as string[]))),
  stats: (p, n) => p.command(n).description('Display a live stream of container(s) resource usage statistics').usage('[OPTIONS] [CONTAINER...]')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('--no-stream', 'Disable streaming stats and only pull the first result')
    .option('--no-trunc', 'Do not truncate output')
    .option('--format <string>', 'Format output using a custom template')
    .argument('[containers...]')
    .action(act(async (cmd, [ids]) => (await container()).stats(cmd, ids as string[]))),
  exec: (p, n) => p.command(n).description('Execute a command in a running container').usage('[OPTIONS] CONTAINER COMMAND [ARG...]')
    .option('-d, --detach', 'Detached mode: run command in the background')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .option('-e, --env <list>', 'Set environment variables', collect)
    .option('--env-file <list>', 'Read in a file of environment variables', collect)
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('--privileged', 'Give extended privileges to the command')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .passThroughOptions()
    .argument('<container>').argument('<command...>')
    .action(act(async (cmd, [id, rest]) => (await container()).exec(cmd, id as string, rest as string[]))),
  port: (p, n) => p.command(n).description('List port mappings or a specific mapping for the container').usage('CONTAINER [PRIVATE_PORT[/PROTO]]')
    .argument('<container>').argument('[private_port]')
    .action(act(async (cmd, [id, pp]) => (await container()).port(cmd, id as string, pp as string | undefined))),
  pause: (p, n) => p.command(n).description('Pause all processes within one or more containers').usage('CONTAINER [CONTAINER...]')
    .argument('<container...>')
    .action(act(async (cmd, [ids]) => (await container()).pause(cmd, ids as string[], true))),
  unpause: (p, n) => p.command(n).description('Unpause all processes within one or more containers').usage('CONTAINER [CONTAINER...]')
    .argument('<container...>')
    .action(act(async (cmd, [ids]) => (await container()).pause(cmd, ids as string[], false))),
  containerInspect: (p, n) => p.command(n).description('Display detailed information on one or more containers').usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('-s, --size', 'Display total file sizes')
    .argument('<container...>')
    .action(act(async (cmd, [ids]) => (await system()).inspect(cmd, ids as string[], 'container'))),
  containerPrune: (p, n) => p.command(n).description('Remove all stopped containers').usage('[OPTIONS]')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(act(async (cmd) => (await container()).prune(cmd))),
  images: (p, n, aliases = []) => p.command(n).aliases(aliases).description('List images').usage('[OPTIONS] [REPOSITORY[:TAG]]')
    .option('-a, --all', 'Show all images (default hides intermediate images)')
    .option('--digests', 'Show digests')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <string>', 'Format output using a custom template')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs')
    .argument('[repository]')
    .action(act(async (cmd, [repo]) => (await image()).images(cmd, repo as string | undefined))),
  imageInspect: (p, n) => p.command(n).description('Display detailed information on one or more images').usage('[OPTIONS] IMAGE [IMAGE...]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .argument('<image...>')
    .action(act(async (cmd, [ids]) => (await system()).inspect(cmd, ids as string[], 'image'))),
  tag: (p, n) => p.command(n).description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE').usage('SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]')
    .argument('<source>').argument('<target>')
    .action(act(async (cmd, [s, t]) => (await image()).tag(cmd, s as string, t as string))),
  rmi: (p, n, aliases = []) => p.command(n).aliases(aliases).description('Remove one or more images').usage('[OPTIONS] IMAGE [IMAGE...]')
    .option('-f, --force', 'Force removal of the image')
    .option('--no-prune', 'Do not delete untagged parents')
    .argument('<image...>')
    .action(act(async (cmd, [ids]) => (await image()).rmi(cmd, ids as string[]))),
  import: (p, n) => p.command(n).description('Import the contents from a tarball to create a filesystem image').usage('[OPTIONS] file|URL|- [REPOSITORY[:TAG]]')
    .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect)
    .option('-m, --message <string>', 'Set commit message for imported image')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .argument('<source>').argument('[reference]')
    .action(act(async (cmd, [src, ref]) => (await image()).importImage(cmd, src as string, ref as string | undefined))),
  version: (p, n) => p.command(n).description('Show the tugboat version information').usage('[OPTIONS]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(act(async (cmd) => (await system()).version(cmd))),
  events: (p, n) => p.command(n).description('Get real time events from the server').usage('[OPTIONS]')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <string>', 'Format output using a custom template')
    .option('--since <string>', 'Show all events created since timestamp')
    .option('--until <string>', 'Stream events until this timestamp')
    .action(act(async (cmd) => (await system()).events(cmd))),
  df: (p, n) => p.command(n).description('Show tugboat disk usage').usage('[OPTIONS]')
    .option('--format <string>', 'Format output using a custom template')
    .option('-v, --verbose', 'Show detailed information on space usage')
    .action(act(async (cmd) => (await disk()).df(cmd))),
  systemPrune: (p, n) => p.command(n).description('Remove unused data').usage('[OPTIONS]')
    .option('-a, --all', 'Remove all unused images not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<key>=<value>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--volumes', 'Prune anonymous volumes')
    .action(act(async (cmd) => (await disk()).systemPrune(cmd))),
  imagePrune: (p, n) => p.command(n).description('Remove unused images').usage('[OPTIONS]')
    .option('-a, --all', 'Remove all unused images, not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(act(async (cmd) => (await disk()).imagePrune(cmd))),
  pull: (p, n) => p.command(n).description('Download an image from a registry').usage('[OPTIONS] NAME[:TAG|@DIGEST]')
    .option('-a, --all-tags', 'Download all tagged images in the repository')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('-q, --quiet', 'Suppress verbose output')
    .argument('<name>')
    .action(act(async (cmd, [ref]) => (await image()).pull(cmd, ref as string))),
  search: (p, n) => p.command(n).description('Search a registry for images').usage('[OPTIONS] TERM')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <string>', 'Pretty-print search using a Go template')
    .option('--limit <int>', 'Max number of search results')
    .option('--no-trunc', "Don't truncate output")
    .argument('<term>')
    .action(act(async (cmd, [term]) => (await image()).search(cmd, term as string))),
  save: (p, n) => p.command(n).description('Save one or more images to a tar archive (streamed to STDOUT by default)').usage('[OPTIONS] IMAGE [IMAGE...]')
    .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
    .argument('<image...>')
    .action(act(async (cmd, [names]) => (await image()).save(cmd, names as string[]))),
  load: (p, n) => p.command(n).description('Load an image from a tar archive or STDIN').usage('[OPTIONS]')
    .option('-i, --input <string>', 'Read from tar archive file, instead of STDIN')
    .option('-q, --quiet', 'Suppress the load output')
    .action(act(async (cmd) => (await image()).load(cmd))),
  push: (p, n) => p.command(n).description('Upload an image to a registry').usage('[OPTIONS] NAME[:TAG]')
    .option('-a, --all-tags', 'Push all tags of an image to the repository')
    .option('-q, --quiet', 'Suppress verbose output')
    .argument('<name>')
    .action(act(async (cmd, [ref]) => (await image()).push(cmd, ref as string))),
  login: (p, n) => p.command(n).description('Log in to a registry').usage('[OPTIONS] [SERVER]')
    .option('-u, --username <string>', 'Username')
    .option('-p, --password <string>', 'Password')
    .option('--password-stdin', 'Take the password from stdin')
    .argument('[server]')
    .action(act(async (cmd, [server]) => (await image()).login(cmd, server as string | undefined))),
  logout: (p, n) => p.command(n).description('Log out from a registry').usage('[SERVER]')
    .argument('[server]')
    .action(act(async (cmd, [server]) => (await image()).logout(cmd, server as string | undefined))),
  info: (p, n) => p.command(n).description('Display system-wide information').usage('[OPTIONS]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(act(async (cmd) => (await system()).info(cmd))),
  diff: (p, n) => p.command(n).description("Inspect changes to files or directories on a container's filesystem").usage('CONTAINER')
    .argument('<container>')
    .action(act(async (cmd, [id]) => (await commits()).diff(cmd, id as string))),
  commit: (p, n) => p.command(n).description("Create a new image from a container's changes").usage('[OPTIONS] CONTAINER [REPOSITORY[:TAG]]')
    .option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect)
    .option('-m, --message <string>', 'Commit message')
    .option('-p, --pause', 'Pause container during commit', true)
    .addOption(new Option('--no-pause').hideHelp())
    .argument('<container>').argument('[reference]')
    .action(act(async (cmd, [id, ref]) => (await commits()).commit(cmd, id as string, ref as string | undefined))),
  history: (p, n) => p.command(n).description('Show the history of an image').usage('[OPTIONS] IMAGE')
    .option('--format <string>', 'Format output using a custom template')
    .option('-H, --human', 'Print sizes and dates in human readable format', true)
    .addOption(new Option('--no-human').hideHelp())
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs')
    .argument('<image>')
    .action(act(async (cmd, [img]) => (await import('./history.js')).history(cmd, img as string))),
  export: (p, n) => p.command(n).description("Export a container's filesystem as a tar archive").usage('[OPTIONS] CONTAINER')
    .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
    .argument('<container>')
    .action(act(async (cmd, [id]) => (await commits()).exportContainer(cmd, id as string))),
  inspect: (p, n) => p.command(n).description('Return low-level information on Docker objects').usage('[OPTIONS] NAME|ID [NAME|ID...]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('-s, --size', 'Display total file sizes if the type is container')
    .option('--type <string>', 'Return JSON for specified type')
    .argument('<name...>')
    .action(act(async (cmd, [ids]) => (await system()).inspect(cmd, ids as string[], cmd.opts().type as string | undefined))),
  cp: (p, n) => p.command(n).description('Copy files/folders between a container and the local filesystem')
    .usage('[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\ttug cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH')
    .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
    .option('-q, --quiet', 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached')
    .addOption(new Option('--no-quiet').hideHelp())
    .argument('<source>').argument('<destination>')
    .action(act(async (cmd, [src, dst]) => (await import('./cp.js')).cp(cmd, src as string, dst as string))),
  build: (p, n) => p.command(n).description('Build an image from a Dockerfile').usage('[OPTIONS] PATH | URL | -')
    .option('--add-host <list>', 'Add a custom host-to-IP mapping ("host:ip")', collect)
    .option('--build-arg <list>', 'Set build-time variables', collect)
    .option('--cache-from <strings>', 'Images to consider as cache sources', collect)
    .option('--cgroup-parent <string>', 'Set the parent cgroup for the "RUN" instructions during build')
    .option('--compress', 'Compress the build context using gzip')
    .option('--cpu-period <int>', 'Limit the CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <int>', 'Limit the CPU CFS (Completely Fair Scheduler) quota')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('-f, --file <string>', 'Name of the Dockerfile (Default is "PATH/Dockerfile")')
    .option('--force-rm', 'Always remove intermediate containers')
    .option('--iidfile <string>', 'Write the image ID to the file')
    .option('--label <list>', 'Set metadata for an image', collect)
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-swap <bytes>', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap')
    .option('--network <string>', 'Set the networking mode for the RUN instructions during build', 'default')
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('--progress <string>', 'Set type of progress output ("auto", "plain", "tty")', 'auto')
    .option('--pull', 'Always attempt to pull a newer version of the image')
    .option('-q, --quiet', 'Suppress the build output and print image ID on success')
    .option('--rm', 'Remove intermediate containers after a successful build', true)
    .addOption(new Option('--no-rm').hideHelp())
    .option('--shm-size <bytes>', 'Size of "/dev/shm"')
    .option('-t, --tag <list>', 'Name and optionally a tag in the "name:tag" format', collect)
    .option('--target <string>', 'Set the target build stage to build.')
    .argument('<context>')
    .action(act(async (cmd, [ctx]) => (await import('./build.js')).build(cmd, ctx as string))),
};

function registerNetwork(program: Command): void {
  const n = program.command('network').description('Manage networks').usage('COMMAND');
  n.command('connect').description('Connect a container to a network').usage('[OPTIONS] NETWORK CONTAINER')
    .option('--alias <strings>', 'Add network-scoped alias for the container', collect)
    .option('--driver-opt <strings>', 'driver options for the network', collect)
    .option('--ip <ip>', 'IPv4 address (e.g., "172.30.100.104")')
    .option('--ip6 <ip>', 'IPv6 address (e.g., "2001:db8::33")')
    .argument('<network>').argument('<container>')
    .action(act(async (cmd, [net, ctr]) => (await network()).connect(cmd, net as string, ctr as string)));
  n.command('create').description('Create a network').usage('[OPTIONS] NETWORK')
    .option('--attachable', 'Enable manual container attachment')
    .option('--aux-address <map>', 'Auxiliary IPv4 or IPv6 addresses used by Network driver', collect)
    .option('-d, --driver <string>', 'Driver to manage the Network', 'bridge')
    .option('--gateway <ipSlice>', 'IPv4 or IPv6 Gateway for the master subnet', collect)
    .option('--internal', 'Restrict external access to the network')
    .option('--ip-range <ipNetSlice>', 'Allocate container ip from a sub-range', collect)
    .option('--ipam-driver <string>', 'IP Address Management Driver', 'default')
    .option('--ipam-opt <map>', 'Set IPAM driver specific options', collect)
    .option('--ipv6', 'Enable or disable IPv6 address assignment')
    .addOption(new Option('--no-ipv6').hideHelp())
    .option('--label <list>', 'Set metadata on a network', collect)
    .option('-o, --opt <map>', 'Set driver specific options', collect)
    .option('--subnet <strings>', 'Subnet in CIDR format that represents a network segment', collect)
    .argument('<network>')
    .action(act(async (cmd, [name]) => (await network()).create(cmd, name as string)));
  n.command('disconnect').description('Disconnect a container from a network').usage('[OPTIONS] NETWORK CONTAINER')
    .option('-f, --force', 'Force the container to disconnect from a network')
    .argument('<network>').argument('<container>')
    .action(act(async (cmd, [net, ctr]) => (await network()).disconnect(cmd, net as string, ctr as string)));
  n.command('inspect').description('Display detailed information on one or more networks').usage('[OPTIONS] NETWORK [NETWORK...]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('-v, --verbose', 'Verbose output for diagnostics')
    .argument('<network...>')
    .action(act(async (cmd, [names]) => (await network()).inspect(cmd, names as string[])));
  n.command('ls').aliases(['list']).description('List networks').usage('[OPTIONS]')
    .option('-f, --filter <filter>', 'Provide filter values (e.g. "driver=bridge")', collect)
    .option('--format <string>', 'Format output using a custom template')
    .option('--no-trunc', 'Do not truncate the output')
    .option('-q, --quiet', 'Only display network IDs')
    .action(act(async (cmd) => (await network()).ls(cmd)));
  n.command('prune').description('Remove all unused networks').usage('[OPTIONS]')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(act(async (cmd) => (await network()).prune(cmd)));
  n.command('rm').aliases(['remove']).description('Remove one or more networks').usage('NETWORK [NETWORK...]')
    .option('-f, --force', 'Do not error if the network does not exist')
    .argument('<network...>')
    .action(act(async (cmd, [names]) => (await network()).rm(cmd, names as string[])));
}

function registerVolume(program: Command): void {
  const volume = () => import('./volume.js');
  const v = program.command('volume').description('Manage volumes').usage('COMMAND');
  v.command('create').description('Create a volume').usage('[OPTIONS] [VOLUME]')
    .option('-d, --driver <string>', 'Specify volume driver name', 'local')
    .option('--label <list>', 'Set metadata for a volume', collect)
    .option('-o, --opt <map>', 'Set driver specific options', collect)
    .addOption(new Option('--name <string>', 'Specify volume name').hideHelp())
    .argument('[volume]')
    .action(act(async (cmd, [name]) => (await volume()).create(cmd, name as string | undefined)));
  v.command('inspect').description('Display detailed information on one or more volumes').usage('[OPTIONS] VOLUME [VOLUME...]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .argument('<volume...>')
    .action(act(async (cmd, [names]) => (await volume()).inspect(cmd, names as string[])));
  v.command('ls').aliases(['list']).description('List volumes').usage('[OPTIONS]')
    .option('-f, --filter <filter>', 'Provide filter values (e.g. "dangling=true")', collect)
    .option('--format <string>', 'Format output using a custom template')
    .option('-q, --quiet', 'Only display volume names')
    .action(act(async (cmd) => (await volume()).ls(cmd)));
  v.command('prune').description('Remove unused local volumes').usage('[OPTIONS]')
    .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<label>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(act(async (cmd) => (await volume()).prune(cmd)));
  v.command('rm').aliases(['remove']).description('Remove one or more volumes').usage('[OPTIONS] VOLUME [VOLUME...]')
    .option('-f, --force', 'Force the removal of one or more volumes')
    .argument('<volume...>')
    .action(act(async (cmd, [names]) => (await volume()).rm(cmd, names as string[])));
}

function registerRegistry(program: Command): void {
  const reg = program.command('registry').description('Serve a container image registry').usage('COMMAND');
  reg.command('serve').description('Run a registry (OCI distribution API) in the foreground until SIGTERM or SIGINT').usage('[OPTIONS]')
    .option('--addr <host:port>', 'Address to listen on', '127.0.0.1:5000')
    .option('--root <dir>', 'Storage directory', '/var/lib/tugboat-registry')
    .option('--htpasswd <file>', 'Require users of this htpasswd file (bcrypt entries)')
    .option('--realm <name>', 'Realm of the Basic authentication challenge', 'tug-registry')
    .action(act(async (cmd) => (await registry()).serve(cmd)));
  reg.command('gc').description('Delete blobs that no manifest refers to (the registry must be stopped)').usage('[OPTIONS]')
    .option('--root <dir>', 'Storage directory', '/var/lib/tugboat-registry')
    .option('--dry-run', 'Only print what would be deleted')
    .action(act(async (cmd) => (await registry()).gc(cmd)));
}

type Register = (program: Command) => void;

/** Top-level commands in the order help lists them; each registers itself (a group with all its subcommands). */
const topLevel: Array<[string, Register]> = [
  ...(['run', 'create', 'start', 'attach', 'exec', 'logs', 'port', 'stats', 'update', 'stop', 'restart', 'kill', 'wait', 'rename', 'top', 'pause', 'unpause', 'tag', 'import', 'version', 'info', 'inspect', 'events', 'pull', 'push', 'login', 'logout', 'save', 'load', 'search', 'ps', 'rm', 'images', 'rmi', 'cp', 'diff', 'commit', 'export', 'history', 'build'] as const)
    .map((n): [string, Register] => [n, (program) => { defs[n](program, n); }]),
  ['container', (program) => {
    const c = program.command('container').description('Manage containers').usage('COMMAND');
    for (const n of ['run', 'create', 'start', 'attach', 'exec', 'logs', 'port', 'stats', 'update', 'stop', 'restart', 'kill', 'wait', 'rename', 'top', 'pause', 'unpause'] as const) defs[n](c, n);
    defs.ps(c, 'ls', ['ps', 'list']);
    defs.rm(c, 'rm', ['remove']);
    defs.containerInspect(c, 'inspect');
    defs.containerPrune(c, 'prune');
    defs.cp(c, 'cp');
    for (const n of ['diff', 'commit', 'export'] as const) defs[n](c, n);
  }],
  ['image', (program) => {
    const i = program.command('image').description('Manage images').usage('COMMAND');
    defs.images(i, 'ls', ['list']);
    defs.rmi(i, 'rm', ['remove']);
    defs.imageInspect(i, 'inspect');
    defs.history(i, 'history');
    defs.tag(i, 'tag');
    defs.import(i, 'import');
    defs.imagePrune(i, 'prune');
    defs.pull(i, 'pull');
    defs.push(i, 'push');
    defs.save(i, 'save');
    defs.load(i, 'load');
    defs.build(i, 'build');
  }],
  ['builder', (program) => {
    const b = program.command('builder').description('Manage builds').usage('COMMAND');
    defs.build(b, 'build');
    b.command('prune').description('Remove build cache').usage('[OPTIONS]')
      .option('-a, --all', 'Remove all unused build cache, not just dangling ones')
      .option('--filter <filter>', 'Provide filter values (e.g. "until=24h")', collect)
      .option('-f, --force', 'Do not prompt for confirmation')
      .option('--keep-storage <bytes>', 'Amount of disk space to keep for cache')
      .action(act(async (cmd) => (await import('./build.js')).builderPrune(cmd)));
  }],
  ['system', (program) => {
    const s = program.command('system').description('Manage tugboat').usage('COMMAND');
    defs.info(s, 'info');
    defs.events(s, 'events');
    defs.df(s, 'df');
    defs.systemPrune(s, 'prune');
  }],
  ['network', registerNetwork],
  ['volume', registerVolume],
  ['dashboard', (program) => {
    program.command('dashboard').description("Print the link that opens the daemon's web dashboard (tugd --dashboard)").usage('')
      .action(act(async (cmd) => (await system()).dashboard(cmd)));
  }],
  ['registry', registerRegistry],
];

/**
 * The command tree. With `only` (the command word of this invocation) just that top-level command is built, so a
 * command does not pay for defining the other hundred; help and unknown words get the whole tree.
 */
export function buildProgram(only?: string): Command {
  const program = new Command('tug');
  program
    .description('The tugboat client: docker commands for the tugd container engine')
    .usage('[OPTIONS] COMMAND')
    .enablePositionalOptions()
    .option('-H, --host <host>', 'Daemon socket to connect to')
    .option('-D, --debug', 'Enable debug mode')
    .option('-l, --log-level <string>', 'Set the logging level ("debug", "info", "warn", "error", "fatal")', 'info')
    .version(`tug version ${process.env.TUG_VERSION ?? '0.1.0'}`, '-v, --version', 'Print version information and quit')
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError(false);

  const one = topLevel.find(([name]) => name === only);
  for (const [, register] of one ? [one] : topLevel) register(program);

  // commander's errors become docker's messages and exit codes, for every command
  const wire = (cmd: Command) => {
    cmd.exitOverride((err) => onCommanderError(cmd, err));
    cmd.configureOutput({ outputError: () => undefined });
    cmd.commands.forEach(wire);
  };
  wire(program);
  return program;
}

