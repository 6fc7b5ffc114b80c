import { hostname } from 'node:os';
import { sha256Authenticator } from '../crypto/mac.js';
import {
  type KdfParams,
  type KeySlot,
  type MasterKeys,
  keySlotSchema,
  unwrapMasterKeys,
  wrapMasterKeys,
} from '../crypto/keys.js';
import { KlosetError, corrupt } from '../core/errors.js';
import { currentUser } from '../core/home.js';
import { ObjectType, openObject, sealObject } from '../format/object.js';
import type { StoreBackend } from '../core/store-backend.js';

/** Key slots (keys/<name>): each wraps the master keys under one passphrase. */
export interface KeySlotInfo {
  readonly id: string;
  readonly createdAt: string;
  readonly hostname: string;
  readonly username: string;
}

export function who(): { hostname: string; username: string } {
  return { hostname: hostname(), username: currentUser() ?? 'unknown' };
}

export async function writeKeySlot(
  backend: StoreBackend,
  keys: MasterKeys,
  passphrase: string,
  kdf: KdfParams,
  storeId: string,
): Promise<string> {
  if (passphrase.length === 0) throw new KlosetError('INVALID_ARGUMENT', 'the passphrase is empty');
  const slot = await wrapMasterKeys(keys, passphrase, kdf, storeId, who());
  const sealed = sealObject(ObjectType.Key, [Buffer.from(JSON.stringify(slot))], sha256Authenticator);
  await backend.put('keys', sealed.name, sealed.parts);
  return sealed.name;
}

/** The key slots that cannot be read, with the reason: each is a passphrase that no longer opens the store. */
export async function damagedKeySlots(backend: StoreBackend): Promise<{ name: string; reason: string }[]> {
  const damaged: { name: string; reason: string }[] = [];
  for await (const { name } of backend.list('keys')) {
    try {
      await readKeySlot(backend, name);
    } catch (err) {
      if (!(err instanceof KlosetError) || err.code !== 'CORRUPT') throw err;
      damaged.push({ name, reason: err.message });
    }
  }
  return damaged;
}

async function readKeySlot(backend: StoreBackend, name: string): Promise<KeySlot> {
  return openKeySlot(await backend.get('keys', name), name);
}

/** Decodes a key slot object named `name` (checksum, name, then its JSON). */
export function openKeySlot(data: Buffer, name: string): KeySlot {
  const what = `key slot ${name.slice(0, 12)}`;
  const { body } = openObject(data, ObjectType.Key, sha256Authenticator, what, name);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw corrupt(`${what} is not valid JSON`, err);
  }
  const parsed = keySlotSchema.safeParse(json);
  if (!parsed.success) throw corrupt(`${what} is invalid`);
  return parsed.data;
}

export async function listKeySlots(backend: StoreBackend): Promise<KeySlotInfo[]> {
  const out: KeySlotInfo[] = [];
  for await (const { name } of backend.list('keys')) {
    const s = await readKeySlot(backend, name);
    out.push({ id: name, createdAt: s.createdAt, hostname: s.hostname, username: s.username });
  }
  return out;
}

/**
 * Tries every slot with the passphrase. Returns the opened keys and the slot that opened them;
 * a wrong passphrase and damaged slots are told apart in the error.
 */
export async function unlockKeys(
  backend: StoreBackend,
  passphrase: string,
  storeId: string,
): Promise<{ keys: MasterKeys; slot: string }> {
  let damaged = 0;
  let slots = 0;
  for await (const { name } of backend.list('keys')) {
    slots++;
    let slot: KeySlot;
    try {
      slot = await readKeySlot(backend, name);
    } catch (err) {
      if (err instanceof KlosetError && err.code === 'CORRUPT') {
        damaged++;
        continue;
      }
      throw err;
    }
    const keys = await unwrapMasterKeys(slot, passphrase, storeId);
    if (keys) return { keys, slot: name };
  }
  if (slots === 0) throw corrupt(`the store at ${backend.location} has no key slots`, undefined, 'key slot');
  if (damaged === slots)
    throw corrupt(`every key slot of ${backend.location} is damaged`, undefined, 'key slot');
  throw new KlosetError(
    'WRONG_PASSPHRASE',
    `wrong passphrase for ${backend.location}${damaged ? ` (${damaged} damaged key slot(s) skipped)` : ''}`,
  );
}
