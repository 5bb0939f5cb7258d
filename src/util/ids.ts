import { randomBytes } from 'node:crypto';

/** A 64-hex-digit identifier like docker's container and exec IDs. */
export const newId = (): string => randomBytes(32).toString('hex');
export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);
/** Whether a name is a whole such identifier (not a prefix, not a temporary file beside one). */
export const isFullId = (s: string): boolean => /^[0-9a-f]{64}$/.test(s);

const adjectives = ['admiring', 'agitated', 'amazing', 'angry', 'awesome', 'blissful', 'bold', 'brave', 'busy', 'charming', 'clever', 'cool', 'compassionate', 'confident', 'cranky', 'dazzling', 'determined', 'eager', 'ecstatic', 'elastic', 'elegant', 'epic', 'festive', 'focused', 'friendly', 'gallant', 'gifted', 'goofy', 'gracious', 'happy', 'hopeful', 'hungry', 'jolly', 'keen', 'kind', 'laughing', 'loving', 'lucid', 'modest', 'musing', 'nervous', 'nice', 'nifty', 'nostalgic', 'objective', 'optimistic', 'peaceful', 'pensive', 'practical', 'priceless', 'quirky', 'relaxed', 'reverent', 'romantic', 'serene', 'sharp', 'silly', 'sleepy', 'stoic', 'sweet', 'tender', 'trusting', 'upbeat', 'vibrant', 'vigilant', 'wizardly', 'wonderful', 'youthful', 'zealous', 'zen'];
const sailors = ['anchor', 'bosun', 'bollard', 'capstan', 'coxswain', 'cutter', 'dinghy', 'dory', 'ferry', 'frigate', 'galley', 'hawser', 'helm', 'hull', 'jetty', 'keel', 'ketch', 'lighter', 'mast', 'mooring', 'narrowboat', 'oar', 'pilot', 'pontoon', 'porthole', 'quay', 'rudder', 'schooner', 'skiff', 'sloop', 'spinnaker', 'stern', 'towline', 'trawler', 'wharf', 'yawl'];

export function randomName(): string {
  const pick = <T>(a: T[]) => a[Math.floor(Math.random() * a.length)];
  return `${pick(adjectives)}_${pick(sailors)}`;
}

/** Docker's rule for container names. */
export const validName = (name: string): boolean => /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name);
