// "Build an image": a Dockerfile typed into the page, sent to /build as a one-file context, the builder's output
// shown as it streams (docker's legacy builder messages: Step N/M, ---> Using cache, Successfully built…).
import { h, toast } from './dom.js';
import { stream } from './api.js';
import { tarOf } from './tar.js';
import type { Page } from './app.js';

const EXAMPLE = `FROM busybox
RUN echo "hello from a dashboard build" > /hello.txt
CMD ["cat", "/hello.txt"]
`;

export async function buildPage(p: Page): Promise<void> {
  const dockerfile = h('textarea', { id: 'build-dockerfile', rows: 12, spellcheck: false });
  dockerfile.value = EXAMPLE;
  const tag = h('input', { id: 'build-tag', placeholder: 'name:tag (optional)' });
  const noCache = h('input', { type: 'checkbox', id: 'build-nocache' });
  const output = h('pre', { id: 'build-output', hidden: true });
  const form = h('form', { class: 'grid' },
    h('label', { for: 'build-dockerfile' }, 'Dockerfile'), dockerfile,
    h('label', { for: 'build-tag' }, 'Tag'), tag,
    h('span'), h('label', {}, noCache, ' Do not use the build cache'),
    h('span'), h('div', {}, h('button', { type: 'submit', class: 'primary' }, 'Build')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    output.hidden = false;
    output.textContent = '';
    const q = new URLSearchParams({ dockerfile: 'Dockerfile', rm: '1', ...(tag.value.trim() ? { t: tag.value.trim() } : {}), ...(noCache.checked ? { nocache: '1' } : {}) });
    let id = '';
    try {
      await stream('POST', `/build?${q}`, (m) => {
        if (typeof m.stream === 'string') output.textContent += m.stream;
        const aux = m.aux as { ID?: string } | undefined;
        if (aux?.ID) id = aux.ID;
        output.scrollTop = output.scrollHeight;
      }, tarOf([{ name: 'Dockerfile', data: new TextEncoder().encode(dockerfile.value) }]));
      toast(`Built ${id.replace(/^sha256:/, '').slice(0, 12)}`, 'info');
    } catch (e) {
      output.textContent += `\n${(e as Error).message}\n`;
      toast((e as Error).message);
    }
  });
  p.main.append(h('p', {}, h('a', { href: '#/images' }, '← Images')), h('h1', {}, 'Build an image'), form, output);
}
