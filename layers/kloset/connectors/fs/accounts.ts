import { readFileSync } from 'node:fs';

/** uid/gid → name from /etc/passwd and /etc/group, read once; absent names stay undefined. */
export class Accounts {
  private users?: Map<number, string>;
  private groups?: Map<number, string>;

  private static read(file: string): Map<number, string> {
    const map = new Map<number, string>();
    try {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id && /^\d+$/.test(id)) map.set(Number(id), name);
      }
    } catch {
      // no such database (minimal containers): names are optional
    }
    return map;
  }

  user(uid: number): string | undefined {
    this.users ??= Accounts.read('/etc/passwd');
    return this.users.get(uid);
  }

  group(gid: number): string | undefined {
    this.groups ??= Accounts.read('/etc/group');
    return this.groups.get(gid);
  }

  /** uid for a user name, for restore (undefined: keep the numeric uid). */
  uidOf(name: string): number | undefined {
    this.users ??= Accounts.read('/etc/passwd');
    for (const [id, n] of this.users) if (n === name) return id;
    return undefined;
  }
}
