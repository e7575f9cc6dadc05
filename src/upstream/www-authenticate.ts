/**
 * Parser for `WWW-Authenticate` challenges (RFC 7235 §4.1), as registries send them:
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:x:pull"
 * Several challenges may share one header; quoted strings may contain commas and escaped quotes.
 */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;
const WS = /[ \t]*/y;

function match(re: RegExp, s: string, at: number): string | null {
  re.lastIndex = at;
  const m = re.exec(s);
  return m ? m[0] : null;
}

export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const skipWs = (): void => {
    i += match(WS, header, i)?.length ?? 0;
  };
  while (i < header.length) {
    skipWs();
    if (header[i] === ',') {
      i++;
      continue;
    }
    const scheme = match(TOKEN, header, i);
    if (!scheme) break;
    i += scheme.length;
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    for (;;) {
      skipWs();
      const save = i;
      const name = match(TOKEN, header, i);
      if (!name) break;
      i += name.length;
      skipWs();
      if (header[i] !== '=') {
        // Not a parameter: the start of the next challenge (or a token68 we don't use).
        i = save;
        break;
      }
      i++;
      skipWs();
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < header.length) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        value = match(TOKEN, header, i) ?? '';
        i += value.length;
      }
      ch.params[name.toLowerCase()] = value;
      skipWs();
      if (header[i] === ',') i++;
      else break;
    }
  }
  return out;
}
