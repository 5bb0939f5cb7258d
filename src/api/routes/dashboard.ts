// GET /tugboat/dashboard: the web dashboard's login link (tugboat's own path; docker has no dashboard). Whoever may
// use this socket may do anything the dashboard does, so handing them its token gives nothing away.
import { sendJson, type Router } from '../router.js';
import { ApiError } from '../../util/errors.js';

export function registerDashboardRoutes(r: Router, loginUrl: () => string | undefined): void {
  r.get(/^\/tugboat\/dashboard$/, (ctx) => {
    const url = loginUrl();
    if (!url) throw new ApiError(404, 'the dashboard is off: start tugd with --dashboard host:port (or "dashboard" in daemon.json)');
    sendJson(ctx.res, 200, { URL: url });
  });
}
