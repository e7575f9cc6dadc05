/** Per member of a virtual repo: which names it may answer (`include`) and which never (`exclude`). */
export interface MemberFilter {
  include?: string[] | undefined;
  exclude?: string[] | undefined;
}

/** Whether `member` may answer for `name` under the virtual's filters (`matches`: the format's pattern language). */
export function memberAllows(filters: Readonly<Record<string, MemberFilter>>, member: string, name: string, matches: (name: string, patterns: readonly string[]) => boolean): boolean {
  const f = filters[member];
  if (!f) return true;
  if (f.include && !matches(name, f.include)) return false;
  return !(f.exclude && matches(name, f.exclude));
}

/**
 * The dependency-confusion guard, for formats whose hosted repos can say whether they have a
 * name: when any of `members` hosts it, only those answer; else all of them.
 */
export async function guardedMembers<M extends { hosts?(name: string): Promise<boolean> }>(members: M[], name: string): Promise<M[]> {
  const hosting: M[] = [];
  for (const m of members) if (m.hosts && (await m.hosts(name))) hosting.push(m);
  return hosting.length > 0 ? hosting : members;
}
