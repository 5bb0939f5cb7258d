// "Add container": docker run's common flags as a form. Create (pulling the image first when it is missing, as the
// docker CLI does), then start, then the new container's page.
import { h, toast } from './dom.js';
import { get, send, ApiError } from './api.js';
import { lines, parseBytes, parsePorts, splitCommand } from './format.js';
import { pull, type Page } from './app.js';

export async function runPage(p: Page): Promise<void> {
  const networks = await get<Array<{ Name: string }>>('/networks');
  const field = (label: string, input: HTMLElement, hint = '') => [h('label', { for: input.id }, label), h('div', {}, input, hint ? h('div', { class: 'muted' }, hint) : null)];
  const image = h('input', { id: 'run-image', required: true, placeholder: 'busybox:latest' });
  const name = h('input', { id: 'run-name', placeholder: 'a name (optional)' });
  const command = h('input', { id: 'run-command', placeholder: "e.g. sh -c 'echo hi; sleep 1000' (optional)" });
  const ports = h('input', { id: 'run-ports', placeholder: '8080:80, 443' });
  const env = h('textarea', { id: 'run-env', placeholder: 'KEY=value, one per line' });
  const volumes = h('textarea', { id: 'run-volumes', placeholder: 'volume:/data or /host/dir:/dir:ro, one per line' });
  const restart = h('select', { id: 'run-restart' }, ['no', 'always', 'unless-stopped', 'on-failure'].map((v) => h('option', { value: v }, v)));
  const network = h('select', { id: 'run-network' }, networks.map((n) => h('option', { value: n.Name, selected: n.Name === 'bridge' }, n.Name)));
  const memory = h('input', { id: 'run-memory', placeholder: 'e.g. 256m (optional)' });
  const cpus = h('input', { id: 'run-cpus', placeholder: 'e.g. 0.5 (optional)' });
  const progress = h('pre', { hidden: true });
  const form = h('form', { class: 'grid' },
    field('Image', image), field('Name', name), field('Command', command),
    field('Published ports', ports, '-p: [ip:][hostPort:]containerPort[/udp]'), field('Environment', env), field('Volumes', volumes),
    field('Restart policy', restart), field('Network', network), field('Memory limit', memory), field('CPUs', cpus),
    h('span'), h('div', {}, h('button', { type: 'submit', class: 'primary' }, 'Create and start')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const body = {
        Image: image.value.trim(),
        ...(command.value.trim() ? { Cmd: splitCommand(command.value) } : {}),
        Env: lines(env.value),
        ExposedPorts: {} as Record<string, object>,
        HostConfig: {
          PortBindings: {} as Record<string, unknown>,
          Binds: lines(volumes.value),
          RestartPolicy: { Name: restart.value },
          NetworkMode: network.value,
          ...(memory.value.trim() ? { Memory: parseBytes(memory.value) } : {}),
          ...(cpus.value.trim() ? { NanoCpus: nanoCpus(cpus.value) } : {}),
        },
      };
      const plan = parsePorts(ports.value);
      body.ExposedPorts = plan.ExposedPorts;
      body.HostConfig.PortBindings = plan.PortBindings;
      const path = `/containers/create${name.value.trim() ? `?name=${encodeURIComponent(name.value.trim())}` : ''}`;
      let created: { Id: string } | undefined;
      try {
        created = await send<{ Id: string }>('POST', path, body);
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404 && /No such image/i.test(e.message))) throw e;
        progress.hidden = false;
        progress.textContent = `Unable to find image '${body.Image}' locally\n`;
        await pull(body.Image, (l) => { progress.textContent += `${l}\n`; });
        created = await send<{ Id: string }>('POST', path, body);
      }
      await send('POST', `/containers/${created!.Id}/start`);
      location.hash = `#/containers/${created!.Id}`;
    } catch (e) { toast((e as Error).message); }
  });
  p.main.append(h('p', {}, h('a', { href: '#/containers' }, '← Containers')), h('h1', {}, 'Add container'), form, progress);
}

function nanoCpus(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`invalid CPUs: ${text} (e.g. 0.5)`);
  return Math.round(n * 1e9);
}
