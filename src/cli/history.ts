// `history`: an image's layers and the commands that made them, newest first (docker's columns and flags).
import type { Command } from 'commander';
import { clientFor } from './connect.js';
import { ago, ellipsis, humanSizePrec, parseFormat, renderRows, rfc3339, truncId } from './format.js';
import { out } from './output.js';

export interface HistoryItem { Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }

const headers = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

export function historyRows(items: HistoryItem[], o: { human: boolean; trunc: boolean; now?: number }): Array<Record<string, unknown>> {
  return items.map((h) => {
    const createdBy = h.CreatedBy.replace(/\t/g, ' ');
    return {
      ID: o.trunc && h.Id !== '<missing>' ? truncId(h.Id) : h.Id,
      CreatedSince: o.human ? ago(h.Created, o.now) : rfc3339(h.Created),
      CreatedAt: rfc3339(h.Created), // docker's history, unlike ps and images, prints RFC 3339 times
      CreatedBy: o.trunc ? ellipsis(createdBy, 45) : createdBy,
      Size: o.human ? humanSizePrec(h.Size, 3) : String(h.Size),
      Comment: h.Comment,
    };
  });
}

export async function history(cmd: Command, image: string): Promise<void> {
  const o = cmd.opts() as { human?: boolean; trunc?: boolean; quiet?: boolean; format?: string };
  const items = await clientFor(cmd).imageHistory(image);
  const rows = historyRows(items, { human: o.human !== false, trunc: o.trunc !== false });
  if (o.quiet) { out(rows.map((r) => `${String(r.ID)}\n`).join('')); return; }
  out(renderRows(parseFormat(o.format, 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}'), rows, headers));
}
